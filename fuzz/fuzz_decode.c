/* Every decoder on bytes shaped as the reader hands them out.  The first
 * byte picks the decoder:
 *   0  decode_event: byte 1 the record type, 2-3 the vCPU, the rest the
 *      body, made to keep the reader's promises (a known type's minimum
 *      length, an ioctl's in_len + out_len adding up, a digest's hashes
 *      all there, 8-byte alignment) since decoders rely on those
 *   1  decode_header on a TLV body
 *   2  decode_ioctl_args: bytes 1-4 the request, 5-8 how much is "in",
 *      the rest in then out
 *   3  decode_exit_payload and decode_run_exit on a kt_run_out
 * each into the text, JSON and flat sinks. */
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/sink.h"
#include "fuzz/fuzz.h"
#include "trace/trace_reader.h"

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The reader's minimum body per type (trace/trace_reader.c min_len). */
static size_t min_body(uint8_t type)
{
	switch (type) {
	case KT_REC_IOCTL: return sizeof(struct kt_ioctl_body);
	case KT_REC_SNAPSHOT: return sizeof(struct kt_snapshot_body);
	case KT_REC_MEMWRITE: return sizeof(uint64_t);
	case KT_REC_DIGEST: return sizeof(struct kt_digest_body);
	case KT_REC_END: return sizeof(struct kt_end_body);
	default: return 0;
	}
}

/* Make body (len bytes, writable) a record of type the reader would hand
 * out; false when it cannot be one. */
static bool reader_shape(uint8_t type, uint8_t *body, size_t len)
{
	if (len < min_body(type))
		return false;
	if (type == KT_REC_IOCTL) {
		struct kt_ioctl_body b;
		size_t rest = len - sizeof(b);

		memcpy(&b, body, sizeof(b));
		b.in_len = (uint32_t)(rest ? b.in_len % (rest + 1) : 0);
		b.out_len = (uint32_t)(rest - b.in_len);
		memcpy(body, &b, sizeof(b));
	} else if (type == KT_REC_DIGEST) {
		struct kt_digest_body d;

		memcpy(&d, body, sizeof(d));
		if ((len - sizeof(d)) / sizeof(uint64_t) < d.npages)
			d.npages = (uint32_t)((len - sizeof(d)) / sizeof(uint64_t));
		memcpy(body, &d, sizeof(d));
	}
	return true;
}

typedef void (*sink_init)(struct kt_sink *s);
static const sink_init sinks[] = { kt_sink_text, kt_sink_json, kt_sink_flat };

static void each_sink(void (*fn)(struct kt_sink *s, const uint8_t *p, size_t n, void *ctx),
		      const uint8_t *p, size_t n, void *ctx)
{
	for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++) {
		struct kt_sink s;

		sinks[i](&s);
		fn(&s, p, n, ctx);
		kt_sink_str(&s);
		kt_sink_free(&s);
	}
}

static void one_event(struct kt_sink *s, const uint8_t *p, size_t n, void *ctx)
{
	const struct kt_event *ev = ctx;

	(void)p;
	(void)n;
	decode_event(s, ev);
}

static void event(const uint8_t *data, size_t size)
{
	uint8_t type;
	uint16_t vcpu;
	uint8_t *body;
	size_t len;
	struct kt_event ev;

	if (size < 3)
		return;
	type = data[0];
	memcpy(&vcpu, data + 1, sizeof(vcpu));
	len = size - 3;
	/* malloc: the alignment a frame buffer gives a record body */
	if (!(body = malloc(len ? len : 1)))
		return;
	memcpy(body, data + 3, len);
	if (min_body(type) ? reader_shape(type, body, len) :
	    type != 0 && type != KT_REC_HEADER) {
		if (min_body(type))
			ev = kt_event_view(type, vcpu, body, (uint32_t)len);
		else  /* a newer minor's record type: handed out raw */
			ev = (struct kt_event){ .type = type, .vcpu = vcpu, .body = body,
						.len = (uint32_t)len };
		each_sink(one_event, NULL, 0, &ev);
	}
	free(body);
}

static void header(struct kt_sink *s, const uint8_t *p, size_t n, void *ctx)
{
	(void)ctx;
	decode_header(s, p, n);
}

static void ioctl_args(struct kt_sink *s, const uint8_t *p, size_t n, void *ctx)
{
	uint32_t req, in_len;

	(void)ctx;
	if (n < 8)
		return;
	req = load32(p);
	in_len = load32(p + 4) % (uint32_t)(n - 8 + 1);
	decode_ioctl_args(s, req, p + 8, in_len, p + 8 + in_len, n - 8 - in_len);
}

static void exit_payload(struct kt_sink *s, const uint8_t *p, size_t n, void *ctx)
{
	(void)ctx;
	decode_exit_payload(s, p, n);
	decode_run_exit(s, p, n);
}

/* Copied to the heap first, so that ASan sees a read past the end. */
static void on_heap(void (*fn)(struct kt_sink *s, const uint8_t *p, size_t n, void *ctx),
		    const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return;
	memcpy(copy, data, size);
	each_sink(fn, copy, size, NULL);
	free(copy);
}

int kt_fuzz_decode(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: event(data + 1, size - 1); break;
	case 1: on_heap(header, data + 1, size - 1); break;
	case 2: on_heap(ioctl_args, data + 1, size - 1); break;
	case 3: on_heap(exit_payload, data + 1, size - 1); break;
	}
	return 0;
}

#ifdef KT_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return kt_fuzz_decode(data, size);
}
#endif
