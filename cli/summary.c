/* How a run went, for people (-v) and for tests (--summary-json). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "recorder/decode.h"
#include "recorder/kvm_names.h"

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

#define REG(name) { #name, offsetof(struct kvm_regs, name) }
static const struct {
	const char *name;
	size_t offset;
} regs_fields[] = {
	REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi), REG(rsp),
	REG(rbp), REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13),
	REG(r14), REG(r15), REG(rip), REG(rflags),
};

static void json_regs(FILE *f, const struct kvm_regs *r)
{
	for (size_t i = 0; i < sizeof(regs_fields) / sizeof(regs_fields[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)r + regs_fields[i].offset, sizeof(v));
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", regs_fields[i].name, v);
	}
}

static void json_exits(FILE *f, const struct kt_machine *m)
{
	const char *sep = "";

	for (unsigned r = 0; r < KT_MAX_EXIT_REASON; r++)
		if (exits_of(m, r)) {
			fprintf(f, "%s\"%s\": %" PRIu64, sep, reason_name(r), exits_of(m, r));
			sep = ", ";
		}
}

static void json_memory(FILE *f, const struct kt_machine *m,
			const struct kt_run_options *o)
{
	for (unsigned i = 0; i < o->npeeks; i++) {
		const void *p = kt_guest_ptr((struct kt_machine *)m, o->peek[i], 8);
		uint64_t v = 0;

		if (p)
			memcpy(&v, p, sizeof(v));
		fprintf(f, "%s\"0x%" PRIx64 "\": ", i ? ", " : "", o->peek[i]);
		if (p)
			fprintf(f, "%" PRIu64, v);
		else
			fputs("null", f);
	}
}

int cli_write_summary_json(const struct kt_machine *m,
			   const struct kt_run_options *o, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return kt_fail(-errno, "--summary-json %s: %s", path, strerror(errno));
	fprintf(f, "{\"end\": \"%s\", \"status\": %d, \"exits\": {",
		end_name(m->outcome.reason), m->outcome.status);
	json_exits(f, m);
	fprintf(f, "}, \"total_exits\": %" PRIu64 ", \"vcpus\": [",
		(uint64_t)m->total_exits);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		fprintf(f, "%s{\"index\": %u, \"exits\": %" PRIu64 ", \"regs\": {",
			i ? ", " : "", i, m->vcpu[i].exits);
		if (m->vcpu[i].have_final_regs)
			json_regs(f, &m->vcpu[i].final_regs);
		fputs("}}", f);
	}
	fputs("], \"memory\": {", f);
	json_memory(f, m, o);
	fputs("}}\n", f);
	if (fclose(f))
		return kt_fail(-errno, "--summary-json %s: %s", path, strerror(errno));
	return 0;
}
