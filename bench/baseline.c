// SPDX-License-Identifier: GPL-2.0
/*
 * baseline: attach bench/baseline.bpf.c's trivial fentry programs (bl_alloc,
 * bl_slab, bl_clone, bl_submit: one per function biostat traces in the
 * fast path) and keep them attached until SIGINT/SIGTERM.  Prints
 * "attached" once they run.  Exit: 0 ok, 1 cannot load or attach, 2 bad
 * usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !getenv("BASELINE_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *links[8];
	char path[4096];
	int n, nlinks = 0, rc = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: baseline\n");
		return 2;
	}
	libbpf_set_print(quiet);
	n = (int)readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n < 0)
		return 1;
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "baseline.bpf.o");
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "baseline: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "baseline: cannot load %s: %s\n", path, strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, obj) {
		if (nlinks == (int)(sizeof(links) / sizeof(links[0])))
			break;
		links[nlinks] = bpf_program__attach(prog);
		if (!links[nlinks]) {
			fprintf(stderr, "baseline: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			goto out;
		}
		nlinks++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %d programs\n", nlinks);
	fflush(stdout);
	while (!stop)
		pause();
	rc = 0;
out:
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	bpf_object__close(obj);
	return rc;
}
