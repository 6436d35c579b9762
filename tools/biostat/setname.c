// SPDX-License-Identifier: GPL-2.0
/*
 * setname.c - naming a bio_set after what a user recognises (see
 * setname.h): its symbol; its owner (a dm target or dm core, a dm-io
 * client, an md array, bcache, a queue's splits) and the device the owner
 * serves; the function that allocated from it first.
 */
#include "setname.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "devices.h"

static const char *const plumbing[] = {
	"bio_alloc_bioset", "bio_alloc_clone", "bio_split", "bio_submit_split_bioset",
	"bio_alloc_percpu_cache", "bio_kmalloc", NULL,
};

static const char *const plumbing_prefix[] = {
	"bpf_", "__bpf_", "ftrace_", "kprobe", "__kprobe", "kretprobe",
	"__kretprobe", "arch_rethook", "rethook", "fprobe", NULL,
};

static const char *const queue_split[] = {
	"__bio_split_to_limits", "bio_split_to_limits", "bio_submit_split",
	"bio_split_rw", "bio_split_discard", "bio_split_write_zeroes", NULL,
};

/*
 * A kernel function's symbol: its name, or the name with the suffix the
 * compiler gave a copy of it (.part.N, .isra.N, .constprop.N, .cold, ...).
 */
bool func_name_is(const char *sym, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(sym, name, n) && (sym[n] == '\0' || sym[n] == '.');
}

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (func_name_is(s, *l))
			return true;
	return false;
}

static bool has_prefix(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strncmp(s, *l, strlen(*l)))
			return true;
	return false;
}

static bool is_plumbing(const struct ksyms_batch *ks, uint64_t addr)
{
	const struct ksym_at *s = ksyms_at(ks, addr);

	return s && ksym_is_text(s->type) && in_list(s->name, plumbing);
}

int alloc_frames_start(const struct ksyms_batch *ks, const uint64_t *ips,
		       unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && ips[i]; i++)
		if (is_plumbing(ks, ips[i]))
			return (int)i;
	return 0;
}

int first_caller_frame(const struct ksyms_batch *ks, const uint64_t *caller,
		       unsigned int ncaller)
{
	unsigned int i;

	for (i = (unsigned int)alloc_frames_start(ks, caller, ncaller);
	     i < ncaller && caller[i]; i++) {
		const struct ksym_at *s = ksyms_at(ks, caller[i]);

		if (!s || ksym_tracer_frame(ks, caller[i]))
			continue;
		if (in_list(s->name, plumbing) || has_prefix(s->name, plumbing_prefix))
			continue;
		return (int)i;
	}
	return -1;
}

/* ---- who owns a set: what kind of driver, which of its devices ---- */

enum owner_kind {
	OWN_NONE,	/* not known: the allocating function names it */
	OWN_SPLIT,	/* a request queue's split set */
	OWN_DM,		/* a device-mapper target's or dm core's set */
	OWN_DMIO,	/* a dm-io client's (dm core's dm-io and kcopyd) */
	OWN_MD,		/* an md array's */
	OWN_BCACHE,	/* bcache's */
};

/* dm core's dm-io and kcopyd (in dm_mod): their sets serve a client */
static const char *const dm_io_funcs[] = {
	"do_region", "dispatch_io", "sync_io", "async_io", "dm_io", NULL,
};

static const char *const kcopyd_funcs[] = {
	"run_io_job", "process_jobs", "do_work", "dm_kcopyd_copy",
	"dm_kcopyd_zero", "dispatch_job", NULL,
};

/*
 * dm core's two sets by the allocating function: alloc_io() and
 * alloc_tio(), or the functions they are inlined into (6.1 inlines
 * alloc_io() into dm_submit_bio()); a caller of both allocates from io_bs
 * first (dm_split_and_process_bio() calls alloc_io() before any tio).
 */
static const char *const dm_io_callers[] = {
	"alloc_io", "dm_submit_bio", "dm_split_and_process_bio", NULL,
};

static const char *const dm_tio_callers[] = {
	"alloc_tio", "__split_and_process_bio", "__send_duplicate_bios",
	"alloc_multiple_bios", "__send_empty_flush", "__send_changing_extent_only",
	"__send_abnormal_io", "__clone_and_map_simple_bio", NULL,
};

/* modules of md: the array's personality is its level in sysfs */
static const char *const md_mods[] = {
	"md_mod", "raid0", "raid1", "raid10", "raid456", "linear", NULL,
};

static bool mod_is(const struct ksym_at *s, const char *mod)
{
	return s && !strcmp(s->mod, mod);
}

static bool mod_in(const struct ksym_at *s, const char *const *l)
{
	for (; s && *l; l++)
		if (!strcmp(s->mod, *l))
			return true;
	return false;
}

/* what a caller stack says: the owner's kind and a label for the set */
struct owner {
	enum owner_kind kind;
	char label[64];		/* "crypt", "dm-core(io)", "(split)", ... */
};

static const struct ksym_at *frame_sym(const struct ksyms_batch *ks, uint64_t ip)
{
	const struct ksym_at *s = ksyms_at(ks, ip);

	return s && !ksym_tracer_frame(ks, ip) ? s : NULL;
}

/* "dm_thin_pool" -> "thin-pool" */
static void target_of_mod(const char *mod, char *buf, size_t n)
{
	size_t i;

	snprintf(buf, n, "%s", !strncmp(mod, "dm_", 3) && mod[3] ? mod + 3 : mod);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '_')
			buf[i] = '-';
}

/* Any frame from i on in one of the functions of l? */
static bool stack_has(const struct ksyms_batch *ks, const uint64_t *ips,
		      unsigned int i, unsigned int n, const char *const *l)
{
	for (; i < n && ips[i]; i++) {
		const struct ksym_at *s = frame_sym(ks, ips[i]);

		if (s && in_list(s->name, l))
			return true;
	}
	return false;
}

/* A set used through dm-io: whose client it is, from the frames above. */
static void dmio_label(const struct ksyms_batch *ks, const uint64_t *ips,
		       unsigned int i, unsigned int n, char *buf, size_t bn)
{
	char t[48];

	for (; i < n && ips[i]; i++) {
		const struct ksym_at *s = frame_sym(ks, ips[i]);

		if (!s)
			continue;
		if (in_list(s->name, kcopyd_funcs)) {
			snprintf(buf, bn, "kcopyd");
			return;
		}
		if (s->mod[0] && strcmp(s->mod, "dm_mod")) {
			target_of_mod(s->mod, t, sizeof(t));
			snprintf(buf, bn, "%s(dm-io)", t);
			return;
		}
	}
	snprintf(buf, bn, "dm-io");
}

static void owner_of(const struct ksyms_batch *ks, const uint64_t *ips,
		     unsigned int n, uint32_t front_pad, struct owner *o)
{
	static const char *const md_acct[] = { "md_account_bio", "md_clone_bio", NULL };
	static const char *const md_sync[] = { "md_super_write", "md_write_metadata", NULL };
	static const char *const bc_set[] = { "bch_data_insert_start", NULL };
	static const char *const bc_det[] = { "detached_dev_do_request", NULL };
	static const char *const drv_split[] = { "bio_split", "bio_submit_split_bioset", NULL };
	unsigned int start = (unsigned int)alloc_frames_start(ks, ips, n);
	int fi = first_caller_frame(ks, ips, n);
	const struct ksym_at *c;
	bool split;

	memset(o, 0, sizeof(*o));
	if (fi < 0)
		return;
	c = ksyms_at(ks, ips[fi]);
	/* a bio_split() below the caller: the caller's own split set */
	split = false;
	for (unsigned int i = start; i < (unsigned int)fi; i++) {
		const struct ksym_at *s = frame_sym(ks, ips[i]);

		if (s && in_list(s->name, drv_split))
			split = true;
	}
	if (in_list(c->name, queue_split)) {
		o->kind = OWN_SPLIT;
		snprintf(o->label, sizeof(o->label), "queue-split");
	} else if (mod_is(c, "dm_mod") && in_list(c->name, dm_io_funcs)) {
		o->kind = OWN_DMIO;
		dmio_label(ks, ips, (unsigned int)fi, n, o->label, sizeof(o->label));
	} else if (mod_is(c, "dm_mod") || func_name_is(c->name, "alloc_io") ||
		   func_name_is(c->name, "alloc_tio")) {
		o->kind = OWN_DM;
		snprintf(o->label, sizeof(o->label), "dm-core%s",
			 in_list(c->name, dm_io_callers) ? "(io)" :
			 in_list(c->name, dm_tio_callers) ? "(tio)" : "");
	} else if (!strncmp(c->mod, "dm_", 3)) {
		o->kind = OWN_DM;
		target_of_mod(c->mod, o->label, sizeof(o->label));
	} else if (mod_in(c, md_mods)) {
		o->kind = OWN_MD;
		snprintf(o->label, sizeof(o->label), "(%s)", split ? "split" :
			 front_pad || stack_has(ks, ips, (unsigned int)fi, n, md_acct) ? "acct" :
			 stack_has(ks, ips, (unsigned int)fi, n, md_sync) ? "sync" :
			 "clone");
	} else if (mod_is(c, "bcache")) {
		o->kind = OWN_BCACHE;
		snprintf(o->label, sizeof(o->label), "bcache%s",
			 stack_has(ks, ips, (unsigned int)fi, n, bc_set) ? "(cache-set)" :
			 stack_has(ks, ips, (unsigned int)fi, n, bc_det) ? "(detached)" : "");
	}
}

/* Is kname a device of the owner's kind? */
static bool of_kind(const struct devlists *dl, enum owner_kind k,
		    const char *kname)
{
	unsigned int ma, mi;

	switch (k) {
	case OWN_DM:
	case OWN_DMIO:
		return !devlist_by_name(dl->blk, kname, &ma, &mi) &&
		       !devlist_by_dev(dl->dm, ma, mi, NULL, 0);
	case OWN_MD:
		return !devpairs_get(dl->md, kname, 0, NULL, 0);
	case OWN_BCACHE:
		return !strncmp(kname, "bcache", 6);
	default:
		return true;
	}
}

/*
 * The device the owner serves, by kernel name, into own: the device of
 * the allocation (a clone's is the bio it copies: the owner's own, when
 * the owner clones what it was sent), else the device of the owner's kind
 * stacked on it (a new bio is for the device below).  -1: none.
 */
static int owner_dev(const struct devlists *dl, enum owner_kind k,
		     const char *kname, bool clone, char *own, size_t n)
{
	char h[64];
	int i;

	if (clone && of_kind(dl, k, kname)) {
		snprintf(own, n, "%s", kname);
		return 0;
	}
	for (i = 0; !devpairs_get(dl->holders, kname, i, h, sizeof(h)); i++)
		if (of_kind(dl, k, h)) {
			snprintf(own, n, "%s", h);
			return 0;
		}
	if (of_kind(dl, k, kname)) {
		snprintf(own, n, "%s", kname);
		return 0;
	}
	return -1;
}

/* "md0:raid1(split)", "cr0:crypt", "bcache0:bcache", "?:crypt" */
static void owner_name(const struct devlists *dl, const struct owner *o,
		       const char *own, char *name, size_t n)
{
	unsigned int ma, mi;
	char dn[128], level[32];

	if (!own) {
		snprintf(name, n, "?:%s", o->label);
		return;
	}
	if (!devlist_by_name(dl->blk, own, &ma, &mi) &&
	    !devlist_by_dev(dl->dm, ma, mi, dn, sizeof(dn)))
		own = dn;
	if (o->kind == OWN_MD) {
		if (devpairs_get(dl->md, own, 0, level, sizeof(level)))
			snprintf(level, sizeof(level), "md");
		snprintf(name, n, "%s:%s%s", own, level, o->label);
		return;
	}
	snprintf(name, n, "%s:%s", own, o->label);
}

int describe_set(const struct ksyms_batch *ks, const struct devlists *dl,
		 const struct set_desc *d, char *name, size_t n)
{
	const struct ksym_at *s, *c = NULL;
	unsigned int maj = BIOSTAT_KDEV_MAJOR(d->kdev), min = BIOSTAT_KDEV_MINOR(d->kdev);
	char kname[64], own[64];
	struct owner o = { .kind = OWN_NONE };
	int fi;

	if (d->fs_bio_set && d->bs == d->fs_bio_set) {
		snprintf(name, n, "fs_bio_set");
		return 1;
	}
	s = ksyms_at(ks, d->bs);
	if (s && ksym_is_data(s->type) && d->bs - s->sym < 65536) {
		char off[32] = "";

		if (d->bs != s->sym)
			snprintf(off, sizeof(off), "+0x%" PRIx64, d->bs - s->sym);
		if (s->mod[0])
			snprintf(name, n, "%s%s[%s]", s->name, off, s->mod);
		else
			snprintf(name, n, "%s%s", s->name, off);
		return 2;
	}
	fi = d->caller ? first_caller_frame(ks, d->caller, d->ncaller) : -1;
	if (fi >= 0) {
		c = ksyms_at(ks, d->caller[fi]);
		owner_of(ks, d->caller, d->ncaller, d->front_pad, &o);
	}
	kname[0] = '\0';
	if (d->kdev && devlist_by_dev(dl->blk, maj, min, kname, sizeof(kname)))
		snprintf(kname, sizeof(kname), "%u:%u", maj, min);
	if (o.kind == OWN_SPLIT && kname[0]) {
		owner_name(dl, &o, kname, name, n);
		return 4;
	}
	if (o.kind != OWN_NONE && o.kind != OWN_SPLIT) {
		bool found = kname[0] &&
			     !owner_dev(dl, o.kind, kname, d->clone, own, sizeof(own));

		owner_name(dl, &o, found ? own : NULL, name, n);
		return 3;
	}
	if (!c && kname[0] && !devlist_by_dev(dl->dm, maj, min, own, sizeof(own))) {
		/* a dm device's set, nothing known of who allocates */
		snprintf(name, n, "%s:?", own);
		return 3;
	}
	if (c) {
		if (c->mod[0])
			snprintf(name, n, "%s[%s]", c->name, c->mod);
		else
			snprintf(name, n, "%s", c->name);
		return 5;
	}
	snprintf(name, n, "0x%" PRIx64, d->bs);
	return 6;
}

const char *set_caller_name(const struct ksyms_batch *ks, const struct set_desc *d)
{
	int fi = d->caller ? first_caller_frame(ks, d->caller, d->ncaller) : -1;
	const struct ksym_at *c = fi >= 0 ? ksyms_at(ks, d->caller[fi]) : NULL;

	return c ? c->name : NULL;
}
