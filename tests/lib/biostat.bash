# tests/lib/biostat.bash: biostat (tools/biostat) run in the background by
# name: started and waited for until it traces (or checks), stopped with
# its exit status tested, killed in teardown; its output read back (the
# JSON summary and intervals, events) and the BPF objects left in the
# kernel.  Output of instance NAME: $BATS_TEST_TMPDIR/bs.NAME.{out,err}.
# Loaded by init.bash.
# shellcheck shell=bash

declare -gA BS_PID=()
BS_RC=

bs_out() { echo "$BATS_TEST_TMPDIR/bs.$1.out"; }
bs_err() { echo "$BATS_TEST_TMPDIR/bs.$1.err"; }

# bs_start NAME ARGS...: biostat ARGS in the background as instance NAME
# (its stdout may be a FIFO made beforehand at $(bs_out NAME)); then
# bs_started NAME... (start them all first: each takes seconds to read
# kallsyms under TCG)
bs_start() {
	local name=$1
	shift
	biostat "$@" >"$(bs_out "$name")" 2>"$(bs_err "$name")" 3>&- &
	BS_PID[$name]=$!
}

# _bs_ready NAME: it says it traces (or checks), or it has exited
_bs_ready() {
	grep -qE '^(Tracing|Checking)' "$(bs_err "$1")" || ! kill -0 "${BS_PID[$1]}" 2>/dev/null
}

# _bs_where PID: where a biostat that does not get on is, in the kernel
# (each thread's state, wait channel and stack), or how it ended, on stderr
_bs_where() {
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

# bs_started NAME...: wait (60 s at most) until each instance traces;
# else its stderr and why, in libbpf's words (the verifier's log when it
# refused), on stderr
bs_started() {
	local name
	for name in "$@"; do
		if ! wait_until 60 _bs_ready "$name" || ! grep -qE '^(Tracing|Checking)' "$(bs_err "$name")"; then
			echo "biostat $name did not start:" >&2
			cat "$(bs_err "$name")" >&2
			_bs_where "${BS_PID[$name]}"
			timeout 60 biostat -v 1 1 2>&1 | grep -v '^libbpf: \(elf\|sec \|map \|prog .*: found\|CO-RE\)' |
				tail -n 40 >&2
			return 1
		fi
	done
}

# bs_alive: every instance still runs
bs_alive() {
	local name
	for name in "${!BS_PID[@]}"; do
		kill -0 "${BS_PID[$name]}" 2>/dev/null ||
			{ echo "biostat $name died: $(cat "$(bs_err "$name")")" >&2; return 1; }
	done
}

# bs_stop NAME [SIGNAL [RC...]]: SIGNAL (default INT) to the instance, its
# exit status in BS_RC; fails, with its stderr, unless that is one of RC
# (default 0)
bs_stop() {
	local name=$1 sig=${2:-INT} rc
	shift $(($# < 2 ? $# : 2))
	[ $# -gt 0 ] || set -- 0
	kill -"$sig" "${BS_PID[$name]}" 2>/dev/null || true
	BS_RC=0
	wait "${BS_PID[$name]}" || BS_RC=$?
	unset "BS_PID[$name]"
	for rc in "$@"; do [ "$BS_RC" = "$rc" ] && return 0; done
	echo "biostat $name exited $BS_RC (want ${*// / or }):" >&2
	cat "$(bs_err "$name")" >&2
	return 1
}

# bs_stop_all: SIGINT to every instance at once; each must exit 0
bs_stop_all() {
	local name failed=
	for name in "${!BS_PID[@]}"; do kill -INT "${BS_PID[$name]}" 2>/dev/null || true; done
	for name in "${!BS_PID[@]}"; do bs_stop "$name" INT || failed="$failed $name"; done
	[ -z "$failed" ] || { echo "biostat instances that did not exit 0:$failed" >&2; return 1; }
}

# bs_kill_all: for teardown: whatever instance is left
bs_kill_all() {
	local name
	{
		for name in "${!BS_PID[@]}"; do kill -KILL "${BS_PID[$name]}" || true; done
		for name in "${!BS_PID[@]}"; do wait "${BS_PID[$name]}" || true; done
	} 2>/dev/null
	BS_PID=()
}

# ---- output -------------------------------------------------------------------

# bs_summary NAME: the last JSON summary of instance NAME (biostat -j)
bs_summary() { grep '"type":"summary"' "$(bs_out "$1")" | tail -n 1; }

# bs_set_field NAME DM_NAME FIELD: FIELD of the biopool target's own set of
# DM_NAME in the summary of instance NAME (0 if the set never showed up)
bs_set_field() {
	bs_summary "$1" | jq -r --arg d "$2" --arg f "$3" \
		'[.sets[] | select(.dm_name == $d and (.name | endswith(":biopool"))) | .[$f]] | add // 0'
}

# bs_last_interval NAME: the names of the sets in the last interval of
# instance NAME (biostat -a -j), one per line
bs_last_interval() {
	grep '"type":"interval"' "$(bs_out "$1")" | tail -n 1 | jq -r '.sets[].name'
}

# predicates for wait_until: instance NAME lists DM_NAME's biopool set in
# its last interval; lists none of DM_NAME's sets; streamed an event of it
bs_names() { bs_last_interval "$1" | grep -qx "$2:biopool"; }
bs_dropped() {
	if bs_last_interval "$1" | grep -q "^$2:"; then return 1; fi
}
bs_event_for() { grep '"type":"event"' "$(bs_out "$1")" | jq -r .name | grep -qx "$2:biopool"; }

# bpf_objects: "PROGRAMS MAPS" loaded in the kernel
bpf_objects() { echo "$(bpftool -j prog show | jq length) $(bpftool -j map show | jq length)"; }
bpf_objects_are() { [ "$(bpf_objects)" = "$1" ]; }

# bs_count_is NAME COUNT EXPECTED: biostat's COUNT is EXPECTED, exactly, or
# short of it by no more than the recursion misses that instance NAME
# reported (programs the kernel skipped: preemptible kernels, e.g. 7.2)
bs_count_is() {
	local misses
	misses=$(bs_summary "$1" | jq '.errors.recursion_misses // 0')
	[ "$2" -le "$3" ] && [ $(($3 - $2)) -le "$misses" ] && return 0
	echo "count $2, expected $3 (recursion misses $misses)" >&2
	return 1
}

