// SPDX-License-Identifier: GPL-2.0
/*
 * globs.c - the set-name filter of -N (see globs.h).
 */
#include "globs.h"

#include <fnmatch.h>

int globs_add(struct globs *g, const char *pattern)
{
	if (g->n == GLOBS_MAX)
		return -1;
	g->v[g->n++] = pattern;
	return 0;
}

bool globs_match(const struct globs *g, const char *name)
{
	if (!g || !g->n)
		return true;
	for (size_t i = 0; i < g->n; i++)
		if (!fnmatch(g->v[i], name, 0))
			return true;
	return false;
}
