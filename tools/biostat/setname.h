/* SPDX-License-Identifier: GPL-2.0 */
/*
 * setname.h - the name a user recognises for a bio_set: from its symbol,
 * the device-mapper device and target that allocate from it, the queue it
 * splits for, or the function that allocated first.  Pure: works on a
 * symbol table and device listings handed in (unit tested).
 */
#ifndef BIOSTAT_SETNAME_H
#define BIOSTAT_SETNAME_H

#include <stddef.h>
#include <stdint.h>

#include "ksyms.h"

/* Everything known about one bio_set, to name it. */
struct set_desc {
	uint64_t bs;			/* its address */
	uint32_t kdev;			/* device of its first allocation */
	const uint64_t *caller;		/* stack of the first allocation */
	unsigned int ncaller;
	uint64_t fs_bio_set;		/* &fs_bio_set if known, else 0 */
};

/*
 * Name of a bio_set, in this order of preference:
 *  1. "fs_bio_set" when bs is the known address of fs_bio_set;
 *  2. the data symbol holding it: "blkdev_dio_pool", "sym+0x40",
 *     "sym[module]";
 *  3. for a set of a device-mapper device: "DMNAME:TARGET", TARGET from the
 *     module of the code that allocated (dm_biopool -> biopool, dm_mod ->
 *     dm-core, with "(io)"/"(tio)" for dm core's two sets);
 *  4. a request queue's split set: "KNAME:queue-split";
 *  5. the allocating function: "func[module]" or "func";
 *  6. the raw address "0xffff...".
 * Returns the rule number used (1..6).
 */
int describe_set(const struct ksyms *ks, const char *dm_list,
		 const char *blk_list, const struct set_desc *d,
		 char *name, size_t n);

/*
 * Is sym the function name, or a copy of it the compiler made
 * (name.part.N, name.isra.N, name.constprop.N, name.cold)?
 */
bool func_name_is(const char *sym, const char *name);

/*
 * Index in ips[] of the first frame in a bio allocation function
 * (bio_alloc_bioset(), bio_alloc_clone(), ...), or 0 if there is none.
 * The frames above it are the tracer's own: its program and trampoline,
 * which are not always in kallsyms (on 6.1 a trampoline's address can
 * resolve to whatever module symbol lies below it).
 */
int alloc_frames_start(const struct ksyms *ks, const uint64_t *ips,
		       unsigned int n);

/*
 * Index in caller[] of the first frame, from alloc_frames_start() on,
 * that is not block-layer allocation plumbing or BPF/tracing machinery,
 * or -1.
 */
int first_caller_frame(const struct ksyms *ks, const uint64_t *caller,
		       unsigned int ncaller);

#endif
