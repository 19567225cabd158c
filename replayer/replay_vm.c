#include "replayer/replay_vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "harness/kvm_system.h"
#include "replayer/replay_limits.h"
#include "trace/run_bytes.h"

static uint8_t *scratch_space(struct kt_buf *b, size_t len)
{
	b->len = 0;
	return kt_buf_reserve(b, len);
}

int rp_vm_open(struct rp_vm *vm, int kvm_fd)
{
	memset(vm, 0, sizeof(*vm));
	vm->vm.fd = -1;
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	vm->sys = (struct kvm_handle){ .fd = dup(kvm_fd), .role = KT_FD_SYSTEM };
	if (vm->sys.fd < 0)
		return kt_fail(-errno, "/dev/kvm: %s", strerror(errno));
	return 0;
}

void rp_vm_close(struct rp_vm *vm)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		kvm_close_handle(&vm->vcpu[i]);
	kt_memslots_unmap(&vm->mem);
	kvm_close_handle(&vm->vm);
	kvm_close_handle(&vm->sys);
}

static struct kvm_handle *handle_for(struct rp_vm *vm, const struct rp_call *c)
{
	switch (c->b->role) {
	case KT_FD_SYSTEM:
		return &vm->sys;
	case KT_FD_VM:
		return vm->vm.fd >= 0 ? &vm->vm : NULL;
	case KT_FD_VCPU:
		return c->vcpu < GUEST_MAX_VCPUS && vm->vcpu[c->vcpu].fd >= 0 ?
			&vm->vcpu[c->vcpu] : NULL;
	}
	return NULL;
}

static uint64_t int_arg(const struct rp_call *c)
{
	uint64_t v = 0;

	memcpy(&v, c->in, c->b->in_len < sizeof(v) ? c->b->in_len : sizeof(v));
	return v;
}

/* Guest memory mapped in all slots but one. */
static uint64_t mapped_besides(const struct rp_vm *vm, uint32_t slot)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < KT_MAX_SLOTS; i++)
		if (i != slot && vm->mem.slot[i].used)
			total += vm->mem.slot[i].size;
	return total;
}

/* The recorded region names the recorder's memory; ours replaces it. */
static int swap_region(struct rp_vm *vm, struct kvm_userspace_memory_region *r)
{
	int ret;

	if (r->slot < KT_MAX_SLOTS && (r->memory_size > RP_MAX_GUEST_MEM ||
				       mapped_besides(vm, r->slot) + r->memory_size >
				       RP_MAX_GUEST_MEM))
		return kt_fail(KT_E_LIMIT, "memory slot %u of %llu MiB: more than the %llu MiB "
			       "of guest memory replay maps", r->slot,
			       (unsigned long long)(r->memory_size >> 20), RP_MAX_GUEST_MEM >> 20);
	ret = kt_memslot_map(&vm->mem, r->slot, r->guest_phys_addr, r->memory_size);

	if (ret)
		return ret;
	r->userspace_addr = (uintptr_t)vm->mem.slot[r->slot].host;
	return 0;
}

static int map_runs(struct rp_vm *vm)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		if (vm->vcpu[i].fd >= 0 && !vm->vcpu[i].run) {
			int ret = kvm_map_run(&vm->vcpu[i], vm->run_size);

			if (ret)
				return ret;
		}
	return 0;
}

/* Fds and mappings that a successful call brings into being. */
static int adopt_result(struct rp_vm *vm, const struct rp_call *c, long ret)
{
	uint32_t req = c->b->request;

	if (ret < 0)
		return 0;
	if (req == KVM_CREATE_VM) {
		vm->vm = (struct kvm_handle){ .fd = (int)ret, .role = KT_FD_VM };
	} else if (req == KVM_CREATE_VCPU) {
		uint64_t id = int_arg(c);

		if (id >= GUEST_MAX_VCPUS)
			return kt_fail(-EINVAL, "vCPU id %llu is beyond kvmtrace's %d",
				       (unsigned long long)id, GUEST_MAX_VCPUS);
		vm->vcpu[id] = (struct kvm_handle){ .fd = (int)ret, .role = KT_FD_VCPU,
						    .vcpu_index = (uint32_t)id };
	} else if (req == KVM_GET_VCPU_MMAP_SIZE) {
		vm->run_size = (size_t)ret;
	} else {
		return 0;
	}
	return vm->run_size ? map_runs(vm) : 0;
}

/* KVM_RUN: hand the vCPU what userspace handed it when recording. */
static int prepare_run(struct kvm_handle *h, const struct rp_call *c)
{
	struct kt_run_in in;
	const uint8_t *data = c->in + sizeof(in);
	struct kvm_run *run = h->run;

	if (!run)
		return kt_fail(-EINVAL, "KVM_RUN on vCPU %u before its kvm_run is mapped",
			       h->vcpu_index);
	if (c->b->in_len < sizeof(in))
		return kt_fail(-EBADMSG, "KVM_RUN record without its input block");
	memcpy(&in, c->in, sizeof(in));
	if (sizeof(in) + (uint64_t)in.data_len > c->b->in_len)
		return kt_fail(-EBADMSG, "KVM_RUN record: completion data overruns the record");
	run->request_interrupt_window = in.request_interrupt_window;
	run->immediate_exit = in.immediate_exit;
	run->kvm_valid_regs = in.kvm_valid_regs;
	run->kvm_dirty_regs = in.kvm_dirty_regs;
	if (in.data_len) {
		uint32_t room;
		uint8_t *dst = kt_run_completion(run, h->run_size, &room);

		if (dst && in.data_len <= room)
			memcpy(dst, data, in.data_len);
	}
	return 0;
}

/* What KVM_RUN left stays in kvm_run: its length, laid out as the
 * recorder lays it out (trace/run_bytes.h). */
static void run_result(const struct kvm_handle *h, struct rp_result *res)
{
	res->out = NULL;
	res->out_len = (uint32_t)(sizeof(struct kt_run_out) +
				  kt_run_out_data_len(h->run, h->run_size));
	res->run = h->run;
}

/* The argument as the recording passed it, the rest zeroed, in a buffer
 * as large as anything the kernel may read or write there (a count in the
 * struct, _IOC_SIZE), which the limits bound. */
static int build_arg(struct rp_vm *vm, const struct rp_call *c, struct kt_buf *scratch,
		     void **arg)
{
	uint32_t req = c->b->request;
	uint64_t len = rp_arg_bytes(c->b, c->in);
	uint8_t *p;

	if (_IOC_DIR(req) == _IOC_NONE) {
		*arg = (void *)(uintptr_t)int_arg(c);
		return 0;
	}
	if (len > KT_MAX_IOCTL_BYTES)
		return kt_fail(KT_E_LIMIT, "an ioctl argument of %llu bytes (at most %u)",
			       (unsigned long long)len, KT_MAX_IOCTL_BYTES);
	if (!(p = scratch_space(scratch, len ? (size_t)len : 1)))
		return kt_fail(-ENOMEM, "out of memory for an ioctl argument");
	memset(p, 0, (size_t)len);
	memcpy(p, c->in, c->b->in_len);
	*arg = p;
	if (req == KVM_SET_USER_MEMORY_REGION &&
	    c->b->in_len >= sizeof(struct kvm_userspace_memory_region))
		return swap_region(vm, (struct kvm_userspace_memory_region *)p);
	return 0;
}

static int issue(struct rp_vm *vm, struct kvm_handle *h, const struct rp_call *c,
		 struct kt_buf *scratch, struct rp_result *res)
{
	uint32_t req = c->b->request;
	void *arg = NULL;
	long ret;
	int err;

	if ((err = req == KVM_RUN ? prepare_run(h, c) : build_arg(vm, c, scratch, &arg)))
		return err;
	ret = kvm_ioctl_raw(h, req, arg);
	*res = (struct rp_result){ .ret = ret < 0 ? -1 : ret, .err = ret < 0 ? (int)-ret : 0 };
	if (req == KVM_RUN)
		run_result(h, res);
	else if (ret >= 0 && (_IOC_DIR(req) & _IOC_READ)) {
		res->out = arg;
		res->out_len = (uint32_t)kvm_ioctl_arg_size(req, arg);
	}
	return err ? err : adopt_result(vm, c, ret);
}

int rp_vm_call(struct rp_vm *vm, const struct rp_call *c, struct kt_buf *scratch,
	       struct rp_result *res)
{
	struct kvm_handle *h = handle_for(vm, c);

	if (!h && c->b->role == KT_FD_VCPU)
		return kt_fail(-EBADF, "vCPU %u's fd does not exist in the replay", c->vcpu);
	if (!h)
		return kt_fail(-EBADF, "the VM fd does not exist in the replay");
	return issue(vm, h, c, scratch, res);
}
