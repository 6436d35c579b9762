// SPDX-License-Identifier: GPL-2.0
/*
 * Name resolution: /proc/kallsyms parsing and lookup, device listings,
 * what -d accepts, and naming bio_sets (by symbol, owner and device).
 */
#include "unit.h"
#include "devices.h"
#include "ksyms.h"
#include "parse.h"
#include "setname.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char kallsyms[] =
	"0000000000000000 A fixed_percpu_data\n"
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 T startup_64\n"
	"ffffffff81400000 T bio_alloc_bioset\n"
	"ffffffff81400400 T bio_alloc_clone\n"
	"ffffffff81400500 t punt_bios_to_rescuer\n"
	"ffffffff81400600 T bio_split\n"
	"ffffffff81400800 T __bio_split_to_limits\n"
	"ffffffff81401000 T submit_bh_wbc\n"
	"ffffffff81402000 T io_schedule_timeout\n"
	"ffffffff81403000 T mempool_alloc_noprof\n"
	"ffffffff82000000 D _sdata\n"
	"ffffffff82100000 B fs_bio_set\n"
	"ffffffff82100100 b blkdev_dio_pool\n"
	"ffffffff82100300 d some_struct\n"
	"ffffffff82200000 B _end\n"
	"this line is garbage\n"
	"ffffffff8300000 X\n"
	"zzzzzzzzzzzzzzzz T bad_addr\n"
	"ffffffffc0100000 t biopool_map\t[dm_biopool]\n"
	"ffffffffc0100400 t biopool_ctr\t[dm_biopool]\n"
	"ffffffffc0102000 d biopool_target\t[dm_biopool]\n"
	"ffffffffc0200000 t alloc_io\t[dm_mod]\n"
	"ffffffffc0200200 t alloc_tio\t[dm_mod]\n"
	"ffffffffc0200400 t __map_bio\t[dm_mod]\n"
	"ffffffffc0300000 t crypt_map\t[dm_crypt]\n"
	"ffffffffc0400000 t bch_data_insert\t[bcache]\n"
	"ffffffffc0500000 b static_set\t[mymod]\n"
	"ffffffffc0600000 t last_fn\t[lastmod]\n"
	"ffffffffc0600000 U undefined_sym\n";	/* no newline at the end */

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Ask for every address of a[n]. */
static void add_all(struct ksyms_batch *b, const uint64_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(ksyms_add(b, a[i]) == 0);
}

/* A batch of a[n] answered from the test's kallsyms and modules text. */
static struct ksyms_batch resolved(const char *text, const uint64_t *a, size_t n,
				   const char *modules)
{
	struct ksyms_batch b = { 0 };

	add_all(&b, a, n);
	CHECK(ksyms_resolve_text(&b, text, strlen(text), modules) == 0);
	return b;
}

/* One name asked of text. */
static struct ksym_name named(const char *text, const char *name)
{
	struct ksym_name n = { .name = name };
	struct ksyms_batch b = { .names = &n, .nnames = 1 };

	CHECK(ksyms_resolve_text(&b, text, strlen(text), NULL) == 0);
	return n;
}

static void test_ksyms_names(void)
{
	struct ksym_name n[] = {
		{ .name = "biopool_map" }, { .name = "fs_bio_set" },
		{ .name = "punt_bios_to_rescuer" }, { .name = "fixed_percpu_data" },
		{ .name = "undefined_sym" }, { .name = "bad_addr" }, { .name = "nosuch" },
		{ .name = "bio_alloc_bioset" }, { .name = "mempool_alloc_noprof" },
		{ .name = "last_fn" }, { .name = "_stext" }, { .name = "startup_64" },
	};
	struct ksyms_batch b = { .names = n, .nnames = N(n) };

	CHECK(ksyms_resolve_text(&b, kallsyms, sizeof(kallsyms) - 1, NULL) == 0);
	CHECK(!b.zero_addrs);
	CHECK(n[0].type == 't' && n[0].addr == 0xffffffffc0100000ULL);
	CHECK_U64(n[0].end, 0xffffffffc0100400ULL);
	CHECK(ksym_is_data(n[1].type) && !ksym_is_text(n[1].type));
	CHECK_U64(n[1].addr, 0xffffffff82100000ULL);
	CHECK(ksym_is_text(n[2].type) && !ksym_is_data(n[2].type));
	/* absolute, undefined, malformed, absent */
	for (int i = 3; i < 7; i++)
		CHECK(n[i].type == 0);
	/* where a function ends: the next symbol above it */
	CHECK_U64(n[7].end, 0xffffffff81400400ULL);
	CHECK_U64(n[8].end, 0xffffffff82000000ULL);
	CHECK(n[9].type && n[9].end == 0);	/* the last one */
	/* two at one address: both end at the next above */
	CHECK(n[10].addr == n[11].addr && n[10].end == 0xffffffff81400000ULL &&
	      n[11].end == n[10].end);
	/* one at a time answers the same */
	for (size_t i = 0; i < N(n); i++) {
		struct ksym_name one = named(kallsyms, n[i].name);

		CHECK(one.type == n[i].type && one.addr == n[i].addr &&
		      one.end == n[i].end);
	}
}

/*
 * A name's end from the lines after it, or, when a line before it lies
 * above it, from a second read: beta has alpha, above it, on an earlier
 * line; gamma is found twice, the lower one last; delta ties with an
 * alias.  Asked together, one by one, and with addresses.
 */
static void test_ksyms_name_end(void)
{
	static const char text[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81000100 T alpha\n"
		"ffffffff81000200 t delta\n"
		"ffffffff81000200 t delta_alias\n"
		"ffffffff81000300 T zeta\n"
		"ffffffffc0000000 t gamma\t[mod_a]\n"
		"ffffffffc0000040 t modfn\t[mod_a]\n"
		"ffffffff81000080 t beta\n"
		"ffffffff81000400 t gamma\n"
		"ffffffff81000480 t eta\n";
	static const uint64_t want[][2] = {
		{ 0xffffffff81000100ULL, 0xffffffff81000200ULL },
		{ 0xffffffff81000080ULL, 0xffffffff81000100ULL },
		{ 0xffffffff81000400ULL, 0xffffffff81000480ULL },
		{ 0xffffffff81000200ULL, 0xffffffff81000300ULL },
		{ 0xffffffff81000480ULL, 0xffffffffc0000000ULL },
	};
	struct ksym_name n[] = {
		{ .name = "alpha" }, { .name = "beta" }, { .name = "gamma" },
		{ .name = "delta" }, { .name = "eta" },
	};
	const uint64_t a[] = { 0xffffffff81000090ULL, 0xffffffff81000410ULL };
	struct ksyms_batch b = { .names = n, .nnames = N(n) };

	add_all(&b, a, N(a));
	CHECK(ksyms_resolve_text(&b, text, sizeof(text) - 1, NULL) == 0);
	for (size_t i = 0; i < N(n); i++) {
		struct ksym_name one = named(text, n[i].name);

		CHECK_U64(n[i].addr, want[i][0]);
		CHECK_U64(n[i].end, want[i][1]);
		CHECK(one.addr == want[i][0] && one.end == want[i][1]);
	}
	CHECK_STR(ksyms_at(&b, a[0])->name, "beta");
	CHECK_STR(ksyms_at(&b, a[1])->name, "gamma");
	CHECK_STR(ksyms_at(&b, a[1])->mod, "");
	ksyms_batch_free(&b);
}

static void test_ksyms_zero(void)
{
	static const char z[] =
		"0000000000000000 T _stext\n"
		"0000000000000000 T bio_alloc_bioset\n";
	const uint64_t a[] = { 0x1234 };
	struct ksyms_batch b = resolved(z, a, 1, NULL);

	CHECK(b.zero_addrs);
	CHECK(ksyms_at(&b, 0x1234) == NULL);
	ksyms_batch_free(&b);
	b = (struct ksyms_batch){ 0 };
	CHECK(ksyms_resolve_text(&b, z, sizeof(z) - 1, NULL) == 0 && b.zero_addrs);
	CHECK(named(z, "bio_alloc_bioset").type == 0);
	/* nothing listed: nothing resolves, and it is not kptr_restrict */
	b = resolved("", a, 1, NULL);
	CHECK(!b.zero_addrs && ksyms_at(&b, 0x1234) == NULL);
	ksyms_batch_free(&b);
	ksyms_batch_free(&b);	/* twice is fine */
}

/* write text to a new temporary file; its path in path */
static int write_tmp(char *path, const char *text, size_t len, int copies)
{
	int fd = mkstemp(path), ok = fd >= 0;

	for (int i = 0; ok && i < copies; i++)
		ok = write(fd, text, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Two batches answered alike: addresses, offsets, names, modules. */
static void same_answers(const struct ksyms_batch *x, const struct ksyms_batch *y,
			 const uint64_t *a, size_t n)
{
	char f[256], g[256];

	for (size_t i = 0; i < n; i++) {
		const struct ksym_at *p = ksyms_at(x, a[i]), *q = ksyms_at(y, a[i]);

		ksym_format(x, a[i], f, sizeof(f));
		ksym_format(y, a[i], g, sizeof(g));
		CHECK_STR(g, f);
		CHECK(!p == !q);
		CHECK(!p || !q || p->type == q->type);
		CHECK(ksym_tracer_frame(x, a[i]) == ksym_tracer_frame(y, a[i]));
	}
}

/* The file is read in pieces; it answers as its text does. */
static void test_ksyms_file(void)
{
	static const char modules[] = "dm_biopool 4096 0 - Live 0xffffffffc0100000\n";
	const uint64_t a[] = {
		0xffffffff81400010ULL, 0xffffffff82100180ULL, 0xffffffffc0100404ULL,
		0xffffffffc0101404ULL, 0xffffffffc0600010ULL, 0x1000ULL,
	};
	char path[] = "/tmp/biostat-unit-ksyms-XXXXXX";
	struct ksym_name n[] = { { .name = "fs_bio_set" }, { .name = "last_fn" } };
	struct ksyms_batch f = { .names = n, .nnames = N(n) }, t;

	/* copies enough to cross the read buffer many times: each copy's
	 * last line ends where the next one's first begins, and later copies
	 * of a symbol answer as the first */
	CHECK(write_tmp(path, kallsyms, sizeof(kallsyms) - 1, 200) == 0);
	add_all(&f, a, N(a));
	CHECK(ksyms_resolve(&f, path, modules) == 0);
	unlink(path);
	t = resolved(kallsyms, a, N(a), modules);
	same_answers(&f, &t, a, N(a));
	CHECK(!f.zero_addrs && n[0].addr == 0xffffffff82100000ULL && n[1].type == 't');
	CHECK_STR(ksyms_at(&f, a[4])->mod, "lastmod");
	errno = 0;
	CHECK(ksyms_resolve(&f, "/nonexistent/kallsyms", NULL) == -1 && errno == ENOENT);
	ksyms_batch_free(&f);
	ksyms_batch_free(&t);
}

static void test_ksyms_resolve(void)
{
	static const char modules[] =
		"dm_biopool 4096 0 - Live 0xffffffffc0100000\n"
		"dm_mod 4096 1 dm_biopool, Live 0xffffffffc0200000 (E)\n"
		"hidden 4096 0 - Live 0x0000000000000000\n"
		"garbage\n";
	/* unsorted, one twice */
	const uint64_t a[] = {
		0xffffffff81400400ULL, 0xffffffff80000000ULL, 0xffffffff81400000ULL,
		0xffffffff814003ffULL, 0xffffffff81000000ULL, 0xffffffff814030f0ULL,
		0xffffffff81503000ULL, 0xffffffffc0610000ULL, 0xffffffffc060ffffULL,
		0xffffffffc0100fffULL, 0xffffffffc0101000ULL, 0xffffffffc0201000ULL,
		0xffffffffc0200fffULL, 0xffffffffc0500010ULL, 0xffffffffc030ffffULL,
		0xffffffff81400000ULL, 0, 0xffffffffffffffffULL,
	};
	struct ksyms_batch b = resolved(kallsyms, a, N(a), NULL), m;
	const struct ksym_at *s;

	CHECK_U64(b.n, N(a) - 2);	/* 0 is not asked, nor twice */
	CHECK(ksyms_at(&b, 0xffffffff80000000ULL) == NULL);
	CHECK_STR(ksyms_at(&b, 0xffffffff81400000ULL)->name, "bio_alloc_bioset");
	CHECK_STR(ksyms_at(&b, 0xffffffff814003ffULL)->name, "bio_alloc_bioset");
	CHECK_STR(ksyms_at(&b, 0xffffffff81400400ULL)->name, "bio_alloc_clone");
	/* of two at one address, the last listed */
	CHECK_STR(ksyms_at(&b, 0xffffffff81000000ULL)->name, "startup_64");
	/* 1 MiB past a vmlinux symbol, 64 KiB past a module one */
	s = ksyms_at(&b, 0xffffffff814030f0ULL);
	CHECK(s && !strcmp(s->name, "mempool_alloc_noprof") &&
	      s->addr - s->sym == 0xf0 && s->type == 'T' && !s->mod[0]);
	CHECK(ksyms_at(&b, 0xffffffff81503000ULL) == NULL);
	CHECK(ksyms_at(&b, 0xffffffffc0610000ULL) == NULL);
	CHECK(ksyms_at(&b, 0xffffffffffffffffULL) == NULL);
	CHECK_STR(ksyms_at(&b, 0xffffffffc060ffffULL)->mod, "lastmod");
	CHECK(ksyms_at(&b, 0xffffffffc0101000ULL) != NULL);
	/* not asked */
	CHECK(ksyms_at(&b, 0xffffffff81400001ULL) == NULL);
	/* with /proc/modules: a function only within its module's extent */
	m = resolved(kallsyms, a, N(a), modules);
	CHECK_STR(ksyms_at(&m, 0xffffffffc0100fffULL)->name, "biopool_ctr");
	/* past dm_biopool's 4 KiB: JIT-ed code, not biopool_ctr */
	CHECK(ksyms_at(&m, 0xffffffffc0101000ULL) == NULL);
	CHECK(ksym_tracer_frame(&m, 0xffffffffc0101000ULL));
	CHECK(ksyms_at(&m, 0xffffffffc0201000ULL) == NULL);
	CHECK_STR(ksyms_at(&m, 0xffffffffc0200fffULL)->name, "__map_bio");
	/* a module data symbol, apart from the text (6.4+), still resolves */
	CHECK_STR(ksyms_at(&m, 0xffffffffc0500010ULL)->name, "static_set");
	/* modules not listed keep the 64 KiB rule */
	CHECK(ksyms_at(&m, 0xffffffffc030ffffULL) != NULL);
	ksyms_batch_free(&b);
	ksyms_batch_free(&m);
}

/* Random addresses over the whole range: a batch answers each as a
 * batch of its own would. */
static void test_ksyms_batch(void)
{
	uint64_t rnd[300], x = 0x9e3779b97f4a7c15ULL;
	struct ksyms_batch all;

	for (size_t i = 0; i < N(rnd); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rnd[i] = 0xffffffff80000000ULL + x % 0x40800000ULL;
	}
	all = resolved(kallsyms, rnd, N(rnd), NULL);
	for (size_t i = 0; i < N(rnd); i++) {
		struct ksyms_batch one = resolved(kallsyms, &rnd[i], 1, NULL);

		same_answers(&all, &one, &rnd[i], 1);
		ksyms_batch_free(&one);
	}
	ksyms_batch_free(&all);
	/* the same few addresses over and over take the room of a few */
	for (size_t i = 0; i < 100 * N(rnd); i++)
		CHECK(ksyms_add(&all, rnd[i % 10]) == 0);
	CHECK(all.cap <= 64);
	CHECK(ksyms_resolve_text(&all, kallsyms, sizeof(kallsyms) - 1, NULL) == 0);
	CHECK_U64(all.n, 10);
	ksyms_batch_free(&all);
}

static void test_ksym_format(void)
{
	const uint64_t a[] = { 0xffffffff81400021ULL, 0xffffffffc0100122ULL,
			       0xffffffffc0650000ULL, 0x10ULL };
	struct ksyms_batch b = resolved(kallsyms, a, N(a), NULL);
	char buf[128];

	ksym_format(&b, a[0], buf, sizeof(buf));
	CHECK_STR(buf, "bio_alloc_bioset+0x21");
	ksym_format(&b, a[1], buf, sizeof(buf));
	CHECK_STR(buf, "biopool_map+0x122 [dm_biopool]");
	ksym_format(&b, a[2], buf, sizeof(buf));
	CHECK_STR(buf, "0xffffffffc0650000");
	ksym_format(&b, a[3], buf, sizeof(buf));
	CHECK_STR(buf, "0x10");
	ksym_format(&b, a[1], buf, 8);	/* truncated, terminated */
	CHECK_STR(buf, "biopool");
	ksyms_batch_free(&b);
}

static void test_tracer_frame(void)
{
	static const char text[] =
		"ffffffff81400000 T bio_alloc_bioset\n"
		"ffffffff81401000 T bpf_trampoline_6442\n"
		"ffffffff82100000 B fs_bio_set\n"
		"ffffffffc0100000 t biopool_map\t[dm_biopool]\n"
		"ffffffffc0700000 t ftrace_trampoline\t[__builtin__ftrace]\n"
		"ffffffffc0800000 t bpf_prog_1234_fx_alloc\t[bpf]\n";
	const uint64_t a[] = { 0xffffffff81400009ULL, 0xffffffff81400000ULL,
			       0xffffffff814000d1ULL, 0xffffffffc0650000ULL,
			       0xffffffff81401040ULL, 0xffffffff82100010ULL,
			       0xffffffffc0100040ULL, 0xffffffffc0700040ULL,
			       0xffffffffc0800040ULL };
	struct ksyms_batch b = resolved(kallsyms, a, 4, NULL), c;

	/* just after the fentry call of a traced function */
	CHECK(ksym_tracer_frame(&b, a[0]));
	CHECK(ksym_tracer_frame(&b, a[1]));
	/* a real return address */
	CHECK(!ksym_tracer_frame(&b, a[2]));
	/* JIT-ed code between modules */
	CHECK(ksym_tracer_frame(&b, a[3]));
	ksyms_batch_free(&b);
	/* the one definition that -s, set names and check share */
	c = resolved(text, a + 4, N(a) - 4, NULL);
	CHECK(ksym_tracer_frame(&c, a[4]));	/* bpf_* */
	CHECK(ksym_tracer_frame(&c, a[5]));	/* not text (6.1's trampoline) */
	CHECK(!ksym_tracer_frame(&c, a[6]));	/* a module's function */
	CHECK(ksym_tracer_frame(&c, a[7]));	/* ftrace's pseudo-module */
	CHECK(ksym_tracer_frame(&c, a[8]));	/* BPF's */
	ksyms_batch_free(&c);
}

static void test_parse_majmin(void)
{
	unsigned int ma = 99, mi = 99;

	CHECK(parse_majmin("253:2", &ma, &mi) == 0 && ma == 253 && mi == 2);
	CHECK(parse_majmin("0:0", &ma, &mi) == 0 && ma == 0 && mi == 0);
	CHECK(parse_majmin("4095:1048575", &ma, &mi) == 0 && ma == 4095 &&
	      mi == 1048575);
	CHECK(parse_majmin("4096:0", &ma, &mi) == -1);
	CHECK(parse_majmin("0:1048576", &ma, &mi) == -1);
	CHECK(parse_majmin("253:", &ma, &mi) == -1);
	CHECK(parse_majmin(":2", &ma, &mi) == -1);
	CHECK(parse_majmin("253", &ma, &mi) == -1);
	CHECK(parse_majmin("a:b", &ma, &mi) == -1);
	CHECK(parse_majmin("1:2:3", &ma, &mi) == -1);
	CHECK(parse_majmin("+1:2", &ma, &mi) == -1);
	CHECK(parse_majmin(" 1:2", &ma, &mi) == -1);
	CHECK(parse_majmin("1:2 ", &ma, &mi) == -1);
	CHECK(parse_majmin("99999999999999999999:1", &ma, &mi) == -1);
	CHECK(parse_majmin("", &ma, &mi) == -1);
	CHECK(parse_majmin(NULL, &ma, &mi) == -1);
}

static void test_parse_interval_count(void)
{
	double d = 0;
	long n = 0;

	CHECK(parse_interval("1", &d) == 0);
	CHECK_DBL(d, 1.0);
	CHECK(parse_interval("0.5", &d) == 0);
	CHECK_DBL(d, 0.5);
	CHECK(parse_interval("10.25", &d) == 0);
	CHECK_DBL(d, 10.25);
	CHECK(parse_interval(".5", &d) == 0);
	CHECK_DBL(d, 0.5);
	CHECK(parse_interval("0.001", &d) == 0);
	CHECK(parse_interval("0", &d) == -1);
	CHECK(parse_interval("0.0", &d) == -1);
	CHECK(parse_interval("0.0001", &d) == -1);
	CHECK(parse_interval("-1", &d) == -1);
	CHECK(parse_interval("abc", &d) == -1);
	CHECK(parse_interval("1e3", &d) == -1);
	CHECK(parse_interval("1.", &d) == -1);
	CHECK(parse_interval(".", &d) == -1);
	CHECK(parse_interval("", &d) == -1);
	CHECK(parse_interval("1.0000000001", &d) == -1);
	CHECK(parse_interval("99999999999", &d) == -1);
	CHECK(parse_interval(" 1", &d) == -1);

	CHECK(parse_count("1", 100, &n) == 0 && n == 1);
	CHECK(parse_count("100", 100, &n) == 0 && n == 100);
	CHECK(parse_count("101", 100, &n) == -1);
	CHECK(parse_count("0", 100, &n) == -1);
	CHECK(parse_count("-3", 100, &n) == -1);
	CHECK(parse_count("12x", 100, &n) == -1);
	CHECK(parse_count("", 100, &n) == -1);
	CHECK(parse_count("9223372036854775808", 9223372036854775807L, &n) == -1);
	CHECK(parse_count("9223372036854775807", 9223372036854775807L, &n) == 0 &&
	      n == 9223372036854775807L);
}

static const char blk_list[] =
	"vda 254:0\n"
	"vda1 254:1\n"
	"ram0 1:0\n"
	"dm-0 253:0\n"
	"dm-1 253:1\n"
	"dm-2 253:2\n"
	"broken line without dev\n"
	"bad 1:x\n";

static const char dm_list[] =
	"bp0 253:0\n"
	"bp1 253:1\n"
	"my-top 253:2";	/* no final newline */

static void test_devlists(void)
{
	unsigned int ma, mi;
	char name[16];

	CHECK(devlist_by_name(dm_list, "bp1", &ma, &mi) == 0 && ma == 253 && mi == 1);
	CHECK(devlist_by_name(dm_list, "my-top", &ma, &mi) == 0 && mi == 2);
	CHECK(devlist_by_name(dm_list, "bp", &ma, &mi) == -1);
	CHECK(devlist_by_name(dm_list, "bp00", &ma, &mi) == -1);
	CHECK(devlist_by_name(blk_list, "bad", &ma, &mi) == -1);
	CHECK(devlist_by_name(NULL, "bp0", &ma, &mi) == -1);
	CHECK(devlist_by_name("", "bp0", &ma, &mi) == -1);
	CHECK(devlist_by_dev(dm_list, 253, 2, name, sizeof(name)) == 0);
	CHECK_STR(name, "my-top");
	CHECK(devlist_by_dev(blk_list, 1, 0, name, sizeof(name)) == 0);
	CHECK_STR(name, "ram0");
	CHECK(devlist_by_dev(blk_list, 1, 1, name, sizeof(name)) == -1);
	CHECK(devlist_by_dev(blk_list, 254, 0, NULL, 0) == 0);
	CHECK(devlist_by_dev(dm_list, 253, 2, name, 4) == 0);
	CHECK_STR(name, "my-");
	/* "WORD WORD" pairs: every value of a key, in order */
	CHECK(devpairs_get("ram0 dm-0\nram00 dm-9\nram0 md0", "ram0", 0, name,
			   sizeof(name)) == 0);
	CHECK_STR(name, "dm-0");
	CHECK(devpairs_get("ram0 dm-0\nram00 dm-9\nram0 md0", "ram0", 1, name,
			   sizeof(name)) == 0);
	CHECK_STR(name, "md0");
	CHECK(devpairs_get("ram0 dm-0\nram00 dm-9\nram0 md0", "ram0", 2, name,
			   sizeof(name)) == -1);
	CHECK(devpairs_get("ram0 \nram0", "ram0", 0, name, sizeof(name)) == -1);
	CHECK(devpairs_get(NULL, "ram0", 0, name, sizeof(name)) == -1);
	CHECK(devpairs_get("md0 raid1", "md0", 0, NULL, 0) == 0);
}

static void test_resolve_device_arg(void)
{
	unsigned int ma = 0, mi = 0;

	CHECK(resolve_device_arg("253:1", dm_list, blk_list, &ma, &mi) == 0 &&
	      ma == 253 && mi == 1);
	CHECK(resolve_device_arg("254:0", dm_list, blk_list, &ma, &mi) == 0 &&
	      ma == 254 && mi == 0);
	CHECK(resolve_device_arg("9:9", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("253:x", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("bp0", dm_list, blk_list, &ma, &mi) == 0 &&
	      ma == 253 && mi == 0);
	CHECK(resolve_device_arg("/dev/mapper/my-top", dm_list, blk_list, &ma, &mi) == 0 &&
	      mi == 2);
	CHECK(resolve_device_arg("/dev/mapper/vda", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("/dev/dm-1", dm_list, blk_list, &ma, &mi) == 0 &&
	      ma == 253 && mi == 1);
	CHECK(resolve_device_arg("/dev/vda1", dm_list, blk_list, &ma, &mi) == 0 &&
	      ma == 254 && mi == 1);
	CHECK(resolve_device_arg("ram0", dm_list, blk_list, &ma, &mi) == 0 &&
	      ma == 1 && mi == 0);
	CHECK(resolve_device_arg("nosuch", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("/dev/nosuch", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("/tmp/file", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("a/b", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg("", dm_list, blk_list, &ma, &mi) == -1);
	CHECK(resolve_device_arg(NULL, dm_list, blk_list, &ma, &mi) == -1);
}

#define KDEV(ma, mi) (((uint32_t)(ma) << 20) | (mi))

static const char *name_of(const struct ksyms_batch *ks, uint64_t bs, uint32_t kdev,
			   const uint64_t *caller, unsigned int n, uint64_t fsbs,
			   int *rule)
{
	static char buf[128];
	struct set_desc d = {
		.bs = bs, .kdev = kdev, .caller = caller, .ncaller = n,
		.fs_bio_set = fsbs,
	};
	struct devlists dl = {
		.blk = (char *)blk_list, .dm = (char *)dm_list,
	};

	*rule = describe_set(ks, &dl, &d, buf, sizeof(buf));
	return buf;
}

static void test_describe_set(void)
{
	const uint64_t sets[] = {
		0xffff888001234500ULL, 0xffffffff82100000ULL, 0xffffffff82100100ULL,
		0xffffffff82100340ULL, 0xffffffffc0500020ULL, 0xffff888003000000ULL,
		0xffffffff82300000ULL,
	};
	struct ksyms_batch b = { 0 }, *ks = &b;
	/* fexit stack: trampoline, fentry site, plumbing, the caller */
	const uint64_t biopool[] = {
		0xffffffffc0650000ULL,		/* BPF trampoline */
		0xffffffff81400009ULL,		/* bio_alloc_bioset+0x9 */
		0xffffffff81400423ULL,		/* bio_alloc_clone+0x23 */
		0xffffffffc0100122ULL,		/* biopool_map+0x122 */
		0xffffffffc0200478ULL,		/* __map_bio */
		0,
	};
	/* 6.1: a trampoline not in kallsyms, resolving to a module's text */
	const uint64_t stray[] = {
		0xffffffffc0300048ULL,		/* "crypt_map+0x8": the trampoline */
		0xffffffff81400009ULL,		/* bio_alloc_bioset+0x9 */
		0xffffffff81400423ULL,		/* bio_alloc_clone+0x23 */
		0xffffffffc0100122ULL,		/* biopool_map+0x122 */
		0,
	};
	const uint64_t dmio[] = { 0xffffffff81400450ULL, 0xffffffffc0200050ULL, 0 };
	const uint64_t dmtio[] = { 0xffffffffc0200250ULL, 0 };
	const uint64_t crypt[] = { 0xffffffff814000d1ULL, 0xffffffffc0300040ULL };
	const uint64_t split[] = { 0xffffffff81400450ULL, 0xffffffff81400630ULL,
				   0xffffffff81400830ULL };
	const uint64_t bcache[] = { 0xffffffff814000d1ULL, 0xffffffffc0400010ULL };
	const uint64_t other[] = { 0xffffffff814000d1ULL, 0xffffffffc0600010ULL };
	const uint64_t plumbing_only[] = { 0xffffffff814000d1ULL, 0xffffffffc0650000ULL };
	int rule;

	/* every address the names below look up, in one batch */
	add_all(ks, sets, N(sets));
	add_all(ks, biopool, N(biopool));
	add_all(ks, stray, N(stray));
	add_all(ks, dmio, N(dmio));
	add_all(ks, dmtio, N(dmtio));
	add_all(ks, crypt, N(crypt));
	add_all(ks, split, N(split));
	add_all(ks, bcache, N(bcache));
	add_all(ks, other, N(other));
	add_all(ks, plumbing_only, N(plumbing_only));
	CHECK(ksyms_resolve_text(ks, kallsyms, sizeof(kallsyms) - 1, NULL) == 0);

	/* 1: the address of fs_bio_set as learnt at run time */
	CHECK_STR(name_of(ks, 0xffff888001234500ULL, KDEV(254, 0), NULL, 0,
			  0xffff888001234500ULL, &rule), "fs_bio_set");
	CHECK(rule == 1);
	/* 2: data symbols, with an offset, in a module */
	CHECK_STR(name_of(ks, 0xffffffff82100000ULL, KDEV(254, 0), NULL, 0, 0, &rule),
		  "fs_bio_set");
	CHECK(rule == 2);
	CHECK_STR(name_of(ks, 0xffffffff82100100ULL, 0, NULL, 0, 0, &rule),
		  "blkdev_dio_pool");
	CHECK_STR(name_of(ks, 0xffffffff82100340ULL, 0, NULL, 0, 0, &rule),
		  "some_struct+0x40");
	CHECK_STR(name_of(ks, 0xffffffffc0500020ULL, 0, NULL, 0, 0, &rule),
		  "static_set+0x20[mymod]");
	/* 3: dm devices, the target from the allocating module */
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 1), biopool, 6, 0, &rule),
		  "bp1:biopool");
	CHECK(rule == 3);
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 2), dmio, 3, 0, &rule),
		  "my-top:dm-core(io)");
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 2), dmtio, 2, 0, &rule),
		  "my-top:dm-core(tio)");
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 0), crypt, 2, 0, &rule),
		  "bp0:crypt");
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 0), NULL, 0, 0, &rule),
		  "bp0:?");
	/* 4: a queue's split set */
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(254, 0), split, 3, 0, &rule),
		  "vda:queue-split");
	CHECK(rule == 4);
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 1), split, 3, 0, &rule),
		  "bp1:queue-split");
	/* bcache with no bcache device known: the owner, not vda */
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(254, 0), bcache, 2, 0, &rule),
		  "?:bcache");
	CHECK(rule == 3);
	/* 5: no owner known: the allocating function */
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(254, 0), other, 2, 0, &rule),
		  "last_fn[lastmod]");
	CHECK(rule == 5);
	/* 6: nothing else known */
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(254, 0), plumbing_only, 2, 0,
			  &rule), "0xffff888003000000");
	CHECK(rule == 6);
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, 0, NULL, 0, 0, &rule),
		  "0xffff888003000000");
	/* an address far from any symbol is not "the nearest data symbol" */
	CHECK_STR(name_of(ks, 0xffffffff82300000ULL, 0, NULL, 0, 0, &rule),
		  "0xffffffff82300000");
	CHECK(first_caller_frame(ks, biopool, 6) == 3);
	CHECK_STR(name_of(ks, 0xffff888003000000ULL, KDEV(253, 1), stray, 5, 0, &rule),
		  "bp1:biopool");
	CHECK(alloc_frames_start(ks, stray, 5) == 1);
	CHECK(first_caller_frame(ks, stray, 5) == 3);
	CHECK(alloc_frames_start(ks, bcache, 2) == 0);
	CHECK(alloc_frames_start(ks, dmtio, 2) == 0);
	/* compiler-made copies keep their function's name */
	CHECK(func_name_is("bio_submit_split.part.0", "bio_submit_split"));
	CHECK(func_name_is("alloc_io.isra.0", "alloc_io"));
	CHECK(func_name_is("bio_split.constprop.0.cold", "bio_split"));
	CHECK(func_name_is("bio_split", "bio_split"));
	CHECK(!func_name_is("bio_split_rw", "bio_split"));
	CHECK(!func_name_is("bio_spli", "bio_split"));
	CHECK(first_caller_frame(ks, plumbing_only, 2) == -1);
	CHECK(first_caller_frame(ks, biopool, 0) == -1);
	ksyms_batch_free(ks);
}

/* Symbols and devices of md, dm-crypt, dm-io, bcache and queue splits. */
static const char owner_syms[] =
	"ffffffff81400000 T bio_alloc_bioset\n"
	"ffffffff81400400 T bio_alloc_clone\n"
	"ffffffff81400600 T bio_split\n"
	"ffffffff81400800 T bio_submit_split_bioset\n"
	"ffffffff81400a00 t bio_submit_split.part.0\n"
	"ffffffff81400c00 T __bio_split_to_limits\n"
	"ffffffff81401000 T process_one_work\n"
	"ffffffff82000000 D _sdata\n"
	"ffffffffc0200000 t alloc_io\t[dm_mod]\n"
	"ffffffffc0200200 t alloc_tio.isra.0\t[dm_mod]\n"
	"ffffffffc0200400 t do_region\t[dm_mod]\n"
	"ffffffffc0200600 t dispatch_io\t[dm_mod]\n"
	"ffffffffc0200800 t dm_io\t[dm_mod]\n"
	"ffffffffc0200a00 t run_io_job\t[dm_mod]\n"
	"ffffffffc0200c00 t dm_submit_bio\t[dm_mod]\n"
	"ffffffffc0200e00 t __split_and_process_bio\t[dm_mod]\n"
	"ffffffffc0201000 t __map_bio\t[dm_mod]\n"
	"ffffffffc0300000 t crypt_map\t[dm_crypt]\n"
	"ffffffffc0300200 t crypt_alloc_buffer.constprop.0\t[dm_crypt]\n"
	"ffffffffc0300400 t kcryptd_crypt\t[dm_crypt]\n"
	"ffffffffc0400000 t bch_data_insert_start\t[bcache]\n"
	"ffffffffc0400200 t cached_dev_write\t[bcache]\n"
	"ffffffffc0500000 t raid1_read_request\t[raid1]\n"
	"ffffffffc0500200 t raid1_write_request\t[raid1]\n"
	"ffffffffc0600000 t md_account_bio\t[md_mod]\n"
	"ffffffffc0600200 t md_super_write\t[md_mod]\n"
	"ffffffffc0600400 t md_handle_request\t[md_mod]\n"
	"ffffffffc0600600 t md_write_metadata\t[md_mod]\n"
	"ffffffffc0700000 t raid5_make_request\t[raid456]\n"
	"ffffffffc0800000 t use_dmio\t[dm_bufio]\n"
	"ffffffffc0900000 t pool_map\t[dm_thin_pool]\n";

/* cr0 (dm-0) on md0 on vdb and vdc; bp1 (dm-1) on ram0; bcache0 on
 * bp1, cached on ram1; pool (dm-2) on ram2 */
static const char own_blk[] =
	"vdb 254:16\nvdc 254:32\nmd0 9:0\ndm-0 253:0\nram0 1:0\n"
	"dm-1 253:1\nbcache0 252:0\nram1 1:1\nram2 1:2\ndm-2 253:2\n";
static const char own_dm[] = "cr0 253:0\nbp1 253:1\npool 253:2\n";
static const char own_holders[] =
	"vdb md0\nvdc md0\nmd0 dm-0\nram0 dm-1\ndm-1 bcache0\n"
	"ram1 bcache0\nram2 dm-2\n";
static const char own_md[] = "md0 raid1\n";

static const char *owner_name_pad(const struct ksyms_batch *ks, uint32_t kdev,
				  bool clone, uint32_t front_pad,
				  const uint64_t *ips, unsigned int n)
{
	static char buf[128];
	struct set_desc d = {
		.bs = 0xffff888004000000ULL, .kdev = kdev, .clone = clone,
		.caller = ips, .ncaller = n, .front_pad = front_pad,
	};
	struct devlists dl = {
		.blk = (char *)own_blk, .dm = (char *)own_dm,
		.holders = (char *)own_holders, .md = (char *)own_md,
	};

	describe_set(ks, &dl, &d, buf, sizeof(buf));
	return buf;
}

static const char *owner_name_of(const struct ksyms_batch *ks, uint32_t kdev,
				 bool clone, const uint64_t *ips, unsigned int n)
{
	return owner_name_pad(ks, kdev, clone, 0, ips, n);
}

#define TRAMP	0xffffffffc0650000ULL	/* a BPF trampoline */
#define ALLOC	0xffffffff81400009ULL	/* bio_alloc_bioset+0x9 */
#define CLONE	0xffffffff81400423ULL	/* bio_alloc_clone+0x23 */
#define SPLIT	0xffffffff81400611ULL	/* bio_split+0x11 */

static void test_describe_owner(void)
{
	struct ksyms_batch b = { 0 }, *ks = &b;
	const uint64_t crypt_read[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0300010ULL, 0 };
	const uint64_t crypt_write[] = { TRAMP, ALLOC, 0xffffffffc0300210ULL,
					 0xffffffffc0300410ULL, 0xffffffff81401010ULL, 0 };
	const uint64_t dm_tio[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0200210ULL, 0 };
	/* 6.1: alloc_io() inlined into dm_submit_bio(), alloc_tio() into
	 * __split_and_process_bio(), itself called from dm_submit_bio() */
	const uint64_t dm_io61[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0200c10ULL, 0 };
	const uint64_t dm_tio61[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0200e10ULL,
				      0xffffffffc0200c10ULL, 0 };
	const uint64_t dm_other[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0201010ULL, 0 };
	const uint64_t r1_clone[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0500010ULL,
				      0xffffffffc0600410ULL, 0 };
	const uint64_t r1_wclone[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0500210ULL, 0 };
	/* 6.1, 6.12: raid1's bio_split(); 7.2: bio_submit_split_bioset() */
	const uint64_t r1_split[] = { TRAMP, ALLOC, CLONE, SPLIT, 0xffffffffc0500010ULL, 0 };
	const uint64_t r1_split72[] = { TRAMP, ALLOC, CLONE, SPLIT, 0xffffffff81400810ULL,
					0xffffffffc0500010ULL, 0 };
	const uint64_t md_acct[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0600010ULL, 0 };
	const uint64_t md_sync[] = { TRAMP, ALLOC, 0xffffffffc0600210ULL, 0 };
	const uint64_t md_sync72[] = { TRAMP, ALLOC, 0xffffffffc0600610ULL, 0 };
	const uint64_t r5_split[] = { TRAMP, ALLOC, CLONE, SPLIT, 0xffffffffc0700010ULL, 0 };
	const uint64_t r5_clone[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0700010ULL, 0 };
	const uint64_t qsplit[] = { TRAMP, ALLOC, CLONE, SPLIT, 0xffffffff81400a10ULL,
				    0xffffffff81400c10ULL, 0xffffffffc0600410ULL, 0 };
	const uint64_t qsplit72[] = { TRAMP, ALLOC, CLONE, SPLIT, 0xffffffff81400810ULL,
				      0xffffffff81400a10ULL, 0xffffffffc0600410ULL, 0 };
	const uint64_t bc_insert[] = { TRAMP, ALLOC, CLONE, SPLIT, 0xffffffffc0400010ULL, 0 };
	const uint64_t bc_write[] = { TRAMP, ALLOC, CLONE, 0xffffffffc0400210ULL, 0 };
	const uint64_t kcopyd[] = { TRAMP, ALLOC, 0xffffffffc0200410ULL, 0xffffffffc0200610ULL,
				    0xffffffffc0200810ULL, 0xffffffffc0200a10ULL,
				    0xffffffff81401010ULL, 0 };
	const uint64_t bufio[] = { TRAMP, ALLOC, 0xffffffffc0200410ULL, 0xffffffffc0200610ULL,
				   0xffffffffc0200810ULL, 0xffffffffc0800010ULL, 0 };
	const uint64_t dmio[] = { TRAMP, ALLOC, 0xffffffffc0200410ULL, 0xffffffffc0200810ULL, 0 };
	const uint64_t *const all[] = {
		crypt_read, crypt_write, dm_tio, dm_io61, dm_tio61, dm_other, r1_clone,
		r1_wclone, r1_split, r1_split72, md_acct, md_sync, md_sync72, r5_split,
		r5_clone, qsplit, qsplit72, bc_insert, bc_write, kcopyd, bufio, dmio,
	};

	/* every frame below, and the set, in one batch */
	CHECK(ksyms_add(ks, 0xffff888004000000ULL) == 0);
	for (size_t i = 0; i < N(all); i++)
		for (size_t k = 0; all[i][k]; k++)
			CHECK(ksyms_add(ks, all[i][k]) == 0);
	CHECK(ksyms_resolve_text(ks, owner_syms, sizeof(owner_syms) - 1, NULL) == 0);
	/* dm-crypt: the same name whether a read (a clone of the bio sent to
	 * cr0) or a write (a new bio for md0, below) came first */
	CHECK_STR(owner_name_of(ks, KDEV(253, 0), true, crypt_read, 5), "cr0:crypt");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), false, crypt_write, 6), "cr0:crypt");
	CHECK_STR(owner_name_of(ks, KDEV(253, 0), true, dm_tio, 5), "cr0:dm-core(tio)");
	CHECK_STR(owner_name_of(ks, KDEV(253, 0), true, dm_io61, 5), "cr0:dm-core(io)");
	CHECK_STR(owner_name_of(ks, KDEV(253, 0), true, dm_tio61, 6), "cr0:dm-core(tio)");
	CHECK_STR(owner_name_of(ks, KDEV(253, 0), true, dm_other, 5), "cr0:dm-core");
	/* md: by array and level, one name per set, whatever the direction */
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, r1_clone, 6), "md0:raid1(clone)");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, r1_wclone, 5), "md0:raid1(clone)");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, r1_split, 6), "md0:raid1(split)");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, r1_split72, 7), "md0:raid1(split)");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, md_acct, 5), "md0:raid1(acct)");
	CHECK_STR(owner_name_of(ks, KDEV(254, 32), false, md_sync, 4), "md0:raid1(sync)");
	CHECK_STR(owner_name_of(ks, KDEV(254, 32), false, md_sync72, 4), "md0:raid1(sync)");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, r5_split, 6), "md0:raid1(split)");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, r5_clone, 5), "md0:raid1(clone)");
	/* 6.1: raid5's aligned reads clone from the accounting set directly
	 * (no md_account_bio on the stack): its front_pad names it the same */
	CHECK_STR(owner_name_pad(ks, KDEV(9, 0), true, 16, r5_clone, 5), "md0:raid1(acct)");
	CHECK_STR(owner_name_pad(ks, KDEV(9, 0), true, 16, md_acct, 5), "md0:raid1(acct)");
	/* queue splits, whatever copy of the function the compiler made */
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, qsplit, 8), "md0:queue-split");
	CHECK_STR(owner_name_of(ks, KDEV(9, 0), true, qsplit72, 8), "md0:queue-split");
	CHECK_STR(owner_name_of(ks, KDEV(253, 1), true, qsplit, 8), "bp1:queue-split");
	/* bcache on a dm device: bcache0's, not bp1's */
	CHECK_STR(owner_name_of(ks, KDEV(253, 1), true, bc_write, 5), "bcache0:bcache");
	CHECK_STR(owner_name_of(ks, KDEV(252, 0), true, bc_write, 5), "bcache0:bcache");
	CHECK_STR(owner_name_of(ks, KDEV(1, 1), true, bc_insert, 6),
		  "bcache0:bcache(cache-set)");
	/* dm-io clients: the dm device on the device the I/O is for */
	CHECK_STR(owner_name_of(ks, KDEV(1, 2), false, kcopyd, 8), "pool:kcopyd");
	CHECK_STR(owner_name_of(ks, KDEV(1, 2), false, bufio, 7), "pool:bufio(dm-io)");
	CHECK_STR(owner_name_of(ks, KDEV(1, 2), false, dmio, 5), "pool:dm-io");
	/* no device of the owner's kind: never the device below */
	CHECK_STR(owner_name_of(ks, KDEV(254, 16), false, crypt_write, 6), "?:crypt");
	CHECK_STR(owner_name_of(ks, KDEV(1, 0), false, bc_write, 5), "?:bcache");
	CHECK_STR(owner_name_of(ks, 0, false, crypt_write, 6), "?:crypt");
	ksyms_batch_free(ks);
}

const struct unit_test names_tests[] = {
	UNIT_TEST(test_ksyms_names),
	UNIT_TEST(test_ksyms_name_end),
	UNIT_TEST(test_ksyms_zero),
	UNIT_TEST(test_ksyms_file),
	UNIT_TEST(test_ksyms_resolve),
	UNIT_TEST(test_ksyms_batch),
	UNIT_TEST(test_ksym_format),
	UNIT_TEST(test_tracer_frame),
	UNIT_TEST(test_parse_majmin),
	UNIT_TEST(test_parse_interval_count),
	UNIT_TEST(test_devlists),
	UNIT_TEST(test_resolve_device_arg),
	UNIT_TEST(test_describe_set),
	UNIT_TEST(test_describe_owner),
	{ NULL, NULL },
};
