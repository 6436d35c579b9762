// SPDX-License-Identifier: GPL-2.0
/*
 * biostat - live bio_set mempool exhaustion and rescuer activity.
 *
 * Every INTERVAL seconds, one row per bio_set with activity: allocations,
 * reserve use, waits, failures, rescuer punts and rescues, as rates.
 * See Documentation/biostat.8.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "biostat.h"
#include "biostat.skel.h"
#include "check.h"
#include "hist.h"
#include "json.h"
#include "names.h"

/* handle_event() reads the type before it knows which record it has */
_Static_assert(offsetof(struct biostat_event, type) ==
	       offsetof(struct biostat_gone_event, type),
	       "event records must share their type field");

#ifndef BIOSTAT_VERSION
#define BIOSTAT_VERSION "0.1"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Index of the "errs" map, as in biostat.bpf.c. */
enum { ERR_RINGBUF, ERR_TASKS_FULL, ERR_DEPTH, ERR_WALK, ERR_SETS_FULL, ERR_NR };
static const char *const err_names[ERR_NR] = {
	"dropped_events", "task_map_full", "nesting_too_deep",
	"punt_list_truncated", "set_map_full",
};

static struct env {
	double interval;
	bool interval_given;
	long count;			/* 0: until interrupted */
	bool events, hist, json, stacks, all, timestamp, verbose;
	long pid;
	const char *device;
	unsigned int dev_maj, dev_min;
	__u32 kdev;
} env = {
	.interval = 1.0,
};

static volatile sig_atomic_t exiting;

/* ------------------------------------------------------------ messages */

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("biostat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see biostat --help)\n", stderr);
	exit(EXIT_USAGE);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("biostat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

static void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void verbose(const char *fmt, ...)
{
	va_list ap;

	if (!env.verbose)
		return;
	fputs("biostat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* Our own messages explain failures; libbpf's only with -v. */
	if (!env.verbose)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, args);
}

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
"reports, or on SIGINT/SIGTERM, a summary of the counts since start.\n"
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
"                          bio_alloc_bioset() rule); biostat check --help\n"
"\n"
"Exit status: 0 success, 1 cannot trace (privileges, kernel without BTF\n"
"or a traced function), 2 bad command line.";

static const struct argp_option opts[] = {
	{ "events", 'e', NULL, 0, "Print each wait, fail, punt and rescue as it happens (tables only if INTERVAL is given)", 0 },
	{ "histogram", 'H', NULL, 0, "Print wait-time histograms (log2 usecs)", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line for every view", 0 },
	{ "device", 'd', "DEV", 0, "Only allocations for DEV: dm name, /dev path or MAJ:MIN", 0 },
	{ "pid", 'p', "PID", 0, "Only allocations by process PID", 0 },
	{ "stacks", 's', NULL, 0, "Kernel stacks of allocations that waited, with counts (in the summary)", 0 },
	{ "all", 'a', NULL, 0, "Also list sets that were idle in the interval", 0 },
	{ "timestamp", 'T', NULL, 0, "Print the time before each report", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf debug output and the hooks chosen", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "version", 'V', NULL, 0, "Show the version", -1 },
	{ 0 },
};



static int positional;

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'e': env.events = true; break;
	case 'H': env.hist = true; break;
	case 'j': env.json = true; break;
	case 's': env.stacks = true; break;
	case 'a': env.all = true; break;
	case 'T': env.timestamp = true; break;
	case 'v': env.verbose = true; break;
	case 'h':
		/* ARGP_NO_ERRS implies ARGP_NO_EXIT: exit here */
		argp_help(state->root_argp, stdout, ARGP_HELP_STD_HELP, "biostat");
		exit(EXIT_OK);
	case 'V':
		printf("%s\n", argp_program_version);
		exit(EXIT_OK);
	case 'd':
		env.device = arg;
		break;
	case 'p':
		if (parse_count(arg, INT_MAX, &env.pid))
			usage_error("invalid PID '%s'", arg);
		break;
	case ARGP_KEY_ARG:
		if (positional == 0) {
			if (parse_interval(arg, &env.interval))
				usage_error("invalid interval '%s': a positive number of seconds", arg);
			env.interval_given = true;
		} else if (positional == 1) {
			if (parse_count(arg, LONG_MAX, &env.count))
				usage_error("invalid count '%s': a positive integer", arg);
		} else {
			usage_error("unexpected argument '%s'", arg);
		}
		positional++;
		break;
	case ARGP_KEY_ERROR: {
		const char *bad = state->next > 0 && state->next <= state->argc ?
				  state->argv[state->next - 1] : "?";

		if (!strcmp(bad, "-p") || !strcmp(bad, "--pid") ||
		    !strcmp(bad, "-d") || !strcmp(bad, "--device"))
			usage_error("option '%s' needs an argument", bad);
		usage_error("unknown option '%s'", bad);
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ----------------------------------------------------------- small utils */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_minus_mono;	/* add to a monotonic time for wall time */

static void fmt_time(double wall, char *buf, size_t n, bool ms)
{
	time_t t = (time_t)wall;
	struct tm tm;
	char hms[16];

	localtime_r(&t, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	if (ms)
		snprintf(buf, n, "%s.%03d", hms, (int)((wall - (double)t) * 1000));
	else
		snprintf(buf, n, "%s", hms);
}

char *read_file(const char *path, size_t *lenp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto err;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
err:
	close(fd);
	free(buf);
	return NULL;
}

/* First line of a small sysfs file, without the newline. */
static int read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, (int)n, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/* Append to a growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap ? b->cap : 1024) * 2 + (size_t)n;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			b->len = b->cap = 0;
			return;
		}
	}
}

/* "NAME MAJ:MIN" for every block device, and for every dm device by dm name. */
void build_dev_lists(char **blk, char **dm)
{
	struct sbuf b = { 0 }, d = { 0 };
	struct dirent *de;
	char path[PATH_MAX], line[256];
	DIR *dir;

	sb_add(&b, "%s", "");
	sb_add(&d, "%s", "");
	dir = opendir("/sys/class/block");
	while (dir && (de = readdir(dir))) {
		char devno[64];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev", de->d_name);
		if (read_line(path, devno, sizeof(devno)))
			continue;
		sb_add(&b, "%s %s\n", de->d_name, devno);
		snprintf(path, sizeof(path), "/sys/class/block/%s/dm/name", de->d_name);
		if (!read_line(path, line, sizeof(line)) && line[0])
			sb_add(&d, "%s %s\n", line, devno);
	}
	if (dir)
		closedir(dir);
	free(*blk);
	free(*dm);
	*blk = b.s;
	*dm = d.s;
}

/* -------------------------------------------------------------- state */

/*
 * One bio_set as the tool knows it.  Its identity is (bs, info.first_ns):
 * when a set goes away (bioset_exit) another may be made at its address.
 * A set that went away stays in the array, marked gone, for the summary.
 */
struct uset {
	__u64 bs;
	struct biostat_set_info info;
	bool have_info;
	bool named_with_info;
	bool gone;		/* bioset_exit() ran, or its entry vanished */
	bool seen;		/* found in the sets map in this pass */
	char name[128];
	struct biostat_counters cur, prev;
	__u64 ivl_wait_max_ns;		/* longest wait event this interval */
};

static struct {
	struct biostat_bpf *skel;
	struct ring_buffer *rb;
	struct ksyms *ks;
	char *blk_list, *dm_list;
	double lists_refreshed;
	__u64 fs_bio_set;
	int ncpus;
	struct biostat_counters *percpu;	/* ncpus values */
	struct uset *sets;
	size_t nsets, capsets;
	double start, last_report;
	__u64 errs_last[ERR_NR];
	bool event_header_done;
	struct json j;
	const char *hook_func[BIOSTAT_NR_HOOKS];
	int hook_mode[BIOSTAT_NR_HOOKS];
	bool submissions;	/* fallback: only submitted bios are counted */
} g;

enum { MODE_NONE, MODE_FENTRY, MODE_KPROBE };

/*
 * /proc/kallsyms is read when first needed: normally after the BPF object
 * is loaded, so that symbols and libbpf's copy of the vmlinux BTF are never
 * in memory at the same time (biostat's peak RSS).  With -s, which prints
 * any stack, and with -e, where an event must not wait while a new set's
 * name is looked up, the whole table is kept; otherwise (table mode, the
 * one left running) a partial one, which reads the file again only for
 * what it has not been asked before: new sets, a few times a run.
 */
static void ensure_ksyms(void)
{
	static const char *const names[] = {
		"mempool_alloc_slab", "mempool_alloc_noprof", "mempool_alloc",
		"fs_bio_set",
	};

	if (g.ks)
		return;
	if (env.stacks || env.events)
		g.ks = ksyms_load("/proc/kallsyms");
	else
		g.ks = ksyms_partial("/proc/kallsyms");
	if (!g.ks || ksyms_need(g.ks, NULL, 0, names,
				   sizeof(names) / sizeof(names[0])))
		fail("cannot read /proc/kallsyms: %s", strerror(errno));
	if (g.ks->zero_addrs)
		fail("/proc/kallsyms shows no addresses (kptr_restrict); run as root");
}

/* Make g.ks answer for these addresses (see ksyms_need()). */
static void need_ksyms(const uint64_t *addrs, size_t n)
{
	ensure_ksyms();
	if (ksyms_need(g.ks, addrs, n, NULL, 0))
		fail("cannot read /proc/kallsyms: %s", strerror(errno));
}

static const struct ksym *ksym_named(const char *name)
{
	ensure_ksyms();
	if (ksyms_need(g.ks, NULL, 0, &name, 1))
		fail("cannot read /proc/kallsyms: %s", strerror(errno));
	return ksyms_by_name(g.ks, name);
}

static void name_set(struct uset *s)
{
	uint64_t caller[BIOSTAT_CALLER_DEPTH];
	struct set_desc d = {
		.bs = s->bs,
		.kdev = s->have_info ? s->info.dev : 0,
		.caller = NULL,
		.ncaller = BIOSTAT_CALLER_DEPTH,
		.fs_bio_set = g.fs_bio_set,
	};

	if (s->have_info && (s->info.flags & BIOSTAT_SET_HAVE_CALLER)) {
		for (int i = 0; i < BIOSTAT_CALLER_DEPTH; i++)
			caller[i] = s->info.caller[i];
		d.caller = caller;
	}
	/*
	 * Submission mode sees a bio where it is submitted: its device is the
	 * one below the set's owner, so only symbols can name the set.
	 */
	if (g.submissions)
		d.kdev = 0;
	unsigned int maj = d.kdev >> BIOSTAT_MINORBITS;
	unsigned int min = d.kdev & ((1U << BIOSTAT_MINORBITS) - 1);

	/*
	 * A device created after the lists were read: refresh them, at most
	 * once a second for a device they do not know, and always when the
	 * set is younger than the lists (its dev_t may have been reused).
	 */
	if (d.kdev &&
	    ((devlist_by_dev(g.blk_list, maj, min, NULL, 0) &&
	      mono_now() - g.lists_refreshed > 1.0) ||
	     (s->have_info && (double)s->info.first_ns / 1e9 >= g.lists_refreshed))) {
		build_dev_lists(&g.blk_list, &g.dm_list);
		g.lists_refreshed = mono_now();
	}
	{
		uint64_t addrs[BIOSTAT_CALLER_DEPTH + 1];
		size_t n = 0;

		addrs[n++] = d.bs;
		for (int i = 0; d.caller && i < BIOSTAT_CALLER_DEPTH; i++)
			addrs[n++] = d.caller[i];
		need_ksyms(addrs, n);
	}
	describe_set(g.ks, g.dm_list, g.blk_list, &d, s->name, sizeof(s->name));
	s->named_with_info = s->have_info;
}

static void refresh_info(struct uset *s)
{
	if (s->have_info)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(g.skel->maps.sets), &s->bs, &s->info))
		s->have_info = true;
	if (s->have_info || !s->name[0])
		name_set(s);
}

/* The live set at bs, or NULL. */
static struct uset *find_set(__u64 bs)
{
	size_t i;

	for (i = 0; i < g.nsets; i++)
		if (g.sets[i].bs == bs && !g.sets[i].gone)
			return &g.sets[i];
	return NULL;
}

/* The set (bs, first_ns) that is already gone, or NULL. */
static struct uset *find_gone(__u64 bs, __u64 first_ns)
{
	size_t i;

	for (i = g.nsets; i-- > 0;)
		if (g.sets[i].bs == bs && g.sets[i].gone &&
		    g.sets[i].have_info && g.sets[i].info.first_ns == first_ns)
			return &g.sets[i];
	return NULL;
}

/* The live set at bs, made if new; NULL only without memory. */
static struct uset *get_set(__u64 bs)
{
	struct uset *s = find_set(bs);

	if (s)
		return s;
	if (g.nsets == g.capsets) {
		size_t cap = g.capsets ? g.capsets * 2 : 32;
		struct uset *n = realloc(g.sets, cap * sizeof(*n));

		if (!n)
			return NULL;
		g.sets = n;
		g.capsets = cap;
	}
	s = &g.sets[g.nsets++];
	memset(s, 0, sizeof(*s));
	s->bs = bs;
	refresh_info(s);
	return s;
}

static void dev_str(const struct uset *s, char *buf, size_t n)
{
	__u32 d = s->have_info ? s->info.dev : 0;

	if (s->have_info && (s->info.flags & BIOSTAT_SET_MULTI_DEV))
		snprintf(buf, n, "many");
	else if (!d)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%u:%u", BIOSTAT_KDEV_MAJOR(d), BIOSTAT_KDEV_MINOR(d));
}

/*
 * Before sets are named: one read of /proc/kallsyms for all the sets
 * about to be, rather than one per set (a partial symbol table reads the
 * file for each batch of addresses it has not been asked before).
 */
static void prefetch_symbols(int sfd)
{
	const size_t per = 1 + BIOSTAT_CALLER_DEPTH;
	__u64 key, next, *pkey = NULL;
	struct biostat_set_info info;
	uint64_t *a = NULL;
	size_t n = 0, cap = 0;

	if (g.ks && !g.ks->partial)
		return;
	while (!bpf_map_get_next_key(sfd, pkey, &next)) {
		const struct uset *s;

		key = next;
		pkey = &key;
		s = find_set(key);
		if ((s && s->named_with_info) ||
		    bpf_map_lookup_elem(sfd, &key, &info))
			continue;
		if (n + per > cap) {
			uint64_t *m = realloc(a, (cap + 64 * per) * sizeof(*a));

			if (!m)
				break;	/* each set will ask on its own */
			a = m;
			cap += 64 * per;
		}
		a[n++] = key;
		for (int i = 0; (info.flags & BIOSTAT_SET_HAVE_CALLER) &&
				i < BIOSTAT_CALLER_DEPTH; i++)
			a[n++] = info.caller[i];
	}
	if (n)
		need_ksyms(a, n);
	free(a);
}

/*
 * Read every set's per-CPU counters into ->cur.  close_interval: also end
 * the BPF side's interval (ivl_gen) and take each set's longest wait of
 * the interval that just ended into ->ivl_wait_max_ns.
 */
static void read_counters(bool close_interval)
{
	int fd = bpf_map__fd(g.skel->maps.counters);
	int sfd = bpf_map__fd(g.skel->maps.sets);
	__u64 key, next, *pkey = NULL, gen = 0;
	struct biostat_set_info info;
	int cpu, i;
	size_t j;

	for (j = 0; j < g.nsets; j++)
		g.sets[j].seen = false;
	if (close_interval && !g.submissions) {
		gen = g.skel->bss->ivl_gen;
		g.skel->bss->ivl_gen = gen + 1;
	}

	prefetch_symbols(sfd);
	/* every set the BPF side has seen, and its counters by index */
	while (!bpf_map_get_next_key(sfd, pkey, &next)) {
		struct biostat_counters sum = { 0 };
		struct uset *s;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(sfd, &key, &info) ||
		    info.idx >= BIOSTAT_MAX_SETS ||
		    bpf_map_lookup_elem(fd, &info.idx, g.percpu))
			continue;
		for (cpu = 0; cpu < g.ncpus; cpu++) {
			const struct biostat_counters *c = &g.percpu[cpu];

			sum.allocs += c->allocs;
			sum.reserve += c->reserve;
			sum.waits += c->waits;
			sum.wait_ns += c->wait_ns;
			if (c->wait_max_ns > sum.wait_max_ns)
				sum.wait_max_ns = c->wait_max_ns;
			sum.fails += c->fails;
			sum.punts += c->punts;
			sum.punted += c->punted;
			sum.rescues += c->rescues;
			sum.rescued += c->rescued;
			for (i = 0; i < BIOSTAT_HIST_SLOTS; i++)
				sum.hist[i] += c->hist[i];
		}
		s = find_set(key);
		if (s && s->have_info && s->info.first_ns != info.first_ns) {
			/* another set at its address: its end was not seen */
			s->gone = true;
			s = NULL;
		}
		if (!s && find_gone(key, info.first_ns))
			continue;	/* its end came first; the entry goes next */
		if (!s)
			s = get_set(key);
		if (!s)
			continue;
		s->seen = true;
		/* counters are zeroed as the set goes: keep what was read */
		if (sum.allocs >= s->cur.allocs && sum.punts >= s->cur.punts)
			s->cur = sum;
		for (cpu = 0; close_interval && cpu < g.ncpus; cpu++) {
			const struct biostat_counters *c = &g.percpu[cpu];

			if (c->ivl_gen[gen & 1] == gen &&
			    c->ivl_max_ns[gen & 1] > s->ivl_wait_max_ns)
				s->ivl_wait_max_ns = c->ivl_max_ns[gen & 1];
		}
		if (!s->have_info)
			refresh_info(s);
	}
	/* entries deleted by bioset_exit() whose record has not come (yet) */
	if (!g.submissions)
		for (j = 0; j < g.nsets; j++)
			if (!g.sets[j].seen)
				g.sets[j].gone = true;
}

/* bioset_exit(): the set's final counts; it is gone from now on. */
static void set_gone(const struct biostat_gone_event *e)
{
	struct uset *s = find_set(e->bs);

	if (s && s->have_info && s->info.first_ns != e->first_ns)
		s = NULL;	/* not the one that went */
	if (!s)
		s = find_gone(e->bs, e->first_ns);	/* marked gone by a read */
	if (!s) {
		s = get_set(e->bs);	/* went before we read it */
		if (!s)
			return;
		if (!s->have_info) {
			s->info.first_ns = e->first_ns;
			s->info.dev = e->dev;
			s->info.pool_min = -1;
			s->have_info = true;
			name_set(s);
		}
	}
	s->cur.allocs = e->c.allocs;
	s->cur.reserve = e->c.reserve;
	s->cur.waits = e->c.waits;
	s->cur.wait_ns = e->c.wait_ns;
	s->cur.wait_max_ns = e->c.wait_max_ns;
	s->cur.fails = e->c.fails;
	s->cur.punts = e->c.punts;
	s->cur.punted = e->c.punted;
	s->cur.rescues = e->c.rescues;
	s->cur.rescued = e->c.rescued;
	memcpy(s->cur.hist, e->c.hist, sizeof(s->cur.hist));
	s->gone = true;
}

static void read_errs(__u64 *out)
{
	int fd = bpf_map__fd(g.skel->maps.errs);
	__u64 vals[g.ncpus];
	__u32 k;
	int cpu;

	for (k = 0; k < ERR_NR; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (cpu = 0; cpu < g.ncpus; cpu++)
			out[k] += vals[cpu];
	}
}

/* ------------------------------------------------------------- reports */

/* Counts of one set over a window: cur - prev (or cur for the summary). */
struct window {
	uint64_t allocs, reserve, waits, wait_ns, fails, punts, punted, rescues,
		 rescued;
	uint64_t wait_max_ns;
	uint64_t hist[BIOSTAT_HIST_SLOTS];
};

static void window_of(const struct uset *s, bool summary, struct window *w)
{
	const struct biostat_counters *c = &s->cur, *p = &s->prev;

	if (summary) {
		static const struct biostat_counters zero;

		p = &zero;
	}
	w->allocs = counter_delta(c->allocs, p->allocs);
	w->reserve = counter_delta(c->reserve, p->reserve);
	w->waits = counter_delta(c->waits, p->waits);
	w->wait_ns = counter_delta(c->wait_ns, p->wait_ns);
	w->fails = counter_delta(c->fails, p->fails);
	w->punts = counter_delta(c->punts, p->punts);
	w->punted = counter_delta(c->punted, p->punted);
	w->rescues = counter_delta(c->rescues, p->rescues);
	w->rescued = counter_delta(c->rescued, p->rescued);
	for (int i = 0; i < BIOSTAT_HIST_SLOTS; i++)
		w->hist[i] = counter_delta(c->hist[i], p->hist[i]);
	/* the maximum since start, or of the interval (read_counters()) */
	w->wait_max_ns = summary ? c->wait_max_ns : s->ivl_wait_max_ns;
}

static bool window_active(const struct window *w)
{
	return w->allocs || w->reserve || w->waits || w->fails || w->punts ||
	       w->punted || w->rescues || w->rescued;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct uset *x = *(const struct uset *const *)a;
	const struct uset *y = *(const struct uset *const *)b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->bs < y->bs ? -1 : (x->bs > y->bs);
}

static size_t select_rows(struct uset ***rowsp, bool summary)
{
	struct uset **rows = calloc(g.nsets ? g.nsets : 1, sizeof(*rows));
	struct window w;
	size_t i, n = 0;

	*rowsp = rows;
	if (!rows)
		return 0;
	for (i = 0; i < g.nsets; i++) {
		struct uset *s = &g.sets[i];

		if (!s->gone && (!s->have_info || !s->named_with_info))
			refresh_info(s);
		window_of(s, summary, &w);
		/* -a: every live set; a gone one only for what it did */
		if ((env.all && (summary || !s->gone)) || window_active(&w))
			rows[n++] = s;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	return n;
}

static void json_set_common(struct json *j, const struct uset *s)
{
	char buf[64], dname[128];
	__u32 d = s->have_info ? s->info.dev : 0;

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)s->bs);
	json_kv_str(j, "bio_set", buf);
	json_kv_str(j, "name", s->name);
	if (d) {
		unsigned int ma = BIOSTAT_KDEV_MAJOR(d), mi = BIOSTAT_KDEV_MINOR(d);

		snprintf(buf, sizeof(buf), "%u:%u", ma, mi);
		json_kv_str(j, "device", buf);
		if (!devlist_by_dev(g.blk_list, ma, mi, dname, sizeof(dname)))
			json_kv_str(j, "device_name", dname);
		if (!devlist_by_dev(g.dm_list, ma, mi, dname, sizeof(dname)))
			json_kv_str(j, "dm_name", dname);
	} else {
		json_key(j, "device");
		json_null(j);
	}
	json_kv_bool(j, "multi_device", s->have_info &&
		     (s->info.flags & BIOSTAT_SET_MULTI_DEV));
	if (s->have_info && s->info.pool_min >= 0)
		json_kv_i64(j, "pool", s->info.pool_min);
	json_kv_bool(j, "rescuer", s->have_info &&
		     (s->info.flags & BIOSTAT_SET_RESCUER));
}

static void json_window(struct json *j, const struct window *w, double secs,
			bool rates)
{
	static const char *const unmeasured[] = {
		"reserve", "waits", "wait_total_us", "wait_avg_us", "wait_max_us",
		"fails", "punts", "punted", "rescues", "rescued",
	};
	size_t i;

	json_kv_u64(j, "allocs", w->allocs);
	if (g.submissions) {
		/* only submitted bios are seen: the rest is unknown, not 0 */
		for (i = 0; i < sizeof(unmeasured) / sizeof(unmeasured[0]); i++) {
			json_key(j, unmeasured[i]);
			json_null(j);
		}
		if (rates)
			json_kv_double(j, "allocs_per_s", rate_per_sec(w->allocs, secs), 2);
		return;
	}
	json_kv_u64(j, "reserve", w->reserve);
	json_kv_u64(j, "waits", w->waits);
	json_kv_double(j, "wait_total_us", (double)w->wait_ns / 1000.0, 1);
	json_kv_double(j, "wait_avg_us", avg_us(w->wait_ns, w->waits), 1);
	json_kv_double(j, "wait_max_us", (double)w->wait_max_ns / 1000.0, 1);
	json_kv_u64(j, "fails", w->fails);
	json_kv_u64(j, "punts", w->punts);
	json_kv_u64(j, "punted", w->punted);
	json_kv_u64(j, "rescues", w->rescues);
	json_kv_u64(j, "rescued", w->rescued);
	if (!rates)
		return;
	json_kv_double(j, "allocs_per_s", rate_per_sec(w->allocs, secs), 2);
	json_kv_double(j, "reserve_per_s", rate_per_sec(w->reserve, secs), 2);
	json_kv_double(j, "waits_per_s", rate_per_sec(w->waits, secs), 2);
	json_kv_double(j, "fails_per_s", rate_per_sec(w->fails, secs), 2);
	json_kv_double(j, "punts_per_s", rate_per_sec(w->punts, secs), 2);
	json_kv_double(j, "punted_per_s", rate_per_sec(w->punted, secs), 2);
	json_kv_double(j, "rescues_per_s", rate_per_sec(w->rescues, secs), 2);
	json_kv_double(j, "rescued_per_s", rate_per_sec(w->rescued, secs), 2);
}

static void json_begin(struct json *j, const char *type, double mono)
{
	char tbuf[32];
	double wall = mono + wall_minus_mono;

	json_reset(j);
	json_obj_begin(j);
	json_kv_str(j, "type", type);
	fmt_time(wall, tbuf, sizeof(tbuf), true);
	json_kv_str(j, "time", tbuf);
	json_kv_double(j, "ts", wall, 3);
	if (strcmp(type, "event"))
		json_kv_str(j, "mode", g.submissions ? "submissions" : "full");
}

static void json_end(struct json *j)
{
	json_obj_end(j);
	if (json_println(j, stdout))
		fail("out of memory writing JSON");
}

static void print_drops(double now, bool summary)
{
	__u64 errs[ERR_NR];
	int k;

	read_errs(errs);
	for (k = 0; k < ERR_NR; k++) {
		__u64 d = summary ? errs[k] : counter_delta(errs[k], g.errs_last[k]);

		if (!d || env.json)
			continue;
		if (k == ERR_RINGBUF)
			fprintf(stderr, "biostat: %llu events dropped (ring buffer full)%s\n",
				(unsigned long long)d, summary ? " in total" : "");
		else
			fprintf(stderr, "biostat: warning: %s: %llu%s\n", err_names[k],
				(unsigned long long)d, summary ? " in total" : "");
	}
	(void)now;
	if (!summary)
		memcpy(g.errs_last, errs, sizeof(errs));
}

static void json_errs(struct json *j, bool summary)
{
	__u64 errs[ERR_NR];
	int k;

	read_errs(errs);
	json_kv_u64(j, "dropped_events", summary ? errs[ERR_RINGBUF] :
		    counter_delta(errs[ERR_RINGBUF], g.errs_last[ERR_RINGBUF]));
	json_key(j, "errors");
	json_obj_begin(j);
	for (k = 1; k < ERR_NR; k++)
		json_kv_u64(j, err_names[k], errs[k]);
	json_obj_end(j);
	if (!summary)
		memcpy(g.errs_last, errs, sizeof(errs));
}

static void print_table_header(bool summary)
{
	if (summary)
		printf("%-24s %-7s %5s %7s %10s %9s %8s %9s %9s %7s %8s %8s %8s %8s\n",
		       "BIO_SET", "DEVICE", "POOL", "RESCUER",
		       g.submissions ? "SUBMITTED" : "ALLOCS", "RESERVE",
		       "WAITS", "AVG_us", "MAX_us", "FAILS", "PUNTS", "PUNTED",
		       "RESCUES", "RESCUED");
	else
		printf("%-24s %-7s %9s %8s %7s %9s %9s %7s %7s %8s %7s %8s\n",
		       "BIO_SET", "DEVICE", g.submissions ? "SUBM/s" : "ALLOC/s",
		       "RSRV/s", "WAIT/s", "AVG_us",
		       "MAX_us", "FAIL/s", "PUNT/s", "PUNTD/s", "RESC/s", "RESCD/s");
}

static void print_hist_text(const struct uset *s, const struct window *w,
			    const char *when)
{
	if (!hist_total(w->hist, BIOSTAT_HIST_SLOTS))
		return;
	printf("\n%s: wait time of %s (%llu waits)\n", s->name, when,
	       (unsigned long long)w->waits);
	hist_print(stdout, w->hist, BIOSTAT_HIST_SLOTS, "usecs", 0);
}

static void json_hist(const struct uset *s, const struct window *w,
		      const char *scope, double now)
{
	if (!hist_total(w->hist, BIOSTAT_HIST_SLOTS))
		return;
	json_begin(&g.j, "histogram", now);
	json_kv_str(&g.j, "scope", scope);
	json_set_common(&g.j, s);
	json_kv_str(&g.j, "unit", "usecs");
	json_kv_u64(&g.j, "waits", w->waits);
	json_key(&g.j, "buckets");
	hist_json(&g.j, w->hist, BIOSTAT_HIST_SLOTS);
	json_end(&g.j);
}

static void report_interval(double now)
{
	double secs = now - g.last_report;
	struct uset **rows;
	struct window w;
	size_t n, i;
	char tbuf[32], dev[32];

	read_counters(true);
	n = select_rows(&rows, false);

	if (env.json) {
		json_begin(&g.j, "interval", now);
		json_kv_double(&g.j, "interval_s", secs, 3);
		json_errs(&g.j, false);
		json_key(&g.j, "sets");
		json_arr_begin(&g.j);
		for (i = 0; i < n; i++) {
			window_of(rows[i], false, &w);
			json_obj_begin(&g.j);
			json_set_common(&g.j, rows[i]);
			json_window(&g.j, &w, secs, true);
			json_obj_end(&g.j);
		}
		json_arr_end(&g.j);
		json_end(&g.j);
		if (env.hist)
			for (i = 0; i < n; i++) {
				window_of(rows[i], false, &w);
				json_hist(rows[i], &w, "interval", now);
			}
	} else {
		if (env.timestamp) {
			fmt_time(now + wall_minus_mono, tbuf, sizeof(tbuf), false);
			printf("%s\n", tbuf);
		}
		print_table_header(false);
		for (i = 0; i < n; i++) {
			window_of(rows[i], false, &w);
			dev_str(rows[i], dev, sizeof(dev));
			if (g.submissions) {
				printf("%-24s %-7s %9.1f %8s %7s %9s %9s %7s %7s %8s %7s %8s\n",
				       rows[i]->name, dev,
				       rate_per_sec(w.allocs, secs), "-", "-", "-",
				       "-", "-", "-", "-", "-", "-");
				continue;
			}
			printf("%-24s %-7s %9.1f %8.1f %7.1f %9.0f %9.0f %7.1f %7.1f %8.1f %7.1f %8.1f\n",
			       rows[i]->name, dev,
			       rate_per_sec(w.allocs, secs),
			       rate_per_sec(w.reserve, secs),
			       rate_per_sec(w.waits, secs),
			       avg_us(w.wait_ns, w.waits),
			       (double)w.wait_max_ns / 1000.0,
			       rate_per_sec(w.fails, secs),
			       rate_per_sec(w.punts, secs),
			       rate_per_sec(w.punted, secs),
			       rate_per_sec(w.rescues, secs),
			       rate_per_sec(w.rescued, secs));
		}
		if (env.hist)
			for (i = 0; i < n; i++) {
				window_of(rows[i], false, &w);
				print_hist_text(rows[i], &w, "the interval");
			}
		printf("\n");
		print_drops(now, false);
	}
	free(rows);
	for (i = 0; i < g.nsets; i++) {
		g.sets[i].prev = g.sets[i].cur;
		g.sets[i].ivl_wait_max_ns = 0;
	}
	g.last_report = now;
	fflush(stdout);
}

static void print_stacks(double now)
{
	int wfd = bpf_map__fd(g.skel->maps.wait_stacks);
	int sfd = bpf_map__fd(g.skel->maps.stacks);
	struct biostat_stack_key key, next, *pkey = NULL;
	__u64 ips[BIOSTAT_MAX_STACK_DEPTH], count;
	char sym[256];
	bool any = false;
	int i;

	while (!bpf_map_get_next_key(wfd, pkey, &next)) {
		struct uset *s;
		__u32 id;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(wfd, &key, &count))
			continue;
		s = get_set(key.bs);
		id = (__u32)key.stackid;
		memset(ips, 0, sizeof(ips));
		if (bpf_map_lookup_elem(sfd, &id, ips))
			continue;
		{
			uint64_t a[BIOSTAT_MAX_STACK_DEPTH];

			for (i = 0; i < BIOSTAT_MAX_STACK_DEPTH && ips[i]; i++)
				a[i] = ips[i];
			need_ksyms(a, (size_t)i);
		}
		if (env.json) {
			json_begin(&g.j, "stack", now);
			if (s)
				json_set_common(&g.j, s);
			json_kv_u64(&g.j, "count", count);
			json_key(&g.j, "frames");
			json_arr_begin(&g.j);
			for (i = 0; i < BIOSTAT_MAX_STACK_DEPTH && ips[i]; i++) {
				if (ksym_is_trace_artifact(g.ks, ips[i]))
					continue;
				ksym_format(g.ks, ips[i], sym, sizeof(sym));
				json_str(&g.j, sym);
			}
			json_arr_end(&g.j);
			json_end(&g.j);
			continue;
		}
		if (!any)
			printf("\nKernel stacks of allocations that waited:\n");
		any = true;
		printf("\n  %s: %llu waits\n", s ? s->name : "?",
		       (unsigned long long)count);
		for (i = 0; i < BIOSTAT_MAX_STACK_DEPTH && ips[i]; i++) {
			if (ksym_is_trace_artifact(g.ks, ips[i]))
				continue;	/* BPF trampolines, fentry sites */
			ksym_format(g.ks, ips[i], sym, sizeof(sym));
			printf("    %s\n", sym);
		}
	}
	if (!env.json && !any)
		printf("\nNo allocation waited: no stacks.\n");
}

static void report_summary(double now)
{
	double secs = now - g.start;
	struct uset **rows;
	struct window w;
	size_t n, i;
	char dev[32];

	read_counters(false);
	n = select_rows(&rows, true);
	if (env.json) {
		/* histograms and stacks first: the summary is always the last line */
		if (env.hist)
			for (i = 0; i < n; i++) {
				window_of(rows[i], true, &w);
				json_hist(rows[i], &w, "summary", now);
			}
		if (env.stacks)
			print_stacks(now);
		json_begin(&g.j, "summary", now);
		json_kv_double(&g.j, "duration_s", secs, 3);
		json_errs(&g.j, true);
		json_key(&g.j, "sets");
		json_arr_begin(&g.j);
		for (i = 0; i < n; i++) {
			window_of(rows[i], true, &w);
			json_obj_begin(&g.j);
			json_set_common(&g.j, rows[i]);
			json_window(&g.j, &w, secs, true);
			json_obj_end(&g.j);
		}
		json_arr_end(&g.j);
		json_end(&g.j);
	} else {
		if (g.event_header_done)
			putchar('\n');		/* after the stream of events */
		printf("Summary: %.3f s, counts since start\n", secs);
		print_table_header(true);
		for (i = 0; i < n; i++) {
			char pool[16];

			window_of(rows[i], true, &w);
			dev_str(rows[i], dev, sizeof(dev));
			if (rows[i]->have_info && rows[i]->info.pool_min >= 0)
				snprintf(pool, sizeof(pool), "%d", rows[i]->info.pool_min);
			else
				snprintf(pool, sizeof(pool), "-");
			if (g.submissions) {
				printf("%-24s %-7s %5s %7s %10llu %9s %8s %9s %9s %7s %8s %8s %8s %8s\n",
				       rows[i]->name, dev, pool,
				       rows[i]->have_info ?
				       (rows[i]->info.flags & BIOSTAT_SET_RESCUER ? "yes" : "no") : "-",
				       (unsigned long long)w.allocs, "-", "-", "-", "-",
				       "-", "-", "-", "-", "-");
				continue;
			}
			printf("%-24s %-7s %5s %7s %10llu %9llu %8llu %9.0f %9.0f %7llu %8llu %8llu %8llu %8llu\n",
			       rows[i]->name, dev, pool,
			       rows[i]->have_info ?
			       (rows[i]->info.flags & BIOSTAT_SET_RESCUER ? "yes" : "no") : "-",
			       (unsigned long long)w.allocs,
			       (unsigned long long)w.reserve,
			       (unsigned long long)w.waits,
			       avg_us(w.wait_ns, w.waits),
			       (double)w.wait_max_ns / 1000.0,
			       (unsigned long long)w.fails,
			       (unsigned long long)w.punts,
			       (unsigned long long)w.punted,
			       (unsigned long long)w.rescues,
			       (unsigned long long)w.rescued);
		}
		if (env.hist)
			for (i = 0; i < n; i++) {
				window_of(rows[i], true, &w);
				print_hist_text(rows[i], &w, "the whole run");
			}
		print_drops(now, true);
		if (env.stacks)
			print_stacks(now);
	}
	free(rows);
	fflush(stdout);
}

/* -------------------------------------------------------------- events */

static const char *ev_name(__u32 type)
{
	switch (type) {
	case BIOSTAT_EV_WAIT: return "wait";
	case BIOSTAT_EV_FAIL: return "fail";
	case BIOSTAT_EV_PUNT: return "punt";
	case BIOSTAT_EV_RESCUE: return "rescue";
	default: return "?";
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct biostat_event *e = data;
	char tbuf[32], dev[32], comm[BIOSTAT_TASK_COMM_LEN + 1], bsbuf[32];
	double wall;
	struct uset *s;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	if (e->type == BIOSTAT_EV_GONE) {
		if (size >= sizeof(struct biostat_gone_event))
			set_gone(data);
		return 0;
	}
	if (!env.events)
		return 0;
	s = get_set(e->bs);

	wall = (double)e->ts_ns / 1e9 + wall_minus_mono;
	memcpy(comm, e->comm, BIOSTAT_TASK_COMM_LEN);
	comm[BIOSTAT_TASK_COMM_LEN] = '\0';
	if (e->dev)
		snprintf(dev, sizeof(dev), "%u:%u", BIOSTAT_KDEV_MAJOR(e->dev),
			 BIOSTAT_KDEV_MINOR(e->dev));
	else
		snprintf(dev, sizeof(dev), "-");

	if (env.json) {
		json_begin(&g.j, "event", (double)e->ts_ns / 1e9);
		json_kv_str(&g.j, "event", ev_name(e->type));
		json_kv_str(&g.j, "comm", comm);
		json_kv_u64(&g.j, "pid", e->pid);
		json_kv_u64(&g.j, "tid", e->tid);
		snprintf(bsbuf, sizeof(bsbuf), "0x%llx", (unsigned long long)e->bs);
		json_kv_str(&g.j, "bio_set", bsbuf);
		json_kv_str(&g.j, "name", s ? s->name : bsbuf);
		if (e->dev) {
			json_kv_str(&g.j, "device", dev);
		} else {
			json_key(&g.j, "device");
			json_null(&g.j);
		}
		switch (e->type) {
		case BIOSTAT_EV_WAIT:
			json_kv_double(&g.j, "wait_us", (double)e->dur_ns / 1000.0, 1);
			/* fall through */
		case BIOSTAT_EV_FAIL:
			snprintf(bsbuf, sizeof(bsbuf), "0x%x", e->gfp);
			json_kv_str(&g.j, "gfp", bsbuf);
			break;
		default:
			json_kv_u64(&g.j, "bios", e->count);
			break;
		}
		json_end(&g.j);
		fflush(stdout);		/* real time: each event as it comes */
		return 0;
	}

	if (!g.event_header_done) {
		printf("%-12s %-6s %-16s %-7s %-7s %-24s %-7s %9s %5s\n", "TIME",
		       "EVENT", "COMM", "PID", "TID", "BIO_SET", "DEVICE",
		       "WAIT_us", "BIOS");
		g.event_header_done = true;
	}
	fmt_time(wall, tbuf, sizeof(tbuf), true);
	/* comm may hold anything a process chose: keep the terminal sane */
	for (char *c = comm; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	if (e->type == BIOSTAT_EV_WAIT)
		printf("%-12s %-6s %-16s %-7u %-7u %-24s %-7s %9.0f %5s\n", tbuf,
		       ev_name(e->type), comm, e->pid, e->tid, s ? s->name : "?",
		       dev, (double)e->dur_ns / 1000.0, "-");
	else if (e->type == BIOSTAT_EV_FAIL)
		printf("%-12s %-6s %-16s %-7u %-7u %-24s %-7s %9s %5s\n", tbuf,
		       ev_name(e->type), comm, e->pid, e->tid, s ? s->name : "?",
		       dev, "-", "-");
	else
		printf("%-12s %-6s %-16s %-7u %-7u %-24s %-7s %9s %5u\n", tbuf,
		       ev_name(e->type), comm, e->pid, e->tid, s ? s->name : "?",
		       dev, "-", e->count);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------ load and attach */

/*
 * BIOSTAT_HOOKS=auto|fentry|kprobe|tracepoint: for testing the fallbacks
 * on a kernel that would not need them (see biostat.8, ENVIRONMENT).
 */
static const char *hooks_env(void)
{
	const char *e = getenv("BIOSTAT_HOOKS");

	return e && *e ? e : "auto";
}

static bool kprobes_supported(void)
{
	if (!strcmp(hooks_env(), "fentry"))
		return false;
	return access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
}

/* [lo, hi) of a kernel function, from kallsyms; 0 if unknown. */
static int ksym_range(const char *name, __u64 *lo, __u64 *hi)
{
	const struct ksym *s;
	size_t i;

	s = ksym_named(name);
	if (!s || !ksym_is_text(s))
		return -1;
	for (i = (size_t)(s - g.ks->syms) + 1; i < g.ks->n; i++)
		if (g.ks->syms[i].addr > s->addr)
			break;
	if (i >= g.ks->n)
		return -1;
	*lo = s->addr;
	*hi = g.ks->syms[i].addr;
	return 0;
}

static bool ksym_func(const char *name)
{
	const struct ksym *s;

	s = ksym_named(name);

	return s && ksym_is_text(s);
}

struct hook_progs {
	struct bpf_program *fe, *fx, *kp, *kr;
};

/* Links made by hand (not by the skeleton): destroyed before the object. */
static struct bpf_link *links[2 * BIOSTAT_NR_HOOKS + 1];
static int nlinks;

static struct bpf_link *keep_link(struct bpf_link *l)
{
	if (l && nlinks < (int)(sizeof(links) / sizeof(links[0])))
		links[nlinks++] = l;
	return l;
}

static void destroy_all(struct biostat_bpf *skel)
{
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	biostat_bpf__destroy(skel);
}

static struct hook_progs progs_of(struct biostat_bpf *s, int h)
{
	struct hook_progs p = { 0 };

	switch (h) {
	case BIOSTAT_HOOK_ALLOC_BIOSET:
		p = (struct hook_progs){ s->progs.fe_alloc, s->progs.fx_alloc,
					 s->progs.kp_alloc, s->progs.kr_alloc };
		break;
	case BIOSTAT_HOOK_ALLOC_CLONE:
		p = (struct hook_progs){ s->progs.fe_clone, NULL,
					 s->progs.kp_clone, NULL };
		break;
	case BIOSTAT_HOOK_MEMPOOL_SLAB:
		/* fexit only; a kretprobe needs the entry probe for pool_data */
		p = (struct hook_progs){ s->progs.fx_slab, NULL,
					 s->progs.kp_slab, s->progs.kr_slab };
		break;
	case BIOSTAT_HOOK_IO_SCHEDULE:
		p = (struct hook_progs){ s->progs.fe_sched, NULL,
					 s->progs.kp_sched, NULL };
		break;
	case BIOSTAT_HOOK_PUNT:
		p = (struct hook_progs){ s->progs.fe_punt, NULL,
					 s->progs.kp_punt, NULL };
		break;
	case BIOSTAT_HOOK_RESCUE:
		p = (struct hook_progs){ s->progs.fe_rescue, s->progs.fx_rescue,
					 s->progs.kp_rescue, s->progs.kr_rescue };
		break;
	case BIOSTAT_HOOK_SUBMIT:
		p = (struct hook_progs){ s->progs.fe_submit, NULL,
					 s->progs.kp_submit, NULL };
		break;
	case BIOSTAT_HOOK_EXIT:
		p = (struct hook_progs){ s->progs.fe_exit, NULL,
					 s->progs.kp_exit, NULL };
		break;
	}
	return p;
}

static const char *const hook_purpose[BIOSTAT_NR_HOOKS] = {
	"allocations", "clone owners", "reserve use and waits",
	"waits", "punts", "rescues", "rescued bios", "sets that go away",
};

/*
 * fentry everywhere unless BIOSTAT_HOOKS=kprobe.  A function missing from
 * the kernel's BTF makes the load fail and load_full() retries with
 * kprobes; the names are not looked up in BTF here, which would parse the
 * whole vmlinux BTF a second time (libbpf parses it to load).
 */
static void choose_hooks(void)
{
	static const char *const names[BIOSTAT_NR_HOOKS] = {
		"bio_alloc_bioset", "bio_alloc_clone",
		"mempool_alloc_slab", "io_schedule_timeout",
		"punt_bios_to_rescuer", "bio_alloc_rescue", "submit_bio_noacct",
		"bioset_exit",
	};
	bool kp = !strcmp(hooks_env(), "kprobe") && kprobes_supported();
	int h;

	for (h = 0; h < BIOSTAT_NR_HOOKS; h++) {
		const char *f = names[h];

		g.hook_func[h] = f;
		g.hook_mode[h] = MODE_FENTRY;
		if (!kp)
			continue;
		if (!ksym_func(f))
			fail("this kernel has no traceable %s() (needed for %s); "
			     "biostat supports Linux 6.1 and later", f, hook_purpose[h]);
		g.hook_mode[h] = MODE_KPROBE;
	}
}

static bool any_fentry(void)
{
	int h;

	for (h = 0; h < BIOSTAT_NR_HOOKS; h++)
		if (g.hook_mode[h] == MODE_FENTRY)
			return true;
	return false;
}

static void explain_errno(int err, const char *what)
{
	err = err < 0 ? -err : err;
	if (err == EACCES && geteuid() == 0)
		fail("%s: the kernel refused a program (%s); run with -v for "
		     "the verifier's log", what, strerror(err));
	if (err == EPERM || err == EACCES)
		fail("%s: permission denied; run as root (needs CAP_BPF and "
		     "CAP_PERFMON, or CAP_SYS_ADMIN)", what);
	fail("%s: %s (run with -v for details)", what, strerror(err));
}

static struct biostat_bpf *open_and_set(void)
{
	struct biostat_bpf *skel = biostat_bpf__open();
	int h;

	if (!skel)
		explain_errno(errno, "cannot open the BPF object");
	skel->rodata->targ_tgid = (__u32)env.pid;
	skel->rodata->targ_dev = env.kdev;
	skel->rodata->want_stacks = env.stacks;
	skel->rodata->want_events = env.events;
	skel->rodata->nr_cpus = (__u32)g.ncpus;
	/* Table mode sends no events: a one-page ring buffer, not 2 MiB */
	if (!env.events)
		bpf_map__set_max_entries(skel->maps.events, (__u32)getpagesize());
	bpf_program__set_autoload(skel->progs.rt_queue, g.submissions);
	for (h = 0; h < BIOSTAT_NR_HOOKS; h++) {
		struct hook_progs p = progs_of(skel, h);
		bool fe = g.hook_mode[h] == MODE_FENTRY;

		if (g.submissions) {
			bpf_program__set_autoload(p.fe, false);
			if (p.fx)
				bpf_program__set_autoload(p.fx, false);
			bpf_program__set_autoload(p.kp, false);
			if (p.kr)
				bpf_program__set_autoload(p.kr, false);
			continue;
		}
		bpf_program__set_autoload(p.fe, fe);
		if (p.fx)
			bpf_program__set_autoload(p.fx, fe);
		bpf_program__set_autoload(p.kp, !fe);
		if (p.kr)
			bpf_program__set_autoload(p.kr, !fe);
	}
	return skel;
}

/* Attach one hook; 0 or -errno. */
static int attach_hook(struct biostat_bpf *skel, int h)
{
	struct hook_progs p = progs_of(skel, h);
	const char *f = g.hook_func[h];
	struct bpf_link *l;

	if (g.hook_mode[h] == MODE_FENTRY) {
		l = keep_link(bpf_program__attach(p.fe));
		if (!l)
			return -errno;
		if (p.fx && !keep_link(bpf_program__attach(p.fx)))
			return -errno;
		return 0;
	}
	l = keep_link(bpf_program__attach_kprobe(p.kp, false, f));
	if (!l)
		return -errno;
	if (p.kr && !keep_link(bpf_program__attach_kprobe(p.kr, true, f)))
		return -errno;
	return 0;
}

/*
 * fentry where the kernel allows it, else kprobes: a hook whose fentry
 * fails to attach switches to kprobes and everything is loaded again.
 * (Links are owned by the programs and go with the object.)
 * Returns NULL with *errp and *whatp set when fentry cannot be used and
 * there is no kprobe to fall back to; fails outright on anything else.
 */
static struct biostat_bpf *load_full(int *errp, const char **whatp)
{
	bool kp = kprobes_supported();
	struct biostat_bpf *skel;
	int attempt, h, err;

	for (attempt = 0; attempt <= BIOSTAT_NR_HOOKS + 1; attempt++) {
		skel = open_and_set();
		err = biostat_bpf__load(skel);
		if (err) {
			destroy_all(skel);
			if (kp && any_fentry()) {
				verbose("load with fentry failed (%s), retrying with kprobes",
					strerror(-err));
				for (h = 0; h < BIOSTAT_NR_HOOKS; h++)
					g.hook_mode[h] = MODE_KPROBE;
				continue;
			}
			if (!kp && any_fentry()) {
				*errp = err;
				*whatp = "loading fentry programs";
				return NULL;
			}
			explain_errno(err, "cannot load the BPF programs");
		}
		for (h = 0; h < BIOSTAT_NR_HOOKS; h++) {
			err = attach_hook(skel, h);
			if (!err)
				continue;
			if (g.hook_mode[h] == MODE_FENTRY && kp &&
			    ksym_func(g.hook_func[h])) {
				verbose("fentry on %s failed (%s), using a kprobe",
					g.hook_func[h], strerror(-err));
				g.hook_mode[h] = MODE_KPROBE;
				break;
			}
			destroy_all(skel);
			if (g.hook_mode[h] == MODE_FENTRY && !kp) {
				*errp = err;
				*whatp = g.hook_func[h];
				return NULL;
			}
			if (err == -EPERM || err == -EACCES)
				explain_errno(err, "cannot attach");
			fail("cannot trace %s() (needed for %s): %s",
			     g.hook_func[h], hook_purpose[h], strerror(-err));
		}
		if (h == BIOSTAT_NR_HOOKS)
			return skel;
		destroy_all(skel);
	}
	fail("cannot attach the BPF programs");
}

/*
 * Neither fentry nor kprobes: count bios per set as they are submitted
 * (block_bio_queue raw tracepoint).  Says so loudly.
 */
static struct biostat_bpf *load_submissions(int full_err, const char *what)
{
	struct biostat_bpf *skel;
	int err;

	g.submissions = true;
	skel = open_and_set();
	err = biostat_bpf__load(skel);
	if (!err && !keep_link(bpf_program__attach(skel->progs.rt_queue)))
		err = -errno;
	if (err) {
		destroy_all(skel);
		fail("cannot trace: fentry refused (%s: %s), no kprobes in this "
		     "kernel, and the block_bio_queue tracepoint failed too (%s)",
		     what, strerror(-full_err), strerror(-err));
	}
	fprintf(stderr,
		"biostat: warning: this kernel refuses fentry (%s: %s) and has no "
		"kprobes; counting bios per bio_set at submission "
		"(block_bio_queue): ALLOC means submitted, reserve, waits, fails, "
		"punts and rescues are not measured\n", what, strerror(-full_err));
	return skel;
}

static struct biostat_bpf *load_and_attach(void)
{
	struct biostat_bpf *skel;
	const char *what = "";
	int err = 0;

	if (!strcmp(hooks_env(), "tracepoint"))
		return load_submissions(-EPERM, "BIOSTAT_HOOKS=tracepoint");
	skel = load_full(&err, &what);
	if (skel)
		return skel;
	return load_submissions(err, what);
}

/* ------------------------------------------------------ fs_bio_set */

/*
 * fs_bio_set is a data symbol; kernels built without CONFIG_KALLSYMS_ALL
 * do not list it in /proc/kallsyms.  There we learn its address from the
 * kernel itself: ext2/3/4 and XFS read file data with bios from bio_alloc(),
 * which always uses fs_bio_set.  We write 64 KiB to an unnamed temporary
 * file (O_TMPFILE) on such a file system, drop it from the page cache and
 * read 4 KiB back; the BPF side records the set of the first bio this
 * thread allocates (or submits) while calib_tid is set.  Skipped wherever
 * kallsyms names fs_bio_set.
 */
#define EXT4_SUPER_MAGIC_ 0xEF53
#define XFS_SUPER_MAGIC_ 0x58465342

static void calibrate_in(const char *dir)
{
	volatile __u64 *res = &g.skel->bss->calib_bs;
	volatile __u32 *tid = &g.skel->bss->calib_tid;
	static char buf[1 << 16] __attribute__((aligned(4096)));
	struct statfs sfs;
	int fd, k;

	if (statfs(dir, &sfs) ||
	    (sfs.f_type != EXT4_SUPER_MAGIC_ && sfs.f_type != XFS_SUPER_MAGIC_))
		return;
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	memset(buf, 0x5a, sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fdatasync(fd)) {
		close(fd);
		return;
	}
	for (k = 0; k < 3 && !*res; k++) {
		posix_fadvise(fd, 0, sizeof(buf), POSIX_FADV_DONTNEED);
		*tid = (__u32)gettid();
		if (pread(fd, buf, 4096, 0) < 0)
			k = 3;
		*tid = 0;
	}
	close(fd);
	if (*res)
		verbose("fs_bio_set is at 0x%llx (learnt from a read in %s)",
			(unsigned long long)*res, dir);
}

static __u64 calibrate_fs_bio_set(void)
{
	static const char *const dirs[] = { "/var/tmp", "/tmp", "/" };
	size_t i;

	g.skel->bss->calib_bs = 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !g.skel->bss->calib_bs; i++)
		calibrate_in(dirs[i]);
	return g.skel->bss->calib_bs;
}

/* ------------------------------------------------------------ checks */

static bool have_caps(void)
{
	char line[256];
	FILE *f;
	unsigned long long eff = 0;
	bool found = false;

	if (geteuid() == 0)
		return true;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			found = true;
			break;
		}
	if (f)
		fclose(f);
	if (!found)
		return true;	/* let the kernel decide */
	/* CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39 */
	return (eff & (1ULL << 21)) ||
	       ((eff & (1ULL << 38)) && (eff & (1ULL << 39)));
}

static void resolve_device(void)
{
	struct stat st;

	if (!env.device)
		return;
	build_dev_lists(&g.blk_list, &g.dm_list);
	g.lists_refreshed = mono_now();
	if (env.device[0] == '/' && !stat(env.device, &st)) {
		if (!S_ISBLK(st.st_mode))
			usage_error("'%s' is not a block device", env.device);
		env.dev_maj = major(st.st_rdev);
		env.dev_min = minor(st.st_rdev);
	} else if (resolve_device_arg(env.device, g.dm_list, g.blk_list,
				      &env.dev_maj, &env.dev_min)) {
		usage_error("unknown device '%s'", env.device);
	}
	env.kdev = BIOSTAT_KDEV(env.dev_maj, env.dev_min);
	verbose("device %s is %u:%u", env.device, env.dev_maj, env.dev_min);
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "[INTERVAL [COUNT]]",
		.doc = doc,
	};
	struct sigaction sa = { .sa_handler = sig_handler };
	struct timespec rt, mt;
	double next;
	long reports = 0;
	int err;

	/*
	 * A fixed mmap threshold: big buffers (libbpf's copies of the vmlinux
	 * BTF, the symbol table while it grows) are mapped on their own, grow
	 * with mremap() rather than by copying, and go back to the kernel when
	 * freed; glibc would otherwise raise the threshold after the first free
	 * and keep them in the heap (biostat's peak RSS).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (argc > 1 && !strcmp(argv[1], "check"))
		return check_main(argc - 1, argv + 1);
	if (argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, NULL))
		usage_error("invalid arguments");
	if (strcmp(hooks_env(), "auto") && strcmp(hooks_env(), "fentry") &&
	    strcmp(hooks_env(), "kprobe") && strcmp(hooks_env(), "tracepoint"))
		usage_error("BIOSTAT_HOOKS='%s': want auto, fentry, kprobe or tracepoint",
			    hooks_env());
	if (env.pid) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/%ld", env.pid);
		if (access(p, F_OK))
			usage_error("no process with PID %ld", env.pid);
	}
	resolve_device();
	if (!g.blk_list) {
		build_dev_lists(&g.blk_list, &g.dm_list);
		g.lists_refreshed = mono_now();
	}

	libbpf_set_print(libbpf_print);
	if (!have_caps())
		fail("needs root privileges (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		fail("the kernel has no BTF (/sys/kernel/btf/vmlinux); biostat needs "
		     "a kernel built with CONFIG_DEBUG_INFO_BTF=y");

	choose_hooks();

	{
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

		setrlimit(RLIMIT_MEMLOCK, &rl);	/* pre-5.11 kernels only */
	}
	g.ncpus = libbpf_num_possible_cpus();
	if (g.ncpus <= 0)
		fail("cannot count CPUs: %s", strerror(-g.ncpus));
	g.percpu = calloc((size_t)g.ncpus, sizeof(*g.percpu));
	if (!g.percpu)
		fail("out of memory");
	g.skel = load_and_attach();
	malloc_trim(0);		/* what libbpf freed after the load (its BTF) */
	ensure_ksyms();
	malloc_trim(0);		/* what growing the symbol table left behind */
	{
		__u64 lo, hi;

		/* for from_reserve() and sleep_in_mempool() in the BPF side */
		if (!ksym_range("mempool_alloc_slab", &lo, &hi)) {
			g.skel->bss->slab_fn = lo;
			g.skel->bss->slab_lo = lo;
			g.skel->bss->slab_hi = hi;
			/* 6.10+: mempool_alloc is a macro around _noprof */
			if (!ksym_range("mempool_alloc_noprof", &lo, &hi) ||
			    !ksym_range("mempool_alloc", &lo, &hi)) {
				g.skel->bss->mp_lo = lo;
				g.skel->bss->mp_hi = hi;
			}
		}
	}
	for (int h = 0; h < BIOSTAT_NR_HOOKS && !g.submissions; h++)
		verbose("%-24s %s", g.hook_func[h],
			g.hook_mode[h] == MODE_FENTRY ? "fentry" : "kprobe");

	{
		const struct ksym *s = ksym_named("fs_bio_set");

		if (s && ksym_is_data(s))
			g.fs_bio_set = s->addr;
		else
			g.fs_bio_set = calibrate_fs_bio_set();
		if (!g.fs_bio_set)
			verbose("address of fs_bio_set unknown");
	}

	g.rb = ring_buffer__new(bpf_map__fd(g.skel->maps.events), handle_event,
				NULL, NULL);
	if (!g.rb)
		fail("cannot create the ring buffer: %s", strerror(errno));
	json_init(&g.j);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	wall_minus_mono = ((double)rt.tv_sec + (double)rt.tv_nsec / 1e9) -
			  ((double)mt.tv_sec + (double)mt.tv_nsec / 1e9);

	g.skel->bss->enabled = true;
	g.start = g.last_report = mono_now();
	next = g.start + env.interval;
	fprintf(stderr, "Tracing bio_sets... Hit Ctrl-C to end.\n");

	while (!exiting) {
		double now = mono_now();
		int timeout = 100;
		bool tables = !env.events || env.interval_given;

		if (tables && next - now < 0.1)
			timeout = next > now ? (int)((next - now) * 1000) + 1 : 0;
		err = ring_buffer__poll(g.rb, timeout);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "biostat: polling the ring buffer: %s\n",
				strerror(-err));
			break;
		}
		if (err > 0)
			fflush(stdout);
		now = mono_now();
		if (now < next)
			continue;
		if (tables)
			report_interval(now);
		else
			g.last_report = now;
		next += env.interval;
		if (next < now)		/* fell behind (stopped, slow TCG) */
			next = now + env.interval;
		if (env.count && ++reports >= env.count)
			break;
	}

	/* Stop counting, drain what is in flight, then the summary. */
	g.skel->bss->enabled = false;
	ring_buffer__consume(g.rb);
	report_summary(mono_now());

	ring_buffer__free(g.rb);
	destroy_all(g.skel);
	ksyms_free(g.ks);
	json_free(&g.j);
	free(g.sets);
	free(g.percpu);
	free(g.blk_list);
	free(g.dm_list);
	return EXIT_OK;
}
