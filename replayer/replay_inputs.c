/* Before the replay's sandbox: open the trace and /dev/kvm, find every
 * request the trace holds, probe the host, start -o. */
#include "replayer/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/kvm_names.h"
#include "harness/kvm_system.h"
#include "recorder/host_probe.h"
#include "recorder/recorder.h"
#include "replayer/replay_limits.h"
#include "trace/trace_reader.h"

/* A request replay may issue: one of linux/kvm.h's, which the names table
 * generated from it knows.  Anything else (another driver's ioctl, a made
 * up number) is refused before the first ioctl, sandbox or not. */
static bool known_kvm_request(uint32_t req)
{
	return _IOC_TYPE(req) == KVMIO && kvm_ioctl_name(req) != NULL;
}

static int add_request(struct kt_replay_inputs *in, const char *trace, uint64_t index,
		       uint32_t req)
{
	for (size_t i = 0; i < in->nrequests; i++)
		if (in->requests[i] == req)
			return 0;
	if (!known_kvm_request(req))
		return kt_fail(-EPERM, "%s: event %" PRIu64 " asks for ioctl 0x%x, which is "
			       "not a KVM request kvmtrace knows; not replaying it", trace,
			       index, req);
	if (in->nrequests == KT_REPLAY_MAX_REQUESTS)
		return kt_fail(-E2BIG, "%s: more than %d different ioctl requests", trace,
			       KT_REPLAY_MAX_REQUESTS);
	in->requests[in->nrequests++] = req;
	return 0;
}

/* One pass through the trace on a dup of its fd, skimming, then back to the
 * start: its requests, and every event against replay's limits
 * (replayer/replay_limits.h), so that nothing is issued for a trace that
 * asks too much.  A damaged trace is not refused here: the replay itself
 * stops at the damage and says where, and nothing after it is ever issued.
 * A trace past the reader's own limits (a decompression bomb) is: it asks
 * too much as surely as an absurd ioctl does, on any host. */
static int scan_requests(struct kt_replay_inputs *in, const char *trace)
{
	int fd = dup(in->trace_fd), err = 0, ret;
	struct rp_limits lim = { 0 };
	struct kt_reader *r;
	struct kt_event ev;
	int got = 0;

	if (fd < 0)
		return kt_fail(-errno, "%s: %s", trace, strerror(errno));
	if (!(r = kt_reader_open_fd(fd, &err)))
		return kt_fail(err, "%s: %s", trace, kt_reader_strerror(err));
	kt_reader_skim(r);
	ret = rp_check_header(r, trace);
	while (!ret && (got = kt_reader_next(r, &ev)) == 1) {
		uint64_t index = kt_reader_index(r) - 1;

		if (ev.type == KT_REC_IOCTL)
			ret = add_request(in, trace, index, ev.ioctl->request);
		if (!ret)
			ret = rp_check_event(&lim, trace, index, &ev);
	}
	/* The reader's other errors (its end, damage) end the loop with ret 0:
	 * the replay reports them where it gets to them. */
	if (!ret && got == KT_E_LIMIT)
		ret = kt_fail(got, "%s: %s; replay refuses it before issuing anything", trace,
			      kt_reader_strerror(got));
	kt_reader_close(r);
	if (!ret && lseek(in->trace_fd, 0, SEEK_SET) < 0)
		ret = kt_fail(-errno, "%s: %s", trace, strerror(errno));
	return ret;
}

/* -o: the replay recorded like a run, with the trace's own guest and
 * configuration in its header. */
static int start_output(struct kt_replay_inputs *in, const struct kt_replay_opts *o)
{
	struct kt_run_config rc;
	struct kt_config cfg = { .kvm_path = o->kvm_path };
	struct kt_record_request req = { .path = o->output, .force = o->force, .cfg = &cfg,
					  .sandboxed = o->sandboxed };
	int fd = dup(in->trace_fd), err = 0, ret = 0;
	struct kt_reader *r;
	const struct kt_header *h;
	const char *name;
	bool no_kvm;

	if (fd < 0)
		return kt_fail(-errno, "%s: %s", o->trace, strerror(errno));
	if (!(r = kt_reader_open_fd(fd, &err)))
		return kt_fail(err, "%s: %s", o->trace, kt_reader_strerror(err));
	h = kt_reader_hdr(r);
	name = kt_header_string(h, KT_HDR_GUEST_NAME);
	if (kt_header_run_config(h, &rc) ||
	    kt_header_guest_image(h, &req.image, &req.image_size))
		ret = kt_fail(KT_E_CORRUPT, "%s: the header lacks the run configuration or "
			      "guest image that -o needs", o->trace);
	cfg = (struct kt_config){
		.guest_path = name ? name : "guest", .mode = rc.mode, .mem_bytes = rc.mem_bytes,
		.vcpus = rc.vcpus, .timeout_ms = rc.timeout_ms, .max_exits = rc.max_exits,
		.guest_arg = rc.guest_arg, .snapshots = true, .kvm_path = o->kvm_path,
	};
	if (!ret)
		ret = kt_recorder_start(&in->out, &req, &no_kvm);
	kt_reader_close(r);
	if (!ret && lseek(in->trace_fd, 0, SEEK_SET) < 0)
		ret = kt_fail(-errno, "%s: %s", o->trace, strerror(errno));
	return ret;
}

static int open_kvm(struct kt_replay_inputs *in, const char *kvm_path)
{
	struct kvm_handle sys;
	int ret = kvm_open_system(&sys, kvm_path);

	if (!ret)
		in->kvm_fd = sys.fd;  /* the handle has nothing else to free */
	return ret;
}

int kt_replay_open(struct kt_replay_inputs *in, const struct kt_replay_opts *o)
{
	int ret;

	*in = (struct kt_replay_inputs){ .trace_fd = -1, .kvm_fd = -1 };
	if ((in->trace_fd = kt_open_regular(o->trace, O_RDONLY | O_CLOEXEC)) < 0)
		return in->trace_fd;
	if ((ret = scan_requests(in, o->trace)) || (ret = open_kvm(in, o->kvm_path)) ||
	    (ret = kt_probe_host(o->kvm_path, &in->host)) ||
	    (o->output && (ret = start_output(in, o))))
		kt_replay_close(in);
	return ret;
}

void kt_replay_close(struct kt_replay_inputs *in)
{
	uint64_t events;

	if (in->out) {  /* -o started but never replayed into */
		kt_recorder_abort(in->out, 0);
		kt_recorder_close(in->out, &events);
	}
	if (in->trace_fd >= 0)
		close(in->trace_fd);
	if (in->kvm_fd >= 0)
		close(in->kvm_fd);
	kt_buf_free(&in->host);
	*in = (struct kt_replay_inputs){ .trace_fd = -1, .kvm_fd = -1 };
}
