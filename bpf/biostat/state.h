/* SPDX-License-Identifier: GPL-2.0 */
/*
 * state.h - what the parts of the biostat BPF object share: the settings
 * the tool writes before and after the load, the per-task frames of the
 * allocations in progress, the maps, and the small helpers every program
 * uses (filters, per-task state, counters, events).  The variables and maps
 * are defined once, in sets.bpf.c; the parts are linked into one object
 * (BPF static linking: bpftool gen object) and one skeleton.
 *
 * The exactness argument of each count is told where the count is made:
 * allocs, reserve, waits and fails in alloc.bpf.c; punts, punted, rescues
 * and rescued in rescue.bpf.c; a set's end in sets.bpf.c.
 */
#ifndef BIOSTAT_STATE_H
#define BIOSTAT_STATE_H

/* Filters, set by the tool before load. */
extern const volatile __u32 targ_tgid;	/* 0: every process */
/* kernel dev_ts of -d (targ_ndevs of them), none: every device */
extern const volatile __u32 targ_devs[BIOSTAT_MAX_DEVS];
extern const volatile __u32 targ_ndevs;
extern const volatile bool targ_cgroup;	/* -c: the "cgroup" map's */
extern const volatile __u64 min_wait_ns;	/* -m: waits shown from this long */
extern const volatile bool want_stacks;
extern const volatile bool want_events;	/* -e: stream events */
extern const volatile __u32 nr_cpus;	/* possible CPUs, for bioset_exit */

/* Written by the tool after load. */
extern bool enabled;		/* set once every hook is attached */
extern __u32 calib_tid;		/* tools/biostat/calibrate.c */
extern __u64 calib_bs;
extern __s64 rescue_active;	/* bio_alloc_rescue() runs in progress */
extern __u64 ivl_gen;		/* interval number, see biostat_counters */
extern __u32 nsets;		/* indexes handed out to sets */
extern __u64 sets_gen;		/* bioset_exit() calls: set caches expire */
extern __s64 slab_pending;	/* tasks holding slab records: the fast
				 * paths return at once while it is 0 */
/* From kallsyms: [lo, hi) of mempool_alloc_slab and of
 * mempool_alloc{,_noprof}, for telling a mempool sleep apart. */
extern __u64 slab_lo, slab_hi, mp_lo, mp_hi;
/* From kallsyms: [lo, hi) of bio_alloc_clone, for telling a clone apart
 * where a set is first seen, and of bio_alloc_bioset, for telling a failed
 * slab call of its pools apart. */
extern __u64 clone_lo, clone_hi, alloc_lo, alloc_hi;
/* From kallsyms: bio_alloc_rescue, the work function of rescue work. */
extern __u64 rescue_fn;
/* Set by the tool where punt_bios_to_rescuer() is inlined (7.x): punts
 * are seen as rescue work queued, the bios they moved as the rescuer
 * takes them. */
extern bool punt_inline;

#define MAX_DEPTH 4
#define MAX_RECS 4
#define SET_CACHE 4

/*
 * Kprobe mode: one bio_alloc_bioset() in progress on a task, pushed by its
 * entry probe (a kretprobe sees neither the set nor the device).
 */
struct frame {
	__u64 bs;
	__u64 kslab_data;	/* pool_data of the slab call in progress */
	__u32 dev;
	__u32 gfp;
	__u8 clone;
	__u8 kslab_nest;	/* nested slab calls */
	__u8 pad[6];
};

/*
 * A failed slab call made inside bio_alloc_bioset() (by its bio or bvec
 * pool) and what followed it, kept from the failure to the exit of the
 * allocation it belongs to.  sp: the
 * address of the tracing program's frame (fexit: its ctx, the trampoline's
 * argument area; kretprobe: the stack pointer at the return); a call
 * nested in an allocation has a lower one, so an allocation's exit takes
 * the records below its own sp and leaves those of the allocations it is
 * nested in.
 */
struct slab_rec {
	__u64 sp;
	__u64 cache;		/* the kmem_cache (pool_data) */
	__u64 wait_start;	/* ns of the first sleep on the pool, 0: none */
	__s64 stackid;
	__u8 failed;		/* the last call on cache failed */
	__u8 pad[7];
};

/*
 * Per-task state, created only where the fast path has to remember
 * something: at a failed slab call inside bio_alloc_bioset() (records),
 * by bio_alloc_rescue(), and by bio_alloc_clone() under -d or in kprobe
 * mode.
 */
struct task_state {
	__u32 depth;		/* kprobe mode: f[] in use */
	__u32 pad0;
	__u64 rescue_bs;	/* bio_alloc_rescue() of this set in progress */
	__u64 clone_bs;		/* bio_alloc_clone() entered, bio_alloc_bioset next */
	__u64 exit_bs;		/* kprobe mode: bioset_exit() of this set runs */
	__u32 clone_dev;
	__u32 nrec;		/* r[] in use */
	__u32 last;		/* 1 + r[] index of the last slab call if it
				 * failed inside bio_alloc_bioset(), 0: not */
	__u32 pad;
	struct slab_rec r[MAX_RECS];
	struct frame f[MAX_DEPTH];
};

/*
 * The index of (set, device) pairs a program on this CPU looked up last:
 * no hash lookup and no per-task state per allocation.  One entry of the
 * map per program that fills it (SETC_*), so that each entry has one
 * writer and a program never runs twice at once on a CPU (see cnt_add()):
 * an entry is never seen half written.  gen: sets_gen when it was filled.
 */
struct set_cache {
	__u64 gen;
	__u32 next;
	__u32 pad;
	struct {
		__u64 bs;
		__u32 dev;
		__s32 idx;
	} e[SET_CACHE];
};

enum { SETC_ALLOC, SETC_CLONE, SETC_NR };

_Static_assert((MAX_DEPTH & (MAX_DEPTH - 1)) == 0, "MAX_DEPTH: a power of two (masks)");
_Static_assert((SET_CACHE & (SET_CACHE - 1)) == 0, "SET_CACHE: a power of two (masks)");
_Static_assert((MAX_RECS & (MAX_RECS - 1)) == 0, "MAX_RECS: a power of two (masks)");

/* Counters of the set with index sets[bs].idx (an array: the lookup is
 * inlined by the verifier). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__type(key, __u32);
	__type(value, struct biostat_counters);
} counters_map_t;
extern counters_map_t counters SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SETC_NR);
	__type(key, __u32);
	__type(value, struct set_cache);
} set_cache_map_t;
extern set_cache_map_t set_cache SEC(".maps");

/* Indexes of "counters" given back by sets that went away (bioset_exit). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__uint(value_size, sizeof(__u32));
} free_idx_map_t;
extern free_idx_map_t free_idx SEC(".maps");

/* Where a set's entry of "sets" is built before it is inserted. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct biostat_set_info);
} scratch_map_t;
extern scratch_map_t scratch SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__type(key, __u64);
	__type(value, struct biostat_set_info);
} sets_map_t;
extern sets_map_t sets SEC(".maps");

/*
 * Per-task state in task-local storage: one cached lookup per call, created
 * once per task and freed by the kernel when the task exits (no hash
 * insert/delete per allocation).
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tasks_map_t;
extern tasks_map_t tasks SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BIOSTAT_RINGBUF_BYTES);
} events_map_t;
extern events_map_t events SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BIOSTAT_MAX_STACK_DEPTH * sizeof(__u64));
} stacks_map_t;
extern stacks_map_t stacks SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_MAX_WAIT_STACKS);
	__type(key, struct biostat_stack_key);
	__type(value, __u64);
} wait_stacks_map_t;
extern wait_stacks_map_t wait_stacks SEC(".maps");

/* -c CGROUP: its directory's fd at index 0 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_map_t;
extern cgroup_map_t cgroup SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BIOSTAT_ERR_NR);
	__type(key, __u32);
	__type(value, __u64);
} errs_map_t;
extern errs_map_t errs SEC(".maps");

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

/* Kprobe mode: the allocation in progress on this task, NULL if none (or
 * not tracing). */
static __always_inline struct frame *current_frame(void)
{
	struct task_state *st;

	if (!enabled)
		return NULL;
	st = task_get(false);
	return st ? top_frame(st) : NULL;
}

static __always_inline struct biostat_counters *counters_of(__s32 idx)
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

#endif
