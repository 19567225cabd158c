/* What the BPF program (kexits/kx.bpf.c) and userspace share: the event it
 * streams and the copy plan userspace hands it in .rodata before load.
 *
 * struct kx_event is fixed-size (96 bytes), little-endian, no pointers: it
 * can be stored as it is as a trace record body.  The kernel-independent
 * part is the per-kind struct in the union; which of its fields the running
 * kernel published is the `present` mask (bit i = field i of the kind's
 * table in kx_layout.c, the order of the struct members below).  A field the
 * kernel lacks is zero and its bit clear; it is never read from elsewhere. */
#ifndef KEXITS_KX_ABI_H
#define KEXITS_KX_ABI_H

#include <linux/types.h>

/* Event kinds: one per kvm tracepoint captured. */
enum kx_kind {
	KX_EXIT = 0,       /* kvm:kvm_exit       the CPU left the guest */
	KX_ENTRY,          /* kvm:kvm_entry      about to enter the guest */
	KX_PIO,            /* kvm:kvm_pio        port IO (in kernel or going out) */
	KX_MMIO,           /* kvm:kvm_mmio       MMIO access */
	KX_MSR,            /* kvm:kvm_msr        RDMSR/WRMSR handled by KVM */
	KX_CPUID,          /* kvm:kvm_cpuid      CPUID answered by KVM */
	KX_HYPERCALL,      /* kvm:kvm_hypercall  a KVM hypercall */
	KX_EMULATE,        /* kvm:kvm_emulate_insn  instruction emulated */
	KX_INJ_EXCEPTION,  /* kvm:kvm_inj_exception exception injected */
	KX_KINDS
};

/* kvm_exit's isa field. */
enum kx_isa { KX_ISA_VMX = 1, KX_ISA_SVM = 2, KX_ISA_PVM = 3 };

struct kx_exit {           /* kvm_exit */
	__u32 reason;      /* exit_reason: numbering by isa (kx_exit_reason_name) */
	__u32 isa;
	__u64 rip;         /* guest_rip */
	__u64 info1;
	__u64 info2;
	__u32 intr_info;
	__u32 error_code;
	__u32 vcpu_id;
	__u32 reserved;
	__u64 requests;    /* vcpu->requests at the exit; about 6.14 on */
};

struct kx_entry {          /* kvm_entry */
	__u32 vcpu_id;
	__u8 immediate_exit;   /* about 6.9 on (backported to Debian's 6.1) */
	__u8 reserved[3];
	__u64 rip;
	__u32 intr_info;       /* event injected at this entry; about 6.14 on */
	__u32 error_code;      /* about 6.14 on */
};

struct kx_pio {            /* kvm_pio */
	__u32 rw;          /* 1 write (OUT), 0 read (IN) */
	__u32 port;
	__u32 size;
	__u32 count;
	__u32 val;         /* first element */
};

struct kx_mmio {           /* kvm_mmio */
	__u32 type;        /* 0 unsatisfied read, 1 read, 2 write */
	__u32 len;
	__u64 gpa;
	__u64 val;
};

struct kx_msr {            /* kvm_msr */
	__u32 write;
	__u32 ecx;         /* the MSR index */
	__u64 data;
	__u8 exception;    /* #GP raised */
	__u8 reserved[7];
};

struct kx_cpuid {          /* kvm_cpuid */
	__u32 function;
	__u32 index;
	__u64 rax;
	__u64 rbx;
	__u64 rcx;
	__u64 rdx;
	__u8 found;
	__u8 used_max_basic;
	__u8 reserved[6];
};

struct kx_hypercall {      /* kvm_hypercall */
	__u64 nr;
	__u64 a0;
	__u64 a1;
	__u64 a2;
	__u64 a3;
};

struct kx_emulate {        /* kvm_emulate_insn */
	__u64 rip;
	__u32 csbase;
	__u8 len;          /* bytes of insn used */
	__u8 flags;        /* mode: 0 real, 3 vm16, 1 prot16, 5 prot32, 9 prot64 */
	__u8 failed;
	__u8 reserved;
	__u8 insn[16];     /* the kernel publishes 15 */
};

struct kx_inj_exception {  /* kvm_inj_exception */
	__u8 exception;    /* vector */
	__u8 has_error;
	__u8 reinjected;
	__u8 reserved;
	__u32 error_code;
};

#define KX_DATA_BYTES 64
#define KX_VCPU_NONE 0xffffffffu

struct kx_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 seq;         /* per registration (thread or process), from 0;
			    * a gap is events lost to a full ring */
	__u32 tid;         /* the thread that hit the tracepoint */
	__u32 vcpu;        /* given to kx_add_thread(); KX_VCPU_NONE if none */
	__u32 cpu;         /* host CPU */
	__u8 kind;         /* enum kx_kind */
	__u8 slot;         /* registration slot (kx_add_thread's result) */
	__u16 present;     /* bit i: field i of the kind published */
	union {
		__u8 data[KX_DATA_BYTES];
		struct kx_exit exit;
		struct kx_entry entry;
		struct kx_pio pio;
		struct kx_mmio mmio;
		struct kx_msr msr;
		struct kx_cpuid cpuid;
		struct kx_hypercall hypercall;
		struct kx_emulate emulate;
		struct kx_inj_exception inj_exception;
	} u;
};

#ifdef __cplusplus
#define KX_STATIC_ASSERT static_assert
#else
#define KX_STATIC_ASSERT _Static_assert
#endif
KX_STATIC_ASSERT(sizeof(struct kx_exit) <= KX_DATA_BYTES, "kx_exit fits");
KX_STATIC_ASSERT(sizeof(struct kx_cpuid) <= KX_DATA_BYTES, "kx_cpuid fits");
KX_STATIC_ASSERT(sizeof(struct kx_event) == 96, "kx_event is 96 bytes");

/* ---- the copy plan, in the BPF object's .rodata ----------------------
 * For each kind, the program reads the first rec_len bytes of the
 * tracepoint's record onto its stack, then copies each field: len bytes
 * from record offset src to event data offset dst, as one aligned load of
 * 1, 2, 4 or 8 bytes, or (from_ctx) with bpf_probe_read_kernel() from the
 * record itself.  Offsets come from the running kernel's format files;
 * rec_len 0 means the kind is not attached. */
#define KX_MAX_FIELDS 10
#define KX_REC_MAX 128     /* record bytes read at most */
#define KX_MAX_SLOTS 64    /* threads and processes registered at once */

struct kx_copy {
	__u8 src;
	__u8 dst;
	__u8 len;          /* 0 ends the list */
	__u8 from_ctx;     /* read from the tracepoint's record, not from the
			    * copy on the BPF stack: unaligned or not a scalar */
};

struct kx_cfg {
	struct kx_copy copy[KX_KINDS][KX_MAX_FIELDS];
	__u8 rec_len[KX_KINDS];
	__u8 reserved[3];
	__u16 present[KX_KINDS];
	__u32 wakeup_bytes;    /* wake the reader once this much is unread;
				* KX_WAKEUP_EACH: at every event that finds it
				* caught up (the kernel's adaptive default) */
};

#define KX_WAKEUP_EACH 1u

/* Per registration, in the BPF object's .bss (mmapped by userspace). */
struct kx_slot {
	__u64 seq;         /* events produced (delivered or lost) */
	__u64 lost;        /* events lost: the ring was full */
	__u32 vcpu;
	__u32 reserved;
};

#endif
