#!/usr/bin/env bats
# make stress: faults under load at length: injected allocation
# failures toggled at random on a 3-deep stack for two minutes, the lower
# device swapped to dm-error and dm-flakey, dm-delay below exhausted pools.
# Scenarios: reliability.bash.

load ../lib/init
load reliability

setup_file() { seed_setup_file; }
setup() { common_setup; }
teardown() { common_teardown; }

@test "faults: fail_alloc toggled at random on every layer of a 3-deep stack under fio verify for 120 s" {
	fault_toggle 120
}

@test "faults: the lower device swapped to dm-error under writers, then to dm-flakey failing writes" {
	fault_lower_swap flakey
}

@test "faults: dm-delay below exhausted pools, 16 MiB: one clone in flight, every one waits, data intact" {
	fault_delay_exhausted 16384 20
}
