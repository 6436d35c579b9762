#!/usr/bin/env bats
# Installing on a real machine, checked on the host (as root, no guest):
# make install / make uninstall from a clean copy of the checkout (offline,
# nothing written outside DESTDIR and the copy), the one version everywhere,
# the bash completion, the Debian packages (dpkg-buildpackage -b, their
# contents and lintian), make dkms-install in private trees, and the module
# dkms builds from the installed source against every fetched kernel's
# headers, into build/dkms/<kernel>/dm-biopool.ko, which the guest suite then
# loads (tests/bats/15-dkms.bats).
#
# The tests share $BATS_FILE_TMPDIR: the later ones use what the make
# install test installed there, and fail (not skip) when it is missing.

bats_require_minimum_version 1.5.0
load ../lib/options

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export BUILD=$TOP/build
	export WORK=$BATS_FILE_TMPDIR
	export VERSION
	VERSION=$(sed -n '/^[^#]/p' "$TOP/VERSION")
	export SRC=$WORK/src DEST=$WORK/dest
	export MODDIR=$DEST/usr/src/dm-biopool-$VERSION
}

# clean_copy DIR: the checkout as a fresh clone has it (tracked files and new
# ones that are not ignored, as they are in the working tree), no build/
clean_copy() {
	mkdir -p "$1"
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
		cpio -0pdm --quiet "$1")
}

# offline WRITABLE CMD...: CMD without network, with the whole root file
# system read-only except WRITABLE (and the kernel's own file systems);
# with OFFLINE_TMP=1 /tmp stays writable too (for tools that use /tmp
# whatever TMPDIR says: the unit tests, run by the package build)
offline() {
	local w=$1
	shift
	OFFLINE_TMP=${OFFLINE_TMP:-} unshare --mount --net --propagation private -- bash -ec '
		w=$1
		shift
		mount --bind "$w" "$w"
		[ -z "$OFFLINE_TMP" ] || mount --bind /tmp /tmp
		mount -o remount,bind,ro /
		mkdir -p "$w/tmp"
		export TMPDIR=$w/tmp HOME=$w/tmp
		"$@"' offline "$w" "$@"
}

# files DIR: every non-directory under DIR, relative, sorted
files() { (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }

expected_install() {
	printf '%s\n' usr/local/sbin/biostat usr/local/share/man/man8/biostat.8 \
		usr/local/share/bash-completion/completions/biostat \
		"usr/src/dm-biopool-$VERSION"/{Kbuild,Makefile,VERSION,dkms.conf,dm-biopool.c} |
		LC_ALL=C sort
}

need_install() {
	[ -f "$MODDIR/dkms.conf" ] || {
		echo "nothing installed in $DEST: the make install test failed" >&2
		return 1
	}
}

@test "make install DESTDIR from a clean copy: offline, nothing written outside, exactly the listed files" {
	clean_copy "$SRC"
	mkdir -p "$DEST"
	run offline "$WORK" make -C "$SRC" -s install DESTDIR="$DEST"
	echo "$output"
	[ "$status" -eq 0 ]
	diff <(expected_install) <(files "$DEST")
	[ -x "$DEST/usr/local/sbin/biostat" ]
	[ "$(stat -c %a "$DEST/usr/local/sbin/biostat")" = 755 ]
	[ "$(stat -c %a "$MODDIR/dm-biopool.c")" = 644 ]
	# built here, against the system's libbpf (not the guests' static one)
	ldd "$DEST/usr/local/sbin/biostat" | grep -q 'libbpf\.so'
	# the module source is the checkout's
	for f in Kbuild Makefile dm-biopool.c; do cmp "$TOP/kernel/dm-biopool/$f" "$MODDIR/$f"; done
	# only its own build directory was made in the copy
	[ "$(cd "$SRC/build" && ls)" = install ]
}

@test "one version: VERSION, biostat -V, man page, dkms.conf, debian/changelog, MODULE_VERSION" {
	need_install
	[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ "$("$DEST/usr/local/sbin/biostat" -V)" = "biostat $VERSION" ]
	grep -q "^\.TH BIOSTAT 8 \"[^\"]*\" \"biostat $VERSION\"" "$TOP/Documentation/biostat.8"
	grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$MODDIR/dkms.conf"
	grep -qx 'PACKAGE_VERSION="#MODULE_VERSION#"' "$TOP/kernel/dm-biopool/dkms.conf"
	[ "$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)" = "$VERSION" ]
	grep -q '^MODULE_VERSION(DM_BIOPOOL_VERSION);' "$TOP/kernel/dm-biopool/dm-biopool.c"
	# and no other version is written down anywhere
	run grep -rn --exclude-dir=build --exclude-dir=.git -e '"0\.1"' -e 'PACKAGE_VERSION="[0-9]' "$TOP"
	[ "$status" -eq 1 ]
}

@test "make uninstall DESTDIR leaves no file behind" {
	need_install
	local d=$WORK/dest2
	make -C "$SRC" -s install DESTDIR="$d"
	[ -n "$(files "$d")" ]
	run make -C "$SRC" -s uninstall DESTDIR="$d"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(files "$d")" ]
	[ ! -e "$d/usr/src/dm-biopool-$VERSION" ]
	# again: nothing to remove is not an error
	make -C "$SRC" -s uninstall DESTDIR="$d"
}

@test "make install names missing build dependencies and their Debian packages, installs nothing" {
	need_install
	local d=$WORK/dest3
	run make -C "$SRC" -s install DESTDIR="$d" CLANG=clang-missing BPFTOOL=bpftool-missing
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"missing build dependencies: clang-missing (BPF compiler) bpftool-missing"* ]]
	[[ "$output" == *"apt-get install clang bpftool"* ]]
	[[ "$output" != *"error:"* ]]
	[ -z "$(files "$d" 2>/dev/null)" ]
	run make -C "$SRC" -s dkms-install DKMS_SRCDIR="$d/usr/src" KVER=0.0-none
	[ "$status" -ne 0 ]
	[[ "$output" == *"missing build dependencies: kernel headers in /lib/modules/0.0-none/build"* ]]
	[[ "$output" == *"apt-get install linux-headers-0.0-none"* ]]
	[ -z "$(files "$d" 2>/dev/null)" ]
}

# complete_words WORD...: what the installed completion offers for the last
# WORD, loaded the way bash-completion loads it from DESTDIR's data dir
complete_words() {
	bash -c '
		dest=$1
		shift
		export XDG_DATA_DIRS=$dest/usr/local/share
		. /usr/share/bash-completion/bash_completion
		__load_completion biostat || exit 3
		complete -p biostat >&2 || exit 4
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_biostat biostat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " "
	' complete "$DEST" "$@"
}

# comp_words WORD...: the words as bash hands them to the completion
# (COMP_WORDBREAKS splits --device=bp0 into --device, = and bp0)
comp_words() {
	local w
	for w; do
		case $w in
		*=*) printf '%s\n' "${w%%=*}" = "${w#*=}" ;;
		*) printf '%s\n' "$w" ;;
		esac
	done
}

@test "bash completion: complete -p biostat, options, check and check's options" {
	need_install
	run complete_words biostat --h
	[ "$status" -eq 0 ]
	[[ "$output" == *"complete -F _biostat biostat"* ]]
	[[ "$output" == *"--help --histogram "* ]]
	run --separate-stderr complete_words biostat -
	[ "$output" = "--all --calibrate --cgroup --device --events --extended --folded --help --histogram --json --min-wait --name --numeric --pid --prom --stacks --timestamp --verbose --version -H -N -T -V -a -c -d -e -h -j -m -n -p -s -v -x " ]
	# an option's argument is not the subcommand
	for o in -c -d -m -N -p --prom --cgroup --device --min-wait --name --pid; do
		run --separate-stderr complete_words biostat "$o" x ch
		[ "$output" = "check " ] || { echo "after $o x: '$output'" >&2; return 1; }
		run --separate-stderr complete_words biostat "$o" ch
		[ "$output" != "check " ] || { echo "$o's argument completed as check" >&2; return 1; }
	done
	run --separate-stderr complete_words biostat ch
	[ "$output" = "check " ]
	run --separate-stderr complete_words biostat -T check -
	[ "$output" = "--device --help --json --verbose -d -h -j -v " ]
	run --separate-stderr complete_words biostat check --
	[ "$output" = "--device --help --json --verbose " ]
	# no subcommand after an interval; nothing but check's options after check
	run --separate-stderr complete_words biostat 1 ""
	[ "$output" = " " ] || [ -z "$output" ]
	run --separate-stderr complete_words biostat check ""
	[ "$output" = " " ] || [ -z "$output" ]
	# the lists are those of argp's option tables (--help), both modes,
	# with the options that take an argument in either (an option of both
	# takes one in both or in neither)
	local comp=$DEST/usr/local/share/bash-completion/completions/biostat ok=0
	local bs=$DEST/usr/local/sbin/biostat main check
	main=$(help_opts "$bs" --help)
	check=$(help_opts "$bs" check --help)
	comp_list() { bash -c '. "$1"; printf "%s\n" ${!2}' _ "$comp" "$1" | LC_ALL=C sort; }
	same_opts "the completion's _biostat_opts" "$(cut -d' ' -f1 <<<"$main")" \
		"$(comp_list _biostat_opts)" || ok=1
	same_opts "the completion's _biostat_check_opts" "$(cut -d' ' -f1 <<<"$check")" \
		"$(comp_list _biostat_check_opts)" || ok=1
	same_opts "the completion's _biostat_arg_opts" \
		"$(printf '%s\n' "$main" "$check" | awk '$2 == "arg" { print $1 }' | LC_ALL=C sort -u)" \
		"$(comp_list _biostat_arg_opts)" || ok=1
	same_opts "the arguments of options in both modes (check's)" \
		"$(LC_ALL=C join -o 2.1,2.2 <(echo "$check") <(echo "$main"))" \
		"$(LC_ALL=C join -o 1.1,1.2 <(echo "$check") <(echo "$main"))" || ok=1
	# where check stands: as biostat finds it (what the completion offers
	# for "-" after check: check's options, or biostat's)
	local c want got bs_got
	while IFS='|' read -r c want; do
		# shellcheck disable=SC2086 # the words of the case
		bs_got=$(split_at "$bs" $c)
		# shellcheck disable=SC2046,SC2086
		got=$(complete_words biostat $(comp_words $c) check - 2>/dev/null)
		case $got in
		"$(cut -d' ' -f1 <<<"$check" | tr '\n' ' ')") got=check ;;
		"$(cut -d' ' -f1 <<<"$main" | tr '\n' ' ')") got=main ;;
		esac
		if [ "$got" != "$want" ] || [ "$bs_got" != "$want" ]; then
			echo "biostat $c check: the completion reads '$got', biostat $bs_got, want $want" >&2
			ok=1
		fi
	done < <(subcommand_cases)
	[ "$ok" = 0 ]
	# an option's argument, in every form, is completed as one (dm names
	# for -d: none here), not as options or check
	for c in -jd --dev --device= -jp --pi --prom= -jN -jc; do
		# shellcheck disable=SC2046
		run --separate-stderr complete_words biostat $(comp_words "$c") ""
		[ "$output" != "check " ] || { echo "after $c: check offered" >&2; return 1; }
		# shellcheck disable=SC2046
		run --separate-stderr complete_words biostat $(comp_words "$c") -
		[[ $output != *--all* ]] || { echo "after $c: options offered" >&2; return 1; }
	done
	# compgen over the same word list the function uses
	run bash -c '. "$1"; compgen -W "$_biostat_check_opts" -- --j' _ \
		"$DEST/usr/local/share/bash-completion/completions/biostat"
	[ "$output" = "--json" ]
}

@test "make dkms-install / dkms-uninstall add, build, install and remove the module (private dkms trees, 6.12 headers)" {
	need_install
	[ -f "$BUILD/kernel/6.12/kernel.env" ] || skip "6.12 is not fetched (make kernels)"
	. "$BUILD/kernel/6.12/kernel.env"
	local t=$WORK/dkms-install flags
	mkdir -p "$t/src" "$t/tree" "$t/root/lib/modules/$KVER" "$t/bin"
	# dkms runs depmod for the kernel: make it the private tree's
	printf '#!/bin/sh\nexec /sbin/depmod -b %s "$@"\n' "$t/root" >"$t/bin/depmod"
	chmod +x "$t/bin/depmod"
	flags="--sourcetree $t/src --dkmstree $t/tree --installtree $t/root/lib/modules"
	run env PATH="$t/bin:$PATH" make -C "$SRC" -s dkms-install KVER="$KVER" KDIR="$KHDR" \
		DKMS_SRCDIR="$t/src" DKMS_FLAGS="$flags"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(modinfo -F version "$t/root/lib/modules/$KVER/updates/dkms/dm-biopool.ko")" = "$VERSION" ]
	grep -q 'dm-biopool.ko' "$t/root/lib/modules/$KVER/modules.dep"
	run env PATH="$t/bin:$PATH" make -C "$SRC" -s dkms-uninstall DKMS_SRCDIR="$t/src" DKMS_FLAGS="$flags"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$t/root/lib/modules/$KVER/updates/dkms/dm-biopool.ko" ]
	[ -z "$(ls "$t/tree")" ] || [ -z "$(ls "$t/tree/dm-biopool" 2>/dev/null)" ]
}

# deb_files DEB: the paths in DEB (files and links), sorted
deb_files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $6 }' | LC_ALL=C sort; }

@test "dpkg-buildpackage -b builds biostat and dm-biopool-dkms, offline, with the expected contents" {
	need_install
	local p=$WORK/pkg s=$WORK/pkg/dm-biopool-$VERSION arch
	clean_copy "$s"
	OFFLINE_TMP=1 run offline "$WORK" bash -c 'cd "$1" && dpkg-buildpackage -us -uc -b' _ "$s"
	echo "$output" | tail -n 30
	[ "$status" -eq 0 ]
	arch=$(dpkg --print-architecture)
	local b=$p/biostat_${VERSION}_$arch.deb k=$p/dm-biopool-dkms_${VERSION}_all.deb
	[ -f "$b" ] && [ -f "$k" ]
	diff <(deb_files "$b") - <<-EOF
		./lib/systemd/system/biostat.service
		./usr/sbin/biostat
		./usr/share/bash-completion/completions/biostat
		./usr/share/doc/biostat/changelog.gz
		./usr/share/doc/biostat/copyright
		./usr/share/doc/biostat/examples/biostat-alerts.yml
		./usr/share/doc/biostat/examples/biostat.service
		./usr/share/man/man8/biostat.8.gz
	EOF
	diff <(deb_files "$k") - <<-EOF
		./usr/share/doc/dm-biopool-dkms/biopool.rst.gz
		./usr/share/doc/dm-biopool-dkms/changelog.gz
		./usr/share/doc/dm-biopool-dkms/copyright
		./usr/src/dm-biopool-$VERSION/Kbuild
		./usr/src/dm-biopool-$VERSION/Makefile
		./usr/src/dm-biopool-$VERSION/VERSION
		./usr/src/dm-biopool-$VERSION/dkms.conf
		./usr/src/dm-biopool-$VERSION/dm-biopool.c
	EOF
	[ "$(dpkg-deb -f "$b" Version)" = "$VERSION" ]
	[ "$(dpkg-deb -f "$k" Version)" = "$VERSION" ]
	[ "$(dpkg-deb -f "$b" Architecture)" = "$arch" ]
	[ "$(dpkg-deb -f "$k" Architecture)" = all ]
	dpkg-deb -f "$b" Depends | grep -Eq '(^|, )libbpf1( |,|$)'
	dpkg-deb -f "$b" Depends | grep -Eq '(^|, )libc6( |,|$)'
	dpkg-deb -f "$k" Depends | grep -Eq '(^|, )dkms( |,|$)'
	# the package's module source is make install's, and its scripts use dkms
	dpkg-deb -x "$k" "$p/k"
	diff -r "$MODDIR" "$p/k/usr/src/dm-biopool-$VERSION"
	dpkg-deb -e "$k" "$p/k.ctl"
	grep -q "dkms" "$p/k.ctl/postinst"
	grep -q "dkms" "$p/k.ctl/prerm"
	dpkg-deb -x "$b" "$p/b"
	[ "$("$p/b/usr/sbin/biostat" -V)" = "biostat $VERSION" ]
	cmp "$p/b/usr/share/bash-completion/completions/biostat" "$TOP/tools/biostat/biostat.bash-completion"
	zcat "$p/b/usr/share/man/man8/biostat.8.gz" | cmp - "$TOP/Documentation/biostat.8"
	# the service, shipped disabled and not started; its examples; the guide
	cmp "$p/b/lib/systemd/system/biostat.service" "$TOP/tools/biostat/examples/biostat.service"
	cmp "$p/b/usr/share/doc/biostat/examples/biostat-alerts.yml" "$TOP/tools/biostat/examples/biostat-alerts.yml"
	dpkg-deb -e "$b" "$p/b.ctl"
	if grep -q 'deb-systemd-invoke start\|systemctl.*enable' "$p/b.ctl/postinst"; then
		echo "the package enables or starts biostat.service" >&2
		return 1
	fi
	dpkg-deb -x "$k" "$p/kd"
	zcat "$p/kd/usr/share/doc/dm-biopool-dkms/biopool.rst.gz" |
		cmp - "$TOP/Documentation/admin-guide/device-mapper/biopool.rst"
}

@test "lintian: no error and no warning on the packages" {
	local c
	c=$WORK/pkg/dm-biopool_${VERSION}_$(dpkg --print-architecture).changes
	[ -f "$c" ] || { echo "no $c: the package build test failed" >&2; return 1; }
	run lintian --fail-on error,warning "$c"
	echo "$output"
	[ "$status" -eq 0 ]
	run grep -E '^[EW]: ' <<<"$output"
	[ "$status" -eq 1 ]
}

@test "a dkms build test below for each kernel of kernels.conf" {
	# the names: SERIES for the cloud flavour, SERIES-FLAVOUR for the others
	[ "$("$TOP/scripts/kernels.bash" supported)" = "$(sed -e 's/#.*//' "$TOP/kernels.conf" |
		awk 'NF { printf "%s%s", s, ($2 == "cloud" ? $1 : $1 "-" $2); s = " " }')" ]
	# the dkms tests below name them: one more test when a kernel is added
	[ "$("$TOP/scripts/kernels.bash" supported)" = "6.1 6.12 7.2 6.12-rt 7.2-rt 6.12-generic 6.12-debug" ]
}

@test "which kernels make check, make bench and make stress take (kernels.conf's DEFAULT and SUITE)" {
	local k="$TOP/scripts/kernels.bash" suite
	# each list against kernels.conf itself
	[ "$("$k" default)" = "$(sed -e 's/#.*//' "$TOP/kernels.conf" |
		awk '$3 == "yes" { printf "%s%s", s, ($2 == "cloud" ? $1 : $1 "-" $2); s = " " }')" ]
	[ "$("$k" full)" = "$(sed -e 's/#.*//' "$TOP/kernels.conf" |
		awk '$3 == "yes" && $11 != "portability" { printf "%s%s", s, ($2 == "cloud" ? $1 : $1 "-" $2); s = " " }')" ]
	[ "$("$k" stress)" = "$(sed -e 's/#.*//' "$TOP/kernels.conf" |
		awk '($3 == "yes" && $11 == "full") || $11 == "debug" { printf "%s%s", s, ($2 == "cloud" ? $1 : $1 "-" $2); s = " " }')" ]
	# named ones, in kernels.conf's order: a portability flavour never
	# gets the full suite
	[ "$("$k" stress 6.12-rt 6.12-debug 6.1)" = "6.1 6.12-debug" ]
	# the debug kernel is in make stress by default, never in make check's
	suite=$(. "$k" && kernel_suite 6.12-debug)
	[ "$suite" = debug ]
	[[ " $("$k" stress) " == *" 6.12-debug "* ]]
	[[ " $("$k" default) " != *" 6.12-debug "* ]]
}

# dkms_build SERIES: the module from make install's source, built by dkms
# against the fetched headers of SERIES into build/dkms/SERIES/ for the guest
dkms_build() {
	need_install
	[ -f "$BUILD/kernel/$1/kernel.env" ] || skip "$1 is not fetched (make kernels)"
	. "$BUILD/kernel/$1/kernel.env"
	run "$TOP/scripts/dkms-build" "$1" "$MODDIR" "$BUILD/dkms/$1"
	echo "$output"
	[ "$status" -eq 0 ]
	local ko=$BUILD/dkms/$1/dm-biopool.ko
	[ "$(modinfo -F version "$ko")" = "$VERSION" ]
	[[ "$(modinfo -F vermagic "$ko")" == "$KVER "* ]]
	# the source dkms built is the installed one
	diff -r "$MODDIR" "$BUILD/dkms/$1/src/dm-biopool-$VERSION"
}

@test "dkms builds the installed source against the 6.1 headers" {
	dkms_build 6.1
}

@test "dkms builds the installed source against the 6.12 headers" {
	dkms_build 6.12
}

@test "dkms builds the installed source against the 7.2 headers (sid build root)" {
	dkms_build 7.2
}

@test "dkms builds the installed source against the 6.12-rt headers (PREEMPT_RT)" {
	dkms_build 6.12-rt
}

@test "dkms builds the installed source against the 7.2-rt headers (PREEMPT_RT, sid build root)" {
	dkms_build 7.2-rt
}

@test "dkms builds the installed source against the 6.12-generic headers" {
	dkms_build 6.12-generic
}

@test "dkms builds the installed source against the 6.12-debug headers (built by scripts/debug-kernel)" {
	dkms_build 6.12-debug
}
