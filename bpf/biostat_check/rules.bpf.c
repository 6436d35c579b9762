// SPDX-License-Identifier: GPL-2.0
/*
 * rules.bpf.c - the other statements of the kernel-doc, decided at once
 * when an allocation starts (the rest of the object: context.bpf.c).
 *
 * The other statements of the kernel-doc are decided at once, when the
 * allocation starts (so a site shows even if the allocation never
 * returns), by the programs of this file ("hazards" map, one
 * entry per rule, set and stack pair):
 *  - NO_RESCUER: inside ->submit_bio, an allocation that may sleep from a
 *    set without a rescuer while a bio of that set waits on
 *    current->bio_list[0] or [1] (only a rescuer would submit it);
 *  - SHARED: inside ->submit_bio, a clone (bio_alloc_clone) from a set
 *    that the bio it copies, or one of that bio's own sources (ancestors,
 *    up to BIOSTAT_CHECK_ANC_DEPTH levels), came from: a bio of the set
 *    being served further up the stack holds an element no rescuer can
 *    move;
 *  - FS_BIO_SET: fs_bio_set used inside ->submit_bio;
 *  - MEMPOOL: inside ->submit_bio, with a bio queued on
 *    current->bio_list[0], a sleeping allocation from a mempool that is
 *    no bio_set's while the task holds a live element of it allocated
 *    in the same top-level submission.
 * A rule-1 candidate still inside bio_alloc_bioset() is kept in
 * "blocked" while it runs: one that hangs is reported as blocked.
 * Allocations and frees in interrupt context (per CPU, between the irq
 * and softirq tracepoints) are skipped (counted): they are not the
 * interrupted task's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat_check.h"
#include "state.h"

/* One more time at a site of rule @rule (bs: the set, or the mempool). */
static __always_inline void hazard(void *ctx, __u32 rule, __u64 bs,
				   __s64 stack_first, gfp_t gfp, __u32 dev,
				   __u32 flags)
{
	struct biostat_check_pending *c;
	struct biostat_check_site *site;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&cand_scratch, &zero);
	if (!c)
		return;
	__builtin_memset(c, 0, sizeof(*c));
	c->k.bs = bs;
	c->k.rule = rule;
	c->k.stack_first = stack_first;
	c->k.stack_second = bpf_get_stackid(ctx, &cstacks, 0);
	if (c->k.stack_second < 0)
		cerr_inc(BIOSTAT_CERR_STACK);
	site = bpf_map_lookup_elem(&hazards, &c->k);
	if (site) {
		__sync_fetch_and_add(&site->count, 1);
		return;
	}
	c->v.count = 1;
	c->v.first_ns = bpf_ktime_get_ns();
	c->v.pid = id >> 32;
	c->v.tid = (__u32)id;
	c->v.gfp_second = gfp;
	c->v.dev = dev;
	c->v.flags = flags | BIOSTAT_CHECK_IN_SUBMIT;
	if (rule != BIOSTAT_RULE_MEMPOOL &&
	    BPF_CORE_READ((struct bio_set *)bs, rescue_workqueue))
		c->v.flags |= BIOSTAT_CHECK_RESCUER;
	bpf_get_current_comm(c->v.comm, sizeof(c->v.comm));
	if (bpf_map_update_elem(&hazards, &c->k, &c->v, BPF_NOEXIST)) {
		site = bpf_map_lookup_elem(&hazards, &c->k);
		if (site)
			__sync_fetch_and_add(&site->count, 1);
		else
			cerr_inc(BIOSTAT_CERR_HAZARDS_FULL);
	}
}

/* Is a bio of set bs on the list? */
static __always_inline bool list_holds(struct bio_list *l, __u64 bs)
{
	struct bio *b = BPF_CORE_READ(l, head);

	for (int i = 0; i < BIOSTAT_CHECK_LIST_WALK && b; i++) {
		if ((__u64)BPF_CORE_READ(b, bi_pool) == bs)
			return true;
		b = BPF_CORE_READ(b, bi_next);
	}
	if (b)
		cerr_inc(BIOSTAT_CERR_LIST_CUT);
	return false;
}

/* A rule-1 candidate that may block: kept until its allocation returns. */
static __always_inline void note_blocking(void *ctx, __u32 tid, __u64 bs,
					  gfp_t gfp, bool inside,
					  struct block_device *bdev)
{
	struct taskset_key tk = { .bs = bs, .tid = tid };
	struct biostat_check_pending *c;
	struct taskset *ts;
	__u32 zero = 0, gen = 0;
	__s32 n;

	ts = bpf_map_lookup_elem(&tasksets, &tk);
	if (!ts)
		return;
	if (inside)
		gen = cur_gen(tid);
	n = ts->held_out + (inside && ts->gen_in == gen ? ts->held_in : 0);
	if (n <= 0)
		return;
	c = bpf_map_lookup_elem(&cand_scratch, &zero);
	if (!c)
		return;
	__builtin_memset(c, 0, sizeof(*c));
	c->k.bs = bs;
	c->k.rule = BIOSTAT_RULE_HOLD;
	c->k.stack_first = ts->stack_first;
	c->k.stack_second = bpf_get_stackid(ctx, &cstacks, 0);
	c->v.count = 1;
	c->v.first_ns = bpf_ktime_get_ns();	/* when it started */
	c->v.pid = bpf_get_current_pid_tgid() >> 32;
	c->v.tid = tid;
	c->v.gfp_first = ts->gfp_first;
	c->v.gfp_second = gfp;
	c->v.held = n;
	c->v.held_max = n;
	c->v.dev = bdev ? BPF_CORE_READ(bdev, bd_dev) : 0;
	if (inside)
		c->v.flags |= BIOSTAT_CHECK_IN_SUBMIT;
	if (BPF_CORE_READ((struct bio_set *)bs, rescue_workqueue))
		c->v.flags |= BIOSTAT_CHECK_RESCUER;
	bpf_get_current_comm(c->v.comm, sizeof(c->v.comm));
	if (bpf_map_update_elem(&blocked, &tid, c, BPF_ANY)) {
		cerr_inc(BIOSTAT_CERR_BLOCKED_FULL);
		return;
	}
	ts->blocked = 1;
}

/* bio_alloc_bioset(bdev, nr_vecs, opf, gfp, bs) entry */
SEC("fentry/bio_alloc_bioset")
int BPF_PROG(ck_enter, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs)
{
	struct task_struct *t;
	struct bio_list *bl;
	__u32 tid;

	if (!enabled || !bs || !(gfp & GFP_DIRECT_RECLAIM) || in_irq_ctx())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	t = (struct task_struct *)bpf_get_current_task();
	bl = BPF_CORE_READ(t, bio_list);
	note_blocking(ctx, tid, (__u64)bs, gfp, bl != NULL, bdev);
	if (!bl)
		return 0;
	if (fs_bio_set_addr && (__u64)bs == fs_bio_set_addr)
		hazard(ctx, BIOSTAT_RULE_FS_BIO_SET, (__u64)bs, -1, gfp,
		       bdev ? BPF_CORE_READ(bdev, bd_dev) : 0, 0);
	if (!BPF_CORE_READ(bs, rescue_workqueue) &&
	    (list_holds(&bl[0], (__u64)bs) || list_holds(&bl[1], (__u64)bs))) {
		struct taskset_key tk = { .bs = (__u64)bs, .tid = tid };
		struct taskset *ts = bpf_map_lookup_elem(&tasksets, &tk);

		hazard(ctx, BIOSTAT_RULE_NO_RESCUER, (__u64)bs,
		       ts ? ts->stack_first : -1, gfp,
		       bdev ? BPF_CORE_READ(bdev, bd_dev) : 0, 0);
	}
	return 0;
}

/*
 * A bio_set's own mempools (reached from inside bio_alloc_bioset()) are
 * not rule 3's: the pool is a set's when the set around it points back
 * to it (bio_pool's pool_data is the set's bio_slab, or, for
 * dm-biopool's sets, the set itself).
 */
static __always_inline bool set_pool_of(__u64 cand)
{
	struct bio_set *bs = (struct bio_set *)cand;
	void *pd = BPF_CORE_READ(bs, bio_pool.pool_data);

	return pd && (pd == (void *)BPF_CORE_READ(bs, bio_slab) || pd == bs);
}

static __always_inline bool is_set_pool(__u64 pool)
{
	return set_pool_of(pool - bpf_core_field_offset(struct bio_set, bio_pool)) ||
	       set_pool_of(pool - bpf_core_field_offset(struct bio_set, bvec_pool));
}

/* Inside ->submit_bio, may sleep, not a set's pool: rule 3's business. */
static __always_inline struct bio_list *pool_watch(__u64 pool, gfp_t gfp)
{
	struct task_struct *t;
	struct bio_list *bl;

	if (!enabled || !(gfp & GFP_DIRECT_RECLAIM))
		return NULL;
	t = (struct task_struct *)bpf_get_current_task();
	bl = BPF_CORE_READ(t, bio_list);
	if (!bl || in_irq_ctx() || is_set_pool(pool))
		return NULL;
	return bl;
}

/* mempool_alloc(pool, gfp) entry: a second element while one is live */
static __always_inline int pool_enter(void *ctx, __u64 pool, gfp_t gfp)
{
	struct pool_key pk = { .pool = pool };
	struct bio_list *bl = pool_watch(pool, gfp);
	struct pool_held *ph;

	if (!bl)
		return 0;
	pk.tid = (__u32)bpf_get_current_pid_tgid();
	ph = bpf_map_lookup_elem(&pheld, &pk);
	if (!ph || ph->n <= 0 || ph->gen != cur_gen(pk.tid))
		return 0;
	/* a bio of this frame waits on the list until ->submit_bio returns */
	if (!BPF_CORE_READ(bl, head))
		return 0;
	/* bios parked on the plug are submitted if the task sleeps: said */
	hazard(ctx, BIOSTAT_RULE_MEMPOOL, pool, ph->stack_first, gfp, 0,
	       plugged() ? BIOSTAT_CHECK_PLUGGED : 0);
	return 0;
}

/* mempool_alloc(pool, gfp) exit: the element is the task's until freed */
static __always_inline int pool_exit(void *ctx, __u64 pool, gfp_t gfp,
				     void *ret)
{
	struct pool_key pk = { .pool = pool };
	struct pool_held *ph, nph = {};
	struct elem e = { .pool = pool };
	__u64 key = (__u64)ret;

	if (!ret || !pool_watch(pool, gfp))
		return 0;
	pk.tid = (__u32)bpf_get_current_pid_tgid();
	e.tid = pk.tid;
	e.gen = cur_gen(pk.tid);
	ph = bpf_map_lookup_elem(&pheld, &pk);
	if (!ph) {
		bpf_map_update_elem(&pheld, &pk, &nph, BPF_NOEXIST);
		ph = bpf_map_lookup_elem(&pheld, &pk);
		if (!ph)
			return 0;
	}
	if (ph->gen != e.gen) {
		/* an earlier top-level submission's elements do not count */
		ph->n = 0;
		ph->gen = e.gen;
	}
	/* an element freed unseen may come back: its old entry is replaced */
	if (!bpf_map_lookup_elem(&elems, &key))
		__sync_fetch_and_add(&elems_live, 1);
	if (bpf_map_update_elem(&elems, &key, &e, BPF_ANY)) {
		cerr_inc(BIOSTAT_CERR_ELEMS_FULL);
		return 0;
	}
	if (ph->n <= 0) {
		ph->gfp_first = gfp;
		ph->stack_first = first_stack(ctx, pool, caller_of(ctx, 2, pool_fn));
	}
	__sync_fetch_and_add(&ph->n, 1);
	return 0;
}

SEC("fentry/mempool_alloc_noprof")
int BPF_PROG(ck_pool_enter, void *pool, gfp_t gfp)
{
	return pool_enter(ctx, (__u64)pool, gfp);
}

SEC("fexit/mempool_alloc_noprof")
int BPF_PROG(ck_pool_exit, void *pool, gfp_t gfp, void *ret)
{
	return pool_exit(ctx, (__u64)pool, gfp, ret);
}

/* 6.1: the same function before memory allocation profiling */
SEC("fentry/mempool_alloc")
int BPF_PROG(ck_pool_enter_old, void *pool, gfp_t gfp)
{
	return pool_enter(ctx, (__u64)pool, gfp);
}

SEC("fexit/mempool_alloc")
int BPF_PROG(ck_pool_exit_old, void *pool, gfp_t gfp, void *ret)
{
	return pool_exit(ctx, (__u64)pool, gfp, ret);
}

/* mempool_free(element, pool): a tracked element is no longer held */
SEC("fentry/mempool_free")
int BPF_PROG(ck_pool_free, void *element, void *pool)
{
	__u64 key = (__u64)element;
	struct pool_key pk = {};
	struct pool_held *ph;
	struct elem *e;

	if (!enabled || !elems_live || !element)
		return 0;
	e = bpf_map_lookup_elem(&elems, &key);
	if (!e)
		return 0;
	pk.pool = e->pool;
	pk.tid = e->tid;
	ph = bpf_map_lookup_elem(&pheld, &pk);
	if (ph && ph->gen == e->gen && ph->n > 0)
		__sync_fetch_and_add(&ph->n, -1);
	if (!bpf_map_delete_elem(&elems, &key))
		__sync_fetch_and_add(&elems_live, -1);
	return 0;
}

/* Did src, or one of its sources, come from set bs? */
static __always_inline bool shares_set(struct bio *src, __u64 bs)
{
	struct ancestry *a;
	__u64 s = (__u64)src;

	if ((__u64)BPF_CORE_READ(src, bi_pool) == bs)
		return true;
	a = bpf_map_lookup_elem(&anc, &s);
	if (!a)
		return false;
	for (int i = 0; i < BIOSTAT_CHECK_ANC_DEPTH; i++)
		if (a->pool[i] == bs)
			return true;
	return false;
}

SEC("fentry/bio_alloc_clone")
int BPF_PROG(ck_clone, struct block_device *bdev, struct bio *src, gfp_t gfp,
	     struct bio_set *bs)
{
	struct clone_hint h = {};
	struct block_device *sb;

	if (!enabled || in_irq_ctx())
		return 0;
	sb = BPF_CORE_READ(src, bi_bdev);
	if (!sb)
		sb = bdev;
	h.bs = (__u64)bs;
	h.src = (__u64)src;
	h.tid = (__u32)bpf_get_current_pid_tgid();
	h.dev = sb ? BPF_CORE_READ(sb, bd_dev) : 0;
	h.caller = caller_of(ctx, 4, clone_fn);
	bpf_map_update_elem(&hint, &h.tid, &h, BPF_ANY);
	if ((gfp & GFP_DIRECT_RECLAIM) && in_submit() && shares_set(src, h.bs))
		hazard(ctx, BIOSTAT_RULE_SHARED, h.bs, -1, gfp, h.dev,
		       BIOSTAT_CHECK_CLONE);
	return 0;
}
