/* CPUID leaf 0 from a freestanding C guest: the 12-byte vendor string and
 * a newline on the console; RAX = the highest basic leaf.  CPUID never
 * reaches userspace, so only the 13 console OUTs and the HLT exit. */
#include "harness/guest_abi.h"

/* At GPA 0: a call keeps the SysV stack alignment (RSP = 0x200000 at
 * entry) and start()'s return value is left in RAX when the vCPU halts. */
__asm__(".section .entry, \"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"	call start\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	".text\n");

struct cpuid_regs {
	unsigned int eax, ebx, ecx, edx;
};

static struct cpuid_regs cpuid(unsigned int leaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(0));
	return r;
}

static void outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* The vendor string is EBX, EDX, ECX, little-endian. */
static void put_reg(unsigned int v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		outb(GUEST_PORT_CONSOLE, (unsigned char)v);
}

unsigned long start(unsigned long cpu, unsigned long ncpus, unsigned long arg);

unsigned long start(unsigned long cpu, unsigned long ncpus, unsigned long arg)
{
	struct cpuid_regs r = cpuid(0);

	(void)cpu;
	(void)ncpus;
	(void)arg;
	put_reg(r.ebx);
	put_reg(r.edx);
	put_reg(r.ecx);
	outb(GUEST_PORT_CONSOLE, '\n');
	return r.eax;
}
