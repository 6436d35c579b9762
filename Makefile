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
# KERNELS selects the kernels (default: those with DEFAULT yes in
# kernels.conf: 6.1 6.12 7.2);
# KVER_6_1=6.1.0-56, KVER_6_12=6.12.117+deb12 or KVER_7_2=7.2.13+deb14 pins
# a version instead of the newest one.  kernels.conf lists the supported
# kernels and what differs between them.

SUPPORTED_KERNELS := $(shell scripts/kernels.bash supported)
DEFAULT_KERNELS   := $(shell scripts/kernels.bash default)
ifeq ($(strip $(SUPPORTED_KERNELS)),)
$(error kernels.conf lists no kernels)
endif
KERNELS ?= $(DEFAULT_KERNELS)
# vmlinux.h for the CO-RE objects comes from this kernel's BTF if it is
# fetched (else from the last of KERNELS); the one object is tested on all
BTF_KERNEL ?= 6.12
BUILD   := $(CURDIR)/build
PREFIX  ?= /usr/local
MODSRC  := kernel/dm-biopool

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

# dm-biopool.ko for each kernel under build/module/<kernel>/, with W=1 and
# the toolchain kernels.conf names (the host's, or the sid build root that
# scripts/buildroot makes once per machine); see scripts/build-module.
module: kernels
	@for k in $(KERNELS); do scripts/build-module $$k || exit 1; done

# BPF objects and biostat: CO-RE, so one binary for every kernel; vmlinux.h
# from BTF_KERNEL's BTF (above).
biostat: kernels
	@if [ -f tools/biostat/Makefile ]; then \
		. $(BUILD)/kernel/$(BTF_KERNEL)/kernel.env 2>/dev/null || . $(BUILD)/kernel/$(lastword $(KERNELS))/kernel.env; \
		$(MAKE) -s -C tools/biostat BUILD=$(BUILD)/biostat VMLINUX_BTF=$$KHDR/vmlinux; \
	fi

# the table and message fuzzer run in the guests (no compiler there)
fuzz:
	@$(MAKE) -s -C tests/fuzz BUILD=$(BUILD)/fuzz

unit-test: kernels
	@if [ -f tools/biostat/Makefile ]; then \
		. $(BUILD)/kernel/$(BTF_KERNEL)/kernel.env 2>/dev/null || . $(BUILD)/kernel/$(lastword $(KERNELS))/kernel.env; \
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
