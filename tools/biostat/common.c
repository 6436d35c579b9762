// SPDX-License-Identifier: GPL-2.0
/*
 * common.c - messages, the privilege policy, clocks and signals for every
 * mode of biostat (see common.h).
 */
#include "common.h"

#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *msg_prog = "biostat";
static bool msg_v;
static volatile sig_atomic_t exiting;

void msg_setup(const char *prog, bool verbose)
{
	msg_prog = prog;
	msg_v = verbose;
}

bool msg_verbose(void)
{
	return msg_v;
}

static void vmsg(const char *kind, const char *fmt, va_list ap,
		 const char *tail)
{
	fprintf(stderr, "%s: %s", msg_prog, kind);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, tail, msg_prog);
}

/* One message: "PROG: " KIND, the caller's format, then TAIL. */
#define MSG(kind, tail)					\
	do {						\
		va_list ap;				\
		va_start(ap, fmt);			\
		vmsg(kind, fmt, ap, tail);		\
		va_end(ap);				\
	} while (0)

void die(const char *fmt, ...)
{
	MSG("", "\n");
	exit(EXIT_FAIL);
}

void die_usage(const char *fmt, ...)
{
	MSG("", " (see %s --help)\n");
	exit(EXIT_USAGE);
}

void die_option(const struct argp_state *state, const char *const *with_arg)
{
	const char *bad = state->next > 0 && state->next <= state->argc ?
			  state->argv[state->next - 1] : "?";

	for (; *with_arg; with_arg++)
		if (!strcmp(bad, *with_arg))
			die_usage("option '%s' needs an argument", bad);
	die_usage("unknown option '%s'", bad);
}

void warn(const char *fmt, ...)
{
	MSG("warning: ", "\n");
}

void inform(const char *fmt, ...)
{
	MSG("", "\n");
}

void verbose(const char *fmt, ...)
{
	if (msg_v)
		MSG("", "\n");
}

int libbpf_print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list args)
{
	/* Our own messages explain failures; libbpf's only with -v. */
	(void)level;
	if (!msg_v)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void die_bpf(int err, const char *what)
{
	err = err < 0 ? -err : err;
	if (err == EACCES && geteuid() == 0)
		die("%s: the kernel refused a program (%s); run with -v for "
		    "the verifier's log", what, strerror(err));
	if (err == EPERM || err == EACCES)
		die("%s: permission denied; run as root (needs CAP_BPF and "
		    "CAP_PERFMON, or CAP_SYS_ADMIN)", what);
	die("%s: %s (run with -v for details)", what, strerror(err));
}

/* The effective capability set, or false when it cannot be read. */
static bool cap_eff(unsigned long long *eff)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", eff) == 1;
	if (f)
		fclose(f);
	return found;
}

void require_tracing(void)
{
	/* CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39 */
	const unsigned long long sys_admin = 1ULL << 21;
	const unsigned long long bpf_perfmon = (1ULL << 38) | (1ULL << 39);
	unsigned long long eff = 0;

	/* when the set cannot be read, let the kernel decide */
	if (geteuid() != 0 && cap_eff(&eff) && !(eff & sys_admin) &&
	    (eff & bpf_perfmon) != bpf_perfmon)
		die("needs root privileges (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		die("the kernel has no BTF (/sys/kernel/btf/vmlinux); biostat needs "
		    "a kernel built with CONFIG_DEBUG_INFO_BTF=y");
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double mono_to_wall(double mono)
{
	static double offset;
	static bool known;

	if (!known) {
		struct timespec rt;

		clock_gettime(CLOCK_REALTIME, &rt);
		offset = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 - mono_now();
		known = true;
	}
	return mono + offset;
}

void fmt_time(double wall, char *buf, size_t n, bool ms)
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

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

void signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool exit_requested(void)
{
	return exiting;
}
