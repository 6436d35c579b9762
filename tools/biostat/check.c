// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - "biostat check": report every call site that breaks a
 * statement of bio_alloc_bioset()'s kernel-doc.  Rule 1: a task allocates
 * a bio from a bio_set while it still holds, unsubmitted, a bio it
 * allocated earlier from the same set, with a gfp mask that may sleep on
 * the set's mempool, and then submits or frees that bio itself (a
 * violation); apart from those, the hand-offs (another task submitted the
 * held bio), the candidates still undecided at the end and those whose
 * allocation is still blocked.  The other rules, decided when the
 * allocation starts: a set without a rescuer while its bios are queued,
 * a second element of another mempool, a set shared with a level further
 * up, fs_bio_set inside ->submit_bio.  See bpf/biostat_check/ and
 * biostat.8, CHECK MODE.
 *
 * Its own command line, loading, and collecting the sites found (their
 * report is check_report.c, what both hold check_sites.h); the
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
#include "check_sites.h"
#include "common.h"
#include "hooks.h"
#include "parse.h"

/* ------------------------------------------------------------ arguments */

static const char ck_doc[] =
"Report code that breaks bio_alloc_bioset()'s rules, each of which can\n"
"deadlock under memory pressure: (1) allocating a bio from a bio_set while\n"
"holding, unsubmitted, a bio from the same set, with a gfp mask that may\n"
"sleep (a violation once the same task submits or frees the held bio; a\n"
"hand-off when another task does; blocked while such an allocation has\n"
"not returned); (2) inside ->submit_bio, allocating from a set without a\n"
"rescuer while its bios are queued on current->bio_list; (3) inside\n"
"->submit_bio, a second element of one mempool that is not a bio_set's;\n"
"(4) inside ->submit_bio, allocating from a set that a bio being served\n"
"further up the stack came from, or from fs_bio_set.  Each call site\n"
"(pair of kernel stacks) is reported once, at the end: after DURATION\n"
"seconds, or on SIGINT/SIGTERM.\v"
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
"Exit status: 0 no site breaks a rule (hand-offs and undecided candidates\n"
"do not count), 1 cannot trace (privileges, kernel without BTF or\n"
"fentry), 2 bad command line, 3 at least one violation, blocked\n"
"allocation or site of rules 2 to 4.";

const struct argp_option check_options[] = {
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
	case ARGP_KEY_ERROR:
		die_option(state);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ------------------------------------------------------------ tracing */

static void check_attach(struct check *c)
{
	struct biostat_check_bpf *skel = c->skel;
	struct bpf_program *must[] = {
		skel->progs.ck_alloc, skel->progs.ck_submit, skel->progs.ck_put,
		skel->progs.ck_clone, skel->progs.ck_enter,
	};
	/* blk-mq's own splits reach requests without submit_bio_noacct(),
	 * and 7.x's submit_bio() the queue */
	struct bpf_program *may[] = {
		skel->progs.ck_getrq, skel->progs.ck_backmerge,
		skel->progs.ck_frontmerge, skel->progs.ck_queue,
		skel->progs.ck_submit_top,
	};
	/*
	 * Interrupt context, first: the exits before the entries, so that
	 * every entry counted has its exit seen (an entry attached before
	 * its exit would leave its CPU "in an interrupt" for ever)
	 */
	struct bpf_program *irq[] = {
		skel->progs.ck_irq_out, skel->progs.ck_softirq_out,
		skel->progs.ck_irq_in, skel->progs.ck_softirq_in,
	};
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(irq); i++) {
		c->links[c->nlinks] = bpf_program__attach(irq[i]);
		if (!c->links[c->nlinks]) {
			err = -errno;
			die("cannot attach %s: %s", bpf_program__name(irq[i]),
			    strerror(-err));
		}
		c->nlinks++;
	}

	_Static_assert(ARRAY_SIZE(irq) + ARRAY_SIZE(must) + ARRAY_SIZE(may) + 3 <=
		       ARRAY_SIZE(c->links), "a link for every program");
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
			warn("cannot attach %s (%s): bios split by blk-mq or "
			     "submitted by submit_bio() may be reported",
			     bpf_program__name(may[i]), strerror(errno));
	}
	/* rule 3: every mempool allocation and free */
	c->pools = true;
	for (size_t i = 0; i < ARRAY_SIZE(c->pool_progs) && c->pool_progs[i]; i++) {
		c->links[c->nlinks] = bpf_program__attach(c->pool_progs[i]);
		if (!c->links[c->nlinks]) {
			warn("cannot attach %s (%s): other mempools (rule 3) are "
			     "not checked", bpf_program__name(c->pool_progs[i]),
			     strerror(errno));
			c->pools = false;
			continue;
		}
		c->nlinks++;
	}
}

/*
 * The mempool hooks for this kernel: mempool_alloc_noprof() since 6.10
 * (mempool_alloc() is a macro there), mempool_alloc() before.
 */
static void choose_pool_progs(struct check *c)
{
	struct biostat_check_bpf *skel = c->skel;
	bool noprof = symtab_named(&c->syms, "mempool_alloc_noprof").type != 0;
	size_t n = 0;

	bpf_program__set_autoload(skel->progs.ck_pool_enter, noprof);
	bpf_program__set_autoload(skel->progs.ck_pool_exit, noprof);
	bpf_program__set_autoload(skel->progs.ck_pool_enter_old, !noprof);
	bpf_program__set_autoload(skel->progs.ck_pool_exit_old, !noprof);
	c->pool_progs[n++] = noprof ? skel->progs.ck_pool_enter : skel->progs.ck_pool_enter_old;
	c->pool_progs[n++] = noprof ? skel->progs.ck_pool_exit : skel->progs.ck_pool_exit_old;
	c->pool_progs[n++] = skel->progs.ck_pool_free;
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
	symtab_read(&c->syms);
	setrlimit(RLIMIT_MEMLOCK, &rl);	/* pre-5.11 kernels only */
	c->skel = biostat_check_bpf__open();
	if (!c->skel)
		die_bpf(errno, "cannot open the BPF object");
	choose_pool_progs(c);
	err = biostat_check_bpf__load(c->skel);
	if (err == -EPERM)
		die("this kernel refuses fentry programs (%s): check mode "
		    "needs fentry on bio_alloc_bioset, submit_bio_noacct and "
		    "bio_put, and has no fallback", strerror(-err));
	if (err)
		die_bpf(err, "cannot load the BPF programs");
	check_attach(c);
}

/* A function's address (its callers are read from its trampoline), or 0. */
static __u64 text_addr(struct check *c, const char *name)
{
	struct ksym_name k = symtab_named(&c->syms, name);

	return ksym_is_text(k.type) ? k.addr : 0;
}

/* Until DURATION is over or a signal came. */
static void check_wait(struct check *c)
{
	double end;

	struct ksym_name fsb = symtab_named(&c->syms, "fs_bio_set");

	c->skel->bss->fs_bio_set_addr = ksym_is_data(fsb.type) ? fsb.addr : 0;
	c->skel->bss->alloc_fn = text_addr(c, "bio_alloc_bioset");
	c->skel->bss->clone_fn = text_addr(c, "bio_alloc_clone");
	c->skel->bss->pool_fn = text_addr(c, symtab_has_func(&c->syms, "mempool_alloc_noprof") ?
					  "mempool_alloc_noprof" : "mempool_alloc");
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

/*
 * The candidates of a map keyed by a bio or a tid (pending, blocked) that
 * had started at least min_s seconds before end (bpf_ktime_get_ns() and
 * mono_now() are both CLOCK_MONOTONIC).
 */
static void collect_pending(int fd, size_t key_size, double min_s,
			    double end, struct sitelist *l)
{
	struct biostat_check_pending p;
	__u64 key = 0, next = 0;
	void *pkey = NULL;
	double now = end * 1e9;

	while (!bpf_map_get_next_key(fd, pkey, &next)) {
		memcpy(&key, &next, key_size);
		pkey = &key;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;
		if (min_s > 0 && now - (double)p.v.first_ns < min_s * 1e9)
			continue;
		sitelist_add(l)->k = p.k;
		l->v[l->n++].v = p.v;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_site);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->k.rule != y->k.rule)
		return x->k.rule < y->k.rule ? -1 : 1;
	return cmp_site(a, b);
}

/*
 * Runs of the object's programs that the kernel skipped (recursion: the
 * program was busy on that CPU, interrupted or preempted); *release those
 * of the programs that release a held bio, whose skipped runs leave a bio
 * held and can make a later allocation a false violation.
 */
static __u64 recursion_misses(struct biostat_check_bpf *skel, __u64 *release)
{
	const struct bpf_program *rel[] = {
		skel->progs.ck_submit, skel->progs.ck_put, skel->progs.ck_queue,
		skel->progs.ck_getrq, skel->progs.ck_backmerge,
		skel->progs.ck_frontmerge,
	};
	struct bpf_program *p;
	__u64 n = 0;

	*release = 0;
	bpf_object__for_each_program(p, skel->obj) {
		__u64 m = prog_recursion_misses(p);

		n += m;
		for (size_t i = 0; i < ARRAY_SIZE(rel); i++)
			if (rel[i] == p)
				*release += m;
	}
	return n;
}

/* The lists of sites; the "cerrs" sums; the recursion misses. */
static void check_collect(struct check *c)
{
	int efd = bpf_map__fd(c->skel->maps.cerrs);
	int ncpu = libbpf_num_possible_cpus();
	__u64 *pcpu;

	c->viol.type = "violation";
	c->hand.type = "handoff";
	c->undec.type = "undecided";
	c->blocked.type = "blocked";
	c->haz.type = NULL;	/* each site's rule names it */
	/* before the rest: what is still blocked now */
	collect_pending(bpf_map__fd(c->skel->maps.blocked), sizeof(__u32),
			c->blocked_min, c->stop, &c->blocked);
	collect_sites(bpf_map__fd(c->skel->maps.violations), &c->viol);
	collect_sites(bpf_map__fd(c->skel->maps.handoffs), &c->hand);
	collect_pending(bpf_map__fd(c->skel->maps.pending), sizeof(__u64), 0,
			0, &c->undec);
	collect_sites(bpf_map__fd(c->skel->maps.hazards), &c->haz);
	if (c->haz.n)
		qsort(c->haz.v, c->haz.n, sizeof(*c->haz.v), cmp_rule);
	c->stacks_fd = bpf_map__fd(c->skel->maps.cstacks);
	c->misses = recursion_misses(c->skel, &c->release_misses);

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

static void check_stop(struct check *c)
{
	while (c->nlinks > 0)
		bpf_link__destroy(c->links[--c->nlinks]);
	biostat_check_bpf__destroy(c->skel);
	free(c->viol.v);
	free(c->hand.v);
	free(c->undec.v);
	free(c->blocked.v);
	free(c->haz.v);
	devlists_free(&c->dl);
}

int check_main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = check_options,
		.parser = ck_parse,
		.args_doc = "[DURATION]",
		.doc = ck_doc,
	};
	struct check c = { .blocked_min = 1.0 };
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
