/* SPDX-License-Identifier: BSD-3-Clause */
#include "sg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

/* The records are vpc_image.h's: the XDP engine walks the same tries. */
#define T_ANY VPC_SGT_ANY
#define T_TCP VPC_SGT_TCP
#define T_UDP VPC_SGT_UDP
#define T_ICMP VPC_SGT_ICMP
#define T_OTHER VPC_SGT_OTHER
#define T_COUNT VPC_SGT_COUNT

struct vpc_sg {
	struct vpc_sg_node *nodes;
	uint32_t n_nodes, cap_nodes;
	struct vpc_sg_interval *intervals;
	uint32_t n_intervals, cap_intervals;
	struct vpc_sg_icmp *icmps;
	uint32_t n_icmps, cap_icmps;
	struct vpc_sg_class *classes;
	uint32_t n_classes;
	uint32_t *iface_class;	/* [iface * 2 + dir] */
	uint32_t *lb_class;	/* [lb]: its groups' ingress class, or VPC_INDEX_NONE */
};

/* A rule attached to a node during the build. */
struct pending {
	uint32_t node;
	uint8_t kind;		/* trie kind */
	uint8_t all;
	struct vpc_sg_interval iv;
	struct vpc_sg_icmp im;
};

static int
grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	uint32_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(*arr, (size_t)c * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static uint32_t
new_node(struct vpc_sg *sg)
{
	if (grow((void **)&sg->nodes, &sg->cap_nodes, sg->n_nodes + 1, sizeof(*sg->nodes)) < 0)
		return 0;
	memset(&sg->nodes[sg->n_nodes], 0, sizeof(*sg->nodes));
	return sg->n_nodes++;
}

/* The node of prefix addr/len under root, created as needed (0: no memory). */
static uint32_t
insert(struct vpc_sg *sg, uint32_t root, uint32_t addr, uint8_t len)
{
	uint32_t n = root;
	for (uint8_t d = 0; d < len; d++) {
		unsigned int bit = (addr >> (31 - d)) & 1;
		if (sg->nodes[n].child[bit] == 0) {
			uint32_t c = new_node(sg);
			if (c == 0)
				return 0;
			sg->nodes[n].child[bit] = c;
		}
		n = sg->nodes[n].child[bit];
	}
	return n;
}

static int
pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->iv.lo != y->iv.lo)
		return x->iv.lo < y->iv.lo ? -1 : 1;
	return x->iv.hi < y->iv.hi ? -1 : x->iv.hi > y->iv.hi;
}

/* Build one class from the rules of groups sgs[0..n) in direction dir. */
static int
build_class(struct vpc_sg *sg, const struct vpc_image *img, const uint16_t *sgs,
	    unsigned int n_sgs, unsigned int dir, struct vpc_sg_class *cls)
{
	struct pending *pend = NULL;
	uint32_t n_pend = 0, cap_pend = 0;
	int ret = 0;

	memset(cls, 0, sizeof(*cls));
	for (unsigned int k = 0; k < n_sgs; k++) {
		const struct vpc_image_sg *g = &img->sgs[sgs[k]];
		uint32_t first = g->first_rule + (dir == VPC_DIR_EGRESS ? g->n_ingress : 0);
		uint32_t count = dir == VPC_DIR_EGRESS ? g->n_egress : g->n_ingress;
		for (uint32_t r = first; r < first + count; r++) {
			const struct vpc_image_rule *x = &img->rules[r];
			struct pending p = { 0 };
			if (x->flags & VPC_RULE_F_ANY_PROTO)
				p.kind = T_ANY, p.all = 1;
			else if (x->proto == IPPROTO_TCP || x->proto == IPPROTO_UDP) {
				p.kind = x->proto == IPPROTO_TCP ? T_TCP : T_UDP;
				p.iv = (struct vpc_sg_interval){ x->port_lo, x->port_hi };
				p.all = x->port_lo == 0 && x->port_hi == 65535;
			} else if (x->proto == IPPROTO_ICMP) {
				p.kind = T_ICMP;
				p.im = (struct vpc_sg_icmp){ x->icmp_type, x->icmp_code,
					!!(x->flags & VPC_RULE_F_ICMP_TYPE),
					!!(x->flags & VPC_RULE_F_ICMP_CODE) };
				p.all = !p.im.has_type;
			} else {
				p.kind = T_OTHER;
				p.iv = (struct vpc_sg_interval){ x->proto, x->proto };
			}
			if (cls->root[p.kind] == 0 && (cls->root[p.kind] = new_node(sg)) == 0)
				goto nomem;
			p.node = insert(sg, cls->root[p.kind], ntohl(x->peer_addr), x->peer_len);
			if (p.node == 0)
				goto nomem;
			if (grow((void **)&pend, &cap_pend, n_pend + 1, sizeof(*pend)) < 0)
				goto nomem;
			pend[n_pend++] = p;
		}
	}
	/* Per node: merge intervals into sorted disjoint ones; list ICMPs. */
	if (n_pend > 1)
		qsort(pend, n_pend, sizeof(*pend), pending_cmp);
	for (uint32_t i = 0; i < n_pend;) {
		uint32_t j = i;
		struct vpc_sg_node *nd = &sg->nodes[pend[i].node];
		uint8_t kind = pend[i].kind;
		while (j < n_pend && pend[j].node == pend[i].node)
			j++;
		nd->first = kind == T_ICMP ? sg->n_icmps : sg->n_intervals;
		for (uint32_t k = i; k < j; k++) {
			const struct pending *p = &pend[k];
			nd->all |= p->all;
			if (kind == T_ICMP) {
				/* Every type matches already, or this one is
				 * listed: nothing to add. */
				bool dup = nd->all;
				for (uint32_t q = nd->first; q < sg->n_icmps && !dup; q++)
					dup = memcmp(&sg->icmps[q], &p->im, sizeof(p->im)) == 0;
				if (dup)
					continue;
				/* Both engines scan at most this many (the
				 * validator refuses more). */
				if (nd->n >= VPC_SG_MAX_ICMPS) {
					ret = -E2BIG;
					goto out;
				}
				if (grow((void **)&sg->icmps, &sg->cap_icmps, sg->n_icmps + 1,
					 sizeof(*sg->icmps)) < 0)
					goto nomem;
				sg->icmps[sg->n_icmps++] = p->im;
				nd->n++;
				continue;
			}
			if (kind == T_ANY)
				continue;
			struct vpc_sg_interval *last = nd->n ? &sg->intervals[sg->n_intervals - 1] : NULL;
			if (last != NULL && p->iv.lo <= (uint32_t)last->hi + 1) {
				if (p->iv.hi > last->hi)
					last->hi = p->iv.hi;
				continue;
			}
			if (grow((void **)&sg->intervals, &sg->cap_intervals, sg->n_intervals + 1,
				 sizeof(*sg->intervals)) < 0)
				goto nomem;
			sg->intervals[sg->n_intervals++] = p->iv;
			nd->n++;
		}
		i = j;
	}
	goto out;
nomem:
	ret = -ENOMEM;
out:
	free(pend);
	return ret;
}

struct class_key {
	uint64_t hash;
	uint16_t sgs[VPC_IFACE_MAX_SGS];
	uint8_t n;
	uint8_t dir;
	uint32_t cls;
};

static int
u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

struct vpc_sg *
vpc_sg_build(const struct vpc_image *img)
{
	struct vpc_sg *sg = calloc(1, sizeof(*sg));
	struct class_key *keys = NULL;
	uint32_t n_keys = 0, mask = 0;
	int err;

	if (sg == NULL)
		goto nomem;
	sg->iface_class = calloc((size_t)img->n_ifaces * 2 + 1, sizeof(uint32_t));
	sg->classes = calloc((size_t)img->n_ifaces * 2 + img->n_lbs + 1, sizeof(*sg->classes));
	sg->lb_class = calloc((size_t)img->n_lbs + 1, sizeof(uint32_t));
	/* Open addressing over (sorted groups, direction): twice the room. */
	uint32_t cap = 16;
	while (cap < 4 * (img->n_ifaces + img->n_lbs + 1))
		cap *= 2;
	mask = cap - 1;
	keys = calloc(cap, sizeof(*keys));
	if (sg->iface_class == NULL || sg->classes == NULL || sg->lb_class == NULL || keys == NULL)
		goto nomem;
	if (new_node(sg) != 0)	/* node 0: the "no child" sentinel */
		goto nomem;
	/* Interfaces (both directions), then the load balancers' own groups
	 * (ingress only), each set of groups compiled once. */
	for (uint32_t i = 0; i < img->n_ifaces + img->n_lbs; i++) {
		bool is_lb = i >= img->n_ifaces;
		const uint16_t *sgs = is_lb ? img->lbs[i - img->n_ifaces].sgs : img->ifaces[i].sgs;
		uint8_t n_sgs = is_lb ? img->lbs[i - img->n_ifaces].n_sgs : img->ifaces[i].n_sgs;
		if (is_lb && n_sgs == 0) {
			sg->lb_class[i - img->n_ifaces] = VPC_INDEX_NONE;
			continue;
		}
		for (unsigned int dir = 0; dir < (is_lb ? 1u : 2u); dir++) {
			struct class_key k = { .n = n_sgs, .dir = (uint8_t)dir };
			memcpy(k.sgs, sgs, n_sgs * sizeof(uint16_t));
			qsort(k.sgs, k.n, sizeof(uint16_t), u16_cmp);
			uint64_t h = 0xcbf29ce484222325ull ^ dir;
			for (unsigned int s = 0; s < k.n; s++)
				h = (h ^ k.sgs[s]) * 0x100000001b3ull;
			k.hash = h | 1;
			uint32_t slot = (uint32_t)(h >> 7) & mask;
			while (keys[slot].hash != 0 &&
			       !(keys[slot].hash == k.hash && keys[slot].n == k.n &&
				 keys[slot].dir == k.dir &&
				 memcmp(keys[slot].sgs, k.sgs, k.n * sizeof(uint16_t)) == 0))
				slot = (slot + 1) & mask;
			if (keys[slot].hash == 0) {
				k.cls = sg->n_classes++;
				int rc = build_class(sg, img, k.sgs, k.n, dir, &sg->classes[k.cls]);
				if (rc < 0) {
					err = -rc;
					goto fail;
				}
				keys[slot] = k;
				n_keys++;
			}
			if (is_lb)
				sg->lb_class[i - img->n_ifaces] = keys[slot].cls;
			else
				sg->iface_class[i * 2 + dir] = keys[slot].cls;
		}
	}
	free(keys);
	return sg;
nomem:
	err = ENOMEM;
fail:
	free(keys);
	vpc_sg_free(sg);
	errno = err;	/* E2BIG: more ICMP matches at a node than VPC_SG_MAX_ICMPS */
	return NULL;
}

void
vpc_sg_free(struct vpc_sg *sg)
{
	if (sg == NULL)
		return;
	free(sg->nodes);
	free(sg->intervals);
	free(sg->icmps);
	free(sg->classes);
	free(sg->iface_class);
	free(sg->lb_class);
	free(sg);
}

uint32_t
vpc_sg_class_of(const struct vpc_sg *sg, uint32_t iface, unsigned int dir)
{
	return sg->iface_class[iface * 2 + dir];
}

uint32_t
vpc_sg_lb_class(const struct vpc_sg *sg, uint32_t lb)
{
	return sg->lb_class[lb];
}

uint32_t
vpc_sg_n_classes(const struct vpc_sg *sg)
{
	return sg->n_classes;
}

uint32_t
vpc_sg_n_nodes(const struct vpc_sg *sg)
{
	return sg->n_nodes;
}

/* Does a node's payload match key (port or protocol number)? */
static bool
intervals_match(const struct vpc_sg *sg, const struct vpc_sg_node *nd, uint16_t key)
{
	uint32_t lo = nd->first, hi = nd->first + nd->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct vpc_sg_interval *iv = &sg->intervals[mid];
		if (key < iv->lo)
			hi = mid;
		else if (key > iv->hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool
icmp_match(const struct vpc_sg *sg, const struct vpc_sg_node *nd, uint8_t type, uint8_t code)
{
	for (uint32_t i = nd->first; i < nd->first + nd->n; i++) {
		const struct vpc_sg_icmp *m = &sg->icmps[i];
		if ((!m->has_type || m->type == type) && (!m->has_code || m->code == code))
			return true;
	}
	return false;
}

static bool
trie_allows(const struct vpc_sg *sg, uint32_t root, enum vpc_sg_trie kind,
	    uint32_t peer, uint16_t key, uint8_t type, uint8_t code)
{
	uint32_t n = root;

	for (int d = 0; n != 0; d++) {
		const struct vpc_sg_node *nd = &sg->nodes[n];
		if (nd->all)
			return true;
		if (nd->n && (kind == T_ICMP ? icmp_match(sg, nd, type, code) :
					       intervals_match(sg, nd, key)))
			return true;
		if (d == 32)
			break;
		n = nd->child[(peer >> (31 - d)) & 1];
	}
	return false;
}

bool
vpc_sg_allows(const struct vpc_sg *sg, uint32_t cls, uint8_t proto, uint32_t peer,
	      uint16_t port, uint8_t icmp_type, uint8_t icmp_code)
{
	const struct vpc_sg_class *c = &sg->classes[cls];

	if (c->root[T_ANY] && trie_allows(sg, c->root[T_ANY], T_ANY, peer, 0, 0, 0))
		return true;
	switch (proto) {
	case IPPROTO_TCP:
		return c->root[T_TCP] && trie_allows(sg, c->root[T_TCP], T_TCP, peer, port, 0, 0);
	case IPPROTO_UDP:
		return c->root[T_UDP] && trie_allows(sg, c->root[T_UDP], T_UDP, peer, port, 0, 0);
	case IPPROTO_ICMP:
		return c->root[T_ICMP] &&
		       trie_allows(sg, c->root[T_ICMP], T_ICMP, peer, 0, icmp_type, icmp_code);
	default:
		return c->root[T_OTHER] && trie_allows(sg, c->root[T_OTHER], T_OTHER, peer, proto, 0, 0);
	}
}

void
vpc_sg_export(const struct vpc_sg *sg, struct vpc_sg_flat *f)
{
	f->nodes = sg->nodes;
	f->n_nodes = sg->n_nodes;
	f->intervals = sg->intervals;
	f->n_intervals = sg->n_intervals;
	f->icmps = sg->icmps;
	f->n_icmps = sg->n_icmps;
	f->classes = sg->classes;
	f->n_classes = sg->n_classes;
	f->iface_class = sg->iface_class;
}
