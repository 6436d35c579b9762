/* SPDX-License-Identifier: GPL-2.0 */
/*
 * symtab.h - biostat's own symbol table: /proc/kallsyms read when first
 * needed, whole or partial (see ksyms.h), and the questions the tool asks
 * of it.  Every failure to read it ends the run with one message.
 *
 * The whole table is read after the BPF object is loaded, so that it and
 * libbpf's copy of the vmlinux BTF are never in memory at the same time
 * (biostat's peak RSS); a partial one, a few symbols, before the load,
 * which it can spare a retry (hooks.c).  -s, which prints any stack, -e,
 * where an event must not wait while a new set's name is looked up, and
 * check keep the whole table; table mode, the one left running, a partial
 * one, which reads the file again only for what it was not asked before.
 */
#ifndef BIOSTAT_SYMTAB_H
#define BIOSTAT_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ksyms.h"

struct symtab {
	struct ksyms *ks;	/* NULL until first needed */
	bool full;		/* keep every symbol */
};

void symtab_init(struct symtab *st, bool full);
void symtab_free(struct symtab *st);

/* The table, read if it was not yet; answers for what was asked so far. */
const struct ksyms *symtab_ksyms(struct symtab *st);

/* Make the table answer for these addresses (a no-op on a whole table). */
void symtab_need(struct symtab *st, const uint64_t *addrs, size_t n);

/* The symbol of that name, NULL if none. */
const struct ksym *symtab_named(struct symtab *st, const char *name);

/* A traceable function of that name exists. */
bool symtab_has_func(struct symtab *st, const char *name);

/* [lo, hi) of a kernel function; 0, or -1 when unknown. */
int symtab_func_range(struct symtab *st, const char *name, uint64_t *lo,
		      uint64_t *hi);

#endif
