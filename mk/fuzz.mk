# make fuzz: the libFuzzer harnesses in fuzz/ (clang from Debian,
# -fsanitize=fuzzer,address,undefined) for the trace reader, every decoder,
# the header parser and the differ, seeded from the goldens in traces/
# (cut at build time by build/fuzz-seeds), each run FUZZ_SECONDS, one after
# the other; make fuzz FUZZ_SECONDS=600 is the long run.  make fuzz-short
# is make test's short run, the same inputs on every machine.  The corpora
# grow in $(BUILD)/fuzz/corpus/TARGET; a crash, leak or timeout lands in
# $(BUILD)/fuzz/findings/TARGET/ and fails the run.  A finding, once fixed,
# becomes a reproducer in fuzz/regressions/TARGET/, which build/fuzz-regress
# replays through the same code (tests/e2e/test_fuzz_regressions.py).
FUZZ_CC            ?= clang-14
FUZZ_SECONDS       ?= 60
FUZZ_SHORT_SECONDS ?= 120
# make test's short run: a seed and inputs per target (about 45 s each
# here; mk/fuzz.mk fuzz-short).
FUZZ_SHORT_SEED    ?= 1
FUZZ_SHORT_RUNS    ?= reader:30000 decode:180000 header:5000000 diff:6000
# libFuzzer options for every target: a slow input (10 s) is a finding too.
FUZZ_FLAGS         ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_TARGETS       := reader decode header diff

FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN)
# The library as the harnesses see it: every layer below the command line
# but the sandbox (the harnesses never enter it), with kexits (the KEXIT
# decoders name kinds, fields and reasons with its tables; replay's and
# diff's in-kernel exit comparison sits beside its capture), instrumented
# for coverage.
FUZZ_LIB_SRCS := $(filter-out sandbox/%,$(LIB_SRCS)) \
		 kexits/kx.c kexits/kx_format.c kexits/kx_layout.c kexits/kx_names.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB      := $(FUZZ_DIR)/libkvmtrace-fuzz.a
FUZZ_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
# In trace order by guest, so fuzz-seeds pairs each golden with the same
# guest's golden of the next kernel series for the differ.
FUZZ_GOLDENS  := $(foreach g,$(GUEST_NAMES),$(sort $(wildcard traces/*/$(g).zst)))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/fuzz/lf_%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DKT_LIBFUZZER -MMD -MP -c $< -o $@

# kexits' loader includes its bpftool skeleton (mk/kexits.mk).
$(FUZZ_DIR)/obj/kexits/%.o: CPPFLAGS += -I$(BUILD)
$(FUZZ_DIR)/obj/kexits/kx.o: $(BUILD)/kexits/kx.skel.h

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/lf_fuzz_%.o $(FUZZ_DIR)/obj/fuzz/fuzz_util.o \
		$(FUZZ_DIR)/obj/fuzz/frame_mutator.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lzstd -lbpf -lelf -lz -lpthread -lm

# Built by the normal compiler (and with SANITIZE=1, under ASan+UBSan).
$(BUILD)/fuzz-seeds: $(BUILD)/obj/fuzz/make_seeds.o $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

FUZZ_REGRESS_OBJS := $(addprefix $(BUILD)/obj/fuzz/,regress.o fuzz_util.o \
	$(FUZZ_TARGETS:%=fuzz_%.o))
$(BUILD)/fuzz-regress: $(FUZZ_REGRESS_OBJS) $(LIBKT)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

all: $(BUILD)/fuzz-regress $(BUILD)/fuzz-seeds

# The goldens are format 1; record writes format 2: the same traces
# rewritten by this build seed its readers too.
FUZZ_V2 := $(FUZZ_GOLDENS:traces/%.zst=$(FUZZ_DIR)/v2/%.zst)

$(FUZZ_DIR)/v2/%.zst: traces/%.zst $(BUILD)/kt-rewrite
	@mkdir -p $(dir $@)
	$(BUILD)/kt-rewrite $< $@ --copy

$(FUZZ_DIR)/seeds.stamp: $(BUILD)/fuzz-seeds $(FUZZ_GOLDENS) $(FUZZ_V2)
	rm -rf $(FUZZ_DIR)/seeds
	$(BUILD)/fuzz-seeds $(FUZZ_DIR)/seeds $(FUZZ_GOLDENS) $(FUZZ_V2)
	touch $@

.PHONY: fuzz fuzz-build fuzz-short fuzz-regressions
fuzz-build: $(FUZZ_BINS) $(FUZZ_DIR)/seeds.stamp

# The reproducers through the libFuzzer builds (clang's sanitizers see some
# things gcc's do not, such as NULL + 0); fuzz-regress does the same with
# the normal build.
fuzz-regressions: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		files=$$(ls fuzz/regressions/$$t/* 2>/dev/null); [ -z "$$files" ] && continue; \
		$(FUZZ_DIR)/fuzz_$$t $$files > $(FUZZ_DIR)/$$t-regressions.log 2>&1 || \
			{ cat $(FUZZ_DIR)/$$t-regressions.log; exit 1; }; \
		echo "fuzz: $$t: $$(echo $$files | wc -w) reproducers pass"; \
	done

# One target at a time: the machine is shared.  $(1): seconds per target;
# $(2): the corpus root; $(3): more libFuzzer options, in which the shell's
# $$t (the target) and $$runs (its FUZZ_SHORT_RUNS count) may appear;
# $(4): a command to run the fuzzer under.
define fuzz_run
	@for t in $(FUZZ_TARGETS); do \
		runs=$$(echo "$(FUZZ_SHORT_RUNS)" | tr ' ' '\n' | sed -n "s/^$$t://p"); \
		mkdir -p $(2)/$$t $(FUZZ_DIR)/findings/$$t; \
		echo "fuzz: $$t, at most $(1) s"; \
		$(4) $(FUZZ_DIR)/fuzz_$$t $(FUZZ_FLAGS) -max_total_time=$(1) $(3) \
			-artifact_prefix=$(FUZZ_DIR)/findings/$$t/ \
			$(2)/$$t $(FUZZ_DIR)/seeds/$$t \
			> $(FUZZ_DIR)/$$t.log 2>&1 || \
			{ grep -B2 -A40 -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
				$(FUZZ_DIR)/$$t.log; tail -12 $(FUZZ_DIR)/$$t.log; \
			  echo "fuzz: $$t: a finding, in $(FUZZ_DIR)/findings/$$t/"; exit 1; }; \
		grep -E 'DONE|^INFO: Loaded|^stat::(number_of_executed_units|peak_rss_mb)' \
			$(FUZZ_DIR)/$$t.log | tr '\n' ' '; echo; \
	done
endef

fuzz: fuzz-regressions
	$(call fuzz_run,$(FUZZ_SECONDS),$(FUZZ_DIR)/corpus)

# make test's run is the same on every machine: a fixed seed, a fixed
# number of inputs per target, no corpus reloads, a corpus started afresh
# from the seeds and, where the host lets setarch turn it off, no address
# randomization (libFuzzer learns from compared values, pointers among
# them), so that CI repeats exactly the run a developer saw pass; the long
# run above is where new findings come from.  FUZZ_SHORT_SECONDS only caps
# a slow machine's run.
FUZZ_NO_ASLR = $(shell setarch -R true 2>/dev/null && echo setarch -R)
fuzz-short: fuzz-regressions
	rm -rf $(FUZZ_DIR)/short-corpus
	$(call fuzz_run,$(FUZZ_SHORT_SECONDS),$(FUZZ_DIR)/short-corpus,-seed=$(FUZZ_SHORT_SEED) -runs=$$runs -reload=0,$(FUZZ_NO_ASLR))
