// SPDX-License-Identifier: GPL-2.0
/*
 * biostat - live bio_set mempool exhaustion and rescuer activity.
 *
 * This file holds the command line and the main loop: parse the options,
 * start tracing (hooks.c), then every INTERVAL a report (report(): the
 * pipeline from the BPF maps to the table, JSON or Prometheus file), while
 * the ring buffer's records go to events.c; the summary at the end.
 * "biostat check" is check.c.  See Documentation/biostat.8.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "biostat.h"
#include "biostat.skel.h"
#include "calibrate.h"
#include "check.h"
#include "common.h"
#include "devices.h"
#include "events.h"
#include "globs.h"
#include "hooks.h"
#include "json.h"
#include "parse.h"
#include "prom.h"
#include "report.h"
#include "sets.h"
#include "symtab.h"

/* from the project's VERSION file, passed by tools/biostat/Makefile */
#ifndef BIOSTAT_VERSION
#error "BIOSTAT_VERSION is not set: build through tools/biostat/Makefile"
#endif

struct opts {
	double interval;
	bool interval_given;
	long count;			/* 0: until interrupted */
	bool events, hist, json, stacks, all, timestamp, verbose;
	bool calibrate;			/* fs_bio_set by a read of our own */
	bool extended, numeric;		/* -x, -n */
	const char *prom;		/* --prom FILE */
	const char *cgroup;		/* -c CGROUP */
	long min_wait_us;		/* -m MIN_US */
	bool folded;			/* --folded */
	long pid;
	const char *devices[BIOSTAT_MAX_DEVS];	/* -d, repeated */
	size_t ndevices;
	struct globs names;		/* -N, repeated */
	int positional;
};

/* Everything one run of biostat holds. */
struct biostat {
	struct opts o;
	struct symtab syms;
	struct devlists dl;
	struct tracer tr;
	struct settab sets;
	struct tracer_losses lost_last;	/* at the last interval's end */
	struct events ev;
	struct json j;
	struct ring_buffer *rb;
	double start, last_report;
};

/* ------------------------------------------------------------ arguments */

const char *argp_program_version = "biostat " BIOSTAT_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
"Live bio_set mempool exhaustion and rescuer activity, per bio_set.\v"
"Every INTERVAL seconds (default 1) a table, one row per bio_set with\n"
"activity in the interval, as per-second rates: ALLOC bios allocated,\n"
"RSRV of those served from the mempool reserve, WAIT allocations that\n"
"slept on an empty reserve (AVG_us, MAX_us: their wait), FAIL allocations\n"
"that returned NULL, PUNT rescuer punts and PUNTD the bios they moved,\n"
"RESC rescuer runs and RESCD the bios they resubmitted.  After COUNT\n"
"reports, or on SIGINT, SIGTERM, SIGHUP or SIGQUIT, a summary of the\n"
"counts since start.\n"
"\n"
"Examples:\n"
"  biostat                 # a table every second\n"
"  biostat 5 3             # three 5-second reports, then the summary\n"
"  biostat -e              # stream waits, fails, punts and rescues\n"
"  biostat -d bp0 -H       # one device, with wait-time histograms\n"
"  biostat -j -e | jq .    # everything as JSON, one object per line\n"
"\n"
"Subcommand:\n"
"  check [OPTIONS] [DURATION]\n"
"                          report tasks that allocate a second bio from a\n"
"                          bio_set while holding one unsubmitted (the\n"
"                          bio_alloc_bioset() rule); biostat check --help;\n"
"                          its options may also stand before check\n"
"\n"
"Exit status: 0 success, 1 cannot trace (privileges, kernel without BTF\n"
"or a traced function), 2 bad command line or an option this kernel\n"
"cannot serve, 3 (check) a violation was reported.";

enum { OPT_CALIBRATE = 0x100, OPT_PROM, OPT_FOLDED };	/* long options only */

static const struct argp_option options[] = {
	{ "events", 'e', NULL, 0, "Print each wait, fail, punt and rescue as it happens (tables only if INTERVAL is given)", 0 },
	{ "histogram", 'H', NULL, 0, "Print wait-time histograms (log2 usecs)", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line for every view", 0 },
	{ "device", 'd', "DEV", 0, "Only allocations for DEV: dm name, /dev path or MAJ:MIN (repeat for more)", 0 },
	{ "name", 'N', "GLOB", 0, "Only sets whose name matches GLOB, e.g. 'bp*:biopool' (repeat for more)", 0 },
	{ "cgroup", 'c', "CGROUP", 0, "Only allocations by tasks in this cgroup v2 directory (or below it)", 0 },
	{ "min-wait", 'm', "MIN_US", 0, "Show waits (events, stacks) only from MIN_US microseconds on; counts keep every wait", 0 },
	{ "folded", OPT_FOLDED, NULL, 0, "With -s: the stacks as folded lines (set;frame;...;frame count) for flamegraph.pl or speedscope", 0 },
	{ "pid", 'p', "PID", 0, "Only allocations by process PID", 0 },
	{ "stacks", 's', NULL, 0, "Kernel stacks of allocations that waited, with counts (in the summary)", 0 },
	{ "all", 'a', NULL, 0, "Also list sets that were idle in the interval", 0 },
	{ "timestamp", 'T', NULL, 0, "Print the date and time before each report", 0 },
	{ "extended", 'x', NULL, 0, "Every column (the default fits 80 columns)", 0 },
	{ "numeric", 'n', NULL, 0, "Devices as MAJ:MIN, not by name", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf debug output and the hooks chosen", 0 },
	{ "prom", OPT_PROM, "FILE", 0, "Also write the counts since start to FILE every interval, in the Prometheus text format (node_exporter's textfile collector), atomically", 0 },
	{ "calibrate", OPT_CALIBRATE, NULL, 0, "Where /proc/kallsyms lacks fs_bio_set, learn its address by reading back a temporary file (biostat's only I/O, off by default)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "version", 'V', NULL, 0, "Show the version", -1 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case 'e': o->events = true; break;
	case 'H': o->hist = true; break;
	case 'j': o->json = true; break;
	case 's': o->stacks = true; break;
	case 'a': o->all = true; break;
	case 'T': o->timestamp = true; break;
	case 'x': o->extended = true; break;
	case 'n': o->numeric = true; break;
	case 'v': o->verbose = true; break;
	case OPT_CALIBRATE: o->calibrate = true; break;
	case OPT_PROM: o->prom = arg; break;
	case OPT_FOLDED: o->folded = true; break;
	case 'c': o->cgroup = arg; break;
	case 'm':
		if (parse_count(arg, 3600L * 1000 * 1000, &o->min_wait_us))
			die_usage("invalid minimum wait '%s': microseconds, 1 to 3600000000", arg);
		break;
	case 'h':
		/* ARGP_NO_ERRS implies ARGP_NO_EXIT: exit here */
		argp_help(state->root_argp, stdout, ARGP_HELP_STD_HELP, "biostat");
		exit(EXIT_OK);
	case 'V':
		printf("%s\n", argp_program_version);
		exit(EXIT_OK);
	case 'd':
		if (o->ndevices == BIOSTAT_MAX_DEVS)
			die_usage("at most %d devices (-d)", BIOSTAT_MAX_DEVS);
		o->devices[o->ndevices++] = arg;
		break;
	case 'N':
		if (globs_add(&o->names, arg))
			die_usage("at most %d name patterns (-N)", GLOBS_MAX);
		break;
	case 'p':
		if (parse_count(arg, INT_MAX, &o->pid))
			die_usage("invalid PID '%s'", arg);
		break;
	case ARGP_KEY_ARG:
		if (o->positional == 0) {
			if (parse_interval(arg, &o->interval))
				die_usage("invalid interval '%s': a positive number of seconds", arg);
			o->interval_given = true;
		} else if (o->positional == 1) {
			if (parse_count(arg, LONG_MAX, &o->count))
				die_usage("invalid count '%s': a positive integer", arg);
		} else {
			die_usage("unexpected argument '%s'", arg);
		}
		o->positional++;
		break;
	case ARGP_KEY_ERROR:
		die_option(state);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void parse_options(struct opts *o, int argc, char **argv)
{
	static const struct argp argp = {
		.options = options,
		.parser = parse_arg,
		.args_doc = "[INTERVAL [COUNT]]",
		.doc = doc,
	};

	o->interval = 1.0;
	if (argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, o))
		die_usage("invalid arguments");
	msg_setup("biostat", o->verbose);
	hooks_env_check();
	if (o->folded && !o->stacks)
		die_usage("--folded is a format of -s: give -s too");
	if (o->folded && o->json)
		die_usage("--folded is a text format: -j gives the stacks as JSON");
	if (o->pid) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/%ld", o->pid);
		if (access(p, F_OK))
			die_usage("no process with PID %ld", o->pid);
	}
}

/* ------------------------------------------------------------ tracing */

/* Kernel addresses the BPF side compares with (see bpf/biostat/). */
static void set_function_addresses(struct biostat *b)
{
	struct biostat_bpf__bss *bss = b->tr.skel->bss;
	struct ksym_name rescue = symtab_named(&b->syms, "bio_alloc_rescue");
	uint64_t lo, hi;

	/* queue_work_on(): the rescue work of a set, where punts are inlined */
	if (ksym_is_text(rescue.type))
		bss->rescue_fn = rescue.addr;
	bss->punt_inline = tracer_uses(&b->tr, "queue_work_on");
	/* stack_is_clone(), in_bio_alloc() */
	if (!symtab_func_range(&b->syms, "bio_alloc_clone", &lo, &hi)) {
		bss->clone_lo = lo;
		bss->clone_hi = hi;
	}
	if (!symtab_func_range(&b->syms, "bio_alloc_bioset", &lo, &hi)) {
		bss->alloc_lo = lo;
		bss->alloc_hi = hi;
	}
	/* sleep_in_mempool() */
	if (symtab_func_range(&b->syms, "mempool_alloc_slab", &lo, &hi))
		return;
	bss->slab_lo = lo;
	bss->slab_hi = hi;
	/* 6.10+: mempool_alloc is a macro around _noprof */
	if (!symtab_func_range(&b->syms, "mempool_alloc_noprof", &lo, &hi) ||
	    !symtab_func_range(&b->syms, "mempool_alloc", &lo, &hi)) {
		bss->mp_lo = lo;
		bss->mp_hi = hi;
	}
}

static __u64 fs_bio_set_address(struct biostat *b)
{
	struct ksym_name s = symtab_named(&b->syms, "fs_bio_set");
	__u64 addr;

	if (ksym_is_data(s.type))
		return s.addr;
	/* a monitor does no I/O on the machine it watches unless asked */
	if (!b->o.calibrate) {
		inform("fs_bio_set has no symbol here: --calibrate names it");
		return 0;
	}
	addr = calibrate_fs_bio_set(&b->tr.skel->bss->calib_bs,
				    &b->tr.skel->bss->calib_tid);
	if (!addr)
		verbose("address of fs_bio_set unknown");
	return addr;
}

/* -c: a directory of the cgroup v2 hierarchy, opened (its fd for BPF). */
static int cgroup_open(const char *path)
{
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die_usage("cgroup '%s': %s", path, strerror(errno));
	if (fstatfs(fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		die_usage("'%s' is not a cgroup v2 directory (e.g. "
			  "/sys/fs/cgroup/system.slice)", path);
	return fd;
}

/*
 * Counting submissions only (no fentry, no kprobes): the views of what is
 * not measured are refused, not left empty.
 */
static void refuse_unmeasured(const struct opts *o)
{
	const char *opt = o->events ? "-e" : o->hist ? "-H" :
			  o->stacks ? "-s" : o->min_wait_us ? "-m" : NULL;

	if (opt)
		die_refused("%s: this kernel has neither fentry nor kprobes, "
			    "so waits, punts and rescues cannot be traced", opt);
}

/* The symbols every run needs, before the load (see symtab.h). */
static void read_symbols(struct biostat *b)
{
	double t0 = mono_now();

	symtab_read(&b->syms);
	verbose("kernel symbols read in %.2f s", mono_now() - t0);
}

static void start(struct biostat *b)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct tracer_config cfg = {
		.tgid = (uint32_t)b->o.pid,
		.stacks = b->o.stacks,
		.events = b->o.events,
	};
	struct biostat_bpf *skel;
	double t0;

	devlists_read(&b->dl);
	if (b->o.cgroup) {
		cfg.cgroup = true;
		cfg.cgroup_fd = cgroup_open(b->o.cgroup);
	}
	cfg.min_wait_ns = (uint64_t)b->o.min_wait_us * 1000;
	for (size_t i = 0; i < b->o.ndevices; i++)
		cfg.kdevs[cfg.nkdevs++] = device_arg_kdev(&b->dl, b->o.devices[i]);
	libbpf_set_print(libbpf_print_fn);
	require_tracing();
	setrlimit(RLIMIT_MEMLOCK, &rl);	/* pre-5.11 kernels only */
	cfg.ncpus = libbpf_num_possible_cpus();
	if (cfg.ncpus <= 0)
		die("cannot count CPUs: %s", strerror(-cfg.ncpus));
	settab_init(&b->sets, &b->dl, cfg.ncpus);

	read_symbols(b);
	t0 = mono_now();
	tracer_start(&b->tr, &cfg, &b->syms);
	verbose("BPF programs loaded and attached in %.2f s", mono_now() - t0);
	if (b->tr.submissions) {
		refuse_unmeasured(&b->o);
		warn("no fentry or kprobes here: counting submissions only");
	}
	skel = b->tr.skel;
	malloc_trim(0);		/* what libbpf freed after the load (its BTF) */
	set_function_addresses(b);
	tracer_describe(&b->tr);

	settab_bind(&b->sets, bpf_map__fd(skel->maps.sets),
		    bpf_map__fd(skel->maps.counters), b->tr.submissions);
	b->sets.fs_bio_set = fs_bio_set_address(b);

	json_init(&b->j);
	b->ev = (struct events){ .sets = &b->sets, .j = &b->j,
				 .stream = b->o.events, .json = b->o.json,
				 .names = &b->o.names };
	b->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), events_handle,
				 &b->ev, NULL);
	if (!b->rb)
		die("cannot create the ring buffer: %s", strerror(errno));
	mono_to_wall(0);	/* fix the offset of wall-clock times now */
	skel->bss->enabled = true;
	b->start = b->last_report = mono_now();
	if (b->o.prom) {
		struct report none = { .now = b->start,
				       .submissions = b->tr.submissions };

		if (prom_write(b->o.prom, &none, true))
			die_usage("--prom %s: %s", b->o.prom, strerror(errno));
	}
	fprintf(stderr, "Tracing bio_sets... Hit Ctrl-C to end.\n");
}

/* ------------------------------------------------------------ reports */

/* --prom: the record r since start, written atomically; up is false for
 * the summary's, the last write. */
static void prom_update(struct biostat *b, const struct report *r, bool up)
{
	if (prom_write(b->o.prom, r, up))
		die("cannot write %s: %s", b->o.prom, strerror(errno));
}

/* Step 4: the record, as a table or JSON, and as the --prom file. */
static void write_report(struct biostat *b, const struct report *r,
			 const struct tracer_losses *lost)
{
	if (b->o.json)
		report_json(&b->j, r);
	else
		report_text(r);
	stdout_check();
	if (!b->o.prom)
		return;
	if (r->summary) {
		prom_update(b, r, false);
	} else {	/* the file counts since start: that record, too */
		struct report total = { .now = r->now,
					.secs = r->now - b->start };

		report_build(&total, &b->sets, lost, lost, true, false);
		prom_update(b, &total, true);
		report_free(&total);
	}
}

/*
 * One report, a pipeline in five steps: snapshot the BPF side (end its
 * interval, read every set's counters and the losses), name the sets new
 * since the last report in one batch (and, in the summary of -s, the
 * waits' stacks in another), build the record, write it, close the
 * interval.  Only the first two steps read anything.
 */
static void report(struct biostat *b, bool summary, double now)
{
	struct report r = {
		.hist = b->o.hist,
		.timestamp = b->o.timestamp,
		.folded = b->o.folded,
		.extended = b->o.extended,
		.numeric = b->o.numeric,
		.names = &b->o.names,
		.after_events = b->ev.printed,
		.now = now,
		.secs = now - (summary ? b->start : b->last_report),
	};
	struct tracer_losses lost;

	/* 1. snapshot */
	if (summary)
		settab_read(&b->sets, false, 0);
	else
		settab_read(&b->sets, true, tracer_next_interval(&b->tr));
	tracer_losses(&b->tr, &lost);
	/* 2. name, and the stacks */
	settab_name_new(&b->sets);
	if (summary && b->o.stacks)
		report_add_stacks(&r, &b->sets,
				  bpf_map__fd(b->tr.skel->maps.wait_stacks),
				  bpf_map__fd(b->tr.skel->maps.stacks));
	/* 3. build */
	report_build(&r, &b->sets, &lost, &b->lost_last, summary, b->o.all);
	/* 4. write */
	write_report(b, &r, &lost);
	report_free(&r);
	/* 5. close the interval */
	if (!summary) {
		settab_next_interval(&b->sets);
		b->lost_last = lost;
		b->last_report = now;
	}
}

static void run(struct biostat *b)
{
	bool tables = !b->o.events || b->o.interval_given;
	double next = b->start + b->o.interval;
	long reports = 0;

	while (!exit_requested()) {
		double now = mono_now();
		int timeout = 100, err;

		if (tables && next - now < 0.1)
			timeout = next > now ? (int)((next - now) * 1000) + 1 : 0;
		err = ring_buffer__poll(b->rb, timeout);
		if (err < 0 && err != -EINTR) {
			inform("polling the ring buffer: %s", strerror(-err));
			break;
		}
		if (err > 0)
			stdout_check();
		now = mono_now();
		if (now < next)
			continue;
		if (tables)
			report(b, false, now);
		else
			b->last_report = now;
		next += b->o.interval;
		if (next < now)		/* fell behind (stopped, slow TCG) */
			next = now + b->o.interval;
		if (b->o.count && ++reports >= b->o.count)
			break;
	}
	/* Stop counting, drain what is in flight, then the summary. */
	b->tr.skel->bss->enabled = false;
	ring_buffer__consume(b->rb);
	report(b, true, mono_now());
}

static void stop(struct biostat *b)
{
	ring_buffer__free(b->rb);
	tracer_stop(&b->tr);
	json_free(&b->j);
	settab_free(&b->sets);
	devlists_free(&b->dl);
}

/*
 * Where "check" stands on the command line, if it is the subcommand: the
 * first argument that is neither an option nor an option's value (so that
 * "biostat -j check 5" is "biostat check -j 5"); 0 if there is none.  An
 * option takes the next word as its value as either mode's table says
 * (-d DEV, -jd DEV, --device DEV, --dev DEV; not --device=DEV or -dDEV).
 */
static int subcommand_at(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "check"))
			return i;
		switch (option_word(options, a)) {
		case OPTION_OPERAND:
		case OPTION_END:
			return 0;
		default:
			if (option_takes_arg(options, a) ||
			    option_takes_arg(check_options, a))
				i++;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int sub;

	struct biostat b = { 0 };

	/*
	 * A fixed mmap threshold: big buffers (libbpf's copies of the vmlinux
	 * BTF, the symbol table while it grows) are mapped on their own, grow
	 * with mremap() rather than by copying, and go back to the kernel when
	 * freed; glibc would otherwise raise the threshold after the first free
	 * and keep them in the heap (biostat's peak RSS).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	signals_setup();
	sub = subcommand_at(argc, argv);
	if (sub) {
		/* "check", then the options before it, then those after */
		char *cmd[argc];

		cmd[0] = argv[sub];
		memcpy(cmd + 1, argv + 1, (size_t)(sub - 1) * sizeof(*cmd));
		memcpy(cmd + sub, argv + sub + 1,
		       (size_t)(argc - sub - 1) * sizeof(*cmd));
		return check_main(argc - 1, cmd);
	}
	parse_options(&b.o, argc, argv);
	start(&b);
	run(&b);
	stop(&b);
	return EXIT_OK;
}
