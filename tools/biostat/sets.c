// SPDX-License-Identifier: GPL-2.0
/*
 * sets.c - the table of bio_sets: reading the BPF side's maps, naming each
 * set once its first allocation is known, and the sets that went away
 * (see sets.h).
 */
#include "sets.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "common.h"
#include "setname.h"
#include "symtab.h"

void settab_init(struct settab *t, struct devlists *dl, int ncpus)
{
	memset(t, 0, sizeof(*t));
	t->dl = dl;
	t->ncpus = ncpus;
	t->sets_fd = t->counters_fd = -1;
	t->percpu = calloc((size_t)ncpus, sizeof(*t->percpu));
	if (!t->percpu)
		die("out of memory");
}

void settab_bind(struct settab *t, int sets_fd, int counters_fd,
		 bool submissions)
{
	t->sets_fd = sets_fd;
	t->counters_fd = counters_fd;
	t->submissions = submissions;
}

void settab_free(struct settab *t)
{
	free(t->v);
	free(t->percpu);
	t->v = NULL;
	t->percpu = NULL;
	t->n = t->cap = 0;
}

/*
 * Two live sets must not share a name: the newer one says how it differs,
 * by its first allocating function ("NAME/func") when that tells them
 * apart, else by its address ("NAME@ffff8880...").
 */
static void distinct_name(struct settab *t, struct uset *s, const char *func)
{
	char base[sizeof(s->name)];
	bool func_ok = func != NULL;
	bool clash = false;

	for (size_t i = 0; i < t->n; i++) {
		const struct uset *o = &t->v[i];

		if (o == s || o->gone || strcmp(o->name, s->name))
			continue;
		clash = true;
		if (func && !strcmp(o->caller, func))
			func_ok = false;
	}
	snprintf(s->caller, sizeof(s->caller), "%s", func ? func : "");
	if (!clash)
		return;
	snprintf(base, sizeof(base), "%s", s->name);
	if (func_ok)
		snprintf(s->name, sizeof(s->name), "%.*s/%s", 80, base, func);
	else
		snprintf(s->name, sizeof(s->name), "%.*s@%llx", 100, base,
			 (unsigned long long)s->bs);
}

/* Name a set from the batch holding its addresses. */
static void name_set(struct settab *t, struct uset *s, const struct ksyms_batch *b)
{
	uint64_t caller[BIOSTAT_CALLER_DEPTH];
	struct set_desc d = {
		.bs = s->bs,
		.kdev = s->have_info ? s->info.dev : 0,
		.clone = s->have_info && (s->info.flags & BIOSTAT_SET_CLONE),
		.ncaller = BIOSTAT_CALLER_DEPTH,
		.fs_bio_set = t->fs_bio_set,
		.front_pad = s->have_info ? s->info.front_pad : 0,
	};

	if (s->have_info && (s->info.flags & BIOSTAT_SET_HAVE_CALLER)) {
		for (int i = 0; i < BIOSTAT_CALLER_DEPTH; i++)
			caller[i] = s->info.caller[i];
		d.caller = caller;
	}
	/*
	 * Submission mode sees a bio where it is submitted: its device is the
	 * one below the set's owner, so only symbols can name the set.
	 */
	if (t->submissions)
		d.kdev = 0;
	/*
	 * A device created after the lists were read: refresh them, at most
	 * once a second for a device they do not know, and always when the
	 * set is younger than the lists (its dev_t may have been reused).
	 */
	if (d.kdev &&
	    ((devlist_by_dev(t->dl->blk, BIOSTAT_KDEV_MAJOR(d.kdev),
			     BIOSTAT_KDEV_MINOR(d.kdev), NULL, 0) &&
	      mono_now() - t->dl->read_at > 1.0) ||
	     (s->have_info && (double)s->info.first_ns / 1e9 >= t->dl->read_at)))
		devlists_read(t->dl);
	describe_set(b, t->dl, &d, s->name, sizeof(s->name));
	distinct_name(t, s, set_caller_name(b, &d));
	/* named for good once the allocating stack is known (or never will be) */
	s->named_with_info = s->have_info &&
			     (t->submissions || (s->info.flags & BIOSTAT_SET_HAVE_CALLER));
}

/*
 * The set's info, read again until the allocating stack is there (a set
 * first seen at a punt gets it at its allocation): is there a name to
 * give it, none yet or a better one?
 */
static bool refresh_info(struct settab *t, struct uset *s)
{
	struct biostat_set_info info;

	if (s->have_info) {
		/* the same set (first_ns), now with its allocating stack */
		if (!bpf_map_lookup_elem(t->sets_fd, &s->bs, &info) &&
		    info.first_ns == s->info.first_ns &&
		    (info.flags & BIOSTAT_SET_HAVE_CALLER)) {
			s->info = info;
			return true;
		}
		return !s->name[0];
	}
	if (!bpf_map_lookup_elem(t->sets_fd, &s->bs, &s->info))
		s->have_info = true;
	return s->have_info || !s->name[0];
}

/* The live set at bs, or NULL. */
static struct uset *find_live(struct settab *t, __u64 bs)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].bs == bs && !t->v[i].gone)
			return &t->v[i];
	return NULL;
}

/* The set (bs, first_ns) that is already gone, or NULL. */
static struct uset *find_gone(struct settab *t, __u64 bs, __u64 first_ns)
{
	for (size_t i = t->n; i-- > 0;) {
		struct uset *s = &t->v[i];

		if (s->bs == bs && s->gone && s->have_info &&
		    s->info.first_ns == first_ns)
			return s;
	}
	return NULL;
}

/* Room for one more set: 0, or -1 without memory. */
static int grow(struct settab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 32;
	struct uset *n = realloc(t->v, cap * sizeof(*n));

	if (!n)
		return -1;
	t->v = n;
	t->cap = cap;
	return 0;
}

struct uset *settab_get(struct settab *t, __u64 bs)
{
	struct uset *s = find_live(t, bs);

	if (!s) {
		settab_read(t, false, 0);
		s = find_live(t, bs);
	}
	if (!s) {	/* not in the map (any more) */
		if (t->n == t->cap && grow(t))
			return NULL;
		s = &t->v[t->n++];
		memset(s, 0, sizeof(*s));
		s->bs = bs;
	}
	if (!s->name[0])
		settab_name_new(t);
	return s;
}

/* A set still to be named, or named before its stack was known. */
static bool unnamed(const struct uset *s)
{
	return !s->name[0] ||
	       (!s->gone && (!s->have_info || !s->named_with_info));
}

void settab_name_new(struct settab *t)
{
	struct ksyms_batch b = { 0 };
	bool any = false;

	for (size_t i = 0; i < t->n; i++) {
		struct uset *s = &t->v[i];

		s->rename = unnamed(s) && refresh_info(t, s);
		if (!s->rename)
			continue;
		any = true;
		if (ksyms_add(&b, s->bs))
			die("out of memory");
		for (int c = 0; (s->info.flags & BIOSTAT_SET_HAVE_CALLER) &&
				c < BIOSTAT_CALLER_DEPTH; c++)
			if (ksyms_add(&b, s->info.caller[c]))
				die("out of memory");
	}
	if (!any)
		return;
	symtab_resolve(&b);
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].rename)
			name_set(t, &t->v[i], &b);
	ksyms_batch_free(&b);
}

static void sum_cpus(const struct settab *t, struct biostat_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < t->ncpus; cpu++)
		biostat_add_counters(sum, &t->percpu[cpu]);
}

/* The longest wait that ended in interval gen, over every CPU. */
static void take_interval_max(const struct settab *t, struct uset *s, __u64 gen)
{
	for (int cpu = 0; cpu < t->ncpus; cpu++) {
		const struct biostat_counters *c = &t->percpu[cpu];

		if (c->ivl_gen[gen & 1] == gen &&
		    c->ivl_max_ns[gen & 1] > s->ivl_wait_max_ns)
			s->ivl_wait_max_ns = c->ivl_max_ns[gen & 1];
	}
}

/*
 * A set new to the table, not named yet (settab_name_new()): with info,
 * what was read with its counters, so that a set made since at the same
 * address cannot lend it its identity; without, nothing is known yet.
 */
static struct uset *add_unnamed(struct settab *t, __u64 bs,
				const struct biostat_set_info *info)
{
	struct uset *s;

	if (t->n == t->cap && grow(t))
		return NULL;
	s = &t->v[t->n++];
	memset(s, 0, sizeof(*s));
	s->bs = bs;
	if (info) {
		s->info = *info;
		s->have_info = true;
	}
	return s;
}

void settab_read(struct settab *t, bool interval, __u64 gen)
{
	__u64 key, next, *pkey = NULL;
	struct biostat_set_info info;

	for (size_t j = 0; j < t->n; j++)
		t->v[j].seen = false;
	/* every set the BPF side has seen, and its counters by index */
	while (!bpf_map_get_next_key(t->sets_fd, pkey, &next)) {
		struct biostat_counters sum;
		struct uset *s;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(t->sets_fd, &key, &info) ||
		    info.idx >= BIOSTAT_MAX_SETS ||
		    bpf_map_lookup_elem(t->counters_fd, &info.idx, t->percpu))
			continue;
		sum_cpus(t, &sum);
		s = find_live(t, key);
		if (s && s->have_info && s->info.first_ns != info.first_ns) {
			/* another set at its address: its end was not seen */
			s->gone = true;
			s = NULL;
		}
		if (!s && find_gone(t, key, info.first_ns))
			continue;	/* its end came first; the entry goes next */
		if (!s)
			s = add_unnamed(t, key, &info);
		if (!s)
			continue;
		s->seen = true;
		/* counters are zeroed as the set goes: keep what was read */
		if (sum.allocs >= s->cur.allocs && sum.punts >= s->cur.punts)
			s->cur = sum;
		if (interval)
			take_interval_max(t, s, gen);
	}
	/* entries deleted by bioset_exit() whose record has not come (yet) */
	if (!t->submissions)
		for (size_t j = 0; j < t->n; j++)
			if (!t->v[j].seen)
				t->v[j].gone = true;
}

void settab_gone(struct settab *t, const struct biostat_gone_event *e)
{
	struct uset *s = find_live(t, e->bs);

	if (s && s->have_info && s->info.first_ns != e->first_ns)
		s = NULL;	/* not the one that went */
	if (!s)
		s = find_gone(t, e->bs, e->first_ns);	/* marked gone by a read */
	if (!s) {
		/*
		 * It went before it was read: who it was comes from the record,
		 * not from the map, whose entry at its address may already be
		 * a new set's (which settab_read() then adds on its own).
		 */
		struct biostat_set_info info = {
			.first_ns = e->first_ns,
			.dev = e->dev,
			.pool_min = -1,
		};

		s = add_unnamed(t, e->bs, &info);
		if (!s)
			return;
		settab_name_new(t);	/* now, while its device may be listed */
	} else if (!s->have_info) {	/* its entry vanished before a read */
		s->info.first_ns = e->first_ns;
		s->info.dev = e->dev;
		s->info.pool_min = -1;
		s->have_info = true;
		s->name[0] = '\0';	/* named again, with them */
		settab_name_new(t);
	}
	/* the final totals; the interval fields stay as they were */
	memcpy(&s->cur, &e->c, offsetof(struct biostat_counters, ivl_max_ns));
	s->gone = true;
	s->final = true;
}

/*
 * Fold the oldest gone sets into t->folded while more than
 * SETTAB_GONE_KEPT are kept: those whose final record came, or (record
 * lost) that went 8 intervals ago.  Called once their last counts were
 * reported (prev == cur), so the folded row's intervals stay empty.
 */
static void fold_gone(struct settab *t)
{
	size_t gone = 0, i = 0;

	for (size_t k = 0; k < t->n; k++)
		gone += t->v[k].gone;
	while (gone > SETTAB_GONE_KEPT && i < t->n) {
		struct uset *s = &t->v[i];

		if (!s->gone || (!s->final && s->gone_ivls < 8)) {
			i++;
			continue;
		}
		biostat_add_counters(&t->folded.cur, &s->cur);
		biostat_add_counters(&t->folded.prev, &s->prev);
		t->nfolded++;
		gone--;
		memmove(s, s + 1, (t->n - i - 1) * sizeof(*s));
		t->n--;
	}
	snprintf(t->folded.name, sizeof(t->folded.name), "(%zu gone)",
		 t->nfolded);
}

void settab_next_interval(struct settab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		t->v[i].prev = t->v[i].cur;
		t->v[i].ivl_wait_max_ns = 0;
		t->v[i].gone_ivls += t->v[i].gone;
	}
	fold_gone(t);
}
