# make matrix: every guest on every kernel column against the goldens, and
# across series (tests/matrix); results in build/matrix/ (Markdown, HTML,
# JUnit XML).  Where /dev/kvm works natively the host is a column too, whose
# differences from the series are findings; STRICT=1 makes them failures.
# make update-goldens [KERNEL=series|native] re-records goldens on purpose
# (native: this host's KVM backend and series, e.g. traces/pvm-6.18/).
MATRIX_JOBS ?= $(shell [ $$(nproc) -ge 2 ] && echo 2 || echo 1)
STRICT ?=

.PHONY: matrix update-goldens
matrix: all
	@mkdir -p $(BUILD)/matrix
	KVMTRACE_STRICT=$(STRICT) $(PYTHON) -m pytest tests/matrix -n $(MATRIX_JOBS) \
		--dist loadgroup --junitxml=$(BUILD)/matrix/junit.xml

update-goldens: all
	$(PYTHON) tests/matrix/update_goldens.py $(if $(KERNEL),--kernel $(KERNEL))
