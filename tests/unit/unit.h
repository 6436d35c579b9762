/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit.h - a minimal test harness for biostat's host unit tests.
 * A test is a function; it passes when none of its CHECKs failed.
 */
#ifndef BIOSTAT_UNIT_H
#define BIOSTAT_UNIT_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

extern int unit_check_failures;

#define CHECK(cond) do {						\
		if (!(cond)) {						\
			unit_check_failures++;				\
			fprintf(stderr, "  FAIL %s:%d: %s\n",		\
				__FILE__, __LINE__, #cond);		\
		}							\
	} while (0)

#define CHECK_STR(got, want) do {					\
		const char *g_ = (got), *w_ = (want);			\
		if (!g_ || strcmp(g_, w_)) {				\
			unit_check_failures++;				\
			fprintf(stderr, "  FAIL %s:%d: %s\n    got  \"%s\"\n    want \"%s\"\n", \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_); \
		}							\
	} while (0)

#define CHECK_U64(got, want) do {					\
		uint64_t g_ = (got), w_ = (want);			\
		if (g_ != w_) {						\
			unit_check_failures++;				\
			fprintf(stderr, "  FAIL %s:%d: %s = %" PRIu64 ", want %" PRIu64 "\n", \
				__FILE__, __LINE__, #got, g_, w_);	\
		}							\
	} while (0)

#define CHECK_DBL(got, want) do {					\
		double g_ = (got), w_ = (want);				\
		if (!(fabs(g_ - w_) <= 1e-9 * (1 + fabs(w_)))) {	\
			unit_check_failures++;				\
			fprintf(stderr, "  FAIL %s:%d: %s = %.12g, want %.12g\n", \
				__FILE__, __LINE__, #got, g_, w_);	\
		}							\
	} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_TEST(f) { #f, f }

/* Each test file exports one table, terminated by { NULL, NULL }. */
extern const struct unit_test hist_tests[];
extern const struct unit_test json_tests[];
extern const struct unit_test common_tests[];
extern const struct unit_test names_tests[];
extern const struct unit_test options_tests[];

#endif
