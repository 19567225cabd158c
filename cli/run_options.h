/* The options of `run` and `record`, parsed into a struct kt_run_options
 * (and with it the harness's struct kt_config), and the number parsers
 * every subcommand uses. */
#ifndef KVMTRACE_RUN_OPTIONS_H
#define KVMTRACE_RUN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "harness/config.h"

#define KT_MAX_PEEKS 16

struct kt_run_options {
	struct kt_config cfg;
	bool verbose;
	const char *summary_json;
	uint64_t peek[KT_MAX_PEEKS];
	unsigned npeeks;
	const char *command;     /* "run" or "record" (argv[0]) */
	bool no_sandbox;         /* --no-sandbox */
	/* record only */
	const char *output;
	bool force;
	bool allow_record_options;
};

/* "2M", "64MiB", "1G", "0x200000", "4096": bytes.  0 on success. */
int kt_parse_size(const char *s, uint64_t *out);
/* Decimal or 0x hex, no sign, no trailing junk. */
int kt_parse_u64(const char *s, uint64_t *out);
/* Seconds, fractional allowed ("0.5"): milliseconds. */
int kt_parse_seconds(const char *s, uint64_t *ms);

void kt_run_options_init(struct kt_run_options *o);
/* Parse argv (getopt_long from argv[0] = the subcommand).  Returns 0, or
 * -EINVAL with a one-line reason in kt_last_error(). */
int kt_parse_run_options(int argc, char **argv, struct kt_run_options *o);

#endif
