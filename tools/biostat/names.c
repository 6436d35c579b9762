// SPDX-License-Identifier: GPL-2.0
/* names.c - see names.h */
#include "names.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- kallsyms */

static int cmp_sym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

bool ksym_is_data(const struct ksym *s)
{
	return s && strchr("dDbBrRgGsSvV", s->type) != NULL;
}

bool ksym_is_text(const struct ksym *s)
{
	return s && (s->type == 't' || s->type == 'T' || s->type == 'w' ||
		     s->type == 'W');
}

/*
 * Names live in blocks that never move (pointers into them are handed
 * out); only what is kept is stored, not the text it was parsed from.
 */
#define KSYMS_BLOCK (256u << 10)

struct ksyms_block {
	struct ksyms_block *next;
	size_t used, cap;
	char data[];
};

/* Copy [p, p+n) into the name storage, NUL terminated. */
static const char *strs_put(struct ksyms *ks, const char *p, size_t n)
{
	struct ksyms_block *b = ks->blocks;
	char *r;

	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > KSYMS_BLOCK ? n + 1 : KSYMS_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = ks->blocks;
		b->used = 0;
		b->cap = cap;
		ks->blocks = b;
	}
	r = b->data + b->used;
	memcpy(r, p, n);
	r[n] = '\0';
	b->used += n + 1;
	return r;
}

/* One symbol line of /proc/kallsyms, pointing into the line. */
struct kline {
	uint64_t addr;
	const char *name, *name_end;
	const char *mod, *mod_end;	/* NULL for vmlinux */
	char type;
};

/*
 * Parse one line, without its newline: 1 for a symbol to keep, 0 for one
 * to drop (absolute, undefined) or a malformed line.  *nonzero is set when
 * the line shows an address other than 0.
 */
static int kline_parse(const char *p, const char *eol, struct kline *l,
		       bool *nonzero)
{
	const char *q = p;
	uint64_t addr = 0;
	int digits = 0;

	while (q < eol && isxdigit((unsigned char)*q)) {
		int c = tolower((unsigned char)*q);

		addr = addr * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		q++;
		digits++;
	}
	if (!digits || digits > 16 || q >= eol || *q != ' ')
		return 0;
	q++;
	if (q >= eol || isspace((unsigned char)*q))
		return 0;
	l->type = *q++;
	if (q >= eol || *q != ' ')
		return 0;
	q++;
	l->name = q;
	while (q < eol && !isspace((unsigned char)*q))
		q++;
	l->name_end = q;
	if (l->name_end == l->name)
		return 0;
	while (q < eol && isspace((unsigned char)*q))
		q++;
	l->mod = l->mod_end = NULL;
	if (q < eol && *q == '[') {
		l->mod = q + 1;
		l->mod_end = memchr(l->mod, ']', (size_t)(eol - l->mod));
		if (!l->mod_end || l->mod_end == l->mod)
			l->mod = l->mod_end = NULL;
	}
	l->addr = addr;
	if (addr)
		*nonzero = true;
	if (l->type == 'A' || l->type == 'a' || l->type == 'U')
		return 0;	/* absolute (per-cpu offsets), undefined */
	return 1;
}

struct ksyms_parser {
	struct ksyms *ks;
	size_t cap;		/* of ks->syms */
	const char *last_mod;	/* module names are shared: lines come grouped */
	bool nonzero;
	bool oom;
};

/* Append a symbol to ks->syms (unsorted), its strings copied. */
static void add_sym(struct ksyms_parser *ps, const struct kline *l, uint32_t idx)
{
	struct ksyms *ks = ps->ks;
	struct ksym *s;

	if (ks->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : ks->partial ? 64 : 4096;
		struct ksym *n = realloc(ks->syms, cap * sizeof(*n));

		if (!n) {
			ps->oom = true;
			return;
		}
		ks->syms = n;
		ps->cap = cap;
	}
	s = &ks->syms[ks->n];
	s->addr = l->addr;
	s->type = l->type;
	s->idx = idx;
	s->name = strs_put(ks, l->name, (size_t)(l->name_end - l->name));
	s->mod = NULL;
	if (l->mod) {
		size_t ml = (size_t)(l->mod_end - l->mod);

		if (ps->last_mod && strlen(ps->last_mod) == ml &&
		    !memcmp(ps->last_mod, l->mod, ml))
			s->mod = ps->last_mod;
		else
			s->mod = ps->last_mod = strs_put(ks, l->mod, ml);
		if (!s->mod) {
			ps->oom = true;
			return;
		}
	}
	if (!s->name) {
		ps->oom = true;
		return;
	}
	if (ksym_is_data(s))
		ks->ndata++;
	ks->n++;
}

/* One line of /proc/kallsyms, without its newline. */
static void parse_line(struct ksyms_parser *ps, const char *p, const char *eol)
{
	struct kline l;

	if (kline_parse(p, eol, &l, &ps->nonzero))
		add_sym(ps, &l, (uint32_t)ps->ks->n);
}

static struct ksyms *parse_finish(struct ksyms_parser *ps)
{
	struct ksyms *ks = ps->ks;

	if (ps->oom) {
		ksyms_free(ks);
		return NULL;
	}
	if (!ks->syms) {
		ks->syms = calloc(1, sizeof(*ks->syms));
		if (!ks->syms) {
			ksyms_free(ks);
			return NULL;
		}
	} else if (ks->n < ps->cap) {
		struct ksym *n = realloc(ks->syms, ks->n * sizeof(*n));

		if (n)
			ks->syms = n;
	}
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_sym);
	ks->zero_addrs = ks->n > 0 && !ps->nonzero;
	return ks;
}

struct ksyms *ksyms_parse(const char *text, size_t len)
{
	struct ksyms_parser ps = { .ks = calloc(1, sizeof(struct ksyms)) };
	const char *p = text, *end = text + len;

	if (!ps.ks)
		return NULL;
	while (p < end && !ps.oom) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		parse_line(&ps, p, eol);
		p = eol + 1;
	}
	return parse_finish(&ps);
}

/*
 * Call fn on each line of the file at path, without its newline, reading
 * a piece at a time; stops early when fn returns non-zero.  0, or -1 with
 * errno set.
 */
static int each_line(const char *path,
		     int (*fn)(void *arg, const char *p, const char *eol),
		     void *arg)
{
	char buf[16384];
	size_t have = 0;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		const char *p = buf, *end, *eol;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		end = buf + have + r;
		while ((eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			if (fn(arg, p, eol))
				goto out;
			p = eol + 1;
		}
		have = (size_t)(end - p);
		if (r == 0) {
			if (have)
				fn(arg, p, end);
			break;
		}
		if (have == sizeof(buf))
			have = 0;	/* a line longer than buf: not kallsyms */
		else
			memmove(buf, p, have);
	}
out:
	close(fd);
	return 0;
err:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int load_line(void *arg, const char *p, const char *eol)
{
	struct ksyms_parser *ps = arg;

	parse_line(ps, p, eol);
	return ps->oom;
}

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms_parser ps = { .ks = calloc(1, sizeof(struct ksyms)) };

	if (!ps.ks)
		return NULL;
	if (each_line(path, load_line, &ps)) {
		int saved = errno;

		ksyms_free(ps.ks);
		errno = saved;
		return NULL;
	}
	return parse_finish(&ps);
}

/* ------------------------------------------------- partial symbol tables */

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

	add_sym(ps, &l, k->pos.line);
}

/*
 * What one ksyms_need() looks for, in one read of the file: for each
 * address the last symbol at or below it and the first one above it (in
 * the order of the full table: address, then line), and each name's first
 * symbol.  The sorted addresses cut the address space into gaps,
 * (addrs[k-1], addrs[k]] for gap k; a line costs one binary search and
 * updates only its gap's last and first symbol.  Prefix and suffix scans
 * then give each address its answer.
 */
struct need {
	const uint64_t *addrs;		/* sorted, unique */
	size_t naddrs;
	const char *const *names;
	size_t nnames;
	struct ksline *last, *first;	/* [naddrs + 1]: per gap */
	struct ksline *named;		/* [nnames] */
	uint32_t line;
	bool nonzero, any;
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

	if (!kline_parse(p, eol, &l, &nd->nonzero))
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
		size_t len = strlen(nd->names[i]);

		if ((size_t)(l.name_end - l.name) == len &&
		    !memcmp(l.name, nd->names[i], len) &&
		    kpos_before(l.addr, line, &nd->named[i].pos))
			ksline_set(&nd->named[i], &l, line);
	}
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

	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_sym);
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
	free((void *)nd->addrs);
	free((void *)nd->names);
}

/* Remember what was asked; 0 or -1 (out of memory). */
static int remember(struct ksyms *ks, const struct need *nd)
{
	size_t i;
	uint64_t *a;
	char **n;

	a = realloc(ks->asked, (ks->nasked + nd->naddrs + 1) * sizeof(*a));
	if (!a)
		return -1;
	ks->asked = a;
	memcpy(a + ks->nasked, nd->addrs, nd->naddrs * sizeof(*a));
	ks->nasked += nd->naddrs;
	qsort(a, ks->nasked, sizeof(*a), cmp_u64);
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

/* Read the file once for nd and add what answers it: 0, or -1 with errno. */
static int need_read(struct ksyms *ks, struct need *nd)
{
	struct ksyms_parser ps = { .ks = ks, .cap = ks->cap };
	const struct ksline *best = NULL;
	size_t i, k, n0 = ks->n;

	if (each_line(ks->path, need_line, nd))
		return -1;
	/* at or below addrs[k]: the last symbol of gaps 0..k */
	for (k = 0; k < nd->naddrs; k++) {
		const struct ksline *prev = best;

		if (nd->last[k].pos.set &&
		    (!best || kpos_after(nd->last[k].pos.addr, nd->last[k].pos.line, &best->pos)))
			best = &nd->last[k];
		if (best && best != prev)
			ksline_add(&ps, best);
	}
	/* above addrs[k]: the first symbol of gaps k+1..naddrs */
	best = NULL;
	for (k = nd->naddrs; k > 0; k--) {
		const struct ksline *prev = best;

		if (nd->first[k].pos.set &&
		    (!best || kpos_before(nd->first[k].pos.addr, nd->first[k].pos.line, &best->pos)))
			best = &nd->first[k];
		if (best && best != prev)
			ksline_add(&ps, best);
	}
	for (i = 0; i < nd->nnames; i++)
		if (nd->named[i].pos.set)
			ksline_add(&ps, &nd->named[i]);
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
	if (!nd.last || !nd.first || !nd.named)
		goto oom;
	r = need_read(ks, &nd);
	if (!r)
		r = remember(ks, &nd) ? -1 : 0;
	/* where a named function ends: the symbol after it, asked for as an
	 * address (a second read, for names only: at start-up) */
	for (i = 0; !r && i < nd.nnames; i++)
		if (nd.named[i].pos.set &&
		    nfound < sizeof(found) / sizeof(found[0]))
			found[nfound++] = nd.named[i].pos.addr;
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

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	while (ks->blocks) {
		struct ksyms_block *b = ks->blocks;

		ks->blocks = b->next;
		free(b);
	}
	free(ks->syms);
	free(ks->path);
	free(ks->asked);
	for (size_t i = 0; i < ks->nnames_asked; i++)
		free(ks->names_asked[i]);
	free(ks->names_asked);
	free(ks);
}

const struct ksym *ksyms_lookup(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || !ks->n || ks->zero_addrs || addr < ks->syms[0].addr)
		return NULL;
	hi = ks->n;	/* invariant: syms[lo].addr <= addr, answer in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &ks->syms[lo];
}

const struct ksym *ksyms_resolve(const struct ksyms *ks, uint64_t addr,
				 uint64_t *off)
{
	const struct ksym *s = ksyms_lookup(ks, addr);
	uint64_t limit;

	if (!s)
		return NULL;
	limit = s->mod ? (UINT64_C(1) << 16) : (UINT64_C(1) << 20);
	if (addr - s->addr >= limit)
		return NULL;
	if (off)
		*off = addr - s->addr;
	return s;
}

bool ksym_is_trace_artifact(const struct ksyms *ks, uint64_t addr)
{
	uint64_t off;
	const struct ksym *s = ksyms_resolve(ks, addr, &off);

	return !s || (ksym_is_text(s) && off < 10) || !strncmp(s->name, "bpf_", 4);
}

const struct ksym *ksyms_by_name(const struct ksyms *ks, const char *name)
{
	size_t i;

	if (!ks || ks->zero_addrs)
		return NULL;
	for (i = 0; i < ks->n; i++)
		if (!strcmp(ks->syms[i].name, name))
			return &ks->syms[i];
	return NULL;
}

void ksym_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t n)
{
	uint64_t off = 0;
	const struct ksym *s = ksyms_resolve(ks, addr, &off);

	if (!s) {
		snprintf(buf, n, "0x%" PRIx64, addr);
		return;
	}
	if (s->mod)
		snprintf(buf, n, "%s+0x%" PRIx64 " [%s]", s->name, off, s->mod);
	else
		snprintf(buf, n, "%s+0x%" PRIx64, s->name, off);
}

/* ---------------------------------------------------------- number parsing */

static int parse_uint(const char *s, const char *end, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*out = v;
	return 0;
}

int parse_majmin(const char *s, unsigned int *maj, unsigned int *min)
{
	const char *colon;
	unsigned long long a, b;

	if (!s)
		return -1;
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -1;
	/* dev_t in the kernel: 12 bits of major, 20 of minor */
	if (parse_uint(s, colon, 4095, &a) ||
	    parse_uint(colon + 1, colon + 1 + strlen(colon + 1), 1048575, &b))
		return -1;
	*maj = (unsigned int)a;
	*min = (unsigned int)b;
	return 0;
}

int parse_interval(const char *s, double *secs)
{
	unsigned long long ip = 0, fp = 0;
	const char *dot, *end;
	double v, scale = 1;
	size_t fl;

	if (!s || !*s)
		return -1;
	end = s + strlen(s);
	dot = strchr(s, '.');
	if (!dot)
		dot = end;
	if (dot == s && (dot == end || dot + 1 == end))
		return -1;		/* "" or "." */
	if (dot > s && parse_uint(s, dot, 86400ULL * 366, &ip))
		return -1;
	if (dot < end) {
		fl = (size_t)(end - dot - 1);
		if (fl == 0 || fl > 9 || parse_uint(dot + 1, end, 999999999, &fp))
			return -1;
		while (fl--)
			scale *= 10;
	}
	v = (double)ip + (double)fp / scale;
	if (!(v >= 0.001))	/* a millisecond at least */
		return -1;
	*secs = v;
	return 0;
}

int parse_count(const char *s, long max, long *out)
{
	unsigned long long v;

	if (!s || max < 1 || parse_uint(s, s + strlen(s), (unsigned long long)max, &v) ||
	    v < 1)
		return -1;
	*out = (long)v;
	return 0;
}

/* ------------------------------------------------------- device listings */

/* Walk "NAME MAJ:MIN" lines; cb returns nonzero to stop. */
static int devlist_walk(const char *list,
			int (*cb)(const char *name, size_t nlen, unsigned int maj,
				  unsigned int min, void *arg),
			void *arg)
{
	const char *p = list;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		const char *sp, *d;
		char majmin[32];
		unsigned int ma, mi;
		size_t l;

		if (!eol)
			eol = p + strlen(p);
		sp = p;
		while (sp < eol && *sp != ' ' && *sp != '\t')
			sp++;
		d = sp;
		while (d < eol && (*d == ' ' || *d == '\t'))
			d++;
		l = (size_t)(eol - d);
		while (l && isspace((unsigned char)d[l - 1]))
			l--;
		if (sp > p && l && l < sizeof(majmin)) {
			memcpy(majmin, d, l);
			majmin[l] = '\0';
			if (!parse_majmin(majmin, &ma, &mi) &&
			    cb(p, (size_t)(sp - p), ma, mi, arg))
				return 1;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

struct by_name {
	const char *name;
	unsigned int maj, min;
};

static int by_name_cb(const char *name, size_t nlen, unsigned int maj,
		      unsigned int min, void *arg)
{
	struct by_name *b = arg;

	if (strlen(b->name) != nlen || strncmp(b->name, name, nlen))
		return 0;
	b->maj = maj;
	b->min = min;
	return 1;
}

int devlist_by_name(const char *list, const char *name, unsigned int *maj,
		    unsigned int *min)
{
	struct by_name b = { .name = name };

	if (!list || !name || !*name || !devlist_walk(list, by_name_cb, &b))
		return -1;
	*maj = b.maj;
	*min = b.min;
	return 0;
}

struct by_dev {
	unsigned int maj, min;
	char *name;
	size_t n;
};

static int by_dev_cb(const char *name, size_t nlen, unsigned int maj,
		     unsigned int min, void *arg)
{
	struct by_dev *b = arg;

	if (maj != b->maj || min != b->min)
		return 0;
	if (b->n)
		snprintf(b->name, b->n, "%.*s", (int)nlen, name);
	return 1;
}

int devlist_by_dev(const char *list, unsigned int maj, unsigned int min,
		   char *name, size_t n)
{
	struct by_dev b = { .maj = maj, .min = min, .name = name, .n = n };

	if (!list)
		return -1;
	return devlist_walk(list, by_dev_cb, &b) ? 0 : -1;
}

int resolve_device_arg(const char *arg, const char *dm_list,
		       const char *blk_list, unsigned int *maj,
		       unsigned int *min)
{
	unsigned int a, b;

	if (!arg || !*arg)
		return -1;
	if (strchr(arg, ':')) {
		if (parse_majmin(arg, &a, &b))
			return -1;
		if (devlist_by_dev(blk_list, a, b, NULL, 0) &&
		    devlist_by_dev(dm_list, a, b, NULL, 0))
			return -1;
		*maj = a;
		*min = b;
		return 0;
	}
	if (!strncmp(arg, "/dev/mapper/", 12))
		return devlist_by_name(dm_list, arg + 12, maj, min);
	if (!strncmp(arg, "/dev/", 5))
		return devlist_by_name(blk_list, arg + 5, maj, min);
	if (strchr(arg, '/'))
		return -1;
	if (!devlist_by_name(dm_list, arg, maj, min))
		return 0;
	return devlist_by_name(blk_list, arg, maj, min);
}

/* ------------------------------------------------------------ set naming */

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

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
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

int first_caller_frame(const struct ksyms *ks, const uint64_t *caller,
		       unsigned int ncaller)
{
	unsigned int i;

	for (i = 0; i < ncaller && caller[i]; i++) {
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
	if (!strcmp(c->name, "alloc_io"))
		sub = "(io)";
	else if (!strcmp(c->name, "alloc_tio"))
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
	unsigned int maj = d->kdev >> 20, min = d->kdev & 0xfffff;
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
