/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksyms.h - kernel symbols from /proc/kallsyms, a batch at a time: give
 * it addresses (and names), one read of the file answers them all, by
 * value, and the batch is freed once the caller kept what it needs.  No
 * table of the kernel's symbols is ever held.  Works on a file or on
 * text handed in, so it is unit tested without a kernel.
 */
#ifndef BIOSTAT_KSYMS_H
#define BIOSTAT_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSYM_NAME_MAX 256	/* longer names are cut (output is too) */
#define KSYM_MOD_MAX 64		/* MODULE_NAME_LEN */

/* The symbol that contains an address. */
struct ksym_at {
	uint64_t addr;		/* the address asked */
	uint64_t sym;		/* the symbol's address: addr - sym is the offset */
	char type;		/* as in /proc/kallsyms (T t D d B b ...); 0: none */
	char name[KSYM_NAME_MAX];
	char mod[KSYM_MOD_MAX];	/* "" in vmlinux */
};

/* A name asked: its first symbol (the lowest address) and where it ends. */
struct ksym_name {
	const char *name;	/* the caller's */
	char type;		/* 0: no symbol of that name */
	uint64_t addr;
	uint64_t end;		/* the next symbol above it, 0 if none */
};

/* What one read of the file answers. */
struct ksyms_batch {
	struct ksym_at *at;	/* ksyms_add()ed; sorted and unique once resolved */
	size_t n, cap;
	struct ksym_name *names;	/* the caller's, nnames of them */
	size_t nnames;
	bool zero_addrs;	/* every address was 0 (kptr_restrict) */
};

/* Ask for an address (0 and duplicates are fine): 0, or -1 without memory. */
int ksyms_add(struct ksyms_batch *b, uint64_t addr);

/*
 * Answer the batch from the kallsyms file at path, in one read (two when
 * a line before a name's lies above it: not in the sorted vmlinux part),
 * or from its text.  modules: /proc/modules text ("name size refs deps
 * state 0xaddr"), NULL if not known: a module's function then contains
 * only addresses inside its module (JIT-ed BPF code and trampolines can
 * be allocated right after a module; its data may lie apart, 6.4+).  0,
 * or -1 with errno set.
 */
int ksyms_resolve(struct ksyms_batch *b, const char *path, const char *modules);
int ksyms_resolve_text(struct ksyms_batch *b, const char *text, size_t len,
		       const char *modules);

/*
 * The symbol that contains addr, NULL when none does or addr was not
 * asked: the nearest at or below it (the last listed of those at one
 * address), unless addr is too far past it (1 MiB in vmlinux; in a
 * module, past its end when modules said where that is, else 64 KiB).
 */
const struct ksym_at *ksyms_at(const struct ksyms_batch *b, uint64_t addr);

void ksyms_batch_free(struct ksyms_batch *b);

bool ksym_is_data(char type);
bool ksym_is_text(char type);

/*
 * A stack frame that is the tracer's, not a caller: the one definition
 * for -s stacks, set names and check's stacks.  Unresolvable (BPF programs
 * and trampolines), anything but text (on 6.1 an fexit trampoline's
 * address can fall among a module's symbols: its image lives among the
 * modules and is not in kallsyms), within the first 10 bytes of a
 * function (just after its fentry call site: endbr64 + call), a bpf_*
 * function, or ftrace's and BPF's own pseudo-modules.
 */
bool ksym_tracer_frame(const struct ksyms_batch *b, uint64_t addr);

/* "func+0x1a [mod]" or "0xffffffff..." when it does not resolve */
void ksym_format(const struct ksyms_batch *b, uint64_t addr, char *buf,
		 size_t n);

#endif
