/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sets.h - the bio_sets biostat knows: read from the BPF side's "sets" and
 * "counters" maps, named (setname.h), kept after they go away for the
 * summary.
 *
 * A set's identity is (bs, info.first_ns): when a set goes away
 * (bioset_exit) another may be made at its address.  A set that went away
 * stays in the table, marked gone, for the summary; beyond the last
 * SETTAB_GONE_KEPT of them, the oldest are folded into one row whose
 * counts are their sums, so that a long run through many devices keeps a
 * bounded table.
 */
#ifndef BIOSTAT_SETS_H
#define BIOSTAT_SETS_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

#include "biostat.h"
#include "devices.h"

struct uset {
	__u64 bs;
	struct biostat_set_info info;
	bool have_info;
	bool named_with_info;
	bool gone;		/* bioset_exit() ran, or its entry vanished */
	bool seen;		/* found in the sets map in this pass */
	bool final;		/* its bioset_exit() record came: counts final */
	bool rename;		/* in the naming batch under way */
	unsigned int gone_ivls;	/* intervals since it went */
	char name[128];
	char caller[64];	/* first allocating function, "" unknown */
	struct biostat_counters cur, prev;
	__u64 ivl_wait_max_ns;	/* longest wait of the interval */
};

struct settab {
	struct uset *v;
	size_t n, cap;
	struct devlists *dl;
	__u64 fs_bio_set;	/* its address if known, else 0 */
	bool submissions;	/* fallback mode: only submissions are counted */
	int ncpus;
	struct biostat_counters *percpu;	/* ncpus values, for reading */
	int sets_fd, counters_fd;
	struct uset folded;	/* the gone sets folded: their sums */
	size_t nfolded;
};

#define SETTAB_GONE_KEPT 256

/* Dies without memory. */
void settab_init(struct settab *t, struct devlists *dl, int ncpus);
/* The maps to read, once the BPF object is loaded. */
void settab_bind(struct settab *t, int sets_fd, int counters_fd,
		 bool submissions);
void settab_free(struct settab *t);

/*
 * The live set at bs, named: a set new to the table comes with the others
 * new in the map (settab_read()), named in one batch with them (with -e,
 * the one read of /proc/kallsyms a new set's first event waits for).
 * NULL only without memory.
 */
struct uset *settab_get(struct settab *t, __u64 bs);

/*
 * Read every set's per-CPU counters into ->cur, adding the sets new in the
 * maps (unnamed: settab_name_new()).  interval: also take each set's
 * longest wait of the BPF side's interval gen, which has just ended
 * (tracer_next_interval()), into ->ivl_wait_max_ns.  Reads the maps only.
 */
void settab_read(struct settab *t, bool interval, __u64 gen);

/* A set's final record (bioset_exit): it is gone from now on. */
void settab_gone(struct settab *t, const struct biostat_gone_event *e);

/*
 * Name the sets that have no name yet, or were named before their
 * allocating stack was known and now have it, in one batch: one read of
 * /proc/kallsyms for all of them (and of the device lists if a device is
 * new).
 */
void settab_name_new(struct settab *t);

/*
 * The interval is over: what was read becomes the base of the next, and
 * gone sets beyond SETTAB_GONE_KEPT whose last counts were reported are
 * folded.
 */
void settab_next_interval(struct settab *t);

#endif
