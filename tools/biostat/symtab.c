// SPDX-License-Identifier: GPL-2.0
/* symtab.c - biostat's symbol table, read when first needed (symtab.h). */
#include "symtab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define KALLSYMS "/proc/kallsyms"
#define MODULES "/proc/modules"

/*
 * Where the modules lie now (ksyms_set_modules()), with the symbols: a
 * few KiB, read again whenever the symbols are.  Unknown if unreadable.
 */
static void read_modules(struct ksyms *ks)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(MODULES, "re");
	int err;

	if (!f)
		return;
	err = getdelim(&text, &len, '\0', f) < 0;
	fclose(f);
	if (!err && ksyms_set_modules(ks, text))
		die("out of memory");
	free(text);
}

void symtab_init(struct symtab *st, bool full)
{
	st->ks = NULL;
	st->full = full;
}

void symtab_free(struct symtab *st)
{
	ksyms_free(st->ks);
	st->ks = NULL;
}

static void need(struct symtab *st, const uint64_t *addrs, size_t naddrs,
		 const char *const *names, size_t nnames)
{
	size_t asked = st->ks->nasked + st->ks->nnames_asked;

	if (ksyms_need(st->ks, addrs, naddrs, names, nnames))
		die("cannot read " KALLSYMS ": %s", strerror(errno));
	/* the file was read again (a whole table is read once, with them) */
	if (st->ks->nasked + st->ks->nnames_asked != asked)
		read_modules(st->ks);
}

const struct ksyms *symtab_ksyms(struct symtab *st)
{
	/* asked together with the first read: what every run needs */
	static const char *const names[] = {
		"mempool_alloc_slab", "mempool_alloc_noprof", "mempool_alloc",
		"fs_bio_set", "bio_alloc_rescue",
		"punt_bios_to_rescuer",	/* inlined on 7.x: hooks.c */
	};

	if (st->ks)
		return st->ks;
	st->ks = st->full ? ksyms_load(KALLSYMS) : ksyms_partial(KALLSYMS);
	if (!st->ks)
		die("cannot read " KALLSYMS ": %s", strerror(errno));
	if (st->full)
		read_modules(st->ks);
	need(st, NULL, 0, names, ARRAY_SIZE(names));
	if (st->ks->zero_addrs)
		die(KALLSYMS " shows no addresses (kptr_restrict); run as root");
	return st->ks;
}

void symtab_need(struct symtab *st, const uint64_t *addrs, size_t n)
{
	symtab_ksyms(st);
	need(st, addrs, n, NULL, 0);
}

const struct ksym *symtab_named(struct symtab *st, const char *name)
{
	symtab_ksyms(st);
	need(st, NULL, 0, &name, 1);
	return ksyms_by_name(st->ks, name);
}

bool symtab_has_func(struct symtab *st, const char *name)
{
	return ksym_is_text(symtab_named(st, name));
}

int symtab_func_range(struct symtab *st, const char *name, uint64_t *lo,
		      uint64_t *hi)
{
	const struct ksym *s = symtab_named(st, name);
	const struct ksyms *ks = st->ks;
	size_t i;

	if (!ksym_is_text(s))
		return -1;
	/* a partial table keeps the next symbol above each one asked */
	for (i = (size_t)(s - ks->syms) + 1; i < ks->n; i++)
		if (ks->syms[i].addr > s->addr)
			break;
	if (i >= ks->n)
		return -1;
	*lo = s->addr;
	*hi = ks->syms[i].addr;
	return 0;
}
