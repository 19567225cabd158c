/* The guest of tests/vmm/mini_vmm.c (not a corpus guest: the harness does
 * not run it).  64-bit, loaded at GPA 0, entered with RDI = vCPU index and
 * RSI = loop count.  Each round it asks the VMM's mailbox device (port
 * 0x20) for a reply, which the VMM writes straight into guest memory, then
 * writes its sum to the MMIO device and reads a value back; at the end it
 * reports the sum on port 0x30 and halts.  So its result depends on memory
 * the VMM wrote outside any ioctl. */
	.code64
	.text
	.globl _start
_start:
	mov	%rdi, %r12		/* vCPU index */
	mov	%rsi, %r15		/* rounds */
	xor	%r13, %r13		/* round */
	xor	%r14, %r14		/* sum */
	mov	$0x90000, %rbx		/* mailbox: one u64 per vCPU */
	lea	(%rbx,%r12,8), %rbx
	mov	$0xd0000000, %rcx	/* the MMIO device */
1:	mov	%r13d, %eax
	mov	$0x20, %dx
	out	%eax, %dx		/* request; the reply lands in the mailbox */
	add	(%rbx), %r14
	mov	%r14, (%rcx)		/* MMIO write */
	add	8(%rcx), %r14		/* MMIO read */
	inc	%r13
	cmp	%r15, %r13
	jb	1b
	mov	%r14d, %eax
	mov	$0x30, %dx
	out	%eax, %dx		/* the result */
	hlt
