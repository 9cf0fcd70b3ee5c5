# SPM NUMA nodes: the front door.
#
#   make demo    build everything needed and walk through the feature in a VM
#   make test    build everything needed and run every test in VMs
#
# See README.md for the layout and the development loop.

KSRC_VERSION ?= 6.12.117-1~deb12u1
BUILD        ?= $(CURDIR)/build
KERNEL       ?= patched
T            ?=
VMARGS       ?=
export KSRC_VERSION BUILD

.PHONY: all deps tree tree-ready export kernel kernel-patched kernel-baseline kernel-debug kernel-patched-jl kernel-baseline-jl \
	kernels modules userprogs initramfs guest vm test demo checkpatch clean distclean

all: kernel

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh prepare

export: deps
	@scripts/tree.sh export

kernel: kernel-$(KERNEL)

# While build/linux has uncommitted edits (the development loop), kernels
# are built from it as it is; otherwise the tree is prepared from patches/.
tree-ready: deps
	@if [ -d "$(BUILD)/linux/.git" ] && \
	    [ -n "$$(git -C "$(BUILD)/linux" status --porcelain --untracked-files=no)" ]; then \
		echo "tree: $(BUILD)/linux has uncommitted changes: building it as it is"; \
	else \
		scripts/tree.sh prepare; \
	fi

kernel-patched kernel-baseline kernel-debug kernel-patched-jl kernel-baseline-jl: kernel-%: tree-ready
	@scripts/build-kernel.sh $*

kernels: kernel-patched kernel-baseline kernel-debug

# --- out-of-tree modules (drivers/<name>/) against build/out/$(KERNEL) ----------
modules: deps
	@scripts/build-modules.sh $(KERNEL)

# --- static test programs and guest tools -------------------------------------
# tests/<suite>/<name>.c -> build/tests/<suite>/<name>
# tools/<name>.c         -> build/bin/<name>
SUITES     := $(filter-out lib,$(patsubst tests/%/,%,$(wildcard tests/*/)))
TEST_SRCS  := $(foreach s,$(SUITES),$(wildcard tests/$(s)/*.c))
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TOOL_SRCS  := $(wildcard tools/*.c)
TOOL_BINS  := $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_SRCS))
SELFTESTS  := $(BUILD)/linux/tools/testing/selftests
USER_CC    ?= gcc
USER_CFLAGS = -static -O2 -Wall -g -D_GNU_SOURCE -I$(CURDIR)/tests/lib -I$(SELFTESTS)
USER_LIBS   = -lnuma -lpthread
USER_DEPS   = $(wildcard tests/lib/*.h tests/*/*.h drivers/*/*_uapi.h) $(SELFTESTS)/kselftest_harness.h

userprogs: deps $(TEST_BINS) $(TOOL_BINS)

$(BUILD)/tests/%: tests/%.c $(USER_DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(USER_CC) $(USER_CFLAGS) -o $@ $< $(USER_LIBS)

$(BUILD)/bin/%: tools/%.c $(USER_DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(USER_CC) $(USER_CFLAGS) -o $@ $< $(USER_LIBS)

$(SELFTESTS)/kselftest_harness.h:
	@echo "$@ missing: run 'make tree'" >&2; exit 1

# --- the series' kselftest: tools/testing/selftests/mm/spm_nodes.c -----------
# Built from build/linux, static, with the mm selftests' flags, into
# $(BUILD)/tests/selftests/spm_nodes; scripts/mkinitramfs.sh puts it in the
# guest as /spm/selftests/spm_nodes, and tests/spm-core and tests/spm-dax run
# it (test_95_selftest.sh, "boot" and "dax" variants), so that it cannot rot.
# A tree without the file builds nothing here, and those two tests fail.
# SPM_SELFTEST_SRC (also read by mkinitramfs.sh) may name another tree's
# copy, e.g. build/wip's.
SPM_SELFTEST     := $(BUILD)/tests/selftests/spm_nodes
SPM_SELFTEST_SRC ?= $(SELFTESTS)/mm/spm_nodes.c

userprogs: $(if $(wildcard $(SPM_SELFTEST_SRC)),$(SPM_SELFTEST))

$(SPM_SELFTEST): $(SPM_SELFTEST_SRC) $(wildcard $(dir $(SPM_SELFTEST_SRC))../kselftest*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@cd $(dir $<) && $(USER_CC) -static -O2 -Wall -g -U_FORTIFY_SOURCE \
		-o $(abspath $@) $(notdir $<)
# --- end of the series' kselftest ---------------------------------------------

# --- initramfs and VM ---------------------------------------------------------
# The initramfs needs a built kernel (for its modules) but does not rebuild
# it: "make kernel" does. "guest" = what a VM of $(KERNEL) needs besides it.
initramfs: deps userprogs modules
	@scripts/mkinitramfs.sh $(KERNEL)

guest: initramfs

vm: initramfs
	tools/spm-vm --kernel $(KERNEL) $(VMARGS)

# --- demo and tests -----------------------------------------------------------
# Kernels the test suites ask for (KERNEL= in tests/<suite>/boot.conf).
TEST_KERNELS := $(sort patched $(shell sed -n 's/^KERNEL=["'"'"']\{0,1\}\([a-z]*\).*/\1/p' \
	$(wildcard tests/*/boot.conf) /dev/null))

# demo/run: the stock (baseline) kernel with the same machine and memory
# pressure, then the patched kernel's whole demo, then both side by side
# (build/demo/: guest output, per-node snapshots, nodes.svg/png).
demo: deps kernel-patched kernel-baseline
	@for k in baseline patched; do \
		$(MAKE) --no-print-directory initramfs KERNEL=$$k || exit 1; done
	demo/run

checkpatch: tree-ready
	@scripts/checkpatch.sh
	@scripts/static-check.sh --verify

# sparse (C=2) and W=1 (STATIC_ARGS=--cocci: coccicheck too) on every .c
# file the series changes, against the same files without the series;
# writes kernel/static-check.txt, which make test checks is for the
# series in patches/ and lists no new warning.
.PHONY: static-check
static-check: deps kernel-patched kernel-baseline
	@scripts/deps.sh sparse coccinelle ocaml-nox
	@scripts/static-check.sh --update $(STATIC_ARGS)

# The test kernel's memory-related options against Debian's amd64 config:
# every difference is either turned on or explained in
# kernel/config/distro-off.txt; fails while one is neither.
.PHONY: config-compare
config-compare: deps kernel-patched
	@scripts/config-compare.sh

# TEST_JOBS: suites' VMs booted at once (tests/run -j). Two keep both host
# cores busy: most test programs keep one vCPU of their VM busy.
TEST_JOBS ?= 2
# The test kernel's configuration against Debian's (scripts/config-compare.sh)
# is checked too when Debian's linux-config-6.12 of the pinned version is
# installed: the summary line, or every difference and a failure while one
# is unexplained.
DEBIAN_CONFIG := /usr/src/linux-config-6.12/config.amd64_none_amd64.xz
test: deps $(addprefix kernel-,$(TEST_KERNELS)) checkpatch
	@v() { dpkg-query -W -f='$${Version}' $$1 2>/dev/null; }; \
	if [ -e $(DEBIAN_CONFIG) ] && [ "$$(v linux-config-6.12)" = "$$(v linux-source-6.12)" ]; then \
		out=$$(scripts/config-compare.sh 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | tail -1; \
	else echo "config-compare: skipped: no linux-config-6.12 of the pinned version"; fi
	@for k in $(TEST_KERNELS); do \
		$(MAKE) --no-print-directory initramfs KERNEL=$$k || exit 1; done
	tests/run --no-build -j $(TEST_JOBS) $(T)

# Every suite on the debug kernel (KASAN, lockdep, DEBUG_PAGEALLOC, the
# tripwires); time budgets scaled by 4 (SPM_TIMEOUT_SCALE). Not part of
# make test: it takes several times as long.
.PHONY: test-debug
# baseline-iso is left out: it is about the kernel without the series.
# The longest suites first, so that two lanes end close together.
DEBUG_LONG   := ltp-numa spm-dax spm-core spm-cram spm-perm spm-services
DEBUG_SUITES := $(DEBUG_LONG) $(filter-out baseline-iso $(DEBUG_LONG),$(SUITES))
test-debug: deps kernel-debug
	@$(MAKE) --no-print-directory initramfs KERNEL=debug
	tests/run --no-build -j $(TEST_JOBS) --kernel debug $(or $(T),$(DEBUG_SUITES))

# --- fuzzing: trinity and fuzz/spm-fuzz in VMs (fuzz/run; not part of make test)
# FUZZ_KERNEL: the kernel flavor (default debug; built only when there is none,
# as make kernel-$(FUZZ_KERNEL) would); FUZZ_SECONDS: fuzzing time per
# configuration; FUZZ_SEED, FUZZ_CONFIGS (unowned owned): see fuzz/run.
# fuzz/*.c -> build/fuzz/<name>, static, built only for this target.
FUZZ_KERNEL  ?= debug
FUZZ_SECONDS ?= 300
FUZZ_SRCS    := $(wildcard fuzz/*.c)
FUZZ_BINS    := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_DEPS    := $(wildcard fuzz/*.h) tests/lib/spm.h drivers/spm_accel/spm_accel_uapi.h

.PHONY: fuzz fuzz-deps fuzz-progs
fuzz-deps:
	@scripts/deps.sh trinity

fuzz-progs: deps $(FUZZ_BINS)

$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(USER_CC) -static -O2 -Wall -g -D_GNU_SOURCE -I$(CURDIR)/tests/lib \
		-I$(CURDIR)/drivers/spm_accel -o $@ $< -lpthread

fuzz: fuzz-deps fuzz-progs
	@[ -f $(BUILD)/out/$(FUZZ_KERNEL)/arch/x86/boot/bzImage ] || \
		$(MAKE) --no-print-directory kernel-$(FUZZ_KERNEL)
	@$(MAKE) --no-print-directory initramfs KERNEL=$(FUZZ_KERNEL)
	FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_SEED='$(FUZZ_SEED)' FUZZ_CONFIGS='$(FUZZ_CONFIGS)' \
		fuzz/run --kernel $(FUZZ_KERNEL)

# --- benchmark: cost of the series (bench/run; not part of make test) --------
# BENCH_ARGS: bench/run options, e.g. --quick or --only a,tcg.
.PHONY: bench
bench: deps kernel-patched-jl kernel-baseline-jl
	@for k in patched-jl baseline-jl; do \
		$(MAKE) --no-print-directory initramfs KERNEL=$$k || exit 1; done
	bench/run $(BENCH_ARGS)

# --- soak: data on SPM nodes under every service at once (soak/; not part of
# make test) -------------------------------------------------------------------
# SOAK_SECONDS: how long the workers run; SOAK_KERNEL: the kernel (debug:
# KASAN, lockdep; patched for a quicker run); SOAK_ARGS: soak/run options,
# e.g. --seed N or --verbose. See README.md, "Soak".
SOAK_SECONDS ?= 600
SOAK_KERNEL  ?= debug
SOAK_ARGS    ?=
SOAK_BINS    := $(patsubst soak/%.c,$(BUILD)/soak/%,$(wildcard soak/*.c))

.PHONY: soak soak-progs
soak-progs: $(SOAK_BINS)

$(BUILD)/soak/%: soak/%.c $(wildcard tests/lib/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(USER_CC) -static -O2 -Wall -g -D_GNU_SOURCE -I$(CURDIR)/tests/lib -o $@ $< -lpthread

soak: deps kernel-$(SOAK_KERNEL) soak-progs
	@$(MAKE) --no-print-directory initramfs KERNEL=$(SOAK_KERNEL)
	soak/run --kernel $(SOAK_KERNEL) --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# --- the kernel's own mm selftests on baseline and patched (upstream/; not part
# of make test) -----------------------------------------------------------------
# tools/testing/selftests/mm programs (upstream/programs; upstream/skip.txt says
# which cannot run in our VM and why), built statically into build/upstream/,
# run on the baseline kernel and on the patched kernel with node 2 SPM and
# owned by spm_test_owner; a side-by-side table; fails when a program passes
# on baseline and fails on patched. UPSTREAM_CAPS: the owner's capabilities;
# UPSTREAM_ARGS: upstream/run options and program ids. See README.md.
UPSTREAM_CAPS ?= user,reclaim,compaction,migration
UPSTREAM_ARGS ?=

.PHONY: test-upstream
test-upstream: deps kernel-baseline kernel-patched
	@scripts/deps.sh libcap-dev liburing-dev
	@for k in baseline patched; do \
		$(MAKE) --no-print-directory initramfs KERNEL=$$k || exit 1; done
	UPSTREAM_CAPS='$(UPSTREAM_CAPS)' upstream/run $(UPSTREAM_ARGS)

clean:
	rm -rf $(BUILD)/out $(BUILD)/tests $(BUILD)/bin $(BUILD)/modules $(BUILD)/initramfs* \
		$(BUILD)/vm $(BUILD)/logs $(BUILD)/fuzz $(BUILD)/fuzz-results.tap

distclean:
	rm -rf $(BUILD)
