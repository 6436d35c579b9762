/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksyms_parse.h - what ksyms.c and ksyms_partial.c share of parsing
 * /proc/kallsyms: one line at a time into a growing table.  Private to
 * those two files; everyone else includes ksyms.h.
 */
#ifndef BIOSTAT_KSYMS_PARSE_H
#define BIOSTAT_KSYMS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ksyms.h"

/* One symbol line of /proc/kallsyms, pointing into the line. */
struct kline {
	uint64_t addr;
	const char *name, *name_end;
	const char *mod, *mod_end;	/* NULL for vmlinux */
	char type;
};

struct ksyms_parser {
	struct ksyms *ks;
	size_t cap;		/* of ks->syms */
	const char *last_mod;	/* module names are shared: lines come grouped */
	bool nonzero;
	bool oom;
};

/* qsort order of a table: by address, then by line. */
int ksym_cmp(const void *a, const void *b);

/*
 * Parse one line, without its newline: 1 for a symbol to keep, 0 for one
 * to drop (absolute, undefined) or a malformed line.  *nonzero is set when
 * the line shows an address other than 0.
 */
int ksym_line_parse(const char *p, const char *eol, struct kline *l,
		    bool *nonzero);

/* Append a symbol to ps->ks->syms (unsorted), its strings copied. */
void ksyms_add(struct ksyms_parser *ps, const struct kline *l, uint32_t idx);

/*
 * Call fn on each line of the file at path, without its newline, reading
 * a piece at a time; stops early when fn returns non-zero.  0, or -1 with
 * errno set.
 */
int ksyms_each_line(const char *path,
		    int (*fn)(void *arg, const char *p, const char *eol),
		    void *arg);

#endif
