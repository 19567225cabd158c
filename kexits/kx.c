/* Loading, attaching and reading kexits' BPF program (kx.bpf.c) through
 * libbpf and its bpftool skeleton. */
#include "kexits/kx.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kexits/kx.skel.h"
#include "common/error.h"
#include "kexits/kx_format.h"

#define DEFAULT_RING_BYTES (4u << 20)
#define DEFAULT_TRACEFS "/sys/kernel/tracing"
#define FLUSH_PATIENCE_NS 1000000000ull

struct kx {
	struct kx_bpf *skel;
	struct ring_buffer *rb;
	struct kx_info info;
	uint8_t used[KX_MAX_SLOTS];
	uint64_t delivered[KX_MAX_SLOTS];
	/* The delivery under way. */
	kx_event_fn *fn;
	void *ctx;
	int count;
	int stopped;
};

/* ---- libbpf's messages: kept for the one-line reason ----------------- */

static _Thread_local char libbpf_msg[256];
static int libbpf_verbose;

static int on_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(libbpf_msg)];
	va_list copy;

	va_copy(copy, ap);
	if (libbpf_verbose)
		vfprintf(stderr, fmt, copy);
	va_end(copy);
	if (level == LIBBPF_DEBUG || libbpf_msg[0])
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strstr(line, "PROG LOAD LOG"))
		return 0;  /* the verifier's log: the line after it says more */
	line[strcspn(line, "\n")] = '\0';
	snprintf(libbpf_msg, sizeof(libbpf_msg), "%s", line);
	return 0;
}

static const char *libbpf_said(void)
{
	return libbpf_msg[0] ? libbpf_msg : "no message from libbpf";
}

/* ---- privilege -------------------------------------------------------- */

/* CapEff from /proc/self/status, or ~0 if unreadable (then let the kernel
 * decide). */
static uint64_t effective_caps(void)
{
	char line[256];
	uint64_t caps = ~0ull;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return caps;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			caps = strtoull(line + 7, NULL, 16);
	fclose(f);
	return caps;
}

#define CAP_BIT(n) (1ull << (n))
enum { CAP_SYS_ADMIN_ = 21, CAP_PERFMON_ = 38, CAP_BPF_ = 39 };

static int check_privilege(void)
{
	uint64_t caps = effective_caps();

	if (caps & CAP_BIT(CAP_SYS_ADMIN_))
		return 0;
	if ((caps & CAP_BIT(CAP_BPF_)) && (caps & CAP_BIT(CAP_PERFMON_)))
		return 0;
	return kt_fail(-EPERM, "no privilege: BPF tracing needs CAP_BPF and CAP_PERFMON, "
		       "or CAP_SYS_ADMIN (effective capabilities %#llx)",
		       (unsigned long long)caps);
}

/* ---- tracefs and the format files ------------------------------------ */

static int find_tracefs(const char *want, char *dir, size_t len)
{
	char events[KX_PATH_MAX + 32];

	snprintf(dir, len, "%s", want ? want : DEFAULT_TRACEFS);
	snprintf(events, sizeof(events), "%s/events", dir);
	if (access(events, F_OK) && !want) {
		if (mount("tracefs", DEFAULT_TRACEFS, "tracefs", 0, NULL))
			return kt_fail(-errno, "no tracefs: %s is not mounted and mounting it "
				       "failed: %s", DEFAULT_TRACEFS, strerror(errno));
	}
	if (access(events, F_OK))
		return kt_fail(-ENOENT, "no tracefs at %s (%s)", dir, strerror(errno));
	snprintf(events, sizeof(events), "%s/events/kvm", dir);
	if (access(events, F_OK))
		return kt_fail(-ENOENT, "no kvm tracepoints in %s: KVM is not loaded", events);
	return 0;
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;

	if (fd < 0)
		return -errno;
	while (used + 1 < len) {
		ssize_t n = read(fd, buf + used, len - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return (int)used;
}

/* The format of kvm:NAME into fmt: 0, or -ENOENT if the kernel lacks the
 * tracepoint, or another error (with its reason). */
static int load_format(const char *tracefs, const char *name, struct kx_tp_format *fmt,
		       char *text, size_t len)
{
	char path[KX_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/events/kvm/%s/format", tracefs, name);
	int n = read_text(path, text, len);
	if (n == -ENOENT)
		return -ENOENT;
	if (n == -EACCES || n == -EPERM)
		return kt_fail(n, "no privilege: cannot read %s", path);
	if (n < 0)
		return kt_fail(n, "%s: %s", path, strerror(-n));
	int ret = kx_format_parse(text, fmt);
	if (ret < 0)
		return kt_fail(ret, "%s: %s", path, kt_last_error());
	if (!fmt->id)
		return kt_fail(-EINVAL, "%s: no ID", path);
	return 0;
}

/* ---- attaching -------------------------------------------------------- */

static struct bpf_program *prog_of(struct kx_bpf *skel, unsigned kind)
{
	struct bpf_program *progs[KX_KINDS] = {
		[KX_EXIT] = skel->progs.kx_kvm_exit,
		[KX_ENTRY] = skel->progs.kx_kvm_entry,
		[KX_PIO] = skel->progs.kx_kvm_pio,
		[KX_MMIO] = skel->progs.kx_kvm_mmio,
		[KX_MSR] = skel->progs.kx_kvm_msr,
		[KX_CPUID] = skel->progs.kx_kvm_cpuid,
		[KX_HYPERCALL] = skel->progs.kx_kvm_hypercall,
		[KX_EMULATE] = skel->progs.kx_kvm_emulate_insn,
		[KX_INJ_EXCEPTION] = skel->progs.kx_kvm_inj_exception,
	};
	return progs[kind];
}

static struct bpf_link **link_of(struct kx_bpf *skel, unsigned kind)
{
	struct bpf_link **links[KX_KINDS] = {
		[KX_EXIT] = &skel->links.kx_kvm_exit,
		[KX_ENTRY] = &skel->links.kx_kvm_entry,
		[KX_PIO] = &skel->links.kx_kvm_pio,
		[KX_MMIO] = &skel->links.kx_kvm_mmio,
		[KX_MSR] = &skel->links.kx_kvm_msr,
		[KX_CPUID] = &skel->links.kx_kvm_cpuid,
		[KX_HYPERCALL] = &skel->links.kx_kvm_hypercall,
		[KX_EMULATE] = &skel->links.kx_kvm_emulate_insn,
		[KX_INJ_EXCEPTION] = &skel->links.kx_kvm_inj_exception,
	};
	return links[kind];
}

/* By the tracepoint ID read beside its format, so the program hangs on the
 * very tracepoint whose layout the plan follows (libbpf would look the ID
 * up again, maybe under debugfs). */
static int attach_tracepoint(struct kx *kx, unsigned kind, uint32_t id)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = id,
	};
	const char *name = kx_kind(kind)->tracepoint;
	int fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return kt_fail(-errno, "%s kvm:%s: perf_event_open: %s",
			       errno == EACCES || errno == EPERM ? "no privilege:" : "attach",
			       name, strerror(errno));
	libbpf_msg[0] = '\0';
	struct bpf_link *link = bpf_program__attach_perf_event(prog_of(kx->skel, kind), fd);
	if (!link) {
		int err = -errno;
		close(fd);
		return kt_fail(err, "attach kvm:%s: libbpf: %s", name, libbpf_said());
	}
	*link_of(kx->skel, kind) = link;  /* destroyed with the skeleton */
	return 0;
}

/* ---- open and close --------------------------------------------------- */

#define FORMAT_TEXT_BYTES (64u << 10)  /* kvm_exit's print fmt is about 8 KiB */

static int plan(struct kx *kx, const char *tracefs, uint32_t kinds, struct kx_cfg *cfg)
{
	struct kx_tp_format *fmt = malloc(sizeof(*fmt));
	char *text = malloc(FORMAT_TEXT_BYTES);
	int ret = 0;

	if (!fmt || !text) {
		ret = kt_fail(-ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned k = 0; k < KX_KINDS; k++) {
		const struct kx_kind_desc *d = kx_kind(k);

		kx->info.wanted[k] = (uint16_t)((1u << d->nfields) - 1);
		if (!d->required && !(kinds >> k & 1))
			continue;
		kx->info.asked |= 1u << k;
		ret = load_format(tracefs, d->tracepoint, fmt, text, FORMAT_TEXT_BYTES);
		if (ret == -ENOENT && !d->required) {
			ret = 0;
			continue;
		}
		if (ret == -ENOENT)
			ret = kt_fail(-ENOENT, "tracepoint kvm:%s missing in %s", d->tracepoint,
				      tracefs);
		if (ret < 0)
			break;
		kx_plan_kind(k, fmt, cfg, NULL, 0);
		kx->info.present[k] = cfg->present[k];
		kx->info.attached |= 1u << k;
		kx->info.tp_id[k] = fmt->id;
	}
out:
	free(text);
	free(fmt);
	return ret;
}

static int on_sample(void *ctx, void *data, size_t size);

int kx_open(struct kx **out, const struct kx_opts *opts)
{
	static const struct kx_opts defaults;
	struct kx_cfg cfg;
	int ret;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	size_t ring = opts->ring_bytes ? opts->ring_bytes : DEFAULT_RING_BYTES;
	if (ring < 4096 || (ring & (ring - 1)) || ring > (1u << 30))
		return kt_fail(-EINVAL, "ring size %zu: not a power of 2 from 4 KiB to 1 GiB",
			       ring);
	ret = check_privilege();
	if (ret < 0)
		return ret;

	struct kx *kx = calloc(1, sizeof(*kx));
	if (!kx)
		return kt_fail(-ENOMEM, "out of memory");
	ret = find_tracefs(opts->tracefs, kx->info.tracefs, sizeof(kx->info.tracefs));
	memset(&cfg, 0, sizeof(cfg));
	if (!ret)
		ret = plan(kx, kx->info.tracefs, opts->kinds ? opts->kinds : ~0u, &cfg);
	if (ret < 0)
		goto fail;
	cfg.wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes : (uint32_t)(ring / 8);

	libbpf_print_fn_t old_print = libbpf_set_print(on_libbpf_print);
	libbpf_verbose = opts->verbose;
	libbpf_msg[0] = '\0';
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		ret = kt_fail(-ENOSYS, "no BPF ring buffer in this kernel (needs 5.8)");
		goto restore;
	}
	kx->skel = kx_bpf__open();
	if (!kx->skel) {
		ret = kt_fail(-errno, "libbpf: opening the BPF object: %s", libbpf_said());
		goto restore;
	}
	kx->skel->rodata->kx_cfg = cfg;
	bpf_map__set_max_entries(kx->skel->maps.kx_ring, (uint32_t)ring);
	for (unsigned k = 0; k < KX_KINDS; k++)
		bpf_program__set_autoload(prog_of(kx->skel, k), kx->info.attached >> k & 1);
	ret = kx_bpf__load(kx->skel);
	if (ret < 0) {
		ret = kt_fail(ret == -EPERM ? -EPERM : ret, "libbpf: loading the BPF program: %s",
			      libbpf_said());
		goto restore;
	}
	for (unsigned k = 0; k < KX_KINDS && ret == 0; k++)
		if (kx->info.attached >> k & 1)
			ret = attach_tracepoint(kx, k, kx->info.tp_id[k]);
	if (ret < 0)
		goto restore;
	kx->rb = ring_buffer__new(bpf_map__fd(kx->skel->maps.kx_ring), on_sample, kx, NULL);
	if (!kx->rb)
		ret = kt_fail(-errno, "libbpf: ring buffer: %s", libbpf_said());
restore:
	libbpf_set_print(old_print);
	if (ret < 0)
		goto fail;
	*out = kx;
	return 0;
fail:
	kx_close(kx);
	return ret;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Detaching from a tracepoint waits for an RCU grace period (about 75 ms
 * each on the 6.18 host): detach them all at once, so the waits overlap. */
static void detach_all(struct kx_bpf *skel)
{
	pthread_t threads[KX_KINDS];
	int started[KX_KINDS] = { 0 };

	for (unsigned k = 0; k < KX_KINDS; k++) {
		struct bpf_link **link = link_of(skel, k);

		if (!*link)
			continue;
		started[k] = !pthread_create(&threads[k], NULL, destroy_link, *link);
		if (!started[k])
			bpf_link__destroy(*link);
		*link = NULL;
	}
	for (unsigned k = 0; k < KX_KINDS; k++)
		if (started[k])
			pthread_join(threads[k], NULL);
}

void kx_close(struct kx *kx)
{
	if (!kx)
		return;
	ring_buffer__free(kx->rb);
	if (kx->skel)
		detach_all(kx->skel);
	kx_bpf__destroy(kx->skel);
	free(kx);
}

const struct kx_info *kx_info(const struct kx *kx)
{
	return &kx->info;
}

int kx_describe(const struct kx *kx, char *buf, size_t len)
{
	size_t used = 0;

#define PUT(...) (used += (size_t)snprintf(buf + (used < len ? used : len), \
					   used < len ? len - used : 0, __VA_ARGS__))
	if (len)
		buf[0] = '\0';
	for (unsigned k = 0; k < KX_KINDS; k++) {
		const struct kx_kind_desc *d = kx_kind(k);
		unsigned missing = kx->info.wanted[k] & ~kx->info.present[k];

		if (!(kx->info.asked >> k & 1))
			continue;
		if (!(kx->info.attached >> k & 1)) {
			PUT("%s%s (missing)", used ? " " : "", d->tracepoint);
			continue;
		}
		PUT("%s%s", used ? " " : "", d->tracepoint);
		if (!missing)
			continue;
		PUT(" (no");
		for (unsigned i = 0; i < d->nfields; i++)
			if (missing >> i & 1)
				PUT(" %s", d->fields[i].tp_field);
		PUT(")");
	}
#undef PUT
	return (int)used;
}

/* ---- registering threads ---------------------------------------------- */

static struct kx_slot *slot_state(const struct kx *kx, int slot)
{
	return &kx->skel->bss->kx_slots[slot];
}

/* A slot is free once it is removed and all it produced is accounted for,
 * so no event of its previous owner is left in the ring. */
static int free_slot(const struct kx *kx)
{
	for (int s = 0; s < KX_MAX_SLOTS; s++) {
		struct kx_slot *st = slot_state(kx, s);
		uint64_t seq = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
		uint64_t lost = __atomic_load_n(&st->lost, __ATOMIC_ACQUIRE);

		if (!kx->used[s] && seq == lost + kx->delivered[s])
			return s;
	}
	return kt_fail(-ENOSPC, "all %d capture slots in use", KX_MAX_SLOTS);
}

static int add(struct kx *kx, struct bpf_map *map, pid_t id, uint32_t vcpu, const char *what)
{
	uint32_t key = (uint32_t)id;
	int s = free_slot(kx);

	if (s < 0)
		return s;
	struct kx_slot *st = slot_state(kx, s);
	st->vcpu = vcpu;
	__atomic_store_n(&st->lost, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&st->seq, 0, __ATOMIC_RELEASE);
	kx->delivered[s] = 0;
	uint32_t val = (uint32_t)s;
	if (bpf_map_update_elem(bpf_map__fd(map), &key, &val, BPF_NOEXIST))
		return kt_fail(-errno, "registering %s %d: %s", what, (int)id,
			       errno == EEXIST ? "already registered" : strerror(errno));
	kx->used[s] = 1;
	return s;
}

int kx_add_thread(struct kx *kx, pid_t tid, uint32_t vcpu)
{
	return add(kx, kx->skel->maps.kx_threads, tid, vcpu, "thread");
}

int kx_add_process(struct kx *kx, pid_t pid)
{
	return add(kx, kx->skel->maps.kx_procs, pid, KX_VCPU_NONE, "process");
}

static int remove_from(struct bpf_map *map, int slot)
{
	uint32_t key, next, val;
	int fd = bpf_map__fd(map);

	for (int ret = bpf_map_get_next_key(fd, NULL, &key); !ret;
	     key = next, ret = bpf_map_get_next_key(fd, &key, &next)) {
		if (!bpf_map_lookup_elem(fd, &key, &val) && val == (uint32_t)slot)
			return bpf_map_delete_elem(fd, &key) ? -errno : 1;
	}
	return 0;
}

int kx_remove(struct kx *kx, int slot)
{
	if (slot < 0 || slot >= KX_MAX_SLOTS || !kx->used[slot])
		return kt_fail(-EINVAL, "slot %d is not registered", slot);
	int ret = remove_from(kx->skel->maps.kx_threads, slot);
	if (ret == 0)
		ret = remove_from(kx->skel->maps.kx_procs, slot);
	if (ret < 0)
		return kt_fail(ret, "unregistering slot %d: %s", slot, strerror(-ret));
	kx->used[slot] = 0;
	return 0;
}

int kx_counts(const struct kx *kx, int slot, struct kx_counts *out)
{
	if (slot < 0 || slot >= KX_MAX_SLOTS)
		return kt_fail(-EINVAL, "no slot %d", slot);
	struct kx_slot *st = slot_state(kx, slot);
	out->produced = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
	out->lost = __atomic_load_n(&st->lost, __ATOMIC_ACQUIRE);
	out->delivered = kx->delivered[slot];
	return 0;
}

/* ---- delivering -------------------------------------------------------- */

static int on_sample(void *ctx, void *data, size_t size)
{
	struct kx *kx = ctx;
	const struct kx_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	if (ev->slot < KX_MAX_SLOTS)
		kx->delivered[ev->slot]++;
	kx->count++;
	if (kx->fn && kx->fn(ev, kx->ctx)) {
		kx->stopped = 1;
		return -ECANCELED;  /* this sample is consumed all the same */
	}
	return 0;
}

static void begin(struct kx *kx, kx_event_fn *fn, void *ctx)
{
	kx->fn = fn;
	kx->ctx = ctx;
	kx->count = 0;
	kx->stopped = 0;
}

static int finish(struct kx *kx, int ret, const char *what)
{
	if (ret == -ECANCELED && kx->stopped)
		ret = 0;
	if (ret < 0 && ret != -EINTR)
		return kt_fail(ret, "%s: %s", what, strerror(-ret));
	return kx->count;
}

int kx_poll(struct kx *kx, int timeout_ms, kx_event_fn *fn, void *ctx)
{
	begin(kx, fn, ctx);
	int ret = timeout_ms ? ring_buffer__poll(kx->rb, timeout_ms) : ring_buffer__consume(kx->rb);
	return finish(kx, ret < 0 ? ret : 0, "reading the ring buffer");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int kx_flush(struct kx *kx, int slot, kx_event_fn *fn, void *ctx)
{
	if (slot < 0 || slot >= KX_MAX_SLOTS)
		return kt_fail(-EINVAL, "no slot %d", slot);
	struct kx_slot *st = slot_state(kx, slot);
	uint64_t target = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
	uint64_t deadline = 0;
	int total = 0;

	for (;;) {
		begin(kx, fn, ctx);
		int ret = ring_buffer__consume(kx->rb);
		total += kx->count;
		if (ret < 0 && !(ret == -ECANCELED && kx->stopped))
			return finish(kx, ret, "reading the ring buffer");
		if (kx->stopped)
			return total;
		if (kx->delivered[slot] + __atomic_load_n(&st->lost, __ATOMIC_ACQUIRE) >= target)
			return total;
		/* Another thread's event, reserved before ours and not yet
		 * submitted, holds the ring up: it is done within a moment. */
		if (!deadline)
			deadline = now_ns() + FLUSH_PATIENCE_NS;
		else if (now_ns() > deadline)
			return kt_fail(-ETIMEDOUT, "slot %d: %llu events still missing after 1 s",
				       slot, (unsigned long long)(target - kx->delivered[slot] -
								  st->lost));
		sched_yield();
	}
}
