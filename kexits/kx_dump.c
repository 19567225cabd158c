/* kx-dump: a test tool for kexits.  Runs a command (or watches given
 * threads or processes) and prints the in-kernel KVM exits they cause, one
 * line or one JSON object per event, and/or a summary like perf kvm stat.
 *
 *   kx-dump [-j] [-s] [-q] [-o FILE] -- COMMAND [ARG...]
 *   kx-dump [-j] [-s] [-q] [-o FILE] [-t TID]... [-p PID]... [-d SECONDS]
 *
 * Exit status: the command's (128 + signal if killed), 0 when watching;
 * 2 bad usage; 3 kexits unavailable (the reason on stderr); 4 events were
 * lost (ring full) while watching. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "kexits/kx.h"

#define MAX_WATCH 32
#define MAX_REASONS 256
#define MAX_TIDS 64

struct reason_stat {
	unsigned kind;
	unsigned isa;
	uint32_t reason;
	uint64_t count;
	uint64_t handled;   /* exits followed by an entry on the same thread */
	uint64_t handled_ns;
};

struct tid_state {
	uint32_t tid;
	int pending;        /* index into reasons of the last exit, or -1 */
	uint64_t exit_ns;
};

struct dump {
	FILE *out;
	int json, quiet, summary;
	uint64_t events, by_kind[KX_KINDS];
	double command_s;   /* the command's wall time, capture set up */
	double command_cpu_s;  /* its user + system time */
	struct reason_stat reasons[MAX_REASONS];
	unsigned nreasons;
	struct tid_state tids[MAX_TIDS];
	unsigned ntids;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig != SIGCHLD;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kx-dump [options] -- COMMAND [ARG...]\n"
		"       kx-dump [options] [-t TID]... [-p PID]... [-d SECONDS]\n"
		"  -j         JSON Lines, one object per event\n"
		"  -s         a summary at the end: counts per kind and exit reason,\n"
		"             mean exit-to-entry time\n"
		"  -q         no per-event output\n"
		"  -o FILE    write to FILE instead of stdout\n"
		"  -t TID     a thread to watch (its events tagged vcpu=N with -t TID:N)\n"
		"  -p PID     every thread of a process to watch\n"
		"  -d SECONDS watch that long (default: until SIGINT/SIGTERM)\n"
		"  -r BYTES   ring buffer size (power of 2)\n"
		"  -w BYTES   wake the reader once this much is unread (1: every event)\n"
		"  -k KINDS   capture only these kinds, e.g. cpuid,msr (exit and entry\n"
		"             always); default all\n"
		"  -T DIR     read the tracepoint formats from DIR, not /sys/kernel/tracing\n"
		"  -i         say on stderr which tracepoints and fields are attached\n"
		"  -v         libbpf's messages\n");
}

static int reason_index(struct dump *d, const struct kx_event *ev)
{
	unsigned isa = ev->kind == KX_EXIT ? ev->u.exit.isa : 0;
	uint32_t reason = ev->kind == KX_EXIT ? ev->u.exit.reason : 0;

	for (unsigned i = 0; i < d->nreasons; i++)
		if (d->reasons[i].kind == ev->kind && d->reasons[i].isa == isa &&
		    d->reasons[i].reason == reason)
			return (int)i;
	if (d->nreasons == MAX_REASONS)
		return -1;
	d->reasons[d->nreasons] = (struct reason_stat){ ev->kind, isa, reason, 0, 0, 0 };
	return (int)d->nreasons++;
}

static struct tid_state *tid_state(struct dump *d, uint32_t tid)
{
	for (unsigned i = 0; i < d->ntids; i++)
		if (d->tids[i].tid == tid)
			return &d->tids[i];
	if (d->ntids == MAX_TIDS)
		return NULL;
	d->tids[d->ntids] = (struct tid_state){ tid, -1, 0 };
	return &d->tids[d->ntids++];
}

static void count(struct dump *d, const struct kx_event *ev)
{
	int r = reason_index(d, ev);
	struct tid_state *t = tid_state(d, ev->tid);

	d->events++;
	if (ev->kind < KX_KINDS)
		d->by_kind[ev->kind]++;
	if (r >= 0)
		d->reasons[r].count++;
	if (!t)
		return;
	if (ev->kind == KX_EXIT) {
		t->pending = r;
		t->exit_ns = ev->ts_ns;
	} else if (ev->kind == KX_ENTRY && t->pending >= 0) {
		d->reasons[t->pending].handled++;
		d->reasons[t->pending].handled_ns += ev->ts_ns - t->exit_ns;
		t->pending = -1;
	}
}

static void print_json(FILE *f, const struct kx_event *ev)
{
	const struct kx_kind_desc *k = kx_kind(ev->kind);

	fprintf(f, "{\"ts_ns\":%llu,\"seq\":%llu,\"tid\":%u,\"cpu\":%u,\"kind\":\"%s\"",
		(unsigned long long)ev->ts_ns, (unsigned long long)ev->seq, ev->tid, ev->cpu,
		kx_kind_name(ev->kind));
	if (ev->vcpu != KX_VCPU_NONE)
		fprintf(f, ",\"vcpu\":%u", ev->vcpu);
	for (unsigned i = 0; k && i < k->nfields; i++) {
		const struct kx_field_desc *fd = &k->fields[i];

		if (!kx_field_present(ev, i))
			continue;
		if (fd->type == KX_T_BYTES) {
			unsigned n = ev->kind == KX_EMULATE ? ev->u.emulate.len : fd->size;
			fprintf(f, ",\"%s\":\"", fd->name);
			for (unsigned j = 0; j < n && j < fd->size; j++)
				fprintf(f, "%s%02x", j ? " " : "", ev->u.data[fd->off + j]);
			fputc('"', f);
		} else {
			fprintf(f, ",\"%s\":%llu", fd->name,
				(unsigned long long)kx_field_value(ev, fd));
		}
	}
	if (ev->kind == KX_EXIT) {
		const char *name = kx_exit_reason_name(ev->u.exit.isa, ev->u.exit.reason);
		fprintf(f, ",\"isa_name\":\"%s\"", kx_isa_name(ev->u.exit.isa));
		if (name)
			fprintf(f, ",\"reason_name\":\"%s\"", name);
	}
	fputs("}\n", f);
}

static int on_event(const struct kx_event *ev, void *ctx)
{
	struct dump *d = ctx;
	char line[512];

	if (d->summary)
		count(d, ev);
	else
		d->events++;
	if (d->quiet)
		return 0;
	if (d->json) {
		print_json(d->out, ev);
	} else {
		kx_format_event(ev, line, sizeof(line));
		fprintf(d->out, "%llu.%09llu tid %u %s\n",
			(unsigned long long)(ev->ts_ns / 1000000000),
			(unsigned long long)(ev->ts_ns % 1000000000), ev->tid, line);
	}
	return 0;
}

static void print_summary(struct dump *d, FILE *f)
{
	fprintf(f, "kx-dump: %llu events", (unsigned long long)d->events);
	if (d->command_s > 0)
		fprintf(f, ", command %.3f s (cpu %.3f s)", d->command_s, d->command_cpu_s);
	fputc('\n', f);
	for (unsigned k = 0; k < KX_KINDS; k++)
		if (d->by_kind[k])
			fprintf(f, "  %-14s %10llu\n", kx_kind_name(k),
				(unsigned long long)d->by_kind[k]);
	for (unsigned i = 0; i < d->nreasons; i++) {
		struct reason_stat *r = &d->reasons[i];
		const char *name;

		if (r->kind != KX_EXIT)
			continue;
		name = kx_exit_reason_name(r->isa, r->reason);
		fprintf(f, "  exit %s %-24s %#10x %10llu", kx_isa_name(r->isa), name ? name : "?",
			r->reason, (unsigned long long)r->count);
		if (r->handled)
			fprintf(f, "  %8.0f ns to entry", (double)r->handled_ns / (double)r->handled);
		fputc('\n', f);
	}
}

static int parse_kinds(char *list, uint32_t *mask)
{
	for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
		int k = kx_kind_by_name(name);
		if (k < 0)
			return -1;
		*mask |= 1u << k;
	}
	return 0;
}

static int parse_id(const char *s, long *id, long *vcpu)
{
	char *end;

	*id = strtol(s, &end, 10);
	*vcpu = -1;
	if (end != s && *end == ':')
		*vcpu = strtol(end + 1, &end, 10);
	return end == s || *end || *id <= 0 ? -1 : 0;
}

/* Fork COMMAND, held at a pipe until it is registered. */
static pid_t spawn(char **argv, int *go)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		close(fds[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "kx-dump: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*go = fds[1];
	return pid;
}

static int drain(struct kx *kx, struct dump *d)
{
	int n;

	while ((n = kx_poll(kx, 0, on_event, d)) > 0)
		;
	return n;
}

int main(int argc, char **argv)
{
	struct kx_opts opts = { 0 };
	struct dump d = { .out = stdout };
	long threads[MAX_WATCH][2], procs[MAX_WATCH];
	int nthreads = 0, nprocs = 0, info = 0, opt;
	double seconds = 0;
	const char *out = NULL;

	while ((opt = getopt(argc, argv, "+jsqo:t:p:d:r:w:k:T:ivh")) != -1) {
		long id, vcpu;

		switch (opt) {
		case 'j': d.json = 1; break;
		case 's': d.summary = 1; break;
		case 'q': d.quiet = 1; break;
		case 'o': out = optarg; break;
		case 'i': info = 1; break;
		case 'T': opts.tracefs = optarg; break;
		case 'v': opts.verbose = 1; break;
		case 'd': seconds = strtod(optarg, NULL); break;
		case 'r': opts.ring_bytes = strtoull(optarg, NULL, 0); break;
		case 'w': opts.wakeup_bytes = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k':
			if (parse_kinds(optarg, &opts.kinds))
				goto bad;
			break;
		case 't':
			if (nthreads == MAX_WATCH || parse_id(optarg, &id, &vcpu))
				goto bad;
			threads[nthreads][0] = id;
			threads[nthreads++][1] = vcpu;
			break;
		case 'p':
			if (nprocs == MAX_WATCH || parse_id(optarg, &id, &vcpu) || vcpu >= 0)
				goto bad;
			procs[nprocs++] = id;
			break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if ((optind < argc) == (nthreads + nprocs > 0))
		goto bad;
	if (out && !(d.out = fopen(out, "w"))) {
		fprintf(stderr, "kx-dump: %s: %s\n", out, strerror(errno));
		return 2;
	}

	struct kx *kx;
	if (kx_open(&kx, &opts) < 0) {
		fprintf(stderr, "kx-dump: kernel exits unavailable: %s\n", kt_last_error());
		return 3;
	}
	if (info) {
		char desc[1024];
		kx_describe(kx, desc, sizeof(desc));
		fprintf(stderr, "kx-dump: %s\n", desc);
	}
	for (int i = 0; i < nthreads; i++)
		if (kx_add_thread(kx, (pid_t)threads[i][0],
				  threads[i][1] < 0 ? KX_VCPU_NONE : (uint32_t)threads[i][1]) < 0)
			goto kx_error;
	for (int i = 0; i < nprocs; i++)
		if (kx_add_process(kx, (pid_t)procs[i]) < 0)
			goto kx_error;

	/* Without SA_RESTART, so that the command's end (SIGCHLD) cuts a poll
	 * short and the command's time is measured to the moment. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	int status = 0, go = -1;
	pid_t child = 0;
	if (optind < argc) {
		child = spawn(argv + optind, &go);
		if (child < 0 || kx_add_process(kx, child) < 0) {
			if (child > 0)
				kill(child, SIGKILL);
			goto kx_error;
		}
		if (write(go, "g", 1) != 1)
			perror("kx-dump: starting the command");
		close(go);
	}

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (kx_poll(kx, 100, on_event, &d) < 0)
			goto kx_error;
		struct rusage ru;
		if (child > 0 && wait4(child, &status, WNOHANG, &ru) == child) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			d.command_cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
					  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
			d.command_s = (double)(t.tv_sec - t0.tv_sec) +
				      (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
			break;
		}
		if (stop && child > 0)
			kill(child, SIGTERM);
		if (stop && !child)
			break;
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (seconds > 0 && (double)(t.tv_sec - t0.tv_sec) +
				   (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 >= seconds)
			break;
	}
	if (drain(kx, &d) < 0)
		goto kx_error;

	uint64_t lost = 0;
	for (int s = 0; s < KX_MAX_SLOTS; s++) {
		struct kx_counts c;
		if (!kx_counts(kx, s, &c))
			lost += c.lost;
	}
	if (d.summary)
		print_summary(&d, d.quiet ? d.out : stderr);
	if (lost)
		fprintf(stderr, "kx-dump: %llu events lost (ring full)\n", (unsigned long long)lost);
	fflush(d.out);
	kx_close(kx);
	if (child > 0)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return lost ? 4 : 0;

kx_error:
	fprintf(stderr, "kx-dump: %s\n", kt_last_error());
	kx_close(kx);
	return 3;
bad:
	usage(stderr);
	return 2;
}
