# Test-only tools, linked against libkvmtrace.a.
TOOLS := $(BUILD)/kt-rewrite $(BUILD)/bare-loop $(BUILD)/synth-trace

$(BUILD)/kt-rewrite: $(BUILD)/obj/tests/tools/kt_rewrite.o $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bare-loop: $(BUILD)/obj/bench/bare_loop.o $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/synth-trace: $(BUILD)/obj/bench/synth_trace.o $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: tools
tools: $(TOOLS)
