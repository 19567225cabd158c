#include "trace/trace_delta.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { PART_IN = 1, PART_OUT = 2 };

/* kt_xor_key() puts the record type in bits 16..23; these keys leave those
 * bits 0 (no record type), so they never collide with it. */
static uint64_t part_key(uint16_t vcpu, uint32_t request, unsigned part)
{
	return (uint64_t)request << 32 | (uint64_t)part << 24 | vcpu;
}

/* The ioctl body's clocks grow by a near-constant step: their difference
 * compresses, their XOR does not.  So in the fixed part they are stored as
 * the difference (mod 2^64) from the predecessor's, the rest as XOR. */
static const size_t clock_off[] = {
	offsetof(struct kt_ioctl_body, t_start_ns),
	offsetof(struct kt_ioctl_body, dur_ns),
};

static void clocks(uint8_t *p, const uint8_t *stored, const uint8_t *prev)
{
	for (size_t i = 0; i < sizeof(clock_off) / sizeof(clock_off[0]); i++) {
		uint64_t v, before;

		memcpy(&v, stored + clock_off[i], sizeof(v));
		memcpy(&before, prev + clock_off[i], sizeof(before));
		v += before;
		memcpy(p + clock_off[i], &v, sizeof(v));
	}
}

static void xor_in(uint8_t *restrict p, const uint8_t *restrict prev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= prev[i];
}

static int delta_decode(struct kt_xor_slot *s, uint8_t *p, size_t len, bool fixed)
{
	size_t n = len < s->len ? len : s->len;

	if (fixed && n == sizeof(struct kt_ioctl_body)) {
		uint8_t stored[sizeof(struct kt_ioctl_body)];

		memcpy(stored, p, sizeof(stored));
		xor_in(p, s->prev, n);
		clocks(p, stored, s->prev);
	} else {
		xor_in(p, s->prev, n);
	}
	return kt_xor_remember(s, p, len);
}

static int part_decode(struct kt_xor_table *t, uint64_t key, uint8_t *p, size_t len,
		       bool fixed, bool delta, bool *xored)
{
	int had_prev;
	struct kt_xor_slot *s = kt_xor_lookup(t, key, &had_prev);

	if (!s)
		return 0;
	if (had_prev && delta) {
		*xored = true;
		return delta_decode(s, p, len, fixed);
	}
	return kt_xor_remember(s, p, len);
}

/* The fixed ioctl body as plain values; the caller has made it plain. */
static void ioctl_lengths(const uint8_t *body, uint32_t *request, uint64_t *in_len,
			  uint64_t *out_len)
{
	struct kt_ioctl_body b;

	memcpy(&b, body, sizeof(b));
	*request = b.request;
	*in_len = b.in_len;
	*out_len = b.out_len;
}

int kt_delta_decode(struct kt_xor_table *t, const struct kt_rec_hdr *h, uint8_t *body)
{
	const size_t fixed = sizeof(struct kt_ioctl_body);
	uint64_t key = kt_xor_key(h->type, h->vcpu), in_len, out_len;
	bool delta = h->flags & KT_RF_XOR, xored = false;
	uint32_t request;
	int ret;

	if (h->type != KT_REC_IOCTL || h->len < fixed) {
		ret = part_decode(t, key, body, h->len, false, delta, &xored);
	} else {
		if ((ret = part_decode(t, key, body, fixed, true, delta, &xored)))
			return ret;
		ioctl_lengths(body, &request, &in_len, &out_len);
		if (fixed + in_len + out_len != h->len)
			return KT_E_CORRUPT;
		if (!(ret = part_decode(t, part_key(h->vcpu, request, PART_IN),
					body + fixed, in_len, false, delta, &xored)))
			ret = part_decode(t, part_key(h->vcpu, request, PART_OUT),
					  body + fixed + in_len, out_len, false, delta, &xored);
	}
	if (!ret && delta && !xored)
		return KT_E_CORRUPT;  /* a delta against nothing */
	return ret;
}
