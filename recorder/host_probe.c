#include "recorder/host_probe.h"

#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/kvm_names.h"
#include "harness/kvm_system.h"
#include "trace/trace_format.h"
#include "trace/trace_header.h"

static int put_str(struct kt_buf *hdr, uint16_t tag, const char *s)
{
	return kt_tlv_put(hdr, tag, s, (uint32_t)strlen(s));
}

static int probe_kernel(struct kt_buf *hdr)
{
	struct utsname u;
	int ret;

	if (uname(&u) < 0)
		return -errno;
	if ((ret = put_str(hdr, KT_HDR_KERNEL_RELEASE, u.release)))
		return ret;
	return put_str(hdr, KT_HDR_KERNEL_VERSION, u.version);
}

static void cpu_brand(char brand[49])
{
	unsigned r[12] = { 0 };

	/* int in clang's cpuid.h, unsigned in gcc's */
	if ((unsigned)__get_cpuid_max(0x80000000, NULL) >= 0x80000004)
		for (unsigned i = 0; i < 3; i++)
			__get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1],
				    &r[4 * i + 2], &r[4 * i + 3]);
	memcpy(brand, r, 48);
	brand[48] = 0;
}

static int probe_cpu(struct kt_buf *hdr)
{
	unsigned a = 0, b = 0, c = 0, d = 0;
	char vendor[13], brand[49];
	struct kt_cpu_signature sig;
	int ret;

	__get_cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	__get_cpuid(1, &a, &b, &c, &d);
	sig = (struct kt_cpu_signature){
		.family = ((a >> 8) & 0xf) + (((a >> 8) & 0xf) == 0xf ? (a >> 20) & 0xff : 0),
		.model = ((a >> 4) & 0xf) | (((a >> 8) & 0xf) >= 6 ? ((a >> 16) & 0xf) << 4 : 0),
		.stepping = a & 0xf,
		.raw_eax = a,
	};
	cpu_brand(brand);
	if ((ret = put_str(hdr, KT_HDR_CPU_VENDOR, vendor)) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_CPU_SIGNATURE, &sig, sizeof(sig))))
		return ret;
	return put_str(hdr, KT_HDR_CPU_MODEL_NAME, brand);
}

/* Which KVM does the work: the vendor module that is loaded (built-in
 * ones appear in /sys/module too when they have parameters), else the CPU
 * flag the kernel reports. */
static const struct {
	const char *module, *backend;
} backend_modules[] = {
	{ "/sys/module/kvm_intel", "vmx" },
	{ "/sys/module/kvm_amd", "svm" },
	{ "/sys/module/kvm_pvm", "pvm" },
};

static const char *cpu_flag_backend(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	const char *found = "unknown";

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			found = strstr(line, " vmx") ? "vmx" : strstr(line, " svm") ? "svm" : found;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

static int probe_backend(struct kt_buf *hdr)
{
	for (size_t i = 0; i < sizeof(backend_modules) / sizeof(backend_modules[0]); i++)
		if (access(backend_modules[i].module, F_OK) == 0)
			return put_str(hdr, KT_HDR_KVM_BACKEND, backend_modules[i].backend);
	return put_str(hdr, KT_HDR_KVM_BACKEND, cpu_flag_backend());
}

/* Every capability linux/kvm.h names, asked of /dev/kvm itself. */
static int probe_caps(const struct kvm_handle *sys, struct kt_buf *hdr)
{
	size_t n = kvm_cap_count();
	struct kt_cap_result *caps = calloc(n ? n : 1, sizeof(*caps));
	int ret;

	if (!caps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		caps[i].cap = kvm_cap_at(i);
		caps[i].result = kvm_check_extension(sys, caps[i].cap);
	}
	ret = kt_tlv_put(hdr, KT_HDR_CAPS, caps, (uint32_t)(n * sizeof(*caps)));
	free(caps);
	return ret;
}

static int probe_kvm(const struct kvm_handle *sys, struct kt_buf *hdr)
{
	struct kvm_cpuid2 *cpuid;
	size_t mmap_size;
	int32_t api = KVM_API_EXPECTED;  /* kvm_open_system() checked it */
	uint32_t size32;
	int ret;

	if ((ret = kt_tlv_put(hdr, KT_HDR_API_VERSION, &api, sizeof(api))) ||
	    (ret = probe_caps(sys, hdr)))
		return ret;
	if ((ret = kvm_supported_cpuid(sys, &cpuid)))
		return ret;
	ret = kt_tlv_put(hdr, KT_HDR_SUPPORTED_CPUID, cpuid,
		  (uint32_t)(sizeof(*cpuid) + cpuid->nent * sizeof(cpuid->entries[0])));
	free(cpuid);
	if (ret || (ret = kvm_vcpu_mmap_size(sys, &mmap_size)))
		return ret;
	size32 = (uint32_t)mmap_size;
	if ((ret = kt_tlv_put(hdr, KT_HDR_VCPU_MMAP_SIZE, &size32, sizeof(size32))))
		return ret;
	return probe_backend(hdr);
}

int kt_probe_host(const char *kvm_path, struct kt_buf *hdr)
{
	struct kvm_handle sys;
	int ret;

	if ((ret = put_str(hdr, KT_HDR_KVMTRACE_VERSION, KVMTRACE_VERSION)) ||
	    (ret = probe_kernel(hdr)) || (ret = probe_cpu(hdr)))
		return ret;
	if ((ret = kvm_open_system(&sys, kvm_path)))
		return ret;
	ret = probe_kvm(&sys, hdr);
	kvm_close_handle(&sys);
	return ret;
}
