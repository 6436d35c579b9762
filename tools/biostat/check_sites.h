/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check_sites.h - what one run of "biostat check" holds (check.c) and
 * reports (check_report.c): its options, its tracing state and the call
 * sites collected from the BPF side.
 */
#ifndef BIOSTAT_CHECK_SITES_H
#define BIOSTAT_CHECK_SITES_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

#include "biostat_check.h"
#include "devices.h"
#include "symtab.h"

struct biostat_check_bpf;
struct bpf_link;
struct bpf_program;

struct check_opts {
	double duration;	/* 0: until SIGINT/SIGTERM */
	bool json, verbose;
	const char *device;
	int positional;
};

struct site {
	struct biostat_check_key k;
	struct biostat_check_site v;
};

/* The sites of one kind, sorted by set and first time. */
struct sitelist {
	struct site *v;
	size_t n, cap;
	const char *type;	/* JSON "type" and text heading */
};

/* One run of biostat check. */
struct check {
	struct check_opts o;
	__u32 kdev;		/* of -d, 0: every device */
	struct devlists dl;
	struct symtab syms;
	struct ksyms_batch frames;	/* the sites' addresses, for the report */
	struct biostat_check_bpf *skel;
	struct bpf_link *links[24];
	int nlinks;
	bool pools;		/* the mempool hooks are attached (rule 3) */
	struct bpf_program *pool_progs[4];
	struct sitelist viol, hand, undec;	/* violations, hand-offs, undecided */
	struct sitelist blocked;	/* rule-1 candidates still allocating */
	struct sitelist haz;	/* the other rules' sites, by rule */
	int stacks_fd;		/* the stack map the sites' stack ids are of */
	__u64 cerrs[BIOSTAT_CERR_NR];
	__u64 misses;		/* the programs' recursion misses */
	__u64 release_misses;	/* of those, the programs that release bios */
	double start, stop;
	double blocked_min;	/* seconds an allocation runs to be "blocked" */
};

/* Violations, hand-offs, undecided candidates, then the summary, as text
 * or JSON; returns the violations shown. */
size_t check_report(struct check *c);

#endif
