#!/usr/bin/env bats
# make stress: fuzzed tables and messages at length.  The quick
# slice of the same is tests/bats/40-reliability.bats; the scenarios are in
# reliability.bash, the generators and runners in tests/fuzz.  SEED (default:
# the date) is printed first; replaying a run: seed_setup_file in
# tests/lib/init.bash.

load ../lib/init
load reliability

setup_file() { seed_setup_file; }
setup() { common_setup; }
teardown() { common_teardown; }

@test "table fuzzing: 5000 seeded tables through the ioctl runner" {
	table_fuzz 5000
}

@test "table fuzzing: 200 seeded tables through dmsetup create, dd and remove" {
	table_fuzz_dmsetup 200
}

@test "message fuzzing: 3000 seeded messages to a live 3-deep stack under fio verify" {
	message_fuzz 3000 5
}
