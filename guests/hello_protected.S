/* hello in flat 32-bit protected mode without paging (run with
 * --mode protected): CS = 0x18, DS = ES = SS = 0x10, all base 0. */
#include "guests/guest_lib.h"

	GUEST_ENTRY 32
main:
	mov $msg, %esi
1:	lodsb
	test %al, %al
	jz 2f
	out %al, $GUEST_PORT_CONSOLE
	jmp 1b
2:	movl $42, 0x400
	movl $0, 0x404
	mov $42, %eax
	HALT_FOREVER

	.section .rodata
msg:	.asciz "Hello, world!\n"
