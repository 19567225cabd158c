/* kvmtrace: run, record, show, replay and diff KVM guests. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/exit_status.h"

static int cmd_help(int argc, char **argv);

static const struct cli_command commands[] = {
	{ "run", cmd_run, "run a guest under KVM",
	  "usage: kvmtrace run GUEST.bin [options]\n"
	  "Runs a flat guest binary (docs/guest-abi.md) under /dev/kvm; the guest's\n"
	  "console (port 0xE9) goes to stdout.\n"
	  "  --mode MODE        long (default), real, protected or paged32\n"
	  "  --mem SIZE         guest RAM from GPA 0 (default 2M, 2M..3G, 4 KiB multiple)\n"
	  "  --vcpus N          vCPUs, 1..16 (default 1); RDI = index, RSI = N\n"
	  "  --guest-arg N      value handed to the guest in RDX (default 0)\n"
	  "  --timeout S        end the run after S seconds (default 10, 0: none)\n"
	  "  --max-exits N      end the run after N exits (default: no limit)\n"
	  "  -v, --verbose      summary on stderr: exits by reason, final registers\n"
	  "  --summary-json F   write the outcome as JSON to F\n"
	  "  --peek GPA         include the u64 at GPA in --summary-json (up to 16)\n"
	  "  --kvm-device PATH  use PATH instead of /dev/kvm\n"
	  "  --no-sandbox       run without the seccomp sandbox (README.md)\n"
	  "Exit status: 0 halted; odd: guest exit device ((v<<1)|1); 2 usage;\n"
	  "4 bad guest image (missing, empty, not a regular file, too big); 6 no\n"
	  "usable /dev/kvm; 8 KVM ioctl failed; 10 triple fault; 12 guest error\n"
	  "(entry failure, internal error); 14 timeout or exit limit; 18\n"
	  "interrupted; 20 internal error; 22 sandbox (a forbidden system call).\n" },
	{ "record", cmd_record, "run a guest and write its trace",
	  "usage: kvmtrace record GUEST.bin [-o TRACE.zst] [--force]\n"
	  "                       [--kernel-exits[=require]] [--kernel-exit-kinds LIST]\n"
	  "                       [run options]\n"
	  "Runs like `kvmtrace run` and writes every KVM ioctl, exit, register\n"
	  "snapshot and guest-memory write to a zstd trace (docs/trace-format.md).\n"
	  "  -o, --output FILE  trace file (default: the guest's base name with .zst,\n"
	  "                     in the current directory)\n"
	  "  --force            overwrite an existing trace file\n"
	  "  --kernel-exits     also the exits KVM handles in the kernel (CPUID, MSRs,\n"
	  "                     emulated instructions, ...), from the kvm tracepoints\n"
	  "                     through BPF; needs CAP_BPF and CAP_PERFMON (or root).\n"
	  "                     Off by default: it needs privilege and costs time.\n"
	  "                     Where it cannot be done, one line says why, the\n"
	  "                     header says so and the trace is written without them\n"
	  "  --kernel-exits=require  or fail with status 24, writing no trace\n"
	  "  --kernel-exit-kinds LIST  only these (exit,entry,pio,mmio,msr,cpuid,\n"
	  "                     hypercall,emulate,inj_exception; kvm_exit and\n"
	  "                     kvm_entry always); implies --kernel-exits\n"
	  "Exit status: as `kvmtrace run`; SIGINT/SIGTERM end the run, finish the\n"
	  "trace and exit 18; 24 --kernel-exits=require and in-kernel exits cannot\n"
	  "be captured here (no privilege, no tracefs or kvm tracepoints, no BPF);\n"
	  "22 sandbox.  The header says whether the sandbox was on.\n"
	  "\n"
	  "usage: kvmtrace record [-o TRACE.zst] [--force] [--memory-changes]\n"
	  "                       [--kernel-exits[=require]] [--kernel-exit-kinds LIST]\n"
	  "                       -- PROGRAM [ARGS...]\n"
	  "Runs a VMM of your own (QEMU, kvmtool, ...) with kvmtrace's shim preloaded\n"
	  "(libkvmtrace-shim.so, beside kvmtrace) and records its KVM ioctls from every\n"
	  "thread, its exits and a regs/sregs snapshot per exit, into the same trace\n"
	  "format; the header holds its command line.  Guest memory the VMM writes\n"
	  "outside any ioctl is kept for replay: each memory slot's contents at the\n"
	  "first KVM_RUN after it is set.  Default trace: PROGRAM's base name + .zst.\n"
	  "PROGRAM is not sandboxed.\n"
	  "  --memory-changes   also the pages that changed, before every KVM_RUN (a\n"
	  "                     hash of all guest memory per exit): replay is exact;\n"
	  "                     without it, replay stops with status 2 where the\n"
	  "                     trace parts from what it did not capture\n"
	  "  --kernel-exits     in-kernel exits of PROGRAM's vCPU threads (as above)\n"
	  "Exit status: PROGRAM's own (128+N: killed by signal N); kvmtrace's own\n"
	  "troubles (a line on stderr): 2 usage; 4 PROGRAM not found or not\n"
	  "executable, trace file exists; 6 no usable KVM; 20 the trace could not be\n"
	  "written; 24 --kernel-exits=require and none here; 26 PROGRAM cannot be\n"
	  "recorded: statically linked (no dynamic loader), not x86-64, or it never\n"
	  "opened /dev/kvm.\n" },
	{ "show", cmd_show, "print a trace, one line per event",
	  "usage: kvmtrace show TRACE.zst [-v] [--json] [--stats] [--header] [--no-sandbox]\n"
	  "  -v           the header, and full regs and sregs at every exit\n"
	  "  --json       JSON Lines, one object per event (docs/trace-format.md)\n"
	  "  --stats      count and time per ioctl and per exit reason, and in-kernel\n"
	  "               exits (record --kernel-exits) by reason, exit-to-entry time\n"
	  "  --header     the trace header only\n"
	  "  --no-sandbox read without the seccomp sandbox\n"
	  "Exit status: 0 read to the end; 2 usage; 4 not a readable trace (missing,\n"
	  "not a regular file, not a trace, newer format, corrupt); 16 trace\n"
	  "truncated (what was readable is printed); 22 sandbox.\n" },
	{ "replay", cmd_replay, "re-run a trace on this kernel and report divergences",
	  "usage: kvmtrace replay TRACE.zst [--json] [-o NEW.zst [--force]]\n"
	  "                      [--runs N [--ignore-out FILE]] [--ignore PATTERN]\n"
	  "                      [--ignore-file FILE] [--strict-env] [--kvm-device PATH]\n"
	  "                      [--kernel-exits[=require]] [--no-sandbox]\n"
	  "Re-issues the trace's ioctls on this kernel and reports every divergence\n"
	  "(event, ioctl, field path, recorded -> replayed).  Differences that only\n"
	  "restate the host (kernel, CPU, capabilities, supported CPUID) come first,\n"
	  "once each, as environment, and do not make the status 1.\n"
	  "  --json             JSON Lines: one object per divergence\n"
	  "  -o NEW.zst         also write the replay as a trace of its own\n"
	  "  --runs N           replay N times and list the fields that change from\n"
	  "                     run to run (to FILE with --ignore-out) as an ignore file\n"
	  "  --ignore PATTERN   skip fields matching PATTERN (fnmatch on field paths)\n"
	  "  --ignore-file FILE patterns, one a line\n"
	  "  --strict-env       count environment differences as divergences\n"
	  "  --kernel-exits     capture the replay's own in-kernel exits and compare\n"
	  "                     them with the trace's (kexits.count.*, kexits.sequence,\n"
	  "                     kexit.*); where they cannot be captured, one line and\n"
	  "                     a replay without them; =require: status 2 instead\n"
	  "  --no-sandbox       replay without the seccomp sandbox; in it, only the\n"
	  "                     KVM requests the trace holds may be issued\n"
	  "Exit status: 0 identical (environment aside), 1 diverged, 2 trouble (also\n"
	  "a request that is not a KVM ioctl kvmtrace knows); 22 sandbox.\n" },
	{ "diff", cmd_diff, "compare two traces field by field",
	  "usage: kvmtrace diff OLD.zst NEW.zst [--json] [--stat] [--ignore PATTERN]\n"
	  "                     [--only PATTERN] [--ignore-file FILE] [--strict-env]\n"
	  "                     [--no-sandbox]\n"
	  "Aligns the two event streams and compares aligned events field by field;\n"
	  "environment differences (the hosts) come first, once each.\n"
	  "  --json             JSON Lines: one object per difference\n"
	  "  --stat             how often each field path differs\n"
	  "  --ignore PATTERN   skip fields matching PATTERN (fnmatch on field paths)\n"
	  "  --only PATTERN     compare only fields matching PATTERN\n"
	  "  --ignore-file FILE patterns, one a line\n"
	  "  --strict-env       count environment differences as differences\n"
	  "  --no-sandbox       read without the seccomp sandbox\n"
	  "Exit status: 0 same (environment aside), 1 different, 2 trouble; 22 sandbox.\n" },
	{ "help", cmd_help, "help on a command", "usage: kvmtrace help [COMMAND]\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_overview(FILE *f)
{
	fputs("usage: kvmtrace COMMAND [ARGS...]\n"
	      "A KVM ioctl trace-and-replay testing harness.\n\ncommands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n`kvmtrace help COMMAND` for a command's options; --version.\n", f);
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		print_overview(stdout);
		return KT_OK;
	}
	c = find_command(argv[1]);
	if (!c)
		return cli_errorf(KT_USAGE, "help: no such command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return KT_OK;
}

/* stdio sizes a stream's buffer on its first write with fstat() (and
 * isatty(), an ioctl): both forbidden in the sandbox.  Giving stdout its
 * buffer now, line-buffered on a terminal as stdio would, means printing
 * never needs them.  stderr is unbuffered and never asks. */
static void prepare_stdout(void)
{
	static char buf[BUFSIZ];

	setvbuf(stdout, buf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof(buf));
}

/* kvmtrace --sandbox-selftest=WHAT COMMAND ... (tests only, not in --help). */
static int take_selftest(int *argc, char ***argv)
{
	static const char opt[] = "--sandbox-selftest=";
	const char *what;

	if (*argc < 2 || strncmp((*argv)[1], opt, sizeof(opt) - 1))
		return 0;
	what = (*argv)[1] + sizeof(opt) - 1;
	if (!kt_sandbox_selftest_known(what))
		return cli_errorf(KT_USAGE, "--sandbox-selftest: no self-test '%s'", what);
	cli_sandbox_selftest = what;
	(*argv)[1] = (*argv)[0];
	(*argv)++;
	(*argc)--;
	return 0;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	int status;

	prepare_stdout();
	if ((status = take_selftest(&argc, &argv)))
		return status;
	if (argc < 2) {
		print_overview(stderr);
		return KT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_overview(stdout);
		return KT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kvmtrace %s\n", KVMTRACE_VERSION);
		return KT_OK;
	}
	c = find_command(argv[1]);
	if (!c)
		return cli_errorf(KT_USAGE, "'%s' is not a command (see kvmtrace --help)",
				  argv[1]);
	/* Not past "--": what follows is PROGRAM's (record -- PROGRAM --help). */
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->usage, stdout);
			return KT_OK;
		}
	return c->run(argc - 1, argv + 1);
}
