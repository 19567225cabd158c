#include "trace/trace_header.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_format.h"

int kt_tlv_put(struct kt_buf *b, uint16_t tag, const void *p, uint32_t len)
{
	struct kt_tlv t = { .tag = tag, .len = len };
	int ret = kt_buf_put(b, &t, sizeof(t));

	return ret ? ret : kt_buf_put(b, p, len);
}

int kt_tlv_next(const uint8_t *body, size_t body_len, size_t *pos, uint16_t *tag,
		const uint8_t **data, uint32_t *len)
{
	struct kt_tlv t;

	if (*pos >= body_len)
		return 0;
	if (body_len - *pos < sizeof(t))
		return -EBADMSG;
	memcpy(&t, body + *pos, sizeof(t));
	if (body_len - *pos - sizeof(t) < t.len)
		return -EBADMSG;
	*tag = t.tag;
	*data = body + *pos + sizeof(t);
	*len = t.len;
	*pos += sizeof(t) + t.len;
	return 1;
}

const void *kt_tlv_find(const uint8_t *body, size_t body_len, uint16_t tag,
			uint32_t *len)
{
	size_t pos = 0;
	const uint8_t *data;
	uint16_t t;

	while (kt_tlv_next(body, body_len, &pos, &t, &data, len) == 1)
		if (t == tag)
			return data;
	return NULL;
}

#define FIELD_ALIGN 8

static size_t field_room(uint32_t len)
{
	return ((size_t)len + 1 + FIELD_ALIGN - 1) & ~(size_t)(FIELD_ALIGN - 1);
}

/* Two passes: count and size the fields, then copy them aligned. */
int kt_header_parse(struct kt_header *h, const uint8_t *tlv, size_t len)
{
	size_t pos = 0, n = 0, room = 0, off = 0;
	const uint8_t *data = NULL;
	uint32_t flen = 0;
	uint16_t tag = 0;
	int ret;

	while ((ret = kt_tlv_next(tlv, len, &pos, &tag, &data, &flen)) == 1) {
		if (++n > KT_MAX_HEADER_FIELDS)
			return KT_E_LIMIT;  /* before allocating a field table for them */
		room += field_room(flen);
	}
	if (ret < 0)
		return ret;
	h->nfields = n;
	h->fields = calloc(n ? n : 1, sizeof(*h->fields));
	h->store = aligned_alloc(FIELD_ALIGN, room ? room : FIELD_ALIGN);
	if (!h->fields || !h->store) {
		kt_header_free(h);
		return -ENOMEM;
	}
	pos = 0;
	for (size_t i = 0; i < n; i++) {
		kt_tlv_next(tlv, len, &pos, &tag, &data, &flen);  /* checked above */
		memcpy(h->store + off, data, flen);
		memset(h->store + off + flen, 0, field_room(flen) - flen);
		h->fields[i] = (struct kt_hdr_field){ .tag = tag, .len = flen,
						      .data = h->store + off };
		off += field_room(flen);
	}
	return 0;
}

void kt_header_free(struct kt_header *h)
{
	free(h->fields);
	free(h->store);
	h->fields = NULL;
	h->store = NULL;
	h->nfields = 0;
}

const void *kt_header_find(const struct kt_header *h, uint16_t tag, uint32_t *len)
{
	for (size_t i = 0; i < h->nfields; i++)
		if (h->fields[i].tag == tag) {
			if (len)
				*len = h->fields[i].len;
			return h->fields[i].data;
		}
	return NULL;
}

const char *kt_header_string(const struct kt_header *h, uint16_t tag)
{
	return kt_header_find(h, tag, NULL);
}

/* A field of at least min bytes, or -ENOENT / -EBADMSG. */
static int sized(const struct kt_header *h, uint16_t tag, size_t min, const void **data,
		 uint32_t *len)
{
	if (!(*data = kt_header_find(h, tag, len)))
		return -ENOENT;
	return *len < min ? -EBADMSG : 0;
}

int kt_header_run_config(const struct kt_header *h, struct kt_run_config *rc)
{
	const void *data;
	uint32_t len;
	int ret = sized(h, KT_HDR_RUN_CONFIG, sizeof(*rc), &data, &len);

	if (!ret)
		memcpy(rc, data, sizeof(*rc));
	return ret;
}

int kt_header_guest_image(const struct kt_header *h, const uint8_t **image, size_t *len)
{
	const void *data;
	uint32_t flen = 0;
	int ret = sized(h, KT_HDR_GUEST_IMAGE, 0, &data, &flen);

	*image = data;
	*len = flen;
	return ret;
}

int kt_header_caps(const struct kt_header *h, const struct kt_cap_result **caps,
		   size_t *n)
{
	const void *data;
	uint32_t len;
	int ret = sized(h, KT_HDR_CAPS, 0, &data, &len);

	if (!ret && len % sizeof(**caps))
		ret = -EBADMSG;
	*caps = ret ? NULL : data;
	*n = ret ? 0 : len / sizeof(**caps);
	return ret;
}

int kt_header_cpuid(const struct kt_header *h, const struct kvm_cpuid2 **cpuid)
{
	const struct kvm_cpuid2 *c;
	const void *data;
	uint32_t len;
	int ret = sized(h, KT_HDR_SUPPORTED_CPUID, sizeof(*c), &data, &len);

	c = data;
	if (!ret && (len - sizeof(*c)) / sizeof(c->entries[0]) < c->nent)
		ret = -EBADMSG;
	*cpuid = ret ? NULL : c;
	return ret;
}
