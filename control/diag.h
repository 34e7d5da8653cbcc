/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * diag.h -- configuration diagnostics, "FILE:LINE:COL: message".
 *
 * The loader and validator report every error they find into one list and
 * keep going; the list is sorted by position (stable, so errors at one
 * position keep the order they were found in) before it is printed.
 */
#ifndef VPC_DIAG_H
#define VPC_DIAG_H

#include <stdint.h>
#include <stdio.h>

struct vpc_pos {
	uint32_t line;		/* 1-based; 0 = the file as a whole */
	uint32_t col;		/* 1-based */
};

struct vpc_diag_entry {
	struct vpc_pos pos;
	char *msg;
};

struct vpc_diag {
	const char *file;	/* borrowed */
	struct vpc_diag_entry *entries;
	uint32_t n_entries;
	uint32_t cap;
	uint32_t n_dropped;	/* past VPC_DIAG_MAX */
};

#define VPC_DIAG_MAX 10000	/* enough to be useful, bounded on junk input */

void vpc_diag_init(struct vpc_diag *d, const char *file);
void vpc_diag_fini(struct vpc_diag *d);

__attribute__((format(printf, 3, 4)))
void vpc_diag_add(struct vpc_diag *d, struct vpc_pos pos, const char *fmt, ...);

/* Sort by position, stable. */
void vpc_diag_sort(struct vpc_diag *d);

/* One "FILE:LINE:COL: message" line per entry ("FILE: message" at line 0). */
void vpc_diag_print(const struct vpc_diag *d, FILE *out);

#endif /* VPC_DIAG_H */
