/* kvmtrace show: in-kernel exits (record --kernel-exits), one line each
 * and counted by reason in --stats, like perf kvm stat. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "decode/kexit.h"
#include "trace/trace_header.h"

/* vcpu0 kexit cpuid function=0x0 index=0x0 rax=0x1c ... (-v: the capture's
 * own fields too) */
void cli_show_kexit(struct kt_sink *s, const struct kt_event *ev, bool verbose)
{
	struct kt_kexit_body b;
	struct kt_kexit_lost_body l;

	if (ev->type == KT_REC_KEXIT_LOST && ev->len >= sizeof(l)) {
		memcpy(&l, ev->body, sizeof(l));
		printf("vcpu%u kexits lost: %" PRIu64 " (seq %" PRIu64 "..%" PRIu64
		       "): the ring buffer was full\n", ev->vcpu, l.count, l.seq,
		       l.seq + l.count - 1);
		return;
	}
	kt_sink_reset(s);
	decode_kexit_line(s, ev->body, ev->len);
	printf("vcpu%u kexit%s", ev->vcpu, kt_sink_str(s));
	if (verbose && ev->len >= sizeof(b)) {
		memcpy(&b, ev->body, sizeof(b));
		printf(" ts_ns=%" PRIu64 " seq=%" PRIu64 " tid=%u cpu=%u", b.ts_ns, b.seq, b.tid,
		       b.cpu);
	}
	putchar('\n');
}

void cli_count_kexit(struct kt_kexit_tally *t, const struct kt_event *ev)
{
	struct kt_kexit_lost_body l;

	if (ev->type == KT_REC_KEXIT && ev->len >= sizeof(struct kt_kexit_body)) {
		kt_kexit_tally_add(t, ev->vcpu, ev->body);
	} else if (ev->type == KT_REC_KEXIT_LOST && ev->len >= sizeof(l)) {
		memcpy(&l, ev->body, sizeof(l));
		kt_kexit_tally_lost(t, l.count);
	} else if (ev->type == KT_REC_IOCTL && ev->ioctl->request == KVM_RUN) {
		kt_kexit_tally_run(t, ev->vcpu);
	}
}

static int by_count(const void *a, const void *b)
{
	const struct kt_kexit_row *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

/* The table, most frequent first; time only where an entry followed. */
static void print_rows(const struct kt_kexit_tally *t)
{
	size_t n = kt_buf_count(&t->rows, struct kt_kexit_row);
	struct kt_kexit_row *rows = malloc((n + 1) * sizeof(*rows));

	if (!rows)
		return;
	if (n)
		memcpy(rows, t->rows.data, n * sizeof(*rows));
	qsort(rows, n, sizeof(*rows), by_count);
	printf("%-32s %12s %14s %10s\n", "kernel exit reason", "count", "total_us", "avg_us");
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].timed) {
			printf("%-32s %12" PRIu64 " %14s %10s\n", rows[i].name, rows[i].count,
			       "-", "-");
			continue;
		}
		printf("%-32s %12" PRIu64 " %14.1f %10.2f\n", rows[i].name, rows[i].count,
		       (double)rows[i].ns / 1e3, (double)rows[i].ns / 1e3 / (double)rows[i].timed);
	}
	printf("%-32s %12" PRIu64 "\n", "lost", t->lost);
	free(rows);
}

void cli_print_kexit_stats(const struct kt_header *hdr, const struct kt_kexit_tally *t)
{
	struct kt_kexits_hdr h;
	const char *info = kt_header_string(hdr, KT_HDR_KEXITS_INFO);

	if (kt_kexits_hdr_of(hdr, &h))
		return;  /* not asked for when recording: nothing to say */
	putchar('\n');
	if (h.state != KT_KEXITS_ON) {
		printf("kernel exits: not recorded: %s\n", info ? info : "?");
		return;
	}
	printf("kernel exits captured: %s\n", info ? info : "?");
	print_rows(t);
}
