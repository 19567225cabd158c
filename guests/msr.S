/* MSRs KVM handles in the kernel (no userspace exit): WRMSR then RDMSR
 * round trips of MSR_KERNEL_GS_BASE and MSR_IA32_SYSENTER_CS, then an
 * RDMSR of an MSR nobody implements, which must raise #GP: the guest's
 * own IDT catches it and skips the instruction.  Read-back values land at
 * 0x400 and 0x408, the #GP count at 0x410; RAX = checks passed (3). */
#include "guests/guest_lib.h"

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_KERNEL_GS_BASE    0xc0000102
#define MSR_NONEXISTENT       0xdeadbeef
#define GS_BASE_VALUE         0xffff800012345678	/* canonical */
#define SYSENTER_CS_VALUE     0x10
#define GP_VECTOR             13
#define RDMSR_LEN             2

	GUEST_ENTRY 64
main:
	mov $GP_VECTOR, %edi
	lea gp_handler(%rip), %rsi
	call set_gate
	lidt idtr(%rip)
	xor %ebx, %ebx			/* checks passed */

	mov $MSR_KERNEL_GS_BASE, %ecx
	movabs $GS_BASE_VALUE, %rax
	call roundtrip
	mov %rax, 0x400
	lea gs_msg(%rip), %rsi
	call report

	mov $MSR_IA32_SYSENTER_CS, %ecx
	mov $SYSENTER_CS_VALUE, %eax
	call roundtrip
	mov %rax, 0x408
	lea cs_msg(%rip), %rsi
	call report

	mov $MSR_NONEXISTENT, %ecx
	rdmsr
	cmpq $1, 0x410
	lea gp_msg(%rip), %rsi
	call report

	mov %rbx, %rax
	HALT_FOREVER

/* WRMSR %rax to MSR %ecx, read it back into %rax; ZF set if equal. */
roundtrip:
	push %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr
	rdmsr
	shl $32, %rdx
	mov %eax, %eax
	or %rdx, %rax
	cmp (%rsp), %rax
	pop %rdx
	ret

/* "<name> ok" or "<name> FAILED" by ZF; counts passes in %rbx. */
report:
	pushf
	call puts
	popf
	lea failed(%rip), %rsi
	jne 1f
	inc %rbx
	lea passed(%rip), %rsi
1:	jmp puts

/* #GP pushes an error code; skip the faulting RDMSR. */
gp_handler:
	add $8, %rsp
	addq $RDMSR_LEN, (%rsp)
	incq 0x410
	iretq

	DEFINE_PUTS
	DEFINE_IDT

	.section .rodata
gs_msg:	.asciz "KERNEL_GS_BASE"
cs_msg:	.asciz "SYSENTER_CS"
gp_msg:	.asciz "rdmsr 0xdeadbeef #GP"
passed:	.asciz " ok\n"
failed:	.asciz " FAILED\n"
