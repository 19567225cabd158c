#include "harness/kvm_ioctl.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/kvm_names.h"

static const struct kvm_ioctl_observer *observer;

void kvm_ioctl_set_observer(const struct kvm_ioctl_observer *obs)
{
	observer = obs;
}

const struct kvm_ioctl_observer *kvm_ioctl_observer(void)
{
	return observer;
}

/* Structs whose length is carried inside them, so _IOC_SIZE only covers
 * their fixed head. */
static size_t cpuid2_size(const void *arg)
{
	const struct kvm_cpuid2 *c = arg;

	return sizeof(*c) + (size_t)c->nent * sizeof(c->entries[0]);
}

static size_t msrs_size(const void *arg)
{
	const struct kvm_msrs *m = arg;

	return sizeof(*m) + (size_t)m->nmsrs * sizeof(m->entries[0]);
}

static size_t msr_list_size(const void *arg)
{
	const struct kvm_msr_list *l = arg;

	return sizeof(*l) + (size_t)l->nmsrs * sizeof(l->indices[0]);
}

static const struct {
	unsigned long req;
	size_t (*size)(const void *arg);
} variable_size[] = {
	{ KVM_GET_SUPPORTED_CPUID, cpuid2_size },
	{ KVM_GET_EMULATED_CPUID, cpuid2_size },
	{ KVM_SET_CPUID2, cpuid2_size },
	{ KVM_GET_CPUID2, cpuid2_size },
	{ KVM_GET_MSRS, msrs_size },
	{ KVM_SET_MSRS, msrs_size },
	{ KVM_GET_MSR_INDEX_LIST, msr_list_size },
	{ KVM_GET_MSR_FEATURE_INDEX_LIST, msr_list_size },
};

size_t kvm_ioctl_arg_size(unsigned long req, const void *arg)
{
	if (_IOC_DIR(req) == _IOC_NONE || !arg)
		return 0;
	for (size_t i = 0; i < sizeof(variable_size) / sizeof(variable_size[0]); i++)
		if (variable_size[i].req == req)
			return variable_size[i].size(arg);
	return _IOC_SIZE(req);
}

static struct kvm_ioctl_bytes bytes_in(unsigned long req, const void **arg)
{
	if (_IOC_DIR(req) == _IOC_NONE)
		return (struct kvm_ioctl_bytes){ arg, sizeof(void *) };
	if (_IOC_DIR(req) & _IOC_WRITE)
		return (struct kvm_ioctl_bytes){ *arg, kvm_ioctl_arg_size(req, *arg) };
	return (struct kvm_ioctl_bytes){ NULL, 0 };
}

static struct kvm_ioctl_bytes bytes_out(unsigned long req, const void *arg)
{
	if (_IOC_DIR(req) & _IOC_READ)
		return (struct kvm_ioctl_bytes){ arg, kvm_ioctl_arg_size(req, arg) };
	return (struct kvm_ioctl_bytes){ NULL, 0 };
}

static long observed_ioctl(const struct kvm_ioctl_observer *obs,
			   const struct kvm_handle *h, unsigned long req, void *arg)
{
	const void *carg = arg;
	uint64_t t0, t1;
	long ret;
	int err;

	if (obs->before)
		obs->before(obs->ctx, h, req, bytes_in(req, &carg));
	t0 = kt_monotonic_ns();
	ret = ioctl(h->fd, req, arg);
	err = ret < 0 ? errno : 0;
	t1 = kt_monotonic_ns();
	if (obs->after)
		obs->after(obs->ctx, h, req, bytes_out(req, arg), ret, err, t0, t1);
	errno = err;
	return ret;
}

long kvm_ioctl_raw(const struct kvm_handle *h, unsigned long req, void *arg)
{
	const struct kvm_ioctl_observer *obs = observer;
	long ret;

	if (obs)
		ret = observed_ioctl(obs, h, req, arg);
	else
		ret = ioctl(h->fd, req, arg);
	return ret < 0 ? -errno : ret;
}

long kvm_ioctl(const struct kvm_handle *h, unsigned long req, void *arg)
{
	long ret = kvm_ioctl_raw(h, req, arg);
	char fd[KT_FD_NAME_MAX];
	const char *name, *err;

	if (ret >= 0)
		return ret;
	name = kvm_ioctl_name((uint32_t)req);
	err = strerrorname_np((int)-ret);
	kt_fd_name(fd, h->role, h->vcpu_index);
	if (name)
		return kt_fail((int)ret, "%s on %s failed: %s (%s)", name, fd,
			       err ? err : "?", strerror((int)-ret));
	return kt_fail((int)ret, "ioctl 0x%lx on %s failed: %s (%s)", req, fd,
		       err ? err : "?", strerror((int)-ret));
}

void kvm_note_mem_write(uint64_t gpa, const void *data, size_t len)
{
	const struct kvm_ioctl_observer *obs = observer;

	if (obs && obs->mem_write)
		obs->mem_write(obs->ctx, gpa, data, len);
}
