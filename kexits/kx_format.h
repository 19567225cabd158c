/* The tracefs format file of one tracepoint (events/SYSTEM/NAME/format)
 * parsed, and the copy plan built from it (what kexits' BPF program reads
 * where).  Pure functions: the unit tests feed them saved format files. */
#ifndef KEXITS_KX_FORMAT_H
#define KEXITS_KX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "kexits/kx_abi.h"

#define KX_TP_MAX_FIELDS 48

struct kx_tp_field {
	char name[40];
	uint16_t offset;
	uint16_t size;
	uint8_t is_signed;
	uint8_t is_array;     /* declared NAME[N] */
};

struct kx_tp_format {
	char name[64];
	uint32_t id;
	unsigned nfields;     /* common_* fields included */
	struct kx_tp_field fields[KX_TP_MAX_FIELDS];
};

/* Parse a format file's text.  -EINVAL (with kt_last_error()) if it is not
 * one: no name, a field line without offset/size, too many fields. */
int kx_format_parse(const char *text, struct kx_tp_format *out);
const struct kx_tp_field *kx_format_field(const struct kx_tp_format *f, const char *name);


#endif
