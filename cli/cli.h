/* The kvmtrace command line: one function per subcommand, registered in
 * main.c's table. */
#ifndef KVMTRACE_CLI_H
#define KVMTRACE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/run_options.h"
#include "decode/kexit.h"
#include "harness/machine.h"
#include "sandbox/sandbox.h"

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);  /* argv[0] is the subcommand */
	const char *summary;
	const char *usage;                  /* `kvmtrace help NAME` */
};

int cmd_run(int argc, char **argv);
int cmd_record(int argc, char **argv);
/* record [options] -- PROGRAM [ARGS...]: a foreign VMM (cmd_record_vmm.c). */
int cmd_record_vmm(int argc, char **argv);
bool cli_record_has_program(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* Print "kvmtrace: <what>" for the last error and return status. */
int cli_error(int status);
/* Print "kvmtrace: <fmt>" and return status. */
int cli_errorf(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What `record` adds around a run; every hook may be NULL. */
struct cli_run_hooks {
	/* The image is read and the options checked; the VM does not exist
	 * yet.  Non-zero aborts with that exit status. */
	int (*before_machine)(void *ctx, const struct kt_run_options *o,
			      const uint8_t *image, size_t size);
	/* The VM is built and loaded; its run starts next. */
	void (*machine_ready)(void *ctx, struct kt_machine *m);
	/* The run is over (however it ended); the VM still exists. */
	void (*after_run)(void *ctx, struct kt_machine *m);
	/* Setup failed with status; the VM may be half built. */
	void (*setup_failed)(void *ctx, int status);
	void *ctx;
};

/* Load and run the guest o describes, print its outcome; returns the exit
 * status (common/exit_status.h). */
int cli_run_guest(const struct kt_run_options *o, const struct cli_run_hooks *hooks);

/* One difference, as replay and diff print it. */
struct cli_difference {
	const char *kind;          /* "divergence", "environment", "field", ... */
	const char *index_key[2];  /* "event", or "old_event" and "new_event" */
	uint64_t index[2];
	const char *context, *path;
	const char *value_key[2];  /* "recorded"/"replayed", "old"/"new" */
	const char *value[2];      /* NULL: absent on that side */
};

/* A JSON Lines record on stdout (through the decoders' JSON sink). */
void cli_print_difference_json(const struct cli_difference *d);
/* "environment: PATH: A -> B" (A or B "(absent)"). */
void cli_print_environment(const char *path, const char *a, const char *b);
/* {"kind": kind, "reason": reason} on stdout. */
void cli_print_json_reason(const char *kind, const char *reason);

/* show: an in-kernel exit (KEXIT or KEXIT_LOST) as a line; counted for
 * --stats; the stats table (nothing when the trace did not ask for them). */
void cli_show_kexit(struct kt_sink *s, const struct kt_event *ev, bool verbose);
void cli_count_kexit(struct kt_kexit_tally *t, const struct kt_event *ev);
void cli_print_kexit_stats(const struct kt_header *hdr, const struct kt_kexit_tally *t);

/* -v: exits by reason and each vCPU's final registers, on stderr. */
void cli_print_summary(const struct kt_machine *m);
/* --summary-json FILE (open as fd): the same for tests, plus --peek values. */
int cli_write_summary_json(const struct kt_machine *m,
			   const struct kt_run_options *o, int fd);
/* Parse run options for argv; prints the error and returns KT_USAGE. */
int cli_parse_run_options(int argc, char **argv, struct kt_run_options *o,
			  const char *usage);

/* kvmtrace --sandbox-selftest=WHAT COMMAND ...: the forbidden call the
 * command makes right after entering the sandbox (tests only). */
extern const char *cli_sandbox_selftest;
/* Enter the sandbox with profile, allowing those ioctl requests, unless off
 * (--no-sandbox); then the self-test, if one was asked for.  0, or the
 * status after printing why (KT_SANDBOX). */
int cli_enter_sandbox(bool off, const char *command, enum kt_sandbox_profile profile,
		      const uint32_t *ioctls, size_t nioctls, bool kernel_exits);

#endif
