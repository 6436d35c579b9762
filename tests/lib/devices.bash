# tests/lib/devices.bash: block devices, device-mapper devices and biopool
# stacks: backing devices (brd, loop) made and removed, dm devices created
# and all removed, the kernel's own stacking drivers (md arrays with mdadm,
# bcache with make-bcache, dm-crypt and dm-thin with dmsetup) made and
# removed top first, biopool tables and stacks, the fault-injection release,
# the status line of a biopool device read (bp_read, bp_stat) and the idle
# predicate and assertion on it, refusal of bad tables, and where the table
# fuzzer (dmfuzz) is.  Loaded by init.bash.
# shellcheck shell=bash

# ---- backing devices ---------------------------------------------------------

# make_brd MIB [COUNT]: COUNT (default 1) RAM disks of MIB each: /dev/ram0...
make_brd() {
	local mib=$1 count=${2:-1}
	if grep -q '^brd ' /proc/modules; then rmmod brd; fi
	modprobe brd rd_nr="$count" rd_size=$((mib * 1024)) max_part=0
	wait_until 5 test -b /dev/ram$((count - 1))
}

# make_loop MIB [BLOCK_SIZE]: a loop device (logical blocks of BLOCK_SIZE
# bytes, default 512) over a sparse file in /tmp; prints its path
make_loop() {
	local mib=$1 file
	modprobe loop
	file=$(mktemp /tmp/loop.XXXXXX)
	truncate -s "${mib}M" "$file"
	losetup -f --show -b "${2:-512}" "$file"
}

# backing_cleanup: loop devices, RAM disks and null_blk devices go away
backing_cleanup() {
	losetup -D 2>/dev/null || true
	rm -f /tmp/loop.*
	if grep -q '^brd ' /proc/modules; then rmmod brd; fi
	if grep -q '^null_blk ' /proc/modules; then
		rmdir /sys/kernel/config/nullb/* 2>/dev/null || true
		rmmod null_blk
	fi
}

# sectors DEV: size of DEV in 512-byte sectors
sectors() { blockdev --getsz "$1"; }

# majmin DEV: "major:minor" of a block device
majmin() {
	local d
	d=$(readlink -f "$1")
	printf '%d:%d\n' "0x$(stat -c %t "$d")" "0x$(stat -c %T "$d")"
}

# dm_sysfs NAME: /sys/dev/block/<major>:<minor> of a dm device
dm_sysfs() { echo "/sys/dev/block/$(majmin "/dev/mapper/$1")"; }

# dm_kname NAME: the kernel's name of a dm device (dm-N)
dm_kname() { basename "$(readlink -f "$(dm_sysfs "$1")")"; }

# ---- device-mapper -------------------------------------------------------------

load_biopool() {
	modprobe dm-mod
	modprobe dm-biopool
}

# dm_create NAME TABLE: create a dm device and its /dev/mapper node
dm_create() {
	local name=$1 table=$2
	dmsetup create "$name" --table "$table" || return
	[ -b "/dev/mapper/$name" ] || dmsetup mknodes "$name"
	[ -b "/dev/mapper/$name" ]
}

# dm_names [TARGET]: the names of the dm devices (with a TARGET in their table)
dm_names() {
	dmsetup ls ${1:+--target "$1"} 2>/dev/null | awk '$1 != "No" { print $1 }'
}

# dm_cleanup: remove every dm device (top of a stack first), stop test I/O
dm_cleanup() {
	local d
	pkill -x fio 2>/dev/null || true
	bp_release_all
	for _ in 1 2 3 4 5 6; do
		[ -z "$(dm_names)" ] && break
		for d in $(dm_names); do
			dmsetup resume "$d" 2>/dev/null
			dmsetup remove "$d" 2>/dev/null
		done
	done
	dmsetup remove_all 2>/dev/null || true
}

# assert_tables_refused TABLE...: dmsetup create refuses each table and
# leaves no device behind
assert_tables_refused() {
	local t
	for t in "$@"; do
		if dmsetup create bad --table "$t" >/dev/null 2>&1; then
			echo "accepted: $t" >&2
			return 1
		fi
		if dmsetup info bad >/dev/null 2>&1; then
			echo "left behind by: $t" >&2
			return 1
		fi
	done
}

# ---- biopool devices and stacks ------------------------------------------------------

# biopool_table DEV [OPT...]: a table line mapping all of DEV through biopool,
# with the optional parameters given (counted for the table)
biopool_table() {
	local dev=$1
	shift
	if [ $# -gt 0 ]; then
		echo "0 $(sectors "$dev") biopool $dev 0 $# $*"
	else
		echo "0 $(sectors "$dev") biopool $dev 0"
	fi
}

# make_stack PREFIX LOWER POOL:SPLIT...: one biopool layer per POOL:SPLIT
# (pool_size, split_sectors), PREFIX1 on LOWER at the bottom, PREFIX2 on
# PREFIX1 and so on up.  The exhausted stack of most tests is
# `make_stack bp /dev/ram0 1:8 1:16 1:64`: every layer splits what it gets.
make_stack() {
	local prefix=$1 lower=$2 n=0 layer
	shift 2
	for layer in "$@"; do
		n=$((n + 1))
		dm_create "$prefix$n" "$(biopool_table "$lower" "pool_size:${layer%:*}" "split_sectors:${layer#*:}")" || return
		lower=/dev/mapper/$prefix$n
	done
}

# bp_fail_alloc VALUE NAME...: the fail_alloc message (always, 0 or a
# count) to each biopool device named
bp_fail_alloc() {
	local v=$1 d
	shift
	for d in "$@"; do dmsetup message "$d" 0 fail_alloc "$v" || return; done
}

# bp_release_all: no more injected failures on any biopool device, so that
# a writer stuck on an exhausted pool can finish (for teardown: quiet)
bp_release_all() {
	local d
	for d in $(dm_names biopool); do
		dmsetup message "$d" 0 fail_alloc 0 2>/dev/null || true
	done
}

# bp_read NAME: the status fields of a biopool device into BP[key], with
# one dmsetup call
declare -gA BP
bp_read() {
	local line kv
	line=$(dmsetup status "$1") || return
	BP=()
	for kv in ${line#* biopool }; do BP[${kv%%=*}]=${kv#*=}; done
	[ -n "${BP[pool_size]:-}" ]
}

# bp_stat NAME KEY: one key=value field of a biopool device's status line
bp_stat() { bp_read "$1" && echo "${BP[$2]}"; }

# check_bp NAME KEY OP VALUE: KEY of biopool device NAME's status compares
# with VALUE by OP (= != -eq -ne -gt -ge -lt -le, as test(1)); if not, one
# line with what it saw and what was expected (lvm2's test/lib/check)
check_bp() {
	local v
	v=$(bp_stat "$1" "$2") || { echo "check_bp: $1 has no biopool status" >&2; return 1; }
	test "$v" "$3" "$4" 2>/dev/null || { echo "check_bp: $1 $2 is $v, expected $3 $4" >&2; return 1; }
}

# predicates for wait_until, which runs them again on every poll
bp_stat_is() { [ "$(bp_stat "$1" "$2")" = "$3" ]; }
bp_stat_ge() { [ "$(bp_stat "$1" "$2")" -ge "$3" ]; }

# bp_idle NAME: nothing in flight and the whole reserve back in the pool
# (and in the context pool, with ctx_pool)
bp_idle() {
	bp_read "$1" && [ "${BP[in_flight]}" = 0 ] && [ "${BP[pool_free]}" = "${BP[pool_size]}" ] &&
		[ "${BP[ctx_free]:-${BP[pool_size]}}" = "${BP[pool_size]}" ]
}

# bp_fields NAME KEY...: "NAME: key=value ..." of NAME, for figures
bp_fields() {
	local d=$1 k out=
	shift
	bp_read "$d"
	for k in "$@"; do out="$out $k=${BP[$k]}"; done
	echo "$d:$out"
}

# assert_bp_idle [-r] NAME...: each is idle within 30 s (bp_idle), counted
# no error and completed every clone it made (completed = clones; not
# with -r: reset_stats raced with I/O, completions of clones made before
# it count after it)
assert_bp_idle() {
	local d counted=1
	if [ "${1:-}" = -r ]; then
		counted=
		shift
	fi
	for d in "$@"; do
		if ! wait_until 30 bp_idle "$d"; then
			echo "$d not idle: $(dmsetup status "$d")" >&2
			return 1
		fi
		if [ "${BP[errors]}" != 0 ] || { [ -n "$counted" ] && [ "${BP[completed]}" != "${BP[clones]}" ]; }; then
			echo "$d: $(dmsetup status "$d")" >&2
			return 1
		fi
	done
}

# ---- the kernel's own stacking drivers ----------------------------------------------------

# make_md NAME LEVEL DEV...: an md array /dev/NAME (a DEV may be "missing":
# degraded), no initial resync; no bitmap, or MD_BITMAP's (internal)
make_md() {
	local name=$1 level=$2 bitmap=(--bitmap="${MD_BITMAP:-none}")
	shift 2
	[ "$level" = 0 ] && bitmap=()
	modprobe md-mod
	mdadm --create "/dev/$name" --run --quiet --level="$level" --raid-devices=$# \
		--metadata=1.2 "${bitmap[@]}" --assume-clean "$@" </dev/null || return
	wait_until 10 test -b "/dev/$name"
}

# md_clean NAME: the array is idle and marked clean (md writes its
# superblock on its own a moment after the last write: safe_mode_delay)
md_clean() { [ "$(cat "/sys/block/$1/md/array_state")" = clean ]; }

# make_crypt NAME DEV: dm-crypt, aes-xts-plain64 with a fixed key, over DEV
make_crypt() {
	modprobe -a dm-crypt xts ecb 2>/dev/null
	modprobe aesni-intel 2>/dev/null || true # else the generic AES
	dm_create "$1" "0 $(sectors "$2") crypt aes-xts-plain64 $(printf '%064x' 7) 0 $2 0"
}

# make_thin_pool NAME META DATA: a thin pool of 64 KiB blocks (new blocks
# zeroed by kcopyd); make_thin NAME POOL ID MIB: a thin device on it
make_thin_pool() {
	modprobe dm-thin-pool
	dd if=/dev/zero of="$2" bs=4k count=1 oflag=direct status=none &&
		dm_create "$1" "0 $(sectors "$3") thin-pool $2 $3 128 0"
}
make_thin() {
	dmsetup message "$2" 0 "create_thin $3" &&
		dm_create "$1" "0 $(($4 * 2048)) thin /dev/mapper/$2 $3"
}

# make_bcache BACKING CACHE: a bcache device over BACKING, cached on CACHE
# (16 KiB buckets: the kernel wants 1024 buckets at least, 16 MiB of
# cache), writethrough, every I/O cached (no sequential bypass), attached
# to its cache set; prints its name (bcacheN)
make_bcache() {
	local b sys
	modprobe bcache
	make-bcache --bucket 16k -B "$1" -C "$2" >/dev/null || return
	echo "$2" >/sys/fs/bcache/register || return
	echo "$1" >/sys/fs/bcache/register || return
	sys=/sys/dev/block/$(majmin "$1")/bcache
	wait_until 10 test -e "$sys/dev" || return
	wait_until 10 grep -qv 'no cache' "$sys/state" || return
	b=$(basename "$(readlink -f "$sys/dev")")
	wait_until 10 test -b "/dev/$b" || return
	echo 0 >"/sys/block/$b/bcache/sequential_cutoff"
	echo "$b"
}

no_bcache() { ! compgen -G '/sys/block/bcache*' >/dev/null && ! compgen -G '/sys/fs/bcache/*-*' >/dev/null; }

# stack_cleanup: for teardown: what the tests of the kernel's drivers
# made goes away, top first: filesystems under /mnt, bcache devices and
# cache sets, dm devices on top, md arrays, dm devices below
stack_cleanup() {
	local f
	for f in $(awk '$2 ~ "^/mnt/" { print $2 }' /proc/mounts); do umount "$f"; done
	for f in /sys/block/bcache*/bcache/stop /sys/fs/bcache/*-*/unregister; do
		[ -e "$f" ] && echo 1 >"$f"
	done
	wait_until 20 no_bcache || true
	dm_cleanup
	for f in /dev/md[0-9]*; do
		[ -b "$f" ] && mdadm --stop "$f" >/dev/null 2>&1
	done
	dm_cleanup
}

# ---- the table and message fuzzer ------------------------------------------------------

# dmfuzz: on PATH, or in the checkout's build/fuzz (tests/vm/run leaves a
# checkout's build directory out of the guest unless it is included by name:
# --include $PWD/build/fuzz)
DMFUZZ=${DMFUZZ:-$(command -v dmfuzz || echo "$(cd "$BP_LIB/../.." && pwd)/build/fuzz/dmfuzz")}

need_dmfuzz() {
	if [ ! -x "$DMFUZZ" ]; then
		echo "no dmfuzz in the guest: build it on the host (make -C tests/fuzz) and" \
			"pass it in (tests/vm/run --include \$PWD/build/fuzz), or put it on PATH" >&2
		return 1
	fi
}

# fuzz_dev DEV: DEV as dmfuzz gen-tables takes it (--dev PATH:SECTORS:LBS:MAJ:MIN)
fuzz_dev() {
	echo "$1:$(sectors "$1"):$(blockdev --getss "$1"):$(majmin "$1")"
}
