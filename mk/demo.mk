# make demo: the main job on the hello guest, natively where /dev/kvm is
# usable, else inside a QEMU-booted kernel (tests/kernels/kvmvm.py).
.PHONY: demo
demo: deps
	$(MAKE) all
	$(KVMVM) run --kernel auto -- scripts/demo.sh
