/* bench-align: how fast kt_align() runs and how much memory it holds on a
 * synthetic pair of long streams.  Both sides are generated on the fly from
 * one base sequence of distinct keys, each side dropping and adding its own
 * scattered events plus one burst longer than max_d, so the edit count the
 * aligner should find is known, and the excess is reported.
 *
 *   bench-align [events] [window] [max_d]     (default 10000000 4096 256)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "replayer/align.h"

#define EDIT_ONE_IN 500   /* each side drops or adds about one event in this many */
#define BURST_AT    3000000
#define BURST_LEN   1000  /* inserted into the new side only: > max_d, < window */

struct side {
	uint64_t seed, rng;
	uint64_t base, end;      /* position in the shared base sequence */
	uint64_t extra;          /* own events still to add before the next base one */
	uint64_t own_serial;
	uint64_t added;          /* own events, each one insertion or deletion */
	int burst_done;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct side *s)
{
	return mix(s->rng += 0x9e3779b97f4a7c15ull);
}

/* Whether a side keeps base event i: decided by a hash of (seed, i) so the
 * generator can also ask it about the other side without storing anything. */
static int keeps(uint64_t seed, uint64_t i)
{
	return mix(seed ^ (i * 0x2545f4914f6cdd1dull)) % EDIT_ONE_IN != 0;
}

static int side_next(void *ctx, uint64_t *key, void **item)
{
	struct side *s = ctx;

	for (;;) {
		if (s->extra) {
			s->extra--;
			s->added++;
			*key = mix(~0ull - s->seed * 1000003 - s->own_serial++);
			*item = (void *)(uintptr_t)1;
			return 1;
		}
		if (s->base == s->end)
			return 0;
		if (s->seed == 2 && s->base == BURST_AT && !s->burst_done) {
			s->extra += BURST_LEN;
			s->burst_done = 1;
		}
		if (rnd(s) % EDIT_ONE_IN == 0)
			s->extra++;
		if (s->extra)
			continue;
		if (keeps(s->seed, s->base)) {
			*key = mix(s->base++);
			*item = (void *)(uintptr_t)1;
			return 1;
		}
		s->base++;
	}
}

static void side_release(void *ctx, void *item)
{
	(void)ctx;
	(void)item;
}

struct tally {
	uint64_t ops[3];
};

static int count(void *ctx, enum kt_align_op op, void *a, void *b, uint64_t ai, uint64_t bi)
{
	(void)a;
	(void)b;
	(void)ai;
	(void)bi;
	((struct tally *)ctx)->ops[op]++;
	return 0;
}

/* A base event in exactly one side is one edit; own additions are one each. */
static uint64_t expected_edits(uint64_t n, uint64_t added)
{
	uint64_t e = added;

	for (uint64_t i = 0; i < n; i++)
		e += keeps(1, i) != keeps(2, i);
	return e;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000;
	struct kt_align_opts o = {
		.window = argc > 2 ? strtoull(argv[2], NULL, 0) : 4096,
		.max_d = argc > 3 ? strtoull(argv[3], NULL, 0) : 256,
	};
	struct side a = { .seed = 1, .rng = 11, .end = n }, b = { .seed = 2, .rng = 22, .end = n };
	struct kt_align_src sa = { side_next, side_release, &a };
	struct kt_align_src sb = { side_next, side_release, &b };
	struct tally t = { { 0 } };
	struct rusage ru;
	double t0 = now(), secs;
	int ret = kt_align(&sa, &sb, &o, count, &t);
	uint64_t events, edits, want;

	secs = now() - t0;
	if (ret < 0) {
		fprintf(stderr, "bench-align: kt_align: %d\n", ret);
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	events = 2 * t.ops[KT_ALIGN_EQUAL] + t.ops[KT_ALIGN_DELETE] + t.ops[KT_ALIGN_INSERT];
	edits = t.ops[KT_ALIGN_DELETE] + t.ops[KT_ALIGN_INSERT];
	want = expected_edits(n, a.added + b.added);
	printf("bench-align: %llu events (old+new) in %.3f s = %.2f M events/s, "
	       "peak RSS %.1f MiB, window %zu, max_d %zu\n",
	       (unsigned long long)events, secs, events / secs / 1e6, ru.ru_maxrss / 1024.0,
	       o.window, o.max_d);
	printf("bench-align: %llu equal, %llu deleted, %llu inserted; %llu edits for %llu "
	       "injected (%lld over)\n",
	       (unsigned long long)t.ops[KT_ALIGN_EQUAL],
	       (unsigned long long)t.ops[KT_ALIGN_DELETE],
	       (unsigned long long)t.ops[KT_ALIGN_INSERT], (unsigned long long)edits,
	       (unsigned long long)want, (long long)(edits - want));
	/* The resync block around the burst may cost a few edits over the
	 * minimum; a cascade would cost thousands. */
	if (ru.ru_maxrss >= 64 * 1024 || events / secs < 1e6 || edits > want + want / 1000) {
		fprintf(stderr, "bench-align: FAIL: below 1M events/s, RSS >= 64 MiB or a cascade\n");
		return 1;
	}
	return 0;
}
