/* OUT to an unclaimed port N times (N = the guest argument, 1000 if 0):
 * the cheapest userspace exit there is, for benchmarks. RAX = N. */
#include "guests/guest_lib.h"

#define PORT_UNCLAIMED 0x10
#define DEFAULT_LOOPS  1000

	GUEST_ENTRY 64
main:
	test %rdx, %rdx
	jnz 1f
	mov $DEFAULT_LOOPS, %edx
1:	mov %rdx, %rcx
2:	out %al, $PORT_UNCLAIMED
	dec %rcx
	jnz 2b
	mov %rdx, %rax
	HALT_FOREVER
