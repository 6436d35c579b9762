// SPDX-License-Identifier: GPL-2.0
/*
 * check_report.c - the report of "biostat check": each call site found
 * (violations, hand-offs, undecided candidates) with its set, device, gfp
 * mask and both kernel stacks, as text or JSON, then a summary with what
 * the BPF side could not track.  See check.c for the run itself.
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
};

/* cerrs that are drops: what was not tracked */
static bool cerr_is_drop(int k)
{
	return k < BIOSTAT_CERR_ALLOCS || k == BIOSTAT_CERR_PENDING_FULL;
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

/*
 * A frame that is no caller: BPF trampolines and programs.  On 6.1 the
 * fexit trampoline's address can fall inside a module's symbols (the
 * trampoline image lives among the modules, and is not in kallsyms), so
 * the stacks start at the first allocation function (alloc_frames_start())
 * and a frame that resolves to anything but text is dropped too.
 */
static bool skip_frame(const struct ksyms *ks, __u64 addr)
{
	const struct ksym *s;
	uint64_t off;

	if (ksym_is_trace_artifact(ks, addr))
		return true;
	s = ksyms_resolve(ks, addr, &off);
	if (!s || !ksym_is_text(s))
		return true;
	return s->mod && (!strcmp(s->mod, "__builtin__ftrace") ||
			  !strcmp(s->mod, "bpf"));
}

/* Where a recorded stack starts for the reader: see alloc_frames_start(). */
static int stack_start(const struct ksyms *ks, const __u64 *ips)
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

static void set_name(struct check *c, const struct site *s,
		     const __u64 *second, bool have2, char *buf, size_t n)
{
	const struct ksyms *ks = symtab_ksyms(&c->syms);
	const struct ksym *fsb = ksyms_by_name(ks, "fs_bio_set");
	uint64_t caller[BIOSTAT_CHECK_STACK_DEPTH];
	struct set_desc d = {
		.bs = s->k.bs,
		.kdev = s->v.dev,
		.clone = s->v.flags & BIOSTAT_CHECK_CLONE,
		.caller = NULL,
		.ncaller = 0,
		.fs_bio_set = fsb && ksym_is_data(fsb) ? fsb->addr : 0,
	};
	unsigned int i, j = 0;

	if (have2) {
		/* drop trampoline frames so the allocator comes first */
		for (i = (unsigned int)stack_start(ks, second);
		     i < BIOSTAT_CHECK_STACK_DEPTH && second[i]; i++)
			if (!skip_frame(ks, second[i]))
				caller[j++] = second[i];
		d.caller = caller;
		d.ncaller = j;
	}
	describe_set(ks, &c->dl, &d, buf, n);
}

static void dev_name(const struct check *c, __u32 kdev, char *buf, size_t n)
{
	unsigned int ma = BIOSTAT_KDEV_MAJOR(kdev), mi = BIOSTAT_KDEV_MINOR(kdev);
	char nm[128];

	if (!kdev) {
		snprintf(buf, n, "-");
		return;
	}
	if (!devlist_by_dev(c->dl.dm, ma, mi, nm, sizeof(nm)) ||
	    !devlist_by_dev(c->dl.blk, ma, mi, nm, sizeof(nm)))
		snprintf(buf, n, "%s (%u:%u)", nm, ma, mi);
	else
		snprintf(buf, n, "%u:%u", ma, mi);
}

static void print_stack_text(const struct ksyms *ks, const char *title,
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
		if (skip_frame(ks, ips[i]))
			continue;
		ksym_format(ks, ips[i], sym, sizeof(sym));
		printf("    %s\n", sym);
	}
}

static void json_stack(const struct ksyms *ks, struct json *j, const char *key,
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
		if (skip_frame(ks, ips[i]))
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

static void site_json(struct check *c, struct json *j, const char *type,
		      const struct site *s, const char *name, const char *dev,
		      const __u64 *ips1, bool ok1, const __u64 *ips2, bool ok2)
{
	const struct ksyms *ks = symtab_ksyms(&c->syms);
	char hex[32];

	json_record_begin(j, type, mono_now(), NULL);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)s->k.bs);
	json_kv_str(j, "bio_set", hex);
	json_kv_str(j, "set", name);
	json_kv_str(j, "dev", dev);
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
	json_stack(ks, j, "stack_first", ips1, ok1);
	json_stack(ks, j, "stack_second", ips2, ok2);
	json_record_end(j);
}

/* What the held bio's fate made of the site, for the text report. */
static const char *const fate_text[] = {
	"the same task submitted or freed the held bio afterwards",
	"another task submitted or freed the held bio: a hand-off, not a violation",
	"the held bio was neither submitted nor freed while checking: not decided",
};

static void site_text(struct check *c, int kind, const struct site *s,
		      const char *name, const char *dev, const __u64 *ips1,
		      bool ok1, const __u64 *ips2, bool ok2)
{
	static const char *const head[] = { "VIOLATION", "HANDOFF", "UNDECIDED" };
	const struct ksyms *ks = symtab_ksyms(&c->syms);

	printf("%s bio_set %s (0x%llx) dev %s\n", head[kind], name,
	       (unsigned long long)s->k.bs, dev);
	printf("  task %s pid %u tid %u: allocated with %u bio(s) from this set "
	       "still held (at most %u), %llu time(s) at this site\n",
	       s->v.comm, s->v.pid, s->v.tid, s->v.held, s->v.held_max,
	       (unsigned long long)s->v.count);
	printf("  %s\n", fate_text[kind]);
	printf("  gfp of the held bio: %s (0x%x); of the new one: %s (0x%x)%s%s\n",
	       gfp_name(s->v.gfp_first), s->v.gfp_first,
	       gfp_name(s->v.gfp_second), s->v.gfp_second,
	       s->v.flags & BIOSTAT_CHECK_IN_SUBMIT ? "; inside ->submit_bio" : "",
	       s->v.flags & BIOSTAT_CHECK_RESCUER ? "; set has a rescuer" :
	       "; set has no rescuer");
	print_stack_text(ks, "held bio allocated at", ips1, ok1);
	print_stack_text(ks, "new bio allocated at", ips2, ok2);
	printf("\n");
}

/* What was shown of each list, after the -d filter. */
struct shown {
	size_t sites[3], sets, times[3];
};

static void summary(const struct check *c, struct json *j, const struct shown *sh)
{
	const __u64 *e = c->cerrs;

	if (!c->o.json) {
		printf("%zu violation site(s) in %zu bio_set(s); %llu allocations checked "
		       "in %.1f s (%llu made while holding, unable to sleep: not "
		       "violations)\n", sh->sites[0], sh->sets,
		       (unsigned long long)e[BIOSTAT_CERR_ALLOCS], c->stop - c->start,
		       (unsigned long long)e[BIOSTAT_CERR_NOSLEEP_HELD]);
		printf("%zu hand-off(s) at %zu site(s), %zu undecided at %zu site(s) "
		       "(not violations); %llu candidate(s) with no known held bio\n",
		       sh->times[1], sh->sites[1], sh->times[2], sh->sites[2],
		       (unsigned long long)e[BIOSTAT_CERR_NO_FIRST]);
		for (int k = 0; k < BIOSTAT_CERR_NR; k++)
			if (e[k] && cerr_is_drop(k))
				printf("warning: %s: %llu (some bios or sites were not "
				       "tracked)\n", cerr_names[k],
				       (unsigned long long)e[k]);
		return;
	}
	json_record_begin(j, "check_summary", mono_now(), NULL);
	json_kv_double(j, "seconds", c->stop - c->start, 3);
	json_kv_u64(j, "violations", sh->sites[0]);
	json_kv_u64(j, "sets", sh->sets);
	json_kv_u64(j, "handoff_sites", sh->sites[1]);
	json_kv_u64(j, "handoffs", sh->times[1]);
	json_kv_u64(j, "undecided_sites", sh->sites[2]);
	json_kv_u64(j, "undecided", sh->times[2]);
	json_kv_u64(j, "held_bio_unknown", e[BIOSTAT_CERR_NO_FIRST]);
	json_key(j, "drops");
	json_obj_begin(j);
	for (int k = 0; k < BIOSTAT_CERR_NR; k++)
		if (cerr_is_drop(k))
			json_kv_u64(j, cerr_names[k], e[k]);
	json_obj_end(j);
	json_kv_u64(j, "allocations", e[BIOSTAT_CERR_ALLOCS]);
	json_kv_u64(j, "nosleep_while_held", e[BIOSTAT_CERR_NOSLEEP_HELD]);
	json_record_end(j);
}

/* Every site of one list for the -d device, counted into sh. */
static void report_list(struct check *c, struct json *j, int kind,
			const struct sitelist *l, struct shown *sh)
{
	__u64 ips1[BIOSTAT_CHECK_STACK_DEPTH], ips2[BIOSTAT_CHECK_STACK_DEPTH];
	int sfd = c->stacks_fd;

	for (size_t i = 0; i < l->n; i++) {
		const struct site *s = &l->v[i];
		bool ok1 = !get_stack(sfd, s->k.stack_first, ips1);
		bool ok2 = !get_stack(sfd, s->k.stack_second, ips2);
		char name[160], dev[160];

		/* named from the new bio's stack, else the held bio's: both
		 * are allocations from the set (a stack id can be lost to a
		 * collision in the stack map) */
		set_name(c, s, ok2 ? ips2 : ips1, ok2 || ok1, name, sizeof(name));
		if (!dev_matches(c, s, name))
			continue;
		if (kind == 0 && (!i || s->k.bs != l->v[i - 1].k.bs))
			sh->sets++;
		sh->sites[kind]++;
		sh->times[kind] += s->v.count;
		dev_name(c, s->v.dev, dev, sizeof(dev));
		if (c->o.json)
			site_json(c, j, l->type, s, name, dev, ips1, ok1, ips2, ok2);
		else
			site_text(c, kind, s, name, dev, ips1, ok1, ips2, ok2);
	}
}

/* Violations, hand-offs, undecided candidates; returns the violations shown. */
size_t check_report(struct check *c)
{
	struct shown sh = { 0 };
	struct json j;

	json_init(&j);
	report_list(c, &j, 0, &c->viol, &sh);
	report_list(c, &j, 1, &c->hand, &sh);
	report_list(c, &j, 2, &c->undec, &sh);
	summary(c, &j, &sh);
	fflush(stdout);
	json_free(&j);
	return sh.sites[0];
}

