// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - "biostat check": report every call site where a task allocates
 * a bio from a bio_set while it still holds, unsubmitted, a bio it
 * allocated earlier from the same set, with a gfp mask that may sleep on
 * the set's mempool.  See bpf/biostat_check.bpf.c and biostat.8, CHECK MODE.
 *
 * Exit status: 0 no violation, 1 cannot trace, 2 bad command line,
 * 3 at least one violation.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "biostat.h"
#include "biostat_check.skel.h"
#include "check.h"
#include "json.h"
#include "names.h"

enum { CK_OK = 0, CK_FAIL = 1, CK_USAGE = 2, CK_VIOLATION = 3 };

static struct {
	double duration;	/* 0: until SIGINT/SIGTERM */
	bool json, verbose;
	const char *device;
	__u32 kdev;
} cenv;

static volatile sig_atomic_t ck_exiting;

static void ck_sig(int sig)
{
	(void)sig;
	ck_exiting = 1;
}

static void ck_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void ck_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("biostat check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see biostat check --help)\n", stderr);
	exit(CK_USAGE);
}

static void ck_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void ck_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("biostat check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(CK_FAIL);
}

static int ck_libbpf_print(enum libbpf_print_level level, const char *fmt,
			   va_list args)
{
	(void)level;
	if (!cenv.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static const char ck_doc[] =
"Report tasks that allocate a bio from a bio_set while they still hold,\n"
"unsubmitted, a bio they allocated earlier from the same set, with a gfp\n"
"mask that allows direct reclaim (the allocation may sleep on the set's\n"
"mempool).  bio_alloc_bioset() forbids this: under memory pressure it can\n"
"deadlock.  Each call site (pair of kernel stacks) is reported once, at\n"
"the end: after DURATION seconds, or on SIGINT/SIGTERM.\v"
"A bio stops being held when it is submitted (submit_bio_noacct, by any\n"
"task), enters or merges into a request, is put (bio_put), a clone of\n"
"it is submitted, or it was allocated inside ->submit_bio and that\n"
"top-level submission returned.\n"
"\n"
"Examples:\n"
"  biostat check 10        # watch every bio_set for 10 seconds\n"
"  biostat check -d bp0    # only violations for device bp0, until Ctrl-C\n"
"  biostat check -j 5 | jq .\n"
"\n"
"Exit status: 0 no violation seen, 1 cannot trace (privileges, kernel\n"
"without BTF or fentry), 2 bad command line, 3 at least one violation.";

static const struct argp_option ck_opts[] = {
	{ "device", 'd', "DEV", 0, "Only violations for DEV: dm name, /dev path or MAJ:MIN", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line: each violation, then a summary", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf debug output and progress", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ 0 },
};

static int ck_positional;

static error_t ck_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j': cenv.json = true; break;
	case 'v': cenv.verbose = true; break;
	case 'd': cenv.device = arg; break;
	case 'h':
		argp_help(state->root_argp, stdout, ARGP_HELP_STD_HELP, "biostat check");
		exit(CK_OK);
	case ARGP_KEY_ARG:
		if (ck_positional++ > 0)
			ck_usage("unexpected argument '%s'", arg);
		if (parse_interval(arg, &cenv.duration))
			ck_usage("invalid duration '%s': a positive number of seconds", arg);
		break;
	case ARGP_KEY_ERROR: {
		const char *bad = state->next > 0 && state->next <= state->argc ?
				  state->argv[state->next - 1] : "?";

		if (!strcmp(bad, "-d") || !strcmp(bad, "--device"))
			ck_usage("option '%s' needs an argument", bad);
		ck_usage("unknown option '%s'", bad);
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static double ck_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "GFP_NOIO" etc. from the reclaim, IO and FS bits (same on 6.1 and 6.12). */
static const char *gfp_name(__u32 gfp)
{
	bool direct = gfp & 0x400, kswapd = gfp & 0x800;
	bool io = gfp & 0x40, fs = gfp & 0x80, high = gfp & 0x20;

	if (direct && kswapd)
		return io && fs ? "GFP_KERNEL" : io ? "GFP_NOFS" :
		       fs ? "GFP_NOIO|__GFP_FS" : "GFP_NOIO";
	if (direct)
		return "__GFP_DIRECT_RECLAIM";
	if (kswapd)
		return high ? "GFP_ATOMIC" : "GFP_NOWAIT";
	return high ? "__GFP_HIGH" : "no reclaim";
}

struct site {
	struct biostat_check_key k;
	struct biostat_check_site v;
};

static struct ksyms *ks;
static char *blk_list, *dm_list;

/*
 * A frame that is no caller: BPF trampolines and programs.  On 6.1 the
 * fexit trampoline's address can fall inside a module's data symbols
 * (the trampoline image lives among the modules), so a frame that
 * resolves to anything but text is dropped too.
 */
static bool skip_frame(__u64 addr)
{
	const struct ksym *s;
	uint64_t off;

	if (ksym_is_trace_artifact(ks, addr))
		return true;
	s = ksyms_resolve(ks, addr, &off);
	if (!s || !ksym_is_text(s))
		return true;
	return s->mod && (!strcmp(s->mod, "__builtin__ftrace") ||
			  !strcmp(s->mod, "bpf"));
}

static int get_stack(int fd, __s64 id, __u64 *ips)
{
	__u32 k = (__u32)id;

	memset(ips, 0, BIOSTAT_MAX_STACK_DEPTH * sizeof(*ips));
	if (id < 0 || bpf_map_lookup_elem(fd, &k, ips))
		return -1;
	return 0;
}

static void set_name(const struct site *s, const __u64 *second, bool have2,
		     char *buf, size_t n)
{
	const struct ksym *fsb = ksyms_by_name(ks, "fs_bio_set");
	uint64_t caller[BIOSTAT_MAX_STACK_DEPTH];
	struct set_desc d = {
		.bs = s->k.bs,
		.kdev = s->v.dev,
		.caller = NULL,
		.ncaller = 0,
		.fs_bio_set = fsb && ksym_is_data(fsb) ? fsb->addr : 0,
	};
	unsigned int i, j = 0;

	if (have2) {
		/* drop trampoline frames so the allocator comes first */
		for (i = 0; i < BIOSTAT_MAX_STACK_DEPTH && second[i]; i++)
			if (!skip_frame(second[i]))
				caller[j++] = second[i];
		d.caller = caller;
		d.ncaller = j;
	}
	describe_set(ks, dm_list, blk_list, &d, buf, n);
}

static void dev_name(__u32 kdev, char *buf, size_t n)
{
	unsigned int ma = BIOSTAT_KDEV_MAJOR(kdev), mi = BIOSTAT_KDEV_MINOR(kdev);
	char nm[128];

	if (!kdev) {
		snprintf(buf, n, "-");
		return;
	}
	if (!devlist_by_dev(dm_list, ma, mi, nm, sizeof(nm)) ||
	    !devlist_by_dev(blk_list, ma, mi, nm, sizeof(nm)))
		snprintf(buf, n, "%s (%u:%u)", nm, ma, mi);
	else
		snprintf(buf, n, "%u:%u", ma, mi);
}

static void print_stack_text(const char *title, const __u64 *ips, bool ok)
{
	char sym[256];
	int i;

	printf("  %s:\n", title);
	if (!ok) {
		printf("    (stack not available)\n");
		return;
	}
	for (i = 0; i < BIOSTAT_MAX_STACK_DEPTH && ips[i]; i++) {
		if (skip_frame(ips[i]))
			continue;
		ksym_format(ks, ips[i], sym, sizeof(sym));
		printf("    %s\n", sym);
	}
}

static void json_stack(struct json *j, const char *key, const __u64 *ips, bool ok)
{
	char sym[256];
	int i;

	json_key(j, key);
	if (!ok) {
		json_null(j);
		return;
	}
	json_arr_begin(j);
	for (i = 0; i < BIOSTAT_MAX_STACK_DEPTH && ips[i]; i++) {
		if (skip_frame(ips[i]))
			continue;
		ksym_format(ks, ips[i], sym, sizeof(sym));
		json_str(j, sym);
	}
	json_arr_end(j);
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->k.bs != y->k.bs)
		return x->k.bs < y->k.bs ? -1 : 1;
	return x->v.first_ns < y->v.first_ns ? -1 : x->v.first_ns > y->v.first_ns;
}

/* Does a violation concern the -d device (its own dev, or its set's name)? */
static bool dev_matches(const struct site *s, const char *setname)
{
	char nm[128];
	size_t l;

	if (!cenv.device)
		return true;
	if (s->v.dev == cenv.kdev)
		return true;
	/* dm core's sets are allocated with no bdev: match "NAME:" prefixes */
	if (!devlist_by_dev(dm_list, BIOSTAT_KDEV_MAJOR(cenv.kdev),
			    BIOSTAT_KDEV_MINOR(cenv.kdev), nm, sizeof(nm))) {
		l = strlen(nm);
		if (!strncmp(setname, nm, l) && setname[l] == ':')
			return true;
	}
	return false;
}

static void resolve_dev(void)
{
	unsigned int ma, mi;
	struct stat st;

	if (!cenv.device)
		return;
	if (cenv.device[0] == '/' && !stat(cenv.device, &st)) {
		if (!S_ISBLK(st.st_mode))
			ck_usage("'%s' is not a block device", cenv.device);
		ma = major(st.st_rdev);
		mi = minor(st.st_rdev);
	} else if (resolve_device_arg(cenv.device, dm_list, blk_list, &ma, &mi)) {
		ck_usage("unknown device '%s'", cenv.device);
	}
	cenv.kdev = BIOSTAT_KDEV(ma, mi);
}

int check_main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = ck_opts,
		.parser = ck_parse,
		.args_doc = "[DURATION]",
		.doc = ck_doc,
	};
	static const char *const cerr_names[BIOSTAT_CERR_NR] = {
		"held_map_full", "taskset_map_full", "site_map_full",
		"stack_unavailable", "allocations", "nosleep_while_held",
	};
	struct sigaction sa = { .sa_handler = ck_sig };
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct biostat_check_bpf *skel;
	struct biostat_check_key key, next, *pkey = NULL;
	__u64 errs[BIOSTAT_CERR_NR] = { 0 }, *pcpu;
	__u64 ips1[BIOSTAT_MAX_STACK_DEPTH], ips2[BIOSTAT_MAX_STACK_DEPTH];
	struct site *sites = NULL;
	size_t nsites = 0, cap = 0, i, shown = 0, nsets = 0;
	struct bpf_link *links[8];
	struct json j;
	double start, end, stop;
	int ncpu, nlinks = 0, vfd, sfd, efd, err;
	__u32 e;

	if (argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, NULL))
		ck_usage("invalid arguments");
	build_dev_lists(&blk_list, &dm_list);
	resolve_dev();
	libbpf_set_print(ck_libbpf_print);

	if (geteuid() != 0)
		fprintf(stderr, "biostat check: warning: not root; tracing needs "
			"CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)\n");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		ck_fail("the kernel has no BTF (/sys/kernel/btf/vmlinux); check mode "
			"needs CONFIG_DEBUG_INFO_BTF=y");
	ks = ksyms_load("/proc/kallsyms");
	if (!ks)
		ck_fail("cannot read /proc/kallsyms: %s", strerror(errno));
	if (ks->zero_addrs)
		ck_fail("/proc/kallsyms shows no addresses (kptr_restrict); run as root");

	setrlimit(RLIMIT_MEMLOCK, &rl);
	skel = biostat_check_bpf__open();
	if (!skel)
		ck_fail("cannot open the BPF object: %s", strerror(errno));
	err = biostat_check_bpf__load(skel);
	if (err) {
		biostat_check_bpf__destroy(skel);
		if (err == -EPERM || err == -EACCES)
			ck_fail("cannot load the fentry programs: %s; check mode needs "
				"root and a kernel that allows fentry on bio_alloc_bioset, "
				"submit_bio_noacct and bio_put (it has no kprobe or "
				"tracepoint fallback)", strerror(-err));
		ck_fail("cannot load the BPF programs: %s (run with -v for details)",
			strerror(-err));
	}
	{
		struct bpf_program *must[] = {
			skel->progs.ck_alloc, skel->progs.ck_submit,
			skel->progs.ck_submit_exit, skel->progs.ck_put,
			skel->progs.ck_clone,
		};
		struct bpf_program *may[] = {
			skel->progs.ck_getrq, skel->progs.ck_backmerge,
			skel->progs.ck_frontmerge,
		};

		for (i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
			links[nlinks] = bpf_program__attach(must[i]);
			if (!links[nlinks]) {
				err = -errno;
				while (nlinks > 0)
					bpf_link__destroy(links[--nlinks]);
				biostat_check_bpf__destroy(skel);
				ck_fail("cannot attach %s: %s; check mode needs fentry "
					"(this kernel refuses it or lacks the function)",
					bpf_program__name(must[i]), strerror(-err));
			}
			nlinks++;
		}
		for (i = 0; i < sizeof(may) / sizeof(may[0]); i++) {
			links[nlinks] = bpf_program__attach(may[i]);
			if (links[nlinks])
				nlinks++;
			else
				fprintf(stderr, "biostat check: warning: cannot attach %s "
					"(%s): bios split by blk-mq may be reported\n",
					bpf_program__name(may[i]), strerror(errno));
		}
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel->bss->enabled = true;
	start = ck_now();
	end = cenv.duration > 0 ? start + cenv.duration : 0;
	fprintf(stderr, "Checking bio_set allocation order... %s\n",
		end ? "" : "Hit Ctrl-C to end.");
	while (!ck_exiting) {
		double now = ck_now(), left = end ? end - now : 0.2;

		if (end && left <= 0)
			break;
		if (left > 0.2)
			left = 0.2;
		usleep((useconds_t)(left * 1e6) + 1);
	}
	skel->bss->enabled = false;
	stop = ck_now();	/* what was checked; naming the sites takes a while */

	/* Devices created while we ran: list them again for names. */
	build_dev_lists(&blk_list, &dm_list);

	vfd = bpf_map__fd(skel->maps.violations);
	sfd = bpf_map__fd(skel->maps.cstacks);
	efd = bpf_map__fd(skel->maps.cerrs);
	while (!bpf_map_get_next_key(vfd, pkey, &next)) {
		key = next;
		pkey = &key;
		if (nsites == cap) {
			struct site *ns;

			cap = cap ? cap * 2 : 16;
			ns = realloc(sites, cap * sizeof(*ns));
			if (!ns)
				ck_fail("out of memory");
			sites = ns;
		}
		sites[nsites].k = key;
		if (bpf_map_lookup_elem(vfd, &key, &sites[nsites].v))
			continue;
		nsites++;
	}
	if (nsites)
		qsort(sites, nsites, sizeof(*sites), cmp_site);

	ncpu = libbpf_num_possible_cpus();
	pcpu = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*pcpu));
	for (e = 0; pcpu && ncpu > 0 && e < BIOSTAT_CERR_NR; e++) {
		if (bpf_map_lookup_elem(efd, &e, pcpu))
			continue;
		for (int c = 0; c < ncpu; c++)
			errs[e] += pcpu[c];
	}
	free(pcpu);

	json_init(&j);
	for (i = 0; i < nsites; i++) {
		const struct site *s = &sites[i];
		bool ok1 = !get_stack(sfd, s->k.stack_first, ips1);
		bool ok2 = !get_stack(sfd, s->k.stack_second, ips2);
		char name[160], dev[160];

		set_name(s, ips2, ok2, name, sizeof(name));
		if (!dev_matches(s, name))
			continue;
		if (!i || s->k.bs != sites[i - 1].k.bs)
			nsets++;
		shown++;
		dev_name(s->v.dev, dev, sizeof(dev));
		if (cenv.json) {
			char hex[32];

			json_reset(&j);
			json_obj_begin(&j);
			json_kv_str(&j, "type", "violation");
			snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)s->k.bs);
			json_kv_str(&j, "bio_set", hex);
			json_kv_str(&j, "set", name);
			json_kv_str(&j, "dev", dev);
			json_kv_str(&j, "comm", s->v.comm);
			json_kv_u64(&j, "pid", s->v.pid);
			json_kv_u64(&j, "tid", s->v.tid);
			snprintf(hex, sizeof(hex), "0x%x", s->v.gfp_first);
			json_kv_str(&j, "gfp_first", hex);
			json_kv_str(&j, "gfp_first_name", gfp_name(s->v.gfp_first));
			snprintf(hex, sizeof(hex), "0x%x", s->v.gfp_second);
			json_kv_str(&j, "gfp_second", hex);
			json_kv_str(&j, "gfp_second_name", gfp_name(s->v.gfp_second));
			json_kv_u64(&j, "held", s->v.held);
			json_kv_u64(&j, "held_max", s->v.held_max);
			json_kv_u64(&j, "count", s->v.count);
			json_kv_bool(&j, "in_submit_bio", s->v.flags & BIOSTAT_CHECK_IN_SUBMIT);
			json_kv_bool(&j, "rescuer", s->v.flags & BIOSTAT_CHECK_RESCUER);
			json_stack(&j, "stack_first", ips1, ok1);
			json_stack(&j, "stack_second", ips2, ok2);
			json_obj_end(&j);
			json_println(&j, stdout);
			continue;
		}
		printf("VIOLATION bio_set %s (0x%llx) dev %s\n", name,
		       (unsigned long long)s->k.bs, dev);
		printf("  task %s pid %u tid %u: allocated with %u bio(s) from this set "
		       "still held (at most %u), %llu time(s) at this site\n",
		       s->v.comm, s->v.pid, s->v.tid, s->v.held, s->v.held_max,
		       (unsigned long long)s->v.count);
		printf("  gfp of the held bio: %s (0x%x); of the new one: %s (0x%x)%s%s\n",
		       gfp_name(s->v.gfp_first), s->v.gfp_first,
		       gfp_name(s->v.gfp_second), s->v.gfp_second,
		       s->v.flags & BIOSTAT_CHECK_IN_SUBMIT ? "; inside ->submit_bio" : "",
		       s->v.flags & BIOSTAT_CHECK_RESCUER ? "; set has a rescuer" :
		       "; set has no rescuer");
		print_stack_text("held bio allocated at", ips1, ok1);
		print_stack_text("new bio allocated at", ips2, ok2);
		printf("\n");
	}
	if (cenv.json) {
		json_reset(&j);
		json_obj_begin(&j);
		json_kv_str(&j, "type", "check_summary");
		json_kv_double(&j, "seconds", stop - start, 3);
		json_kv_u64(&j, "violations", shown);
		json_kv_u64(&j, "sets", nsets);
		json_key(&j, "drops");
		json_obj_begin(&j);
		for (e = 0; e < BIOSTAT_CERR_ALLOCS; e++)
			json_kv_u64(&j, cerr_names[e], errs[e]);
		json_obj_end(&j);
		json_kv_u64(&j, "allocations", errs[BIOSTAT_CERR_ALLOCS]);
		json_kv_u64(&j, "nosleep_while_held", errs[BIOSTAT_CERR_NOSLEEP_HELD]);
		json_obj_end(&j);
		json_println(&j, stdout);
	} else {
		printf("%zu violation site(s) in %zu bio_set(s); %llu allocations checked "
		       "in %.1f s (%llu made while holding, unable to sleep: not "
		       "violations)\n", shown, nsets,
		       (unsigned long long)errs[BIOSTAT_CERR_ALLOCS], stop - start,
		       (unsigned long long)errs[BIOSTAT_CERR_NOSLEEP_HELD]);
		for (e = 0; e < BIOSTAT_CERR_ALLOCS; e++)
			if (errs[e])
				printf("warning: %s: %llu (some bios or sites were not "
				       "tracked)\n", cerr_names[e],
				       (unsigned long long)errs[e]);
	}
	fflush(stdout);
	json_free(&j);
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	biostat_check_bpf__destroy(skel);
	free(sites);
	ksyms_free(ks);
	free(blk_list);
	free(dm_list);
	return shown ? CK_VIOLATION : CK_OK;
}
