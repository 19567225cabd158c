/* The sandbox as the commands enter it: after their inputs are open, before
 * the work that reads them or runs the guest (README.md, "The sandbox"). */
#include <stdio.h>

#include "cli/cli.h"
#include "common/exit_status.h"

const char *cli_sandbox_selftest;

int cli_enter_sandbox(bool off, const char *command, enum kt_sandbox_profile profile,
		      const uint32_t *ioctls, size_t nioctls)
{
	struct kt_sandbox sb = {
		.profile = profile, .command = command, .ioctls = ioctls, .nioctls = nioctls,
	};

	if (!off && kt_sandbox_enter(&sb))
		return cli_error(KT_SANDBOX);
	if (!cli_sandbox_selftest)
		return 0;
	/* Without the sandbox the call goes through and the command goes on:
	 * the tests see --no-sandbox do what it says. */
	kt_sandbox_selftest(cli_sandbox_selftest);
	if (off)
		return 0;
	return cli_errorf(KT_SANDBOX, "sandbox self-test: the forbidden call '%s' was not "
			  "stopped", cli_sandbox_selftest);
}
