/* kvmtrace record: run a guest with the recorder on the choke point. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "recorder/recorder.h"

static const char usage[] =
	"usage: kvmtrace record GUEST.bin [-o TRACE.zst] [--force]\n"
	"                       [--kernel-exits[=require]] [--kernel-exit-kinds LIST]"
	" [run options]\n(kvmtrace help record)\n";

struct record_ctx {
	const char *path;
	struct kt_recorder *rec;
	struct kt_kexits *kexits;
	char kexits_why[512];
};

/* --kernel-exits: opened before the VM and its vCPU threads exist.  Not
 * possible here: one line and on without them, or with =require the
 * documented status and no trace. */
static int open_kexits(struct record_ctx *rc, const struct kt_kexits_opts *o)
{
	if (o->mode == KT_KEXITS_OFF || !kt_kexits_open(&rc->kexits, o))
		return 0;
	if (o->mode == KT_KEXITS_REQUIRED)
		return cli_errorf(KT_NO_KEXITS, "--kernel-exits=require: %s", kt_last_error());
	snprintf(rc->kexits_why, sizeof(rc->kexits_why), "%s", kt_last_error());
	fprintf(stderr, "kvmtrace: kernel exits not recorded: %s\n", rc->kexits_why);
	return 0;
}

/* After the trace: what the capture could not do, then detach (slow). */
static void close_kexits(struct record_ctx *rc)
{
	struct kt_kexits_totals t;

	if (!rc->kexits)
		return;
	kt_kexits_totals(rc->kexits, &t);
	if (t.lost)
		fprintf(stderr, "kvmtrace: %" PRIu64 " kernel exits lost (the ring buffer was "
			"full); KEXIT_LOST records mark where\n", t.lost);
	if (kt_kexits_problem(rc->kexits))
		fprintf(stderr, "kvmtrace: kernel exits: %s\n", kt_kexits_problem(rc->kexits));
	kt_kexits_close(rc->kexits);
}

static int start(void *ctx, const struct kt_run_options *o, const uint8_t *image,
		 size_t size)
{
	struct record_ctx *rc = ctx;
	struct kt_record_request req = {
		.path = rc->path, .force = o->force, .cfg = &o->cfg,
		.image = image, .image_size = size, .sandboxed = !o->no_sandbox,
		.kexits_opts = &o->kexits,
	};
	bool no_kvm;
	int status;

	if ((status = open_kexits(rc, &o->kexits)))
		return status;
	req.kexits = rc->kexits;
	req.kexits_why = rc->kexits_why;
	if (kt_recorder_start(&rc->rec, &req, &no_kvm))
		return cli_error(no_kvm ? KT_NO_KVM : KT_BAD_INPUT);
	return 0;
}

/* A full disk stops the guest rather than letting it run on unrecorded. */
static void watch(void *ctx, struct kt_machine *m)
{
	struct record_ctx *rc = ctx;

	kt_recorder_watch(rc->rec, m);
}

static void finish(void *ctx, struct kt_machine *m)
{
	struct record_ctx *rc = ctx;

	kt_recorder_finish(rc->rec, m);
}

static void abort_setup(void *ctx, int status)
{
	struct record_ctx *rc = ctx;

	kt_recorder_abort(rc->rec, status);
}

/* guests/hello.bin -> hello.zst in the current directory. */
static char *default_output(const char *guest)
{
	const char *base = strrchr(guest, '/');
	size_t n;
	char *out;

	base = base ? base + 1 : guest;
	n = strcspn(base, ".");
	if (n == 0)
		n = strlen(base);
	out = malloc(n + 5);
	if (out)
		snprintf(out, n + 5, "%.*s.zst", (int)n, base);
	return out;
}

int cmd_record(int argc, char **argv)
{
	struct kt_run_options o;
	struct record_ctx rc = { 0 };
	struct cli_run_hooks hooks = {
		.before_machine = start, .machine_ready = watch, .after_run = finish,
		.setup_failed = abort_setup, .ctx = &rc,
	};
	char *fallback = NULL;
	uint64_t events;
	int status;

	if (cli_record_has_program(argc, argv))  /* a foreign VMM, not a guest image */
		return cmd_record_vmm(argc, argv);
	kt_run_options_init(&o);
	o.allow_record_options = true;
	if ((status = cli_parse_run_options(argc, argv, &o, usage)))
		return status;
	o.cfg.snapshots = true;
	rc.path = o.output;
	if (!rc.path && !(rc.path = fallback = default_output(o.cfg.guest_path)))
		return cli_errorf(KT_INTERNAL, "out of memory");
	status = cli_run_guest(&o, &hooks);
	if (rc.rec) {
		if (kt_recorder_close(rc.rec, &events))
			status = cli_error(KT_INTERNAL);
		else
			fprintf(stderr, "kvmtrace: trace written to %s (%" PRIu64 " events)\n",
				rc.path, events);
	}
	close_kexits(&rc);
	free(fallback);
	return status;
}
