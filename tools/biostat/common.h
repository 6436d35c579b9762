/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - plumbing every mode of biostat shares: exit codes, the one
 * way to print a message or give up, the reading of option words against
 * argp's option tables, libbpf's messages, the privilege policy, clocks
 * and the signals that end a run.
 */
#ifndef BIOSTAT_COMMON_H
#define BIOSTAT_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* cannot trace */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_VIOLATION = 3,	/* biostat check saw a violation */
};

/* Messages start with prog ("biostat", "biostat check"); -v shows more. */
void msg_setup(const char *prog, bool verbose);
bool msg_verbose(void);

/* "PROG: ..." and exit 1. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "PROG: ... (see PROG --help)" and exit 2. */
void die_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * One word of a command line as argp_parse()'s getopt_long() reads it
 * against an argp option table: what is known of the options is that
 * table (->key the short letter, ->name the long name, ->arg non-NULL for
 * an argument, OPTION_ALIAS, OPTION_DOC, OPTION_ARG_OPTIONAL), and no other
 * list of options is written in C (the completion and the man page are
 * checked against --help: tests/host).
 */
struct argp_option;
enum option_word {
	OPTION_OPERAND,		/* not an option: an operand, or "-" */
	OPTION_END,		/* "--": the words after it are operands */
	OPTION_DONE,		/* complete in itself: -j, -jv, -dDEV, -jdDEV,
				 * --device=DEV, --json, --js */
	OPTION_NEEDS_NEXT,	/* the next word is its argument: -d, -jd,
				 * --device, --dev (a unique abbreviation) */
	OPTION_BAD,		/* refused: unknown (-z, -jz, --nosuch), an
				 * ambiguous abbreviation (--ver), an argument
				 * to an option without one (--json=1) */
};
enum option_word option_word(const struct argp_option *opts, const char *word);
/* word is an option whose argument is the next word (OPTION_NEEDS_NEXT) */
bool option_takes_arg(const struct argp_option *opts, const char *word);
/*
 * argp's ARGP_KEY_ERROR: the option that was wrong, read again against the
 * table argp parsed with (state->root_argp, without children), as a usage
 * message: "option '-d' needs an argument" or "unknown option '-z'".
 */
struct argp_state;
void die_option(const struct argp_state *state) __attribute__((noreturn));
/* "PROG: ..." and exit 2: an option this kernel cannot serve. */
void die_refused(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* "PROG: warning: ..." */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: ..." */
void inform(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: ..." with -v only. */
void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf's own messages, shown with -v only (libbpf_set_print()). */
int libbpf_print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list args);

/* Give up on a BPF call that failed with err (negative or positive errno). */
void die_bpf(int err, const char *what) __attribute__((noreturn));

/*
 * One privilege policy for every mode: the capabilities to load and attach
 * tracing programs (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), CAP_SYSLOG
 * where /proc/kallsyms hides addresses without it, and a kernel with BTF;
 * dies with one line naming what is missing.
 */
void require_tracing(void);
/*
 * The policy itself: the capabilities missing from eff (CapEff; eff_known
 * false: unknown, none reported), each with what it is for, in buf, or
 * NULL (root
 * has them all unless its set was narrowed).  addrs_shown: the kallsyms
 * addresses are readable as things stand.
 */
const char *missing_privileges(unsigned long long eff, bool eff_known,
			       bool addrs_shown, char *buf, size_t n);

/* CLOCK_MONOTONIC in seconds. */
double mono_now(void);
/* Wall-clock time of a CLOCK_MONOTONIC time (seconds). */
double mono_to_wall(double mono);
/* Local time as "HH:MM:SS.mmm", "2026-12-04 15:46:06 UTC" (-T), or ISO 8601 (JSON). */
enum time_fmt { TIME_HMS_MS, TIME_DATE, TIME_ISO };
void fmt_time(double wall, char *buf, size_t n, enum time_fmt f);

/* SIGINT, SIGTERM, SIGHUP (unless ignored from the start) and SIGQUIT end
 * the run: exit_requested() tells; set up first thing in main(). */
void signals_setup(void);
bool exit_requested(void);
void stdout_check(void);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
