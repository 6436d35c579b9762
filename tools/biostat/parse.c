// SPDX-License-Identifier: GPL-2.0
/* parse.c - strict parsing of numbers the user types (see parse.h). */
#include "parse.h"

#include <string.h>

static int parse_uint(const char *s, const char *end, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*out = v;
	return 0;
}

int parse_majmin(const char *s, unsigned int *maj, unsigned int *min)
{
	const char *colon;
	unsigned long long a, b;

	if (!s)
		return -1;
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -1;
	/* dev_t in the kernel: 12 bits of major, 20 of minor */
	if (parse_uint(s, colon, 4095, &a) ||
	    parse_uint(colon + 1, colon + 1 + strlen(colon + 1), 1048575, &b))
		return -1;
	*maj = (unsigned int)a;
	*min = (unsigned int)b;
	return 0;
}

int parse_interval(const char *s, double *secs)
{
	unsigned long long ip = 0, fp = 0;
	const char *dot, *end;
	double v, scale = 1;
	size_t fl;

	if (!s || !*s)
		return -1;
	end = s + strlen(s);
	dot = strchr(s, '.');
	if (!dot)
		dot = end;
	if (dot == s && (dot == end || dot + 1 == end))
		return -1;		/* "" or "." */
	if (dot > s && parse_uint(s, dot, 86400ULL * 366, &ip))
		return -1;
	if (dot < end) {
		fl = (size_t)(end - dot - 1);
		if (fl == 0 || fl > 9 || parse_uint(dot + 1, end, 999999999, &fp))
			return -1;
		while (fl--)
			scale *= 10;
	}
	v = (double)ip + (double)fp / scale;
	if (!(v >= 0.001))	/* a millisecond at least */
		return -1;
	*secs = v;
	return 0;
}

int parse_count(const char *s, long max, long *out)
{
	unsigned long long v;

	if (!s || max < 1 || parse_uint(s, s + strlen(s), (unsigned long long)max, &v) ||
	    v < 1)
		return -1;
	*out = (long)v;
	return 0;
}
