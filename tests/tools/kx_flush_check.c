/* kx-flush-check: the pattern the recorder will use, checked on a real
 * vCPU.  A tiny real-mode guest loops { CPUID; OUT 0x10 }, so every KVM_RUN
 * returns at the OUT after one CPUID answered in the kernel.  The vCPU
 * thread registers itself with kx_add_thread() and calls kx_flush() after
 * every KVM_RUN; each flush must deliver exactly that run's events: one
 * kvm_cpuid, one kvm_pio, sequence numbers following on from the last run,
 * and (where the CPU exits, SVM/VMX) the IO exit that ended the run as its
 * last kvm_exit.  Prints a line per failure and the per-run counts.
 *
 *   kx-flush-check [RUNS]      exit status 0 all good, 1 a check failed,
 *                              3 kexits unavailable, 6 no KVM */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "kexits/kx.h"

#define GUEST_PORT 0x10
#define SVM_EXIT_IO 0x7b
#define VMX_EXIT_IO 30

/* 16-bit real mode at 0: xor eax,eax; xor ecx,ecx; cpuid; out 0x10,al; jmp 0 */
static const uint8_t code[] = { 0x66, 0x31, 0xc0, 0x66, 0x31, 0xc9, 0x0f, 0xa2,
				0xe6, GUEST_PORT, 0xeb, 0xf4 };

struct run_events {
	unsigned cpuid, pio, exits, other;
	uint64_t first_seq, next_seq;
	int seq_gap;
	uint32_t last_exit_isa, last_exit_reason;
	int bad_slot;
	int slot;
};

static int on_event(const struct kx_event *ev, void *ctx)
{
	struct run_events *r = ctx;

	if (ev->slot != r->slot) {
		r->bad_slot = 1;
		return 0;
	}
	if (ev->seq != r->next_seq)
		r->seq_gap = 1;
	r->next_seq = ev->seq + 1;
	switch (ev->kind) {
	case KX_CPUID: r->cpuid++; break;
	case KX_PIO: r->pio++; break;
	case KX_EXIT:
		r->exits++;
		r->last_exit_isa = ev->u.exit.isa;
		r->last_exit_reason = ev->u.exit.reason;
		break;
	default: r->other++; break;
	}
	return 0;
}

static int kvm_setup(int *vcpu_out, struct kvm_run **run_out)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -1;
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0)
		return -1;
	void *mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	memcpy(mem, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = 0x10000,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -1;
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || size < 0)
		return -1;
	struct kvm_run *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
				   vcpu, 0);
	if (run == MAP_FAILED)
		return -1;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2 };
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return -1;
	*vcpu_out = vcpu;
	*run_out = run;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 100, vcpu, failures = 0;
	struct kvm_run *run;
	struct kx *kx;

	if (kvm_setup(&vcpu, &run) < 0) {
		fprintf(stderr, "kx-flush-check: no usable KVM: %s\n", strerror(errno));
		return 6;
	}
	if (kx_open(&kx, NULL) < 0) {
		fprintf(stderr, "kx-flush-check: kernel exits unavailable: %s\n", kt_last_error());
		return 3;
	}
	int slot = kx_add_thread(kx, gettid(), 0);
	if (slot < 0) {
		fprintf(stderr, "kx-flush-check: %s\n", kt_last_error());
		return 3;
	}
	struct run_events r = { .slot = slot };
	uint64_t flush_ns = 0, events = 0;
	for (int i = 0; i <= runs; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO ||
		    run->io.port != GUEST_PORT) {
			fprintf(stderr, "kx-flush-check: run %d: KVM_RUN gave exit %u\n", i,
				run->exit_reason);
			return 1;
		}
		uint64_t t0 = now_ns();
		r.cpuid = r.pio = r.exits = r.other = 0;
		r.first_seq = r.next_seq;
		int n = kx_flush(kx, slot, on_event, &r);
		flush_ns += now_ns() - t0;
		if (n < 0) {
			fprintf(stderr, "kx-flush-check: run %d: %s\n", i, kt_last_error());
			return 1;
		}
		events += (uint64_t)n;
		int io_last = r.exits == 0 ||
			      (r.last_exit_isa == 2 && r.last_exit_reason == SVM_EXIT_IO) ||
			      (r.last_exit_isa == 1 && (r.last_exit_reason & 0xffff) == VMX_EXIT_IO);
		if (r.cpuid != 1 || r.pio != 1 || r.seq_gap || r.bad_slot || !io_last) {
			fprintf(stderr, "kx-flush-check: run %d: cpuid %u pio %u exits %u (last "
				"isa %u reason %#x) other %u seq gap %d foreign %d\n", i, r.cpuid,
				r.pio, r.exits, r.last_exit_isa, r.last_exit_reason, r.other,
				r.seq_gap, r.bad_slot);
			failures++;
		}
	}
	struct kx_counts c;
	kx_counts(kx, slot, &c);
	printf("kx-flush-check: %d runs, %llu events (%llu produced, %llu lost, %llu delivered), "
	       "last run: cpuid %u pio %u exits %u other %u; kx_flush %.0f ns a run\n",
	       runs + 1, (unsigned long long)events, (unsigned long long)c.produced,
	       (unsigned long long)c.lost, (unsigned long long)c.delivered, r.cpuid, r.pio,
	       r.exits, r.other, (double)flush_ns / (runs + 1));
	if (c.lost || c.produced != c.delivered)
		failures++;
	kx_close(kx);
	return failures ? 1 : 0;
}
