/* SPDX-License-Identifier: GPL-2.0 */
/*
 * biostat_check.h - the ABI of bpf/biostat_check.bpf.c ("biostat check"):
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
	BIOSTAT_CERR_NR,
};

/* Key of the "violations" and "handoffs" maps: one per distinct (set,
 * stack pair). */
struct biostat_check_key {
	__u64 bs;
	__s64 stack_first;	/* where a still-held bio was allocated */
	__s64 stack_second;	/* where the violating allocation was made */
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
