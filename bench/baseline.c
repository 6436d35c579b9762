// SPDX-License-Identifier: GPL-2.0
/*
 * baseline [PROG...]: load and attach the named programs of
 * bench/baseline.bpf.c (default: the counting ones, bl_alloc, bl_slab,
 * bl_clone, bl_submit, bl_task; em_* are the empty ones) and keep them attached
 * until SIGINT/SIGTERM.  Prints "attached N programs" once they run.  It is
 * also the trivial CO-RE load whose peak RSS bench/guest compares biostat's
 * with.  Exit: 0 ok, 1 cannot load or attach, 2 bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#define MAX_LINKS 32

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
	static const char *const counting[] = {
		"bl_alloc", "bl_slab", "bl_clone", "bl_submit", "bl_task", NULL,
	};
	struct bpf_link *links[MAX_LINKS];
	const char *const *want = argc > 1 ? (const char *const *)argv + 1 : counting;
	char path[4096];
	int n, i, nlinks = 0, rc = 1;

	if (argc > MAX_LINKS) {
		fprintf(stderr, "usage: baseline [PROG...] (at most %d)\n", MAX_LINKS - 1);
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
	bpf_object__for_each_program(prog, obj) {
		bool on = false;

		for (i = 0; want[i]; i++)
			on |= !strcmp(want[i], bpf_program__name(prog));
		bpf_program__set_autoload(prog, on);
	}
	for (i = 0; want[i]; i++) {
		if (!bpf_object__find_program_by_name(obj, want[i])) {
			fprintf(stderr, "baseline: no program '%s' in %s\n", want[i], path);
			rc = 2;
			goto out;
		}
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "baseline: cannot load %s: %s\n", path, strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
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
