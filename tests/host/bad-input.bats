#!/usr/bin/env bats
# Bad input to the user-facing programs: each must say what is
# wrong on stderr, in one line naming itself, with its documented exit code,
# and never with a shell trace or an "internal error".  Runs on the host:
#   bats tests/host/bad-input.bats
#
# tests/vm/run: 2 for bad usage (its header).  scripts/demo: 2 for an
# unsupported kernel.  scripts/fetch-kernel: 2 bad usage, 1 archive failure
# (its header).  make: 2 when the Makefile refuses KERNELS ($(error)) or a
# recipe fails.  bench/run: 2 bad usage, 1 a run failed (its header).
# scripts/dkms-build and scripts/check-build-deps: 2 bad usage, 1 failed.

bats_require_minimum_version 1.5.0

setup_file() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export TOP
}

# refused STATUS PROGRAM-PREFIX PATTERN: the last run exited STATUS, printed
# nothing on stdout and a message matching PATTERN on stderr, with no trace
refused() {
	if [ "$status" -ne "$1" ]; then
		echo "exit status $status, want $1; stderr: $stderr" >&2
		return 1
	fi
	if [ -n "$output" ]; then
		echo "unexpected stdout: $output" >&2
		return 1
	fi
	if ! grep -qE -- "$3" <<<"$stderr"; then
		echo "stderr does not match '$3': $stderr" >&2
		return 1
	fi
	if [ -n "$2" ] && ! grep -q -- "$2" <<<"$stderr"; then
		echo "stderr does not name '$2': $stderr" >&2
		return 1
	fi
	if grep -qE 'internal error|line [0-9]+:|Traceback|unbound variable|command not found|syntax error' <<<"$stderr"; then
		echo "stderr has a trace: $stderr" >&2
		return 1
	fi
}

vmrun() {
	run --separate-stderr timeout 60 "$TOP/tests/vm/run" "$@"
}

@test "tests/vm/run: no arguments" {
	vmrun
	refused 2 vm/run 'no COMMAND given'
}

@test "tests/vm/run: no --kernel" {
	vmrun -- true
	refused 2 vm/run 'kernel is required'
}

@test "tests/vm/run: an option without its value prints the usage" {
	for opt in --kernel --include --timeout --memory --cpus; do
		vmrun "$opt"
		refused 2 "" 'run --kernel 6.1\|6.12'
	done
}

@test "tests/vm/run: unsupported kernels" {
	# a flavour is named SERIES-FLAVOUR, the cloud one SERIES alone
	for k in 5.10 6.2 6 6.1.0 6.12.117 '' ' 6.1' '6.1;true' '../6.1' 6.12-cloud 6.1-rt 6.12-RT 6.12- \
		6.12_rt rt 6.12-rt-amd64 '6.12-rt '; do
		vmrun --kernel "$k" -- true
		refused 2 vm/run 'kernel'
	done
}

@test "tests/vm/run: bad --timeout, --memory and --cpus values" {
	local v
	for v in 0 -1 abc 1e3 1.5 '' 99999999 ' 5'; do
		vmrun --kernel 6.1 --timeout "$v" -- true
		refused 2 vm/run 'bad --timeout'
	done
	for v in 0 64 127 255 -512 1G abc '' 1e3; do
		vmrun --kernel 6.1 --memory "$v" -- true
		refused 2 vm/run 'bad --memory'
	done
	for v in 0 -1 100 two '' 1.5; do
		vmrun --kernel 6.1 --cpus "$v" -- true
		refused 2 vm/run 'bad --cpus'
	done
}

@test "tests/vm/run: --include of something that is not a directory" {
	vmrun --kernel 6.1 --include /nonexistent/dir -- true
	refused 2 vm/run 'not a directory'
	vmrun --kernel 6.1 --include /etc/passwd -- true
	refused 2 vm/run 'not a directory'
}

@test "tests/vm/run: unknown options and a missing command" {
	vmrun --kernel 6.1 --bogus -- true
	refused 2 vm/run 'unknown option'
	vmrun --kernel 6.1 -k 6.1 -- true
	refused 2 vm/run 'unknown option'
	vmrun --kernel 6.1
	refused 2 vm/run 'no COMMAND given'
	vmrun --kernel 6.1 --
	refused 2 vm/run 'no COMMAND given'
}

@test "tests/vm/run: a bad VM_ACCEL" {
	[ -f "$TOP/build/kernel/6.1/kernel.env" ] || skip "the 6.1 kernel is not fetched (make kernels)"
	VM_ACCEL=bogus vmrun --kernel 6.1 -- true
	refused 2 vm/run 'VM_ACCEL must be'
}

# --memory accepts 128 and up (its usage says so), but a guest needs room
# for the initramfs (about 111 MB of userland, unpacked into a tmpfs of half
# the memory): below that it used to die at boot with "mount: not found".
@test "tests/vm/run: a --memory it accepts either boots or is refused clearly" {
	[ -f "$TOP/build/kernel/6.1/kernel.env" ] || skip "the 6.1 kernel is not fetched (make kernels)"
	run --separate-stderr timeout 120 "$TOP/tests/vm/run" --kernel 6.1 --memory 256 -- true
	if [ "$status" -ne 0 ]; then
		refused 2 vm/run 'memory'
	fi
}

@test "scripts/demo: unsupported kernels and extra arguments" {
	local k
	for k in 5.10 6.2 --help -h 'x y'; do
		run --separate-stderr timeout 60 "$TOP/scripts/demo" "$k"
		refused 2 demo 'unsupported kernel'
	done
	run --separate-stderr timeout 60 "$TOP/scripts/demo" 6.1 extra
	refused 2 demo 'too many arguments'
}

@test "bench/run: unknown arguments" {
	local a
	for a in 5.10 --full -q 6.1,6.12 ''; do
		run --separate-stderr timeout 60 "$TOP/bench/run" "$a"
		refused 2 bench/run 'unknown argument'
	done
}

# BENCH_RUNTIME and BENCH_REPEAT are user input too: refused before a guest
# is booted, as bad usage (they used to be checked only in the guest, after
# the boot, and come back as "the guest failed", exit 1)
@test "bench/run: a bad BENCH_RUNTIME or BENCH_REPEAT is bad usage" {
	[ -f "$TOP/build/kernel/6.1/kernel.env" ] || skip "the 6.1 kernel is not fetched (make kernels)"
	BENCH_RUNTIME=abc run --separate-stderr timeout 120 "$TOP/bench/run" --quick 6.1
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr" >&2; return 1; }
	grep -q BENCH_RUNTIME <<<"$stderr"
}

@test "scripts/fetch-kernel: bad usage and a pinned version the archive does not have" {
	run --separate-stderr timeout 60 "$TOP/scripts/fetch-kernel"
	refused 2 fetch-kernel 'usage'
	run --separate-stderr timeout 60 "$TOP/scripts/fetch-kernel" 5.10 "$BATS_TEST_TMPDIR/k"
	refused 2 fetch-kernel 'unsupported kernel'
	local pin
	for pin in 0.0-0 bogus '6.1.0-56;true' '../../etc' '6.1.0-56 extra'; do
		KVER_6_1=$pin run --separate-stderr timeout 60 "$TOP/scripts/fetch-kernel" 6.1 "$BATS_TEST_TMPDIR/k"
		refused 1 fetch-kernel 'not found in the archive'
		[ ! -e "$BATS_TEST_TMPDIR/k" ]
	done
	# another flavour's ABI (with its suffix) or another series' is no pin
	# of this entry, whether the series' pin or the flavour's own
	for pin in KVER_6_12_RT=0.0-0 KVER_6_12_RT=6.12.118+deb12-rt KVER_6_12=6.1.0-57 \
		KVER_6_12=6.12.118+deb12-amd64; do
		run --separate-stderr timeout 60 env "$pin" "$TOP/scripts/fetch-kernel" 6.12-rt "$BATS_TEST_TMPDIR/k"
		refused 1 fetch-kernel "${pin%%=*}.*not found in the archive"
		[ ! -e "$BATS_TEST_TMPDIR/k" ]
	done
}

# scripts/debug-kernel refuses before it builds anything: bad usage, an
# entry that is fetched (not PACKAGING source), a pin of another ABI
@test "scripts/debug-kernel: bad usage, a fetched kernel, a pin it cannot build" {
	local k pin
	run --separate-stderr timeout 60 "$TOP/scripts/debug-kernel"
	refused 2 debug-kernel 'KERNEL OUTDIR'
	run --separate-stderr timeout 60 "$TOP/scripts/debug-kernel" 5.10 "$BATS_TEST_TMPDIR/k"
	refused 2 debug-kernel 'unsupported kernel'
	for k in $("$TOP/scripts/kernels.bash" supported); do
		. "$TOP/scripts/kernels.bash" && kernel_load "$k"
		[ "$K_PACKAGING" = source ] && continue
		run --separate-stderr timeout 60 "$TOP/scripts/debug-kernel" "$k" "$BATS_TEST_TMPDIR/k"
		refused 2 debug-kernel 'not source'
	done
	for k in $("$TOP/scripts/kernels.bash" supported); do
		. "$TOP/scripts/kernels.bash" && kernel_load "$k"
		[ "$K_PACKAGING" = source ] || continue
		pin=KVER_${k//[.-]/_}
		run --separate-stderr timeout 60 env "${pin^^}=0.0-0" "$TOP/scripts/fetch-kernel" "$k" "$BATS_TEST_TMPDIR/k"
		refused 1 debug-kernel "${pin^^}='0.0-0' not found in the archive"
		run --separate-stderr timeout 60 env "KVER_${K_SERIES//./_}=0.0-0" "$TOP/scripts/debug-kernel" path "$k"
		refused 1 debug-kernel "not found in the archive"
	done
	[ ! -e "$BATS_TEST_TMPDIR/k" ]
}

# kernels.conf names each kernel from SERIES and FLAVOUR: a line that cannot
# make a name, or two lines that make the same one, stop every reader
@test "scripts/kernels.bash: a malformed kernels.conf is refused, naming the line" {
	local c=$BATS_TEST_TMPDIR/kernels.conf line
	for line in '6.12 cloud yes system image abi boot host M no' '6.x rt no system image abi boot host M no full' \
		'6.12 RT no system image abi boot host M no full' '6.12 rt no system image abi boot host M no some' \
		'6.1 cloud no system image series boot host M no full'; do
		printf '%s\n' '# SERIES FLAVOUR ...' '6.1 cloud yes system image series boot host M yes full' "$line" >"$c"
		KERNELS_CONF=$c run --separate-stderr "$TOP/scripts/kernels.bash" supported
		refused 1 "kernels: $c:3: " '11 fields|bad SERIES|bad FLAVOUR|bad SUITE|listed twice'
	done
}

@test "make: KERNELS with unsupported or no kernels is refused before anything runs" {
	local k
	for k in 5.10 '6.1 7.0' 6.1,6.12 6 '6.12 ../6.1' 6.12-cloud '6.12 6.1-rt' 6.12-RT; do
		run --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS="$k" check
		refused 2 Makefile "KERNELS: unsupported kernel"
		KERNELS=$k run --separate-stderr make -C "$TOP" -n --no-print-directory all
		refused 2 Makefile "KERNELS: unsupported kernel"
	done
	run --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS= check
	refused 2 Makefile "KERNELS is empty"
	run --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS='  ' module
	refused 2 Makefile "KERNELS is empty"
	# and a good one is taken (deps: a target whose recipe has no $(MAKE),
	# which -n would run anyway)
	run --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS=6.12 deps-build
	[ "$status" -eq 0 ]
	[ "$output" = scripts/deps ]
	# and so is another flavour's name
	run --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS='6.12-rt 7.2-rt' deps-build
	[ "$status" -eq 0 ]
	[ "$output" = scripts/deps ]
}

@test "make: no kernel named outside kernels.conf (code, not comments); V=1 shows every command" {
	local k hits
	for k in $("$TOP/scripts/kernels.bash" supported); do
		hits=$(cd "$TOP" && grep -nwF "$k" Makefile scripts/* tests/check tests/vm/run bench/run |
			grep -v '^[^:]*:[0-9]*:[[:space:]]*#' || true)
		[ -z "$hits" ] || { echo "kernel $k named outside kernels.conf: $hits" >&2; return 1; }
	done
	# quiet by default, the recipe and the sub-make's commands with V=1
	run -0 make -C "$TOP" --no-print-directory fuzz
	[[ $output != *"-C tests/fuzz"* ]]
	run -0 make -C "$TOP" --no-print-directory V=1 fuzz
	echo "$output"
	[[ $output == *"make  -C tests/fuzz"* ]]
}

@test "make: a plain make installs only what the build needs; make check the tests' (node_exporter, promtool)" {
	run -0 --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS=6.12 all
	grep -qx 'scripts/deps' <<<"$output"
	if grep -q 'scripts/deps test' <<<"$output"; then
		echo "make all installs the tests' packages" >&2
		return 1
	fi
	run -0 --separate-stderr make -C "$TOP" -n --no-print-directory KERNELS=6.12 check
	grep -qx 'scripts/deps test' <<<"$output"
	# the daemons are in the tests' list only
	run -0 bash -c 'sed -n "/^pkgs=(/,/)$/p" "$1"' _ "$TOP/scripts/deps"
	if grep -q 'prometheus' <<<"$output"; then
		echo "scripts/deps installs prometheus for the build" >&2
		return 1
	fi
	run --separate-stderr "$TOP/scripts/deps" nonsense
	[ "$status" -eq 2 ]
	[ "$stderr" = "usage: deps [test|bench]" ]
}

@test "make: a pinned kernel version the archive does not have fails with fetch-kernel's message" {
	run --separate-stderr timeout 120 make -C "$TOP" --no-print-directory KERNELS=6.1 KVER_6_1=0.0-0 kernels
	[ "$status" -eq 2 ]
	grep -q 'fetch-kernel: .*not found in the archive' <<<"$stderr"
	run grep -qE 'internal error|line [0-9]+:' <<<"$stderr"
	[ "$status" -ne 0 ]
	# the fetched kernel is still there
	[ -f "$TOP/build/kernel/6.1/kernel.env" ]
}

@test "tests/check (make check, make stress): a bad SEED or kernel is bad usage" {
	local s
	for s in abc -1 1e3 '1 2' 1234567890123456789012; do
		SEED=$s run --separate-stderr timeout 60 "$TOP/tests/check" 6.1
		refused 2 check 'SEED must be a number'
		SEED=$s run --separate-stderr timeout 60 "$TOP/tests/check" --stress 6.1
		refused 2 check 'SEED must be a number'
	done
	run --separate-stderr timeout 60 "$TOP/tests/check" 5.10
	refused 2 check 'unsupported kernel'
}

@test "scripts/dkms-build: bad usage, an unsupported kernel, a source without dkms.conf" {
	run --separate-stderr "$TOP/scripts/dkms-build"
	refused 2 dkms-build 'usage: dkms-build'
	run --separate-stderr "$TOP/scripts/dkms-build" 9.9 /nonexistent "$BATS_TEST_TMPDIR/out"
	refused 2 dkms-build "unsupported kernel '9.9'"
	run --separate-stderr "$TOP/scripts/dkms-build" 6.12 /nonexistent "$BATS_TEST_TMPDIR/out"
	refused 1 dkms-build 'no dkms.conf in /nonexistent'
}

@test "scripts/check-build-deps: bad usage" {
	run --separate-stderr "$TOP/scripts/check-build-deps"
	refused 2 check-build-deps 'usage: check-build-deps'
	run --separate-stderr "$TOP/scripts/check-build-deps" dkms
	refused 2 check-build-deps 'usage: check-build-deps dkms KDIR'
}

# tests/check runs a guest again once when its kernel reported an error
# before user space started (boot_report): not before any later report
@test "tests/check: a kernel report before user space is told apart from one after (boot_report)" {
	local d=$BATS_TEST_TMPDIR
	printf '[ 0.005] BUG: KASAN: wild-memory-access in do_raw_spin_lock\n[ 19.1] vmrun: running as x\n' >"$d/boot.console"
	printf '[ 19.1] vmrun: running as x\n[ 111.4] WARNING: inconsistent lock state\n' >"$d/late.console"
	for c in boot late; do
		printf 'vm/run: the guest kernel log (6.12-debug, x) has errors (%s):\n' "$d/$c.console" >"$d/$c.tap"
	done
	run bash -c ". '$TOP/tests/lib/kernel-errors.bash'; $(sed -n '/^boot_report() {/,/^}/p' "$TOP/tests/check")
		boot_report '$d/boot.tap' && ! boot_report '$d/late.tap'"
	echo "$output"
	[ "$status" -eq 0 ]
}
