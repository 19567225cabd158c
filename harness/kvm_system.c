#include "harness/kvm_system.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"

/* Why opening /dev/kvm fails, in the words a user can act on. */
static const struct {
	int err;
	const char *hint;
} open_hints[] = {
	{ ENOENT, "the kvm module is not loaded or this host has no KVM" },
	{ EACCES, "no permission: add yourself to the kvm group" },
	{ EPERM, "no permission: add yourself to the kvm group" },
	{ ENXIO, "no hardware virtualization (disabled in firmware?)" },
};

static int open_failed(const char *path, int err)
{
	for (size_t i = 0; i < sizeof(open_hints) / sizeof(open_hints[0]); i++)
		if (open_hints[i].err == err)
			return kt_fail(-err, "%s: %s (%s)", path, strerror(err),
				       open_hints[i].hint);
	return kt_fail(-err, "%s: %s", path, strerror(err));
}

static int check_api_version(const struct kvm_handle *sys, const char *path)
{
	long ret = kvm_ioctl_raw(sys, KVM_GET_API_VERSION, NULL);

	if (ret == -ENOTTY || ret == -EINVAL)
		return kt_fail((int)ret, "%s: not a KVM device (KVM_GET_API_VERSION: %s)",
			       path, strerror((int)-ret));
	if (ret < 0)
		return kt_fail((int)ret, "%s: KVM_GET_API_VERSION failed: %s", path,
			       strerror((int)-ret));
	if (ret != KVM_API_EXPECTED)
		return kt_fail(-EPROTONOSUPPORT, "%s: KVM API version is %ld, kvmtrace "
			       "needs %d", path, ret, KVM_API_EXPECTED);
	return 0;
}

int kvm_open_system(struct kvm_handle *sys, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int ret;

	*sys = (struct kvm_handle){ .fd = -1, .role = KT_FD_SYSTEM };
	if (fd < 0)
		return open_failed(path, errno);
	sys->fd = fd;
	if ((ret = check_api_version(sys, path)))
		kvm_close_handle(sys);
	return ret;
}

int kvm_check_extension(const struct kvm_handle *h, unsigned cap)
{
	return (int)kvm_ioctl_raw(h, KVM_CHECK_EXTENSION, (void *)(uintptr_t)cap);
}

int kvm_vcpu_mmap_size(const struct kvm_handle *sys, size_t *size)
{
	long ret = kvm_ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, NULL);

	if (ret < 0)
		return (int)ret;
	if ((size_t)ret < sizeof(struct kvm_run))
		return kt_fail(-EINVAL, "KVM_GET_VCPU_MMAP_SIZE returned %ld, "
			       "smaller than struct kvm_run", ret);
	*size = (size_t)ret;
	return 0;
}

int kvm_supported_cpuid(const struct kvm_handle *sys, struct kvm_cpuid2 **out)
{
	for (uint32_t nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		long ret;

		if (!c)
			return kt_fail(-ENOMEM, "out of memory for CPUID entries");
		c->nent = nent;
		/* E2BIG only asks for a bigger buffer: not an error yet. */
		ret = kvm_ioctl_raw(sys, KVM_GET_SUPPORTED_CPUID, c);
		if (ret == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (ret != -E2BIG)
			return kt_fail((int)ret, "KVM_GET_SUPPORTED_CPUID on kvm failed: %s",
				       strerror((int)-ret));
	}
	return kt_fail(-E2BIG, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

int kvm_create_vm(const struct kvm_handle *sys, struct kvm_handle *vm)
{
	long ret = kvm_ioctl(sys, KVM_CREATE_VM, (void *)0);

	if (ret < 0)
		return (int)ret;
	*vm = (struct kvm_handle){ .fd = (int)ret, .role = KT_FD_VM };
	return 0;
}

int kvm_set_tss_addr(const struct kvm_handle *vm, uint64_t gpa)
{
	long ret = kvm_ioctl(vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)gpa);

	return ret < 0 ? (int)ret : 0;
}

int kvm_set_memory_region(const struct kvm_handle *vm, uint32_t slot,
			  uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	long ret = kvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);

	return ret < 0 ? (int)ret : 0;
}

int kvm_create_vcpu(const struct kvm_handle *vm, unsigned index,
		    struct kvm_handle *vcpu)
{
	long ret = kvm_ioctl(vm, KVM_CREATE_VCPU, (void *)(uintptr_t)index);

	if (ret < 0)
		return (int)ret;
	*vcpu = (struct kvm_handle){ .fd = (int)ret, .role = KT_FD_VCPU,
				     .vcpu_index = index };
	return 0;
}

int kvm_map_run(struct kvm_handle *vcpu, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);

	if (p == MAP_FAILED)
		return kt_fail(-errno, "mmap of kvm_run for vCPU %u: %s",
			       vcpu->vcpu_index, strerror(errno));
	vcpu->run = p;
	vcpu->run_size = size;
	return 0;
}

void kvm_close_handle(struct kvm_handle *h)
{
	if (h->run)
		munmap(h->run, h->run_size);
	if (h->fd >= 0)
		close(h->fd);
	*h = (struct kvm_handle){ .fd = -1 };
}
