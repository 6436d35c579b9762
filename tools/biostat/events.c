// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - one ring-buffer record at a time (see events.h): the end of
 * a set goes to the set table, the rest is printed with -e.
 */
#include "events.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "report.h"

static const char *ev_name(__u32 type)
{
	switch (type) {
	case BIOSTAT_EV_WAIT: return "wait";
	case BIOSTAT_EV_FAIL: return "fail";
	case BIOSTAT_EV_PUNT: return "punt";
	case BIOSTAT_EV_RESCUE: return "rescue";
	default: return "?";
	}
}

static void event_json(struct events *ev, const struct biostat_event *e,
		       const char *name, const char *comm)
{
	struct json *j = ev->j;
	char buf[32];

	json_record_begin(j, "event", (double)e->ts_ns / 1e9, NULL);
	json_kv_str(j, "event", ev_name(e->type));
	json_kv_str(j, "comm", comm);
	json_kv_u64(j, "pid", e->pid);
	json_kv_u64(j, "tid", e->tid);
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)e->bs);
	json_kv_str(j, "bio_set", buf);
	json_kv_str(j, "name", name ? name : buf);
	json_device(j, &ev->dev);
	switch (e->type) {
	case BIOSTAT_EV_WAIT:
		json_kv_double(j, "wait_us", (double)e->dur_ns / 1000.0, 1);
		/* fall through */
	case BIOSTAT_EV_FAIL:
		snprintf(buf, sizeof(buf), "0x%x", e->gfp);
		json_kv_str(j, "gfp", buf);
		break;
	case BIOSTAT_EV_PUNT:
		json_kv_u64(j, counter_names[CTR_punted].key, e->count);
		break;
	default:
		json_kv_u64(j, counter_names[CTR_rescued].key, e->count);
		break;
	}
	json_record_end(j);
}

static void event_text(struct events *ev, const struct biostat_event *e,
		       const char *name, char *comm, const char *dev)
{
	char tbuf[32], wait[32] = "-", bios[16] = "-";

	if (!ev->printed) {
		printf("%-12s %-6s %-16s %-7s %-7s %-24s %-7s %9s %5s\n", "TIME",
		       "EVENT", "COMM", "PID", "TID", "BIO_SET", "DEVICE",
		       "WAIT_us", "BIOS");
		ev->printed = true;
	}
	fmt_time(mono_to_wall((double)e->ts_ns / 1e9), tbuf, sizeof(tbuf), TIME_HMS_MS);
	/* comm may hold anything a process chose: keep the terminal sane */
	for (char *c = comm; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	if (e->type == BIOSTAT_EV_WAIT)
		snprintf(wait, sizeof(wait), "%.0f", (double)e->dur_ns / 1000.0);
	else if (e->type != BIOSTAT_EV_FAIL)
		snprintf(bios, sizeof(bios), "%u", e->count);
	printf("%-12s %-6s %-16s %-7u %-7u %-24s %-7s %9s %5s\n", tbuf,
	       ev_name(e->type), comm, e->pid, e->tid, name ? name : "?", dev,
	       wait, bios);
}

int events_handle(void *ctx, void *data, size_t size)
{
	const struct biostat_event *e = data;
	char comm[BIOSTAT_TASK_COMM_LEN + 1];
	struct events *ev = ctx;
	struct uset *s;
	__u32 kdev;

	if (size < sizeof(*e))
		return 0;
	if (e->type == BIOSTAT_EV_GONE) {
		if (size >= sizeof(struct biostat_gone_event))
			settab_gone(ev->sets, data);
		return 0;
	}
	if (!ev->stream)
		return 0;
	s = settab_get(ev->sets, e->bs);
	if (s && !globs_match(ev->names, s->name))
		return 0;
	memcpy(comm, e->comm, BIOSTAT_TASK_COMM_LEN);
	comm[BIOSTAT_TASK_COMM_LEN] = '\0';
	/*
	 * An event made before its set's device was known (a clone's, whose
	 * device bio_alloc_clone()'s exit tells after the allocation): the
	 * set's, by now.  Looked up again only for another device, or new
	 * listings.
	 */
	kdev = e->dev;
	if (!kdev && s && s->have_info)
		kdev = s->info.dev;
	if (kdev != ev->dev.kdev || ev->sets->dl->read_at != ev->dev.read_at)
		dev_names_of(ev->sets->dl, kdev, &ev->dev);
	if (ev->json)
		event_json(ev, e, s ? s->name : NULL, comm);
	else
		event_text(ev, e, s ? s->name : NULL, comm,
			   dev_names_label(&ev->dev));
	stdout_check();		/* real time: each event as it comes */
	return 0;
}
