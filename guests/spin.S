/* Never exits to userspace: a register loop of N iterations (N = the guest
 * argument), then RAX = N and halt; with N = 0 it spins for good, so only
 * --timeout, --max-exits or a signal ends the run, by kicking a vCPU that
 * is busy in the guest rather than waiting in an exit. */
#include "guests/guest_lib.h"

	GUEST_ENTRY 64
main:
	test %rdx, %rdx
	jz forever
	mov %rdx, %rcx
1:	dec %rcx
	jnz 1b
	mov %rdx, %rax
	HALT_FOREVER

forever:
	pause
	jmp forever
