/* The header record's TLV fields (trace/trace_format.h), built and read. */
#ifndef KVMTRACE_TRACE_HEADER_H
#define KVMTRACE_TRACE_HEADER_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "trace/trace_format.h"

/* Append one field.  0 or -ENOMEM. */
int kt_tlv_put(struct kt_buf *b, uint16_t tag, const void *p, uint32_t len);

/* The first field with tag in a TLV body, or NULL.  *len gets its length. */
const void *kt_tlv_find(const uint8_t *body, size_t body_len, uint16_t tag,
			uint32_t *len);

/* Walk the fields: start with *pos = 0; returns 1 and fills tag/data/len,
 * 0 at the end, -EBADMSG for a field that overruns the body. */
int kt_tlv_next(const uint8_t *body, size_t body_len, size_t *pos, uint16_t *tag,
		const uint8_t **data, uint32_t *len);

/* A parsed header record.  Every field's data is copied 8-byte aligned and
 * followed by a NUL, so typed and string fields can be used in place. */
struct kt_hdr_field {
	uint16_t tag;         /* enum kt_hdr_tag, or a newer one */
	uint32_t len;
	const void *data;
};

struct kt_header {
	uint16_t major, minor;      /* from the file magic */
	size_t nfields;
	struct kt_hdr_field *fields; /* in file order */
	uint8_t *store;
};

/* 0, -EBADMSG (a field overruns the body), KT_E_LIMIT (more than
 * KT_MAX_HEADER_FIELDS fields) or -ENOMEM. */
int kt_header_parse(struct kt_header *h, const uint8_t *tlv, size_t len);
void kt_header_free(struct kt_header *h);

/* The first field with tag, or NULL; *len (if not NULL) gets its length. */
const void *kt_header_find(const struct kt_header *h, uint16_t tag, uint32_t *len);
/* A string field, NUL-terminated, or NULL when absent. */
const char *kt_header_string(const struct kt_header *h, uint16_t tag);

/* The typed fields.  -ENOENT when absent, -EBADMSG when malformed.  A field
 * longer than this build's struct (a newer minor) is cut to it; a shorter one
 * is malformed. */
int kt_header_run_config(const struct kt_header *h, struct kt_run_config *rc);
int kt_header_guest_image(const struct kt_header *h, const uint8_t **image,
			  size_t *len);
int kt_header_caps(const struct kt_header *h, const struct kt_cap_result **caps,
		   size_t *n);
/* The probed KVM_GET_SUPPORTED_CPUID; nent checked against the length. */
int kt_header_cpuid(const struct kt_header *h, const struct kvm_cpuid2 **cpuid);

#endif
