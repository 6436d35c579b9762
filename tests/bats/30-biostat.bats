#!/usr/bin/env bats
# bats file_tags=part1
# SPDX-License-Identifier: GPL-2.0
#
# biostat in the guest, on a stack of dm-biopool devices:
#   bp1 on /dev/ram0 at the bottom, bp2 on bp1, bp3 on bp2 at the top,
#   pool_size:1 and split_sectors 8, 16, 64 from the bottom up.
# Every count biostat reports is compared with what the target itself
# counted (its status line) over the same window.

load ../lib/init

setup() { common_setup; }
teardown() { common_teardown; }

# snap_clones ARRAY: ARRAY[bpN] = clones counted by bpN's status so far
# (for the bpN that exist)
declare -gA CLONES0=() CLONES1=()
snap_clones() {
	local -n a=$1
	local d
	# shellcheck disable=SC2034,SC2004 # a names an associative array
	for d in bp1 bp2 bp3; do
		[ -e "/dev/mapper/$d" ] || continue
		a[$d]=$(bp_stat "$d" clones)
	done
}

# ---- tests -------------------------------------------------------------------

# bats test_tags=portability
@test "quiet stack: allocs equal the growth of clones; no reserve, waits or punts" {
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	biostat_start bs -j
	biostat_started bs
	snap_clones CLONES0
	fio --name=quiet --filename=/dev/mapper/bp3 --size=24M --direct=1 \
		--ioengine=libaio --iodepth=8 --rw=randrw --bssplit=4k/25:16k/25:64k/25:1m/25 \
		--numjobs=2 --runtime=3 --time_based --randrepeat=0 --group_reporting \
		--output=/tmp/fio-quiet.log
	assert_bp_idle bp3 bp2 bp1
	snap_clones CLONES1
	biostat_stop bs INT

	for d in bp1 bp2 bp3; do
		grown=$((CLONES1[$d] - CLONES0[$d]))
		echo "# $d: clones +$grown, biostat allocs $(biostat_set_field bs $d allocs)" \
			"reserve $(biostat_set_field bs $d reserve) waits $(biostat_set_field bs $d waits)" \
			"punts $(biostat_set_field bs $d punts)" >&3
		[ "$grown" -gt 0 ]
		biostat_count_is bs "$(biostat_set_field bs $d allocs)" "$grown"
		check_biostat bs $d reserve -eq 0
		check_biostat bs $d waits -eq 0
		check_biostat bs $d punts -eq 0
		check_biostat bs $d fails -eq 0
	done
}

# bats test_tags=portability
@test "exhausted stack: reserve equals the growth of clones, punts, waits, punted == rescued, data intact, -e -j events" {
	local d grown waits=0 ev
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	random_file /tmp/data 16
	bp_fail_alloc always bp1 bp2 bp3
	biostat_start bs -e -j -H -s
	biostat_started bs
	snap_clones CLONES0
	parallel_write /tmp/data /dev/mapper/bp3 16
	assert_bp_idle bp3 bp2 bp1
	snap_clones CLONES1
	biostat_stop bs INT
	bp_fail_alloc 0 bp1 bp2 bp3
	[ "$(sha_dev /dev/mapper/bp3 16)" = "$(sha_file /tmp/data)" ]
	biostat_records_valid bs

	for d in bp1 bp2 bp3; do
		grown=$((CLONES1[$d] - CLONES0[$d]))
		echo "# $d: clones +$grown, allocs $(biostat_set_field bs $d allocs)" \
			"reserve $(biostat_set_field bs $d reserve) waits $(biostat_set_field bs $d waits)" \
			"punts $(biostat_set_field bs $d punts) punted $(biostat_set_field bs $d punted)" \
			"rescues $(biostat_set_field bs $d rescues) rescued $(biostat_set_field bs $d rescued)" >&3
		check_bp "$d" clones -gt "${CLONES0[$d]}"
		biostat_count_is bs "$(biostat_set_field bs $d allocs)" "$grown"
		biostat_count_is bs "$(biostat_set_field bs $d reserve)" "$grown"
		check_biostat bs "$d" punts -gt 0
		check_biostat bs "$d" punted -eq "$(biostat_set_field bs $d rescued)"
		check_biostat bs "$d" fails -eq 0
		# -H: the summary histogram holds every wait
		check_biostat bs "$d" waits -eq "$(biostat_hist_waits bs $d)"
		waits=$((waits + $(biostat_set_field bs $d waits)))
	done
	[ "$waits" -gt 0 ] || { echo "no wait on any layer" >&2; return 1; }

	# the events, with what a user needs to act on them
	for ev in wait punt rescue; do
		echo "# $ev events: $(biostat_events bs $ev)" >&3
		[ "$(biostat_events bs $ev)" -gt 0 ] || { echo "no $ev event" >&2; return 1; }
	done
	biostat_events_complete bs
	# as many wait events as waits counted, when none was dropped
	if [ "$(biostat_summary bs | jq .dropped_events)" = 0 ]; then
		[ "$(biostat_events bs wait)" -eq "$waits" ] ||
			{ echo "wait events $(biostat_events bs wait), waits $waits" >&2; return 1; }
	fi
	# -s: the stacks show the mempool sleep
	biostat_mempool_stack bs
}

# prom_punts PORT SET: biostat_punts_total of SET (a dm name's biopool set)
# as node_exporter on 127.0.0.1:PORT serves it now (0 before it shows)
prom_punts() {
	wget -q -O - "http://127.0.0.1:$1/metrics" 2>/dev/null |
		awk -v n="name=\"$2:biopool\"" '/^biostat_punts_total\{/ && index($0, n) { v = $NF } END { print v + 0 }'
}
prom_punts_above() { [ "$(prom_punts "$1" "$2")" -gt "$3" ]; }

@test "--prom: node_exporter serves the exhausted stack's punts, rising between two scrapes; one vocabulary with JSON and the table" {
	command -v prometheus-node-exporter >/dev/null || skip "no node_exporter in the guest"
	local dir=$BATS_TEST_TMPDIR/textfile p1 p2
	mkdir "$dir"
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16
	random_file /tmp/data 16
	prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$dir" --web.listen-address=127.0.0.1:9100 \
		>/dev/null 2>&1 3>&- & # stopped by teardown (stop_jobs)
	biostat_start prom -j --prom "$dir/biostat.prom" 0.3
	biostat_started prom
	bp_fail_alloc always bp1 bp2
	# two halves, a scrape after each: the second serves more punts
	write_direct /tmp/data /dev/mapper/bp2 1M 0 8M
	wait_until 60 prom_punts_above 9100 bp2 0
	p1=$(prom_punts 9100 bp2)
	write_direct /tmp/data /dev/mapper/bp2 1M 8M 8M
	wait_until 60 prom_punts_above 9100 bp2 "$p1"
	p2=$(prom_punts 9100 bp2)
	echo "# bp2:biopool punts served by node_exporter: $p1, then $p2" >&3
	bp_fail_alloc 0 bp1 bp2
	biostat_stop prom INT
	[ "$(sha_dev /dev/mapper/bp2 16)" = "$(sha_file /tmp/data)" ]
	# the final file holds the summary's counts
	grep -q '^biostat_punts_total{.*name="bp2:biopool".*} [1-9]' "$dir/biostat.prom"
	grep -E '^biostat_(up|info|[a-z]+_total\{.*name="bp2:biopool")' "$dir/biostat.prom" | sed 's/^/#   /' >&3
	# every count measured: the same names in JSON, Prometheus and the table
	assert_one_vocabulary "$(biostat_summary prom)" "$dir/biostat.prom" \
		"$(biostat -x 0.1 1 | grep '^BIO_SET' | tail -n 1)"
}

# cgroup_dir: a new directory of the cgroup v2 hierarchy (mounted if need be)
cgroup_dir() {
	local cg
	cg=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	if [ -z "$cg" ]; then
		cg=/tmp/cgroup2
		mkdir -p "$cg"
		mount -t cgroup2 none "$cg" || return 1
	fi
	mkdir "$cg/bats.$$" && echo "$cg/bats.$$"
}

@test "-m MIN_US shows only the long waits, -s --folded prints flame graph lines, -c counts one cgroup's tasks" {
	local cg n lo hi mid
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16
	random_file /tmp/data 8
	cg=$(cgroup_dir)
	bp_fail_alloc always bp1 bp2
	biostat_start all -j -e
	biostat_start min -j -e -m 1024 -H
	biostat_start fold -s --folded
	biostat_start cg -j -c "$cg"
	biostat_started all min fold cg
	snap_clones CLONES0
	# the first half from a task in the cgroup, the second from outside
	bash -c 'echo $$ >"$1/cgroup.procs" && exec dd if=/tmp/data of=/dev/mapper/bp2 bs=1M count=4 \
		iflag=fullblock oflag=direct conv=notrunc status=none' - "$cg" 3>&-
	assert_bp_idle bp2 bp1
	snap_clones CLONES1
	write_direct /tmp/data /dev/mapper/bp2 1M 4M 4M
	assert_bp_idle bp2 bp1
	biostat_stop all INT
	biostat_stop min INT
	biostat_stop fold INT
	biostat_stop cg INT
	bp_fail_alloc 0 bp1 bp2
	rmdir "$cg"
	[ "$(sha_dev /dev/mapper/bp2 8)" = "$(sha_file /tmp/data)" ]

	# -m 1024: every wait counted, only those of 1024 us or more shown.
	# Counted: the same waits as the unfiltered instance's (each may be
	# short by its recursion misses: 7.2 is preemptible)
	local wa wm miss n hist drop tot
	wa=$(biostat_set_field all bp2 waits) wm=$(biostat_set_field min bp2 waits)
	miss=$(($(biostat_summary all | jq '.uncounted.recursion_misses') + $(biostat_summary min | jq '.uncounted.recursion_misses')))
	[ "$wa" -gt 0 ] && [ $((wa > wm ? wa - wm : wm - wa)) -le "$miss" ]
	jq -e -s '[.[] | select(.type == "event" and .event == "wait")] | all(.wait_us >= 1024)' "$(biostat_out min)"
	# Shown: exactly the waits its own histogram (-H, from the same
	# program and the same duration) has from the 1024 us bucket on, bar
	# the events the ring buffer dropped.  (Two instances cannot be
	# compared wait by wait: each times a wait in its own program, and a
	# loaded host delays one against the other by more than the 0.2 ms
	# margin that comparison had.)
	n=$(jq -s '[.[] | select(.type == "event" and .event == "wait")] | length' "$(biostat_out min)")
	hist=$(jq -s '[.[] | select(.type == "histogram" and .scope == "summary") | .buckets[] | select(.lo >= 1024) | .count] | add // 0' "$(biostat_out min)")
	drop=$(biostat_summary min | jq '.dropped_events')
	tot=$(biostat_summary min | jq '[.sets[].waits // 0] | add')
	echo "# -m 1024: $n wait events of $tot waits; its histogram: $hist from 1024 us on; dropped events $drop" >&3
	if [ "$n" -gt "$hist" ] || [ $((n + drop)) -lt "$hist" ]; then
		echo "-m 1024 showed $n wait events: want the histogram's $hist from 1024 us on (less at most $drop dropped)" >&2
		return 1
	fi

	# --folded: only folded lines, the set at the root, the mempool sleep in it
	head -n 3 "$(biostat_out fold)" | sed 's/^/# /' >&3
	[ -s "$(biostat_out fold)" ]
	if grep -vE '^[^ ;]+(;[^ ;]+)+ [0-9]+$' "$(biostat_out fold)"; then return 1; fi
	grep -qE '^bp[12]:biopool;.*;mempool_alloc' "$(biostat_out fold)"

	# -c: the top layer's allocations are made by the writer: exactly the
	# clones of the first half
	mid=$((CLONES1[bp2] - CLONES0[bp2]))
	echo "# -c: bp2 allocs $(biostat_set_field cg bp2 allocs), clones of the cgroup's writes $mid, of all $(biostat_set_field all bp2 allocs)" >&3
	biostat_count_is cg "$(biostat_set_field cg bp2 allocs)" "$mid"
	check_biostat all bp2 allocs -gt "$mid"
}

@test "biostat -d DEV reports only that device's sets, by dm name, /dev path or MAJ:MIN" {
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	majmin=$(majmin /dev/mapper/bp2)
	for dev in bp2 /dev/mapper/bp2 "$majmin"; do
		biostat_start bs -j -d "$dev"
		biostat_started bs
		snap_clones CLONES0
		write_direct /dev/zero /dev/mapper/bp3 1M 0 $((4 << 20))
		assert_bp_idle bp3 bp2 bp1
		snap_clones CLONES1
		biostat_stop bs INT
		echo "# -d $dev: $(biostat_summary bs | jq -c '[.sets[] | {name, device, allocs}]')" >&3
		# only bp2's sets, and bp2's own set saw every clone of bp2
		biostat_summary bs | jq -e --arg m "$majmin" '(.sets | length) > 0 and all(.sets[]; .devnum == $m and .dm_name == "bp2")'
		biostat_count_is bs "$(biostat_set_field bs bp2 allocs)" $((CLONES1[bp2] - CLONES0[bp2]))
		check_biostat bs bp3 allocs -eq 0
		check_biostat bs bp1 allocs -eq 0
	done
}

@test "tables name devices and fit 80 columns; -d twice and -N GLOB select sets" {
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	# bp1 and bp3, not bp2; of those only the target's own sets
	biostat_start bs -j -d bp1 -d /dev/mapper/bp3 -N '*:biopool'
	biostat_start tbl 0.5
	biostat_started bs tbl
	snap_clones CLONES0
	write_direct /dev/zero /dev/mapper/bp3 1M 0 $((4 << 20))
	assert_bp_idle bp3 bp2 bp1
	snap_clones CLONES1
	biostat_stop bs INT
	biostat_stop tbl INT
	echo "# -d bp1 -d bp3 -N '*:biopool': $(biostat_summary bs | jq -c '[.sets[] | {name, allocs}]')" >&3
	biostat_summary bs | jq -e '[.sets[].name] | sort == ["bp1:biopool", "bp3:biopool"]'
	for d in bp1 bp3; do
		biostat_count_is bs "$(biostat_set_field bs $d allocs)" $((CLONES1[$d] - CLONES0[$d]))
	done
	# the default table: 80 columns at most, DEVICE by dm name
	sed -n '/^Summary/,$p' "$(biostat_out tbl)" | sed 's/^/# /' >&3
	awk 'length($0) > 80 { print "wider than 80: " $0; bad = 1 } END { exit bad }' "$(biostat_out tbl)"
	for d in bp1 bp2 bp3; do
		awk -v s="$d:biopool" -v d="$d" '$1 == s && $2 == d { f = 1 } END { exit !f }' "$(biostat_out tbl)"
	done
}

@test "biostat -p PID reports only what that process allocated" {
	make_brd 32
	make_stack bp /dev/ram0 1:8 1:16 1:64
	mkfifo "$BATS_TEST_TMPDIR/go"
	# the traced writer: waits for the go, then 4 MiB of 1 MiB O_DIRECT writes
	bash -c 'read -r _ <"$1"; exec dd if=/dev/zero of=/dev/mapper/bp3 bs=1M count=4 oflag=direct status=none' \
		_ "$BATS_TEST_TMPDIR/go" &
	writer=$!
	biostat_start bs -j -p "$writer"
	biostat_started bs
	snap_clones CLONES0
	# another process writes as much, elsewhere on the same stack
	dd if=/dev/zero of=/dev/mapper/bp3 bs=1M count=4 seek=8 oflag=direct status=none &
	other=$!
	echo go >"$BATS_TEST_TMPDIR/go"
	wait "$writer"
	wait "$other"
	assert_bp_idle bp3 bp2 bp1
	snap_clones CLONES1
	biostat_stop bs INT

	# 4 MiB = 8192 sectors: 8192/64 clones at bp3, 8192/16 at bp2, 8192/8 at bp1
	echo "# -p: bp3 $(biostat_set_field bs bp3 allocs) bp2 $(biostat_set_field bs bp2 allocs) bp1 $(biostat_set_field bs bp1 allocs);" \
		"clones grew $((CLONES1[bp3] - CLONES0[bp3])) $((CLONES1[bp2] - CLONES0[bp2])) $((CLONES1[bp1] - CLONES0[bp1]))" >&3
	biostat_count_is bs "$(biostat_set_field bs bp3 allocs)" 128
	biostat_count_is bs "$(biostat_set_field bs bp2 allocs)" 512
	biostat_count_is bs "$(biostat_set_field bs bp1 allocs)" 1024
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

# _biostat_intervals NAME N: instance NAME has printed N JSON intervals
_biostat_intervals() { [ "$(grep -c '"type":"interval"' "$(biostat_out "$1")")" -ge "$2" ]; }

@test "biostat on SIGINT, SIGTERM, SIGHUP or SIGQUIT prints the summary and exits 0" {
	biostat_start plain
	biostat_started plain
	biostat_stop plain INT
	grep -q '^Summary: ' "$(biostat_out plain)"
	# all four at once: one instance each, a few intervals first
	for sig in INT TERM HUP QUIT; do biostat_start "j$sig" -j -T 0.3; done
	biostat_started jINT jTERM jHUP jQUIT
	for sig in INT TERM HUP QUIT; do wait_until 60 _biostat_intervals "j$sig" 2; done
	for sig in INT TERM HUP QUIT; do
		biostat_stop "j$sig" "$sig"
		tail -n 1 "$(biostat_out "j$sig")" | jq -e '.type == "summary"'
	done
}

# sig_caught SIG PID: PID has a handler for SIG (SigCgt in /proc/PID/status)
sig_caught() {
	local n mask
	n=$(kill -l "$1") || return 1
	mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$2/status" 2>/dev/null) || return 1
	[ -n "$mask" ] && (((0x$mask >> (n - 1)) & 1))
}

@test "a signal during start-up (seconds here) ends the run as tracing begins, with the summary; an ignored SIGHUP stays ignored" {
	local sig pid out=$BATS_TEST_TMPDIR/su.out err=$BATS_TEST_TMPDIR/su.err rc
	for sig in TERM INT; do
		biostat -j 1 >"$out" 2>"$err" 3>&- &
		pid=$!
		wait_until 10 sig_caught "$sig" "$pid"
		# start-up is not over: the BPF load and the symbols take seconds
		if grep -q '^Tracing' "$err"; then
			echo "SIG$sig: start-up was over before the handler was there" >&2
			return 1
		fi
		kill -"$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" = 0 ] || { echo "SIG$sig during start-up: exit $rc: $(cat "$err")" >&2; return 1; }
		tail -n 1 "$out" | jq -e '.type == "summary"'
	done
	# nohup's SIGHUP: ignored before biostat starts, ignored after
	(trap '' HUP; exec biostat -j 0.3) >"$out" 2>"$err" 3>&- &
	pid=$!
	wait_until 60 grep -q '^Tracing' "$err"
	kill -HUP "$pid"
	local n
	n=$(grep -c '"type":"interval"' "$out" || true)
	wait_until 30 _biostat_count_intervals "$out" $((n + 2))
	kill -0 "$pid"
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ]
	tail -n 1 "$out" | jq -e '.type == "summary"'
}

# _biostat_count_intervals FILE N: FILE holds N JSON intervals or more
_biostat_count_intervals() { [ "$(grep -c '"type":"interval"' "$1")" -ge "$2" ]; }

@test "biostat -e prints an event within 100 ms of it happening" {
	make_brd 8
	dm_create bpe "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	bp_fail_alloc always bpe
	# each event stamped with the time it reaches a reader (jq: a shell
	# loop reads a pipe a byte at a time and would be the bottleneck)
	mkfifo "$(biostat_out ev)"
	jq --unbuffered -c 'select(.type == "event") | [now, .ts, .event]' \
		<"$(biostat_out ev)" >"$BATS_TEST_TMPDIR/stamped" 3>&- &
	reader=$!
	biostat_start ev -e -j
	biostat_started ev
	# 16 KiB in 8-sector clones from a 1-element pool: punts and rescues.
	# The first burst warms up both processes (page faults, first-time
	# code paths: slow under TCG) and names the sets (one read of
	# /proc/kallsyms, up to a second on a busy host): not measured, and
	# over once its first event has reached the reader.
	dd if=/dev/zero of=/dev/mapper/bpe bs=16k count=1 oflag=direct status=none
	wait_until 30 test -s "$BATS_TEST_TMPDIR/stamped"
	mark=$EPOCHREALTIME
	for i in 1 2 3 4 5; do
		dd if=/dev/zero of=/dev/mapper/bpe bs=16k count=1 seek=$i oflag=direct status=none
		sleep 0.3
	done
	biostat_stop ev INT
	wait "$reader"
	bp_fail_alloc 0 bpe
	n=$(jq -s --argjson m "$mark" 'map(select(.[1] > $m)) | length' "$BATS_TEST_TMPDIR/stamped")
	echo "# $n events" >&3
	[ "$n" -ge 5 ]
	# arrival - event time, in ms, worst over every measured event
	lat=$(jq -s --argjson m "$mark" 'map(select(.[1] > $m) | (.[0] - .[1]) * 1000) | max | floor' \
		"$BATS_TEST_TMPDIR/stamped")
	echo "# worst event latency: ${lat} ms" >&3
	[ "$lat" -lt 100 ]
}

# shellcheck disable=SC2154 # stderr, stderr_lines: set by run
@test "biostat rejects bad input with one line of error and exit 2" {
	make_brd 8
	dm_create bpx "$(biopool_table /dev/ram0)"
	for args in "-z" "--nosuch" "0" "-1" "abc" "1 0" "1 x" "1 2 3" "-d nosuch-device" \
		"-d /dev/mapper/nosuch" "-d 4095:1048575" "-d /dev/null" "-p abc" "-p 0" \
		"-p 4194304" "-p" "-d" "-m 0" "-m x" "-c /tmp" "-c" "--folded" "-s --folded -j" \
		"-N" "--prom" "--prom /nonexistent-dir/x.prom 1 1"; do
		# shellcheck disable=SC2086
		refused_in_one_line biostat $args
	done
	# the good spellings of the same device are accepted
	run timeout 60 biostat -d bpx 0.1 1
	[ "$status" -eq 0 ]
}

@test "biostat and biostat check without privileges say the same and exit 1" {
	command -v setpriv || skip "no setpriv in the guest"
	for mode in "" check; do
		# shellcheck disable=SC2086 # mode is one word or none
		run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all --bounding-set=-all biostat $mode 1
		echo "$stderr"
		[ "$status" -eq 1 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "biostat${mode:+ $mode}: missing privileges: CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to trace"*"; run as root" ]]
	done
}

# as_service CMD...: CMD as an unprivileged user (nobody) with exactly the
# capabilities biostat.8 suggests for a service: CAP_BPF, CAP_PERFMON, and
# CAP_SYSLOG for /proc/kallsyms's addresses; exec'd, so that a background
# job's $! is CMD itself
as_service() {
	exec setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+bpf,+perfmon,+syslog --ambient-caps=+bpf,+perfmon,+syslog \
		--bounding-set=-all,+bpf,+perfmon,+syslog "$@"
}

@test "least privilege: as nobody with CAP_BPF, CAP_PERFMON and CAP_SYSLOG, table, -e and check trace" {
	command -v setpriv || skip "no setpriv in the guest"
	make_brd 16
	dm_create lp0 "$(biopool_table /dev/ram0 pool_size:1 split_sectors:8)"
	dmsetup message lp0 0 fail_alloc always
	random_file /tmp/lp.data 4
	# CAP_SYSLOG (34), CAP_PERFMON (38), CAP_BPF (39) and nothing else
	run -0 as_service grep '^CapEff' /proc/self/status
	[ "$output" = "$(printf 'CapEff:\t000000c400000000')" ]
	local mode args out err pid rc
	for mode in table events check; do
		case $mode in
		table) args=(-j 1) ;;
		events) args=(-e -j) ;;
		check) args=(check -j) ;;
		esac
		out=$BATS_TEST_TMPDIR/lp.$mode.out err=$BATS_TEST_TMPDIR/lp.$mode.err
		(as_service biostat "${args[@]}") >"$out" 2>"$err" 3>&- &
		pid=$!
		if ! wait_until 60 grep -qE '^(Tracing|Checking)' "$err"; then
			echo "$mode did not start: $(cat "$err")" >&2
			return 1
		fi
		write_direct /tmp/lp.data /dev/mapper/lp0 64k
		kill -INT "$pid"
		if ! wait_until 60 pid_gone "$pid"; then
			kill -KILL "$pid"
			echo "$mode: still running 60 s after SIGINT" >&2
			return 1
		fi
		rc=0
		wait "$pid" || rc=$?
		echo "$mode: exit $rc; $(cat "$err")" >&2
		if [ "$mode" = check ]; then
			[ "$rc" = 0 ] || [ "$rc" = 3 ]
			jq -e -s 'map(select(.type == "check_summary")) | length == 1 and .[0].allocs > 0' "$out"
		else
			[ "$rc" = 0 ]
			grep -q '"name":"lp0:biopool"' "$out"
		fi
	done
	dmsetup message lp0 0 fail_alloc 0
}
