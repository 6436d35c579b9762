#!/usr/bin/env bats
# bats file_tags=part1
# SPDX-License-Identifier: GPL-2.0
#
# biostat's counts where review found them wrong: a rescued bio that the
# lower queue splits again, and the BPF programs' recursion misses, which
# bound what a count may lack (preemptible kernels such as 7.2's).
# And the same counts with kprobes, where fentry is refused.

load ../lib/init

setup() { common_setup; }
teardown() { common_teardown; }

@test "a rescued bio that the lower queue splits is rescued once: punted == rescued" {
	local loop
	loop=$(make_loop 32)
	# 4 KiB requests: the rescuer's 32 KiB clones are split 8 ways, and
	# the block layer resubmits each remainder from inside the first
	echo 4 >"/sys/block/${loop#/dev/}/queue/max_sectors_kb"
	dm_create bp0 "$(biopool_table "$loop" pool_size:1 split_sectors:64)"
	random_file /tmp/data 8
	bp_fail_alloc always bp0
	biostat_start bs -j
	biostat_started bs
	parallel_write /tmp/data /dev/mapper/bp0 8
	assert_bp_idle bp0
	biostat_stop bs INT
	bp_fail_alloc 0 bp0
	[ "$(sha_dev /dev/mapper/bp0 8)" = "$(sha_file /tmp/data)" ]
	punts=$(biostat_set_field bs bp0 punts)
	punted=$(biostat_set_field bs bp0 punted)
	rescued=$(biostat_set_field bs bp0 rescued)
	misses=$(biostat_summary bs | jq .uncounted.recursion_misses)
	echo "# punts $punts punted $punted rescued $rescued (recursion misses $misses)" >&3
	[ "$punts" -gt 0 ]
	[ "$rescued" -gt 0 ]
	[ "$punted" -eq "$rescued" ]
}

@test "biostat attached to a stack already exhausted names each layer's set after its own device" {
	local w sets d c
	make_brd 16
	# dm-delay below: each layer's one reserve bio stays in flight 2 ms,
	# so most allocations find the pool empty and punt
	modprobe dm-delay
	dm_create dly0 "0 $(sectors /dev/ram0) delay /dev/ram0 0 2"
	make_stack bp /dev/mapper/dly0 1:8 1:16 1:64
	random_file /tmp/data 4
	bp_fail_alloc always bp1 bp2 bp3
	# writers that keep the pools empty until told to stop (at most 30
	# rounds, should the test end first)
	touch /tmp/writing
	(for _ in $(seq 30); do
		[ -e /tmp/writing ] || break
		parallel_write /tmp/data /dev/mapper/bp3 4 || exit
	done) 3>&- &
	w=$!
	wait_until 60 bp_stat_ge bp1 clones 1
	# the pools are empty as tracing begins: a set's first sighting is
	# often a punt, from inside the allocation that punts.  The device
	# below is suspended meanwhile: the writers wait on the empty pools,
	# and no rescuer runs while biostat patches its hooks in (under TCG,
	# a CPU running a function as its first bytes are patched can meet
	# the patch's int3: tests/check, patch_oops)
	dmsetup suspend dly0
	biostat_start bs -j
	biostat_started bs
	dmsetup resume dly0
	c=$(bp_stat bp1 clones)
	wait_until 120 bp_stat_ge bp1 clones $((c + 1024))
	rm /tmp/writing
	wait "$w"
	assert_bp_idle bp3 bp2 bp1
	biostat_stop bs INT
	bp_fail_alloc 0 bp1 bp2 bp3
	[ "$(sha_dev /dev/mapper/bp3 4)" = "$(sha_file /tmp/data)" ]
	sets=$(biostat_summary bs | jq -r '[.sets[] | select(.allocs > 0) | "\(.name)(\(.dm_name))"] | join(" ")')
	echo "# sets that allocated: $sets" >&3
	assert_names_match bs '(bp[123]|dly0):dm-core(\((io|tio)\))?|bp[123]:biopool|fs_bio_set|blkdev_dio_pool'
	for d in bp1 bp2 bp3; do
		[ "$(biostat_summary bs | jq --arg n "$d:biopool" '[.sets[] | select(.name == $n)] | length')" -eq 1 ] ||
			{ echo "$d:biopool: not one set in: $sets" >&2; return 1; }
	done
}

# bats test_tags=portability
@test "recursion misses of the BPF programs are reported in every JSON interval and the summary" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	biostat_start bs -j 0.5
	biostat_started bs
	write_direct /dev/zero /dev/mapper/bp0 1M 0 $((4 << 20))
	assert_bp_idle bp0
	out=$(biostat_out bs)
	# an interval ended after the writes (the run may be shorter than one)
	wait_until 30 jq -e -s 'any(.[]; .type == "interval")' "$out" >/dev/null
	biostat_stop bs INT
	jq -e -s '[.[] | select(.type == "interval" or .type == "summary")] |
		length > 1 and all(.[]; .uncounted.recursion_misses >= 0)' "$out" ||
		{ echo "records: $(jq -c -s 'map({type, misses: .uncounted.recursion_misses?})' "$out")" >&2; return 1; }
	misses=$(biostat_summary bs | jq .uncounted.recursion_misses)
	echo "# recursion misses: $misses" >&3
	# what was missed bounds what is missing
	clones=$(bp_stat bp0 clones)
	allocs=$(biostat_set_field bs bp0 allocs)
	[ "$allocs" -le "$clones" ]
	[ $((clones - allocs)) -le "$misses" ]
}

# An exhausted 1-layer pool written through biostat started with
# BIOSTAT_HOOKS=$1 (its -v lines in biostat_err bs): every count against
# the pool's own clone count, punted == rescued, data intact.
exact_with_hooks() {
	local c0 c1 allocs reserve punted rescued
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:1 split_sectors:32)"
	random_file /tmp/data 4
	bp_fail_alloc always bp0
	BIOSTAT_HOOKS=$1 biostat_start bs -j -v
	biostat_started bs
	c0=$(bp_stat bp0 clones)
	parallel_write /tmp/data /dev/mapper/bp0 4
	assert_bp_idle bp0
	c1=$(bp_stat bp0 clones)
	biostat_stop bs INT
	bp_fail_alloc 0 bp0
	[ "$(sha_dev /dev/mapper/bp0 4)" = "$(sha_file /tmp/data)" ]
	allocs=$(biostat_set_field bs bp0 allocs)
	reserve=$(biostat_set_field bs bp0 reserve)
	punted=$(biostat_set_field bs bp0 punted)
	rescued=$(biostat_set_field bs bp0 rescued)
	echo "# clones +$((c1 - c0)) allocs $allocs reserve $reserve" \
		"punts $(biostat_set_field bs bp0 punts) punted $punted rescued $rescued" >&3
	[ $((c1 - c0)) -gt 0 ]
	biostat_count_is bs "$allocs" $((c1 - c0))
	biostat_count_is bs "$reserve" $((c1 - c0))
	check_biostat bs bp0 punts -gt 0
	if [ "$punted" -ne "$rescued" ]; then
		echo "punted $punted, rescued $rescued: want equal" >&2
		return 1
	fi
	check_biostat bs bp0 fails -eq 0
}

# bats test_tags=portability
@test "with kprobes instead of fentry (BIOSTAT_HOOKS=kprobe) the counts are as exact" {
	exact_with_hooks kprobe
	# the hooks chosen (shown if an assertion below fails)
	grep '^biostat: [a-z_]*  ' "$(biostat_err bs)" || true
	# every hook a kprobe, none an fentry; rescues at their call site
	grep -q '^biostat: bio_alloc_bioset  *kprobe$' "$(biostat_err bs)"
	grep -q '^biostat: bio_alloc_rescue  *kprobe at +0x[0-9a-f]*, its call of submit_bio_noacct()$' \
		"$(biostat_err bs)"
	! grep -q ' fentry$' "$(biostat_err bs)"
}

@test "rescued bios by the submit_bio_noacct hook where the rescuer's call cannot be kprobed (BIOSTAT_HOOKS=fentry): as exact" {
	exact_with_hooks fentry
	grep '^biostat: [a-z_]*  \|cannot be probed' "$(biostat_err bs)" || true
	grep -q '^biostat: submit_bio_noacct  *fentry$' "$(biostat_err bs)"
	! grep -q '^biostat: .*kprobe' "$(biostat_err bs)"
}
