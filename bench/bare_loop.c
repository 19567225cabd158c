/* The limit for `make bench`: the guest run by a loop that does nothing but
 * KVM_RUN until HLT, no device model, no bookkeeping.  Same VM setup as
 * kvmtrace (the harness builds it), so the difference is the core's cost.
 *   bare-loop GUEST.bin GUEST_ARG  ->  "exits N seconds S exits_per_s R" */
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/error.h"
#include "harness/config.h"
#include "harness/guest_image.h"
#include "harness/machine.h"

static int bare_run(struct kt_machine *m)
{
	struct kvm_handle *h = &m->vcpu[0].h;
	uint64_t exits = 0, t0 = kt_monotonic_ns(), t1;

	for (;;) {
		long ret = kvm_ioctl_raw(h, KVM_RUN, NULL);

		if (ret < 0) {
			fprintf(stderr, "bare-loop: KVM_RUN failed: %ld\n", ret);
			return 1;
		}
		exits++;
		if (h->run->exit_reason == KVM_EXIT_HLT)
			break;
		if (h->run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "bare-loop: unexpected exit %u\n", h->run->exit_reason);
			return 1;
		}
	}
	t1 = kt_monotonic_ns();
	printf("exits %llu seconds %.6f exits_per_s %.0f\n", (unsigned long long)exits,
	       (double)(t1 - t0) / 1e9, (double)exits * 1e9 / (double)(t1 - t0));
	return 0;
}

int main(int argc, char **argv)
{
	struct kt_config cfg;
	struct kt_machine *m = calloc(1, sizeof(*m));
	uint8_t *image;
	size_t size;
	int ret;

	if (argc != 3 || !m) {
		fprintf(stderr, "usage: bare-loop GUEST.bin GUEST_ARG\n");
		return 2;
	}
	kt_config_init(&cfg);
	cfg.guest_path = argv[1];
	cfg.guest_arg = strtoull(argv[2], NULL, 0);
	if (kt_read_guest_image(argv[1], cfg.mem_bytes, &image, &size) ||
	    kt_machine_open(m, &cfg) || kt_machine_load(m, image, size)) {
		fprintf(stderr, "bare-loop: %s\n", kt_last_error());
		return 1;
	}
	ret = bare_run(m);
	kt_machine_close(m);
	free(image);
	free(m);
	return ret;
}
