#include "common/kt_types.h"

#include <stdio.h>

const char *kt_fd_name(char buf[KT_FD_NAME_MAX], enum kt_fd_role role, unsigned vcpu)
{
	if (role == KT_FD_VCPU)
		snprintf(buf, KT_FD_NAME_MAX, "vcpu%u", vcpu);
	else
		snprintf(buf, KT_FD_NAME_MAX, "%s", role == KT_FD_VM ? "vm" : "kvm");
	return buf;
}
