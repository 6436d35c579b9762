// SPDX-License-Identifier: GPL-2.0
/*
 * allocount.bpf.c - an independent count of bio allocations per bio_set,
 * for the tests that check biostat's ALLOCS (tests/bats/36-*.bats): one
 * fexit program on bio_alloc_bioset() that adds one to the bio_set's
 * entry when a bio was returned.  Shares no code and no state with
 * bpf/biostat/ (no frames, no per-task state, no slab calls).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} per_set SEC(".maps");

SEC("fexit/bio_alloc_bioset")
int BPF_PROG(ac_alloc, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs, struct bio *ret)
{
	__u64 key = (__u64)bs, one = 1, *n;

	if (!ret || !bs)
		return 0;
	n = bpf_map_lookup_elem(&per_set, &key);
	if (n)
		*n += 1;	/* per-CPU: no other writer */
	else
		bpf_map_update_elem(&per_set, &key, &one, BPF_NOEXIST);
	return 0;
}
