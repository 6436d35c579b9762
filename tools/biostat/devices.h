/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devices.h - block devices by name and number: listings read from sysfs,
 * lookups in them (pure text, unit tested), and what the user gives to -d.
 *
 * A listing is text, one device per line: "NAME MAJ:MIN".  One lists every
 * block device by kernel name (vda, dm-2), one every device-mapper device
 * by its dm name (bp0).  Two more say how devices stack, by kernel name:
 * "BELOW HOLDER" pairs (a device and one that sends I/O to it: sysfs
 * holders, and a bcache cache or backing device and its bcache device),
 * and "MDNAME LEVEL" for md arrays (md0 raid1).
 */
#ifndef BIOSTAT_DEVICES_H
#define BIOSTAT_DEVICES_H

#include <stddef.h>
#include <stdint.h>

/* The kernel's dev_t encoding (include/linux/kdev_t.h), as BPF reports it. */
#define BIOSTAT_MINORBITS	20
#define BIOSTAT_KDEV(ma, mi)	(((uint32_t)(ma) << BIOSTAT_MINORBITS) | (uint32_t)(mi))
#define BIOSTAT_KDEV_MAJOR(d)	((uint32_t)(d) >> BIOSTAT_MINORBITS)
#define BIOSTAT_KDEV_MINOR(d)	((uint32_t)(d) & ((1U << BIOSTAT_MINORBITS) - 1))

/* Device listings: 0 found, -1 not. */
int devlist_by_name(const char *list, const char *name,
		    unsigned int *maj, unsigned int *min);
int devlist_by_dev(const char *list, unsigned int maj, unsigned int min,
		   char *name, size_t n);

/*
 * Resolve what the user gave to -d: "MAJ:MIN", "/dev/mapper/NAME",
 * "/dev/NAME", a device-mapper name, or a kernel block device name.
 * The device must appear in one of the listings.  0 or -1.
 * (biostat stat()s other paths, e.g. /dev/disk/by-id links, itself.)
 */
int resolve_device_arg(const char *arg, const char *dm_list,
		       const char *blk_list, unsigned int *maj,
		       unsigned int *min);
/*
 * In a "WORD WORD" listing (holders, md), the second word of each line
 * whose first is key, one after the other: returns the index'th (0 on),
 * copied to out; -1 when there are no more.
 */
int devpairs_get(const char *list, const char *key, int index, char *out,
		 size_t n);

/* The listings of this machine, and when they were read. */
struct devlists {
	char *blk;		/* every block device by kernel name */
	char *dm;		/* every device-mapper device by dm name */
	char *holders;		/* "BELOW HOLDER" kernel names */
	char *md;		/* "MDNAME LEVEL" */
	double read_at;		/* mono_now() of the last read */
};

/* Read (again) every listing from /sys/class/block. */
void devlists_read(struct devlists *dl);
void devlists_free(struct devlists *dl);

/*
 * The kernel dev_t of what the user gave to -d: a /dev path (any, e.g. a
 * /dev/disk/by-id link) or what resolve_device_arg() accepts.  Dies with
 * a usage message when it names no block device.
 */
uint32_t device_arg_kdev(const struct devlists *dl, const char *arg);

#endif
