// SPDX-License-Identifier: GPL-2.0
/*
 * test_common.c - unit tests of common.c's pure parts: the privilege
 * policy (which capabilities are missing, and what for) and the time
 * formats of the table (-T), the events and the JSON records.
 */
#include "unit.h"

#include <stdlib.h>
#include <time.h>

#include "common.h"

#define SYS_ADMIN (1ULL << 21)
#define SYSLOG (1ULL << 34)
#define PERFMON (1ULL << 38)
#define BPF (1ULL << 39)

static void test_missing_privileges(void)
{
	char b[128];

	/* root (a full set), or a set that cannot be read: nothing missing */
	CHECK(!missing_privileges(~0ULL, true, true, b, sizeof(b)));
	CHECK(!missing_privileges(~0ULL, true, false, b, sizeof(b)));
	CHECK(!missing_privileges(0, false, false, b, sizeof(b)));
	/* CAP_SYS_ADMIN stands for CAP_BPF and CAP_PERFMON */
	CHECK(!missing_privileges(SYS_ADMIN, true, true, b, sizeof(b)));
	CHECK(!missing_privileges(BPF | PERFMON, true, true, b, sizeof(b)));
	/* an unprivileged user where kallsyms hides addresses */
	CHECK_STR(missing_privileges(0, true, false, b, sizeof(b)),
		  "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to trace, "
		  "CAP_SYSLOG to read kernel addresses");
	/* where kallsyms shows them (perf_event_paranoid <= 1) */
	CHECK_STR(missing_privileges(0, true, true, b, sizeof(b)),
		  "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to trace");
	/* exactly the one that is missing */
	CHECK_STR(missing_privileges(BPF | SYSLOG, true, false, b, sizeof(b)),
		  "CAP_PERFMON (or CAP_SYS_ADMIN) to trace");
	CHECK_STR(missing_privileges(PERFMON, true, true, b, sizeof(b)),
		  "CAP_BPF (or CAP_SYS_ADMIN) to trace");
	CHECK_STR(missing_privileges(BPF | PERFMON, true, false, b, sizeof(b)),
		  "CAP_SYSLOG to read kernel addresses");
	/* cut, not overrun */
	CHECK_STR(missing_privileges(0, true, false, b, 8), "CAP_BPF");
}

static void test_fmt_time(void)
{
	/* 2026-12-04 15:46:06.176 UTC */
	const double t = 1796399166.176;
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	char b[48];

	setenv("TZ", "UTC", 1);
	tzset();
	fmt_time(t, b, sizeof(b), TIME_HMS_MS);
	CHECK_STR(b, "15:46:06.176");
	fmt_time(t, b, sizeof(b), TIME_DATE);
	CHECK_STR(b, "2026-12-04 15:46:06 UTC");
	fmt_time(t, b, sizeof(b), TIME_ISO);
	CHECK_STR(b, "2026-12-04T15:46:06.176+00:00");
	/* a zone east and one west of UTC, with its offset */
	setenv("TZ", "CET-1", 1);
	tzset();
	fmt_time(t, b, sizeof(b), TIME_ISO);
	CHECK_STR(b, "2026-12-04T16:46:06.176+01:00");
	setenv("TZ", "NST+3:30", 1);
	tzset();
	fmt_time(t, b, sizeof(b), TIME_ISO);
	CHECK_STR(b, "2026-12-04T12:16:06.176-03:30");
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

const struct unit_test common_tests[] = {
	UNIT_TEST(test_missing_privileges),
	UNIT_TEST(test_fmt_time),
	{ NULL, NULL },
};
