// SPDX-License-Identifier: GPL-2.0
/*
 * ksyms.c - the symbol table of /proc/kallsyms: parsing its text, the
 * whole table read from the file a piece at a time, and the lookups every
 * view uses (by address, by name, formatting).  Partial tables, which
 * keep only what was asked, are in ksyms_partial.c.
 */
#include "ksyms.h"
#include "ksyms_parse.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ksym_cmp(const void *a, const void *b)
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

int ksym_line_parse(const char *p, const char *eol, struct kline *l,
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


void ksyms_add(struct ksyms_parser *ps, const struct kline *l, uint32_t idx)
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

	if (ksym_line_parse(p, eol, &l, &ps->nonzero))
		ksyms_add(ps, &l, (uint32_t)ps->ks->n);
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
	qsort(ks->syms, ks->n, sizeof(*ks->syms), ksym_cmp);
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

int ksyms_each_line(const char *path,
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
	if (ksyms_each_line(path, load_line, &ps)) {
		int saved = errno;

		ksyms_free(ps.ks);
		errno = saved;
		return NULL;
	}
	return parse_finish(&ps);
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
	free(ks->mods);
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

int ksyms_set_modules(struct ksyms *ks, const char *text)
{
	const char *p = text;

	free(ks->mods);
	ks->mods = NULL;
	ks->nmods = 0;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		char name[64], line[512];
		unsigned long long size, addr;
		struct kmod *m;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p = eol ? eol + 1 : NULL;
		if (sscanf(line, "%63s %llu %*s %*s %*s %llx", name, &size, &addr) != 3 ||
		    !addr || !size)
			continue;
		m = realloc(ks->mods, (ks->nmods + 1) * sizeof(*m));
		if (!m)
			return -1;
		ks->mods = m;
		m = &ks->mods[ks->nmods++];
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->lo = addr;
		m->hi = addr + size;
	}
	return 0;
}

/* Is addr outside the known extent of module mod? */
static bool outside_module(const struct ksyms *ks, const char *mod,
			   uint64_t addr)
{
	for (size_t i = 0; i < ks->nmods; i++)
		if (!strcmp(ks->mods[i].name, mod))
			return addr < ks->mods[i].lo || addr >= ks->mods[i].hi;
	return false;
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
	/* text only: a module's data may be allocated apart (6.4+) */
	if (s->mod && ksym_is_text(s) && outside_module(ks, s->mod, addr))
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
