// SPDX-License-Identifier: GPL-2.0
/*
 * context.bpf.c - "biostat check"'s BPF object: its variables and maps
 * (declared in state.h, defined here, once), and where a task is: in
 * interrupt context, or in which submission generation.
 *
 * "biostat check" finds code that breaks a statement of
 * bio_alloc_bioset()'s kernel-doc.  Rule 1, most of the object: tasks
 * that allocate a bio from a bio_set while they still hold, unsubmitted,
 * a bio they allocated earlier from the same set, with a gfp mask that
 * may sleep on the set's mempool, told apart from hand-offs: a held bio
 * passed to another thread that submits it.  Rules 2 to 4: rules.bpf.c.
 *
 * The object is linked (bpftool gen object) from one file per role:
 *   context.bpf.c  variables, maps; interrupt context; generations
 *   held.bpf.c     rule 1: bios held, and candidates, at each allocation
 *   fate.bpf.c     rule 1: a held bio's fate decides its candidates
 *   rules.bpf.c    the other statements, decided as an allocation starts
 * with what they share in state.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat_check.h"
#include "state.h"

char LICENSE[] SEC("license") = "GPL";

/* Each declared, with what it holds, in state.h. */
bool enabled = false;
__u64 fs_bio_set_addr = 0;
__u64 elems_live = 0;
__u64 alloc_fn = 0;
__u64 clone_fn = 0;
__u64 pool_fn = 0;

held_map_t held SEC(".maps");
tasksets_map_t tasksets SEC(".maps");
tgen_map_t tgen SEC(".maps");
violations_map_t violations SEC(".maps");
handoffs_map_t handoffs SEC(".maps");
pending_map_t pending SEC(".maps");
cand_scratch_map_t cand_scratch SEC(".maps");
cstacks_map_t cstacks SEC(".maps");
cerrs_map_t cerrs SEC(".maps");
irqdepth_map_t irqdepth SEC(".maps");
hint_map_t hint SEC(".maps");
hazards_map_t hazards SEC(".maps");
anc_map_t anc SEC(".maps");
elems_map_t elems SEC(".maps");
pheld_map_t pheld SEC(".maps");
blocked_map_t blocked SEC(".maps");
firsts_map_t firsts SEC(".maps");

static __always_inline int irq_depth(__s64 delta)
{
	__u32 zero = 0;
	__s64 *d = bpf_map_lookup_elem(&irqdepth, &zero);

	/* an exit whose entry came before the attach leaves it at 0 */
	if (d && (delta > 0 || *d > 0))
		*d += delta;	/* per-CPU, interrupts nest and unwind in order */
	return 0;
}

SEC("raw_tp/irq_handler_entry")
int BPF_PROG(ck_irq_in)
{
	return irq_depth(1);
}

SEC("raw_tp/irq_handler_exit")
int BPF_PROG(ck_irq_out)
{
	return irq_depth(-1);
}

SEC("raw_tp/softirq_entry")
int BPF_PROG(ck_softirq_in)
{
	return irq_depth(1);
}

SEC("raw_tp/softirq_exit")
int BPF_PROG(ck_softirq_out)
{
	return irq_depth(-1);
}

/* 7.x: a top-level submit_bio() does not pass submit_bio_noacct() (on
 * 6.x it does: a second bump there is harmless) */
SEC("fentry/submit_bio")
int BPF_PROG(ck_submit_top, struct bio *bio)
{
	if (enabled && !in_submit())
		new_generation();
	return 0;
}
