# The guest corpus: every guests/*.S and guests/*.c is one flat guest,
# build/guests/NAME.bin (docs/guest-abi.md).  Freestanding, linked at GPA 0
# by guests/guest.ld; never built with SANFLAGS (nothing to link them to).
OBJCOPY      ?= objcopy
GUEST_SRCS   := $(wildcard guests/*.S guests/*.c)
GUEST_NAMES  := $(sort $(basename $(notdir $(GUEST_SRCS))))
GUEST_BINS   := $(GUEST_NAMES:%=$(BUILD)/guests/%.bin)
GUEST_OBJDIR := $(BUILD)/guests/obj
GUEST_LDS    := guests/guest.ld
GUEST_INTERM := $(GUEST_NAMES:%=$(GUEST_OBJDIR)/%.o) \
		$(GUEST_NAMES:%=$(GUEST_OBJDIR)/%.elf)

GUEST_FLAGS  := -ffreestanding -nostdlib -fno-pic -no-pie -mno-red-zone \
		-fno-stack-protector -static -fno-asynchronous-unwind-tables \
		-fcf-protection=none -I. -MMD -MP
GUEST_CFLAGS := $(GUEST_FLAGS) -std=c11 $(WARN) -O2 -mgeneral-regs-only \
		-fno-builtin
GUEST_ASFLAGS := $(GUEST_FLAGS) $(WARN)
GUEST_LDFLAGS := -ffreestanding -nostdlib -static -no-pie \
		 -Wl,-T,$(GUEST_LDS) -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

.PHONY: guests
guests: $(GUEST_BINS)

# Kept for objdump and debugging, not just as steps to the .bin.
.SECONDARY: $(GUEST_INTERM)

$(GUEST_OBJDIR)/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_OBJDIR)/%.o: guests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJDIR)/%.elf: $(GUEST_OBJDIR)/%.o $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $<

$(BUILD)/guests/%.bin: $(GUEST_OBJDIR)/%.elf
	$(OBJCOPY) -O binary $< $@
