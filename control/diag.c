/* SPDX-License-Identifier: BSD-3-Clause */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
vpc_diag_init(struct vpc_diag *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
}

void
vpc_diag_fini(struct vpc_diag *d)
{
	for (uint32_t i = 0; i < d->n_entries; i++)
		free(d->entries[i].msg);
	free(d->entries);
	memset(d, 0, sizeof(*d));
}

void
vpc_diag_add(struct vpc_diag *d, struct vpc_pos pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (d->n_entries >= VPC_DIAG_MAX) {
		d->n_dropped++;
		return;
	}
	if (d->n_entries == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;
		void *p = realloc(d->entries, cap * sizeof(*d->entries));
		if (p == NULL) {
			d->n_dropped++;
			return;
		}
		d->entries = p;
		d->cap = cap;
	}
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		d->n_dropped++;
		return;
	}
	d->entries[d->n_entries++] = (struct vpc_diag_entry){ pos, msg };
}

void
vpc_diag_sort(struct vpc_diag *d)
{
	/* qsort is not stable, and errors at one position must keep the
	 * order they were found in: a bottom-up merge sort is. */
	uint32_t n = d->n_entries;
	if (n < 2)
		return;
	struct vpc_diag_entry *tmp = malloc(n * sizeof(*tmp));
	if (tmp == NULL)
		return;
	/* Bottom-up merge sort: stable, O(n log n). */
	struct vpc_diag_entry *src = d->entries, *dst = tmp;
	for (uint32_t w = 1; w < n; w *= 2) {
		for (uint32_t lo = 0; lo < n; lo += 2 * w) {
			uint32_t mid = lo + w < n ? lo + w : n;
			uint32_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			uint32_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				const struct vpc_pos *a = &src[i].pos, *b = &src[j].pos;
				int le = a->line < b->line ||
					 (a->line == b->line && a->col <= b->col);
				dst[k++] = le ? src[i++] : src[j++];
			}
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		struct vpc_diag_entry *t = src;
		src = dst;
		dst = t;
	}
	if (src != d->entries)
		memcpy(d->entries, src, n * sizeof(*tmp));
	free(tmp);
}

void
vpc_diag_print(const struct vpc_diag *d, FILE *out)
{
	for (uint32_t i = 0; i < d->n_entries; i++) {
		const struct vpc_diag_entry *e = &d->entries[i];
		if (e->pos.line == 0)
			fprintf(out, "%s: %s\n", d->file, e->msg);
		else
			fprintf(out, "%s:%u:%u: %s\n", d->file, e->pos.line,
				e->pos.col, e->msg);
	}
	if (d->n_dropped)
		fprintf(out, "%s: %u more errors not shown\n", d->file,
			d->n_dropped);
}
