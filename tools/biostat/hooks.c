// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c - the kernel functions biostat traces, with the programs that
 * trace each one (a table), and loading and attaching them with
 * fallbacks (see hooks.h).
 *
 * fentry everywhere unless BIOSTAT_HOOKS=kprobe.  A function missing from
 * the kernel's BTF makes the load fail, and the load is retried with
 * kprobes; names are not looked up in BTF here, which would parse the
 * whole vmlinux BTF a second time (libbpf parses it to load).  A hook
 * whose fentry fails to attach switches to a kprobe and everything is
 * loaded again.
 *
 * A hook with `calls` is a kprobe on one call instruction inside its
 * function, found in the function's text (find_call()); where there is no
 * such single call, or no kprobes, its fallback hooks the callee itself.
 */
#include "hooks.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "biostat.skel.h"
#include "common.h"

enum hook_mode { MODE_FENTRY, MODE_KPROBE };

/* A program of the skeleton by its field, so that a renamed program is a
 * build error (the field's offset + 1; 0: none). */
#define PROG(name) (offsetof(struct biostat_bpf, progs.name) + 1)

/*
 * One traced function: its programs at entry and exit, in each mode (each
 * program's SEC() names the function), or, with calls, the kprobe on its
 * call of that function.  A hook with fallback_for is used only where the
 * hook of that name (hook_named()) cannot be (its function was inlined, or
 * its call not found); every other hook is required.
 */
static const struct hook {
	const char *func;
	const char *purpose;		/* what is lost without it */
	size_t fentry, fexit;		/* PROG(), 0: none */
	size_t kprobe, kretprobe;
	const char *fallback_for;
	bool alloc_path;		/* switches to kprobes with the others */
	const char *calls;		/* a kprobe at func's call of this */
} hooks[] = {
	/* fexit only: it has the arguments; a kretprobe needs the entry probe */
	{ "bio_alloc_bioset", "allocations", 0, PROG(fx_alloc),
	  PROG(kp_alloc), PROG(kr_alloc), NULL, true, NULL },
	/* the entry under -d (see open_and_set()), else the exit */
	{ "bio_alloc_clone", "clone owners", PROG(fe_clone), PROG(fx_clone),
	  PROG(kp_clone), 0, NULL, true, NULL },
	/* fexit only; a kretprobe needs the entry probe for pool_data */
	{ "mempool_alloc_slab", "reserve use and waits", 0, PROG(fx_slab),
	  PROG(kp_slab), PROG(kr_slab), NULL, true, NULL },
	{ "io_schedule_timeout", "waits", PROG(fe_sched), 0, PROG(kp_sched), 0,
	  NULL, true, NULL },
	{ "punt_bios_to_rescuer", "punts", PROG(fe_punt), 0, PROG(kp_punt), 0,
	  NULL, false, NULL },
	/* 7.x inlines punt_bios_to_rescuer(): its rescue work being queued */
	{ "queue_work_on", "punts", PROG(fe_queue), 0, PROG(kp_queue), 0,
	  "punt_bios_to_rescuer", false, NULL },
	{ "bio_alloc_rescue", "rescues", PROG(fe_rescue), PROG(fx_rescue),
	  PROG(kp_rescue), PROG(kr_rescue), NULL, false, NULL },
	/* a rescue's resubmissions, without a program per submission */
	{ "bio_alloc_rescue", "rescued bios", 0, 0, PROG(kp_resubmit), 0,
	  NULL, false, "submit_bio_noacct" },
	{ "submit_bio_noacct", "rescued bios", PROG(fe_submit), 0, PROG(kp_submit), 0,
	  "bio_alloc_rescue>submit_bio_noacct", false, NULL },
	/* at the exit: bioset_exit() drains the rescuer first */
	{ "bioset_exit", "sets that go away", 0, PROG(fx_exit), PROG(kp_exit),
	  PROG(kr_exit), NULL, false, NULL },
};

#define NR_HOOKS ARRAY_SIZE(hooks)
_Static_assert(ARRAY_SIZE(hooks) <= TRACER_MAX_HOOKS, "a mode and two links per hook");

/* name is hook h's: "func", or "func>callee" for a call site (what
 * fallback_for says) */
static bool hook_named(size_t h, const char *name)
{
	size_t len = strlen(hooks[h].func);

	if (!hooks[h].calls)
		return !strcmp(name, hooks[h].func);
	return !strncmp(name, hooks[h].func, len) && name[len] == '>' &&
	       !strcmp(name + len + 1, hooks[h].calls);
}

static const char *hooks_env(void)
{
	const char *e = getenv("BIOSTAT_HOOKS");

	return e && *e ? e : "auto";
}

void hooks_env_check(void)
{
	static const char *const ok[] = { "auto", "fentry", "kprobe", "tracepoint" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(hooks_env(), ok[i]))
			return;
	die_usage("BIOSTAT_HOOKS='%s': want auto, fentry, kprobe or tracepoint",
		  hooks_env());
}

static bool kprobes_supported(void)
{
	if (!strcmp(hooks_env(), "fentry"))
		return false;
	return access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
}

static struct bpf_program *prog(struct biostat_bpf *skel, size_t field)
{
	return field ? *(struct bpf_program **)((char *)skel + field - 1) : NULL;
}

static void autoload(struct biostat_bpf *skel, size_t field, bool on)
{
	struct bpf_program *p = prog(skel, field);

	if (p)
		bpf_program__set_autoload(p, on);
}

static struct bpf_link *keep(struct tracer *t, struct bpf_link *l)
{
	if (l && t->nlinks < TRACER_MAX_LINKS)
		t->links[t->nlinks++] = l;
	return l;
}

/* Links made here, not by the skeleton: destroyed before the object. */
static void destroy(struct tracer *t)
{
	while (t->nlinks > 0)
		bpf_link__destroy(t->links[--t->nlinks]);
	biostat_bpf__destroy(t->skel);
	t->skel = NULL;
}

static void open_and_set(struct tracer *t, const struct tracer_config *cfg)
{
	struct biostat_bpf *skel = biostat_bpf__open();

	if (!skel)
		die_bpf(errno, "cannot open the BPF object");
	skel->rodata->targ_tgid = cfg->tgid;
	for (size_t i = 0; i < cfg->nkdevs; i++)
		skel->rodata->targ_devs[i] = cfg->kdevs[i];
	skel->rodata->targ_ndevs = (__u32)cfg->nkdevs;
	skel->rodata->targ_cgroup = cfg->cgroup;
	skel->rodata->min_wait_ns = cfg->min_wait_ns;
	skel->rodata->want_stacks = cfg->stacks;
	skel->rodata->want_events = cfg->events;
	skel->rodata->nr_cpus = (__u32)cfg->ncpus;
	/* Table mode sends no events: a one-page ring buffer, not 2 MiB */
	if (!cfg->events)
		bpf_map__set_max_entries(skel->maps.events, (__u32)getpagesize());
	bpf_program__set_autoload(skel->progs.rt_queue, t->submissions);
	bpf_program__set_autoload(skel->progs.rt_text, false);	/* below */
	for (size_t h = 0; h < NR_HOOKS; h++) {
		bool on = !t->submissions && !t->off[h];
		bool fe = on && t->mode[h] == MODE_FENTRY;
		bool kp = on && (t->mode[h] == MODE_KPROBE || hooks[h].calls);

		autoload(skel, hooks[h].fentry, fe);
		autoload(skel, hooks[h].fexit, fe);
		autoload(skel, hooks[h].kprobe, kp);
		autoload(skel, hooks[h].kretprobe, kp);
		if (kp && hooks[h].calls)
			bpf_program__set_autoload(skel->progs.rt_text, true);
	}
	/*
	 * A clone's device is named at bio_alloc_clone()'s exit, after the
	 * allocation was counted; -d needs it before, at the entry, in
	 * per-task state (bpf/biostat/alloc.bpf.c).
	 */
	if (bpf_program__autoload(skel->progs.fx_clone)) {
		bpf_program__set_autoload(skel->progs.fe_clone, cfg->nkdevs > 0);
		bpf_program__set_autoload(skel->progs.fx_clone, cfg->nkdevs == 0);
	}
	t->skel = skel;
}

/* Attach one hook (its programs' SEC() name the function); 0 or -errno. */
static int attach_hook(struct tracer *t, size_t h)
{
	const struct hook *k = &hooks[h];
	bool fe = t->mode[h] == MODE_FENTRY;
	struct bpf_program *entry = prog(t->skel, fe ? k->fentry : k->kprobe);
	struct bpf_program *exit = prog(t->skel, fe ? k->fexit : k->kretprobe);

	if (t->off[h])
		return 0;
	if (k->calls) {	/* a kprobe in every mode */
		LIBBPF_OPTS(bpf_kprobe_opts, o, .offset = t->call_off[h]);

		entry = prog(t->skel, k->kprobe);
		if (!keep(t, bpf_program__attach_kprobe_opts(entry, k->func, &o)))
			return -errno;
		return 0;
	}
	/* not loaded: a program this configuration does without */
	if (entry && bpf_program__autoload(entry) &&
	    !keep(t, bpf_program__attach(entry)))
		return -errno;
	if (exit && bpf_program__autoload(exit) &&
	    !keep(t, bpf_program__attach(exit)))
		return -errno;
	return 0;
}

static bool any_fentry(const struct tracer *t)
{
	for (size_t h = 0; h < NR_HOOKS; h++)
		if (!t->off[h] && t->mode[h] == MODE_FENTRY)
			return true;
	return false;
}

/* Use the fallbacks of a function that cannot be traced. */
static void use_fallback(struct tracer *t, size_t missing)
{
	t->off[missing] = true;
	for (size_t h = 0; h < NR_HOOKS; h++)
		if (hooks[h].fallback_for &&
		    hook_named(missing, hooks[h].fallback_for)) {
			t->off[h] = false;
			if (hooks[missing].calls)
				verbose("%s()'s call of %s() cannot be probed: "
					"every %s() call instead", hooks[missing].func,
					hooks[missing].calls, hooks[h].func);
			else
				verbose("%s() cannot be traced (inlined): %s instead",
					hooks[missing].func, hooks[h].func);
		}
}

static bool has_fallback(size_t h)
{
	for (size_t k = 0; k < NR_HOOKS; k++)
		if (hooks[k].fallback_for &&
		    hook_named(h, hooks[k].fallback_for))
			return true;
	return false;
}

/*
 * Functions with a fallback that have no BTF (fentry) or no symbol
 * (kprobes); true when any was found.  Asked only when a load or attach
 * failed, or for kprobes: each BTF question parses the vmlinux BTF.
 */
static bool find_missing(struct tracer *t, struct symtab *syms)
{
	bool found = false;

	for (size_t h = 0; h < NR_HOOKS; h++) {
		bool there;

		if (t->off[h] || !has_fallback(h))
			continue;
		if (t->mode[h] == MODE_FENTRY)
			there = libbpf_find_vmlinux_btf_id(hooks[h].func,
							   BPF_TRACE_FENTRY) > 0;
		else
			there = symtab_has_func(syms, hooks[h].func);
		if (!there) {
			use_fallback(t, h);
			found = true;
		}
	}
	return found;
}

/*
 * Before the first load: functions with a fallback that /proc/kallsyms
 * does not list are inlined, and have no BTF either; their fallbacks are
 * used from the start instead of after a failed load (a load costs
 * seconds under emulation).  The names are in the first read of the file.
 */
static void skip_absent(struct tracer *t, struct symtab *syms)
{
	for (size_t h = 0; h < NR_HOOKS; h++)
		if (!t->off[h] && has_fallback(h) &&
		    (!symtab_has_func(syms, hooks[h].func) ||
		     (hooks[h].calls && (!kprobes_supported() ||
					 !symtab_has_func(syms, hooks[h].calls)))))
			use_fallback(t, h);
}

/*
 * The offset in hooks[h].func of its one direct call of hooks[h].calls
 * (e8 rel32 to the callee's address), read with rt_text; false when there
 * is not exactly one, or the text cannot be read.  A kprobe there runs
 * once per call made from that place.
 */
static bool find_call(struct tracer *t, struct symtab *syms, size_t h)
{
	struct biostat_bpf *skel = t->skel;
	const __u8 *b = skel->bss->text_buf;
	LIBBPF_OPTS(bpf_test_run_opts, o);
	uint64_t lo, hi, to = symtab_named(syms, hooks[h].calls).addr;
	size_t n, found = 0;

	if (symtab_func_range(syms, hooks[h].func, &lo, &hi) || !to)
		return false;
	if (hi - lo > BIOSTAT_TEXT_MAX) {
		verbose("%s() is longer than the %d bytes read for its calls",
			hooks[h].func, BIOSTAT_TEXT_MAX);
		return false;
	}
	n = (size_t)(hi - lo);
	skel->bss->text_src = lo;
	skel->bss->text_len = (__u32)n;
	skel->bss->text_err = -1;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.rt_text), &o)) {
		verbose("cannot run the text reader for %s(): %s", hooks[h].func,
			strerror(errno));
		return false;
	}
	if (skel->bss->text_err) {
		verbose("cannot read the text of %s(): %s", hooks[h].func,
			strerror(-skel->bss->text_err));
		return false;
	}
	for (size_t i = 0; i + 5 <= n; i++) {
		int32_t rel;

		if (b[i] != 0xe8)
			continue;
		memcpy(&rel, b + i + 1, sizeof(rel));	/* little endian */
		if (lo + i + 5 + (uint64_t)(int64_t)rel != to)
			continue;
		t->call_off[h] = i;
		found++;
	}
	if (found != 1)
		verbose("%s() calls %s() %zu times, not once",
			hooks[h].func, hooks[h].calls, found);
	return found == 1;
}

/* The call sites of the loaded object; false when one fell back (its
 * fallback then needs a load of its own). */
static bool find_calls(struct tracer *t, struct symtab *syms)
{
	bool all = true;

	for (size_t h = 0; h < NR_HOOKS; h++)
		if (!t->off[h] && hooks[h].calls && !find_call(t, syms, h)) {
			use_fallback(t, h);
			all = false;
		}
	return all;
}

/*
 * A hook to kprobes; the allocation path's hooks go together: in kprobe
 * mode the slab probes find the allocation's set in the frame its entry
 * probe pushed, which fentry mode does without.
 */
static void switch_to_kprobe(struct tracer *t, size_t h)
{
	t->mode[h] = MODE_KPROBE;
	for (size_t k = 0; hooks[h].alloc_path && k < NR_HOOKS; k++)
		if (hooks[k].alloc_path)
			t->mode[k] = MODE_KPROBE;
}

static void all_modes(struct tracer *t, enum hook_mode m)
{
	for (size_t h = 0; h < NR_HOOKS; h++)
		t->mode[h] = m;
}

/*
 * Every hook with fentry or kprobes.  Returns false with *errp and *whatp
 * set when fentry cannot be used and there is no kprobe to fall back to;
 * dies on anything else.
 */
static bool load_full(struct tracer *t, const struct tracer_config *cfg,
		      struct symtab *syms, int *errp, const char **whatp)
{
	bool kp = kprobes_supported();
	size_t h;
	int err;

	if (!strcmp(hooks_env(), "kprobe") && kp) {
		all_modes(t, MODE_KPROBE);
		find_missing(t, syms);
		for (h = 0; h < NR_HOOKS; h++)
			if (!t->off[h] && !symtab_has_func(syms, hooks[h].func))
				die("this kernel has no traceable %s() (needed for %s); "
				    "biostat supports Linux 6.1 and later",
				    hooks[h].func, hooks[h].purpose);
	}
	for (int attempt = 0; attempt <= (int)NR_HOOKS + 1; attempt++) {
		open_and_set(t, cfg);
		err = biostat_bpf__load(t->skel);
		if (err) {
			destroy(t);
			if (find_missing(t, syms)) {
				verbose("load failed (%s): retrying with fallbacks",
					strerror(-err));
				continue;
			}
			if (kp && any_fentry(t)) {
				verbose("load with fentry failed (%s), retrying with kprobes",
					strerror(-err));
				all_modes(t, MODE_KPROBE);
				find_missing(t, syms);
				continue;
			}
			if (!kp && any_fentry(t)) {
				*errp = err;
				*whatp = "loading fentry programs";
				return false;
			}
			die_bpf(err, "cannot load the BPF programs");
		}
		if (!find_calls(t, syms)) {
			destroy(t);
			continue;
		}
		for (h = 0; h < NR_HOOKS; h++) {
			err = attach_hook(t, h);
			if (!err)
				continue;
			if (hooks[h].calls) {
				verbose("kprobe on %s+%#zx failed (%s)", hooks[h].func,
					t->call_off[h], strerror(-err));
				use_fallback(t, h);
				break;
			}
			if (t->mode[h] == MODE_FENTRY && kp &&
			    symtab_has_func(syms, hooks[h].func)) {
				verbose("fentry on %s failed (%s), using a kprobe",
					hooks[h].func, strerror(-err));
				switch_to_kprobe(t, h);
				break;
			}
			destroy(t);
			if (t->mode[h] == MODE_FENTRY && !kp) {
				*errp = err;
				*whatp = hooks[h].func;
				return false;
			}
			if (err == -EPERM || err == -EACCES)
				die_bpf(err, "cannot attach");
			die("cannot trace %s() (needed for %s): %s",
			    hooks[h].func, hooks[h].purpose, strerror(-err));
		}
		if (h == NR_HOOKS)
			return true;
		destroy(t);
	}
	die("cannot attach the BPF programs");
}

/*
 * Neither fentry nor kprobes: count bios per set as they are submitted
 * (block_bio_queue raw tracepoint); the caller says so.
 */
static void load_submissions(struct tracer *t, const struct tracer_config *cfg,
			     int full_err, const char *what)
{
	int err;

	t->submissions = true;
	open_and_set(t, cfg);
	err = biostat_bpf__load(t->skel);
	if (!err && !keep(t, bpf_program__attach(t->skel->progs.rt_queue)))
		err = -errno;
	if (err) {
		destroy(t);
		die("cannot trace: fentry refused (%s: %s), no kprobes in this "
		    "kernel, and the block_bio_queue tracepoint failed too (%s)",
		    what, strerror(-full_err), strerror(-err));
	}
	verbose("fentry refused (%s: %s), no kprobes: the block_bio_queue "
		"tracepoint counts submitted bios; reserve, waits, fails, "
		"punts and rescues are not measured", what, strerror(-full_err));
}

void tracer_start(struct tracer *t, const struct tracer_config *cfg,
		  struct symtab *syms)
{
	const char *what = "";
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->ncpus = cfg->ncpus;
	all_modes(t, MODE_FENTRY);
	for (size_t h = 0; h < NR_HOOKS; h++)
		t->off[h] = hooks[h].fallback_for != NULL;
	if (!strcmp(hooks_env(), "tracepoint")) {
		load_submissions(t, cfg, -EPERM, "BIOSTAT_HOOKS=tracepoint");
	} else {
		skip_absent(t, syms);
		if (!load_full(t, cfg, syms, &err, &what))
			load_submissions(t, cfg, err, what);
	}
	/* nothing counts before enabled: the cgroup can come after attach */
	if (cfg->cgroup) {
		__u32 zero = 0, fd = (__u32)cfg->cgroup_fd;

		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.cgroup), &zero,
					&fd, BPF_ANY))
			die_bpf(errno, "cannot set the cgroup filter (-c)");
	}
}

void tracer_describe(const struct tracer *t)
{
	for (size_t h = 0; h < NR_HOOKS && !t->submissions; h++) {
		if (t->off[h])
			continue;
		if (hooks[h].calls)
			verbose("%-24s kprobe at +%#zx, its call of %s()",
				hooks[h].func, t->call_off[h], hooks[h].calls);
		else
			verbose("%-24s %s", hooks[h].func,
				t->mode[h] == MODE_FENTRY ? "fentry" : "kprobe");
	}
}

bool tracer_uses(const struct tracer *t, const char *func)
{
	for (size_t h = 0; h < NR_HOOKS; h++)
		if (!hooks[h].calls && !strcmp(hooks[h].func, func))
			return !t->submissions && !t->off[h];
	return false;
}

uint64_t prog_recursion_misses(const struct bpf_program *p)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(p);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

void tracer_losses(const struct tracer *t, struct tracer_losses *l)
{
	int fd = bpf_map__fd(t->skel->maps.errs);
	uint64_t vals[t->ncpus];
	struct bpf_program *p;

	memset(l, 0, sizeof(*l));
	for (__u32 k = 0; k < BIOSTAT_ERR_NR; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int cpu = 0; cpu < t->ncpus; cpu++)
			l->errs[k] += vals[cpu];
	}
	bpf_object__for_each_program(p, t->skel->obj)
		l->misses += prog_recursion_misses(p);
}

__u64 tracer_next_interval(struct tracer *t)
{
	return t->skel->bss->ivl_gen++;
}

void tracer_stop(struct tracer *t)
{
	if (t->skel)
		destroy(t);
}
