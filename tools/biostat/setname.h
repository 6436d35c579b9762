/* SPDX-License-Identifier: GPL-2.0 */
/*
 * setname.h - the name a user recognises for a bio_set: from its symbol,
 * its owner (dm target or core, dm-io client, md array, bcache) and the
 * device that owner serves, the queue it splits for, or the function that
 * allocated first.  Pure: works on device listings and a batch of
 * resolved symbols (ksyms.h) holding the set's addresses, handed in (unit
 * tested).
 */
#ifndef BIOSTAT_SETNAME_H
#define BIOSTAT_SETNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices.h"
#include "ksyms.h"

/* Everything known about one bio_set, to name it. */
struct set_desc {
	uint64_t bs;			/* its address */
	uint32_t kdev;			/* device of its first allocation */
	bool clone;			/* that allocation was a clone: kdev is
					 * the device of the bio it copies */
	const uint64_t *caller;		/* stack of the first allocation */
	unsigned int ncaller;
	uint64_t fs_bio_set;		/* &fs_bio_set if known, else 0 */
	uint32_t front_pad;		/* the set's front_pad, 0 if unknown */
};

/*
 * Name of a bio_set, in this order of preference:
 *  1. "fs_bio_set" when bs is the known address of fs_bio_set;
 *  2. the data symbol holding it: "blkdev_dio_pool", "sym+0x40",
 *     "sym[module]";
 *  3. its owner and the device the owner serves, "DEVICE:LABEL", the
 *     owner known from the allocating stack:
 *     - a device-mapper target (its module dm_X): LABEL is X with '-'
 *       for '_' (crypt, thin-pool, writecache, integrity, biopool);
 *     - dm core (dm_mod): "dm-core(io)" / "dm-core(tio)" (alloc_io,
 *       alloc_tio on the stack), "dm-core" when neither is;
 *     - a dm-io client (do_region() and the rest of dm-io): "kcopyd"
 *       under kcopyd, "X(dm-io)" under another module dm_X, else "dm-io";
 *     - md (md_mod, raid0/1/10/456, linear): LEVEL(ROLE), LEVEL from
 *       sysfs (raid1, raid5...), ROLE one of split (the personality's
 *       own bio_split), acct (the accounting clones: the only md set
 *       with a front_pad, whatever allocates from it first, e.g. 6.1's
 *       raid5 aligned reads; else md_account_bio on the stack), sync
 *       (md_super_write), clone (the array's bio_set: a member's clone,
 *       flushes);
 *     - bcache: "bcache", "bcache(cache-set)" (bch_data_insert_start),
 *       "bcache(detached)" (detached_dev_do_request).
 *     DEVICE is a device of the owner's kind (a dm name, an md array, a
 *     bcacheN): that of the allocation if it was a clone of a bio sent to
 *     such a device, else the first of that kind stacked on the
 *     allocation's device (holders, bcache's cache and backing devices),
 *     else the allocation's own, else "?".  Never a device the owner only
 *     sends I/O to.  Also "DMNAME:?" for a dm device's set without stack;
 *  4. a request queue's split set: "KNAME:queue-split" (dm name for dm);
 *  5. the allocating function: "func[module]" or "func";
 *  6. the raw address "0xffff...".
 * Returns the rule number used (1..6).
 */
int describe_set(const struct ksyms_batch *ks, const struct devlists *dl,
		 const struct set_desc *d, char *name, size_t n);

/* The first allocating function of d's stack (first_caller_frame()), or NULL. */
const char *set_caller_name(const struct ksyms_batch *ks, const struct set_desc *d);

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
int alloc_frames_start(const struct ksyms_batch *ks, const uint64_t *ips,
		       unsigned int n);

/*
 * Index in caller[] of the first frame, from alloc_frames_start() on,
 * that is not block-layer allocation plumbing or BPF/tracing machinery,
 * or -1.
 */
int first_caller_frame(const struct ksyms_batch *ks, const uint64_t *caller,
		       unsigned int ncaller);

#endif
