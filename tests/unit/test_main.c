// SPDX-License-Identifier: GPL-2.0
/* Runs every unit test; the last line is "unit: N passed, N failed". */
#include "unit.h"

#include <stdlib.h>

int unit_check_failures;

static const struct unit_test *const suites[] = {
	hist_tests, json_tests, names_tests, common_tests, options_tests,
};

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	size_t s;

	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		const struct unit_test *t;

		for (t = suites[s]; t->name; t++) {
			int before = unit_check_failures;

			/* optional filter: run only tests whose name contains argv[1] */
			if (argc > 1 && !strstr(t->name, argv[1]))
				continue;
			t->fn();
			if (unit_check_failures == before) {
				passed++;
				printf("ok   %s\n", t->name);
			} else {
				failed++;
				printf("FAIL %s\n", t->name);
			}
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
