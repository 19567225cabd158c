/* MMIO: GPA 0x10000000 is inside the identity map but backed by no memory
 * slot, so each access is one MMIO exit; writes are dropped and reads
 * return all ones.  The value read is stored at 0x400, printed and left in
 * RAX. */
#include "guests/guest_lib.h"

#define MMIO_GPA 0x10000000

	GUEST_ENTRY 64
main:
	movabs $0x0123456789abcdef, %rax
	mov %rax, MMIO_GPA
	mov MMIO_GPA, %rbx
	mov %rbx, 0x400
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
label:	.asciz "mmio read "
newline: .asciz "\n"
