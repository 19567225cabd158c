# bench-writer: the trace writer and reader alone on a synthetic port loop
# (bench/bench_writer.c).  `make bench-writer [BENCH_WRITER_EXITS=N]`.
# mk/*.mk are included in name order, before kvmtrace.mk defines $(LIBKT),
# and prerequisites expand at once: so the library is named here in full.
BENCH_WRITER_EXITS ?= 2000000

$(BUILD)/bench-writer: $(BUILD)/obj/bench/bench_writer.o $(BUILD)/libkvmtrace.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-writer
bench-writer: $(BUILD)/bench-writer
	$(BUILD)/bench-writer $(BENCH_WRITER_EXITS) $(BUILD)/bench-writer.kvmtrace
