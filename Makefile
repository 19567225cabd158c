# kvmtrace: build, test and demo.  GNU make.
#   make          build build/kvmtrace and the guest corpus
#   make deps     install what is missing (Debian packages)
#   make test     deps + build + every test (layering, units, end to end,
#                 kernels, the end-to-end tests again under ASan+UBSan)
#   make demo     deps + build + the main job on the hello guest
#   make bench    speed figures
#   make vm CMD="..." KERNEL=6.12   run a command inside a QEMU-booted kernel
# SANITIZE=1 builds with ASan+UBSan.

BUILD     ?= build
CC        ?= cc
CXX       ?= c++
PYTHON    ?= /usr/bin/python3
VERSION   := 0.1.0

WARN      := -Wall -Wextra -Werror
CSTD      := -std=c11 -D_GNU_SOURCE
OPT       ?= -O2 -g
ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  BUILD    := $(BUILD)/san
endif
CPPFLAGS  += -I. -DKVMTRACE_VERSION=\"$(VERSION)\"
CFLAGS    += $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -MMD -MP
CXXFLAGS  += -std=c++17 $(WARN) $(OPT) $(SANFLAGS) -MMD -MP
LDFLAGS   += $(SANFLAGS)
LDLIBS    += -lzstd -lpthread -lm

.PHONY: all deps test demo bench clean unit e2e
all: $(BUILD)/kvmtrace guests tools

KVMVM     := $(PYTHON) tests/kernels/kvmvm.py

# In this order: the library and binary first, since later files name
# $(LIBKT) and $(LIBCLI) in prerequisites, which make expands at once.
include mk/kvmtrace.mk mk/guests.mk mk/tools.mk mk/vmm.mk mk/unit.mk mk/test.mk \
	mk/fuzz.mk mk/bench.mk mk/matrix.mk mk/vm.mk mk/demo.mk mk/kexits.mk mk/shim.mk

deps:
	@scripts/deps.sh

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
