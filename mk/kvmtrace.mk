# The kvmtrace binary.  The library is every .c of the layers below the
# command line (README.md, "Layout"); cli/ is its own archive so the units
# can test option parsing without main().
LIB_DIRS  := common trace harness decode recorder replayer sandbox
LIB_SRCS  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRCS  := $(filter-out cli/main.c,$(wildcard cli/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
LIBKT     := $(BUILD)/libkvmtrace.a
LIBCLI    := $(BUILD)/libkvmtrace-cli.a
LDLIBS    += -lseccomp

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBKT): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBCLI): $(CLI_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kvmtrace: $(BUILD)/obj/cli/main.o $(LIBCLI) $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
