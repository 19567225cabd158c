# The shim `kvmtrace record -- PROGRAM` preloads into a foreign VMM:
# build/libkvmtrace-shim.so, beside the binary.  The recorder, the trace
# writer and what they need (common, trace, harness, recorder, kexits) are
# built again position-independent with hidden visibility into an archive
# of their own, so the .so pulls only the members it uses; the version
# script exports the interposed libc calls alone.  shim/fds.c and
# shim/session.c build into $(BUILD)/obj/shim (PIC too), where
# check-layers reads them; shim/interpose.c, which defines libc's names,
# builds beside the PIC archive (see its comment).  With SANITIZE=1 the
# shim is sanitized too: the runtimes go first in LD_PRELOAD (cmd_record_vmm.c).
SHIM_SO       := $(BUILD)/libkvmtrace-shim.so
SHIM_PIC      := -fPIC -fvisibility=hidden
PIC_DIR       := $(BUILD)/pic
SHIM_LIB_SRCS := $(foreach d,common trace harness recorder,$(wildcard $(d)/*.c)) $(KX_SRCS)
SHIM_LIB_OBJS := $(SHIM_LIB_SRCS:%.c=$(PIC_DIR)/%.o)
SHIM_LIB      := $(PIC_DIR)/libkvmtrace-pic.a
SHIM_OBJS     := $(BUILD)/obj/shim/fds.o $(BUILD)/obj/shim/session.o \
		 $(PIC_DIR)/shim/interpose.o

$(PIC_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SHIM_PIC) -c $< -o $@

$(PIC_DIR)/kexits/%.o: CPPFLAGS += -I$(BUILD)
$(PIC_DIR)/kexits/kx.o: $(KX_SKEL)
$(BUILD)/obj/shim/%.o: CFLAGS += $(SHIM_PIC)

$(SHIM_LIB): $(SHIM_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# -z defs: every symbol the shim needs is resolved here, not by luck in
# whatever VMM it lands in.
$(SHIM_SO): $(SHIM_OBJS) $(SHIM_LIB) shim/shim.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=shim/shim.map -Wl,-z,defs \
		-o $@ $(SHIM_OBJS) $(SHIM_LIB) -lzstd -lpthread $(KX_LDLIBS) -ldl

all: $(SHIM_SO)

# The sanitizer runtimes a sanitized shim needs first in LD_PRELOAD.
ifeq ($(SANITIZE),1)
$(BUILD)/obj/cli/cmd_record_vmm.o: CPPFLAGS += \
	-DKT_SHIM_PRELOAD_FIRST=\"$(shell $(CC) -print-file-name=libasan.so):$(shell $(CC) -print-file-name=libubsan.so)\"
endif
