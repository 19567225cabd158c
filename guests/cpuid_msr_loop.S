/* CPUID (leaf 0) then RDMSR (EFER) N times, N = the guest argument (1000
 * if 0; the expectation runs 100, a few seconds under TCG).  Both are
 * answered inside KVM, so the run has no userspace exit but the final HLT:
 * for counting in-kernel exits (kexits), exactly N CPUID and N MSR-read
 * exits come from the loop.  RAX = N; the last EFER read lands at 0x400
 * (0x500, LME|LMA, as the harness set it). */
#include "guests/guest_lib.h"

#define MSR_EFER       0xc0000080
#define DEFAULT_LOOPS  1000

	GUEST_ENTRY 64
main:
	test %rdx, %rdx
	jnz 1f
	mov $DEFAULT_LOOPS, %edx
1:	mov %rdx, %r9			/* N */
	mov %rdx, %r8			/* iterations left */
2:	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	mov $MSR_EFER, %ecx
	rdmsr
	dec %r8
	jnz 2b
	shl $32, %rdx
	mov %eax, %eax
	or %rdx, %rax
	mov %rax, 0x400
	mov %r9, %rax
	HALT_FOREVER
