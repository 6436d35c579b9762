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

# kernel_log_since_mark: the kernel log after the last kmsg_mark; all of it
# when the mark has been overwritten (then everything left came after it)
kernel_log_since_mark() {
	local log
	log=$(dmesg)
	if grep -q "$BP_KMSG_MARK" <<<"$log"; then
		sed -n "/$BP_KMSG_MARK/,\$p" <<<"$log" | tail -n +2
	else
		printf '%s\n' "$log"
	fi
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
	# a writer stuck on an exhausted pool must be able to finish
	for d in $(dmsetup ls --target biopool 2>/dev/null | awk '$1 != "No" { print $1 }'); do
		dmsetup message "$d" 0 fail_alloc 0 2>/dev/null || true
	done
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
# (BS: bytes, or with a k, K, M or G suffix).  A tail shorter than BS goes
# in 512-byte writes: dd would write it through the page cache instead.
write_direct() {
	local file=$1 dev=$2 b off len head
	b=$(_bytes "$3") && off=$(_bytes "${4:-0}") || return 1
	len=${5:-$(stat -c %s "$file")}
	len=$(_bytes "$len") || return 1
	if [ $((off % 512)) -ne 0 ] || [ $((len % 512)) -ne 0 ]; then
		echo "write_direct: offset $off and length $len must be multiples of 512" >&2
		return 1
	fi
	head=$((len / b * b))
	_dd_direct "$file" "$dev" "$b" "$off" "$head" &&
		_dd_direct "$file" "$dev" 512 $((off + head)) $((len - head))
}

# parallel_write FILE DEV MIB: FILE's first MIB MiB written to DEV by four
# writers at once (1 MiB O_DIRECT writes), each on its own quarter
parallel_write() {
	local file=$1 dev=$2 q=$(($3 / 4)) i pids=()
	for i in 0 1 2 3; do
		write_direct "$file" "$dev" 1M "$((i * q))M" "${q}M" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
}

# assert_tables_refused TABLE...: dmsetup create refuses each table and
# leaves no device behind
assert_tables_refused() {
	local t
	for t in "$@"; do
		run dmsetup create bad --table "$t"
		if [ "$status" -eq 0 ]; then
			echo "accepted: $t" >&2
			return 1
		fi
		run dmsetup info bad
		if [ "$status" -eq 0 ]; then
			echo "left behind by: $t" >&2
			return 1
		fi
	done
}

# _bytes N[k|K|M|G]: bytes
_bytes() {
	case $1 in
	*[kK]) echo $((${1%?} * 1024)) ;;
	*M) echo $((${1%?} * 1048576)) ;;
	*G) echo $((${1%?} * 1073741824)) ;;
	*[!0-9]* | '') echo "_bytes: not a size: '$1'" >&2; return 1 ;;
	*) echo "$1" ;;
	esac
}

# _dd_direct FILE DEV BS OFFSET BYTES: BYTES, a multiple of BS, with O_DIRECT
_dd_direct() {
	[ "$5" -gt 0 ] || return 0
	dd if="$1" of="$2" bs="$3" iflag=skip_bytes,count_bytes,fullblock \
		oflag=direct,seek_bytes skip="$4" seek="$4" count="$5" \
		conv=notrunc status=none
}

# sha_dev DEV MIB: sha256 of the first MIB MiB of DEV, read with O_DIRECT
sha_dev() {
	dd if="$1" bs=1M count="$2" iflag=direct status=none | sha256sum | cut -d' ' -f1
}

sha_file() { sha256sum "$1" | cut -d' ' -f1; }

# ---- memory accounting (these kernels have no kmemleak) ------------------------

# mem_snapshot FILE: what the kernel holds, settled enough to compare two
# snapshots: page cache dropped, per-CPU slabs of the caches compared flushed
# and their empty slabs freed (shrink), free pages counted with the per-CPU
# page lists (/proc/zoneinfo), which otherwise swing MemFree by tens of MiB.
# Lines "key value": FreePcp and SUnreclaim in kB, then the allocated objects
# of every bio-*, biovec-*, kmalloc-* and dm_* cache.
mem_snapshot() {
	local f
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/{bio-,biovec-,kmalloc-,dm_}*/shrink; do
		echo 1 >"$f" 2>/dev/null || true
	done
	{
		awk '$1 == "pages" && $2 == "free" { f += $3 } $1 == "count:" { p += $2 }
			END { print "FreePcp", (f + p) * 4 }' /proc/zoneinfo
		awk '$1 == "SUnreclaim:" { print "SUnreclaim", $2 }' /proc/meminfo
		awk '/^(bio-|biovec-|kmalloc-|dm_)/ { print $1, $2 }' /proc/slabinfo
	} | LC_ALL=C sort >"$1"
}

# mem_within BEFORE AFTER [FREE_KB [UNRECLAIM_KB [OBJECTS [SMALL]]]]: between
# two mem_snapshot files, free memory fell by at most FREE_KB (default 4096),
# SUnreclaim grew by at most UNRECLAIM_KB (default 1024), no bio-* cache holds
# more objects than before (bio_set pools come and go with their devices),
# no other cache more than OBJECTS (default 64) more, except kmalloc-8, -16
# and -32 (and their -cg- twins): SMALL (default 1024) more, as they swing by
# hundreds of objects in an idle guest.  Says what is off on stderr.
mem_within() {
	local bad
	bad=$({
		LC_ALL=C join "$1" "$2" | awk -v free="${3:-4096}" -v unr="${4:-1024}" -v objs="${5:-64}" -v small="${6:-1024}" '
			$1 == "FreePcp" { if ($2 - $3 > free) print "free memory down by " $2 - $3 " kB, bound " free; next }
			$1 == "SUnreclaim" { if ($3 - $2 > unr) print "SUnreclaim up by " $3 - $2 " kB, bound " unr; next }
			$1 ~ /^bio-/ { if ($3 > $2) print $1 ": " $2 " -> " $3 " objects"; next }
			$1 ~ /^kmalloc-(cg-)?(8|16|32)$/ { if ($3 - $2 > small) print $1 ": " $2 " -> " $3 " objects, bound +" small; next }
			$3 - $2 > objs { print $1 ": " $2 " -> " $3 " objects, bound +" objs }'
		LC_ALL=C join -v 2 "$1" "$2" | awk '$1 ~ /^bio-/ && $2 > 0 { print "new cache " $1 " holds " $2 " objects" }'
	})
	if [ -n "$bad" ]; then
		echo "memory not returned:" >&2
		echo "$bad" >&2
		return 1
	fi
}

# assert_mem_returned BEFORE [FREE_KB [UNRECLAIM_KB [OBJECTS [SMALL]]]]: snapshot
# again (into BEFORE.after) until mem_within holds, for up to 60 s: objects
# freed after an RCU grace period or by a worker take a few seconds to go,
# longer under TCG on a busy host.
# Prints the changes on stderr.
assert_mem_returned() {
	local before=$1
	shift
	_mem_again() { mem_snapshot "$before.after" && mem_within "$before" "$before.after" "$@" 2>/dev/null; }
	wait_until 60 _mem_again "$@" || true
	LC_ALL=C join "$before" "$before.after" | awk '$2 != $3 { printf "  %s %s -> %s\n", $1, $2, $3 }' >&2
	mem_within "$before" "$before.after" "$@"
}

# kmsg_mark_seen: the last kmsg_mark is still in the kernel log.  A test that
# logs a lot (the ring buffer holds about 128 KiB) checks it before trusting
# kernel_log_since_mark and assert_kernel_log_clean, which otherwise see an
# empty log once the mark has been overwritten.
kmsg_mark_seen() {
	if ! dmesg | grep -q "$BP_KMSG_MARK"; then
		echo "the kernel log mark was overwritten: too much logged since" >&2
		return 1
	fi
}
