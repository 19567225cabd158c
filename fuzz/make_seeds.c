/* fuzz-seeds OUTDIR TRACE...: the seed corpora, cut from real traces (the
 * goldens in traces/) at build time so no binary corpus is checked in:
 *   OUTDIR/reader/  each trace whole
 *   OUTDIR/header/  each header's TLV body
 *   OUTDIR/decode/  each record, ioctl argument and exit payload, framed as
 *                   fuzz/fuzz_decode.c reads them (a few per kind per trace)
 *   OUTDIR/diff/    each trace against the next one given and itself, framed
 *                   as fuzz/fuzz_diff.c reads them
 * Files are named by their XXH64, so equal seeds are one file. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/hash.h"
#include "trace/trace_reader.h"

#define PER_KIND 6  /* seeds of one record type or request, per trace */

static const char *outdir;

static int save(const char *kind, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, kind);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%016" PRIx64, outdir, kind, kt_xxh64(p, n));
	if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "fuzz-seeds: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/* kind-specific framing: a lead byte (or bytes), then the parts. */
static int save_framed(const char *kind, const void *lead, size_t nlead, const void *a,
		       size_t na, const void *b, size_t nb)
{
	struct kt_buf buf = { 0 };
	int ret = kt_buf_put(&buf, lead, nlead) || kt_buf_put(&buf, a, na) ||
		  kt_buf_put(&buf, b, nb) ? -1 : save(kind, buf.data, buf.len);

	kt_buf_free(&buf);
	return ret;
}

static int slurp(const char *path, struct kt_buf *b)
{
	FILE *f = fopen(path, "rb");
	uint8_t chunk[65536];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (kt_buf_put(b, chunk, n))
			break;
	fclose(f);
	return 0;
}

/* How many seeds of this key were written for the current trace. */
struct tally {
	uint32_t key[256];
	unsigned count[256], n;
};

static bool wanted(struct tally *t, uint32_t key)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->key[i] == key)
			return ++t->count[i] <= PER_KIND;
	if (t->n == 256)
		return false;
	t->key[t->n] = key;
	t->count[t->n++] = 1;
	return true;
}

static int decode_seeds(const struct kt_event *ev, struct tally *t)
{
	uint8_t lead[4] = { 0, ev->type };
	int ret = 0;

	memcpy(lead + 2, &ev->vcpu, sizeof(ev->vcpu));
	if (wanted(t, ev->type << 24 | (ev->ioctl ? ev->ioctl->request & 0xffffff : 0)))
		ret = save_framed("decode", lead, sizeof(lead), ev->body, ev->len, NULL, 0);
	if (!ret && ev->type == KT_REC_IOCTL) {
		const struct kt_ioctl_body *b = ev->ioctl;
		uint8_t args[9] = { 2 };

		memcpy(args + 1, &b->request, 4);
		memcpy(args + 5, &b->in_len, 4);
		ret = save_framed("decode", args, sizeof(args), ev->in, b->in_len, ev->out,
				  b->out_len);
		if (!ret && b->request == KVM_RUN && b->out_len)
			ret = save_framed("decode", "\3", 1, ev->out, b->out_len, NULL, 0);
	}
	return ret;
}

static int one_trace(const char *path, const struct kt_buf *file)
{
	struct tally t = { .n = 0 };
	struct kt_event ev;
	struct kt_reader *r;
	const uint8_t *hdr;
	size_t len;
	int err = 0, ret;

	if (save("reader", file->data, file->len))
		return -1;
	if (!(r = kt_reader_open(path, &err))) {
		fprintf(stderr, "fuzz-seeds: %s: %s\n", path, kt_reader_strerror(err));
		return -1;
	}
	hdr = kt_reader_header(r, &len);
	ret = save("header", hdr, len) || save_framed("decode", "\1", 1, hdr, len, NULL, 0);
	while (!ret && kt_reader_next(r, &ev) == 1)
		ret = decode_seeds(&ev, &t);
	kt_reader_close(r);
	return ret;
}

static int diff_seed(const struct kt_buf *a, const struct kt_buf *b)
{
	uint32_t cut = (uint32_t)a->len;

	return save_framed("diff", &cut, sizeof(cut), a->data, a->len, b->data, b->len);
}

int main(int argc, char **argv)
{
	struct kt_buf prev = { 0 };

	if (argc < 3) {
		fprintf(stderr, "usage: fuzz-seeds OUTDIR TRACE...\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	for (int i = 2; i < argc; i++) {
		struct kt_buf file = { 0 };

		if (slurp(argv[i], &file) || one_trace(argv[i], &file) ||
		    diff_seed(&file, &file) || (prev.len && diff_seed(&prev, &file)))
			return 1;
		kt_buf_free(&prev);
		prev = file;
	}
	kt_buf_free(&prev);
	return 0;
}
