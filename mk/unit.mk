# googletest units: every tests/unit/*.cc, linked against libkvmtrace.a.
UNIT_SRCS := $(wildcard tests/unit/*.cc)
UNIT_OBJS := $(UNIT_SRCS:%.cc=$(BUILD)/obj/%.o)
UNIT_BIN  := $(BUILD)/unit-tests

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(UNIT_BIN): $(UNIT_OBJS) $(LIBCLI) $(LIBKT)
	$(CXX) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBCLI) $(LIBKT) -lgtest -lgtest_main $(LDLIBS)

unit: $(UNIT_BIN)
	$(UNIT_BIN)
