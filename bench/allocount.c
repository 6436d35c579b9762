// SPDX-License-Identifier: GPL-2.0
/*
 * allocount: attach bench/allocount.bpf.c (bios returned by
 * bio_alloc_bioset(), per bio_set) and, on SIGINT/SIGTERM, print one JSON
 * line per bio_set, {"bio_set":"0x...","allocs":N}, then
 * {"recursion_misses":N} (runs of the program the kernel skipped).  The
 * guest tests compare biostat's ALLOCS with these.  Prints "attached" on
 * stderr once it counts.  Exit: 0 ok, 1 cannot load, attach or read,
 * 2 bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static int no_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/* The per-CPU values of every key, summed, one JSON line each. */
static int dump(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 key, next, *pkey = NULL, *v;

	if (ncpu <= 0)
		return -1;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	while (!bpf_map_get_next_key(fd, pkey, &next)) {
		__u64 sum = 0;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
		printf("{\"bio_set\":\"0x%llx\",\"allocs\":%llu}\n",
		       (unsigned long long)key, (unsigned long long)sum);
	}
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	char path[4096];
	ssize_t n;
	int rc = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: allocount\n");
		return 2;
	}
	libbpf_set_print(no_debug);
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n < 0)
		return 1;
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "allocount.bpf.o");
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "allocount: cannot load %s: %s\n", path, strerror(errno));
		bpf_object__close(obj);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "ac_alloc");
	link = prog ? bpf_program__attach(prog) : NULL;
	if (!link) {
		fprintf(stderr, "allocount: cannot attach: %s\n", strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "attached\n");
	while (!done)
		pause();
	bpf_link__destroy(link);	/* the counts stop here */
	link = NULL;
	memset(&info, 0, sizeof(info));
	if (dump(bpf_object__find_map_fd_by_name(obj, "per_set")) ||
	    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &ilen))
		goto out;
	printf("{\"recursion_misses\":%llu}\n", (unsigned long long)info.recursion_misses);
	rc = 0;
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return rc;
}
