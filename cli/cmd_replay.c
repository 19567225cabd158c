/* kvmtrace replay: re-run a trace here and report every divergence. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "recorder/sink.h"
#include "replayer/field_diff.h"
#include "cli/replay_runs.h"
#include "replayer/replay.h"

/* diff(1)'s statuses. */
enum { SAME = 0, DIFFERENT = 1, TROUBLE = 2 };

static const char usage[] =
	"usage: kvmtrace replay TRACE.zst [--json] [-o NEW.zst [--force]]\n"
	"                      [--runs N [--ignore-out FILE]] [--ignore PATTERN]\n"
	"                      [--ignore-file FILE] [--kvm-device PATH]\n";

struct replay_cli {
	bool json, force;
	struct kt_pathset *ignore;
	const char *kvm_path;
	const char *trace;
	const char *output;
	unsigned runs;
	const char *ignore_out;
};

static void print_value(const char *v)
{
	fputs(v ? v : "(absent)", stdout);
}

static void on_divergence(void *ctx, const struct kt_divergence *d, bool env)
{
	const struct replay_cli *c = ctx;

	if (c->json) {
		printf("{\"kind\": \"%s\", \"event\": %" PRIu64 ", \"context\": ",
		       env ? "environment" : "divergence", d->event);
		cli_json_string(d->context);
		fputs(", \"path\": ", stdout);
		cli_json_string(d->path);
		fputs(", \"recorded\": ", stdout);
		cli_json_string(d->recorded);
		fputs(", \"replayed\": ", stdout);
		cli_json_string(d->replayed);
		puts("}");
		return;
	}
	if (env)
		printf("environment: %s: ", d->path);
	else
		printf("event %" PRIu64 " (%s): %s: ", d->event, d->context, d->path);
	print_value(d->recorded);
	fputs(" -> ", stdout);
	print_value(d->replayed);
	putchar('\n');
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
		{ 0 },
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		uint64_t n;

		if (opt == 'o') {
			c->output = optarg;
		} else if (opt == 'F') {
			c->force = true;
		} else if (opt == 'r') {
			if (kt_parse_u64(optarg, &n) || n < 1 || n > 1000) {
				fprintf(stderr, "kvmtrace replay: --runs '%s': must be a whole number "
					"from 1 to 1000\n%s", optarg, usage);
				return TROUBLE;
			}
			c->runs = (unsigned)n;
		} else if (opt == 'O') {
			c->ignore_out = optarg;
		} else if (opt == 'j') {
			c->json = true;
		} else if (opt == 'i') {
			kt_pathset_add(c->ignore, optarg);
		} else if (opt == 'f') {
			if (kt_pathset_load(c->ignore, optarg))
				return cli_error(TROUBLE);
		} else if (opt == 'k') {
			c->kvm_path = optarg;
		} else {
			fprintf(stderr, "kvmtrace replay: %s: %s\n%s", argv[optind - 1],
				opt == ':' ? "needs a value" : "unknown option", usage);
			return TROUBLE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "kvmtrace replay: %s\n%s",
			optind >= argc ? "missing the trace file" : "one trace file only", usage);
		return TROUBLE;
	}
	c->trace = argv[optind];
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_cli c = { .kvm_path = "/dev/kvm", .ignore = kt_pathset_new() };
	struct kt_replay_opts o = { .report = on_divergence, .ctx = &c };
	struct kt_replay_result res;
	int status;

	if (!c.ignore)
		return cli_errorf(TROUBLE, "out of memory");
	for (unsigned i = 0; kt_default_ignores[i]; i++)
		kt_pathset_add(c.ignore, kt_default_ignores[i]);
	if ((status = parse(argc, argv, &c))) {
		kt_pathset_free(c.ignore);
		return status;
	}
	o.trace = c.trace;
	o.kvm_path = c.kvm_path;
	o.ignore = c.ignore;
	o.output = c.output;
	o.force = c.force;
	if (c.runs > 1) {
		uint64_t divergences;

		if (c.output)
			return cli_errorf(TROUBLE, "replay: -o and --runs do not go together");
		status = replay_runs(&o, c.runs, c.ignore_out, &divergences) ?
			cli_error(TROUBLE) : divergences ? DIFFERENT : SAME;
		kt_pathset_free(c.ignore);
		return status;
	}
	if (kt_replay(&o, &res)) {
		kt_pathset_free(c.ignore);
		return cli_error(TROUBLE);
	}
	kt_pathset_free(c.ignore);
	if (res.stopped && c.json) {
		fputs("{\"kind\": \"stopped\", \"reason\": ", stdout);
		cli_json_string(res.stop_reason);
		puts("}");
	} else if (res.stopped) {
		printf("stopped: %s\n", res.stop_reason);
	}
	fprintf(stderr, "kvmtrace: replayed %" PRIu64 " events: %" PRIu64
		" divergences, %" PRIu64 " environment differences%s\n", res.events,
		res.divergences, res.env_differences, res.stopped ? " (stopped early)" : "");
	if (c.output)
		fprintf(stderr, "kvmtrace: the replay's trace written to %s\n", c.output);
	return res.divergences || res.stopped ? DIFFERENT : SAME;
}
