# The kvmtrace binary: every .c under harness/, recorder/, replayer/, cli/.
LIB_SRCS  := $(wildcard harness/*.c recorder/*.c replayer/*.c)
CLI_SRCS  := $(wildcard cli/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
LIBKT     := $(BUILD)/libkvmtrace.a

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBKT): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kvmtrace: $(CLI_OBJS) $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBKT) $(LDLIBS)
