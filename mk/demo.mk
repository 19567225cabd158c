# make demo: the main job on the hello guest, inside a QEMU-booted kernel
# when this host has no usable /dev/kvm.
KVMVM := $(PYTHON) tests/kernels/kvmvm.py

.PHONY: demo
demo: deps
	$(MAKE) all
	$(KVMVM) run --kernel auto -- scripts/demo.sh

