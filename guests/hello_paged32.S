/* hello with 32-bit paging (run with --mode paged32): one 4 MiB PSE page
 * identity-maps 0..4 MiB, which holds the image, 0x400 and the stack.
 * The guest also checks that paging is really on (CR0.PG) before
 * greeting, and says so otherwise. */
#include "guests/guest_lib.h"

#define CR0_PG (1 << 31)

	GUEST_ENTRY 32
main:
	mov $msg, %esi
	mov %cr0, %eax
	test $CR0_PG, %eax
	jnz 1f
	mov $nopaging, %esi
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
nopaging: .asciz "paging is off\n"
