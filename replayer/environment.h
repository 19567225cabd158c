/* The rule that keeps the host apart from what the guest did: header
 * fields that describe the host, and ioctls whose answers only restate it
 * (KVM_CHECK_EXTENSION, KVM_GET_SUPPORTED_CPUID, ...), are environment.
 * Replay and diff report their differences once, in an environment
 * section, and they do not by themselves make a replay or diff fail
 * (unless --strict-env).  What the guest sees is replayed from the trace,
 * so any behaviour that follows from the host still counts. */
#ifndef KVMTRACE_ENVIRONMENT_H
#define KVMTRACE_ENVIRONMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/sink.h"
#include "trace/trace_reader.h"
#include "replayer/field_diff.h"

/* A header field path (without "header.") that describes the host. */
bool kt_env_header_field(const char *path);
enum kt_env_kind {
	KT_ENV_NO = 0,     /* about this VM: a difference is a divergence */
	KT_ENV_YES,        /* restates the host */
	KT_ENV_IN_HEADER,  /* restates the host, and the header holds the same
			    * answer (KVM_GET_SUPPORTED_CPUID and header.cpuid):
			    * compared there, not again */
};

/* Whether a request's answer restates the host rather than anything of
 * this VM (role: the fd it went to, enum kt_fd_role). */
enum kt_env_kind kt_env_request(uint32_t request, uint8_t role);

/* The path an environment difference is reported under: a
 * KVM_CHECK_EXTENSION's "ioctl.ret" is the capability's answer,
 * "caps.KVM_CAP_NAME", as in the header; any other path is itself.
 * Returns path or buf. */
const char *kt_env_path(const struct kt_event *ev, const char *path, char *buf,
			size_t size);

/* The paths already reported as environment differences, so each is
 * reported once (a header CPUID difference and the same difference in
 * KVM_GET_SUPPORTED_CPUID's answer are one). */
struct kt_env_seen {
	struct kt_buf keys;  /* "path\told\tnew\n" lines */
};

/* true the first time (path, old, new) is seen; a "header." prefix does
 * not count, so the header's difference and an ioctl's are one. */
bool kt_env_first(struct kt_env_seen *seen, const char *path, const char *old_value,
		  const char *new_value);
void kt_env_seen_free(struct kt_env_seen *seen);

#endif
