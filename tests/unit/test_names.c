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

static struct ksyms *load(void)
{
	return ksyms_parse(kallsyms, sizeof(kallsyms) - 1);
}

static void test_ksyms_parse(void)
{
	struct ksyms *ks = load();
	const struct ksym *s;

	CHECK(ks != NULL);
	if (!ks)
		return;
	/* 30 lines: the A and U symbols dropped, 3 garbage lines ignored */
	CHECK_U64(ks->n, 25);
	CHECK_U64(ks->ndata, 7);
	CHECK(!ks->zero_addrs);
	for (size_t i = 1; i < ks->n; i++)
		CHECK(ks->syms[i - 1].addr <= ks->syms[i].addr);

	s = ksyms_by_name(ks, "biopool_map");
	CHECK(s && s->addr == 0xffffffffc0100000ULL && s->type == 't');
	CHECK_STR(s ? s->mod : NULL, "dm_biopool");
	s = ksyms_by_name(ks, "fs_bio_set");
	CHECK(s && ksym_is_data(s) && !ksym_is_text(s) && !s->mod);
	s = ksyms_by_name(ks, "punt_bios_to_rescuer");
	CHECK(s && ksym_is_text(s));
	CHECK(ksyms_by_name(ks, "fixed_percpu_data") == NULL);
	CHECK(ksyms_by_name(ks, "undefined_sym") == NULL);
	CHECK(ksyms_by_name(ks, "bad_addr") == NULL);
	CHECK(ksyms_by_name(ks, "nosuch") == NULL);
	ksyms_free(ks);
}

static void test_ksyms_zero(void)
{
	static const char z[] =
		"0000000000000000 T _stext\n"
		"0000000000000000 T bio_alloc_bioset\n";
	struct ksyms *ks = ksyms_parse(z, sizeof(z) - 1);

	CHECK(ks && ks->zero_addrs);
	CHECK(ksyms_lookup(ks, 0x1234) == NULL);
	CHECK(ksyms_by_name(ks, "bio_alloc_bioset") == NULL);
	ksyms_free(ks);

	ks = ksyms_parse("", 0);
	CHECK(ks && ks->n == 0 && !ks->zero_addrs);
	CHECK(ksyms_lookup(ks, 0xffffffff81000000ULL) == NULL);
	ksyms_free(ks);
	ksyms_free(NULL);
}

/* ksyms_load() reads a file in pieces and keeps the same symbols. */
static void test_ksyms_load(void)
{
	char path[] = "/tmp/biostat-unit-ksyms-XXXXXX";
	struct ksyms *a, *b;
	FILE *f;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	/* enough copies to cross the read buffer many times */
	for (int i = 0; f && i < 200; i++)
		fwrite(kallsyms, 1, sizeof(kallsyms) - 1, f);
	if (f)
		fclose(f);
	a = ksyms_load(path);
	unlink(path);
	b = load();
	CHECK(a && b);
	if (a && b) {
		/* each copy's last line ends where the next copy's first begins */
		CHECK_U64(a->ndata, 200 * b->ndata);
		CHECK(!a->zero_addrs);
		for (size_t i = 1; i < a->n; i++)
			CHECK(a->syms[i - 1].addr <= a->syms[i].addr);
		CHECK(ksyms_by_name(a, "fs_bio_set") && ksym_is_data(ksyms_by_name(a, "fs_bio_set")));
		CHECK_STR(ksyms_by_name(a, "biopool_map")->mod, "dm_biopool");
		CHECK_STR(ksyms_by_name(a, "last_fn")->mod, "lastmod");
	}
	ksyms_free(a);
	ksyms_free(b);
	CHECK(ksyms_load("/nonexistent/kallsyms") == NULL);
}

/* write text to a new temporary file; its path in path */
static int write_tmp(char *path, const char *text, size_t len)
{
	int fd = mkstemp(path);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, text, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* A partial table answers what it was asked exactly as the full one. */
static void same_answers(const struct ksyms *full, const struct ksyms *part,
			 const uint64_t *addrs, size_t n)
{
	char a[256], b[256];

	for (size_t i = 0; i < n; i++) {
		ksym_format(full, addrs[i], a, sizeof(a));
		ksym_format(part, addrs[i], b, sizeof(b));
		CHECK_STR(b, a);
		CHECK(ksym_is_trace_artifact(full, addrs[i]) ==
		      ksym_is_trace_artifact(part, addrs[i]));
		CHECK(ksym_is_data(ksyms_lookup(full, addrs[i])) ==
		      ksym_is_data(ksyms_lookup(part, addrs[i])));
	}
}

static void test_ksyms_partial(void)
{
	static const char *const names[] = {
		"mempool_alloc_noprof", "fs_bio_set", "biopool_map", "no_such_fn",
	};
	uint64_t addrs[] = {
		0xffffffff81000000ULL, 0xffffffff81400010ULL, 0xffffffff81400505ULL,
		0xffffffff82100180ULL, 0xffffffffc0100404ULL, 0xffffffffc0200300ULL,
		0xffffffffc0600010ULL, 0x1000ULL, 0xffffffff81603000ULL,
		0xffffffffc0100404ULL,	/* twice */
	};
	uint64_t rnd[300], x = 0x9e3779b97f4a7c15ULL, more;
	char path[] = "/tmp/biostat-unit-partial-XXXXXX";
	struct ksyms *full = load(), *part;
	size_t n0;

	CHECK(full != NULL);
	CHECK(write_tmp(path, kallsyms, sizeof(kallsyms) - 1) == 0);
	part = ksyms_partial(path);
	CHECK(part != NULL);
	if (!full || !part)
		goto out;
	CHECK_U64(part->n, 0);
	CHECK(ksyms_lookup(part, addrs[1]) == NULL);

	CHECK(ksyms_need(part, addrs, sizeof(addrs) / sizeof(addrs[0]), names, 4) == 0);
	CHECK(part->n > 0 && part->n < full->n);
	CHECK(!part->zero_addrs);
	same_answers(full, part, addrs, sizeof(addrs) / sizeof(addrs[0]));
	for (int i = 0; i < 3; i++) {
		const struct ksym *f = ksyms_by_name(full, names[i]);
		const struct ksym *p = ksyms_by_name(part, names[i]);

		CHECK(f && p && f->addr == p->addr && !strcmp(f->name, p->name));
		/* and the symbol after it (where a function ends) */
		if (f && p) {
			const struct ksym *fn = f + 1, *pn = p + 1;

			while (fn < full->syms + full->n && fn->addr == f->addr)
				fn++;
			while (pn < part->syms + part->n && pn->addr == p->addr)
				pn++;
			CHECK(fn < full->syms + full->n && pn < part->syms + part->n &&
			      fn->addr == pn->addr);
		}
	}
	CHECK(ksyms_by_name(part, "no_such_fn") == NULL);

	/* random addresses over the whole range, in one go */
	for (size_t i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rnd[i] = 0xffffffff80000000ULL + x % 0x40800000ULL;
	}
	CHECK(ksyms_need(part, rnd, sizeof(rnd) / sizeof(rnd[0]), NULL, 0) == 0);
	same_answers(full, part, rnd, sizeof(rnd) / sizeof(rnd[0]));
	same_answers(full, part, addrs, sizeof(addrs) / sizeof(addrs[0]));

	/* what was asked before is not read again: the file may be gone */
	unlink(path);
	n0 = part->n;
	CHECK(ksyms_need(part, addrs, 3, names, 2) == 0);
	CHECK_U64(part->n, n0);
	/* something new is, and fails without changing the table */
	more = 0xffffffffc0300010ULL;
	errno = 0;
	CHECK(ksyms_need(part, &more, 1, NULL, 0) == -1 && errno == ENOENT);
	CHECK_U64(part->n, n0);
	/* a full table needs nothing */
	CHECK(ksyms_need(full, &more, 1, names, 1) == 0);
out:
	unlink(path);
	ksyms_free(full);
	ksyms_free(part);
}

/*
 * A name's end (the symbols at its address and the first above it) comes
 * with the name: from the same read when no earlier line lies above it,
 * else from a second one.  beta has alpha, above it, on an earlier line;
 * gamma is found twice, the lower one last; delta ties with an alias.
 */
/* The address of the first symbol above s (0: none). */
static uint64_t next_above(const struct ksyms *ks, const struct ksym *s)
{
	for (const struct ksym *n = s + 1; n < ks->syms + ks->n; n++)
		if (n->addr > s->addr)
			return n->addr;
	return 0;
}

static void test_ksyms_partial_name_end(void)
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
	static const char *const names[] = { "alpha", "beta", "gamma", "delta", "eta" };
	struct ksyms *full = ksyms_parse(text, sizeof(text) - 1);

	CHECK(full != NULL);
	for (size_t i = 0; full && i < sizeof(names) / sizeof(names[0]); i++) {
		char path[] = "/tmp/biostat-unit-partial-XXXXXX";
		const struct ksym *f = ksyms_by_name(full, names[i]), *p;
		struct ksyms *part;
		uint64_t a[3];

		CHECK(f != NULL && write_tmp(path, text, sizeof(text) - 1) == 0);
		part = ksyms_partial(path);
		CHECK(part && ksyms_need(part, NULL, 0, &names[i], 1) == 0);
		unlink(path);
		if (!f || !part) {
			ksyms_free(part);
			continue;
		}
		p = ksyms_by_name(part, names[i]);
		CHECK(p && p->addr == f->addr);
		/* its address and inside it, and where it ends: no read needed */
		a[0] = f->addr;
		a[1] = f->addr + 1;
		a[2] = next_above(full, f);
		CHECK(ksyms_need(part, a, 1, NULL, 0) == 0);
		same_answers(full, part, a, 2);
		CHECK(p && next_above(part, p) == a[2]);
		ksyms_free(part);
	}
	ksyms_free(full);
}

/* kptr_restrict: a partial table sees every address 0 too. */
static void test_ksyms_partial_zero(void)
{
	static const char text[] = "0000000000000000 T _stext\n0000000000000000 t foo\n";
	static const char *const name = "foo";
	char path[] = "/tmp/biostat-unit-partial-XXXXXX";
	struct ksyms *part;

	CHECK(write_tmp(path, text, sizeof(text) - 1) == 0);
	part = ksyms_partial(path);
	CHECK(part && ksyms_need(part, NULL, 0, &name, 1) == 0 && part->zero_addrs);
	CHECK(ksyms_by_name(part, "foo") == NULL);
	unlink(path);
	ksyms_free(part);
}

static void test_ksyms_lookup(void)
{
	struct ksyms *ks = load();
	const struct ksym *s;
	uint64_t off = 0;

	CHECK(ksyms_lookup(ks, 0xffffffff80000000ULL) == NULL);
	s = ksyms_lookup(ks, 0xffffffff81400000ULL);
	CHECK_STR(s ? s->name : NULL, "bio_alloc_bioset");
	s = ksyms_lookup(ks, 0xffffffff814003ffULL);
	CHECK_STR(s ? s->name : NULL, "bio_alloc_bioset");
	s = ksyms_lookup(ks, 0xffffffff81400400ULL);
	CHECK_STR(s ? s->name : NULL, "bio_alloc_clone");
	s = ksyms_lookup(ks, 0xffffffffffffffffULL);
	CHECK_STR(s ? s->name : NULL, "last_fn");

	/* resolve: 1 MiB past a vmlinux symbol, 64 KiB past a module one */
	s = ksyms_resolve(ks, 0xffffffff814030f0ULL, &off);
	CHECK_STR(s ? s->name : NULL, "mempool_alloc_noprof");
	CHECK_U64(off, 0xf0);
	CHECK(ksyms_resolve(ks, 0xffffffff81503000ULL, NULL) == NULL);
	CHECK(ksyms_resolve(ks, 0xffffffffc0610000ULL, NULL) == NULL);
	CHECK(ksyms_resolve(ks, 0xffffffffc060ffffULL, NULL) != NULL);
	/* with /proc/modules: a function only within its module's extent */
	CHECK(ksyms_set_modules(ks,
		"dm_biopool 4096 0 - Live 0xffffffffc0100000\n"
		"dm_mod 4096 1 dm_biopool, Live 0xffffffffc0200000 (E)\n"
		"hidden 4096 0 - Live 0x0000000000000000\n"
		"garbage\n") == 0);
	CHECK(ks->nmods == 2);
	s = ksyms_resolve(ks, 0xffffffffc0100fffULL, NULL);
	CHECK_STR(s ? s->name : NULL, "biopool_ctr");
	/* past dm_biopool's 4 KiB: JIT-ed code, not biopool_ctr */
	CHECK(ksyms_resolve(ks, 0xffffffffc0101000ULL, NULL) == NULL);
	CHECK(ksym_is_trace_artifact(ks, 0xffffffffc0101000ULL));
	CHECK(ksyms_resolve(ks, 0xffffffffc0201000ULL, NULL) == NULL);
	s = ksyms_resolve(ks, 0xffffffffc0200fffULL, NULL);
	CHECK_STR(s ? s->name : NULL, "__map_bio");
	/* a module data symbol, apart from the text (6.4+), still resolves */
	s = ksyms_resolve(ks, 0xffffffffc0500010ULL, NULL);
	CHECK_STR(s ? s->name : NULL, "static_set");
	/* modules not listed keep the 64 KiB rule */
	CHECK(ksyms_resolve(ks, 0xffffffffc030ffffULL, NULL) != NULL);
	ksyms_free(ks);
}

static void test_ksym_format(void)
{
	struct ksyms *ks = load();
	char buf[128];

	ksym_format(ks, 0xffffffff81400021ULL, buf, sizeof(buf));
	CHECK_STR(buf, "bio_alloc_bioset+0x21");
	ksym_format(ks, 0xffffffffc0100122ULL, buf, sizeof(buf));
	CHECK_STR(buf, "biopool_map+0x122 [dm_biopool]");
	ksym_format(ks, 0xffffffffc0650000ULL, buf, sizeof(buf));
	CHECK_STR(buf, "0xffffffffc0650000");
	ksym_format(ks, 0x10ULL, buf, sizeof(buf));
	CHECK_STR(buf, "0x10");
	ksym_format(ks, 0xffffffffc0100122ULL, buf, 8);	/* truncated, terminated */
	CHECK_STR(buf, "biopool");
	ksyms_free(ks);
}

static void test_trace_artifact(void)
{
	struct ksyms *ks = load();

	/* just after the fentry call of a traced function */
	CHECK(ksym_is_trace_artifact(ks, 0xffffffff81400009ULL));
	CHECK(ksym_is_trace_artifact(ks, 0xffffffff81400000ULL));
	/* a real return address */
	CHECK(!ksym_is_trace_artifact(ks, 0xffffffff814000d1ULL));
	/* JIT-ed code between modules */
	CHECK(ksym_is_trace_artifact(ks, 0xffffffffc0650000ULL));
	ksyms_free(ks);
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

static const char *name_of(const struct ksyms *ks, uint64_t bs, uint32_t kdev,
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
	struct ksyms *ks = load();
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
	ksyms_free(ks);
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

static const char *owner_name_pad(const struct ksyms *ks, uint32_t kdev,
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

static const char *owner_name_of(const struct ksyms *ks, uint32_t kdev,
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
	struct ksyms *ks = ksyms_parse(owner_syms, sizeof(owner_syms) - 1);
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

	CHECK(ks != NULL);
	if (!ks)
		return;
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
	ksyms_free(ks);
}

const struct unit_test names_tests[] = {
	UNIT_TEST(test_ksyms_parse),
	UNIT_TEST(test_ksyms_zero),
	UNIT_TEST(test_ksyms_load),
	UNIT_TEST(test_ksyms_partial),
	UNIT_TEST(test_ksyms_partial_name_end),
	UNIT_TEST(test_ksyms_partial_zero),
	UNIT_TEST(test_ksyms_lookup),
	UNIT_TEST(test_ksym_format),
	UNIT_TEST(test_trace_artifact),
	UNIT_TEST(test_parse_majmin),
	UNIT_TEST(test_parse_interval_count),
	UNIT_TEST(test_devlists),
	UNIT_TEST(test_resolve_device_arg),
	UNIT_TEST(test_describe_set),
	UNIT_TEST(test_describe_owner),
	{ NULL, NULL },
};
