/* struct kvm_msrs (KVM_GET_MSRS / KVM_SET_MSRS) and struct kvm_msr_list
 * (KVM_GET_MSR_INDEX_LIST, KVM_GET_MSR_FEATURE_INDEX_LIST). */
#include "decode/decode_util.h"

#include <linux/kvm.h>

static const struct kt_field_desc entry_fields[] = {
	KT_FIELD(struct kvm_msr_entry, index, KT_HEX),
	KT_FIELD(struct kvm_msr_entry, data, KT_HEX),
};

static void decode_entry(struct kt_sink *s, const void *p, size_t len)
{
	kt_emit_fields(s, entry_fields, COUNT(entry_fields), p, len);
}

void decode_kvm_msrs(struct kt_sink *s, const void *p, size_t len)
{
	const size_t head = offsetof(struct kvm_msrs, entries);
	const size_t esize = sizeof(struct kvm_msr_entry);
	uint32_t n;

	if (kt_short(s, head, len))
		return;
	n = (uint32_t)kt_load(p, sizeof(n));
	kt_dec(s, "nmsrs", n);
	s->ops->array(s, "entries");
	for (size_t i = 0; i < n && head + (i + 1) * esize <= len; i++)
		kt_nested(s, NULL, decode_entry, (const uint8_t *)p + head + i * esize, esize);
	s->ops->end(s);
	kt_short(s, head + (size_t)n * esize, len);
}

void decode_kvm_msr_list(struct kt_sink *s, const void *p, size_t len)
{
	const size_t head = offsetof(struct kvm_msr_list, indices);
	const uint8_t *idx = (const uint8_t *)p + head;
	uint32_t n;

	if (kt_short(s, head, len))
		return;
	n = (uint32_t)kt_load(p, sizeof(n));
	kt_dec(s, "nmsrs", n);
	s->ops->array(s, "indices");
	for (size_t i = 0; i < n && head + (i + 1) * 4 <= len; i++)
		kt_hex(s, NULL, kt_load(idx + i * 4, 4));
	s->ops->end(s);
	kt_short(s, head + (size_t)n * 4, len);
}
