/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verify_load -- load every program of a BPF object (what the verifier
 * says, nothing attached), for tests/kernel/test_verifier_kernel.sh, which
 * runs it statically linked inside a VM booted on another kernel.
 * Prints "program NAME: loaded, processed N insns" or the verifier's log
 * tail, and exits 0 only when every program loaded.
 * usage: verify_load OBJECT.bpf.o
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define LOG_SIZE (16u << 20)
#define MAX_PROGS 8

static int
quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stdout, fmt, ap) : 0;
}

int
main(int argc, char **argv)
{
	char *logs[MAX_PROGS] = { 0 };
	struct bpf_program *p;
	int n = 0, failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: verify_load OBJECT.bpf.o\n");
		return 2;
	}
	libbpf_set_print(quiet);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (obj == NULL) {
		printf("cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct bpf_map *ct = bpf_object__find_map_by_name(obj, "ct");
	if (ct != NULL)
		bpf_map__set_max_entries(ct, 2048);
	bpf_object__for_each_program(p, obj) {
		if (n == MAX_PROGS)
			break;
		logs[n] = calloc(1, LOG_SIZE);
		if (logs[n] == NULL)
			return 1;
		/* level 4: the statistics (processed insns) even on success */
		bpf_program__set_log_buf(p, logs[n], LOG_SIZE);
		bpf_program__set_log_level(p, 4);
		n++;
	}
	int err = bpf_object__load(obj);
	printf("load: %s\n", err ? strerror(-err) : "ok");
	n = 0;
	bpf_object__for_each_program(p, obj) {
		if (n == MAX_PROGS)
			break;
		const char *stat = strstr(logs[n], "processed ");
		int len = stat ? (int)strcspn(stat, "\n") : 0;
		if (bpf_program__fd(p) >= 0) {
			printf("program %s: loaded, %.*s\n", bpf_program__name(p), len, stat ? stat : "");
		} else {
			size_t l = strlen(logs[n]);
			printf("program %s: NOT loaded; the verifier's log ends:\n%s\n", bpf_program__name(p),
			       logs[n] + (l > 4000 ? l - 4000 : 0));
			failed = 1;
		}
		free(logs[n]);
		n++;
	}
	bpf_object__close(obj);
	return err || failed ? 1 : 0;
}
