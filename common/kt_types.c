#include "common/kt_types.h"

#include <stdio.h>

const char *kt_fd_name(char buf[KT_FD_NAME_MAX], enum kt_fd_role role, unsigned vcpu)
{
	static const char *const names[] = {
		[KT_FD_SYSTEM] = "kvm", [KT_FD_VM] = "vm", [KT_FD_DEVICE] = "device",
		[KT_FD_OTHER] = "kvm-fd",
	};

	if (role == KT_FD_VCPU)
		snprintf(buf, KT_FD_NAME_MAX, "vcpu%u", vcpu);
	else if ((unsigned)role < sizeof(names) / sizeof(names[0]) && names[role])
		snprintf(buf, KT_FD_NAME_MAX, "%s", names[role]);
	else
		snprintf(buf, KT_FD_NAME_MAX, "fd-role%u", (unsigned)role);
	return buf;
}
