/* An ioctl's argument bytes, by a table of requests: request -> the
 * decoder of what userspace passed in and of what the kernel handed back,
 * each under its struct's name. */
#include "decode/decode_util.h"

#include <linux/kvm.h>

#include "common/kvm_names.h"

/* _IO requests carry their integer argument as 8 "in" bytes
 * (harness/kvm_ioctl.h). */
static uint64_t int_arg(const void *p, size_t len)
{
	return kt_load(p, len < 8 ? len : 8);
}

static void arg_cap(struct kt_sink *s, const void *p, size_t len)
{
	uint64_t cap = int_arg(p, len);

	s->ops->sym(s, "cap", cap, cap <= UINT32_MAX ? kvm_cap_name((uint32_t)cap) : NULL);
}

static void arg_addr(struct kt_sink *s, const void *p, size_t len)
{
	kt_hex(s, "addr", int_arg(p, len));
}

static void arg_vcpu_id(struct kt_sink *s, const void *p, size_t len)
{
	kt_dec(s, "id", int_arg(p, len));
}

static void arg_vm_type(struct kt_sink *s, const void *p, size_t len)
{
	kt_dec(s, "vm_type", int_arg(p, len));
}

/* name: the struct's member name; NULL for integer arguments, which name
 * their own field.  No decoder: nothing worth showing on that side. */
struct side {
	const char *name;
	kt_decoder decode;
};

static const struct {
	uint32_t request;
	struct side in, out;
} ioctls[] = {
	{ KVM_CHECK_EXTENSION, { NULL, arg_cap }, { NULL, NULL } },
	{ KVM_CREATE_VM, { NULL, arg_vm_type }, { NULL, NULL } },
	{ KVM_CREATE_VCPU, { NULL, arg_vcpu_id }, { NULL, NULL } },
	{ KVM_SET_TSS_ADDR, { NULL, arg_addr }, { NULL, NULL } },
	{ KVM_SET_IDENTITY_MAP_ADDR, { NULL, arg_addr }, { NULL, NULL } },
	/* _IO requests whose argument is unused */
	{ KVM_GET_API_VERSION, { NULL, NULL }, { NULL, NULL } },
	{ KVM_GET_VCPU_MMAP_SIZE, { NULL, NULL }, { NULL, NULL } },
	{ KVM_SET_USER_MEMORY_REGION,
	  { "region", decode_kvm_userspace_memory_region }, { NULL, NULL } },
	{ KVM_GET_SUPPORTED_CPUID, { NULL, NULL }, { "cpuid", decode_kvm_cpuid2 } },
	{ KVM_SET_CPUID2, { "cpuid", decode_kvm_cpuid2 }, { NULL, NULL } },
	{ KVM_GET_CPUID2, { NULL, NULL }, { "cpuid", decode_kvm_cpuid2 } },
	{ KVM_GET_MSRS, { "msrs", decode_kvm_msrs }, { "msrs", decode_kvm_msrs } },
	{ KVM_SET_MSRS, { "msrs", decode_kvm_msrs }, { NULL, NULL } },
	{ KVM_GET_MSR_INDEX_LIST, { NULL, NULL }, { "msr_list", decode_kvm_msr_list } },
	{ KVM_GET_MSR_FEATURE_INDEX_LIST, { NULL, NULL }, { "msr_list", decode_kvm_msr_list } },
	{ KVM_GET_REGS, { NULL, NULL }, { "regs", decode_kvm_regs } },
	{ KVM_SET_REGS, { "regs", decode_kvm_regs }, { NULL, NULL } },
	{ KVM_GET_SREGS, { NULL, NULL }, { "sregs", decode_kvm_sregs } },
	{ KVM_SET_SREGS, { "sregs", decode_kvm_sregs }, { NULL, NULL } },
	{ KVM_RUN, { "entry", decode_kt_run_in }, { "exit", decode_kt_run_out } },
};

static int find(uint32_t request)
{
	for (size_t i = 0; i < COUNT(ioctls); i++)
		if (ioctls[i].request == request)
			return (int)i;
	return -1;
}

static void side(struct kt_sink *s, const struct side *d, const void *p, size_t len)
{
	if (!len || !d->decode)
		return;
	if (d->name)
		kt_nested(s, d->name, d->decode, p, len);
	else
		d->decode(s, p, len);
}

/* A request without an entry shows its bytes as they are. */
void decode_ioctl_args(struct kt_sink *s, uint32_t request, const void *in,
		       size_t in_len, const void *out, size_t out_len)
{
	int i = find(request);

	if (i >= 0) {
		side(s, &ioctls[i].in, in, in_len);
		side(s, &ioctls[i].out, out, out_len);
		return;
	}
	if (in_len)
		s->ops->bytes(s, "in", in, in_len);
	if (out_len)
		s->ops->bytes(s, "out", out, out_len);
}
