# dm-biopool and biostat: one Makefile for the module (every supported
# kernel), the BPF programs and biostat, the guests and the tests.
#
#   make            build everything under build/
#   make check      unit tests, host tests, then the BATS suite in a guest
#                   of every supported kernel
#   make demo       boot a guest and show biostat catching pool exhaustion
#   make bench      benchmarks: ratios measured in one guest boot per kernel
#   make stress     the reliability tests at length (fuzzing, concurrency,
#                   faults, biostat robustness, memory pressure); SEED=N
#                   replays a run, as it does for make check
#   make deps       install missing Debian packages
#   make clean      remove build/
#
# KERNELS selects the kernels (default: 6.1 6.12); KVER_6_1=6.1.0-56 or
# KVER_6_12=6.12.117+deb12 pins a version instead of the newest one.

KERNELS ?= 6.1 6.12
BUILD   := $(CURDIR)/build
PREFIX  ?= /usr/local
MODSRC  := kernel/dm-biopool
SUPPORTED_KERNELS := 6.1 6.12

bad_kernels := $(filter-out $(SUPPORTED_KERNELS),$(KERNELS))
ifneq ($(bad_kernels),)
$(error KERNELS: unsupported kernel '$(bad_kernels)' (supported: $(SUPPORTED_KERNELS)))
endif
ifeq ($(strip $(KERNELS)),)
$(error KERNELS is empty (supported: $(SUPPORTED_KERNELS)))
endif

.PHONY: all deps kernels module biostat fuzz check unit-test demo bench stress \
	checkpatch install clean

all: module biostat fuzz

deps:
	@scripts/deps

kernels: deps
	@for k in $(KERNELS); do scripts/fetch-kernel $$k $(BUILD)/kernel/$$k || exit 1; done

# Kbuild builds external modules in their source directory: build a copy per
# kernel so that both kernels' objects live under build/.
module: kernels
	@for k in $(KERNELS); do \
		. $(BUILD)/kernel/$$k/kernel.env || exit 1; \
		d=$(BUILD)/module/$$k; mkdir -p $$d; \
		cp -u $(MODSRC)/Kbuild $(MODSRC)/*.c $$d/ || exit 1; \
		echo "  MODULE  dm-biopool.ko for $$KVER"; \
		$(MAKE) -s -C $$KHDR -f $$KHDR_COMMON/Makefile M=$$d W=1 modules \
			2>&1 | grep -v '^Skipping BTF generation' | tee $$d/build.log; \
		[ -f $$d/dm-biopool.ko ] || exit 1; \
		if grep -q 'warning:' $$d/build.log; then echo "dm-biopool: W=1 warnings on $$KVER" >&2; exit 1; fi; \
	done

# BPF objects and biostat: CO-RE, so one binary for every kernel; vmlinux.h
# comes from the newest supported kernel's BTF.
biostat: kernels
	@if [ -f tools/biostat/Makefile ]; then \
		. $(BUILD)/kernel/6.12/kernel.env 2>/dev/null || . $(BUILD)/kernel/$(lastword $(KERNELS))/kernel.env; \
		$(MAKE) -s -C tools/biostat BUILD=$(BUILD)/biostat VMLINUX_BTF=$$KHDR/vmlinux; \
	fi

# the table and message fuzzer run in the guests (no compiler there)
fuzz:
	@$(MAKE) -s -C tests/fuzz BUILD=$(BUILD)/fuzz

unit-test: kernels
	@if [ -f tools/biostat/Makefile ]; then \
		. $(BUILD)/kernel/6.12/kernel.env 2>/dev/null || . $(BUILD)/kernel/$(lastword $(KERNELS))/kernel.env; \
		$(MAKE) -s -C tools/biostat test BUILD=$(BUILD)/biostat VMLINUX_BTF=$$KHDR/vmlinux; \
	fi

check: deps all
	@$(MAKE) -s -C bench BUILD=$(BUILD)/bench VMLINUX_H_DIR=$(BUILD)/biostat
	@tests/check $(KERNELS)

demo: deps all
	@scripts/demo $(firstword $(KERNELS))

# Benchmarks (not part of check): ratios measured in one guest boot per kernel
bench: deps all
	@$(MAKE) -s -C bench BUILD=$(BUILD)/bench VMLINUX_H_DIR=$(BUILD)/biostat
	@bench/run $(KERNELS)

stress: deps all
	@tests/check --stress $(KERNELS)

checkpatch: deps
	@scripts/fetch-checkpatch $(BUILD)/checkpatch
	@perl $(BUILD)/checkpatch/checkpatch.pl --no-tree --strict --file $(MODSRC)/*.c

install: all
	install -D -m 0755 $(BUILD)/biostat/biostat $(DESTDIR)$(PREFIX)/sbin/biostat
	install -D -m 0644 Documentation/biostat.8 $(DESTDIR)$(PREFIX)/share/man/man8/biostat.8

clean:
	rm -rf $(BUILD)
