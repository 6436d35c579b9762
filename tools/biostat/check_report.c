// SPDX-License-Identifier: GPL-2.0
/*
 * check_report.c - the report of "biostat check": each call site found
 * (violations, blocked allocations, the other rules' sites, hand-offs,
 * undecided candidates) with the rule it breaks, its set, device, gfp
 * mask, both kernel stacks and the fix, as text or JSON, then a summary
 * with what the BPF side could not track.  See check.c for the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "check_sites.h"
#include "common.h"
#include "json.h"
#include "report.h"
#include "setname.h"

static const char *const cerr_names[BIOSTAT_CERR_NR] = {
	[BIOSTAT_CERR_HELD_FULL] = "held_map_full",
	[BIOSTAT_CERR_TASKSET_FULL] = "taskset_map_full",
	[BIOSTAT_CERR_SITES_FULL] = "site_map_full",
	[BIOSTAT_CERR_STACK] = "stack_unavailable",
	[BIOSTAT_CERR_ALLOCS] = "allocations",
	[BIOSTAT_CERR_NOSLEEP_HELD] = "nosleep_while_held",
	[BIOSTAT_CERR_PENDING_FULL] = "pending_map_full",
	[BIOSTAT_CERR_NO_FIRST] = "held_bio_unknown",
	[BIOSTAT_CERR_HAZARDS_FULL] = "hazard_map_full",
	[BIOSTAT_CERR_LIST_CUT] = "bio_list_walk_cut",
	[BIOSTAT_CERR_IRQ] = "interrupt_context",
	[BIOSTAT_CERR_ANC_FULL] = "ancestry_map_full",
	[BIOSTAT_CERR_ELEMS_FULL] = "element_map_full",
	[BIOSTAT_CERR_BLOCKED_FULL] = "blocked_map_full",
	[BIOSTAT_CERR_WALKS] = "first_stacks_walked",
};

/* cerrs that are drops: what was not tracked */
static bool cerr_is_drop(int k)
{
	return k < BIOSTAT_CERR_ALLOCS || k == BIOSTAT_CERR_PENDING_FULL ||
	       (k >= BIOSTAT_CERR_HAZARDS_FULL && k != BIOSTAT_CERR_IRQ &&
		k != BIOSTAT_CERR_WALKS);
}

/*
 * What each kind of site is: its JSON type, its text heading, the
 * statement of bio_alloc_bioset()'s kernel-doc it breaks, and the fix.
 */
enum kind { K_VIOLATION, K_HANDOFF, K_UNDECIDED, K_BLOCKED, K_NO_RESCUER,
	    K_MEMPOOL, K_SHARED, K_FS_BIO_SET, K_NR };

static const struct {
	const char *type, *head, *rule, *fix;
	int number;	/* the kernel-doc statement, biostat.8 CHECK MODE */
	bool counts;	/* exit status 3 */
} kinds[K_NR] = {
	[K_VIOLATION] = { "violation", "VIOLATION",
		"callers must never allocate more than 1 bio at a time from the general pool",
		"submit the held bio before allocating the next one", 1, true },
	[K_HANDOFF] = { "handoff", "HANDOFF",
		"callers must never allocate more than 1 bio at a time from the general pool",
		"none needed: another task submitted or freed the held bio", 1, false },
	[K_UNDECIDED] = { "undecided", "UNDECIDED",
		"callers must never allocate more than 1 bio at a time from the general pool",
		"none known yet: the held bio's fate was not seen", 1, false },
	[K_BLOCKED] = { "blocked", "BLOCKED",
		"callers must never allocate more than 1 bio at a time from the general pool",
		"submit the held bio before allocating the next one", 1, true },
	[K_NO_RESCUER] = { "no_rescuer", "NO RESCUER",
		"bios are not submitted until after you return ... we have deadlock avoidance code that resubmits any blocked bios from a rescuer thread",
		"give the set a rescuer (BIOSET_NEED_RESCUER)", 2, true },
	[K_MEMPOOL] = { "mempool", "MEMPOOL",
		"we do not guarantee forward progress for allocations from other mempools ... use bio_set's front_pad for per bio allocations",
		"put per-bio data in front_pad", 3, true },
	[K_SHARED] = { "shared_set", "SHARED SET",
		"callers must never allocate more than 1 bio at a time from the general pool: a level further up holds one",
		"use a bio_set of your own at each level", 4, true },
	[K_FS_BIO_SET] = { "fs_bio_set", "FS_BIO_SET",
		"callers must never allocate more than 1 bio at a time from the general pool: fs_bio_set is shared with every level",
		"use a bio_set of your own at each level", 4, true },
};

static enum kind rule_kind(__u32 rule)
{
	switch (rule) {
	case BIOSTAT_RULE_NO_RESCUER: return K_NO_RESCUER;
	case BIOSTAT_RULE_MEMPOOL: return K_MEMPOOL;
	case BIOSTAT_RULE_SHARED: return K_SHARED;
	case BIOSTAT_RULE_FS_BIO_SET: return K_FS_BIO_SET;
	default: return K_VIOLATION;
	}
}

/* ------------------------------------------------------------ naming */

/* "GFP_NOIO" etc. from the reclaim, IO and FS bits (same on 6.1 and 6.12). */
static const char *gfp_name(__u32 gfp)
{
	bool direct = gfp & 0x400, kswapd = gfp & 0x800;
	bool io = gfp & 0x40, fs = gfp & 0x80, high = gfp & 0x20;

	if (direct && kswapd)
		return io && fs ? "GFP_KERNEL" : io ? "GFP_NOFS" :
		       fs ? "GFP_NOIO|__GFP_FS" : "GFP_NOIO";
	if (direct)
		return "__GFP_DIRECT_RECLAIM";
	if (kswapd)
		return high ? "GFP_ATOMIC" : "GFP_NOWAIT";
	return high ? "__GFP_HIGH" : "no reclaim";
}


/* Where a recorded stack starts for the reader: see alloc_frames_start(). */
static int stack_start(const struct ksyms_batch *ks, const __u64 *ips)
{
	uint64_t v[BIOSTAT_CHECK_STACK_DEPTH];

	for (int i = 0; i < BIOSTAT_CHECK_STACK_DEPTH; i++)
		v[i] = ips[i];
	return alloc_frames_start(ks, v, BIOSTAT_CHECK_STACK_DEPTH);
}

static int get_stack(int fd, __s64 id, __u64 *ips)
{
	__u32 k = (__u32)id;

	memset(ips, 0, BIOSTAT_CHECK_STACK_DEPTH * sizeof(*ips));
	if (id < 0 || bpf_map_lookup_elem(fd, &k, ips))
		return -1;
	return 0;
}

/* A mempool is named after the function that allocates from it. */
static void pool_name(const struct ksyms_batch *ks, const __u64 *ips, bool ok,
		      char *buf, size_t n)
{
	if (ok) {
		for (int i = stack_start(ks, ips); i < BIOSTAT_CHECK_STACK_DEPTH &&
		     ips[i]; i++) {
			const struct ksym_at *sym = ksyms_at(ks, ips[i]);

			if (ksym_tracer_frame(ks, ips[i]) || !strncmp(sym->name, "mempool_", 8))
				continue;
			/* cut to fit (its result looked at: no truncation warning) */
			if (snprintf(buf, n, "mempool of %s%s%s%s", sym->name,
				     sym->mod[0] ? " [" : "", sym->mod,
				     sym->mod[0] ? "]" : "") >= 0)
				return;
		}
	}
	snprintf(buf, n, "mempool");
}

static void set_name(struct check *c, const struct site *s,
		     const __u64 *second, bool have2, char *buf, size_t n)
{
	const struct ksyms_batch *ks = &c->frames;
	struct ksym_name fsb = symtab_named(&c->syms, "fs_bio_set");
	uint64_t caller[BIOSTAT_CHECK_STACK_DEPTH];
	struct set_desc d = {
		.bs = s->k.bs,
		.kdev = s->v.dev,
		.clone = s->v.flags & BIOSTAT_CHECK_CLONE,
		.caller = NULL,
		.ncaller = 0,
		.fs_bio_set = ksym_is_data(fsb.type) ? fsb.addr : 0,
	};
	unsigned int i, j = 0;

	if (s->k.rule == BIOSTAT_RULE_MEMPOOL) {
		pool_name(ks, second, have2, buf, n);
		return;
	}
	if (have2) {
		/* drop trampoline frames so the allocator comes first */
		for (i = (unsigned int)stack_start(ks, second);
		     i < BIOSTAT_CHECK_STACK_DEPTH && second[i]; i++)
			if (!ksym_tracer_frame(ks, second[i]))
				caller[j++] = second[i];
		d.caller = caller;
		d.ncaller = j;
	}
	describe_set(ks, &c->dl, &d, buf, n);
}

static void dev_name(const struct check *c, __u32 kdev, char *buf, size_t n)
{
	struct dev_names d;
	const char *label;

	dev_names_of(&c->dl, kdev, &d);
	label = dev_names_label(&d);
	if (kdev && label != d.devnum)
		snprintf(buf, n, "%s (%s)", label, d.devnum);
	else
		snprintf(buf, n, "%s", label);
}

static void print_stack_text(const struct ksyms_batch *ks, const char *title,
			     const __u64 *ips, bool ok)
{
	char sym[256];
	int i;

	printf("  %s:\n", title);
	if (!ok) {
		printf("    (stack not available)\n");
		return;
	}
	for (i = stack_start(ks, ips); i < BIOSTAT_CHECK_STACK_DEPTH && ips[i];
	     i++) {
		if (ksym_tracer_frame(ks, ips[i]))
			continue;
		ksym_format(ks, ips[i], sym, sizeof(sym));
		printf("    %s\n", sym);
	}
}

static void json_stack(const struct ksyms_batch *ks, struct json *j, const char *key,
		       const __u64 *ips, bool ok)
{
	char sym[256];
	int i;

	json_key(j, key);
	if (!ok) {
		json_null(j);
		return;
	}
	json_arr_begin(j);
	for (i = stack_start(ks, ips); i < BIOSTAT_CHECK_STACK_DEPTH && ips[i];
	     i++) {
		if (ksym_tracer_frame(ks, ips[i]))
			continue;
		ksym_format(ks, ips[i], sym, sizeof(sym));
		json_str(j, sym);
	}
	json_arr_end(j);
}

/* Does a violation concern the -d device (its own dev, or its set's name)? */
static bool dev_matches(const struct check *c, const struct site *s,
			const char *setname)
{
	char nm[128];
	size_t l;

	if (!c->o.device)
		return true;
	if (s->v.dev == c->kdev)
		return true;
	/* dm core's sets are allocated with no bdev: match "NAME:" prefixes */
	if (!devlist_by_dev(c->dl.dm, BIOSTAT_KDEV_MAJOR(c->kdev),
			    BIOSTAT_KDEV_MINOR(c->kdev), nm, sizeof(nm))) {
		l = strlen(nm);
		if (!strncmp(setname, nm, l) && setname[l] == ':')
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ report */

/* Seconds a blocked allocation had run when checking ended. */
static double blocked_for(const struct check *c, const struct site *s)
{
	double t = c->stop - (double)s->v.first_ns / 1e9;

	return t > 0 ? t : 0;
}

static void site_json(struct check *c, struct json *j, enum kind kind,
		      const struct site *s, const char *name,
		      const __u64 *ips1, bool ok1, const __u64 *ips2, bool ok2)
{
	const struct ksyms_batch *ks = &c->frames;
	struct dev_names dev;
	char hex[32];

	json_record_begin(j, kinds[kind].type, mono_now(), NULL);
	json_kv_u64(j, "rule", (uint64_t)kinds[kind].number);
	json_kv_str(j, "rule_text", kinds[kind].rule);
	json_kv_str(j, "fix", kinds[kind].fix);
	if (kind == K_BLOCKED)
		json_kv_double(j, "blocked_seconds", blocked_for(c, s), 1);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)s->k.bs);
	json_kv_str(j, "bio_set", hex);
	json_kv_str(j, "name", name);
	dev_names_of(&c->dl, s->v.dev, &dev);
	json_device(j, &dev);
	json_kv_str(j, "comm", s->v.comm);
	json_kv_u64(j, "pid", s->v.pid);
	json_kv_u64(j, "tid", s->v.tid);
	snprintf(hex, sizeof(hex), "0x%x", s->v.gfp_first);
	json_kv_str(j, "gfp_first", hex);
	json_kv_str(j, "gfp_first_name", gfp_name(s->v.gfp_first));
	snprintf(hex, sizeof(hex), "0x%x", s->v.gfp_second);
	json_kv_str(j, "gfp_second", hex);
	json_kv_str(j, "gfp_second_name", gfp_name(s->v.gfp_second));
	json_kv_u64(j, "held", s->v.held);
	json_kv_u64(j, "held_max", s->v.held_max);
	json_kv_u64(j, "count", s->v.count);
	json_kv_bool(j, "in_submit_bio", s->v.flags & BIOSTAT_CHECK_IN_SUBMIT);
	json_kv_bool(j, "rescuer", s->v.flags & BIOSTAT_CHECK_RESCUER);
	json_kv_bool(j, "plugged", s->v.flags & BIOSTAT_CHECK_PLUGGED);
	json_stack(ks, j, "stack_first", ips1, ok1);
	json_stack(ks, j, "stack_second", ips2, ok2);
	json_record_end(j);
}

/* What the site is, for the text report. */
static const char *const what_text[K_NR] = {
	[K_VIOLATION] = "the same task submitted or freed the held bio afterwards",
	[K_HANDOFF] = "another task submitted or freed the held bio: a hand-off, not a violation",
	[K_UNDECIDED] = "the held bio was neither submitted nor freed while checking: not decided",
	[K_BLOCKED] = "the new allocation had not returned when checking ended",
	[K_NO_RESCUER] = "inside ->submit_bio, a bio of this set waits on current->bio_list and the set has no rescuer to submit it",
	[K_MEMPOOL] = "inside ->submit_bio, a second element of this mempool while the first is live and a bio waits on current->bio_list",
	[K_SHARED] = "inside ->submit_bio, a clone from the set that the bio it copies (or that bio's source) came from",
	[K_FS_BIO_SET] = "inside ->submit_bio, an allocation from fs_bio_set, which the levels above use too",
};

static void site_text(struct check *c, enum kind kind, const struct site *s,
		      const char *name, const char *dev, const __u64 *ips1,
		      bool ok1, const __u64 *ips2, bool ok2)
{
	const struct ksyms_batch *ks = &c->frames;
	bool hold = kinds[kind].number == 1;

	printf("%s %s %s (0x%llx) dev %s\n", kinds[kind].head,
	       kind == K_MEMPOOL ? "pool" : "bio_set", name,
	       (unsigned long long)s->k.bs, dev);
	printf("  rule %d: \"%s\"\n", kinds[kind].number, kinds[kind].rule);
	if (hold)
		printf("  task %s pid %u tid %u: allocated with %u bio(s) from this set "
		       "still held (at most %u), %llu time(s) at this site\n",
		       s->v.comm, s->v.pid, s->v.tid, s->v.held, s->v.held_max,
		       (unsigned long long)s->v.count);
	else
		printf("  task %s pid %u tid %u: %llu time(s) at this site\n",
		       s->v.comm, s->v.pid, s->v.tid,
		       (unsigned long long)s->v.count);
	if (kind == K_HANDOFF && (s->v.flags & BIOSTAT_CHECK_PLUGGED))
		printf("  made while the task had bios parked on its plug, which is "
		       "flushed whenever it sleeps: not held, not a violation");
	else if (kind == K_MEMPOOL && (s->v.flags & BIOSTAT_CHECK_PLUGGED))
		printf("  %s; the task had bios parked on its plug (flushed if it "
		       "sleeps: safe if the live element waits on those)",
		       what_text[kind]);
	else
		printf("  %s", what_text[kind]);
	if (kind == K_BLOCKED)
		printf(" (blocked for %.1f s)", blocked_for(c, s));
	printf("\n");
	if (hold)
		printf("  gfp of the held bio: %s (0x%x); of the new one: %s (0x%x)",
		       gfp_name(s->v.gfp_first), s->v.gfp_first,
		       gfp_name(s->v.gfp_second), s->v.gfp_second);
	else
		printf("  gfp: %s (0x%x)", gfp_name(s->v.gfp_second), s->v.gfp_second);
	if (kind != K_MEMPOOL)
		printf("%s%s", s->v.flags & BIOSTAT_CHECK_IN_SUBMIT ? "; inside ->submit_bio" : "",
		       s->v.flags & BIOSTAT_CHECK_RESCUER ? "; set has a rescuer" :
		       "; set has no rescuer");
	printf("\n  fix: %s\n", kinds[kind].fix);
	/* rule 4 knows the set of the bio served further up, not its stack */
	if (kind != K_SHARED && kind != K_FS_BIO_SET)
		print_stack_text(ks, kind == K_MEMPOOL ? "live element allocated at" :
				 kind == K_NO_RESCUER ? "queued bio allocated at" :
				 "held bio allocated at", ips1,
				 ok1 && s->k.stack_first >= 0);
	print_stack_text(ks, kind == K_MEMPOOL ? "new element allocated at" :
			 "new bio allocated at", ips2, ok2);
	printf("\n");
}

/* What was shown of each kind, after the -d filter. */
struct shown {
	size_t sites[K_NR], sets, times[K_NR];
};

static void summary(const struct check *c, struct json *j, const struct shown *sh)
{
	const __u64 *e = c->cerrs;

	if (!c->o.json) {
		printf("%zu violation site(s) in %zu bio_set(s); %llu allocations checked "
		       "in %.1f s (%llu made while holding, unable to sleep: not "
		       "violations)\n", sh->sites[K_VIOLATION], sh->sets,
		       (unsigned long long)e[BIOSTAT_CERR_ALLOCS], c->stop - c->start,
		       (unsigned long long)e[BIOSTAT_CERR_NOSLEEP_HELD]);
		printf("%zu blocked allocation(s); sites of the other rules: %zu no "
		       "rescuer, %zu mempool%s, %zu shared set, %zu fs_bio_set\n",
		       sh->sites[K_BLOCKED], sh->sites[K_NO_RESCUER],
		       sh->sites[K_MEMPOOL], c->pools ? "" : " (not checked)",
		       sh->sites[K_SHARED], sh->sites[K_FS_BIO_SET]);
		printf("%zu hand-off(s) at %zu site(s), %zu undecided at %zu site(s) "
		       "(not violations); %llu candidate(s) with no known held bio\n",
		       sh->times[K_HANDOFF], sh->sites[K_HANDOFF],
		       sh->times[K_UNDECIDED], sh->sites[K_UNDECIDED],
		       (unsigned long long)e[BIOSTAT_CERR_NO_FIRST]);
		if (e[BIOSTAT_CERR_IRQ])
			printf("%llu allocation(s) or free(s) in interrupt context: "
			       "no task's, not checked\n",
			       (unsigned long long)e[BIOSTAT_CERR_IRQ]);
		for (int k = 0; k < BIOSTAT_CERR_NR; k++)
			if (e[k] && cerr_is_drop(k))
				printf("warning: %s: %llu (some bios or sites were not "
				       "tracked)\n", cerr_names[k],
				       (unsigned long long)e[k]);
		if (c->misses)
			printf("warning: recursion_misses: %llu (runs of the checker's "
			       "programs the kernel skipped): verdicts may be "
			       "incomplete\n", (unsigned long long)c->misses);
		if (c->release_misses)
			printf("warning: %llu of them released held bios: a violation "
			       "may be false\n", (unsigned long long)c->release_misses);
		return;
	}
	json_record_begin(j, "check_summary", mono_now(), NULL);
	json_kv_double(j, "duration_s", c->stop - c->start, 3);
	json_kv_u64(j, "violations", sh->sites[K_VIOLATION]);
	json_kv_u64(j, "violation_sets", sh->sets);
	json_kv_u64(j, "blocked", sh->sites[K_BLOCKED]);
	json_kv_u64(j, "no_rescuer_sites", sh->sites[K_NO_RESCUER]);
	json_kv_u64(j, "mempool_sites", sh->sites[K_MEMPOOL]);
	json_kv_bool(j, "mempools_checked", c->pools);
	json_kv_u64(j, "shared_set_sites", sh->sites[K_SHARED]);
	json_kv_u64(j, "fs_bio_set_sites", sh->sites[K_FS_BIO_SET]);
	json_kv_u64(j, "handoff_sites", sh->sites[K_HANDOFF]);
	json_kv_u64(j, "handoffs", sh->times[K_HANDOFF]);
	json_kv_u64(j, "undecided_sites", sh->sites[K_UNDECIDED]);
	json_kv_u64(j, "undecided", sh->times[K_UNDECIDED]);
	json_kv_u64(j, "held_bio_unknown", e[BIOSTAT_CERR_NO_FIRST]);
	/* as the tracing modes' "uncounted": what was not tracked, by reason */
	json_key(j, "uncounted");
	json_obj_begin(j);
	for (int k = 0; k < BIOSTAT_CERR_NR; k++)
		if (cerr_is_drop(k))
			json_kv_u64(j, cerr_names[k], e[k]);
	json_kv_u64(j, "recursion_misses", c->misses);
	json_obj_end(j);
	json_kv_u64(j, "release_misses", c->release_misses);
	json_kv_bool(j, "complete", !c->misses);
	json_kv_u64(j, counter_names[CTR_allocs].key, e[BIOSTAT_CERR_ALLOCS]);
	json_kv_u64(j, "nosleep_while_held", e[BIOSTAT_CERR_NOSLEEP_HELD]);
	json_kv_u64(j, "interrupt_context", e[BIOSTAT_CERR_IRQ]);
	json_kv_u64(j, cerr_names[BIOSTAT_CERR_WALKS], e[BIOSTAT_CERR_WALKS]);
	json_record_end(j);
}

/* Every site of one list for the -d device, counted into sh; a list of
 * the other rules (kind < 0) takes each site's kind from its rule. */
static void report_list(struct check *c, struct json *j, int list_kind,
			const struct sitelist *l, struct shown *sh)
{
	__u64 ips1[BIOSTAT_CHECK_STACK_DEPTH], ips2[BIOSTAT_CHECK_STACK_DEPTH];
	int sfd = c->stacks_fd;

	for (size_t i = 0; i < l->n; i++) {
		const struct site *s = &l->v[i];
		enum kind kind = list_kind >= 0 ? (enum kind)list_kind :
				 rule_kind(s->k.rule);
		bool ok1 = !get_stack(sfd, s->k.stack_first, ips1);
		bool ok2 = !get_stack(sfd, s->k.stack_second, ips2);
		char name[160], dev[160];

		/* named from the new bio's stack, else the held bio's: both
		 * are allocations from the set (a stack id can be lost to a
		 * collision in the stack map) */
		set_name(c, s, ok2 ? ips2 : ips1, ok2 || ok1, name, sizeof(name));
		if (!dev_matches(c, s, name))
			continue;
		if (kind == K_VIOLATION && (!i || s->k.bs != l->v[i - 1].k.bs))
			sh->sets++;
		sh->sites[kind]++;
		sh->times[kind] += s->v.count;
		if (c->o.json) {
			site_json(c, j, kind, s, name, ips1, ok1, ips2, ok2);
		} else {
			dev_name(c, s->v.dev, dev, sizeof(dev));
			site_text(c, kind, s, name, dev, ips1, ok1, ips2, ok2);
		}
	}
}

/* The addresses a list's report resolves, into c->frames. */
static void add_frames(struct check *c, const struct sitelist *l)
{
	__u64 ips[BIOSTAT_CHECK_STACK_DEPTH];

	for (size_t i = 0; i < l->n; i++) {
		const struct site *s = &l->v[i];
		const __s64 ids[] = { s->k.stack_first, s->k.stack_second };
		int oom = ksyms_add(&c->frames, s->k.bs);

		for (int n = 0; n < 2; n++) {
			if (get_stack(c->stacks_fd, ids[n], ips))
				continue;
			for (int f = 0; f < BIOSTAT_CHECK_STACK_DEPTH; f++)
				oom |= ksyms_add(&c->frames, ips[f]);
		}
		if (oom)
			die("out of memory");
	}
}

/*
 * Violations, blocked allocations, the other rules' sites, hand-offs,
 * undecided candidates, then the summary; returns the sites shown that
 * make the exit status 3.
 */
size_t check_report(struct check *c)
{
	const struct sitelist *lists[] = { &c->viol, &c->blocked, &c->haz,
					   &c->hand, &c->undec };
	struct shown sh = { 0 };
	size_t bad = 0;
	struct json j;

	/* one read of the symbols for every site */
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		add_frames(c, lists[i]);
	if (c->frames.n)
		symtab_resolve(&c->frames);
	json_init(&j);
	report_list(c, &j, K_VIOLATION, &c->viol, &sh);
	report_list(c, &j, K_BLOCKED, &c->blocked, &sh);
	report_list(c, &j, -1, &c->haz, &sh);
	report_list(c, &j, K_HANDOFF, &c->hand, &sh);
	report_list(c, &j, K_UNDECIDED, &c->undec, &sh);
	summary(c, &j, &sh);
	stdout_check();
	json_free(&j);
	ksyms_batch_free(&c->frames);
	for (int k = 0; k < K_NR; k++)
		if (kinds[k].counts)
			bad += sh.sites[k];
	return bad;
}
