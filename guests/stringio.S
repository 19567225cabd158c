/* String I/O.  KVM emulates OUTS one element per userspace exit, while INS
 * reads ahead up to a page (at most 1 KiB) in a single exit with count > 1.
 * The guest checks that the INS buffer at 0x400 holds exactly INS_BYTES
 * bytes of 0xff and nothing beyond.  RAX = number of 0xff bytes, 0 if the
 * byte after the buffer was touched. */
#include "guests/guest_lib.h"

#define PORT_UNCLAIMED 0x10
#define INS_BUF        0x400
#define INS_BYTES      64

	GUEST_ENTRY 64
main:
	lea banner(%rip), %rsi
	mov $(banner_end - banner), %ecx
	mov $GUEST_PORT_CONSOLE, %dx
	cld
	rep outsb

	mov $INS_BUF, %edi
	mov $INS_BYTES, %ecx
	mov $PORT_UNCLAIMED, %dx
	rep insb

	mov $INS_BUF, %edi
	mov $INS_BYTES, %ecx
	mov $0xff, %al
	repe scasb
	jne bad
	cmpb $0, INS_BUF + INS_BYTES
	jne bad
	lea ok(%rip), %rsi
	call puts
	mov $INS_BYTES, %eax
	HALT_FOREVER
bad:
	lea fail(%rip), %rsi
	call puts
	xor %eax, %eax
	HALT_FOREVER

	DEFINE_PUTS

	.section .rodata
banner:	.ascii "rep outsb\n"
banner_end:
ok:	.asciz "rep insb: 64 x 0xff\n"
fail:	.asciz "rep insb: wrong data\n"
