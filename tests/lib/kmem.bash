# tests/lib/kmem.bash: the kernel log and kernel memory.  The log: a mark
# per test (kmsg_mark), what came after it, and the assertion that it holds
# no oops, BUG, warning or hung task (every teardown makes it).  Memory
# (the cloud kernels have no kmemleak; the debug kernel's is
# 90-kmemleak.bats): snapshots of what the kernel holds,
# settled first (mem_settle: what the kernel frees lazily freed now), and
# the assertion that a later snapshot is back within small bounds of an
# earlier one (assert_mem_returned); the memory hogs of the memory-pressure
# scenarios and the OOM killer kept off the test's own processes.  Loaded
# by init.bash.
# shellcheck shell=bash

# ---- kernel log --------------------------------------------------------------------

# kmsg_mark: remember where the kernel log stands (common_setup calls it)
kmsg_mark() {
	BP_KMSG_MARK="bats-mark-$$-$RANDOM"
	echo "$BP_KMSG_MARK ${BATS_TEST_NAME:-}" >/dev/kmsg
}

# kernel_log_since_mark: the kernel log after the last kmsg_mark; all of it
# when the mark has been overwritten (then everything left came after it)
kernel_log_since_mark() {
	local log
	log=$(dmesg)
	if grep -q "$BP_KMSG_MARK" <<<"$log"; then
		sed -n "/$BP_KMSG_MARK/,\$p" <<<"$log" | tail -n +2
	else
		printf '%s\n' "$log"
	fi
}

# kmsg_mark_seen: the last kmsg_mark is still in the kernel log.  A test that
# logs a lot (the ring buffer holds about 128 KiB) checks it before trusting
# kernel_log_since_mark and assert_kernel_log_clean, which otherwise see an
# empty log once the mark has been overwritten.
kmsg_mark_seen() {
	if ! dmesg | grep -q "$BP_KMSG_MARK"; then
		echo "the kernel log mark was overwritten: too much logged since" >&2
		return 1
	fi
}

# assert_kernel_log_clean: no oops, BUG, warning or hung task since the mark
assert_kernel_log_clean() {
	local bad
	bad=$(kernel_log_since_mark | grep -E "$KERNEL_ERRORS" || true)
	if [ -n "$bad" ]; then
		echo "kernel log has errors:" >&2
		echo "$bad" >&2
		return 1
	fi
}

# ---- memory accounting ----------------------------------------------------------------

# Bounds of mem_within (kB, objects); a test may set them before the check.
MEM_FREE_KB=${MEM_FREE_KB:-4096}           # free pages (with the per-CPU lists) may fall
MEM_UNRECLAIM_KB=${MEM_UNRECLAIM_KB:-1024} # SUnreclaim may grow
MEM_VMALLOC_KB=${MEM_VMALLOC_KB:-1024}     # VmallocUsed may grow
MEM_PERCPU_KB=${MEM_PERCPU_KB:-512}        # Percpu may grow (chunks stay populated)
MEM_OBJ_BYTES=${MEM_OBJ_BYTES:-32768}      # a cache may grow by this many bytes of objects,
MEM_OBJS=${MEM_OBJS:-128}                  # or this many objects when that is more
MEM_SETTLE_S=${MEM_SETTLE_S:-60}           # assert_mem_returned polls this long
MEM_KEPT=()                                # what assert_mem_kept saw exceeded

# mem_purge_lazy: what the kernel frees lazily, freed now.  Loading a module
# makes its text read-only (set_memory_ro: vm_unmap_aliases), which purges
# every lazily freed vmalloc area: process stacks (VMAP_STACK, one per fork),
# kvmalloc'd arrays of large mempools, ... (about 4000 areas pile up before
# the kernel purges them by itself); unloading it waits for an RCU grace
# period (free_module: synchronize_rcu).  dm-zero: no test uses it.
mem_purge_lazy() {
	if grep -q '^dm_zero ' /proc/modules; then
		echo "mem_purge_lazy: dm-zero is loaded: lazily freed vmalloc areas not purged" >&2
		return 0
	fi
	modprobe dm-zero && rmmod dm_zero
}

# mem_settle: the kernel's memory made comparable: dirty pages written,
# lazily freed vmalloc areas purged and a grace period waited for, page
# cache and reclaimable slab objects dropped (that runs every shrinker: on
# 6.12 it also empties the pools of purged vmap areas), then every slab
# cache's per-CPU slabs flushed and its empty slabs freed (shrink)
mem_settle() {
	sync
	mem_purge_lazy
	echo 3 >/proc/sys/vm/drop_caches
	# one process for all (a loop in bats pays its debug trap per command)
	tee /sys/kernel/slab/*/shrink <<<1 >/dev/null 2>&1 || true
}

# mem_snapshot FILE: what the kernel holds, settled (mem_settle), as sorted
# lines "key value [size]": FreePcp (free pages counted with the per-CPU
# page lists of /proc/zoneinfo, which otherwise swing MemFree by tens of
# MiB), SUnreclaim, VmallocUsed and Percpu in kB, then "slab:NAME ACTIVE
# OBJSIZE" for every slab cache in /proc/slabinfo (after the shrink,
# active objects are the allocated ones).  With DEBUG_OBJECTS (the debug
# kernel) also ODebugUsed, the tracking objects of live objects (timers,
# work items, RCU heads...; debugfs' debug_objects/stats), and ODebugKB,
# the slab pages of debug_objects_cache (those, its pool of free ones, and
# the slabs they are spread over).
# Not bounded: the kernel itself leaves tracking objects in use per device
# made and removed (6.12-debug, 100 dm-linear devices: pool_used +274; 100
# biopool devices: +311), so mem_within skips that cache, lets SUnreclaim
# grow by ODebugKB's growth, and leaves leaks there to kmemleak
# (tests/stress/90-kmemleak.bats); the figures are printed with the rest
mem_snapshot() {
	local odebug=/sys/kernel/debug/debug_objects/stats
	mem_settle
	{
		awk '$1 == "pages" && $2 == "free" { f += $3 } $1 == "count:" { p += $2 }
			END { print "FreePcp", (f + p) * 4 }' /proc/zoneinfo
		if [ -r "$odebug" ]; then
			awk -F: '{ gsub(/ /, "", $1) } $1 == "pool_used" { print "ODebugUsed", $2 + 0 }' "$odebug"
			# slabs of 4 KiB pages << order
			awk -v order="$(cat /sys/kernel/slab/debug_objects_cache/order 2>/dev/null || echo 0)" \
				'NR == 1 { print "ODebugKB", $1 * 4 * 2 ^ order }' /sys/kernel/slab/debug_objects_cache/slabs 2>/dev/null
		fi
		awk '$1 ~ /^(SUnreclaim|VmallocUsed|Percpu):$/ { print substr($1, 1, length($1) - 1), $2 }' /proc/meminfo
		awk 'NR > 2 { print "slab:" $1, $2, $4 }' /proc/slabinfo
	} | LC_ALL=C sort >"$1"
}

# mem_within BEFORE AFTER: between two mem_snapshot files, free memory fell
# by at most MEM_FREE_KB, SUnreclaim, VmallocUsed and Percpu grew by at most
# MEM_UNRECLAIM_KB, MEM_VMALLOC_KB and MEM_PERCPU_KB, no bio-* cache holds
# more objects than before (bio_set pools come and go with their devices)
# and no other cache more than MEM_OBJ_BYTES of objects or MEM_OBJS
# objects, whichever is more (a cache that is new counts from 0): one
# object left per table of a 5000-table run fails.  With DEBUG_OBJECTS,
# SUnreclaim's bound is raised by what debugobjects' slab grew (ODebugKB;
# see mem_snapshot).
# Says what is off on stderr.
mem_within() {
	local bad
	bad=$(LC_ALL=C join -a 2 -e 0 -o 0,1.2,2.2,2.3 "$1" "$2" | awk \
		-v free="$MEM_FREE_KB" -v unr="$MEM_UNRECLAIM_KB" -v vm="$MEM_VMALLOC_KB" \
		-v pcpu="$MEM_PERCPU_KB" -v bytes="$MEM_OBJ_BYTES" -v objs="$MEM_OBJS" '
		function kb(what, bound) { if ($3 - $2 > bound) print what " up by " $3 - $2 " kB, bound " bound }
		$1 == "FreePcp" { if ($2 - $3 > free) print "free memory down by " $2 - $3 " kB, bound " free; next }
		$1 == "ODebugKB" { if ($3 > $2) unr += $3 - $2; next }
		$1 == "ODebugUsed" { next }
		$1 == "slab:debug_objects_cache" { next }
		$1 == "SUnreclaim" { kb("SUnreclaim", unr); next }
		$1 == "VmallocUsed" { kb("VmallocUsed", vm); next }
		$1 == "Percpu" { kb("Percpu", pcpu); next }
		$1 ~ /^slab:bio-/ { if ($3 > $2) print substr($1, 6) ": " $2 " -> " $3 " objects, bound +0"; next }
		{
			b = int(bytes / ($4 > 0 ? $4 : 1))
			b = b > objs ? b : objs
			if ($3 - $2 > b) print substr($1, 6) ": " $2 " -> " $3 " objects of " $4 " bytes, bound +" b
		}')
	if [ -n "$bad" ]; then
		echo "memory not returned:" >&2
		echo "$bad" >&2
		return 1
	fi
}

# mem_changes BEFORE AFTER: what differs, one "  key before -> after" a line
mem_changes() {
	LC_ALL=C join -a 2 -e 0 -o 0,1.2,2.2 "$1" "$2" | awk '$2 != $3 { printf "  %s %s -> %s\n", $1, $2, $3 }'
}

# _mem_back BEFORE: a new snapshot (BEFORE.after) is within the bounds
_mem_back() { mem_snapshot "$1.after" && mem_within "$1" "$1.after" 2>/dev/null; }

# mem_grown BEFORE AFTER [N]: the N (default 6) keys that grew most, as
# "key +delta" (objects, or kB), for figures
mem_grown() {
	LC_ALL=C join -a 2 -e 0 -o 0,1.2,2.2 "$1" "$2" | awk '$1 != "FreePcp" && $3 > $2 { print $3 - $2, $1 }' |
		sort -rn | head -n "${3:-6}" | awk '{ printf "%s%s +%d", (NR > 1 ? ", " : ""), $2, $1 }'
}

# assert_mem_returned BEFORE: snapshot again (into BEFORE.after) until
# mem_within holds, for up to MEM_SETTLE_S seconds (objects freed after a
# grace period or by a worker take a while to go, longer under TCG on a
# busy host); prints the changes on stderr, and what is off when it fails
assert_mem_returned() {
	local before=$1
	wait_until "$MEM_SETTLE_S" _mem_back "$before" || true
	mem_changes "$before" "$before.after" >&2
	mem_within "$before" "$before.after"
}

# assert_mem_kept BEFORE PATTERN: the other way round, to test the check:
# assert_mem_returned fails at once (no polling) and one of the bounds it
# reports exceeded matches PATTERN (grep -E); those reports in MEM_KEPT[]
assert_mem_kept() {
	local out
	if out=$(MEM_SETTLE_S=0 assert_mem_returned "$1" 2>&1); then
		echo "the memory check passed:" >&2
		echo "$out" >&2
		return 1
	fi
	mapfile -t MEM_KEPT < <(grep ' bound ' <<<"$out")
	if ! printf '%s\n' "${MEM_KEPT[@]}" | grep -qE "$2"; then
		echo "no exceeded bound matches '$2':" >&2
		echo "$out" >&2
		return 1
	fi
}

# ---- memory pressure ------------------------------------------------------------------

# hog_start MIB: a hog holds MIB of anonymous memory: dd reads /dev/zero
# into one buffer of that size, then blocks for good writing it into a FIFO
# nobody reads; returns once the buffer is resident (or the OOM killer took it)
HOG_PIDS=()
hog_start() {
	local fifo=$BATS_TEST_TMPDIR/hog.fifo pid
	if [ ! -p "$fifo" ]; then
		mkfifo "$fifo"
		sleep 100000 <>"$fifo" 3>&- &
		HOG_PIDS+=("$!")
	fi
	choom -n 1000 -- dd if=/dev/zero of="$fifo" bs="${1}M" count=1 status=none 2>/dev/null 3>&- &
	pid=$!
	HOG_PIDS+=("$pid")
	wait_until 60 hog_settled "$pid" "$1"
}

# hog_settled PID MIB: its buffer is resident, or it is gone (OOM killer)
hog_settled() {
	local rss
	[ -d "/proc/$1" ] || return 0
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ "${rss:-0}" -ge $(($2 * 1024 * 95 / 100)) ]
}

# hog_stop: every hog killed and waited for
hog_stop() {
	local p
	{
		for p in "${HOG_PIDS[@]}"; do kill -9 "$p" || true; done
		for p in "${HOG_PIDS[@]}"; do wait "$p" || true; done
	} 2>/dev/null
	HOG_PIDS=()
}

mem_available_mib() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }
mem_free_mib() { awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo; }

# vmstat_sum PATTERN: the sum of the /proc/vmstat counters matching it
vmstat_sum() {
	awk -v p="$1" '$1 ~ p { s += $2 } END { print s + 0 }' /proc/vmstat
}

# low_wmark_mib: the sum of the zones' low watermarks; below it kswapd runs
low_wmark_mib() { awk '$1 == "low" { s += $2 } END { print int(s * 4 / 1024) }' /proc/zoneinfo; }

# protect_all: every process there is now (the guest's plumbing, bats and
# its helpers) out of the OOM killer's reach; what starts later is not
protect_all() {
	local f
	for f in /proc/[0-9]*/oom_score_adj; do echo -1000 >"$f" 2>/dev/null || true; done
}

# protect_ancestors: this process and all its ancestors out of the OOM
# killer's reach (the hogs are its first choice; without this, once they are
# gone it would take bats or the guest's command shell)
protect_ancestors() {
	local p=$BASHPID
	while [ "${p:-1}" -gt 1 ]; do
		echo -1000 >"/proc/$p/oom_score_adj" 2>/dev/null || true
		p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
	done
}
