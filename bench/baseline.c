// SPDX-License-Identifier: GPL-2.0
/*
 * baseline FUNCTION: attach bench/baseline.bpf.c's trivial fentry program to
 * FUNCTION and keep it attached until SIGINT/SIGTERM.  Prints "attached"
 * once it runs.  Exit: 0 ok, 1 cannot load or attach, 2 bad usage.
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
	struct bpf_link *link;
	char path[4096];
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: baseline FUNCTION\n");
		return 2;
	}
	libbpf_set_print(quiet);
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n < 0)
		return 1;
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "baseline.bpf.o");
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "baseline: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "baseline");
	if (!prog || bpf_program__set_attach_target(prog, 0, argv[1]) ||
	    bpf_object__load(obj)) {
		fprintf(stderr, "baseline: cannot load an fentry program on %s\n", argv[1]);
		bpf_object__close(obj);
		return 1;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		fprintf(stderr, "baseline: cannot attach to %s: %s\n", argv[1], strerror(errno));
		bpf_object__close(obj);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %s\n", argv[1]);
	fflush(stdout);
	while (!stop)
		pause();
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
