// SPDX-License-Identifier: GPL-2.0
/* hist.c - see hist.h */
#include "hist.h"
#include "json.h"

#include <inttypes.h>
#include <string.h>

unsigned int log2_slot(uint64_t v)
{
	unsigned int r = 0;

	while (v > 1) {
		v >>= 1;
		r++;
	}
	return r;
}

void log2_slot_bounds(unsigned int s, uint64_t *lo, uint64_t *hi)
{
	if (s == 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	if (s >= 63) {
		*lo = UINT64_C(1) << 63;
		*hi = UINT64_MAX;
		return;
	}
	*lo = UINT64_C(1) << s;
	*hi = (UINT64_C(1) << (s + 1)) - 1;
}

uint64_t counter_delta(uint64_t now, uint64_t prev)
{
	return now >= prev ? now - prev : now;
}

double rate_per_sec(uint64_t delta, double seconds)
{
	if (!(seconds > 0))
		return 0.0;
	return (double)delta / seconds;
}

double avg_us(uint64_t total_ns, uint64_t n)
{
	if (!n)
		return 0.0;
	return (double)total_ns / (double)n / 1000.0;
}

uint64_t hist_total(const uint64_t *slots, unsigned int nslots)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < nslots; i++)
		t += slots[i];
	return t;
}

void hist_delta(uint64_t *dst, const uint64_t *now, const uint64_t *prev,
		unsigned int nslots)
{
	unsigned int i;

	for (i = 0; i < nslots; i++)
		dst[i] = counter_delta(now[i], prev[i]);
}

#define STARS_MAX 40

static void stars(FILE *f, uint64_t val, uint64_t max, int width)
{
	int n, i;

	if (!max)
		n = 0;
	else if (val >= max)
		n = width;
	else	/* val * width can overflow for huge counts: use long double */
		n = (int)((long double)val * width / (long double)max);
	for (i = 0; i < n; i++)
		fputc('*', f);
	for (; i < width; i++)
		fputc(' ', f);
}

void hist_print(FILE *f, const uint64_t *slots, unsigned int nslots,
		const char *unit, int indent)
{
	unsigned int i, first = nslots, last = 0;
	uint64_t max = 0, lo, hi;

	for (i = 0; i < nslots; i++) {
		if (!slots[i])
			continue;
		if (first == nslots)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (first == nslots)
		return;
	fprintf(f, "%*s%*s%-*s : count    distribution\n", indent, "", 10, "",
		13, unit);
	for (i = first; i <= last; i++) {
		log2_slot_bounds(i, &lo, &hi);
		fprintf(f, "%*s%10" PRIu64 " -> %-10" PRIu64 " : %-8" PRIu64 " |",
			indent, "", lo, hi, slots[i]);
		stars(f, slots[i], max, STARS_MAX);
		fputs("|\n", f);
	}
}

void hist_json(struct json *j, const uint64_t *slots, unsigned int nslots)
{
	unsigned int i;
	uint64_t lo, hi;

	json_arr_begin(j);
	for (i = 0; i < nslots; i++) {
		if (!slots[i])
			continue;
		log2_slot_bounds(i, &lo, &hi);
		json_obj_begin(j);
		json_kv_u64(j, "lo", lo);
		json_kv_u64(j, "hi", hi);
		json_kv_u64(j, "count", slots[i]);
		json_obj_end(j);
	}
	json_arr_end(j);
}
