#include "replayer/environment.h"

#include <fnmatch.h>
#include <stdio.h>
#include <linux/kvm.h>
#include <string.h>

#include "common/kt_types.h"
#include "common/kvm_names.h"

static const char *const env_header_fields[] = {
	"kernel_release", "kernel_version", "cpu_*", "api_version", "caps.*",
	"cpuid.*", "vcpu_mmap_size", "kvm_backend", NULL,
};

bool kt_env_header_field(const char *path)
{
	for (unsigned i = 0; env_header_fields[i]; i++)
		if (fnmatch(env_header_fields[i], path, 0) == 0)
			return true;
	return false;
}

static const struct {
	uint32_t request;
	enum kt_env_kind system_fd, other_fd;
} env_requests[] = {
	{ KVM_GET_API_VERSION, KT_ENV_IN_HEADER, KT_ENV_YES },
	{ KVM_CHECK_EXTENSION, KT_ENV_IN_HEADER, KT_ENV_YES },
	{ KVM_GET_VCPU_MMAP_SIZE, KT_ENV_IN_HEADER, KT_ENV_YES },
	{ KVM_GET_SUPPORTED_CPUID, KT_ENV_IN_HEADER, KT_ENV_YES },
	{ KVM_GET_EMULATED_CPUID, KT_ENV_YES, KT_ENV_YES },
	{ KVM_GET_MSR_INDEX_LIST, KT_ENV_YES, KT_ENV_YES },
	{ KVM_GET_MSR_FEATURE_INDEX_LIST, KT_ENV_YES, KT_ENV_YES },
};

enum kt_env_kind kt_env_request(uint32_t request, uint8_t role)
{
	for (size_t i = 0; i < sizeof(env_requests) / sizeof(env_requests[0]); i++)
		if (env_requests[i].request == request)
			return role == KT_FD_SYSTEM ? env_requests[i].system_fd :
						      env_requests[i].other_fd;
	return KT_ENV_NO;
}

const char *kt_env_path(const struct kt_event *ev, const char *path, char *buf,
			size_t size)
{
	uint64_t cap = 0;
	const char *name;

	if (ev->type != KT_REC_IOCTL || ev->ioctl->request != KVM_CHECK_EXTENSION ||
	    strcmp(path, "ioctl.ret") || ev->ioctl->in_len < sizeof(cap))
		return path;
	memcpy(&cap, ev->in, sizeof(cap));
	if (!(name = kvm_cap_name((uint32_t)cap)))
		return path;
	snprintf(buf, size, "caps.%s", name);
	return buf;
}

static size_t key_len(const char *path, const char *a, const char *b)
{
	return strlen(path) + strlen(a ? a : "") + strlen(b ? b : "") + 3;
}

bool kt_env_first(struct kt_env_seen *seen, const char *path, const char *old_value,
		  const char *new_value)
{
	size_t n;

	if (!strncmp(path, "header.", 7))
		path += 7;
	n = key_len(path, old_value, new_value);
	char key[n + 1];
	/* Nothing seen yet: data is NULL, and NULL + 0 is undefined. */
	const char *p = (const char *)seen->keys.data, *end = p ? p + seen->keys.len : p;

	snprintf(key, sizeof(key), "%s\t%s\t%s\n", path, old_value ? old_value : "",
		 new_value ? new_value : "");
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(nl + 1 - p) == n && !memcmp(p, key, n))
			return false;
		p = nl + 1;
	}
	kt_buf_put(&seen->keys, key, n);
	return true;
}

void kt_env_seen_free(struct kt_env_seen *seen)
{
	kt_buf_free(&seen->keys);
}
