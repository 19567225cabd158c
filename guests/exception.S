/* Exceptions delivered through the guest's own 64-bit IDT: #UD (ud2),
 * #BP (int3) and #DE (divide by zero).  Each handler counts, prints its
 * name and resumes after the faulting instruction (#BP is a trap, so it
 * already does).  The count is at 0x400 and in RAX (3). */
#include "guests/guest_lib.h"

#define DE_VECTOR 0
#define BP_VECTOR 3
#define UD_VECTOR 6
#define UD2_LEN   2
#define DIV_LEN   3	/* div %rcx: REX.W F7 /6 */

	GUEST_ENTRY 64
main:
	mov $UD_VECTOR, %edi
	lea ud_handler(%rip), %rsi
	call set_gate
	mov $BP_VECTOR, %edi
	lea bp_handler(%rip), %rsi
	call set_gate
	mov $DE_VECTOR, %edi
	lea de_handler(%rip), %rsi
	call set_gate
	lidt idtr(%rip)

	ud2
	int3
	xor %edx, %edx
	mov $1, %eax
	xor %ecx, %ecx
	div %rcx

	mov 0x400, %rax
	HALT_FOREVER

/* Handler body: count, print \msg, move the return RIP by \skip. */
.macro HANDLER name, msg, skip
\name:
	push %rsi
	push %rax
	incq 0x400
	lea \msg(%rip), %rsi
	call puts
	pop %rax
	pop %rsi
	addq $\skip, (%rsp)
	iretq
.endm

	HANDLER ud_handler, ud_msg, UD2_LEN
	HANDLER bp_handler, bp_msg, 0
	HANDLER de_handler, de_msg, DIV_LEN

	DEFINE_PUTS
	DEFINE_IDT

	.section .rodata
ud_msg:	.asciz "#UD\n"
bp_msg:	.asciz "#BP\n"
de_msg:	.asciz "#DE\n"
