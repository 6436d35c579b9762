// SPDX-License-Identifier: GPL-2.0
/*
 * report_text.c - the table writer: a report record (report.h) as the
 * iostat-like table, its histograms, stacks and the BPF side's losses.
 */
#include "report.h"

#include <stdio.h>

#include "common.h"
#include "hist.h"

static void header(const struct report *r)
{
	const char *allocs = r->summary ? (r->submissions ? "SUBMITTED" : "ALLOCS") :
				      (r->submissions ? "SUBM/s" : "ALLOC/s");

	if (r->summary)
		printf("%-24s %-7s %5s %7s %10s %9s %8s %9s %9s %7s %8s %8s %8s %8s\n",
		       "BIO_SET", "DEVICE", "POOL", "RESCUER", allocs, "RESERVE",
		       "WAITS", "AVG_us", "MAX_us", "FAILS", "PUNTS", "PUNTED",
		       "RESCUES", "RESCUED");
	else
		printf("%-24s %-7s %9s %8s %7s %9s %9s %7s %7s %8s %7s %8s\n",
		       "BIO_SET", "DEVICE", allocs, "RSRV/s", "WAIT/s", "AVG_us",
		       "MAX_us", "FAIL/s", "PUNT/s", "PUNTD/s", "RESC/s", "RESCD/s");
}

static void interval_row(const struct report *r, const struct report_row *row)
{
	const struct window *w = &row->w;
	double s = r->secs;

	if (r->submissions) {
		printf("%-24s %-7s %9.1f %8s %7s %9s %9s %7s %7s %8s %7s %8s\n",
		       row->id.name, row->id.dev, rate_per_sec(w->allocs, s),
		       "-", "-", "-", "-", "-", "-", "-", "-", "-");
		return;
	}
	printf("%-24s %-7s %9.1f %8.1f %7.1f %9.0f %9.0f %7.1f %7.1f %8.1f %7.1f %8.1f\n",
	       row->id.name, row->id.dev, rate_per_sec(w->allocs, s),
	       rate_per_sec(w->reserve, s), rate_per_sec(w->waits, s),
	       avg_us(w->wait_ns, w->waits), (double)w->wait_max_ns / 1000.0,
	       rate_per_sec(w->fails, s), rate_per_sec(w->punts, s),
	       rate_per_sec(w->punted, s), rate_per_sec(w->rescues, s),
	       rate_per_sec(w->rescued, s));
}

static void summary_row(const struct report *r, const struct report_row *row)
{
	const struct window *w = &row->w;
	const char *resc = row->id.known ? (row->id.rescuer ? "yes" : "no") : "-";
	char pool[16] = "-";

	if (row->id.pool >= 0)
		snprintf(pool, sizeof(pool), "%d", row->id.pool);
	if (r->submissions) {
		printf("%-24s %-7s %5s %7s %10llu %9s %8s %9s %9s %7s %8s %8s %8s %8s\n",
		       row->id.name, row->id.dev, pool, resc,
		       (unsigned long long)w->allocs, "-", "-", "-", "-", "-",
		       "-", "-", "-", "-");
		return;
	}
	printf("%-24s %-7s %5s %7s %10llu %9llu %8llu %9.0f %9.0f %7llu %8llu %8llu %8llu %8llu\n",
	       row->id.name, row->id.dev, pool, resc,
	       (unsigned long long)w->allocs, (unsigned long long)w->reserve,
	       (unsigned long long)w->waits, avg_us(w->wait_ns, w->waits),
	       (double)w->wait_max_ns / 1000.0, (unsigned long long)w->fails,
	       (unsigned long long)w->punts, (unsigned long long)w->punted,
	       (unsigned long long)w->rescues, (unsigned long long)w->rescued);
}

static void histograms(const struct report *r)
{
	const char *when = r->summary ? "the whole run" : "the interval";

	for (size_t i = 0; r->hist && i < r->nrows; i++) {
		const struct report_row *row = &r->rows[i];

		if (!hist_total(row->w.hist, BIOSTAT_HIST_SLOTS))
			continue;
		printf("\n%s: wait time of %s (%llu waits)\n", row->id.name,
		       when, (unsigned long long)row->w.waits);
		hist_print(stdout, row->w.hist, BIOSTAT_HIST_SLOTS, "usecs", 0);
	}
}

/* What the BPF side could not count in the window, on stderr. */
static void losses(const struct report *r)
{
	const char *total = r->summary ? " in total" : "";

	for (int k = 0; k < BIOSTAT_ERR_NR; k++) {
		unsigned long long d = r->errs[k];

		if (!d)
			continue;
		if (k == BIOSTAT_ERR_RINGBUF)
			inform("%llu events dropped (ring buffer full)%s", d, total);
		else
			warn("%s: %llu%s", biostat_err_names[k], d, total);
	}
	if (r->misses)
		warn("recursion_misses: %llu%s (runs of biostat's programs the kernel "
		     "skipped: counts may be short by as many)",
		     (unsigned long long)r->misses, total);
}

static void stacks(const struct report *r)
{
	if (!r->stacks_asked)
		return;
	if (!r->nstacks) {
		printf("\nNo allocation waited: no stacks.\n");
		return;
	}
	printf("\nKernel stacks of allocations that waited:\n");
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct report_stack *st = &r->stacks[i];

		printf("\n  %s: %llu waits\n", st->have_set ? st->id.name : "?",
		       (unsigned long long)st->count);
		for (size_t k = 0; k < st->nframes; k++)
			printf("    %s\n", st->frames[k]);
	}
}

void report_text(const struct report *r)
{
	if (r->summary) {
		if (r->after_events)
			putchar('\n');
		printf("Summary: %.3f s, counts since start\n", r->secs);
	} else if (r->timestamp) {
		char tbuf[32];

		fmt_time(mono_to_wall(r->now), tbuf, sizeof(tbuf), TIME_DATE);
		printf("%s\n", tbuf);
	}
	header(r);
	for (size_t i = 0; i < r->nrows; i++) {
		if (r->summary)
			summary_row(r, &r->rows[i]);
		else
			interval_row(r, &r->rows[i]);
	}
	histograms(r);
	if (!r->summary)
		printf("\n");
	losses(r);
	stacks(r);
	fflush(stdout);
}
