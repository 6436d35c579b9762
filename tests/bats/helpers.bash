# Helpers shared by every guest test: `load helpers` in each .bats file.
# They run inside the QEMU guest (tests/vm/run), as root, without udev.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0
export DM_DISABLE_UDEV=1 # dmsetup makes /dev/mapper nodes itself

# ---- generic ---------------------------------------------------------------

# wait_until SECONDS CMD [ARGS...]: poll CMD every 50 ms until it succeeds;
# fail (status 1) if it has not within SECONDS.
wait_until() {
	local limit=$1 end
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	until "$@"; do
		if [ "$(date +%s%N)" -gt "$end" ]; then
			echo "wait_until: '$*' still false after ${limit}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# kmsg_mark: remember where the kernel log stands (setup calls it)
kmsg_mark() {
	BP_KMSG_MARK="bats-mark-$$-$RANDOM"
	echo "$BP_KMSG_MARK ${BATS_TEST_NAME:-}" >/dev/kmsg
}

# kernel_log_since_mark: the kernel log after the last kmsg_mark
kernel_log_since_mark() {
	dmesg | sed -n "/$BP_KMSG_MARK/,\$p" | tail -n +2
}

# assert_kernel_log_clean: no oops, BUG, warning or hung task since the mark
assert_kernel_log_clean() {
	local bad
	bad=$(kernel_log_since_mark | grep -E 'BUG:|Oops|WARNING:|hung_task|blocked for more than|general protection|KASAN|kmemleak' || true)
	if [ -n "$bad" ]; then
		echo "kernel log has errors:" >&2
		echo "$bad" >&2
		return 1
	fi
}

# ---- backing devices ---------------------------------------------------------

# make_brd MIB [COUNT]: COUNT (default 1) RAM disks of MIB each: /dev/ram0...
make_brd() {
	local mib=$1 count=${2:-1}
	if grep -q '^brd ' /proc/modules; then rmmod brd; fi
	modprobe brd rd_nr="$count" rd_size=$((mib * 1024)) max_part=0
	wait_until 5 test -b /dev/ram$((count - 1))
}

# make_loop MIB: a loop device over a sparse file in /tmp; prints its path
make_loop() {
	local mib=$1 file
	modprobe loop
	file=$(mktemp /tmp/loop.XXXXXX)
	truncate -s "${mib}M" "$file"
	losetup -f --show "$file"
}

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

# sectors DEV: size of DEV in 512-byte sectors
sectors() { blockdev --getsz "$1"; }

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

# bp_stat NAME KEY: one key=value field of a biopool device's status line
bp_stat() {
	dmsetup status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# dm_cleanup: remove every dm device (top of a stack first), stop test I/O
dm_cleanup() {
	local i
	pkill -x fio 2>/dev/null || true
	for i in 1 2 3 4 5 6; do
		[ -z "$(dmsetup ls 2>/dev/null | grep -v '^No devices found')" ] && break
		for d in $(dmsetup ls 2>/dev/null | awk '$1 != "No" { print $1 }'); do
			dmsetup resume "$d" 2>/dev/null
			dmsetup remove "$d" 2>/dev/null
		done
	done
	dmsetup remove_all 2>/dev/null || true
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

# common_setup / common_teardown: what most tests want around them
common_setup() {
	kmsg_mark
	load_biopool
}

common_teardown() {
	dm_cleanup
	backing_cleanup
	assert_kernel_log_clean
}

# ---- data ----------------------------------------------------------------------

# random_file PATH MIB
random_file() {
	head -c "$2M" /dev/urandom >"$1"
}

# write_direct FILE DEV BS [OFFSET_BYTES [BYTES]]: copy FILE (or BYTES of it
# from OFFSET) to the same offset of DEV with O_DIRECT writes of BS bytes
write_direct() {
	local file=$1 dev=$2 bs=$3 off=${4:-0} len=${5:-}
	[ -n "$len" ] || len=$(stat -c %s "$file")
	dd if="$file" of="$dev" bs="$bs" iflag=skip_bytes,count_bytes,fullblock \
		oflag=direct,seek_bytes skip="$off" seek="$off" count="$len" \
		conv=notrunc status=none
}

# sha_dev DEV MIB: sha256 of the first MIB MiB of DEV, read with O_DIRECT
sha_dev() {
	dd if="$1" bs=1M count="$2" iflag=direct status=none | sha256sum | cut -d' ' -f1
}

sha_file() { sha256sum "$1" | cut -d' ' -f1; }
