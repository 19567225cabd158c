#include "replayer/replay_limits.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/kvm_names.h"
#include "harness/guest_abi.h"
#include "harness/kvm_ioctl.h"
#include "harness/memslots.h"

_Static_assert(sizeof(((struct rp_limits *)0)->slot_size) / sizeof(uint64_t) == KT_MAX_SLOTS,
	       "one size per memory slot");

uint64_t rp_arg_bytes(const struct kt_ioctl_body *b, const uint8_t *in)
{
	uint64_t need = b->in_len > b->out_len ? b->in_len : b->out_len;
	uint8_t head[sizeof(struct kvm_cpuid2)] = { 0 };  /* the largest counted head */
	uint64_t size;

	if (_IOC_DIR(b->request) == _IOC_NONE)
		return need;
	if (_IOC_SIZE(b->request) > need)
		need = _IOC_SIZE(b->request);
	/* A struct that carries its own count (kvm_cpuid2, kvm_msrs): the
	 * kernel reads or writes as many entries as that count says. */
	memcpy(head, in, b->in_len < sizeof(head) ? b->in_len : sizeof(head));
	size = kvm_ioctl_arg_size(b->request, head);
	return size > need ? size : need;
}

static int refuse(const char *trace, uint64_t index, const char *what)
{
	return kt_fail(KT_E_LIMIT, "%s: event %" PRIu64 " %s; replay refuses it before "
		       "issuing anything (docs/trace-format.md, Limits)", trace, index, what);
}

static int check_region(struct rp_limits *l, const char *trace, uint64_t index,
			const struct kt_event *ev)
{
	struct kvm_userspace_memory_region r = { 0 };
	uint64_t total = 0;
	char what[160];

	if (ev->ioctl->in_len < sizeof(r))
		return 0;  /* replay refuses the short record where it gets to it */
	memcpy(&r, ev->in, sizeof(r));
	if (r.slot >= KT_MAX_SLOTS) {
		snprintf(what, sizeof(what), "maps memory slot %u (kvmtrace keeps 0..%d)",
			 r.slot, KT_MAX_SLOTS - 1);
		return refuse(trace, index, what);
	}
	l->slot_size[r.slot] = r.memory_size;
	for (unsigned i = 0; i < KT_MAX_SLOTS; i++)
		total += l->slot_size[i] > RP_MAX_GUEST_MEM ? RP_MAX_GUEST_MEM + 1 : l->slot_size[i];
	if (total > RP_MAX_GUEST_MEM) {
		snprintf(what, sizeof(what), "asks for %" PRIu64 " MiB of guest memory in all "
			 "(at most %llu)", total >> 20, RP_MAX_GUEST_MEM >> 20);
		return refuse(trace, index, what);
	}
	return 0;
}

static int check_ioctl(struct rp_limits *l, const char *trace, uint64_t index,
		       const struct kt_event *ev)
{
	const struct kt_ioctl_body *b = ev->ioctl;
	uint64_t id = 0;
	char what[160];

	if (!kvm_ioctl_name(b->request)) {
		snprintf(what, sizeof(what), "is ioctl 0x%x, which kvmtrace does not know",
			 b->request);
		return refuse(trace, index, what);
	}
	if (b->role > KT_FD_VCPU) {
		snprintf(what, sizeof(what), "goes to fd role %u (0..2)", b->role);
		return refuse(trace, index, what);
	}
	if (rp_arg_bytes(b, ev->in) > KT_MAX_IOCTL_BYTES) {
		snprintf(what, sizeof(what), "has an argument of %" PRIu64 " bytes (at most %u)",
			 rp_arg_bytes(b, ev->in), KT_MAX_IOCTL_BYTES);
		return refuse(trace, index, what);
	}
	if (b->request == KVM_SET_USER_MEMORY_REGION)
		return check_region(l, trace, index, ev);
	if (b->request == KVM_CREATE_VCPU) {
		memcpy(&id, ev->in, b->in_len < sizeof(id) ? b->in_len : sizeof(id));
		if (id >= GUEST_MAX_VCPUS) {
			snprintf(what, sizeof(what), "creates vCPU %" PRIu64 " (kvmtrace runs 0..%d)",
				 id, GUEST_MAX_VCPUS - 1);
			return refuse(trace, index, what);
		}
	}
	return 0;
}

static int check_digest(const char *trace, uint64_t index, const struct kt_event *ev)
{
	struct kt_digest_body d;
	char what[160];

	memcpy(&d, ev->body, sizeof(d));
	if (d.page_size >= RP_MIN_PAGE && d.page_size <= RP_MAX_PAGE &&
	    !(d.page_size & (d.page_size - 1)))
		return 0;
	snprintf(what, sizeof(what), "digests pages of %u bytes (a power of two, %u to %u)",
		 d.page_size, RP_MIN_PAGE, RP_MAX_PAGE);
	return refuse(trace, index, what);
}

int rp_check_event(struct rp_limits *l, const char *trace, uint64_t index,
		   const struct kt_event *ev)
{
	char what[160];

	if (ev->vcpu >= GUEST_MAX_VCPUS) {
		snprintf(what, sizeof(what), "is for vCPU %u (kvmtrace runs 0..%d)", ev->vcpu,
			 GUEST_MAX_VCPUS - 1);
		return refuse(trace, index, what);
	}
	if (ev->type == KT_REC_IOCTL)
		return check_ioctl(l, trace, index, ev);
	if (ev->type == KT_REC_DIGEST)
		return check_digest(trace, index, ev);
	return 0;
}

int rp_check_header(const struct kt_reader *r, const char *trace)
{
	struct kt_run_config rc;

	if (kt_header_run_config(kt_reader_hdr(r), &rc) == 0 && rc.vcpus > GUEST_MAX_VCPUS)
		return kt_fail(KT_E_LIMIT, "%s: the header asks for %u vCPUs (kvmtrace runs at "
			       "most %d); replay refuses it before issuing anything", trace,
			       rc.vcpus, GUEST_MAX_VCPUS);
	return 0;
}
