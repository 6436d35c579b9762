/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - one record of what biostat reports: an interval's or the
 * whole run's numbers per bio_set, what the BPF side could not count, and
 * (summary with -s) the stacks that waited.  report.c builds it from the
 * table of sets (sets.h) and the tracer's losses (hooks.h), reading
 * nothing; the table writer (report_text.c), the JSON writer
 * (report_json.c) and the Prometheus writer (prom.h) render the same
 * record, so the views cannot disagree on what a count is.
 */
#ifndef BIOSTAT_REPORT_H
#define BIOSTAT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "biostat.h"
#include "hooks.h"
#include "json.h"
#include "sets.h"

/* Who a set is, as both writers show it. */
struct set_ident {
	uint64_t bs;
	const char *name;
	char dev[32];		/* "MAJ:MIN", "many" or "-" (tables) */
	char devnum[32];	/* "MAJ:MIN" of the first allocation */
	char kname[64];		/* kernel name of dev, "" unknown */
	char dmname[128];	/* dm name of dev, "" if none */
	bool has_dev;
	bool multi_dev;
	bool known;		/* the set's info was read */
	bool gone;		/* went away (the folded row too) */
	int pool;		/* reserve size, -1 unknown */
	bool rescuer;
};

/* Counts of one set over the window: an interval, or since start. */
struct window {
	BIOSTAT_COUNTS(BIOSTAT_COUNT_FIELD)	/* biostat.h */
	uint64_t wait_ns, wait_max_ns;
	uint64_t hist[BIOSTAT_HIST_SLOTS];
};

/*
 * The counts of a window as every view names them (BIOSTAT_COUNTS): KEY
 * is the JSON key (KEY_per_s its rate), Prometheus' biostat_KEY_total,
 * and the summary table's heading in capitals; rate is the interval
 * table's heading.
 */
struct counter_name {
	const char *key;
	const char *rate;
	bool wide;		/* a table column of -x only */
	const char *help;
	size_t offset;		/* of the count in struct window */
};

#define BIOSTAT_COUNT_INDEX(name, rate, wide, help)	CTR_##name,
enum { BIOSTAT_COUNTS(BIOSTAT_COUNT_INDEX) CTR_NR };
extern const struct counter_name counter_names[CTR_NR];
/* The only count of the submission mode (kept in allocs' place). */
extern const struct counter_name counter_submitted;

static inline __u64 window_count(const struct window *w,
				 const struct counter_name *c)
{
	return *(const __u64 *)((const char *)w + c->offset);
}

/* The heading of c in the summary table: its key in capitals. */
void counter_heading(const struct counter_name *c, char *buf, size_t n);

struct report_row {
	struct set_ident id;
	struct window w;
};

/* One kernel stack that waited, and how often (biostat -s). */
struct report_stack {
	struct set_ident id;
	bool have_set;
	uint64_t count;
	char **frames;		/* formatted "func+0x1a [mod]" */
	size_t nframes;
};

struct report {
	bool summary;		/* since start, not an interval */
	bool submissions;	/* fallback: only allocs (submitted) measured */
	bool hist;		/* -H */
	bool timestamp;		/* -T */
	bool extended;		/* -x: every column */
	bool folded;		/* --folded: stacks as folded lines */
	bool numeric;		/* -n: devices as MAJ:MIN */
	const struct globs *names;	/* -N: only the sets matching */
	bool after_events;	/* a stream of events came before (summary) */
	double now;		/* CLOCK_MONOTONIC of the report */
	double secs;		/* length of the window */
	struct report_row *rows;
	size_t nrows;
	uint64_t errs[BIOSTAT_ERR_NR];	/* in the window */
	uint64_t errs_total[BIOSTAT_ERR_NR];	/* since start */
	uint64_t misses;		/* program runs skipped, in the window */
	uint64_t misses_total;
	struct report_stack *stacks;	/* NULL unless asked */
	size_t nstacks;
	bool stacks_asked;
};

/* Names of the "errs" indexes, as both writers show them. */
extern const char *const biostat_err_names[BIOSTAT_ERR_NR];

/*
 * Build the record from what was read (settab_read(), tracer_losses()):
 * the sets with activity in the window (every live one with all), sorted
 * by name; the losses since start (now) and in the window (now - last).
 */
void report_build(struct report *r, const struct settab *t,
		  const struct tracer_losses *now,
		  const struct tracer_losses *last, bool summary, bool all);

/* Add the stacks that waited: the "wait_stacks" and "stacks" maps, read. */
void report_add_stacks(struct report *r, struct settab *t, int wait_fd,
		       int stacks_fd);

void report_free(struct report *r);

/*
 * The DEVICE of a table: the dm name, else the kernel name, else (and with
 * numeric) MAJ:MIN; "many" or "-" where the set has no one device.
 */
const char *set_ident_device(const struct set_ident *id, bool numeric);

/* Who a set is (also for events). */
void set_ident_of(const struct uset *s, const struct devlists *dl,
		  struct set_ident *id);

/* A device by every name it has, looked up once in the listings. */
struct dev_names {
	uint32_t kdev;		/* 0: no device */
	double read_at;		/* of the listings it was looked up in */
	char devnum[24];	/* "MAJ:MIN" */
	char kname[64];		/* kernel name, "" unknown */
	char dmname[128];	/* dm name, "" if none */
};

void dev_names_of(const struct devlists *dl, uint32_t kdev,
		  struct dev_names *d);

/* As tables show it: dm name, else kernel name, else MAJ:MIN; "-". */
const char *dev_names_label(const struct dev_names *d);

/*
 * A device in JSON, as in every record that names one: "device" (the
 * kernel name, as node_exporter's device label, else MAJ:MIN; null for
 * none), "devnum" (MAJ:MIN or null) and "dm_name" (null if not dm).
 */
void json_device(struct json *j, const struct dev_names *d);

/* The writers. */
void report_text(const struct report *r);
void report_json(struct json *j, const struct report *r);

/*
 * The version of the JSON records' layout, in every record as "schema":
 * raised when a field changes meaning or goes away (new fields do not).
 * 2: one vocabulary with the table and Prometheus (biostat(8), JSON).
 */
#define BIOSTAT_JSON_SCHEMA 2

/*
 * Start a JSON record: {"type":TYPE,"schema":N,"time":ISO 8601,"ts":unix
 * seconds[,"mode":...]}.  mode is NULL for events and check's records.
 */
void json_record_begin(struct json *j, const char *type, double mono,
		       const char *mode);
/* Close it and write it as one line; dies without memory. */
void json_record_end(struct json *j);

#endif
