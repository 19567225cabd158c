/* Names for the numbers in linux/kvm.h: ioctl requests, capabilities, exit
 * reasons, internal-error suberrors, system-event types.  The tables are
 * generated from the headers the build uses (scripts/gen-kvm-names.sh). */
#ifndef KVMTRACE_KVM_NAMES_H
#define KVMTRACE_KVM_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* NULL when the number has no name. */
const char *kvm_ioctl_name(unsigned long req);          /* "KVM_RUN" */
const char *kvm_exit_reason_name(uint32_t reason);      /* "IO" (no KVM_EXIT_) */
const char *kvm_cap_name(uint32_t cap);                 /* "KVM_CAP_SYNC_REGS" */
const char *kvm_internal_error_name(uint32_t suberror); /* "EMULATION" */
const char *kvm_system_event_name(uint32_t type);       /* "SHUTDOWN" */

/* Every capability the header names, for recording all of them. */
size_t kvm_cap_count(void);
uint32_t kvm_cap_at(size_t i);

/* Reverse lookups: -1 when unknown. */
long kvm_ioctl_by_name(const char *name);
int kvm_exit_reason_by_name(const char *name);

#endif
