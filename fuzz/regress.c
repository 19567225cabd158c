/* fuzz-regress FILE...: run each reproducer through the fuzz target its
 * directory names (fuzz/regressions/TARGET/FILE), as libFuzzer did when it
 * found it.  Built by the normal compiler; under make SANITIZE=1 with
 * ASan+UBSan, which is where a regression shows.  Exit status 0 when every
 * file ran (a crash ends the process), 2 for a file it cannot place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

const struct kt_fuzz_target kt_fuzz_targets[] = {
	{ "reader", kt_fuzz_reader },
	{ "decode", kt_fuzz_decode },
	{ "header", kt_fuzz_header },
	{ "diff", kt_fuzz_diff },
	{ NULL, NULL },
};

static const struct kt_fuzz_target *target_of(const char *path)
{
	const char *end = strrchr(path, '/'), *start;

	if (!end)
		return NULL;
	for (start = end; start > path && start[-1] != '/'; start--)
		;
	for (const struct kt_fuzz_target *t = kt_fuzz_targets; t->name; t++)
		if (strlen(t->name) == (size_t)(end - start) &&
		    !strncmp(t->name, start, (size_t)(end - start)))
			return t;
	return NULL;
}

static int slurp(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(*data = malloc((size_t)n + 1)) || fread(*data, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*size = (size_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const struct kt_fuzz_target *t = target_of(argv[i]);
		uint8_t *data = NULL;
		size_t size = 0;

		if (!t || slurp(argv[i], &data, &size)) {
			fprintf(stderr, "fuzz-regress: %s: %s\n", argv[i],
				t ? "cannot read it" : "not under regressions/TARGET/");
			return 2;
		}
		t->run(data, size);
		free(data);
		printf("%s: %s ok (%zu bytes)\n", t->name, argv[i], size);
	}
	return 0;
}
