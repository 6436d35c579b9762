// SPDX-License-Identifier: GPL-2.0
/*
 * The cheapest useful fentry program, once on each function biostat traces
 * in the fast path: count calls in a per-CPU array.  bench/guest runs it
 * attached at the same time as biostat, so that both see the same calls,
 * and compares their run time per call (bpf_stats).
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
