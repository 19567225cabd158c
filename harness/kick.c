#include "harness/kick.h"

static void on_interrupt(int sig)
{
	(void)sig;
}

void kt_signal_interrupts(int sig)
{
	struct sigaction sa = { .sa_handler = on_interrupt };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void kt_kick_accept(void)
{
	sigset_t kick;

	kt_signal_interrupts(KT_SIG_KICK);
	sigemptyset(&kick);
	sigaddset(&kick, KT_SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
}

void kt_kick(pthread_t t)
{
	pthread_kill(t, KT_SIG_KICK);
}
