#include "decode/decode_util.h"

void kt_emit_fields(struct kt_sink *s, const struct kt_field_desc *f, size_t n,
		    const void *p, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (kt_short(s, (size_t)f[i].offset + f[i].size, len))
			return;
		s->ops->u64(s, f[i].name, kt_load((const uint8_t *)p + f[i].offset, f[i].size),
			    f[i].fmt);
	}
}

bool kt_short(struct kt_sink *s, size_t need, size_t len)
{
	if (len >= need)
		return false;
	s->ops->str(s, "error", "short buffer");
	return true;
}

void kt_nested(struct kt_sink *s, const char *name, kt_decoder decode, const void *p,
	       size_t len)
{
	s->ops->begin(s, name);
	decode(s, p, len);
	s->ops->end(s);
}
