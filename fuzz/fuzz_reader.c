/* The trace reader on a whole file, as show, replay and diff use it: the
 * header decoded, every event read, the first DECODED of them decoded into
 * the JSON sink (the sink with the most to escape) and copied as the differ
 * and the replay lanes keep them.  Decoding every event of a long trace
 * would spend the fuzzer's time on the decoders, which fuzz_decode covers. */
#include <stdlib.h>

#include "decode/decode.h"
#include "decode/sink.h"
#include "fuzz/fuzz.h"
#include "trace/trace_reader.h"

#define MAX_EVENTS 100000
#define DECODED 64

static void header_fields(struct kt_reader *r, struct kt_sink *s)
{
	const struct kt_header *h = kt_reader_hdr(r);
	struct kt_run_config rc;
	const uint8_t *image;
	size_t len;
	const uint8_t *tlv = kt_reader_header(r, &len);

	decode_header(s, tlv, len);
	kt_header_run_config(h, &rc);
	kt_header_guest_image(h, &image, &len);
}

int kt_fuzz_reader(const uint8_t *data, size_t size)
{
	int fd = kt_fuzz_memfd(data, size), err = 0;
	struct kt_reader *r;
	struct kt_event ev;
	struct kt_sink s;

	if (fd < 0 || !(r = kt_reader_open_fd(fd, &err)))
		return 0;
	kt_sink_json(&s);
	header_fields(r, &s);
	for (unsigned n = 0; n < MAX_EVENTS && kt_reader_next(r, &ev) == 1; n++) {
		struct kt_event_copy *c;

		if (n >= DECODED && ev.type != KT_REC_END)
			continue;
		c = kt_event_copy(&ev, n);

		kt_sink_reset(&s);
		decode_event(&s, &ev);
		if (c) {
			struct kt_event v = kt_event_copy_view(c);

			kt_sink_reset(&s);
			decode_event(&s, &v);
			free(c);
		}
	}
	kt_sink_free(&s);
	kt_reader_close(r);
	return 0;
}

#ifdef KT_LIBFUZZER
#include "fuzz/frame_mutator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return kt_fuzz_reader(data, size);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	return kt_mutate_trace(data, size, max_size, seed);
}
#endif
