#!/usr/bin/env bats
# make stress: control operations racing with each other and with I/O
# for three minutes: create/remove with I/O and the refusals that
# must happen, suspend/resume under fio, reload, messages, status, and fio
# verify on a device that nobody touches.  Scenario: reliability.bash.

load ../lib/init
load reliability

setup_file() { seed_setup_file; }
setup() { common_setup; }
teardown() { common_teardown; }

@test "concurrency: create/remove, suspend/resume, reload, message, status and fio verify in parallel for 180 s" {
	concurrency 180
}
