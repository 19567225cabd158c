#include "recorder/recorder.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "common/hash.h"
#include "common/sha256.h"
#include "common/thread_buf.h"
#include "recorder/host_probe.h"
#include "trace/page_hash.h"
#include "trace/run_bytes.h"
#include "trace/trace_header.h"
#include "trace/trace_writer.h"

/* What userspace hands a vCPU for one KVM_RUN, taken before the call: the
 * exit it completes overwrites the completion bytes. */
struct run_entry {
	struct kt_run_in in;
	struct kt_buf data;      /* the completion bytes, in.data_len of them */
};

struct kt_recorder {
	struct kt_writer *w;
	char *path;
	struct kvm_ioctl_observer obs;
	uint64_t t_base;
	/* The run to stop at the first write error (kt_recorder_watch). */
	struct kt_machine *machine;
	atomic_bool stopped;
	struct run_entry entry[GUEST_MAX_VCPUS];
	/* The GET_REGS half of a snapshot taken by ioctl, per vCPU. */
	struct kvm_regs pending_regs[GUEST_MAX_VCPUS];
	bool have_pending_regs[GUEST_MAX_VCPUS];
	struct kt_kexits *kexits;  /* in-kernel exits, or NULL */
};

/* Scratch for one ioctl's bytes, per thread (common/thread_buf.h).  "in"
 * must be copied before the call: _IOWR requests overwrite it. */
enum { IN_BYTES };

/* Room for len bytes in b, which then holds exactly those (or nothing). */
static uint8_t *scratch(struct kt_buf *b, size_t len)
{
	uint8_t *p;

	b->len = 0;
	if ((p = kt_buf_reserve(b, len)))
		b->len = len;
	return p;
}

static uint16_t vcpu_of(const struct kvm_handle *h)
{
	return h->role == KT_FD_VCPU ? (uint16_t)h->vcpu_index : 0;
}

static void capture_run_in(struct run_entry *e, const struct kvm_handle *h)
{
	struct kvm_run *run = h->run;
	uint32_t len;
	/* What userspace supplied for the exit this KVM_RUN completes. */
	const uint8_t *data = kt_run_completion(run, h->run_size, &len);

	e->in = (struct kt_run_in){
		.request_interrupt_window = run->request_interrupt_window,
		.immediate_exit = run->immediate_exit,
		.kvm_valid_regs = run->kvm_valid_regs,
		.kvm_dirty_regs = run->kvm_dirty_regs,
		.data_len = len,
	};
	e->data.len = 0;
	if (len && kt_buf_put(&e->data, data, len))
		e->in.data_len = 0;  /* out of memory: the record says no data */
}

static struct run_entry *entry_of(struct kt_recorder *r, const struct kvm_handle *h)
{
	return h->vcpu_index < GUEST_MAX_VCPUS ? &r->entry[h->vcpu_index] : NULL;
}

static void on_before(void *ctx, const struct kvm_handle *h, unsigned long req,
		      struct kvm_ioctl_bytes in)
{
	struct kt_recorder *r = ctx;
	struct run_entry *e;
	uint8_t *p;

	if (req == KVM_RUN && (e = entry_of(r, h))) {
		if (r->kexits)  /* the vCPU thread registers on its first run */
			kt_kexits_before_run(r->kexits, vcpu_of(h));
		capture_run_in(e, h);
		return;
	}
	if ((p = scratch(kt_thread_buf(IN_BYTES), in.len)) && in.len)
		memcpy(p, in.data, in.len);
}

static void snapshot(struct kt_recorder *r, uint16_t vcpu, uint32_t source,
		     const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	struct kt_snapshot_body s = { .source = source, .regs = *regs, .sregs = *sregs };

	kt_writer_snapshot(r->w, vcpu, &s);
}

/* Without KVM_CAP_SYNC_REGS the harness asks GET_REGS then GET_SREGS after
 * every exit; the pair becomes one snapshot. */
static void ioctl_snapshot(struct kt_recorder *r, uint16_t vcpu, unsigned long req,
			   const void *out)
{
	if (vcpu >= GUEST_MAX_VCPUS)
		return;
	if (req == KVM_GET_REGS) {
		memcpy(&r->pending_regs[vcpu], out, sizeof(struct kvm_regs));
		r->have_pending_regs[vcpu] = true;
	} else if (req == KVM_GET_SREGS && r->have_pending_regs[vcpu]) {
		snapshot(r, vcpu, KT_SNAP_IOCTL, &r->pending_regs[vcpu], out);
		r->have_pending_regs[vcpu] = false;
	}
}

/* The snapshot body holds kvm_regs then kvm_sregs after its source word,
 * as kvm_run does: one copy takes both. */
_Static_assert(offsetof(struct kt_snapshot_body, sregs) ==
	       offsetof(struct kt_snapshot_body, regs) + sizeof(struct kvm_regs),
	       "regs and sregs lie together");

/* The hot path: the KVM_RUN record and its snapshot go straight from
 * kvm_run into the frame, in one lock and one copy each. */
static void record_run(struct kt_recorder *r, const struct kvm_handle *h,
		       struct kt_ioctl_body *b)
{
	const struct run_entry *e = entry_of(r, h);
	struct kvm_run *run = h->run;
	size_t n = kt_run_out_data_len(run, h->run_size);
	bool snap = run->kvm_valid_regs & KVM_SYNC_X86_SREGS;
	uint16_t vcpu = vcpu_of(h);
	uint8_t *p;

	if (!e)
		return;  /* no vCPU kvmtrace runs has such an index */
	b->in_len = (uint32_t)(sizeof(e->in) + e->in.data_len);
	b->out_len = (uint32_t)(sizeof(struct kt_run_out) + n);
	kt_writer_lock(r->w);
	p = kt_writer_put(r->w, KT_REC_IOCTL, vcpu,
			  (uint32_t)(sizeof(*b) + b->in_len + b->out_len));
	if (p) {
		memcpy(p, b, sizeof(*b));
		memcpy(p + sizeof(*b), &e->in, sizeof(e->in));
		if (e->in.data_len)
			memcpy(p + sizeof(*b) + sizeof(e->in), e->data.data, e->in.data_len);
		kt_run_out_fill(run, n, p + sizeof(*b) + b->in_len);
	}
	if (snap && (p = kt_writer_put(r->w, KT_REC_SNAPSHOT, vcpu,
				       sizeof(struct kt_snapshot_body)))) {
		const uint32_t head[2] = { KT_SNAP_SYNC_REGS, 0 };

		memcpy(p, head, sizeof(head));
		kt_sync_regs_copy(run, p + offsetof(struct kt_snapshot_body, regs));
	}
	kt_writer_unlock(r->w);
}

/* The first write error stops the guest at once: what follows could not be
 * kept anyway.  Called on a vCPU thread, after its KVM_RUN. */
static void stop_on_write_error(struct kt_recorder *r, const struct kvm_handle *h)
{
	int err = kt_writer_write_error(r->w);

	if (!err || !r->machine || atomic_exchange(&r->stopped, true))
		return;
	kt_machine_end(r->machine, KT_END_KVM_ERROR, KT_INTERNAL, h->vcpu_index,
		       "guest stopped: the trace could not be written (%s)", strerror(-err));
}

static void on_after(void *ctx, const struct kvm_handle *h, unsigned long req,
		     struct kvm_ioctl_bytes out, long ret, int err,
		     uint64_t t0, uint64_t t1)
{
	struct kt_recorder *r = ctx;
	const struct kt_buf *in;
	uint16_t vcpu = vcpu_of(h);
	struct kt_ioctl_body b = {
		.role = (uint8_t)h->role,
		.request = (uint32_t)req,
		.ret = ret,
		.err = ret < 0 ? err : 0,
		.out_len = (uint32_t)out.len,
		.t_start_ns = t0 - r->t_base,
		.dur_ns = t1 - t0,
	};

	if (req == KVM_RUN && r->kexits)  /* its in-kernel exits come first */
		kt_kexits_after_run(r->kexits, vcpu);
	if (req == KVM_RUN) {
		record_run(r, h, &b);
		stop_on_write_error(r, h);
		return;
	}
	in = kt_thread_buf(IN_BYTES);
	b.in_len = (uint32_t)in->len;
	if (!kt_ioctl_keeps_out(b.request, ret))
		b.out_len = 0;  /* the kernel handed nothing back */
	kt_writer_ioctl(r->w, vcpu, &b, in->data, out.data);
	if (ret >= 0 && h->role == KT_FD_VCPU)
		ioctl_snapshot(r, vcpu, req, out.data);
}

static void on_mem_write(void *ctx, uint64_t gpa, const void *data, size_t len)
{
	struct kt_recorder *r = ctx;

	kt_writer_memwrite(r->w, gpa, data, len);
}

static uint32_t config_flags(const struct kt_buf *hdr)
{
	const uint8_t *caps;
	uint32_t len;
	uint32_t flags = KT_CFG_SNAPSHOTS;
	const unsigned want = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;

	/* TLV data is not aligned in the buffer being built: copy each entry. */
	caps = kt_tlv_find(hdr->data, hdr->len, KT_HDR_CAPS, &len);
	for (uint32_t i = 0; caps && i < len / sizeof(struct kt_cap_result); i++) {
		struct kt_cap_result c;

		memcpy(&c, caps + i * sizeof(c), sizeof(c));
		if (c.cap == KVM_CAP_SYNC_REGS && c.result > 0 &&
		    ((unsigned)c.result & want) == want)
			flags |= KT_CFG_SYNC_REGS;
	}
	return flags;
}

static int put_run(struct kt_buf *hdr, const struct kt_record_request *req)
{
	const struct kt_config *c = req->cfg;
	const char *name = strrchr(c->guest_path, '/');
	struct kt_run_config rc = {
		.mode = c->mode, .vcpus = c->vcpus, .mem_bytes = c->mem_bytes,
		.timeout_ms = c->timeout_ms, .max_exits = c->max_exits,
		.flags = config_flags(hdr), .guest_arg = c->guest_arg,
	};
	uint8_t digest[KT_SHA256_BYTES];
	uint32_t sandboxed = req->sandboxed;
	struct timespec now;
	uint64_t ns;
	int ret;

	if (req->foreign)  /* a foreign VMM: no image, its command line */
		return kt_foreign_put_header(hdr, req->foreign);
	name = name ? name + 1 : c->guest_path;
	kt_sha256(req->image, req->image_size, digest);
	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if ((ret = kt_tlv_put(hdr, KT_HDR_RUN_CONFIG, &rc, sizeof(rc))) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_GUEST_NAME, name, (uint32_t)strlen(name))) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_GUEST_SHA256, digest, sizeof(digest))) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_GUEST_IMAGE, req->image, (uint32_t)req->image_size)) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_SANDBOX, &sandboxed, sizeof(sandboxed))))
		return ret;
	return kt_tlv_put(hdr, KT_HDR_RECORDED_AT, &ns, sizeof(ns));
}

static int build_header(struct kt_buf *hdr, const struct kt_record_request *req,
			bool *no_kvm)
{
	int ret = kt_probe_host(req->cfg->kvm_path, hdr);

	if (ret) {
		*no_kvm = true;
		return ret;
	}
	ret = put_run(hdr, req);
	if (!ret && req->kexits_opts && req->kexits_opts->mode != KT_KEXITS_OFF)
		ret = kt_kexits_put_header(hdr, req->kexits, req->kexits_opts, req->kexits_why);
	return ret ? kt_fail(ret, "building the trace header: %s", strerror(-ret)) : 0;
}

static int open_trace(struct kt_recorder *r, const struct kt_record_request *req,
		      const struct kt_buf *hdr)
{
	int err = 0, ret;

	struct stat st;

	r->w = kt_writer_open(req->path, req->force, &err);
	if (!r->w) {
		/* O_EXCL says EEXIST for a directory too: say which it is. */
		if ((err == -EEXIST || err == -EISDIR) && stat(req->path, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return kt_fail(-EISDIR, "%s: is a directory, not a trace file", req->path);
		if (err == -EEXIST)
			return kt_fail(err, "%s: trace file exists (use --force to overwrite)",
				       req->path);
		return kt_fail(err, "%s: cannot create trace: %s", req->path, strerror(-err));
	}
	if ((ret = kt_writer_header(r->w, hdr->data, hdr->len)) == KT_E_LIMIT)
		return kt_fail(ret, "%s: the trace header (guest image included) is %zu bytes, "
			       "over the %u MiB limit", req->path, hdr->len,
			       KT_MAX_HEADER_BYTES >> 20);
	return ret ? kt_fail(ret, "%s: writing the header: %s", req->path, strerror(-ret)) : 0;
}

static void free_recorder(struct kt_recorder *r)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		kt_buf_free(&r->entry[i].data);
	free(r->path);
	free(r);
}

int kt_recorder_start(struct kt_recorder **out, const struct kt_record_request *req,
		      bool *no_kvm)
{
	struct kt_recorder *r = calloc(1, sizeof(*r));
	struct kt_buf hdr = { 0 };
	int ret;

	*no_kvm = false;
	if (!r)
		return kt_fail(-ENOMEM, "out of memory");
	ret = build_header(&hdr, req, no_kvm);
	if (!ret && !(r->path = strdup(req->path)))
		ret = kt_fail(-ENOMEM, "out of memory");
	if (!ret)
		ret = open_trace(r, req, &hdr);
	kt_buf_free(&hdr);
	if (ret) {
		if (r->w)
			kt_writer_close(r->w);
		free_recorder(r);
		return ret;
	}
	r->obs = (struct kvm_ioctl_observer){
		.before = on_before, .after = on_after, .mem_write = on_mem_write, .ctx = r,
	};
	r->t_base = kt_monotonic_ns();
	if (req->kexits && (ret = kt_kexits_start_writing(req->kexits, r->w, r->t_base))) {
		kt_writer_close(r->w);
		free(r);
		return ret;
	}
	r->kexits = req->kexits;
	kvm_ioctl_set_observer(&r->obs);
	*out = r;
	return 0;
}

/* END counts the records of the ioctl stream: KEXIT and KEXIT_LOST
 * records are counted by reason instead (they vary with the host). */
static uint64_t stream_events(const struct kt_recorder *r)
{
	struct kt_kexits_totals t = { 0 };

	if (r->kexits)
		kt_kexits_totals(r->kexits, &t);
	return kt_writer_events(r->w) - t.records;
}

void kt_recorder_watch(struct kt_recorder *r, struct kt_machine *m)
{
	r->machine = m;
}

static void digest_region(struct kt_recorder *r, const struct kt_page_hasher *ph,
			  uint32_t slot, uint64_t gpa, const uint8_t *mem, uint64_t size)
{
	const uint32_t page = (uint32_t)ph->page_size;
	struct kt_digest_body d = {
		.gpa = gpa, .page_size = page, .npages = (uint32_t)(size / page), .slot = slot,
	};
	uint64_t *hashes = malloc(d.npages * sizeof(*hashes));

	if (!hashes)
		return;
	for (uint32_t i = 0; i < d.npages; i++)
		hashes[i] = kt_page_hash(ph, mem + (uint64_t)i * page);
	kt_writer_digest(r->w, &d, hashes);
	free(hashes);
}

void kt_recorder_end(struct kt_recorder *r, const struct kt_memslots *mem,
		     uint32_t reason, int32_t status, uint64_t exits)
{
	struct kt_end_body end = { .reason = reason, .status = status, .exits = exits };
	struct kt_page_hasher ph;

	r->machine = NULL;  /* the run is over: nothing left to stop */
	if (r->kexits)  /* the last of them, before the digest */
		kt_kexits_stop(r->kexits);
	kt_page_hasher_init(&ph, 4096);
	for (uint32_t i = 0; i < KT_MAX_SLOTS; i++)
		if (mem->slot[i].used)
			digest_region(r, &ph, i, mem->slot[i].gpa, mem->slot[i].host,
				      mem->slot[i].size);
	end.events = stream_events(r);
	kt_writer_end(r->w, &end);
}

void kt_recorder_finish(struct kt_recorder *r, const struct kt_machine *m)
{
	kt_recorder_end(r, &m->mem, m->outcome.reason, m->outcome.status,
			m->total_exits);
}

void kt_recorder_abort(struct kt_recorder *r, int status)
{
	struct kt_end_body end = {
		.reason = KT_END_KVM_ERROR,
		.status = status,
		.events = kt_writer_events(r->w),
	};

	r->machine = NULL;
	if (r->kexits)
		kt_kexits_stop(r->kexits);
	end.events = stream_events(r);
	kt_writer_end(r->w, &end);
}

int kt_recorder_close(struct kt_recorder *r, uint64_t *events)
{
	int ret;
	uint64_t kept;

	kvm_ioctl_set_observer(NULL);
	if (r->kexits)  /* nothing may write after the writer is gone */
		kt_kexits_stop(r->kexits);
	*events = kt_writer_events(r->w);
	kt_writer_flush(r->w);
	kept = kt_writer_written(r->w);
	ret = kt_writer_close(r->w);
	if (ret == KT_E_LIMIT)
		kt_fail(ret, "%s: a record beyond the trace format's limits was left out "
			"(docs/trace-format.md, Limits)", r->path);
	else if (ret)
		kt_fail(ret, "%s: writing the trace failed: %s; it keeps its first %llu "
			"events, in whole frames (show reads them as a truncated trace)",
			r->path, strerror(-ret), (unsigned long long)kept);
	free_recorder(r);
	return ret;
}
