/* Synthetic traces for `make bench`, no KVM needed: a port-loop-like stream
 * of KVM_RUN IO exits, each with its regs+sregs snapshot, written through
 * the real writer.
 *   synth-trace OUT.zst EXITS [EDIT_EVERY]
 * EDIT_EVERY > 0 adds one exit on another port in every EDIT_EVERY and
 * changes a data byte in another, so two synthetic traces differ by scattered
 * insertions and changed fields.
 * Prints the writer's rate: "events N seconds S events_per_s R bytes_per_exit B". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "trace/trace_header.h"
#include "trace/trace_writer.h"

static void put_exit(struct kt_writer *w, uint64_t i, uint64_t t, uint16_t port,
		     uint8_t data)
{
	static struct kvm_run run_page;  /* kt_run_out is its first bytes */
	static uint8_t out[sizeof(struct kt_run_out) + 1];
	struct kt_run_in in = { 0 };
	struct kt_ioctl_body b = {
		.role = KT_FD_VCPU, .request = KVM_RUN, .in_len = sizeof(in),
		.out_len = sizeof(out), .t_start_ns = t, .dur_ns = 38000 + (i * 7919) % 2000,
	};
	struct kvm_run *run = &run_page;
	struct kt_snapshot_body s = { .source = KT_SNAP_SYNC_REGS };

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 1;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = 4096;
	memcpy(out, run, sizeof(struct kt_run_out));
	out[sizeof(struct kt_run_out)] = data;
	kt_writer_ioctl(w, 0, &b, &in, out);
	s.regs.rip = 0xe;
	s.regs.rcx = ~i;
	s.regs.rdx = 0x10;
	s.sregs.cr0 = 0x80050033;
	s.sregs.efer = 0x500;
	kt_writer_snapshot(w, 0, &s);
}

int main(int argc, char **argv)
{
	struct kt_writer *w;
	struct kt_buf hdr = { 0 };
	struct kt_end_body end = { .reason = KT_END_HALTED };
	uint64_t n, every, t0, t1, t = 0;
	struct stat st;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: synth-trace OUT.zst EXITS [EDIT_EVERY]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 0);
	every = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	if (!(w = kt_writer_open(argv[1], true, &err))) {
		fprintf(stderr, "synth-trace: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	kt_tlv_put(&hdr, KT_HDR_KVMTRACE_VERSION, "synthetic", 9);
	kt_writer_header(w, hdr.data, hdr.len);
	t0 = kt_monotonic_ns();
	for (uint64_t i = 0; i < n; i++) {
		t += 40000 + (i * 104729) % 3000;
		if (every && i % every == every / 2)
			put_exit(w, i, t, 0x80, 'Z');
		put_exit(w, i, t, 0x10, every && i % every == every / 3 ? 'Y' : 'X');
	}
	end.events = kt_writer_events(w);
	end.exits = n;
	kt_writer_end(w, &end);
	if (kt_writer_close(w)) {
		fprintf(stderr, "synth-trace: write failed\n");
		return 1;
	}
	t1 = kt_monotonic_ns();
	stat(argv[1], &st);
	printf("events %llu seconds %.3f events_per_s %.0f bytes_per_exit %.2f\n",
	       (unsigned long long)end.events + 1, (double)(t1 - t0) / 1e9,
	       (double)(end.events + 1) * 1e9 / (double)(t1 - t0),
	       (double)st.st_size / (double)n);
	kt_buf_free(&hdr);
	return 0;
}
