# make test: every test.  Units first (fast, no KVM), then pytest end to end,
# which reaches KVM natively or through the QEMU kernel runner.
PYTEST_ARGS ?=

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) SANITIZE=1 unit
	$(MAKE) e2e

e2e: all
	$(PYTHON) -m pytest $(PYTEST_ARGS) tests
