#include "shim/session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "harness/kvm_ioctl.h"
#include "recorder/foreign_header.h"
#include "recorder/foreign_memory.h"
#include "recorder/kernel_exits.h"
#include "recorder/recorder.h"

/* Newer than the headers this may be built with (linux/kvm.h of 6.8). */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif
#ifndef KVM_CREATE_GUEST_MEMFD
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#endif

/* /dev/kvm is the misc device 10:232, whatever path reached it. */
#define KVM_MAJOR 10
#define KVM_MINOR 232
#define SHIM_MAX_VCPUS 1024
/* How long the end waits for other threads to leave the recorder. */
#define DRAIN_NS 2000000000ull

int shim_state;
__thread int shim_busy;

struct shim_vcpu {
	uint32_t id;
	struct kvm_run *run;   /* the VMM's mapping, or our own */
	size_t run_size;
};

struct session {
	char trace[PATH_MAX], dir[PATH_MAX];
	bool changes;
	struct kt_kexits_opts kexits_opts;
	pthread_mutex_t start_lock;
	struct kt_recorder *rec;
	struct kt_foreign_memory *mem;
	struct kt_kexits *kexits;
	char kexits_why[512];
	/* The recorder's observer, behind a gate the end closes. */
	const struct kvm_ioctl_observer *inner;
	struct kvm_ioctl_observer gate;
	int in_gate;
	bool closing;
	uint64_t sync_want;    /* KVM_SYNC_X86_REGS | _SREGS where KVM has them */
	size_t run_size;       /* KVM_GET_VCPU_MMAP_SIZE */
	struct shim_vcpu vcpu[SHIM_MAX_VCPUS];
	uint32_t nvcpus, nvms, ndevices, nothers;
	uint64_t exits, unrecorded;
};

static struct session S = { .start_lock = PTHREAD_MUTEX_INITIALIZER };
static __thread bool the_closer;

/* ---- the status file the kvmtrace command reads ---- */

static void status_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void status_line(const char *fmt, ...)
{
	char path[PATH_MAX + 16];
	va_list ap;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", S.dir, KT_SHIM_STATUS);
	shim_busy++;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) >= 0) {
		va_start(ap, fmt);
		vdprintf(fd, fmt, ap);
		va_end(ap);
		dprintf(fd, "\n");
		close(fd);
	}
	shim_busy--;
}

/* ---- the gate: the end waits until no thread is in the recorder ---- */

static bool gate_enter(void)
{
	if (the_closer)
		return true;
	__atomic_fetch_add(&S.in_gate, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&S.closing, __ATOMIC_SEQ_CST))
		return true;
	__atomic_fetch_sub(&S.in_gate, 1, __ATOMIC_SEQ_CST);
	return false;
}

static void gate_leave(void)
{
	if (!the_closer)
		__atomic_fetch_sub(&S.in_gate, 1, __ATOMIC_SEQ_CST);
}

static void gated_before(void *ctx, const struct kvm_handle *h, unsigned long req,
			 struct kvm_ioctl_bytes in)
{
	(void)ctx;
	if (gate_enter()) {
		S.inner->before(S.inner->ctx, h, req, in);
		gate_leave();
	}
}

static void gated_after(void *ctx, const struct kvm_handle *h, unsigned long req,
			struct kvm_ioctl_bytes out, long ret, int err, uint64_t t0, uint64_t t1)
{
	(void)ctx;
	if (gate_enter()) {
		S.inner->after(S.inner->ctx, h, req, out, ret, err, t0, t1);
		gate_leave();
	}
}

static void gated_mem_write(void *ctx, uint64_t gpa, const void *data, size_t len)
{
	(void)ctx;
	if (gate_enter()) {
		S.inner->mem_write(S.inner->ctx, gpa, data, len);
		gate_leave();
	}
}

/* ---- the end ---- */

static void finish(int status)
{
	int expected = SHIM_RECORDING;
	uint64_t events, t0 = kt_monotonic_ns();
	int ret;

	if (!__atomic_compare_exchange_n(&shim_state, &expected, SHIM_OFF, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	shim_busy++;
	the_closer = true;
	__atomic_store_n(&S.closing, true, __ATOMIC_SEQ_CST);
	/* Other threads leave the recorder within microseconds; one stuck
	 * in it for good (a signal handler that exits) is not waited for. */
	while (__atomic_load_n(&S.in_gate, __ATOMIC_SEQ_CST) &&
	       kt_monotonic_ns() - t0 < DRAIN_NS)
		sched_yield();
	kt_fmem_end(S.mem, S.rec, KT_END_VMM_EXIT, status,
		    __atomic_load_n(&S.exits, __ATOMIC_RELAXED));
	ret = kt_recorder_close(S.rec, &events);
	if (S.kexits)
		kt_kexits_close(S.kexits);
	if (ret)
		status_line("error %d %s", KT_INTERNAL, kt_last_error());
	else
		status_line("done %" PRIu64 " %" PRIu64 " %" PRIu64, events,
			    __atomic_load_n(&S.exits, __ATOMIC_RELAXED), S.unrecorded);
	shim_busy--;
}

/* exit(): the VMM's status.  Runs after the on_exit/atexit handlers the
 * VMM registered later, before those it registered earlier. */
static void at_exit(int status, void *arg)
{
	(void)arg;
	finish(status);
}

/* Without exit() (the library unloaded): the status is not known. */
__attribute__((destructor)) static void at_unload(void)
{
	finish(-1);
}

/* ---- the start, on the first open of /dev/kvm ---- */

static void read_cmdline(char *buf, size_t size, size_t *len)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size) : -1;

	if (fd >= 0)
		close(fd);
	*len = n > 0 ? (size_t)n : 0;
	if (!*len)
		*len = (size_t)snprintf(buf, size, "?") + 1;
}

/* KVM_CAP_SYNC_REGS: with regs and sregs, every exit's snapshot comes with
 * the KVM_RUN at no extra ioctl. */
static uint64_t probe_sync_regs(void)
{
	const uint64_t want = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int caps = fd >= 0 ? ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) : 0;

	if (fd >= 0)
		close(fd);
	return caps > 0 && ((uint64_t)caps & want) == want ? want : 0;
}

/* --kernel-exits: opened before any vCPU thread runs (none exists yet). */
static int open_kexits(void)
{
	if (S.kexits_opts.mode == KT_KEXITS_OFF || !kt_kexits_open(&S.kexits, &S.kexits_opts))
		return 0;
	if (S.kexits_opts.mode == KT_KEXITS_REQUIRED)
		return kt_fail(-EPERM, "--kernel-exits=require: %s", kt_last_error());
	snprintf(S.kexits_why, sizeof(S.kexits_why), "%s", kt_last_error());
	status_line("note kernel exits not recorded: %s", S.kexits_why);
	return 0;
}

static int start_recorder(void)
{
	static char cmdline[16384];
	struct kt_config cfg = { .kvm_path = "/dev/kvm", .guest_path = "vmm" };
	struct kt_foreign foreign = { .cmdline = cmdline };
	struct kt_record_request req = {
		.path = S.trace, .force = true, .cfg = &cfg, .foreign = &foreign,
		.kexits_opts = &S.kexits_opts,
	};
	bool no_kvm = false;
	int ret;

	read_cmdline(cmdline, sizeof(cmdline), &foreign.cmdline_len);
	S.sync_want = probe_sync_regs();
	foreign.flags = KT_FOREIGN_MEM_SLOTS | (S.changes ? KT_FOREIGN_MEM_CHANGES : 0) |
			(S.sync_want ? KT_FOREIGN_SYNC_REGS : 0);
	if (!(S.mem = kt_fmem_new(S.changes)))
		return kt_fail(-ENOMEM, "out of memory");
	if ((ret = open_kexits()))
		return ret;
	req.kexits = S.kexits;
	req.kexits_why = S.kexits_why;
	if ((ret = kt_recorder_start(&S.rec, &req, &no_kvm)))
		return no_kvm ? kt_fail(-ENODEV, "%s", kt_last_error()) : ret;
	S.inner = kvm_ioctl_observer();
	S.gate = (struct kvm_ioctl_observer){
		.before = gated_before, .after = gated_after, .mem_write = gated_mem_write,
	};
	kvm_ioctl_set_observer(&S.gate);
	on_exit(at_exit, NULL);
	return 0;
}

/* The first process of PROGRAM's to open /dev/kvm records; any other
 * (a child, a program it runs) finds the claim taken and stays out. */
static bool claim(void)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", S.dir, KT_SHIM_CLAIM);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return false;
	dprintf(fd, "%d\n", (int)getpid());
	close(fd);
	return true;
}

static void start(void)
{
	int ret;

	if (!claim()) {
		__atomic_store_n(&shim_state, SHIM_OFF, __ATOMIC_RELEASE);
		return;
	}
	status_line("started %d", (int)getpid());
	if ((ret = start_recorder())) {
		status_line("error %d %s", ret == -ENODEV ? KT_NO_KVM :
			    S.kexits_opts.mode == KT_KEXITS_REQUIRED && ret == -EPERM ?
			    KT_NO_KEXITS : KT_INTERNAL, kt_last_error());
		__atomic_store_n(&shim_state, SHIM_OFF, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&shim_state, SHIM_RECORDING, __ATOMIC_RELEASE);
}

static bool is_kvm_device(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == KVM_MAJOR &&
	       minor(st.st_rdev) == KVM_MINOR;
}

void shim_opened(int fd)
{
	shim_busy++;
	if (is_kvm_device(fd)) {
		pthread_mutex_lock(&S.start_lock);
		if (shim_now() == SHIM_ARMED)
			start();
		pthread_mutex_unlock(&S.start_lock);
		if (shim_now() == SHIM_RECORDING)
			shim_fd_set(fd, KT_FD_SYSTEM, 0);
	}
	shim_busy--;
}

/* ---- fds KVM hands out, learnt from the calls that return them ---- */

static uint32_t count(uint32_t *n)
{
	return __atomic_fetch_add(n, 1, __ATOMIC_RELAXED);
}

static void adopt_vm(void *arg, long ret)
{
	(void)arg;
	shim_fd_set((int)ret, KT_FD_VM, count(&S.nvms));
}

static void adopt_vcpu(void *arg, long ret)
{
	uint32_t i = count(&S.nvcpus);

	if (i >= SHIM_MAX_VCPUS)
		return;  /* not followed: its ioctls go unrecorded */
	S.vcpu[i] = (struct shim_vcpu){ .id = (uint32_t)(uintptr_t)arg,
					.run_size = S.run_size };
	shim_fd_set((int)ret, KT_FD_VCPU, i);
}

static void adopt_device(void *arg, long ret)
{
	const struct kvm_create_device *d = arg;

	(void)ret;
	if (!(d->flags & KVM_CREATE_DEVICE_TEST))
		shim_fd_set((int)d->fd, KT_FD_DEVICE, count(&S.ndevices));
}

static void adopt_other(void *arg, long ret)
{
	(void)arg;
	shim_fd_set((int)ret, KT_FD_OTHER, count(&S.nothers));
}

static void adopt_mmap_size(void *arg, long ret)
{
	(void)arg;
	S.run_size = (size_t)ret;
}

static void adopt_region(void *arg, long ret)
{
	const struct kvm_userspace_memory_region *r = arg;

	(void)ret;
	kt_fmem_set_region(S.mem, r->slot, r->guest_phys_addr, r->memory_size,
			   r->userspace_addr);
}

static void adopt_region2(void *arg, long ret)
{
	const struct kvm_userspace_memory_region2 *r = arg;

	(void)ret;
	kt_fmem_set_region(S.mem, r->slot, r->guest_phys_addr, r->memory_size,
			   r->userspace_addr);
}

#define ANY_ROLE -1
static const struct {
	unsigned long req;
	int role;
	void (*adopt)(void *arg, long ret);
} adopters[] = {
	{ KVM_CREATE_VM, KT_FD_SYSTEM, adopt_vm },
	{ KVM_CREATE_VCPU, KT_FD_VM, adopt_vcpu },
	{ KVM_CREATE_DEVICE, KT_FD_VM, adopt_device },
	{ KVM_GET_STATS_FD, ANY_ROLE, adopt_other },
	{ KVM_CREATE_GUEST_MEMFD, KT_FD_VM, adopt_other },
	{ KVM_GET_VCPU_MMAP_SIZE, ANY_ROLE, adopt_mmap_size },
	{ KVM_SET_USER_MEMORY_REGION, KT_FD_VM, adopt_region },
	{ KVM_SET_USER_MEMORY_REGION2, KT_FD_VM, adopt_region2 },
};

static void adopt(const struct shim_fd *f, unsigned long req, void *arg, long ret)
{
	for (size_t i = 0; i < sizeof(adopters) / sizeof(adopters[0]); i++)
		if (adopters[i].req == req &&
		    (adopters[i].role == ANY_ROLE || adopters[i].role == (int)f->role)) {
			adopters[i].adopt(arg, ret);
			return;
		}
}

/* ---- KVM_RUN ---- */

/* The VMM's kvm_run mapping; a VMM that maps it in a way we did not see
 * (a raw system call) gets a second mapping of ours, of the same page. */
static struct kvm_run *run_of(struct shim_vcpu *v, int fd)
{
	struct kvm_run *run = __atomic_load_n(&v->run, __ATOMIC_ACQUIRE);
	void *p;

	if (run || !S.run_size)
		return run;
	p = mmap(NULL, S.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	v->run_size = S.run_size;
	__atomic_store_n(&v->run, p, __ATOMIC_RELEASE);
	return p;
}

/* The snapshot of every exit comes from kvm_run.s.regs: kvm_valid_regs is
 * set for this call only and the VMM's own value put back before it looks,
 * so it reads kvm_run and its registers as without kvmtrace.
 * kvm_dirty_regs is the VMM's alone: never touched. */
static long run(struct kvm_handle *h, void *arg)
{
	struct kvm_run *run = h->run;
	uint64_t theirs = run->kvm_valid_regs;
	bool add = S.sync_want && (theirs & S.sync_want) != S.sync_want;
	long ret;

	if (gate_enter()) {
		kt_fmem_before_run(S.mem);
		gate_leave();
	}
	if (add)
		run->kvm_valid_regs = theirs | S.sync_want;
	ret = kvm_ioctl_raw(h, KVM_RUN, arg);
	if (add)
		run->kvm_valid_regs = theirs;
	__atomic_fetch_add(&S.exits, 1, __ATOMIC_RELAXED);
	return ret;
}

int shim_kvm_ioctl(int fd, const struct shim_fd *f, unsigned long req, void *arg)
{
	struct kvm_handle h = { .fd = fd, .role = f->role };
	long ret;

	shim_busy++;
	if (f->role == KT_FD_VCPU) {
		struct shim_vcpu *v = &S.vcpu[f->index];

		h.vcpu_index = v->id;
		h.run = run_of(v, fd);
		h.run_size = v->run_size ? v->run_size : S.run_size;
	}
	if (_IOC_TYPE(req) != KVMIO || (req == KVM_RUN && !h.run)) {
		/* not KVM's (FIOCLEX), or a kvm_run we cannot reach */
		__atomic_fetch_add(&S.unrecorded, 1, __ATOMIC_RELAXED);
		ret = ioctl(fd, req, arg);
		ret = ret < 0 ? -errno : ret;
	} else {
		ret = req == KVM_RUN ? run(&h, arg) : kvm_ioctl_raw(&h, req, arg);
	}
	if (ret >= 0)
		adopt(f, req, arg, ret);
	shim_busy--;
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

/* ---- mappings ---- */

void shim_mapped(void *addr, size_t len, int fd, off_t off)
{
	struct shim_fd f;

	if (off != 0 || !shim_fd_get(fd, &f) || f.role != KT_FD_VCPU)
		return;
	S.vcpu[f.index].run_size = len;
	__atomic_store_n(&S.vcpu[f.index].run, addr, __ATOMIC_RELEASE);
}

void shim_unmapping(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	uint32_t n = __atomic_load_n(&S.nvcpus, __ATOMIC_RELAXED);

	for (uint32_t i = 0; i < n && i < SHIM_MAX_VCPUS; i++) {
		uintptr_t run = (uintptr_t)__atomic_load_n(&S.vcpu[i].run, __ATOMIC_ACQUIRE);

		if (run && run >= a && run < a + len)
			__atomic_store_n(&S.vcpu[i].run, NULL, __ATOMIC_RELEASE);
	}
	shim_busy++;
	kt_fmem_unmapping(S.mem, a, len);
	shim_busy--;
}

/* ---- arming, when PROGRAM starts ---- */

static void forked_child(void)
{
	/* A fork of the recording process has its memory but not its
	 * threads (the trace writer's flusher): it never records. */
	__atomic_store_n(&shim_state, SHIM_OFF, __ATOMIC_RELEASE);
}

static const char *env(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

__attribute__((constructor)) static void arm(void)
{
	const char *trace = getenv(KT_SHIM_ENV_TRACE), *dir = getenv(KT_SHIM_ENV_DIR);
	const char *kexits = env(KT_SHIM_ENV_KEXITS, "off");

	if (!trace || !dir || trace[0] != '/' ||
	    snprintf(S.trace, sizeof(S.trace), "%s", trace) >= (int)sizeof(S.trace) ||
	    snprintf(S.dir, sizeof(S.dir), "%s", dir) >= (int)sizeof(S.dir))
		return;
	S.changes = !strcmp(env(KT_SHIM_ENV_MEMORY, "slots"), "changes");
	S.kexits_opts.mode = !strcmp(kexits, "require") ? KT_KEXITS_REQUIRED :
			     !strcmp(kexits, "on") ? KT_KEXITS_WANTED : KT_KEXITS_OFF;
	S.kexits_opts.kinds = (uint32_t)strtoul(env(KT_SHIM_ENV_KEXIT_KINDS, "0"), NULL, 16);
	pthread_atfork(NULL, NULL, forked_child);
	__atomic_store_n(&shim_state, SHIM_ARMED, __ATOMIC_RELEASE);
}
