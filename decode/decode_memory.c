/* struct kvm_userspace_memory_region (KVM_SET_USER_MEMORY_REGION). */
#include "decode/decode_util.h"

#include <linux/kvm.h>

#define M(member, fmt) KT_FIELD(struct kvm_userspace_memory_region, member, fmt)
static const struct kt_field_desc region_fields[] = {
	M(slot, KT_DEC), M(flags, KT_HEX), M(guest_phys_addr, KT_HEX),
	M(memory_size, KT_HEX), M(userspace_addr, KT_HEX),
};

void decode_kvm_userspace_memory_region(struct kt_sink *s, const void *p, size_t len)
{
	kt_emit_fields(s, region_fields, COUNT(region_fields), p, len);
}
