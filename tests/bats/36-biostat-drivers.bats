#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# biostat on the kernel's own stacking drivers: md raid1 and
# raid5 (also degraded) made with mdadm, dm-crypt and dm-thin made with
# dmsetup alone, bcache (make-bcache) over RAM disks and over an exhausted
# 3-deep biopool stack, ext4 on dm-crypt on md raid1.  In each test, three
# tracers run over the same I/O: biostat -j, allocount (an independent
# count of bio_alloc_bioset() per bio_set, bench/allocount) and biostat
# check; and beside the drivers a biopool device with unsafe_alloc_order.
# Each test asserts: the data round-trips (sha256); every set that
# allocated is named by its owner as biostat.8 NAMES says, the same for a
# device whose first I/O was a read as for one whose first was a write;
# biostat's allocs equal the independent count for every set; bcache's
# sets show their rescuer; biostat check exits 3 with violations of the
# unsafe biopool set only (the drivers' hand-offs are listed, not counted).

load ../lib/init

setup() { common_setup; }
teardown() {
	biostat_kill_all
	stack_cleanup
	common_teardown
}

# names every test allows besides the drivers': the kernel's own sets, and
# the unsafe biopool device's
OTHER='fs_bio_set|blkdev_dio_pool|bpu:(biopool|dm-core(\((io|tio)\))?)'

# what biostat check may report besides the deliberate bug: the kernel's
# own sites that biostat.8 CHECK MODE explains ("Reports on the kernel's
# own code"), as "TYPE SET" regexes: md raid1 without a bitmap submits
# each mirror's write from its ->submit_bio, and md's flush a bio per
# member, from the array's set, which has no rescuer
KNOWN='no_rescuer md[0-9]+:raid(1|10)\(clone\)'
# discards: md raid0/raid10 build their chains inside ->submit_bio from
# fs_bio_set (md_submit_discard_bio), and every chain (blk_next_bio)
# allocates the next bio before it submits the previous one
DISCARDS='(no_rescuer|fs_bio_set|violation) fs_bio_set'
# plugged md raid1 writes: a split's remainder gets its r1_bio while the
# first one's mirror writes are parked on the plug (biostat.8, CHECK MODE:
# mempool; asserted plugged below)
PLUGGED_R1='mempool mempool of raid1_make_request \[raid1\]'

# tracers_start: allocount, biostat -j and biostat check -j, all running
tracers_start() {
	ac_start ac
	biostat_start bs -j
	biostat_start ck check -j
	biostat_started bs ck
}

# unsafe_start DEV: the deliberate bug (unsafe_alloc_order) on DEV, as bpu;
# unsafe_io: 1 MiB through it in 8-sector clones, read back
unsafe_start() {
	dm_create bpu "$(biopool_table "$1" pool_size:256 split_sectors:8 unsafe_alloc_order)"
}
unsafe_io() {
	random_file /tmp/unsafe 1
	write_direct /tmp/unsafe /dev/mapper/bpu 1M
	[ "$(sha_dev /dev/mapper/bpu 1)" = "$(sha_file /tmp/unsafe)" ]
}

# tracers_stop [REGEX]: every tracer stopped once the I/O is over (biostat
# check must have found the unsafe device's violations: exit 3); the
# counts compared, the check's findings shown and only bpu's violations
# allowed, with KNOWN's sites and REGEX's ("TYPE SET")
tracers_stop() {
	biostat_stop bs INT
	biostat_stop ac INT
	biostat_stop ck INT 3
	biostat_counts_match bs ac
	show_violations "$(biostat_out ck)"
	check_only_violations ck "violation bpu:biopool|$KNOWN${1:+|$1}"
}

# pool_commit: the thin pool's pending metadata commit done now (a
# thin-pool's status, unless --noflush, commits)
pool_commit() { dmsetup status pool >/dev/null; }

# rw_check DEV DATA MIB ORDER: MIB MiB of DATA written to DEV with O_DIRECT
# and read back, the read first (ORDER read: DEV's first I/O is a read of
# what it held) or the write first (write)
rw_check() {
	if [ "$4" = read ]; then sha_dev "$1" "$3" >/dev/null; fi
	write_direct "$2" "$1" 64k
	[ "$(sha_dev "$1" "$3")" = "$(sha_file "$2" "$3")" ]
}

@test "md raid1 and raid5, also degraded: sets named md:level(role), counts exact, no violation" {
	make_brd 8 13
	make_md md0 1 /dev/ram0 /dev/ram1
	make_md md1 1 /dev/ram2 /dev/ram3
	make_md md5 5 /dev/ram4 /dev/ram5 /dev/ram6
	make_md md6 5 /dev/ram7 /dev/ram8 /dev/ram9
	make_md md7 5 /dev/ram10 /dev/ram11 missing
	unsafe_start /dev/ram12
	random_file /tmp/data 4
	tracers_start
	rw_check /dev/md0 /tmp/data 4 read
	rw_check /dev/md1 /tmp/data 4 write
	rw_check /dev/md5 /tmp/data 4 read
	rw_check /dev/md6 /tmp/data 4 write
	rw_check /dev/md7 /tmp/data 4 read
	unsafe_io
	for m in md0 md1 md5 md6 md7; do wait_until 10 md_clean "$m"; done
	tracers_stop
	assert_names_match bs "(md0|md1):raid1\((clone|split|acct|sync)\)|(md5|md6|md7):raid5\((clone|split|acct|sync)\)|md[0-7]:queue-split|$OTHER"
	same_names bs md0 md1
	same_names bs md5 md6
	# the accounting set by its name, whether a read (6.1: an aligned
	# read's clone, without md_account_bio) or a write came first
	for m in md5 md6 md7; do biostat_names_allocated bs | grep -qx "$m:raid5(acct)"; done
	# degraded: the reads of the missing member go through the stripe cache
	biostat_names_allocated bs | grep -q '^md7:raid5('
}

@test "dm-crypt and dm-thin made with dmsetup: sets named dm:target, counts exact, hand-offs are no violation" {
	make_brd 16 5
	make_crypt cr0 /dev/ram0
	make_crypt cr1 /dev/ram1
	make_thin_pool pool /dev/ram2 /dev/ram3
	make_thin thin0 pool 0 8
	make_thin thin1 pool 1 8
	unsafe_start /dev/ram4
	random_file /tmp/data 4
	# the pool commits its metadata (dm-bufio writes) once a second when
	# dirty: a commit between two tracers' starts or stops counts in one
	# only (seen: 4 against 6); dmsetup status commits it now, outside
	pool_commit
	tracers_start
	rw_check /dev/mapper/cr0 /tmp/data 4 read
	rw_check /dev/mapper/cr1 /tmp/data 4 write
	rw_check /dev/mapper/thin0 /tmp/data 4 read
	rw_check /dev/mapper/thin1 /tmp/data 4 write
	unsafe_io
	pool_commit
	tracers_stop
	assert_names_match bs "(cr0|cr1):(crypt|dm-core\((io|tio)\))|(thin0|thin1|pool):(thin-pool|dm-core\((io|tio)\))|pool:(kcopyd|dm-io|[a-z-]+\(dm-io\))|$OTHER"
	same_names bs cr0 cr1
	same_names bs thin0 thin1
	biostat_names_allocated bs | grep -qx 'cr0:crypt'
}

@test "bcache over RAM disks: sets named after the bcache device, rescuer shown, counts exact" {
	local b0 b1
	make_brd 24 5
	b0=$(make_bcache /dev/ram0 /dev/ram1)
	b1=$(make_bcache /dev/ram2 /dev/ram3)
	unsafe_start /dev/ram4
	random_file /tmp/data 4
	tracers_start
	rw_check "/dev/$b0" /tmp/data 4 read
	rw_check "/dev/$b1" /tmp/data 4 write
	unsafe_io
	tracers_stop
	assert_names_match bs "($b0|$b1):(bcache(\((cache-set|detached)\))?|queue-split)|$OTHER"
	same_names bs "$b0" "$b1"
	# every bcache set has its rescuer (BIOSET_NEED_RESCUER)
	biostat_summary bs | jq -e '[.sets[] | select(.name | test(":bcache"))] |
		length > 0 and all(.rescuer)'
}

@test "bcache over an exhausted 3-deep biopool stack: named after bcache, punts on the stack, counts exact" {
	local b
	make_brd 24 3
	make_stack bp /dev/ram0 1:8 1:16 1:64
	b=$(make_bcache /dev/mapper/bp3 /dev/ram1)
	unsafe_start /dev/ram2
	random_file /tmp/data 8
	bp_fail_alloc always bp1 bp2 bp3
	tracers_start
	parallel_write /tmp/data "/dev/$b" 8
	[ "$(sha_dev "/dev/$b" 8)" = "$(sha_file /tmp/data)" ]
	unsafe_io
	assert_bp_idle bp3 bp2 bp1
	tracers_stop
	bp_fail_alloc 0 bp1 bp2 bp3
	assert_names_match bs "$b:(bcache(\((cache-set|detached)\))?|queue-split)|bp[123]:(biopool|dm-core(\((io|tio)\))?)|$OTHER"
	biostat_names_allocated bs | grep -qx "$b:bcache"
	biostat_summary bs | jq -e '[.sets[] | select(.name | test(":bcache"))] |
		length > 0 and all(.rescuer)'
	# the stack below was exhausted: its pools punted to their rescuers
	[ "$(biostat_summary bs | jq '[.sets[] | select(.name | test("^bp[123]:biopool$")) | .punts] | add')" -gt 0 ]
}

@test "ext4 on dm-crypt on md raid1: names, counts, data, no violation" {
	make_brd 32 3
	make_md md0 1 /dev/ram0 /dev/ram1
	make_crypt cr0 /dev/md0
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/mapper/cr0
	unsafe_start /dev/ram2
	random_file /tmp/data 8
	mkdir -p /mnt/fs
	tracers_start
	mount -t ext4 /dev/mapper/cr0 /mnt/fs
	cp /tmp/data /mnt/fs/data
	umount /mnt/fs
	mount -t ext4 /dev/mapper/cr0 /mnt/fs
	[ "$(sha_file /mnt/fs/data)" = "$(sha_file /tmp/data)" ]
	umount /mnt/fs
	unsafe_io
	wait_until 10 md_clean md0
	tracers_stop
	assert_names_match bs "md0:raid1\((clone|split|acct|sync)\)|md0:queue-split|cr0:(crypt|dm-core\((io|tio)\))|$OTHER"
	biostat_names_allocated bs | grep -qx 'cr0:crypt'
	biostat_names_allocated bs | grep -qx 'md0:raid1(clone)'
}

@test "md raid1 and raid10 with an internal bitmap under plugged writes; discards through md raid0, raid10 and loop: only what CHECK MODE explains" {
	local l=() i m
	for i in 0 1 2 3 4 5 6 7 8; do l+=("$(make_loop 32)"); done
	MD_BITMAP=internal make_md md1 1 "${l[0]}" "${l[1]}"
	MD_BITMAP=internal make_md md10 10 "${l[2]}" "${l[3]}" "${l[4]}" "${l[5]}"
	make_md md20 0 "${l[6]}" "${l[7]}"
	# the bitmap daemon clears bits time_base seconds after the writes,
	# from md's sync set: not while one tracer is stopped and not the other
	for m in md1 md10; do echo 3600 >"/sys/block/$m/md/bitmap/time_base"; done
	make_brd 8
	unsafe_start /dev/ram0
	random_file /tmp/data 8
	tracers_start
	# buffered writes go out through writeback's plug, O_DIRECT ones
	# through the aio plug: md parks the mirror writes on it
	dd if=/tmp/data of=/dev/md1 bs=1M conv=fsync status=none
	dd if=/tmp/data of=/dev/md10 bs=1M conv=fsync status=none
	fio --name=plugged --filename=/dev/md1 --size=8M --direct=1 --ioengine=libaio \
		--iodepth=16 --rw=randwrite --bs=64k --output=/dev/null
	[ "$(sha_dev /dev/md10 8)" = "$(sha_file /tmp/data)" ]
	# discard chains: the block layer's own (blk_next_bio) on a loop device,
	# and md's through md_submit_discard_bio() inside ->submit_bio
	for d in /dev/md20 /dev/md10 "${l[8]}"; do
		blkdiscard -o 0 -l 4M "$d" || echo "# (blkdiscard on $d: unsupported)" >&3
	done
	unsafe_io
	for m in md1 md10; do wait_until 10 md_clean "$m"; done
	tracers_stop "$DISCARDS|$PLUGGED_R1"
	# raid1's r1_bio mempool site, when seen, came with parked bios
	jq -e -s 'all(.[]; .type != "mempool" or .plugged)' "$(biostat_out ck)"
	# the plugged mirror writes were hand-offs from the plug, no violation
	jq -e -s '[.[] | select(.type == "handoff" and .plugged and
		(.name | test("^md1?[01]?:raid(1|10)")))] | length >= 1' "$(biostat_out ck)"
}
