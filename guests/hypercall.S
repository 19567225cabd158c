/* VMCALL with a hypercall number KVM does not know.  On AMD the #UD is
 * caught by KVM, which patches the instruction to VMMCALL in guest memory;
 * either way KVM answers in the kernel with RAX = -KVM_ENOSYS (-1000) and
 * no userspace exit.  RAX is printed, stored at 0x400 and kept. */
#include "guests/guest_lib.h"

#define HC_UNKNOWN 0xbad

	GUEST_ENTRY 64
main:
	mov $HC_UNKNOWN, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	vmcall
	mov %rax, %rbx
	mov %rax, 0x400
	lea label(%rip), %rsi
	call puts
	mov %rbx, %rax
	call puthex
	lea newline(%rip), %rsi
	call puts
	mov %rbx, %rax
	HALT_FOREVER

	DEFINE_PUTS
	DEFINE_PUTHEX

	.section .rodata
label:	.asciz "hypercall 0xbad: rax="
newline: .asciz "\n"
