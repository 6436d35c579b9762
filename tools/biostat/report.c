// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - gathering one report record (see report.h): the window of
 * each set, who each set is, the BPF side's losses, the stacks that waited.
 * Nothing is printed here.
 */
#include "report.h"

#include "globs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "common.h"
#include "hist.h"
#include "symtab.h"

const char *const biostat_err_names[BIOSTAT_ERR_NR] = {
	[BIOSTAT_ERR_RINGBUF] = "dropped_events",
	[BIOSTAT_ERR_TASKS_FULL] = "task_map_full",
	[BIOSTAT_ERR_DEPTH] = "nesting_too_deep",
	[BIOSTAT_ERR_WALK] = "punt_list_truncated",
	[BIOSTAT_ERR_SETS_FULL] = "set_map_full",
};

#define COUNTER_NAME(name, rate, wide, help) \
	[CTR_##name] = { #name, rate, wide, help, offsetof(struct window, name) },
const struct counter_name counter_names[CTR_NR] = {
	BIOSTAT_COUNTS(COUNTER_NAME)
};
#undef COUNTER_NAME

const struct counter_name counter_submitted = {
	"submitted", "SUBM/s", false,
	"Bios submitted, per bio_set (this kernel lets biostat count "
	"submissions only).", offsetof(struct window, allocs)
};

void counter_heading(const struct counter_name *c, char *buf, size_t n)
{
	size_t i;

	for (i = 0; n && i < n - 1 && c->key[i]; i++)
		buf[i] = (char)toupper((unsigned char)c->key[i]);
	if (n)
		buf[i] = '\0';
}

void set_ident_of(const struct uset *s, const struct devlists *dl,
		  struct set_ident *id)
{
	__u32 d = s->have_info ? s->info.dev : 0;
	struct dev_names names;

	memset(id, 0, sizeof(*id));
	id->bs = s->bs;
	id->name = s->name;
	id->known = s->have_info;
	id->gone = s->gone || !s->bs;
	id->multi_dev = s->have_info && (s->info.flags & BIOSTAT_SET_MULTI_DEV);
	id->rescuer = s->have_info && (s->info.flags & BIOSTAT_SET_RESCUER);
	id->pool = s->have_info && s->info.pool_min >= 0 ? s->info.pool_min : -1;
	id->has_dev = d != 0;
	dev_names_of(dl, d, &names);
	snprintf(id->devnum, sizeof(id->devnum), "%s", names.devnum);
	snprintf(id->kname, sizeof(id->kname), "%s", names.kname);
	snprintf(id->dmname, sizeof(id->dmname), "%s", names.dmname);
	if (id->multi_dev)
		snprintf(id->dev, sizeof(id->dev), "many");
	else if (!d)
		snprintf(id->dev, sizeof(id->dev), "-");
	else
		snprintf(id->dev, sizeof(id->dev), "%s", id->devnum);
}

void dev_names_of(const struct devlists *dl, uint32_t kdev,
		  struct dev_names *d)
{
	unsigned int ma = BIOSTAT_KDEV_MAJOR(kdev), mi = BIOSTAT_KDEV_MINOR(kdev);

	memset(d, 0, sizeof(*d));
	d->kdev = kdev;
	d->read_at = dl->read_at;
	snprintf(d->devnum, sizeof(d->devnum), "%u:%u", ma, mi);
	if (kdev && devlist_by_dev(dl->blk, ma, mi, d->kname, sizeof(d->kname)))
		d->kname[0] = '\0';
	if (kdev && devlist_by_dev(dl->dm, ma, mi, d->dmname, sizeof(d->dmname)))
		d->dmname[0] = '\0';
}

const char *dev_names_label(const struct dev_names *d)
{
	if (!d->kdev)
		return "-";
	return d->dmname[0] ? d->dmname : d->kname[0] ? d->kname : d->devnum;
}

const char *set_ident_device(const struct set_ident *id, bool numeric)
{
	if (numeric || !id->has_dev || id->multi_dev)
		return id->dev;
	if (id->dmname[0])
		return id->dmname;
	return id->kname[0] ? id->kname : id->dev;
}

static void window_of(const struct uset *s, bool summary, struct window *w)
{
	static const struct biostat_counters zero;
	const struct biostat_counters *c = &s->cur;
	const struct biostat_counters *p = summary ? &zero : &s->prev;

#define DELTA(name, rate, wide, help)	w->name = counter_delta(c->name, p->name);
	BIOSTAT_COUNTS(DELTA)
#undef DELTA
	w->wait_ns = counter_delta(c->wait_ns, p->wait_ns);
	for (int i = 0; i < BIOSTAT_HIST_SLOTS; i++)
		w->hist[i] = counter_delta(c->hist[i], p->hist[i]);
	/* the maximum since start, or of the interval (settab_read()) */
	w->wait_max_ns = summary ? c->wait_max_ns : s->ivl_wait_max_ns;
}

static bool window_active(const struct window *w)
{
	for (size_t i = 0; i < CTR_NR; i++)
		if (window_count(w, &counter_names[i]))
			return true;
	return false;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct set_ident *x = &((const struct report_row *)a)->id;
	const struct set_ident *y = &((const struct report_row *)b)->id;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->bs < y->bs ? -1 : (x->bs > y->bs);
}

void report_build(struct report *r, const struct settab *t,
		  const struct tracer_losses *now,
		  const struct tracer_losses *last, bool summary, bool all)
{
	struct window w;

	r->summary = summary;
	r->submissions = t->submissions;
	r->rows = calloc(t->n + 1, sizeof(*r->rows));
	if (!r->rows)
		die("out of memory");
	r->nrows = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct uset *s = &t->v[i];

		window_of(s, summary, &w);
		/* all: every live set; a gone one only for what it did */
		if (!(all && (summary || !s->gone)) && !window_active(&w))
			continue;
		if (!globs_match(r->names, s->name))
			continue;
		set_ident_of(s, t->dl, &r->rows[r->nrows].id);
		r->rows[r->nrows++].w = w;
	}
	qsort(r->rows, r->nrows, sizeof(*r->rows), cmp_rows);
	/* the gone sets folded (sets.h), last; not a set -N can match */
	window_of(&t->folded, summary, &w);
	if (t->nfolded && summary && (!r->names || !r->names->n)) {
		set_ident_of(&t->folded, t->dl, &r->rows[r->nrows].id);
		r->rows[r->nrows++].w = w;
	}

	for (int k = 0; k < BIOSTAT_ERR_NR; k++) {
		r->errs_total[k] = now->errs[k];
		r->errs[k] = summary ? now->errs[k] :
			     counter_delta(now->errs[k], last->errs[k]);
	}
	r->misses_total = now->misses;
	r->misses = summary ? now->misses : counter_delta(now->misses, last->misses);
}

/* The frames of one stack worth showing, formatted from the batch. */
static void stack_frames(const struct ksyms_batch *b, const __u64 *ips,
			 struct report_stack *st)
{
	char sym[256];
	size_t n = 0;

	while (n < BIOSTAT_MAX_STACK_DEPTH && ips[n])
		n++;
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		if (ksym_tracer_frame(b, ips[i]))
			continue;
		ksym_format(b, ips[i], sym, sizeof(sym));
		st->frames[st->nframes] = strdup(sym);
		if (!st->frames[st->nframes++])
			die("out of memory");
	}
}

void report_add_stacks(struct report *r, struct settab *t, int wait_fd,
		       int stacks_fd)
{
	struct biostat_stack_key key, next, *pkey = NULL;
	__u64 (*ips)[BIOSTAT_MAX_STACK_DEPTH] = NULL;	/* of each stack */
	__u64 count;
	struct ksyms_batch b = { 0 };
	size_t cap = 0;

	r->stacks_asked = true;
	while (!bpf_map_get_next_key(wait_fd, pkey, &next)) {
		struct report_stack *st;
		struct uset *s;
		__u32 id;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(wait_fd, &key, &count))
			continue;
		if (r->nstacks == cap) {
			cap = cap ? cap * 2 : 16;
			st = realloc(r->stacks, cap * sizeof(*st));
			if (!st)
				die("out of memory");
			r->stacks = st;
			ips = realloc(ips, cap * sizeof(*ips));
			if (!ips)
				die("out of memory");
		}
		s = settab_get(t, key.bs);
		id = (__u32)key.stackid;
		memset(ips[r->nstacks], 0, sizeof(ips[0]));
		if (bpf_map_lookup_elem(stacks_fd, &id, ips[r->nstacks]))
			continue;
		if (s && !globs_match(r->names, s->name))
			continue;
		for (size_t k = 0; k < BIOSTAT_MAX_STACK_DEPTH; k++)
			if (ksyms_add(&b, ips[r->nstacks][k]))
				die("out of memory");
		st = &r->stacks[r->nstacks++];
		memset(st, 0, sizeof(*st));
		st->count = count;
		st->have_set = s != NULL;
		if (s)
			set_ident_of(s, t->dl, &st->id);
	}
	/* one read of the symbols for every stack */
	if (r->nstacks)
		symtab_resolve(&b);
	for (size_t i = 0; i < r->nstacks; i++)
		stack_frames(&b, ips[i], &r->stacks[i]);
	ksyms_batch_free(&b);
	free(ips);
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		for (size_t k = 0; k < r->stacks[i].nframes; k++)
			free(r->stacks[i].frames[k]);
		free(r->stacks[i].frames);
	}
	free(r->stacks);
	free(r->rows);
	r->stacks = NULL;
	r->rows = NULL;
	r->nrows = r->nstacks = 0;
}
