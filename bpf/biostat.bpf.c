// SPDX-License-Identifier: GPL-2.0
/*
 * biostat.bpf.c - count bio_set allocations, mempool reserve use, waits,
 * failures, rescuer punts and rescues, per bio_set, exactly.
 *
 * CO-RE: built once against a vmlinux.h, loaded on 6.1, 6.12 and later.
 * Every hook exists twice, as fentry/fexit and as kprobe/kretprobe; the
 * tool enables one of the pair per hook at run time.
 *
 * How each count is made exact (see also biostat.8, HOW IT COUNTS).
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
 * punts    punt_bios_to_rescuer() calls.  Where it is inlined (7.x, not in
 *          BTF nor kallsyms), queue_work_on() calls for a set's rescue
 *          work (work->func is bio_alloc_rescue): each punt queues it once.
 * punted   On entry of punt_bios_to_rescuer() we walk current->bio_list[0]
 *          and [1] and count the bios whose bi_pool is this set: exactly
 *          the bios the function moves (only the current task touches its
 *          bio_list).  Where it is inlined, the bios are counted as the
 *          rescuer resubmits them, like rescued: punted == rescued there
 *          by construction, and punted lags until the rescuer ran.
 * rescues  bio_alloc_rescue() runs.
 * rescued  submit_bio_noacct() calls made by the rescuing task itself,
 *          with no current->bio_list, for bios whose bi_pool is the
 *          rescued set, while bio_alloc_rescue() runs (counted at each
 *          call, so punted == rescued as soon as the rescuer has
 *          resubmitted everything).  A split remainder the block layer
 *          resubmits from inside that submission is not a rescue.  The
 *          program returns at once, on a global, unless a rescue is in
 *          progress.
 *
 * Events (waits, fails, punts, rescues) go to the ring buffer only when
 * the tool asks for them (-e); the longest wait of each interval is kept
 * in the counters, so table mode never loses anything.
 *
 * A set that goes away (bioset_exit, at its exit: it drains the rescuer
 * first) sends its final totals in a record of its own, in every mode; its counters are zeroed, its index goes back to
 * the "free_idx" queue for the next new set and its "sets" entry is
 * deleted.  sets_gen, bumped there, makes every task drop its cached
 * triples, since a new set may reuse the address and the index.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat.h"

char LICENSE[] SEC("license") = "GPL";

/* Filters, set by the tool before load. */
const volatile __u32 targ_tgid = 0;	/* 0: every process */
/* kernel dev_ts of -d (targ_ndevs of them), none: every device */
const volatile __u32 targ_devs[BIOSTAT_MAX_DEVS] = {};
const volatile __u32 targ_ndevs = 0;
const volatile bool targ_cgroup = false;	/* -c: the "cgroup" map's */
const volatile __u64 min_wait_ns = 0;	/* -m: waits shown from this long */
const volatile bool want_stacks = false;
const volatile bool want_events = false;	/* -e: stream events */
const volatile __u32 nr_cpus = 1;	/* possible CPUs, for bioset_exit */

/* Written by the tool after load. */
bool enabled = false;		/* set once every hook is attached */
__u32 calib_tid = 0;		/* tools/biostat/calibrate.c */
__u64 calib_bs = 0;
__s64 rescue_active = 0;	/* bio_alloc_rescue() runs in progress */
__u64 ivl_gen = 0;		/* interval number, see biostat_counters */
__u32 nsets = 0;		/* indexes handed out to sets */
__u64 sets_gen = 0;		/* bioset_exit() calls: per-task caches expire */
/* From kallsyms: [lo, hi) of mempool_alloc_slab and of
 * mempool_alloc{,_noprof}, for telling a mempool sleep apart. */
__u64 slab_lo = 0, slab_hi = 0, mp_lo = 0, mp_hi = 0;
/* From kallsyms: bio_alloc_rescue, the work function of rescue work. */
__u64 rescue_fn = 0;
/* Set by the tool where punt_bios_to_rescuer() is inlined (7.x): punts
 * are seen as rescue work queued, the bios they moved as the rescuer
 * takes them. */
bool punt_inline = false;

#define MAX_DEPTH 4
#define SET_CACHE 4

/*
 * One bio_alloc_bioset() in progress on a task.  sp, with fentry/fexit, is
 * the address of the trampoline's argument area (the programs' ctx): the
 * same at the entry and the exit of one call, lower for a call nested in
 * it.  A frame whose exit program the kernel skipped (a recursion miss)
 * is known by it and dropped, instead of blinding the task.
 */
struct frame {
	__u64 sp;		/* 0 with kprobes */
	__u64 bs;
	__u64 slab;		/* bs->bio_slab */
	__u64 slab_ret;		/* result of the last bio_slab allocation */
	__u64 wait_start;	/* ns of the first sleep, 0: has not slept */
	__s64 stackid;
	__u64 kslab_data;	/* kprobe mode: pool_data of the slab call */
	__u32 dev;
	__u32 gfp;
	__u8 slab_seen;		/* a bio_slab allocation was made */
	__u8 past_pool;		/* a slab call on another cache came after */
	__u8 clone;
	__u8 kslab_nest;	/* kprobe mode: nested slab calls */
	__u32 pad;
};

struct task_state {
	__u32 depth;
	__u32 rescued;
	__u64 rescue_bs;	/* bio_alloc_rescue() of this set in progress */
	__u64 clone_bs;		/* bio_alloc_clone() entered, bio_alloc_bioset next */
	__u64 exit_bs;		/* kprobe mode: bioset_exit() of this set runs */
	__u32 clone_dev;
	__u32 sc_next;		/* next slot of sc[] to replace */
	__u64 sc_gen;		/* sets_gen when sc[] was filled */
	/* (set, device) pairs this task allocated for last, with the set's
	 * index: no hash lookup per allocation (a bio often goes through
	 * three sets: the submitter's, dm core's clone, the target's) */
	struct set_cache {
		__u64 bs;
		__u32 dev;
		__s32 idx;
	} sc[SET_CACHE];
	struct frame f[MAX_DEPTH];
};

/* Counters of the set with index sets[bs].idx (an array: the lookup is
 * inlined by the verifier). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__type(key, __u32);
	__type(value, struct biostat_counters);
} counters SEC(".maps");

/* Indexes of "counters" given back by sets that went away (bioset_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__uint(value_size, sizeof(__u32));
} free_idx SEC(".maps");

/* Where a set's entry of "sets" is built before it is inserted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct biostat_set_info);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__type(key, __u64);
	__type(value, struct biostat_set_info);
} sets SEC(".maps");

/*
 * Per-task state in task-local storage: one cached lookup per call, created
 * once per task and freed by the kernel when the task exits (no hash
 * insert/delete per allocation).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BIOSTAT_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BIOSTAT_MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_MAX_WAIT_STACKS);
	__type(key, struct biostat_stack_key);
	__type(value, __u64);
} wait_stacks SEC(".maps");

/* -c CGROUP: its directory's fd at index 0 */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BIOSTAT_ERR_NR);
	__type(key, __u32);
	__type(value, __u64);
} errs SEC(".maps");

static __always_inline void err_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&errs, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Add to a field of this CPU's counters (a per-CPU array value) with a plain
 * load, add and store, not a locked instruction (which QEMU's TCG, for one,
 * makes expensive).  Exact: each field has one writer program in each mode
 * (allocs, reserve, fails and the wait fields: the allocation exit; punts:
 * the punt or queue program; punted: the punt program, or the submit
 * program where the punt is inlined; rescued: the submit program; rescues:
 * the rescue exit), and a program never runs twice at once on one CPU:
 * fentry/fexit programs count themselves active per CPU and skip (a
 * recursion miss) a call that finds themselves running there, preempted or
 * interrupted; kprobe programs run with preemption off and bpf_prog_active
 * held.  Only this CPU writes its value (bioset_exit's zeroing aside, of a
 * set whose allocations have ended).
 */
static __always_inline void cnt_add(__u64 *field, __u64 n)
{
	*field += n;
}

/* -c: the current task is in the cgroup (or below it) */
static __always_inline bool cgroup_ok(void)
{
	return !targ_cgroup || bpf_current_task_under_cgroup(&cgroup, 0) == 1;
}

/* The task passes -p and -c. */
static __always_inline bool task_ok(__u64 id)
{
	return (!targ_tgid || (__u32)(id >> 32) == targ_tgid) && cgroup_ok();
}

/* The device passes -d: no loop without a -d filter. */
static __always_inline bool dev_ok(__u32 dev)
{
	if (!targ_ndevs)
		return true;
	for (__u32 i = 0; i < BIOSTAT_MAX_DEVS && i < targ_ndevs; i++)
		if (targ_devs[i] == dev)
			return true;
	return false;
}

/* task_ok() for the hot paths: no helper call without a -p or -c filter */
static __always_inline bool task_match(void)
{
	if (targ_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return false;
	return cgroup_ok();
}

static __always_inline struct task_state *task_get(bool create)
{
	struct task_state *st;

	st = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				  create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (!st && create)
		err_inc(BIOSTAT_ERR_TASKS_FULL);
	return st;
}

static __always_inline struct frame *top_frame(struct task_state *st)
{
	__u32 d = st->depth;

	if (d == 0 || d > MAX_DEPTH)
		return NULL;
	return &st->f[(d - 1) & (MAX_DEPTH - 1)];
}

static __always_inline struct biostat_counters *counters_at(__s32 idx)
{
	__u32 k = (__u32)idx;

	if (idx < 0)
		return NULL;
	return bpf_map_lookup_elem(&counters, &k);
}

static __always_inline __u32 set_dev(__u64 bs)
{
	struct biostat_set_info *si = bpf_map_lookup_elem(&sets, &bs);

	return si ? si->dev : 0;
}

static __always_inline void emit(__u32 type, __u64 bs, __u32 dev, __u64 dur,
				 __u32 count, __u32 gfp, __s64 stackid)
{
	struct biostat_event *e;
	__u64 id = bpf_get_current_pid_tgid();

	if (!want_events)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		err_inc(BIOSTAT_ERR_RINGBUF);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->bs = bs;
	e->dur_ns = dur;
	e->type = type;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->dev = dev;
	e->count = count;
	e->gfp = gfp;
	e->stackid = stackid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

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

/*
 * The index of a set's counters, -1 if the tables are full.  The first
 * sighting hands out an index and remembers how to name the set (ctx: for
 * the allocating stack; NULL where the stack is not the allocator's).
 * dev 0 is "unknown": it neither names the set nor makes it MULTI_DEV.
 */
static __always_inline __s32 set_get(void *ctx, struct bio_set *bs, __u32 dev,
				     bool clone)
{
	__u64 key = (__u64)bs;
	struct biostat_set_info *si = bpf_map_lookup_elem(&sets, &key);
	__u32 zero = 0, idx;
	long n;

	if (si) {
		if (dev && si->dev != dev && !(si->flags & BIOSTAT_SET_MULTI_DEV)) {
			if (!si->dev)
				si->dev = dev;			/* racy, harmless */
			else
				si->flags |= BIOSTAT_SET_MULTI_DEV;
		}
		/*
		 * First seen where the stack is not the allocator's (7.2: a
		 * punt, before the allocation that punted returns): the first
		 * allocation's stack names it then.  Racy, harmless: the flag
		 * is set after the stack.
		 */
		if (ctx && !(si->flags & BIOSTAT_SET_HAVE_CALLER)) {
			n = bpf_get_stack(ctx, si->caller, sizeof(si->caller), 0);
			if (n > 0) {
				if (clone)
					si->flags |= BIOSTAT_SET_CLONE;
				si->flags |= BIOSTAT_SET_HAVE_CALLER;
			}
		}
		return si->idx;
	}
	if (bpf_map_pop_elem(&free_idx, &idx)) {
		idx = __sync_fetch_and_add(&nsets, 1);
		if (idx >= BIOSTAT_MAX_SETS) {
			err_inc(BIOSTAT_ERR_SETS_FULL);
			return -1;
		}
	}
	si = bpf_map_lookup_elem(&scratch, &zero);
	if (!si)
		return -1;
	si->first_ns = bpf_ktime_get_ns();
	si->dev = dev;
	si->flags = 0;
	si->idx = idx;
	si->pad = 0;
	si->front_pad = BPF_CORE_READ(bs, front_pad);
	if (BPF_CORE_READ(bs, rescue_workqueue))
		si->flags |= BIOSTAT_SET_RESCUER;
	if (clone)
		si->flags |= BIOSTAT_SET_CLONE;
	/*
	 * mempool_t is "struct mempool_s" up to 6.17 and "struct mempool"
	 * after: reached through the bio_set, CO-RE matches the member by
	 * name whatever its struct is called.  No local flavour of a type a
	 * kernel lacks: libbpf 1.1 would look for it in the module BTFs,
	 * which needs CAP_SYS_ADMIN.
	 */
	si->pool_min = BPF_CORE_READ(bs, bio_pool.min_nr);
	if (ctx) {
		n = bpf_get_stack(ctx, si->caller, sizeof(si->caller), 0);
		if (n > 0)
			si->flags |= BIOSTAT_SET_HAVE_CALLER;
	}
	if (bpf_map_update_elem(&sets, &key, si, BPF_NOEXIST)) {
		/* another CPU was first, or the map is full */
		bpf_map_push_elem(&free_idx, &idx, 0);
		si = bpf_map_lookup_elem(&sets, &key);
		if (si)
			return si->idx;
		err_inc(BIOSTAT_ERR_SETS_FULL);
		return -1;
	}
	return idx;
}

/* Counters of a set outside the allocation path (rescues). */
static __always_inline struct biostat_counters *counters_get(__u64 bs)
{
	return counters_at(set_get(NULL, (struct bio_set *)bs, 0, false));
}

/*
 * Counters of the set that punts, from inside the allocation (f) that
 * punted when the task's top frame is that allocation: its stack and
 * whether it clones name the set.  Without the frame (an allocation
 * begun before the programs were attached, or whose entry was missed),
 * the stack is left for an allocation's exit: taken here as a non-clone
 * it would name the set after the device above its own (seen on 7.2 as
 * bp1's set named bp2, bp2's bp3).
 */
static __always_inline struct biostat_counters *
punt_counters(void *ctx, __u64 bs, struct frame *f, __u32 dev)
{
	if (f && f->bs == bs)
		return counters_at(set_get(ctx, (struct bio_set *)bs, dev, f->clone));
	return counters_at(set_get(NULL, (struct bio_set *)bs, dev, false));
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

/* The bio pool's mempool_alloc() has not (yet) given an element. */
static __always_inline bool pool_pending(struct frame *f)
{
	if (f->past_pool)
		return false;
	return f->slab_seen && !f->slab_ret;
}

/* The bio came from the mempool reserve (see the header comment). */
static __always_inline bool from_reserve(struct frame *f)
{
	/* no slab call: the per-CPU bio cache, or (7.x) bio_alloc_bioset's
	 * own slab call before the mempool */
	return f->slab_seen && !f->slab_ret;
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
		idx = set_get(ctx, (struct bio_set *)bs, f->dev, f->clone);
		if (idx < 0)
			return 0;
		i = st->sc_next++ & (SET_CACHE - 1);
		st->sc[i].bs = bs;
		st->sc[i].dev = f->dev;
		st->sc[i].idx = idx;
	}
	c = counters_at(idx);
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

/* ---- mempool_alloc_slab(gfp, pool_data) exit: pool->alloc of bio pools ---- */

static __always_inline int slab_exit(__u64 cache, void *ret)
{
	struct task_state *st;
	struct frame *f;

	if (!enabled)
		return 0;
	st = task_get(false);
	if (!st)
		return 0;
	f = top_frame(st);
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
	struct frame *f;

	if (!enabled)
		return 0;
	st = task_get(false);
	if (!st)
		return 0;
	f = top_frame(st);
	if (!f || f->wait_start || !pool_pending(f) || !sleep_in_mempool(ctx))
		return 0;
	f->wait_start = bpf_ktime_get_ns();
	if (want_stacks)
		f->stackid = bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

/* ---- punt_bios_to_rescuer(bs) ---- */

/* One step of a bio_list walk, as a bpf_loop() callback: the verifier
 * checks the body once, not once per unrolled iteration. */
struct list_walk {
	struct bio *b;
	__u64 bs;
	__u32 n;
};

static long list_step(__u32 i, void *ctx)
{
	struct list_walk *w = ctx;
	struct bio *b = w->b;

	if (!b)
		return 1;
	if ((__u64)BPF_CORE_READ(b, bi_pool) == w->bs)
		w->n++;
	w->b = BPF_CORE_READ(b, bi_next);
	return 0;
}

static __always_inline __u32 count_list(struct bio_list *bl, __u64 bs)
{
	struct list_walk w = { .b = BPF_CORE_READ(bl, head), .bs = bs };

	bpf_loop(BIOSTAT_PUNT_WALK_MAX, list_step, &w, 0);
	if (w.b)
		err_inc(BIOSTAT_ERR_WALK);
	return w.n;
}

static __always_inline int punt_enter(void *ctx, struct bio_set *bs)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct biostat_counters *c;
	struct task_state *st;
	struct bio_list *bl;
	struct frame *f;
	__u32 dev = 0, n = 0;

	if (!enabled || !task_ok(id))
		return 0;
	st = task_get(false);
	f = st ? top_frame(st) : NULL;
	if (f && f->bs == (__u64)bs)
		dev = f->dev;
	else
		dev = set_dev((__u64)bs);
	if (!dev_ok(dev))
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	bl = BPF_CORE_READ(task, bio_list);
	if (bl) {
		n = count_list(&bl[0], (__u64)bs);
		n += count_list(&bl[1], (__u64)bs);
	}
	c = punt_counters(ctx, (__u64)bs, f, dev);
	if (!c)
		return 0;
	cnt_add(&c->punts, 1);
	cnt_add(&c->punted, n);
	emit(BIOSTAT_EV_PUNT, (__u64)bs, dev, 0, n, 0, -1);
	return 0;
}

/* ---- bio_alloc_rescue(work) ---- */

static __always_inline int rescue_enter(void *work)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_state *st;
	__u64 bs;

	if (!enabled || !task_ok(id))
		return 0;
	bs = (__u64)work - bpf_core_field_offset(struct bio_set, rescue_work);
	if (!dev_ok(set_dev(bs)))
		return 0;
	st = task_get(true);
	if (!st)
		return 0;
	if (!st->rescue_bs)
		__sync_fetch_and_add(&rescue_active, 1);
	st->rescue_bs = bs;
	st->rescued = 0;
	return 0;
}

static __always_inline int rescue_exit(void)
{
	struct biostat_counters *c;
	struct task_state *st;
	__u64 bs;
	__u32 n;

	st = task_get(false);
	if (!st || !st->rescue_bs)
		return 0;
	bs = st->rescue_bs;
	n = st->rescued;
	st->rescue_bs = 0;
	st->rescued = 0;
	__sync_fetch_and_add(&rescue_active, -1);
	c = counters_get(bs);
	if (c)
		cnt_add(&c->rescues, 1);	/* rescued: per bio */
	emit(BIOSTAT_EV_RESCUE, bs, set_dev(bs), 0, n, 0, -1);
	return 0;
}

/* ---- submit_bio_noacct(bio): bios a rescuer resubmits ---- */

/*
 * Only the rescuer's own submissions count, those it makes with no
 * current->bio_list: a rescued bio that the block layer splits to the
 * queue's limits is submitted again, its remainder from inside the first
 * submission (with a bio_list), and is not rescued twice.
 */
static __always_inline int submit_enter(struct bio *bio)
{
	struct biostat_counters *c;
	struct task_struct *task;
	struct task_state *st;

	if (!rescue_active)
		return 0;
	st = task_get(false);
	if (!st || !st->rescue_bs)
		return 0;
	if ((__u64)BPF_CORE_READ(bio, bi_pool) != st->rescue_bs)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, bio_list))
		return 0;
	st->rescued++;
	/* counted now, not when the run ends: punted == rescued as soon as
	 * every punted bio has been resubmitted */
	c = counters_get(st->rescue_bs);
	if (!c)
		return 0;
	cnt_add(&c->rescued, 1);
	if (punt_inline)
		cnt_add(&c->punted, 1);
	return 0;
}

/*
 * ---- queue_work_on(cpu, wq, work): punts where punt_bios_to_rescuer()
 * is inlined (7.x) ----
 *
 * The punt ends by queueing the set's rescue work, once per punt, from
 * the allocating task.  The bios it moved are counted as the rescuer
 * resubmits them (submit_enter()).
 */
static __always_inline int queue_enter(void *ctx, struct work_struct *work)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct biostat_counters *c;
	struct task_state *st;
	struct frame *f;
	__u64 bs;
	__u32 dev;

	if (!enabled || !rescue_fn || !task_ok(id) ||
	    (__u64)BPF_CORE_READ(work, func) != rescue_fn)
		return 0;
	bs = (__u64)work - bpf_core_field_offset(struct bio_set, rescue_work);
	st = task_get(false);
	f = st ? top_frame(st) : NULL;
	dev = f && f->bs == bs ? f->dev : set_dev(bs);
	if (!dev_ok(dev))
		return 0;
	c = punt_counters(ctx, bs, f, dev);
	if (!c)
		return 0;
	cnt_add(&c->punts, 1);
	emit(BIOSTAT_EV_PUNT, bs, dev, 0, 0, 0, -1);
	return 0;
}

/*
 * ---- bioset_exit(bs): the set goes away ----
 *
 * Its final totals go to the tool in one record (in every mode: it is
 * rare), its counters are zeroed and its index given back, and its entry
 * is deleted: the tables do not fill up with dead sets, and a new set made
 * at the same address starts from zero under a new first_ns.  If the
 * record cannot be sent, the tool still sees the entry vanish.
 */
static __always_inline int exit_done(struct bio_set *bs)
{
	struct biostat_gone_event *e;
	struct biostat_set_info *si;
	struct biostat_counters *c;
	__u64 key = (__u64)bs;
	__u32 cpu, idx;

	si = bpf_map_lookup_elem(&sets, &key);
	if (!si)
		return 0;	/* never seen */
	idx = si->idx;
	__sync_fetch_and_add(&sets_gen, 1);
	/* reserve, fill and submit in one block: 6.1's verifier loses the
	 * reference across a loop otherwise */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->ts_ns = bpf_ktime_get_ns();
		e->bs = key;
		e->type = BIOSTAT_EV_GONE;
		e->first_ns = si->first_ns;
		e->dev = si->dev;
		for (cpu = 0; cpu < BIOSTAT_MAX_CPUS && cpu < nr_cpus; cpu++) {
			c = bpf_map_lookup_percpu_elem(&counters, &idx, cpu);
			if (c)
				biostat_add_counters(&e->c, c);
		}
		bpf_ringbuf_submit(e, 0);
	} else {
		err_inc(BIOSTAT_ERR_RINGBUF);
	}
	for (cpu = 0; cpu < BIOSTAT_MAX_CPUS && cpu < nr_cpus; cpu++) {
		c = bpf_map_lookup_percpu_elem(&counters, &idx, cpu);
		if (c)
			__builtin_memset(c, 0, sizeof(*c));
	}
	bpf_map_delete_elem(&sets, &key);
	bpf_map_push_elem(&free_idx, &idx, 0);
	return 0;
}

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
	c = counters_at(set_get(NULL, (struct bio_set *)bs, dev, false));
	if (c)
		__sync_fetch_and_add(&c->allocs, 1);
	return 0;
}

SEC("raw_tp/block_bio_queue")
int BPF_PROG(rt_queue, struct bio *bio)
{
	return bio_queue_enter(ctx, bio);
}

/* ================= fentry / fexit ================= */

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

SEC("fentry/bio_alloc_clone")
int BPF_PROG(fe_clone, struct block_device *bdev, struct bio *src, gfp_t gfp,
	     struct bio_set *bs)
{
	struct block_device *sbdev = src->bi_bdev ? src->bi_bdev : bdev;

	return clone_enter(sbdev ? sbdev->bd_dev : 0, bs);
}

SEC("fexit/mempool_alloc_slab")
int BPF_PROG(fx_slab, gfp_t gfp, void *pool_data, void *ret)
{
	return slab_exit((__u64)pool_data, ret);
}

SEC("fentry/io_schedule_timeout")
int BPF_PROG(fe_sched, long timeout)
{
	return sched_enter(ctx);
}

SEC("fentry/punt_bios_to_rescuer")
int BPF_PROG(fe_punt, struct bio_set *bs)
{
	return punt_enter(ctx, bs);
}

SEC("fentry/queue_work_on")
int BPF_PROG(fe_queue, int cpu, struct workqueue_struct *wq,
	     struct work_struct *work)
{
	return queue_enter(ctx, work);
}

SEC("fentry/bio_alloc_rescue")
int BPF_PROG(fe_rescue, struct work_struct *work)
{
	return rescue_enter(work);
}

SEC("fexit/bio_alloc_rescue")
int BPF_PROG(fx_rescue, struct work_struct *work)
{
	return rescue_exit();
}

SEC("fentry/submit_bio_noacct")
int BPF_PROG(fe_submit, struct bio *bio)
{
	return submit_enter(bio);
}

/*
 * At the exit: bioset_exit() drains the rescue workqueue first, and a
 * rescue that runs then must not find the set gone and make it again.
 */
SEC("fexit/bioset_exit")
int BPF_PROG(fx_exit, struct bio_set *bs)
{
	return exit_done(bs);
}

/* ================= kprobe / kretprobe fallbacks ================= */
/* Attached by name from user space (bpf_program__attach_kprobe). */

SEC("kprobe")
int BPF_KPROBE(kp_alloc, struct block_device *bdev, unsigned short nr_vecs,
	       unsigned int opf, gfp_t gfp, struct bio_set *bs)
{
	return alloc_enter(bdev ? BPF_CORE_READ(bdev, bd_dev) : 0, gfp, bs,
			   (__u64)BPF_CORE_READ(bs, bio_slab), 0);
}

SEC("kretprobe")
int BPF_KRETPROBE(kr_alloc, struct bio *ret)
{
	return alloc_exit(ctx, 0, ret, 0);
}

SEC("kprobe")
int BPF_KPROBE(kp_clone, struct block_device *bdev, struct bio *src,
	       gfp_t gfp, struct bio_set *bs)
{
	struct block_device *sbdev = BPF_CORE_READ(src, bi_bdev);

	if (!sbdev)
		sbdev = bdev;
	return clone_enter(sbdev ? BPF_CORE_READ(sbdev, bd_dev) : 0, bs);
}

/*
 * A kretprobe does not see the arguments: the entry probe keeps pool_data
 * of the outermost slab call in progress in the frame.
 */
SEC("kprobe")
int BPF_KPROBE(kp_slab, gfp_t gfp, void *pool_data)
{
	struct task_state *st;
	struct frame *f;

	if (!enabled)
		return 0;
	st = task_get(false);
	f = st ? top_frame(st) : NULL;
	if (!f)
		return 0;
	if (!f->kslab_nest)
		f->kslab_data = (__u64)pool_data;
	if (f->kslab_nest < 255)
		f->kslab_nest++;
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kr_slab, void *ret)
{
	struct task_state *st;
	struct frame *f;

	if (!enabled)
		return 0;
	st = task_get(false);
	f = st ? top_frame(st) : NULL;
	if (!f || !f->kslab_nest)
		return 0;
	if (--f->kslab_nest)
		return 0;	/* a nested call: its cache is not ours */
	return slab_exit(f->kslab_data, ret);
}

SEC("kprobe")
int BPF_KPROBE(kp_sched)
{
	return sched_enter(ctx);
}

SEC("kprobe")
int BPF_KPROBE(kp_punt, struct bio_set *bs)
{
	return punt_enter(ctx, bs);
}

SEC("kprobe")
int BPF_KPROBE(kp_queue, int cpu, struct workqueue_struct *wq,
	       struct work_struct *work)
{
	return queue_enter(ctx, work);
}

SEC("kprobe")
int BPF_KPROBE(kp_rescue, struct work_struct *work)
{
	return rescue_enter(work);
}

SEC("kretprobe")
int BPF_KRETPROBE(kr_rescue)
{
	return rescue_exit();
}

SEC("kprobe")
int BPF_KPROBE(kp_submit, struct bio *bio)
{
	return submit_enter(bio);
}

/* The set of the bioset_exit() in progress, for its kretprobe. */
SEC("kprobe")
int BPF_KPROBE(kp_exit, struct bio_set *bs)
{
	struct task_state *st = task_get(true);

	if (st)
		st->exit_bs = (__u64)bs;
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kr_exit)
{
	struct task_state *st = task_get(false);
	__u64 bs;

	if (!st || !st->exit_bs)
		return 0;
	bs = st->exit_bs;
	st->exit_bs = 0;
	return exit_done((struct bio_set *)bs);
}
