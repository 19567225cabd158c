# bench-align: kt_align() on a synthetic 10-million-event pair; fails below
# 1M events/s, at 64 MiB peak RSS or on a cascade of spurious edits.
# (The library is named in full: this file is included before kvmtrace.mk
# sets LIBKT, and prerequisites expand at once.)
BENCH_ALIGN_ARGS ?=

$(BUILD)/bench-align: $(BUILD)/obj/bench/bench_align.o $(BUILD)/libkvmtrace.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-align
bench-align: $(BUILD)/bench-align
	$(BUILD)/bench-align $(BENCH_ALIGN_ARGS)
