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
#   make install    biostat, its man page and bash completion, and the
#                   module's DKMS source, for this machine (below);
#                   make uninstall, make dkms-install, make dkms-uninstall
#   make clean      remove build/
#
# KERNELS selects the kernels by their names in kernels.conf (6.12 for a
# series' cloud flavour, 6.12-rt for another flavour; default: those with
# DEFAULT yes); KVER_<SERIES with _ for .>=<abi> (KVER_7_2=7.2.13+deb14)
# pins a version of every flavour of a series instead of the newest one,
# KVER_6_12_RT=<abi> one flavour's.  kernels.conf lists the supported
# kernels and what differs between them.  V=1 shows every command, of the
# sub-makes too.

SUPPORTED_KERNELS := $(shell scripts/kernels.bash supported)
DEFAULT_KERNELS   := $(shell scripts/kernels.bash default)
ifeq ($(strip $(SUPPORTED_KERNELS)),)
$(error kernels.conf lists no kernels)
endif
KERNELS ?= $(DEFAULT_KERNELS)
# vmlinux.h for the CO-RE objects comes from the REFERENCE kernel's BTF
# (kernels.conf) if it is fetched (else from the last of KERNELS); the one
# object is tested on all
BTF_KERNEL ?= $(shell scripts/kernels.bash reference)
# make bench and make stress: the kernels of KERNELS whose SUITE is full
# (kernels.conf), or KERNELS when it names none; make stress without
# KERNELS adds every debug one (6.12-debug: built on its first use, see
# kernels.conf)
RUN_KERNELS = $(or $(shell scripts/kernels.bash full $(KERNELS)),$(KERNELS))
STRESS_KERNELS = $(if $(filter file,$(origin KERNELS)),$(shell scripts/kernels.bash stress),$(RUN_KERNELS))
ifeq ($(V),1)
Q :=
S :=
else
Q := @
S := -s
endif
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

.PHONY: all deps deps-build deps-test kernels module biostat fuzz check unit-test demo bench stress FORCE \
	checkpatch install install-biostat install-dkms-source uninstall dkms-install \
	dkms-uninstall clean

all: module biostat fuzz

# deps: everything, the tests' too; the build alone installs no daemon
deps:
	$(Q)scripts/deps test

deps-build:
	$(Q)scripts/deps

deps-test:
	$(Q)scripts/deps test

# Each kernel's packages, unpacked under build/kernel/<kernel>/ (its
# kernel.env says where); fetch-kernel itself decides what is up to date.
kernels: $(foreach k,$(KERNELS),$(BUILD)/kernel/$(k)/kernel.env)

$(BUILD)/kernel/%/kernel.env: deps-build FORCE
	$(Q)scripts/fetch-kernel $* $(BUILD)/kernel/$*

# dm-biopool.ko for each kernel under build/module/<kernel>/, with W=1 and
# the toolchain kernels.conf names (the host's, or the sid build root that
# scripts/buildroot makes once per machine); see scripts/build-module,
# which (Kbuild) rebuilds only what changed.  One kernel's module:
# make build/module/<kernel>/dm-biopool.ko
module: $(foreach k,$(KERNELS),$(BUILD)/module/$(k)/dm-biopool.ko)

$(BUILD)/module/%/dm-biopool.ko: $(BUILD)/kernel/%/kernel.env FORCE
	$(Q)scripts/build-module $*

# the same, named from the top directory as users type it
build/module/%/dm-biopool.ko: $(BUILD)/kernel/%/kernel.env FORCE
	$(Q)scripts/build-module $*

FORCE:

# BPF objects and biostat: CO-RE, so one binary for every kernel; vmlinux.h
# from BTF_KERNEL's BTF (above).
biostat: kernels
	$(Q)if [ -f tools/biostat/Makefile ]; then \
		. $(BUILD)/kernel/$(BTF_KERNEL)/kernel.env 2>/dev/null || . $(BUILD)/kernel/$(lastword $(KERNELS))/kernel.env; \
		$(MAKE) $(S) -C tools/biostat BUILD=$(BUILD)/biostat VMLINUX_BTF=$$KHDR/vmlinux; \
	fi

# the table and message fuzzer run in the guests (no compiler there)
fuzz:
	$(Q)$(MAKE) $(S) -C tests/fuzz BUILD=$(BUILD)/fuzz

unit-test: kernels
	$(Q)if [ -f tools/biostat/Makefile ]; then \
		. $(BUILD)/kernel/$(BTF_KERNEL)/kernel.env 2>/dev/null || . $(BUILD)/kernel/$(lastword $(KERNELS))/kernel.env; \
		$(MAKE) $(S) -C tools/biostat test BUILD=$(BUILD)/biostat VMLINUX_BTF=$$KHDR/vmlinux; \
	fi

check: deps-test all
	$(Q)$(MAKE) $(S) -C bench BUILD=$(BUILD)/bench VMLINUX_H_DIR=$(BUILD)/biostat
	$(Q)tests/check $(KERNELS)

demo: deps-test all
	$(Q)scripts/demo $(firstword $(KERNELS))

# Benchmarks (not part of check): ratios measured in one guest boot per kernel
bench: deps-test all
	$(Q)scripts/deps bench
	$(Q)$(MAKE) $(S) -C bench BUILD=$(BUILD)/bench VMLINUX_H_DIR=$(BUILD)/biostat
	$(Q)bench/run $(RUN_KERNELS)

stress: deps-test all
	$(Q)$(MAKE) $(S) module KERNELS="$(STRESS_KERNELS)"
	$(Q)tests/check --stress $(STRESS_KERNELS)

checkpatch: deps-build
	$(Q)scripts/fetch-checkpatch $(BUILD)/checkpatch
	$(Q)perl $(BUILD)/checkpatch/checkpatch.pl --no-tree --strict --file $(MODSRC)/*.c

# --- Installing on this machine (README: Install on your machine) --------
# make install builds only what it installs, for this machine: biostat
# against the system's libbpf (dynamically linked) with vmlinux.h from the
# running kernel's BTF, or from VMLINUX_BTF=FILE, or VMLINUX_H=FILE (e.g. the
# build/biostat/vmlinux.h of make), into build/install/; no apt, no kernel
# download, no guest.  It installs
#   $(PREFIX)/sbin/biostat
#   $(PREFIX)/share/man/man8/biostat.8
#   $(PREFIX)/share/bash-completion/completions/biostat
#   $(DKMS_SRCDIR)/dm-biopool-$(VERSION)/{dkms.conf,Kbuild,Makefile,dm-biopool.c,VERSION}
# each under DESTDIR.  The module source goes where dkms looks for it
# (/usr/src), not under PREFIX.  make uninstall removes exactly these.
# make dkms-install (as root) adds, builds and installs the module with dkms
# for the running kernel or KVER=<kernel release> (headers in KDIR, by
# default /lib/modules/KVER/build); make dkms-uninstall removes it from dkms.
# DKMS_FLAGS adds options to every dkms command (the tests use private
# --sourcetree, --dkmstree and --installtree; DKMS_SRCDIR must then be the
# --sourcetree).
VERSION      := $(shell sed -n '/^[^\#]/p' VERSION)
DKMS_SRCDIR  ?= /usr/src
SBINDIR      ?= $(PREFIX)/sbin
MANDIR       ?= $(PREFIX)/share/man
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
MODDEST      := $(DESTDIR)$(DKMS_SRCDIR)/dm-biopool-$(VERSION)
MODFILES     := dkms.conf Kbuild Makefile dm-biopool.c VERSION
INSTALL_VARS := BUILD=$(BUILD)/install/biostat STATIC= PREFIX=$(PREFIX) \
	SBINDIR=$(SBINDIR) MANDIR=$(MANDIR) BASHCOMPDIR=$(BASHCOMPDIR)
KVER         ?= $(shell uname -r)
KDIR         ?= /lib/modules/$(KVER)/build

ifeq ($(VERSION),)
$(error VERSION holds no version line)
endif

install: install-biostat install-dkms-source

install-biostat:
	$(Q)scripts/check-build-deps biostat
	$(Q)if [ -n "$(VMLINUX_H)" ]; then src="VMLINUX_H=$(VMLINUX_H)"; \
	elif [ -n "$(VMLINUX_BTF)" ]; then src="VMLINUX_BTF=$(VMLINUX_BTF)"; \
	elif [ -r /sys/kernel/btf/vmlinux ]; then src=VMLINUX_BTF=/sys/kernel/btf/vmlinux; \
	elif [ -f $(BUILD)/biostat/vmlinux.h ]; then src=VMLINUX_H=$(BUILD)/biostat/vmlinux.h; \
	else echo "make install: this kernel has no BTF (/sys/kernel/btf/vmlinux) and no vmlinux.h was made (make):" \
		"set VMLINUX_BTF=<a vmlinux with BTF> or VMLINUX_H=<a vmlinux.h>" >&2; exit 1; fi; \
	$(MAKE) $(S) -C tools/biostat $(INSTALL_VARS) "$$src" install

install-dkms-source:
	install -d $(MODDEST)
	sed 's/#MODULE_VERSION#/$(VERSION)/' $(MODSRC)/dkms.conf >$(MODDEST)/dkms.conf
	chmod 0644 $(MODDEST)/dkms.conf
	install -m 0644 $(MODSRC)/Kbuild $(MODSRC)/Makefile $(MODSRC)/dm-biopool.c VERSION $(MODDEST)/

uninstall:
	$(Q)$(MAKE) $(S) -C tools/biostat $(INSTALL_VARS) uninstall
	rm -f $(addprefix $(MODDEST)/,$(MODFILES))
	[ ! -d $(MODDEST) ] || rmdir $(MODDEST)

dkms-install:
	$(Q)scripts/check-build-deps dkms $(KDIR)
	$(Q)$(MAKE) $(S) install-dkms-source
	dkms status -m dm-biopool -v $(VERSION) $(DKMS_FLAGS) | grep -q . || \
		dkms add -m dm-biopool -v $(VERSION) $(DKMS_FLAGS)
	dkms build -m dm-biopool -v $(VERSION) -k $(KVER) --kernelsourcedir $(KDIR) $(DKMS_FLAGS)
	dkms install -m dm-biopool -v $(VERSION) -k $(KVER) --kernelsourcedir $(KDIR) $(DKMS_FLAGS)

dkms-uninstall:
	$(Q)command -v dkms >/dev/null || { echo "make dkms-uninstall: dkms is not installed" >&2; exit 1; }
	! dkms status -m dm-biopool -v $(VERSION) $(DKMS_FLAGS) | grep -q . || \
		dkms remove -m dm-biopool -v $(VERSION) --all $(DKMS_FLAGS)

clean:
	rm -rf $(BUILD)
