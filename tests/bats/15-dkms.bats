#!/usr/bin/env bats
# The module as DKMS builds it from the installed source: tests/host/install.bats
# runs make install, then dkms build on /usr/src/dm-biopool-<version> of that
# install for every fetched kernel (scripts/dkms-build), into
# build/dkms/<kernel>/dm-biopool.ko; tests/check brings that directory into
# the guest.  Here that very module replaces the one of make module for a
# basic create/write/verify/remove; the usual one is loaded back at the end.

load ../lib/init

setup_file() {
	local top
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export DKMS_KO=$top/build/dkms/${VM_KERNEL:-none}/dm-biopool.ko
	export VERSION_WANTED
	VERSION_WANTED=$(sed -n '/^[^#]/p' "$top/VERSION")
}

setup() {
	common_setup
	if [ ! -f "$DKMS_KO" ]; then
		echo "no DKMS-built module at $DKMS_KO: tests/host/install.bats builds it," \
			"tests/check includes build/dkms/<kernel> in the guest" >&2
		return 1
	fi
	rmmod dm_biopool
	insmod "$DKMS_KO"
}

teardown() { common_teardown; }

teardown_file() {
	if grep -q '^dm_biopool ' /proc/modules; then rmmod dm_biopool; fi
	modprobe dm-biopool
}

# hex FILE: FILE's bytes as one line of hex
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# bats test_tags=portability
@test "the DKMS-built module is the one loaded, with the project's version" {
	local note usual
	[ "$(cat /sys/module/dm_biopool/version)" = "$VERSION_WANTED" ]
	[ "$(cat /sys/module/dm_biopool/srcversion)" = "$(modinfo -F srcversion "$DKMS_KO")" ]
	# the loaded module's build-id note is in the DKMS-built file, not in
	# make module's (same source, other build: another build id)
	note=$(hex /sys/module/dm_biopool/notes/.note.gnu.build-id)
	[ "${#note}" -ge 72 ]
	hex "$DKMS_KO" | grep -q "$note"
	usual=$(modinfo -n dm-biopool)
	[ -f "$usual" ] && [ "$usual" != "$DKMS_KO" ]
	run grep -q "$note" <(hex "$usual")
	[ "$status" -eq 1 ]
	run dmsetup targets
	[[ "$output" == *biopool* ]]
}

# bats test_tags=portability
@test "DKMS-built module: create, write, verify, remove" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	random_file /tmp/data 16
	write_direct /tmp/data /dev/mapper/bp0 64k 0 8M
	write_direct /tmp/data /dev/mapper/bp0 4k 8M 8M
	assert_holds "$(sha_file /tmp/data)" 16 /dev/mapper/bp0 /dev/ram0
	dmsetup remove bp0
	[ ! -e /dev/mapper/bp0 ]
	rmmod dm_biopool
	run grep -q '^dm_biopool ' /proc/modules
	[ "$status" -ne 0 ]
}
