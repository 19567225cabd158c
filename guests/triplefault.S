/* An exception with an empty IDT (limit 0): #UD cannot be delivered, nor
 * the #GP that follows, nor the #DF: triple fault, a SHUTDOWN exit, and
 * kvmtrace ends with status 10. */
#include "guests/guest_lib.h"

	GUEST_ENTRY 64
main:
	lea msg(%rip), %rsi
	call puts
	lidt empty_idtr(%rip)
	ud2
	HALT_FOREVER

	DEFINE_PUTS

	.section .rodata
	.balign 8
empty_idtr:
	.word 0
	.quad 0
msg:	.asciz "triple fault next\n"
