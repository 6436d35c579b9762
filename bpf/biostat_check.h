/* SPDX-License-Identifier: GPL-2.0 */
/*
 * biostat_check.h - the ABI of the BPF object linked from bpf/biostat_check/ ("biostat check"):
 * its map keys and values and the indexes of its "cerrs" map, shared with
 * tools/biostat/check.c.  Same rules as biostat.h: include vmlinux.h or
 * <linux/types.h> first; no implicit padding, sizes multiples of 8.
 */
#ifndef BIOSTAT_CHECK_H
#define BIOSTAT_CHECK_H

#define BIOSTAT_CHECK_COMM_LEN		16
#define BIOSTAT_CHECK_STACK_DEPTH	32	/* frames of each stack */
#define BIOSTAT_CHECK_MAX_HELD		65536	/* unsubmitted bios tracked */
#define BIOSTAT_CHECK_MAX_TASKSETS	16384	/* (task, set) pairs holding bios */
#define BIOSTAT_CHECK_MAX_SITES		4096	/* distinct violations, hand-offs */
#define BIOSTAT_CHECK_MAX_PENDING	8192	/* candidates not yet decided */
#define BIOSTAT_CHECK_RECENT		4	/* bios remembered per (task, set) */
#define BIOSTAT_CHECK_STACKS		8192	/* stack map entries */
#define BIOSTAT_CHECK_MAX_ANC		65536	/* clones' ancestor sets tracked */
#define BIOSTAT_CHECK_ANC_DEPTH		4	/* ancestors kept per clone */
#define BIOSTAT_CHECK_MAX_ELEMS		65536	/* mempool elements tracked */
#define BIOSTAT_CHECK_LIST_WALK		64	/* bios read of each bio_list */

/*
 * The statement of bio_alloc_bioset()'s kernel-doc a site breaks
 * (biostat_check_key.rule); biostat.8, CHECK MODE, has each one.
 */
enum biostat_check_rule {
	BIOSTAT_RULE_HOLD = 1,		/* allocated while holding an unsubmitted
					 * bio of the set (violations, hand-offs,
					 * undecided, blocked) */
	BIOSTAT_RULE_NO_RESCUER,	/* inside ->submit_bio, from a set without
					 * a rescuer while its bios are queued on
					 * current->bio_list */
	BIOSTAT_RULE_MEMPOOL,		/* a second live element of one mempool
					 * (not a bio_set's) inside ->submit_bio,
					 * with a bio queued: bs is the mempool */
	BIOSTAT_RULE_SHARED,		/* inside ->submit_bio, from a set a bio
					 * being served further up came from */
	BIOSTAT_RULE_FS_BIO_SET,	/* fs_bio_set used inside ->submit_bio */
	BIOSTAT_RULE_NR,
};

/* Indexes of the check object's "cerrs" map. */
enum biostat_check_err {
	BIOSTAT_CERR_HELD_FULL,		/* held-bio map full: bio not tracked */
	BIOSTAT_CERR_TASKSET_FULL,	/* (task, set) map full */
	BIOSTAT_CERR_SITES_FULL,	/* violation map full: site not recorded */
	BIOSTAT_CERR_STACK,		/* stack id unavailable */
	BIOSTAT_CERR_ALLOCS,		/* (not an error) allocations checked */
	BIOSTAT_CERR_NOSLEEP_HELD,	/* (not an error) allocations made while
					 * holding, with a mask that cannot sleep */
	BIOSTAT_CERR_PENDING_FULL,	/* candidate map full: not decided */
	BIOSTAT_CERR_NO_FIRST,		/* candidate whose held bio is not among
					 * the task's last ones: not decided */
	BIOSTAT_CERR_HAZARDS_FULL,	/* hazard map full: site not recorded */
	BIOSTAT_CERR_LIST_CUT,		/* a bio_list longer than the walk: its
					 * tail was not looked at */
	BIOSTAT_CERR_IRQ,		/* (not an error) allocations and frees in
					 * interrupt context, not charged to the
					 * interrupted task */
	BIOSTAT_CERR_ANC_FULL,		/* clone ancestry not recorded */
	BIOSTAT_CERR_ELEMS_FULL,	/* mempool element not tracked */
	BIOSTAT_CERR_BLOCKED_FULL,	/* blocked allocation not recorded */
	BIOSTAT_CERR_WALKS,		/* (not an error) first-allocation stacks
					 * walked (once per call site and set) */
	BIOSTAT_CERR_NR,
};

/* Key of the "violations" and "handoffs" maps: one per distinct (set,
 * stack pair). */
struct biostat_check_key {
	__u64 bs;		/* the bio_set (the mempool for RULE_MEMPOOL) */
	__s64 stack_first;	/* where a still-held bio (element) was allocated */
	__s64 stack_second;	/* where the violating allocation was made */
	__u32 rule;		/* enum biostat_check_rule */
	__u32 pad;
};

struct biostat_check_site {
	__u64 count;		/* violations seen at this site */
	__u64 first_ns;		/* bpf_ktime_get_ns() of the first */
	__u32 pid;		/* tgid of the first */
	__u32 tid;
	__u32 gfp_first;	/* gfp of the held bio's allocation */
	__u32 gfp_second;	/* gfp of the violating allocation */
	__u32 held;		/* bios held at the first violation */
	__u32 held_max;		/* most bios held at any violation here */
	__u32 dev;		/* kernel dev_t of the violating allocation */
	__u32 flags;		/* BIOSTAT_CHECK_* */
	char comm[BIOSTAT_CHECK_COMM_LEN];
};

#define BIOSTAT_CHECK_IN_SUBMIT	(1U << 0)	/* made inside ->submit_bio */
#define BIOSTAT_CHECK_RESCUER	(1U << 1)	/* the set has a rescuer */
#define BIOSTAT_CHECK_CLONE	(1U << 2)	/* the violating allocation was a
						 * clone: dev is the copied bio's */
#define BIOSTAT_CHECK_PLUGGED	(1U << 3)	/* made while the task had bios parked
						 * on its plug: a hand-off */

/*
 * A candidate (value of the "pending" map, keyed by the held bio): decided
 * when that bio is submitted or freed, by its owner (a violation) or by
 * another task (a hand-off).  v.count counts the candidates on that bio.
 */
struct biostat_check_pending {
	struct biostat_check_key k;
	struct biostat_check_site v;
};

_Static_assert(sizeof(struct biostat_check_key) % 8 == 0, "biostat_check_key padding");
_Static_assert(sizeof(struct biostat_check_pending) % 8 == 0, "biostat_check_pending padding");
_Static_assert(sizeof(struct biostat_check_site) % 8 == 0, "biostat_check_site padding");

#endif /* BIOSTAT_CHECK_H */
