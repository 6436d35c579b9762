/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prom.h - --prom FILE: a report record of the counts since start (a
 * summary, report.h) in the Prometheus text format, for node_exporter's
 * textfile collector.  Checked with Debian's promtool and served by its
 * node_exporter in the host tests.
 */
#ifndef BIOSTAT_PROM_H
#define BIOSTAT_PROM_H

#include <stdio.h>

#include "report.h"

/*
 * The exposition text: biostat_up (up: 1 while biostat runs, 0 in the
 * file it leaves), biostat_info and its start time; counters "_total"
 * per set with the labels set, name, device (the disk's kernel name, else
 * MAJ:MIN, "many" or "-") and dm_name, never a kernel address; the
 * reserve size as a gauge, waits as a histogram in seconds with every
 * log2 slot as a bucket, what the BPF side could not count; HELP and TYPE
 * lines, no timestamps.  In the submission mode (r->submissions) only
 * what is measured.
 */
void prom_render(FILE *f, const struct report *r, bool up);

/*
 * Write it to path atomically: a temporary file beside it (not ending in
 * .prom, so the collector never reads half a file), then rename().
 * Returns 0, or -1 with errno set.
 */
int prom_write(const char *path, const struct report *r, bool up);

#endif
