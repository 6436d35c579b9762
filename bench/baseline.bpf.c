// SPDX-License-Identifier: GPL-2.0
/*
 * The cheapest useful fentry program: count calls in a per-CPU array.
 * bench/guest attaches it to the functions biostat traces and compares the
 * run time per call of biostat's programs with this one's (bpf_stats).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("fentry/bio_alloc_bioset")
int BPF_PROG(baseline)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&calls, &key);

	if (n)
		(*n)++;
	return 0;
}
