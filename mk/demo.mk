# make demo: the main job on the hello guest, inside a QEMU-booted kernel
# when this host has no usable /dev/kvm.
KVMVM := $(PYTHON) tests/kernels/kvmvm.py

.PHONY: demo vm
demo: deps
	$(MAKE) all
	$(KVMVM) run --kernel auto -- scripts/demo.sh

# make vm CMD="build/kvmtrace run build/guests/hello.bin" KERNEL=6.12
KERNEL ?=
vm: all
	$(KVMVM) run $(if $(KERNEL),--kernel $(KERNEL)) --cwd $(CURDIR) -- sh -c '$(CMD)'
