// SPDX-License-Identifier: GPL-2.0
/*
 * test_options.c - unit tests of common.c's reading of option words
 * against an argp option table (option_word(), option_takes_arg()) and of
 * die_option()'s message for the word getopt refused, on a table with
 * every kind of entry argp has: short and long, long only, with and
 * without an argument, aliases, an optional argument, a documentation
 * entry and a group header.
 */
#include "unit.h"

#include <argp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

enum { OPT_PROM = 0x100, OPT_CALIBRATE, OPT_PIDFILE };

static const struct argp_option opts[] = {
	{ NULL, 0, NULL, 0, "Filters:", 1 },
	{ "device", 'd', "DEV", 0, "a device", 1 },
	{ "pid", 'p', "PID", 0, "a process", 1 },
	{ "pidfile", OPT_PIDFILE, "FILE", 0, "its file", 1 },
	{ "json", 'j', NULL, 0, "JSON", 2 },
	{ "verbose", 'v', NULL, 0, "more", 2 },
	{ "version", 'V', NULL, 0, "the version", 2 },
	{ "prom", OPT_PROM, "FILE", 0, "long only, an argument", 2 },
	{ "calibrate", OPT_CALIBRATE, NULL, 0, "long only, none", 2 },
	/* an alias takes the argument of the option before it */
	{ "color", 'C', "WHEN", 0, "colours", 2 },
	{ "colour", 'K', NULL, OPTION_ALIAS, NULL, 2 },
	{ "level", 'l', "N", OPTION_ARG_OPTIONAL, "an optional argument", 2 },
	{ "FORMAT", 'F', NULL, OPTION_DOC, "documentation, not an option", 3 },
	{ 0 },
};

static void test_option_word_operands(void)
{
	CHECK(option_word(opts, "5") == OPTION_OPERAND);
	CHECK(option_word(opts, "check") == OPTION_OPERAND);
	CHECK(option_word(opts, "") == OPTION_OPERAND);
	CHECK(option_word(opts, "-") == OPTION_OPERAND);
	CHECK(option_word(opts, "--") == OPTION_END);
	CHECK(!option_takes_arg(opts, "check"));
	CHECK(!option_takes_arg(opts, "-"));
	CHECK(!option_takes_arg(opts, "--"));
}

static void test_option_word_short(void)
{
	/* without an argument, alone and bundled */
	CHECK(option_word(opts, "-j") == OPTION_DONE);
	CHECK(option_word(opts, "-jv") == OPTION_DONE);
	CHECK(!option_takes_arg(opts, "-j"));
	/* with one: the next word, unless it follows in the same word */
	CHECK(option_word(opts, "-d") == OPTION_NEEDS_NEXT);
	CHECK(option_takes_arg(opts, "-d"));
	CHECK(option_takes_arg(opts, "-p"));
	CHECK(option_word(opts, "-dbp0") == OPTION_DONE);
	CHECK(option_word(opts, "-jd") == OPTION_NEEDS_NEXT);
	CHECK(option_takes_arg(opts, "-jvd"));
	CHECK(option_word(opts, "-jdbp0") == OPTION_DONE);
	/* the first letter with an argument takes the rest: -d "j", -p "N" */
	CHECK(option_word(opts, "-dj") == OPTION_DONE);
	CHECK(option_word(opts, "-jpN") == OPTION_DONE);
	CHECK(!option_takes_arg(opts, "-dp"));
	/* unknown letters, first, last or within */
	CHECK(option_word(opts, "-z") == OPTION_BAD);
	CHECK(option_word(opts, "-zj") == OPTION_BAD);
	CHECK(option_word(opts, "-jz") == OPTION_BAD);
	CHECK(option_word(opts, "-jzd") == OPTION_BAD);
	CHECK(!option_takes_arg(opts, "-zd"));
	/* an alias's own letter, with the real option's argument */
	CHECK(option_takes_arg(opts, "-C"));
	CHECK(option_takes_arg(opts, "-K"));
	/* an optional argument is never the next word */
	CHECK(option_word(opts, "-l") == OPTION_DONE);
	CHECK(option_word(opts, "-l3") == OPTION_DONE);
	CHECK(option_word(opts, "-jl") == OPTION_DONE);
	/* a documentation entry is no option; a long-only key no letter */
	CHECK(option_word(opts, "-F") == OPTION_BAD);
	CHECK(option_word(opts, "-\x01") == OPTION_BAD);
	CHECK(option_word(opts, "-\xff") == OPTION_BAD);
}

static void test_option_word_long(void)
{
	CHECK(option_word(opts, "--json") == OPTION_DONE);
	CHECK(option_word(opts, "--calibrate") == OPTION_DONE);
	CHECK(option_word(opts, "--device") == OPTION_NEEDS_NEXT);
	CHECK(option_takes_arg(opts, "--device"));
	CHECK(option_takes_arg(opts, "--prom"));
	/* --long=VALUE carries its value; an empty one too */
	CHECK(option_word(opts, "--device=bp0") == OPTION_DONE);
	CHECK(option_word(opts, "--device=") == OPTION_DONE);
	CHECK(!option_takes_arg(opts, "--device=bp0"));
	CHECK(option_word(opts, "--prom=f.prom") == OPTION_DONE);
	/* a value for an option without an argument is refused */
	CHECK(option_word(opts, "--json=1") == OPTION_BAD);
	CHECK(option_word(opts, "--calibrate=") == OPTION_BAD);
	/* unknown */
	CHECK(option_word(opts, "--nosuch") == OPTION_BAD);
	CHECK(option_word(opts, "--nosuch=1") == OPTION_BAD);
	CHECK(option_word(opts, "--devicex") == OPTION_BAD);
	CHECK(option_word(opts, "--=x") == OPTION_BAD);
	CHECK(!option_takes_arg(opts, "--nosuch"));
	/* a unique abbreviation is the option */
	CHECK(option_word(opts, "--dev") == OPTION_NEEDS_NEXT);
	CHECK(option_word(opts, "--d") == OPTION_NEEDS_NEXT);
	CHECK(option_word(opts, "--dev=bp0") == OPTION_DONE);
	CHECK(option_word(opts, "--js") == OPTION_DONE);
	CHECK(option_word(opts, "--js=1") == OPTION_BAD);
	/* an ambiguous one is not: --ver (verbose, version), --p */
	CHECK(option_word(opts, "--ver") == OPTION_BAD);
	CHECK(option_word(opts, "--p") == OPTION_BAD);
	CHECK(!option_takes_arg(opts, "--p"));
	/* an exact name wins over the longer names it abbreviates */
	CHECK(option_word(opts, "--pid") == OPTION_NEEDS_NEXT);
	CHECK(option_word(opts, "--pidf") == OPTION_NEEDS_NEXT);
	/* an alias: its real option's argument; abbreviating both is one */
	CHECK(option_word(opts, "--colour") == OPTION_NEEDS_NEXT);
	CHECK(option_word(opts, "--colo") == OPTION_NEEDS_NEXT);
	CHECK(option_word(opts, "--colour=auto") == OPTION_DONE);
	/* optional argument */
	CHECK(option_word(opts, "--level") == OPTION_DONE);
	CHECK(option_word(opts, "--level=2") == OPTION_DONE);
	/* a documentation entry is no option */
	CHECK(option_word(opts, "--FORMAT") == OPTION_BAD);
}

/*
 * die_option() for argp's ARGP_KEY_ERROR on argv (NULL terminated), next
 * as getopt left it: its exit status and its one line on stderr.
 */
static int die_option_says(const char *const *argv, int next, char *buf,
			   size_t n)
{
	static const struct argp argp = { .options = opts };
	int p[2], status;
	ssize_t got, len = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct argp_state st = { .root_argp = &argp, .next = next,
					 .argv = (char **)argv };

		while (argv[st.argc])
			st.argc++;
		dup2(p[1], STDERR_FILENO);
		msg_setup("biostat", false);
		die_option(&st);
	}
	close(p[1]);
	while (len < (ssize_t)n - 1 &&
	       (got = read(p[0], buf + len, n - 1 - (size_t)len)) > 0)
		len += got;
	buf[len] = '\0';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

#define CHECK_DIES(next, want, ...) do {				\
		const char *const argv_[] = { "biostat", __VA_ARGS__, NULL }; \
		char b_[256];						\
									\
		CHECK(die_option_says(argv_, next, b_, sizeof(b_)) == EXIT_USAGE); \
		CHECK_STR(b_, "biostat: " want " (see biostat --help)\n"); \
	} while (0)

static void test_die_option(void)
{
	/* the word as it was typed */
	CHECK_DIES(2, "unknown option '-z'", "-z");
	CHECK_DIES(2, "unknown option '--nosuch'", "--nosuch");
	CHECK_DIES(2, "unknown option '--json=1'", "--json=1");
	CHECK_DIES(2, "unknown option '--ver'", "--ver");
	CHECK_DIES(2, "option '-d' needs an argument", "-d");
	CHECK_DIES(2, "option '--device' needs an argument", "--device");
	CHECK_DIES(2, "option '--dev' needs an argument", "--dev");
	CHECK_DIES(3, "option '-jd' needs an argument", "-j", "-jd");
	/* getopt stops inside a bundle before its optind passes it */
	CHECK_DIES(1, "unknown option '-zj'", "-zj");
	CHECK_DIES(2, "unknown option '-jzd'", "-v", "-jzd");
	/* an option's argument is no option; operands are skipped */
	CHECK_DIES(5, "unknown option '-z'", "-d", "-x", "5", "-pz", "-z");
	CHECK_DIES(4, "unknown option '-y'", "-d", "--", "-y", "-z");
	CHECK_DIES(3, "option '--prom' needs an argument", "5", "--device=bp0", "--prom");
	/* after --, nothing is an option: the word getopt stopped after */
	CHECK_DIES(2, "unknown option '--'", "--", "-z");
}

const struct unit_test options_tests[] = {
	UNIT_TEST(test_option_word_operands),
	UNIT_TEST(test_option_word_short),
	UNIT_TEST(test_option_word_long),
	UNIT_TEST(test_die_option),
	{ NULL, NULL },
};
