/* SPDX-License-Identifier: GPL-2.0 */
/*
 * calibrate.h - the address of fs_bio_set where /proc/kallsyms does not
 * list it (kernels without CONFIG_KALLSYMS_ALL), learnt from the kernel.
 */
#ifndef BIOSTAT_CALIBRATE_H
#define BIOSTAT_CALIBRATE_H

#include <linux/types.h>

/*
 * res and tid are the BPF side's calib_bs and calib_tid (.bss): it records
 * in *res the set of the first bio the thread *tid allocates.  Returns the
 * address, 0 when it could not be learnt.
 */
__u64 calibrate_fs_bio_set(volatile __u64 *res, volatile __u32 *tid);

#endif
