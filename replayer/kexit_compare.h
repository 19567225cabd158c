/* Comparing in-kernel exits (record --kernel-exits) for diff and replay,
 * as three separate, ignorable kinds of field path:
 *
 *   kexits.count.<reason>   the whole trace's counts by reason (decode/kexit.h);
 *                           host-caused exits under kexits.host.* (ignored
 *                           by default: they follow the host's timers)
 *   kexits.sequence         per KVM_RUN: the steps the guest caused, in order
 *                           ("exit(cpuid) cpuid(0x0 0x0) entry ..."); the
 *                           first place they part is reported
 *   kexit.<kind>.<field>    where a KVM_RUN's sequences agree, each pair of
 *                           events field by field (kexit.cpuid.rax); the
 *                           capture's own kexit.{ts_ns,seq,tid,cpu} are
 *                           ignored by default, like the ioctl clocks
 *
 * A vCPU's KEXIT records come before the record of the KVM_RUN they
 * happened in (trace/trace_format.h), so a reader collects them per vCPU
 * (struct kt_kexit_run) and hands them over when that KVM_RUN arrives.
 * Diff (kexit_diff.c) and replay (kexit_replay.c) do the bookkeeping. */
#ifndef KVMTRACE_KEXIT_COMPARE_H
#define KVMTRACE_KEXIT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "decode/kexit.h"
#include "decode/sink.h"
#include "replayer/field_diff.h"

/* Full events kept per KVM_RUN for the field comparison; beyond, the
 * sequence is still compared (by hash) and counted. */
#define KT_KEXIT_KEEP 65536

/* One difference.  index: the events it is about (the KVM_RUN records
 * for a sequence, the KEXIT records for a field, the END records for the
 * counts), old/recorded first. */
struct kt_kexit_diff_item {
	uint64_t index[2];
	const char *context;
	const char *path;
	const char *value[2];   /* NULL: absent on that side */
};

typedef void (*kt_kexit_report)(void *ctx, const struct kt_kexit_diff_item *d);

/* A step of a KVM_RUN's sequence, and its event. */
struct kt_kexit_item {
	uint64_t index;   /* the KEXIT record in its trace (a replay's own: 0) */
	uint64_t key;     /* kt_kexit_step's hash */
	struct kt_kexit_body b;
};

/* The in-kernel exits of one KVM_RUN of one vCPU, as compared. */
struct kt_kexit_run {
	struct kt_buf items;  /* struct kt_kexit_item: the first KT_KEXIT_KEEP steps */
	uint64_t steps;       /* steps in all */
	uint64_t hash;        /* over every step's key, in order */
	uint64_t lost;        /* events the ring dropped in the run */
	bool skip_entry;      /* the last event was a host-caused exit */
};

/* Add a KEXIT body (host-caused exits and the entry after each left out)
 * or a loss.  budget (may be NULL) caps the full events kept over several
 * runs: each kept one takes one, kt_kexit_run_clear gives them back. */
void kt_kexit_run_add(struct kt_kexit_run *r, uint64_t index, const void *body,
		      size_t *budget);
void kt_kexit_run_lost(struct kt_kexit_run *r, uint64_t count);
void kt_kexit_run_clear(struct kt_kexit_run *r, size_t *budget);

struct kt_kexit_cmp {
	const struct kt_pathset *ignore, *only;
	kt_kexit_report report;
	void *ctx;
	struct kt_sink a, b;    /* flat */
	bool skip_volatile;     /* kexit.{ts_ns,seq,tid,cpu} all ignored */
	uint64_t reported;
};

void kt_kexit_cmp_init(struct kt_kexit_cmp *c, const struct kt_pathset *ignore,
		       const struct kt_pathset *only, kt_kexit_report report, void *ctx);
void kt_kexit_cmp_free(struct kt_kexit_cmp *c);

/* Two KVM_RUNs' exits (index: their KVM_RUN records; context: "vcpu0
 * ioctl(KVM_RUN) -> IO").  A run with losses is not compared: its counts
 * say so. */
void kt_kexit_compare_runs(struct kt_kexit_cmp *c, const struct kt_kexit_run *a,
			   const struct kt_kexit_run *b, const uint64_t index[2],
			   const char *context);
/* The whole traces' counts; ha/hb the sides' header fields (NULL: the side
 * did not capture, so its counts are absent). */
void kt_kexit_compare_counts(struct kt_kexit_cmp *c, const struct kt_kexit_tally *ta,
			     const struct kt_kexits_hdr *ha, const struct kt_kexit_tally *tb,
			     const struct kt_kexits_hdr *hb, const uint64_t index[2]);

#endif
