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

#include <stdint.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define LOG_SIZE (16u << 20)
#define MAX_PROGS 8

static int
quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stdout, fmt, ap) : 0;
}

/* Set the load-time constant `name` (a __u32 in .rodata) of obj to v,
 * found by the object's BTF; 0, or -1 when it has none of that name. */
static int
set_const(struct bpf_object *obj, const char *name, uint32_t v)
{
	struct bpf_map *m;
	struct btf *btf = bpf_object__btf(obj);

	if (btf == NULL)
		return -1;
	bpf_object__for_each_map(m, obj) {
		const char *mn = bpf_map__name(m);
		size_t sz;
		if (strstr(mn, ".rodata") == NULL)
			continue;
		int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
		uint8_t *data = bpf_map__initial_value(m, &sz);
		if (id < 0 || data == NULL)
			return -1;
		const struct btf_type *sec = btf__type_by_id(btf, (uint32_t)id);
		const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
		for (int i = 0; i < btf_vlen(sec); i++, vs++) {
			const struct btf_type *var = btf__type_by_id(btf, vs->type);
			if (strcmp(btf__name_by_offset(btf, var->name_off), name) == 0 &&
			    vs->offset + 4 <= sz) {
				memcpy(data + vs->offset, &v, 4);
				return 0;
			}
		}
	}
	return -1;
}

static int load_one(const char *path, const char *mode);

/* The object as each of its users loads it: forwarding (vpcctl xdp
 * start), replay (vpc-replay), traced (vpcctl trace: replay_mode and
 * trace_mode set) -- the constants decide what the verifier walks. */
int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: verify_load OBJECT.bpf.o\n");
		return 2;
	}
	libbpf_set_print(quiet);
	int r = load_one(argv[1], "forwarding");
	r |= load_one(argv[1], "replay");
	r |= load_one(argv[1], "traced");
	return r;
}

static int
load_one(const char *path, const char *mode)
{
	char *logs[MAX_PROGS] = { 0 };
	struct bpf_program *p;
	int n = 0, failed = 0;

	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (obj == NULL) {
		printf("cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (strcmp(mode, "forwarding") != 0 && set_const(obj, "replay_mode", 1) < 0) {
		printf("load (%s): no replay_mode in the object\n", mode);
		return 1;
	}
	if (strcmp(mode, "traced") == 0 && set_const(obj, "trace_mode", 1) < 0) {
		printf("load (%s): no trace_mode in the object\n", mode);
		return 1;
	}
	printf("mode: %s\n", mode);
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
	printf("load: %s (%s)\n", err ? strerror(-err) : "ok", mode);
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
