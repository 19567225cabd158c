/* Field-level differences between two decoded events (flat (path, value)
 * lists from decode/sink.h), filtered by sets of path patterns. */
#ifndef KVMTRACE_FIELD_DIFF_H
#define KVMTRACE_FIELD_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "decode/sink.h"

/* fnmatch(3) patterns over dotted paths: "sregs.apic_base", "header.cpuid.*". */
struct kt_pathset;

struct kt_pathset *kt_pathset_new(void);
void kt_pathset_free(struct kt_pathset *set);
int kt_pathset_add(struct kt_pathset *set, const char *pattern);
/* One pattern per line; blank lines and # comments skipped.  0 or -errno
 * with kt_last_error() naming the file. */
int kt_pathset_load(struct kt_pathset *set, const char *file);
/* A NULL set matches nothing. */
bool kt_pathset_match(const struct kt_pathset *set, const char *path);

typedef void (*kt_field_report)(void *ctx, const char *path, const char *old_value,
				const char *new_value);

/* Report every path whose value differs, or that only one side has (the
 * other value NULL), skipping paths in ignore and, when only is not NULL,
 * paths outside it.  Returns the number reported. */
size_t kt_field_diff(const struct kt_field *a, size_t na, const struct kt_field *b,
		     size_t nb, const struct kt_pathset *ignore,
		     const struct kt_pathset *only, kt_field_report report, void *ctx);

/* The same over the fields two flat sinks (kt_sink_flat) collected.
 * -ENOMEM (message set) when the field lists cannot be built. */
int kt_sink_diff(struct kt_sink *a, struct kt_sink *b, const struct kt_pathset *ignore,
		 const struct kt_pathset *only, kt_field_report report, void *ctx,
		 size_t *count);

#endif
