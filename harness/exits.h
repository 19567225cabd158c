/* What the harness does with each KVM exit reason. */
#ifndef KVMTRACE_EXITS_H
#define KVMTRACE_EXITS_H

struct kt_vcpu;

enum kt_exit_action {
	KT_EXIT_CONTINUE = 0, /* re-enter the guest */
	KT_EXIT_VCPU_DONE,    /* this vCPU halted */
	KT_EXIT_STOP,         /* the run was ended (see machine outcome) */
};

enum kt_exit_action kt_handle_exit(struct kt_vcpu *v);

#endif
