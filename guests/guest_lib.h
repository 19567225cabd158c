/* Assembler helpers shared by the assembly guests: an entry stub and a
 * few routines each guest instantiates only if it needs them.  Every
 * console byte is a separate OUT, so a string of n bytes costs exactly n
 * IO exits: the exit counts in the guests' .json files depend on that. */
#ifndef KVMTRACE_GUEST_LIB_H
#define KVMTRACE_GUEST_LIB_H

#include "harness/guest_abi.h"

/* Put at GPA 0 (guests/guest.ld): jump over the result area to \target. */
.macro GUEST_ENTRY bits=64, target=main
	.section .entry, "ax"
	.code\bits
	.globl _start
_start:
	jmp \target
	.text
.endm

/* Halt for good: the run ends once every vCPU has halted, and the loop
 * keeps a vCPU halted should it ever be woken. */
.macro HALT_FOREVER
99:	hlt
	jmp 99b
.endm

/* puts: the NUL-terminated string at %rsi to the console.
 * Clobbers %al and %rsi. */
.macro DEFINE_PUTS
puts:
	lodsb
	test %al, %al
	jz 1f
	out %al, $GUEST_PORT_CONSOLE
	jmp puts
1:	ret
.endm

/* puthex: %rax as 16 lower-case hex digits.  Preserves every register. */
.macro DEFINE_PUTHEX
puthex:
	push %rax
	push %rcx
	push %rdx
	mov %rax, %rdx
	mov $16, %ecx
1:	rol $4, %rdx
	mov %dl, %al
	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	out %al, $GUEST_PORT_CONSOLE
	dec %ecx
	jnz 1b
	pop %rdx
	pop %rcx
	pop %rax
	ret
.endm

/* A 256-entry 64-bit IDT in .bss, its IDTR image, and
 * set_gate(%edi = vector, %rsi = handler): a DPL 0 interrupt gate through
 * GUEST_SEL_CODE64.  Clobbers %rax and %rdi. */
#define IDT_ENTRIES 256
#define IDT_GATE_INTR64 0x8e00	/* P=1, DPL=0, type 0xE, IST 0 */
.macro DEFINE_IDT
	.section .bss
	.balign 16
idt:	.skip IDT_ENTRIES * 16
	.section .rodata
	.balign 8
idtr:	.word IDT_ENTRIES * 16 - 1
	.quad idt
	.text
set_gate:
	shl $4, %edi
	lea idt(%rip), %rax
	add %rax, %rdi
	mov %rsi, %rax
	mov %ax, (%rdi)
	movw $GUEST_SEL_CODE64, 2(%rdi)
	movw $IDT_GATE_INTR64, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	ret
.endm

#endif
