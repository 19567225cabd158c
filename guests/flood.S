/* Floods the console: N bytes (N = the guest argument), lines of 63
 * letters (a..z, a..) and a newline, one OUT each, then RAX = N and halt;
 * with N = 0 it never stops.  Shows that kvmtrace's memory stays bounded
 * however much the guest prints. */
#include "guests/guest_lib.h"

#define LINE 64

	GUEST_ENTRY 64
main:
	mov %rdx, %r8		/* bytes left */
	mov %rdx, %r9		/* N */
	xor %ebx, %ebx		/* column */
next:
	cmp $(LINE - 1), %ebx
	jne letter
	mov $'\n', %al
	xor %ebx, %ebx
	jmp emit
letter:
	mov %ebx, %eax
	xor %edx, %edx
	mov $26, %ecx
	div %ecx
	mov %dl, %al
	add $'a', %al
	inc %ebx
emit:
	out %al, $GUEST_PORT_CONSOLE
	test %r9, %r9
	jz next
	dec %r8
	jnz next
	mov %r9, %rax
	HALT_FOREVER
