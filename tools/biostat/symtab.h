/* SPDX-License-Identifier: GPL-2.0 */
/*
 * symtab.h - biostat's questions to /proc/kallsyms: the few names every
 * run asks about (the functions it hooks, the mempool's, fs_bio_set),
 * read in one go before the BPF object is loaded and kept by value; and
 * batches of addresses (ksyms.h), resolved as sets are named and stacks
 * printed.  Every failure to read the file ends the run with one message.
 */
#ifndef BIOSTAT_SYMTAB_H
#define BIOSTAT_SYMTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "ksyms.h"

#define SYMTAB_NAMES 12

/* Zeroed: nothing read yet. */
struct symtab {
	struct ksym_name v[SYMTAB_NAMES];
	bool read;
};

/* Read the names if they were not. */
void symtab_read(struct symtab *st);

/* The first symbol of that name (type 0 if none); read if not known. */
struct ksym_name symtab_named(struct symtab *st, const char *name);

/* A traceable function of that name exists. */
bool symtab_has_func(struct symtab *st, const char *name);

/* [lo, hi) of a kernel function; 0, or -1 when unknown. */
int symtab_func_range(struct symtab *st, const char *name, uint64_t *lo,
		      uint64_t *hi);

/* Answer a batch from /proc/kallsyms and /proc/modules. */
void symtab_resolve(struct ksyms_batch *b);

#endif
