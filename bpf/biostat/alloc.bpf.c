// SPDX-License-Identifier: GPL-2.0
/*
 * alloc.bpf.c - allocations from a bio_set: allocs, fails, reserve use and
 * waits, counted exactly (the rest of the object: sets.bpf.c).
 *
 * The common case, a bio served by the slab at the first try, runs two
 * trampolines: bio_alloc_bioset (fentry + fexit) and the fexit of
 * mempool_alloc_slab, plus bio_alloc_clone's fentry for clones.
 * mempool_alloc() itself is not traced: it is called for every mempool
 * in the system, and everything below follows from the slab calls.  No
 * hash map is looked up per allocation: counters live in a per-CPU array at
 * the set's index (handed out at its first sighting, kept in "sets"), and
 * each task caches its last (set, device, index) triples.
 *
 * allocs   bio_alloc_bioset() returning non-NULL.  bio_alloc_clone() and
 *          bio_split() allocate through it, so nothing is counted twice.
 * fails    bio_alloc_bioset() returning NULL.
 * reserve  mempool_alloc(&bs->bio_pool) calls pool->alloc first and only
 *          takes a reserve element after it returned NULL; it returns
 *          either the last pool->alloc() result or a reserve element.
 *          For a bio_set, pool->alloc is mempool_alloc_slab(gfp,
 *          bs->bio_slab), or a wrapper that calls it (dm-biopool's);
 *          bvec pools use other caches, so pool_data tells the bio pool
 *          apart.  fexit of mempool_alloc_slab records, in the
 *          bio_alloc_bioset() frame on top of the task, the result of the
 *          last call on bs->bio_slab.  At bio_alloc_bioset()'s exit, a bio
 *          with that last result NULL came from the reserve.  A bio without
 *          any such call came from the set's per-CPU bio cache (bs->cache)
 *          or, on 7.x, from bio_alloc_bioset()'s own kmem_cache_alloc() on
 *          bs->bio_slab, which it tries before the mempool.  Each
 *          allocation is counted at most once, however many
 *          mempool_alloc() calls it made.
 * waits    mempool_alloc() calls io_schedule_timeout() only after
 *          pool->alloc failed on an empty reserve, with a sleeping gfp.
 *          A sleep counts when the frame's last bio_slab call failed and
 *          no slab call on another cache (the bvec pool, after the bio
 *          pool) came since, and the kernel stack shows the sleep in
 *          mempool_alloc() (7.x: in mempool_alloc_from_pool(), called by
 *          it) rather than inside the slab call.  The first such sleep
 *          starts the wait, bio_alloc_bioset()'s exit ends it: one wait
 *          per allocation, however often it slept.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat.h"
#include "state.h"
#include "sets.h"

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0;

	/* Unrolled: the verifier of 6.1 must see a bounded shape. */
	if (v >= (1ULL << 32)) { v >>= 32; r += 32; }
	if (v >= (1ULL << 16)) { v >>= 16; r += 16; }
	if (v >= (1ULL << 8))  { v >>= 8;  r += 8; }
	if (v >= (1ULL << 4))  { v >>= 4;  r += 4; }
	if (v >= (1ULL << 2))  { v >>= 2;  r += 2; }
	if (v >= (1ULL << 1))  { r += 1; }
	return r;
}

/* ---- bio_alloc_clone(bdev, bio_src, gfp, bs) entry ---- */

/* dev: of src->bi_bdev, else of bdev (a clone belongs to the device of
 * the bio it copies), read by the caller */
static __always_inline int clone_enter(__u32 dev, struct bio_set *bs)
{
	struct task_state *st;

	if (!enabled || !task_match())
		return 0;
	st = task_get(true);
	if (!st)
		return 0;
	st->clone_bs = (__u64)bs;
	st->clone_dev = dev;
	return 0;
}

SEC("fentry/bio_alloc_clone")
int BPF_PROG(fe_clone, struct block_device *bdev, struct bio *src, gfp_t gfp,
	     struct bio_set *bs)
{
	struct block_device *sbdev = src->bi_bdev ? src->bi_bdev : bdev;

	return clone_enter(sbdev ? sbdev->bd_dev : 0, bs);
}

SEC("kprobe/bio_alloc_clone")
int BPF_KPROBE(kp_clone, struct block_device *bdev, struct bio *src,
	       gfp_t gfp, struct bio_set *bs)
{
	struct block_device *sbdev = BPF_CORE_READ(src, bi_bdev);

	if (!sbdev)
		sbdev = bdev;
	return clone_enter(sbdev ? BPF_CORE_READ(sbdev, bd_dev) : 0, bs);
}

/* ---- bio_alloc_bioset(bdev, nr_vecs, opf, gfp, bs) ---- */

/*
 * bdev_dev (bdev->bd_dev or 0) and slab (bs->bio_slab) are read by the
 * caller: in fentry programs, plain BTF loads rather than helper calls.
 */
static __always_inline int alloc_enter(__u32 bdev_dev, __u32 gfp,
				       struct bio_set *bs, __u64 slab, __u64 sp)
{
	struct task_state *st;
	struct frame *f;
	bool clone = false;
	__u32 dev = 0, d;

	if (calib_tid && (__u32)bpf_get_current_pid_tgid() == calib_tid) {
		if (!calib_bs)
			calib_bs = (__u64)bs;
		return 0;
	}
	if (!enabled || !task_match())
		return 0;
	st = task_get(false);
	if (st && st->clone_bs == (__u64)bs) {
		dev = st->clone_dev;
		clone = true;
		st->clone_bs = 0;
	} else {
		dev = bdev_dev;
	}
	if (!dev_ok(dev))
		return 0;
	if (!st)
		st = task_get(true);
	if (!st)
		return 0;
	d = st->depth;
	/* frames at this depth or deeper are calls whose exit was missed */
	for (int i = 0; i < MAX_DEPTH && sp && d > 0 && d <= MAX_DEPTH; i++) {
		__u64 fsp = st->f[(d - 1) & (MAX_DEPTH - 1)].sp;

		if (!fsp || fsp > sp)
			break;
		d--;
	}
	if (d >= MAX_DEPTH) {
		st->depth = d;
		err_inc(BIOSTAT_ERR_DEPTH);
		return 0;
	}
	f = &st->f[d & (MAX_DEPTH - 1)];
	f->sp = sp;
	f->bs = (__u64)bs;
	f->slab = slab;
	f->slab_ret = 0;
	f->wait_start = 0;
	f->stackid = -1;
	f->kslab_data = 0;
	f->dev = dev;
	f->gfp = gfp;
	f->slab_seen = 0;
	f->past_pool = 0;
	f->clone = clone;
	f->kslab_nest = 0;
	st->depth = d + 1;
	return 0;
}

/*
 * The last allocation from bs->bio_slab failed: at the exit, the bio came
 * from the mempool reserve (see the header comment; no slab call at all:
 * the per-CPU bio cache, or (7.x) bio_alloc_bioset()'s own slab call
 * before the mempool).
 */
static __always_inline bool from_reserve(struct frame *f)
{
	return f->slab_seen && !f->slab_ret;
}

/* The bio pool's mempool_alloc() has not (yet) given an element: its slab
 * call failed and no call on another cache (the bvec pool) came since. */
static __always_inline bool pool_pending(struct frame *f)
{
	return !f->past_pool && from_reserve(f);
}

static __always_inline void wait_done(struct biostat_counters *c,
				      struct frame *f)
{
	struct biostat_stack_key sk;
	__u64 dur, one = 1, *v, gen = ivl_gen;
	__u32 slot;

	dur = bpf_ktime_get_ns() - f->wait_start;
	cnt_add(&c->waits, 1);
	cnt_add(&c->wait_ns, dur);
	if (dur > c->wait_max_ns)
		c->wait_max_ns = dur;
	/* per-CPU values: only this CPU writes them */
	if (c->ivl_gen[gen & 1] != gen) {
		c->ivl_gen[gen & 1] = gen;
		c->ivl_max_ns[gen & 1] = dur;
	} else if (dur > c->ivl_max_ns[gen & 1]) {
		c->ivl_max_ns[gen & 1] = dur;
	}
	slot = log2_slot(dur / 1000);
	if (slot >= BIOSTAT_HIST_SLOTS)
		slot = BIOSTAT_HIST_SLOTS - 1;
	cnt_add(&c->hist[slot], 1);
	/* -m: counted above, shown below only from min_wait_ns on */
	if (dur < min_wait_ns)
		return;
	if (want_stacks && f->stackid >= 0) {
		sk.bs = f->bs;
		sk.stackid = f->stackid;
		v = bpf_map_lookup_elem(&wait_stacks, &sk);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			bpf_map_update_elem(&wait_stacks, &sk, &one, BPF_NOEXIST);
	}
	emit(BIOSTAT_EV_WAIT, f->bs, f->dev, dur, 0, f->gfp, f->stackid);
}

/* bs == 0: unknown (kretprobe), trust the top frame; sp as for the entry. */
static __always_inline int alloc_exit(void *ctx, __u64 bs, void *ret, __u64 sp)
{
	struct biostat_counters *c;
	struct task_state *st;
	struct frame *f;
	__u32 d, i;
	__s32 idx = -1;

	st = task_get(false);
	if (!st)
		return 0;
	d = st->depth;
	if (d > MAX_DEPTH)
		d = 0;
	if (sp) {
		/* drop deeper frames whose exit was missed; then the frame
		 * must be this call's (its entry may have been missed) */
		for (i = 0; i < MAX_DEPTH; i++) {
			if (d == 0 || st->f[(d - 1) & (MAX_DEPTH - 1)].sp >= sp)
				break;
			d--;
		}
		if (d == 0 || st->f[(d - 1) & (MAX_DEPTH - 1)].sp != sp) {
			st->depth = d;
			return 0;
		}
	} else if (bs) {
		/* Drop frames whose exit we never saw. */
		for (i = 0; i < MAX_DEPTH; i++) {
			if (d == 0 || st->f[(d - 1) & (MAX_DEPTH - 1)].bs == bs)
				break;
			d--;
		}
	}
	if (d == 0) {
		st->depth = 0;
		return 0;
	}
	/* keep the mask: clang folds it into the range check above, which
	 * 6.1's verifier does not carry over to d (kr_alloc refused) */
	barrier_var(d);
	f = &st->f[(d - 1) & (MAX_DEPTH - 1)];
	bs = f->bs;
	st->depth = d - 1;

	if (st->sc_gen != sets_gen) {
		/* a set went away: its address and index may be reused */
		for (i = 0; i < SET_CACHE; i++)
			st->sc[i].bs = 0;
		st->sc_gen = sets_gen;
	}
	for (i = 0; i < SET_CACHE; i++) {
		if (st->sc[i].bs == bs && st->sc[i].dev == f->dev) {
			idx = st->sc[i].idx;
			break;
		}
	}
	if (i == SET_CACHE) {
		idx = set_index(ctx, (struct bio_set *)bs, f->dev, f->clone);
		if (idx < 0)
			return 0;
		i = st->sc_next++ & (SET_CACHE - 1);
		st->sc[i].bs = bs;
		st->sc[i].dev = f->dev;
		st->sc[i].idx = idx;
	}
	c = counters_of(idx);
	if (!c)
		return 0;
	if (ret) {
		cnt_add(&c->allocs, 1);
		if (from_reserve(f))
			cnt_add(&c->reserve, 1);
	} else {
		cnt_add(&c->fails, 1);
		emit(BIOSTAT_EV_FAIL, bs, f->dev, 0, 0, f->gfp, -1);
	}
	if (f->wait_start)
		wait_done(c, f);
	return 0;
}

SEC("fentry/bio_alloc_bioset")
int BPF_PROG(fe_alloc, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs)
{
	/* fentry arguments are BTF pointers: plain loads, no helper calls */
	return alloc_enter(bdev ? bdev->bd_dev : 0, gfp, bs, (__u64)bs->bio_slab,
			   (__u64)ctx);
}

SEC("fexit/bio_alloc_bioset")
int BPF_PROG(fx_alloc, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs, struct bio *ret)
{
	return alloc_exit(ctx, (__u64)bs, ret, (__u64)ctx);
}

SEC("kprobe/bio_alloc_bioset")
int BPF_KPROBE(kp_alloc, struct block_device *bdev, unsigned short nr_vecs,
	       unsigned int opf, gfp_t gfp, struct bio_set *bs)
{
	return alloc_enter(bdev ? BPF_CORE_READ(bdev, bd_dev) : 0, gfp, bs,
			   (__u64)BPF_CORE_READ(bs, bio_slab), 0);
}

SEC("kretprobe/bio_alloc_bioset")
int BPF_KRETPROBE(kr_alloc, struct bio *ret)
{
	return alloc_exit(ctx, 0, ret, 0);
}

/* ---- mempool_alloc_slab(gfp, pool_data) exit: pool->alloc of bio pools ---- */

static __always_inline int slab_exit(__u64 cache, void *ret)
{
	struct frame *f = current_frame();

	if (!f)
		return 0;
	if (cache == f->slab) {
		f->slab_seen = 1;
		f->slab_ret = (__u64)ret;
		f->past_pool = 0;
	} else {
		/* another pool (the bvec pool after the bio pool, or one
		 * nested in this slab call, which our own exit follows) */
		f->past_pool = 1;
	}
	return 0;
}

SEC("fexit/mempool_alloc_slab")
int BPF_PROG(fx_slab, gfp_t gfp, void *pool_data, void *ret)
{
	return slab_exit((__u64)pool_data, ret);
}

/*
 * A kretprobe does not see the arguments: the entry probe keeps pool_data
 * of the outermost slab call in progress in the frame.
 */
SEC("kprobe/mempool_alloc_slab")
int BPF_KPROBE(kp_slab, gfp_t gfp, void *pool_data)
{
	struct frame *f = current_frame();

	if (!f)
		return 0;
	if (!f->kslab_nest)
		f->kslab_data = (__u64)pool_data;
	if (f->kslab_nest < 255)
		f->kslab_nest++;
	return 0;
}

SEC("kretprobe/mempool_alloc_slab")
int BPF_KRETPROBE(kr_slab, void *ret)
{
	struct frame *f = current_frame();

	if (!f || !f->kslab_nest)
		return 0;
	if (--f->kslab_nest)
		return 0;	/* a nested call: its cache is not ours */
	return slab_exit(f->kslab_data, ret);
}

/* ---- io_schedule_timeout(): mempool_alloc() sleeping on pool->wait ---- */

#define SLEEP_STACK 12

/*
 * The sleep is mempool_alloc()'s own, not one inside the slab call (direct
 * reclaim): the innermost of the two functions on the stack is
 * mempool_alloc.  Without the addresses, trust the frame's state.
 */
static __always_inline bool sleep_in_mempool(void *ctx)
{
	__u64 ips[SLEEP_STACK];
	long n;
	int i;

	if (!mp_lo)
		return true;
	n = bpf_get_stack(ctx, ips, sizeof(ips), 0);
	if (n <= 0)
		return true;
	for (i = 0; i < SLEEP_STACK; i++) {
		if (i * 8 >= n)
			break;
		if (ips[i] >= slab_lo && ips[i] < slab_hi)
			return false;
		if (ips[i] >= mp_lo && ips[i] < mp_hi)
			return true;
	}
	return false;
}

static __always_inline int sched_enter(void *ctx)
{
	struct frame *f = current_frame();

	if (!f || f->wait_start || !pool_pending(f) || !sleep_in_mempool(ctx))
		return 0;
	f->wait_start = bpf_ktime_get_ns();
	if (want_stacks)
		f->stackid = bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

SEC("fentry/io_schedule_timeout")
int BPF_PROG(fe_sched, long timeout)
{
	return sched_enter(ctx);
}

SEC("kprobe/io_schedule_timeout")
int BPF_KPROBE(kp_sched)
{
	return sched_enter(ctx);
}
