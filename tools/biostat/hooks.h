/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hooks.h - loading biostat's BPF object and attaching it: fentry/fexit
 * where the kernel allows them, kprobes where it does not, and, on a
 * kernel with neither, the block_bio_queue tracepoint alone (submissions
 * mode).  The kernel functions traced are a table in hooks.c.
 */
#ifndef BIOSTAT_HOOKS_H
#define BIOSTAT_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "biostat.h"
#include "symtab.h"

struct biostat_bpf;
struct bpf_link;
struct bpf_program;

/* What the BPF programs filter on, set before they are loaded. */
struct tracer_config {
	uint32_t tgid;		/* 0: every process */
	uint32_t kdevs[BIOSTAT_MAX_DEVS];	/* -d, nkdevs of them */
	size_t nkdevs;		/* 0: every device */
	bool cgroup;		/* -c: only tasks in cgroup_fd's cgroup */
	int cgroup_fd;
	uint64_t min_wait_ns;	/* -m: waits shown (events, stacks) from */
	bool stacks;		/* -s: stacks of waits */
	bool events;		/* -e: stream events */
	int ncpus;
};

#define TRACER_MAX_HOOKS 16
#define TRACER_MAX_LINKS (2 * TRACER_MAX_HOOKS + 1)

struct tracer {
	struct biostat_bpf *skel;
	int ncpus;
	bool submissions;	/* only block_bio_queue is attached */
	struct bpf_link *links[TRACER_MAX_LINKS];
	int nlinks;
	int mode[TRACER_MAX_HOOKS];	/* per hook: fentry or kprobe */
	bool off[TRACER_MAX_HOOKS];	/* not used: a fallback, or missing */
	size_t call_off[TRACER_MAX_HOOKS];	/* a call site's offset */
};

/*
 * Load and attach, falling back as above; dies with one message when
 * nothing can trace.  BIOSTAT_HOOKS=auto|fentry|kprobe|tracepoint forces
 * a choice (for testing the fallbacks; see biostat.8, ENVIRONMENT).
 */
void tracer_start(struct tracer *t, const struct tracer_config *cfg,
		  struct symtab *syms);

/* With -v: which function is traced how. */
void tracer_describe(const struct tracer *t);

/* The hook on that kernel function is attached. */
bool tracer_uses(const struct tracer *t, const char *func);

/*
 * What the BPF side could not count since it started: the "errs" map,
 * summed over CPUs, and the runs of biostat's programs the kernel skipped
 * because another of them was running on that CPU
 * (bpf_prog_info.recursion_misses, summed): each is a count or a frame
 * that may be missing.
 */
struct tracer_losses {
	uint64_t errs[BIOSTAT_ERR_NR];
	uint64_t misses;
};

void tracer_losses(const struct tracer *t, struct tracer_losses *l);

/* Runs of one program the kernel skipped so (check's programs too); 0 if
 * unknown. */
uint64_t prog_recursion_misses(const struct bpf_program *p);

/*
 * End the BPF side's interval: from now on its waits count towards the
 * next one.  Returns the number of the one that ended, whose longest waits
 * settab_read() then takes.
 */
__u64 tracer_next_interval(struct tracer *t);

void tracer_stop(struct tracer *t);

/* Dies with a usage message when BIOSTAT_HOOKS holds something else. */
void hooks_env_check(void);

#endif
