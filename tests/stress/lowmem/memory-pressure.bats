#!/usr/bin/env bats
# Memory pressure for real: in a guest with little memory of its
# own (make stress boots one of 256 MiB), processes eat anonymous memory
# until free memory sits at the kernel's low watermark, with no swap, while
# I/O runs through a stack with small pools and no injection: the I/O must
# complete and verify, and the kernel must have reclaimed meanwhile.  The
# RAM disk under the stack takes the memory available once biostat runs
# but 32 MiB (32..128 MiB).  Scenario: ../reliability.bash.  Not in the tests/stress/*.bats
# glob: it wants its own guest.

load ../../lib/init
load ../reliability

# the guest's plumbing out of the OOM killer's reach
setup_file() {
	seed_setup_file
	protect_all
}
setup() { common_setup; }
teardown() { common_teardown; }

@test "memory pressure: free memory held 16 MiB above the low watermark, a RAM disk of what memory is available through small pools verifies" {
	memory_pressure 16 auto
}

@test "memory pressure: memory eaten down to the low watermark or the first OOM kill, a RAM disk of what memory is available through small pools verifies" {
	memory_pressure 0 auto
}
