// SPDX-License-Identifier: GPL-2.0
/*
 * calibrate.c - learning fs_bio_set's address from the kernel itself.
 *
 * fs_bio_set is a data symbol; kernels built without CONFIG_KALLSYMS_ALL
 * do not list it in /proc/kallsyms.  ext2/3/4 and XFS read file data with
 * bios from bio_alloc(), which always uses fs_bio_set.  We write 64 KiB to
 * an unnamed temporary file (O_TMPFILE) on such a file system, drop it
 * from the page cache and read 4 KiB back; the BPF side records the set of
 * the first bio this thread allocates (or submits) while calib_tid is set.
 * Only used where kallsyms does not name fs_bio_set, and only with
 * --calibrate: by default biostat does no I/O of its own.
 */
#include "calibrate.h"

#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common.h"

#define EXT4_SUPER_MAGIC_ 0xEF53
#define XFS_SUPER_MAGIC_ 0x58465342

static void calibrate_in(const char *dir, volatile __u64 *res,
			 volatile __u32 *tid)
{
	static char buf[1 << 16] __attribute__((aligned(4096)));
	struct statfs sfs;
	int fd;

	if (statfs(dir, &sfs) ||
	    (sfs.f_type != EXT4_SUPER_MAGIC_ && sfs.f_type != XFS_SUPER_MAGIC_))
		return;
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	memset(buf, 0x5a, sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fdatasync(fd)) {
		close(fd);
		return;
	}
	for (int k = 0; k < 3 && !*res; k++) {
		posix_fadvise(fd, 0, sizeof(buf), POSIX_FADV_DONTNEED);
		*tid = (__u32)gettid();
		if (pread(fd, buf, 4096, 0) < 0)
			k = 3;
		*tid = 0;
	}
	close(fd);
	if (*res)
		verbose("fs_bio_set is at 0x%llx (learnt from a read in %s)",
			(unsigned long long)*res, dir);
}

__u64 calibrate_fs_bio_set(volatile __u64 *res, volatile __u32 *tid)
{
	static const char *const dirs[] = { "/var/tmp", "/tmp", "/" };

	*res = 0;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !*res; i++)
		calibrate_in(dirs[i], res, tid);
	return *res;
}
