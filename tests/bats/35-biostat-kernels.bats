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
	bs_start bs -j
	bs_started bs
	parallel_write /tmp/data /dev/mapper/bp0 8
	assert_bp_idle bp0
	bs_stop bs INT
	bp_fail_alloc 0 bp0
	[ "$(sha_dev /dev/mapper/bp0 8)" = "$(sha_file /tmp/data)" ]
	punts=$(bs_set_field bs bp0 punts)
	punted=$(bs_set_field bs bp0 punted)
	rescued=$(bs_set_field bs bp0 rescued)
	misses=$(bs_summary bs | jq .uncounted.recursion_misses)
	echo "# punts $punts punted $punted rescued $rescued (recursion misses $misses)" >&3
	[ "$punts" -gt 0 ]
	[ "$rescued" -gt 0 ]
	[ "$punted" -eq "$rescued" ]
}

@test "recursion misses of the BPF programs are reported in every JSON interval and the summary" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	bs_start bs -j 0.5
	bs_started bs
	write_direct /dev/zero /dev/mapper/bp0 1M 0 $((4 << 20))
	assert_bp_idle bp0
	bs_stop bs INT
	out=$(bs_out bs)
	jq -e -s '[.[] | select(.type == "interval" or .type == "summary")] |
		length > 1 and all(.[]; .uncounted.recursion_misses >= 0)' "$out"
	misses=$(bs_summary bs | jq .uncounted.recursion_misses)
	echo "# recursion misses: $misses" >&3
	# what was missed bounds what is missing
	clones=$(bp_stat bp0 clones)
	allocs=$(bs_set_field bs bp0 allocs)
	[ "$allocs" -le "$clones" ]
	[ $((clones - allocs)) -le "$misses" ]
}

@test "with kprobes instead of fentry (BIOSTAT_HOOKS=kprobe) the counts are as exact" {
	local c0 c1 allocs reserve punted rescued
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0 pool_size:1 split_sectors:32)"
	random_file /tmp/data 4
	bp_fail_alloc always bp0
	BIOSTAT_HOOKS=kprobe bs_start bs -j -v
	bs_started bs
	# every hook a kprobe, none an fentry
	grep -q '^biostat: bio_alloc_bioset  *kprobe$' "$(bs_err bs)"
	! grep -q ' fentry$' "$(bs_err bs)"
	c0=$(bp_stat bp0 clones)
	parallel_write /tmp/data /dev/mapper/bp0 4
	assert_bp_idle bp0
	c1=$(bp_stat bp0 clones)
	bs_stop bs INT
	bp_fail_alloc 0 bp0
	[ "$(sha_dev /dev/mapper/bp0 4)" = "$(sha_file /tmp/data)" ]
	allocs=$(bs_set_field bs bp0 allocs)
	reserve=$(bs_set_field bs bp0 reserve)
	punted=$(bs_set_field bs bp0 punted)
	rescued=$(bs_set_field bs bp0 rescued)
	echo "# clones +$((c1 - c0)) allocs $allocs reserve $reserve" \
		"punts $(bs_set_field bs bp0 punts) punted $punted rescued $rescued" >&3
	[ $((c1 - c0)) -gt 0 ]
	bs_count_is bs "$allocs" $((c1 - c0))
	bs_count_is bs "$reserve" $((c1 - c0))
	[ "$(bs_set_field bs bp0 punts)" -gt 0 ]
	[ "$punted" -eq "$rescued" ]
	[ "$(bs_set_field bs bp0 fails)" -eq 0 ]
}
