# shellcheck shell=bash disable=SC2154,SC2034 # sourced by bench/guest: its variables
# bench/structure.bash: section S of bench/guest (sourced by it, uses its
# helpers and variables): the structural figures, which have no noise.
# For each mode (biostat's and the peers'), on a fixed amount of work
# (fio_fixed, BENCH_IOS I/Os):
#   program runs per allocation and per I/O: the sum of bpf_stats run_cnt
#     over the tracer's own programs (those loaded by it: hook types
#     tracing, kprobe and raw_tracepoint; bpftrace's BEGIN and interval
#     probes are not on the I/O path) over the allocations counted by
#     bench/allocount (its per-set map, read by bpftool before and after)
#     and over the I/Os fio completed;
#   task-storage lookups per allocation: the run_cnt of empty fentry
#     programs on the kernel functions behind the bpf_task_storage_get()
#     helper (bench/baseline's ts_*), attached beside the tracer;
#   stack walks per allocation: the run_cnt of an empty fentry program on
#     get_perf_callchain(), behind every BPF stack helper (bench/baseline's
#     sw_walk), attached beside the tracer;
#   clone allocations: the run_cnt of bench/baseline's bl_clone (fentry on
#     bio_alloc_clone), so that runs per allocation can be held against
#     targets that differ for clones and other allocations;
#   memory: the tracer's VmRSS once attached, its VmHWM after the work,
#     beside the VmHWM of bench/baseline (the trivial CO-RE load) that
#     holds the ts_* counters.
# bpf_stats is on only around the work.  Sets: st_json (JSON members),
# allocs_per_io (table mode's: the job's, used by section V).

# ac_allocs: allocations counted so far by allocount (every set, every CPU)
ac_allocs() {
	bpftool map dump name per_set -j 2>/dev/null |
		jq '[.[] | .formatted.values[]?.value] | add // 0'
}
# run_cnts FILE: the bpf_stats of every program, as JSON, into FILE
run_cnts() { bpftool prog show -j >"$1"; }

structure() {
	local m ts_progs=() f ids1 a0 a1 ios rss hwm json
	for f in bpf_task_storage_get bpf_task_storage_get_recur; do
		grep -qw "$f" "$ksyms" || continue
		case $f in *_recur) ts_progs+=(ts_get_recur) ;; *) ts_progs+=(ts_get) ;; esac
	done
	# the counters: allocount, and the ts_* programs (baseline)
	"$bin/allocount" >"$results/ac.out" 2>"$results/ac.err" &
	ac_pid=$!
	"$bin/baseline" bl_clone ${ts_progs[@]+"${ts_progs[@]}"} >"$results/ts.out" 2>&1 &
	ts_pid=$!
	for _ in $(seq 600); do
		if grep -q attached "$results/ac.err" &&
			{ grep -q '^attached' "$results/ts.out" || ! kill -0 "$ts_pid" 2>/dev/null; }; then
			break
		fi
		sleep 0.05
	done
	grep -q attached "$results/ac.err" || { echo "bench/guest: allocount did not attach" >&2; cat "$results/ac.err" >&2; return 1; }
	ts_note=
	if [ ${#ts_progs[@]} -eq 0 ]; then
		ts_note="no bpf_task_storage_get* in /proc/kallsyms"
	fi
	if ! grep -q '^attached' "$results/ts.out"; then
		ts_note="fentry on bpf_task_storage_get* refused: $(head -c 200 "$results/ts.out" | tr '\n"' ' ')"
		kill "$ts_pid" 2>/dev/null || true # it may have ended: set -e
		wait "$ts_pid" 2>/dev/null || true
		"$bin/baseline" bl_clone >"$results/ts.out" 2>&1 &
		ts_pid=$!
		for _ in $(seq 600); do
			grep -q '^attached' "$results/ts.out" && break
			sleep 0.05
		done
	fi
	# the stack-walk counter, on its own: the rest works without it
	sw_note=
	"$bin/baseline" sw_walk >"$results/sw.out" 2>&1 &
	sw_pid=$!
	for _ in $(seq 600); do
		grep -q '^attached' "$results/sw.out" && break
		kill -0 "$sw_pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^attached' "$results/sw.out"; then
		sw_note="fentry on get_perf_callchain refused: $(head -c 200 "$results/sw.out" | tr '\n"' ' ')"
		kill "$sw_pid" 2>/dev/null || true # it may have ended: set -e
		wait "$sw_pid" 2>/dev/null || true
		sw_pid=
	fi
	floor_hwm=null
	[ -n "$ts_pid" ] && floor_hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$ts_pid/status")
	echo
	echo "Structural figures: $vt_ios random 4k reads (one job, fixed seed) on biopool over null_blk, each mode once"
	[ -n "$ts_note" ] && echo "  (task-storage lookups not counted: $ts_note)"
	[ -n "$sw_note" ] && echo "  (stack walks not counted: $sw_note)"
	printf '  %-10s %9s %8s %9s %9s %9s %9s  %s\n' MODE ALLOCS IOS RUNS/ALLOC RUNS/IO TS/ALLOC SW/ALLOC "MEMORY (KiB): peak, resident after start-up; floor peak $floor_hwm"
	st_json=() allocs_per_io=
	local st_modes=("${bs_modes[@]}" ${bt_modes[@]+"${bt_modes[@]}"} floor floor_all)
	[ "$quick" = 1 ] && st_modes=("${bs_modes[@]}" ${bt_modes[@]+"${bt_modes[@]}"}) # the floors: full runs only
	for m in "${st_modes[@]}"; do
		ids1=$(bpftool prog show -j | jq -c '[.[].id]')
		start_mode "$m"
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$tracer_pid/status")
		run_cnts "$results/st0.json"
		a0=$(ac_allocs)
		sysctl -q -w kernel.bpf_stats_enabled=1
		ios=$(fio_fixed "$job_dev" "$vt_ios")
		sysctl -q -w kernel.bpf_stats_enabled=0
		a1=$(ac_allocs)
		run_cnts "$results/st1.json"
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$tracer_pid/status")
		stop_mode "$m"
		json=$(jq -n -c --argjson ids1 "$ids1" --slurpfile p0 "$results/st0.json" --slurpfile p1 "$results/st1.json" \
			--argjson allocs "$((a1 - a0))" --argjson ios "$ios" --argjson rss "$rss" --argjson hwm "$hwm" \
			--argjson floor "$floor_hwm" --arg note "$ts_note" --arg swnote "$sw_note" --arg mode "$m" '
			def cnt($p): $p | map({key: (.id | tostring), value: (.run_cnt // 0)}) | from_entries;
			(cnt($p0[0])) as $c0 | (cnt($p1[0])) as $c1
			| [$p1[0][] | select(.type == "tracing" or .type == "kprobe" or .type == "raw_tracepoint")
			   | select(.id as $i | $ids1 | index($i) | not)
			   | {name, type, run_cnt: ($c1[.id | tostring] - ($c0[.id | tostring] // 0))}] as $progs
			| ([$progs[].run_cnt] | add // 0) as $runs
			| ([$p1[0][] | select(.name == "ts_get" or .name == "ts_get_recur")
			   | $c1[.id | tostring] - ($c0[.id | tostring] // 0)] | add) as $ts
			| ([$p1[0][] | select(.name == "sw_walk" and (.id as $i | $ids1 | index($i)))
			   | $c1[.id | tostring] - ($c0[.id | tostring] // 0)] | add) as $sw
			| ([$p1[0][] | select(.name == "bl_clone" and (.id as $i | $ids1 | index($i)))
			   | $c1[.id | tostring] - ($c0[.id | tostring] // 0)] | add) as $clones
			| {mode: $mode, allocs: $allocs, clone_allocs: $clones, ios: $ios, prog_runs: $runs,
			   runs_per_alloc: (if $allocs > 0 then $runs / $allocs else null end),
			   runs_per_io: (if $ios > 0 then $runs / $ios else null end),
			   task_storage_gets: (if $note == "" then $ts else null end),
			   task_storage_gets_per_alloc: (if $note == "" and $allocs > 0 then $ts / $allocs else null end),
			   task_storage_note: (if $note == "" then null else $note end),
			   stack_walks: (if $swnote == "" then $sw else null end),
			   stack_walks_per_alloc: (if $swnote == "" and $allocs > 0 then $sw / $allocs else null end),
			   stack_walks_note: (if $swnote == "" then null else $swnote end),
			   progs: $progs, rss_after_start_kib: $rss, max_rss_kib: $hwm, floor_max_rss_kib: $floor,
			   max_rss_over_floor: (if $floor != null and $floor > 0 then ($hwm / $floor * 100 | round / 100) else null end)}')
		jq -r '"  \(.mode | .[0:10] | . + " " * (10 - length)) \(.allocs | tostring | " " * (9 - length) + .) \(.ios | tostring | " " * (8 - length) + .) \((.runs_per_alloc // 0) * 100 | round / 100 | tostring | " " * (10 - length) + .) \((.runs_per_io // 0) * 100 | round / 100 | tostring | " " * (9 - length) + .) \(if .task_storage_gets_per_alloc == null then "n/a" else (.task_storage_gets_per_alloc * 100 | round / 100 | tostring) end | " " * (9 - length) + .) \(if .stack_walks_per_alloc == null then "n/a" else (.stack_walks_per_alloc * 1000 | round / 1000 | tostring) end | " " * (9 - length) + .)  \(.max_rss_kib), \(.rss_after_start_kib)\(if .max_rss_over_floor then " (peak \(.max_rss_over_floor) x floor)" else "" end)"' <<<"$json"
		[ "$m" = table ] && allocs_per_io=$(jq '.allocs / .ios' <<<"$json")
		st_json+=("\"$m\":$json")
	done
	[ -z "$ts_pid" ] || { kill -INT "$ts_pid"; wait "$ts_pid" || true; }
	[ -z "$sw_pid" ] || { kill -INT "$sw_pid"; wait "$sw_pid" || true; }
	kill -INT "$ac_pid"
	wait "$ac_pid" || true
	jq -r -s 'map(.recursion_misses // empty) | add // 0 | "  (allocount recursion misses: \(.))"' <"$results/ac.out" 2>/dev/null || true
}
