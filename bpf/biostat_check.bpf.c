// SPDX-License-Identifier: GPL-2.0
/*
 * biostat_check.bpf.c - "biostat check": find tasks that allocate a bio
 * from a bio_set while they still hold, unsubmitted, a bio they allocated
 * earlier from the same set, with a gfp mask that may sleep on the
 * set's mempool (the rule in the kernel-doc of bio_alloc_bioset()), and
 * tell those apart from hand-offs: a held bio passed to another thread
 * that submits it.
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
 * passed it to a workqueue or a kthread's list.  A candidate still
 * pending at the end is reported as undecided.
 *
 * A bio stops being held when
 *  - it is passed to submit_bio_noacct() by any task (the owner is found
 *    through the held entry, so a hand-over to another task releases it);
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
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat_check.h"

char LICENSE[] SEC("license") = "GPL";

#define GFP_DIRECT_RECLAIM	0x400u	/* ___GFP_DIRECT_RECLAIM */

bool enabled = false;

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
	__u32 pad;
};

struct clone_hint {
	__u64 bs;
	__u64 src;
	__u32 tid;
	__u32 dev;
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clone_hint);
} hint SEC(".maps");

static __always_inline void cerr_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&cerrs, &idx);

	if (v)
		*v += 1;	/* per-CPU */
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

SEC("fentry/bio_alloc_clone")
int BPF_PROG(ck_clone, struct block_device *bdev, struct bio *src, gfp_t gfp,
	     struct bio_set *bs)
{
	struct block_device *sb;
	struct clone_hint *h;
	__u32 zero = 0;

	if (!enabled)
		return 0;
	h = bpf_map_lookup_elem(&hint, &zero);
	if (!h)
		return 0;
	sb = BPF_CORE_READ(src, bi_bdev);
	if (!sb)
		sb = bdev;
	h->bs = (__u64)bs;
	h->src = (__u64)src;
	h->tid = (__u32)bpf_get_current_pid_tgid();
	h->dev = sb ? BPF_CORE_READ(sb, bd_dev) : 0;
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

	if (!enabled || !ret || !bs)
		return 0;
	cerr_inc(BIOSTAT_CERR_ALLOCS);
	inside = in_submit();
	hb.inside = inside;
	if (inside)
		hb.gen = cur_gen(tid);
	{
		struct clone_hint *h0;
		__u32 z0 = 0;

		h0 = bpf_map_lookup_elem(&hint, &z0);
		if (h0 && h0->tid == tid && h0->bs == (__u64)bs) {
			hb.parent = h0->src;
			cdev = h0->dev;
			h0->tid = 0;	/* used up: only this allocation */
		}
	}

	ts = bpf_map_lookup_elem(&tasksets, &tk);
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
	if ((__u32)bpf_get_current_pid_tgid() == owner)
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

/* A top-level submission ended: start a new generation for this task. */
SEC("fexit/submit_bio_noacct")
int BPF_PROG(ck_submit_exit, struct bio *bio)
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

SEC("fentry/bio_put")
int BPF_PROG(ck_put, struct bio *bio)
{
	if (enabled)
		release_one((__u64)bio);
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
