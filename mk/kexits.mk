# kexits/: in-kernel KVM exits captured by a BPF program on the kvm
# tracepoints (kexits/kx.bpf.c, clang -target bpf), loaded through libbpf
# with a bpftool skeleton.  No vmlinux.h: the program follows the field
# offsets the running kernel publishes in tracefs, so the build machine's
# kernel does not matter.  Everything lands in $(BUILD)/kexits/; the test
# tools are $(BUILD)/kx-dump and $(BUILD)/kx-flush-check (the recorder's
# per-KVM_RUN pattern on a real vCPU), the units $(BUILD)/kexits-unit-tests.
CLANG      ?= clang
BPFTOOL    ?= bpftool
KX_DIR     := $(BUILD)/kexits
KX_LIB     := $(KX_DIR)/libkexits.a
KX_SRCS    := kexits/kx.c kexits/kx_format.c kexits/kx_layout.c kexits/kx_names.c
KX_OBJS    := $(KX_SRCS:%.c=$(BUILD)/obj/%.o)
KX_BPF_OBJ := $(KX_DIR)/kx.bpf.o
KX_SKEL    := $(KX_DIR)/kx.skel.h
KX_LDLIBS  := -lbpf -lelf -lz
KX_UNIT    := $(BUILD)/kexits-unit-tests
KX_MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
KX_BPF_FLAGS := -target bpf -mcpu=v3 -O2 -g $(WARN) -I. \
		$(if $(KX_MULTIARCH),-I/usr/include/$(KX_MULTIARCH)) -MMD -MP

.PHONY: kexits kexits-unit
kexits: $(BUILD)/kx-dump $(BUILD)/kx-flush-check
all: kexits
unit: kexits-unit

$(KX_BPF_OBJ): kexits/kx.bpf.c
	@mkdir -p $(dir $@)
	$(CLANG) $(KX_BPF_FLAGS) -c $< -o $@

$(KX_SKEL): $(KX_BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name kx_bpf > $@.tmp && mv $@.tmp $@

# Objects build by the common rule into $(BUILD)/obj/kexits (where
# check-layers looks); the skeleton is found as "kexits/kx.skel.h" under
# $(BUILD).
$(BUILD)/obj/kexits/%.o: CPPFLAGS += -I$(BUILD)
$(BUILD)/obj/kexits/kx.o: $(KX_SKEL)

$(KX_LIB): $(KX_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kx-dump: $(BUILD)/obj/kexits/kx_dump.o $(KX_LIB) $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(KX_LDLIBS) $(LDLIBS)

$(KX_DIR)/kx_flush_check.o: tests/tools/kx_flush_check.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/kx-flush-check: $(KX_DIR)/kx_flush_check.o $(KX_LIB) $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(KX_LDLIBS) $(LDLIBS)

$(KX_DIR)/test_kexits.o: tests/unit/kexits/test_kexits.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -DKX_TEST_DATA=\"tests/unit/data/kexits\" -c $< -o $@

$(KX_UNIT): $(KX_DIR)/test_kexits.o $(KX_LIB) $(LIBKT)
	$(CXX) $(LDFLAGS) -o $@ $^ -lgtest -lgtest_main $(KX_LDLIBS) $(LDLIBS)

kexits-unit: $(KX_UNIT)
	$(KX_UNIT)
