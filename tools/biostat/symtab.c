// SPDX-License-Identifier: GPL-2.0
/* symtab.c - biostat's questions to /proc/kallsyms (symtab.h). */
#include "symtab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define KALLSYMS "/proc/kallsyms"

/* hooks.c's functions, then biostat.c's and check.c's other names */
static const char *const known[] = {
	"bio_alloc_bioset", "bio_alloc_clone", "mempool_alloc_slab",
	"io_schedule_timeout", "punt_bios_to_rescuer", "queue_work_on",
	"bio_alloc_rescue", "submit_bio_noacct", "bioset_exit",
	"mempool_alloc_noprof", "mempool_alloc", "fs_bio_set",
};
_Static_assert(ARRAY_SIZE(known) == SYMTAB_NAMES, "one answer per name");

void symtab_resolve(struct ksyms_batch *b)
{
	char *mods = NULL;
	size_t len = 0;
	FILE *f = b->n ? fopen("/proc/modules", "re") : NULL;
	int err = 0;

	/* where the modules lie now: unknown if unreadable */
	if (f && getdelim(&mods, &len, '\0', f) < 0) {
		free(mods);
		mods = NULL;
	}
	if (f)
		fclose(f);
	if (ksyms_resolve(b, KALLSYMS, mods))
		err = errno;
	free(mods);
	if (err)
		die("cannot read " KALLSYMS ": %s", strerror(err));
	if (b->zero_addrs)
		die(KALLSYMS " shows no addresses (kptr_restrict); run as root");
}

void symtab_read(struct symtab *st)
{
	struct ksyms_batch b = { .names = st->v, .nnames = SYMTAB_NAMES };

	if (st->read)
		return;
	for (size_t i = 0; i < SYMTAB_NAMES; i++)
		st->v[i].name = known[i];
	symtab_resolve(&b);
	st->read = true;
}

struct ksym_name symtab_named(struct symtab *st, const char *name)
{
	struct ksym_name n = { .name = name };
	struct ksyms_batch b = { .names = &n, .nnames = 1 };

	symtab_read(st);
	for (size_t i = 0; i < SYMTAB_NAMES; i++)
		if (!strcmp(st->v[i].name, name))
			return st->v[i];
	symtab_resolve(&b);	/* not one of those: a read of its own */
	return n;
}

bool symtab_has_func(struct symtab *st, const char *name)
{
	return ksym_is_text(symtab_named(st, name).type);
}

int symtab_func_range(struct symtab *st, const char *name, uint64_t *lo,
		      uint64_t *hi)
{
	struct ksym_name n = symtab_named(st, name);

	if (!ksym_is_text(n.type) || !n.end)
		return -1;
	*lo = n.addr;
	*hi = n.end;
	return 0;
}
