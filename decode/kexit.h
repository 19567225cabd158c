/* In-kernel exits as kvmtrace shows, counts and compares them (records
 * KT_REC_KEXIT and KT_REC_KEXIT_LOST, header field KT_HDR_KEXITS).
 *
 * Field paths: a KEXIT event is kexit.{kind, ts_ns, seq, tid, cpu} and
 * kexit.<kind>.<field> (kexit.cpuid.rax, kexit.exit.reason); a lost record
 * kexit_lost.{seq,count}; the whole trace's counts kexits.count.<reason>.
 * A field the kernel did not publish is left out, never shown as 0. */
#ifndef KVMTRACE_DECODE_KEXIT_H
#define KVMTRACE_DECODE_KEXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "decode/sink.h"
#include "trace/trace_format.h"
#include "trace/trace_reader.h"

/* The events, nested under "kexit" / "kexit_lost" (decode_event uses them). */
void decode_kexit_event(struct kt_sink *s, const struct kt_event *ev);
void decode_kexit_lost_event(struct kt_sink *s, const struct kt_event *ev);
/* show's line: the kind bare, then its fields: "cpuid function=0x0 ...". */
void decode_kexit_line(struct kt_sink *s, const void *body, size_t len);
/* The header field KT_HDR_KEXITS: state, kinds asked and attached, and per
 * attached kind the fields the kernel does not publish. */
void decode_kexits_hdr(struct kt_sink *s, const void *p, size_t len);

/* What a KEXIT body (struct kt_kexit_body, checked long enough) is counted
 * under: the kind, split by its name-valued first field: "exit.cpuid",
 * "msr.read", "pio.out", "inj_exception.GP", "cpuid", "emulate", "entry". */
const char *kt_kexit_reason(const void *body, char *buf, size_t len);
/* One step of a sequence, what happened without its result:
 * "exit(cpuid)", "cpuid(0x0 0x0)", "msr(read 0xc0000080)", "emulate(0x1014)",
 * "entry"; *key (if not NULL) its hash, for comparing sequences. */
const char *kt_kexit_step(const void *body, char *buf, size_t len, uint64_t *key);

/* A kvm_exit whose number and place follow the host rather than the
 * guest: an interrupt, NMI or SMI for the host, a pause-loop exit (a
 * matter of timing), the preemption timer, an interrupt or NMI window (the
 * harness has no interrupt sources of its own), PML full, and the nested
 * page faults (SVM npf, VMX EPT violation and misconfiguration: a page the
 * host reclaimed, migrated or merged faults again; MMIO shows as kvm_mmio
 * anyway).  They differ from run to run on one host, so the sequences
 * and counts compared leave them (and the kvm_entry after each) out and
 * count them apart, under kexits.host.*.  So is an exception injected
 * again (kvm_inj_exception's reinjected), after such an exit cut its
 * delivery short. */
bool kt_kexit_host(const void *body);

/* Counts and times by reason, like perf kvm stat: a kvm_exit's time is
 * until the next kvm_entry of its vCPU (the time KVM spent on it), where
 * the kernel has kvm_entry. */
struct kt_kexit_row {
	char name[48];
	uint8_t kind;
	uint64_t count;
	uint64_t timed, ns;   /* exits followed by an entry, and their time */
	bool host;            /* kt_kexit_host */
};

struct kt_kexit_tally {
	struct kt_buf rows;                    /* struct kt_kexit_row, first seen first */
	uint64_t kinds[KT_KEXIT_KINDS_MAX];    /* events per kind */
	uint64_t events, lost;
	uint64_t host_exits, host_entries;     /* host-caused, and the entries after them */
	uint64_t host_injections;              /* exceptions delivered again */
	struct kt_buf pending;                 /* per vCPU: the exit awaiting its entry */
};

void kt_kexit_tally_add(struct kt_kexit_tally *t, uint16_t vcpu, const void *body);
/* vcpu's KVM_RUN returned: its next entry is not the one back from a host
 * exit, whatever the last exit was. */
void kt_kexit_tally_run(struct kt_kexit_tally *t, uint16_t vcpu);
void kt_kexit_tally_lost(struct kt_kexit_tally *t, uint64_t count);
void kt_kexit_tally_free(struct kt_kexit_tally *t);
/* Add src's counts to dst (per-vCPU tallies made one).  0 or -ENOMEM. */
int kt_kexit_tally_merge(struct kt_kexit_tally *dst, const struct kt_kexit_tally *src);
/* kexits.count.<kind> for every kind h says was captured (0 too), then
 * kexits.count.<reason> for each reason seen that is not a kind's total,
 * and kexits.count.lost; host-caused exits and the entries after them
 * only under kexits.host.<reason> and kexits.host.entry.  Nothing when
 * h is NULL or not KT_KEXITS_ON. */
void kt_kexit_tally_emit(struct kt_sink *s, const struct kt_kexit_tally *t,
			 const struct kt_kexits_hdr *h);
/* The header field of a trace, 0 when it has one (h filled), else -ENOENT. */
int kt_kexits_hdr_of(const struct kt_header *hdr, struct kt_kexits_hdr *h);

#endif
