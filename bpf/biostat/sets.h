/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sets.h - the set registry: a bio_set's index into the counters, handed
 * out at its first sighting with what names it (device, allocating stack,
 * clone or not), for every program that counts.  Inline: each part of the
 * object compiles its own copy; the maps behind it are shared (state.h).
 */
#ifndef BIOSTAT_SETS_H
#define BIOSTAT_SETS_H

#define CLONE_SCAN 6

/*
 * The allocating stack (ips, n bytes) of a bio_alloc_bioset() with no
 * vectors, at its exit: is it bio_alloc_clone()'s?  Its caller is among
 * the first frames (the program's, the trampoline's, the function's own);
 * a non-clone would have bio_alloc_clone() that near only through
 * reclaim, which is many frames deep.
 */
static __always_inline bool stack_is_clone(const __u64 *ips, long n)
{
	for (int i = 0; i < CLONE_SCAN && i < BIOSTAT_CALLER_DEPTH; i++) {
		if (i * 8 >= n)
			break;
		if (ips[i] >= clone_lo && ips[i] < clone_hi)
			return true;
	}
	return false;
}

/*
 * Take the allocating stack into si->caller: does it name the set?  Not
 * when the allocation may be a clone (maybe_clone) and the stack says it
 * is: bio_alloc_clone()'s exit names the set then, with the device of the
 * bio it copies.
 */
static __always_inline bool take_caller(void *ctx, struct biostat_set_info *si,
					bool maybe_clone)
{
	long n = bpf_get_stack(ctx, si->caller, sizeof(si->caller), 0);

	return n > 0 && !(maybe_clone && stack_is_clone(si->caller, n));
}

/*
 * The index of a set's counters, -1 if the tables are full.  The first
 * sighting hands out an index and remembers how to name the set (ctx: for
 * the allocating stack; NULL where the stack is not the allocator's).
 * dev 0 is "unknown": it neither names the set nor makes it MULTI_DEV.
 * maybe_clone: an allocation with no vectors (bio_alloc_clone()'s, or a
 * flush's): dev is the device the bio is for, which is a clone's device
 * below; the allocation names the set, and its dev counts, only if its
 * stack is not bio_alloc_clone()'s (that function's exit names it then).
 */
static __always_inline __s32 set_index(void *ctx, struct bio_set *bs, __u32 dev,
				     bool clone, bool maybe_clone)
{
	__u64 key = (__u64)bs;
	struct biostat_set_info *si = bpf_map_lookup_elem(&sets, &key);
	__u32 zero = 0, idx;

	if (si) {
		/*
		 * First seen where the stack is not the allocator's (7.2: a
		 * punt, before the allocation that punted returns): the first
		 * allocation's stack names it then.  Racy, harmless: the flag
		 * is set after the stack and the device.
		 */
		if (ctx && !(si->flags & BIOSTAT_SET_HAVE_CALLER) &&
		    take_caller(ctx, si, maybe_clone)) {
			if (!si->dev)
				si->dev = dev;
			if (clone)
				si->flags |= BIOSTAT_SET_CLONE;
			si->flags |= BIOSTAT_SET_HAVE_CALLER;
		}
		if (dev && !maybe_clone && si->dev != dev &&
		    !(si->flags & BIOSTAT_SET_MULTI_DEV)) {
			if (!si->dev)
				si->dev = dev;			/* racy, harmless */
			else
				si->flags |= BIOSTAT_SET_MULTI_DEV;
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
	si->dev = maybe_clone ? 0 : dev;
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
	if (ctx && take_caller(ctx, si, maybe_clone)) {
		si->dev = dev;
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

/*
 * set_index() through this CPU's cache of the program (who: SETC_*):
 * the hash map is looked up only for a pair the program has not seen on
 * this CPU since the last set went away.
 */
static __always_inline __s32 cached_index(void *ctx, __u32 who, struct bio_set *bs,
					  __u32 dev, bool clone, bool maybe_clone)
{
	struct set_cache *sc = bpf_map_lookup_elem(&set_cache, &who);
	__u64 gen = sets_gen;
	__s32 idx;
	__u32 i;

	if (!sc)
		return set_index(ctx, bs, dev, clone, maybe_clone);
	if (sc->gen != gen) {
		/* a set went away: its address and index may be reused */
		for (i = 0; i < SET_CACHE; i++)
			sc->e[i].bs = 0;
		sc->gen = gen;
	}
	for (i = 0; i < SET_CACHE; i++)
		if (sc->e[i].bs == (__u64)bs && sc->e[i].dev == dev)
			return sc->e[i].idx;
	idx = set_index(ctx, bs, dev, clone, maybe_clone);
	if (idx < 0)
		return idx;
	i = sc->next++ & (SET_CACHE - 1);
	sc->e[i].bs = (__u64)bs;
	sc->e[i].dev = dev;
	sc->e[i].idx = idx;
	return idx;
}

/* Counters of a set outside the allocation path (rescues). */
static __always_inline struct biostat_counters *set_counters(__u64 bs)
{
	return counters_of(set_index(NULL, (struct bio_set *)bs, 0, false, false));
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
		return counters_of(set_index(ctx, (struct bio_set *)bs, dev, f->clone,
					     false));
	return counters_of(set_index(NULL, (struct bio_set *)bs, dev, false, false));
}

#endif
