/* The kvmtrace trace format, version KT_FORMAT_MAJOR.KT_FORMAT_MINOR.
 * docs/trace-format.md is the prose form of this file; the writer, reader,
 * printer, replayer and differ all use these definitions and nothing else.
 *
 * A trace file is a sequence of independent zstd frames, each with zstd's
 * content checksum and content size.  The first frame holds
 * struct kt_file_magic and the KT_REC_HEADER record; every later frame holds
 * events: in version 2 an event frame (struct kt_frame_head, below), in
 * version 1 (still read) a run of records with KT_RF_XOR deltas.  A record
 * never spans two frames and every frame decodes on its own.
 *
 * Every multi-byte field is little-endian (the x86 host's order; the
 * structs are written as they lie in memory).
 */
#ifndef KVMTRACE_TRACE_FORMAT_H
#define KVMTRACE_TRACE_FORMAT_H

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>

#include "common/kt_types.h"

#define KT_FORMAT_MAJOR 2
#define KT_FORMAT_MINOR 0
/* The oldest major version this build reads (1.0 and 1.1: traces/). */
#define KT_FORMAT_OLDEST_MAJOR 1
#define KT_MAGIC "KVMTRACE"  /* 8 bytes, no NUL */

struct kt_file_magic {
	char magic[8];
	uint16_t major;
	uint16_t minor;
	uint32_t reserved;
};

/* Every record starts with this.  Its body is followed by zero padding to a
 * multiple of 8 bytes (not counted in len), so every record and every struct
 * in a body is 8-byte aligned within the decompressed frame. */
#define KT_REC_ALIGN 8
#define KT_REC_PADDED(len) (((len) + KT_REC_ALIGN - 1) & ~(size_t)(KT_REC_ALIGN - 1))
struct kt_rec_hdr {
	uint8_t type;    /* enum kt_rec_type */
	uint8_t flags;   /* KT_RF_* */
	uint16_t vcpu;   /* vCPU index, 0 where no vCPU is involved */
	uint32_t len;    /* bytes of body that follow */
};

enum kt_rec_type {
	KT_REC_HEADER = 1,   /* body: TLV fields, enum kt_hdr_tag */
	KT_REC_IOCTL = 2,    /* body: struct kt_ioctl_body, in bytes, out bytes */
	KT_REC_SNAPSHOT = 3, /* body: struct kt_snapshot_body */
	KT_REC_MEMWRITE = 4, /* body: u64 gpa, bytes */
	KT_REC_DIGEST = 5,   /* body: struct kt_digest_body, u64 hash[npages] */
	KT_REC_END = 6,      /* body: struct kt_end_body */
	KT_REC_KEXIT = 7,    /* body: struct kt_kexit_body (1.2) */
	KT_REC_KEXIT_LOST = 8, /* body: struct kt_kexit_lost_body (1.2) */
};

/* Version 1 only (read, never written): with KT_RF_XOR the record's body
 * is a delta against earlier records of the same frame.  The body is cut
 * into parts, each with a key:
 *   KT_REC_IOCTL: the fixed struct kt_ioctl_body    key: type + vcpu
 *                 the in bytes                       key: vcpu + request + "in"
 *                 the out bytes                      key: vcpu + request + "out"
 *   other types:  the whole body                     key: type + vcpu
 * Each part with a predecessor of its key in the frame is XORed with it
 * over the shorter of the two lengths, the rest stored as is; in the fixed
 * ioctl part the two clocks are the difference from the predecessor's
 * (mod 2^64).  Keys are kept per frame (64 at most).  trace/trace_delta.c
 * is the code. */
#define KT_RF_XOR 0x01

/* Maximum decompressed size of one frame; the writer ends frames earlier. */
#define KT_MAX_FRAME_BYTES (16u << 20)
/* The writer ends a frame after this many records or this much time. */
#define KT_FRAME_MAX_RECORDS 4096
#define KT_FRAME_MAX_NS 100000000ull

/* ---- Version 2 event frames ------------------------------------------
 * A frame is a head, then six streams, each padded with zeros to a multiple
 * of 8 bytes; every stream is read in order, record by record.  Splitting
 * a frame into streams is what lets zstd squeeze it: the structure of a
 * repetitive run (ops, change lists, word deltas) becomes long matches, and
 * the clocks, the only real noise, sit together as literals.
 *
 * Each record has one op byte.  Records of the same kind (key: record type,
 * vCPU and, for IOCTL, the request) share a slot of the frame; the first
 * record of a slot in a frame is stored plain (KT_OP_KEY), and every later
 * one as a sparse word delta against the slot's previous record: the body
 * is cut into 8-byte words (each part's last word short when its length is
 * not a multiple of 8, its missing bytes zero) and numbered through the
 * parts (IOCTL: the fixed struct kt_ioctl_body's first KT_IOCTL_DELTA_WORDS
 * words, then the in bytes', then the out bytes'; any other type: the whole
 * body's).  CHANGES lists the words that differ from the slot's previous
 * record (a varint count, then the first number and the gaps between the
 * next ones, less one); WORDS holds each one's new - old (mod 2^64) as a
 * zigzag varint.  A part that grew compares against zeros, one that shrank
 * is cut.  The IOCTL clocks go to CLOCKS instead: the gap since the slot's
 * previous call ended, then the duration, each as an adaptive Rice code of
 * its distance from the slot's running mean (trace/clock_code.h, which
 * defines the bits).  KT_OP_SAME reuses the
 * slot's previous change list.  Records that do not repeat (memory writes,
 * digests, END, newer types) are stored plain, record header and all
 * (KT_OP_PLAIN).  trace/frame_encode.c and trace/frame_decode.c are the
 * code. */
#define KT_FRAME_MAGIC 0x3246544bu  /* "KTF2" */
enum kt_stream {
	KT_S_OPS,     /* one op byte per record */
	KT_S_KEYS,    /* struct kt_slot_key per slot opened */
	KT_S_RAW,     /* plain bodies: KT_OP_KEY (u32 len, u32 0, body), KT_OP_PLAIN
		       * (struct kt_rec_hdr, body), each padded to 8 */
	KT_S_CHANGES, /* the changed-word lists of delta records */
	KT_S_WORDS,   /* new - old of every changed word (zigzag varints) */
	KT_S_CLOCKS,  /* IOCTL clocks, a bit stream (trace/clock_code.h) */
	KT_STREAMS,
};
/* The writer ends a zstd block after RAW, so a reader that only skims the
 * records of a frame (every kind, no deltas) decompresses only the head,
 * OPS, KEYS and RAW; and it stores CLOCKS, the noise, in raw blocks. */

struct kt_frame_head {
	uint32_t magic;            /* KT_FRAME_MAGIC */
	uint32_t records;          /* 1..KT_FRAME_MAX_RECORDS */
	uint64_t first_event;      /* trace index of its first record */
	uint32_t stream_len[KT_STREAMS];  /* multiples of 8, in stream order */
};

#define KT_OP_SLOT 0x3f     /* bits 0-5: the slot, 0..KT_FRAME_SLOTS - 1 */
#define KT_OP_PLAIN 0x3f    /* that value: a plain record, no slot */
#define KT_OP_KEY 0x40      /* the body is plain and becomes the slot's; a
			     * slot number one past the last opens a slot
			     * whose key is the next in KEYS */
#define KT_OP_SAME 0x80     /* a delta with the slot's previous change list,
			     * which had at most KT_SAME_MAX entries */
#define KT_SAME_MAX 8
#define KT_FRAME_SLOTS 63

struct kt_slot_key {
	uint8_t type;
	uint8_t reserved;
	uint16_t vcpu;
	uint32_t request;   /* KT_REC_IOCTL; 0 for other types */
};

/* The fixed IOCTL part's words: role and request, ret, errno and in_len,
 * out_len; its last two (t_start_ns, dur_ns) are the clocks. */
#define KT_IOCTL_DELTA_WORDS 4

/* ---- Limits: what a reader accepts, checked before anything is
 * allocated for it (docs/trace-format.md, "Limits") ---- */
/* The header record (guest image included). */
#define KT_MAX_HEADER_BYTES (8u << 20)
#define KT_MAX_HEADER_FIELDS 4096
/* An IOCTL record's in and out bytes, each. */
#define KT_MAX_IOCTL_BYTES (1u << 20)
/* The bodies a version 2 frame's slots hold at once, in all: a delta
 * record can lengthen its slot's body without storing the bytes. */
#define KT_MAX_SLOT_BYTES (4u << 20)
/* Decompressed bytes per trace: beyond KT_EXPANSION_FREE, at most
 * KT_MAX_EXPANSION times the compressed bytes read so far (a zstd bomb
 * is refused, a real trace never comes near: see the doc). */
#define KT_EXPANSION_FREE (256ull << 20)
#define KT_MAX_EXPANSION 1024

/* ---- KT_REC_HEADER: TLV fields ------------------------------------- */
struct kt_tlv {
	uint16_t tag;
	uint16_t reserved;
	uint32_t len;
	/* len bytes follow */
};

enum kt_hdr_tag {
	KT_HDR_KVMTRACE_VERSION = 1, /* string */
	KT_HDR_KERNEL_RELEASE = 2,   /* string, uname -r */
	KT_HDR_KERNEL_VERSION = 3,   /* string, uname -v */
	KT_HDR_CPU_VENDOR = 4,       /* string, CPUID leaf 0 */
	KT_HDR_CPU_SIGNATURE = 5,    /* struct kt_cpu_signature */
	KT_HDR_API_VERSION = 6,      /* i32 */
	KT_HDR_CAPS = 7,             /* struct kt_cap_result[] */
	KT_HDR_SUPPORTED_CPUID = 8,  /* struct kvm_cpuid2 + entries */
	KT_HDR_VCPU_MMAP_SIZE = 9,   /* u32 */
	KT_HDR_RUN_CONFIG = 10,      /* struct kt_run_config */
	KT_HDR_GUEST_NAME = 11,      /* string (basename) */
	KT_HDR_GUEST_SHA256 = 12,    /* 32 bytes */
	KT_HDR_GUEST_IMAGE = 13,     /* the image bytes */
	KT_HDR_RECORDED_AT = 14,     /* u64 ns since the epoch (CLOCK_REALTIME) */
	KT_HDR_CPU_MODEL_NAME = 15,  /* string, CPUID brand */
	KT_HDR_KVM_BACKEND = 16,     /* string: vmx, svm, pvm or unknown (1.1) */
	KT_HDR_SANDBOX = 17,         /* u32: 1 the seccomp sandbox was on, 0 off (1.1) */
	KT_HDR_KEXITS = 18,          /* struct kt_kexits_hdr (1.2) */
	KT_HDR_KEXITS_INFO = 19,     /* string: what was captured, or why not (1.2) */
	KT_HDR_FOREIGN = 20,         /* struct kt_foreign_hdr: a foreign VMM (1.3) */
	KT_HDR_COMMAND_LINE = 21,    /* its argv, each NUL-terminated (1.3) */
};

/* KT_HDR_FOREIGN: the trace is of a VMM kvmtrace did not run itself
 * (kvmtrace record -- PROGRAM, through the preloaded shim); its command
 * line stands in place of a guest image (no KT_HDR_RUN_CONFIG,
 * KT_HDR_GUEST_SHA256 or KT_HDR_GUEST_IMAGE).  flags say what of the
 * guest memory the VMM wrote outside any ioctl the trace holds, as
 * MEMWRITE records, and how snapshots were taken. */
#define KT_FOREIGN_MEM_SLOTS   0x1  /* each slot's contents at the first
				     * KVM_RUN after it was set */
#define KT_FOREIGN_MEM_CHANGES 0x2  /* the pages that changed, before every
				     * KVM_RUN (record --memory-changes) */
#define KT_FOREIGN_SYNC_REGS   0x4  /* kvmtrace set kvm_valid_regs (regs,
				     * sregs) for each KVM_RUN, for the
				     * snapshots, and restored the VMM's */
struct kt_foreign_hdr {
	uint32_t flags;      /* KT_FOREIGN_* */
	uint32_t reserved;
};

struct kt_cpu_signature {
	uint32_t family, model, stepping, raw_eax;
};

struct kt_cap_result {
	uint32_t cap;    /* KVM_CAP_* */
	int32_t result;  /* KVM_CHECK_EXTENSION's return (or -errno) */
};

#define KT_CFG_SYNC_REGS 0x1  /* snapshots came from kvm_run.s.regs */
#define KT_CFG_SNAPSHOTS 0x2  /* a snapshot follows every KVM_RUN */

struct kt_run_config {
	uint32_t mode;       /* enum kt_mode */
	uint32_t vcpus;
	uint64_t mem_bytes;
	uint64_t timeout_ms;
	uint64_t max_exits;  /* 0: no limit */
	uint32_t flags;      /* KT_CFG_* */
	uint32_t reserved;
	uint64_t guest_arg;  /* handed to the guest in RDX (--guest-arg) */
};

/* ---- KT_REC_IOCTL ---------------------------------------------------- */
struct kt_ioctl_body {
	uint8_t role;        /* enum kt_fd_role */
	uint8_t reserved[3];
	uint32_t request;    /* the ioctl request number */
	int64_t ret;         /* return value (-1 on failure) */
	int32_t err;         /* errno when ret == -1, else 0 */
	uint32_t in_len;     /* bytes userspace passed in */
	uint32_t out_len;    /* bytes the kernel handed back */
	uint32_t reserved2;
	uint64_t t_start_ns; /* CLOCK_MONOTONIC, relative to the first event */
	uint64_t dur_ns;
	/* in_len bytes, then out_len bytes */
};

/* KVM_RUN's "in" bytes: what userspace handed the vCPU for this entry. */
struct kt_run_in {
	uint8_t request_interrupt_window;
	uint8_t immediate_exit;
	uint8_t reserved[6];
	uint64_t kvm_valid_regs;
	uint64_t kvm_dirty_regs;
	uint32_t data_len;   /* completion bytes that follow: IN data, MMIO read */
	uint32_t reserved2;
	/* data_len bytes */
};

/* KVM_RUN's "out" bytes: the kvm_run header and exit union as the kernel
 * left them, then for an IO OUT exit the size*count data bytes. */
#define KT_RUN_HEAD_BYTES 32   /* kvm_run up to the exit union */
#define KT_RUN_UNION_BYTES 256 /* the exit union */
struct kt_run_out {
	uint8_t head[KT_RUN_HEAD_BYTES];
	uint8_t exit[KT_RUN_UNION_BYTES];
	/* IO OUT data bytes follow */
};

/* ---- KT_REC_SNAPSHOT ------------------------------------------------- */
enum kt_snap_source { KT_SNAP_SYNC_REGS = 1, KT_SNAP_IOCTL = 2 };
struct kt_snapshot_body {
	uint32_t source;  /* enum kt_snap_source */
	uint32_t reserved;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* ---- KT_REC_MEMWRITE: u64 gpa, then the bytes ------------------------ */

/* ---- KT_REC_DIGEST: guest memory at the end, per page ---------------- */
struct kt_digest_body {
	uint64_t gpa;        /* first page of the slot */
	uint32_t page_size;
	uint32_t npages;
	uint32_t slot;
	uint32_t reserved;
	/* npages x u64 kt_xxh64(): XXH64, seed 0, over page_size bytes */
};

/* ---- KT_REC_END ------------------------------------------------------- */
struct kt_end_body {
	uint32_t reason;     /* enum kt_end_reason */
	int32_t status;      /* kvmtrace's exit status */
	uint64_t events;     /* records written before this one, but KEXIT and
			      * KEXIT_LOST ones (1.2) */
	uint64_t exits;      /* KVM_RUN returns */
};

/* ---- in-kernel exits (record --kernel-exits), since 1.2 -------------
 * Header field KT_HDR_KEXITS says whether they were asked for and what the
 * kernel offered; without it the recording did not ask.  Kinds are numbered
 * as kexits/kx_abi.h's enum kx_kind (0 kvm_exit, 1 kvm_entry, 2 kvm_pio,
 * 3 kvm_mmio, 4 kvm_msr, 5 kvm_cpuid, 6 kvm_hypercall, 7 kvm_emulate_insn,
 * 8 kvm_inj_exception); field bits as its per-kind structs. */
enum kt_kexits_state {
	KT_KEXITS_ON = 1,           /* captured: KT_REC_KEXIT records follow */
	KT_KEXITS_UNAVAILABLE = 2,  /* asked for, not possible here: the reason
				     * is KT_HDR_KEXITS_INFO; no records */
};

#define KT_KEXIT_KINDS_MAX 16
struct kt_kexits_hdr {
	uint32_t state;         /* enum kt_kexits_state */
	uint32_t asked;         /* bit k: kind k asked for */
	uint32_t attached;      /* bit k: kind k captured (the kernel has it) */
	uint32_t ring_bytes;    /* the BPF ring buffer */
	uint16_t present[KT_KEXIT_KINDS_MAX];  /* per kind: bit i, field i published */
	uint16_t known[KT_KEXIT_KINDS_MAX];    /* per kind: the fields kvmtrace knows */
};

/* KT_REC_KEXIT: one in-kernel exit event of the vCPU in the record header,
 * as kexits/kx_abi.h's struct kx_event (recorder/kernel_exits.c checks the
 * two agree), ts_ns made relative like kt_ioctl_body.t_start_ns.  A vCPU's
 * KEXIT records come in the order they happened, after its previous KVM_RUN
 * record and before the record of the KVM_RUN they happened in (which is
 * written when that call returns). */
#define KT_KEXIT_DATA_BYTES 64
struct kt_kexit_body {
	uint64_t ts_ns;      /* CLOCK_MONOTONIC, relative to the first event */
	uint64_t seq;        /* per vCPU capture, from 0; a gap is a KEXIT_LOST */
	uint32_t tid;        /* the thread that hit the tracepoint */
	uint32_t vcpu;       /* the vCPU index (as the record header) */
	uint32_t cpu;        /* host CPU */
	uint8_t kind;        /* which tracepoint (above) */
	uint8_t slot;        /* the capture's registration slot */
	uint16_t present;    /* bit i: field i of the kind was published */
	uint8_t data[KT_KEXIT_DATA_BYTES];  /* the kind's struct; absent fields 0 */
};

/* KT_REC_KEXIT_LOST: events seq .. seq + count - 1 of the vCPU were lost
 * (the ring buffer was full), in the place they would have been. */
struct kt_kexit_lost_body {
	uint64_t seq;
	uint64_t count;
};

/* Reader errors, -errno style. */
#define KT_E_NOT_TRACE   (-ENOMSG)           /* not zstd, or no magic */
#define KT_E_CORRUPT     (-EBADMSG)          /* checksum or record damage */
#define KT_E_NEWER       (-EPROTONOSUPPORT)  /* major version too new */
#define KT_E_TRUNCATED   (-ENODATA)          /* ends inside a frame */
#define KT_E_LIMIT       (-E2BIG)            /* declares more than a limit allows */

#endif
