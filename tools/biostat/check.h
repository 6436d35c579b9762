/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check.h - "biostat check" (check.c), and what it borrows from biostat.c.
 */
#ifndef BIOSTAT_CHECK_H
#define BIOSTAT_CHECK_H

#include <stddef.h>

/* argv[0] is "check".  Returns the exit status: 0, 1, 2 or 3. */
int check_main(int argc, char **argv);

/* biostat.c */
char *read_file(const char *path, size_t *lenp);
void build_dev_lists(char **blk, char **dm);

#endif
