/* Several vCPUs (run with --vcpus 4): each takes a spinlock (lock xchg),
 * prints "cpu N\n" (N in hex) so lines never interleave, releases it,
 * stores index + 1 at 0x500 + 8 * index and halts with RAX = index. */
#include "guests/guest_lib.h"

	GUEST_ENTRY 64
main:
	mov %rdi, %rbx			/* vCPU index, kept across calls */
	call lock
	lea prefix(%rip), %rsi
	call puts
	mov %ebx, %eax
	and $0xf, %eax
	lea hexdigits(%rip), %rsi
	movb (%rsi,%rax), %al
	out %al, $GUEST_PORT_CONSOLE
	mov $'\n', %al
	out %al, $GUEST_PORT_CONSOLE
	call unlock
	lea 1(%rbx), %rax
	mov %rax, 0x500(,%rbx,8)
	mov %rbx, %rax
	HALT_FOREVER

/* Test-and-test-and-set: spin on a plain read so waiting vCPUs do not
 * bounce the line with locked writes. */
lock:
	mov $1, %eax
	xchg %eax, console_lock(%rip)
	test %eax, %eax
	jz 2f
1:	pause
	cmpl $0, console_lock(%rip)
	jne 1b
	jmp lock
2:	ret

/* x86 stores are not reordered with earlier stores: a plain store
 * releases. */
unlock:
	movl $0, console_lock(%rip)
	ret

	DEFINE_PUTS

	.section .rodata
prefix:	.asciz "cpu "
hexdigits: .ascii "0123456789abcdef"

	.section .bss
	.balign 64
console_lock: .long 0
