/* SPDX-License-Identifier: GPL-2.0 */
/*
 * state.h - what the parts of the "biostat check" BPF object share: its
 * switch, the maps (defined once, in context.bpf.c), and the helpers of
 * every part.  The parts are linked into one object and one skeleton
 * (BPF static linking: bpftool gen object).
 *
 * State:
 *  held      bio -> (set, owner tid, generation): every bio allocated
 *            from a bio_set and not yet submitted, freed or queued.
 *  tasksets  (tid, set) -> bios that task holds from that set, the stack
 *            and gfp of the allocation that made the count leave 0, and
 *            the last BIOSTAT_CHECK_RECENT bios it allocated from the set.
 *  tgen      tid -> submission generation, bumped when a top-level
 *            submission starts (submit_bio_noacct() or submit_bio() with
 *            no current->bio_list): every bio allocated inside the
 *            previous one's ->submit_bio calls has by then been submitted
 *            or handed over to I/O that completes without this task (e.g.
 *            dm core's per-io clone, freed at completion).  At the entry,
 *            not the exit: one program per submitted bio.
 *  pending   held bio -> candidate: an allocation that may sleep, made
 *            while the task held that bio (the most recent of its last
 *            bios from the set that is still held).
 */
#ifndef BIOSTAT_CHECK_STATE_H
#define BIOSTAT_CHECK_STATE_H

#define GFP_DIRECT_RECLAIM	0x400u	/* ___GFP_DIRECT_RECLAIM */

extern bool enabled;
extern __u64 fs_bio_set_addr;	/* from /proc/kallsyms, 0 if unknown */
extern __u64 elems_live;		/* entries of "elems": the free hook's gate */
/* from /proc/kallsyms, 0 if unknown: where their callers are read */
extern __u64 alloc_fn;		/* bio_alloc_bioset */
extern __u64 clone_fn;		/* bio_alloc_clone */
extern __u64 pool_fn;		/* the mempool_alloc function hooked */

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
	__u64 caller;		/* return address into bio_alloc_clone()'s caller */
	__u32 tid;
	__u32 dev;
};

/* A call site of one set (or mempool): its first-allocation stack. */
struct site_key {
	__u64 bs;
	__u64 caller;		/* the return address into the allocating code */
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

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_HELD);
	__type(key, __u64);
	__type(value, struct held_bio);
} held_map_t;
extern held_map_t held SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, struct taskset_key);
	__type(value, struct taskset);
} tasksets_map_t;
extern tasksets_map_t tasksets SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, __u32);
	__type(value, __u32);
} tgen_map_t;
extern tgen_map_t tgen SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_SITES);
	__type(key, struct biostat_check_key);
	__type(value, struct biostat_check_site);
} violations_map_t;
extern violations_map_t violations SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_SITES);
	__type(key, struct biostat_check_key);
	__type(value, struct biostat_check_site);
} handoffs_map_t;
extern handoffs_map_t handoffs SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_PENDING);
	__type(key, __u64);
	__type(value, struct biostat_check_pending);
} pending_map_t;
extern pending_map_t pending SEC(".maps");

/* Where a candidate is built (too big for the BPF stack with the rest). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct biostat_check_pending);
} cand_scratch_map_t;
extern cand_scratch_map_t cand_scratch SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, BIOSTAT_CHECK_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BIOSTAT_CHECK_STACK_DEPTH * sizeof(__u64));
} cstacks_map_t;
extern cstacks_map_t cstacks SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BIOSTAT_CERR_NR);
	__type(key, __u32);
	__type(value, __u64);
} cerrs_map_t;
extern cerrs_map_t cerrs SEC(".maps");

/*
 * Per CPU: how deep in interrupt handlers and softirqs it is, from their
 * tracepoints.  Not preempt_count: it is reached only through per-CPU
 * ksyms whose names differ between kernels, and a weak ksym the kernel
 * lacks makes libbpf 1.1 walk the module BTFs, which needs CAP_SYS_ADMIN.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} irqdepth_map_t;
extern irqdepth_map_t irqdepth SEC(".maps");

/* tid -> the bio_alloc_clone() call whose bio_alloc_bioset() runs */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, __u32);
	__type(value, struct clone_hint);
} hint_map_t;
extern hint_map_t hint SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_SITES);
	__type(key, struct biostat_check_key);
	__type(value, struct biostat_check_site);
} hazards_map_t;
extern hazards_map_t hazards SEC(".maps");

/* clone -> the sets of its sources; freed bios' entries age out */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_ANC);
	__type(key, __u64);
	__type(value, struct ancestry);
} anc_map_t;
extern anc_map_t anc SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_ELEMS);
	__type(key, __u64);
	__type(value, struct elem);
} elems_map_t;
extern elems_map_t elems SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_TASKSETS);
	__type(key, struct pool_key);
	__type(value, struct pool_held);
} pheld_map_t;
extern pheld_map_t pheld SEC(".maps");

/*
 * (set, call site) -> the stack id of an allocation made there: the
 * "first" stack of the sites that start there, walked once per call
 * site and set instead of once per allocation.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOSTAT_CHECK_STACKS);
	__type(key, struct site_key);
	__type(value, __s64);
} firsts_map_t;
extern firsts_map_t firsts SEC(".maps");

/* tid -> a rule-1 candidate whose allocation has not returned yet */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_CHECK_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct biostat_check_pending);
} blocked_map_t;
extern blocked_map_t blocked SEC(".maps");

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

/* x86-64: kernel and module text lie in the top 2 GiB, data below */
#define KERNEL_TEXT_START	0xffffffff80000000ULL

/*
 * The return address into the caller of fn, the traced function, read
 * from its BPF trampoline's frame (arch/x86/net/bpf_jit_comp.c): above
 * the program's ctx, the nargs saved argument registers, then the
 * return value's slot (only while an fexit program is attached to fn:
 * another tool's may come and go), the saved frame pointer, the
 * return address into fn's body (fn + 5, or fn + 9 after an endbr64),
 * and the caller's.  Found by that landmark, never by a fixed offset.
 * Since 7.0 a trampoline that calls fn itself (an fexit is attached) is
 * jumped to, not called: no return address into fn, the caller's comes
 * right after the frame pointer (w[2], the return value's slot being
 * there).  0 if neither is there.
 */
static __always_inline __u64 caller_of(void *ctx, int nargs, __u64 fn)
{
	__u64 w[5];

	if (!fn || bpf_probe_read_kernel(w, sizeof(w), ctx + nargs * 8))
		return 0;
	for (int i = 0; i < 4; i++)
		if (w[i] == fn + 5 || w[i] == fn + 9)
			return w[i + 1];
	return w[2] >= KERNEL_TEXT_START ? w[2] : 0;
}

/*
 * The stack of the allocation that makes a task's count leave 0, by
 * call site: walked at the site's first allocation from set bs (or when
 * the site is not known: caller 0), looked up after that.  A stack
 * taken at another allocation from the same call site and set: the
 * frames above the site may differ (the report says so).
 */
static __always_inline __s64 first_stack(void *ctx, __u64 bs, __u64 caller)
{
	struct site_key sk = { .bs = bs, .caller = caller };
	__s64 *v, id;

	if (caller) {
		v = bpf_map_lookup_elem(&firsts, &sk);
		if (v)
			return *v;
	}
	id = bpf_get_stackid(ctx, &cstacks, 0);
	cerr_inc(BIOSTAT_CERR_WALKS);
	if (id < 0)
		cerr_inc(BIOSTAT_CERR_STACK);
	else if (caller)
		bpf_map_update_elem(&firsts, &sk, &id, BPF_ANY);
	return id;
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

/* A top-level submission starts: a new generation for this task. */
static __always_inline void new_generation(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 *g, one = 1;

	g = bpf_map_lookup_elem(&tgen, &tid);
	if (g)
		*g += 1;
	else
		bpf_map_update_elem(&tgen, &tid, &one, BPF_ANY);
}

#endif
