// SPDX-License-Identifier: GPL-2.0
/*
 * sets.bpf.c - biostat's BPF object: its settings and maps (declared in
 * state.h, defined here, once), and the end of a set.
 *
 * The object counts bio_set allocations, mempool reserve use, waits,
 * failures, rescuer punts and rescues, per bio_set, exactly (biostat(8),
 * HOW IT COUNTS).  CO-RE: built once against a vmlinux.h, loaded on 6.1,
 * 6.12 and later.  It is linked (bpftool gen object) from one file per role:
 *   sets.bpf.c     settings, maps; a set that goes away (bioset_exit)
 *   alloc.bpf.c    allocations, reserve use, waits, failures
 *   rescue.bpf.c   punts to the rescuer, rescues, rescued bios
 *   submit.bpf.c   submission mode: bios counted where they are submitted
 * with the set registry (sets.h) and the shared helpers (state.h) inline
 * in each.  Every hook exists twice, as fentry/fexit and as
 * kprobe/kretprobe, each pair right after the code it calls; the tool
 * enables one of the pair per hook at run time (tools/biostat/hooks.c).
 *
 * Events (waits, fails, punts, rescues) go to the ring buffer only when
 * the tool asks for them (-e); the longest wait of each interval is kept
 * in the counters, so table mode never loses anything.
 *
 * A set that goes away (bioset_exit, at its exit: it drains the rescuer
 * first) sends its final totals in a record of its own, in every mode;
 * its counters are zeroed, its index goes back to the "free_idx" queue
 * for the next new set and its "sets" entry is deleted.  sets_gen, bumped
 * there, makes every set cache drop its pairs, since a new set may reuse
 * the address and the index.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat.h"
#include "state.h"
#include "sets.h"

char LICENSE[] SEC("license") = "GPL";

/* Each declared, with what it holds, in state.h. */
const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_devs[BIOSTAT_MAX_DEVS] = {};
const volatile __u32 targ_ndevs = 0;
const volatile bool targ_cgroup = false;
const volatile __u64 min_wait_ns = 0;
const volatile bool want_stacks = false;
const volatile bool want_events = false;
const volatile __u32 nr_cpus = 1;

bool enabled = false;
__u32 calib_tid = 0;
__u64 calib_bs = 0;
__s64 rescue_active = 0;
__u64 ivl_gen = 0;
__u32 nsets = 0;
__u64 sets_gen = 0;
__s64 slab_pending = 0;
__u64 slab_lo = 0, slab_hi = 0, mp_lo = 0, mp_hi = 0;
__u64 clone_lo = 0, clone_hi = 0, alloc_lo = 0, alloc_hi = 0;
__u64 rescue_fn = 0;
bool punt_inline = false;

counters_map_t counters SEC(".maps");
set_cache_map_t set_cache SEC(".maps");
free_idx_map_t free_idx SEC(".maps");
scratch_map_t scratch SEC(".maps");
sets_map_t sets SEC(".maps");
tasks_map_t tasks SEC(".maps");
events_map_t events SEC(".maps");
stacks_map_t stacks SEC(".maps");
wait_stacks_map_t wait_stacks SEC(".maps");
cgroup_map_t cgroup SEC(".maps");
errs_map_t errs SEC(".maps");

/*
 * ---- bioset_exit(bs): the set goes away ----
 *
 * Its final totals go to the tool in one record (in every mode: it is
 * rare), its counters are zeroed and its index given back, and its entry
 * is deleted: the tables do not fill up with dead sets, and a new set made
 * at the same address starts from zero under a new first_ns.  If the
 * record cannot be sent, the tool still sees the entry vanish.
 */
static __always_inline int set_gone(struct bio_set *bs)
{
	struct biostat_gone_event *e;
	struct biostat_set_info *si;
	struct biostat_counters *c;
	__u64 key = (__u64)bs;
	__u32 cpu, idx;

	si = bpf_map_lookup_elem(&sets, &key);
	if (!si)
		return 0;	/* never seen */
	idx = si->idx;
	__sync_fetch_and_add(&sets_gen, 1);
	/* reserve, fill and submit in one block: 6.1's verifier loses the
	 * reference across a loop otherwise */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->ts_ns = bpf_ktime_get_ns();
		e->bs = key;
		e->type = BIOSTAT_EV_GONE;
		e->first_ns = si->first_ns;
		e->dev = si->dev;
		for (cpu = 0; cpu < BIOSTAT_MAX_CPUS && cpu < nr_cpus; cpu++) {
			c = bpf_map_lookup_percpu_elem(&counters, &idx, cpu);
			if (c)
				biostat_add_counters(&e->c, c);
		}
		bpf_ringbuf_submit(e, 0);
	} else {
		err_inc(BIOSTAT_ERR_RINGBUF);
	}
	for (cpu = 0; cpu < BIOSTAT_MAX_CPUS && cpu < nr_cpus; cpu++) {
		c = bpf_map_lookup_percpu_elem(&counters, &idx, cpu);
		if (c)
			__builtin_memset(c, 0, sizeof(*c));
	}
	bpf_map_delete_elem(&sets, &key);
	bpf_map_push_elem(&free_idx, &idx, 0);
	return 0;
}


/*
 * At the exit: bioset_exit() drains the rescue workqueue first, and a
 * rescue that runs then must not find the set gone and make it again.
 */
SEC("fexit/bioset_exit")
int BPF_PROG(fx_exit, struct bio_set *bs)
{
	return set_gone(bs);
}

/* The set of the bioset_exit() in progress, for its kretprobe. */
SEC("kprobe/bioset_exit")
int BPF_KPROBE(kp_exit, struct bio_set *bs)
{
	struct task_state *st = task_get(true);

	if (st)
		st->exit_bs = (__u64)bs;
	return 0;
}

SEC("kretprobe/bioset_exit")
int BPF_KRETPROBE(kr_exit)
{
	struct task_state *st = task_get(false);
	__u64 bs;

	if (!st || !st->exit_bs)
		return 0;
	bs = st->exit_bs;
	st->exit_bs = 0;
	return set_gone((struct bio_set *)bs);
}
