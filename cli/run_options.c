#include "cli/run_options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "harness/guest_abi.h"
#include "harness/x86_modes.h"

/* strtoull() and strtod() accept signs and leading blanks; we do not. */
static bool starts_like_a_number(const char *s)
{
	return s && *s && *s != '-' && *s != '+' && *s != ' ';
}

/* The number s starts with (decimal or 0x hex); *end after it. */
static int leading_u64(const char *s, unsigned long long *v, char **end)
{
	if (!starts_like_a_number(s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 0);
	return errno || *end == s ? -EINVAL : 0;
}

int kt_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (leading_u64(s, &v, &end) || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct {
	const char *suffix;
	unsigned shift;
} size_suffixes[] = {
	{ "", 0 }, { "K", 10 }, { "KiB", 10 }, { "k", 10 }, { "M", 20 },
	{ "MiB", 20 }, { "G", 30 }, { "GiB", 30 },
};

int kt_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (leading_u64(s, &v, &end))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(size_suffixes) / sizeof(size_suffixes[0]); i++) {
		unsigned shift = size_suffixes[i].shift;

		if (strcmp(end, size_suffixes[i].suffix) != 0)
			continue;
		if (shift && v > (~0ull >> shift))
			return -ERANGE;
		*out = v << shift;
		return 0;
	}
	return -EINVAL;
}

int kt_parse_seconds(const char *s, uint64_t *ms)
{
	char *end;
	double v;

	if (!starts_like_a_number(s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	*ms = (uint64_t)llround(v * 1000.0);
	return 0;
}

void kt_run_options_init(struct kt_run_options *o)
{
	memset(o, 0, sizeof(*o));
	kt_config_init(&o->cfg);
}

enum { OPT_SUMMARY = 256, OPT_PEEK, OPT_MAX_EXITS, OPT_FORCE, OPT_KVM,
       OPT_GUEST_ARG, OPT_NO_SANDBOX, OPT_KEXITS, OPT_KEXIT_KINDS };

static const struct option run_longopts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "mem", required_argument, NULL, 'M' },
	{ "vcpus", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ "max-exits", required_argument, NULL, OPT_MAX_EXITS },
	{ "guest-arg", required_argument, NULL, OPT_GUEST_ARG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "summary-json", required_argument, NULL, OPT_SUMMARY },
	{ "peek", required_argument, NULL, OPT_PEEK },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "kvm-device", required_argument, NULL, OPT_KVM },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ "kernel-exits", optional_argument, NULL, OPT_KEXITS },
	{ "kernel-exit-kinds", required_argument, NULL, OPT_KEXIT_KINDS },
	{ 0 },
};

static int bad(const char *opt, const char *value, const char *why)
{
	return kt_fail(-EINVAL, "%s '%s': %s", opt, value, why);
}

static int set_mem(struct kt_config *c, const char *v)
{
	uint64_t bytes;

	if (kt_parse_size(v, &bytes))
		return bad("--mem", v, "not a size (examples: 2M, 64MiB, 0x400000)");
	if (bytes < GUEST_MIN_RAM || bytes > GUEST_MAX_RAM)
		return bad("--mem", v, "must be between 2 MiB and 3 GiB");
	if (bytes & 0xfff)
		return bad("--mem", v, "must be a multiple of 4 KiB");
	c->mem_bytes = bytes;
	return 0;
}

static int set_vcpus(struct kt_config *c, const char *v)
{
	uint64_t n;

	if (kt_parse_u64(v, &n) || n < 1 || n > GUEST_MAX_VCPUS)
		return bad("--vcpus", v, "must be a whole number from 1 to 16");
	c->vcpus = (unsigned)n;
	return 0;
}

static int set_peek(struct kt_run_options *o, const char *v)
{
	uint64_t gpa;

	if (kt_parse_u64(v, &gpa))
		return bad("--peek", v, "not a guest physical address");
	if (o->npeeks == KT_MAX_PEEKS)
		return bad("--peek", v, "at most 16 addresses");
	o->peek[o->npeeks++] = gpa;
	return 0;
}

static int record_only(struct kt_run_options *o, const char *opt)
{
	if (!o->allow_record_options)
		return kt_fail(-EINVAL, "%s: only for 'kvmtrace record'", opt);
	return 0;
}

/* --kernel-exits (if this host can) or --kernel-exits=require. */
static int set_kexits(struct kt_run_options *o, const char *v)
{
	if (!v)
		o->kexits.mode = KT_KEXITS_WANTED;
	else if (!strcmp(v, "require"))
		o->kexits.mode = KT_KEXITS_REQUIRED;
	else
		return bad("--kernel-exits", v, "the only value is 'require'");
	return record_only(o, "--kernel-exits");
}

static int set_kexit_kinds(struct kt_run_options *o, const char *v)
{
	char why[256];

	if (kt_kexits_parse_kinds(v, &o->kexits.kinds)) {
		snprintf(why, sizeof(why), "%s", kt_last_error());  /* bad() rewrites it */
		return bad("--kernel-exit-kinds", v, why);
	}
	if (o->kexits.mode == KT_KEXITS_OFF)
		o->kexits.mode = KT_KEXITS_WANTED;
	return record_only(o, "--kernel-exit-kinds");
}

static int apply_option(struct kt_run_options *o, int c, const char *v)
{
	struct kt_config *cfg = &o->cfg;

	switch (c) {
	case 'm':
		return x86_mode_from_name(v, &cfg->mode) ?
			bad("--mode", v, "must be long, real, protected or paged32") : 0;
	case 'M':
		return set_mem(cfg, v);
	case 'n':
		return set_vcpus(cfg, v);
	case 't':
		return kt_parse_seconds(v, &cfg->timeout_ms) ?
			bad("--timeout", v, "not a number of seconds (0: none)") : 0;
	case OPT_MAX_EXITS:
		return kt_parse_u64(v, &cfg->max_exits) ?
			bad("--max-exits", v, "not a whole number (0: no limit)") : 0;
	case OPT_GUEST_ARG:
		return kt_parse_u64(v, &cfg->guest_arg) ?
			bad("--guest-arg", v, "not a whole number") : 0;
	case 'v':
		o->verbose = true;
		return 0;
	case OPT_SUMMARY:
		o->summary_json = v;
		return 0;
	case OPT_PEEK:
		return set_peek(o, v);
	case 'o':
		o->output = v;
		return record_only(o, "--output");
	case OPT_FORCE:
		o->force = true;
		return record_only(o, "--force");
	case OPT_KVM:
		cfg->kvm_path = v;
		return 0;
	case OPT_NO_SANDBOX:
		o->no_sandbox = true;
		return 0;
	case OPT_KEXITS:
		return set_kexits(o, v);
	case OPT_KEXIT_KINDS:
		return set_kexit_kinds(o, v);
	default:
		return -EINVAL;
	}
}

int kt_parse_run_options(int argc, char **argv, struct kt_run_options *o)
{
	int c, ret;

	optind = 0;  /* full reset: units call this repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "m:M:n:t:vo:", run_longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *arg = argv[optind - 1];

			return kt_fail(-EINVAL, "%s: %s", arg,
				       c == ':' ? "needs a value" : "unknown option");
		}
		if ((ret = apply_option(o, c, optarg)))
			return ret;
	}
	if (optind >= argc)
		return kt_fail(-EINVAL, "missing the guest image (usage: kvmtrace "
			       "%s GUEST.bin [options])", argv[0]);
	if (optind != argc - 1)
		return kt_fail(-EINVAL, "one guest image only, got '%s' too",
			       argv[optind + 1]);
	o->cfg.guest_path = argv[optind];
	o->command = argv[0];
	return 0;
}
