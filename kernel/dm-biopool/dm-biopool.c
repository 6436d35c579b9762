// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-biopool: a pass-through device-mapper target that clones every bio
 * from a private, deliberately small bio_set, so that the forward-progress
 * guarantees documented for bio_alloc_bioset() can be exercised on demand.
 *
 * Each incoming bio is served by one clone, or with split_sectors by
 * several clones that are allocated one at a time, each only after the
 * previous one has been submitted.  The bio_set has a rescuer, its mempool
 * can be told to fail slab allocations ("fail_alloc"), and the status line
 * shows what the pool went through.
 *
 * Each statement of bio_alloc_bioset()'s kernel-doc can be broken on
 * purpose, beside its safe default: unsafe_alloc_order holds a clone
 * unsubmitted while it allocates the next, no_rescuer makes the set
 * without a rescuer, ctx_pool takes the per-clone context from a mempool
 * of its own instead of front_pad, shared_set uses one bio_set for every
 * device that asks for it (stacked, two levels share it).
 *
 * See Documentation/admin-guide/device-mapper/biopool.rst.
 */

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/mempool.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#define DM_MSG_PREFIX "biopool"

/* from the project's VERSION file, passed by Kbuild */
#ifndef DM_BIOPOOL_VERSION
#error "DM_BIOPOOL_VERSION is not set: build through kernel/dm-biopool/Kbuild"
#endif

#define BIOPOOL_DEFAULT_POOL_SIZE	16
#define BIOPOOL_MAX_POOL_SIZE		65536
#define BIOPOOL_MIN_SPLIT_SECTORS	8

/*
 * The slab cache of each set is its own (see "Fault injection"): never
 * merged with another cache of the same size.
 */
#ifdef SLAB_NO_MERGE
#define BIOPOOL_SLAB_FLAGS	(SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE)
#else
#define BIOPOOL_SLAB_FLAGS	(SLAB_HWCACHE_ALIGN | SLAB_NOLEAKTRACE)
#endif

/*
 * A bio_set on a slab cache of its own (see "Fault injection"): a device's
 * own, or the module's shared one (shared_set).
 */
struct biopool_set {
	struct bio_set bs;
	unsigned int pool_size;
	bool rescuer;

	/* The set's own slab cache, and the shared one bioset_init() chose. */
	struct kmem_cache *slab;
	struct kmem_cache *shared_slab;

	atomic_t armed;			/* devices of this set that are armed */
	atomic64_t alloc_failed;	/* real failures while none is armed */
	unsigned int users;		/* shared set: biopool_shared_lock */
};

struct biopool_c {
	struct dm_dev *dev;
	sector_t start;
	unsigned int pool_size;
	unsigned int split_sectors;	/* 0: one clone per bio */
	bool unsafe_alloc_order;
	bool no_rescuer;
	bool ctx_pool;
	bool shared_set;

	struct biopool_set *set;	/* &own, or the shared set */
	struct biopool_set own;

	/* ctx_pool: the per-clone contexts' mempool, on a cache of its own */
	struct kmem_cache *ctx_slab;
	mempool_t ctx_mempool;

	/* Fault injection: fail the next N slab allocations, or all. */
	struct mutex fail_lock;		/* arming and disarming the probe */
	struct list_head armed_node;	/* on biopool_armed, RCU */
	bool probe_on;			/* armed: the probe sees our calls */
	atomic64_t fail_remaining;
	bool fail_always;
	struct work_struct disarm_work;

	/* Statistics; all but in_flight are cleared by "reset_stats". */
	atomic64_t clones;
	atomic64_t splits;
	atomic64_t completed;
	atomic64_t errors;
	atomic64_t alloc_failed;
	atomic64_t in_flight;
};

/* Per incoming bio, in dm's per-bio data: no allocation per original. */
struct biopool_io {
	atomic_t remaining;
	atomic_t error;			/* first blk_status_t seen */
};

/* Per clone: the clone's bi_private points to it. */
struct biopool_ctx {
	struct biopool_c *bc;
	struct bio *orig;
};

/*
 * The context in the bio_set's front_pad (the default), or with ctx_pool
 * from ctx_mempool, a second mempool that nothing rescues.
 */
struct biopool_clone {
	struct biopool_ctx ctx;
	struct bio clone;		/* must be last */
};

/* In "Fault injection", below: what the constructor and destructor call. */
static int biopool_own_slab(struct biopool_set *set);
static void biopool_disarm(struct biopool_c *bc, bool force);
static void biopool_disarm_work(struct work_struct *work);

/*
 * Table parsing.
 */
/* Decimal digits only: kstrtouint() also takes a '+' or a trailing newline. */
static int biopool_strtouint(const char *s, unsigned int *value)
{
	if (!s || !isdigit(*s))
		return -EINVAL;
	return kstrtouint(s, 10, value);
}

static int biopool_parse_value(const char *s, const struct dm_arg *arg,
			       unsigned int *value, char **error)
{
	unsigned int v;

	if (biopool_strtouint(s, &v) || v < arg->min || v > arg->max) {
		*error = arg->error;
		return -EINVAL;
	}

	*value = v;
	return 0;
}

/* Does "key:value" in @arg, whose key is @len characters, name @key? */
static bool biopool_key_is(const char *arg, size_t len, const char *key)
{
	return len == strlen(key) && !memcmp(arg, key, len);
}

static int biopool_parse_opt_params(struct dm_arg_set *as,
				    struct biopool_c *bc, struct dm_target *ti)
{
	static const struct dm_arg _args[] = {
		{0, 6, "Invalid number of optional parameters"},
		{1, BIOPOOL_MAX_POOL_SIZE, "Invalid pool_size (1..65536)"},
		{0, 1U << 31, "Invalid split_sectors"},
	};
	/* the key:value parameters */
	struct {
		const char *key;
		const struct dm_arg *bounds;
		unsigned int *value;
		char *duplicate;
		bool seen;
	} kv[] = {
		{ "pool_size", &_args[1], &bc->pool_size, "Duplicate pool_size" },
		{ "split_sectors", &_args[2], &bc->split_sectors,
		  "Duplicate split_sectors" },
	};
	/* the flags: each breaks one statement of bio_alloc_bioset() */
	struct {
		const char *name;
		bool *value;
		char *duplicate;
	} flags[] = {
		{ "unsafe_alloc_order", &bc->unsafe_alloc_order,
		  "Duplicate unsafe_alloc_order" },
		{ "no_rescuer", &bc->no_rescuer, "Duplicate no_rescuer" },
		{ "ctx_pool", &bc->ctx_pool, "Duplicate ctx_pool" },
		{ "shared_set", &bc->shared_set, "Duplicate shared_set" },
	};
	unsigned int argc, i;
	const char *arg, *value;
	size_t len;
	int r;

	if (!as->argc)
		return 0;

	/*
	 * Not dm_read_arg_group(): its sscanf("%u") wraps a count like
	 * 4294967297 to 1 and takes "+1"; the count is parsed like any value.
	 */
	r = biopool_parse_value(dm_shift_arg(as), &_args[0], &argc, &ti->error);
	if (r)
		return r;
	if (argc > as->argc) {
		ti->error = "Fewer optional parameters than their count says";
		return -EINVAL;
	}

	while (argc--) {
		arg = dm_shift_arg(as);

		for (i = 0; i < ARRAY_SIZE(flags); i++)
			if (!strcmp(arg, flags[i].name))
				break;
		if (i < ARRAY_SIZE(flags)) {
			if (*flags[i].value) {
				ti->error = flags[i].duplicate;
				return -EINVAL;
			}
			*flags[i].value = true;
			continue;
		}

		value = strchr(arg, ':');
		if (!value) {
			ti->error = "Unknown optional parameter";
			return -EINVAL;
		}
		len = value - arg;
		value++;

		for (i = 0; i < ARRAY_SIZE(kv); i++)
			if (biopool_key_is(arg, len, kv[i].key))
				break;
		if (i == ARRAY_SIZE(kv)) {
			ti->error = "Unknown optional parameter";
			return -EINVAL;
		}
		if (kv[i].seen) {
			ti->error = kv[i].duplicate;
			return -EINVAL;
		}
		kv[i].seen = true;
		r = biopool_parse_value(value, kv[i].bounds, kv[i].value,
					&ti->error);
		if (r)
			return r;
		if (bc->split_sectors &&
		    (!is_power_of_2(bc->split_sectors) ||
		     bc->split_sectors < BIOPOOL_MIN_SPLIT_SECTORS)) {
			ti->error = "split_sectors must be 0 or a power of two >= 8";
			return -EINVAL;
		}
	}

	if (as->argc) {
		ti->error = "Too many arguments";
		return -EINVAL;
	}

	return 0;
}

/*
 * The bio_sets and the contexts' mempool that the constructor makes.
 */
static atomic_t biopool_slabs = ATOMIC_INIT(0);	/* names the caches */

/* A bio_set of @pool_size on a cache of its own; ti->error on failure. */
static int biopool_init_set(struct biopool_set *set, unsigned int pool_size,
			    bool rescuer, struct dm_target *ti)
{
	int r;

	memset(set, 0, sizeof(*set));
	set->pool_size = pool_size;
	set->rescuer = rescuer;
	r = bioset_init(&set->bs, pool_size,
			offsetof(struct biopool_clone, clone),
			rescuer ? BIOSET_NEED_RESCUER : 0);
	if (r) {
		ti->error = "Cannot allocate bio_set";
		return r;
	}
	r = biopool_own_slab(set);
	if (r) {
		ti->error = "Cannot allocate the bio_set's slab cache";
		bioset_exit(&set->bs);
	}
	return r;
}

/* Undo biopool_init_set(); no bio of the set is left. */
static void biopool_exit_set(struct biopool_set *set)
{
	struct bio_set *bs = &set->bs;

	/* the reserve goes back to our cache, with our callbacks */
	mempool_exit(&bs->bio_pool);
	bs->bio_slab = set->shared_slab;
	bioset_exit(bs);
	kmem_cache_destroy(set->slab);
}

/*
 * shared_set: one bio_set for every device that asks for it, made by the
 * first with its pool_size and rescuer, freed with the last.  Two such
 * devices stacked allocate from it at two levels of one submission: the
 * upper level's clone holds an element while the lower level waits for
 * one, and no rescuer can move it (it is not queued, it is being served).
 */
static DEFINE_MUTEX(biopool_shared_lock);
static struct biopool_set *biopool_shared;

static int biopool_get_shared(struct biopool_c *bc, struct dm_target *ti)
{
	struct biopool_set *set;
	int r = 0;

	mutex_lock(&biopool_shared_lock);
	set = biopool_shared;
	if (set) {
		if (set->pool_size != bc->pool_size ||
		    set->rescuer == bc->no_rescuer) {
			ti->error = "shared_set: pool_size or no_rescuer differs";
			r = -EINVAL;
			goto out;
		}
	} else {
		set = kmalloc(sizeof(*set), GFP_KERNEL);
		if (!set) {
			ti->error = "Cannot allocate the shared bio_set";
			r = -ENOMEM;
			goto out;
		}
		r = biopool_init_set(set, bc->pool_size, !bc->no_rescuer, ti);
		if (r) {
			kfree(set);
			goto out;
		}
		biopool_shared = set;
	}
	set->users++;
	bc->set = set;
out:
	mutex_unlock(&biopool_shared_lock);
	return r;
}

static void biopool_put_shared(struct biopool_set *set)
{
	mutex_lock(&biopool_shared_lock);
	if (!--set->users) {
		biopool_shared = NULL;
		biopool_exit_set(set);
		kfree(set);
	}
	mutex_unlock(&biopool_shared_lock);
}

/*
 * ctx_pool: the per-clone context from a mempool of pool_size elements on
 * a cache of its own (fail_alloc empties it with the set's), as drivers
 * did before front_pad (dm-crypt before 7145c241a1bf).
 */
static int biopool_init_ctx_pool(struct biopool_c *bc, struct dm_target *ti)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "dm_biopool_ctx_%u",
		 (unsigned int)atomic_inc_return(&biopool_slabs));
	bc->ctx_slab = kmem_cache_create(name, sizeof(struct biopool_ctx), 0,
					 BIOPOOL_SLAB_FLAGS, NULL);
	if (!bc->ctx_slab) {
		ti->error = "Cannot allocate the context cache";
		return -ENOMEM;
	}
	r = mempool_init_slab_pool(&bc->ctx_mempool, bc->pool_size,
				   bc->ctx_slab);
	if (r) {
		ti->error = "Cannot allocate the context mempool";
		kmem_cache_destroy(bc->ctx_slab);
		bc->ctx_slab = NULL;
	}
	return r;
}

static void biopool_exit_ctx_pool(struct biopool_c *bc)
{
	if (!bc->ctx_slab)
		return;
	mempool_exit(&bc->ctx_mempool);
	kmem_cache_destroy(bc->ctx_slab);
}

/*
 * Construct a biopool mapping:
 * <dev_path> <offset> [<#opt_params> <opt_params>...]
 *
 * opt_params: pool_size:<n> split_sectors:<n> unsafe_alloc_order no_rescuer
 *             ctx_pool shared_set
 */
static int biopool_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as;
	struct biopool_c *bc;
	const char *path, *offset;
	unsigned long long start;
	sector_t dev_size;
	int r;

	if (argc < 2) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}

	as.argc = argc;
	as.argv = argv;

	bc = kzalloc(sizeof(*bc), GFP_KERNEL);
	if (!bc) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	bc->pool_size = BIOPOOL_DEFAULT_POOL_SIZE;
	mutex_init(&bc->fail_lock);
	INIT_WORK(&bc->disarm_work, biopool_disarm_work);

	path = dm_shift_arg(&as);
	offset = dm_shift_arg(&as);
	if (!isdigit(*offset) || kstrtoull(offset, 10, &start) ||
	    start != (sector_t)start) {
		ti->error = "Invalid device offset";
		r = -EINVAL;
		goto bad_free;
	}
	bc->start = start;

	r = biopool_parse_opt_params(&as, bc, ti);
	if (r)
		goto bad_free;

	r = dm_get_device(ti, path, dm_table_get_mode(ti->table), &bc->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad_free;
	}

	r = -EINVAL;
	dev_size = bdev_nr_sectors(bc->dev->bdev);
	if (bc->start >= dev_size) {
		ti->error = "Offset beyond end of device";
		goto bad_put;
	}
	if (ti->len > dev_size - bc->start) {
		ti->error = "Device too small for target length";
		goto bad_put;
	}
	if (bc->split_sectors &&
	    ((sector_t)bc->split_sectors << SECTOR_SHIFT) <
	    bdev_logical_block_size(bc->dev->bdev)) {
		ti->error = "split_sectors below the device's logical block size";
		goto bad_put;
	}

	if (bc->shared_set) {
		r = biopool_get_shared(bc, ti);
	} else {
		bc->set = &bc->own;
		r = biopool_init_set(&bc->own, bc->pool_size, !bc->no_rescuer,
				     ti);
	}
	if (r)
		goto bad_put;
	if (bc->ctx_pool) {
		r = biopool_init_ctx_pool(bc, ti);
		if (r)
			goto bad_set;
	}

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct biopool_io);
	ti->accounts_remapped_io = true;
	ti->private = bc;
	return 0;

bad_set:
	if (bc->shared_set)
		biopool_put_shared(bc->set);
	else
		biopool_exit_set(&bc->own);
bad_put:
	dm_put_device(ti, bc->dev);
bad_free:
	kfree(bc);
	return r;
}

static void biopool_dtr(struct dm_target *ti)
{
	struct biopool_c *bc = ti->private;

	/*
	 * Off the armed list (the probe stays, the module's): no handler
	 * looks at the device after that, so its disarm work can go too.
	 */
	mutex_lock(&bc->fail_lock);
	biopool_disarm(bc, true);
	mutex_unlock(&bc->fail_lock);
	cancel_work_sync(&bc->disarm_work);
	biopool_exit_ctx_pool(bc);
	if (bc->shared_set)
		biopool_put_shared(bc->set);
	else
		biopool_exit_set(&bc->own);
	dm_put_device(ti, bc->dev);
	kfree(bc);
}

/*
 * I/O path.
 */
static void biopool_set_error(struct biopool_io *io, blk_status_t status)
{
	atomic_cmpxchg(&io->error, 0, (__force int)status);
}

static void biopool_put_io(struct bio *orig)
{
	struct biopool_io *io = dm_per_bio_data(orig, sizeof(*io));

	if (!atomic_dec_and_test(&io->remaining))
		return;

	orig->bi_status = (__force blk_status_t)atomic_read(&io->error);
	bio_endio(orig);
}

static void biopool_clone_endio(struct bio *clone)
{
	struct biopool_ctx *ctx = clone->bi_private;
	struct biopool_c *bc = ctx->bc;
	struct bio *orig = ctx->orig;

	if (clone->bi_status) {
		atomic64_inc(&bc->errors);
		biopool_set_error(dm_per_bio_data(orig, sizeof(struct biopool_io)),
				  clone->bi_status);
	}
	atomic64_inc(&bc->completed);
	atomic64_dec(&bc->in_flight);

	/* Return the elements to the pools before the original may complete. */
	bio_put(clone);
	if (bc->ctx_pool)
		mempool_free(ctx, &bc->ctx_mempool);
	biopool_put_io(orig);
}

/*
 * Clone sectors [done, done + len) of @orig, which start at @sector on the
 * lower device; len == 0 clones a bio that carries no sectors (a flush).
 */
static struct bio *biopool_alloc_clone(struct biopool_c *bc, struct bio *orig,
				       sector_t sector, unsigned int done,
				       unsigned int len)
{
	struct biopool_io *io = dm_per_bio_data(orig, sizeof(*io));
	struct biopool_ctx *ctx = NULL;
	struct bio *clone;

	/*
	 * ctx_pool: a second mempool, allocated from inside ->submit_bio
	 * while the previous clone waits on current->bio_list; the set's
	 * rescuer does not help it.
	 */
	if (bc->ctx_pool)
		ctx = mempool_alloc(&bc->ctx_mempool, GFP_NOIO);
	clone = bio_alloc_clone(bc->dev->bdev, orig, GFP_NOIO, &bc->set->bs);
	if (!clone || (bc->ctx_pool && !ctx)) {
		/* Not expected: the allocations may sleep and have mempools. */
		if (clone)
			bio_put(clone);
		if (ctx)
			mempool_free(ctx, &bc->ctx_mempool);
		atomic64_inc(&bc->errors);
		biopool_set_error(io, BLK_STS_RESOURCE);
		return NULL;
	}

	if (!ctx)
		ctx = &container_of(clone, struct biopool_clone, clone)->ctx;
	ctx->bc = bc;
	ctx->orig = orig;
	clone->bi_private = ctx;

	if (len) {
		bio_trim(clone, done, len);
		clone->bi_iter.bi_sector = sector + done;
	}
	/* The clone completes by interrupt: dm polls only its own clone. */
	bio_clear_polled(clone);
	clone->bi_end_io = biopool_clone_endio;

	atomic_inc(&io->remaining);
	atomic64_inc(&bc->clones);
	atomic64_inc(&bc->in_flight);
	return clone;
}

/* Length of the next clone: it never crosses a split_sectors boundary. */
static unsigned int biopool_next_len(struct biopool_c *bc, sector_t pos,
				     unsigned int left)
{
	unsigned int len;

	if (!bc->split_sectors)
		return left;

	len = bc->split_sectors - (pos & (bc->split_sectors - 1));
	return min(len, left);
}

static int biopool_map(struct dm_target *ti, struct bio *bio)
{
	struct biopool_c *bc = ti->private;
	struct biopool_io *io = dm_per_bio_data(bio, sizeof(*io));
	unsigned int total = bio_sectors(bio);
	struct bio_list clones = BIO_EMPTY_LIST;
	unsigned int done = 0, len;
	struct bio *clone;
	sector_t sector = 0;

	/* One reference for the submitter, dropped once all are issued. */
	atomic_set(&io->remaining, 1);
	atomic_set(&io->error, 0);

	if (total)
		sector = bc->start + dm_target_offset(ti, bio->bi_iter.bi_sector);

	len = biopool_next_len(bc, sector, total);
	if (len < total)
		atomic64_inc(&bc->splits);

	do {
		len = biopool_next_len(bc, sector + done, total - done);
		clone = biopool_alloc_clone(bc, bio, sector, done, len);
		if (!clone)
			break;
		done += len;

		if (bc->unsafe_alloc_order) {
			/* The deliberate bug: hold every clone unsubmitted. */
			bio_list_add(&clones, clone);
			continue;
		}
		dm_submit_bio_remap(bio, clone);
	} while (done < total);

	while ((clone = bio_list_pop(&clones)))
		dm_submit_bio_remap(bio, clone);

	biopool_put_io(bio);
	return DM_MAPIO_SUBMITTED;
}

static void biopool_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	struct biopool_c *bc = ti->private;
	unsigned int opt_params;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("clones=%lld splits=%lld in_flight=%lld completed=%lld errors=%lld",
		       atomic64_read(&bc->clones), atomic64_read(&bc->splits),
		       atomic64_read(&bc->in_flight),
		       atomic64_read(&bc->completed),
		       atomic64_read(&bc->errors));
		DMEMIT(" pool_size=%u pool_free=%d alloc_failed=%lld",
		       bc->pool_size, READ_ONCE(bc->set->bs.bio_pool.curr_nr),
		       atomic64_read(&bc->alloc_failed) +
		       atomic64_read(&bc->set->alloc_failed));
		if (READ_ONCE(bc->fail_always))
			DMEMIT(" fail_alloc=always");
		else
			DMEMIT(" fail_alloc=%lld",
			       atomic64_read(&bc->fail_remaining));
		if (bc->ctx_pool)
			DMEMIT(" ctx_free=%d",
			       READ_ONCE(bc->ctx_mempool.curr_nr));
		break;

	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu", bc->dev->name, (unsigned long long)bc->start);
		opt_params = (bc->pool_size != BIOPOOL_DEFAULT_POOL_SIZE) +
			     !!bc->split_sectors + bc->unsafe_alloc_order +
			     bc->no_rescuer + bc->ctx_pool + bc->shared_set;
		if (!opt_params)
			break;
		DMEMIT(" %u", opt_params);
		if (bc->pool_size != BIOPOOL_DEFAULT_POOL_SIZE)
			DMEMIT(" pool_size:%u", bc->pool_size);
		if (bc->split_sectors)
			DMEMIT(" split_sectors:%u", bc->split_sectors);
		if (bc->unsafe_alloc_order)
			DMEMIT(" unsafe_alloc_order");
		if (bc->no_rescuer)
			DMEMIT(" no_rescuer");
		if (bc->ctx_pool)
			DMEMIT(" ctx_pool");
		if (bc->shared_set)
			DMEMIT(" shared_set");
		break;

	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",device_name=%s,start=%llu", bc->dev->name,
		       (unsigned long long)bc->start);
		DMEMIT(",pool_size=%u,split_sectors=%u,unsafe_alloc_order=%c",
		       bc->pool_size, bc->split_sectors,
		       bc->unsafe_alloc_order ? 'y' : 'n');
		DMEMIT(",no_rescuer=%c,ctx_pool=%c,shared_set=%c;",
		       bc->no_rescuer ? 'y' : 'n', bc->ctx_pool ? 'y' : 'n',
		       bc->shared_set ? 'y' : 'n');
		break;
	}
}

/*
 * Fault injection: "fail_alloc <count>" makes the next <count> slab
 * allocations of the device's bio_set fail ("always": every one, until
 * "fail_alloc 0"), and with ctx_pool those of its contexts' cache too.
 *
 * bioset_init() gives the set the bio-<size> slab cache that every bio_set
 * of that size shares; the set gets a cache of its own instead, so that a
 * failure can be injected into this set's allocations and no other's.
 * Failures are injected where the slab allocator is called, whoever calls
 * it: a kprobe on kmem_cache_alloc() (kmem_cache_alloc_noprof() since
 * 6.10) sends a call on the cache of an armed device (fail_alloc) to a
 * function that returns NULL, as livepatch sends a call to a new function:
 * the allocator does not run at all.  So an allocation takes the path it
 * takes when memory is short, on kernels whose bio_alloc_bioset() goes to
 * the mempool first (6.x) as on those that try the slab cache directly and
 * fall back to the mempool after a punt (7.x): the reserve, waits on an
 * empty reserve, punts to the rescuer.  A plain kprobe keeps nothing per
 * call: no return probe, no per-task state, nothing to wait for when a
 * device goes.
 *
 * Cost: from the first fail_alloc until the module is unloaded, every
 * kmem_cache_alloc() in the system passes through the probe's handler:
 * one atomic read while no device is armed, a walk of the armed devices
 * while one is.
 * alloc_failed counts the failures injected, and the real ones that the
 * mempool's callback sees while its device is not armed; a real failure
 * of 7.x's direct slab call (outside the mempool) is not seen.
 *
 * The mempool's callbacks are ours: they allocate from the set's cache
 * through mempool_alloc_slab() (so tracers see the slab call) and count
 * the failures that happen for real while no device of the set is armed.
 * The mempool is set up with them from the start, so that its reserve is
 * filled and emptied through the same callbacks (mempool poisoning
 * depends on them).  With ctx_pool, the contexts' cache is armed too.
 */
static bool biopool_inject_failure(struct biopool_c *bc)
{
	if (READ_ONCE(bc->fail_always))
		return true;
	if (!atomic64_read(&bc->fail_remaining))
		return false;
	if (atomic64_dec_if_positive(&bc->fail_remaining) < 0)
		return false;
	if (!atomic64_read(&bc->fail_remaining))
		schedule_work(&bc->disarm_work);	/* the last one */
	return true;
}

/*
 * One kprobe for the module, registered the first time a device is armed
 * and kept until the module goes: registering and unregistering a probe
 * on the slab allocator at each message would patch one of the kernel's
 * hottest functions over and over.  Armed devices are on an RCU list;
 * with none armed the handler returns at once.
 */
static DEFINE_MUTEX(biopool_probe_lock);	/* the probe and the list */
static LIST_HEAD(biopool_armed);
static atomic_t biopool_nr_armed = ATOMIC_INIT(0);
static struct kprobe biopool_probe;
static bool biopool_probe_registered;

/* Where a failed call goes instead of kmem_cache_alloc(); same prototype. */
static noinline void *biopool_failed_alloc(struct kmem_cache *s, gfp_t gfp)
{
	return NULL;
}

/* kmem_cache_alloc(cache, gfp) entry: an armed cache's call may fail. */
static int biopool_slab_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kmem_cache *cache;
	struct biopool_c *bc;
	bool fail = false;

	if (!atomic_read(&biopool_nr_armed))
		return 0;
	cache = (struct kmem_cache *)regs_get_kernel_argument(regs, 0);
	rcu_read_lock();
	list_for_each_entry_rcu(bc, &biopool_armed, armed_node) {
		if (bc->set->slab == cache ||
		    (bc->ctx_slab && bc->ctx_slab == cache)) {
			fail = biopool_inject_failure(bc);
			if (fail)
				atomic64_inc(&bc->alloc_failed);
			break;
		}
	}
	rcu_read_unlock();
	if (!fail)
		return 0;
	/* the call returns from biopool_failed_alloc(), to its caller */
	instruction_pointer_set(regs, (unsigned long)biopool_failed_alloc);
	return 1;
}

/*
 * A post handler, though nothing is done after the call: a probe with one
 * is never optimised into a jump, and on ftrace it is attached with
 * FTRACE_OPS_FL_IPMODIFY, which a handler that changes regs->ip needs.
 */
static void biopool_slab_post(struct kprobe *p, struct pt_regs *regs,
			      unsigned long flags)
{
}

/* Register the module's probe if it is not; biopool_probe_lock held. */
static int biopool_register_probe(void)
{
	static const char * const names[] = {
		"kmem_cache_alloc_noprof", "kmem_cache_alloc",
	};
	struct kprobe *kp = &biopool_probe;
	unsigned int i;
	int r = -ENOENT;

	if (!IS_ENABLED(CONFIG_KPROBES) || !IS_ENABLED(CONFIG_X86_64))
		return -EOPNOTSUPP;
	if (biopool_probe_registered)
		return 0;
	for (i = 0; i < ARRAY_SIZE(names) && r == -ENOENT; i++) {
		memset(kp, 0, sizeof(*kp));
		kp->symbol_name = names[i];
		kp->pre_handler = biopool_slab_pre;
		kp->post_handler = biopool_slab_post;
		r = register_kprobe(kp);
	}
	biopool_probe_registered = !r;
	return r;
}

/* Put the device on the armed list; its fail_lock held. */
static int biopool_arm(struct biopool_c *bc)
{
	int r;

	if (bc->probe_on)
		return 0;
	mutex_lock(&biopool_probe_lock);
	r = biopool_register_probe();
	if (!r) {
		/* from now on the probe counts the failures */
		WRITE_ONCE(bc->probe_on, true);
		atomic_inc(&bc->set->armed);
		list_add_rcu(&bc->armed_node, &biopool_armed);
		atomic_inc(&biopool_nr_armed);
	}
	mutex_unlock(&biopool_probe_lock);
	return r;
}

/* Off the armed list if nothing is left to inject; fail_lock held. */
static void biopool_disarm(struct biopool_c *bc, bool force)
{
	if (!bc->probe_on)
		return;
	if (!force && (READ_ONCE(bc->fail_always) ||
		       atomic64_read(&bc->fail_remaining)))
		return;
	mutex_lock(&biopool_probe_lock);
	list_del_rcu(&bc->armed_node);
	atomic_dec(&biopool_nr_armed);
	mutex_unlock(&biopool_probe_lock);
	/* no entry handler looks at the device any more */
	synchronize_rcu();
	WRITE_ONCE(bc->probe_on, false);
	atomic_dec(&bc->set->armed);
}

static void biopool_disarm_work(struct work_struct *work)
{
	struct biopool_c *bc = container_of(work, struct biopool_c,
					    disarm_work);

	mutex_lock(&bc->fail_lock);
	biopool_disarm(bc, false);
	mutex_unlock(&bc->fail_lock);
}

static void *biopool_pool_alloc(gfp_t gfp_mask, void *pool_data)
{
	struct biopool_set *set = pool_data;
	void *element = mempool_alloc_slab(gfp_mask, set->slab);

	/* while a device of the set is armed, the probe counts */
	if (!element && !atomic_read(&set->armed))
		atomic64_inc(&set->alloc_failed);
	return element;
}

static void biopool_pool_free(void *element, void *pool_data)
{
	struct biopool_set *set = pool_data;

	mempool_free_slab(element, set->slab);
}

/*
 * After bioset_init(): the set's own cache, and its mempool made again on
 * it with our callbacks.  On failure the caller still calls bioset_exit().
 */
static int biopool_own_slab(struct biopool_set *set)
{
	struct bio_set *bs = &set->bs;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "dm_biopool_%u",
		 (unsigned int)atomic_inc_return(&biopool_slabs));
	set->slab = kmem_cache_create(name, kmem_cache_size(bs->bio_slab),
				      ARCH_KMALLOC_MINALIGN, BIOPOOL_SLAB_FLAGS,
				      NULL);
	if (!set->slab)
		return -ENOMEM;

	mempool_exit(&bs->bio_pool);
	r = mempool_init(&bs->bio_pool, set->pool_size, biopool_pool_alloc,
			 biopool_pool_free, set);
	if (r) {
		kmem_cache_destroy(set->slab);
		set->slab = NULL;
		return r;
	}
	set->shared_slab = bs->bio_slab;
	bs->bio_slab = set->slab;
	return 0;
}

static void biopool_reset_stats(struct biopool_c *bc)
{
	atomic64_set(&bc->clones, 0);
	atomic64_set(&bc->splits, 0);
	atomic64_set(&bc->completed, 0);
	atomic64_set(&bc->errors, 0);
	atomic64_set(&bc->alloc_failed, 0);
	atomic64_set(&bc->set->alloc_failed, 0);
}

/*
 * A message token is echoed in the kernel log cut to BIOPOOL_ECHO_MAX
 * characters, as '%.*s%s' with biopool_echo_len() and biopool_echo_cut():
 * printk truncates a record at about 1 KiB, newline and all, and a record
 * without its newline stays invisible to log readers until the next one.
 */
#define BIOPOOL_ECHO_MAX 64

static int biopool_echo_len(const char *s)
{
	return strnlen(s, BIOPOOL_ECHO_MAX);
}

static const char *biopool_echo_cut(const char *s)
{
	return strnlen(s, BIOPOOL_ECHO_MAX + 1) > BIOPOOL_ECHO_MAX ? "..." : "";
}

static int biopool_message_fail_alloc(struct biopool_c *bc, const char *dev,
				      unsigned int argc, char **argv)
{
	unsigned int n = 0;
	bool always;
	int r;

	if (argc != 2) {
		DMERR("%s: fail_alloc takes one argument, <count> or always",
		      dev);
		return -EINVAL;
	}
	always = !strcmp(argv[1], "always");
	if (!always && biopool_strtouint(argv[1], &n)) {
		DMERR("%s: fail_alloc: invalid count '%.*s%s' (want 0..%u or always)",
		      dev, biopool_echo_len(argv[1]), argv[1],
		      biopool_echo_cut(argv[1]), UINT_MAX);
		return -EINVAL;
	}

	mutex_lock(&bc->fail_lock);
	if (always || n) {
		r = biopool_arm(bc);
		if (r) {
			mutex_unlock(&bc->fail_lock);
			DMERR("%s: fail_alloc: cannot probe the slab allocator (error %d%s)",
			      dev, r, r == -EOPNOTSUPP ? ": needs CONFIG_KPROBES on x86_64" : "");
			return r;
		}
	}
	atomic64_set(&bc->fail_remaining, always ? 0 : n);
	WRITE_ONCE(bc->fail_always, always);
	biopool_disarm(bc, false);
	mutex_unlock(&bc->fail_lock);
	return 0;
}

static int biopool_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	struct biopool_c *bc = ti->private;
	const char *dev = dm_device_name(dm_table_get_md(ti->table));

	if (!argc) {
		DMERR("%s: empty message", dev);
		return -EINVAL;
	}

	if (!strcmp(argv[0], "fail_alloc"))
		return biopool_message_fail_alloc(bc, dev, argc, argv);

	if (!strcmp(argv[0], "reset_stats")) {
		if (argc != 1) {
			DMERR("%s: reset_stats takes no argument", dev);
			return -EINVAL;
		}
		biopool_reset_stats(bc);
		return 0;
	}

	DMERR("%s: unrecognised message '%.*s%s' (want fail_alloc or reset_stats)",
	      dev, biopool_echo_len(argv[0]), argv[0],
	      biopool_echo_cut(argv[0]));
	return -EINVAL;
}

static int biopool_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct biopool_c *bc = ti->private;

	return fn(ti, bc->dev, bc->start, ti->len, data);
}

static struct target_type biopool_target = {
	.name		 = "biopool",
	.version	 = {1, 1, 0},
	.module		 = THIS_MODULE,
	.ctr		 = biopool_ctr,
	.dtr		 = biopool_dtr,
	.map		 = biopool_map,
	.status		 = biopool_status,
	.message	 = biopool_message,
	.iterate_devices = biopool_iterate_devices,
};

static int __init dm_biopool_init(void)
{
	int r = dm_register_target(&biopool_target);

	if (r)
		DMERR("register failed %d", r);
	return r;
}

static void __exit dm_biopool_exit(void)
{
	dm_unregister_target(&biopool_target);
	if (biopool_probe_registered) {
		unregister_kprobe(&biopool_probe);
		/* no task is left in biopool_failed_alloc() */
		synchronize_rcu_tasks();
	}
}

module_init(dm_biopool_init);
module_exit(dm_biopool_exit);

MODULE_DESCRIPTION(DM_NAME " target cloning bios from a small private bio_set");
MODULE_LICENSE("GPL");
MODULE_VERSION(DM_BIOPOOL_VERSION);
