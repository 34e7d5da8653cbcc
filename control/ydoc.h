/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ydoc.h -- a YAML document as a tree of positioned nodes.
 *
 * libyaml's event stream is turned into a small tree in which every node
 * keeps the line and column it started at, so the topology loader can
 * point at the exact place of every error.
 *
 * Safety on hostile input:
 *  - files larger than YDOC_MAX_FILE_SIZE are refused before parsing;
 *  - the number of nodes and the nesting depth are bounded;
 *  - an alias is not copied: it shares the anchored node, and the size of
 *    the document *as if aliases were expanded* is computed bottom-up and
 *    bounded by YDOC_MAX_EXPANDED, so "billion laughs" documents are
 *    refused at the alias that crosses the bound, in linear time;
 *  - mapping keys must be scalars and unique; duplicates are reported.
 * Only one document per file; merge keys ("<<") and tags are not supported.
 */
#ifndef VPC_YDOC_H
#define VPC_YDOC_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

#define YDOC_MAX_FILE_SIZE (32u << 20)	/* 32 MiB */
#define YDOC_MAX_NODES     4000000
#define YDOC_MAX_EXPANDED  4000000
#define YDOC_MAX_DEPTH     64

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	struct vpc_pos pos;
	bool plain;		/* scalar written without quotes */
	bool is_null;		/* plain "", "~", "null" (any case) */
	uint32_t n_items;	/* seq: items; map: keys and values, interleaved */
	uint64_t expanded;	/* nodes under this one with aliases expanded */
	char *str;		/* scalar text, NUL-terminated */
	struct ynode **items;
};

struct ydoc;

/*
 * Parse a file.  On any error, reports it to d and returns NULL; a
 * document with duplicate keys is still returned (the loader goes on and
 * finds the other errors), so check d->n_entries as well.
 */
struct ydoc *ydoc_load_file(const char *path, struct vpc_diag *d);

/* Parse from memory (tests); same contract. */
struct ydoc *ydoc_load_string(const char *text, size_t size, struct vpc_diag *d);

const struct ynode *ydoc_root(const struct ydoc *doc);	/* NULL if empty */

void ydoc_free(struct ydoc *doc);

/* Map access: number of pairs, i-th key, i-th value. */
static inline uint32_t ymap_n(const struct ynode *m) { return m->n_items / 2; }
static inline const struct ynode *ymap_key(const struct ynode *m, uint32_t i) { return m->items[2 * i]; }
static inline const struct ynode *ymap_val(const struct ynode *m, uint32_t i) { return m->items[2 * i + 1]; }

/* The value for key, or NULL. */
const struct ynode *ymap_get(const struct ynode *m, const char *key);

/* "a scalar", "a list", "a mapping", "null" -- for messages. */
const char *ynode_kind_name(const struct ynode *n);

#endif /* VPC_YDOC_H */
