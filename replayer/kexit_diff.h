/* diff's side of the in-kernel exits (replayer/kexit_compare.h): KEXIT
 * records stay out of the alignment; each trace's are collected per vCPU
 * and handed to the KVM_RUN record that follows them, and when the aligner
 * pairs two KVM_RUNs their exits are compared.  The counts are compared
 * at the end.  Memory: at most KT_KEXIT_BUDGET full events per trace are
 * held (the aligner's window), beyond that only sequences are compared. */
#ifndef KVMTRACE_KEXIT_DIFF_H
#define KVMTRACE_KEXIT_DIFF_H

#include <stdint.h>

#include "replayer/kexit_compare.h"
#include "trace/trace_header.h"
#include "trace/trace_reader.h"

#define KT_KEXIT_BUDGET 131072
#define KT_KEXIT_NO_EVENT UINT64_MAX

struct kt_kexit_diff;

/* NULL when out of memory (message set).  Nothing is done for a pair of
 * traces neither of which asked for kernel exits. */
struct kt_kexit_diff *kt_kexit_diff_new(const struct kt_header *old_hdr,
					const struct kt_header *new_hdr,
					const struct kt_pathset *ignore,
					const struct kt_pathset *only,
					kt_kexit_report report, void *ctx);
void kt_kexit_diff_free(struct kt_kexit_diff *kd);

/* Every event read from side 0 (old) or 1 (new).  1: a KEXIT or
 * KEXIT_LOST, taken here (not for the aligner); 0: any other. */
int kt_kexit_diff_take(struct kt_kexit_diff *kd, int side, const struct kt_event *ev,
		       uint64_t index);
/* The aligner emitted the events old_index and new_index
 * (KT_KEXIT_NO_EVENT: none on that side). */
void kt_kexit_diff_op(struct kt_kexit_diff *kd, uint64_t old_index, uint64_t new_index);
/* Both traces read: compare the counts (index: the END events). */
void kt_kexit_diff_finish(struct kt_kexit_diff *kd, const uint64_t end_index[2]);

#endif
