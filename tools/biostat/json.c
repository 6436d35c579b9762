// SPDX-License-Identifier: GPL-2.0
/* json.c - see json.h */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void json_free(struct json *j)
{
	free(j->buf);
	json_init(j);
}

void json_reset(struct json *j)
{
	char *buf = j->buf;
	size_t cap = j->cap;

	json_init(j);
	j->buf = buf;
	j->cap = cap;
	if (buf)
		buf[0] = '\0';
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *nb;

		while (j->len + n + 1 > cap)
			cap *= 2;
		nb = realloc(j->buf, cap);
		if (!nb) {
			j->oom = true;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Separator before a value (or key) at the current level. */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
}

static void open_(struct json *j, const char *c)
{
	sep(j);
	puts_(j, c);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	puts_(j, c);
}

void json_obj_begin(struct json *j) { open_(j, "{"); }
void json_obj_end(struct json *j) { close_(j, "}"); }
void json_arr_begin(struct json *j) { open_(j, "["); }
void json_arr_end(struct json *j) { close_(j, "]"); }

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t json_escape(char *dst, size_t dstsz, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, i = 0;
	char tmp[8];

#define EMIT(p, l) do {							\
		size_t l_ = (l);					\
		if (out + l_ < dstsz)					\
			memcpy(dst + out, (p), l_);			\
		else if (out < dstsz)					\
			memcpy(dst + out, (p), dstsz - 1 - out);	\
		out += l_;						\
	} while (0)

	while (i < n) {
		unsigned char c = s[i];
		const char *esc = NULL;
		size_t l;

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: break;
		}
		if (esc) {
			EMIT(esc, 2);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			EMIT(tmp, 6);
			i++;
			continue;
		}
		l = utf8_len(s + i, n - i);
		if (!l) {
			EMIT("\\ufffd", 6);
			i++;
			continue;
		}
		EMIT(s + i, l);
		i += l;
	}
#undef EMIT
	if (dstsz)
		dst[out < dstsz ? out : dstsz - 1] = '\0';
	return out;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	size_t need;
	char small[256], *big = NULL, *p = small;

	sep(j);
	need = json_escape(small, sizeof(small), s, n);
	if (need >= sizeof(small)) {
		big = malloc(need + 1);
		if (!big) {
			j->oom = true;
			return;
		}
		json_escape(big, need + 1, s, n);
		p = big;
	}
	put(j, "\"", 1);
	put(j, p, need);
	put(j, "\"", 1);
	free(big);
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
	json_str(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void json_u64(struct json *j, uint64_t v)
{
	char b[32];

	sep(j);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	puts_(j, b);
}

void json_i64(struct json *j, int64_t v)
{
	char b[32];

	sep(j);
	snprintf(b, sizeof(b), "%" PRId64, v);
	puts_(j, b);
}

void json_double(struct json *j, double v, int decimals)
{
	char b[64];

	if (!isfinite(v)) {	/* JSON has no NaN or Inf */
		json_null(j);
		return;
	}
	sep(j);
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	snprintf(b, sizeof(b), "%.*f", decimals, v);
	/* "-0.000" is valid JSON but reads oddly */
	if (b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1))
		memmove(b, b + 1, strlen(b));
	puts_(j, b);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	puts_(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	sep(j);
	puts_(j, "null");
}

void json_kv_str(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	json_str(j, v);
}

void json_kv_u64(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_u64(j, v);
}

void json_kv_i64(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	json_i64(j, v);
}

void json_kv_double(struct json *j, const char *k, double v, int decimals)
{
	json_key(j, k);
	json_double(j, v, decimals);
}

void json_kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}

const char *json_text(const struct json *j)
{
	if (j->oom)
		return NULL;
	return j->buf ? j->buf : "";
}

int json_println(struct json *j, FILE *f)
{
	const char *t = json_text(j);

	if (!t)
		return -1;
	if (fputs(t, f) == EOF || fputc('\n', f) == EOF)
		return -1;
	return 0;
}
