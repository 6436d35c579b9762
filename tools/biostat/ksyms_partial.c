// SPDX-License-Identifier: GPL-2.0
/*
 * ksyms_partial.c - partial symbol tables (ksyms_partial(), ksyms_need()):
 * they keep, of /proc/kallsyms, only the symbols that answer the
 * addresses and names asked so far, and read the file again only for
 * what was not asked before.  See ksyms.h.
 */
#include "ksyms.h"
#include "ksyms_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where a symbol stands in the file: its address, then its line. */
struct kpos {
	uint64_t addr;
	uint32_t line;
	bool set;
};

static bool kpos_before(uint64_t addr, uint32_t line, const struct kpos *p)
{
	return !p->set || addr < p->addr || (addr == p->addr && line < p->line);
}

static bool kpos_after(uint64_t addr, uint32_t line, const struct kpos *p)
{
	return !p->set || addr > p->addr || (addr == p->addr && line > p->line);
}

/* A line of /proc/kallsyms kept by ksyms_need(): where it stands, a copy. */
#define KS_NAME_MAX 512		/* KSYM_NAME_LEN */
#define KS_MOD_MAX 64		/* MODULE_NAME_LEN */

struct ksline {
	struct kpos pos;
	char type;
	char name[KS_NAME_MAX];
	char mod[KS_MOD_MAX];	/* "" for vmlinux */
};

static void ksline_set(struct ksline *k, const struct kline *l, uint32_t line)
{
	size_t n = (size_t)(l->name_end - l->name);

	k->pos = (struct kpos){ l->addr, line, true };
	k->type = l->type;
	if (n >= sizeof(k->name))
		n = sizeof(k->name) - 1;
	memcpy(k->name, l->name, n);
	k->name[n] = '\0';
	n = l->mod ? (size_t)(l->mod_end - l->mod) : 0;
	if (n >= sizeof(k->mod))
		n = sizeof(k->mod) - 1;
	if (n)
		memcpy(k->mod, l->mod, n);
	k->mod[n] = '\0';
}

/* Add a kept line to the table. */
static void ksline_add(struct ksyms_parser *ps, const struct ksline *k)
{
	struct kline l = {
		.addr = k->pos.addr,
		.name = k->name,
		.name_end = k->name + strlen(k->name),
		.mod = k->mod[0] ? k->mod : NULL,
		.mod_end = k->mod + strlen(k->mod),
		.type = k->type,
	};

	ksyms_add(ps, &l, k->pos.line);
}

/*
 * What one ksyms_need() looks for, in one read of the file: for each
 * address the last symbol at or below it and the first one above it (in
 * the order of the full table: address, then line), and each name's first
 * symbol.  The sorted addresses cut the address space into gaps,
 * (addrs[k-1], addrs[k]] for gap k; a line costs one binary search and
 * updates only its gap's last and first symbol.  Prefix and suffix scans
 * then give each address its answer.
 *
 * A name's answer includes where its symbol ends: the last symbol at its
 * address and the first one above it, as if its address had been asked.
 * The lines after the name's give them, unless a line before it lies above
 * its address (module symbols follow vmlinux's, and a name can be found
 * twice): then named_ok is false and the end costs a second read.
 */
struct need {
	const uint64_t *addrs;		/* sorted, unique */
	size_t naddrs;
	const char *const *names;
	size_t nnames;
	struct ksline *last, *first;	/* [naddrs + 1]: per gap */
	struct ksline *named;		/* [nnames] */
	struct ksline *named_last;	/* [nnames]: at its address, after it */
	struct ksline *named_next;	/* [nnames]: first above its address */
	bool *named_ok;			/* [nnames]: the two above are right */
	uint64_t max_addr;		/* of the lines read so far */
	uint32_t line;
	bool nonzero, any, any_before;
};

/* Index of the gap of x: the first k with addrs[k] >= x (naddrs if none). */
static size_t gap_of(const struct need *nd, uint64_t x)
{
	size_t lo = 0, hi = nd->naddrs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (nd->addrs[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int need_line(void *arg, const char *p, const char *eol)
{
	struct need *nd = arg;
	uint32_t line = nd->line++;
	struct kline l;
	size_t i, k;

	if (!ksym_line_parse(p, eol, &l, &nd->nonzero))
		return 0;
	nd->any = true;
	if (nd->naddrs) {
		k = gap_of(nd, l.addr);
		if (kpos_after(l.addr, line, &nd->last[k].pos))
			ksline_set(&nd->last[k], &l, line);
		if (kpos_before(l.addr, line, &nd->first[k].pos))
			ksline_set(&nd->first[k], &l, line);
	}
	for (i = 0; i < nd->nnames; i++) {
		const struct ksline *f = &nd->named[i];
		size_t len = strlen(nd->names[i]);

		if ((size_t)(l.name_end - l.name) == len &&
		    !memcmp(l.name, nd->names[i], len) &&
		    kpos_before(l.addr, line, &f->pos)) {
			ksline_set(&nd->named[i], &l, line);
			nd->named_last[i].pos.set = false;
			nd->named_next[i].pos.set = false;
			nd->named_ok[i] = !nd->any_before || nd->max_addr <= l.addr;
		} else if (f->pos.set && l.addr == f->pos.addr) {
			ksline_set(&nd->named_last[i], &l, line);
		} else if (f->pos.set && l.addr > f->pos.addr &&
			   kpos_before(l.addr, line, &nd->named_next[i].pos)) {
			ksline_set(&nd->named_next[i], &l, line);
		}
	}
	if (!nd->any_before || l.addr > nd->max_addr)
		nd->max_addr = l.addr;
	nd->any_before = true;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Same symbol: address, name and module. */
static bool same_sym(const struct ksym *x, const struct ksym *y)
{
	return x->addr == y->addr && !strcmp(x->name, y->name) &&
	       (x->mod == y->mod ||
		(x->mod && y->mod && !strcmp(x->mod, y->mod)));
}

/* Sort the table and drop the symbols it holds twice. */
static void partial_settle(struct ksyms *ks)
{
	size_t i, o = 0;

	qsort(ks->syms, ks->n, sizeof(*ks->syms), ksym_cmp);
	for (i = 0; i < ks->n; i++) {
		if (o && same_sym(&ks->syms[o - 1], &ks->syms[i]))
			continue;
		ks->syms[o++] = ks->syms[i];
	}
	ks->n = o;
	ks->ndata = 0;
	for (i = 0; i < ks->n; i++)
		if (ksym_is_data(&ks->syms[i]))
			ks->ndata++;
}

struct ksyms *ksyms_partial(const char *path)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return NULL;
	ks->path = strdup(path);
	ks->syms = calloc(1, sizeof(*ks->syms));
	if (!ks->path || !ks->syms) {
		ksyms_free(ks);
		return NULL;
	}
	ks->partial = true;
	return ks;
}

/* Has addr been asked for already?  (ks->asked is sorted.) */
static bool asked(const struct ksyms *ks, uint64_t addr)
{
	return ks->nasked &&
	       bsearch(&addr, ks->asked, ks->nasked, sizeof(addr), cmp_u64);
}

static bool name_asked(const struct ksyms *ks, const char *name)
{
	size_t i;

	for (i = 0; i < ks->nnames_asked; i++)
		if (!strcmp(ks->names_asked[i], name))
			return true;
	return false;
}

static void need_free(struct need *nd)
{
	free(nd->last);
	free(nd->first);
	free(nd->named);
	free(nd->named_last);
	free(nd->named_next);
	free(nd->named_ok);
	free((void *)nd->addrs);
	free((void *)nd->names);
}

/* Remember addresses as asked (sorted into ks->asked); 0 or -1 (no memory). */
static int remember_addrs(struct ksyms *ks, const uint64_t *addrs, size_t n)
{
	uint64_t *a = realloc(ks->asked, (ks->nasked + n + 1) * sizeof(*a));

	if (!a)
		return -1;
	ks->asked = a;
	memcpy(a + ks->nasked, addrs, n * sizeof(*a));
	ks->nasked += n;
	qsort(a, ks->nasked, sizeof(*a), cmp_u64);
	return 0;
}

/* Remember what was asked; 0 or -1 (out of memory). */
static int remember(struct ksyms *ks, const struct need *nd)
{
	size_t i;
	char **n;

	if (remember_addrs(ks, nd->addrs, nd->naddrs))
		return -1;
	n = realloc(ks->names_asked,
		    (ks->nnames_asked + nd->nnames + 1) * sizeof(*n));
	if (!n)
		return -1;
	ks->names_asked = n;
	for (i = 0; i < nd->nnames; i++) {
		n[ks->nnames_asked] = strdup(nd->names[i]);
		if (!n[ks->nnames_asked])
			return -1;
		ks->nnames_asked++;
	}
	return 0;
}

/*
 * Walk v[0..n) upwards (below: the last symbol of each gap, the nearest at
 * or below each address is the latest of them) or downwards (the first
 * symbol of each gap, the nearest above is the earliest), adding the best
 * so far each time it changes.
 */
static void add_running_best(struct ksyms_parser *ps, const struct ksline *v,
			     size_t n, bool below)
{
	const struct ksline *best = NULL;

	for (size_t j = 0; j < n; j++) {
		const struct ksline *c = below ? &v[j] : &v[n - 1 - j];
		const struct ksline *prev = best;

		if (c->pos.set &&
		    (!best || (below ? kpos_after(c->pos.addr, c->pos.line, &best->pos) :
				       kpos_before(c->pos.addr, c->pos.line, &best->pos))))
			best = c;
		if (best && best != prev)
			ksline_add(ps, best);
	}
}

/* Read the file once for nd and add what answers it: 0, or -1 with errno. */
static int need_read(struct ksyms *ks, struct need *nd)
{
	struct ksyms_parser ps = { .ks = ks, .cap = ks->cap };
	size_t i, n0 = ks->n;

	if (ksyms_each_line(ks->path, need_line, nd))
		return -1;
	/* at or below addrs[k]: the last symbol of gaps 0..k */
	add_running_best(&ps, nd->last, nd->naddrs, true);
	/* above addrs[k]: the first symbol of gaps k+1..naddrs */
	add_running_best(&ps, nd->first + 1, nd->naddrs, false);
	for (i = 0; i < nd->nnames; i++) {
		if (!nd->named[i].pos.set)
			continue;
		ksline_add(&ps, &nd->named[i]);
		if (!nd->named_ok[i])
			continue;
		if (nd->named_last[i].pos.set)
			ksline_add(&ps, &nd->named_last[i]);
		if (nd->named_next[i].pos.set)
			ksline_add(&ps, &nd->named_next[i]);
	}
	ks->cap = ps.cap;
	if (ps.oom) {
		ks->n = n0;
		errno = ENOMEM;
		return -1;
	}
	if (nd->any)
		ks->zero_addrs = !nd->nonzero;
	partial_settle(ks);
	return 0;
}

int ksyms_need(struct ksyms *ks, const uint64_t *addrs, size_t naddrs,
	       const char *const *names, size_t nnames)
{
	struct need nd = { 0 };
	uint64_t *a, found[8];
	const char **n;
	size_t i, nfound = 0;
	int r;

	if (!ks || !ks->partial)
		return 0;
	a = malloc((naddrs + 1) * sizeof(*a));
	n = malloc((nnames + 1) * sizeof(*n));
	nd.addrs = a;
	nd.names = n;
	if (!a || !n)
		goto oom;
	for (i = 0; i < naddrs; i++)
		if (!asked(ks, addrs[i]))
			a[nd.naddrs++] = addrs[i];
	qsort(a, nd.naddrs, sizeof(*a), cmp_u64);
	for (i = 0; i + 1 < nd.naddrs;) {
		if (a[i] == a[i + 1]) {
			memmove(a + i, a + i + 1, (nd.naddrs - i - 1) * sizeof(*a));
			nd.naddrs--;
		} else {
			i++;
		}
	}
	for (i = 0; i < nnames; i++)
		if (!name_asked(ks, names[i]))
			n[nd.nnames++] = names[i];
	if (!nd.naddrs && !nd.nnames)
		goto out;
	nd.last = calloc(nd.naddrs + 1, sizeof(*nd.last));
	nd.first = calloc(nd.naddrs + 1, sizeof(*nd.first));
	nd.named = calloc(nd.nnames + 1, sizeof(*nd.named));
	nd.named_last = calloc(nd.nnames + 1, sizeof(*nd.named_last));
	nd.named_next = calloc(nd.nnames + 1, sizeof(*nd.named_next));
	nd.named_ok = calloc(nd.nnames + 1, sizeof(*nd.named_ok));
	if (!nd.last || !nd.first || !nd.named || !nd.named_last ||
	    !nd.named_next || !nd.named_ok)
		goto oom;
	r = need_read(ks, &nd);
	if (!r)
		r = remember(ks, &nd) ? -1 : 0;
	/* where a named function ends: answered by the same read where the
	 * lines allowed it (then its address counts as asked), else asked
	 * for as an address in a second read */
	for (i = 0; !r && i < nd.nnames; i++) {
		uint64_t addr = nd.named[i].pos.addr;

		if (!nd.named[i].pos.set)
			continue;
		if (nd.named_ok[i])
			r = asked(ks, addr) ? 0 : remember_addrs(ks, &addr, 1);
		else if (nfound < sizeof(found) / sizeof(found[0]))
			found[nfound++] = addr;
	}
	need_free(&nd);
	if (!r && nfound)
		r = ksyms_need(ks, found, nfound, NULL, 0);
	return r;
out:
	need_free(&nd);
	return 0;
oom:
	need_free(&nd);
	errno = ENOMEM;
	return -1;
}
