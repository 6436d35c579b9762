#!/usr/bin/env bats
# dm-biopool, the complete target: forward progress under exhausted
# pools, table and message validation, status and counters, suspend/reload
# under load, flush and discard pass-through.

load ../lib/init

setup() { common_setup; }
teardown() { common_teardown; }

# blk_stat DEV FIELD: field FIELD (1-based) of /sys/block/<dev>/stat
# (12: discards completed, 16: flushes completed)
blk_stat() {
	awk -v f="$2" '{ print $f }' "/sys/block/${1#/dev/}/stat"
}

blk_stat_gt() { [ "$(blk_stat "$1" "$2")" -gt "$3" ]; }

# ---- forward progress ------------------------------------------------------

# bats test_tags=portability
@test "3-deep stack, pool_size:1, fail_alloc always on every layer: fio verify and checksum pass" {
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	bp_fail_alloc always bp1 bp2 bp3
	for d in bp1 bp2 bp3; do check_bp "$d" fail_alloc = always; done

	fio_verify /dev/mapper/bp3 0 16M /tmp/fio.log --randrepeat=0
	random_file /tmp/data 32
	parallel_write /tmp/data /dev/mapper/bp3 32
	assert_holds "$(sha_file /tmp/data)" 32 /dev/mapper/bp3 /dev/ram0

	for d in bp1 bp2 bp3; do
		dmsetup status "$d"
		assert_bp_idle "$d"
		check_bp "$d" splits -gt 0
		check_bp "$d" alloc_failed -gt 0
		check_bp "$d" fail_alloc = always
	done
	bp_fail_alloc 0 bp1 bp2 bp3
}

@test "the same stack without injection never fails an allocation" {
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	fio_verify /dev/mapper/bp3 0 16M /tmp/fio.log --randrepeat=0
	random_file /tmp/data 32
	parallel_write /tmp/data /dev/mapper/bp3 32
	[ "$(sha_dev /dev/mapper/bp3 32)" = "$(sha_file /tmp/data)" ]
	for d in bp1 bp2 bp3; do
		dmsetup status "$d"
		assert_bp_idle "$d"
		check_bp "$d" splits -gt 0
		check_bp "$d" alloc_failed = 0
	done
}

# bats test_tags=portability
@test "fail_alloc N fails exactly N slab allocations, each served by the reserve" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	random_file /tmp/data 1
	# fail_alloc N, bytes written in 4 KiB writes (one clone each, one at a
	# time), then clones, alloc_failed and fail_alloc left.  1000: each
	# allocation fails in the slab (once on 6.x, where the mempool calls
	# it; twice on 7.2, whose bio_alloc_bioset() tries the slab cache
	# itself first) and takes a reserve element, which comes back; 2: the
	# count runs out, later allocations come from the slab
	local per=1
	case $(uname -r) in 6.*) ;; *) per=2 ;; esac
	while read -r n len clones failed left; do
		dmsetup message bp0 0 reset_stats
		bp_fail_alloc "$n" bp0
		write_direct /tmp/data /dev/mapper/bp0 4k 0 "$len"
		assert_bp_idle bp0
		[ "${BP[clones]}" = "$clones" ]
		[ "${BP[alloc_failed]}" = "$failed" ]
		[ "${BP[fail_alloc]}" = "$left" ]
	done <<-EOF
		1000 12k 3 $((3 * per)) $((1000 - 3 * per))
		2 20k 5 2 0
	EOF
	[ "$(dd if=/dev/ram0 bs=4k count=5 iflag=direct status=none | sha256sum)" = \
		"$(head -c 20k /tmp/data | sha256sum)" ]
}

@test "unsafe_alloc_order with a large pool and no injection keeps data intact" {
	make_brd 32
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:512 split_sectors:8 unsafe_alloc_order)"
	[ "$(dmsetup table bp0 | cut -d' ' -f6-)" = "3 pool_size:512 split_sectors:8 unsafe_alloc_order" ]
	fio_verify /dev/mapper/bp0 0 16M /tmp/fio.log --randrepeat=0
	random_file /tmp/data 32
	parallel_write /tmp/data /dev/mapper/bp0 32
	assert_holds "$(sha_file /tmp/data)" 32 /dev/mapper/bp0 /dev/ram0
	assert_bp_idle bp0
	check_bp bp0 splits -gt 0
}

@test "unsafe_alloc_order stalls under an exhausted pool until injection stops; the default order does not" {
	make_brd 16
	dm_create safe "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	dm_create unsafe "0 16384 biopool /dev/ram0 16384 3 pool_size:1 split_sectors:8 unsafe_alloc_order"
	bp_fail_alloc always safe unsafe
	random_file /tmp/data 1

	# the default order: a bio of two clones goes through on one element
	write_direct /tmp/data /dev/mapper/safe 8k 0 8k
	assert_bp_idle safe
	check_bp safe clones = 2

	# the deliberate bug: the first clone holds the only element, the
	# second allocation waits for it and retries the slab every 5 s (one
	# failure for the first clone, two before the first wait, one a retry)
	write_direct /tmp/data /dev/mapper/unsafe 8k 0 8k &
	writer=$!
	wait_until 30 bp_stat_ge unsafe alloc_failed 4
	kill -0 "$writer"
	check_bp unsafe in_flight = 1
	check_bp unsafe pool_free = 0
	check_bp unsafe completed = 0
	# the slab serves the next retry
	dmsetup message unsafe 0 fail_alloc 0
	wait "$writer"
	assert_bp_idle unsafe
	check_bp unsafe clones = 2
	[ "$(dd if=/dev/mapper/unsafe bs=8k count=1 iflag=direct status=none | sha256sum)" = \
		"$(head -c 8k /tmp/data | sha256sum)" ]
	dmsetup message safe 0 fail_alloc 0
}

# assert_stalled WRITER DEV...: the writer (a pid) is alive, DEV (the first
# is the one written to) holds its pool's only element on a clone that
# cannot complete, and the allocation behind it is asleep on an empty
# pool: it fails again after a mempool wait (5 s), and nothing has moved
assert_stalled() {
	local writer=$1 dev=$2 f
	wait_until 30 bp_stat_ge "$dev" alloc_failed 3
	f=$(bp_stat "$dev" alloc_failed)
	wait_until 30 bp_stat_ge "$dev" alloc_failed $((f + 1))
	if ! kill -0 "$writer" 2>/dev/null; then
		echo "the writer ended: no stall (status: $(dmsetup status "$dev"))" >&2
		return 1
	fi
	bp_read "$dev"
	if [ "${BP[in_flight]}" != 1 ] || [ "${BP[pool_free]}" != 0 ] ||
		[ "${BP[completed]}" != 0 ]; then
		echo "$dev: want in_flight=1 pool_free=0 completed=0, got: $(dmsetup status "$dev")" >&2
		return 1
	fi
}

# assert_released WRITER DEV... BYTES: after fail_alloc 0 on every DEV the
# writer finishes, every DEV is idle, and BYTES of /tmp/data read back
# from the first DEV
assert_released() {
	local writer=$1 bytes=${*: -1} devs=("${@:2:$#-2}") got want
	bp_fail_alloc 0 "${devs[@]}"
	wait "$writer"
	assert_bp_idle "${devs[@]}"
	got=$(dd if="/dev/mapper/${devs[0]}" bs="$bytes" count=1 iflag=direct status=none | sha256sum)
	want=$(head -c "$bytes" /tmp/data | sha256sum)
	if [ "$got" != "$want" ]; then
		echo "${devs[0]}: read back $got, wrote $want" >&2
		return 1
	fi
}

@test "no_rescuer: a split bio stalls on an exhausted pool until injection stops; with the rescuer it goes through" {
	make_brd 16
	dm_create safe "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	dm_create norescue "0 16384 biopool /dev/ram0 16384 3 pool_size:1 split_sectors:8 no_rescuer"
	[ "$(dmsetup table norescue | cut -d' ' -f6-)" = "3 pool_size:1 split_sectors:8 no_rescuer" ]
	bp_fail_alloc always safe norescue
	random_file /tmp/data 1

	# the twin: the first clone waits on current->bio_list, the rescuer
	# submits it when the second allocation finds the pool empty
	write_direct /tmp/data /dev/mapper/safe 8k 0 8k
	assert_bp_idle safe
	check_bp safe clones = 2

	# without a rescuer nothing moves the first clone off the list
	write_direct /tmp/data /dev/mapper/norescue 8k 0 8k &
	writer=$!
	assert_stalled "$writer" norescue
	assert_released "$writer" norescue 8192
	# two clones written, two read back
	check_bp norescue clones = 4
	dmsetup message safe 0 fail_alloc 0
}

@test "ctx_pool: a split bio stalls on the exhausted context mempool although the set has a rescuer; front_pad goes through" {
	make_brd 16
	dm_create safe "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	dm_create ctx "0 16384 biopool /dev/ram0 16384 3 pool_size:1 split_sectors:8 ctx_pool"
	check_bp ctx ctx_free = 1
	[ -z "$(bp_stat safe ctx_free)" ]
	bp_fail_alloc always safe ctx
	random_file /tmp/data 1

	write_direct /tmp/data /dev/mapper/safe 8k 0 8k
	assert_bp_idle safe
	check_bp safe clones = 2

	# the second context waits for the first, which is freed only when
	# the first clone completes, and that clone waits for ->submit_bio to
	# return: no rescuer punts a context
	write_direct /tmp/data /dev/mapper/ctx 8k 0 8k &
	writer=$!
	assert_stalled "$writer" ctx
	check_bp ctx ctx_free = 0
	assert_released "$writer" ctx 8192
	# two clones written, two read back
	check_bp ctx clones = 4
	check_bp ctx ctx_free = 1
	dmsetup message safe 0 fail_alloc 0
}

@test "shared_set: two stacked devices sharing one set stall on it; unstacked, or stacked with their own sets, they go through" {
	make_brd 16
	random_file /tmp/data 1
	# the twins first: two devices sharing the set side by side, each
	# split by the rescuer's help; then a stack of two with their own sets
	dm_create sh1 "0 8192 biopool /dev/ram0 0 3 pool_size:1 split_sectors:8 shared_set"
	dm_create sh2 "0 8192 biopool /dev/ram0 8192 3 pool_size:1 split_sectors:8 shared_set"
	# one set: a device that wants another pool size is refused
	assert_tables_refused "0 8192 biopool /dev/ram0 16384 2 pool_size:2 shared_set" \
		"0 8192 biopool /dev/ram0 16384 3 pool_size:1 shared_set no_rescuer"
	[ "$(kernel_log_since_mark | grep -c 'shared_set: pool_size or no_rescuer differs')" = 2 ]
	bp_fail_alloc always sh1 sh2
	write_direct /tmp/data /dev/mapper/sh1 8k 0 8k &
	w1=$!
	write_direct /tmp/data /dev/mapper/sh2 8k 0 8k &
	w2=$!
	wait_pids "sh1=$w1" "sh2=$w2"
	assert_bp_idle sh1 sh2
	bp_fail_alloc 0 sh1 sh2
	dmsetup remove sh1 sh2

	make_stack own /dev/ram0 1:0 1:0
	bp_fail_alloc always own1 own2
	write_direct /tmp/data /dev/mapper/own2 4k 0 4k
	assert_bp_idle own1 own2
	bp_fail_alloc 0 own1 own2
	dmsetup remove own2 own1

	# stacked on the shared set: the upper clone holds the only element
	# while the lower device, serving that very clone, waits for one
	dm_create low "$(biopool_table /dev/ram0 pool_size:1 shared_set)"
	dm_create top "$(biopool_table /dev/mapper/low pool_size:1 shared_set)"
	# armed on top only: the failures hit the set, so low's allocations too
	bp_fail_alloc always top
	write_direct /tmp/data /dev/mapper/top 4k 0 4k &
	writer=$!
	assert_stalled "$writer" top
	check_bp low clones = 0
	check_bp low pool_free = 0
	assert_released "$writer" top low 4096
	# one clone written, one read back
	check_bp low clones = 2
}

# ---- validation ------------------------------------------------------------

@test "malformed tables are rejected and leave no device and no holder behind" {
	make_brd 16
	n=$(sectors /dev/ram0)
	d="0 $n biopool /dev/ram0"
	bad=(
		"0 $n biopool"                              # no arguments
		"$d"                                        # no offset
		"0 $n biopool /dev/nonexistent 0"           # missing device
		"0 $n biopool /tmp 0"                       # not a block device
		"$d -1"                                     # negative offset
		"$d abc"                                    # not a number
		"$d 0x10"                                   # not decimal
		"$d +8"                                     # sign
		"$d 8abc"                                   # trailing characters
		"$d $n"                                     # offset at the end
		"$d 18446744073709551615"                   # offset far beyond
		"$d 18446744073709551616"                   # offset overflows
		"$d 8"                                      # device too small
		"0 $((n + 8)) biopool /dev/ram0 0"          # target longer than device
		"$d 0 1"                                    # count without parameter
		"$d 0 2 pool_size:4"                        # count too large
		"$d 0 4 pool_size:4 split_sectors:8 unsafe_alloc_order pool_size:4"
		"$d 0 x"                                    # count not a number
		"$d 0 -1"                                   # negative count
		"$d 0 4294967297 pool_size:4"               # count wraps to 1 in %u
		"$d 0 +1 pool_size:4"                       # count with a sign
		"$d 0 1 pool_size:0"                        # below range
		"$d 0 1 pool_size:65537"                    # above range
		"$d 0 1 pool_size:4294967296"               # overflows
		"$d 0 1 pool_size:"                         # empty value
		"$d 0 1 pool_size:abc"                      # not a number
		"$d 0 1 pool_size:+4"                       # sign
		"$d 0 1 pool_size:4x"                       # trailing characters
		"$d 0 1 pool_size:4:4"                      # two values
		"$d 0 1 pool_size"                          # no value
		"$d 0 2 pool_size:4 pool_size:8"            # duplicate
		"$d 0 1 split_sectors:12"                   # not a power of two
		"$d 0 1 split_sectors:4"                    # power of two below 8
		"$d 0 1 split_sectors:1"                    # power of two below 8
		"$d 0 1 split_sectors:-8"                   # negative
		"$d 0 1 split_sectors:4294967296"           # overflows
		"$d 0 2 split_sectors:8 split_sectors:16"   # duplicate
		"$d 0 2 unsafe_alloc_order unsafe_alloc_order" # duplicate flag
		"$d 0 1 unsafe_alloc_order:1"               # flag with a value
		"$d 0 2 no_rescuer no_rescuer"              # duplicate flag
		"$d 0 2 ctx_pool ctx_pool"                  # duplicate flag
		"$d 0 2 shared_set shared_set"              # duplicate flag
		"$d 0 1 no_rescuer:1"                       # flag with a value
		"$d 0 1 ctx_pool:"                          # flag with a value
		"$d 0 1 SHARED_SET"                         # flags are case-sensitive
		"$d 0 1 no_rescue"                          # near miss
		"$d 0 7 pool_size:4 split_sectors:8 unsafe_alloc_order no_rescuer ctx_pool shared_set x"
		"$d 0 6 pool_size:4 split_sectors:8 unsafe_alloc_order no_rescuer ctx_pool" # count too large
		"$d 0 1 unknown:1"                          # unknown key
		"$d 0 1 POOL_SIZE:4"                        # keys are case-sensitive
		"$d 0 1 :4"                                 # empty key
		"$d 0 1 pool_size:4 extra"                  # trailing garbage
		"$d 0 0 extra"                              # trailing garbage
		"$d 0 extra"                                # garbage for a count
	)
	[ "${#bad[@]}" -ge 30 ]
	assert_tables_refused "${bad[@]}"
	run dmsetup ls
	[ "$output" = "No devices found" ]
	[ -z "$(find /dev/mapper -mindepth 1 ! -name control)" ]
	[ -z "$(ls /sys/block/ram0/holders)" ]
	# every rejection reached the target's constructor or dm's table checks
	[ "$(kernel_log_since_mark | grep -c 'device-mapper: table: .*biopool: ')" -ge "${#bad[@]}" ]
	# and a good table still works afterwards
	dm_create ok "$d 0 2 pool_size:4 split_sectors:8"
}

@test "malformed messages are rejected with a reason and change nothing" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	dmsetup message bp0 0 fail_alloc 7
	before=$(dmsetup status bp0)
	bad=(
		"bogus"
		"fail_alloc"
		"fail_alloc 1 2"
		"fail_alloc -1"
		"fail_alloc abc"
		"fail_alloc 4294967296"
		"fail_alloc 99999999999999999999"
		"fail_alloc 0x10"
		"fail_alloc +5"
		"fail_alloc 5x"
		"fail_alloc 1.5"
		"fail_alloc Always"
		"fail_alloc always now"
		"FAIL_ALLOC 1"
		"reset_stats now"
		"reset_stats 0"
		"reset-stats"
	)
	[ "${#bad[@]}" -ge 15 ]
	for m in "${bad[@]}"; do
		# one word per argument; "--" so that "-1" is not an option
		# shellcheck disable=SC2086
		run dmsetup message -- bp0 0 $m
		if [ "$status" -eq 0 ]; then
			echo "accepted: $m" >&2
			return 1
		fi
	done
	# empty, and aimed past the end of the device: dm itself refuses them
	run dmsetup message bp0 0 ""
	[ "$status" -ne 0 ]
	run dmsetup message bp0 "$(sectors /dev/ram0)" reset_stats
	[ "$status" -ne 0 ]

	[ "$(dmsetup status bp0)" = "$before" ]
	check_bp bp0 fail_alloc = 7
	# each one that reached the target says why in the kernel log
	[ "$(kernel_log_since_mark | grep -c 'device-mapper: biopool: ')" -ge "${#bad[@]}" ]
	# a 4000-character token is echoed cut short: a record of more than
	# 1 KiB would lose its newline and stay out of the log until the next
	long=$(printf '9%.0s' {1..4000})
	for m in "fail_alloc $long" "x$long"; do
		# shellcheck disable=SC2086
		run dmsetup message bp0 0 $m
		[ "$status" -ne 0 ]
		line=$(dmesg | tail -n 1)
		echo "logged: $line" >&2
		tok=${m##* }
		[[ $line == *"device-mapper: biopool: "*"'${tok:0:64}...'"* ]]
		[ "${#line}" -lt 300 ]
	done
	[ "$(dmsetup status bp0)" = "$before" ]

	# the good ones
	dmsetup message bp0 0 fail_alloc always
	check_bp bp0 fail_alloc = always
	dmsetup message bp0 0 fail_alloc 4294967295
	check_bp bp0 fail_alloc = 4294967295
	dmsetup message bp0 0 fail_alloc 0
	check_bp bp0 fail_alloc = 0
	dmsetup message bp0 0 reset_stats
}

# ---- status and table -----------------------------------------------------

@test "status shows every field in order with defaults after creation" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	n=$(sectors /dev/ram0)
	[ "$(dmsetup status bp0)" = "0 $n biopool clones=0 splits=0 in_flight=0 completed=0 errors=0 pool_size=16 pool_free=16 alloc_failed=0 fail_alloc=0" ]
	dm_create bp1 "$(biopool_table /dev/mapper/bp0 pool_size:3)"
	[[ "$(dmsetup status bp1)" == *" pool_size=3 pool_free=3 "* ]]
}

@test "the table round-trips through dmsetup load for every optional parameter" {
	make_brd 16
	n=$(sectors /dev/ram0)
	majmin=$(cat /sys/block/ram0/dev)
	# given | printed (defaults are not printed, order is fixed)
	cases=(
		"|"
		"1 pool_size:4|1 pool_size:4"
		"1 split_sectors:64|1 split_sectors:64"
		"1 unsafe_alloc_order|1 unsafe_alloc_order"
		"3 unsafe_alloc_order split_sectors:8 pool_size:65536|3 pool_size:65536 split_sectors:8 unsafe_alloc_order"
		"1 no_rescuer|1 no_rescuer"
		"1 ctx_pool|1 ctx_pool"
		"1 shared_set|1 shared_set"
		"6 shared_set ctx_pool no_rescuer unsafe_alloc_order split_sectors:8 pool_size:2|6 pool_size:2 split_sectors:8 unsafe_alloc_order no_rescuer ctx_pool shared_set"
		"2 split_sectors:1024 pool_size:1|2 pool_size:1 split_sectors:1024"
		"2 pool_size:16 split_sectors:0|"
		"2 pool_size:016 split_sectors:8|1 split_sectors:8"
	)
	for c in "${cases[@]}"; do
		given=${c%%|*} printed=${c#*|}
		dm_create a "0 $((n - 8)) biopool /dev/ram0 8 $given"
		want="0 $((n - 8)) biopool $majmin 8${printed:+ $printed}"
		table=$(dmsetup table a)
		if [ "$table" != "$want" ]; then
			echo "'$given' printed '$table', want '$want'" >&2
			return 1
		fi
		dm_create b "$table"
		[ "$(dmsetup table b)" = "$table" ]
		# and a reload of the same line into the live device
		dmsetup load a --table "$table"
		dmsetup suspend a
		dmsetup resume a
		[ "$(dmsetup table a)" = "$table" ]
		dmsetup remove b
		dmsetup remove a
	done
}

# ---- counters ---------------------------------------------------------------

@test "counters: clones per bio follow split_sectors boundaries, completed equals clones" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0 split_sectors:8)"
	random_file /tmp/data 1
	# 4 KiB at sector 0: one clone
	write_direct /tmp/data /dev/mapper/bp0 4k 0 4k
	assert_bp_idle bp0
	check_bp bp0 clones = 1
	check_bp bp0 splits = 0
	# 4 KiB at sector 4 crosses the 8-sector boundary: two clones
	write_direct /tmp/data /dev/mapper/bp0 4k 2k 4k
	assert_bp_idle bp0
	check_bp bp0 clones = 3
	check_bp bp0 splits = 1
	# 64 KiB aligned: sixteen clones from one bio
	write_direct /tmp/data /dev/mapper/bp0 64k 64k 64k
	assert_bp_idle bp0
	check_bp bp0 clones = 19
	check_bp bp0 splits = 2
	check_bp bp0 completed = 19
	check_bp bp0 alloc_failed = 0

	# without split_sectors one clone per bio, whatever its size
	dm_create bp1 "$(biopool_table /dev/ram0)"
	write_direct /tmp/data /dev/mapper/bp1 1M 0 1M
	assert_bp_idle bp1
	check_bp bp1 clones = 1
	check_bp bp1 splits = 0
}

@test "counters stay consistent under concurrent I/O and reset_stats clears them" {
	make_brd 32
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:2 split_sectors:16)"
	dmsetup message bp0 0 fail_alloc 500
	fio_verify /dev/mapper/bp0 0 16M /tmp/fio.log --randrepeat=0
	assert_bp_idle bp0
	check_bp bp0 clones -gt 1000
	check_bp bp0 alloc_failed -ge 500
	check_bp bp0 fail_alloc = 0

	dmsetup message bp0 0 fail_alloc always
	dmsetup message bp0 0 reset_stats
	n=$(sectors /dev/ram0)
	[ "$(dmsetup status bp0)" = "0 $n biopool clones=0 splits=0 in_flight=0 completed=0 errors=0 pool_size=2 pool_free=2 alloc_failed=0 fail_alloc=always" ]
	dmsetup message bp0 0 fail_alloc 0
	# counting starts again from zero
	random_file /tmp/data 1
	write_direct /tmp/data /dev/mapper/bp0 8k 0 8k
	assert_bp_idle bp0
	check_bp bp0 clones = 1
}

@test "I/O of any size and alignment through split clones lands where it should" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0 split_sectors:8)"
	dm_create bp1 "$(biopool_table /dev/mapper/bp0 split_sectors:16)"
	random_file /tmp/data 16
	truncate -s 16M /tmp/expect # the RAM disk starts out zeroed
	# O_DIRECT writes of odd sizes at odd sector offsets: bs offset length
	while read -r bs off len; do
		write_direct /tmp/data /dev/mapper/bp1 "$bs" "$off" "$len"
		dd if=/tmp/data of=/tmp/expect bs=1M iflag=skip_bytes,count_bytes \
			oflag=seek_bytes skip="$off" seek="$off" count="$len" conv=notrunc status=none
	done <<-EOF
		512 512 1536
		1536 3584 7680
		3584 65024 130560
		7168 1048064 1047552
		1M 4194304 1048576
	EOF
	# buffered writes through the page cache, not aligned to the page
	dd if=/tmp/data of=/dev/mapper/bp1 bs=5000 skip=1000 seek=1000 count=500 \
		conv=notrunc,fsync status=none
	dd if=/tmp/data of=/tmp/expect bs=5000 skip=1000 seek=1000 count=500 \
		conv=notrunc status=none
	want=$(sha_file /tmp/expect)
	assert_holds "$want" 16 /dev/ram0 /dev/mapper/bp1
	# buffered reads of the same
	[ "$(dd if=/dev/mapper/bp1 bs=3000 status=none | sha256sum | cut -d' ' -f1)" = "$want" ]
	assert_bp_idle bp0
	assert_bp_idle bp1
	check_bp bp0 splits -gt 0
}

# ---- suspend, resume, reload ------------------------------------------------

@test "suspend, resume and table reload under fio write load lose no writes" {
	make_brd 64
	n=$(sectors /dev/ram0)
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:2 split_sectors:8)"
	random_file /tmp/data 64

	fio_verify /dev/mapper/bp0 0 32M /tmp/fio.log --randrepeat=0 3>&- &
	fio_pid=$!
	write_direct /tmp/data /dev/mapper/bp0 4k 32M 32M &
	dd_pid=$!

	tables=("0 $n biopool /dev/ram0 0 1 split_sectors:16"
		"0 $n biopool /dev/ram0 0 2 pool_size:1 split_sectors:8"
		"0 $n biopool /dev/ram0 0")
	rounds=0
	while kill -0 "$fio_pid" 2>/dev/null || kill -0 "$dd_pid" 2>/dev/null; do
		dmsetup suspend bp0
		dmsetup resume bp0
		dmsetup suspend --noflush bp0
		dmsetup resume bp0
		dmsetup load bp0 --table "${tables[$((rounds % 3))]}"
		dmsetup suspend bp0
		dmsetup resume bp0
		rounds=$((rounds + 1))
	done
	wait "$fio_pid"
	wait "$dd_pid"
	echo "rounds: $rounds" >&2
	[ "$rounds" -ge 1 ]
	[ "$(sha_dev /dev/mapper/bp0 32 32)" = "$(sha_file /tmp/data 32 32)" ]
	assert_bp_idle bp0
}

@test "dmsetup remove of an open device fails cleanly and the device keeps working" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	exec {holder}</dev/mapper/bp0
	run dmsetup remove bp0
	exec {holder}<&-
	[ "$status" -ne 0 ]
	dmsetup info bp0
	random_file /tmp/data 1
	write_direct /tmp/data /dev/mapper/bp0 4k
	[ "$(sha_dev /dev/mapper/bp0 1)" = "$(sha_file /tmp/data)" ]
	dmsetup remove bp0
}

# ---- flush and discard ------------------------------------------------------

@test "flushes and FUA writes reach the lower device (loop, write-back cache)" {
	lo=$(make_loop 32)
	[ "$(cat "/sys/block/${lo#/dev/}/queue/write_cache")" = "write back" ]
	dm_create bp0 "$(biopool_table "$lo" split_sectors:16)"
	dm_create bp1 "$(biopool_table /dev/mapper/bp0)"
	[ "$(cat "$(dm_sysfs bp1)/queue/write_cache")" = "write back" ]

	# a 4 KiB write and fsync: the data and an empty flush go down
	before=$(blk_stat "$lo" 16)
	dd if=/dev/urandom of=/dev/mapper/bp1 bs=4k count=1 conv=fsync status=none
	wait_until 5 blk_stat_gt "$lo" 16 "$before"
	check_bp bp1 clones -ge 2
	check_bp bp0 clones -ge 2

	# O_DIRECT|O_DSYNC writes carry FUA; loop has no FUA, so the block
	# layer turns them into flushes after the data
	before=$(blk_stat "$lo" 16)
	dd if=/dev/urandom of=/dev/mapper/bp1 bs=64k count=4 oflag=direct,dsync status=none
	[ "$(blk_stat "$lo" 16)" -ge $((before + 4)) ]
	assert_bp_idle bp0
	assert_bp_idle bp1
}

@test "discards are split and reach the lower device; write-zeroes reads back as zeros" {
	lo=$(make_loop 32)
	dm_create bp0 "$(biopool_table "$lo" split_sectors:16)"
	dm_create bp1 "$(biopool_table /dev/mapper/bp0)"
	[ "$(cat "$(dm_sysfs bp1)/queue/discard_max_bytes")" -gt 0 ]

	random_file /tmp/data 4
	write_direct /tmp/data /dev/mapper/bp1 1M
	backing=$(losetup -n -O BACK-FILE "$lo" | tr -d ' ')
	blocks_before=$(stat -c %b "$backing")
	discards_before=$(blk_stat "$lo" 12)
	dmsetup message bp0 0 reset_stats

	blkdiscard -o 0 -l 2M /dev/mapper/bp1
	[ "$(blk_stat "$lo" 12)" -gt "$discards_before" ]
	# 2 MiB in 16-sector clones at the bottom layer
	check_bp bp0 clones -ge 256
	check_bp bp0 splits -ge 1
	[ "$(stat -c %b "$backing")" -lt "$blocks_before" ]
	cmp -n 2097152 /dev/mapper/bp1 /dev/zero
	# the rest is untouched
	[ "$(sha_dev /dev/mapper/bp1 2 2)" = "$(sha_file /tmp/data 2 2)" ]

	# BLKZEROOUT: write-zeroes where the lower device takes it, zero pages
	# written by the block layer otherwise; either way zeros come back
	blkdiscard -z -o 2M -l 1M /dev/mapper/bp1
	cmp -n 3145728 /dev/mapper/bp1 /dev/zero
	[ "$(sha_dev /dev/mapper/bp1 1 3)" = "$(sha_file /tmp/data 1 3)" ]
	wait_until 10 bp_stat_is bp0 in_flight 0
	wait_until 10 bp_stat_is bp1 in_flight 0
}
