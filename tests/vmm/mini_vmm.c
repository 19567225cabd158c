/* A small VMM of its own, for testing `kvmtrace record -- PROGRAM`: plain C,
 * raw ioctl() calls on /dev/kvm, nothing of kvmtrace linked in.  It runs
 * tests/vmm/guest.S on N vCPU threads in 64-bit mode, with three devices:
 *   port 0x20 OUT v  the mailbox: the VMM writes v * 3 + vcpu into the
 *                    vCPU's mailbox in guest memory (no ioctl involved)
 *   MMIO 0xd0000000  writes are taken, reads of +8 answer 0x100 + vcpu
 *   port 0x30 OUT v  the vCPU's result
 *   mini-vmm GUEST.bin [VCPUS [ROUNDS]]
 * prints each vCPU's result and exits 0 when every one is what the guest
 * must compute, 1 otherwise, and 3 when kvm_run's kvm_valid_regs or
 * kvm_dirty_regs is not what it left there (0) after a KVM_RUN: a recorder
 * that borrows them must put them back. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE 0x200000ull
#define TABLES 0x180000ull     /* PML4, PDPT, 4 page directories */
#define MAILBOX 0x90000ull
#define MMIO_BASE 0xd0000000ull
#define MAX_VCPUS 4

struct vcpu {
	int fd, index;
	struct kvm_run *run;
	pthread_t thread;
	uint32_t result;
	int done;
};

static int vm_fd;
static uint8_t *ram;
static unsigned rounds = 100;

static void die(const char *what)
{
	fprintf(stderr, "mini-vmm: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int must(int ret, const char *what)
{
	if (ret < 0)
		die(what);
	return ret;
}

/* Identity map of the low 4 GiB with 2 MiB pages, so the MMIO device at
 * 0xd0000000 is reachable. */
static void build_page_tables(void)
{
	uint64_t *pml4 = (uint64_t *)(ram + TABLES), *pdpt = pml4 + 512;

	pml4[0] = (TABLES + 0x1000) | 3;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t *pd = pml4 + 1024 + 512 * i;

		pdpt[i] = (TABLES + 0x2000 + 0x1000 * i) | 3;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i << 30) | (j << 21)) | 0x83;  /* present, writable, 2 MiB */
	}
}

static void set_long_mode(struct vcpu *v)
{
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8,
				    .type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = code;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rdi = (uint64_t)v->index, .rsi = rounds,
				 .rsp = 0x80000 - 0x1000ull * (uint64_t)v->index, .rflags = 2 };

	must(ioctl(v->fd, KVM_GET_SREGS, &sregs), "KVM_GET_SREGS");
	data.type = 3;
	data.selector = 16;
	data.l = 0;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr3 = TABLES;
	sregs.cr4 = 1u << 5;                      /* PAE */
	sregs.cr0 = 0x80000001u | (1u << 4) | (1u << 5);  /* PG PE ET NE */
	sregs.efer = (1u << 8) | (1u << 10);      /* LME LMA */
	must(ioctl(v->fd, KVM_SET_SREGS, &sregs), "KVM_SET_SREGS");
	must(ioctl(v->fd, KVM_SET_REGS, &regs), "KVM_SET_REGS");
}

static void set_cpuid(int kvm_fd, struct vcpu *v)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	if (!c)
		die("calloc");
	c->nent = 256;
	must(ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c), "KVM_GET_SUPPORTED_CPUID");
	must(ioctl(v->fd, KVM_SET_CPUID2, c), "KVM_SET_CPUID2");
	free(c);
}

static void create_vcpu(int kvm_fd, struct vcpu *v, int index, size_t run_size)
{
	v->index = index;
	v->fd = must(ioctl(vm_fd, KVM_CREATE_VCPU, index), "KVM_CREATE_VCPU");
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap of kvm_run");
	set_cpuid(kvm_fd, v);
	set_long_mode(v);
}

/* The mailbox device: a reply written into guest memory, not through KVM. */
static void mailbox(struct vcpu *v, uint32_t request)
{
	uint64_t reply = (uint64_t)request * 3 + (uint64_t)v->index;

	memcpy(ram + MAILBOX + 8 * (uint64_t)v->index, &reply, sizeof(reply));
}

static int on_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint32_t value = 0;

	if (r->io.direction != KVM_EXIT_IO_OUT || r->io.size != 4)
		return -1;
	memcpy(&value, (uint8_t *)r + r->io.data_offset, 4);
	if (r->io.port == 0x20)
		mailbox(v, value);
	else if (r->io.port == 0x30)
		v->result = value;
	else
		return -1;
	return 0;
}

static int on_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint64_t answer = 0x100 + (uint64_t)v->index;

	if (r->mmio.phys_addr < MMIO_BASE || r->mmio.phys_addr >= MMIO_BASE + 16)
		return -1;
	if (!r->mmio.is_write)
		memcpy(r->mmio.data, &answer, r->mmio.len < 8 ? r->mmio.len : 8);
	return 0;
}

static void *vcpu_main(void *arg)
{
	struct vcpu *v = arg;

	for (;;) {
		int ret = ioctl(v->fd, KVM_RUN, 0);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			die("KVM_RUN");
		if (v->run->kvm_valid_regs || v->run->kvm_dirty_regs) {
			fprintf(stderr, "mini-vmm: vCPU %d: kvm_valid_regs 0x%llx kvm_dirty_regs "
				"0x%llx after KVM_RUN, not the 0 it set\n", v->index,
				(unsigned long long)v->run->kvm_valid_regs,
				(unsigned long long)v->run->kvm_dirty_regs);
			exit(3);
		}
		if (v->run->exit_reason == KVM_EXIT_HLT)
			break;
		if ((v->run->exit_reason == KVM_EXIT_IO && on_io(v) == 0) ||
		    (v->run->exit_reason == KVM_EXIT_MMIO && on_mmio(v) == 0))
			continue;
		fprintf(stderr, "mini-vmm: vCPU %d: unexpected exit %u\n", v->index,
			v->run->exit_reason);
		exit(1);
	}
	v->done = 1;
	return NULL;
}

/* What the guest computes, round by round. */
static uint32_t expected(int index)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < rounds; i++)
		sum += i * 3 + (uint64_t)index + 0x100 + (uint64_t)index;
	return (uint32_t)sum;
}

static void load_guest(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		die(path);
	n = read(fd, ram, MAILBOX);
	if (n <= 0)
		die(path);
	close(fd);
}

int main(int argc, char **argv)
{
	struct vcpu vcpus[MAX_VCPUS] = { 0 };
	int kvm_fd, nvcpus = argc > 2 ? atoi(argv[2]) : 2, bad = 0;
	struct kvm_userspace_memory_region region = { .slot = 0, .memory_size = RAM_SIZE };
	size_t run_size;

	if (argc < 2 || nvcpus < 1 || nvcpus > MAX_VCPUS) {
		fprintf(stderr, "usage: mini-vmm GUEST.bin [VCPUS 1..%d [ROUNDS]]\n", MAX_VCPUS);
		return 2;
	}
	if (argc > 3)
		rounds = (unsigned)atoi(argv[3]);
	kvm_fd = must(open("/dev/kvm", O_RDWR | O_CLOEXEC), "/dev/kvm");
	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("KVM_GET_API_VERSION");
	vm_fd = must(ioctl(kvm_fd, KVM_CREATE_VM, 0), "KVM_CREATE_VM");
	must(ioctl(vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul), "KVM_SET_TSS_ADDR");
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap of guest RAM");
	region.userspace_addr = (uintptr_t)ram;
	must(ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region), "KVM_SET_USER_MEMORY_REGION");
	load_guest(argv[1]);
	build_page_tables();
	run_size = (size_t)must(ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0), "KVM_GET_VCPU_MMAP_SIZE");
	for (int i = 0; i < nvcpus; i++)
		create_vcpu(kvm_fd, &vcpus[i], i, run_size);
	for (int i = 0; i < nvcpus; i++)
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_main, &vcpus[i]))
			die("pthread_create");
	for (int i = 0; i < nvcpus; i++) {
		pthread_join(vcpus[i].thread, NULL);
		printf("vcpu %d result %u%s\n", i, vcpus[i].result,
		       vcpus[i].result == expected(i) ? "" : " (wrong)");
		bad |= vcpus[i].result != expected(i);
	}
	return bad;
}
