# make bench: speed and size figures (bench/run.py); build/bench.md keeps them.
.PHONY: bench
bench: all
	$(PYTHON) bench/run.py
