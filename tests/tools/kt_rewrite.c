/* Test-only trace rewriter: copies a trace event by event through the real
 * reader and writer, changing exactly one thing, so tests can check that
 * diff and replay point at exactly that event and field.
 *   kt-rewrite IN OUT --flip-out EVENT OFFSET   XOR 0x01 into byte OFFSET of
 *                                               an ioctl event's out bytes
 *   kt-rewrite IN OUT --drop EVENT              leave one event out
 *   kt-rewrite IN OUT --truncate-after EVENT    stop without an END record
 *   kt-rewrite IN OUT --request EVENT NUMBER    give an ioctl event another
 *                                               request number
 *   kt-rewrite IN OUT --ret EVENT VALUE         give an ioctl event another
 *                                               return value
 *   kt-rewrite IN OUT --flip-body EVENT OFFSET  XOR 0x01 into byte OFFSET of
 *                                               a KEXIT event's body
 *   kt-rewrite IN OUT --copy                    change nothing: the trace in
 *                                               the format this build writes */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

enum action { FLIP_OUT, DROP, TRUNCATE, REQUEST, RET, FLIP_BODY };

static int copy_event(struct kt_writer *w, const struct kt_event *ev, uint8_t *scratch)
{
	switch (ev->type) {
	case KT_REC_IOCTL:
		memcpy(scratch, ev->out, ev->ioctl->out_len);
		kt_writer_ioctl(w, ev->vcpu, ev->ioctl, ev->in, scratch);
		return 0;
	case KT_REC_SNAPSHOT:
		kt_writer_snapshot(w, ev->vcpu, (const void *)ev->body);
		return 0;
	case KT_REC_MEMWRITE:
		kt_writer_memwrite(w, *(const uint64_t *)ev->body, ev->body + 8, ev->len - 8);
		return 0;
	case KT_REC_DIGEST:
		kt_writer_digest(w, (const void *)ev->body,
				 (const uint64_t *)(ev->body + sizeof(struct kt_digest_body)));
		return 0;
	case KT_REC_END:
		kt_writer_end(w, (const void *)ev->body);
		return 0;
	case KT_REC_KEXIT:
		kt_writer_kexit(w, ev->vcpu, (const void *)ev->body);
		return 0;
	case KT_REC_KEXIT_LOST:
		kt_writer_kexit_lost(w, ev->vcpu, (const void *)ev->body);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	enum action act;
	unsigned long long target, offset = 0;
	struct kt_reader *r;
	struct kt_writer *w;
	struct kt_event ev;
	const uint8_t *hdr;
	size_t hlen;
	int err, ret;
	static uint8_t scratch[1 << 20];

	/* --copy: "drop" an event that never comes. */
	bool copy = argc == 4 && !strcmp(argv[3], "--copy");

	act = copy ? DROP : argc < 5 ? TRUNCATE : !strcmp(argv[3], "--flip-out") ? FLIP_OUT :
	      !strcmp(argv[3], "--drop") ? DROP : !strcmp(argv[3], "--request") ? REQUEST :
	      !strcmp(argv[3], "--ret") ? RET : !strcmp(argv[3], "--flip-body") ? FLIP_BODY :
	      TRUNCATE;
	if (!copy && (argc < 5 || (act != DROP && act != TRUNCATE && argc < 6))) {
		fprintf(stderr, "usage: kt-rewrite IN OUT --flip-out EVENT OFFSET | "
			"--drop EVENT | --truncate-after EVENT | --request EVENT NUMBER | "
			"--ret EVENT VALUE | --flip-body EVENT OFFSET | --copy\n");
		return 2;
	}
	target = copy ? UINT64_MAX : strtoull(argv[4], NULL, 0);
	if (act != DROP && act != TRUNCATE)
		offset = strtoull(argv[5], NULL, 0);
	if (!(r = kt_reader_open(argv[1], &err)) || !(w = kt_writer_open(argv[2], true, &err))) {
		fprintf(stderr, "kt-rewrite: %s\n", kt_reader_strerror(err));
		return 2;
	}
	hdr = kt_reader_header(r, &hlen);
	kt_writer_header(w, hdr, hlen);
	while ((ret = kt_reader_next(r, &ev)) == 1) {
		uint64_t i = kt_reader_index(r) - 1;

		if (i == target && act == DROP)
			continue;
		if (i == target && act == FLIP_OUT) {
			if (ev.type != KT_REC_IOCTL || offset >= ev.ioctl->out_len) {
				fprintf(stderr, "kt-rewrite: event %llu has no out byte %llu\n",
					target, offset);
				return 2;
			}
			memcpy(scratch, ev.out, ev.ioctl->out_len);
			scratch[offset] ^= 1;
			kt_writer_ioctl(w, ev.vcpu, ev.ioctl, ev.in, scratch);
			continue;
		}
		if (i == target && act == FLIP_BODY) {
			struct kt_kexit_body k;

			if (ev.type != KT_REC_KEXIT || offset >= sizeof(k)) {
				fprintf(stderr, "kt-rewrite: event %llu is not a KEXIT with byte "
					"%llu\n", target, offset);
				return 2;
			}
			memcpy(&k, ev.body, sizeof(k));
			((uint8_t *)&k)[offset] ^= 1;
			kt_writer_kexit(w, ev.vcpu, &k);
			continue;
		}
		if (i == target && (act == REQUEST || act == RET) && ev.type == KT_REC_IOCTL) {
			struct kt_ioctl_body b = *ev.ioctl;

			if (act == REQUEST)
				b.request = (uint32_t)offset;
			else
				b.ret = (int64_t)offset;
			kt_writer_ioctl(w, ev.vcpu, &b, ev.in, ev.out);
			continue;
		}
		copy_event(w, &ev, scratch);
		if (i == target && act == TRUNCATE)
			break;
	}
	kt_reader_close(r);
	return kt_writer_close(w) ? 2 : 0;
}
