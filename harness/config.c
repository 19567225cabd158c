#include "harness/config.h"

#include "harness/guest_abi.h"

void kt_config_init(struct kt_config *c)
{
	*c = (struct kt_config){
		.mode = KT_MODE_LONG,
		.mem_bytes = GUEST_DEFAULT_RAM,
		.vcpus = 1,
		.timeout_ms = KT_DEFAULT_TIMEOUT_MS,
		.kvm_path = "/dev/kvm",
	};
}
