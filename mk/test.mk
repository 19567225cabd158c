# make test: every test.  The layering check and the units first (fast, no
# KVM), then pytest end to end, which reaches KVM natively or through the
# QEMU kernel runner, then the end-to-end tests again against the ASan+UBSan
# binary, so memory errors in the CLI fail too.
PYTEST_ARGS ?=
# The end-to-end tests run against the sanitized binary (all of tests/e2e).
SAN_E2E     ?= tests/e2e

.PHONY: check-layers e2e-san
test: deps
	$(MAKE) all
	$(MAKE) check-layers
	$(MAKE) unit
	$(MAKE) SANITIZE=1 all unit
	$(MAKE) e2e
	$(MAKE) e2e-san

check-layers: all
	$(PYTHON) scripts/check_layers.py --objects $(BUILD)/obj

e2e: all
	$(PYTHON) -m pytest $(PYTEST_ARGS) tests

e2e-san: all
	$(MAKE) SANITIZE=1 all
	KVMTRACE_BIN=$(abspath $(BUILD))/san/kvmtrace $(PYTHON) -m pytest $(PYTEST_ARGS) $(SAN_E2E)
