// SPDX-License-Identifier: GPL-2.0
/*
 * biostat_check.bpf.c - "biostat check": find code that breaks a statement
 * of bio_alloc_bioset()'s kernel-doc.  Rule 1, most of this file: tasks
 * that allocate a bio from a bio_set while they still hold, unsubmitted,
 * a bio they allocated earlier from the same set, with a gfp mask that
 * may sleep on the set's mempool, told apart from hand-offs: a held bio
 * passed to another thread that submits it.  Rules 2 to 4 at the end.
 *
 * State:
 *  held      bio -> (set, owner tid, generation): every bio allocated
 *            from a bio_set and not yet submitted, freed or queued.
 *  tasksets  (tid, set) -> bios that task holds from that set, the stack
 *            and gfp of the allocation that made the count leave 0, and
 *            the last BIOSTAT_CHECK_RECENT bios it allocated from the set.
 *  tgen      tid -> submission generation, bumped when a top-level
 *            submit_bio_noacct() returns (current->bio_list is NULL):
 *            at that point every bio allocated inside ->submit_bio has
 *            been submitted or handed over to I/O that completes without
 *            this task (e.g. dm core's per-io clone, freed at completion).
 *  pending   held bio -> candidate: an allocation that may sleep, made
 *            while the task held that bio (the most recent of its last
 *            bios from the set that is still held).
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
 *    that contained it has returned (generation change: it no longer
 *    counts as held, but its entry stays until its fate is seen).
 *
 * Cost per allocation: one lookup in tasksets (plus one in tgen inside
 * ->submit_bio) and one insert in held; a stack is taken only when a
 * task's count for a set leaves 0 and at a candidate.
 *
 * The other statements of the kernel-doc are decided at once, when the
 * allocation starts (so a site shows even if the allocation never
 * returns), by the programs at the end of this file ("hazards" map, one
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

char LICENSE[] SEC("license") = "GPL";

#define GFP_DIRECT_RECLAIM	0x400u	/* ___GFP_DIRECT_RECLAIM */

bool enabled = false;
__u64 fs_bio_set_addr = 0;	/* from /proc/kallsyms, 0 if unknown */
__u64 elems_live = 0;		/* entries of "elems": the free hook's gate */


struct held_bio {
	__u64 bs;
	__u64 parent;		/* the bio it was cloned from (bio_alloc_clone) */
	__u32 tid;
	__u32 gen;
	__u8 inside;		/* allocated inside ->submit_bio */
	__u8 pad[7];
};

struct taskset_key {
	__u64 bs;
	__u32 tid;
	__u32 pad;
};

struct taskset {
	__s32 held_out;		/* held bios allocated outside ->submit_bio */
	__s32 held_in;		/* ... inside, of generation gen_in */
	__u32 gen_in;
	__u32 gfp_first;
	__s64 stack_first;
	__u64 recent[BIOSTAT_CHECK_RECENT];	/* last bios allocated */
	__u32 next;		/* slot of recent[] to write next */
	__u32 blocked;		/* an entry of "blocked" is this task's */
};

struct clone_hint {
	__u64 bs;
	__u64 src;
	__u32 tid;
	__u32 dev;
};

/* The sets of a clone's sources: pool[0] its source's, pool[1] that
 * source's source's, ... */
struct ancestry {
	__u64 pool[BIOSTAT_CHECK_ANC_DEPTH];
};

/* A live element of a mempool allocated inside ->submit_bio. */
struct elem {
	__u64 pool;
	__u32 tid;
	__u32 gen;
};

struct pool_key {
	__u64 pool;
	__u32 tid;
	__u32 pad;
};

/* The live elements a task holds of one mempool, in generation gen. */
struct pool_held {
	__s32 n;
	__u32 gen;
	__u32 gfp_first;
	__u32 pad;
	__s64 stack_first;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_HELD);
	__type(key, __u64);
	__type(value, struct held_bio);
} held SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, struct taskset_key);
	__type(value, struct taskset);
} tasksets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, __u32);
	__type(value, __u32);
} tgen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_SITES);
	__type(key, struct biostat_check_key);
	__type(value, struct biostat_check_site);
} violations SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_SITES);
	__type(key, struct biostat_check_key);
	__type(value, struct biostat_check_site);
} handoffs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_PENDING);
	__type(key, __u64);
	__type(value, struct biostat_check_pending);
} pending SEC(".maps");

/* Where a candidate is built (too big for the BPF stack with the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct biostat_check_pending);
} cand_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, BIOSTAT_CHECK_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BIOSTAT_CHECK_STACK_DEPTH * sizeof(__u64));
} cstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BIOSTAT_CERR_NR);
	__type(key, __u32);
	__type(value, __u64);
} cerrs SEC(".maps");

/*
 * Per CPU: how deep in interrupt handlers and softirqs it is, from their
 * tracepoints.  Not preempt_count: it is reached only through per-CPU
 * ksyms whose names differ between kernels, and a weak ksym the kernel
 * lacks makes libbpf 1.1 walk the module BTFs, which needs CAP_SYS_ADMIN.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} irqdepth SEC(".maps");

/* tid -> the bio_alloc_clone() call whose bio_alloc_bioset() runs */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, __u32);
	__type(value, struct clone_hint);
} hint SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_SITES);
	__type(key, struct biostat_check_key);
	__type(value, struct biostat_check_site);
} hazards SEC(".maps");

/* clone -> the sets of its sources; freed bios' entries age out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_ANC);
	__type(key, __u64);
	__type(value, struct ancestry);
} anc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_ELEMS);
	__type(key, __u64);
	__type(value, struct elem);
} elems SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, struct pool_key);
	__type(value, struct pool_held);
} pheld SEC(".maps");

/* tid -> a rule-1 candidate whose allocation has not returned yet */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct biostat_check_pending);
} blocked SEC(".maps");

static __always_inline void cerr_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&cerrs, &idx);

	if (v)
		*v += 1;	/* per-CPU */
}

/* Interrupt context (a hard interrupt handler or a softirq): not the task's. */
static __always_inline bool in_irq_ctx(void)
{
	__u32 zero = 0;
	__s64 *d = bpf_map_lookup_elem(&irqdepth, &zero);

	if (!d || *d <= 0)
		return false;
	cerr_inc(BIOSTAT_CERR_IRQ);
	return true;
}

static __always_inline int irq_depth(__s64 delta)
{
	__u32 zero = 0;
	__s64 *d = bpf_map_lookup_elem(&irqdepth, &zero);

	/* an exit whose entry came before the attach leaves it at 0 */
	if (d && (delta > 0 || *d > 0))
		*d += delta;	/* per-CPU, interrupts nest and unwind in order */
	return 0;
}

SEC("raw_tp/irq_handler_entry")
int BPF_PROG(ck_irq_in)
{
	return irq_depth(1);
}

SEC("raw_tp/irq_handler_exit")
int BPF_PROG(ck_irq_out)
{
	return irq_depth(-1);
}

SEC("raw_tp/softirq_entry")
int BPF_PROG(ck_softirq_in)
{
	return irq_depth(1);
}

SEC("raw_tp/softirq_exit")
int BPF_PROG(ck_softirq_out)
{
	return irq_depth(-1);
}

static __always_inline bool in_submit(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(t, bio_list) != NULL;
}

static __always_inline __u32 cur_gen(__u32 tid)
{
	__u32 *g = bpf_map_lookup_elem(&tgen, &tid);

	return g ? *g : 0;
}

/* ---- bio_alloc_clone(bdev, src, gfp, bs): the device of the clone ---- */

static __always_inline void hazard(void *ctx, __u32 rule, __u64 bs,
				   __s64 stack_first, gfp_t gfp, __u32 dev,
				   __u32 flags);
static __always_inline bool shares_set(struct bio *src, __u64 bs);

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
	bpf_map_update_elem(&hint, &h.tid, &h, BPF_ANY);
	if ((gfp & GFP_DIRECT_RECLAIM) && in_submit() && shares_set(src, h.bs))
		hazard(ctx, BIOSTAT_RULE_SHARED, h.bs, -1, gfp, h.dev,
		       BIOSTAT_CHECK_CLONE);
	return 0;
}

/* Add a decided candidate to the violations or the hand-offs. */
static __always_inline void commit(void *map, struct biostat_check_pending *p)
{
	struct biostat_check_site *site = bpf_map_lookup_elem(map, &p->k);

	if (site) {
		__sync_fetch_and_add(&site->count, p->v.count);
		if (p->v.held_max > site->held_max)
			site->held_max = p->v.held_max;	/* racy, harmless */
		return;
	}
	if (bpf_map_update_elem(map, &p->k, &p->v, BPF_NOEXIST)) {
		site = bpf_map_lookup_elem(map, &p->k);
		if (site)
			__sync_fetch_and_add(&site->count, p->v.count);
		else
			cerr_inc(BIOSTAT_CERR_SITES_FULL);
	}
}

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
 * Has the task parked bios on its plug's callbacks (blk_check_plugged():
 * md raid1/raid10 with a bitmap park their mirror writes there)?  Those
 * are submitted when the plug is flushed, and a plug is flushed whenever
 * its task sleeps (in the pool too): parked bios are not held.
 */
static __always_inline bool plugged(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct blk_plug *plug = BPF_CORE_READ(t, plug);
	void *next;

	if (!plug)
		return false;
	next = BPF_CORE_READ(plug, cb_list.next);
	return next && next != (void *)plug +
		bpf_core_field_offset(struct blk_plug, cb_list);
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

/* ---- bio_alloc_bioset(bdev, nr_vecs, opf, gfp, bs) exit ---- */

SEC("fexit/bio_alloc_bioset")
int BPF_PROG(ck_alloc, struct block_device *bdev, unsigned short nr_vecs,
	     unsigned int opf, gfp_t gfp, struct bio_set *bs, struct bio *ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct taskset_key tk = { .bs = (__u64)bs, .tid = tid };
	struct held_bio hb = { .bs = (__u64)bs, .tid = tid };
	struct taskset *ts, nts = { .stack_first = -1 };
	__u64 key = (__u64)ret;
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
		ts->stack_first = bpf_get_stackid(ctx, &cstacks, 0);
		if (ts->stack_first < 0)
			cerr_inc(BIOSTAT_CERR_STACK);
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
	if (enabled)
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

/* A top-level submission ended: start a new generation for this task. */
static __always_inline int new_generation(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 *g, one = 1;

	if (!enabled || in_submit())
		return 0;
	g = bpf_map_lookup_elem(&tgen, &tid);
	if (g)
		*g += 1;
	else
		bpf_map_update_elem(&tgen, &tid, &one, BPF_ANY);
	return 0;
}

SEC("fexit/submit_bio_noacct")
int BPF_PROG(ck_submit_exit, struct bio *bio)
{
	return new_generation();
}

/* 7.x: submit_bio() without submit_bio_noacct() (a second bump is harmless) */
SEC("fexit/submit_bio")
int BPF_PROG(ck_submit_top_exit, struct bio *bio)
{
	return new_generation();
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

/* ---- the other statements: decided when the allocation starts ---- */

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
		ph->stack_first = bpf_get_stackid(ctx, &cstacks, 0);
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
