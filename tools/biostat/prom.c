// SPDX-License-Identifier: GPL-2.0
/*
 * prom.c - the Prometheus text format writer of --prom FILE (see prom.h).
 */
#include "prom.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common.h"

#include "hist.h"

/* A label value with \, " and newline escaped. */
static void label(FILE *f, const char *key, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", key);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

/*
 * A set's name for the file: never a kernel address (a set with no other
 * name is "unnamed"), as the file is world-readable and served over HTTP
 * while kallsyms needs CAP_SYSLOG.
 */
static const char *public_name(const struct set_ident *id)
{
	return strncmp(id->name, "0x", 2) ? id->name : "unnamed";
}

/*
 * Only live sets are in the file: a set that went away drops out, as
 * node_exporter's series of a removed disk do (its counts stay in the
 * summary of standard output).
 */
static bool live(const struct report *r, size_t i)
{
	return !r->rows[i].id.gone;
}

/*
 * The labels of row i: set (its name, and "#N" when N > 1 sets share it,
 * numbered by their order in the kernel: stable while they live), name,
 * device (the kernel's name of the disk, as node_exporter's device label,
 * else MAJ:MIN, "many" or "-") and dm_name.
 */
static void labels(FILE *f, const struct report *r, size_t i)
{
	const struct set_ident *id = &r->rows[i].id;
	const char *name = public_name(id);
	size_t same = 0, rank = 1;
	char set[192];

	for (size_t k = 0; k < r->nrows; k++) {
		if (!live(r, k) || strcmp(public_name(&r->rows[k].id), name))
			continue;
		same++;
		if (r->rows[k].id.bs < id->bs)
			rank++;
	}
	if (same > 1)
		snprintf(set, sizeof(set), "%s#%zu", name, rank);
	else
		snprintf(set, sizeof(set), "%s", name);
	label(f, "set", set, true);
	label(f, "name", name, false);
	label(f, "device", id->kname[0] ? id->kname : id->dev, false);
	label(f, "dm_name", id->dmname, false);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The family of a count of the vocabulary, biostat_KEY_total: per set. */
static void counter(FILE *f, const struct report *r, const struct counter_name *c)
{
	char name[64];

	snprintf(name, sizeof(name), "biostat_%s_total", c->key);
	family(f, name, "counter", c->help);
	for (size_t i = 0; i < r->nrows; i++) {
		if (!live(r, i))
			continue;
		fprintf(f, "%s{", name);
		labels(f, r, i);
		fprintf(f, "} %llu\n",
			(unsigned long long)window_count(&r->rows[i].w, c));
	}
}

static void wait_histogram(FILE *f, const struct report *r)
{
	static const char name[] = "biostat_wait_seconds";

	family(f, name, "histogram",
	       "Time allocations slept on an empty reserve (log2 buckets).");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct report_row *row = &r->rows[i];
		uint64_t cum = 0, lo, hi;

		if (!live(r, i))
			continue;
		/* every slot, always: a fixed set of le series */
		for (unsigned int s = 0; s < BIOSTAT_HIST_SLOTS; s++) {
			cum += row->w.hist[s];
			/* slot s holds whole usecs lo..hi: below hi + 1 us */
			log2_slot_bounds(s, &lo, &hi);
			fprintf(f, "%s_bucket{", name);
			labels(f, r, i);
			fprintf(f, ",le=\"%g\"} %llu\n", (double)(hi + 1) / 1e6,
				(unsigned long long)cum);
		}
		cum = hist_total(row->w.hist, BIOSTAT_HIST_SLOTS);
		fprintf(f, "%s_bucket{", name);
		labels(f, r, i);
		fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		fprintf(f, "%s_sum{", name);
		labels(f, r, i);
		fprintf(f, "} %.9f\n", (double)row->w.wait_ns / 1e9);
		fprintf(f, "%s_count{", name);
		labels(f, r, i);
		fprintf(f, "} %llu\n", (unsigned long long)cum);
	}
}

/* Is biostat up, what is it, since when. */
static void about(FILE *f, const struct report *r, bool up)
{
	struct utsname u;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	family(f, "biostat_up", "gauge",
	       "1 while biostat runs; 0 in the file it leaves when it ends.");
	fprintf(f, "biostat_up %d\n", up);
	family(f, "biostat_info", "gauge",
	       "biostat's version, what it counts (full, or submissions only) "
	       "and the kernel.");
	fputs("biostat_info{", f);
	label(f, "version", BIOSTAT_VERSION, true);
	label(f, "mode", r->submissions ? "submissions" : "full", false);
	label(f, "kernel", u.release, false);
	fputs("} 1\n", f);
	family(f, "biostat_start_time_seconds", "gauge",
	       "When biostat started counting, in seconds since the epoch.");
	fprintf(f, "biostat_start_time_seconds %.3f\n",
		mono_to_wall(r->now - r->secs));
}

/* A gauge per set, where the set's value is known (v >= 0). */
static void set_gauge(FILE *f, const struct report *r, const char *name,
		      const char *help, int (*value)(const struct set_ident *))
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < r->nrows; i++) {
		int v = value(&r->rows[i].id);

		if (v < 0 || !live(r, i))
			continue;
		fprintf(f, "%s{", name);
		labels(f, r, i);
		fprintf(f, "} %d\n", v);
	}
}

static int pool_of(const struct set_ident *id)
{
	return id->pool;
}

static int rescuer_of(const struct set_ident *id)
{
	return id->known ? id->rescuer : -1;
}

/* Families as the JSON keys: biostat_KEY_total for each count (report.h). */
void prom_render(FILE *f, const struct report *r, bool up)
{
	about(f, r, up);
	if (r->submissions) {
		counter(f, r, &counter_submitted);
	} else {
		for (size_t i = 0; i < CTR_NR; i++)
			counter(f, r, &counter_names[i]);
		wait_histogram(f, r);
	}
	set_gauge(f, r, "biostat_pool", "Size of the bio_set's mempool reserve, "
		  "in bios.", pool_of);
	set_gauge(f, r, "biostat_rescuer", "1 if the bio_set has a rescuer "
		  "workqueue, else 0.", rescuer_of);
	family(f, "biostat_uncounted_total", "counter",
	       "What biostat's BPF side could not count, by reason: counts "
	       "may be short by as many.");
	for (int k = 0; k < BIOSTAT_ERR_NR; k++)
		if (k != BIOSTAT_ERR_RINGBUF)
			fprintf(f, "biostat_uncounted_total{reason=\"%s\"} %llu\n",
				biostat_err_names[k],
				(unsigned long long)r->errs_total[k]);
	fprintf(f, "biostat_uncounted_total{reason=\"recursion_misses\"} %llu\n",
		(unsigned long long)r->misses_total);
}

int prom_write(const char *path, const struct report *r, bool up)
{
	size_t n = strlen(path) + sizeof(".XXXXXX");
	char *tmp = malloc(n);
	int fd, err;
	FILE *f;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail;
	/* readable by the collector, which may run as another user */
	if (fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
		close(fd);
		goto unlink;
	}
	prom_render(f, r, up);
	if (fclose(f) || rename(tmp, path))
		goto unlink;
	free(tmp);
	return 0;
unlink:
	err = errno;
	unlink(tmp);
	errno = err;
fail:
	err = errno;
	free(tmp);
	errno = err;
	return -1;
}
