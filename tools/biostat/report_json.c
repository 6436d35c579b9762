// SPDX-License-Identifier: GPL-2.0
/*
 * report_json.c - the JSON writer: a report record (report.h) as one JSON
 * object per line: the interval or summary, its histograms and stacks.
 * Also how every JSON record of biostat starts (events use it too).
 */
#include "report.h"

#include <stdio.h>

#include "common.h"
#include "devices.h"
#include "hist.h"

void json_record_begin(struct json *j, const char *type, double mono,
		       const char *mode)
{
	double wall = mono_to_wall(mono);
	char tbuf[32];

	json_reset(j);
	json_obj_begin(j);
	json_kv_str(j, "type", type);
	json_kv_u64(j, "schema", BIOSTAT_JSON_SCHEMA);
	fmt_time(wall, tbuf, sizeof(tbuf), TIME_ISO);
	json_kv_str(j, "time", tbuf);
	json_kv_double(j, "ts", wall, 3);
	if (mode)
		json_kv_str(j, "mode", mode);
}

void json_record_end(struct json *j)
{
	json_obj_end(j);
	if (json_println(j, stdout))
		die("out of memory writing JSON");
}

static const char *mode_of(const struct report *r)
{
	return r->submissions ? "submissions" : "full";
}

/* The device fields (report.h), from the names already looked up. */
static void device_fields(struct json *j, bool has_dev, const char *devnum,
			  const char *kname, const char *dmname)
{
	json_key(j, "device");
	if (has_dev)
		json_str(j, kname[0] ? kname : devnum);
	else
		json_null(j);
	json_key(j, "devnum");
	if (has_dev)
		json_str(j, devnum);
	else
		json_null(j);
	json_key(j, "dm_name");
	if (dmname[0])
		json_str(j, dmname);
	else
		json_null(j);
}

void json_device(struct json *j, const struct dev_names *d)
{
	device_fields(j, d->kdev != 0, d->devnum, d->kname, d->dmname);
}

static void ident(struct json *j, const struct set_ident *id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)id->bs);
	if (id->bs) {
		json_kv_str(j, "bio_set", buf);
	} else {		/* the gone sets folded (sets.h) */
		json_key(j, "bio_set");
		json_null(j);
	}
	json_kv_str(j, "name", id->name);
	device_fields(j, id->has_dev, id->devnum, id->kname, id->dmname);
	json_kv_bool(j, "multi_device", id->multi_dev);
	if (id->pool >= 0)
		json_kv_i64(j, "pool", id->pool);
	json_kv_bool(j, "rescuer", id->rescuer);
}

static void per_s(struct json *j, const char *key, uint64_t n, double secs)
{
	char k[48];

	snprintf(k, sizeof(k), "%s_per_s", key);
	json_kv_double(j, k, rate_per_sec(n, secs), 2);
}

/* Every count of the vocabulary: null where this mode does not see it. */
static void window(struct json *j, const struct report *r, const struct window *w)
{
	static const char *const waited[] = {
		"wait_total_us", "wait_avg_us", "wait_max_us",
	};
	const struct counter_name *c;
	double s = r->secs;

	if (r->submissions) {
		/* only submitted bios are seen: the rest is unknown, not 0 */
		c = &counter_submitted;
		json_kv_u64(j, c->key, window_count(w, c));
		per_s(j, c->key, window_count(w, c), s);
		for (size_t i = 0; i < CTR_NR; i++) {
			json_key(j, counter_names[i].key);
			json_null(j);
		}
		for (size_t i = 0; i < ARRAY_SIZE(waited); i++) {
			json_key(j, waited[i]);
			json_null(j);
		}
		return;
	}
	for (size_t i = 0; i < CTR_NR; i++) {
		c = &counter_names[i];
		json_kv_u64(j, c->key, window_count(w, c));
		per_s(j, c->key, window_count(w, c), s);
	}
	json_kv_double(j, "wait_total_us", (double)w->wait_ns / 1000.0, 1);
	json_kv_double(j, "wait_avg_us", avg_us(w->wait_ns, w->waits), 1);
	json_kv_double(j, "wait_max_us", (double)w->wait_max_ns / 1000.0, 1);
}

static void histograms(struct json *j, const struct report *r)
{
	for (size_t i = 0; r->hist && i < r->nrows; i++) {
		const struct report_row *row = &r->rows[i];

		if (!hist_total(row->w.hist, BIOSTAT_HIST_SLOTS))
			continue;
		json_record_begin(j, "histogram", r->now, mode_of(r));
		json_kv_str(j, "scope", r->summary ? "summary" : "interval");
		ident(j, &row->id);
		json_kv_str(j, "unit", "usecs");
		json_kv_u64(j, "waits", row->w.waits);
		json_key(j, "buckets");
		hist_json(j, row->w.hist, BIOSTAT_HIST_SLOTS);
		json_record_end(j);
	}
}

static void stacks(struct json *j, const struct report *r)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct report_stack *st = &r->stacks[i];

		json_record_begin(j, "stack", r->now, mode_of(r));
		if (st->have_set)
			ident(j, &st->id);
		json_kv_u64(j, "waits", st->count);
		json_key(j, "frames");
		json_arr_begin(j);
		for (size_t k = 0; k < st->nframes; k++)
			json_str(j, st->frames[k]);
		json_arr_end(j);
		json_record_end(j);
	}
}

void report_json(struct json *j, const struct report *r)
{
	/* histograms and stacks first in the summary: it is the last line */
	if (r->summary) {
		histograms(j, r);
		stacks(j, r);
	}
	json_record_begin(j, r->summary ? "summary" : "interval", r->now,
			  mode_of(r));
	json_kv_double(j, r->summary ? "duration_s" : "interval_s", r->secs, 3);
	json_kv_u64(j, "dropped_events", r->errs[BIOSTAT_ERR_RINGBUF]);
	json_key(j, "uncounted");	/* as biostat_uncounted_total{reason} */
	json_obj_begin(j);
	for (int k = 0; k < BIOSTAT_ERR_NR; k++)
		if (k != BIOSTAT_ERR_RINGBUF)
			json_kv_u64(j, biostat_err_names[k], r->errs_total[k]);
	json_kv_u64(j, "recursion_misses", r->misses_total);
	json_obj_end(j);
	json_key(j, "sets");
	json_arr_begin(j);
	for (size_t i = 0; i < r->nrows; i++) {
		json_obj_begin(j);
		ident(j, &r->rows[i].id);
		window(j, r, &r->rows[i].w);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_record_end(j);
	if (!r->summary)
		histograms(j, r);
	fflush(stdout);
}
