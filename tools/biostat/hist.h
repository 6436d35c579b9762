/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - rate and histogram arithmetic, and the one log2 histogram
 * printer every view uses.  No kernel, no BPF: unit tested on the host.
 */
#ifndef BIOSTAT_HIST_H
#define BIOSTAT_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json;

/* Slot of value v in a log2 histogram: 0 for 0 and 1, else floor(log2 v). */
unsigned int log2_slot(uint64_t v);

/* Bounds of slot s: [lo, hi] inclusive; slot 0 is [0, 1]. */
void log2_slot_bounds(unsigned int s, uint64_t *lo, uint64_t *hi);

/* Difference of a running total; a total that went backwards restarts. */
uint64_t counter_delta(uint64_t now, uint64_t prev);

/* delta / seconds; 0 when seconds <= 0. */
double rate_per_sec(uint64_t delta, double seconds);

/* Average in usecs of total_ns over n events; 0 when n == 0. */
double avg_us(uint64_t total_ns, uint64_t n);

/* Sum of all slots. */
uint64_t hist_total(const uint64_t *slots, unsigned int nslots);

/* dst[i] = counter_delta(now[i], prev[i]) */
void hist_delta(uint64_t *dst, const uint64_t *now, const uint64_t *prev,
		unsigned int nslots);

/*
 * Print a log2 histogram, bcc style:
 *      usecs          : count    distribution
 *          0 -> 1     : 3        |****                                    |
 * Only slots from the first to the last non-empty one.  Nothing is printed
 * for an empty histogram.  `indent` spaces precede each line.
 */
void hist_print(FILE *f, const uint64_t *slots, unsigned int nslots,
		const char *unit, int indent);

/*
 * Append the histogram as a JSON array value:
 * [{"lo":0,"hi":1,"count":3},...] (non-empty slots only).
 */
void hist_json(struct json *j, const uint64_t *slots, unsigned int nslots);

#endif
