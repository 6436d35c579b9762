#!/usr/bin/env bats
# Reliability of dm-biopool, the quick seeded slice that `make
# check` runs on each kernel: fuzzed tables and messages, concurrent control
# operations under I/O, faults under load (injected allocation failures, the
# lower device failing or slow), and biostat (tools/biostat) running through
# all of it.  The full set, with the same scenarios at
# length, is tests/stress (make stress); memory pressure needs a guest with
# little memory of its own: tests/stress/lowmem (make stress runs it in one).
#
# The scenarios are in tests/stress/reliability.bash; the generators and the
# ioctl runners in tests/fuzz (build/fuzz/dmfuzz, built on the host and
# passed in: --include $PWD/build/fuzz).  SEED (default: the date) is printed
# first; replay a run with
#   tests/vm/run --kernel K --include $PWD --include $PWD/build/fuzz -- \
#       env SEED=N $PWD/tests/bats/run-suite ./40-reliability.bats

load ../lib/init
load ../stress/reliability
# shellcheck disable=SC2034 # read by the scenarios
REL_FIO=4

setup_file() { seed_setup_file; }
setup() { common_setup; }
teardown() { common_teardown; }

@test "memory check: 5000 files left in a tmpfs, or 10 biopool devices, fail it; gone, they pass it" {
	mem_check_trips 5000 10
}

@test "table fuzzing: 500 seeded tables, valid ones work and round-trip data, invalid ones are refused, nothing leaks" {
	table_fuzz 500
}

@test "message fuzzing: 300 seeded messages to a live 3-deep stack under fio verify" {
	message_fuzz 300 10
}

@test "concurrency: create/remove, suspend/resume, reload, message, status and fio verify in parallel for 6 s" {
	concurrency 6
}

@test "faults: fail_alloc toggled at random on every layer of a 3-deep stack under fio verify" {
	fault_toggle 3
}

@test "faults: the lower device swapped to dm-error under writers: errors propagate, nothing hangs or is lost" {
	fault_lower_swap
}

@test "faults: dm-delay below exhausted pools: one clone in flight, every one waits, data intact" {
	fault_delay_exhausted 512 20
}

@test "biostat robustness: table, events and check modes through device churn, a module reload and an exhausted stack" {
	biostat_robustness 2 4
}
