/* SPDX-License-Identifier: BSD-3-Clause */
#include "ydoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/*
 * Nodes and strings live in an arena of large blocks: a topology of 10,000
 * interfaces has a few hundred thousand nodes, and freeing them one by one
 * would dominate unloading.
 */
struct ablock {
	struct ablock *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct anchor {
	char *name;
	struct ynode *node;
};

struct ydoc {
	struct ablock *blocks;
	struct ynode *root;
	struct anchor *anchors;
	uint32_t n_anchors, cap_anchors;
	uint32_t n_nodes;
};

static void *
arena_alloc(struct ydoc *doc, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct ablock *b = doc->blocks;
	if (b == NULL || b->size - b->used < size) {
		size_t bs = size > (1u << 20) ? size : (1u << 20);
		b = malloc(sizeof(*b) + bs);
		if (b == NULL)
			return NULL;
		b->next = doc->blocks;
		b->used = 0;
		b->size = bs;
		doc->blocks = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	return p;
}

void
ydoc_free(struct ydoc *doc)
{
	if (doc == NULL)
		return;
	for (struct ablock *b = doc->blocks, *n; b != NULL; b = n) {
		n = b->next;
		free(b);
	}
	for (uint32_t i = 0; i < doc->n_anchors; i++)
		free(doc->anchors[i].name);
	free(doc->anchors);
	free(doc);
}

const struct ynode *
ydoc_root(const struct ydoc *doc)
{
	return doc->root;
}

const struct ynode *
ymap_get(const struct ynode *m, const char *key)
{
	if (m == NULL || m->kind != YNODE_MAP)
		return NULL;
	for (uint32_t i = 0; i < ymap_n(m); i++)
		if (strcmp(ymap_key(m, i)->str, key) == 0)
			return ymap_val(m, i);
	return NULL;
}

const char *
ynode_kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping";
	default:
		return n->is_null ? "nothing" : "a scalar";
	}
}

static struct vpc_pos
mark_pos(yaml_mark_t m)
{
	return (struct vpc_pos){ (uint32_t)m.line + 1, (uint32_t)m.column + 1 };
}

/* Growing child list of a collection under construction. */
struct frame {
	struct ynode *node;
	struct ynode **items;
	uint32_t n, cap;
	char *anchor;
};

static int
frame_push_item(struct frame *f, struct ynode *item)
{
	if (f->n == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 8;
		void *p = realloc(f->items, cap * sizeof(*f->items));
		if (p == NULL)
			return -ENOMEM;
		f->items = p;
		f->cap = cap;
	}
	f->items[f->n++] = item;
	return 0;
}

static int
register_anchor(struct ydoc *doc, const char *name, struct ynode *node)
{
	/* A redefined anchor shadows the earlier one (YAML 1.2). */
	if (doc->n_anchors == doc->cap_anchors) {
		uint32_t cap = doc->cap_anchors ? doc->cap_anchors * 2 : 8;
		void *p = realloc(doc->anchors, cap * sizeof(*doc->anchors));
		if (p == NULL)
			return -ENOMEM;
		doc->anchors = p;
		doc->cap_anchors = cap;
	}
	char *copy = strdup(name);
	if (copy == NULL)
		return -ENOMEM;
	doc->anchors[doc->n_anchors++] = (struct anchor){ copy, node };
	return 0;
}

static struct ynode *
find_anchor(struct ydoc *doc, const char *name)
{
	for (uint32_t i = doc->n_anchors; i-- > 0;)
		if (strcmp(doc->anchors[i].name, name) == 0)
			return doc->anchors[i].node;
	return NULL;
}

static bool
scalar_is_null(const char *s, size_t len, bool plain)
{
	if (!plain)
		return false;
	return len == 0 || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct ynode *const *x = a, *const *y = b;
	int c = strcmp((*x)->str, (*y)->str);
	if (c != 0)
		return c;
	/* Same key: earlier position first. */
	if ((*x)->pos.line != (*y)->pos.line)
		return (*x)->pos.line < (*y)->pos.line ? -1 : 1;
	return (*x)->pos.col < (*y)->pos.col ? -1 : (*x)->pos.col > (*y)->pos.col;
}

/* Report every key of map m that repeats an earlier one. */
static void
check_duplicate_keys(const struct ynode *m, struct vpc_diag *d)
{
	uint32_t n = ymap_n(m);
	if (n < 2)
		return;
	if (n <= 16) {
		for (uint32_t i = 1; i < n; i++)
			for (uint32_t j = 0; j < i; j++)
				if (strcmp(ymap_key(m, i)->str,
					   ymap_key(m, j)->str) == 0) {
					vpc_diag_add(d, ymap_key(m, i)->pos,
						     "duplicate key '%s' (first at line %u)",
						     ymap_key(m, i)->str,
						     ymap_key(m, j)->pos.line);
					break;
				}
		return;
	}
	const struct ynode **keys = malloc(n * sizeof(*keys));
	if (keys == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		keys[i] = ymap_key(m, i);
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (uint32_t i = 1; i < n; i++) {
		uint32_t first = i - 1;
		while (i < n && strcmp(keys[i]->str, keys[first]->str) == 0) {
			vpc_diag_add(d, keys[i]->pos,
				     "duplicate key '%s' (first at line %u)",
				     keys[i]->str, keys[first]->pos.line);
			i++;
		}
	}
	free(keys);
}

static struct ydoc *
parse(yaml_parser_t *parser, struct vpc_diag *d)
{
	struct ydoc *doc = calloc(1, sizeof(*doc));
	struct frame stack[YDOC_MAX_DEPTH + 1];
	int depth = 0;		/* frames in use; stack[0] is the document */
	int n_docs = 0;
	bool done = false, failed = false;

	if (doc == NULL) {
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 }, "out of memory");
		return NULL;
	}
	memset(stack, 0, sizeof(stack));

	while (!done && !failed) {
		yaml_event_t ev;
		struct ynode *node = NULL;
		const char *anchor = NULL;

		if (!yaml_parser_parse(parser, &ev)) {
			const char *problem = parser->problem ? parser->problem :
								"unknown error";
			struct vpc_pos pos = mark_pos(parser->problem_mark);
			if (parser->error == YAML_READER_ERROR)
				pos = (struct vpc_pos){ 0, 0 };
			if (parser->context != NULL)
				vpc_diag_add(d, pos, "YAML syntax error: %s %s",
					     problem, parser->context);
			else
				vpc_diag_add(d, pos, "YAML syntax error: %s",
					     problem);
			failed = true;
			break;
		}
		struct vpc_pos pos = mark_pos(ev.start_mark);

		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_STREAM_END_EVENT:
			if (ev.type == YAML_STREAM_END_EVENT)
				done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++n_docs > 1) {
				vpc_diag_add(d, pos,
					     "only one YAML document is allowed per file");
				failed = true;
			}
			break;
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_ALIAS_EVENT:
			node = find_anchor(doc, (const char *)ev.data.alias.anchor);
			if (node == NULL) {
				vpc_diag_add(d, pos, "unknown alias '*%s'",
					     (const char *)ev.data.alias.anchor);
				failed = true;
			}
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			const yaml_char_t *tag = ev.type == YAML_SCALAR_EVENT ?
				ev.data.scalar.tag :
				ev.type == YAML_SEQUENCE_START_EVENT ?
				ev.data.sequence_start.tag : ev.data.mapping_start.tag;
			anchor = (const char *)(ev.type == YAML_SCALAR_EVENT ?
				ev.data.scalar.anchor :
				ev.type == YAML_SEQUENCE_START_EVENT ?
				ev.data.sequence_start.anchor :
				ev.data.mapping_start.anchor);
			if (tag != NULL) {
				/* Show the tag as written: "!!str", not its
				 * expansion "tag:yaml.org,2002:str". */
				const char *ts = (const char *)tag;
				const char *core = "tag:yaml.org,2002:";
				bool is_core = strncmp(ts, core, strlen(core)) == 0;
				vpc_diag_add(d, pos, "YAML tags are not supported ('%s%s')",
					     is_core ? "!!" : "",
					     is_core ? ts + strlen(core) : ts);
				failed = true;
				break;
			}
			if (++doc->n_nodes > YDOC_MAX_NODES) {
				vpc_diag_add(d, pos,
					     "document has more than %u nodes",
					     YDOC_MAX_NODES);
				failed = true;
				break;
			}
			node = arena_alloc(doc, sizeof(*node));
			if (node == NULL) {
				vpc_diag_add(d, pos, "out of memory");
				failed = true;
				break;
			}
			memset(node, 0, sizeof(*node));
			node->pos = pos;
			node->expanded = 1;
			if (ev.type == YAML_SCALAR_EVENT) {
				size_t len = ev.data.scalar.length;
				node->kind = YNODE_SCALAR;
				node->plain = ev.data.scalar.style ==
					      YAML_PLAIN_SCALAR_STYLE;
				node->str = arena_alloc(doc, len + 1);
				if (node->str == NULL) {
					vpc_diag_add(d, pos, "out of memory");
					failed = true;
					break;
				}
				memcpy(node->str, ev.data.scalar.value, len);
				node->str[len] = '\0';
				if (strlen(node->str) != len) {
					vpc_diag_add(d, pos,
						     "scalar contains a NUL character");
					failed = true;
					break;
				}
				node->is_null = scalar_is_null(node->str, len,
							       node->plain);
				if (anchor && register_anchor(doc, anchor, node) < 0)
					failed = true;
				break;
			}
			if (depth >= YDOC_MAX_DEPTH) {
				vpc_diag_add(d, pos, "nesting deeper than %d levels",
					     YDOC_MAX_DEPTH);
				failed = true;
				break;
			}
			node->kind = ev.type == YAML_SEQUENCE_START_EVENT ?
					     YNODE_SEQ : YNODE_MAP;
			depth++;
			stack[depth] = (struct frame){ .node = node };
			if (anchor != NULL) {
				stack[depth].anchor = strdup(anchor);
				if (stack[depth].anchor == NULL)
					failed = true;
			}
			node = NULL;	/* attached when it ends */
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			struct frame *f = &stack[depth];
			struct ynode *c = f->node;
			c->n_items = f->n;
			c->items = arena_alloc(doc, (f->n ? f->n : 1) * sizeof(*c->items));
			if (c->items == NULL) {
				vpc_diag_add(d, c->pos, "out of memory");
				failed = true;
				break;
			}
			if (f->n)
				memcpy(c->items, f->items, f->n * sizeof(*c->items));
			free(f->items);
			f->items = NULL;
			if (c->kind == YNODE_MAP)
				check_duplicate_keys(c, d);
			if (f->anchor != NULL) {
				if (register_anchor(doc, f->anchor, c) < 0)
					failed = true;
				free(f->anchor);
				f->anchor = NULL;
			}
			depth--;
			node = c;
			break;
		}
		default:
			break;
		}

		if (node != NULL && !failed) {
			/* Errors point at the alias itself, not at the node it
			 * names (which may be anywhere earlier in the file). */
			struct vpc_pos at = ev.type == YAML_ALIAS_EVENT ? pos : node->pos;
			if (depth == 0) {
				doc->root = node;
			} else {
				struct frame *p = &stack[depth];
				if (p->node->kind == YNODE_MAP && p->n % 2 == 0 &&
				    node->kind != YNODE_SCALAR) {
					vpc_diag_add(d, at,
						     "mapping keys must be scalars");
					failed = true;
				} else if (p->node->kind == YNODE_MAP &&
					   p->n % 2 == 0 &&
					   strcmp(node->str, "<<") == 0 &&
					   node->plain) {
					vpc_diag_add(d, at,
						     "YAML merge keys ('<<') are not supported");
					failed = true;
				} else if (frame_push_item(p, node) < 0) {
					vpc_diag_add(d, at, "out of memory");
					failed = true;
				} else {
					p->node->expanded += node->expanded;
					if (p->node->expanded > YDOC_MAX_EXPANDED) {
						vpc_diag_add(d, at,
							     "document expands to more than %u nodes through aliases",
							     YDOC_MAX_EXPANDED);
						failed = true;
					}
				}
			}
		}
		yaml_event_delete(&ev);
	}

	for (int i = 1; i <= depth; i++) {
		free(stack[i].items);
		free(stack[i].anchor);
	}
	if (failed) {
		ydoc_free(doc);
		return NULL;
	}
	return doc;
}

struct ydoc *
ydoc_load_string(const char *text, size_t size, struct vpc_diag *d)
{
	yaml_parser_t parser;
	struct ydoc *doc;

	if (size > YDOC_MAX_FILE_SIZE) {
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 },
			     "file is %zu bytes; the limit is %u MiB", size,
			     YDOC_MAX_FILE_SIZE >> 20);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 }, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
	doc = parse(&parser, d);
	yaml_parser_delete(&parser);
	return doc;
}

struct ydoc *
ydoc_load_file(const char *path, struct vpc_diag *d)
{
	struct vpc_pos file_pos = { 0, 0 };
	struct ydoc *doc = NULL;
	struct stat st;
	char *buf = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		vpc_diag_add(d, file_pos, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		vpc_diag_add(d, file_pos, "cannot read: %s", strerror(EISDIR));
		goto out;
	}
	/* Regular files are sized up front; pipes are read up to the limit. */
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > YDOC_MAX_FILE_SIZE) {
		vpc_diag_add(d, file_pos, "file is %lld bytes; the limit is %u MiB",
			     (long long)st.st_size, YDOC_MAX_FILE_SIZE >> 20);
		goto out;
	}
	size_t len = 0;
	buf = malloc(cap);
	if (buf == NULL) {
		vpc_diag_add(d, file_pos, "out of memory");
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > YDOC_MAX_FILE_SIZE) {
				vpc_diag_add(d, file_pos,
					     "file is larger than the limit of %u MiB",
					     YDOC_MAX_FILE_SIZE >> 20);
				goto out;
			}
			char *p = realloc(buf, cap * 2);
			if (p == NULL) {
				vpc_diag_add(d, file_pos, "out of memory");
				goto out;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vpc_diag_add(d, file_pos, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	doc = ydoc_load_string(buf, len, d);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return doc;
}
