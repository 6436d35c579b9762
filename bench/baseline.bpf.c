// SPDX-License-Identifier: GPL-2.0
/*
 * The references biostat's cost is measured against (bench/guest):
 *  bl_*  the cheapest useful fentry program, once on each function biostat
 *        traces in the fast path: count calls in a per-CPU array.  Attached
 *        together with biostat, both see the same calls and their run time
 *        per call (bpf_stats) compares.
 *  bl_task  the per-task state every exact count needs: one task-storage
 *        lookup on bio_alloc_bioset (biostat's allocation programs make
 *        one each), counting into it; attached with the bl_* above.
 *  em_*  empty programs (the floor: what any trampoline on the function
 *        costs), one on each function biostat hooks, entry or exit as
 *        biostat uses it; bench/guest attaches em_alloc alone, and all that
 *        the kernel has.
 *  ts_*  task-storage lookup counters (below).
 *  sw_walk  the stack-walk counter (below).
 * bench/baseline loads only the programs it is asked for.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static __always_inline int count(__u32 key)
{
	__u64 *n = bpf_map_lookup_elem(&calls, &key);

	if (n)
		(*n)++;
	return 0;
}

/* A program named prog on function fn, counting into slot key */
#define BASELINE(fn, prog, key)		\
	SEC("fentry/" #fn)		\
	int BPF_PROG(prog)		\
	{				\
		return count(key);	\
	}

BASELINE(bio_alloc_bioset, bl_alloc, 0)
BASELINE(mempool_alloc_slab, bl_slab, 1)
BASELINE(bio_alloc_clone, bl_clone, 2)
BASELINE(submit_bio_noacct, bl_submit, 3)

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_calls SEC(".maps");

SEC("fentry/bio_alloc_bioset")
int BPF_PROG(bl_task)
{
	__u64 *n = bpf_task_storage_get(&task_calls, bpf_get_current_task_btf(), 0,
					BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (n)
		(*n)++;
	return 0;
}

/* An empty program named prog at kind ("fentry" or "fexit") of fn */
#define EMPTY(kind, fn, prog)		\
	SEC(kind "/" #fn)		\
	int BPF_PROG(prog)		\
	{				\
		return 0;		\
	}

EMPTY("fentry", bio_alloc_bioset, em_alloc)
EMPTY("fexit", bio_alloc_bioset, em_alloc_exit)
EMPTY("fentry", bio_alloc_clone, em_clone)
EMPTY("fexit", bio_alloc_clone, em_clone_exit)
EMPTY("fexit", mempool_alloc_slab, em_slab)
EMPTY("fentry", io_schedule_timeout, em_sched)
EMPTY("fentry", punt_bios_to_rescuer, em_punt)
EMPTY("fentry", queue_work_on, em_queue)
EMPTY("fentry", bio_alloc_rescue, em_rescue)
EMPTY("fexit", bio_alloc_rescue, em_rescue_exit)
EMPTY("fentry", submit_bio_noacct, em_submit)
EMPTY("fexit", bioset_exit, em_exit)

/*
 * ts_*: empty programs on the kernel functions behind the
 * bpf_task_storage_get() helper (the _recur one is what tracing programs
 * call from 6.2 on): attached beside a tracer, their bpf_stats run_cnt
 * is the number of task-storage lookups the tracer's programs made.
 */
EMPTY("fentry", bpf_task_storage_get, ts_get)
EMPTY("fentry", bpf_task_storage_get_recur, ts_get_recur)

/*
 * sw_walk: an empty program on get_perf_callchain(), behind every BPF
 * stack helper (bpf_get_stackid, bpf_get_stack): its run_cnt is the
 * number of kernel stacks the tracer walked.
 */
EMPTY("fentry", get_perf_callchain, sw_walk)
