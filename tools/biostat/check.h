/* SPDX-License-Identifier: GPL-2.0 */
/* check.h - "biostat check" (check.c): its entry point. */
#ifndef BIOSTAT_CHECK_MAIN_H
#define BIOSTAT_CHECK_MAIN_H

/* argv[0] is "check".  Returns the exit status: 0, 1, 2 or 3. */
int check_main(int argc, char **argv);

#endif
