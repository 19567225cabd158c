/* kvmtrace replay: re-run a trace here and report every divergence. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "replayer/field_diff.h"
#include "replayer/replay.h"
#include "replayer/run_fields.h"

static const char usage[] =
	"usage: kvmtrace replay TRACE.zst [--json] [-o NEW.zst [--force]]\n"
	"                      [--runs N [--ignore-out FILE]] [--ignore PATTERN]\n"
	"                      [--ignore-file FILE] [--strict-env] [--kvm-device PATH]\n"
	"                      [--no-sandbox]\n";

struct replay_cli {
	bool json, force, strict_env, no_sandbox;
	struct kt_pathset *ignore;
	const char *kvm_path;
	const char *trace;
	const char *output;
	unsigned runs;
	const char *ignore_out;
};

static void on_divergence(void *ctx, const struct kt_divergence *d, bool env)
{
	const struct replay_cli *c = ctx;

	if (c->json) {
		cli_print_difference_json(&(struct cli_difference){
			.kind = env ? "environment" : "divergence",
			.index_key = { "event" }, .index = { d->event },
			.context = d->context, .path = d->path,
			.value_key = { "recorded", "replayed" },
			.value = { d->recorded, d->replayed },
		});
	} else if (env) {
		cli_print_environment(d->path, d->recorded, d->replayed);
	} else {
		printf("event %" PRIu64 " (%s): %s: %s -> %s\n", d->event, d->context, d->path,
		       d->recorded ? d->recorded : "(absent)",
		       d->replayed ? d->replayed : "(absent)");
	}
}

static int bad_option(const char *arg, int opt)
{
	fprintf(stderr, "kvmtrace replay: %s: %s\n%s", arg,
		opt == ':' ? "needs a value" : "unknown option", usage);
	return KT_TROUBLE;
}

static int set_runs(struct replay_cli *c, const char *v)
{
	uint64_t n;

	if (kt_parse_u64(v, &n) || n < 1 || n > 1000) {
		fprintf(stderr, "kvmtrace replay: --runs '%s': must be a whole number "
			"from 1 to 1000\n%s", v, usage);
		return KT_TROUBLE;
	}
	c->runs = (unsigned)n;
	return 0;
}

static int parse(int argc, char **argv, struct replay_cli *c)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "ignore", required_argument, NULL, 'i' },
		{ "ignore-file", required_argument, NULL, 'f' },
		{ "kvm-device", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'F' },
		{ "runs", required_argument, NULL, 'r' },
		{ "ignore-out", required_argument, NULL, 'O' },
		{ "strict-env", no_argument, NULL, 'S' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ 0 },
	};
	int opt, ret = 0;

	optind = 0;
	opterr = 0;
	while (!ret && (opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': c->output = optarg; break;
		case 'F': c->force = true; break;
		case 'r': ret = set_runs(c, optarg); break;
		case 'O': c->ignore_out = optarg; break;
		case 'j': c->json = true; break;
		case 'S': c->strict_env = true; break;
		case 'N': c->no_sandbox = true; break;
		case 'i': kt_pathset_add(c->ignore, optarg); break;
		case 'f':
			if (kt_pathset_load(c->ignore, optarg))
				ret = cli_error(KT_TROUBLE);
			break;
		case 'k': c->kvm_path = optarg; break;
		default: ret = bad_option(argv[optind - 1], opt);
		}
	}
	if (ret)
		return ret;
	if (optind != argc - 1) {
		fprintf(stderr, "kvmtrace replay: %s\n%s",
			optind >= argc ? "missing the trace file" : "one trace file only", usage);
		return KT_TROUBLE;
	}
	c->trace = argv[optind];
	return 0;
}

static int replay_once(const struct replay_cli *c, const struct kt_replay_opts *o)
{
	struct kt_replay_result res;
	bool failed;

	if (kt_replay(o, &res))
		return cli_error(KT_TROUBLE);
	if (res.stopped && c->json)
		cli_print_json_reason("stopped", res.stop_reason);
	else if (res.stopped)
		printf("stopped: %s\n", res.stop_reason);
	failed = res.divergences || res.stopped || (c->strict_env && res.env_differences);
	fprintf(stderr, "kvmtrace: replayed %" PRIu64 " events: %" PRIu64
		" divergences, %" PRIu64 " environment differences%s%s\n", res.events,
		res.divergences, res.env_differences,
		c->strict_env && res.env_differences ? " (counted: --strict-env)" : "",
		res.stopped ? " (stopped early)" : "");
	if (c->output)
		fprintf(stderr, "kvmtrace: the replay's trace written to %s\n", c->output);
	return failed ? KT_DIFFERENT : KT_SAME;
}

static int replay_many(const struct replay_cli *c, struct kt_replay_opts *o, int out_fd)
{
	uint64_t divergences;

	if (kt_replay_runs(o, c->runs, c->ignore_out, out_fd, &divergences))
		return cli_error(KT_TROUBLE);
	return divergences ? KT_DIFFERENT : KT_SAME;
}

/* Everything a replay opens, then the sandbox: the trace's own requests
 * are the only ioctls it allows. */
static int prepare(const struct replay_cli *c, struct kt_replay_opts *o,
		   struct kt_replay_inputs *in, int *out_fd)
{
	if (c->output && c->runs > 1)
		return cli_errorf(KT_TROUBLE, "replay: -o and --runs do not go together");
	if (c->ignore_out && (*out_fd = open(c->ignore_out, O_WRONLY | O_CREAT | O_TRUNC |
					     O_CLOEXEC, 0644)) < 0)
		return cli_errorf(KT_TROUBLE, "%s: %s", c->ignore_out, strerror(errno));
	o->sandboxed = !c->no_sandbox;
	o->in = in;
	if (kt_replay_open(in, o))
		return cli_error(KT_TROUBLE);
	return cli_enter_sandbox(c->no_sandbox, "replay", KT_SANDBOX_REPLAY, in->requests,
				 in->nrequests);
}

int cmd_replay(int argc, char **argv)
{
	struct replay_cli c = { .kvm_path = "/dev/kvm", .ignore = kt_pathset_new() };
	struct kt_replay_opts o = { .report = on_divergence, .ctx = &c };
	struct kt_replay_inputs in = { .trace_fd = -1, .kvm_fd = -1 };
	int status, out_fd = -1;

	if (!c.ignore)
		return cli_errorf(KT_TROUBLE, "out of memory");
	for (unsigned i = 0; kt_default_ignores[i]; i++)
		kt_pathset_add(c.ignore, kt_default_ignores[i]);
	if (!(status = parse(argc, argv, &c))) {
		o.trace = c.trace;
		o.kvm_path = c.kvm_path;
		o.ignore = c.ignore;
		o.output = c.output;
		o.force = c.force;
		status = prepare(&c, &o, &in, &out_fd);
	}
	if (!status)
		status = c.runs > 1 ? replay_many(&c, &o, out_fd) : replay_once(&c, &o);
	kt_replay_close(&in);
	if (out_fd >= 0)
		close(out_fd);
	kt_pathset_free(c.ignore);
	return status;
}
