/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - strict parsing of the numbers a user types: intervals, counts,
 * PIDs, MAJ:MIN.  Unit tested on the host.
 */
#ifndef BIOSTAT_PARSE_H
#define BIOSTAT_PARSE_H

/* Strict "MAJ:MIN" (decimal, no sign, no spaces).  0 or -1. */
int parse_majmin(const char *s, unsigned int *maj, unsigned int *min);

/* Strict positive decimal number of seconds ("1", "0.5"); 0 or -1. */
int parse_interval(const char *s, double *secs);

/* Strict positive decimal integer within [1, max]; 0 or -1. */
int parse_count(const char *s, long max, long *out);

#endif
