#!/usr/bin/env bats
# make stress, last in a guest of the debug kernel (tests/check's debug
# set): kmemleak's verdict on everything the guest did, once dm-biopool is
# removed.  Kernels without kmemleak (the cloud ones) skip it and say so.

load ../lib/init

KMEMLEAK=/sys/kernel/debug/kmemleak

setup() {
	kmsg_mark
	[ -e "$KMEMLEAK" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
}

teardown() { assert_kernel_log_clean; }

@test "kmemleak: no object allocated in this guest is left unreferenced once dm-biopool is removed" {
	local leaks
	[ -e "$KMEMLEAK" ] || skip "no kmemleak in this kernel (CONFIG_DEBUG_KMEMLEAK: the debug kernel, 6.12-debug)"
	dm_cleanup
	backing_cleanup
	if lsmod | grep -q '^dm_biopool '; then
		modprobe -r dm_biopool
	fi
	if lsmod | grep -q '^dm_biopool '; then
		echo "dm_biopool is still loaded after modprobe -r: $(lsmod | grep '^dm_biopool ')" >&2
		return 1
	fi
	# kmemleak reports an object only once it is 5 s old (its minimum
	# age, not a synchronisation) and unreferenced at a scan; a second
	# scan settles what the first found gray (kmemleak.rst's advice)
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	leaks=$(cat "$KMEMLEAK")
	if [ -n "$leaks" ]; then
		echo "kmemleak: $(grep -c '^unreferenced object' <<<"$leaks") unreferenced objects:" >&2
		head -n 80 <<<"$leaks" >&2
		return 1
	fi
	echo "# kmemleak: nothing unreferenced" >&3
}
