// SPDX-License-Identifier: GPL-2.0
/*
 * setname.c - naming a bio_set after what a user recognises (see
 * setname.h): its symbol, its dm device and target, its queue, the
 * function that allocated from it first.
 */
#include "setname.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "devices.h"

static const char *const plumbing[] = {
	"bio_alloc_bioset", "bio_alloc_clone", "bio_split",
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

static bool is_plumbing(const struct ksyms *ks, uint64_t addr)
{
	const struct ksym *s = ksyms_resolve(ks, addr, NULL);

	return s && ksym_is_text(s) && in_list(s->name, plumbing);
}

int alloc_frames_start(const struct ksyms *ks, const uint64_t *ips,
		       unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && ips[i]; i++)
		if (is_plumbing(ks, ips[i]))
			return (int)i;
	return 0;
}

int first_caller_frame(const struct ksyms *ks, const uint64_t *caller,
		       unsigned int ncaller)
{
	unsigned int i;

	for (i = (unsigned int)alloc_frames_start(ks, caller, ncaller);
	     i < ncaller && caller[i]; i++) {
		const struct ksym *s = ksyms_resolve(ks, caller[i], NULL);

		if (!s || !ksym_is_text(s) || ksym_is_trace_artifact(ks, caller[i]))
			continue;
		if (in_list(s->name, plumbing) || has_prefix(s->name, plumbing_prefix))
			continue;
		return (int)i;
	}
	return -1;
}

/* "dm_biopool" -> "biopool", "dm_mod"/alloc_io -> "dm-core(io)" */
static void dm_target_label(const struct ksym *c, char *buf, size_t n)
{
	const char *sub = "";

	if (!c) {
		snprintf(buf, n, "?");
		return;
	}
	if (func_name_is(c->name, "alloc_io"))
		sub = "(io)";
	else if (func_name_is(c->name, "alloc_tio"))
		sub = "(tio)";
	if ((c->mod && !strcmp(c->mod, "dm_mod")) || *sub)
		snprintf(buf, n, "dm-core%s", sub);
	else if (c->mod && !strncmp(c->mod, "dm_", 3) && c->mod[3])
		snprintf(buf, n, "%s", c->mod + 3);
	else if (c->mod)
		snprintf(buf, n, "%s", c->mod);
	else
		snprintf(buf, n, "%s", c->name);
}

int describe_set(const struct ksyms *ks, const char *dm_list,
		 const char *blk_list, const struct set_desc *d,
		 char *name, size_t n)
{
	const struct ksym *s, *c = NULL;
	unsigned int maj = BIOSTAT_KDEV_MAJOR(d->kdev), min = BIOSTAT_KDEV_MINOR(d->kdev);
	char dmname[128], kname[64], label[96];
	int fi;

	if (d->fs_bio_set && d->bs == d->fs_bio_set) {
		snprintf(name, n, "fs_bio_set");
		return 1;
	}
	s = ksyms_lookup(ks, d->bs);
	if (s && ksym_is_data(s) && d->bs - s->addr < 65536) {
		char off[32] = "";

		if (d->bs != s->addr)
			snprintf(off, sizeof(off), "+0x%" PRIx64, d->bs - s->addr);
		if (s->mod)
			snprintf(name, n, "%s%s[%s]", s->name, off, s->mod);
		else
			snprintf(name, n, "%s%s", s->name, off);
		return 2;
	}
	fi = d->caller ? first_caller_frame(ks, d->caller, d->ncaller) : -1;
	if (fi >= 0)
		c = ksyms_resolve(ks, d->caller[fi], NULL);
	dmname[0] = kname[0] = '\0';
	if (d->kdev) {
		if (devlist_by_dev(dm_list, maj, min, dmname, sizeof(dmname)))
			dmname[0] = '\0';
		if (devlist_by_dev(blk_list, maj, min, kname, sizeof(kname)))
			snprintf(kname, sizeof(kname), "%u:%u", maj, min);
	}
	if (c && in_list(c->name, queue_split) && d->kdev) {
		snprintf(name, n, "%s:queue-split", dmname[0] ? dmname : kname);
		return 4;
	}
	if (dmname[0]) {
		dm_target_label(c, label, sizeof(label));
		snprintf(name, n, "%s:%s", dmname, label);
		return 3;
	}
	if (c) {
		if (c->mod)
			snprintf(name, n, "%s[%s]", c->name, c->mod);
		else
			snprintf(name, n, "%s", c->name);
		return 5;
	}
	snprintf(name, n, "0x%" PRIx64, d->bs);
	return 6;
}
