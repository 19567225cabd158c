/* struct kvm_regs: the general-purpose registers, rip and rflags. */
#include "decode/decode_util.h"

#include <linux/kvm.h>

#define R(member) KT_FIELD(struct kvm_regs, member, KT_HEX)
static const struct kt_field_desc regs_fields[] = {
	R(rax), R(rbx), R(rcx), R(rdx), R(rsi), R(rdi), R(rsp), R(rbp),
	R(r8), R(r9), R(r10), R(r11), R(r12), R(r13), R(r14), R(r15),
	R(rip), R(rflags),
};

void decode_kvm_regs(struct kt_sink *s, const void *p, size_t len)
{
	kt_emit_fields(s, regs_fields, COUNT(regs_fields), p, len);
}
