/* Pulling a thread out of KVM_RUN: a signal whose handler does nothing and
 * does not restart the call, so KVM_RUN returns -EINTR (and KVM sets
 * KVM_EXIT_INTR).  The harness's run loop and replay's watchdog use it. */
#ifndef KVMTRACE_KICK_H
#define KVMTRACE_KICK_H

#include <pthread.h>
#include <signal.h>

#define KT_SIG_KICK SIGUSR1

/* Give sig the do-nothing, no-SA_RESTART handler (process-wide). */
void kt_signal_interrupts(int sig);
/* kt_signal_interrupts(KT_SIG_KICK) and unblock it on the calling thread:
 * a thread about to enter KVM_RUN calls it. */
void kt_kick_accept(void);
/* Kick thread t (a no-op if it is not inside a blocking call). */
void kt_kick(pthread_t t);

#endif
