/* SPDX-License-Identifier: GPL-2.0 */
/*
 * biostat.h - the ABI of the BPF object linked from bpf/biostat/: what it and the biostat tool
 * (tools/biostat) exchange through maps, .bss and the ring buffer.
 *
 * This is the only header both sides include (biostat check has its own,
 * biostat_check.h).  The BPF side gets the
 * __u32/__u64 types from vmlinux.h, the user side from <linux/types.h>;
 * include one of those first.
 *
 * Keep every structure free of implicit padding holes that differ between
 * the BPF target and x86-64: all members are naturally aligned and every
 * structure's size is a multiple of 8.
 */
#ifndef BIOSTAT_H
#define BIOSTAT_H

#define BIOSTAT_TASK_COMM_LEN	16
#define BIOSTAT_HIST_SLOTS	32	/* log2 buckets of wait time in usecs */
#define BIOSTAT_CALLER_DEPTH	12	/* stack frames kept for naming a set */
#define BIOSTAT_MAX_STACK_DEPTH	32	/* frames of a waiting allocation */
#define BIOSTAT_MAX_SETS	1024	/* bio_sets tracked at once */
#define BIOSTAT_MAX_WAIT_STACKS	4096	/* distinct (set, stack) pairs */
#define BIOSTAT_RINGBUF_BYTES	(1U << 21)
#define BIOSTAT_PUNT_WALK_MAX	1024	/* bios examined per list per punt */
#define BIOSTAT_MAX_CPUS	1024	/* CPUs summed for a vanishing set */
#define BIOSTAT_TEXT_MAX	512	/* bytes of a function's text read for a call */
#define BIOSTAT_MAX_DEVS	8	/* devices of -d, repeated */

/* Event types sent through the ring buffer. */
enum biostat_event_type {
	BIOSTAT_EV_WAIT = 1,	/* an allocation slept on an empty reserve */
	BIOSTAT_EV_FAIL = 2,	/* bio_alloc_bioset() returned NULL */
	BIOSTAT_EV_PUNT = 3,	/* punt_bios_to_rescuer() ran */
	BIOSTAT_EV_RESCUE = 4,	/* bio_alloc_rescue() ran */
	BIOSTAT_EV_GONE = 5,	/* bioset_exit(): struct biostat_gone_event */
};


/* Indexes of the per-CPU "errs" map: what the BPF side could not count. */
enum biostat_err {
	BIOSTAT_ERR_RINGBUF,	/* ring buffer full, event dropped */
	BIOSTAT_ERR_TASKS_FULL,	/* per-task state not created (no memory, busy) */
	BIOSTAT_ERR_DEPTH,	/* too many slab records or (kprobes) frames on a task */
	BIOSTAT_ERR_WALK,	/* punt list longer than BIOSTAT_PUNT_WALK_MAX */
	BIOSTAT_ERR_SETS_FULL,	/* too many bio_sets */
	BIOSTAT_ERR_NR,
};

/*
 * The counts of a set, the one list of them: X(name, rate, wide, help).
 * name is the field below and in the tool's windows, the JSON key and
 * Prometheus' biostat_<name>_total (biostat(8): one vocabulary); rate the
 * interval table's heading; wide 1 for a table column shown with -x only;
 * help Prometheus' HELP text.  Each is a running total,
 * summed over CPUs.  Adding one: a line here and its increment in the BPF
 * programs; every view of the tool takes it from here.
 */
#define BIOSTAT_COUNTS(X)						\
	X(allocs, "ALLOC/s", 0, "Bios allocated from the bio_set.")		\
	X(reserve, "RSRV/s", 0, "Allocations served from the mempool reserve.") \
	X(waits, "WAIT/s", 0, "Allocations that slept on an empty reserve.")	\
	X(fails, "FAIL/s", 0, "Allocations that returned NULL.")		\
	X(punts, "PUNT/s", 0, "Punts of queued bios to the rescuer.")		\
	X(punted, "PUNTD/s", 1, "Bios the punts moved to the rescuer.")	\
	X(rescues, "RESC/s", 0, "Runs of the rescuer.")			\
	X(rescued, "RESCD/s", 1, "Bios the rescuer resubmitted.")

#define BIOSTAT_COUNT_FIELD(name, rate, wide, help)	__u64 name;

/*
 * Per-CPU counters of one bio_set (value of the "counters" array, at the
 * index that the "sets" map gives for the bio_set's kernel address).  Every field is a running total since
 * the programs were enabled; the tool computes interval rates from
 * differences.  wait_max_ns is the per-CPU maximum (sum over CPUs is
 * meaningless; take the maximum).  ivl_max_ns[g & 1] is the longest wait
 * that ended on this CPU while the tool's interval number was g
 * (ivl_gen[g & 1] == g): the tool moves to g + 1, then reads slot g & 1.
 */
struct biostat_counters {
	BIOSTAT_COUNTS(BIOSTAT_COUNT_FIELD)
	__u64 wait_ns;		/* total time the waits slept */
	__u64 wait_max_ns;	/* longest single wait on this CPU */
	__u64 hist[BIOSTAT_HIST_SLOTS];	/* wait time, log2(usecs) */
	__u64 ivl_max_ns[2];	/* longest wait of interval ivl_gen[i] */
	__u64 ivl_gen[2];
};

/*
 * *dst += *c: the counts, the wait time and the histogram summed, the
 * longest wait taken; ivl_* left alone.  Both sides sum per-CPU values
 * this way (a vanishing set's record, the tool's reads).
 */
static inline __attribute__((always_inline)) void
biostat_add_counters(struct biostat_counters *dst,
		     const struct biostat_counters *c)
{
#define BIOSTAT_COUNT_ADD(name, rate, wide, help)	dst->name += c->name;
	BIOSTAT_COUNTS(BIOSTAT_COUNT_ADD)
#undef BIOSTAT_COUNT_ADD
	dst->wait_ns += c->wait_ns;
	if (c->wait_max_ns > dst->wait_max_ns)
		dst->wait_max_ns = c->wait_max_ns;
	for (int i = 0; i < BIOSTAT_HIST_SLOTS; i++)
		dst->hist[i] += c->hist[i];
}

/* What the BPF side learnt about a set when it first saw it ("sets" map). */
struct biostat_set_info {
	__u64 first_ns;		/* bpf_ktime_get_ns() of the first sighting */
	__u32 dev;		/* kernel dev_t of the first allocation */
	__u32 flags;		/* BIOSTAT_SET_* */
	__s32 pool_min;		/* mempool reserve size (min_nr), -1 unknown */
	__u32 front_pad;
	__u32 idx;		/* index of the set in the "counters" array */
	__u32 pad;
	__u64 caller[BIOSTAT_CALLER_DEPTH];	/* kernel stack of the first
						 * allocation, innermost first */
};

#define BIOSTAT_SET_MULTI_DEV	(1U << 0)	/* allocations for >1 device */
#define BIOSTAT_SET_RESCUER	(1U << 1)	/* set has a rescue workqueue */
#define BIOSTAT_SET_HAVE_CALLER	(1U << 2)	/* caller[] is filled in */
#define BIOSTAT_SET_CLONE	(1U << 3)	/* first allocation was a clone */

/* Key of the "wait_stacks" map: (set, stack id) -> number of waits. */
struct biostat_stack_key {
	__u64 bs;
	__s64 stackid;
};

/* One ring-buffer record. */
struct biostat_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 bs;		/* bio_set address */
	__u64 dur_ns;		/* WAIT: time slept */
	__u32 type;		/* enum biostat_event_type */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 dev;		/* kernel dev_t the allocation was for, 0 unknown */
	__u32 count;		/* PUNT: bios moved; RESCUE: bios resubmitted */
	__u32 gfp;		/* WAIT, FAIL: the caller's gfp mask */
	__s64 stackid;		/* WAIT with -s: id in the "stacks" map */
	char comm[BIOSTAT_TASK_COMM_LEN];
};

/*
 * The last record of a set: bioset_exit() ran, its map entries are gone.
 * Starts like struct biostat_event (ts_ns, bs, then type at the same
 * offset), so the tool can read the type before it knows the size.
 * first_ns is the set's biostat_set_info.first_ns: with bs, the identity
 * of a set (a new set may be allocated at the same address).
 */
struct biostat_gone_event {
	__u64 ts_ns;
	__u64 bs;
	__u64 first_ns;
	__u32 type;		/* BIOSTAT_EV_GONE */
	__u32 dev;
	struct biostat_counters c;	/* final totals, summed over CPUs */
};

/* The padding rule above, checked on both sides. */
_Static_assert(sizeof(struct biostat_counters) % 8 == 0, "biostat_counters padding");
_Static_assert(sizeof(struct biostat_set_info) % 8 == 0, "biostat_set_info padding");
_Static_assert(sizeof(struct biostat_event) % 8 == 0, "biostat_event padding");
_Static_assert(sizeof(struct biostat_gone_event) % 8 == 0, "biostat_gone_event padding");
/* the tool reads the type of a record before it knows which one it is */
_Static_assert(__builtin_offsetof(struct biostat_event, type) ==
	       __builtin_offsetof(struct biostat_gone_event, type),
	       "event records must share their type field");

#endif /* BIOSTAT_H */
