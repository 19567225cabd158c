/* What a run is: everything that shapes the VM the harness builds
 * (`run` and `record` fill it from their command line, replay from a
 * trace's header). */
#ifndef KVMTRACE_CONFIG_H
#define KVMTRACE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/kt_types.h"

struct kt_config {
	const char *guest_path;
	enum kt_mode mode;
	uint64_t mem_bytes;
	unsigned vcpus;
	uint64_t timeout_ms;     /* 0: none */
	uint64_t max_exits;      /* 0: none */
	uint64_t guest_arg;      /* RDX at entry */
	bool snapshots;          /* regs+sregs at every exit (recording) */
	const char *kvm_path;    /* normally /dev/kvm */
};

#define KT_DEFAULT_TIMEOUT_MS 10000

/* The defaults: long mode, GUEST_DEFAULT_RAM, one vCPU, a 10 s timeout,
 * /dev/kvm. */
void kt_config_init(struct kt_config *c);

#endif
