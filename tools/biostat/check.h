/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check.h - "biostat check" (check.c): its entry point and its option
 * table (which options take a value where "biostat -d DEV check" is split).
 */
#ifndef BIOSTAT_CHECK_MAIN_H
#define BIOSTAT_CHECK_MAIN_H

#include <argp.h>

/* check's options, argp's table (biostat check --help lists it) */
extern const struct argp_option check_options[];

/* argv[0] is "check".  Returns the exit status: 0, 1, 2 or 3. */
int check_main(int argc, char **argv);

#endif
