/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_invalid -- the invalid-topology corpus.
 *
 * Every file in the directory given as argv[1] is a topology that must be
 * refused.  Its comment lines "# expect: LINE:COL: message" list, in order,
 * every error the loader and validator must report, exactly -- no more, no
 * fewer, same positions, same words.  ("0:0: message" is an error about
 * the whole file.)  One cmocka test per file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "topo.h"

#define MAX_EXPECT 64

static int
read_expectations(const char *path, char *exp[MAX_EXPECT])
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, "# expect: ");
		if (p == NULL)
			continue;
		p += strlen("# expect: ");
		p[strcspn(p, "\n")] = '\0';
		assert_true(n < MAX_EXPECT);
		exp[n++] = strdup(p);
	}
	fclose(f);
	return n;
}

static void
test_file(void **state)
{
	const char *path = *state;
	char *exp[MAX_EXPECT];
	int n_exp = read_expectations(path, exp);
	struct vpc_diag d;

	/* A corpus file with no expectation would test nothing. */
	assert_true(n_exp > 0);

	vpc_diag_init(&d, path);
	struct topo *t = topo_load_valid(path, &d);
	assert_null(t);

	int ok = (int)d.n_entries == n_exp;
	for (uint32_t i = 0; i < d.n_entries && i < (uint32_t)n_exp; i++) {
		char got[1200];
		snprintf(got, sizeof(got), "%u:%u: %s", d.entries[i].pos.line,
			 d.entries[i].pos.col, d.entries[i].msg);
		if (strcmp(got, exp[i]) != 0)
			ok = 0;
	}
	if (!ok) {
		fprintf(stderr, "%s:\n  expected %d errors:\n", path, n_exp);
		for (int i = 0; i < n_exp; i++)
			fprintf(stderr, "    %s\n", exp[i]);
		fprintf(stderr, "  got %u:\n", d.n_entries);
		for (uint32_t i = 0; i < d.n_entries; i++)
			fprintf(stderr, "    %u:%u: %s\n", d.entries[i].pos.line,
				d.entries[i].pos.col, d.entries[i].msg);
	}
	for (int i = 0; i < n_exp; i++)
		free(exp[i]);
	vpc_diag_fini(&d);
	assert_true(ok);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_invalid DIR\n");
		return 2;
	}
	DIR *dir = opendir(argv[1]);
	if (dir == NULL) {
		perror(argv[1]);
		return 2;
	}
	char **paths = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
			continue;
		paths = realloc(paths, (n + 1) * sizeof(*paths));
		if (asprintf(&paths[n], "%s/%s", argv[1], e->d_name) < 0)
			return 2;
		n++;
	}
	closedir(dir);
	qsort(paths, n, sizeof(*paths), name_cmp);

	struct CMUnitTest *tests = calloc(n ? n : 1, sizeof(*tests));
	for (size_t i = 0; i < n; i++) {
		tests[i].name = strrchr(paths[i], '/') + 1;
		tests[i].test_func = test_file;
		tests[i].initial_state = paths[i];
	}
	int failed = _cmocka_run_group_tests("invalid_topologies", tests, n,
					     NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(tests);
	return failed;
}
