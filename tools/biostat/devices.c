// SPDX-License-Identifier: GPL-2.0
/*
 * devices.c - device listings: lookups in their text, reading them from
 * sysfs, and resolving what the user gives to -d (see devices.h).
 */
#include "devices.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"
#include "parse.h"

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

int devpairs_get(const char *list, const char *key, int index, char *out,
		 size_t n)
{
	size_t kl = key ? strlen(key) : 0;
	const char *p = list;

	while (kl && p && *p) {
		const char *eol = strchr(p, '\n'), *v;

		if (!eol)
			eol = p + strlen(p);
		v = p + kl;
		if (v < eol && !strncmp(p, key, kl) && *v == ' ' && v + 1 < eol &&
		    index-- == 0) {
			if (n)
				snprintf(out, n, "%.*s", (int)(eol - v - 1), v + 1);
			return 0;
		}
		p = *eol ? eol + 1 : eol;
	}
	return -1;
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

/* First line of a small sysfs file, without the newline. */
static int read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, (int)n, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap ? b->cap : 1024) * 2 + (size_t)n;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			b->len = b->cap = 0;
			return;
		}
	}
}

/* "NAME ENTRY" for each entry of directory NAME/sub, "." ones left out */
static void add_dir_pairs(struct sbuf *h, const char *name, const char *sub)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/block/%s/%s", name, sub);
	dir = opendir(path);
	while (dir && (e = readdir(dir)))
		if (e->d_name[0] != '.' && (!strcmp(sub, "holders") ||
					     !strncmp(e->d_name, "bdev", 4)))
			sb_add(h, "%s %s\n", name, e->d_name);
	if (dir)
		closedir(dir);
}

/* "NAME TARGET" where NAME/link is a symbolic link to .../TARGET */
static void add_link_pair(struct sbuf *h, const char *name, const char *link)
{
	char path[PATH_MAX], to[PATH_MAX];
	const char *base;
	ssize_t l;

	snprintf(path, sizeof(path), "/sys/class/block/%s/%s", name, link);
	l = readlink(path, to, sizeof(to) - 1);
	if (l <= 0)
		return;
	to[l] = '\0';
	base = strrchr(to, '/');
	sb_add(h, "%s %s\n", name, base ? base + 1 : to);
}

/*
 * How NAME stacks: its holders; a bcache backing device's bcache device
 * (bcache/dev); a bcache cache device's bcache devices (the bdevN links of
 * its cache set: each is a backing device's bcache directory, whose dev
 * link names the bcache device); an md array's level.
 */
static void add_relations(struct sbuf *h, struct sbuf *m, const char *name)
{
	char path[PATH_MAX], line[64];
	struct sbuf set = { 0 };
	const char *p;

	add_dir_pairs(h, name, "holders");
	add_link_pair(h, name, "bcache/dev");
	sb_add(&set, "%s", "");
	add_dir_pairs(&set, name, "bcache/set");
	for (p = set.s; p && *p;) {
		const char *sp = strchr(p, ' '), *nl = strchr(p, '\n');
		char sub[96];

		if (!sp || !nl)
			break;
		snprintf(sub, sizeof(sub), "bcache/set/%.*s/dev", (int)(nl - sp - 1), sp + 1);
		add_link_pair(h, name, sub);
		p = nl + 1;
	}
	free(set.s);
	snprintf(path, sizeof(path), "/sys/class/block/%s/md/level", name);
	if (!read_line(path, line, sizeof(line)) && line[0])
		sb_add(m, "%s %s\n", name, line);
}

void devlists_read(struct devlists *dl)
{
	struct sbuf b = { 0 }, d = { 0 }, h = { 0 }, m = { 0 };
	char path[PATH_MAX], line[256];
	struct dirent *de;
	DIR *dir;

	sb_add(&b, "%s", "");
	sb_add(&d, "%s", "");
	sb_add(&h, "%s", "");
	sb_add(&m, "%s", "");
	dir = opendir("/sys/class/block");
	while (dir && (de = readdir(dir))) {
		char devno[64];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev", de->d_name);
		if (read_line(path, devno, sizeof(devno)))
			continue;
		sb_add(&b, "%s %s\n", de->d_name, devno);
		snprintf(path, sizeof(path), "/sys/class/block/%s/dm/name", de->d_name);
		if (!read_line(path, line, sizeof(line)) && line[0])
			sb_add(&d, "%s %s\n", line, devno);
		add_relations(&h, &m, de->d_name);
	}
	if (dir)
		closedir(dir);
	devlists_free(dl);
	dl->blk = b.s;
	dl->dm = d.s;
	dl->holders = h.s;
	dl->md = m.s;
	dl->read_at = mono_now();
}

void devlists_free(struct devlists *dl)
{
	free(dl->blk);
	free(dl->dm);
	free(dl->holders);
	free(dl->md);
	dl->blk = dl->dm = dl->holders = dl->md = NULL;
}

uint32_t device_arg_kdev(const struct devlists *dl, const char *arg)
{
	unsigned int ma, mi;
	struct stat st;

	if (arg[0] == '/' && !stat(arg, &st)) {
		if (!S_ISBLK(st.st_mode))
			die_usage("'%s' is not a block device", arg);
		ma = major(st.st_rdev);
		mi = minor(st.st_rdev);
	} else if (resolve_device_arg(arg, dl->dm, dl->blk, &ma, &mi)) {
		die_usage("unknown device '%s'", arg);
	}
	verbose("device %s is %u:%u", arg, ma, mi);
	return BIOSTAT_KDEV(ma, mi);
}
