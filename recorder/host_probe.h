/* What a trace header says about the host: kernel, CPU, KVM API version,
 * every capability, the supported CPUID and the kvm_run size.  Record
 * writes it; replay takes it again to compare before re-running. */
#ifndef KVMTRACE_HOST_PROBE_H
#define KVMTRACE_HOST_PROBE_H

#include <stdint.h>

#include "trace/trace_header.h"

/* Emit the host fields (KT_HDR_KVMTRACE_VERSION .. KT_HDR_VCPU_MMAP_SIZE,
 * KT_HDR_CPU_MODEL_NAME) to hdr.  Opens kvm_path on its own fd and
 * closes it again.  Returns 0, or -errno with kt_last_error() set. */
int kt_probe_host(const char *kvm_path, struct kt_buf *hdr);

#endif
