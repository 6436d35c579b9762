// SPDX-License-Identifier: GPL-2.0
/*
 * common.c - messages, the reading of option words against argp's option
 * tables, the privilege policy, clocks and signals for every mode of
 * biostat (see common.h).
 */
#include "common.h"

#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
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

void die_refused(const char *fmt, ...)
{
	MSG("", "\n");
	exit(EXIT_USAGE);
}

/* argp's end of an option table (its __option_is_end()) */
static bool opt_is_end(const struct argp_option *o)
{
	return !o->key && !o->name && !o->doc && !o->group;
}

/* The option with short letter c, resolved to its real entry, or NULL. */
static const struct argp_option *find_short(const struct argp_option *opts,
					    int c)
{
	const struct argp_option *real = opts;

	for (const struct argp_option *o = opts; !opt_is_end(o); o++) {
		/* as argp_parse(): an alias has its real option's arg and flags */
		if (!(o->flags & OPTION_ALIAS))
			real = o;
		if (real->flags & OPTION_DOC)
			continue;
		if (o->key == c && o->key > 0 && o->key <= UCHAR_MAX &&
		    isprint(o->key))
			return real;
	}
	return NULL;
}

/*
 * The option whose long name is name's first len characters, or that
 * they abbreviate (one option: getopt_long() takes an abbreviation of
 * several names that are the same option, aliases), resolved to its real
 * entry; NULL if none or ambiguous.
 */
static const struct argp_option *find_long(const struct argp_option *opts,
					   const char *name, size_t len)
{
	const struct argp_option *real = opts, *found = NULL;
	bool ambiguous = false;

	for (const struct argp_option *o = opts; !opt_is_end(o); o++) {
		if (!(o->flags & OPTION_ALIAS))
			real = o;
		if ((real->flags & OPTION_DOC) || !o->name ||
		    strncmp(o->name, name, len))
			continue;
		if (!o->name[len])
			return real;
		if (!found)
			found = real;
		else if (found->key != real->key ||
			 !found->arg != !real->arg ||
			 (found->flags & OPTION_ARG_OPTIONAL) !=
			 (real->flags & OPTION_ARG_OPTIONAL))
			ambiguous = true;
	}
	return ambiguous ? NULL : found;
}

/* real takes an argument that must be given (not OPTION_ARG_OPTIONAL) */
static bool arg_required(const struct argp_option *real)
{
	return real->arg && !(real->flags & OPTION_ARG_OPTIONAL);
}

enum option_word option_word(const struct argp_option *opts, const char *word)
{
	const struct argp_option *o;

	if (word[0] != '-' || !word[1])
		return OPTION_OPERAND;
	if (word[1] == '-') {
		const char *name = word + 2, *eq = strchr(name, '=');

		if (!*name)
			return OPTION_END;
		o = find_long(opts, name, eq ? (size_t)(eq - name) : strlen(name));
		if (!o || (eq && !o->arg))
			return OPTION_BAD;
		return !eq && arg_required(o) ? OPTION_NEEDS_NEXT : OPTION_DONE;
	}
	/* short options, bundled: the first that takes an argument ends it */
	for (const char *c = word + 1; *c; c++) {
		o = find_short(opts, (unsigned char)*c);
		if (!o)
			return OPTION_BAD;
		if (o->arg)
			return !c[1] && arg_required(o) ? OPTION_NEEDS_NEXT :
							  OPTION_DONE;
	}
	return OPTION_DONE;
}

bool option_takes_arg(const struct argp_option *opts, const char *word)
{
	return option_word(opts, word) == OPTION_NEEDS_NEXT;
}

void die_option(const struct argp_state *state)
{
	const struct argp_option *opts = state->root_argp->options;

	/*
	 * getopt stopped at the first word it refused; argv keeps the order
	 * of the options (getopt moves only operands), each with its argument
	 */
	for (int i = 1; opts && i < state->argc; i++) {
		const char *w = state->argv[i];

		switch (option_word(opts, w)) {
		case OPTION_END:
			i = state->argc;
			break;
		case OPTION_OPERAND:
		case OPTION_DONE:
			break;
		case OPTION_NEEDS_NEXT:
			if (++i < state->argc)
				break;
			die_usage("option '%s' needs an argument", w);
		case OPTION_BAD:
			die_usage("unknown option '%s'", w);
		}
	}
	/* not found again (cannot happen): the word getopt stopped after */
	die_usage("unknown option '%s'",
		  state->next > 0 && state->next <= state->argc ?
		  state->argv[state->next - 1] : "?");
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
	/* require_tracing() has seen the privileges: the kernel said no */
	if (err == EACCES)
		die("%s: the verifier refused a program (%s); run with -v for "
		    "its log", what, strerror(err));
	if (err == EPERM)
		die("%s: %s, with the privileges needed (kernel lockdown or a "
		    "security module?)", what, strerror(err));
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

/*
 * /proc/kallsyms shows this process real addresses: a text symbol's is
 * not zero, as the kernel prints them without CAP_SYSLOG under
 * kernel.kptr_restrict=1 or kernel.perf_event_paranoid >= 2 (and to
 * everyone under kptr_restrict=2).  The per-CPU symbols that come first
 * are at 0 even when addresses are shown.
 */
static bool kallsyms_addresses_shown(void)
{
	char line[512], type;
	unsigned long long addr;
	bool shown = true;	/* unreadable: the load says why later */
	FILE *f = fopen("/proc/kallsyms", "re");

	for (int i = 0; f && i < 100000 && fgets(line, sizeof(line), f); i++) {
		if (sscanf(line, "%llx %c", &addr, &type) != 2 ||
		    (type != 'T' && type != 't'))
			continue;
		shown = addr != 0;
		break;
	}
	if (f)
		fclose(f);
	return shown;
}

const char *missing_privileges(unsigned long long eff, bool eff_known,
			       bool addrs_shown, char *buf, size_t n)
{
	/* CAP_SYS_ADMIN 21, CAP_SYSLOG 34, CAP_PERFMON 38, CAP_BPF 39 */
	const unsigned long long sys_admin = 1ULL << 21, syslog = 1ULL << 34;
	const unsigned long long perfmon = 1ULL << 38, bpf = 1ULL << 39;
	/* an unknown set: let the kernel decide */
	const unsigned long long e = eff_known ? eff : ~0ULL;
	const bool no_bpf = !(e & sys_admin) && !(e & bpf);
	const bool no_perfmon = !(e & sys_admin) && !(e & perfmon);
	const bool no_syslog = !addrs_shown && !(e & syslog);

	snprintf(buf, n, "%s%s%s%s%s%s",
		 no_bpf ? "CAP_BPF" : "",
		 no_bpf && no_perfmon ? " and " : "",
		 no_perfmon ? "CAP_PERFMON" : "",
		 no_bpf || no_perfmon ? " (or CAP_SYS_ADMIN) to trace" : "",
		 (no_bpf || no_perfmon) && no_syslog ? ", " : "",
		 no_syslog ? "CAP_SYSLOG to read kernel addresses" : "");
	return buf[0] ? buf : NULL;
}

void require_tracing(void)
{
	unsigned long long eff = 0;
	bool known = cap_eff(&eff), shown = kallsyms_addresses_shown();
	char missing[128];

	if (missing_privileges(eff, known, shown, missing, sizeof(missing)))
		die("missing privileges: %s; run as root", missing);
	if (!shown)
		die("/proc/kallsyms shows no addresses, even with CAP_SYSLOG "
		    "(kernel.kptr_restrict=2?); biostat needs them");
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

void fmt_time(double wall, char *buf, size_t n, enum time_fmt f)
{
	time_t t = (time_t)wall;
	int ms = (int)((wall - (double)t) * 1000);
	struct tm tm;
	char date[32], zone[8];

	localtime_r(&t, &tm);
	switch (f) {
	case TIME_HMS_MS:
		strftime(date, sizeof(date), "%H:%M:%S", &tm);
		snprintf(buf, n, "%s.%03d", date, ms);
		break;
	case TIME_DATE:
		strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm);
		break;
	case TIME_ISO:
		/* 2026-12-04T15:46:06.176+01:00: %z gives +0100 */
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(zone, sizeof(zone), "%z", &tm);
		snprintf(buf, n, "%s.%03d%.3s:%.2s", date, ms, zone, zone + 3);
		break;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/*
 * First thing in main(): a signal during start-up (seconds under TCG)
 * ends the run as soon as tracing would begin, with its summary.  A
 * dropped ssh session (SIGHUP) and Ctrl-\\ end it like Ctrl-C, but a
 * SIGHUP ignored from the start (nohup) stays ignored.  SIGINT is armed
 * even if inherited ignored (a background job of a shell script), so
 * that such a job can be ended with it.
 */
void signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	if (sigaction(SIGHUP, NULL, &old) || old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
}

/* Output that did not reach stdout ends the run (a full disk, a closed pipe). */
void stdout_check(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		die("cannot write to standard output: %s", strerror(errno ? errno : EIO));
}

bool exit_requested(void)
{
	return exiting;
}
