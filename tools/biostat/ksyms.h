/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksyms.h - kernel symbols from /proc/kallsyms: a whole table or a partial
 * one, and lookups by address and by name.  Works on text handed in or on
 * a file named by the caller, so it is unit tested without a kernel.
 */
#ifndef BIOSTAT_KSYMS_H
#define BIOSTAT_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *mod;	/* NULL for vmlinux */
	char type;		/* as in /proc/kallsyms: T t D d B b R r ... */
	uint32_t idx;		/* line order, to sort equal addresses stably */
};

/* Where a module lies (ksyms_set_modules()). */
struct kmod {
	char name[64];		/* MODULE_NAME_LEN */
	uint64_t lo, hi;	/* [lo, hi) */
};

struct ksyms {
	struct ksym *syms;	/* sorted by address, 'A' symbols dropped */
	size_t n;
	struct ksyms_block *blocks; /* storage of names and module names */
	size_t ndata;		/* data symbols (d D b B r R) */
	bool zero_addrs;	/* every address was 0 (kptr_restrict) */
	struct kmod *mods;	/* ksyms_set_modules(), NULL if not known */
	size_t nmods;
	/* partial tables only (ksyms_partial) */
	bool partial;
	char *path;
	size_t cap;		/* of syms */
	uint64_t *asked;	/* addresses asked for, sorted */
	size_t nasked;
	char **names_asked;
	size_t nnames_asked;
};

/* Parse /proc/kallsyms text.  NULL on allocation failure only. */
struct ksyms *ksyms_parse(const char *text, size_t len);
/* The same, read from a file (/proc/kallsyms) a piece at a time, so only
 * what is kept is held in memory.  NULL with errno set on failure. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *ks);

/*
 * A partial table: empty at first, it learns from path (/proc/kallsyms)
 * what ksyms_need() asks for and keeps only the symbols that answer, a few
 * hundred rather than the kernel's 100k-200k (biostat's memory).  For an
 * address: the nearest symbol at or below it and the next one above; for
 * a name: its first symbol and the next one above.  So every function
 * below answers for what was asked exactly as on the full table.  NULL
 * on allocation failure.
 */
struct ksyms *ksyms_partial(const char *path);

/*
 * Make a partial table answer for these addresses and names: two reads of
 * the file when anything was not asked before, none otherwise.  A no-op
 * on a full table.  0, or -1 with errno set (the table keeps what it had).
 */
int ksyms_need(struct ksyms *ks, const uint64_t *addrs, size_t naddrs,
	       const char *const *names, size_t nnames);

/* Nearest symbol at or below addr, NULL if none. */
const struct ksym *ksyms_lookup(const struct ksyms *ks, uint64_t addr);

/*
 * Where each module lies, from /proc/modules text ("name size refs deps
 * state 0xaddr"): a module's function then resolves only addresses inside
 * [addr, addr + size) of its module (JIT-ed BPF code and trampolines can
 * be allocated right after a module; its data may lie apart, 6.4+).
 * Lines without an address (kptr_restrict) are skipped.  0, or -1 without
 * memory.
 */
int ksyms_set_modules(struct ksyms *ks, const char *text);

/*
 * The symbol that contains addr and the offset into it, or NULL when addr
 * is too far past the nearest symbol to belong to it (1 MiB in vmlinux;
 * in a module, past its end when ksyms_set_modules() said where that is,
 * else 64 KiB: JIT-ed BPF code and trampolines sit between modules).
 */
const struct ksym *ksyms_resolve(const struct ksyms *ks, uint64_t addr,
				 uint64_t *off);

/*
 * A return address that is an artefact of tracing rather than a caller:
 * unresolvable (BPF programs and trampolines) or within the first 10 bytes
 * of a function, i.e. just after its fentry call site (endbr64 + call).
 */
bool ksym_is_trace_artifact(const struct ksyms *ks, uint64_t addr);

/* Exact name (vmlinux or module); the first match. */
const struct ksym *ksyms_by_name(const struct ksyms *ks, const char *name);

bool ksym_is_data(const struct ksym *s);
bool ksym_is_text(const struct ksym *s);

/* "func+0x1a [mod]" or "0xffffffff..." when it does not resolve */
void ksym_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t n);

#endif
