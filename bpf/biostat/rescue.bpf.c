// SPDX-License-Identifier: GPL-2.0
/*
 * rescue.bpf.c - the rescuer: punts, the bios they move, rescues and the
 * bios a rescue resubmits, counted exactly (the rest of the object:
 * sets.bpf.c).
 *
 * punts    punt_bios_to_rescuer() calls.  Where it is inlined (7.x, not in
 *          BTF nor kallsyms), queue_work_on() calls for a set's rescue
 *          work (work->func is bio_alloc_rescue): each punt queues it once.
 * punted   On entry of punt_bios_to_rescuer() we walk current->bio_list[0]
 *          and [1] and count the bios whose bi_pool is this set: exactly
 *          the bios the function moves (only the current task touches its
 *          bio_list).  Where it is inlined, the bios are counted as the
 *          rescuer resubmits them, like rescued: punted == rescued there
 *          by construction, and punted lags until the rescuer ran.
 * rescues  bio_alloc_rescue() runs.
 * rescued  bio_alloc_rescue()'s own calls of submit_bio_noacct(): a
 *          kprobe on that call instruction (kp_resubmit; user space finds
 *          it in the function's text with rt_text), which runs for
 *          rescued bios only, once each, so no program runs per ordinary
 *          submission.  Where that call cannot be probed (no kprobes, or
 *          not exactly one such call), every submit_bio_noacct() call is
 *          hooked instead (fe_submit, kp_submit): it counts those the
 *          rescuing task makes itself with no current->bio_list, for bios
 *          of the rescued set, while bio_alloc_rescue() runs, and returns
 *          at once, on a global, unless a rescue is in progress.  Either
 *          way each bio is counted as it is resubmitted, so punted ==
 *          rescued as soon as the rescuer has resubmitted everything, and
 *          a split remainder the block layer resubmits from inside that
 *          submission is not a rescue.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "biostat.h"
#include "state.h"
#include "sets.h"

/* ---- punt_bios_to_rescuer(bs) ---- */

/* One step of a bio_list walk, as a bpf_loop() callback: the verifier
 * checks the body once, not once per unrolled iteration. */
struct list_walk {
	struct bio *b;
	__u64 bs;
	__u32 n;
};

static long list_step(__u32 i, void *ctx)
{
	struct list_walk *w = ctx;
	struct bio *b = w->b;

	if (!b)
		return 1;
	if ((__u64)BPF_CORE_READ(b, bi_pool) == w->bs)
		w->n++;
	w->b = BPF_CORE_READ(b, bi_next);
	return 0;
}

static __always_inline __u32 count_list(struct bio_list *bl, __u64 bs)
{
	struct list_walk w = { .b = BPF_CORE_READ(bl, head), .bs = bs };

	bpf_loop(BIOSTAT_PUNT_WALK_MAX, list_step, &w, 0);
	if (w.b)
		err_inc(BIOSTAT_ERR_WALK);
	return w.n;
}

static __always_inline int punt_enter(void *ctx, struct bio_set *bs)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct biostat_counters *c;
	struct task_state *st;
	struct bio_list *bl;
	struct frame *f;
	__u32 dev = 0, n = 0;

	if (!enabled || !task_ok(id))
		return 0;
	st = task_get(false);
	f = st ? top_frame(st) : NULL;
	if (f && f->bs == (__u64)bs)
		dev = f->dev;
	else
		dev = set_dev((__u64)bs);
	if (!dev_ok(dev))
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	bl = BPF_CORE_READ(task, bio_list);
	if (bl) {
		n = count_list(&bl[0], (__u64)bs);
		n += count_list(&bl[1], (__u64)bs);
	}
	c = punt_counters(ctx, (__u64)bs, f, dev);
	if (!c)
		return 0;
	cnt_add(&c->punts, 1);
	cnt_add(&c->punted, n);
	emit(BIOSTAT_EV_PUNT, (__u64)bs, dev, 0, n, 0, -1);
	return 0;
}

SEC("fentry/punt_bios_to_rescuer")
int BPF_PROG(fe_punt, struct bio_set *bs)
{
	return punt_enter(ctx, bs);
}

SEC("kprobe/punt_bios_to_rescuer")
int BPF_KPROBE(kp_punt, struct bio_set *bs)
{
	return punt_enter(ctx, bs);
}

/*
 * ---- queue_work_on(cpu, wq, work): punts where punt_bios_to_rescuer()
 * is inlined (7.x) ----
 *
 * The punt ends by queueing the set's rescue work, once per punt, from
 * the allocating task.  The bios it moved are counted as the rescuer
 * resubmits them (submit_enter()).
 *
 * The program runs on every queue_work_on() in the system: the work's
 * function (func, a plain load in the fentry program) is compared before
 * any helper is called.
 */
static __always_inline int queue_enter(void *ctx, struct work_struct *work,
				       __u64 func)
{
	struct biostat_counters *c;
	struct task_state *st;
	struct frame *f;
	__u64 bs;
	__u32 dev;

	if (func != rescue_fn || !rescue_fn || !enabled ||
	    !task_ok(bpf_get_current_pid_tgid()))
		return 0;
	bs = (__u64)work - bpf_core_field_offset(struct bio_set, rescue_work);
	st = task_get(false);
	f = st ? top_frame(st) : NULL;
	dev = f && f->bs == bs ? f->dev : set_dev(bs);
	if (!dev_ok(dev))
		return 0;
	c = punt_counters(ctx, bs, f, dev);
	if (!c)
		return 0;
	cnt_add(&c->punts, 1);
	emit(BIOSTAT_EV_PUNT, bs, dev, 0, 0, 0, -1);
	return 0;
}

SEC("fentry/queue_work_on")
int BPF_PROG(fe_queue, int cpu, struct workqueue_struct *wq,
	     struct work_struct *work)
{
	return queue_enter(ctx, work, (__u64)work->func);
}

SEC("kprobe/queue_work_on")
int BPF_KPROBE(kp_queue, int cpu, struct workqueue_struct *wq,
	       struct work_struct *work)
{
	return queue_enter(ctx, work, (__u64)BPF_CORE_READ(work, func));
}

/* ---- bio_alloc_rescue(work) ---- */

/*
 * A rescue in progress, per set (a work item never runs twice at once):
 * its set's counters and the bios it resubmitted so far.  Made and taken
 * by the entry and exit of bio_alloc_rescue(), read by the programs that
 * count its bios with a lookup and atomics only: kp_resubmit runs in the
 * int3 handler (NMI-like context), where no lock may be taken that is
 * also taken elsewhere (task storage's, a hash update's, the ring
 * buffer's: lockdep reports each, and the debug kernel reported task
 * storage's).
 */
struct rescue_run {
	__s32 idx;		/* the set's counters */
	__u32 n;		/* bios resubmitted */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTAT_MAX_SETS);
	__type(key, __u64);
	__type(value, struct rescue_run);
} rescue_runs SEC(".maps");

static __always_inline int rescue_enter(void *work)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rescue_run run = {};
	struct task_state *st;
	__u64 bs;

	if (!enabled || !task_ok(id))
		return 0;
	bs = (__u64)work - bpf_core_field_offset(struct bio_set, rescue_work);
	if (!dev_ok(set_dev(bs)))
		return 0;
	st = task_get(true);
	if (!st)
		return 0;
	if (!st->rescue_bs)
		__sync_fetch_and_add(&rescue_active, 1);
	st->rescue_bs = bs;
	run.idx = set_index(NULL, (struct bio_set *)bs, 0, false, false);
	bpf_map_update_elem(&rescue_runs, &bs, &run, BPF_ANY);
	return 0;
}

static __always_inline int rescue_exit(void)
{
	struct biostat_counters *c;
	struct rescue_run *run;
	struct task_state *st;
	__u32 n = 0;
	__u64 bs;

	st = task_get(false);
	if (!st || !st->rescue_bs)
		return 0;
	bs = st->rescue_bs;
	st->rescue_bs = 0;
	__sync_fetch_and_add(&rescue_active, -1);
	run = bpf_map_lookup_elem(&rescue_runs, &bs);
	if (run)
		n = run->n;
	bpf_map_delete_elem(&rescue_runs, &bs);
	c = set_counters(bs);
	if (c)
		cnt_add(&c->rescues, 1);	/* rescued: per bio */
	emit(BIOSTAT_EV_RESCUE, bs, set_dev(bs), 0, n, 0, -1);
	return 0;
}

SEC("fentry/bio_alloc_rescue")
int BPF_PROG(fe_rescue, struct work_struct *work)
{
	return rescue_enter(work);
}

SEC("fexit/bio_alloc_rescue")
int BPF_PROG(fx_rescue, struct work_struct *work)
{
	return rescue_exit();
}

SEC("kprobe/bio_alloc_rescue")
int BPF_KPROBE(kp_rescue, struct work_struct *work)
{
	return rescue_enter(work);
}

SEC("kretprobe/bio_alloc_rescue")
int BPF_KRETPROBE(kr_rescue)
{
	return rescue_exit();
}

/* A bio the rescue of bs resubmits, counted as it goes: lookups and
 * atomics only (struct rescue_run) */
static __always_inline void count_rescued(__u64 bs)
{
	struct rescue_run *run = bpf_map_lookup_elem(&rescue_runs, &bs);
	struct biostat_counters *c;

	if (!run)
		return;		/* a rescue not counted (a filter), or begun before */
	__sync_fetch_and_add(&run->n, 1);
	c = counters_of(run->idx);
	if (!c)
		return;
	cnt_add(&c->rescued, 1);
	if (punt_inline)
		cnt_add(&c->punted, 1);
}

/* ---- bio_alloc_rescue()'s call of submit_bio_noacct(bio) ---- */

/* Attached at the call instruction (hooks.c): bio is in the first
 * argument register, and only a rescue gets here. */
SEC("kprobe")
int BPF_KPROBE(kp_resubmit, struct bio *bio)
{
	count_rescued((__u64)BPF_CORE_READ(bio, bi_pool));
	return 0;
}

/*
 * ---- rt_text: user space's reader of kernel text ----
 *
 * Run once with BPF_PROG_TEST_RUN, before attaching: copies text_len
 * bytes at text_src into text_buf, where hooks.c looks for the call
 * above.  bpf_probe_read_kernel() needs no more privilege than the
 * tracing itself (reading /proc/kcore would need CAP_SYS_RAWIO).
 */
__u64 text_src = 0;
__u32 text_len = 0;
__s32 text_err = 0;
__u8 text_buf[BIOSTAT_TEXT_MAX] = {};

SEC("raw_tp")
int rt_text(void *ctx)
{
	__u32 n = text_len;

	if (n > sizeof(text_buf))
		n = sizeof(text_buf);
	text_err = bpf_probe_read_kernel(text_buf, n, (void *)text_src);
	return 0;
}

/* ---- submit_bio_noacct(bio): the fallback, every submission ---- */

/*
 * Only the rescuer's own submissions count, those it makes with no
 * current->bio_list: a rescued bio that the block layer splits to the
 * queue's limits is submitted again, its remainder from inside the first
 * submission (with a bio_list), and is not rescued twice.
 */
static __always_inline int submit_enter(struct bio *bio)
{
	struct task_struct *task;
	struct task_state *st;

	if (!rescue_active)
		return 0;
	st = task_get(false);
	if (!st || !st->rescue_bs)
		return 0;
	if ((__u64)BPF_CORE_READ(bio, bi_pool) != st->rescue_bs)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, bio_list))
		return 0;
	count_rescued(st->rescue_bs);
	return 0;
}

SEC("fentry/submit_bio_noacct")
int BPF_PROG(fe_submit, struct bio *bio)
{
	return submit_enter(bio);
}

SEC("kprobe/submit_bio_noacct")
int BPF_KPROBE(kp_submit, struct bio *bio)
{
	return submit_enter(bio);
}
