/* kvmtrace replay --runs N: replay N times and list the fields whose
 * replayed values change from run to run, as an ignore file. */
#include "replayer/run_fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"

/* Every divergence of every run, as "event \t path \t value \t run". */
struct seen {
	struct kt_buf items;  /* char *[] */
	unsigned run;
	uint64_t divergences;
};

#define NITEMS(s) kt_buf_count(&(s)->items, char *)
#define ITEMS(s) ((char **)(void *)(s)->items.data)

static void collect(void *ctx, const struct kt_divergence *d, bool env)
{
	struct seen *s = ctx;
	char *item;

	if (env)
		return;
	s->divergences++;
	if (asprintf(&item, "%" PRIu64 "\t%s\t%s\t%u", d->event, d->path,
		     d->replayed ? d->replayed : "(absent)", s->run) >= 0 &&
	    kt_buf_put(&s->items, &item, sizeof(item)))
		free(item);
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
	size_t n = NITEMS(s), np = 0;
	char **items = ITEMS(s), **paths = calloc(n + 1, sizeof(*paths));

	if (n)
		qsort(items, n, sizeof(*items), by_string);
	for (size_t i = 0, j; paths && i < n; i = j) {
		size_t k = key_len(items[i]);

		for (j = i + 1; j < n && key_len(items[j]) == k &&
				!strncmp(items[i], items[j], k); j++)
			;
		if (j - i < runs)
			paths[np++] = path_of(items[i]);
	}
	qsort(paths, np, sizeof(*paths), by_string);
	*out = paths;
	return np;
}

static int put_line(struct kt_buf *b, const char *a, const char *c)
{
	int ret = kt_buf_put(b, a, strlen(a));

	return ret ? ret : kt_buf_put(b, c, strlen(c));
}

/* Built whole, then written with write(): a stdio stream on a new fd would
 * fstat() it, which the sandbox forbids. */
static int write_ignore(const char *file, int fd, const char *trace, unsigned runs,
			char **paths, size_t n)
{
	struct kt_buf b = { 0 };
	char head[128];
	int ret;

	snprintf(head, sizeof(head), "# kvmtrace ignore file: fields that changed from run "
		 "to run in %u replays of ", runs);
	ret = put_line(&b, head, trace);
	for (size_t i = 0; i < n && !ret; i++)
		if (!i || strcmp(paths[i], paths[i - 1]))
			ret = put_line(&b, "\n", paths[i]);
	if (!ret)
		ret = kt_buf_put(&b, "\n", 1);
	if (!ret && !file) {
		fwrite(b.data, 1, b.len, stdout);
		ret = fflush(stdout) ? -errno : 0;
	} else if (!ret) {
		ret = kt_write_all(fd, b.data, b.len);
	}
	kt_buf_free(&b);
	return ret ? kt_fail(ret, "%s: %s", file ? file : "stdout", strerror(-ret)) : 0;
}

int kt_replay_runs(struct kt_replay_opts *o, unsigned runs, const char *ignore_out,
		   int out_fd, uint64_t *divergences)
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
		ret = write_ignore(ignore_out, out_fd, o->trace, runs, paths, np);
		fprintf(stderr, "kvmtrace: %u replays: %zu fields changed from run to run%s%s\n",
			runs, np, ignore_out ? ", listed in " : "", ignore_out ? ignore_out : "");
	}
	*divergences = s.divergences;
	for (size_t i = 0; i < NITEMS(&s); i++)
		free(ITEMS(&s)[i]);
	kt_buf_free(&s.items);
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
	return ret;
}
