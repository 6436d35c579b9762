/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events.h - the ring buffer's records: each wait, fail, punt and rescue
 * printed as it comes (-e, as a table line or a JSON object), and the
 * final record of a set that goes away, in every mode.
 */
#ifndef BIOSTAT_EVENTS_H
#define BIOSTAT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "globs.h"
#include "json.h"
#include "report.h"
#include "sets.h"

struct events {
	struct settab *sets;
	struct json *j;
	bool stream;		/* -e: print each event */
	bool json;		/* -j */
	bool printed;		/* the events' header is out */
	const struct globs *names;	/* -N: only the sets matching */
	struct dev_names dev;	/* the last event's device (most repeat it) */
};

/* ring_buffer__new() callback; ctx is a struct events. */
int events_handle(void *ctx, void *data, size_t size);

#endif
