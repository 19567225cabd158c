/* The header record's TLV fields, by a table of tags. */
#include "decode/decode_util.h"

#include <stdio.h>

#include "common/kvm_names.h"
#include "decode/kexit.h"
#include "trace/trace_format.h"

/* A string field, cut at 511 bytes (kernel versions, CPU names). */
static void hdr_string(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	char buf[512];
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;

	memcpy(buf, p, n);
	buf[n] = 0;
	s->ops->str(s, name, buf);
}

static void hdr_hex(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	char buf[2 * 64 + 1];

	kt_hex_string(buf, p, len < 64 ? len : 64);
	s->ops->str(s, name, buf);
}

static void hdr_u32(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	if (!kt_short(s, 4, len))
		s->ops->i64(s, name, (int32_t)kt_load(p, 4));
}

static void hdr_u64(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	if (!kt_short(s, 8, len))
		kt_dec(s, name, kt_load(p, 8));
}

/* 1 on, 0 off; anything else by number. */
static void hdr_on_off(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	uint64_t v;

	if (kt_short(s, 4, len))
		return;
	v = kt_load(p, 4);
	if (v <= 1)
		s->ops->str(s, name, v ? "on" : "off");
	else
		kt_dec(s, name, v);
}

/* The image itself is shown by size: its hash is a field of its own. */
static void hdr_size(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	(void)p;
	kt_dec(s, name, len);
}

/* Each capability by name, so a diff says which one changed. */
static void hdr_caps(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	s->ops->begin(s, name);
	for (uint32_t i = 0; i + sizeof(struct kt_cap_result) <= len;
	     i += sizeof(struct kt_cap_result)) {
		struct kt_cap_result c;
		const char *cap;
		char key[32] = "cap";

		memcpy(&c, p + i, sizeof(c));
		cap = kvm_cap_name(c.cap);
		if (!cap) {
			kt_fmt_u64(key + 3, c.cap, KT_DEC);
			cap = key;
		}
		s->ops->i64(s, cap, c.result);
	}
	s->ops->end(s);
}

static void hdr_struct(struct kt_sink *s, const char *name, kt_decoder decode,
		       const uint8_t *p, uint32_t len)
{
	kt_nested(s, name, decode, p, len);
}

static void hdr_cpuid(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	hdr_struct(s, name, decode_kvm_cpuid2, p, len);
}

static void hdr_run_config(struct kt_sink *s, const char *name, const uint8_t *p,
			   uint32_t len)
{
	hdr_struct(s, name, decode_kt_run_config, p, len);
}

static void hdr_signature(struct kt_sink *s, const char *name, const uint8_t *p,
			  uint32_t len)
{
	hdr_struct(s, name, decode_kt_cpu_signature, p, len);
}

static void hdr_kexits(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	hdr_struct(s, name, decode_kexits_hdr, p, len);
}

/* A foreign VMM's flags (trace/trace_format.h, KT_FOREIGN_*). */
static const struct kt_flag_name foreign_flags[] = {
	{ KT_FOREIGN_MEM_SLOTS, "MEM_SLOTS" }, { KT_FOREIGN_MEM_CHANGES, "MEM_CHANGES" },
	{ KT_FOREIGN_SYNC_REGS, "SYNC_REGS" }, { 0, NULL },
};

static void hdr_foreign(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	if (kt_short(s, sizeof(struct kt_foreign_hdr), len))
		return;
	s->ops->begin(s, name);
	s->ops->flags(s, "flags", (uint32_t)kt_load(p, 4), foreign_flags);
	s->ops->end(s);
}

/* Whether the len bytes at w (not NUL-terminated: the last word of a
 * damaged field may run to its end) need quotes to read as one word. */
static bool word_needs_quote(const char *w, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++)
		if (memchr(" \t'\"", w[i], 4))
			return true;
	return false;
}

/* argv, NUL-separated: one string, the words apart by blanks and quoted
 * where they hold one, cut at 1 KiB. */
static void hdr_argv(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	char buf[1024];
	size_t n = 0;

	for (uint32_t i = 0; i < len && n + 4 < sizeof(buf);) {
		const char *w = (const char *)p + i;
		size_t wl = strnlen(w, len - i);
		bool quote = word_needs_quote(w, wl);

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s%.*s%s", n ? " " : "",
				      quote ? "'" : "", (int)wl, w, quote ? "'" : "");
		i += (uint32_t)wl + 1;
	}
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = 0;
	s->ops->str(s, name, buf);
}

static const struct {
	uint16_t tag;
	const char *name;
	void (*decode)(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len);
} tags[] = {
	{ KT_HDR_KVMTRACE_VERSION, "kvmtrace_version", hdr_string },
	{ KT_HDR_KERNEL_RELEASE, "kernel_release", hdr_string },
	{ KT_HDR_KERNEL_VERSION, "kernel_version", hdr_string },
	{ KT_HDR_CPU_VENDOR, "cpu_vendor", hdr_string },
	{ KT_HDR_CPU_SIGNATURE, "cpu_signature", hdr_signature },
	{ KT_HDR_API_VERSION, "api_version", hdr_u32 },
	{ KT_HDR_CAPS, "caps", hdr_caps },
	{ KT_HDR_SUPPORTED_CPUID, "cpuid", hdr_cpuid },
	{ KT_HDR_VCPU_MMAP_SIZE, "vcpu_mmap_size", hdr_u32 },
	{ KT_HDR_RUN_CONFIG, "run", hdr_run_config },
	{ KT_HDR_GUEST_NAME, "guest_name", hdr_string },
	{ KT_HDR_GUEST_SHA256, "guest_sha256", hdr_hex },
	{ KT_HDR_GUEST_IMAGE, "guest_image_bytes", hdr_size },
	{ KT_HDR_RECORDED_AT, "recorded_at_ns", hdr_u64 },
	{ KT_HDR_CPU_MODEL_NAME, "cpu_model_name", hdr_string },
	{ KT_HDR_KVM_BACKEND, "kvm_backend", hdr_string },
	{ KT_HDR_SANDBOX, "sandbox", hdr_on_off },
	{ KT_HDR_KEXITS, "kexits", hdr_kexits },
	{ KT_HDR_KEXITS_INFO, "kexits_info", hdr_string },
	{ KT_HDR_FOREIGN, "foreign", hdr_foreign },
	{ KT_HDR_COMMAND_LINE, "command_line", hdr_argv },
};

static void hdr_field(struct kt_sink *s, uint16_t tag, const uint8_t *p, uint32_t len)
{
	char key[16] = "tag";

	for (size_t i = 0; i < COUNT(tags); i++)
		if (tags[i].tag == tag) {
			tags[i].decode(s, tags[i].name, p, len);
			return;
		}
	/* a newer minor version's field: kept, by number */
	kt_fmt_u64(key + 3, tag, KT_DEC);
	s->ops->bytes(s, key, p, len);
}

void decode_header(struct kt_sink *s, const uint8_t *tlv, size_t len)
{
	size_t pos = 0;
	const uint8_t *data;
	uint32_t flen;
	uint16_t tag;
	int ret;

	while ((ret = kt_tlv_next(tlv, len, &pos, &tag, &data, &flen)) == 1)
		hdr_field(s, tag, data, flen);
	if (ret < 0)
		s->ops->str(s, "error", "damaged header field");
}
