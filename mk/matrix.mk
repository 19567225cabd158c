# make matrix: every guest on every kernel series against the goldens, and
# across series (tests/matrix); results in build/matrix/ (Markdown, HTML,
# JUnit XML).  make update-goldens re-records the goldens on purpose.
MATRIX_JOBS ?= $(shell [ $$(nproc) -ge 2 ] && echo 2 || echo 1)

.PHONY: matrix update-goldens
matrix: all
	@mkdir -p $(BUILD)/matrix
	$(PYTHON) -m pytest tests/matrix -n $(MATRIX_JOBS) --dist loadgroup \
		--junitxml=$(BUILD)/matrix/junit.xml

update-goldens: all
	$(PYTHON) tests/matrix/update_goldens.py
