/* kvmtrace show: a trace, one line per event, strace style. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/exit_status.h"
#include "common/file.h"
#include "common/kvm_names.h"
#include "decode/decode.h"
#include "trace/run_bytes.h"
#include "trace/trace_reader.h"

static const char usage[] =
	"usage: kvmtrace show TRACE.zst [-v] [--json] [--stats] [--header] [--no-sandbox]\n";

struct show_opts {
	bool verbose, json, stats, header_only, no_sandbox;
	const char *path;
};

#define STAT_SLOTS 512

struct stat_row {
	char name[40];  /* a copy: an unknown request's name is made up here */
	uint64_t count, ns;
};

struct show_stats {
	struct stat_row ioctls[STAT_SLOTS], exits[STAT_SLOTS];
};

static void stat_add(struct stat_row *rows, const char *name, uint64_t ns)
{
	for (unsigned i = 0; i < STAT_SLOTS; i++)
		if (!rows[i].name[0] || !strcmp(rows[i].name, name)) {
			snprintf(rows[i].name, sizeof(rows[i].name), "%s", name);
			rows[i].count++;
			rows[i].ns += ns;
			return;
		}
}

static void stat_print(const char *title, const struct stat_row *rows)
{
	printf("%-32s %12s %14s %10s\n", title, "count", "total_us", "avg_us");
	for (unsigned i = 0; i < STAT_SLOTS && rows[i].name[0]; i++)
		printf("%-32s %12" PRIu64 " %14.1f %10.2f\n", rows[i].name, rows[i].count,
		       (double)rows[i].ns / 1e3, (double)rows[i].ns / 1e3 / (double)rows[i].count);
}

static const char *request_name(uint32_t req, char *buf, size_t size)
{
	const char *name = kvm_ioctl_name(req);

	if (name)
		return name;
	snprintf(buf, size, "0x%x", req);
	return buf;
}

static uint32_t exit_reason(const struct kt_event *ev)
{
	return kt_run_out_reason(ev->out, ev->ioctl->out_len);
}

/* vcpu0 ioctl(KVM_RUN) = 0 -> IO direction=out port=0xe9 size=1 count=1 data="H" */
static void text_ioctl(struct kt_sink *s, const struct kt_event *ev)
{
	const struct kt_ioctl_body *b = ev->ioctl;
	char name[16], fd[KT_FD_NAME_MAX];

	printf("%s ioctl(%s", kt_fd_name(fd, b->role, ev->vcpu),
	       request_name(b->request, name, sizeof(name)));
	kt_sink_reset(s);
	if (b->request != KVM_RUN)
		decode_ioctl_args(s, b->request, ev->in, b->in_len, NULL, 0);
	if (s->out.len)
		printf(",%s", kt_sink_str(s));
	printf(") = %" PRId64, b->ret);
	if (b->ret < 0)
		printf(" %s (%s)", strerrorname_np(b->err) ? strerrorname_np(b->err) : "?",
		       strerror(b->err));
	kt_sink_reset(s);
	if (b->request == KVM_RUN && b->ret >= 0) {
		const char *reason = kvm_exit_reason_name(exit_reason(ev));

		decode_exit_payload(s, ev->out, b->out_len);
		printf(" -> %s%s", reason ? reason : "UNKNOWN", kt_sink_str(s));
	} else if (b->out_len && b->ret >= 0 && b->request != KVM_RUN) {
		decode_ioctl_args(s, b->request, NULL, 0, ev->out, b->out_len);
		if (s->out.len)
			printf(" ->%s", kt_sink_str(s));
	}
	putchar('\n');
}

static void text_event(struct kt_sink *s, const struct kt_event *ev, bool verbose)
{
	if (ev->type == KT_REC_IOCTL) {
		text_ioctl(s, ev);
		return;
	}
	if (ev->type == KT_REC_SNAPSHOT && !verbose)
		return;
	kt_sink_reset(s);
	decode_event(s, ev);
	printf("%s\n", kt_sink_str(s) + 1);  /* skip the leading separator */
}

static void json_event(struct kt_sink *s, const struct kt_event *ev, uint64_t index)
{
	kt_sink_reset(s);
	s->ops->begin(s, NULL);
	kt_dec(s, "index", index);
	decode_event(s, ev);
	s->ops->end(s);
	puts(kt_sink_str(s));
}

static void count_event(struct show_stats *st, const struct kt_event *ev)
{
	const char *name;
	char buf[16];

	if (ev->type != KT_REC_IOCTL)
		return;
	stat_add(st->ioctls, request_name(ev->ioctl->request, buf, sizeof(buf)),
		 ev->ioctl->dur_ns);
	if (ev->ioctl->request == KVM_RUN && ev->ioctl->ret >= 0) {
		name = kvm_exit_reason_name(exit_reason(ev));
		stat_add(st->exits, name ? name : "UNKNOWN", ev->ioctl->dur_ns);
	}
}

static void print_header(struct kt_reader *r, bool json)
{
	struct kt_sink s;
	size_t len;
	const uint8_t *tlv = kt_reader_header(r, &len);

	json ? kt_sink_json(&s) : kt_sink_text(&s);
	if (json) {
		s.ops->begin(&s, NULL);
		s.ops->str(&s, "type", "header");
	}
	decode_header(&s, tlv, len);
	if (json)
		s.ops->end(&s);
	puts(json ? kt_sink_str(&s) : kt_sink_str(&s) + 1);
	kt_sink_free(&s);
}

static int parse(int argc, char **argv, struct show_opts *o)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' }, { "json", no_argument, NULL, 'j' },
		{ "stats", no_argument, NULL, 's' }, { "header", no_argument, NULL, 'H' },
		{ "no-sandbox", no_argument, NULL, 'N' }, { 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': o->verbose = true; break;
		case 'j': o->json = true; break;
		case 's': o->stats = true; break;
		case 'H': o->header_only = true; break;
		case 'N': o->no_sandbox = true; break;
		default:
			fprintf(stderr, "kvmtrace show: %s: unknown option\n%s", argv[optind - 1], usage);
			return KT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "kvmtrace show: %s\n%s", optind >= argc ?
			"missing the trace file" : "one trace file only", usage);
		return KT_USAGE;
	}
	o->path = argv[optind];
	return 0;
}

int cmd_show(int argc, char **argv)
{
	struct show_opts o = { 0 };
	static struct show_stats st;
	struct kt_reader *r;
	struct kt_event ev;
	struct kt_sink s;
	int err, ret, status, fd;

	if ((status = parse(argc, argv, &o)))
		return status;
	if ((fd = kt_open_regular(o.path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_error(KT_BAD_INPUT);
	/* In the sandbox before the first byte of the trace is read. */
	if ((status = cli_enter_sandbox(o.no_sandbox, "show", KT_SANDBOX_READ, NULL, 0))) {
		close(fd);
		return status;
	}
	if (!(r = kt_reader_open_fd(fd, &err)))
		return cli_errorf(err == KT_E_TRUNCATED ? KT_TRACE_TRUNCATED : KT_BAD_INPUT,
				  "%s: %s", o.path, kt_reader_strerror(err));
	if (o.header_only || (!o.stats && o.verbose && !o.json))
		print_header(r, o.json);
	if (o.header_only) {
		kt_reader_close(r);
		return KT_OK;
	}
	o.json ? kt_sink_json(&s) : kt_sink_text(&s);
	while ((ret = kt_reader_next(r, &ev)) == 1) {
		if (o.stats)
			count_event(&st, &ev);
		else if (o.json)
			json_event(&s, &ev, kt_reader_index(r) - 1);
		else
			text_event(&s, &ev, o.verbose);
	}
	if (o.stats) {
		stat_print("ioctl", st.ioctls);
		putchar('\n');
		stat_print("exit reason", st.exits);
	}
	kt_sink_free(&s);
	status = KT_OK;
	if (ret < 0)
		status = cli_errorf(ret == KT_E_TRUNCATED ? KT_TRACE_TRUNCATED : KT_BAD_INPUT,
				    "%s: %s after event %" PRIu64, o.path, kt_reader_strerror(ret),
				    kt_reader_index(r));
	kt_reader_close(r);
	return status;
}
