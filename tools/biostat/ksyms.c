// SPDX-License-Identifier: GPL-2.0
/*
 * ksyms.c - a batch of addresses and names answered from /proc/kallsyms
 * (see ksyms.h).  The sorted addresses cut the address space into gaps,
 * (at[k-1], at[k]] for at[k]; a line costs one binary search and is kept,
 * copied into at[k], only while it is the highest symbol of its gap.  An
 * address whose gap holds no symbol then takes the answer of the one
 * below it.
 */
#include "ksyms.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool ksym_is_data(char type)
{
	return type && strchr("dDbBrRgGsSvV", type) != NULL;
}

bool ksym_is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* One symbol line of /proc/kallsyms, pointing into the line. */
struct kline {
	uint64_t addr;
	const char *name, *mod;		/* mod: NULL in vmlinux */
	size_t nlen, mlen;
	char type;
};

/*
 * Parse one line, without its newline: 1 for a symbol, 0 for one to drop
 * (absolute, undefined) or a malformed line.  *nonzero is set when the
 * line shows an address other than 0.
 */
static int parse_line(const char *p, const char *eol, struct kline *l,
		      bool *nonzero)
{
	const char *q = p, *end;
	uint64_t addr = 0;
	int digits = 0;

	while (q < eol && isxdigit((unsigned char)*q)) {
		int c = tolower((unsigned char)*q++);

		addr = addr * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		digits++;
	}
	if (!digits || digits > 16 || eol - q < 4 || q[0] != ' ' ||
	    isspace((unsigned char)q[1]) || q[2] != ' ')
		return 0;
	l->type = q[1];
	q += 3;
	l->name = q;
	while (q < eol && !isspace((unsigned char)*q))
		q++;
	l->nlen = (size_t)(q - l->name);
	if (!l->nlen)
		return 0;
	while (q < eol && isspace((unsigned char)*q))
		q++;
	l->mod = NULL;
	if (q < eol && *q == '[' &&
	    (end = memchr(q + 1, ']', (size_t)(eol - q - 1))) != NULL && end > q + 1) {
		l->mod = q + 1;
		l->mlen = (size_t)(end - l->mod);
	}
	l->addr = addr;
	if (addr)
		*nonzero = true;
	/* absolute (per-cpu offsets), undefined */
	return l->type != 'A' && l->type != 'a' && l->type != 'U';
}

typedef void (*line_fn)(void *arg, const char *p, const char *eol);

/* Where the lines come from: a file, or text (path NULL). */
struct src {
	const char *path, *text;
	size_t len;
};

/*
 * Call fn on each line, without its newline, reading a file a piece at a
 * time.  0, or -1 with errno set.
 */
static int each_line(const struct src *s, line_fn fn, void *arg)
{
	const char *p, *end, *eol;
	char buf[16384];
	size_t have = 0;
	int fd, saved;

	if (!s->path) {
		for (p = s->text, end = p + s->len; p < end; p = eol + 1) {
			eol = memchr(p, '\n', (size_t)(end - p));
			if (!eol)
				eol = end;
			fn(arg, p, eol);
		}
		return 0;
	}
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		end = buf + have + r;
		for (p = buf; (eol = memchr(p, '\n', (size_t)(end - p))) != NULL; p = eol + 1)
			fn(arg, p, eol);
		have = (size_t)(end - p);
		if (r == 0) {
			if (have)
				fn(arg, p, end);
			close(fd);
			return 0;
		}
		if (have == sizeof(buf))
			have = 0;	/* a line longer than buf: not kallsyms */
		else
			memmove(buf, p, have);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* One read of the file for a batch. */
struct scan {
	struct ksyms_batch *b;
	bool again;		/* a name came after a line above it */
	bool second;		/* the read again, for the names' ends alone */
	bool nonzero, any;
	uint64_t max_addr;	/* of the symbols read so far */
};

static void put(struct ksym_at *a, const struct kline *l)
{
	size_t n = l->nlen < KSYM_NAME_MAX ? l->nlen : KSYM_NAME_MAX - 1;

	a->sym = l->addr;
	a->type = l->type;
	memcpy(a->name, l->name, n);
	a->name[n] = '\0';
	n = !l->mod ? 0 : l->mlen < KSYM_MOD_MAX ? l->mlen : KSYM_MOD_MAX - 1;
	if (n)
		memcpy(a->mod, l->mod, n);
	a->mod[n] = '\0';
}

static void scan_line(void *arg, const char *p, const char *eol)
{
	struct scan *sc = arg;
	struct ksyms_batch *b = sc->b;
	size_t lo = 0, hi = b->n;
	struct kline l;

	if (!parse_line(p, eol, &l, &sc->nonzero))
		return;
	/* its gap: the first address at or above it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->at[mid].addr < l.addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!sc->second && lo < b->n && (!b->at[lo].type || l.addr >= b->at[lo].sym))
		put(&b->at[lo], &l);
	for (size_t i = 0; i < b->nnames; i++) {
		struct ksym_name *nm = &b->names[i];

		if (!sc->second && l.name[0] == nm->name[0] &&
		    strlen(nm->name) == l.nlen && !memcmp(l.name, nm->name, l.nlen) &&
		    (!nm->type || l.addr < nm->addr)) {
			nm->type = l.type;
			nm->addr = l.addr;
			nm->end = 0;
			sc->again |= sc->any && sc->max_addr > l.addr;
		} else if (nm->type && l.addr > nm->addr &&
			   (!nm->end || l.addr < nm->end)) {
			nm->end = l.addr;
		}
	}
	if (!sc->any || l.addr > sc->max_addr)
		sc->max_addr = l.addr;
	sc->any = true;
}

/* [lo, hi) of module mod in /proc/modules text; false if not known. */
static bool module_extent(const char *modules, const char *mod, uint64_t *lo,
			  uint64_t *hi)
{
	size_t n = strlen(mod);

	for (const char *p = modules, *eol; p && *p; p = eol ? eol + 1 : NULL) {
		unsigned long long size, addr;
		char line[512];

		eol = strchr(p, '\n');
		if (strncmp(p, mod, n) || p[n] != ' ')
			continue;
		snprintf(line, sizeof(line), "%.*s",
			 (int)(eol ? (size_t)(eol - p) : strlen(p)), p);
		if (sscanf(line + n, "%llu %*s %*s %*s %llx", &size, &addr) == 2 &&
		    addr && size) {
			*lo = addr;
			*hi = addr + size;
			return true;
		}
	}
	return false;
}

/* Does the nearest symbol at or below a->addr contain it? */
static bool contains(const struct ksym_at *a, const char *modules)
{
	uint64_t lo, hi;

	if (a->addr - a->sym >= (a->mod[0] ? UINT64_C(1) << 16 : UINT64_C(1) << 20))
		return false;
	/* text only: a module's data may be allocated apart (6.4+) */
	if (a->mod[0] && ksym_is_text(a->type) &&
	    module_extent(modules, a->mod, &lo, &hi))
		return a->addr >= lo && a->addr < hi;
	return true;
}

static int cmp_at(const void *x, const void *y)
{
	const struct ksym_at *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* Sort the addresses asked and drop those asked twice: how many are left. */
static size_t sort_unique(struct ksyms_batch *b)
{
	size_t o = 0;

	if (b->n)
		qsort(b->at, b->n, sizeof(*b->at), cmp_at);
	for (size_t i = 0; i < b->n; i++)
		if (!o || b->at[o - 1].addr != b->at[i].addr)
			b->at[o++] = b->at[i];
	return b->n = o;
}

static int resolve(struct ksyms_batch *b, const struct src *src,
		   const char *modules)
{
	struct scan sc = { .b = b };
	size_t i;

	sort_unique(b);
	for (i = 0; i < b->n; i++)
		b->at[i].type = 0;
	for (i = 0; i < b->nnames; i++)
		b->names[i].type = 0;
	if (each_line(src, scan_line, &sc))
		return -1;
	/* the lines before a name were not looked at for its end */
	for (i = 0; sc.again && i < b->nnames; i++)
		b->names[i].end = 0;
	sc.second = sc.again;
	if (sc.again && each_line(src, scan_line, &sc))
		return -1;
	b->zero_addrs = sc.any && !sc.nonzero;
	for (i = 0; i < b->n; i++) {
		struct ksym_at *a = &b->at[i];

		if (!a->type && i && a[-1].type) {	/* an empty gap */
			uint64_t addr = a->addr;

			*a = a[-1];
			a->addr = addr;
		}
	}
	for (i = 0; i < b->n; i++)
		if (b->at[i].type && (b->zero_addrs || !contains(&b->at[i], modules)))
			b->at[i].type = 0;
	for (i = 0; b->zero_addrs && i < b->nnames; i++)
		b->names[i].type = 0;
	return 0;
}

int ksyms_resolve(struct ksyms_batch *b, const char *path, const char *modules)
{
	struct src s = { .path = path };

	return resolve(b, &s, modules);
}

int ksyms_resolve_text(struct ksyms_batch *b, const char *text, size_t len,
		       const char *modules)
{
	struct src s = { .text = text, .len = len };

	return resolve(b, &s, modules);
}

int ksyms_add(struct ksyms_batch *b, uint64_t addr)
{
	if (!addr)
		return 0;
	/* full: first drop what was asked twice (stacks share most frames) */
	if (b->n == b->cap && sort_unique(b) * 2 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ksym_at *n = realloc(b->at, cap * sizeof(*n));

		if (!n)
			return -1;
		b->at = n;
		b->cap = cap;
	}
	b->at[b->n].addr = addr;
	b->at[b->n++].type = 0;
	return 0;
}

const struct ksym_at *ksyms_at(const struct ksyms_batch *b, uint64_t addr)
{
	struct ksym_at key = { .addr = addr };
	const struct ksym_at *a = b && b->n ?
		bsearch(&key, b->at, b->n, sizeof(key), cmp_at) : NULL;

	return a && a->type ? a : NULL;
}

void ksyms_batch_free(struct ksyms_batch *b)
{
	free(b->at);
	b->at = NULL;
	b->n = b->cap = 0;
}

bool ksym_tracer_frame(const struct ksyms_batch *b, uint64_t addr)
{
	const struct ksym_at *s = ksyms_at(b, addr);

	return !s || !ksym_is_text(s->type) || addr - s->sym < 10 ||
	       !strncmp(s->name, "bpf_", 4) ||
	       !strcmp(s->mod, "__builtin__ftrace") || !strcmp(s->mod, "bpf");
}

void ksym_format(const struct ksyms_batch *b, uint64_t addr, char *buf,
		 size_t n)
{
	const struct ksym_at *s = ksyms_at(b, addr);

	if (!s)
		snprintf(buf, n, "0x%" PRIx64, addr);
	else if (s->mod[0])
		snprintf(buf, n, "%s+0x%" PRIx64 " [%s]", s->name, addr - s->sym, s->mod);
	else
		snprintf(buf, n, "%s+0x%" PRIx64, s->name, addr - s->sym);
}
