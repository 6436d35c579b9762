# tests/lib/biostat.bash: biostat (tools/biostat) run in the background by
# name: started and waited for until it traces (or checks), stopped with
# its exit status tested, killed in teardown; its output read back (the
# JSON summary and intervals, events) and the BPF objects left in the
# kernel; allocount, the independent count of allocations per bio_set,
# run beside it and compared with it.  Output of instance NAME:
# $BATS_TEST_TMPDIR/biostat.NAME.{out,err}.
# Loaded by init.bash.
# shellcheck shell=bash

declare -gA BIOSTAT_PID=()
BIOSTAT_RC=

biostat_out() { echo "$BATS_TEST_TMPDIR/biostat.$1.out"; }
biostat_err() { echo "$BATS_TEST_TMPDIR/biostat.$1.err"; }

# biostat_start NAME ARGS...: biostat ARGS in the background as instance NAME
# (its stdout may be a FIFO made beforehand at $(biostat_out NAME)); then
# biostat_started NAME... (start them all first: each takes seconds to read
# kallsyms under TCG)
biostat_start() {
	local name=$1
	shift
	biostat "$@" >"$(biostat_out "$name")" 2>"$(biostat_err "$name")" 3>&- &
	BIOSTAT_PID[$name]=$!
}

# _biostat_ready NAME: it says it traces (or checks), or it has exited
_biostat_ready() {
	grep -qE '^(Tracing|Checking)' "$(biostat_err "$1")" || ! kill -0 "${BIOSTAT_PID[$1]}" 2>/dev/null
}

# _biostat_where PID: where a biostat that does not get on is, in the kernel
# (each thread's state, wait channel and stack), or how it ended, on stderr
_biostat_where() {
	local t rc=0
	if ! kill -0 "$1" 2>/dev/null; then
		wait "$1" || rc=$?
		echo "it exited with status $rc$( ((rc > 128)) && echo " (signal $((rc - 128)))")" >&2
		return 0
	fi
	for t in /proc/"$1"/task/*; do
		[ -d "$t" ] || continue
		echo "thread ${t##*/}: $(awk '/^State:/ { print $2, $3 }' "$t/status" 2>/dev/null)" \
			"wchan $(cat "$t/wchan" 2>/dev/null)" >&2
		sed 's/^/    /' "$t/stack" >&2 2>/dev/null || true
	done
}

# biostat_started NAME...: wait (60 s at most) until each instance traces;
# else its stderr and why, in libbpf's words (the verifier's log when it
# refused), on stderr
biostat_started() {
	local name
	for name in "$@"; do
		if ! wait_until 60 _biostat_ready "$name" || ! grep -qE '^(Tracing|Checking)' "$(biostat_err "$name")"; then
			echo "biostat $name did not start:" >&2
			cat "$(biostat_err "$name")" >&2
			_biostat_where "${BIOSTAT_PID[$name]}"
			timeout 60 biostat -v 1 1 2>&1 | grep -v '^libbpf: \(elf\|sec \|map \|prog .*: found\|CO-RE\)' |
				tail -n 40 >&2
			return 1
		fi
	done
}

# biostat_alive: every instance still runs
biostat_alive() {
	local name
	for name in "${!BIOSTAT_PID[@]}"; do
		kill -0 "${BIOSTAT_PID[$name]}" 2>/dev/null ||
			{ echo "biostat $name died: $(cat "$(biostat_err "$name")")" >&2; return 1; }
	done
}

# biostat_stop NAME [SIGNAL [RC...]]: SIGNAL (default INT) to the instance, its
# exit status in BIOSTAT_RC; fails, with its stderr, unless that is one of RC
# (default 0)
biostat_stop() {
	local name=$1 sig=${2:-INT} rc
	shift $(($# < 2 ? $# : 2))
	[ $# -gt 0 ] || set -- 0
	kill -"$sig" "${BIOSTAT_PID[$name]}" 2>/dev/null || true
	BIOSTAT_RC=0
	wait "${BIOSTAT_PID[$name]}" || BIOSTAT_RC=$?
	unset "BIOSTAT_PID[$name]"
	for rc in "$@"; do [ "$BIOSTAT_RC" = "$rc" ] && return 0; done
	echo "biostat $name exited $BIOSTAT_RC (want ${*// / or }):" >&2
	cat "$(biostat_err "$name")" >&2
	return 1
}

# biostat_stop_all: SIGINT to every instance at once; each must exit 0
biostat_stop_all() {
	local name failed=
	for name in "${!BIOSTAT_PID[@]}"; do kill -INT "${BIOSTAT_PID[$name]}" 2>/dev/null || true; done
	for name in "${!BIOSTAT_PID[@]}"; do biostat_stop "$name" INT || failed="$failed $name"; done
	[ -z "$failed" ] || { echo "biostat instances that did not exit 0:$failed" >&2; return 1; }
}

# biostat_kill_all: for teardown: whatever instance is left
biostat_kill_all() {
	local name
	{
		for name in "${!BIOSTAT_PID[@]}"; do kill -KILL "${BIOSTAT_PID[$name]}" || true; done
		for name in "${!BIOSTAT_PID[@]}"; do wait "${BIOSTAT_PID[$name]}" || true; done
	} 2>/dev/null
	BIOSTAT_PID=()
}

# ---- output -------------------------------------------------------------------

# biostat_summary NAME: the last JSON summary of instance NAME (biostat -j)
biostat_summary() { grep '"type":"summary"' "$(biostat_out "$1")" | tail -n 1; }

# biostat_set_field NAME DM_NAME FIELD: FIELD of the biopool target's own set of
# DM_NAME in the summary of instance NAME (0 if the set never showed up)
biostat_set_field() {
	biostat_summary "$1" | jq -r --arg d "$2" --arg f "$3" \
		'[.sets[] | select(.dm_name == $d and (.name | endswith(":biopool"))) | .[$f]] | add // 0'
}

# check_biostat NAME DM_NAME FIELD OP VALUE: FIELD of DM_NAME's biopool set
# in instance NAME's summary compares with VALUE by OP (as test(1)); if
# not, one line with what it saw and what was expected (as check_bp)
check_biostat() {
	local v
	v=$(biostat_set_field "$1" "$2" "$3")
	test "$v" "$4" "$5" 2>/dev/null ||
		{ echo "check_biostat: $2 $3 is $v in biostat $1's summary, expected $4 $5" >&2; return 1; }
}

# biostat_events NAME EVENT: how many events EVENT (wait, punt, rescue,
# fail) instance NAME streamed (biostat -e -j)
biostat_events() {
	jq -s --arg e "$2" '[.[] | select(.type == "event" and .event == $e)] | length' "$(biostat_out "$1")"
}

# biostat_hist_waits NAME DM_NAME: the waits in the summary histogram of
# DM_NAME's biopool set (biostat -H -j)
biostat_hist_waits() {
	jq -s --arg d "$2" '[.[] | select(.type == "histogram" and .scope == "summary" and
		.dm_name == $d and (.name | endswith(":biopool"))) | .buckets[].count] | add // 0' "$(biostat_out "$1")"
}

# biostat_records_valid NAME: every line instance NAME wrote is a JSON
# object with the schema version and an ISO 8601 time with date and zone;
# else the first line that is not, on stderr
biostat_records_valid() {
	local bad
	bad=$(jq -c --argjson v "$BIOSTAT_SCHEMA" 'select((type != "object") or .schema != $v or
		(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[.][0-9]{3}[+-][0-9]{2}:[0-9]{2}$") | not))' \
		"$(biostat_out "$1")" 2>&1 | head -n 1)
	[ -z "$bad" ] && [ -s "$(biostat_out "$1")" ] ||
		{ echo "biostat $1: not a valid record: ${bad:-(no output)}" >&2; return 1; }
}

# biostat_events_complete NAME: every event instance NAME streamed says
# who (comm, pid), which set (bio_set, name) and device, waits their length
biostat_events_complete() {
	jq -e -s '[.[] | select(.type == "event")] | length > 0 and all(.[];
		(.comm | type) == "string" and .pid > 0 and
		(.bio_set | startswith("0x")) and (.name | type) == "string" and
		(.device | type) == "string" and (.event != "wait" or .wait_us >= 0))' \
		"$(biostat_out "$1")" >/dev/null ||
		{ echo "biostat $1: an event lacks comm, pid, bio_set, name, device or wait_us" >&2; return 1; }
}

# biostat_mempool_stack NAME: instance NAME printed a stack (biostat -s)
# that sleeps in mempool_alloc and waited
biostat_mempool_stack() {
	jq -e -s 'any(.[]; .type == "stack" and (.frames | any(startswith("mempool_alloc"))) and .waits > 0)' \
		"$(biostat_out "$1")" >/dev/null ||
		{ echo "biostat $1: no stack that waited in mempool_alloc" >&2; return 1; }
}

# biostat_last_interval NAME: the names of the sets in the last interval of
# instance NAME (biostat -a -j), one per line
biostat_last_interval() {
	grep '"type":"interval"' "$(biostat_out "$1")" | tail -n 1 | jq -r '.sets[].name'
}

# predicates for wait_until: instance NAME lists DM_NAME's biopool set in
# its last interval; lists none of DM_NAME's sets; streamed an event of it
biostat_names() { biostat_last_interval "$1" | grep -qx "$2:biopool"; }
biostat_dropped() {
	if biostat_last_interval "$1" | grep -q "^$2:"; then return 1; fi
}
biostat_event_for() { grep '"type":"event"' "$(biostat_out "$1")" | jq -r .name | grep -qx "$2:biopool"; }

# bpf_objects: "PROGRAMS MAPS" loaded in the kernel
bpf_objects() { echo "$(bpftool -j prog show | jq length) $(bpftool -j map show | jq length)"; }
bpf_objects_are() { [ "$(bpf_objects)" = "$1" ]; }

# biostat_count_is NAME COUNT EXPECTED: biostat's COUNT is EXPECTED, exactly, or
# short of it by no more than the recursion misses that instance NAME
# reported (programs the kernel skipped: preemptible kernels, e.g. 7.2)
biostat_count_is() {
	local misses
	misses=$(biostat_summary "$1" | jq '.uncounted.recursion_misses // 0')
	[ "$2" -le "$3" ] && [ $(($3 - $2)) -le "$misses" ] && return 0
	echo "count $2, expected $3 (recursion misses $misses)" >&2
	return 1
}


# ---- the independent count (bench/allocount) ------------------------------------

# allocount: on PATH, or in the checkout's build/bench (tests/vm/run
# --include $PWD/build/bench)
ALLOCOUNT=${ALLOCOUNT:-$(command -v allocount || echo "$(cd "$BP_LIB/../.." && pwd)/build/bench/allocount")}

_ac_ready() { grep -q '^attached' "$(biostat_err "$1")" || ! kill -0 "${BIOSTAT_PID[$1]}" 2>/dev/null; }

# ac_start NAME: allocount in the background as instance NAME (stopped
# with biostat_stop NAME, killed by biostat_kill_all), counting when it returns
ac_start() {
	"$ALLOCOUNT" >"$(biostat_out "$1")" 2>"$(biostat_err "$1")" 3>&- &
	BIOSTAT_PID[$1]=$!
	wait_until 60 _ac_ready "$1" && grep -q '^attached' "$(biostat_err "$1")" ||
		{ echo "allocount did not start: $(cat "$(biostat_err "$1")")" >&2; return 1; }
}

# biostat_counts_match BS AC: every set in biostat instance BS's summary
# allocated exactly as many bios as allocount instance AC counted for its
# address (summed over the sets that lived there one after the other), and
# every set AC counted is in BS's summary with that count
# (short by no more than the recursion misses both report); one TAP line
# per set: name, allocs, the independent count, rescuer
biostat_counts_match() {
	local rows
	rows=$(biostat_summary "$1" | jq -r --slurpfile ac "$(biostat_out "$2")" '
		($ac | map(select(.bio_set)) | map({(.bio_set): .allocs}) | add // {}) as $n |
		(($ac | map(.recursion_misses // 0) | add) + (.uncounted.recursion_misses // 0)) as $m |
		([.sets[] | select(.bio_set)] | group_by(.bio_set) |
			map({key: .[0].bio_set, value: {name: (map(.name) | unique | join("+")),
				allocs: (map(.allocs) | add), rescuer: .[0].rescuer}}) |
			from_entries) as $b |
		(($n | keys) + ($b | keys) | unique)[] as $k |
		($b[$k].allocs // 0) as $x | ($n[$k] // 0) as $y |
		"\($b[$k].name // "(not in biostat)") \($x) \($y) \($m) \($b[$k].rescuer // false)"')
	echo "$rows" | awk '{ printf "#   %-28s allocs %6d independent %6d rescuer %s\n", $1, $2, $3, $5 }' >&3
	echo "$rows" | awk '{ d = $2 - $3; if (d < 0) d = -d; if (d > $4) { print "count mismatch: " $0; bad = 1 } }
		END { exit bad }' >&2
}

# biostat_names NAME: the names of the sets in instance NAME's summary that
# allocated, one per line
biostat_names_allocated() { biostat_summary "$1" | jq -r '.sets[] | select(.allocs > 0) | .name'; }

# assert_names_match NAME REGEX: every set instance NAME saw allocate has a
# name matching REGEX (extended, anchored)
assert_names_match() {
	local bad
	bad=$(biostat_names_allocated "$1" | grep -Evx "$2" || true)
	[ -z "$bad" ] || { echo "sets not named as the rules say: $bad" >&2; return 1; }
}

# same_names NAME DEV1 DEV2: the sets named after DEV1 and after DEV2 are
# the same once the device is taken out of the name (the same I/O in
# another order names the same sets)
same_names() {
	local a b
	a=$(biostat_names_allocated "$1" | sed -n "s/^$2:/DEV:/p" | sort)
	b=$(biostat_names_allocated "$1" | sed -n "s/^$3:/DEV:/p" | sort)
	echo "#   $2 and $3: $(echo $a)" >&3
	[ -n "$a" ] && [ "$a" = "$b" ] || { echo "$2: $a; $3: $b" >&2; return 1; }
}

# ---- biostat check's output ----------------------------------------------------------

# show_violations FILE: one TAP comment line per site of a JSON output of
# biostat check (violations, blocked allocations, the other rules' sites,
# hand-offs, undecided), and its summary
show_violations() {
	jq -r 'select(.type != "check_summary") |
		"#   \(.type) \(.name) dev=\(.device) comm=\(.comm) held=\(.held_max) n=\(.count) plugged=\(.plugged) " +
		"gfp=\(.gfp_first_name)/\(.gfp_second_name) in_submit=\(.in_submit_bio) " +
		"first=\([.stack_first[]? | select(test("^(bio_alloc|bio_split|__bio_split|mempool_alloc)") | not)] | .[0:3] | join("<")) " +
		"second=\([.stack_second[]? | select(test("^(bio_alloc|bio_split|__bio_split|mempool_alloc)") | not)] | .[0:3] | join("<"))"' "$1" >&3
	jq -r 'select(.type == "check_summary") |
		"#   summary: \(.violations) violation site(s), \(.blocked) blocked, \(.no_rescuer_sites) no_rescuer, \(.mempool_sites) mempool, \(.shared_set_sites) shared_set, \(.fs_bio_set_sites) fs_bio_set, \(.handoffs) hand-off(s), \(.undecided) undecided, \(.allocs) allocations, \(.nosleep_while_held) made while holding with a mask that cannot sleep, \(.interrupt_context) in interrupt context, uncounted \(.uncounted)"' "$1" >&3
}

# The JSON types of biostat check's sites that make it exit 3
CHECK_BAD_TYPES='["violation","blocked","no_rescuer","mempool","shared_set","fs_bio_set"]'

# check_sites FILE TYPE...: "TYPE SET" of each site of those types
check_sites() {
	local f=$1
	shift
	jq -r --argjson t "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
		'select(.type as $x | $t | index($x)) | "\(.type) \(.name)"' "$f"
}

# check_sites_sure FILE TYPE...: check_sites, less the violation, blocked
# and shared_set sites when the check says runs were skipped (a bio left
# held or a freed clone's ancestry can make them false; a TAP comment says
# so), the same rule as check_only_violations
check_sites_sure() {
	local f=$1 missed
	missed=$(jq -r 'select(.type == "check_summary") | .uncounted.recursion_misses' "$f")
	if [ "${missed:-0}" -gt 0 ]; then
		echo "# $missed run(s) of the checker skipped (recursion): violation, blocked and shared_set sites not counted" >&3
		check_sites "$@" | grep -Ev '^(violation|blocked|shared_set) ' || true
	else
		check_sites "$@"
	fi
}

# check_only_violations NAME REGEX: instance NAME of biostat check exited 3
# (biostat_stop NAME INT 3 first) and every site it reported that breaks a rule
# (violation, blocked, no_rescuer, mempool, shared_set, fs_bio_set) is
# "TYPE SET" matching REGEX, at least one.  When the check says runs of
# its release programs were skipped (release_misses: a bio left held can
# make a later allocation look like a violation, biostat.8 CHECK MODE),
# other violation and blocked sites are shown, not failed.
check_only_violations() {
	local sites bad missed
	sites=$(jq -r --argjson t "$CHECK_BAD_TYPES" \
		'select(.type as $x | $t | index($x)) | "\(.type) \(.name)"' "$(biostat_out "$1")")
	bad=$(grep -Evx "$2" <<<"$sites" || true)
	missed=$(jq -r 'select(.type == "check_summary") | .uncounted.recursion_misses' "$(biostat_out "$1")")
	if [ -n "$bad" ] && [ "${missed:-0}" -gt 0 ] && ! grep -qEv '^(violation|blocked|shared_set) ' <<<"$bad"; then
		echo "# $missed run(s) of the checker skipped (recursion): not counted: $(tr '\n' ';' <<<"$bad")" >&3
		bad=
	fi
	[ -n "$sites" ] && [ -z "$bad" ] || { echo "sites: ${sites:-none}; not $2: $bad" >&2; return 1; }
}
