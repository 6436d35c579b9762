/* SPDX-License-Identifier: GPL-2.0 */
/*
 * globs.h - the set names a user asked to see (-N GLOB, repeated): shell
 * patterns (fnmatch) matched against a set's name; no pattern: every set.
 */
#ifndef BIOSTAT_GLOBS_H
#define BIOSTAT_GLOBS_H

#include <stdbool.h>
#include <stddef.h>

#define GLOBS_MAX 16

struct globs {
	const char *v[GLOBS_MAX];
	size_t n;
};

/* Add a pattern (kept, not copied); -1 when GLOBS_MAX are there. */
int globs_add(struct globs *g, const char *pattern);
/* name matches one of the patterns, or there is none (g NULL too). */
bool globs_match(const struct globs *g, const char *name);

#endif
