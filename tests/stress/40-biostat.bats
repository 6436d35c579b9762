#!/usr/bin/env bats
# make stress: biostat (tools/biostat) robustness at length:
# table, events, check and plain modes at once through ten rounds of device
# creation and removal under new names, five module unloads and reloads, and
# 64 MiB through an exhausted 3-deep stack at full rate; and a soak of
# --prom through 2000 devices created and removed.  Scenarios:
# reliability.bash.

load ../lib/init
load reliability

setup_file() { seed_setup_file; }
setup() { common_setup; }
teardown() { common_teardown; }

@test "biostat robustness: 10 rounds of device churn, 5 module reloads, 64 MiB through an exhausted stack" {
	biostat_robustness 10 64
}

@test "biostat soak: --prom while 2000 devices are created, written and removed; RSS and map entries flat, no stale set, the live set's count exact" {
	biostat_soak "${SOAK_DEVICES:-2000}" 50
}
