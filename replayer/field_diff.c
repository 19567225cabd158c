#include "replayer/field_diff.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

struct kt_pathset {
	struct kt_buf patterns;  /* char *[] */
};

#define NPATTERNS(set) kt_buf_count(&(set)->patterns, char *)
#define PATTERN(set, i) kt_buf_at(&(set)->patterns, char *, i)

struct kt_pathset *kt_pathset_new(void)
{
	return calloc(1, sizeof(struct kt_pathset));
}

void kt_pathset_free(struct kt_pathset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < NPATTERNS(set); i++)
		free(PATTERN(set, i));
	kt_buf_free(&set->patterns);
	free(set);
}

int kt_pathset_add(struct kt_pathset *set, const char *pattern)
{
	char *copy = strdup(pattern);

	if (!copy || kt_buf_put(&set->patterns, &copy, sizeof(copy))) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

int kt_pathset_load(struct kt_pathset *set, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[512];

	if (!f)
		return kt_fail(-errno, "%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		p[strcspn(p, "\r\n")] = 0;
		if (*p && *p != '#' && kt_pathset_add(set, p)) {
			fclose(f);
			return kt_fail(-ENOMEM, "%s: out of memory", file);
		}
	}
	fclose(f);
	return 0;
}

bool kt_pathset_match(const struct kt_pathset *set, const char *path)
{
	if (!set)
		return false;
	for (size_t i = 0; i < NPATTERNS(set); i++)
		if (fnmatch(PATTERN(set, i), path, 0) == 0)
			return true;
	return false;
}

static bool wanted(const char *path, const struct kt_pathset *ignore,
		   const struct kt_pathset *only)
{
	return !kt_pathset_match(ignore, path) && (!only || kt_pathset_match(only, path));
}

static const struct kt_field *find(const struct kt_field *f, size_t n, size_t hint,
				   const char *path)
{
	if (hint < n && !strcmp(f[hint].path, path))
		return &f[hint];
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].path, path))
			return &f[i];
	return NULL;
}

/* Both lists come from the same decoders, so they are almost always in the
 * same order: look at the same position first, search only when not. */
size_t kt_field_diff(const struct kt_field *a, size_t na, const struct kt_field *b,
		     size_t nb, const struct kt_pathset *ignore,
		     const struct kt_pathset *only, kt_field_report report, void *ctx)
{
	size_t count = 0;

	for (size_t i = 0; i < na; i++) {
		const struct kt_field *other = find(b, nb, i, a[i].path);

		if (other && !strcmp(other->value, a[i].value))
			continue;
		if (!wanted(a[i].path, ignore, only))
			continue;
		report(ctx, a[i].path, a[i].value, other ? other->value : NULL);
		count++;
	}
	for (size_t i = 0; i < nb; i++) {
		if (find(a, na, i, b[i].path) || !wanted(b[i].path, ignore, only))
			continue;
		report(ctx, b[i].path, NULL, b[i].value);
		count++;
	}
	return count;
}

int kt_sink_diff(struct kt_sink *a, struct kt_sink *b, const struct kt_pathset *ignore,
		 const struct kt_pathset *only, kt_field_report report, void *ctx,
		 size_t *count)
{
	size_t na = kt_sink_nfields(a), nb = kt_sink_nfields(b), n = 0;
	struct kt_field *fa = malloc((na + 1) * sizeof(*fa));
	struct kt_field *fb = malloc((nb + 1) * sizeof(*fb));
	int ret = 0;

	if (fa && fb) {
		kt_sink_fields(a, fa, na);
		kt_sink_fields(b, fb, nb);
		n = kt_field_diff(fa, na, fb, nb, ignore, only, report, ctx);
	} else {
		ret = kt_fail(-ENOMEM, "out of memory comparing fields");
	}
	free(fa);
	free(fb);
	if (count)
		*count = n;
	return ret;
}
