#!/usr/bin/env bats
# bats file_tags=part1
# SPDX-License-Identifier: GPL-2.0
#
# biostat check in the guest: every statement of bio_alloc_bioset()'s
# kernel-doc, each proved both ways on a healthy run (no injection): the
# buggy variant of dm-biopool is reported with its own verdict and exit 3,
# its safe twin is not.  unsafe_alloc_order (rule 1: every clone of a
# split bio allocated before any is submitted), no_rescuer (rule 2),
# ctx_pool (rule 3), shared_set stacked (rule 4); and an allocation that
# really hangs, reported as blocked while it does.

load ../lib/init

setup() { common_setup; }
teardown() { common_teardown; }

@test "check: biopool stack, split_sectors:8, default order, under fio: no violation for biopool sets" {
	local loopdev
	# over loop, completions are asynchronous: dm core's per-io clones stay
	# allocated after ->submit_bio returns (they are not "held")
	loopdev=$(make_loop 32)
	dm_create bp1 "$(biopool_table "$loopdev" split_sectors:8)"
	dm_create bp2 "$(biopool_table /dev/mapper/bp1 split_sectors:8)"
	# options before the subcommand are its own
	biostat_start ck -j check
	biostat_started ck
	fio_verify /dev/mapper/bp2 0 16M /tmp/fio.log --randrepeat=0
	# 0: nothing at all; 3: only the kernel's own code (listed below)
	biostat_stop ck INT 0 3
	show_violations "$(biostat_out ck)"
	jq -e 'select(.type == "check_summary") | .allocs > 1000' "$(biostat_out ck)"
	# a first allocation's stack is walked once per call site and set (the
	# trampoline's frame names the site), not at each allocation
	local walks allocs
	read -r walks allocs < <(jq -r 'select(.type == "check_summary") | "\(.first_stacks_walked) \(.allocs)"' "$(biostat_out ck)")
	echo "# first stacks walked: $walks for $allocs allocations" >&3
	if [ $((walks * 20)) -gt "$allocs" ]; then
		echo "first stacks walked: $walks for $allocs allocations, expected at most 1 in 20" >&2
		return 1
	fi
	jq -e -s --argjson v "$BIOSTAT_SCHEMA" 'length > 0 and all(.schema == $v and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")))' "$(biostat_out ck)"
	run -0 check_sites_sure "$(biostat_out ck)" violation blocked no_rescuer mempool shared_set fs_bio_set
	if grep -q 'biopool' <<<"$output"; then
		echo "a biopool set was reported: $output" >&2
		return 1
	fi
	if [ "$BIOSTAT_RC" = 0 ]; then
		[ "$(jq -r 'select(.type == "check_summary") | .violations' "$(biostat_out ck)")" = 0 ]
	fi
}

# bats test_tags=portability
@test "check: unsafe_alloc_order is reported for that device's set, with stacks, exit 3; data intact" {
	make_brd 32
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:256 split_sectors:8 unsafe_alloc_order)"
	dmsetup table bp0 | grep -q unsafe_alloc_order
	biostat_start ck check -j
	biostat_start text check -d bp0
	biostat_started ck text

	fio_verify /dev/mapper/bp0 0 16M /tmp/fio.log --randrepeat=0
	random_file /tmp/ck.data 16
	write_direct /tmp/ck.data /dev/mapper/bp0 1M

	biostat_stop ck INT 3
	biostat_stop text INT 3
	show_violations "$(biostat_out ck)"

	# the biopool set of bp0, named after the device, with both stacks
	jq -e -s '[.[] | select(.type == "violation" and .name == "bp0:biopool")] |
		length >= 1 and
		all(.dm_name // "" | test("bp0")) and
		all(.held_max >= 1) and
		all(.in_submit_bio) and all(.rescuer) and
		all(.gfp_second_name == "GFP_NOIO") and
		all([.stack_first[]] | any(test("^biopool_map"))) and
		all([.stack_second[]] | any(test("^biopool_map")))' "$(biostat_out ck)"

	# the text report, filtered to the device
	grep -q '^VIOLATION bio_set bp0:biopool ' "$(biostat_out text)"
	grep -q 'held bio allocated at:' "$(biostat_out text)"
	grep -q 'new bio allocated at:' "$(biostat_out text)"
	grep -q 'biopool_map' "$(biostat_out text)"
	run -0 grep '^VIOLATION' "$(biostat_out text)"
	if grep -v 'bp0' <<<"$output"; then
		echo "-d bp0 let another device's violation through" >&2
		return 1
	fi

	# the deliberate bug does not lose data while the pool is large enough
	[ "$(sha_dev /dev/mapper/bp0 16)" = "$(sha_file /tmp/ck.data)" ]
	check_bp bp0 errors = 0
}

@test "check: the kernel's own code under dm-linear, dm-delay, brd and loop I/O (reported in TAP)" {
	local loopdev l1 l2 l3 pids=()
	modprobe dm-delay
	make_brd 64 2
	loopdev=$(make_loop 64)
	l1=$(make_loop 32)
	l2=$(make_loop 32)
	l3=$(make_loop 32)
	dm_create lin0 "0 $(sectors "$loopdev") linear $loopdev 0"
	dm_create dly0 "0 $(sectors /dev/ram1) delay /dev/ram1 0 5"
	# dm-stripe: flushes and discards go to every stripe, through dm core's
	# alloc_multiple_bios() (GFP_NOWAIT first, then a mutex and GFP_NOIO);
	# with 3 stripes the third clone is allocated while the second is held
	dm_create str0 "0 $((3 * $(sectors "$l1"))) striped 3 8 $l1 0 $l2 0 $l3 0"
	biostat_start ck check -j
	biostat_started ck
	for d in /dev/mapper/lin0 /dev/mapper/dly0 /dev/ram0; do
		fio --name=mix --filename="$d" --size=16M --direct=1 --ioengine=libaio \
			--iodepth=16 --rw=randrw --bssplit=4k/30:64k/30:1m/40 \
			--time_based --runtime=4 --output=/dev/null 3>&- &
		pids+=("fio:$d=$!")
	done
	# buffered I/O through the page cache and writeback on loop
	dd if=/dev/urandom of="$loopdev" bs=1M count=32 seek=16 conv=fsync status=none 3>&- &
	pids+=("dd=$!")
	fio --name=flush --filename=/dev/mapper/str0 --size=16M --direct=1 \
		--ioengine=psync --rw=randwrite --bs=16k --fsync=1 \
		--time_based --runtime=4 --output=/dev/null 3>&- &
	pids+=("fio:str0=$!")
	blkdiscard -o 32M -l 16M /dev/mapper/str0 || echo "# (blkdiscard on str0: unsupported)" >&3
	wait_pids "${pids[@]}"
	biostat_stop ck INT 0 3
	echo "# kernel $(uname -r): biostat check over dm-linear(loop), dm-delay(brd), brd, loop:" >&3
	show_violations "$(biostat_out ck)"
	jq -e 'select(.type == "check_summary") | .allocs > 0' "$(biostat_out ck)"
}

# check_variant NAME TYPE SETRE TABLE_OPTS...: biostat check over 4 MiB of
# 64 KiB O_DIRECT writes, read back, to a biopool device NAME on ram0 made
# with TABLE_OPTS; echoes the "TYPE SET" lines of its rule-breaking sites
# (in $output) and keeps its exit status in BIOSTAT_RC
check_variant() {
	local name=$1
	shift
	dm_create "$name" "$(biopool_table /dev/ram0 "$@")"
	biostat_start ck check -j
	biostat_started ck
	random_file /tmp/v.data 4
	write_direct /tmp/v.data "/dev/mapper/$name" 64k
	[ "$(sha_dev "/dev/mapper/$name" 4)" = "$(sha_file /tmp/v.data)" ]
	biostat_stop ck INT 0 3
	show_violations "$(biostat_out ck)"
	run -0 check_sites_sure "$(biostat_out ck)" violation blocked no_rescuer mempool shared_set fs_bio_set
	dmsetup remove "$name"
}

# has_site TYPE SETRE: a "TYPE SET" line of $output matches
has_site() { grep -Eqx "$1 $2" <<<"$output"; }
# no_site SETRE: no line of $output names a set matching SETRE
no_site() {
	if grep -E " $1\$" <<<"$output"; then
		echo "reported: $output" >&2
		return 1
	fi
}

@test "check rule 2: no_rescuer is reported (set named, rule and fix given), exit 3; with the rescuer, nothing" {
	make_brd 16
	check_variant nr0 no_rescuer split_sectors:8
	has_site no_rescuer 'nr0:biopool'
	[ "$BIOSTAT_RC" = 3 ]
	jq -e -s '[.[] | select(.type == "no_rescuer" and .name == "nr0:biopool")] |
		length >= 1 and all(.rule == 2 and .in_submit_bio and (.rescuer | not) and
			(.fix | test("rescuer")) and ([.stack_second[]] | any(test("^biopool_map"))))' "$(biostat_out ck)"
	check_variant nr1 split_sectors:8
	no_site 'nr1:biopool'
}

@test "check rule 3: ctx_pool's second context is reported as a mempool site, exit 3; front_pad, nothing" {
	make_brd 16
	check_variant cp0 ctx_pool split_sectors:8
	has_site mempool 'mempool of biopool_.*'
	[ "$BIOSTAT_RC" = 3 ]
	jq -e -s '[.[] | select(.type == "mempool")] | length >= 1 and
		all(.rule == 3 and (.fix | test("front_pad")))' "$(biostat_out ck)"
	check_variant cp1 split_sectors:8
	no_site 'mempool of biopool_.*'
}

@test "check rule 4: two stacked devices on one shared set are reported, exit 3; stacked on their own sets, nothing" {
	make_brd 16
	random_file /tmp/v.data 4
	for own in shared own; do
		if [ "$own" = shared ]; then
			dm_create sl "$(biopool_table /dev/ram0 shared_set)"
			dm_create st "$(biopool_table /dev/mapper/sl shared_set)"
		else
			dm_create sl "$(biopool_table /dev/ram0)"
			dm_create st "$(biopool_table /dev/mapper/sl)"
		fi
		biostat_start ck check -j
		biostat_started ck
		write_direct /tmp/v.data /dev/mapper/st 64k
		[ "$(sha_dev /dev/mapper/st 4)" = "$(sha_file /tmp/v.data)" ]
		biostat_stop ck INT 0 3
		show_violations "$(biostat_out ck)"
		# recall on every site, precision (the twin) on the sure ones
		if [ "$own" = shared ]; then
			run -0 check_sites "$(biostat_out ck)" shared_set
		else
			run -0 check_sites_sure "$(biostat_out ck)" violation blocked no_rescuer mempool shared_set fs_bio_set
		fi
		if [ "$own" = shared ]; then
			has_site shared_set 's[lt]:biopool'
			[ "$BIOSTAT_RC" = 3 ]
			jq -e -s '[.[] | select(.type == "shared_set")] | length >= 1 and
				all(.rule == 4 and .rescuer and (.fix | test("own")))' "$(biostat_out ck)"
		else
			no_site 's[lt]:biopool'
		fi
		dmsetup remove st sl
	done
}

@test "check started before a stall shows the blocked allocation while it hangs, exit 3; released, data intact" {
	make_brd 16
	dm_create stall "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8 unsafe_alloc_order)"
	biostat_start ck check -j
	biostat_started ck
	dmsetup message stall 0 fail_alloc always
	random_file /tmp/data 1
	write_direct /tmp/data /dev/mapper/stall 8k 0 8k &
	writer=$!
	# the second allocation sleeps on the empty pool: it fails again
	# after a mempool wait (5 s)
	wait_until 30 bp_stat_ge stall alloc_failed 3
	f=$(bp_stat stall alloc_failed)
	wait_until 30 bp_stat_ge stall alloc_failed $((f + 1))
	kill -0 "$writer"
	biostat_stop ck INT 3
	show_violations "$(biostat_out ck)"
	jq -e -s '[.[] | select(.type == "blocked" and .name == "stall:biopool")] |
		length == 1 and all(.rule == 1 and .blocked_seconds >= 1 and .held == 1 and
			([.stack_second[]] | any(test("^biopool_map"))))' "$(biostat_out ck)"
	dmsetup message stall 0 fail_alloc 0
	wait "$writer"
	assert_bp_idle stall
	[ "$(dd if=/dev/mapper/stall bs=8k count=1 iflag=direct status=none | sha256sum)" = \
		"$(head -c 8k /tmp/data | sha256sum)" ]
}
