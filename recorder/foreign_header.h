/* A foreign VMM's recording (kvmtrace record -- PROGRAM): how the
 * kvmtrace command asks the shim preloaded into PROGRAM for one, and the
 * header fields that stand in place of a guest image.
 *
 * The command (cli/cmd_record_vmm.c) passes everything through the
 * environment; the shim (shim/) reads it when PROGRAM starts:
 *
 *   KVMTRACE_SHIM_TRACE   the trace file, an absolute path (the command
 *                         created it: the shim truncates it)
 *   KVMTRACE_SHIM_DIR     a private directory: the first process to open
 *                         /dev/kvm claims the recording there (a file
 *                         "claim", O_EXCL), and writes its outcome to
 *                         "status" (one line: "started", then "done EVENTS
 *                         EXITS" or "error STATUS MESSAGE")
 *   KVMTRACE_SHIM_MEMORY  "slots" (default) or "changes" (--memory-changes)
 *   KVMTRACE_SHIM_KEXITS  "off" (default), "on" or "require"
 *   KVMTRACE_SHIM_KEXIT_KINDS  the kinds, a hex bit mask (0: every kind)
 */
#ifndef KVMTRACE_FOREIGN_HEADER_H
#define KVMTRACE_FOREIGN_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define KT_SHIM_ENV_TRACE "KVMTRACE_SHIM_TRACE"
#define KT_SHIM_ENV_DIR "KVMTRACE_SHIM_DIR"
#define KT_SHIM_ENV_MEMORY "KVMTRACE_SHIM_MEMORY"
#define KT_SHIM_ENV_KEXITS "KVMTRACE_SHIM_KEXITS"
#define KT_SHIM_ENV_KEXIT_KINDS "KVMTRACE_SHIM_KEXIT_KINDS"
#define KT_SHIM_CLAIM "claim"
#define KT_SHIM_STATUS "status"
/* The shim, beside the kvmtrace binary. */
#define KT_SHIM_NAME "libkvmtrace-shim.so"

/* What the header says about a foreign VMM. */
struct kt_foreign {
	const char *cmdline;   /* argv, each NUL-terminated, as /proc/PID/cmdline */
	size_t cmdline_len;
	uint32_t flags;        /* KT_FOREIGN_* (trace/trace_format.h) */
};

/* The header fields of a foreign VMM's recording: its name (basename of
 * argv[0]) as the guest name, KT_HDR_FOREIGN, KT_HDR_COMMAND_LINE, the
 * sandbox (off: kvmtrace does not sandbox someone else's program) and the
 * time.  0 or -ENOMEM. */
int kt_foreign_put_header(struct kt_buf *hdr, const struct kt_foreign *f);

#endif
