# The test VMM (tests/vmm): plain C, not linked with kvmtrace, and its own
# guest, built like the corpus guests but kept apart from them.
VMM_GUEST := $(BUILD)/vmm/guest.bin

$(BUILD)/mini-vmm: tests/vmm/mini_vmm.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -o $@ $< -lpthread

$(BUILD)/vmm/guest.o: tests/vmm/guest.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(BUILD)/vmm/guest.elf: $(BUILD)/vmm/guest.o $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $<

$(VMM_GUEST): $(BUILD)/vmm/guest.elf
	$(OBJCOPY) -O binary $< $@

.PHONY: vmm
vmm: $(BUILD)/mini-vmm $(VMM_GUEST)
tools: vmm
