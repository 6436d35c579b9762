// SPDX-License-Identifier: GPL-2.0
/*
 * alloc.bpf.c - allocations from a bio_set: allocs, fails, reserve use and
 * waits, counted exactly (the rest of the object: sets.bpf.c).
 *
 * The fast path, a bio served without a failed slab call, runs one program
 * per allocation: bio_alloc_bioset's exit, which has every argument and
 * the result.  It finds the set's index in this CPU's set cache and adds
 * to this CPU's counters: no hash lookup, no per-task state.  On 6.x, whose
 * bio_alloc_bioset() calls mempool_alloc() every time, the exit of
 * mempool_alloc_slab runs too and returns after one load; a clone adds
 * bio_alloc_clone's exit, which names its set after the device of the bio
 * it copies (otherwise a cache hit).  mempool_alloc() itself is not traced:
 * it is called for every mempool in the system, and everything below
 * follows from the slab calls.
 *
 * allocs   bio_alloc_bioset() returning non-NULL.  bio_alloc_clone() and
 *          bio_split() allocate through it, so nothing is counted twice.
 * fails    bio_alloc_bioset() returning NULL.
 * reserve  mempool_alloc(&bs->bio_pool) calls pool->alloc first and only
 *          takes a reserve element after it returned NULL; it returns
 *          either the last pool->alloc() result or a reserve element.
 *          For a bio_set, pool->alloc is mempool_alloc_slab(gfp,
 *          bs->bio_slab), or a wrapper that calls it (dm-biopool's).  A
 *          failed slab call made inside bio_alloc_bioset() (by its bio or
 *          bvec pool) leaves a record on the task (struct slab_rec) that
 *          later calls on the same cache update, and the allocation's exit
 *          takes: a bio whose own bio_slab's record says the last call
 *          failed came from the reserve.  A bio with no record came from
 *          the slab, the set's per-CPU bio cache (bs->cache) or, on 7.x,
 *          from bio_alloc_bioset()'s own kmem_cache_alloc() on
 *          bs->bio_slab, which it tries before the mempool.  Each
 *          allocation is counted at most once, however many mempool_alloc()
 *          calls it made.  The records are the only per-task state of the
 *          path: slab_pending counts the tasks that hold some, and while it
 *          is 0 the slab exit, the sleep entry and the allocation exit do
 *          not look for them.
 * waits    mempool_alloc() calls io_schedule_timeout() only after
 *          pool->alloc failed on an empty reserve, with a sleeping gfp.
 *          A sleep counts when the task's last slab call failed (none on
 *          another cache came since), the kernel stack shows the sleep in
 *          mempool_alloc() (7.x: in mempool_alloc_from_pool(), called by
 *          it) rather than inside the slab call, and the failed cache is the
 *          allocation's bio_slab (a bvec pool's sleep is not counted).  The
 *          first such sleep starts the wait, the exit of the allocation
 *          ends it: one wait per allocation, however often it slept.
 *
 * Kprobe mode does the same with entry probes on bio_alloc_bioset and
 * bio_alloc_clone, since a kretprobe sees neither the set nor the device:
 * a frame per allocation in progress (struct frame).
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

/* ---- slab records ---- */

#define POOL_SCAN 8

/*
 * A failed slab call (ctx: its exit program's) was made by one of
 * bio_alloc_bioset()'s pools: the function is among the first frames
 * (mempool_alloc(), dm-biopool's wrapper or bvec_alloc() in between).
 * Another mempool's failure leaves no record: no allocation would take it.
 * Only on the rare path of a failure.
 */
static __always_inline bool in_bio_alloc(void *ctx)
{
	__u64 ips[POOL_SCAN];
	long n;

	if (!alloc_lo)
		return true;
	n = bpf_get_stack(ctx, ips, sizeof(ips), 0);
	for (int i = 0; i < POOL_SCAN; i++) {
		if (i * 8 >= n)
			break;
		if (ips[i] >= alloc_lo && ips[i] < alloc_hi)
			return true;
	}
	return false;
}

/*
 * sp is on the current task's own stack, not on an interrupt's: an
 * allocation in interrupt context never reads or writes the records of
 * the task it interrupted.
 */
static __always_inline bool on_task_stack(__u64 sp)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 base = (__u64)BPF_CORE_READ(t, stack), end = base + 16384;

	if (bpf_core_field_exists(t->stack_vm_area)) {
		struct vm_struct *vm = BPF_CORE_READ(t, stack_vm_area);

		if (vm)
			end = base + BPF_CORE_READ(vm, size);
	} else {
		/*
		 * No VMAP_STACK (KASAN without KASAN_VMALLOC, as in our debug
		 * kernel): the stack is THREAD_SIZE, 32 KiB under KASAN, with
		 * the task's pt_regs at its top (x86's task_pt_regs())
		 */
		end = (__u64)bpf_task_pt_regs(bpf_get_current_task_btf()) +
		      bpf_core_type_size(struct pt_regs);
	}
	/* compared, not subtracted: sp may be the program's ctx pointer,
	 * on which the verifier allows no arithmetic without CAP_SYS_ADMIN */
	barrier_var(end);
	return sp >= base && sp < end;
}

/* 1 + the index of the task's record of cache, 0: none */
static __always_inline __u32 rec_find(struct task_state *st, __u64 cache)
{
	for (__u32 i = 0; i < MAX_RECS; i++) {
		if (i >= st->nrec)
			break;
		if (st->r[i].cache == cache)
			return i + 1;
	}
	return 0;
}

/*
 * At the exit of an allocation (sp: its program's frame) on bio_slab:
 * take the task's records below sp (made inside the allocation, or left by
 * a call whose exit was missed) and copy the one of bio_slab, if any, to
 * *mine.  The records of the allocations this one is nested in stay.
 */
static __always_inline bool take_recs(__u64 sp, __u64 bio_slab,
				      struct slab_rec *mine)
{
	struct task_state *st;
	bool found = false;
	__u32 i, j = 0, n;

	if (!slab_pending || !on_task_stack(sp))
		return false;
	st = task_get(false);
	if (!st || !st->nrec)
		return false;
	n = st->nrec;
	for (i = 0; i < MAX_RECS; i++) {
		if (i >= n)
			break;
		if (st->r[i].sp < sp) {
			if (st->r[i].cache == bio_slab) {
				*mine = st->r[i];
				found = true;
			}
			continue;
		}
		if (j != i)
			st->r[j & (MAX_RECS - 1)] = st->r[i];
		j++;
	}
	if (j != n) {
		st->nrec = j;
		st->last = 0;
		if (!j)
			__sync_fetch_and_add(&slab_pending, -1);
	}
	return found;
}

/* ---- counting an allocation at its exit ---- */

static __always_inline void wait_done(struct biostat_counters *c, __u64 bs,
				      __u32 dev, __u32 gfp,
				      const struct slab_rec *r)
{
	struct biostat_stack_key sk;
	__u64 dur, one = 1, *v, gen = ivl_gen;
	__u32 slot;

	dur = bpf_ktime_get_ns() - r->wait_start;
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
	if (want_stacks && r->stackid >= 0) {
		sk.bs = bs;
		sk.stackid = r->stackid;
		v = bpf_map_lookup_elem(&wait_stacks, &sk);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			bpf_map_update_elem(&wait_stacks, &sk, &one, BPF_NOEXIST);
	}
	emit(BIOSTAT_EV_WAIT, bs, dev, dur, 0, gfp, r->stackid);
}

/*
 * One bio_alloc_bioset() has returned ret: sp is its program's frame, dev
 * the device it names its set with (0: unknown), clone whether it is
 * bio_alloc_clone()'s, maybe_clone whether it may be (no vectors, and
 * nothing said which; see set_index()).
 */
static __always_inline int alloc_done(void *ctx, struct bio_set *bs, __u64 bio_slab,
				      __u32 dev, bool clone, bool maybe_clone,
				      __u32 gfp, void *ret, __u64 sp)
{
	struct biostat_counters *c;
	struct slab_rec r;
	bool rec = take_recs(sp, bio_slab, &r);

	if (!dev_ok(dev))
		return 0;
	c = counters_of(cached_index(ctx, SETC_ALLOC, bs, dev, clone, maybe_clone));
	if (!c)
		return 0;
	/* events (rare): a possible clone's device is the set's, if known */
	if (want_events && maybe_clone && (!ret || rec))
		dev = set_dev((__u64)bs);
	if (ret) {
		cnt_add(&c->allocs, 1);
		if (rec && r.failed)
			cnt_add(&c->reserve, 1);
	} else {
		cnt_add(&c->fails, 1);
		emit(BIOSTAT_EV_FAIL, (__u64)bs, dev, 0, 0, gfp, -1);
	}
	if (rec && r.wait_start)
		wait_done(c, (__u64)bs, dev, gfp, &r);
	return 0;
}

/* calibrate.c: the first set this thread allocates from */
static __always_inline bool calibrating(struct bio_set *bs)
{
	if (!calib_tid || (__u32)bpf_get_current_pid_tgid() != calib_tid)
		return false;
	if (!calib_bs)
		calib_bs = (__u64)bs;
	return true;
}

/* ---- bio_alloc_clone(bdev, bio_src, gfp, bs) ---- */

/*
 * Its exit names a clone's set after the device of the bio it copies
 * (src->bi_bdev, else bdev): bio_alloc_bioset() only sees the device the
 * clone is for, the one below.  A cache hit but for the first clone of a
 * set on each CPU.
 */
SEC("fexit/bio_alloc_clone")
int BPF_PROG(fx_clone, struct block_device *bdev, struct bio *src, gfp_t gfp,
	     struct bio_set *bs, struct bio *ret)
{
	struct block_device *sbdev;

	if (!ret || !enabled || !task_match())
		return 0;
	sbdev = src->bi_bdev ? src->bi_bdev : bdev;
	cached_index(ctx, SETC_CLONE, bs, sbdev ? sbdev->bd_dev : 0, true, false);
	return 0;
}

/*
 * -d and kprobe mode: the entry tells the allocation that follows that it
 * is a clone, and of which device (what -d filters on), in per-task state.
 */
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

/* The bio_alloc_clone() entered on this task clones into bs: *dev is the
 * device of the bio it copies. */
static __always_inline bool clone_of(struct task_state *st, struct bio_set *bs,
				     __u32 *dev)
{
	if (!st || st->clone_bs != (__u64)bs)
		return false;
	st->clone_bs = 0;
	*dev = st->clone_dev;
	return true;
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

SEC("fexit/bio_alloc_bioset")
int BPF_PROG(fx_alloc, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs, struct bio *ret)
{
	/* fexit arguments are BTF pointers: plain loads, no helper calls */
	__u32 dev = bdev ? bdev->bd_dev : 0;
	bool clone = false;

	if (calibrating(bs) || !enabled || !task_match())
		return 0;
	/* -d: fe_clone said whether it is a clone, and of what; else one
	 * with no vectors may be a clone, which fx_clone names */
	if (targ_ndevs)
		clone = clone_of(task_get(false), bs, &dev);
	return alloc_done(ctx, bs, (__u64)bs->bio_slab, dev, clone,
			  !targ_ndevs && !nr_vecs, gfp, ret, (__u64)ctx);
}

/*
 * Kprobe mode: the entry pushes a frame with what the kretprobe cannot see
 * (bdev_dev: bdev->bd_dev or 0, read by the caller), the kretprobe pops it.
 */
static __always_inline int alloc_enter(__u32 bdev_dev, __u32 gfp,
				       struct bio_set *bs)
{
	struct task_state *st;
	struct frame *f;
	__u32 dev = bdev_dev, d;
	bool clone;

	if (calibrating(bs) || !enabled || !task_match())
		return 0;
	st = task_get(true);
	if (!st)
		return 0;
	clone = clone_of(st, bs, &dev);
	d = st->depth;
	if (d >= MAX_DEPTH) {
		st->depth = d;
		err_inc(BIOSTAT_ERR_DEPTH);
		return 0;
	}
	f = &st->f[d & (MAX_DEPTH - 1)];
	f->bs = (__u64)bs;
	f->kslab_data = 0;
	f->dev = dev;
	f->gfp = gfp;
	f->clone = clone;
	f->kslab_nest = 0;
	st->depth = d + 1;
	return 0;
}

SEC("kprobe/bio_alloc_bioset")
int BPF_KPROBE(kp_alloc, struct block_device *bdev, unsigned short nr_vecs,
	       unsigned int opf, gfp_t gfp, struct bio_set *bs)
{
	return alloc_enter(bdev ? BPF_CORE_READ(bdev, bd_dev) : 0, gfp, bs);
}

SEC("kretprobe/bio_alloc_bioset")
int BPF_KRETPROBE(kr_alloc, struct bio *ret)
{
	struct task_state *st = task_get(false);
	struct bio_set *bs;
	struct frame *f;

	if (!st)
		return 0;
	f = top_frame(st);
	if (!f) {
		st->depth = 0;
		return 0;
	}
	st->depth--;
	bs = (struct bio_set *)f->bs;
	return alloc_done(ctx, bs, (__u64)BPF_CORE_READ(bs, bio_slab), f->dev,
			  f->clone, false, f->gfp, ret, PT_REGS_SP(ctx));
}

/* ---- mempool_alloc_slab(gfp, pool_data) exit: pool->alloc of bio pools ---- */

/*
 * sp: the program's frame; cache: pool_data.  A success while no task
 * holds a record returns after one load.
 */
static __always_inline int slab_exit(void *ctx, __u64 sp, __u64 cache, void *ret)
{
	struct task_state *st;
	__u32 i;

	if (ret && !slab_pending)
		return 0;
	if (!enabled || !task_match() || !on_task_stack(sp))
		return 0;
	if (!ret && in_bio_alloc(ctx)) {
		st = task_get(true);
		if (!st)
			return 0;
		i = rec_find(st, cache);
		if (!i) {
			if (st->nrec >= MAX_RECS) {
				err_inc(BIOSTAT_ERR_DEPTH);
				st->last = 0;
				return 0;
			}
			i = st->nrec + 1;
			st->r[(i - 1) & (MAX_RECS - 1)].sp = sp;
			st->r[(i - 1) & (MAX_RECS - 1)].cache = cache;
			st->r[(i - 1) & (MAX_RECS - 1)].wait_start = 0;
			st->r[(i - 1) & (MAX_RECS - 1)].stackid = -1;
			st->nrec = i;
			if (i == 1)
				__sync_fetch_and_add(&slab_pending, 1);
		}
		st->r[(i - 1) & (MAX_RECS - 1)].failed = 1;
		st->last = i;
		return 0;
	}
	/* a success, or another pool's failure: a sleep next is not the
	 * bio pool's */
	st = task_get(false);
	if (!st || !st->nrec)
		return 0;
	if (ret) {
		i = rec_find(st, cache);
		if (i)
			st->r[(i - 1) & (MAX_RECS - 1)].failed = 0;
	}
	st->last = 0;
	return 0;
}

SEC("fexit/mempool_alloc_slab")
int BPF_PROG(fx_slab, gfp_t gfp, void *pool_data, void *ret)
{
	return slab_exit(ctx, (__u64)ctx, (__u64)pool_data, ret);
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
	return slab_exit(ctx, PT_REGS_SP(ctx), f->kslab_data, ret);
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
	struct task_state *st;
	struct slab_rec *r;
	__u32 i;

	if (!slab_pending)
		return 0;
	st = task_get(false);
	if (!st || !st->last || st->last > MAX_RECS)
		return 0;
	i = (st->last - 1) & (MAX_RECS - 1);
	r = &st->r[i];
	if (!r->failed || r->wait_start || !sleep_in_mempool(ctx))
		return 0;
	r->wait_start = bpf_ktime_get_ns();
	if (want_stacks)
		r->stackid = bpf_get_stackid(ctx, &stacks, 0);
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
