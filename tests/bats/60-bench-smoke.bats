#!/usr/bin/env bats
# bats file_tags=part1
# make bench works: a few seconds of bench/guest --quick, no thresholds:
# every section ran and wrote the figures bench/table reads.

load ../lib/init

# bench/guest loads and unloads the modules itself
setup() { kmsg_mark; }
teardown() { common_teardown; }

@test "bench/guest --quick runs every part and prints well-formed results" {
	[ -x "$BATS_TEST_DIRNAME/../../build/bench/baseline" ] || skip "build/bench is not in the guest (run through tests/check)"
	run "$BATS_TEST_DIRNAME/../../bench/guest" --quick
	echo "$output"
	[ "$status" -eq 0 ]
	json=$(sed -n 's/^BENCH-JSON //p' <<<"$output")
	# every part measured something
	jq -e '.io[0].biopool.median > 0 and .io[0].linear.median > 0' <<<"$json"
	# structural figures for every biostat mode: runs, lookups, memory
	jq -e '.allocs_per_io > 0' <<<"$json"
	jq -e '.structure as $s | ["table","events","stats","check"] | all(. as $m | $s[$m].allocs > 0
		and $s[$m].ios > 0 and $s[$m].runs_per_alloc > 0 and $s[$m].runs_per_io > 0 and $s[$m].clone_allocs > 0
		and ($s[$m].task_storage_gets_per_alloc >= 0 or ($s[$m].task_storage_note | length > 0))
		and $s[$m].max_rss_kib > 0 and $s[$m].rss_after_start_kib > 0 and $s[$m].floor_max_rss_kib > 0)' <<<"$json"
	# virtual time (wall-clock CPU outside --icount): the A/A pair and a cost
	jq -e '.vtime.ios > 0 and .vtime.allocs > 0 and (.vtime.modes.table.ns_per_alloc.median | type) == "number"' <<<"$json"
	jq -e '(.vtime.aa.diff_ns_per_alloc | type) == "number" and (.vtime.modes.events.ns_per_alloc.median | type) == "number"' <<<"$json"
	# BPF bodies: the trivial programs minus the empty ones on their hooks
	jq -e '(.bpf_body.bl_alloc.body.median | type) == "number" and .bpf_body.bl_alloc.empty == "em_alloc"' <<<"$json"
	jq -e '[.bpf_progs[].run_cnt] | add > 0' <<<"$json"
	jq -e '[.bpf_baseline[].run_cnt] | add > 0' <<<"$json"
	# every biostat program that ran beside a baseline got a ratio (7.2's
	# bio_alloc_bioset() takes the slab directly: no fx_slab there)
	jq -e '.bpf_per_call.fx_alloc.ratio.median > 0' <<<"$json"
	jq -e '. as $j | [.bpf_progs[].name] as $ran | [.bpf_baseline[].name] as $bl
		| [["fx_alloc","bl_alloc"],["fx_slab","bl_slab"],["fx_clone","bl_clone"],["fe_submit","bl_submit"]]
		| map(select((.[0] as $p | $ran | index($p)) and (.[1] as $b | $bl | index($b))))
		| all(.[0] as $p | $j.bpf_per_call[$p].ratio.median > 0)' <<<"$json"
	jq -e '.biostat_self.max_rss_kib > 0 and .biostat_self.allocs > 0' <<<"$json"
	jq -e '.biostat_self.floor_max_rss_kib > 0 and .biostat_self.rss_after_start_kib > 0' <<<"$json"
	jq -e '.biostat_self.cpu_start_s > 0 and .bpf_task_lookup.ns_median > 0' <<<"$json"
	jq -e '.event_capacity.events.events > 0 and .event_capacity.events.punts > 0' <<<"$json"
	# the loss-free search made its (one, quick) paced trial
	jq -e '.event_capacity.loss_free.ring_events > 0 and (.event_capacity.loss_free.trials | length) == 1
		and .event_capacity.loss_free.trials[0].seconds > 0' <<<"$json"
}
