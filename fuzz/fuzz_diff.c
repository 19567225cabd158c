/* The differ on two traces cut from one input: bytes 0-3 say how long the
 * old trace is (cut short by the input's end), the new one is the rest.  Both go
 * through the reader on memfds, as `kvmtrace diff` reads its files, with
 * the default ignores. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "replayer/field_diff.h"
#include "replayer/replay.h"
#include "replayer/trace_diff.h"

static void ignore_item(void *ctx, const struct kt_diff_item *d)
{
	(void)ctx;
	(void)d;
}

int kt_fuzz_diff(const uint8_t *data, size_t size)
{
	struct kt_diff_opts o = { .old_path = "old", .new_path = "new", .have_fds = true,
				  .report = ignore_item };
	struct kt_diff_result res;
	struct kt_pathset *ignore;
	uint32_t cut;

	if (size < 4)
		return 0;
	memcpy(&cut, data, sizeof(cut));
	data += 4;
	size -= 4;
	cut = cut < size ? cut : (uint32_t)size;
	if (!(ignore = kt_pathset_new()))
		return 0;
	for (unsigned i = 0; kt_default_ignores[i]; i++)
		kt_pathset_add(ignore, kt_default_ignores[i]);
	o.ignore = ignore;
	o.old_fd = kt_fuzz_memfd(data, cut);
	o.new_fd = kt_fuzz_memfd(data + cut, size - cut);
	if (o.old_fd >= 0 && o.new_fd >= 0)
		kt_trace_diff(&o, &res);
	else {
		if (o.old_fd >= 0)
			close(o.old_fd);
		if (o.new_fd >= 0)
			close(o.new_fd);
	}
	kt_pathset_free(ignore);
	return 0;
}

#ifdef KT_LIBFUZZER
#include "fuzz/frame_mutator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return kt_fuzz_diff(data, size);
}

/* Mutate one of the two traces (frame-aware) and keep the cut in step. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	uint32_t cut;
	size_t n, head = sizeof(cut);

	if (size < head || max_size < head)
		return LLVMFuzzerMutate(data, size, max_size);
	memcpy(&cut, data, sizeof(cut));
	if (cut > size - head)
		cut = (uint32_t)(size - head);
	if (seed & 1) {  /* the old trace: what follows moves with it */
		size_t rest = size - head - cut;
		uint8_t *tail = malloc(rest ? rest : 1);

		if (!tail)
			return size;
		memcpy(tail, data + head + cut, rest);
		n = kt_mutate_trace(data + head, cut, max_size - head - rest, seed >> 1);
		memcpy(data + head + n, tail, rest);
		free(tail);
		cut = (uint32_t)n;
		n = head + n + rest;
	} else {
		n = head + cut + kt_mutate_trace(data + head + cut, size - head - cut,
						 max_size - head - cut, seed >> 1);
	}
	memcpy(data, &cut, sizeof(cut));
	return n;
}
#endif
