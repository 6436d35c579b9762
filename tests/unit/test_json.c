// SPDX-License-Identifier: GPL-2.0
/* JSON encoding: escaping, structure, numbers. */
#include "unit.h"
#include "json.h"

#include <stdlib.h>

static const char *esc(const char *s, size_t n)
{
	static char buf[512];

	json_escape(buf, sizeof(buf), s, n);
	return buf;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void test_escape_ascii(void)
{
	CHECK_STR(ESC("plain"), "plain");
	CHECK_STR(ESC(""), "");
	CHECK_STR(ESC("a\"b"), "a\\\"b");
	CHECK_STR(ESC("back\\slash"), "back\\\\slash");
	CHECK_STR(ESC("/"), "/");
	CHECK_STR(ESC("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
	CHECK_STR(ESC("\x01\x1f"), "\\u0001\\u001f");
	CHECK_STR(ESC("\x7f"), "\\u007f");
	/* an embedded NUL is data, not the end */
	CHECK_STR(ESC("a\0b"), "a\\u0000b");
}

static void test_escape_utf8(void)
{
	CHECK_STR(ESC("caf\xc3\xa9"), "caf\xc3\xa9");			/* é */
	CHECK_STR(ESC("\xe2\x82\xac"), "\xe2\x82\xac");			/* € */
	CHECK_STR(ESC("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");		/* 😀 */
	/* invalid: lone continuation, bad lead, truncated, overlong,
	 * surrogate, beyond U+10FFFF */
	CHECK_STR(ESC("\x80"), "\\ufffd");
	CHECK_STR(ESC("\xff"), "\\ufffd");
	CHECK_STR(ESC("x\xc3"), "x\\ufffd");
	CHECK_STR(ESC("\xe2\x82"), "\\ufffd\\ufffd");
	CHECK_STR(ESC("\xc0\x80"), "\\ufffd\\ufffd");
	CHECK_STR(ESC("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
	CHECK_STR(ESC("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* a comm as the kernel might hand it over */
	CHECK_STR(ESC("kworker/u4:1\xfe"), "kworker/u4:1\\ufffd");
}

static void test_escape_truncation(void)
{
	char small[6];
	size_t need;

	need = json_escape(small, sizeof(small), "ab\"cd\"ef", 8);
	CHECK_U64(need, 10);			/* ab\"cd\"ef */
	CHECK_STR(small, "ab\\\"c");		/* 5 chars + NUL */
	need = json_escape(NULL, 0, "\n", 1);
	CHECK_U64(need, 2);
	need = json_escape(small, 1, "abc", 3);
	CHECK_U64(need, 3);
	CHECK_STR(small, "");
}

static void test_structure(void)
{
	struct json j;

	json_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "type", "interval");
	json_kv_u64(&j, "n", 18446744073709551615ULL);
	json_kv_i64(&j, "neg", -5);
	json_kv_bool(&j, "yes", true);
	json_key(&j, "none");
	json_null(&j);
	json_key(&j, "sets");
	json_arr_begin(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "name", "bp0:biopool");
	json_obj_end(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_key(&j, "empty");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_key(&j, "nums");
	json_arr_begin(&j);
	json_u64(&j, 1);
	json_u64(&j, 2);
	json_arr_end(&j);
	json_obj_end(&j);
	CHECK_STR(json_text(&j),
		  "{\"type\":\"interval\",\"n\":18446744073709551615,\"neg\":-5,"
		  "\"yes\":true,\"none\":null,\"sets\":[{\"name\":\"bp0:biopool\"},{}],"
		  "\"empty\":[],\"nums\":[1,2]}");

	/* reset reuses the buffer and starts a fresh document */
	json_reset(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "k\"ey", "v\nal");
	json_obj_end(&j);
	CHECK_STR(json_text(&j), "{\"k\\\"ey\":\"v\\nal\"}");
	json_free(&j);
}

static void test_numbers(void)
{
	struct json j;

	json_init(&j);
	json_arr_begin(&j);
	json_double(&j, 1.5, 2);
	json_double(&j, 2.0 / 3.0, 3);
	json_double(&j, -0.0001, 3);	/* rounds to -0.000: printed as 0.000 */
	json_double(&j, NAN, 2);
	json_double(&j, INFINITY, 2);
	json_double(&j, 12345.678, 0);
	json_double(&j, 1.25, 42);	/* decimals clamped to 9 */
	json_arr_end(&j);
	CHECK_STR(json_text(&j),
		  "[1.50,0.667,0.000,null,null,12346,1.250000000]");
	json_free(&j);
}

static void test_long_string(void)
{
	struct json j;
	char in[3001], *want;
	size_t i;

	for (i = 0; i < 3000; i++)
		in[i] = (i % 100 == 99) ? '"' : 'a';
	in[3000] = '\0';
	want = malloc(3000 + 30 + 3);
	json_init(&j);
	json_str(&j, in);
	{
		char *p = want;

		*p++ = '"';
		for (i = 0; i < 3000; i++) {
			if (in[i] == '"')
				*p++ = '\\';
			*p++ = in[i];
		}
		*p++ = '"';
		*p = '\0';
	}
	CHECK_STR(json_text(&j), want);
	CHECK_U64(strlen(json_text(&j)), 3032);
	free(want);
	json_free(&j);
}

static void test_println(void)
{
	struct json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_init(&j);
	json_obj_begin(&j);
	json_kv_double(&j, "ts", 1.0, 3);
	json_obj_end(&j);
	CHECK(json_println(&j, f) == 0);
	fclose(f);
	CHECK_STR(buf, "{\"ts\":1.000}\n");
	free(buf);
	json_free(&j);
}

const struct unit_test json_tests[] = {
	UNIT_TEST(test_escape_ascii),
	UNIT_TEST(test_escape_utf8),
	UNIT_TEST(test_escape_truncation),
	UNIT_TEST(test_structure),
	UNIT_TEST(test_numbers),
	UNIT_TEST(test_long_string),
	UNIT_TEST(test_println),
	{ NULL, NULL },
};
