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

struct ksyms_parser {
	struct ksyms *ks;
	size_t cap;		/* of ks->syms */
	const char *last_mod;	/* module names are shared: lines come grouped */
	bool nonzero;
	bool oom;
};

/* One line of /proc/kallsyms, without its newline. */
static void parse_line(struct ksyms_parser *ps, const char *p, const char *eol)
{
	struct ksyms *ks = ps->ks;
	const char *q, *name, *name_end, *mod = NULL, *mod_end = NULL;
	uint64_t addr = 0;
	int digits = 0;
	struct ksym *s;
	char type;

	q = p;
	while (q < eol && isxdigit((unsigned char)*q)) {
		int c = tolower((unsigned char)*q);

		addr = addr * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		q++;
		digits++;
	}
	if (!digits || digits > 16 || q >= eol || *q != ' ')
		return;
	q++;
	if (q >= eol || isspace((unsigned char)*q))
		return;
	type = *q++;
	if (q >= eol || *q != ' ')
		return;
	q++;
	name = q;
	while (q < eol && !isspace((unsigned char)*q))
		q++;
	name_end = q;
	if (name_end == name)
		return;
	while (q < eol && isspace((unsigned char)*q))
		q++;
	if (q < eol && *q == '[') {
		mod = q + 1;
		mod_end = memchr(mod, ']', (size_t)(eol - mod));
		if (!mod_end || mod_end == mod)
			mod = mod_end = NULL;
	}
	if (addr)
		ps->nonzero = true;
	if (type == 'A' || type == 'a' || type == 'U')
		return;	/* absolute (per-cpu offsets), undefined */
	if (ks->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 4096;
		struct ksym *n = realloc(ks->syms, cap * sizeof(*n));

		if (!n) {
			ps->oom = true;
			return;
		}
		ks->syms = n;
		ps->cap = cap;
	}
	s = &ks->syms[ks->n];
	s->addr = addr;
	s->type = type;
	s->idx = (uint32_t)ks->n;
	s->name = strs_put(ks, name, (size_t)(name_end - name));
	s->mod = NULL;
	if (mod) {
		size_t ml = (size_t)(mod_end - mod);

		if (ps->last_mod && strlen(ps->last_mod) == ml &&
		    !memcmp(ps->last_mod, mod, ml))
			s->mod = ps->last_mod;
		else
			s->mod = ps->last_mod = strs_put(ks, mod, ml);
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

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms_parser ps = { .ks = calloc(1, sizeof(struct ksyms)) };
	char buf[16384];
	size_t have = 0;
	int fd, saved;

	if (!ps.ks)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err;
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
			parse_line(&ps, p, eol);
			p = eol + 1;
		}
		have = (size_t)(end - p);
		if (r == 0) {
			if (have)
				parse_line(&ps, p, end);
			break;
		}
		if (have == sizeof(buf))
			have = 0;	/* a line longer than buf: not kallsyms */
		else
			memmove(buf, p, have);
		if (ps.oom)
			break;
	}
	close(fd);
	return parse_finish(&ps);
err:
	saved = errno;
	if (fd >= 0)
		close(fd);
	ksyms_free(ps.ks);
	errno = saved;
	return NULL;
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
