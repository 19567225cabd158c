/* The guest ABI, docs/guest-abi.md in code.  Guests include it too
 * (it has no host-only dependencies). */
#ifndef KVMTRACE_GUEST_ABI_H
#define KVMTRACE_GUEST_ABI_H

#define GUEST_LOAD_GPA        0x0ULL        /* flat image loaded here */
#define GUEST_ENTRY_RIP       0x0ULL
#define GUEST_STACK_TOP       0x200000ULL   /* RSP of vCPU 0 */
#define GUEST_STACK_PER_VCPU  0x4000ULL     /* vCPU n: RSP = top - n * this */
#define GUEST_MIN_RAM         0x200000ULL   /* 2 MiB */
#define GUEST_DEFAULT_RAM     0x200000ULL
#define GUEST_MAX_RAM         0xC0000000ULL /* 3 GiB: stays below the MMIO hole */
#define GUEST_MAX_VCPUS       16
/* Page tables live in their own memory slot, outside guest RAM, so no image
 * size can collide with them.  Still inside the identity map. */
#define GUEST_PT_GPA          0xFFE00000ULL
#define GUEST_PT_SIZE         0x10000ULL
/* Inside that slot: */
#define GUEST_PML4_OFF        0x0000  /* paged32: the page directory */
#define GUEST_PDPT_OFF        0x1000
#define GUEST_PD_OFF          0x2000  /* 4 page directories, 2 MiB pages */
#define GUEST_GDT_OFF         0x6000
#define GUEST_SEL_CODE64      0x08
#define GUEST_SEL_DATA        0x10
#define GUEST_SEL_CODE32      0x18
#define GUEST_TSS_GPA         0xFFFBD000ULL /* 3 pages, KVM_SET_TSS_ADDR */
#define GUEST_IDENTITY_MAP    0x100000000ULL /* long mode maps 0..4 GiB */

/* vCPU n starts with RDI = n, RSI = number of vCPUs and RDX = the guest
 * argument (`--guest-arg N`, default 0): SysV arguments, so a C entry point
 * can be `void start(unsigned cpu, unsigned ncpus, unsigned long arg)`.
 * In the 16- and 32-bit modes the same values sit in EDI, ESI and EDX. */

#define GUEST_PORT_CONSOLE    0xE9  /* OUT: byte to stdout */
#define GUEST_PORT_EXIT       0xF4  /* OUT: end the run, status (v<<1)|1 */

#endif
