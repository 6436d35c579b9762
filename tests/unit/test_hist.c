// SPDX-License-Identifier: GPL-2.0
/* Rate and histogram arithmetic, and the shared log2 histogram printer. */
#include "unit.h"
#include "hist.h"
#include "json.h"

#include <stdlib.h>

static char *capture_hist(const uint64_t *slots, unsigned int n, int indent)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	hist_print(f, slots, n, "usecs", indent);
	fclose(f);
	return buf;
}

static void test_log2_slot(void)
{
	CHECK_U64(log2_slot(0), 0);
	CHECK_U64(log2_slot(1), 0);
	CHECK_U64(log2_slot(2), 1);
	CHECK_U64(log2_slot(3), 1);
	CHECK_U64(log2_slot(4), 2);
	CHECK_U64(log2_slot(1023), 9);
	CHECK_U64(log2_slot(1024), 10);
	CHECK_U64(log2_slot(UINT64_MAX), 63);
}

static void test_slot_bounds(void)
{
	uint64_t lo, hi, v;

	log2_slot_bounds(0, &lo, &hi);
	CHECK_U64(lo, 0);
	CHECK_U64(hi, 1);
	log2_slot_bounds(1, &lo, &hi);
	CHECK_U64(lo, 2);
	CHECK_U64(hi, 3);
	log2_slot_bounds(10, &lo, &hi);
	CHECK_U64(lo, 1024);
	CHECK_U64(hi, 2047);
	log2_slot_bounds(63, &lo, &hi);
	CHECK_U64(lo, UINT64_C(1) << 63);
	CHECK_U64(hi, UINT64_MAX);
	/* every value lies within the bounds of its own slot */
	for (v = 0; v < 5000; v += 7) {
		log2_slot_bounds(log2_slot(v), &lo, &hi);
		CHECK(lo <= v && v <= hi);
	}
	for (unsigned int s = 1; s < 63; s++) {
		log2_slot_bounds(s, &lo, &hi);
		CHECK_U64(log2_slot(lo), s);
		CHECK_U64(log2_slot(hi), s);
		CHECK_U64(log2_slot(hi + 1), s + 1);
	}
}

static void test_counter_delta(void)
{
	CHECK_U64(counter_delta(10, 3), 7);
	CHECK_U64(counter_delta(5, 5), 0);
	CHECK_U64(counter_delta(UINT64_MAX, 0), UINT64_MAX);
	/* a counter that restarted (map entry recreated): count from zero */
	CHECK_U64(counter_delta(4, 100), 4);
}

static void test_rates(void)
{
	CHECK_DBL(rate_per_sec(100, 2.0), 50.0);
	CHECK_DBL(rate_per_sec(1, 0.5), 2.0);
	CHECK_DBL(rate_per_sec(0, 1.0), 0.0);
	CHECK_DBL(rate_per_sec(100, 0.0), 0.0);
	CHECK_DBL(rate_per_sec(100, -1.0), 0.0);
	CHECK_DBL(rate_per_sec(100, NAN), 0.0);
	CHECK_DBL(rate_per_sec(UINT64_MAX, 1.0), (double)UINT64_MAX);
	CHECK_DBL(avg_us(3000, 3), 1.0);
	CHECK_DBL(avg_us(1500, 1), 1.5);
	CHECK_DBL(avg_us(12345, 0), 0.0);
}

static void test_hist_total_delta(void)
{
	uint64_t now[4] = { 5, 7, 0, 9 }, prev[4] = { 2, 7, 0, 10 }, d[4];

	CHECK_U64(hist_total(now, 4), 21);
	CHECK_U64(hist_total(now, 0), 0);
	hist_delta(d, now, prev, 4);
	CHECK_U64(d[0], 3);
	CHECK_U64(d[1], 0);
	CHECK_U64(d[2], 0);
	CHECK_U64(d[3], 9);	/* went backwards: restarted */
}

static void test_hist_print(void)
{
	uint64_t empty[8] = { 0 };
	uint64_t one[8] = { 0, 0, 0, 4, 0, 0, 0, 0 };
	uint64_t two[8] = { 0, 2, 0, 4, 0, 0, 0, 0 };
	uint64_t huge[4] = { UINT64_MAX, UINT64_MAX / 2, 1, 0 };
	char *out;

	out = capture_hist(empty, 8, 0);
	CHECK_STR(out, "");
	free(out);

	out = capture_hist(one, 8, 0);
	CHECK_STR(out,
		  "          usecs         : count    distribution\n"
		  "         8 -> 15         : 4        |****************************************|\n");
	free(out);

	/* from the first to the last non-empty slot, empty ones in between */
	out = capture_hist(two, 8, 2);
	CHECK_STR(out,
		  "            usecs         : count    distribution\n"
		  "           2 -> 3          : 2        |********************                    |\n"
		  "           4 -> 7          : 0        |                                        |\n"
		  "           8 -> 15         : 4        |****************************************|\n");
	free(out);

	/* no overflow in the star arithmetic (UBSan would stop here) */
	out = capture_hist(huge, 4, 0);
	CHECK(out && strstr(out, "18446744073709551615"));
	CHECK(out && strstr(out, "|********************                    |"));
	free(out);
}

static void test_hist_json(void)
{
	uint64_t h[6] = { 1, 0, 3, 0, 0, 2 };
	uint64_t empty[3] = { 0 };
	struct json j;

	json_init(&j);
	hist_json(&j, h, 6);
	CHECK_STR(json_text(&j),
		  "[{\"lo\":0,\"hi\":1,\"count\":1},{\"lo\":4,\"hi\":7,\"count\":3},"
		  "{\"lo\":32,\"hi\":63,\"count\":2}]");
	json_reset(&j);
	hist_json(&j, empty, 3);
	CHECK_STR(json_text(&j), "[]");
	json_free(&j);
}

const struct unit_test hist_tests[] = {
	UNIT_TEST(test_log2_slot),
	UNIT_TEST(test_slot_bounds),
	UNIT_TEST(test_counter_delta),
	UNIT_TEST(test_rates),
	UNIT_TEST(test_hist_total_delta),
	UNIT_TEST(test_hist_print),
	UNIT_TEST(test_hist_json),
	{ NULL, NULL },
};
