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
#define GUEST_TSS_GPA         0xFFFBD000ULL /* 3 pages, KVM_SET_TSS_ADDR */
#define GUEST_IDENTITY_MAP    0x100000000ULL /* long mode maps 0..4 GiB */

/* vCPU n starts with RDI = n and RSI = number of vCPUs (SysV arguments, so
 * a C entry point can be `void start(unsigned cpu, unsigned ncpus)`). */

#define GUEST_PORT_CONSOLE    0xE9  /* OUT: byte to stdout */
#define GUEST_PORT_EXIT       0xF4  /* OUT: end the run, status (v<<1)|1 */

#endif
