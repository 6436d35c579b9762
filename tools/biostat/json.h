/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - a small JSON writer: one object built in memory, then written
 * as one line.  Strings are escaped per RFC 8259; bytes that are not
 * valid UTF-8 are replaced by U+FFFD so the output always parses.
 */
#ifndef BIOSTAT_JSON_H
#define BIOSTAT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this level */
	bool after_key;			/* a key was written, value comes next */
	bool oom;			/* an allocation failed; output invalid */
};

void json_init(struct json *j);
void json_free(struct json *j);
void json_reset(struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key + value shorthands */
void json_kv_str(struct json *j, const char *k, const char *v);
void json_kv_u64(struct json *j, const char *k, uint64_t v);
void json_kv_i64(struct json *j, const char *k, int64_t v);
void json_kv_double(struct json *j, const char *k, double v, int decimals);
void json_kv_bool(struct json *j, const char *k, bool v);

/* The finished text (NUL terminated), or NULL after an allocation failure. */
const char *json_text(const struct json *j);

/* Write the text and a newline; returns 0 or -1. */
int json_println(struct json *j, FILE *f);

/*
 * Escape src[0..n) into dst (size dstsz, always NUL terminated when
 * dstsz > 0) without surrounding quotes.  Returns the length the full
 * escaped text needs (excluding the NUL), like snprintf.
 */
size_t json_escape(char *dst, size_t dstsz, const char *src, size_t n);

#endif
