/* How a run went, for people (-v) and for tests (--summary-json). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/file.h"
#include "common/kvm_names.h"
#include "decode/decode.h"

static const char *end_name(enum kt_end_reason r)
{
	const char *name = kt_end_reason_name(r);

	return name ? name : "unknown";
}

static uint64_t exits_of(const struct kt_machine *m, unsigned reason)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m->nvcpus; i++)
		n += m->vcpu[i].exits_by_reason[reason];
	return n;
}

static const char *reason_name(unsigned reason)
{
	const char *name = kvm_exit_reason_name(reason);

	return name ? name : "UNKNOWN";
}

void cli_print_summary(const struct kt_machine *m)
{
	fflush(stdout);
	fprintf(stderr, "kvmtrace: end: %s (status %d), %" PRIu64 " exits\n",
		end_name(m->outcome.reason), m->outcome.status,
		(uint64_t)m->total_exits);
	for (unsigned r = 0; r < KT_MAX_EXIT_REASON; r++)
		if (exits_of(m, r))
			fprintf(stderr, "kvmtrace:   %-16s %" PRIu64 "\n", reason_name(r),
				exits_of(m, r));
	for (unsigned i = 0; i < m->nvcpus; i++) {
		const struct kt_vcpu *v = &m->vcpu[i];

		if (v->have_final_regs)
			fprintf(stderr, "kvmtrace: vCPU %u: rip=0x%llx rax=0x%llx\n", i,
				v->final_regs.rip, v->final_regs.rax);
	}
}

/* The summary is a JSON object built with the decoders' JSON sink, so the
 * registers come out as `show --json` prints them. */
static void json_exits(struct kt_sink *s, const struct kt_machine *m)
{
	s->ops->begin(s, "exits");
	for (unsigned r = 0; r < KT_MAX_EXIT_REASON; r++)
		if (exits_of(m, r))
			kt_dec(s, reason_name(r), exits_of(m, r));
	s->ops->end(s);
}

static void json_vcpus(struct kt_sink *s, const struct kt_machine *m)
{
	s->ops->array(s, "vcpus");
	for (unsigned i = 0; i < m->nvcpus; i++) {
		const struct kt_vcpu *v = &m->vcpu[i];

		s->ops->begin(s, NULL);
		kt_dec(s, "index", i);
		kt_dec(s, "exits", v->exits);
		s->ops->begin(s, "regs");
		if (v->have_final_regs)
			decode_kvm_regs(s, &v->final_regs, sizeof(v->final_regs));
		s->ops->end(s);
		s->ops->end(s);
	}
	s->ops->end(s);
}

/* --peek: the u64 at each address, keyed by the address in hex; null
 * outside guest memory. */
static void json_memory(struct kt_sink *s, const struct kt_machine *m,
			const struct kt_run_options *o)
{
	s->ops->begin(s, "memory");
	for (unsigned i = 0; i < o->npeeks; i++) {
		const void *p = kt_memslots_ptr(&m->mem, o->peek[i], 8);
		char key[24];
		uint64_t v;

		snprintf(key, sizeof(key), "0x%" PRIx64, o->peek[i]);
		if (p && memcpy(&v, p, sizeof(v)))
			kt_dec(s, key, v);
		else
			s->ops->str(s, key, NULL);
	}
	s->ops->end(s);
}

int cli_write_summary_json(const struct kt_machine *m,
			   const struct kt_run_options *o, int fd)
{
	struct kt_sink s;
	int ret;

	kt_sink_json(&s);
	s.ops->begin(&s, NULL);
	s.ops->str(&s, "end", end_name(m->outcome.reason));
	s.ops->i64(&s, "status", m->outcome.status);
	json_exits(&s, m);
	kt_dec(&s, "total_exits", m->total_exits);
	json_vcpus(&s, m);
	json_memory(&s, m, o);
	s.ops->end(&s);
	/* Plain write(): stdio would fstat() the fd, which the sandbox forbids. */
	ret = kt_write_all(fd, kt_sink_str(&s), strlen(kt_sink_str(&s)));
	if (!ret)
		ret = kt_write_all(fd, "\n", 1);
	kt_sink_free(&s);
	return ret ? kt_fail(ret, "--summary-json %s: %s", o->summary_json, strerror(-ret)) : 0;
}
