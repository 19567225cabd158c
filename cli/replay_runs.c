/* kvmtrace replay --runs N: replay N times and list the fields whose
 * replayed values change from run to run, as an ignore file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/replay_runs.h"
#include "harness/error.h"

/* Every divergence of every run, as "run \t event \t path \t value". */
struct seen {
	char **items;
	size_t n, cap;
	unsigned run;
	uint64_t divergences;
};

static void collect(void *ctx, const struct kt_divergence *d, bool env)
{
	struct seen *s = ctx;
	char *item;

	if (env)
		return;
	s->divergences++;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **p = realloc(s->items, cap * sizeof(*p));

		if (!p)
			return;
		s->items = p;
		s->cap = cap;
	}
	if (asprintf(&item, "%" PRIu64 "\t%s\t%s\t%u", d->event, d->path,
		     d->replayed ? d->replayed : "(absent)", s->run) >= 0)
		s->items[s->n++] = item;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Length of the "event \t path \t value" part: what runs must agree on. */
static size_t key_len(const char *item)
{
	return (size_t)(strrchr(item, '\t') - item);
}

static char *path_of(const char *item)
{
	const char *p = strchr(item, '\t') + 1;

	return strndup(p, (size_t)(strchr(p, '\t') - p));
}

/* Paths of the divergences not seen identically in every run. */
static size_t changing_paths(struct seen *s, unsigned runs, char ***out)
{
	char **paths = calloc(s->n + 1, sizeof(*paths));
	size_t np = 0;

	qsort(s->items, s->n, sizeof(*s->items), by_string);
	for (size_t i = 0, j; paths && i < s->n; i = j) {
		size_t k = key_len(s->items[i]);

		for (j = i + 1; j < s->n && key_len(s->items[j]) == k &&
				!strncmp(s->items[i], s->items[j], k); j++)
			;
		if (j - i < runs)
			paths[np++] = path_of(s->items[i]);
	}
	qsort(paths, np, sizeof(*paths), by_string);
	*out = paths;
	return np;
}

static int write_ignore(const char *file, const char *trace, unsigned runs, char **paths,
			size_t n)
{
	FILE *f = stdout;

	if (file && !(f = fopen(file, "w")))
		return kt_fail(-errno, "%s: %s", file, strerror(errno));
	fprintf(f, "# kvmtrace ignore file: fields that changed from run to run in %u "
		"replays of %s\n", runs, trace);
	for (size_t i = 0; i < n; i++)
		if (!i || strcmp(paths[i], paths[i - 1]))
			fprintf(f, "%s\n", paths[i]);
	if (file && fclose(f))
		return kt_fail(-errno, "%s: %s", file, strerror(errno));
	return 0;
}

int replay_runs(struct kt_replay_opts *o, unsigned runs, const char *ignore_out,
		uint64_t *divergences)
{
	struct seen s = { 0 };
	struct kt_replay_result res;
	char **paths = NULL;
	size_t np;
	int ret = 0;

	o->report = collect;
	o->ctx = &s;
	for (s.run = 0; s.run < runs && !ret; s.run++)
		ret = kt_replay(o, &res);
	if (!ret) {
		np = changing_paths(&s, runs, &paths);
		ret = write_ignore(ignore_out, o->trace, runs, paths, np);
		fprintf(stderr, "kvmtrace: %u replays: %zu fields changed from run to run%s%s\n",
			runs, np, ignore_out ? ", listed in " : "", ignore_out ? ignore_out : "");
	}
	*divergences = s.divergences;
	for (size_t i = 0; i < s.n; i++)
		free(s.items[i]);
	free(s.items);
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
	return ret;
}
