# make demo: the main job on the hello guest, natively where /dev/kvm is
# usable, else inside a QEMU-booted kernel (KVMVM: mk/vm.mk; recipes expand
# it when they run, so the include order does not matter).
.PHONY: demo
demo: deps
	$(MAKE) all
	$(KVMVM) run --kernel auto -- scripts/demo.sh
