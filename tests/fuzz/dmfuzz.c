// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmfuzz: a seeded generator of dm-biopool table lines and messages, each
 * labelled valid or invalid by construction, and runners that feed them to
 * the kernel through the device-mapper ioctls and check every outcome.
 *
 *   dmfuzz gen-tables --seed S [--count N] [--valid-percent P]
 *                     --dev PATH:SECTORS:LBS:MAJOR:MINOR [--dev ...]
 *   dmfuzz gen-messages --seed S [--count N] --sectors N [--devs K]
 *   dmfuzz run-tables [--batch N] [--prefix P] [-v] < tables
 *   dmfuzz run-messages [--spread-ms MS] [-v] NAME... < messages
 *
 * The generators print "# seed=S ..." first, then one case per line:
 *   tables:   V|I TAB class TAB expectation TAB table
 *   messages: V|I TAB class TAB device-index TAB sector TAB effect TAB message
 * Same seed and arguments, same lines: the PRNG is splitmix64, not libc's.
 * A table or message may hold tabs and other whitespace, never a newline.
 * An invalid table is a valid one with exactly one rule broken; the
 * message generator checks each of its labels against a small model of the
 * target's message parser before printing it.
 *
 * run-tables creates one device per line (DM_DEV_CREATE, DM_TABLE_LOAD,
 * resume).  A valid line must be accepted, print the expected canonical
 * table and a fresh status, and pass a checksum round trip: a small
 * O_DIRECT write read back through the device and from the lower device at
 * the mapped offset.  An invalid line must be refused (at load or resume)
 * and leave no device behind.  Devices of valid lines are removed in
 * parallel batches: a table's teardown waits for RCU grace periods, which
 * then overlap.  The live shared_set devices of a batch share one bio_set,
 * and the target refuses a shared_set table whose pool_size or no_rescuer
 * differs from it: such a valid line is first loaded to see that refusal
 * (EINVAL), then the batch is removed and the line run as any other.  No
 * table here is ever sent fail_alloc, so tiny pools with no_rescuer,
 * ctx_pool or shared_set cannot stall: the slab serves every allocation.
 *
 * run-messages sends each message to a live device (DM_TARGET_MSG) and
 * compares the status before and after it: a valid message must succeed and
 * have its effect, an invalid one must fail and change nothing (counters
 * only move forward, fail_alloc only counts down), whatever I/O runs.
 *
 * Both runners print a one-line summary and exit 0 when every case behaved
 * as labelled, 1 when some did not (each is described on stderr as
 * "MISMATCH ..."), 2 on bad usage or a setup failure.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS	8
#define MAX_OPTS	12	/* options a generated line may hold */
#define MAX_COUNT	6	/* the target's largest optional parameter count */
#define DEFAULT_POOL	16

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("dmfuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

/* ---- PRNG: splitmix64, the same sequence everywhere ----------------------- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform enough in [0, n), n > 0 */
static uint64_t rnd(uint64_t n)
{
	return rnd64() % n;
}

/* in [lo, hi] */
static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	if (hi - lo == UINT64_MAX)
		return rnd64();
	return lo + rnd(hi - lo + 1);
}

static bool chance(unsigned int percent)
{
	return rnd(100) < percent;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a) ((a)[rnd(NELEM(a))])

/* ---- string builder -------------------------------------------------------- */

struct sb {
	char *s;
	size_t len, cap;
};

static void sb_grow(struct sb *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	b->cap = (b->len + more + 1) * 2;
	b->s = realloc(b->s, b->cap);
	if (!b->s)
		die(2, "out of memory");
}

static void sb_add(struct sb *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_putc(struct sb *b, char c)
{
	sb_add(b, &c, 1);
}

static void sb_rep(struct sb *b, const char *s, uint64_t times)
{
	while (times--)
		sb_puts(b, s);
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(2, "vsnprintf failed");
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void sb_reset(struct sb *b)
{
	sb_grow(b, 0);
	b->len = 0;
	b->s[0] = '\0';
}

static char *xstrdup(const char *s)
{
	char *r = strdup(s);

	if (!r)
		die(2, "out of memory");
	return r;
}

/* printable and truncated, for reports */
static const char *show(const char *s)
{
	static char out[480];
	size_t o = 0, n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o > sizeof(out) - 40) {
			o += (size_t)sprintf(out + o, "...(%zu bytes)", n);
			break;
		}
		if (c == '\t')
			o += (size_t)sprintf(out + o, "\\t");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* ---- table generator -------------------------------------------------------- */

struct gdev {
	char path[256];
	uint64_t sectors;
	unsigned int lbs;	/* bytes */
	unsigned int major, minor;
};

static struct gdev gdevs[MAX_DEVS];
static int ngdevs;

static void parse_dev(const char *spec)
{
	char path[256];
	unsigned long long sectors;
	unsigned int lbs, major, minor;
	struct gdev *d;
	int n = 0;

	if (ngdevs == MAX_DEVS)
		die(2, "at most %d --dev", MAX_DEVS);
	if (sscanf(spec, "%255[^:]:%llu:%u:%u:%u%n", path, &sectors, &lbs, &major, &minor, &n) != 5 ||
	    spec[n] || path[0] != '/' || strncmp(path, "/dev/", 5) || lbs < 512 || lbs % 512 ||
	    sectors < 2ULL * lbs / 512 || sectors % (lbs / 512))
		die(2, "--dev wants PATH:SECTORS:LBS:MAJOR:MINOR of a block device under /dev, not '%s'", spec);
	d = &gdevs[ngdevs++];
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->sectors = sectors;
	d->lbs = lbs;
	d->major = major;
	d->minor = minor;
}

/*
 * Separators.  The "start length type" prefix is split in user space
 * (by dmsetup, or by run-tables the same way): blanks and tabs only there.
 * The kernel splits the parameters on its isspace(), which also takes
 * \v \f \r and, in its Latin-1 ctype table, 0xa0.
 */
static const char *prefix_sep(void)
{
	static const char *odd[] = { "  ", "\t", " \t ", "     " };

	return chance(90) ? " " : PICK(odd);
}

static const char *param_sep(bool odd_ws)
{
	static const char *odd[] = { "  ", "\t", " \t", "\v", "\f", "\r", "\xa0", " \xa0 ",
				     "\t\v\f ", "\r ", "        " };

	return odd_ws && chance(40) ? PICK(odd) : " ";
}

/* a valid decimal rendering of v: usually plain, sometimes zero-padded */
static void put_num(struct sb *b, uint64_t v, bool long_zeros)
{
	if (chance(8))
		sb_rep(b, "0", rnd_range(1, 4));
	else if (long_zeros && chance(2))
		sb_rep(b, "0", rnd_range(100, 3000));
	sb_printf(b, "%" PRIu64, v);
}

/* a valid way to name device d */
static void put_dev(struct sb *b, const struct gdev *d)
{
	unsigned int r = (unsigned int)rnd(100);

	if (r < 60) {
		sb_puts(b, d->path);
	} else if (r < 78) {
		sb_printf(b, "%u:%u", d->major, d->minor);
	} else if (r < 84) {
		sb_printf(b, "0%u:%u", d->major, d->minor);
	} else if (r < 90) {
		sb_puts(b, chance(50) ? "/dev/./" : "/dev//");
		sb_puts(b, d->path + 5);
	} else if (r < 97) {
		sb_puts(b, "/dev/../dev/../");
		sb_puts(b, d->path + 1);
	} else {
		/* long, and still within PATH_MAX */
		sb_puts(b, "/dev");
		sb_rep(b, "/.", rnd_range(100, 1900));
		sb_puts(b, d->path + 4);
	}
}

/* A table line under construction; invalid lines break exactly one rule. */
struct tline {
	const struct gdev *dev;
	uint64_t len, offset;
	unsigned int pool, split;
	bool unsafe, no_rescuer, ctx_pool, shared_set;
	char *opt[MAX_OPTS];	/* optional parameters, rendered */
	int nopt;
	char *count;		/* NULL: no count */
	char *devtok, *offtok;
	char *type, *lenstr, *startstr, *extra;	/* NULL: the valid default */
	bool no_params, dev_only, drop_offset, odd_ws;
};

static void tl_set(char **field, const char *s)
{
	free(*field);
	*field = s ? xstrdup(s) : NULL;
}

static void tl_setnum(char **field, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	tl_set(field, buf);
}

static void tl_free(struct tline *t)
{
	for (int i = 0; i < t->nopt; i++)
		free(t->opt[i]);
	free(t->count);
	free(t->devtok);
	free(t->offtok);
	free(t->type);
	free(t->lenstr);
	free(t->startstr);
	free(t->extra);
	memset(t, 0, sizeof(*t));
}

static void tl_count_matches(struct tline *t)
{
	tl_setnum(&t->count, (uint64_t)t->nopt);
}

static void tl_add_opt(struct tline *t, const char *s)
{
	if (t->nopt == MAX_OPTS)
		die(2, "internal: too many options");
	t->opt[t->nopt++] = xstrdup(s);
}

/*
 * Put option s in place of the one starting with key (if any), else add it
 * while there is room for a count <= MAX_COUNT, else replace a random one.
 * The count then matches.
 */
static void tl_put_opt(struct tline *t, const char *key, const char *s)
{
	int i;

	for (i = 0; i < t->nopt; i++)
		if (!strncmp(t->opt[i], key, strlen(key)))
			break;
	if (i == t->nopt && t->nopt >= MAX_COUNT)
		i = (int)rnd((uint64_t)t->nopt);
	if (i == t->nopt)
		tl_add_opt(t, s);
	else
		tl_set(&t->opt[i], s);
	tl_count_matches(t);
}

static uint64_t pick_aligned(uint64_t lo, uint64_t hi, uint64_t align)
{
	return rnd_range(lo / align, hi / align) * align;
}

static unsigned int valid_pool(void)
{
	static const unsigned int common[] = { 1, 1, 2, 3, 4, 16, 64, 256, 1024 };

	if (chance(3))
		return 65536;
	if (chance(70))
		return PICK(common);
	return (unsigned int)rnd_range(1, 4096);
}

static unsigned int valid_split(void)
{
	if (chance(10))
		return 0;
	if (chance(3))
		return 1U << 31;
	return 1U << rnd_range(3, chance(80) ? 7 : 30);
}

/* the flags, in the order the target prints them */
static const char *const flag_names[] = { "unsafe_alloc_order", "no_rescuer", "ctx_pool", "shared_set" };

static bool *tl_flag(struct tline *t, int i)
{
	bool *f[] = { &t->unsafe, &t->no_rescuer, &t->ctx_pool, &t->shared_set };

	return f[i];
}

/*
 * Any subset of the six optional parameters, in any order.  Tiny pools
 * with no_rescuer, ctx_pool or shared_set (and splits) are fine here:
 * without fail_alloc, which run-tables never sends, the slab serves.
 */
static void gen_valid(struct tline *t)
{
	const struct gdev *d = &gdevs[rnd((uint64_t)ngdevs)];
	uint64_t bs = d->lbs / 512;
	bool all = chance(4);
	bool want[MAX_COUNT] = { all || chance(45), all || chance(45), all || chance(20),
				 all || chance(20), all || chance(20), all || chance(20) };
	int order[MAX_COUNT] = { 0, 1, 2, 3, 4, 5 };
	struct sb b = { 0 };
	unsigned int r;

	memset(t, 0, sizeof(*t));
	t->dev = d;
	r = (unsigned int)rnd(100);
	t->offset = r < 45 ? 0 : r < 55 ? d->sectors - bs : pick_aligned(0, d->sectors - bs, bs);
	r = (unsigned int)rnd(100);
	t->len = r < 50 ? d->sectors - t->offset : r < 60 ? bs : pick_aligned(bs, d->sectors - t->offset, bs);
	t->pool = DEFAULT_POOL;
	t->split = 0;
	for (int i = MAX_COUNT - 1; i > 0; i--) {
		int j = (int)rnd((uint64_t)i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (int i = 0; i < MAX_COUNT; i++) {
		sb_reset(&b);
		switch (want[order[i]] ? order[i] : -1) {
		case 0:
			t->pool = valid_pool();
			sb_puts(&b, "pool_size:");
			put_num(&b, t->pool, true);
			break;
		case 1:
			t->split = valid_split();
			sb_puts(&b, "split_sectors:");
			put_num(&b, t->split, true);
			break;
		case 2: case 3: case 4: case 5:
			*tl_flag(t, order[i] - 2) = true;
			sb_puts(&b, flag_names[order[i] - 2]);
			break;
		default:
			continue;
		}
		tl_add_opt(t, b.s);
	}
	if (t->nopt || chance(25)) {
		sb_reset(&b);
		if (chance(5))
			sb_puts(&b, "0");
		sb_printf(&b, "%d", t->nopt);
		tl_set(&t->count, b.s);
	}
	sb_reset(&b);
	put_dev(&b, d);
	tl_set(&t->devtok, b.s);
	sb_reset(&b);
	put_num(&b, t->offset, true);
	tl_set(&t->offtok, b.s);
	t->odd_ws = chance(25);
	free(b.s);
}

/* tokens that are never a valid optional parameter, nor a valid count */
static const char *garbage_tokens[] = {
	"extra", ":", "::", "-", "junk:1", "pool_size", "split_sectors", "unsafe", "x",
	"\x01", "%s%n", "(null)", "-1", "pool_size=4", "\xc3\xa9", "4x", "9999999999999",
	"no_rescue", "ctx_pool:1", "SHARED_SET",
};

static void random_garbage(struct sb *b, uint64_t len)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-.,/+=%";

	sb_putc(b, first[rnd(sizeof(first) - 1)]);
	while (--len)
		sb_putc(b, cs[rnd(sizeof(cs) - 1)]);
}

/* a value that no unsigned decimal parser may accept */
static const char *bad_number(void)
{
	static const char *bad[] = {
		"", "-1", "+4", "0x10", "4x", "abc", "4.0", "1e3", "-0", "4:4", "--4", "4-",
		"\xef\xbc\x94" /* fullwidth 4 */, "4\x01", "0b100", "08x", " ",
	};
	const char *s = PICK(bad);

	return strcmp(s, " ") ? s : "\x7f";
}

/* Break one rule of a valid line; returns the class of the break. */
static const char *mutate(struct tline *t)
{
	const struct gdev *d = t->dev;
	uint64_t bs = d->lbs / 512;
	struct sb b = { 0 };
	const char *cls = NULL;

	while (!cls) {
		sb_reset(&b);
		switch (rnd(31)) {
		case 0:
			t->no_params = true;
			cls = "no-parameters";
			break;
		case 1:
			t->dev_only = true;
			cls = "no-offset";
			break;
		case 2:
			if (!t->count || !t->nopt)
				break;
			/* the count is read as the offset, the first option as the count */
			t->drop_offset = true;
			cls = "offset-left-out";
			break;
		case 3: /* a count larger than what follows (and <= MAX_COUNT) */
			if (t->nopt >= MAX_COUNT)
				break;
			tl_setnum(&t->count, rnd_range((uint64_t)t->nopt + 1, MAX_COUNT));
			cls = "count-too-large";
			break;
		case 4: /* a count smaller: the rest is too many arguments */
			if (!t->nopt)
				break;
			tl_setnum(&t->count, rnd((uint64_t)t->nopt));
			cls = "count-too-small";
			break;
		case 5: { /* more than MAX_COUNT options, counted (the count is checked first) */
			static const char *fill[] = { "pool_size:4", "split_sectors:8", "unsafe_alloc_order",
						      "no_rescuer", "ctx_pool", "shared_set" };
			uint64_t n = chance(50) ? MAX_COUNT + 1 : rnd_range(MAX_COUNT + 1, MAX_OPTS);
			size_t at = rnd(NELEM(fill));

			while ((uint64_t)t->nopt < n)
				tl_add_opt(t, fill[at++ % NELEM(fill)]);
			tl_count_matches(t);
			cls = "count-above-maximum";
			break;
		}
		case 6: {
			/*
			 * dm core reads the count with sscanf("%u"), which wraps on
			 * overflow ("4294967297" counts as 1): no overflows here.
			 */
			static const char *bad[] = { "-1", "x", "1x", "0x1", "+1", "1.0", "one",
						     "\xef\xbc\x91", "-0", "1-", "\x01" };

			tl_set(&t->count, PICK(bad));
			cls = "count-malformed";
			break;
		}
		case 7:
			tl_setnum(&t->offtok, d->sectors + (chance(50) ? 0 : pick_aligned(bs, 1ULL << 40, bs)));
			cls = "offset-beyond-device";
			break;
		case 8: {
			static const char *bad[] = { "-1", "+8", "0x10", "8abc", "abc", "1e3", "-0", "8.0",
						     "18446744073709551615", "18446744073709551616",
						     "99999999999999999999999", "\xef\xbc\x98", "\x01" };

			tl_set(&t->offtok, PICK(bad));
			cls = "offset-malformed";
			break;
		}
		case 9:
			t->len = d->sectors - t->offset + (chance(50) ? bs : pick_aligned(bs, 1ULL << 30, bs));
			tl_setnum(&t->lenstr, t->len);
			cls = "length-beyond-device";
			break;
		case 10:
			tl_set(&t->lenstr, "0");
			cls = "length-zero";
			break;
		case 11:
			tl_setnum(&t->startstr, rnd_range(1, 1024) * bs);
			cls = "start-not-zero";
			break;
		case 12: /* misaligned, on a device with logical blocks above 512 bytes */
			if (bs == 1)
				break;
			tl_setnum(&t->offtok, t->offset + rnd_range(1, bs - 1));
			cls = "offset-misaligned";
			break;
		case 13:
			if (bs == 1 || t->len <= bs)
				break;
			tl_setnum(&t->lenstr, t->len - rnd_range(1, bs - 1));
			cls = "length-misaligned";
			break;
		case 14: {
			static const char *bad[] = { "0", "00", "65537", "65540", "100000", "4294967295",
						     "4294967296", "000065537", "18446744073709551617" };

			sb_printf(&b, "pool_size:%s", PICK(bad));
			tl_put_opt(t, "pool_size:", b.s);
			cls = "pool_size-out-of-range";
			break;
		}
		case 15:
			sb_printf(&b, "pool_size:%s", bad_number());
			tl_put_opt(t, "pool_size:", b.s);
			cls = "pool_size-malformed";
			break;
		case 16: {
			static const unsigned int bad[] = { 1, 2, 4, 3, 5, 6, 7, 9, 12, 24, 100, 1000, 65535,
							    65537, 3221225472U, 4294967295U, 2147483649U };

			sb_printf(&b, "split_sectors:%u", PICK(bad));
			tl_put_opt(t, "split_sectors:", b.s);
			cls = "split_sectors-not-a-power-of-two-above-8";
			break;
		}
		case 17:
			sb_printf(&b, "split_sectors:%s", chance(25) ? "4294967296" : bad_number());
			tl_put_opt(t, "split_sectors:", b.s);
			cls = "split_sectors-malformed";
			break;
		case 18: { /* a key or flag twice, the count <= MAX_COUNT and right */
			static const char *key[] = { "pool_size:", "split_sectors:", "unsafe_alloc_order",
						     "no_rescuer", "ctx_pool", "shared_set" };
			int k = (int)rnd(NELEM(key)), have = 0;

			for (int i = 0; i < t->nopt; i++)
				have += k < 2 ? !strncmp(t->opt[i], key[k], strlen(key[k])) :
						!strcmp(t->opt[i], key[k]);
			if (t->nopt + 2 - have > MAX_COUNT)
				break;
			sb_puts(&b, key[k]);
			if (k == 0)
				sb_printf(&b, "%u", valid_pool());
			else if (k == 1)
				sb_printf(&b, "%u", valid_split());
			if (!have)
				tl_add_opt(t, b.s);
			tl_add_opt(t, b.s);
			tl_count_matches(t);
			cls = "duplicate-key";
			break;
		}
		case 19: { /* keys that look right and are not */
			static const char *bad[] = {
				"POOL_SIZE:4", "Pool_size:4", "pool_size_:4", "pool_siz:4", "pool_sizes:4",
				"split_sector:8", "SPLIT_SECTORS:8", ":4", "pool-size:4", "pool_size=4",
				"unsafe_alloc_orde", "unsafe_alloc_orderx", "UNSAFE_ALLOC_ORDER",
				"unsafe_alloc_order:1", "unsafe_alloc_order:", "pool_size", "split_sectors",
				"p\xd0\xbeol_size:4" /* Cyrillic o */, "pool\x01size:4", "pool_size :4",
				"no_rescue", "no_rescuers", "NO_RESCUER", "No_rescuer", "no-rescuer",
				"norescuer", "no_rescuer:1", "no_rescuer:", "no_rescuer=y", "rescuer",
				"ctx_pool:1", "ctx_pool:", "ctx_poo", "ctx_pools", "CTX_POOL", "ctx-pool",
				"ctxpool", "ctx_pool=1", "ctx_pool_size:4", "shared_set:1", "shared_set:",
				"SHARED_SET", "Shared_set", "shared_se", "shared_sets", "shared-set",
				"shared", "sharedset", "shared_set\x01", "\x01ctx_pool", "no_rescuer,ctx_pool",
				"ctx_pool:shared_set", "no_r\xd0\xb5scuer" /* Cyrillic e */,
			};

			tl_put_opt(t, "\x02never", PICK(bad));
			cls = "unknown-key";
			break;
		}
		case 20: /* key: value, split by whitespace into two tokens */
			if (t->nopt >= MAX_COUNT - 1)
				break;
			tl_add_opt(t, chance(50) ? "pool_size:" : "split_sectors:");
			tl_add_opt(t, chance(50) ? "4" : "8");
			tl_setnum(&t->count, (uint64_t)t->nopt - rnd(2));
			cls = "value-split-by-whitespace";
			break;
		case 21: {
			/* no such path; majors 1 (ram) and 7 (loop) would create one on open */
			static const char *missing[] = { "/dev/dmfuzz-missing", "/dev/mapper/dmfuzz-missing",
							 "/nonexistent/ram0", "ram0", "dev/ram0", "4095:1048575",
							 "4095:0", "/dev/ram0/", "./ram0" };

			tl_set(&t->devtok, PICK(missing));
			cls = "missing-device";
			break;
		}
		case 22: {
			static const char *notblk[] = { "/dev/null", "/dev/zero", "/tmp", "/proc/version",
							"/dev/mapper/control", "/", "/dev" };

			tl_set(&t->devtok, PICK(notblk));
			cls = "not-a-block-device";
			break;
		}
		case 23: /* longer than PATH_MAX */
			sb_puts(&b, "/dev");
			sb_rep(&b, "/.", rnd_range(2100, 3000));
			sb_puts(&b, d->path + 4);
			tl_set(&t->devtok, b.s);
			cls = "path-too-long";
			break;
		case 24: {
			static const char *bad[] = { "biopol", "BIOPOOL", "biopool2", "biopoo", "Biopool",
						     "bio_pool", "biopooI" };

			tl_set(&t->type, PICK(bad));
			cls = "target-type-misspelt";
			break;
		}
		case 25: case 26: /* garbage after well-formed options */
			if (chance(30))
				random_garbage(&b, rnd_range(1, chance(30) ? 6000 : 40));
			else
				sb_puts(&b, PICK(garbage_tokens));
			if (t->nopt && t->nopt < MAX_COUNT && chance(50)) {
				/* counted: it is parsed as an option */
				tl_add_opt(t, b.s);
				tl_count_matches(t);
			} else {
				/* not counted: too many arguments, or a bad count */
				if (t->count || chance(50))
					tl_count_matches(t);
				tl_set(&t->extra, b.s);
			}
			cls = "trailing-garbage";
			break;
		case 27: /* hundreds of extra tokens */
			for (uint64_t i = rnd_range(200, 1500); i; i--) {
				sb_puts(&b, PICK(garbage_tokens));
				sb_putc(&b, ' ');
			}
			tl_count_matches(t);
			tl_set(&t->extra, b.s);
			cls = "many-extra-tokens";
			break;
		case 28: { /* a control character after a good value */
			static const char ctl[] = "\x01\x02\x07\x08\x1b\x1f\x7f";
			bool pool = chance(50);

			sb_puts(&b, pool ? "pool_size:1" : "split_sectors:8");
			sb_putc(&b, ctl[rnd(sizeof(ctl) - 1)]);
			tl_put_opt(t, pool ? "pool_size:" : "split_sectors:", b.s);
			cls = "value-with-control-character";
			break;
		}
		case 29: { /* a run of digits too long for any integer */
			bool pool = chance(50);

			sb_puts(&b, pool ? "pool_size:" : "split_sectors:");
			sb_rep(&b, "9", rnd_range(21, 4000));
			tl_put_opt(t, pool ? "pool_size:" : "split_sectors:", b.s);
			cls = "value-overflows";
			break;
		}
		case 30: /* zero-padded: parses, and is then out of range */
			sb_puts(&b, "pool_size:");
			sb_rep(&b, "0", rnd_range(10, 2000));
			sb_puts(&b, chance(50) ? "65537" : "0");
			tl_put_opt(t, "pool_size:", b.s);
			cls = "pool_size-padded-out-of-range";
			break;
		}
	}
	free(b.s);
	return cls;
}

static void render_table(struct sb *out, const struct tline *t)
{
	sb_puts(out, t->startstr ? t->startstr : "0");
	sb_puts(out, prefix_sep());
	if (t->lenstr)
		sb_puts(out, t->lenstr);
	else
		sb_printf(out, "%" PRIu64, t->len);
	sb_puts(out, prefix_sep());
	sb_puts(out, t->type ? t->type : "biopool");
	if (t->no_params) {
		if (chance(50))
			sb_puts(out, " \t ");
		return;
	}
	sb_puts(out, prefix_sep());
	if (t->odd_ws && chance(30))
		sb_puts(out, param_sep(true));
	sb_puts(out, t->devtok);
	if (t->dev_only)
		return;
	if (!t->drop_offset) {
		sb_puts(out, param_sep(t->odd_ws));
		sb_puts(out, t->offtok);
	}
	if (t->count) {
		sb_puts(out, param_sep(t->odd_ws));
		sb_puts(out, t->count);
	}
	for (int i = 0; i < t->nopt; i++) {
		sb_puts(out, param_sep(t->odd_ws));
		sb_puts(out, t->opt[i]);
	}
	if (t->extra) {
		sb_puts(out, param_sep(t->odd_ws));
		sb_puts(out, t->extra);
	}
	if (t->odd_ws && chance(30))
		sb_puts(out, param_sep(true));
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *end || errno || *s == '-')
		die(2, "%s: not a number: '%s'", opt, s);
	return v;
}

/* One "--name VALUE" option of a generator: a number, or a --dev spec. */
struct gen_opt {
	const char *name;
	uint64_t *num;		/* parse_u64()ed into, or NULL: */
	void (*fn)(const char *value);
};

/* The options of command cmd; every one takes a value.  The seed is
 * required: returns whether --seed was given. */
static bool gen_opts(const char *cmd, int argc, char **argv,
		     const struct gen_opt *opts)
{
	bool have_seed = false;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const struct gen_opt *o = opts;

		while (o->name && !(v && !strcmp(a, o->name)))
			o++;
		if (!o->name)
			die(2, "%s: unknown argument '%s' (see the header of dmfuzz.c)", cmd, a);
		if (o->num)
			*o->num = parse_u64(a, v);
		else
			o->fn(v);
		have_seed |= !strcmp(a, "--seed");
	}
	return have_seed;
}

static int cmd_gen_tables(int argc, char **argv)
{
	uint64_t seed = 0, count = 500, valid_pct = 40;
	const struct gen_opt opts[] = {
		{ "--seed", &seed, NULL }, { "--count", &count, NULL },
		{ "--valid-percent", &valid_pct, NULL }, { "--dev", NULL, parse_dev },
		{ NULL, NULL, NULL },
	};
	bool have_seed = gen_opts("gen-tables", argc, argv, opts);
	struct sb line = { 0 };

	if (!have_seed || !ngdevs || valid_pct > 100)
		die(2, "usage: gen-tables --seed S [--count N] [--valid-percent P] --dev PATH:SECTORS:LBS:MAJOR:MINOR...");
	rng_state = seed;
	printf("# seed=%" PRIu64 " kind=tables count=%" PRIu64 " valid_percent=%" PRIu64 "\n",
	       seed, count, valid_pct);
	for (uint64_t n = 0; n < count; n++) {
		bool valid = chance((unsigned int)valid_pct);
		const char *cls = "valid";
		struct tline t;

		gen_valid(&t);
		if (!valid)
			cls = mutate(&t);
		else if (t.odd_ws)
			cls = "valid-odd-whitespace";
		else if (strlen(t.devtok) > 200 || strlen(t.offtok) > 40)
			cls = "valid-long";
		else if (strchr(t.devtok, ':') || strstr(t.devtok, "/."))
			cls = "valid-other-device-name";
		sb_reset(&line);
		render_table(&line, &t);
		if (valid)
			printf("V\t%s\tdev=%u:%u,offset=%" PRIu64 ",pool=%u,split=%u,unsafe=%d,no_rescuer=%d,ctx_pool=%d,shared_set=%d\t%s\n",
			       cls, t.dev->major, t.dev->minor, t.offset, t.pool, t.split, t.unsafe,
			       t.no_rescuer, t.ctx_pool, t.shared_set, line.s);
		else
			printf("I\t%s\t-\t%s\n", cls, line.s);
		tl_free(&t);
	}
	free(line.s);
	return 0;
}

/* ---- message generator ------------------------------------------------------- */

/* the kernel's isspace(), Latin-1 included */
static bool kspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

/*
 * A model of what the target accepts, to check every label before it is
 * printed: "reset_stats", or "fail_alloc always", or "fail_alloc N" with N
 * decimal digits only and at most UINT_MAX.  Returns the effect or NULL.
 */
static const char *model_message(const char *m, char *effect, size_t len)
{
	const char *tok[3];
	size_t tl[3];
	int n = 0;

	for (const char *p = m; *p;) {
		while (*p && kspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (n == 3)
			return NULL;
		tok[n] = p;
		while (*p && !kspace((unsigned char)*p))
			p++;
		tl[n] = (size_t)(p - tok[n]);
		n++;
	}
	if (n == 1 && tl[0] == 11 && !strncmp(tok[0], "reset_stats", 11)) {
		snprintf(effect, len, "reset");
		return effect;
	}
	if (n != 2 || tl[0] != 10 || strncmp(tok[0], "fail_alloc", 10))
		return NULL;
	if (tl[1] == 6 && !strncmp(tok[1], "always", 6)) {
		snprintf(effect, len, "always");
		return effect;
	}
	uint64_t v = 0;

	for (size_t i = 0; i < tl[1]; i++) {
		if (tok[1][i] < '0' || tok[1][i] > '9')
			return NULL;
		v = v * 10 + (uint64_t)(tok[1][i] - '0');
		if (v > 4294967295ULL)
			return NULL;
	}
	snprintf(effect, len, "n=%" PRIu64, v);
	return effect;
}

static int cmd_gen_messages(int argc, char **argv)
{
	uint64_t seed = 0, count = 300, sectors = 0, devs = 1;
	const struct gen_opt opts[] = {
		{ "--seed", &seed, NULL }, { "--count", &count, NULL },
		{ "--sectors", &sectors, NULL }, { "--devs", &devs, NULL },
		{ NULL, NULL, NULL },
	};
	bool have_seed = gen_opts("gen-messages", argc, argv, opts);
	struct sb m = { 0 };

	if (!have_seed || !sectors || !devs)
		die(2, "usage: gen-messages --seed S [--count N] --sectors N [--devs K]");
	rng_state = seed;
	printf("# seed=%" PRIu64 " kind=messages count=%" PRIu64 " sectors=%" PRIu64 " devs=%" PRIu64 "\n",
	       seed, count, sectors, devs);
	for (uint64_t n = 0; n < count; n++) {
		static const char *seps[] = { "  ", "\t", " \t ", "\v", "\xa0", "\r" };
		uint64_t dev = rnd(devs), sector = chance(70) ? 0 : rnd(sectors);
		bool odd = chance(20), valid = chance(55);
		const char *cls, *sep = odd ? PICK(seps) : " ";
		char effect[40] = "-", model[40];

		sb_reset(&m);
		if (odd && chance(40))
			sb_puts(&m, sep);
		if (valid) {
			unsigned int r = (unsigned int)rnd(100);

			if (r < 30) {
				sb_printf(&m, "fail_alloc%salways", sep);
				cls = "fail_alloc-always";
			} else if (r < 75) {
				uint64_t v;

				r = (unsigned int)rnd(100);
				v = r < 35 ? 0 : r < 70 ? rnd_range(1, 100) : r < 90 ? rnd_range(100, 100000) :
				    r < 95 ? 4294967295ULL : rnd_range(0, 4294967295ULL);
				sb_printf(&m, "fail_alloc%s", sep);
				if (chance(10))
					sb_rep(&m, "0", rnd_range(1, 30));
				sb_printf(&m, "%" PRIu64, v);
				cls = "fail_alloc-count";
			} else {
				sb_puts(&m, "reset_stats");
				cls = "reset_stats";
			}
			if (odd && chance(40))
				sb_puts(&m, sep);
			if (!model_message(m.s, effect, sizeof(effect)))
				die(2, "internal: valid message '%s' fails the model", show(m.s));
		} else {
			switch (rnd(20)) {
			case 0: case 1: {
				static const char *words[] = {
					"bogus", "FAIL_ALLOC", "Fail_alloc", "fail-alloc", "failalloc",
					"reset-stats", "RESET_STATS", "reset_stat", "fail_allocs", "status",
					"fail_alloc\x01", "r\xc3\xa9set_stats", "0", "-", "always",
				};

				sb_puts(&m, PICK(words));
				if (chance(50))
					sb_printf(&m, "%s%u", sep, (unsigned int)rnd(10));
				cls = "unknown-message";
				break;
			}
			case 2:
				sb_puts(&m, "fail_alloc");
				cls = "fail_alloc-without-argument";
				break;
			case 3: case 4: case 5: case 6: {
				static const char *bad[] = {
					"-1", "+5", "0x10", "5x", "1.5", "Always", "ALWAYS", "alway", "alwayss",
					"4294967296", "99999999999999999999", "18446744073709551616", "-0",
					"1e3", "never", "on", "\xef\xbc\x95", "5\x01", "", "always:",
				};
				const char *b = PICK(bad);

				sb_printf(&m, "fail_alloc%s%s", sep, *b ? b : "1");
				if (!*b) /* digits too many for any integer */
					sb_rep(&m, "0", rnd_range(20, 3000));
				cls = "fail_alloc-bad-argument";
				break;
			}
			case 7: case 8: {
				static const char *extra[] = { "2", "always", "now", "0", "x" };

				sb_printf(&m, "fail_alloc%s%s%s%s", sep, chance(50) ? "always" : "1", sep,
					  PICK(extra));
				cls = "fail_alloc-extra-argument";
				break;
			}
			case 9: case 10: {
				static const char *extra[] = { "now", "0", "1", "all", "reset_stats" };

				sb_printf(&m, "reset_stats%s%s", sep, PICK(extra));
				cls = "reset_stats-with-argument";
				break;
			}
			case 11: /* long garbage */
				for (uint64_t i = rnd_range(50, 800); i; i--) {
					sb_puts(&m, PICK(garbage_tokens));
					sb_puts(&m, sep);
				}
				cls = "long-garbage";
				break;
			case 12:
				sb_puts(&m, "fail_alloc");
				for (uint64_t i = rnd_range(2, 500); i; i--)
					sb_printf(&m, "%s%u", sep, (unsigned int)rnd(1000));
				cls = "fail_alloc-many-arguments";
				break;
			case 13: case 14:
				/* refused by dm core: sector beyond the end of the device */
				sb_puts(&m, chance(50) ? "reset_stats" : "fail_alloc 0");
				sector = sectors + (chance(50) ? 0 : rnd_range(1, 1ULL << 40));
				cls = "dm-sector-beyond-device";
				break;
			case 15: {
				/* refused by dm core: nothing but whitespace */
				static const char *empty[] = { "", " ", "\t", "  \t  " };

				sb_reset(&m);
				sb_puts(&m, PICK(empty));
				cls = "dm-empty-message";
				break;
			}
			default: {
				/* a valid message with one bit flipped */
				static const char *good[] = { "fail_alloc 3", "reset_stats", "fail_alloc always",
							      "fail_alloc 0" };
				size_t at;

				sb_puts(&m, PICK(good));
				at = rnd(m.len);
				m.s[at] = (char)(m.s[at] ^ (1 << rnd(7)));
				if (!m.s[at] || m.s[at] == '\n' || model_message(m.s, model, sizeof(model))) {
					sb_reset(&m);
					sb_puts(&m, "fail_alloc 3 3");
				}
				cls = "bit-flip";
				break;
			}
			}
			/* only the sector is wrong in that one */
			if (sector < sectors && model_message(m.s, model, sizeof(model)))
				die(2, "internal: invalid message '%s' passes the model", show(m.s));
		}
		printf("%c\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\n", valid ? 'V' : 'I', cls, dev, sector,
		       effect, m.s);
	}
	free(m.s);
	return 0;
}

/* ---- device-mapper ioctls ----------------------------------------------------- */

static int ctl_fd = -1;

struct dmbuf {
	struct dm_ioctl *io;
	size_t size;
};

static struct dm_ioctl *dm_hdr(struct dmbuf *b, const char *name, size_t payload)
{
	size_t need = sizeof(struct dm_ioctl) + payload + 16384;

	if (need > b->size) {
		free(b->io);
		b->io = malloc(need);
		if (!b->io)
			die(2, "out of memory");
		b->size = need;
	}
	memset(b->io, 0, b->size);
	b->io->version[0] = DM_VERSION_MAJOR;
	b->io->data_size = (uint32_t)b->size;
	b->io->data_start = sizeof(struct dm_ioctl);
	snprintf(b->io->name, sizeof(b->io->name), "%s", name);
	return b->io;
}

static int dm_run(unsigned long cmd, struct dm_ioctl *io)
{
	return ioctl(ctl_fd, cmd, io) ? -errno : 0;
}

static int dm_simple(struct dmbuf *b, unsigned long cmd, const char *name, uint32_t flags)
{
	struct dm_ioctl *io = dm_hdr(b, name, 0);

	io->flags = flags;
	return dm_run(cmd, io);
}

static int dm_load(struct dmbuf *b, const char *name, uint64_t start, uint64_t len,
		   const char *type, const char *params)
{
	size_t plen = strlen(params) + 1;
	struct dm_ioctl *io = dm_hdr(b, name, sizeof(struct dm_target_spec) + plen + 8);
	struct dm_target_spec *spec = (void *)((char *)io + io->data_start);

	io->target_count = 1;
	spec->sector_start = start;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
	memcpy(spec + 1, params, plen);
	spec->next = (uint32_t)((sizeof(*spec) + plen + 7) & ~(size_t)7);
	return dm_run(DM_TABLE_LOAD, io);
}

/* the status line (or with table, the table line) of a one-target device */
static int dm_status(struct dmbuf *b, const char *name, bool table, char *out, size_t outlen)
{
	struct dm_ioctl *io = dm_hdr(b, name, 0);
	struct dm_target_spec *spec;
	int r;

	io->flags = table ? DM_STATUS_TABLE_FLAG : 0;
	r = dm_run(DM_TABLE_STATUS, io);
	if (r)
		return r;
	if (io->flags & DM_BUFFER_FULL_FLAG)
		return -ENOSPC;
	if (io->target_count != 1)
		return -EBADMSG;
	spec = (void *)((char *)io + io->data_start);
	snprintf(out, outlen, "%s", (char *)(spec + 1));
	return 0;
}

static int dm_message(struct dmbuf *b, const char *name, uint64_t sector, const char *msg)
{
	size_t mlen = strlen(msg) + 1;
	struct dm_ioctl *io = dm_hdr(b, name, sizeof(struct dm_target_msg) + mlen);
	struct dm_target_msg *tm = (void *)((char *)io + io->data_start);

	tm->sector = sector;
	memcpy(tm->message, msg, mlen);
	return dm_run(DM_TARGET_MSG, io);
}

static void open_control(void)
{
	ctl_fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl_fd < 0)
		die(2, "/dev/mapper/control: %s (modprobe dm-mod?)", strerror(errno));
}

/* ---- status lines -------------------------------------------------------------- */

struct bpstat {
	long long clones, splits, in_flight, completed, errors, pool_size, pool_free, alloc_failed;
	long long fail_alloc;	/* -1: always */
	long long ctx_free;	/* -1: not shown (no ctx_pool) */
};

static int parse_status(const char *s, struct bpstat *st)
{
	static const char *keys[] = { "clones=", "splits=", "in_flight=", "completed=", "errors=",
				      "pool_size=", "pool_free=", "alloc_failed=", "fail_alloc=" };
	long long *vals[] = { &st->clones, &st->splits, &st->in_flight, &st->completed, &st->errors,
			      &st->pool_size, &st->pool_free, &st->alloc_failed, &st->fail_alloc };
	const char *p = s;

	for (size_t i = 0; i < NELEM(keys); i++) {
		size_t kl = strlen(keys[i]);
		char *end;

		if (i && *p++ != ' ')
			return -1;
		if (strncmp(p, keys[i], kl))
			return -1;
		p += kl;
		if (i == 8 && !strncmp(p, "always", 6)) {
			*vals[i] = -1;
			p += 6;
			continue;
		}
		errno = 0;
		*vals[i] = strtoll(p, &end, 10);
		if (end == p || errno || *vals[i] < 0)
			return -1;
		p = end;
	}
	/* ctx_pool only: " ctx_free=N" at the end */
	st->ctx_free = -1;
	if (!strncmp(p, " ctx_free=", 10)) {
		char *end;

		p += 10;
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		st->ctx_free = strtoll(p, &end, 10);
		if (errno)
			return -1;
		p = end;
	}
	return *p ? -1 : 0;
}

static bool split_tabs(char *line, char **f, int n)
{
	for (int i = 0; i < n - 1; i++) {
		f[i] = line;
		line = strchr(line, '\t');
		if (!line)
			return false;
		*line++ = '\0';
	}
	f[n - 1] = line;
	return true;
}

static unsigned long mismatches;

__attribute__((format(printf, 3, 4)))
static void mismatch(unsigned long idx, const char *cls, const char *fmt, ...)
{
	va_list ap;

	mismatches++;
	fprintf(stderr, "MISMATCH line %lu (%s): ", idx, cls);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- run-tables ------------------------------------------------------------------ */

struct tstats {
	unsigned long tried, valid, invalid, accepted, rejected_load, rejected_resume;
	unsigned long ios, bytes_verified, max_len, removed, shared_refused;
	unsigned long errs[160];
};

static struct tstats ts;
static bool verbose;

/* what a valid line's expectation says */
struct texp {
	unsigned int dmaj, dmin, pool, split, unsafe, no_rescuer, ctx_pool, shared_set;
	unsigned long long off;
};

static bool parse_expect(const char *s, struct texp *e)
{
	int n = 0;

	return sscanf(s, "dev=%u:%u,offset=%llu,pool=%u,split=%u,unsafe=%u,no_rescuer=%u,ctx_pool=%u,shared_set=%u%n",
		      &e->dmaj, &e->dmin, &e->off, &e->pool, &e->split, &e->unsafe, &e->no_rescuer,
		      &e->ctx_pool, &e->shared_set, &n) == 9 && !s[n];
}

/*
 * The module's shared bio_set, as the devices of this run hold it: made by
 * the first shared_set device with its pool_size and no_rescuer, freed with
 * the last; a shared_set table that differs from it is refused meanwhile.
 * (Assumes no other shared_set device exists, e.g. among the --dev ones.)
 */
static struct {
	unsigned int live, pool;
	bool no_rescuer;
} shared;

struct remover {
	pthread_t th;
	char name[DM_NAME_LEN];
	unsigned long idx;
	bool shared_set;	/* a user of the shared bio_set */
	int r;
};

static void *remove_one(void *arg)
{
	struct remover *rm = arg;
	struct dmbuf b = { 0 };

	rm->r = dm_simple(&b, DM_DEV_REMOVE, rm->name, 0);
	free(b.io);
	return NULL;
}

static struct remover pending[256];
static int npending;

static void remove_pending(void)
{
	struct dmbuf b = { 0 };

	for (int i = 0; i < npending; i++)
		if (pthread_create(&pending[i].th, NULL, remove_one, &pending[i]))
			die(2, "pthread_create failed");
	for (int i = 0; i < npending; i++) {
		pthread_join(pending[i].th, NULL);
		if (pending[i].r)
			mismatch(pending[i].idx, "remove", "removing %s failed: %s", pending[i].name,
				 strerror(-pending[i].r));
		else if (dm_simple(&b, DM_DEV_STATUS, pending[i].name, 0) != -ENXIO)
			mismatch(pending[i].idx, "remove", "%s still there after its removal", pending[i].name);
		else {
			ts.removed++;
			if (pending[i].shared_set)
				shared.live--;
		}
	}
	npending = 0;
	free(b.io);
}

static int mknode(const char *path, dev_t dev)
{
	unlink(path);
	return mknod(path, S_IFBLK | 0600, dev);
}

/*
 * Write a random block through the device, read it back through it and
 * from the lower device at the mapped offset.  Returns NULL or what failed.
 */
static const char *io_round_trip(const char *node, const char *lower, uint64_t len_sectors,
				 uint64_t offset, uint64_t seed, unsigned long idx)
{
	static const unsigned int sizes[] = { 512, 4096, 4096, 8192, 12288, 65536, 1 << 20 };
	static char why[300];
	uint64_t bytes = len_sectors * 512, size, pos, saved = rng_state;
	unsigned char *w = NULL, *r = NULL;
	int fd, lfd, lbs = 512;
	const char *err = NULL;

	rng_state = seed ^ (idx * 0x2545f4914f6cdd1dULL);
	fd = open(node, O_RDWR | O_DIRECT | O_CLOEXEC);
	lfd = open(lower, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || lfd < 0 || ioctl(fd, BLKSSZGET, &lbs) || lbs < 512) {
		snprintf(why, sizeof(why), "open: %s", strerror(errno));
		err = why;
		goto out;
	}
	size = PICK(sizes);
	size = size < (uint64_t)lbs ? (uint64_t)lbs : size;
	size = size > bytes ? bytes / (uint64_t)lbs * (uint64_t)lbs : size;
	pos = pick_aligned(0, bytes - size, (uint64_t)lbs);
	if (posix_memalign((void **)&w, 4096, size) || posix_memalign((void **)&r, 4096, size))
		die(2, "out of memory");
	for (uint64_t i = 0; i < size; i += 8) {
		uint64_t v = rnd64();

		memcpy(w + i, &v, 8);
	}
	if (pwrite(fd, w, size, (off_t)pos) != (ssize_t)size) {
		snprintf(why, sizeof(why), "write of %" PRIu64 " bytes at %" PRIu64 ": %s", size, pos,
			 strerror(errno));
		err = why;
		goto out;
	}
	memset(r, 0, size);
	if (pread(fd, r, size, (off_t)pos) != (ssize_t)size || memcmp(w, r, size)) {
		snprintf(why, sizeof(why), "%" PRIu64 " bytes at %" PRIu64 " read back differ (%s)", size,
			 pos, strerror(errno));
		err = why;
		goto out;
	}
	memset(r, 0, size);
	if (pread(lfd, r, size, (off_t)(pos + offset * 512)) != (ssize_t)size || memcmp(w, r, size)) {
		snprintf(why, sizeof(why), "lower device at byte %" PRIu64 " does not hold what was written at %" PRIu64,
			 pos + offset * 512, pos);
		err = why;
		goto out;
	}
	ts.ios++;
	ts.bytes_verified += size;
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	free(w);
	free(r);
	rng_state = saved;
	return err;
}

/* checks of an accepted valid line: printed table, status, a round trip */
static void check_valid(struct dmbuf *b, const char *name, unsigned long idx, const char *cls,
			const struct texp *e, uint64_t len, uint64_t seed)
{
	const unsigned int flags[] = { e->unsafe, e->no_rescuer, e->ctx_pool, e->shared_set };
	char want[512], got[4096], node[128], lower[128];
	struct bpstat st;
	const char *err;
	dev_t dev = (dev_t)b->io->dev;
	int r, k;

	/* the table as dm prints it: canonical, defaults left out, in this order */
	k = (e->pool != DEFAULT_POOL) + (e->split != 0);
	for (size_t i = 0; i < NELEM(flags); i++)
		k += flags[i] != 0;
	r = snprintf(want, sizeof(want), "%u:%u %llu", e->dmaj, e->dmin, e->off);
	if (k)
		r += snprintf(want + r, sizeof(want) - (size_t)r, " %d", k);
	if (e->pool != DEFAULT_POOL)
		r += snprintf(want + r, sizeof(want) - (size_t)r, " pool_size:%u", e->pool);
	if (e->split)
		r += snprintf(want + r, sizeof(want) - (size_t)r, " split_sectors:%u", e->split);
	for (size_t i = 0; i < NELEM(flags); i++)
		if (flags[i])
			r += snprintf(want + r, sizeof(want) - (size_t)r, " %s", flag_names[i]);
	r = dm_status(b, name, true, got, sizeof(got));
	if (r || strcmp(got, want))
		mismatch(idx, cls, "table prints as '%s' (%s), want '%s'", r ? "" : show(got),
			 r ? strerror(-r) : "ok", want);

	/* a shared_set device shares the idle set of the same pool_size */
	r = snprintf(want, sizeof(want),
		     "clones=0 splits=0 in_flight=0 completed=0 errors=0 pool_size=%u pool_free=%u alloc_failed=0 fail_alloc=0",
		     e->pool, e->pool);
	if (e->ctx_pool)
		snprintf(want + r, sizeof(want) - (size_t)r, " ctx_free=%u", e->pool);
	r = dm_status(b, name, false, got, sizeof(got));
	if (r || strcmp(got, want))
		mismatch(idx, cls, "fresh status is '%s', want '%s'", r ? strerror(-r) : got, want);

	snprintf(node, sizeof(node), "/tmp/dmfuzz.%d.dev", (int)getpid());
	snprintf(lower, sizeof(lower), "/tmp/dmfuzz.%d.lower", (int)getpid());
	if (mknode(node, dev) || mknode(lower, makedev(e->dmaj, e->dmin)))
		die(2, "mknod: %s", strerror(errno));
	err = io_round_trip(node, lower, len, e->off, seed, idx);
	if (err)
		mismatch(idx, cls, "I/O: %s", err);
	r = dm_status(b, name, false, got, sizeof(got));
	if (r || parse_status(got, &st))
		mismatch(idx, cls, "status after I/O unreadable: '%s'", r ? strerror(-r) : got);
	else if (st.in_flight || st.errors || st.completed != st.clones || st.pool_free != st.pool_size ||
		 st.ctx_free != (e->ctx_pool ? st.pool_size : -1) || (!err && st.clones < 2))
		mismatch(idx, cls, "status after I/O: '%s'", got);
	unlink(node);
	unlink(lower);
}

/*
 * A valid shared_set line whose pool_size or no_rescuer differs from the
 * live shared bio_set's: first its refusal ("shared_set: pool_size or
 * no_rescuer differs", EINVAL at load), then the batch is removed, the
 * shared set with it, so that the line itself is then accepted.
 */
static void shared_conflict(struct dmbuf *b, const char *name, unsigned long idx, const char *cls,
			    uint64_t start, uint64_t len, const char *type, const char *params,
			    const struct texp *e)
{
	int r = dm_simple(b, DM_DEV_CREATE, name, 0);

	if (r)
		die(2, "create %s: %s", name, strerror(-r));
	r = dm_load(b, name, start, len, type, params);
	if (verbose)
		printf("%lu V %s: beside %u shared_set device(s) of pool_size %u%s: %s%s\n", idx, cls,
		       shared.live, shared.pool, shared.no_rescuer ? " no_rescuer" : "",
		       r ? "refused at load: " : "accepted", r ? strerror(-r) : "");
	if (r == -EINVAL)
		ts.shared_refused++;
	else
		mismatch(idx, cls, "shared_set pool_size:%u%s beside %u shared_set device(s) of pool_size:%u%s: %s, want EINVAL",
			 e->pool, e->no_rescuer ? " no_rescuer" : "", shared.live, shared.pool,
			 shared.no_rescuer ? " no_rescuer" : "", r ? strerror(-r) : "loaded");
	r = dm_simple(b, DM_DEV_REMOVE, name, 0);
	if (r)
		mismatch(idx, cls, "remove after the shared_set refusal: %s", strerror(-r));
	else if (dm_simple(b, DM_DEV_STATUS, name, 0) != -ENXIO)
		mismatch(idx, cls, "device left after the shared_set refusal");
	remove_pending();
}

static int cmd_run_tables(int argc, char **argv)
{
	const char *prefix = "dmfuzz";
	uint64_t batch = 8, seed = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long idx = 0;
	struct dmbuf b = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = parse_u64(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--prefix") && i + 1 < argc)
			prefix = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else
			die(2, "run-tables: unknown argument '%s'", argv[i]);
	}
	if (batch < 1 || batch > NELEM(pending) || strlen(prefix) > 64)
		die(2, "run-tables: --batch 1..%zu, --prefix up to 64 characters", NELEM(pending));
	open_control();

	while ((n = getline(&line, &cap, stdin)) > 0) {
		char *f[4], name[DM_NAME_LEN], type[DM_MAX_TYPE_NAME], *p, *end;
		uint64_t start, len;
		struct texp e = { 0 };
		bool valid;
		int r, at_resume = 0;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#') {
			sscanf(line, "# seed=%" SCNu64, &seed);
			continue;
		}
		if (!split_tabs(line, f, 4) || (strcmp(f[0], "V") && strcmp(f[0], "I")))
			die(2, "run-tables: malformed input line %lu", idx + 1);
		idx++;
		valid = f[0][0] == 'V';
		if (valid && !parse_expect(f[2], &e))
			die(2, "run-tables: bad expectation on line %lu", idx);
		ts.tried++;
		valid ? ts.valid++ : ts.invalid++;
		if (strlen(f[3]) > ts.max_len)
			ts.max_len = strlen(f[3]);

		/* "start length type params", split as dmsetup does */
		p = f[3];
		errno = 0;
		start = strtoull(p, &end, 10);
		if (end == p || errno)
			die(2, "run-tables: line %lu: no start sector", idx);
		len = strtoull(p = end, &end, 10);
		if (end == p || errno)
			die(2, "run-tables: line %lu: no length", idx);
		p = end + strspn(end, " \t");
		end = p + strcspn(p, " \t");
		if (end == p || end - p >= DM_MAX_TYPE_NAME)
			die(2, "run-tables: line %lu: bad target type", idx);
		memcpy(type, p, (size_t)(end - p));
		type[end - p] = '\0';
		p = end + strspn(end, " \t");

		snprintf(name, sizeof(name), "%s%lu", prefix, idx);
		if (valid && e.shared_set && shared.live &&
		    (e.pool != shared.pool || !e.no_rescuer != !shared.no_rescuer))
			shared_conflict(&b, name, idx, f[1], start, len, type, p, &e);
		r = dm_simple(&b, DM_DEV_CREATE, name, 0);
		if (r)
			die(2, "create %s: %s", name, strerror(-r));
		r = dm_load(&b, name, start, len, type, p);
		if (!r) {
			at_resume = 1;
			r = dm_simple(&b, DM_DEV_SUSPEND, name, 0); /* no flag: resume */
		}
		if (verbose)
			printf("%lu %s %s: %s%s%s\n", idx, f[0], f[1], r ? "refused at " : "accepted",
			       r ? (at_resume ? "resume: " : "load: ") : "", r ? strerror(-r) : "");
		if (r) {
			ts.errs[-r < (int)NELEM(ts.errs) ? -r : 0]++;
			at_resume ? ts.rejected_resume++ : ts.rejected_load++;
			if (valid)
				mismatch(idx, f[1], "valid line refused at %s: %s; table: %s",
					 at_resume ? "resume" : "load", strerror(-r), show(f[3]));
			r = dm_simple(&b, DM_DEV_REMOVE, name, 0);
			if (r)
				mismatch(idx, f[1], "remove after a refused table: %s", strerror(-r));
			else if (dm_simple(&b, DM_DEV_STATUS, name, 0) != -ENXIO)
				mismatch(idx, f[1], "device left after a refused table");
			continue;
		}
		ts.accepted++;
		if (!valid)
			mismatch(idx, f[1], "invalid line accepted; table: %s", show(f[3]));
		else
			check_valid(&b, name, idx, f[1], &e, len, seed);
		if (valid && e.shared_set && !shared.live++) {
			shared.pool = e.pool;
			shared.no_rescuer = e.no_rescuer;
		}
		pending[npending].idx = idx;
		pending[npending].shared_set = valid && e.shared_set;
		snprintf(pending[npending++].name, sizeof(pending[0].name), "%s", name);
		if ((uint64_t)npending >= batch)
			remove_pending();
	}
	remove_pending();
	free(line);
	free(b.io);
	printf("dmfuzz tables: seed=%" PRIu64 " tried=%lu valid=%lu invalid=%lu accepted=%lu refused_at_load=%lu refused_at_resume=%lu removed=%lu shared_set_refused=%lu ios_verified=%lu bytes_verified=%lu longest_line=%lu mismatches=%lu errnos:",
	       seed, ts.tried, ts.valid, ts.invalid, ts.accepted, ts.rejected_load, ts.rejected_resume,
	       ts.removed, ts.shared_refused, ts.ios, ts.bytes_verified, ts.max_len, mismatches);
	for (size_t e = 0; e < NELEM(ts.errs); e++)
		if (ts.errs[e])
			printf(" %s=%lu", e ? strerrorname_np((int)e) : "other", ts.errs[e]);
	printf("\n");
	return mismatches ? 1 : 0;
}

/* ---- run-messages ----------------------------------------------------------------- */

static int cmd_run_messages(int argc, char **argv)
{
	const char *names[MAX_DEVS];
	int nnames = 0;
	uint64_t spread_ms = 0, seed = 0;
	unsigned long idx = 0, tried = 0, valid_n = 0, invalid_n = 0, to_target = 0, fail_msgs = 0,
		      always_msgs = 0, resets = 0;
	char *line = NULL, before[1024], after[1024];
	size_t cap = 0;
	ssize_t n;
	struct dmbuf b = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--spread-ms") && i + 1 < argc)
			spread_ms = parse_u64(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (argv[i][0] != '-' && nnames < MAX_DEVS)
			names[nnames++] = argv[i];
		else
			die(2, "run-messages: unknown argument '%s'", argv[i]);
	}
	if (!nnames)
		die(2, "usage: run-messages [--spread-ms MS] [-v] NAME... < messages");
	open_control();

	while ((n = getline(&line, &cap, stdin)) > 0) {
		char *f[6];
		struct bpstat sb4, sa;
		const char *name;
		bool valid;
		uint64_t sector;
		int r;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#') {
			sscanf(line, "# seed=%" SCNu64, &seed);
			continue;
		}
		if (!split_tabs(line, f, 6) || (strcmp(f[0], "V") && strcmp(f[0], "I")))
			die(2, "run-messages: malformed input line %lu", idx + 1);
		idx++;
		tried++;
		valid = f[0][0] == 'V';
		valid ? valid_n++ : invalid_n++;
		name = names[strtoul(f[2], NULL, 10) % (unsigned long)nnames];
		sector = strtoull(f[3], NULL, 10);
		if (!valid && strncmp(f[1], "dm-", 3))
			to_target++;

		if ((r = dm_status(&b, name, false, before, sizeof(before))) || parse_status(before, &sb4))
			die(2, "status of %s: %s '%s'", name, r ? strerror(-r) : "unparsable", before);
		r = dm_message(&b, name, sector, f[5]);
		if (dm_status(&b, name, false, after, sizeof(after)) || parse_status(after, &sa))
			die(2, "status of %s after a message unreadable", name);
		if (verbose)
			printf("%lu %s %s %s -> %s; %s\n", idx, f[0], f[1], name, r ? strerror(-r) : "ok", after);

		if (sa.pool_size != sb4.pool_size || sa.errors || sa.in_flight < 0 ||
		    sa.pool_free > sa.pool_size)
			mismatch(idx, f[1], "%s: status went from '%s' to '%s'", name, before, after);
		if (valid) {
			if (r) {
				mismatch(idx, f[1], "valid message '%s' to %s refused: %s", show(f[5]), name,
					 strerror(-r));
			} else if (!strcmp(f[4], "always")) {
				always_msgs++;
				if (sa.fail_alloc != -1)
					mismatch(idx, f[1], "after '%s' %s has fail_alloc=%lld", show(f[5]), name,
						 sa.fail_alloc);
			} else if (!strncmp(f[4], "n=", 2)) {
				long long want = strtoll(f[4] + 2, NULL, 10);

				fail_msgs++;
				/* I/O may have used some already, never more */
				if (sa.fail_alloc < 0 || sa.fail_alloc > want || (!want && sa.fail_alloc))
					mismatch(idx, f[1], "after '%s' %s has fail_alloc=%lld", show(f[5]), name,
						 sa.fail_alloc);
			} else {
				resets++;
				/* counting started again from zero just now */
				if ((sb4.clones >= 1000 && sa.clones >= sb4.clones) ||
				    (sb4.alloc_failed >= 1000 && sa.alloc_failed >= sb4.alloc_failed))
					mismatch(idx, f[1], "reset_stats on %s: '%s' then '%s'", name, before, after);
			}
		} else {
			if (!r)
				mismatch(idx, f[1], "invalid message '%s' to %s accepted", show(f[5]), name);
			/* and it changed nothing: counters only move forward */
			if (sa.clones < sb4.clones || sa.completed < sb4.completed ||
			    sa.splits < sb4.splits || sa.alloc_failed < sb4.alloc_failed ||
			    (sb4.fail_alloc == -1 && sa.fail_alloc != -1) ||
			    (sb4.fail_alloc >= 0 && (sa.fail_alloc < 0 || sa.fail_alloc > sb4.fail_alloc)))
				mismatch(idx, f[1], "invalid message '%s' changed %s: '%s' then '%s'", show(f[5]),
					 name, before, after);
		}
		if (spread_ms) {
			struct timespec ts = { (time_t)(spread_ms / 1000), (long)(spread_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	free(line);
	free(b.io);
	printf("dmfuzz messages: seed=%" PRIu64 " tried=%lu valid=%lu invalid=%lu invalid_reaching_target=%lu fail_alloc_count=%lu fail_alloc_always=%lu reset_stats=%lu mismatches=%lu\n",
	       seed, tried, valid_n, invalid_n, to_target, fail_msgs, always_msgs, resets,
	       mismatches);
	return mismatches ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gen-tables"))
		return cmd_gen_tables(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "gen-messages"))
		return cmd_gen_messages(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "run-tables"))
		return cmd_run_tables(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "run-messages"))
		return cmd_run_messages(argc - 1, argv + 1);
	die(2, "usage: dmfuzz gen-tables|gen-messages|run-tables|run-messages ... (see the header of dmfuzz.c)");
	return 2;
}
