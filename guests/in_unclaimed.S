/* IN of each width from an unclaimed port, which reads all ones.  RAX is
 * preset to a pattern before each IN so the stored values also show how the
 * result merges into RAX: 8 and 16 bit keep the upper bytes, 32 bit
 * zero-extends.  Results at 0x400 (al), 0x408 (ax), 0x410 (eax);
 * RAX = the 32-bit value. */
#include "guests/guest_lib.h"

#define PORT_UNCLAIMED 0x10
#define PATTERN        0x1122334455667788

	GUEST_ENTRY 64
main:
	mov $PORT_UNCLAIMED, %dx
	movabs $PATTERN, %rax
	in %dx, %al
	mov %rax, 0x400
	movabs $PATTERN, %rax
	in %dx, %ax
	mov %rax, 0x408
	movabs $PATTERN, %rax
	in %dx, %eax
	mov %rax, 0x410
	HALT_FOREVER
