// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - "biostat check": report every call site where a task allocates
 * a bio from a bio_set while it still holds, unsubmitted, a bio it
 * allocated earlier from the same set, with a gfp mask that may sleep on
 * the set's mempool, and then submits or frees that bio itself (a
 * violation); apart from those, the hand-offs (another task submitted the
 * held bio) and the candidates still undecided at the end.  See
 * bpf/biostat_check.bpf.c and biostat.8, CHECK MODE.
 *
 * Its own command line, loading and the report of the sites found; the
 * plumbing (messages, privileges, clocks, signals), devices, symbols and
 * set names are those of biostat.
 *
 * Exit status: 0 no violation, 1 cannot trace, 2 bad command line,
 * 3 at least one violation.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "biostat_check.h"
#include "biostat_check.skel.h"
#include "check.h"
#include "common.h"
#include "devices.h"
#include "json.h"
#include "parse.h"
#include "report.h"
#include "setname.h"
#include "symtab.h"

struct check_opts {
	double duration;	/* 0: until SIGINT/SIGTERM */
	bool json, verbose;
	const char *device;
	int positional;
};

struct site {
	struct biostat_check_key k;
	struct biostat_check_site v;
};

/* The sites of one kind, sorted by set and first time. */
struct sitelist {
	struct site *v;
	size_t n, cap;
	const char *type;	/* JSON "type" and text heading */
};

/* One run of biostat check. */
struct check {
	struct check_opts o;
	__u32 kdev;		/* of -d, 0: every device */
	struct devlists dl;
	struct symtab syms;
	struct biostat_check_bpf *skel;
	struct bpf_link *links[8];
	int nlinks;
	struct sitelist viol, hand, undec;	/* violations, hand-offs, undecided */
	__u64 cerrs[BIOSTAT_CERR_NR];
	double start, stop;
};

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

/* ------------------------------------------------------------ arguments */

static const char ck_doc[] =
"Report tasks that allocate a bio from a bio_set while they still hold,\n"
"unsubmitted, a bio they allocated earlier from the same set, with a gfp\n"
"mask that allows direct reclaim (the allocation may sleep on the set's\n"
"mempool).  bio_alloc_bioset() forbids this: under memory pressure it can\n"
"deadlock.  Such an allocation is a violation once the held bio is\n"
"submitted or freed by the same task; when another task (a workqueue, a\n"
"kthread) submits or frees it, the bio was handed off, not held: reported\n"
"apart as a hand-off, not a violation.  Each call site (pair of kernel\n"
"stacks) is reported once, at the end: after DURATION seconds, or on\n"
"SIGINT/SIGTERM.\v"
"A bio stops being held when it is submitted (submit_bio_noacct, by any\n"
"task), enters or merges into a request, is put (bio_put), a clone of\n"
"it is submitted, or it was allocated inside ->submit_bio and that\n"
"top-level submission returned.\n"
"\n"
"Examples:\n"
"  biostat check 10        # watch every bio_set for 10 seconds\n"
"  biostat check -d bp0    # only violations for device bp0, until Ctrl-C\n"
"  biostat check -j 5 | jq .\n"
"\n"
"Exit status: 0 no violation seen (hand-offs and undecided candidates do\n"
"not count), 1 cannot trace (privileges, kernel\n"
"without BTF or fentry), 2 bad command line, 3 at least one violation.";

static const struct argp_option ck_opts[] = {
	{ "device", 'd', "DEV", 0, "Only violations for DEV: dm name, /dev path or MAJ:MIN", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line: each violation, then a summary", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf debug output and progress", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ 0 },
};

static error_t ck_parse(int key, char *arg, struct argp_state *state)
{
	struct check_opts *o = state->input;

	switch (key) {
	case 'j': o->json = true; break;
	case 'v': o->verbose = true; break;
	case 'd': o->device = arg; break;
	case 'h':
		argp_help(state->root_argp, stdout, ARGP_HELP_STD_HELP, "biostat check");
		exit(EXIT_OK);
	case ARGP_KEY_ARG:
		if (o->positional++ > 0)
			die_usage("unexpected argument '%s'", arg);
		if (parse_interval(arg, &o->duration))
			die_usage("invalid duration '%s': a positive number of seconds", arg);
		break;
	case ARGP_KEY_ERROR: {
		static const char *const with_arg[] = { "-d", "--device", NULL };

		die_option(state, with_arg);
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
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

/* ------------------------------------------------------------ tracing */

static void check_attach(struct check *c)
{
	struct biostat_check_bpf *skel = c->skel;
	struct bpf_program *must[] = {
		skel->progs.ck_alloc, skel->progs.ck_submit,
		skel->progs.ck_submit_exit, skel->progs.ck_put,
		skel->progs.ck_clone,
	};
	/* blk-mq's own splits reach requests without submit_bio_noacct() */
	struct bpf_program *may[] = {
		skel->progs.ck_getrq, skel->progs.ck_backmerge,
		skel->progs.ck_frontmerge,
	};
	int err;

	_Static_assert(ARRAY_SIZE(must) + ARRAY_SIZE(may) <= ARRAY_SIZE(c->links),
		       "a link for every program");
	for (size_t i = 0; i < ARRAY_SIZE(must); i++) {
		c->links[c->nlinks] = bpf_program__attach(must[i]);
		if (!c->links[c->nlinks]) {
			err = -errno;
			die("cannot attach %s: %s; check mode needs fentry "
			    "(this kernel refuses it or lacks the function)",
			    bpf_program__name(must[i]), strerror(-err));
		}
		c->nlinks++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(may); i++) {
		c->links[c->nlinks] = bpf_program__attach(may[i]);
		if (c->links[c->nlinks])
			c->nlinks++;
		else
			warn("cannot attach %s (%s): bios split by blk-mq may be "
			     "reported", bpf_program__name(may[i]), strerror(errno));
	}
}

static void check_start(struct check *c)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int err;

	devlists_read(&c->dl);
	if (c->o.device)
		c->kdev = device_arg_kdev(&c->dl, c->o.device);
	libbpf_set_print(libbpf_print_fn);
	require_tracing();
	symtab_init(&c->syms, true);
	symtab_ksyms(&c->syms);
	setrlimit(RLIMIT_MEMLOCK, &rl);	/* pre-5.11 kernels only */
	c->skel = biostat_check_bpf__open();
	if (!c->skel)
		die_bpf(errno, "cannot open the BPF object");
	err = biostat_check_bpf__load(c->skel);
	if (err == -EPERM)
		die("this kernel refuses fentry programs (%s): check mode "
		    "needs fentry on bio_alloc_bioset, submit_bio_noacct and "
		    "bio_put, and has no fallback", strerror(-err));
	if (err)
		die_bpf(err, "cannot load the BPF programs");
	check_attach(c);
}

/* Until DURATION is over or a signal came. */
static void check_wait(struct check *c)
{
	double end;

	signals_setup();
	c->skel->bss->enabled = true;
	c->start = mono_now();
	end = c->o.duration > 0 ? c->start + c->o.duration : 0;
	fprintf(stderr, "Checking bio_set allocation order... %s\n",
		end ? "" : "Hit Ctrl-C to end.");
	while (!exit_requested()) {
		double now = mono_now(), left = end ? end - now : 0.2;

		if (end && left <= 0)
			break;
		if (left > 0.2)
			left = 0.2;
		usleep((useconds_t)(left * 1e6) + 1);
	}
	c->skel->bss->enabled = false;
	c->stop = mono_now();	/* what was checked; naming the sites takes a while */
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->k.bs != y->k.bs)
		return x->k.bs < y->k.bs ? -1 : 1;
	return x->v.first_ns < y->v.first_ns ? -1 : x->v.first_ns > y->v.first_ns;
}

static struct site *sitelist_add(struct sitelist *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct site *ns = realloc(l->v, cap * sizeof(*ns));

		if (!ns)
			die("out of memory");
		l->v = ns;
		l->cap = cap;
	}
	return &l->v[l->n];
}

/* Every entry of a map of sites ("violations", "handoffs"). */
static void collect_sites(int fd, struct sitelist *l)
{
	struct biostat_check_key key, next, *pkey = NULL;

	while (!bpf_map_get_next_key(fd, pkey, &next)) {
		struct site *s = sitelist_add(l);

		key = next;
		pkey = &key;
		s->k = key;
		if (!bpf_map_lookup_elem(fd, &key, &s->v))
			l->n++;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_site);
}

/* The candidates still pending: their held bio's fate was not seen. */
static void collect_pending(int fd, struct sitelist *l)
{
	struct biostat_check_pending p;
	__u64 key, next, *pkey = NULL;

	while (!bpf_map_get_next_key(fd, pkey, &next)) {
		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;
		sitelist_add(l)->k = p.k;
		l->v[l->n++].v = p.v;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_site);
}

/* The three lists of sites; the "cerrs" sums. */
static void check_collect(struct check *c)
{
	int efd = bpf_map__fd(c->skel->maps.cerrs);
	int ncpu = libbpf_num_possible_cpus();
	__u64 *pcpu;

	c->viol.type = "violation";
	c->hand.type = "handoff";
	c->undec.type = "undecided";
	collect_sites(bpf_map__fd(c->skel->maps.violations), &c->viol);
	collect_sites(bpf_map__fd(c->skel->maps.handoffs), &c->hand);
	collect_pending(bpf_map__fd(c->skel->maps.pending), &c->undec);

	pcpu = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*pcpu));
	for (__u32 e = 0; pcpu && ncpu > 0 && e < BIOSTAT_CERR_NR; e++) {
		if (bpf_map_lookup_elem(efd, &e, pcpu))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++)
			c->cerrs[e] += pcpu[cpu];
	}
	free(pcpu);
	/* devices created while we ran: list them again for names */
	devlists_read(&c->dl);
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
	int sfd = bpf_map__fd(c->skel->maps.cstacks);

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
static size_t check_report(struct check *c)
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

static void check_stop(struct check *c)
{
	while (c->nlinks > 0)
		bpf_link__destroy(c->links[--c->nlinks]);
	biostat_check_bpf__destroy(c->skel);
	free(c->viol.v);
	free(c->hand.v);
	free(c->undec.v);
	symtab_free(&c->syms);
	devlists_free(&c->dl);
}

int check_main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = ck_opts,
		.parser = ck_parse,
		.args_doc = "[DURATION]",
		.doc = ck_doc,
	};
	struct check c = { 0 };
	size_t shown;

	msg_setup("biostat check", false);
	if (argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, &c.o))
		die_usage("invalid arguments");
	msg_setup("biostat check", c.o.verbose);
	check_start(&c);
	check_wait(&c);
	check_collect(&c);
	shown = check_report(&c);
	check_stop(&c);
	return shown ? EXIT_VIOLATION : EXIT_OK;
}
