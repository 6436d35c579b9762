#!/usr/bin/env bats
# The walking skeleton: the module loads, devices come and go, data survives.

load ../lib/init

setup() { common_setup; }
teardown() { common_teardown; }

# bats test_tags=portability
@test "module loads and dmsetup targets lists biopool" {
	run dmsetup targets
	[ "$status" -eq 0 ]
	[[ "$output" == *biopool* ]]
	grep -q '^dm_biopool ' /proc/modules
}

@test "create and remove a biopool device over brd" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	[ -b /dev/mapper/bp0 ]
	[ "$(sectors /dev/mapper/bp0)" -eq "$(sectors /dev/ram0)" ]
	dmsetup remove bp0
	[ ! -e /dev/mapper/bp0 ]
	run dmsetup info bp0
	[ "$status" -ne 0 ]
}

@test "64 MiB of random data written with O_DIRECT in several block sizes reads back intact" {
	make_brd 64
	dm_create bp0 "$(biopool_table /dev/ram0)"
	random_file /tmp/data 64
	# four 16 MiB regions, each written with a different block size
	write_direct /tmp/data /dev/mapper/bp0 4k 0 16M
	write_direct /tmp/data /dev/mapper/bp0 64k 16M 16M
	write_direct /tmp/data /dev/mapper/bp0 1M 32M 16M
	write_direct /tmp/data /dev/mapper/bp0 12k 48M 15M
	write_direct /tmp/data /dev/mapper/bp0 512 63M 1M
	# and the lower device holds exactly the same bytes
	assert_holds "$(sha_file /tmp/data)" 64 /dev/mapper/bp0 /dev/ram0
}

@test "a non-zero offset maps onto the right sectors of the lower device" {
	make_brd 16
	dm_create bp0 "0 8192 biopool /dev/ram0 2048"
	random_file /tmp/data 4
	write_direct /tmp/data /dev/mapper/bp0 64k
	[ "$(sha_dev /dev/ram0 4 1)" = "$(sha_file /tmp/data)" ]
}

@test "a 2-deep stack (biopool on biopool) keeps data intact" {
	make_brd 64
	dm_create bp0 "$(biopool_table /dev/ram0)"
	dm_create bp1 "$(biopool_table /dev/mapper/bp0)"
	random_file /tmp/data 64
	write_direct /tmp/data /dev/mapper/bp1 1M 0 32M
	write_direct /tmp/data /dev/mapper/bp1 4k 32M 32M
	assert_holds "$(sha_file /tmp/data)" 64 /dev/mapper/bp1 /dev/ram0
}

@test "dmsetup table round-trips through dmsetup load" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	table=$(dmsetup table bp0)
	dm_create bp1 "$table"
	[ "$(dmsetup table bp1)" = "$table" ]
	# the device number form is what dm prints; it must be accepted too
	dmsetup suspend bp0
	dmsetup load bp0 --table "$table"
	dmsetup resume bp0
	[ "$(dmsetup table bp0)" = "$table" ]
}

@test "bad tables are rejected with an error and leave nothing behind" {
	make_brd 16
	n=$(sectors /dev/ram0)
	bad=(
		"0 $n biopool"
		"0 $n biopool /dev/ram0"
		"0 $n biopool /dev/nonexistent 0"
		"0 $n biopool /dev/ram0 x"
		"0 $n biopool /dev/ram0 -1"
		"0 $n biopool /dev/ram0 1x"
		"0 $n biopool /dev/ram0 $n"
		"0 $n biopool /dev/ram0 99999999999999999999999"
		"0 $n biopool /dev/ram0 0 junk"
		"0 $n biopool /dev/ram0 0 1 junk"
		"0 $n biopool /dev/ram0 0 0 extra"
	)
	assert_tables_refused "${bad[@]}"
	[ -z "$(find /dev/mapper -mindepth 1 ! -name control)" ]
	kernel_log_since_mark | grep -q 'biopool'
}

@test "rmmod fails while a device exists and succeeds after removal" {
	make_brd 16
	dm_create bp0 "$(biopool_table /dev/ram0)"
	run rmmod dm_biopool
	[ "$status" -ne 0 ]
	grep -q '^dm_biopool ' /proc/modules
	dmsetup remove bp0
	rmmod dm_biopool
	run grep -q '^dm_biopool ' /proc/modules
	[ "$status" -ne 0 ]
	modprobe dm-biopool
}
