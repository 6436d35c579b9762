// SPDX-License-Identifier: GPL-2.0
/*
 * report_json.c - the JSON writer: a report record (report.h) as one JSON
 * object per line: the interval or summary, its histograms and stacks.
 * Also how every JSON record of biostat starts (events use it too).
 */
#include "report.h"

#include <stdio.h>

#include "common.h"
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

static void ident(struct json *j, const struct set_ident *id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)id->bs);
	json_kv_str(j, "bio_set", buf);
	json_kv_str(j, "name", id->name);
	if (id->has_dev) {
		json_kv_str(j, "device", id->devnum);
		if (id->kname[0])
			json_kv_str(j, "device_name", id->kname);
		if (id->dmname[0])
			json_kv_str(j, "dm_name", id->dmname);
	} else {
		json_key(j, "device");
		json_null(j);
	}
	json_kv_bool(j, "multi_device", id->multi_dev);
	if (id->pool >= 0)
		json_kv_i64(j, "pool", id->pool);
	json_kv_bool(j, "rescuer", id->rescuer);
}

static void window(struct json *j, const struct report *r, const struct window *w)
{
	static const char *const unmeasured[] = {
		"reserve", "waits", "wait_total_us", "wait_avg_us", "wait_max_us",
		"fails", "punts", "punted", "rescues", "rescued",
	};
	double s = r->secs;

	json_kv_u64(j, "allocs", w->allocs);
	if (r->submissions) {
		/* only submitted bios are seen: the rest is unknown, not 0 */
		for (size_t i = 0; i < ARRAY_SIZE(unmeasured); i++) {
			json_key(j, unmeasured[i]);
			json_null(j);
		}
		json_kv_double(j, "allocs_per_s", rate_per_sec(w->allocs, s), 2);
		return;
	}
	json_kv_u64(j, "reserve", w->reserve);
	json_kv_u64(j, "waits", w->waits);
	json_kv_double(j, "wait_total_us", (double)w->wait_ns / 1000.0, 1);
	json_kv_double(j, "wait_avg_us", avg_us(w->wait_ns, w->waits), 1);
	json_kv_double(j, "wait_max_us", (double)w->wait_max_ns / 1000.0, 1);
	json_kv_u64(j, "fails", w->fails);
	json_kv_u64(j, "punts", w->punts);
	json_kv_u64(j, "punted", w->punted);
	json_kv_u64(j, "rescues", w->rescues);
	json_kv_u64(j, "rescued", w->rescued);
	json_kv_double(j, "allocs_per_s", rate_per_sec(w->allocs, s), 2);
	json_kv_double(j, "reserve_per_s", rate_per_sec(w->reserve, s), 2);
	json_kv_double(j, "waits_per_s", rate_per_sec(w->waits, s), 2);
	json_kv_double(j, "fails_per_s", rate_per_sec(w->fails, s), 2);
	json_kv_double(j, "punts_per_s", rate_per_sec(w->punts, s), 2);
	json_kv_double(j, "punted_per_s", rate_per_sec(w->punted, s), 2);
	json_kv_double(j, "rescues_per_s", rate_per_sec(w->rescues, s), 2);
	json_kv_double(j, "rescued_per_s", rate_per_sec(w->rescued, s), 2);
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
		json_kv_u64(j, "count", st->count);
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
	json_key(j, "errors");
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
