# shellcheck shell=bash disable=SC2154,SC2034 # sourced by bench/guest: its variables
# bench/vtime.bash: section V of bench/guest (sourced by it, uses its helpers
# and variables): the cost per allocation in virtual time, with an A/A
# control.  In a guest booted with tests/vm/run --icount (BENCH_ICOUNT=1)
# the clock counts guest instructions (1 ns = 1 instruction, idle skipped);
# elsewhere the same figures are wall-clock CPU time and noisy.
#   Each run: the mode's tracer started with its periodic reports every
#   1000 s (none falls in the window: the figure is the cost of the
#   programs per allocation, not of a report per second; section 2 has
#   them), 2 s of idle (under --icount idle time costs no host time: the
#   previous tracer's deferred frees and RCU callbacks run then, not in
#   the window), BENCH_IOS/4 I/Os of warm-up, then the fixed work (fio_fixed, BENCH_IOS
#   I/Os), the guest's busy time read around it: the time every CPU ran
#   tasks (/proc/schedstat's rq_cpu_time, nanoseconds, summed over CPUs);
#   where the kernel has no schedstat, elapsed time (bash's EPOCHREALTIME)
#   times CPUs minus /proc/stat's idle and iowait (10 ms ticks: coarse).
#   cost per allocation = (busy traced - busy untraced, same round) /
#   allocations, the allocations of the work counted in section S
#   (allocount: allocs per I/O times the I/Os fio completed).
#   Rounds: BENCH_VT_REPEAT, each mode once per round, the order rotated.
#   Resolution: the largest spread (max - min over the rounds) of the
#   untraced run's busy time per allocation and of the A/A pair's costs.
#   A/A: table mode against -e (no events flow in this job: the same
#   programs run per allocation); the run is invalid when their medians
#   differ by more than the resolution.  Each comparison "A <= k x B" is
#   met or missed only when A - k*B is outside +-t, t the largest of the
#   resolution, A's spread and k times B's spread (a noisy peer widens
#   its own comparisons, not the run's resolution), else "unresolved".
# Sets: vt_json (one JSON object).

# busy_snap: "elapsed_us idle_ticks run_ns" now (run_ns: -1 without
# /proc/schedstat)
busy_snap() {
	local l run=-1
	read -r -a l </proc/stat
	[ -r /proc/schedstat ] && run=$(awk '/^cpu[0-9]/ { t += $8 } END { printf "%.0f", NR ? t : -1 }' /proc/schedstat)
	echo "${EPOCHREALTIME/./} $((l[4] + l[5])) $run"
}

vtime() {
	local r i m s0 s1 modes_vt allocs hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	modes_vt=(none "${bs_modes[@]}" ${bt_modes[@]+"${bt_modes[@]}"} floor floor_all)
	[ "$quick" = 1 ] && modes_vt=(none table events)
	echo
	echo "Cost per allocation in virtual time: $vt_ios random 4k reads per run (one job, fixed seed), $vt_repeat rounds,"
	if [ -r /proc/schedstat ]; then
		echo "  busy time: /proc/schedstat (the time CPUs ran tasks, ns)"
	else
		echo "  busy time: elapsed minus /proc/stat idle (no /proc/schedstat: 10 ms ticks)"
	fi
	if [ "$icount" = 1 ]; then
		echo "  guest clock = instruction count (QEMU -icount shift=0,sleep=off, 1 vCPU): ns below are instructions"
	else
		echo "  NOT under instruction counting (bench/run --icount does it): wall-clock CPU, noisy"
	fi
	interval=1000
	for r in $(seq "$vt_repeat"); do
		for i in "${!modes_vt[@]}"; do
			m=${modes_vt[$(((i + r) % ${#modes_vt[@]}))]}
			start_mode "$m"
			[ "$icount" = 0 ] || sleep 2
			fio_fixed "$job_dev" $((vt_ios / 4 + 1)) >/dev/null
			s0=$(busy_snap)
			fio_fixed "$job_dev" "$vt_ios" >"$results/vt-ios-$m-$r"
			s1=$(busy_snap)
			stop_mode "$m"
			awk -v a="$s0" -v b="$s1" -v n="$ncpu" -v hz="$hz" 'BEGIN { split(a, x, " "); split(b, y, " ")
				if (x[3] >= 0 && y[3] > x[3]) printf "%.0f\n", y[3] - x[3]
				else printf "%.0f\n", (y[1] - x[1]) * 1000 * n - (y[2] - x[2]) * 1e9 / hz }' >"$results/vt-busy-$m-$r"
			echo "$s0 $s1" >>"$results/vt-snaps"
		done
	done
	interval=1
	allocs=$(awk -v a="$allocs_per_io" -v n="$(cat "$results/vt-ios-none-1")" 'BEGIN { printf "%.0f", a * n }')
	for m in "${modes_vt[@]:1}"; do
		for r in $(seq "$vt_repeat"); do
			awk -v t="$(cat "$results/vt-busy-$m-$r")" -v u="$(cat "$results/vt-busy-none-$r")" -v a="$allocs" \
				'BEGIN { printf "%.2f\n", (a > 0 ? (t - u) / a : 0) }'
		done >"$results/vt-cost-$m"
	done
	# resolution: the widest per-round spread of any mode (the untraced
	# run's busy time per allocation included)
	for r in $(seq "$vt_repeat"); do
		awk -v u="$(cat "$results/vt-busy-none-$r")" -v a="$allocs" 'BEGIN { printf "%.2f\n", (a > 0 ? u / a : 0) }'
	done >"$results/vt-cost-none"
	local res=0 med lo hi json_modes=() line
	declare -A spread=()
	for m in "${modes_vt[@]}"; do
		read -r med lo hi < <(stats <"$results/vt-cost-$m")
		spread[$m]=$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.2f", b - a }')
		case $m in none | table | events)
			res=$(awk -v r="$res" -v d="${spread[$m]}" 'BEGIN { printf "%.2f", (d > r ? d : r) }') ;;
		esac
		json_modes+=("\"$m\":{\"ns_per_alloc\":{\"median\":$med,\"min\":$lo,\"max\":$hi},\"busy_ns\":[$(cat "$results"/vt-busy-"$m"-[0-9]* | paste -sd,)]}")
		if [ "$m" = none ]; then
			printf '  %-10s busy %8.1f ns per allocation (%.1f..%.1f), the untraced work itself\n' "$m" "$med" "$lo" "$hi"
		else
			printf '  %-10s cost %8.1f ns per allocation (%.1f..%.1f)\n' "$m" "$med" "$lo" "$hi"
		fi
	done
	[ "$vt_repeat" -gt 1 ] || res=null
	med_of() { stats <"$results/vt-cost-$1" | cut -d' ' -f1; }
	local aa_diff aa_valid=null verdicts=() a b k d v t
	aa_diff=$(awk -v a="$(med_of table)" -v b="$(med_of events)" 'BEGIN { printf "%.2f", a - b }')
	if [ "$res" != null ]; then
		aa_valid=$(awk -v d="$aa_diff" -v r="$res" 'BEGIN { print ((d < 0 ? -d : d) <= r ? "true" : "false") }')
	fi
	printf '  resolution: %s ns per allocation (the widest spread over %d rounds of the untraced run, table and -e)\n' "$res" "$vt_repeat"
	printf '  A/A control, table - events (the same programs per allocation): %s ns: %s\n' "$aa_diff" \
		"$(case $aa_valid in true) echo "within the resolution: run valid" ;; false) echo "OUTSIDE the resolution: RUN INVALID" ;; *) echo "no resolution with one round" ;; esac)"
	for line in "table 1 bt_peer" "table 1 bt_allocs" "events 1 bt_full" "check 2 table" "table 1 floor_all"; do
		read -r a k b <<<"$line"
		if ! [ -s "$results/vt-cost-$a" ] || ! [ -s "$results/vt-cost-$b" ]; then continue; fi
		d=$(awk -v x="$(med_of "$a")" -v y="$(med_of "$b")" -v k="$k" 'BEGIN { printf "%.2f", x - k * y }')
		t=null v=unresolved
		if [ "$res" != null ]; then
			t=$(awk -v r="$res" -v k="$k" -v sa="${spread[$a]}" -v sb="${spread[$b]}" 'BEGIN {
				t = r; if (sa > t) t = sa; if (k * sb > t) t = k * sb; printf "%.2f", t }')
			# an invalid run resolves nothing
			[ "$aa_valid" = false ] ||
				v=$(awk -v d="$d" -v t="$t" 'BEGIN { print (d < -t ? "met" : (d > t ? "missed" : "unresolved")) }')
		fi
		printf '  %-6s <= %s x %-9s: difference %9s ns per allocation (resolved beyond +-%s): %s\n' "$a" "$k" "$b" "$d" "$t" "$v"
		verdicts+=("{\"a\":\"$a\",\"k\":$k,\"b\":\"$b\",\"diff_ns_per_alloc\":$d,\"threshold_ns\":$t,\"verdict\":\"$v\"}")
	done
	vt_json=$(printf '{"busy":"%s","icount":%s,"ios":%s,"allocs":%s,"rounds":%d,"modes":{%s},"resolution_ns_per_alloc":%s,"aa":{"a":"table","b":"events","diff_ns_per_alloc":%s,"valid":%s},"comparisons":[%s]}' \
		"$([ -r /proc/schedstat ] && echo schedstat || echo stat-idle)" \
		"$([ "$icount" = 1 ] && echo true || echo false)" "$(cat "$results/vt-ios-none-1")" "$allocs" "$vt_repeat" \
		"$(IFS=,; echo "${json_modes[*]}")" "$res" "$aa_diff" "$aa_valid" "$(IFS=,; echo "${verdicts[*]}")")
}
