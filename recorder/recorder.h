/* The recorder: an observer on the ioctl choke point that turns every KVM
 * ioctl, exit, register snapshot and guest-memory write into trace records
 * (trace/trace_format.h). */
#ifndef KVMTRACE_RECORDER_H
#define KVMTRACE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/machine.h"
#include "recorder/foreign_header.h"
#include "recorder/kernel_exits.h"

struct kt_recorder;

struct kt_record_request {
	const char *path;        /* trace file */
	bool force;              /* overwrite an existing one */
	const struct kt_config *cfg;
	const uint8_t *image;
	size_t image_size;
	bool sandboxed;          /* the run will be in the sandbox (header) */
	/* In-kernel exits (recorder/kernel_exits.h): asked for (NULL or mode
	 * off: not), captured by kexits (opened by the caller, closed by it
	 * after kt_recorder_close), or, kexits NULL, unavailable because of
	 * kexits_why.  The header says which. */
	const struct kt_kexits_opts *kexits_opts;
	struct kt_kexits *kexits;
	const char *kexits_why;
	/* A foreign VMM (kvmtrace record -- PROGRAM): its command line in
	 * place of cfg's guest and the image, which are then unused but for
	 * cfg->kvm_path (recorder/foreign_header.h).  NULL for the harness. */
	const struct kt_foreign *foreign;
};

/* Probe the host, create the trace, write its header and start observing
 * the choke point.  Returns 0, or -errno with kt_last_error() set;
 * *no_kvm tells whether /dev/kvm itself was the trouble. */
int kt_recorder_start(struct kt_recorder **out, const struct kt_record_request *req,
		      bool *no_kvm);
/* Stop m's run (status KT_INTERNAL) at the first trace write error, from
 * the vCPU thread whose exit finds it.  Until kt_recorder_end/_abort. */
void kt_recorder_watch(struct kt_recorder *r, struct kt_machine *m);
/* Write the memory digest (every slot of mem, in slot order) and the END
 * record: the run is over. */
void kt_recorder_end(struct kt_recorder *r, const struct kt_memslots *mem,
		     uint32_t reason, int32_t status, uint64_t exits);
/* The same for a run of the harness. */
void kt_recorder_finish(struct kt_recorder *r, const struct kt_machine *m);
/* Setup failed before the run: END record with status, no digest. */
void kt_recorder_abort(struct kt_recorder *r, int status);
/* Stop observing and close the trace; returns 0 or the first write error
 * (with kt_last_error() set, naming the file, the error and how many events
 * the file keeps).  *events: records written. */
int kt_recorder_close(struct kt_recorder *r, uint64_t *events);

#endif
