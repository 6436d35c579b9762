# tests/lib/init.bash: what every guest test file loads first
# (`load ../lib/init` from tests/bats, `load ../../lib/init` one level
# deeper).  It owns the rest of tests/lib: it loads the role files
#   devices.bash  block devices, dm devices and biopool stacks
#   io.bash       I/O and its verification (dd, fio, checksums)
#   biostat.bash  biostat in the background and its output
#   kmem.bash     the kernel log and memory accounting
#   vocabulary.bash  one vocabulary across biostat's views (also host tests)
#   options.bash  biostat's options and bad input refused (also host tests)
# and owns what belongs to no role: polling with a bound, waiting on
# background jobs, the seed of a seeded file, TAP figures, and the set-up
# and tear-down that the hooks of each .bats file call (the hooks
# themselves are defined in the .bats files).  Everything runs inside the
# QEMU guest (tests/vm/run), as root, without udev.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0
export DM_DISABLE_UDEV=1 # dmsetup makes /dev/mapper nodes itself

BP_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/devices.bash
. "$BP_LIB/devices.bash"
# shellcheck source=tests/lib/io.bash
. "$BP_LIB/io.bash"
# shellcheck source=tests/lib/biostat.bash
. "$BP_LIB/biostat.bash"
# shellcheck source=tests/lib/kernel-errors.bash
. "$BP_LIB/kernel-errors.bash"
# shellcheck source=tests/lib/kmem.bash
. "$BP_LIB/kmem.bash"
# shellcheck source=tests/lib/vocabulary.bash
. "$BP_LIB/vocabulary.bash"
# shellcheck source=tests/lib/options.bash
. "$BP_LIB/options.bash"

# ---- polling and background jobs ----------------------------------------------

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

# wait_pids NAME=PID...: wait for each; fail naming those that failed (a
# bare `wait` returns 0 whatever the jobs did)
wait_pids() {
	local p failed=
	for p in "$@"; do
		wait "${p#*=}" || failed="$failed ${p%%=*}"
	done
	if [ -n "$failed" ]; then
		echo "failed:$failed" >&2
		return 1
	fi
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# stop_jobs: the test's own background jobs get SIGTERM and up to 20 s
# each to go (for teardown, after the fault injection is released)
stop_jobs() {
	local pids p
	pids=$(jobs -p)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null || true
	for p in $pids; do wait_until 20 pid_gone "$p" || true; done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- seeded files and figures ----------------------------------------------------

# seed_setup_file: pick and print the seed (call from setup_file).  SEED
# (default: the date, in seconds) seeds the generators, fio and $RANDOM:
# the same seed replays the same tables, messages, fault choices and fio
# patterns (not the same interleavings).  tests/vm/run does not pass the
# environment into the guest: give it on the guest's command line, e.g.
#   tests/vm/run --kernel 6.1 --include $PWD --include $PWD/build/fuzz -- \
#       env SEED=123 $PWD/tests/bats/run-suite ./40-reliability.bats
seed_setup_file() {
	export SEED=${SEED:-$(date +%s)}
	echo "# seed=$SEED (replay: env SEED=$SEED on the guest command line)" >&3
}

# figure TEXT...: a result line in the TAP output, with the test's time
figure() {
	echo "# ${BATS_TEST_DESCRIPTION%%:*}: $* [$(($(date +%s) - ${BP_T0:-0})) s]" >&3
}

# phase TEXT: with REL_TRACE set, the time since the test began, on fd 3
phase() {
	[ -z "${REL_TRACE:-}" ] || echo "#   +$(($(now_ms) - ${BP_T0:-0} * 1000)) ms: $*" >&3
}

# ---- set-up and tear-down ------------------------------------------------------------

# common_setup: for the setup hook: the kernel log marked, the modules
# loaded, $RANDOM seeded from SEED when the file has one
common_setup() {
	kmsg_mark
	load_biopool
	[ -z "${SEED:-}" ] || RANDOM=$SEED
	BP_T0=$(date +%s)
}

# common_teardown: for the teardown hook, after a pass or a failure: the
# test's loops told to stop (the file "stop" in its temporary directory),
# biostat and memory hogs killed, fault injection released so that I/O
# waiting on an empty pool completes, background jobs stopped, every
# device removed; then the kernel log must be clean
common_teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	biostat_kill_all
	hog_stop
	bp_release_all
	stop_jobs
	dm_cleanup
	backing_cleanup
	assert_kernel_log_clean
	phase teardown
}
