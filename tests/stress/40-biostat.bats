#!/usr/bin/env bats
# make stress: biostat (tools/biostat) robustness at length (issue 7):
# table, events, check and plain modes at once through ten rounds of device
# creation and removal under new names, five module unloads and reloads, and
# 64 MiB through an exhausted 3-deep stack at full rate.  Scenario:
# reliability.bash.

load ../lib/init
load reliability

setup_file() { seed_setup_file; }
setup() { common_setup; }
teardown() { common_teardown; }

@test "biostat robustness: 10 rounds of device churn, 5 module reloads, 64 MiB through an exhausted stack" {
	biostat_robustness 10 64
}
