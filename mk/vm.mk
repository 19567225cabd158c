# make vm CMD="..." [KERNEL=6.12]: run CMD (a shell string) in a QEMU-booted
# kernel from tests/kernels/kernels.conf (default: its first series), with
# this tree shared at the same path and the current directory as cwd.
# make vm-list shows the series, make vm-prepare fetches them all.
# KVMTRACE_ACCEL=kvm|tcg forces QEMU's accelerator (default: probed once).

.PHONY: vm vm-list vm-prepare
# CMD reaches the shell through the environment, so its quotes survive.
vm: export KVMVM_CMD = $(CMD)
vm: all
	@if [ -z "$$KVMVM_CMD" ]; then echo 'usage: make vm CMD="..." [KERNEL=series]' >&2; exit 2; fi
	@$(KVMVM) run --kernel $(or $(KERNEL),$(firstword $(shell sed -e 's/#.*//' tests/kernels/kernels.conf))) -- /bin/sh -c "$$KVMVM_CMD"

vm-list:
	@$(KVMVM) list

vm-prepare:
	@$(KVMVM) prepare $(if $(KERNEL),--kernel $(KERNEL))
