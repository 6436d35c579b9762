// SPDX-License-Identifier: GPL-2.0
/*
 * held.bpf.c - rule 1 at each allocation: the bios a task holds from a
 * set, and a candidate when it allocates again from that set while it
 * holds one (the rest of the object: context.bpf.c).
 *
 * Cost per allocation: one lookup in tasksets (plus one in tgen inside
 * ->submit_bio) and one insert in held; when a task's count for a set
 * leaves 0, one read of its trampoline's frame and one lookup in firsts
 * (a stack is walked at a call site's first allocation from a set, and
 * at a candidate).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat_check.h"
#include "state.h"

/*
 * The held bio a candidate waits on: the most recent of the task's last
 * bios from the set that it still holds (in the current generation, if
 * allocated inside ->submit_bio), or 0.
 */
static __always_inline __u64 first_held(struct taskset *ts,
					 struct taskset_key *tk, __u32 gen)
{
	for (int i = 1; i <= BIOSTAT_CHECK_RECENT; i++) {
		__u64 b = ts->recent[(ts->next - i) & (BIOSTAT_CHECK_RECENT - 1)];
		struct held_bio *h;

		if (!b)
			continue;
		h = bpf_map_lookup_elem(&held, &b);
		if (h && h->tid == tk->tid && h->bs == tk->bs &&
		    (!h->inside || h->gen == gen))
			return b;
	}
	return 0;
}

/*
 * An allocation that may sleep while the task holds n bios from the set:
 * a candidate, pending on the held bio until that bio's fate is known.
 */
static __always_inline void candidate(void *ctx, struct taskset *ts,
				      struct taskset_key *tk, __u32 gen, __s32 n,
				      gfp_t gfp, struct block_device *bdev,
				      __u32 cdev, struct bio_set *bs, bool inside)
{
	struct biostat_check_pending *p, *c;
	__u64 first, id = bpf_get_current_pid_tgid();
	struct held_bio *h;
	__u32 zero = 0;

	first = first_held(ts, tk, gen);
	if (!first) {
		cerr_inc(BIOSTAT_CERR_NO_FIRST);
		return;
	}
	p = bpf_map_lookup_elem(&pending, &first);
	if (p) {
		/* another candidate on the same held bio */
		__sync_fetch_and_add(&p->v.count, 1);
		if ((__u32)n > p->v.held_max)
			p->v.held_max = n;
		return;
	}
	c = bpf_map_lookup_elem(&cand_scratch, &zero);
	if (!c)
		return;
	__builtin_memset(c, 0, sizeof(*c));
	c->k.bs = (__u64)bs;
	c->k.rule = BIOSTAT_RULE_HOLD;
	c->k.stack_first = ts->stack_first;
	c->k.stack_second = bpf_get_stackid(ctx, &cstacks, 0);
	if (c->k.stack_second < 0)
		cerr_inc(BIOSTAT_CERR_STACK);
	c->v.count = 1;
	c->v.first_ns = bpf_ktime_get_ns();
	c->v.pid = id >> 32;
	c->v.tid = (__u32)id;
	c->v.gfp_first = ts->gfp_first;
	c->v.gfp_second = gfp;
	c->v.held = n;
	c->v.held_max = n;
	/* a clone belongs to the device of the bio it copies */
	if (cdev) {
		c->v.dev = cdev;
		c->v.flags |= BIOSTAT_CHECK_CLONE;
	} else if (bdev) {
		c->v.dev = BPF_CORE_READ(bdev, bd_dev);
	}
	if (inside)
		c->v.flags |= BIOSTAT_CHECK_IN_SUBMIT;
	if (BPF_CORE_READ(bs, rescue_workqueue))
		c->v.flags |= BIOSTAT_CHECK_RESCUER;
	if (plugged())
		c->v.flags |= BIOSTAT_CHECK_PLUGGED;
	bpf_get_current_comm(c->v.comm, sizeof(c->v.comm));
	if (bpf_map_update_elem(&pending, &first, c, BPF_NOEXIST)) {
		cerr_inc(BIOSTAT_CERR_PENDING_FULL);
		return;
	}
	/*
	 * Another task may have released the held bio since first_held()
	 * looked, before the candidate was there for it to decide: then it
	 * was that task's (a hand-off), decided here by whoever takes the
	 * entry out first.
	 */
	h = bpf_map_lookup_elem(&held, &first);
	if ((!h || h->tid != tk->tid || h->bs != tk->bs) &&
	    !bpf_map_delete_elem(&pending, &first))
		commit(&handoffs, c);
}

/* A clone's sets of sources: its source's set, then the source's own. */
static __always_inline void record_ancestry(__u64 clone, struct bio *src)
{
	struct ancestry a = {}, *up;
	__u64 s = (__u64)src;

	a.pool[0] = (__u64)BPF_CORE_READ(src, bi_pool);
	up = bpf_map_lookup_elem(&anc, &s);
	if (up) {
		for (int i = 1; i < BIOSTAT_CHECK_ANC_DEPTH; i++)
			a.pool[i] = up->pool[i - 1];
	}
	if (bpf_map_update_elem(&anc, &clone, &a, BPF_ANY))
		cerr_inc(BIOSTAT_CERR_ANC_FULL);
}

SEC("fexit/bio_alloc_bioset")
int BPF_PROG(ck_alloc, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs, struct bio *ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct taskset_key tk = { .bs = (__u64)bs, .tid = tid };
	struct held_bio hb = { .bs = (__u64)bs, .tid = tid };
	struct taskset *ts, nts = { .stack_first = -1 };
	__u64 key = (__u64)ret, caller = 0;
	__u32 cdev = 0;
	bool inside;
	__s32 n;

	if (!enabled || !bs || in_irq_ctx())
		return 0;
	ts = bpf_map_lookup_elem(&tasksets, &tk);
	if (ts && ts->blocked) {
		/* the allocation returned: it was not blocked */
		bpf_map_delete_elem(&blocked, &tid);
		ts->blocked = 0;
	}
	{
		/* the clone call this allocation serves, used up either way */
		struct clone_hint *h0 = bpf_map_lookup_elem(&hint, &tid);

		if (h0 && h0->bs == (__u64)bs && ret) {
			hb.parent = h0->src;
			cdev = h0->dev;
			caller = h0->caller;
			record_ancestry(key, (struct bio *)h0->src);
		} else if (ret) {
			/* not a clone: no ancestry (a freed clone's may be here) */
			bpf_map_delete_elem(&anc, &key);
		}
		if (h0)
			bpf_map_delete_elem(&hint, &tid);
	}
	if (!ret)
		return 0;
	cerr_inc(BIOSTAT_CERR_ALLOCS);
	inside = in_submit();
	hb.inside = inside;
	if (inside)
		hb.gen = cur_gen(tid);

	if (ts && inside && ts->gen_in != hb.gen) {
		/* an earlier top-level submission ended: those are gone */
		ts->held_in = 0;
		ts->gen_in = hb.gen;
	}
	n = ts ? ts->held_out + ts->held_in : 0;

	if (n > 0 && !(gfp & GFP_DIRECT_RECLAIM))
		cerr_inc(BIOSTAT_CERR_NOSLEEP_HELD);
	if (n > 0 && (gfp & GFP_DIRECT_RECLAIM))
		candidate(ctx, ts, &tk, hb.gen, n, gfp, bdev, cdev, bs, inside);

	if (bpf_map_update_elem(&held, &key, &hb, BPF_ANY)) {
		cerr_inc(BIOSTAT_CERR_HELD_FULL);
		return 0;
	}
	if (!ts) {
		nts.gen_in = hb.gen;
		if (bpf_map_update_elem(&tasksets, &tk, &nts, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&tasksets, &tk)) {
			cerr_inc(BIOSTAT_CERR_TASKSET_FULL);
			bpf_map_delete_elem(&held, &key);
			return 0;
		}
		ts = bpf_map_lookup_elem(&tasksets, &tk);
		if (!ts) {
			bpf_map_delete_elem(&held, &key);
			return 0;
		}
	}
	if (n <= 0) {
		ts->gfp_first = gfp;
		ts->stack_first = first_stack(ctx, (__u64)bs, caller ? caller :
					      caller_of(ctx, 5, alloc_fn));
	}
	if (inside)
		__sync_fetch_and_add(&ts->held_in, 1);
	else
		__sync_fetch_and_add(&ts->held_out, 1);
	/* only this task writes its entry */
	ts->recent[ts->next & (BIOSTAT_CHECK_RECENT - 1)] = key;
	ts->next++;
	return 0;
}
