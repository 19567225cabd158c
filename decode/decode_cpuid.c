/* struct kvm_cpuid2 and its entries (KVM_SET_CPUID2, KVM_GET_SUPPORTED_CPUID,
 * the header's supported CPUID). */
#include "decode/decode_util.h"

#include <linux/kvm.h>
#include <stdio.h>

#define E(member, fmt) KT_FIELD(struct kvm_cpuid_entry2, member, fmt)
static const struct kt_field_desc entry_fields[] = {
	E(function, KT_HEX), E(index, KT_DEC), E(flags, KT_HEX),
	E(eax, KT_HEX), E(ebx, KT_HEX), E(ecx, KT_HEX), E(edx, KT_HEX),
};

/* The APIC ID in leaves 1 and 0xB/0x1F is the host CPU that answered (for
 * KVM_GET_SUPPORTED_CPUID) or the vCPU's own: a field of its own, so diffs
 * can ignore it without ignoring the rest of the register. */
static void decode_entry(struct kt_sink *s, const void *p, size_t len)
{
	struct kvm_cpuid_entry2 e;

	if (kt_short(s, sizeof(e), len))
		return;
	memcpy(&e, p, sizeof(e));
	if (e.function == 1) {
		kt_dec(s, "apic_id", e.ebx >> 24);
		e.ebx &= 0x00ffffff;
	} else if (e.function == 0xb || e.function == 0x1f) {
		kt_dec(s, "x2apic_id", e.edx);
		e.edx = 0;
	}
	kt_emit_fields(s, entry_fields, COUNT(entry_fields), &e, sizeof(e));
}

void decode_kvm_cpuid2(struct kt_sink *s, const void *p, size_t len)
{
	const size_t head = offsetof(struct kvm_cpuid2, entries);
	const size_t esize = sizeof(struct kvm_cpuid_entry2);
	uint32_t nent;

	if (kt_short(s, head, len))
		return;
	nent = (uint32_t)kt_load(p, sizeof(nent));
	kt_dec(s, "nent", nent);
	/* Keyed by leaf and subleaf, not by position: a kernel that reports one
	 * more leaf must not shift every later entry in a diff. */
	s->ops->begin(s, "entries");
	for (size_t i = 0; i < nent && head + (i + 1) * esize <= len; i++) {
		const uint8_t *e = (const uint8_t *)p + head + i * esize;
		char key[32];

		snprintf(key, sizeof(key), "0x%08x.%u",
			 (unsigned)kt_load(e + offsetof(struct kvm_cpuid_entry2, function), 4),
			 (unsigned)kt_load(e + offsetof(struct kvm_cpuid_entry2, index), 4));
		kt_nested(s, key, decode_entry, e, esize);
	}
	s->ops->end(s);
	kt_short(s, head + (size_t)nent * esize, len);
}
