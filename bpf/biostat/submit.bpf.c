// SPDX-License-Identifier: GPL-2.0
/*
 * submit.bpf.c - submission mode (the rest of the object: sets.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat.h"
#include "state.h"
#include "sets.h"

/*
 * ---- Submission mode: block_bio_queue (raw tracepoint) ----
 *
 * For kernels where neither fentry nor kprobes may be used (some locked
 * down hosts): every bio is seen once when it is submitted, and counted
 * for its bi_pool.  Only "allocs" is measured, and it means "submitted";
 * the tool says so.
 */
static __always_inline int bio_queue_enter(void *ctx, struct bio *bio)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct block_device *bdev;
	struct biostat_counters *c;
	__u64 bs = (__u64)BPF_CORE_READ(bio, bi_pool);
	__u32 dev = 0;

	if (!bs)
		return 0;
	if (calib_tid && (__u32)id == calib_tid) {
		if (!calib_bs)
			calib_bs = bs;
		return 0;
	}
	if (!enabled || !task_ok(id))
		return 0;
	bdev = BPF_CORE_READ(bio, bi_bdev);
	if (bdev)
		dev = BPF_CORE_READ(bdev, bd_dev);
	if (!dev_ok(dev))
		return 0;
	/* the stack is the submitter's, not the allocator's */
	c = counters_of(set_index(NULL, (struct bio_set *)bs, dev, false, false));
	if (c)
		__sync_fetch_and_add(&c->allocs, 1);
	return 0;
}

SEC("raw_tp/block_bio_queue")
int BPF_PROG(rt_queue, struct bio *bio)
{
	return bio_queue_enter(ctx, bio);
}
