/* kvmtrace diff: align two traces' events and compare aligned events field
 * by field, in bounded memory. */
#ifndef KVMTRACE_TRACE_DIFF_H
#define KVMTRACE_TRACE_DIFF_H

#include <stdbool.h>
#include <stdint.h>

struct kt_pathset;

enum kt_diff_kind {
	KT_DIFF_HEADER,   /* a header field that is not environment differs */
	KT_DIFF_FIELD,    /* a field of two aligned events differs */
	KT_DIFF_DELETED,  /* an event only in the old trace */
	KT_DIFF_INSERTED, /* an event only in the new trace */
	KT_DIFF_ENV,      /* the hosts differ (replayer/environment.h): a header
			   * field or an answer that restates the host, once */
};

struct kt_diff_item {
	enum kt_diff_kind kind;
	uint64_t old_index, new_index;
	const char *context;   /* the event's decoded line, short */
	const char *path;      /* KT_DIFF_HEADER/FIELD */
	const char *old_value, *new_value;
};

struct kt_diff_opts {
	const char *old_path, *new_path;
	/* have_fds: both traces are open already (kt_open_regular(); the diff
	 * closes them), so that the caller can enter the sandbox before the
	 * first byte is read; the paths only name them in messages. */
	bool have_fds;
	int old_fd, new_fd;
	const struct kt_pathset *ignore, *only;
	void (*report)(void *ctx, const struct kt_diff_item *d);
	void *ctx;
};

struct kt_diff_result {
	uint64_t old_events, new_events;
	uint64_t header_fields, changed_events, changed_fields, deleted, inserted;
	uint64_t env_fields;
};

/* 0 when both traces were read to the end, or -errno with kt_last_error()
 * (unreadable, truncated, corrupt). */
int kt_trace_diff(const struct kt_diff_opts *o, struct kt_diff_result *res);

#endif
