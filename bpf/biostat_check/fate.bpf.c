// SPDX-License-Identifier: GPL-2.0
/*
 * fate.bpf.c - rule 1 decided: a held bio's fate (submitted, queued,
 * put, or a clone of it on its way) decides its candidates (the rest of
 * the object: context.bpf.c).
 *
 * A candidate is decided when its held bio's fate is known: when the bio
 * is submitted (submit_bio_noacct, or it enters or merges into a
 * request), a clone of it is, or it is put (bio_put), by the task that
 * allocated it: a violation ("violations" map); by another task: a
 * hand-off ("handoffs" map): the allocating task did not hold it, it had
 * passed it to a workqueue or a kthread's list.  A candidate made while
 * the task had bios parked on its plug is a hand-off whoever submits it
 * (plugged()).  A candidate still pending at the end is undecided.
 *
 * A bio stops being held when
 *  - it is passed to submit_bio_noacct() by any task (the owner is found
 *    through the held entry, so a hand-over to another task releases it),
 *    or first queued by any path (block_bio_queue: 7.x's submit_bio());
 *  - it enters a request or merges into one (block_getrq,
 *    block_bio_backmerge, block_bio_frontmerge): blk-mq's own splits go
 *    there without submit_bio_noacct();
 *  - bio_put() is called on it;
 *  - a clone made from it (bio_alloc_clone) is submitted or enters a
 *    request: its completion then follows the clone's, not the task;
 *  - it was allocated inside ->submit_bio and the top-level submission
 *    that contained it has returned (the task's generation changes as
 *    its next top-level submission starts: it no longer counts as held,
 *    but its entry stays until its fate is seen).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat_check.h"
#include "state.h"

/*
 * The fate of a held bio is known, its candidates are decided: the task
 * that allocated it (owner) submits or frees it now, a violation; any
 * other task, a hand-off.
 */
static __always_inline void decide(__u64 key, __u32 owner)
{
	struct biostat_check_pending *p = bpf_map_lookup_elem(&pending, &key), c;

	if (!p)
		return;
	/* copied, then taken out: only the one that takes it out commits */
	__builtin_memcpy(&c, p, sizeof(c));
	if (bpf_map_delete_elem(&pending, &key))
		return;
	/*
	 * A free in interrupt context is no task's: not the owner's.  A
	 * candidate made while the task had bios parked on its plug was not
	 * held either (see plugged()).
	 */
	if ((__u32)bpf_get_current_pid_tgid() == owner && !in_irq_ctx() &&
	    !(c.v.flags & BIOSTAT_CHECK_PLUGGED))
		commit(&violations, &c);
	else
		commit(&handoffs, &c);
}

/*
 * The bio is no longer held by the task that allocated it.  Returns the
 * bio it was cloned from, 0 if none or not held.
 */
static __always_inline __u64 release_one(__u64 key)
{
	struct held_bio *hb = bpf_map_lookup_elem(&held, &key);
	struct taskset_key tk = {};
	struct taskset *ts;
	__u64 parent;

	if (!hb)
		return 0;
	decide(key, hb->tid);
	parent = hb->parent;
	tk.bs = hb->bs;
	tk.tid = hb->tid;
	ts = bpf_map_lookup_elem(&tasksets, &tk);
	if (ts) {
		if (!hb->inside) {
			if (ts->held_out > 0)
				__sync_fetch_and_add(&ts->held_out, -1);
		} else if (hb->gen == ts->gen_in && ts->held_in > 0) {
			__sync_fetch_and_add(&ts->held_in, -1);
		}
	}
	bpf_map_delete_elem(&held, &key);
	return parent;
}

/*
 * A bio was submitted, or entered a request: release it, and the bio it
 * was cloned from.  A bio whose clone is on its way no longer depends on
 * the task: it completes when the clone does (dm core's per-io clone,
 * which a target like dm-biopool never submits itself, ends this way).
 */
static __always_inline void release(struct bio *bio)
{
	__u64 parent = release_one((__u64)bio);

	if (parent)
		release_one(parent);
}

SEC("fentry/submit_bio_noacct")
int BPF_PROG(ck_submit, struct bio *bio)
{
	if (!enabled)
		return 0;
	if (!in_submit())
		new_generation();
	release(bio);
	return 0;
}

/*
 * Every bio's first submission, whichever way it came: 7.x's
 * submit_bio() reaches the queue without passing submit_bio_noacct()
 * (blkdev_dio_pool's and jbd2's bios were seen only at their free).
 */
SEC("raw_tp/block_bio_queue")
int BPF_PROG(ck_queue, struct bio *bio)
{
	if (enabled)
		release(bio);
	return 0;
}

SEC("fentry/bio_put")
int BPF_PROG(ck_put, struct bio *bio)
{
	__u64 key = (__u64)bio;

	if (!enabled)
		return 0;
	/* short: bio_put() runs in interrupts too, and a run that finds this
	 * program busy on its CPU is skipped (a recursion miss) */
	release_one(key);
	return 0;
}

SEC("raw_tp/block_getrq")
int BPF_PROG(ck_getrq, struct bio *bio)
{
	if (enabled)
		release(bio);
	return 0;
}

SEC("raw_tp/block_bio_backmerge")
int BPF_PROG(ck_backmerge, struct bio *bio)
{
	if (enabled)
		release(bio);
	return 0;
}

SEC("raw_tp/block_bio_frontmerge")
int BPF_PROG(ck_frontmerge, struct bio *bio)
{
	if (enabled)
		release(bio);
	return 0;
}
