#include "replayer/field_diff.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"

struct kt_pathset {
	char **patterns;
	size_t n, cap;
};

struct kt_pathset *kt_pathset_new(void)
{
	return calloc(1, sizeof(struct kt_pathset));
}

void kt_pathset_free(struct kt_pathset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		free(set->patterns[i]);
	free(set->patterns);
	free(set);
}

int kt_pathset_add(struct kt_pathset *set, const char *pattern)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;
		char **p = realloc(set->patterns, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		set->patterns = p;
		set->cap = cap;
	}
	if (!(set->patterns[set->n] = strdup(pattern)))
		return -ENOMEM;
	set->n++;
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
	for (size_t i = 0; i < set->n; i++)
		if (fnmatch(set->patterns[i], path, 0) == 0)
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
