/* kvmtrace diff OLD NEW: what changed between two traces. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "recorder/sink.h"
#include "replayer/field_diff.h"
#include "replayer/replay.h"
#include "replayer/trace_diff.h"

enum { SAME = 0, DIFFERENT = 1, TROUBLE = 2 };

static const char usage[] =
	"usage: kvmtrace diff OLD.zst NEW.zst [--json] [--stat] [--ignore PATTERN]\n"
	"                     [--only PATTERN] [--ignore-file FILE]\n";

#define STAT_PATHS 1024

struct diff_cli {
	bool json, stat;
	struct kt_pathset *ignore, *only;
	bool have_only;
	uint64_t last_event;
	bool in_event;
	/* --stat: how often each path differs */
	char *paths[STAT_PATHS];
	uint64_t counts[STAT_PATHS];
};

static const char *const kind_names[] = { "header", "field", "deleted", "inserted" };

static void print_json(const struct kt_diff_item *d)
{
	printf("{\"kind\": \"%s\", \"old_event\": %" PRIu64 ", \"new_event\": %" PRIu64
	       ", \"context\": ", kind_names[d->kind], d->old_index, d->new_index);
	cli_json_string(d->context);
	fputs(", \"path\": ", stdout);
	cli_json_string(d->path);
	fputs(", \"old\": ", stdout);
	cli_json_string(d->old_value);
	fputs(", \"new\": ", stdout);
	cli_json_string(d->new_value);
	puts("}");
}

/* Unified-diff-like: a hunk header per changed event, -/+ per field. */
static void print_text(struct diff_cli *c, const struct kt_diff_item *d)
{
	switch (d->kind) {
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
	for (unsigned i = 0; i < STAT_PATHS; i++) {
		if (!c->paths[i]) {
			c->paths[i] = strdup(path);
			c->counts[i] = 1;
			return;
		}
		if (!strcmp(c->paths[i], path)) {
			c->counts[i]++;
			return;
		}
	}
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
		{ "ignore-file", required_argument, NULL, 'f' }, { 0 },
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': c->json = true; break;
		case 's': c->stat = true; break;
		case 'i': kt_pathset_add(c->ignore, optarg); break;
		case 'o': kt_pathset_add(c->only, optarg); c->have_only = true; break;
		case 'f':
			if (kt_pathset_load(c->ignore, optarg))
				return cli_error(TROUBLE);
			break;
		default:
			fprintf(stderr, "kvmtrace diff: %s: %s\n%s", argv[optind - 1],
				opt == ':' ? "needs a value" : "unknown option", usage);
			return TROUBLE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "kvmtrace diff: needs two trace files\n%s", usage);
		return TROUBLE;
	}
	*a = argv[optind];
	*b = argv[optind + 1];
	return 0;
}

static void print_stat(const struct diff_cli *c, const struct kt_diff_result *r)
{
	for (unsigned i = 0; i < STAT_PATHS && c->paths[i]; i++)
		printf("%10" PRIu64 "  %s\n", c->counts[i], c->paths[i]);
	(void)r;
}

int cmd_diff(int argc, char **argv)
{
	static struct diff_cli c;
	struct kt_diff_opts o = { .report = on_item, .ctx = &c };
	struct kt_diff_result r;
	int status;

	c.ignore = kt_pathset_new();
	c.only = kt_pathset_new();
	if (!c.ignore || !c.only)
		return cli_errorf(TROUBLE, "out of memory");
	for (unsigned i = 0; kt_default_ignores[i]; i++)
		kt_pathset_add(c.ignore, kt_default_ignores[i]);
	if ((status = parse(argc, argv, &c, &o.old_path, &o.new_path)))
		goto out;
	o.ignore = c.ignore;
	o.only = c.have_only ? c.only : NULL;
	if (kt_trace_diff(&o, &r)) {
		status = cli_error(TROUBLE);
		goto out;
	}
	if (c.stat)
		print_stat(&c, &r);
	fprintf(stderr, "kvmtrace: %" PRIu64 " vs %" PRIu64 " events: %" PRIu64
		" header fields, %" PRIu64 " events with %" PRIu64 " fields changed, %" PRIu64
		" only in old, %" PRIu64 " only in new\n", r.old_events, r.new_events,
		r.header_fields, r.changed_events, r.changed_fields, r.deleted, r.inserted);
	status = r.header_fields || r.changed_fields || r.deleted || r.inserted ?
		DIFFERENT : SAME;
out:
	kt_pathset_free(c.ignore);
	kt_pathset_free(c.only);
	for (unsigned i = 0; i < STAT_PATHS; i++)
		free(c.paths[i]);
	return status;
}
