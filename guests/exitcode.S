/* The exit device: writing 7 to port 0xF4 ends the run with status
 * (7 << 1) | 1 = 15.  The HLT after it must never be reached. */
#include "guests/guest_lib.h"

#define EXIT_VALUE 7

	GUEST_ENTRY 64
main:
	lea msg(%rip), %rsi
	call puts
	mov $EXIT_VALUE, %al
	out %al, $GUEST_PORT_EXIT
	HALT_FOREVER

	DEFINE_PUTS

	.section .rodata
msg:	.asciz "exit 7\n"
