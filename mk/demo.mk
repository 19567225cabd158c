# make demo: the main job on the hello guest, inside a QEMU-booted kernel
# when this host has no usable /dev/kvm.

.PHONY: demo
demo: deps
	$(MAKE) all
	$(KVMVM) run --kernel auto -- scripts/demo.sh

