/* kvm-hello-world's 64-bit guest: greet on the console one byte per OUT,
 * leave 42 at GPA 0x400 and in RAX, halt. */
#include "guests/guest_lib.h"

	GUEST_ENTRY 64
main:
	lea msg(%rip), %rsi
	call puts
	movq $42, 0x400
	mov $42, %rax
	HALT_FOREVER

	DEFINE_PUTS

	.section .rodata
msg:	.asciz "Hello, world!\n"
