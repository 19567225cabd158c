/* The trace writer alone, fed what a port loop produces: per exit a KVM_RUN
 * ioctl record (kt_run_in, kt_run_out with an IO OUT exit, 1 data byte) and
 * a snapshot whose registers change a little each time, as from one vCPU
 * spinning on `out dx, al`.  Then the reader reads it all back.
 *   bench-writer [EXITS [PATH]]  ->  one line of figures */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/kvm_ioctl.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"

struct exit_rec {
	struct kt_ioctl_body b;
	struct kt_run_in in;
	uint8_t out[sizeof(struct kt_run_out) + 1];
	struct kt_snapshot_body snap;
};

/* The kvm_run an IO OUT of one byte to the console port leaves behind. */
static void init_exit(struct exit_rec *e)
{
	struct kvm_run run;

	memset(e, 0, sizeof(*e));
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_IO;
	run.io.direction = KVM_EXIT_IO_OUT;
	run.io.size = 1;
	run.io.port = 0xE9;
	run.io.count = 1;
	run.io.data_offset = 4096;
	memcpy(e->out, &run, sizeof(struct kt_run_out));
	e->b.role = KT_FD_VCPU;
	e->b.request = KVM_RUN;
	e->b.in_len = sizeof(e->in);
	e->b.out_len = sizeof(e->out);
	e->in.kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	e->snap.source = KT_SNAP_SYNC_REGS;
	e->snap.sregs.cr0 = 0x80000011;
	e->snap.sregs.efer = 0xd00;
}

/* Exit i of the loop: a counter in RCX, the byte written, the clocks. */
static void step_exit(struct exit_rec *e, uint64_t i)
{
	e->b.t_start_ns = i * 700;
	e->b.dur_ns = 450 + (i * 7919) % 61;
	e->out[sizeof(struct kt_run_out)] = (uint8_t)('a' + i % 26);
	e->snap.regs.rcx = ~i;
	e->snap.regs.rax = 'a' + i % 26;
	e->snap.regs.rip = 0x1000 + 2 * (i & 1);
	e->snap.regs.rflags = 0x2 | (i & 1) << 6;
}

static int write_trace(const char *path, uint64_t exits, double *secs)
{
	struct exit_rec e;
	struct kt_writer *w;
	struct kt_end_body end = { .reason = KT_END_HALTED };
	uint64_t t0;
	int err = 0;

	if (!(w = kt_writer_open(path, true, &err)))
		return err;
	if ((err = kt_writer_header(w, "", 0)))
		return err;
	init_exit(&e);
	t0 = kvm_monotonic_ns();
	for (uint64_t i = 0; i < exits; i++) {
		step_exit(&e, i);
		kt_writer_ioctl(w, 0, &e.b, &e.in, e.out);
		kt_writer_snapshot(w, 0, &e.snap);
	}
	end.events = kt_writer_events(w);
	end.exits = exits;
	kt_writer_end(w, &end);
	err = kt_writer_close(w);
	*secs = (double)(kvm_monotonic_ns() - t0) / 1e9;
	return err;
}

static int read_trace(const char *path, uint64_t *events, double *secs)
{
	struct kt_reader *r;
	struct kt_event ev;
	uint64_t t0 = kvm_monotonic_ns();
	int err = 0, ret;

	if (!(r = kt_reader_open(path, &err)))
		return err;
	while ((ret = kt_reader_next(r, &ev)) == 1)
		;
	*events = kt_reader_index(r);
	kt_reader_close(r);
	*secs = (double)(kvm_monotonic_ns() - t0) / 1e9;
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t exits = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000000;
	const char *path = argc > 2 ? argv[2] : "/tmp/bench-writer.kvmtrace";
	double wsecs = 0, rsecs = 0;
	uint64_t events = 0;
	struct stat st;
	int ret;

	if ((ret = write_trace(path, exits, &wsecs)) || stat(path, &st) ||
	    (ret = read_trace(path, &events, &rsecs))) {
		fprintf(stderr, "bench-writer: %s: %s\n", path,
			kt_reader_strerror(ret ? ret : -errno));
		return 1;
	}
	printf("exits %" PRIu64 " events %" PRIu64 " write_events_per_s %.0f"
	       " bytes_per_exit %.2f read_events_per_s %.0f file_bytes %lld\n",
	       exits, events, (double)events / wsecs, (double)st.st_size / (double)exits,
	       (double)events / rsecs, (long long)st.st_size);
	unlink(path);
	return 0;
}
