#!/usr/bin/env bats
# Host-side checks of the module's sources: no guest needed.

setup_file() {
	export TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export BUILD=$TOP/build
}

@test "checkpatch.pl (linux-source-6.12) is clean on kernel/dm-biopool" {
	"$TOP/scripts/fetch-checkpatch" "$BUILD/checkpatch"
	run perl "$BUILD/checkpatch/checkpatch.pl" --no-tree --strict --terse --file "$TOP"/kernel/dm-biopool/*.c
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *ERROR* ]]
	[[ "$output" != *WARNING* ]]
	[[ "$output" != *CHECK* ]]
}

# dkms_build KERNEL: dkms add + build against the fetched headers, in a
# private dkms and source tree (nothing under /var/lib/dkms or /usr/src)
dkms_build() {
	. "$BUILD/kernel/$1/kernel.env"
	local tmp=$BATS_TEST_TMPDIR ver
	ver=$(sed -n '/^[^#]/p' "$TOP/VERSION")
	mkdir -p "$tmp/src" "$tmp/tree"
	cp -r "$TOP/kernel/dm-biopool" "$tmp/src/dm-biopool-$ver"
	cp "$TOP/VERSION" "$tmp/src/dm-biopool-$ver/"
	sed -i "s/#MODULE_VERSION#/$ver/" "$tmp/src/dm-biopool-$ver/dkms.conf"
	dkms add -m dm-biopool -v "$ver" --sourcetree "$tmp/src" --dkmstree "$tmp/tree"
	run dkms build -m dm-biopool -v "$ver" -k "$KVER" --kernelsourcedir "$KHDR" \
		--sourcetree "$tmp/src" --dkmstree "$tmp/tree"
	echo "$output"
	cat "$tmp"/tree/dm-biopool/"$ver"/build/make.log 2>/dev/null || true
	[ "$status" -eq 0 ]
	ls "$tmp"/tree/dm-biopool/"$ver"/"$KVER"/*/module/dm-biopool.ko*
}

@test "dkms build succeeds against the Debian 6.1 headers" {
	dkms_build 6.1
}

@test "dkms build succeeds against the Debian 6.12 headers" {
	dkms_build 6.12
}
