#include "replayer/replay_vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness/error.h"
#include "harness/kvm_system.h"
#include "recorder/run_bytes.h"
#include "recorder/trace_header.h"

/* Argument bytes, per thread: each vCPU replays on its own thread. */
static _Thread_local struct kt_buf args;

static uint8_t *arg_space(size_t len)
{
	args.len = 0;
	return kt_buf_reserve(&args, len);
}

int rp_vm_open(struct rp_vm *vm, const char *kvm_path)
{
	memset(vm, 0, sizeof(*vm));
	vm->vm.fd = -1;
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	return kvm_open_system(&vm->sys, kvm_path);
}

void rp_vm_close(struct rp_vm *vm)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		if (vm->vcpu[i].fd >= 0)
			kvm_close_handle(&vm->vcpu[i]);
	for (unsigned i = 0; i < RP_MAX_SLOTS; i++)
		if (vm->slot[i].used)
			munmap(vm->slot[i].host, vm->slot[i].size);
	if (vm->vm.fd >= 0)
		kvm_close_handle(&vm->vm);
	if (vm->sys.fd >= 0)
		kvm_close_handle(&vm->sys);
}

uint8_t *rp_vm_guest_ptr(struct rp_vm *vm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < RP_MAX_SLOTS; i++) {
		const struct rp_slot *s = &vm->slot[i];

		if (s->used && gpa >= s->gpa && gpa + len >= gpa &&
		    gpa + len <= s->gpa + s->size)
			return s->host + (gpa - s->gpa);
	}
	return NULL;
}

int rp_vm_mem_write(struct rp_vm *vm, uint64_t gpa, const void *data, size_t len)
{
	uint8_t *p = rp_vm_guest_ptr(vm, gpa, len);

	if (!p)
		return kt_fail(-EFAULT, "memory write of %zu bytes at GPA 0x%llx "
			       "lies outside every replayed memory slot", len,
			       (unsigned long long)gpa);
	memcpy(p, data, len);
	kvm_note_mem_write(gpa, data, len);
	return 0;
}

static struct kvm_handle *handle_for(struct rp_vm *vm, const struct rp_call *c)
{
	switch (c->b->role) {
	case KT_FD_SYSTEM:
		return &vm->sys;
	case KT_FD_VM:
		return vm->vm_created ? &vm->vm : NULL;
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

/* The recorded region names the recorder's memory; ours replaces it. */
static int swap_region(struct rp_vm *vm, struct kvm_userspace_memory_region *r)
{
	struct rp_slot *s;

	if (r->slot >= RP_MAX_SLOTS)
		return kt_fail(-EINVAL, "memory slot %u: kvmtrace replays slots 0..%d",
			       r->slot, RP_MAX_SLOTS - 1);
	s = &vm->slot[r->slot];
	if (s->used && s->size != r->memory_size) {
		munmap(s->host, s->size);
		s->used = false;
	}
	if (!s->used && r->memory_size) {
		void *p = mmap(NULL, r->memory_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return kt_fail(-errno, "mmap of %llu bytes for slot %u: %s",
				       (unsigned long long)r->memory_size, r->slot,
				       strerror(errno));
		*s = (struct rp_slot){ .used = true, .size = r->memory_size, .host = p };
	}
	s->gpa = r->guest_phys_addr;
	r->userspace_addr = (uintptr_t)s->host;
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
static int adopt_result(struct rp_vm *vm, const struct rp_call *c, long ret,
			const void *arg)
{
	uint32_t req = c->b->request;

	if (ret < 0)
		return 0;
	if (req == KVM_CREATE_VM) {
		vm->vm = (struct kvm_handle){ .fd = (int)ret, .role = KVM_ROLE_VM };
		vm->vm_created = true;
	} else if (req == KVM_CREATE_VCPU) {
		uint64_t id = int_arg(c);

		if (id >= GUEST_MAX_VCPUS)
			return kt_fail(-EINVAL, "vCPU id %llu is beyond kvmtrace's %d",
				       (unsigned long long)id, GUEST_MAX_VCPUS);
		vm->vcpu[id] = (struct kvm_handle){ .fd = (int)ret, .role = KVM_ROLE_VCPU,
						    .vcpu_index = (uint32_t)id };
	} else if (req == KVM_GET_VCPU_MMAP_SIZE) {
		vm->run_size = (size_t)ret;
	} else {
		(void)arg;
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

/* What KVM_RUN left, laid out as the recorder lays it out. */
static void collect_run_out(const struct kvm_handle *h, struct rp_result *res)
{
	size_t n = kt_run_out_data_len(h->run, h->run_size);
	uint8_t *p = arg_space(sizeof(struct kt_run_out) + n);

	if (!p)
		return;
	kt_run_out_fill(h->run, n, p);
	res->out = p;
	res->out_len = (uint32_t)(sizeof(struct kt_run_out) + n);
	res->run = h->run;
}

static int issue(struct rp_vm *vm, struct kvm_handle *h, const struct rp_call *c,
		 struct rp_result *res)
{
	uint32_t req = c->b->request;
	size_t len = c->b->in_len > c->b->out_len ? c->b->in_len : c->b->out_len;
	uint8_t *arg = NULL;
	void *ioarg;
	long ret;
	int err;

	if (req == KVM_RUN) {
		if ((err = prepare_run(h, c)))
			return err;
		ioarg = NULL;
	} else if (_IOC_DIR(req) == _IOC_NONE) {
		ioarg = (void *)(uintptr_t)int_arg(c);
	} else {
		if (!(arg = arg_space(len ? len : 1)))
			return kt_fail(-ENOMEM, "out of memory");
		memset(arg, 0, len);
		memcpy(arg, c->in, c->b->in_len);
		if (req == KVM_SET_USER_MEMORY_REGION &&
		    c->b->in_len >= sizeof(struct kvm_userspace_memory_region) &&
		    (err = swap_region(vm, (struct kvm_userspace_memory_region *)arg)))
			return err;
		ioarg = arg;
	}
	ret = kvm_ioctl(h, req, ioarg);
	*res = (struct rp_result){ .ret = ret < 0 ? -1 : ret, .err = ret < 0 ? (int)-ret : 0 };
	if (req == KVM_RUN)
		collect_run_out(h, res);
	else if (arg && ret >= 0 && (_IOC_DIR(req) & _IOC_READ)) {
		res->out = arg;
		res->out_len = (uint32_t)kvm_ioctl_arg_size(req, arg);
	}
	return adopt_result(vm, c, ret, arg);
}

int rp_vm_call(struct rp_vm *vm, const struct rp_call *c, struct rp_result *res)
{
	struct kvm_handle *h = handle_for(vm, c);

	if (!h && c->b->role == KT_FD_VCPU)
		return kt_fail(-EBADF, "vCPU %u's fd does not exist in the replay", c->vcpu);
	if (!h)
		return kt_fail(-EBADF, "the VM fd does not exist in the replay");
	return issue(vm, h, c, res);
}
