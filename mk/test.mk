# make test: every test.  The layering check and the units first (fast, no
# KVM), then pytest end to end, which reaches KVM natively or through the
# QEMU kernel runner, then the end-to-end tests again against the ASan+UBSan
# binary, so memory errors in the CLI fail too, and a short run of every
# fuzzer (mk/fuzz.mk).
PYTEST_ARGS ?=
# The end-to-end tests run again against the sanitized binary: the ones
# that drive record, show, replay and diff, on one KVM (native where usable,
# else the first kernel series); the whole of tests/e2e takes 6 to 8 minutes
# more under ASan on 2 cores.
SAN_E2E     ?= tests/e2e/test_trace.py tests/e2e/test_cli_errors.py \
	       tests/e2e/test_show_stats.py tests/e2e/test_environment.py \
	       tests/e2e/test_record_vmm.py tests/e2e/test_record_qemu.py \
	       tests/e2e/test_fuzz_regressions.py --kernels auto

.PHONY: check-layers e2e-san
test: deps
	$(MAKE) all
	$(MAKE) check-layers
	$(MAKE) unit
	$(MAKE) SANITIZE=1 all unit
	$(MAKE) e2e
	$(MAKE) e2e-san
	$(MAKE) fuzz-short

check-layers: all
	$(PYTHON) scripts/check_layers.py --objects $(BUILD)/obj

e2e: all
	$(PYTHON) -m pytest $(PYTEST_ARGS) tests

e2e-san: all
	$(MAKE) SANITIZE=1 all
	KVMTRACE_BIN=$(abspath $(BUILD))/san/kvmtrace $(PYTHON) -m pytest $(PYTEST_ARGS) $(SAN_E2E)
