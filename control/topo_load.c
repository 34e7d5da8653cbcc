/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topo_load.c -- YAML document -> topology model (structure only).
 *
 * Each object reader checks its keys against a fixed list, reads the known
 * ones with a typed reader that reports a wrong type or an unparsable value
 * at the value's position, and reports missing required keys at the
 * object's position.  Semantic rules (ranges that depend on other objects,
 * references, uniqueness) belong to topo_validate.c, and the values a file
 * leaves out to topo_derive.c.  topo_load_valid() at the end sequences the
 * pipeline: load, then validate (which derives).
 */
#include "topo.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_image_io.h"
#include "ydoc.h"

struct ld {
	struct vpc_diag *d;
	bool oom;
};

#define ERR(ld, pos, ...) vpc_diag_add((ld)->d, (pos), __VA_ARGS__)

/* ---- typed readers ---- */

/* A scalar value, or an error naming key.  Null counts as absent-with-error. */
static const char *
scalar(struct ld *ld, const struct ynode *n, const char *key)
{
	if (n->kind != YNODE_SCALAR || n->is_null) {
		ERR(ld, n->pos, "'%s' must be a single value, got %s", key,
		    ynode_kind_name(n));
		return NULL;
	}
	return n->str;
}

static void
read_str(struct ld *ld, const struct ynode *n, const char *key,
	 struct topo_str *out)
{
	out->pos = n->pos;
	out->s = scalar(ld, n, key);
}

static void
read_name(struct ld *ld, const struct ynode *n, const char *key,
	  struct topo_str *out)
{
	read_str(ld, n, key, out);
	if (out->s != NULL && !topo_name_ok(out->s)) {
		ERR(ld, n->pos,
		    "'%s' is not a valid name (expected 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit)",
		    out->s);
		out->s = NULL;
	}
}

static void
read_cidr(struct ld *ld, const struct ynode *n, const char *key,
	  struct topo_cidr *out)
{
	const char *s = scalar(ld, n, key);

	out->pos = n->pos;
	if (s == NULL)
		return;
	if (topo_parse_cidr(s, &out->addr, &out->len) < 0) {
		ERR(ld, n->pos,
		    "%s '%s' is not a valid CIDR (expected A.B.C.D/LEN, LEN 0..32)",
		    key, s);
		return;
	}
	out->set = true;
}

static void
read_ip(struct ld *ld, const struct ynode *n, const char *key,
	struct topo_ip *out)
{
	const char *s = scalar(ld, n, key);

	out->pos = n->pos;
	if (s == NULL)
		return;
	if (topo_parse_ipv4(s, &out->addr) < 0) {
		ERR(ld, n->pos,
		    "%s '%s' is not a valid IPv4 address (expected A.B.C.D)",
		    key, s);
		return;
	}
	out->set = true;
}

static void
read_mac(struct ld *ld, const struct ynode *n, const char *key,
	 struct topo_mac *out)
{
	const char *s = scalar(ld, n, key);

	out->pos = n->pos;
	if (s == NULL)
		return;
	if (topo_parse_mac(s, out->b) < 0) {
		ERR(ld, n->pos,
		    "%s '%s' is not a valid MAC address (expected xx:xx:xx:xx:xx:xx)",
		    key, s);
		return;
	}
	out->set = true;
}

static void
read_uint(struct ld *ld, const struct ynode *n, const char *key, uint64_t lo,
	  uint64_t hi, struct topo_uint *out)
{
	const char *s = scalar(ld, n, key);
	uint64_t v;

	out->pos = n->pos;
	if (s == NULL)
		return;
	if (topo_parse_uint(s, hi, &v) < 0 || v < lo) {
		ERR(ld, n->pos, "'%s' must be an integer in %llu..%llu, got '%s'",
		    key, (unsigned long long)lo, (unsigned long long)hi, s);
		return;
	}
	out->v = v;
	out->set = true;
}

static void
read_bool(struct ld *ld, const struct ynode *n, const char *key,
	  struct topo_bool *out)
{
	const char *s = scalar(ld, n, key);

	out->pos = n->pos;
	if (s == NULL)
		return;
	if (n->plain && strcmp(s, "true") == 0)
		out->v = true;
	else if (n->plain && strcmp(s, "false") == 0)
		out->v = false;
	else if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		ERR(ld, n->pos, "'%s' must be true or false without quotes, got '\"%s\"'",
		    key, s);
		return;
	} else {
		ERR(ld, n->pos, "'%s' must be true or false, got '%s'", key, s);
		return;
	}
	out->set = true;
}

/* A permission mode in octal: "0660" quoted, or 0660 or 660 plain -- the
 * digits are octal either way (no YAML 1.1 reading of a leading 0). */
static void
read_mode(struct ld *ld, const struct ynode *n, const char *key,
	  struct topo_uint *out)
{
	const char *s = scalar(ld, n, key);
	uint64_t v = 0;
	size_t i;

	out->pos = n->pos;
	if (s == NULL)
		return;
	for (i = 0; s[i] >= '0' && s[i] <= '7' && v <= 0777; i++)
		v = v * 8 + (uint64_t)(s[i] - '0');
	if (i == 0 || s[i] != '\0' || v > 0777) {
		ERR(ld, n->pos,
		    "'%s' must be a permission mode in octal digits, 0 to 0777 (e.g. \"0660\"), got '%s'",
		    key, s);
		return;
	}
	out->v = v;
	out->set = true;
}

/* ---- structure ---- */

static bool
is_map(struct ld *ld, const struct ynode *n, const char *what)
{
	if (n->kind == YNODE_MAP)
		return true;
	ERR(ld, n->pos, "%s must be a mapping, got %s", what, ynode_kind_name(n));
	return false;
}

static bool
is_seq(struct ld *ld, const struct ynode *n, const char *key)
{
	if (n->kind == YNODE_SEQ)
		return true;
	if (n->kind == YNODE_SCALAR && n->is_null)
		ERR(ld, n->pos, "'%s' must be a list, got nothing (write [] for an empty list)",
		    key);
	else
		ERR(ld, n->pos, "'%s' must be a list, got %s", key,
		    ynode_kind_name(n));
	return false;
}

/* Report keys of m not in keys[] (NULL-terminated). */
static void
check_keys(struct ld *ld, const struct ynode *m, const char *const keys[],
	   const char *what)
{
	for (uint32_t i = 0; i < ymap_n(m); i++) {
		const struct ynode *k = ymap_key(m, i);
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			if (strcmp(k->str, *p) == 0)
				known = true;
		if (known)
			continue;
		char list[512];
		size_t off = 0;
		list[0] = '\0';
		for (const char *const *p = keys; *p; p++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
						"%s%s", p == keys ? "" : ", ", *p);
		ERR(ld, k->pos, "unknown key '%s' in %s (expected one of: %s)",
		    k->str, what, list);
	}
}

/* The value of a required key, or an error at the object. */
static const struct ynode *
required(struct ld *ld, const struct ynode *m, const char *key, const char *what)
{
	const struct ynode *v = ymap_get(m, key);
	if (v == NULL)
		ERR(ld, m->pos, "%s is missing required key '%s'", what, key);
	return v;
}

/* "subnet 'a'" or "subnet" when the name is unknown. */
static const char *
what_named(char *buf, size_t size, const char *kind, const struct topo_str *name)
{
	if (name->s != NULL)
		snprintf(buf, size, "%s '%s'", kind, name->s);
	else
		snprintf(buf, size, "%s", kind);
	return buf;
}

static void *
alloc_items(struct ld *ld, uint32_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (p == NULL)
		ld->oom = true;
	return p;
}

/* Read a list of objects into arr and n with the reader fn. */
#define READ_LIST(ld, node, key, arr, n, fn, ...)                              \
	do {                                                                   \
		if ((node) != NULL && is_seq((ld), (node), (key))) {            \
			(arr) = alloc_items((ld), (node)->n_items, sizeof(*(arr))); \
			if ((arr) != NULL) {                                    \
				for (uint32_t i_ = 0; i_ < (node)->n_items; i_++) \
					fn((ld), (node)->items[i_], &(arr)[i_], ##__VA_ARGS__); \
				(n) = (node)->n_items;                          \
			}                                                       \
		}                                                               \
	} while (0)

static void
load_subnet(struct ld *ld, const struct ynode *m, struct topo_subnet *s)
{
	static const char *const keys[] = { "name", "cidr", "route_table", NULL };
	const struct ynode *v;
	char what[64];

	s->pos = m->pos;
	if (!is_map(ld, m, "a subnet"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &s->name);
	what_named(what, sizeof(what), "subnet", &s->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = required(ld, m, "cidr", what)) != NULL)
		read_cidr(ld, v, "cidr", &s->cidr);
	if ((v = ymap_get(m, "route_table")) != NULL)
		read_name(ld, v, "route_table", &s->rtable);
}

static void
load_route(struct ld *ld, const struct ynode *m, struct topo_route *r,
	   const char *what)
{
	static const char *const keys[] = { "destination", "target", NULL };
	const struct ynode *v;

	r->pos = m->pos;
	if (!is_map(ld, m, what))
		return;
	check_keys(ld, m, keys, what);
	if ((v = required(ld, m, "destination", what)) != NULL)
		read_cidr(ld, v, "destination", &r->dest);
	if ((v = required(ld, m, "target", what)) == NULL)
		return;
	r->target_pos = v->pos;
	if (v->kind == YNODE_SCALAR && !v->is_null) {
		if (strcmp(v->str, "internet_gateway") == 0)
			r->target = TOPO_TGT_IGW;
		else if (strcmp(v->str, "blackhole") == 0)
			r->target = TOPO_TGT_BLACKHOLE;
		else if (strcmp(v->str, "local") == 0)
			ERR(ld, v->pos,
			    "%s: target 'local' cannot be written: every table holds the implicit route VPC-CIDR -> local",
			    what);
		else
			ERR(ld, v->pos,
			    "%s: unknown target '%s' (expected internet_gateway, blackhole, {interface: NAME}, {nat_gateway: NAME} or {peering: NAME})",
			    what, v->str);
		return;
	}
	if (v->kind == YNODE_MAP) {
		static const char *const tkeys[] = { "interface", "nat_gateway", "peering", NULL };
		const struct ynode *i, *g, *p;
		char twhat[128];
		snprintf(twhat, sizeof(twhat), "the target of %s", what);
		check_keys(ld, v, tkeys, twhat);
		i = ymap_get(v, "interface");
		g = ymap_get(v, "nat_gateway");
		p = ymap_get(v, "peering");
		if ((i != NULL) + (g != NULL) + (p != NULL) > 1) {
			ERR(ld, v->pos, "%s: a target is one interface, one nat_gateway or one peering, not several",
			    twhat);
		} else if (p != NULL) {
			read_name(ld, p, "peering", &r->peering);
			if (r->peering.s != NULL)
				r->target = TOPO_TGT_PEERING;
		} else if (g != NULL) {
			read_name(ld, g, "nat_gateway", &r->natgw);
			if (r->natgw.s != NULL)
				r->target = TOPO_TGT_NATGW;
		} else if (i != NULL) {
			read_name(ld, i, "interface", &r->iface);
			if (r->iface.s != NULL)
				r->target = TOPO_TGT_IFACE;
		} else {
			ERR(ld, v->pos, "%s: expected {interface: NAME}, {nat_gateway: NAME} or {peering: NAME}", twhat);
		}
		return;
	}
	ERR(ld, v->pos,
	    "%s: 'target' must be internet_gateway, blackhole, {interface: NAME}, {nat_gateway: NAME} or {peering: NAME}, got %s",
	    what, ynode_kind_name(v));
}

static void
load_rtable(struct ld *ld, const struct ynode *m, struct topo_rtable *t)
{
	static const char *const keys[] = { "name", "main", "routes", NULL };
	const struct ynode *v;
	char what[64];

	t->pos = m->pos;
	if (!is_map(ld, m, "a route table"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &t->name);
	what_named(what, sizeof(what), "route table", &t->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = ymap_get(m, "main")) != NULL)
		read_bool(ld, v, "main", &t->main);
	v = ymap_get(m, "routes");
	if (v != NULL && is_seq(ld, v, "routes")) {
		t->routes = alloc_items(ld, v->n_items, sizeof(*t->routes));
		if (t->routes == NULL)
			return;
		t->n_routes = v->n_items;
		for (uint32_t i = 0; i < v->n_items; i++) {
			char rwhat[96];
			snprintf(rwhat, sizeof(rwhat), "route %u of %s", i + 1, what);
			load_route(ld, v->items[i], &t->routes[i], rwhat);
		}
	}
}

static int
parse_protocol(const char *s)
{
	uint64_t v;

	if (strcmp(s, "tcp") == 0)
		return 6;
	if (strcmp(s, "udp") == 0)
		return 17;
	if (strcmp(s, "icmp") == 0)
		return 1;
	if (strcmp(s, "all") == 0)
		return TOPO_PROTO_ALL;
	if (topo_parse_uint(s, 255, &v) == 0)
		return (int)v;
	return -2;
}

static void
read_ports(struct ld *ld, const struct ynode *n, struct topo_rule *r)
{
	const char *s = scalar(ld, n, "ports");
	uint64_t lo, hi;
	char buf[32];

	r->ports_pos = n->pos;
	if (s == NULL)
		return;
	const char *dash = strchr(s, '-');
	if (dash == NULL) {
		if (topo_parse_uint(s, 65535, &lo) < 0)
			goto bad;
		hi = lo;
	} else {
		size_t l = (size_t)(dash - s);
		if (l >= sizeof(buf))
			goto bad;
		memcpy(buf, s, l);
		buf[l] = '\0';
		if (topo_parse_uint(buf, 65535, &lo) < 0 ||
		    topo_parse_uint(dash + 1, 65535, &hi) < 0)
			goto bad;
		if (lo > hi) {
			ERR(ld, n->pos,
			    "port range '%s' is empty: %llu is greater than %llu",
			    s, (unsigned long long)lo, (unsigned long long)hi);
			return;
		}
	}
	r->ports_set = true;
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return;
bad:
	ERR(ld, n->pos,
	    "'ports' must be a port 0..65535 or a range \"LOW-HIGH\", got '%s'", s);
}

static void
load_rule(struct ld *ld, const struct ynode *m, struct topo_rule *r,
	  enum vpc_rule_dir dir, const char *what)
{
	static const char *const in_keys[] = { "protocol", "ports", "icmp_type",
					       "icmp_code", "source", NULL };
	static const char *const eg_keys[] = { "protocol", "ports", "icmp_type",
					       "icmp_code", "destination", NULL };
	const char *peer_key = dir == VPC_DIR_INGRESS ? "source" : "destination";
	const char *other_key = dir == VPC_DIR_INGRESS ? "destination" : "source";
	const struct ynode *v;

	r->pos = m->pos;
	r->peer_sg_idx = VPC_INDEX_NONE;
	r->peer_vpc_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, what))
		return;
	/* A peer under the other direction's key is a common slip: say so,
	 * instead of "unknown key". */
	for (uint32_t i = 0; i < ymap_n(m); i++) {
		const struct ynode *k = ymap_key(m, i);
		if (strcmp(k->str, other_key) == 0) {
			ERR(ld, k->pos, "%s takes '%s', not '%s'", what,
			    peer_key, other_key);
			continue;
		}
		const char *const *keys = dir == VPC_DIR_INGRESS ? in_keys : eg_keys;
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			known |= strcmp(k->str, *p) == 0;
		if (!known)
			ERR(ld, k->pos,
			    "unknown key '%s' in %s (expected one of: protocol, ports, icmp_type, icmp_code, %s)",
			    k->str, what, peer_key);
	}
	if ((v = required(ld, m, "protocol", what)) != NULL) {
		const char *s = scalar(ld, v, "protocol");
		r->proto_pos = v->pos;
		if (s != NULL) {
			int p = parse_protocol(s);
			if (p == -2)
				ERR(ld, v->pos,
				    "'protocol' must be tcp, udp, icmp, all or a number 0..255, got '%s'",
				    s);
			else {
				r->proto = p;
				r->proto_set = true;
			}
		}
	}
	if ((v = ymap_get(m, "ports")) != NULL)
		read_ports(ld, v, r);
	if ((v = ymap_get(m, "icmp_type")) != NULL)
		read_uint(ld, v, "icmp_type", 0, 255, &r->icmp_type);
	if ((v = ymap_get(m, "icmp_code")) != NULL)
		read_uint(ld, v, "icmp_code", 0, 255, &r->icmp_code);
	if (ymap_get(m, other_key) != NULL && ymap_get(m, peer_key) == NULL)
		return;	/* already reported as the wrong key */
	if ((v = required(ld, m, peer_key, what)) == NULL)
		return;
	if (v->kind == YNODE_MAP) {
		static const char *const pkeys[] = { "security_group", "vpc", NULL };
		const struct ynode *g;
		char pwhat[128];
		snprintf(pwhat, sizeof(pwhat), "the %s of %s", peer_key, what);
		check_keys(ld, v, pkeys, pwhat);
		if ((g = required(ld, v, "security_group", pwhat)) != NULL) {
			read_name(ld, g, "security_group", &r->peer_sg);
			if (r->peer_sg.s != NULL)
				r->peer_kind = TOPO_PEER_SG;
		}
		/* another VPC's group, across a peering (validation checks) */
		if ((g = ymap_get(v, "vpc")) != NULL)
			read_name(ld, g, "vpc", &r->peer_vpc);
	} else if (v->kind == YNODE_SCALAR && !v->is_null) {
		read_cidr(ld, v, peer_key, &r->peer_cidr);
		if (r->peer_cidr.set)
			r->peer_kind = TOPO_PEER_CIDR;
	} else {
		ERR(ld, v->pos,
		    "%s: '%s' must be a CIDR or {security_group: NAME}, got %s",
		    what, peer_key, ynode_kind_name(v));
	}
}

static void
load_sg(struct ld *ld, const struct ynode *m, struct topo_sg *g)
{
	static const char *const keys[] = { "name", "ingress", "egress", NULL };
	const struct ynode *v;
	char what[64];

	g->pos = m->pos;
	if (!is_map(ld, m, "a security group"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &g->name);
	what_named(what, sizeof(what), "security group", &g->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	for (int dir = VPC_DIR_INGRESS; dir <= VPC_DIR_EGRESS; dir++) {
		const char *key = dir == VPC_DIR_INGRESS ? "ingress" : "egress";
		if ((v = ymap_get(m, key)) == NULL || !is_seq(ld, v, key))
			continue;
		struct topo_rule *rules = alloc_items(ld, v->n_items, sizeof(*rules));
		if (rules == NULL)
			return;
		for (uint32_t i = 0; i < v->n_items; i++) {
			char rwhat[96];
			snprintf(rwhat, sizeof(rwhat), "%s rule %u of %s", key, i + 1, what);
			load_rule(ld, v->items[i], &rules[i], (enum vpc_rule_dir)dir, rwhat);
		}
		if (dir == VPC_DIR_INGRESS) {
			g->has_ingress = true;
			g->ingress = rules;
			g->n_ingress = v->n_items;
		} else {
			g->has_egress = true;
			g->egress = rules;
			g->n_egress = v->n_items;
		}
	}
}

/* A network ACL rule: rule, action, protocol, ports, icmp_type/code, cidr. */
static void
load_nrule(struct ld *ld, const struct ynode *m, struct topo_nrule *r, const char *what)
{
	static const char *const keys[] = { "rule", "action", "protocol", "ports",
					    "icmp_type", "icmp_code", "cidr", NULL };
	const struct ynode *v;

	r->pos = m->pos;
	r->m.pos = m->pos;
	r->m.peer_sg_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, what))
		return;
	check_keys(ld, m, keys, what);
	if ((v = required(ld, m, "rule", what)) != NULL)
		read_uint(ld, v, "rule", 1, VPC_NACL_RULE_MAX, &r->number);
	if ((v = required(ld, m, "action", what)) != NULL) {
		const char *s = scalar(ld, v, "action");
		if (s != NULL && (strcmp(s, "allow") == 0 || strcmp(s, "deny") == 0)) {
			r->action_set = true;
			r->allow = s[0] == 'a';
		} else if (s != NULL) {
			ERR(ld, v->pos, "'action' must be allow or deny, got '%s'", s);
		}
	}
	if ((v = required(ld, m, "protocol", what)) != NULL) {
		const char *s = scalar(ld, v, "protocol");
		r->m.proto_pos = v->pos;
		if (s != NULL) {
			int p = parse_protocol(s);
			if (p == -2)
				ERR(ld, v->pos,
				    "'protocol' must be tcp, udp, icmp, all or a number 0..255, got '%s'",
				    s);
			else {
				r->m.proto = p;
				r->m.proto_set = true;
			}
		}
	}
	if ((v = ymap_get(m, "ports")) != NULL)
		read_ports(ld, v, &r->m);
	if ((v = ymap_get(m, "icmp_type")) != NULL)
		read_uint(ld, v, "icmp_type", 0, 255, &r->m.icmp_type);
	if ((v = ymap_get(m, "icmp_code")) != NULL)
		read_uint(ld, v, "icmp_code", 0, 255, &r->m.icmp_code);
	if ((v = required(ld, m, "cidr", what)) != NULL) {
		read_cidr(ld, v, "cidr", &r->m.peer_cidr);
		if (r->m.peer_cidr.set)
			r->m.peer_kind = TOPO_PEER_CIDR;
	}
}

static void
load_nacl(struct ld *ld, const struct ynode *m, struct topo_nacl *a)
{
	static const char *const keys[] = { "name", "subnets", "ingress", "egress", NULL };
	const struct ynode *v;
	char what[64];

	a->pos = m->pos;
	if (!is_map(ld, m, "a network ACL"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &a->name);
	what_named(what, sizeof(what), "network ACL", &a->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = ymap_get(m, "subnets")) != NULL && is_seq(ld, v, "subnets")) {
		a->subnets = alloc_items(ld, v->n_items, sizeof(*a->subnets));
		a->subnet_idx = alloc_items(ld, v->n_items, sizeof(*a->subnet_idx));
		if (a->subnets == NULL || a->subnet_idx == NULL)
			return;
		for (uint32_t i = 0; i < v->n_items; i++) {
			read_name(ld, v->items[i], "subnets", &a->subnets[i]);
			a->subnet_idx[i] = VPC_INDEX_NONE;
		}
		a->n_subnets = v->n_items;
	}
	for (int dir = VPC_DIR_INGRESS; dir <= VPC_DIR_EGRESS; dir++) {
		const char *key = dir == VPC_DIR_INGRESS ? "ingress" : "egress";
		if ((v = ymap_get(m, key)) == NULL || !is_seq(ld, v, key))
			continue;
		struct topo_nrule *rules = alloc_items(ld, v->n_items, sizeof(*rules));
		if (rules == NULL)
			return;
		for (uint32_t i = 0; i < v->n_items; i++) {
			char rwhat[96];
			snprintf(rwhat, sizeof(rwhat), "%s rule %u of %s", key, i + 1, what);
			load_nrule(ld, v->items[i], &rules[i], rwhat);
		}
		if (dir == VPC_DIR_INGRESS) {
			a->ingress = rules;
			a->n_ingress = v->n_items;
		} else {
			a->egress = rules;
			a->n_egress = v->n_items;
		}
	}
}

static void
load_natgw(struct ld *ld, const struct ynode *m, struct topo_natgw *g)
{
	static const char *const keys[] = { "name", "subnet", "elastic_ip", NULL };
	const struct ynode *v;
	char what[64];

	g->pos = m->pos;
	g->subnet_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, "a NAT gateway"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &g->name);
	what_named(what, sizeof(what), "NAT gateway", &g->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = required(ld, m, "subnet", what)) != NULL)
		read_name(ld, v, "subnet", &g->subnet);
	if ((v = required(ld, m, "elastic_ip", what)) != NULL)
		read_ip(ld, v, "elastic_ip", &g->eip);
}

/* ---- load balancers ---- */

/* A balancer's protocol: tcp or udp, as its IP protocol number. */
static void
read_lb_proto(struct ld *ld, const struct ynode *n, struct topo_uint *out)
{
	const char *s = scalar(ld, n, "protocol");

	out->pos = n->pos;
	if (s == NULL)
		return;
	if (strcmp(s, "tcp") == 0)
		out->v = 6;
	else if (strcmp(s, "udp") == 0)
		out->v = 17;
	else {
		ERR(ld, n->pos, "'protocol' must be tcp or udp, got '%s'", s);
		return;
	}
	out->set = true;
}

/* A key of balancer m that only the other scheme has: an error at the key. */
static void
lb_misplaced(struct ld *ld, const struct ynode *m, const char *key, const char *what,
	     const char *scheme)
{
	for (uint32_t i = 0; i < ymap_n(m); i++)
		if (strcmp(ymap_key(m, i)->str, key) == 0)
			ERR(ld, ymap_key(m, i)->pos,
			    "%s: '%s' is for an %s load balancer (scheme: %s)", what, key, scheme,
			    scheme);
}

static void
load_lb_listener(struct ld *ld, const struct ynode *m, struct topo_lb_listener *l,
		 const char *what)
{
	static const char *const keys[] = { "protocol", "port", "target_group", NULL };
	const struct ynode *v;

	l->pos = m->pos;
	l->tgroup_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, what))
		return;
	check_keys(ld, m, keys, what);
	if ((v = required(ld, m, "protocol", what)) != NULL)
		read_lb_proto(ld, v, &l->proto);
	if ((v = required(ld, m, "port", what)) != NULL)
		read_uint(ld, v, "port", 1, 65535, &l->port);
	if ((v = required(ld, m, "target_group", what)) != NULL)
		read_name(ld, v, "target_group", &l->tgroup);
}

static void
load_lb_target(struct ld *ld, const struct ynode *m, struct topo_lb_target *x,
	       const char *what)
{
	static const char *const keys[] = { "interface", "port", "weight", NULL };
	const struct ynode *v;

	x->pos = m->pos;
	x->iface_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, what))
		return;
	check_keys(ld, m, keys, what);
	if ((v = required(ld, m, "interface", what)) != NULL)
		read_name(ld, v, "interface", &x->iface);
	if ((v = ymap_get(m, "port")) != NULL)
		read_uint(ld, v, "port", 1, 65535, &x->port);
	if ((v = ymap_get(m, "weight")) != NULL)
		read_uint(ld, v, "weight", 1, 1000, &x->weight);
}

/* health_check: TCP only; every field optional (the defaults are
 * VPC_HC_*, filled in by the compiler). */
static void
load_lb_health_check(struct ld *ld, const struct ynode *m, struct topo_lb_tgroup *g,
		     const char *gwhat)
{
	static const char *const keys[] = { "protocol", "port", "interval", "timeout",
					    "healthy_threshold", "unhealthy_threshold", NULL };
	const struct ynode *v;
	char what[96];

	snprintf(what, sizeof(what), "the health_check of %s", gwhat);
	if (!is_map(ld, m, "'health_check'"))
		return;
	check_keys(ld, m, keys, what);
	if ((v = ymap_get(m, "protocol")) != NULL) {
		const char *s = scalar(ld, v, "protocol");
		if (s != NULL && strcmp(s, "tcp") != 0)
			ERR(ld, v->pos, "'protocol' must be tcp (health checks are TCP), got '%s'", s);
	}
	if ((v = ymap_get(m, "port")) != NULL) {
		const char *s = scalar(ld, v, "port");
		uint64_t p;
		g->hc_port.pos = v->pos;
		if (s != NULL && strcmp(s, "traffic-port") != 0) {
			if (topo_parse_uint(s, 65535, &p) < 0 || p < 1) {
				ERR(ld, v->pos,
				    "'port' must be traffic-port or an integer in 1..65535, got '%s'",
				    s);
			} else {
				g->hc_port.v = p;
				g->hc_port.set = true;
			}
		}
	}
	if ((v = ymap_get(m, "interval")) != NULL)
		read_uint(ld, v, "interval", 5, 300, &g->hc_interval);
	if ((v = ymap_get(m, "timeout")) != NULL)
		read_uint(ld, v, "timeout", 2, 120, &g->hc_timeout);
	if ((v = ymap_get(m, "healthy_threshold")) != NULL)
		read_uint(ld, v, "healthy_threshold", 2, 10, &g->hc_healthy);
	if ((v = ymap_get(m, "unhealthy_threshold")) != NULL)
		read_uint(ld, v, "unhealthy_threshold", 2, 10, &g->hc_unhealthy);
}

static void
load_lb_tgroup(struct ld *ld, const struct ynode *m, struct topo_lb_tgroup *g)
{
	static const char *const keys[] = { "name", "protocol", "port", "algorithm",
					    "deregistration_delay", "health_check", "targets",
					    NULL };
	const struct ynode *v;
	char what[64];

	g->pos = m->pos;
	if (!is_map(ld, m, "a target group"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &g->name);
	what_named(what, sizeof(what), "target group", &g->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = ymap_get(m, "protocol")) != NULL)
		read_lb_proto(ld, v, &g->proto);
	if ((v = required(ld, m, "port", what)) != NULL)
		read_uint(ld, v, "port", 1, 65535, &g->port);
	if ((v = ymap_get(m, "algorithm")) != NULL) {
		const char *s = scalar(ld, v, "algorithm");
		g->algorithm.pos = v->pos;
		for (uint32_t k = 0; s != NULL && k < VPC_LB_ALG_COUNT; k++)
			if (strcmp(s, vpc_lb_algorithm_name(k)) == 0) {
				g->algorithm.v = k;
				g->algorithm.set = true;
			}
		if (s != NULL && !g->algorithm.set)
			ERR(ld, v->pos,
			    "'algorithm' must be hash, round_robin, weighted_round_robin or least_connections, got '%s'",
			    s);
		else if (g->algorithm.set && g->algorithm.v == VPC_LB_LEAST_CONNECTIONS)
			ERR(ld, v->pos,
			    "'algorithm' least_connections is not supported yet (the engines keep no "
			    "count of a target's open connections): use hash, round_robin or "
			    "weighted_round_robin");
	}
	if ((v = ymap_get(m, "deregistration_delay")) != NULL)
		read_uint(ld, v, "deregistration_delay", 0, 3600, &g->dereg);
	if ((v = ymap_get(m, "health_check")) != NULL)
		load_lb_health_check(ld, v, g, what);
	v = ymap_get(m, "targets");
	if (v != NULL && is_seq(ld, v, "targets")) {
		g->targets = alloc_items(ld, v->n_items, sizeof(*g->targets));
		if (g->targets == NULL)
			return;
		g->n_targets = v->n_items;
		for (uint32_t i = 0; i < v->n_items; i++) {
			char twhat[96];
			snprintf(twhat, sizeof(twhat), "target %u of %s", i + 1, what);
			load_lb_target(ld, v->items[i], &g->targets[i], twhat);
		}
	}
}

/*
 * A load balancer.  Which addressing keys belong depends on the scheme
 * alone, so the loader says which are missing or misplaced; an
 * unreadable scheme leaves them unread (validation then checks nothing
 * of the addresses: the scheme's own error is the one to fix).
 */
static void
load_lb(struct ld *ld, const struct ynode *m, struct topo_lb *b)
{
	static const char *const keys[] = { "name", "scheme", "subnet", "ip", "elastic_ip",
					    "security_groups", "listeners", "target_groups",
					    NULL };
	const struct ynode *v;
	char what[64], swhat[96];
	bool scheme_ok = true;

	b->pos = m->pos;
	b->subnet_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, "a load balancer"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &b->name);
	what_named(what, sizeof(what), "load balancer", &b->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = ymap_get(m, "scheme")) != NULL) {
		const char *s = scalar(ld, v, "scheme");
		if (s != NULL && strcmp(s, "internal") == 0)
			b->internal = true;
		else if (s == NULL || strcmp(s, "internet-facing") != 0) {
			if (s != NULL)
				ERR(ld, v->pos,
				    "'scheme' must be internal or internet-facing, got '%s'", s);
			scheme_ok = false;
		}
	}
	/* "internal load balancer 'x'", "internet-facing load balancer 'x'" */
	snprintf(swhat, sizeof(swhat), "%s %s", b->internal ? "internal" : "internet-facing",
		 what);
	if (scheme_ok && b->internal) {
		lb_misplaced(ld, m, "elastic_ip", swhat, "internet-facing");
		if ((v = required(ld, m, "subnet", swhat)) != NULL)
			read_name(ld, v, "subnet", &b->subnet);
		if ((v = required(ld, m, "ip", swhat)) != NULL)
			read_ip(ld, v, "ip", &b->ip);
	} else if (scheme_ok) {
		lb_misplaced(ld, m, "subnet", swhat, "internal");
		lb_misplaced(ld, m, "ip", swhat, "internal");
		if ((v = required(ld, m, "elastic_ip", swhat)) != NULL)
			read_ip(ld, v, "elastic_ip", &b->eip);
	}
	if ((v = ymap_get(m, "security_groups")) != NULL &&
	    is_seq(ld, v, "security_groups")) {
		if (v->n_items > VPC_LB_MAX_SGS) {
			ERR(ld, v->pos, "%s has %u security groups; it may have at most %d", what,
			    v->n_items, VPC_LB_MAX_SGS);
		} else {
			for (uint32_t i = 0; i < v->n_items; i++)
				read_name(ld, v->items[i], "security group", &b->sgs[i]);
			b->n_sgs = v->n_items;
		}
	}
	v = required(ld, m, "listeners", what);
	if (v != NULL && is_seq(ld, v, "listeners")) {
		if (v->n_items == 0)
			ERR(ld, v->pos, "%s: 'listeners' is empty (a load balancer has at least one)",
			    what);
		b->listeners = alloc_items(ld, v->n_items, sizeof(*b->listeners));
		if (b->listeners == NULL)
			return;
		b->n_listeners = v->n_items;
		for (uint32_t i = 0; i < v->n_items; i++) {
			char lwhat[96];
			snprintf(lwhat, sizeof(lwhat), "listener %u of %s", i + 1, what);
			load_lb_listener(ld, v->items[i], &b->listeners[i], lwhat);
		}
	}
	v = ymap_get(m, "target_groups");
	READ_LIST(ld, v, "target_groups", b->tgroups, b->n_tgroups, load_lb_tgroup);
}

static void
load_iface(struct ld *ld, const struct ynode *m, struct topo_iface *f)
{
	static const char *const keys[] = { "name", "subnet", "ip", "mac",
					    "security_groups", "elastic_ip",
					    "source_dest_check", "port", "host", NULL };
	const struct ynode *v;
	char what[64];

	f->pos = m->pos;
	f->subnet_idx = VPC_INDEX_NONE;
	f->host_idx = VPC_INDEX_NONE;
	if (!is_map(ld, m, "an interface"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &f->name);
	what_named(what, sizeof(what), "interface", &f->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = required(ld, m, "subnet", what)) != NULL)
		read_name(ld, v, "subnet", &f->subnet);
	if ((v = required(ld, m, "ip", what)) != NULL)
		read_ip(ld, v, "ip", &f->ip);
	if ((v = ymap_get(m, "mac")) != NULL)
		read_mac(ld, v, "mac", &f->mac);
	if ((v = ymap_get(m, "elastic_ip")) != NULL)
		read_ip(ld, v, "elastic_ip", &f->eip);
	if ((v = ymap_get(m, "source_dest_check")) != NULL)
		read_bool(ld, v, "source_dest_check", &f->sdc);
	if ((v = ymap_get(m, "port")) != NULL)
		read_name(ld, v, "port", &f->port);
	if ((v = ymap_get(m, "host")) != NULL)
		read_name(ld, v, "host", &f->host);
	if ((v = ymap_get(m, "security_groups")) != NULL &&
	    is_seq(ld, v, "security_groups")) {
		f->has_sgs = true;
		f->sgs_pos = v->pos;
		if (v->n_items == 0 || v->n_items > VPC_IFACE_MAX_SGS) {
			ERR(ld, v->pos,
			    "%s has %u security groups; it must have 1 to %d",
			    what, v->n_items, VPC_IFACE_MAX_SGS);
			f->has_sgs = false;
		} else {
			for (uint32_t i = 0; i < v->n_items; i++)
				read_name(ld, v->items[i], "security group",
					  &f->sgs[i]);
			f->n_sgs = v->n_items;
		}
	}
}

static void
load_timeouts(struct ld *ld, const struct ynode *m, struct topo_vpc *vpc)
{
	static const char *const keys[] = {
#define VPC_X(e, f, d) #f,
		VPC_TIMEOUTS(VPC_X)
#undef VPC_X
		NULL
	};

	if (!is_map(ld, m, "'timeouts'"))
		return;
	check_keys(ld, m, keys, "timeouts");
	for (int i = 0; i < VPC_TO_COUNT; i++) {
		const struct ynode *v = ymap_get(m, keys[i]);
		if (v != NULL)
			read_uint(ld, v, keys[i], 1, 30 * 86400,
				  &vpc->timeouts[i]);
	}
}

/* AWS's name for the VPC's own DNS server (its base address + 2, derived). */
#define AMAZON_DNS "AmazonProvidedDNS"

/*
 * A list of min to VPC_DHCP_MAX_SERVERS server addresses under key, each
 * called what in messages; with amazon, an entry may be AmazonProvidedDNS.
 * True when the list itself is usable (its entries may still be unset).
 */
static bool
read_servers(struct ld *ld, const struct ynode *n, const char *key,
	     const char *what, uint32_t min, struct topo_ip out[], bool amazon[],
	     uint32_t *n_out)
{
	if (!is_seq(ld, n, key))
		return false;
	if (n->n_items < min || n->n_items > VPC_DHCP_MAX_SERVERS) {
		if (min == 0)
			ERR(ld, n->pos, "'%s' has %u addresses; it must have at most %d",
			    key, n->n_items, VPC_DHCP_MAX_SERVERS);
		else
			ERR(ld, n->pos, "'%s' has %u addresses; it must have %u to %d",
			    key, n->n_items, min, VPC_DHCP_MAX_SERVERS);
		return false;
	}
	for (uint32_t i = 0; i < n->n_items; i++) {
		const struct ynode *item = n->items[i];
		const char *s = scalar(ld, item, what);
		out[i].pos = item->pos;
		if (s == NULL)
			continue;
		if (amazon != NULL && strcmp(s, AMAZON_DNS) == 0)
			amazon[i] = true;
		else if (topo_parse_ipv4(s, &out[i].addr) == 0)
			out[i].set = true;
		else
			ERR(ld, item->pos,
			    "%s '%s' is not a valid IPv4 address (expected A.B.C.D%s)",
			    what, s, amazon != NULL ? " or " AMAZON_DNS : "");
	}
	*n_out = n->n_items;
	return true;
}

/* domain_name_servers: AmazonProvidedDNS, or a list of 1 to 4 entries. */
static void
read_dns_servers(struct ld *ld, const struct ynode *n, struct topo_dhcp *o)
{
	if (n->kind == YNODE_SEQ) {
		o->has_dns = read_servers(ld, n, "domain_name_servers",
					  "domain name server", 1, o->dns,
					  o->dns_amazon, &o->n_dns);
	} else if (n->kind == YNODE_SCALAR && !n->is_null &&
		   strcmp(n->str, AMAZON_DNS) == 0) {
		o->has_dns = true;
		o->dns[0].pos = n->pos;
		o->dns_amazon[0] = true;
		o->n_dns = 1;
	} else if (n->kind == YNODE_SCALAR && !n->is_null) {
		ERR(ld, n->pos,
		    "'domain_name_servers' must be " AMAZON_DNS " or a list of 1 to %d IPv4 addresses, got '%s'",
		    VPC_DHCP_MAX_SERVERS, n->str);
	} else {
		ERR(ld, n->pos,
		    "'domain_name_servers' must be " AMAZON_DNS " or a list of 1 to %d IPv4 addresses, got %s",
		    VPC_DHCP_MAX_SERVERS, ynode_kind_name(n));
	}
}

/* dhcp_options: what the file gives; the rest is derived (topo_derive_dhcp). */
static void
load_dhcp(struct ld *ld, const struct ynode *m, struct topo_dhcp *o)
{
	static const char *const keys[] = { "domain_name_servers", "domain_name",
					    "ntp_servers", "lease_time", NULL };
	const struct ynode *v;

	if (!is_map(ld, m, "'dhcp_options'"))
		return;
	check_keys(ld, m, keys, "dhcp_options");
	if ((v = ymap_get(m, "domain_name_servers")) != NULL)
		read_dns_servers(ld, v, o);
	if ((v = ymap_get(m, "domain_name")) != NULL)
		read_str(ld, v, "domain_name", &o->domain);
	if ((v = ymap_get(m, "ntp_servers")) != NULL)
		read_servers(ld, v, "ntp_servers", "NTP server", 0, o->ntp, NULL,
			     &o->n_ntp);
	if ((v = ymap_get(m, "lease_time")) != NULL)
		read_uint(ld, v, "lease_time", 60, 365 * 86400, &o->lease);
}

static void
load_vpc(struct ld *ld, const struct ynode *m, struct topo_vpc *vpc)
{
	static const char *const keys[] = { "name", "cidr", "vni",
					    "internet_gateway", "mtu", "timeouts",
					    "dhcp_options", "route_tables", "subnets",
					    "security_groups", "network_acls", "nat_gateways",
					    "load_balancers", "interfaces", NULL };
	const struct ynode *v;
	char what[64];

	vpc->pos = m->pos;
	if (!is_map(ld, m, "a VPC"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &vpc->name);
	what_named(what, sizeof(what), "VPC", &vpc->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = required(ld, m, "cidr", what)) != NULL)
		read_cidr(ld, v, "cidr", &vpc->cidr);
	if ((v = ymap_get(m, "vni")) != NULL)
		read_uint(ld, v, "vni", 1, 16777215, &vpc->vni);
	if ((v = ymap_get(m, "internet_gateway")) != NULL)
		read_bool(ld, v, "internet_gateway", &vpc->igw);
	if ((v = ymap_get(m, "mtu")) != NULL)
		read_uint(ld, v, "mtu", 68, 9000, &vpc->mtu);
	if ((v = ymap_get(m, "timeouts")) != NULL)
		load_timeouts(ld, v, vpc);
	if ((v = ymap_get(m, "dhcp_options")) != NULL)
		load_dhcp(ld, v, &vpc->dhcp);
	v = ymap_get(m, "route_tables");
	READ_LIST(ld, v, "route_tables", vpc->rtables, vpc->n_rtables, load_rtable);
	v = ymap_get(m, "subnets");
	READ_LIST(ld, v, "subnets", vpc->subnets, vpc->n_subnets, load_subnet);
	v = ymap_get(m, "security_groups");
	READ_LIST(ld, v, "security_groups", vpc->sgs, vpc->n_sgs, load_sg);
	v = ymap_get(m, "network_acls");
	READ_LIST(ld, v, "network_acls", vpc->nacls, vpc->n_nacls, load_nacl);
	v = ymap_get(m, "nat_gateways");
	READ_LIST(ld, v, "nat_gateways", vpc->natgws, vpc->n_natgws, load_natgw);
	v = ymap_get(m, "load_balancers");
	READ_LIST(ld, v, "load_balancers", vpc->lbs, vpc->n_lbs, load_lb);
	v = ymap_get(m, "interfaces");
	READ_LIST(ld, v, "interfaces", vpc->ifaces, vpc->n_ifaces, load_iface);
}

static const struct {
	const char *name;
	enum topo_port_type type;
	const char *const keys[5];	/* besides "type"; NULL-terminated */
	const char *required;		/* NULL: see load_hostport */
} port_types[] = {
	{ "vhost-user", TOPO_PORT_VHOST_USER, { "path", "client", "owner", "mode", NULL }, "path" },
	{ "tap", TOPO_PORT_TAP, { "ifname", NULL }, "ifname" },
	{ "af_packet", TOPO_PORT_AF_PACKET, { "ifname", NULL }, "ifname" },
	{ "af_xdp", TOPO_PORT_AF_XDP, { "ifname", NULL }, "ifname" },
	{ "pcap", TOPO_PORT_PCAP, { "rx", "tx", "loop", NULL }, NULL },
	{ "pci", TOPO_PORT_PCI, { "device", NULL }, "device" },
};

static void
load_hostport(struct ld *ld, const struct ynode *k, const struct ynode *m,
	      struct topo_hostport *p)
{
	const struct ynode *v;
	char what[64];

	read_name(ld, k, "port", &p->name);
	p->pos = k->pos;
	snprintf(what, sizeof(what), "port '%s'", k->str);
	if (!is_map(ld, m, what))
		return;
	if ((v = required(ld, m, "type", what)) == NULL)
		return;
	const char *type = scalar(ld, v, "type");
	if (type == NULL)
		return;
	size_t ti;
	for (ti = 0; ti < sizeof(port_types) / sizeof(port_types[0]); ti++)
		if (strcmp(type, port_types[ti].name) == 0)
			break;
	if (ti == sizeof(port_types) / sizeof(port_types[0])) {
		ERR(ld, v->pos,
		    "unknown port type '%s' (expected vhost-user, tap, af_packet, af_xdp, pcap or pci)",
		    type);
		return;
	}
	p->type = port_types[ti].type;

	const char *keys[7] = { "type" };
	for (int i = 0; port_types[ti].keys[i]; i++)
		keys[i + 1] = port_types[ti].keys[i];
	char kwhat[96];
	snprintf(kwhat, sizeof(kwhat), "%s of type %s", what, type);
	check_keys(ld, m, keys, kwhat);
	if (port_types[ti].required != NULL)
		required(ld, m, port_types[ti].required, kwhat);
	else if (ymap_get(m, "rx") == NULL && ymap_get(m, "tx") == NULL)
		ERR(ld, m->pos, "%s needs 'rx', 'tx' or both", kwhat);
	if ((v = ymap_get(m, "path")) != NULL)
		read_str(ld, v, "path", &p->path);
	if ((v = ymap_get(m, "ifname")) != NULL)
		read_str(ld, v, "ifname", &p->ifname);
	if ((v = ymap_get(m, "rx")) != NULL)
		read_str(ld, v, "rx", &p->rx);
	if ((v = ymap_get(m, "tx")) != NULL)
		read_str(ld, v, "tx", &p->tx);
	if ((v = ymap_get(m, "device")) != NULL)
		read_str(ld, v, "device", &p->device);
	if ((v = ymap_get(m, "loop")) != NULL)
		read_bool(ld, v, "loop", &p->loop);
	if ((v = ymap_get(m, "client")) != NULL)
		read_bool(ld, v, "client", &p->client);
	if ((v = ymap_get(m, "owner")) != NULL)
		read_str(ld, v, "owner", &p->owner);
	if ((v = ymap_get(m, "mode")) != NULL)
		read_mode(ld, v, "mode", &p->mode);
}

/* A host's uplink and ports: the host: section, or an entry of hosts:. */
static void
load_host_body(struct ld *ld, const struct ynode *m, struct topo_host *h)
{
	const struct ynode *v;

	if ((v = ymap_get(m, "uplink")) != NULL && is_map(ld, v, "'uplink'")) {
		static const char *const ukeys[] = { "port", "mac", "gateway_mac",
						     NULL };
		const struct ynode *u;
		h->has_uplink = true;
		check_keys(ld, v, ukeys, "uplink");
		if ((u = ymap_get(v, "port")) != NULL)
			read_name(ld, u, "port", &h->uplink_port);
		if ((u = ymap_get(v, "mac")) != NULL)
			read_mac(ld, u, "mac", &h->uplink_mac);
		if ((u = ymap_get(v, "gateway_mac")) != NULL)
			read_mac(ld, u, "gateway_mac", &h->gateway_mac);
	}
	if ((v = ymap_get(m, "ports")) != NULL && is_map(ld, v, "'ports'")) {
		h->ports = alloc_items(ld, ymap_n(v), sizeof(*h->ports));
		if (h->ports == NULL)
			return;
		h->n_ports = ymap_n(v);
		for (uint32_t i = 0; i < h->n_ports; i++)
			load_hostport(ld, ymap_key(v, i), ymap_val(v, i),
				      &h->ports[i]);
	}
}

static void
load_host(struct ld *ld, const struct ynode *m, struct topo_host *h)
{
	static const char *const keys[] = { "uplink", "ports", NULL };

	if (!is_map(ld, m, "'host'"))
		return;
	h->present = true;
	check_keys(ld, m, keys, "host");
	load_host_body(ld, m, h);
}

/* An entry of hosts: a hypervisor, its underlay address, uplink, ports. */
static void
load_hosts_entry(struct ld *ld, const struct ynode *m, struct topo_host *h)
{
	static const char *const keys[] = { "name", "underlay_ip", "underlay_gateway_mac",
					    "uplink", "ports", NULL };
	const struct ynode *v;
	char what[64];

	h->pos = m->pos;
	if (!is_map(ld, m, "a host"))
		return;
	h->present = true;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &h->name);
	what_named(what, sizeof(what), "host", &h->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = required(ld, m, "underlay_ip", what)) != NULL)
		read_ip(ld, v, "underlay_ip", &h->underlay_ip);
	if ((v = ymap_get(m, "underlay_gateway_mac")) != NULL)
		read_mac(ld, v, "underlay_gateway_mac", &h->underlay_gateway_mac);
	load_host_body(ld, m, h);
}

/* An entry of peerings: its name and the two VPCs it joins. */
static void
load_peering(struct ld *ld, const struct ynode *m, struct topo_peering *p)
{
	static const char *const keys[] = { "name", "vpcs", NULL };
	const struct ynode *v;
	char what[64];

	p->pos = m->pos;
	p->vpc_idx[0] = p->vpc_idx[1] = VPC_INDEX_NONE;
	if (!is_map(ld, m, "a peering"))
		return;
	if ((v = ymap_get(m, "name")) != NULL)
		read_name(ld, v, "name", &p->name);
	what_named(what, sizeof(what), "peering", &p->name);
	check_keys(ld, m, keys, what);
	required(ld, m, "name", what);
	if ((v = required(ld, m, "vpcs", what)) == NULL || !is_seq(ld, v, "vpcs"))
		return;
	if (v->n_items != 2) {
		ERR(ld, v->pos, "%s: 'vpcs' must name two VPCs, got %u", what, v->n_items);
		return;
	}
	for (uint32_t k = 0; k < 2; k++)
		read_name(ld, v->items[k], "vpcs", &p->vpcs[k]);
	p->n_vpcs = 2;
}

static struct topo *
load_doc(struct ydoc *doc, struct vpc_diag *d)
{
	static const char *const keys[] = { "version", "vpcs", "peerings", "host", "hosts", NULL };
	struct ld ld = { .d = d };
	const struct ynode *root = ydoc_root(doc), *v;
	struct topo *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		ydoc_free(doc);
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 }, "out of memory");
		return NULL;
	}
	t->doc = doc;
	if (root == NULL || (root->kind == YNODE_SCALAR && root->is_null)) {
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 },
			     "the file is empty (expected 'version: 1' and 'vpcs')");
		return t;
	}
	if (!is_map(&ld, root, "the topology"))
		return t;
	check_keys(&ld, root, keys, "the topology");
	if ((v = required(&ld, root, "version", "the topology")) != NULL) {
		read_uint(&ld, v, "version", 0, UINT32_MAX, &t->version);
		if (t->version.set && t->version.v != 1) {
			ERR(&ld, v->pos,
			    "unsupported version %llu (this build reads version 1)",
			    (unsigned long long)t->version.v);
			t->version.set = false;
		}
	}
	v = required(&ld, root, "vpcs", "the topology");
	READ_LIST(&ld, v, "vpcs", t->vpcs, t->n_vpcs, load_vpc);
	v = ymap_get(root, "peerings");
	READ_LIST(&ld, v, "peerings", t->peerings, t->n_peerings, load_peering);
	if ((v = ymap_get(root, "host")) != NULL)
		load_host(&ld, v, &t->host);
	if ((v = ymap_get(root, "hosts")) != NULL) {
		t->has_hosts = v->kind == YNODE_SEQ;	/* else is_seq says why */
		t->hosts_pos = v->pos;
		READ_LIST(&ld, v, "hosts", t->hosts, t->n_hosts, load_hosts_entry);
	}
	if (ld.oom)
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 }, "out of memory");
	return t;
}

struct topo *
topo_load_file(const char *path, struct vpc_diag *d)
{
	struct ydoc *doc = ydoc_load_file(path, d);
	return doc ? load_doc(doc, d) : NULL;
}

struct topo *
topo_load_string(const char *text, size_t size, struct vpc_diag *d)
{
	struct ydoc *doc = ydoc_load_string(text, size, d);
	return doc ? load_doc(doc, d) : NULL;
}

static void
free_sg(struct topo_sg *g)
{
	free(g->ingress);
	free(g->egress);
}

void
topo_free(struct topo *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n_vpcs; i++) {
		struct topo_vpc *v = &t->vpcs[i];
		for (uint32_t k = 0; k < v->n_rtables; k++)
			free(v->rtables[k].routes);
		for (uint32_t k = 0; k < v->n_sgs; k++)
			free_sg(&v->sgs[k]);
		for (uint32_t k = 0; k < v->n_nacls; k++) {
			free(v->nacls[k].subnets);
			free(v->nacls[k].subnet_idx);
			free(v->nacls[k].ingress);
			free(v->nacls[k].egress);
		}
		free(v->nacls);
		free(v->natgws);
		for (uint32_t k = 0; k < v->n_lbs; k++) {
			for (uint32_t g = 0; g < v->lbs[k].n_tgroups; g++)
				free(v->lbs[k].tgroups[g].targets);
			free(v->lbs[k].tgroups);
			free(v->lbs[k].listeners);
		}
		free(v->lbs);
		free(v->subnets);
		free(v->rtables);
		free(v->sgs);
		free(v->ifaces);
	}
	free(t->vpcs);
	free(t->peerings);
	for (uint32_t i = 0; i < t->n_hosts; i++)
		if (t->hosts[i].ports != t->host.ports)
			free(t->hosts[i].ports);
	free(t->hosts);
	free(t->host.ports);
	ydoc_free(t->doc);
	free(t);
}

struct topo *
topo_load_valid(const char *path, struct vpc_diag *d)
{
	struct topo *t = topo_load_file(path, d);

	if (t != NULL)
		topo_validate(t, d);
	vpc_diag_sort(d);
	if (d->n_entries > 0 || d->n_dropped > 0) {
		topo_free(t);
		return NULL;
	}
	return t;
}
