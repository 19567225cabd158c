/* Read the image, build the VM, run it and say how it ended: the part that
 * `run` and `record` share. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "harness/guest_image.h"

int cli_parse_run_options(int argc, char **argv, struct kt_run_options *o,
			  const char *usage)
{
	if (kt_parse_run_options(argc, argv, o) == 0)
		return 0;
	fprintf(stderr, "kvmtrace %s: %s\n%s", argv[0], kt_last_error(), usage);
	return KT_USAGE;
}

static int setup_status(const struct kt_machine *m, int ret)
{
	if (m->no_kvm)
		return KT_NO_KVM;
	return ret == -ENOMEM ? KT_INTERNAL : KT_KVM_ERROR;
}

static void print_regs(const struct kvm_regs *r, unsigned index)
{
	fprintf(stderr,
		"kvmtrace: vCPU %u: rip=0x%llx rsp=0x%llx rflags=0x%llx\n"
		"kvmtrace:   rax=0x%llx rbx=0x%llx rcx=0x%llx rdx=0x%llx\n"
		"kvmtrace:   rsi=0x%llx rdi=0x%llx rbp=0x%llx\n",
		index, r->rip, r->rsp, r->rflags, r->rax, r->rbx, r->rcx, r->rdx,
		r->rsi, r->rdi, r->rbp);
}

/* A run that did not simply halt deserves a line on stderr; a triple
 * fault also the registers of the vCPU that took it. */
static void report_outcome(const struct kt_machine *m)
{
	const struct kt_outcome *oc = &m->outcome;
	const struct kt_vcpu *v = &m->vcpu[oc->vcpu];

	if (oc->reason == KT_END_HALTED || oc->reason == KT_END_GUEST_EXIT)
		return;
	fflush(stdout);
	fprintf(stderr, "kvmtrace: %s\n", oc->detail);
	if ((oc->reason == KT_END_SHUTDOWN || oc->reason == KT_END_GUEST_ERROR) &&
	    v->have_final_regs)
		print_regs(&v->final_regs, oc->vcpu);
}

/* The VM is built and loaded: from here on the run loop needs no new fd,
 * file or ioctl request of its own. */
static int enter_sandbox(const struct kt_run_options *o)
{
	return cli_enter_sandbox(o->no_sandbox, o->command, KT_SANDBOX_RUN,
				 kt_run_loop_requests, kt_run_loop_nrequests,
				 o->kexits.mode != KT_KEXITS_OFF);
}

static int run_machine(struct kt_machine *m, const struct kt_run_options *o,
		       const uint8_t *image, size_t size, int summary_fd,
		       const struct cli_run_hooks *hooks)
{
	int ret = kt_machine_open(m, &o->cfg), status = 0;

	if (!ret)
		ret = kt_machine_load(m, image, size);
	if (ret)
		status = cli_error(setup_status(m, ret));
	else
		status = enter_sandbox(o);
	if (status) {
		if (hooks && hooks->setup_failed)
			hooks->setup_failed(hooks->ctx, status);
		return status;
	}
	if (hooks && hooks->machine_ready)
		hooks->machine_ready(hooks->ctx, m);
	if (kt_machine_run(m))
		return cli_error(KT_INTERNAL);
	if (hooks && hooks->after_run)
		hooks->after_run(hooks->ctx, m);
	report_outcome(m);
	if (o->verbose)
		cli_print_summary(m);
	if (summary_fd >= 0 && cli_write_summary_json(m, o, summary_fd))
		return cli_error(KT_INTERNAL);
	return m->outcome.status;
}

/* --summary-json is created before the sandbox, which allows no open(). */
static int open_summary(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return kt_fail(-errno, "--summary-json %s: %s", path, strerror(errno));
	return fd;
}

int cli_run_guest(const struct kt_run_options *o, const struct cli_run_hooks *hooks)
{
	struct kt_machine *m;
	uint8_t *image;
	size_t size;
	int status, summary_fd = -1;
	sigset_t stop;

	/* SIGINT/SIGTERM end the run through the supervisor (and so finish a
	 * trace properly) even when they arrive during setup. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (kt_read_guest_image(o->cfg.guest_path, o->cfg.mem_bytes, &image, &size))
		return cli_error(KT_BAD_INPUT);
	if (o->summary_json && (summary_fd = open_summary(o->summary_json)) < 0) {
		free(image);
		return cli_error(KT_INTERNAL);
	}
	status = hooks && hooks->before_machine ?
		 hooks->before_machine(hooks->ctx, o, image, size) : 0;
	if (!status && !(m = calloc(1, sizeof(*m))))
		status = cli_errorf(KT_INTERNAL, "out of memory");
	if (!status) {
		status = run_machine(m, o, image, size, summary_fd, hooks);
		kt_machine_close(m);
		free(m);
	}
	if (summary_fd >= 0)
		close(summary_fd);
	free(image);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct kt_run_options o;
	int status;

	kt_run_options_init(&o);
	if ((status = cli_parse_run_options(argc, argv, &o,
					    "usage: kvmtrace run GUEST.bin [options] (kvmtrace help run)\n")))
		return status;
	return cli_run_guest(&o, NULL);
}
