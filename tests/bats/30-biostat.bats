#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# biostat (issue 4) in the guest, on a stack of dm-biopool devices:
#   bp1 on /dev/ram0 at the bottom, bp2 on bp1, bp3 on bp2 at the top,
#   pool_size:1 and split_sectors 8, 16, 64 from the bottom up.
# Every count biostat reports is compared with what the target itself
# counted (its status line) over the same window.

load helpers

setup() {
	common_setup
	BS_OUT=$BATS_TEST_TMPDIR/biostat.out
	BS_ERR=$BATS_TEST_TMPDIR/biostat.err
	bspid=
}

teardown() {
	if [ -n "$bspid" ] && kill -0 "$bspid" 2>/dev/null; then
		kill -KILL "$bspid" 2>/dev/null || true
		wait "$bspid" 2>/dev/null || true
	fi
	common_teardown
}

# ---- helpers for this file -------------------------------------------------

make_stack() {
	make_brd 32
	dm_create bp1 "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	dm_create bp2 "$(biopool_table /dev/mapper/bp1 pool_size:1 split_sectors:16)"
	dm_create bp3 "$(biopool_table /dev/mapper/bp2 pool_size:1 split_sectors:64)"
}

bp_idle() { [ "$(bp_stat "$1" in_flight)" = 0 ]; }

# wait_stack_idle: nothing in flight on any layer
wait_stack_idle() {
	local d
	for d in bp3 bp2 bp1; do wait_until 30 bp_idle "$d"; done
}

# snap_clones ARRAY: ARRAY[bpN] = clones counted by bpN's status so far
declare -gA CLONES0=() CLONES1=()
snap_clones() {
	local -n a=$1
	local d
	# shellcheck disable=SC2034,SC2004 # a names an associative array
	for d in bp1 bp2 bp3; do a[$d]=$(bp_stat "$d" clones); done
}

# biostat_start ARGS...: run biostat in the background until it traces
biostat_start() {
	biostat "$@" >"$BS_OUT" 2>"$BS_ERR" &
	bspid=$!
	if ! wait_until 60 _bs_ready || ! grep -q '^Tracing' "$BS_ERR"; then
		cat "$BS_ERR" >&2
		# why, in libbpf's words (the verifier's log when it refused)
		biostat -v 1 1 2>&1 | grep -v '^libbpf: \(elf\|sec \|map \|prog .*: found\|CO-RE\)' |
			tail -n 40 >&2
		return 1
	fi
}

# _bs_ready: biostat traces, or has exited
_bs_ready() {
	grep -q '^Tracing' "$BS_ERR" || ! kill -0 "$bspid" 2>/dev/null
}

# biostat_stop [SIGNAL]: stop it; fails unless it exits 0
biostat_stop() {
	local rc=0
	kill -"${1:-INT}" "$bspid"
	wait "$bspid" || rc=$?
	bspid=
	if [ "$rc" != 0 ]; then
		echo "biostat exited $rc:" >&2
		cat "$BS_ERR" >&2
		return 1
	fi
}

summary() { grep '"type":"summary"' "$BS_OUT" | tail -n 1; }

# set_field DM_NAME FIELD: FIELD of the biopool target's own set of DM_NAME
# in the summary (0 if the set never showed up)
set_field() {
	summary | jq -r --arg d "$1" --arg f "$2" \
		'[.sets[] | select(.dm_name == $d and (.name | endswith(":biopool"))) | .[$f]] | add // 0'
}

# ---- tests -------------------------------------------------------------------

@test "quiet stack: allocs equal the growth of clones; no reserve, waits or punts" {
	make_stack
	biostat_start -j
	snap_clones CLONES0
	fio --name=quiet --filename=/dev/mapper/bp3 --size=24M --direct=1 \
		--ioengine=libaio --iodepth=8 --rw=randrw --bssplit=4k/25:16k/25:64k/25:1m/25 \
		--numjobs=2 --runtime=3 --time_based --randrepeat=0 --group_reporting \
		--output=/tmp/fio-quiet.log
	wait_stack_idle
	snap_clones CLONES1
	biostat_stop INT

	for d in bp1 bp2 bp3; do
		grown=$((CLONES1[$d] - CLONES0[$d]))
		echo "# $d: clones +$grown, biostat allocs $(set_field $d allocs)" \
			"reserve $(set_field $d reserve) waits $(set_field $d waits)" \
			"punts $(set_field $d punts)" >&3
		[ "$grown" -gt 0 ]
		[ "$(set_field $d allocs)" -eq "$grown" ]
		[ "$(set_field $d reserve)" -eq 0 ]
		[ "$(set_field $d waits)" -eq 0 ]
		[ "$(set_field $d punts)" -eq 0 ]
		[ "$(set_field $d fails)" -eq 0 ]
	done
}

@test "exhausted stack: reserve equals the growth of clones, punts, waits, punted == rescued, data intact, -e -j events" {
	make_stack
	random_file /tmp/data 32
	for d in bp1 bp2 bp3; do dmsetup message "$d" 0 fail_alloc always; done
	biostat_start -e -j -H -s
	snap_clones CLONES0
	parallel_write /tmp/data /dev/mapper/bp3 32
	wait_stack_idle
	snap_clones CLONES1
	biostat_stop INT
	for d in bp1 bp2 bp3; do dmsetup message "$d" 0 fail_alloc 0; done
	[ "$(sha_dev /dev/mapper/bp3 32)" = "$(sha_file /tmp/data)" ]

	# every line is one valid JSON object
	run jq -e -s 'length > 0 and all(.[]; type == "object")' "$BS_OUT"
	[ "$status" -eq 0 ]

	waits=0
	for d in bp1 bp2 bp3; do
		grown=$((CLONES1[$d] - CLONES0[$d]))
		echo "# $d: clones +$grown, allocs $(set_field $d allocs)" \
			"reserve $(set_field $d reserve) waits $(set_field $d waits)" \
			"punts $(set_field $d punts) punted $(set_field $d punted)" \
			"rescues $(set_field $d rescues) rescued $(set_field $d rescued)" >&3
		[ "$grown" -gt 0 ]
		[ "$(set_field $d allocs)" -eq "$grown" ]
		[ "$(set_field $d reserve)" -eq "$grown" ]
		[ "$(set_field $d punts)" -gt 0 ]
		[ "$(set_field $d punted)" -eq "$(set_field $d rescued)" ]
		[ "$(set_field $d fails)" -eq 0 ]
		waits=$((waits + $(set_field $d waits)))
	done
	[ "$waits" -gt 0 ]

	# the events, with what a user needs to act on them
	for ev in wait punt rescue; do
		n=$(jq -s --arg e "$ev" '[.[] | select(.type == "event" and .event == $e)] | length' "$BS_OUT")
		echo "# $ev events: $n" >&3
		[ "$n" -gt 0 ]
	done
	jq -e -s '[.[] | select(.type == "event")] | all(.[];
		(.time | type) == "string" and (.comm | type) == "string" and .pid > 0 and
		(.bio_set | startswith("0x")) and (.name | type) == "string" and
		(.device | type) == "string")' "$BS_OUT"
	jq -e -s '[.[] | select(.type == "event" and .event == "wait")] | all(.[]; .wait_us >= 0)' "$BS_OUT"
	# as many wait events as waits counted, when none was dropped
	if [ "$(summary | jq .dropped_events)" = 0 ]; then
		[ "$(jq -s '[.[] | select(.type == "event" and .event == "wait")] | length' "$BS_OUT")" -eq "$waits" ]
	fi
	# histograms (-H) add up to the waits; stacks (-s) show the mempool sleep
	for d in bp1 bp2 bp3; do
		w=$(set_field $d waits)
		[ "$w" -eq 0 ] && continue
		h=$(jq -s --arg d "$d" '[.[] | select(.type == "histogram" and .scope == "summary" and .dm_name == $d and (.name | endswith(":biopool"))) | .buckets[].count] | add // 0' "$BS_OUT")
		[ "$h" -eq "$w" ]
	done
	jq -e -s 'any(.[]; .type == "stack" and (.frames | any(startswith("mempool_alloc"))) and .count > 0)' "$BS_OUT"
}

@test "biostat -d DEV reports only that device's sets, by dm name, /dev path or MAJ:MIN" {
	make_stack
	majmin=$(dmsetup info -c --noheadings -o major,minor --separator : bp2 | tr -d ' ')
	for dev in bp2 /dev/mapper/bp2 "$majmin"; do
		biostat_start -j -d "$dev"
		snap_clones CLONES0
		write_direct /dev/zero /dev/mapper/bp3 1M 0 $((4 << 20))
		wait_stack_idle
		snap_clones CLONES1
		biostat_stop INT
		echo "# -d $dev: $(summary | jq -c '[.sets[] | {name, device, allocs}]')" >&3
		# only bp2's sets, and bp2's own set saw every clone of bp2
		summary | jq -e --arg m "$majmin" '(.sets | length) > 0 and all(.sets[]; .device == $m and .dm_name == "bp2")'
		[ "$(set_field bp2 allocs)" -eq $((CLONES1[bp2] - CLONES0[bp2])) ]
		[ "$(set_field bp3 allocs)" -eq 0 ]
		[ "$(set_field bp1 allocs)" -eq 0 ]
	done
}

@test "biostat -p PID reports only what that process allocated" {
	make_stack
	mkfifo "$BATS_TEST_TMPDIR/go"
	# the traced writer: waits for the go, then 4 MiB of 1 MiB O_DIRECT writes
	bash -c 'read -r _ <"$1"; exec dd if=/dev/zero of=/dev/mapper/bp3 bs=1M count=4 oflag=direct status=none' \
		_ "$BATS_TEST_TMPDIR/go" &
	writer=$!
	biostat_start -j -p "$writer"
	snap_clones CLONES0
	# another process writes as much, elsewhere on the same stack
	dd if=/dev/zero of=/dev/mapper/bp3 bs=1M count=4 seek=8 oflag=direct status=none &
	other=$!
	echo go >"$BATS_TEST_TMPDIR/go"
	wait "$writer"
	wait "$other"
	wait_stack_idle
	snap_clones CLONES1
	biostat_stop INT

	# 4 MiB = 8192 sectors: 8192/64 clones at bp3, 8192/16 at bp2, 8192/8 at bp1
	echo "# -p: bp3 $(set_field bp3 allocs) bp2 $(set_field bp2 allocs) bp1 $(set_field bp1 allocs);" \
		"clones grew $((CLONES1[bp3] - CLONES0[bp3])) $((CLONES1[bp2] - CLONES0[bp2])) $((CLONES1[bp1] - CLONES0[bp1]))" >&3
	[ "$(set_field bp3 allocs)" -eq 128 ]
	[ "$(set_field bp2 allocs)" -eq 512 ]
	[ "$(set_field bp1 allocs)" -eq 1024 ]
	[ $((CLONES1[bp3] - CLONES0[bp3])) -eq 256 ]
}

@test "biostat INTERVAL COUNT prints COUNT reports and a summary, exit 0" {
	run timeout 120 biostat 0.5 3
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^BIO_SET' <<<"$output")" -eq 4 ]
	grep -q '^Summary: ' <<<"$output"

	run --separate-stderr timeout 120 biostat -j 0.5 2
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.type == "interval")] | length' <<<"$output")" -eq 2 ]
	[ "$(jq -r .type <<<"${lines[-1]}")" = summary ]
}

@test "biostat on SIGINT or SIGTERM prints the summary and exits 0" {
	biostat_start
	biostat_stop INT
	grep -q '^Summary: ' "$BS_OUT"
	biostat_start -j -T 0.3
	sleep 1
	biostat_stop TERM
	tail -n 1 "$BS_OUT" | jq -e '.type == "summary"'
}

@test "biostat -e prints an event within 100 ms of it happening" {
	make_brd 8
	dm_create bpe "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	dmsetup message bpe 0 fail_alloc always
	# each event stamped with the time it reaches a reader (jq: a shell
	# loop reads a pipe a byte at a time and would be the bottleneck)
	mkfifo "$BATS_TEST_TMPDIR/pipe"
	jq --unbuffered -c 'select(.type == "event") | [now, .ts, .event]' \
		<"$BATS_TEST_TMPDIR/pipe" >"$BATS_TEST_TMPDIR/stamped" &
	reader=$!
	biostat -e -j >"$BATS_TEST_TMPDIR/pipe" 2>"$BS_ERR" &
	bspid=$!
	wait_until 60 grep -q '^Tracing' "$BS_ERR"
	# 16 KiB in 8-sector clones from a 1-element pool: punts and rescues.
	# The first burst warms up both processes (page faults, first-time
	# code paths: slow under TCG) and is not measured.
	dd if=/dev/zero of=/dev/mapper/bpe bs=16k count=1 oflag=direct status=none
	sleep 0.5
	mark=$EPOCHREALTIME
	for i in 1 2 3 4 5; do
		dd if=/dev/zero of=/dev/mapper/bpe bs=16k count=1 seek=$i oflag=direct status=none
		sleep 0.3
	done
	biostat_stop INT
	wait "$reader"
	dmsetup message bpe 0 fail_alloc 0
	n=$(jq -s --argjson m "$mark" 'map(select(.[1] > $m)) | length' "$BATS_TEST_TMPDIR/stamped")
	echo "# $n events" >&3
	[ "$n" -ge 5 ]
	# arrival - event time, in ms, worst over every measured event
	lat=$(jq -s --argjson m "$mark" 'map(select(.[1] > $m) | (.[0] - .[1]) * 1000) | max | floor' \
		"$BATS_TEST_TMPDIR/stamped")
	echo "# worst event latency: ${lat} ms" >&3
	[ "$lat" -lt 100 ]
}

@test "biostat rejects bad input with one line of error and exit 2" {
	make_brd 8
	dm_create bpx "$(biopool_table /dev/ram0)"
	for args in "-x" "--nosuch" "0" "-1" "abc" "1 0" "1 x" "1 2 3" "-d nosuch-device" \
		"-d /dev/mapper/nosuch" "-d 4095:1048575" "-d /dev/null" "-p abc" "-p 0" \
		"-p 4194304" "-p" "-d"; do
		# shellcheck disable=SC2086
		run --separate-stderr biostat $args
		echo "biostat $args -> $status: $stderr"
		[ "$status" -eq 2 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == biostat:* ]]
		[ -z "$output" ]
	done
	# the good spellings of the same device are accepted
	run timeout 60 biostat -d bpx 0.1 1
	[ "$status" -eq 0 ]
}

@test "biostat without privileges says so and exits 1" {
	command -v setpriv || skip "no setpriv in the guest"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all biostat 1 1
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *root* ]]
}
