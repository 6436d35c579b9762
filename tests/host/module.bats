#!/usr/bin/env bats
# Host-side checks of the module's sources: no guest needed.  (dkms builds
# of the installed source for every kernel: install.bats.)

setup_file() {
	export TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export BUILD=$TOP/build
}

@test "checkpatch.pl (linux-source of the REFERENCE kernel, kernels.conf) is clean on kernel/dm-biopool" {
	"$TOP/scripts/fetch-checkpatch" "$BUILD/checkpatch"
	run perl "$BUILD/checkpatch/checkpatch.pl" --no-tree --strict --terse --file "$TOP"/kernel/dm-biopool/*.c
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *ERROR* ]]
	[[ "$output" != *WARNING* ]]
	[[ "$output" != *CHECK* ]]
}
