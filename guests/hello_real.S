/* hello in real mode (run with --mode real): CS base 0, IP 0, DS base 0.
 * SP is 0 at entry (the low 16 bits of 0x200000), so no stack is used.
 * Writing EAX does not clear RAX's upper half outside 64-bit mode; it is 0
 * at entry, so RAX ends as 42. */
#include "guests/guest_lib.h"

	GUEST_ENTRY 16
main:
	mov $msg, %si
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
