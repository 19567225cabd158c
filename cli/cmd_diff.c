/* kvmtrace diff OLD NEW: what changed between two traces. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "common/file.h"
#include "replayer/field_diff.h"
#include "replayer/replay.h"
#include "replayer/trace_diff.h"

static const char usage[] =
	"usage: kvmtrace diff OLD.zst NEW.zst [--json] [--stat] [--ignore PATTERN]\n"
	"                     [--only PATTERN] [--ignore-file FILE] [--strict-env]\n"
	"                     [--no-sandbox]\n";

/* --stat: how often each path differs. */
struct path_count {
	char *path;
	uint64_t count;
};

struct diff_cli {
	bool json, stat, strict_env, no_sandbox;
	struct kt_pathset *ignore, *only;
	bool have_only;
	uint64_t last_event;
	bool in_event;
	struct kt_buf counts;  /* struct path_count[] */
};

static const char *const kind_names[] = {
	[KT_DIFF_HEADER] = "header", [KT_DIFF_FIELD] = "field",
	[KT_DIFF_DELETED] = "deleted", [KT_DIFF_INSERTED] = "inserted",
	[KT_DIFF_ENV] = "environment",
};

static void print_json(const struct kt_diff_item *d)
{
	cli_print_difference_json(&(struct cli_difference){
		.kind = kind_names[d->kind],
		.index_key = { "old_event", "new_event" },
		.index = { d->old_index, d->new_index },
		.context = d->context, .path = d->path,
		.value_key = { "old", "new" }, .value = { d->old_value, d->new_value },
	});
}

/* Unified-diff-like: a hunk header per changed event, -/+ per field. */
static void print_text(struct diff_cli *c, const struct kt_diff_item *d)
{
	switch (d->kind) {
	case KT_DIFF_ENV:
		cli_print_environment(d->path, d->old_value, d->new_value);
		return;
	case KT_DIFF_HEADER:
		printf("%s: %s -> %s\n", d->path, d->old_value ? d->old_value : "(absent)",
		       d->new_value ? d->new_value : "(absent)");
		return;
	case KT_DIFF_DELETED:
		printf("- event %" PRIu64 ": %s\n", d->old_index, d->context);
		c->in_event = false;
		return;
	case KT_DIFF_INSERTED:
		printf("+ event %" PRIu64 ": %s\n", d->new_index, d->context);
		c->in_event = false;
		return;
	case KT_DIFF_FIELD:
		if (!c->in_event || c->last_event != d->old_index)
			printf("@@ event %" PRIu64 " / %" PRIu64 ": %s @@\n", d->old_index,
			       d->new_index, d->context);
		c->in_event = true;
		c->last_event = d->old_index;
		if (d->old_value)
			printf("-  %s=%s\n", d->path, d->old_value);
		if (d->new_value)
			printf("+  %s=%s\n", d->path, d->new_value);
	}
}

static void count_path(struct diff_cli *c, const char *path)
{
	size_t n = kt_buf_count(&c->counts, struct path_count);
	struct path_count pc = { .count = 1 };

	for (size_t i = 0; i < n; i++)
		if (!strcmp(kt_buf_at(&c->counts, struct path_count, i).path, path)) {
			kt_buf_at(&c->counts, struct path_count, i).count++;
			return;
		}
	if ((pc.path = strdup(path)) && kt_buf_put(&c->counts, &pc, sizeof(pc)))
		free(pc.path);
}

static void on_item(void *ctx, const struct kt_diff_item *d)
{
	struct diff_cli *c = ctx;

	if (c->stat)
		count_path(c, d->path ? d->path : kind_names[d->kind]);
	else if (c->json)
		print_json(d);
	else
		print_text(c, d);
}

static int parse(int argc, char **argv, struct diff_cli *c, const char **a, const char **b)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' }, { "stat", no_argument, NULL, 's' },
		{ "ignore", required_argument, NULL, 'i' }, { "only", required_argument, NULL, 'o' },
		{ "ignore-file", required_argument, NULL, 'f' },
		{ "strict-env", no_argument, NULL, 'S' },
		{ "no-sandbox", no_argument, NULL, 'N' }, { 0 },
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': c->json = true; break;
		case 's': c->stat = true; break;
		case 'S': c->strict_env = true; break;
		case 'N': c->no_sandbox = true; break;
		case 'i': kt_pathset_add(c->ignore, optarg); break;
		case 'o': kt_pathset_add(c->only, optarg); c->have_only = true; break;
		case 'f':
			if (kt_pathset_load(c->ignore, optarg))
				return cli_error(KT_TROUBLE);
			break;
		default:
			fprintf(stderr, "kvmtrace diff: %s: %s\n%s", argv[optind - 1],
				opt == ':' ? "needs a value" : "unknown option", usage);
			return KT_TROUBLE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "kvmtrace diff: needs two trace files\n%s", usage);
		return KT_TROUBLE;
	}
	*a = argv[optind];
	*b = argv[optind + 1];
	return 0;
}

static void print_stat(const struct diff_cli *c)
{
	for (size_t i = 0; i < kt_buf_count(&c->counts, struct path_count); i++) {
		const struct path_count *pc = &kt_buf_at(&c->counts, struct path_count, i);

		printf("%10" PRIu64 "  %s\n", pc->count, pc->path);
	}
}

static int summarize(const struct diff_cli *c, const struct kt_diff_result *r)
{
	bool different = r->header_fields || r->changed_fields || r->deleted || r->inserted ||
			 (c->strict_env && r->env_fields);

	fprintf(stderr, "kvmtrace: %" PRIu64 " vs %" PRIu64 " events: %" PRIu64
		" environment differences%s, %" PRIu64 " header fields, %" PRIu64
		" events with %" PRIu64 " fields changed, %" PRIu64 " only in old, %" PRIu64
		" only in new\n", r->old_events, r->new_events, r->env_fields,
		c->strict_env && r->env_fields ? " (counted: --strict-env)" : "",
		r->header_fields, r->changed_events, r->changed_fields, r->deleted, r->inserted);
	return different ? KT_DIFFERENT : KT_SAME;
}

static void free_cli(struct diff_cli *c)
{
	kt_pathset_free(c->ignore);
	kt_pathset_free(c->only);
	for (size_t i = 0; i < kt_buf_count(&c->counts, struct path_count); i++)
		free(kt_buf_at(&c->counts, struct path_count, i).path);
	kt_buf_free(&c->counts);
}

/* Both traces open, then the sandbox, before the first byte is read. */
static int open_inputs(const struct diff_cli *c, struct kt_diff_opts *o)
{
	int status;

	o->have_fds = true;
	if ((o->old_fd = kt_open_regular(o->old_path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_error(KT_TROUBLE);
	if ((o->new_fd = kt_open_regular(o->new_path, O_RDONLY | O_CLOEXEC)) < 0) {
		close(o->old_fd);
		return cli_error(KT_TROUBLE);
	}
	if ((status = cli_enter_sandbox(c->no_sandbox, "diff", KT_SANDBOX_READ, NULL, 0))) {
		close(o->old_fd);
		close(o->new_fd);
	}
	return status;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cli c = { .ignore = kt_pathset_new(), .only = kt_pathset_new() };
	struct kt_diff_opts o = { .report = on_item, .ctx = &c };
	struct kt_diff_result r;
	int status;

	if (!c.ignore || !c.only) {
		free_cli(&c);
		return cli_errorf(KT_TROUBLE, "out of memory");
	}
	for (unsigned i = 0; kt_default_ignores[i]; i++)
		kt_pathset_add(c.ignore, kt_default_ignores[i]);
	if (!(status = parse(argc, argv, &c, &o.old_path, &o.new_path)))
		status = open_inputs(&c, &o);
	if (!status) {
		o.ignore = c.ignore;
		o.only = c.have_only ? c.only : NULL;
		if (kt_trace_diff(&o, &r)) {
			status = cli_error(KT_TROUBLE);
		} else {
			if (c.stat)
				print_stat(&c);
			status = summarize(&c, &r);
		}
	}
	free_cli(&c);
	return status;
}
