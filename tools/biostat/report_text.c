// SPDX-License-Identifier: GPL-2.0
/*
 * report_text.c - the table writer: a report record (report.h) as the
 * iostat-like table (80 columns by default, every column with -x), its
 * histograms, stacks and the BPF side's losses.
 */
#include "report.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hist.h"

/*
 * The columns of the tables.  The default view fits 80 columns (rates and
 * counts that need more digits widen their row); -x shows every column.
 * The counts are BIOSTAT_COUNTS' (their headings, -x or not), in its
 * order, the wait's average and maximum after the waits; the others are
 * named here.
 */
enum col { C_POOL, C_RESCUER, C_COUNT, C_AVG, C_MAX };

struct column {
	enum col what;
	int ctr;		/* C_COUNT: which (CTR_*) */
	const char *ivl, *sum;	/* the others' headings; NULL: not in that view */
	bool wide;		/* only with -x */
};

#define NCOLUMNS (CTR_NR + 4)

static const struct column *columns(void)
{
	static struct column c[NCOLUMNS];
	size_t n = 0;

	if (c[0].sum)
		return c;
	c[n++] = (struct column){ C_POOL, 0, NULL, "POOL", true };
	c[n++] = (struct column){ C_RESCUER, 0, NULL, "RESCUER", true };
	for (int i = 0; i < CTR_NR; i++) {
		c[n++] = (struct column){ C_COUNT, i, NULL, NULL,
					  counter_names[i].wide };
		if (i != CTR_waits)
			continue;
		c[n++] = (struct column){ C_AVG, 0, "AVG_us", "AVG_us", true };
		c[n++] = (struct column){ C_MAX, 0, "MAX_us", "MAX_us", false };
	}
	return c;
}

/* Default view: BIO_SET and DEVICE cut to these; -x: padded to them. */
#define NAME_W 20
#define DEV_W 9
#define NAME_W_X 28
#define DEV_W_X 12

static bool shown(const struct report *r, const struct column *c)
{
	if (c->what != C_COUNT && !(r->summary ? c->sum : c->ivl))
		return false;
	/* the summary's MAX_us is -x only: six counts fit 80 columns */
	if (!r->extended && r->summary && c->what == C_MAX)
		return false;
	return r->extended || !c->wide;
}

/* The count a column shows: in the submission mode, allocs' is submitted. */
static const struct counter_name *counter_of(const struct report *r,
					     const struct column *c)
{
	if (c->what != C_COUNT)
		return NULL;
	if (r->submissions && c->ctr == CTR_allocs)
		return &counter_submitted;
	return &counter_names[c->ctr];
}

static const char *heading(const struct report *r, const struct column *c,
			   char *buf, size_t n)
{
	const struct counter_name *ctr = counter_of(r, c);

	if (!ctr)
		return r->summary ? c->sum : c->ivl;
	if (!r->summary)
		return ctr->rate;
	counter_heading(ctr, buf, n);
	return buf;
}

/* Numbers: 6 (interval) or 7 (summary) wide, 2 more with -x. */
static int num_width(const struct report *r, const struct column *c)
{
	int w = (r->summary ? 7 : 6) + (r->extended ? 2 : 0);
	char buf[32];
	int h = (int)strlen(heading(r, c, buf, sizeof(buf)));

	return h > w ? h : w;
}

/* One cell: "-" where it is not measured or not known. */
static void cell(const struct report *r, const struct report_row *row,
		 const struct column *c, char *buf, size_t n)
{
	const struct window *w = &row->w;
	double v;

	if (c->what == C_POOL) {
		if (row->id.pool >= 0)
			snprintf(buf, n, "%d", row->id.pool);
		else
			snprintf(buf, n, "-");
		return;
	}
	if (c->what == C_RESCUER) {
		snprintf(buf, n, "%s", !row->id.known ? "-" :
			 row->id.rescuer ? "yes" : "no");
		return;
	}
	if (r->submissions && counter_of(r, c) != &counter_submitted) {
		snprintf(buf, n, "-");
		return;
	}
	if (c->what == C_AVG || c->what == C_MAX) {
		v = c->what == C_AVG ? avg_us(w->wait_ns, w->waits) :
		    (double)w->wait_max_ns / 1000.0;
		snprintf(buf, n, "%.0f", v);
		return;
	}
	if (r->summary) {
		snprintf(buf, n, "%llu",
			 (unsigned long long)window_count(w, counter_of(r, c)));
		return;
	}
	v = rate_per_sec(window_count(w, counter_of(r, c)), r->secs);
	snprintf(buf, n, v < 1000 ? "%.1f" : "%.0f", v);
}

/* s padded to width w, or, when cut, cut to w with a '~' at its end. */
static void text_cell(const char *s, int w, bool cut)
{
	int len = (int)strlen(s);

	if (cut && len > w)
		printf("%.*s~", w - 1, s);
	else
		printf("%-*s", w, s);
}

static void header(const struct report *r)
{
	const struct column *col = columns();
	char buf[32];

	text_cell("BIO_SET", r->extended ? NAME_W_X : NAME_W, false);
	putchar(' ');
	text_cell("DEVICE", r->extended ? DEV_W_X : DEV_W, false);
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (shown(r, &col[i]))
			printf(" %*s", num_width(r, &col[i]),
			       heading(r, &col[i], buf, sizeof(buf)));
	putchar('\n');
}

static void row_text(const struct report *r, const struct report_row *row)
{
	const struct column *col = columns();
	char buf[32];

	text_cell(row->id.name, r->extended ? NAME_W_X : NAME_W, !r->extended);
	putchar(' ');
	text_cell(set_ident_device(&row->id, r->numeric),
		  r->extended ? DEV_W_X : DEV_W, !r->extended);
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (!shown(r, &col[i]))
			continue;
		cell(r, row, &col[i], buf, sizeof(buf));
		printf(" %*s", num_width(r, &col[i]), buf);
	}
	putchar('\n');
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

/* A frame as flame graphs want it: "func_[mod]", no offset, no ';'. */
static void folded_frame(const char *frame)
{
	const char *mod = strstr(frame, " [");
	size_t n = strcspn(frame, "+ ");

	for (size_t i = 0; i < n; i++)
		putchar(frame[i] == ';' ? ':' : frame[i]);
	if (mod)
		printf("_%s", mod + 1);
}

/*
 * --folded: one line per stack that waited, outermost frame first, the
 * set's name as the root: "set;caller;...;mempool_alloc count".
 */
static void stacks_folded(const struct report *r)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct report_stack *st = &r->stacks[i];
		const char *set = st->have_set ? st->id.name : "?";

		for (const char *c = set; *c; c++)
			putchar(*c == ';' || *c == ' ' ? '_' : *c);
		for (size_t k = st->nframes; k > 0; k--) {
			putchar(';');
			folded_frame(st->frames[k - 1]);
		}
		printf(" %llu\n", (unsigned long long)st->count);
	}
}

void report_text(const struct report *r)
{
	/* only the stacks, for flamegraph.pl or speedscope to read */
	if (r->folded) {
		if (r->summary)
			stacks_folded(r);
		fflush(stdout);
		return;
	}
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
	for (size_t i = 0; i < r->nrows; i++)
		row_text(r, &r->rows[i]);
	histograms(r);
	if (!r->summary)
		printf("\n");
	losses(r);
	stacks(r);
	fflush(stdout);
}
