/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topo_validate.c -- every rule of docs/topology.md, all errors in one run.
 *
 * Owns the checks and the resolution of names to indexes; the values the
 * file leaves out are topo_derive.c's, whose steps topo_validate() runs
 * where the checks need them.  Order of work: per VPC, index the names of
 * each kind (duplicates are errors), add the implicit default group and
 * main table (derived), check CIDRs, DHCP options, subnets, interfaces,
 * routes and rules, resolving every reference to an index (the default
 * references and DHCP options derived last), then NAT gateways and load
 * balancers (their listeners, target groups and targets); then the VNIs
 * (checked, then the omitted ones derived), the host-wide checks (ports,
 * MACs, elastic IPs, the host section), and last the derived ports and
 * MACs.
 * Fields the loader could not read are unset and skipped, so a mistake is
 * reported once.  All lookups are hash-based: validation is linear in the
 * topology's size.
 */
#include "topo.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"
#include "topo_derive.h"

struct vctx {
	struct topo *t;
	struct vpc_diag *d;
	uint32_t n_errors;
	bool oom;
	uint32_t only_host;	/* host-wide checks of one hosts: entry, or
				 * VPC_INDEX_NONE: every interface */
	struct keymap vpc_names;	/* VPC name -> index (the first) */
	struct keymap peering_names;	/* peering name -> index (the first) */
};

#define ERR(c, pos, ...)                                    \
	do {                                                \
		(c)->n_errors++;                            \
		vpc_diag_add((c)->d, (pos), __VA_ARGS__);   \
	} while (0)

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static bool
cidr_contains(uint32_t net, uint8_t len, uint32_t addr)
{
	return (addr & mask_of(len)) == net;
}

/*
 * The address ranges that are not public: no elastic IP lies in one.  A
 * DHCP server address (DNS, NTP) may lie in those a guest can reach
 * (server_ok: AWS's own DNS and NTP are link-local, 169.254.169.253 and
 * 169.254.169.123), never in the others.
 */
static const struct {
	uint32_t net;
	uint8_t len;
	bool server_ok;
	const char *what;
} non_public[] = {
	{ 0x00000000, 8, false, "\"this network\"" },
	{ 0x0a000000, 8, true, "private" },
	{ 0x64400000, 10, true, "shared address space" },
	{ 0x7f000000, 8, false, "loopback" },
	{ 0xa9fe0000, 16, true, "link-local" },
	{ 0xac100000, 12, true, "private" },
	{ 0xc0a80000, 16, true, "private" },
	{ 0xe0000000, 4, false, "multicast" },
	{ 0xf0000000, 4, false, "reserved" },
};

/* The range of non_public that a holds, or -1. */
static int
non_public_range(uint32_t a)
{
	for (size_t k = 0; k < sizeof(non_public) / sizeof(non_public[0]); k++)
		if (cidr_contains(non_public[k].net, non_public[k].len, a))
			return (int)k;
	return -1;
}

/* Host bits set?  Reports "did you mean" with the network address. */
static bool
check_host_bits(struct vctx *c, const struct topo_cidr *x, const char *prefix)
{
	char have[20], want[20];

	if ((x->addr & ~mask_of(x->len)) == 0)
		return true;
	ERR(c, x->pos, "%s%s has host bits set (did you mean %s?)", prefix,
	    topo_fmt_cidr(have, x->addr, x->len),
	    topo_fmt_cidr(want, x->addr & mask_of(x->len), x->len));
	return false;
}

static bool
keymap_ok(struct vctx *c, struct keymap *m, uint32_t n)
{
	if (keymap_init(m, n) == 0)
		return true;
	c->oom = true;
	return false;
}

/*
 * Index the names of n objects (stride bytes apart, name at offset off):
 * a duplicate is an error at its name, naming the first's line.  scope:
 * where names are unique ("VPC 'prod'", "load balancer 'web'"), or NULL:
 * the file.
 */
static void
index_names_in(struct vctx *c, struct keymap *m, const void *base, uint32_t n,
	       size_t stride, size_t off, const char *kind, const char *scope)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct topo_str *name = (const void *)((const char *)base +
							     i * stride + off);
		if (name->s == NULL)
			continue;
		uint32_t first = keymap_put_str(m, name->s, i);
		if (first == VPC_KEYMAP_NEW || first == VPC_KEYMAP_FULL)
			continue;
		const struct topo_str *f = (const void *)((const char *)base +
							  first * stride + off);
		if (scope != NULL)
			ERR(c, name->pos, "duplicate %s name '%s' in %s (first at line %u)",
			    kind, name->s, scope, f->pos.line);
		else
			ERR(c, name->pos, "duplicate %s name '%s' (first at line %u)",
			    kind, name->s, f->pos.line);
	}
}

/* The same, unique in VPC vpc (or the file when NULL). */
static void
index_names(struct vctx *c, struct keymap *m, const void *base, uint32_t n,
	    size_t stride, size_t off, const char *kind, const char *vpc)
{
	char scope[64];

	if (vpc != NULL)
		snprintf(scope, sizeof(scope), "VPC '%s'", vpc);
	index_names_in(c, m, base, n, stride, off, kind, vpc != NULL ? scope : NULL);
}

static const char *
proto_name(char *buf, int proto)
{
	switch (proto) {
	case TOPO_PROTO_ALL:
		return "all";
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		snprintf(buf, 16, "protocol %d", proto);
		return buf;
	}
}

/*
 * The index of the object that ref names in m, or VPC_KEYMAP_NEW after
 * "OWNER 'NAME': unknown KIND 'REF' in VPC 'VPC'" at the reference.
 */
static uint32_t
resolve_ref(struct vctx *c, const struct keymap *m, const struct topo_str *ref,
	    const char *owner, const char *name, const char *kind,
	    const struct topo_vpc *v)
{
	uint32_t k = keymap_get_str(m, ref->s);

	if (k == VPC_KEYMAP_NEW)
		ERR(c, ref->pos, "%s '%s': unknown %s '%s' in VPC '%s'", owner,
		    name, kind, ref->s, v->name.s ? v->name.s : "?");
	return k;
}

/* ---- per-VPC checks ---- */

struct vpc_maps {
	struct keymap subnets, rtables, sgs, ifaces, natgws, lbs;
	/* private IPs: an interface's index, or n_ifaces + an internal load
	 * balancer's */
	struct keymap ips;
};

/* At most one table marked main; v->main_rtable is the first, if any. */
static void
check_main_rtables(struct vctx *c, struct topo_vpc *v)
{
	v->main_rtable = VPC_INDEX_NONE;
	for (uint32_t i = 0; i < v->n_rtables; i++) {
		struct topo_rtable *t = &v->rtables[i];
		if (!t->main.set || !t->main.v)
			continue;
		if (v->main_rtable == VPC_INDEX_NONE) {
			v->main_rtable = i;
			continue;
		}
		ERR(c, t->main.pos,
		    "VPC '%s' has more than one main route table ('%s' at line %u and '%s')",
		    v->name.s ? v->name.s : "?",
		    v->rtables[v->main_rtable].name.s ?
			    v->rtables[v->main_rtable].name.s : "?",
		    v->rtables[v->main_rtable].pos.line,
		    t->name.s ? t->name.s : "?");
	}
}

/* The implicit objects (topo_derive.c), before any name is resolved. */
static void
add_implicit(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	if (topo_derive_default_sg(v, &mp->sgs) < 0) {
		c->oom = true;
		return;
	}
	check_main_rtables(c, v);
	if (topo_derive_main_rtable(v, &mp->rtables) < 0)
		c->oom = true;
}

static void
check_vpc_cidr(struct vctx *c, struct topo_vpc *v)
{
	char pfx[80];

	if (!v->cidr.set)
		return;
	snprintf(pfx, sizeof(pfx), "VPC '%s': ", v->name.s ? v->name.s : "?");
	if (v->cidr.len < 8 || v->cidr.len > 28) {
		ERR(c, v->cidr.pos,
		    "%sprefix length /%u is out of range (expected /8 to /28)",
		    pfx, v->cidr.len);
		v->cidr.set = false;
		return;
	}
	if (!check_host_bits(c, &v->cidr, pfx))
		v->cidr.addr &= mask_of(v->cidr.len);
}

struct span {
	uint32_t lo, hi;
	uint32_t idx;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1;	/* larger first */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * One subnet's route table and CIDR.  True when the CIDR takes part in the
 * overlap check.  A subnet naming no table is left unresolved here: it
 * uses the main table (topo_derive_vpc_refs).
 */
static bool
check_subnet(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp,
	     struct topo_subnet *s)
{
	const char *vn = v->name.s ? v->name.s : "?";
	const char *sn = s->name.s ? s->name.s : "?";
	char a[20], b[20], pfx[80];

	s->rtable_idx = VPC_INDEX_NONE;
	if (s->rtable.s != NULL) {
		uint32_t r = resolve_ref(c, &mp->rtables, &s->rtable, "subnet",
					 sn, "route table", v);
		if (r != VPC_KEYMAP_NEW)
			s->rtable_idx = r;
	}
	if (!s->cidr.set)
		return false;
	snprintf(pfx, sizeof(pfx), "subnet '%s': ", sn);
	if (s->cidr.len > 28) {
		ERR(c, s->cidr.pos,
		    "subnet '%s': prefix length /%u is too long (a subnet is at most /28)",
		    sn, s->cidr.len);
		s->cidr.set = false;
		return false;
	}
	if (!check_host_bits(c, &s->cidr, pfx))
		s->cidr.addr &= mask_of(s->cidr.len);
	if (v->cidr.set &&
	    (s->cidr.len < v->cidr.len ||
	     !cidr_contains(v->cidr.addr, v->cidr.len, s->cidr.addr))) {
		ERR(c, s->cidr.pos,
		    "subnet '%s' (%s) is not inside VPC '%s' (%s)", sn,
		    topo_fmt_cidr(a, s->cidr.addr, s->cidr.len), vn,
		    topo_fmt_cidr(b, v->cidr.addr, v->cidr.len));
		return false;
	}
	return true;
}

/*
 * Overlaps: sorted by start, each subnet is compared with the one reaching
 * furthest among those before it.  The later subnet in the file is the one
 * reported.
 */
static void
check_subnet_overlaps(struct vctx *c, struct topo_vpc *v, struct span *spans,
		      uint32_t n_spans)
{
	char a[20], b[20];

	qsort(spans, n_spans, sizeof(*spans), span_cmp);
	int64_t reach_hi = -1;
	uint32_t reach_idx = 0;
	for (uint32_t k = 0; k < n_spans; k++) {
		if ((int64_t)spans[k].lo <= reach_hi) {
			uint32_t x = spans[k].idx, y = reach_idx;
			if (x < y) {
				uint32_t t = x;
				x = y;
				y = t;
			}
			struct topo_subnet *sx = &v->subnets[x], *sy = &v->subnets[y];
			ERR(c, sx->cidr.pos, "subnet '%s' (%s) overlaps subnet '%s' (%s)",
			    sx->name.s ? sx->name.s : "?",
			    topo_fmt_cidr(a, sx->cidr.addr, sx->cidr.len),
			    sy->name.s ? sy->name.s : "?",
			    topo_fmt_cidr(b, sy->cidr.addr, sy->cidr.len));
		}
		if ((int64_t)spans[k].hi > reach_hi) {
			reach_hi = spans[k].hi;
			reach_idx = spans[k].idx;
		}
	}
}

static void
check_subnets(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	struct span *spans = calloc(v->n_subnets ? v->n_subnets : 1, sizeof(*spans));
	uint32_t n_spans = 0;

	if (spans == NULL) {
		c->oom = true;
		return;
	}
	for (uint32_t i = 0; i < v->n_subnets; i++) {
		struct topo_subnet *s = &v->subnets[i];
		if (check_subnet(c, v, mp, s))
			spans[n_spans++] = (struct span){
				s->cidr.addr, s->cidr.addr | ~mask_of(s->cidr.len), i
			};
	}
	check_subnet_overlaps(c, v, spans, n_spans);
	free(spans);
}

static const char *
reserved_role(const struct topo_subnet *s, uint32_t ip)
{
	uint32_t net = s->cidr.addr, bcast = net | ~mask_of(s->cidr.len);

	if (ip == net)
		return "the network address";
	if (ip == net + 1)
		return "the VPC router";
	if (ip == net + 2)
		return "the DNS server";
	if (ip == net + 3)
		return "reserved for future use";
	if (ip == bcast)
		return "the broadcast address";
	return NULL;
}

/* The interface's subnet, resolved; NULL when unknown or unreadable. */
static struct topo_subnet *
resolve_iface_subnet(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp,
		     struct topo_iface *f)
{
	f->subnet_idx = VPC_INDEX_NONE;
	if (f->subnet.s == NULL)
		return NULL;
	uint32_t k = resolve_ref(c, &mp->subnets, &f->subnet, "interface",
				 f->name.s ? f->name.s : "?", "subnet", v);
	if (k == VPC_KEYMAP_NEW)
		return NULL;
	f->subnet_idx = k;
	return &v->subnets[k];
}

/* Unique in the VPC, inside its subnet, not reserved there. */
static void
check_iface_ip(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp,
	       struct topo_iface *f, uint32_t i, const struct topo_subnet *s)
{
	const char *fn = f->name.s ? f->name.s : "?";
	char a[20], b[20];
	const char *role;
	bool bad = true;

	if (!f->ip.set)
		return;
	uint32_t first = keymap_put_u64(&mp->ips, f->ip.addr, i);
	if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL)
		ERR(c, f->ip.pos,
		    "interface '%s': IP %s is already used by interface '%s'",
		    fn, topo_fmt_ip(a, f->ip.addr),
		    v->ifaces[first].name.s ? v->ifaces[first].name.s : "?");
	else if (s != NULL && s->cidr.set &&
		 !cidr_contains(s->cidr.addr, s->cidr.len, f->ip.addr))
		ERR(c, f->ip.pos,
		    "interface '%s': IP %s is not inside subnet '%s' (%s)",
		    fn, topo_fmt_ip(a, f->ip.addr), s->name.s,
		    topo_fmt_cidr(b, s->cidr.addr, s->cidr.len));
	else if (s != NULL && s->cidr.set &&
		 (role = reserved_role(s, f->ip.addr)) != NULL)
		ERR(c, f->ip.pos,
		    "interface '%s': IP %s is reserved in subnet '%s' (%s)",
		    fn, topo_fmt_ip(a, f->ip.addr), s->name.s, role);
	else
		bad = false;
	/* Nothing derived from a rejected address: its MAC would only
	 * repeat the error. */
	if (bad)
		f->ip.set = false;
}

/* The listed groups, resolved; none listed is the default group
 * (topo_derive_vpc_refs). */
static void
check_iface_sgs(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp,
		struct topo_iface *f)
{
	const char *fn = f->name.s ? f->name.s : "?";

	for (uint32_t k = 0; k < f->n_sgs; k++) {
		struct topo_str *g = &f->sgs[k];
		f->sg_idx[k] = VPC_INDEX_NONE;
		if (g->s == NULL)
			continue;
		uint32_t idx = resolve_ref(c, &mp->sgs, g, "interface", fn,
					   "security group", v);
		if (idx == VPC_KEYMAP_NEW)
			continue;
		for (uint32_t j = 0; j < k; j++)
			if (f->sg_idx[j] == idx) {
				ERR(c, g->pos,
				    "interface '%s': security group '%s' is listed twice",
				    fn, g->s);
				break;
			}
		f->sg_idx[k] = idx;
	}
}

/* An explicit MAC must be a usable unicast address. */
static void
check_iface_mac(struct vctx *c, const struct topo_iface *f)
{
	const char *fn = f->name.s ? f->name.s : "?";
	char a[20];

	if (f->mac.set && (f->mac.b[0] & 1))
		ERR(c, f->mac.pos,
		    "interface '%s': MAC %s is a multicast address (expected a unicast MAC)",
		    fn, topo_fmt_mac(a, f->mac.b));
	else if (f->mac.set &&
		 !(f->mac.b[0] | f->mac.b[1] | f->mac.b[2] | f->mac.b[3] |
		   f->mac.b[4] | f->mac.b[5]))
		ERR(c, f->mac.pos, "interface '%s': MAC 00:00:00:00:00:00 is not a usable address",
		    fn);
}

static void
check_ifaces(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	for (uint32_t i = 0; i < v->n_ifaces; i++) {
		struct topo_iface *f = &v->ifaces[i];
		struct topo_subnet *s = resolve_iface_subnet(c, v, mp, f);

		check_iface_ip(c, v, mp, f, i, s);
		if (f->has_sgs)
			check_iface_sgs(c, v, mp, f);
		if (f->eip.set && !(v->igw.set && v->igw.v))
			ERR(c, f->eip.pos,
			    "interface '%s': an elastic IP needs an internet gateway, but VPC '%s' has none (set internet_gateway: true)",
			    f->name.s ? f->name.s : "?",
			    v->name.s ? v->name.s : "?");
		check_iface_mac(c, f);
	}
}

/* A route to {peering: NAME}: a peering of the file that joins this VPC. */
static void
check_route_peering(struct vctx *c, const struct topo_vpc *v, const char *tn,
		    struct topo_route *r)
{
	const struct topo *t = c->t;
	uint32_t vi = (uint32_t)(v - t->vpcs);
	uint32_t k = keymap_get_str(&c->peering_names, r->peering.s);

	r->peering_idx = VPC_INDEX_NONE;
	if (k == VPC_KEYMAP_NEW) {
		ERR(c, r->peering.pos, "route table '%s': unknown peering '%s'", tn, r->peering.s);
		return;
	}
	const struct topo_peering *p = &t->peerings[k];
	if (!p->ok)
		return;		/* its own error said why */
	if (p->vpc_idx[0] != vi && p->vpc_idx[1] != vi) {
		ERR(c, r->peering.pos,
		    "route table '%s': peering '%s' joins VPCs '%s' and '%s', not VPC '%s'",
		    tn, r->peering.s, p->vpcs[0].s, p->vpcs[1].s, v->name.s ? v->name.s : "?");
		return;
	}
	r->peering_idx = k;
}

static void
check_routes(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	const char *vn = v->name.s ? v->name.s : "?";
	char a[20];

	for (uint32_t t = 0; t < v->n_rtables; t++) {
		struct topo_rtable *rt = &v->rtables[t];
		const char *tn = rt->name.s ? rt->name.s : "?";
		struct keymap dests;
		char pfx[96];

		if (!keymap_ok(c, &dests, rt->n_routes))
			return;
		snprintf(pfx, sizeof(pfx), "route table '%s': destination ", tn);
		for (uint32_t i = 0; i < rt->n_routes; i++) {
			struct topo_route *r = &rt->routes[i];
			r->iface_idx = VPC_INDEX_NONE;
			if (r->dest.set) {
				if (!check_host_bits(c, &r->dest, pfx)) {
					r->dest.set = false;
				} else if (v->cidr.set && r->dest.addr == v->cidr.addr &&
					   r->dest.len == v->cidr.len) {
					ERR(c, r->dest.pos,
					    "route table '%s': destination %s duplicates the implicit local route of VPC '%s'",
					    tn, topo_fmt_cidr(a, r->dest.addr, r->dest.len), vn);
					r->dest.set = false;
				} else {
					uint64_t key = (uint64_t)r->dest.addr << 8 | r->dest.len;
					uint32_t first = keymap_put_u64(&dests, key, i);
					if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL) {
						ERR(c, r->dest.pos,
						    "route table '%s': duplicate destination %s (first at line %u)",
						    tn, topo_fmt_cidr(a, r->dest.addr, r->dest.len),
						    rt->routes[first].dest.pos.line);
						r->dest.set = false;
					}
				}
			}
			if (r->target == TOPO_TGT_IGW && !(v->igw.set && v->igw.v))
				ERR(c, r->target_pos,
				    "route table '%s': target internet_gateway, but VPC '%s' has no internet gateway (set internet_gateway: true)",
				    tn, vn);
			if (r->target == TOPO_TGT_IFACE) {
				uint32_t k = resolve_ref(c, &mp->ifaces, &r->iface,
							 "route table", tn,
							 "interface", v);
				if (k != VPC_KEYMAP_NEW)
					r->iface_idx = k;
			}
			r->natgw_idx = VPC_INDEX_NONE;
			if (r->target == TOPO_TGT_NATGW) {
				uint32_t k = resolve_ref(c, &mp->natgws, &r->natgw,
							 "route table", tn,
							 "NAT gateway", v);
				if (k != VPC_KEYMAP_NEW)
					r->natgw_idx = k;
			}
			if (r->target == TOPO_TGT_PEERING)
				check_route_peering(c, v, tn, r);
		}
		keymap_fini(&dests);
	}
}

/* A rule's protocol, ports and ICMP fields agree (security groups and
 * network ACLs alike); pfx names the rule. */
static void
check_rule_match(struct vctx *c, const char *pfx, const struct topo_rule *r)
{
	char pb[16];

	if (r->proto_set) {
		bool tcpudp = r->proto == 6 || r->proto == 17;
		if (r->ports_set && !tcpudp)
			ERR(c, r->ports_pos,
			    "%s'ports' applies only to tcp and udp, not %s", pfx,
			    proto_name(pb, r->proto));
		if (r->icmp_type.set && r->proto != 1)
			ERR(c, r->icmp_type.pos,
			    "%s'icmp_type' applies only to icmp, not %s", pfx,
			    proto_name(pb, r->proto));
		if (r->icmp_code.set && r->proto != 1)
			ERR(c, r->icmp_code.pos,
			    "%s'icmp_code' applies only to icmp, not %s", pfx,
			    proto_name(pb, r->proto));
		else if (r->icmp_code.set && !r->icmp_type.set)
			ERR(c, r->icmp_code.pos,
			    "%s'icmp_code' needs 'icmp_type'", pfx);
	}
}

/* Are VPCs a and b peered (by a valid peering)? */
static bool
peered(const struct topo *t, uint32_t a, uint32_t b)
{
	for (uint32_t k = 0; k < t->n_peerings; k++) {
		const struct topo_peering *p = &t->peerings[k];
		if (p->ok && ((p->vpc_idx[0] == a && p->vpc_idx[1] == b) ||
			      (p->vpc_idx[0] == b && p->vpc_idx[1] == a)))
			return true;
	}
	return false;
}

/*
 * {security_group: G, vpc: P}: P is a VPC peered with this one (or this
 * one); the group is resolved once every VPC has its implicit default
 * group (check_peer_groups).
 */
static void
check_rule_peer_vpc(struct vctx *c, const struct topo_vpc *v, const char *pfx,
		    struct topo_rule *r)
{
	const struct topo *t = c->t;
	uint32_t vi = (uint32_t)(v - t->vpcs);
	uint32_t k = keymap_get_str(&c->vpc_names, r->peer_vpc.s);

	if (k == VPC_KEYMAP_NEW) {
		ERR(c, r->peer_vpc.pos, "%sunknown VPC '%s'", pfx, r->peer_vpc.s);
		return;
	}
	if (k != vi && !peered(t, vi, k)) {
		ERR(c, r->peer_vpc.pos, "%sVPC '%s' is not peered with VPC '%s'", pfx,
		    r->peer_vpc.s, v->name.s ? v->name.s : "?");
		return;
	}
	r->peer_vpc_idx = k;	/* the group: check_peer_groups */
}

static void
check_rule(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp,
	   const char *gn, const char *dir, uint32_t n, struct topo_rule *r)
{
	const char *peer_key = dir[0] == 'i' ? "source" : "destination";
	char pfx[96];

	snprintf(pfx, sizeof(pfx), "security group '%s': %s rule %u: ", gn, dir, n);
	r->peer_sg_idx = VPC_INDEX_NONE;
	r->peer_vpc_idx = VPC_INDEX_NONE;
	check_rule_match(c, pfx, r);
	if (r->peer_kind == TOPO_PEER_CIDR) {
		char hp[112];
		snprintf(hp, sizeof(hp), "%s%s ", pfx, peer_key);
		if (!check_host_bits(c, &r->peer_cidr, hp))
			r->peer_cidr.addr &= mask_of(r->peer_cidr.len);
	} else if (r->peer_kind == TOPO_PEER_SG && r->peer_vpc.s != NULL) {
		check_rule_peer_vpc(c, v, pfx, r);
	} else if (r->peer_kind == TOPO_PEER_SG) {
		uint32_t k = keymap_get_str(&mp->sgs, r->peer_sg.s);
		if (k == VPC_KEYMAP_NEW)
			ERR(c, r->peer_sg.pos,
			    "%sunknown security group '%s' in VPC '%s'", pfx,
			    r->peer_sg.s, v->name.s ? v->name.s : "?");
		else
			r->peer_sg_idx = k;
	}
}

static void
check_sgs(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	for (uint32_t i = 0; i < v->n_sgs; i++) {
		struct topo_sg *g = &v->sgs[i];
		const char *gn = g->name.s ? g->name.s : "?";
		for (uint32_t k = 0; k < g->n_ingress; k++)
			check_rule(c, v, mp, gn, "ingress", k + 1, &g->ingress[k]);
		for (uint32_t k = 0; k < g->n_egress; k++)
			check_rule(c, v, mp, gn, "egress", k + 1, &g->egress[k]);
	}
}

/* One direction's rules of network ACL a: the limit, unique numbers
 * (first[] one slot per number, 0 or a rule's index + 1), the fields. */
static void
check_nacl_rules(struct vctx *c, const struct topo_nacl *a, const char *dir,
		 struct topo_nrule *rules, uint32_t n, uint32_t *first)
{
	const char *an = a->name.s ? a->name.s : "?";
	char pfx[112];

	if (n > VPC_NACL_MAX_RULES)
		ERR(c, rules[VPC_NACL_MAX_RULES].pos,
		    "network ACL '%s': more than %u %s rules (the limit)", an,
		    VPC_NACL_MAX_RULES, dir);
	memset(first, 0, (VPC_NACL_RULE_MAX + 1) * sizeof(*first));
	for (uint32_t k = 0; k < n; k++) {
		struct topo_nrule *r = &rules[k];
		if (r->number.set) {
			uint32_t num = (uint32_t)r->number.v;
			snprintf(pfx, sizeof(pfx), "network ACL '%s': %s rule %u: ", an, dir, num);
			if (first[num] != 0)
				ERR(c, r->number.pos,
				    "network ACL '%s': %s rule number %u is repeated (first at line %u)",
				    an, dir, num, rules[first[num] - 1].number.pos.line);
			else
				first[num] = k + 1;
		} else {
			snprintf(pfx, sizeof(pfx), "network ACL '%s': %s entry %u: ", an, dir, k + 1);
		}
		check_rule_match(c, pfx, &r->m);
		if (r->m.peer_kind == TOPO_PEER_CIDR) {
			char hp[120];
			snprintf(hp, sizeof(hp), "%scidr ", pfx);
			if (!check_host_bits(c, &r->m.peer_cidr, hp))
				r->m.peer_cidr.addr &= mask_of(r->m.peer_cidr.len);
		}
	}
}

/*
 * Network ACLs: unique names, known subnets, a subnet in one ACL at most
 * (resolved into its nacl_idx), then each direction's rules.
 */
static void
check_nacls(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	const char *vn = v->name.s;
	struct keymap names;
	uint32_t *first = NULL;

	for (uint32_t s = 0; s < v->n_subnets; s++)
		v->subnets[s].nacl_idx = VPC_INDEX_NONE;
	if (v->n_nacls == 0)
		return;
	if (!keymap_ok(c, &names, v->n_nacls))
		return;
	index_names(c, &names, v->nacls, v->n_nacls, sizeof(*v->nacls),
		    offsetof(struct topo_nacl, name), "network ACL", vn);
	keymap_fini(&names);
	first = calloc(VPC_NACL_RULE_MAX + 1, sizeof(*first));
	if (first == NULL) {
		c->oom = true;
		return;
	}
	for (uint32_t i = 0; i < v->n_nacls; i++) {
		struct topo_nacl *a = &v->nacls[i];
		const char *an = a->name.s ? a->name.s : "?";
		for (uint32_t k = 0; k < a->n_subnets; k++) {
			const struct topo_str *ref = &a->subnets[k];
			if (ref->s == NULL)
				continue;
			uint32_t s = resolve_ref(c, &mp->subnets, ref, "network ACL", an,
						 "subnet", v);
			if (s == VPC_KEYMAP_NEW)
				continue;
			struct topo_subnet *sn = &v->subnets[s];
			if (sn->nacl_idx == i) {
				ERR(c, ref->pos, "network ACL '%s': subnet '%s' is listed twice",
				    an, ref->s);
				continue;
			}
			if (sn->nacl_idx != VPC_INDEX_NONE) {
				const struct topo_nacl *o = &v->nacls[sn->nacl_idx];
				ERR(c, ref->pos,
				    "network ACL '%s': subnet '%s' already has network ACL '%s' (line %u); a subnet has at most one",
				    an, ref->s, o->name.s ? o->name.s : "?", o->pos.line);
				continue;
			}
			sn->nacl_idx = i;
			a->subnet_idx[k] = s;
		}
		check_nacl_rules(c, a, "ingress", a->ingress, a->n_ingress, first);
		check_nacl_rules(c, a, "egress", a->egress, a->n_egress, first);
	}
	free(first);
}

/*
 * Typed ICMP rules that reach one interface in one direction, counted
 * once per distinct type and code: the security-group classifier lists
 * them at a trie node, and both engines scan at most VPC_SG_MAX_ICMPS
 * there.  (Counting across peers bounds every node.)
 */
static void
check_icmp_limits(struct vctx *c, struct topo_vpc *v)
{
	for (uint32_t i = 0; i < v->n_ifaces; i++) {
		const struct topo_iface *f = &v->ifaces[i];
		for (int dir = 0; dir < 2; dir++) {
			uint32_t seen[VPC_SG_MAX_ICMPS + 1], n = 0;
			for (uint32_t k = 0; k < f->n_sgs && n <= VPC_SG_MAX_ICMPS; k++) {
				if (f->sg_idx[k] >= v->n_sgs)
					continue;
				const struct topo_sg *g = &v->sgs[f->sg_idx[k]];
				const struct topo_rule *r = dir == 0 ? g->ingress : g->egress;
				uint32_t nr = dir == 0 ? g->n_ingress : g->n_egress;
				for (uint32_t q = 0; q < nr && n <= VPC_SG_MAX_ICMPS; q++) {
					if (!r[q].proto_set || r[q].proto != 1 || !r[q].icmp_type.set)
						continue;
					uint32_t key = (uint32_t)(r[q].icmp_type.v & 0xff) << 9 |
						       (r[q].icmp_code.set ? 0x100u |
							(uint32_t)(r[q].icmp_code.v & 0xff) : 0);
					bool dup = false;
					for (uint32_t j = 0; j < n && !dup; j++)
						dup = seen[j] == key;
					if (!dup)
						seen[n++] = key;
				}
			}
			if (n > VPC_SG_MAX_ICMPS)
				ERR(c, f->has_sgs ? f->sgs_pos : f->pos,
				    "interface '%s': its security groups have more than %u distinct "
				    "ICMP type/code rules for %s traffic (the limit)",
				    f->name.s ? f->name.s : "?", VPC_SG_MAX_ICMPS,
				    dir == 0 ? "ingress" : "egress");
		}
	}
}

/*
 * dhcp_options' domain_name: domain names separated by single spaces, each
 * of labels of 1 to 63 letters, digits and '-' (not first or last) joined
 * by dots -- what a guest's resolver takes from option 15.
 */
static bool
domain_names_ok(const char *s)
{
	const char *label = s;

	for (const char *p = s;; p++) {
		if (*p == '.' || *p == ' ' || *p == '\0') {
			size_t n = (size_t)(p - label);
			if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return false;
		}
	}
}

/* A DNS or NTP server: an address a guest can send to. */
static void
check_dhcp_server(struct vctx *c, const struct topo_vpc *v,
		  const struct topo_ip *x, const char *what)
{
	char a[20], b[20];
	int k;

	if (!x->set || (k = non_public_range(x->addr)) < 0 || non_public[k].server_ok)
		return;
	ERR(c, x->pos, "VPC '%s': %s %s is not a usable address (%s is %s)",
	    v->name.s ? v->name.s : "?", what, topo_fmt_ip(a, x->addr),
	    topo_fmt_cidr(b, non_public[k].net, non_public[k].len),
	    non_public[k].what);
}

static void
check_dhcp(struct vctx *c, const struct topo_vpc *v)
{
	const struct topo_dhcp *o = &v->dhcp;
	const char *vn = v->name.s ? v->name.s : "?";

	for (uint32_t i = 0; i < o->n_dns; i++)
		check_dhcp_server(c, v, &o->dns[i], "domain name server");
	for (uint32_t i = 0; i < o->n_ntp; i++)
		check_dhcp_server(c, v, &o->ntp[i], "NTP server");
	if (o->domain.s == NULL)
		return;
	size_t n = strlen(o->domain.s);
	if (n == 0 || n >= VPC_DHCP_DOMAIN_MAX)
		ERR(c, o->domain.pos,
		    "VPC '%s': domain_name is %zu characters; it must be 1 to %d",
		    vn, n, VPC_DHCP_DOMAIN_MAX - 1);
	else if (!domain_names_ok(o->domain.s))
		ERR(c, o->domain.pos,
		    "VPC '%s': domain_name '%s' is not a valid domain name (labels of 1 to 63 letters, digits and '-', not starting or ending with '-', joined by dots; several names separated by single spaces)",
		    vn, o->domain.s);
}

/* Does route table rt send 0.0.0.0/0 to the internet gateway? */
static bool
rtable_has_igw_default(const struct topo_rtable *rt)
{
	for (uint32_t i = 0; i < rt->n_routes; i++)
		if (rt->routes[i].dest.set && rt->routes[i].dest.len == 0 &&
		    rt->routes[i].target == TOPO_TGT_IGW)
			return true;
	return false;
}

/*
 * NAT gateways: in a subnet of the VPC whose route table sends 0.0.0.0/0
 * to the internet gateway (a public subnet), which the VPC has.  Their
 * elastic IPs are checked host-wide with the interfaces'.  Run once the
 * subnets' default route tables are known.
 */
static void
check_natgws(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	const char *vn = v->name.s ? v->name.s : "?";

	for (uint32_t i = 0; i < v->n_natgws; i++) {
		struct topo_natgw *g = &v->natgws[i];
		const char *gn = g->name.s ? g->name.s : "?";

		g->subnet_idx = VPC_INDEX_NONE;
		if (c->t->has_hosts) {
			ERR(c, g->pos,
			    "NAT gateway '%s': NAT gateways are not supported in a topology with hosts: yet (one host: use host:)",
			    gn);
			continue;
		}
		if (!(v->igw.set && v->igw.v)) {
			ERR(c, g->eip.set ? g->eip.pos : g->pos,
			    "NAT gateway '%s': a NAT gateway needs an internet gateway, but VPC '%s' has none (set internet_gateway: true)",
			    gn, vn);
			continue;
		}
		if (g->subnet.s == NULL)
			continue;
		uint32_t k = resolve_ref(c, &mp->subnets, &g->subnet, "NAT gateway", gn, "subnet", v);
		if (k == VPC_KEYMAP_NEW)
			continue;
		g->subnet_idx = k;
		uint32_t rt = v->subnets[k].rtable_idx;
		if (rt < v->n_rtables && !rtable_has_igw_default(&v->rtables[rt]))
			ERR(c, g->subnet.pos,
			    "NAT gateway '%s': subnet '%s' is not public: its route table '%s' has no route 0.0.0.0/0 to the internet gateway",
			    gn, g->subnet.s, v->rtables[rt].name.s ? v->rtables[rt].name.s : "?");
	}
}

/* ---- load balancers ---- */

/*
 * Another VPC than v with an interface (groups: a security group) named
 * name, or NULL: what makes "unknown" read "of another VPC".  A scan,
 * on error paths only.
 */
static const struct topo_vpc *
vpc_elsewhere(const struct topo *t, const struct topo_vpc *v, const char *name, bool groups)
{
	for (uint32_t k = 0; k < t->n_vpcs; k++) {
		const struct topo_vpc *o = &t->vpcs[k];
		uint32_t n = groups ? o->n_sgs : o->n_ifaces;
		for (uint32_t i = 0; o != v && i < n; i++) {
			const char *x = groups ? o->sgs[i].name.s : o->ifaces[i].name.s;
			if (x != NULL && strcmp(x, name) == 0)
				return o;
		}
	}
	return NULL;
}

/*
 * An internal balancer's subnet and address: inside the subnet, not one
 * of its reserved addresses, and no interface's or other balancer's (the
 * engines route it by a /32 of its own).  i: its index in the VPC.
 */
static void
check_lb_internal(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp, struct topo_lb *b,
		  uint32_t i, const char *bn)
{
	const struct topo_subnet *s = NULL;
	const char *role;
	char a[20], x[20];

	if (b->subnet.s != NULL) {
		uint32_t k = resolve_ref(c, &mp->subnets, &b->subnet, "load balancer", bn, "subnet",
					 v);
		if (k != VPC_KEYMAP_NEW) {
			b->subnet_idx = k;
			s = &v->subnets[k];
		}
	}
	if (!b->ip.set)
		return;
	uint32_t first = keymap_put_u64(&mp->ips, b->ip.addr, v->n_ifaces + i);
	if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL) {
		const struct topo_str *holder = first < v->n_ifaces ? &v->ifaces[first].name :
								      &v->lbs[first - v->n_ifaces].name;
		ERR(c, b->ip.pos, "load balancer '%s': IP %s is already used by %s '%s'", bn,
		    topo_fmt_ip(a, b->ip.addr),
		    first < v->n_ifaces ? "interface" : "load balancer",
		    holder->s ? holder->s : "?");
	} else if (s != NULL && s->cidr.set &&
		   !cidr_contains(s->cidr.addr, s->cidr.len, b->ip.addr)) {
		ERR(c, b->ip.pos, "load balancer '%s': IP %s is not inside subnet '%s' (%s)", bn,
		    topo_fmt_ip(a, b->ip.addr), s->name.s,
		    topo_fmt_cidr(x, s->cidr.addr, s->cidr.len));
	} else if (s != NULL && s->cidr.set && (role = reserved_role(s, b->ip.addr)) != NULL) {
		ERR(c, b->ip.pos, "load balancer '%s': IP %s is reserved in subnet '%s' (%s)", bn,
		    topo_fmt_ip(a, b->ip.addr), s->name.s, role);
	}
}

/* The balancer's groups: of its VPC, each once. */
static void
check_lb_sgs(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp, struct topo_lb *b,
	     const char *bn)
{
	const char *vn = v->name.s ? v->name.s : "?";

	for (uint32_t k = 0; k < b->n_sgs; k++) {
		const struct topo_str *g = &b->sgs[k];
		b->sg_idx[k] = VPC_INDEX_NONE;
		if (g->s == NULL)
			continue;
		uint32_t idx = keymap_get_str(&mp->sgs, g->s);
		if (idx == VPC_KEYMAP_NEW) {
			const struct topo_vpc *o = vpc_elsewhere(c->t, v, g->s, true);
			if (o != NULL)
				ERR(c, g->pos,
				    "load balancer '%s': security group '%s' is a group of VPC '%s', not of VPC '%s'",
				    bn, g->s, o->name.s ? o->name.s : "?", vn);
			else
				ERR(c, g->pos, "load balancer '%s': unknown security group '%s' in VPC '%s'",
				    bn, g->s, vn);
			continue;
		}
		for (uint32_t j = 0; j < k; j++)
			if (b->sg_idx[j] == idx) {
				ERR(c, g->pos, "load balancer '%s': security group '%s' is listed twice",
				    bn, g->s);
				break;
			}
		b->sg_idx[k] = idx;
	}
}

/*
 * One target group: its health check's timeout below its interval, at
 * most VPC_LB_MAX_TARGETS targets, each an interface of the VPC, no
 * (interface, port) twice.  pfx: "load balancer 'x': target group 'y': ".
 */
static void
check_lb_tgroup(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp, struct topo_lb_tgroup *g,
		const char *pfx)
{
	const char *vn = v->name.s ? v->name.s : "?";
	struct keymap seen;

	uint64_t interval = g->hc_interval.set ? g->hc_interval.v : VPC_HC_INTERVAL_DEFAULT;
	uint64_t timeout = g->hc_timeout.set ? g->hc_timeout.v : VPC_HC_TIMEOUT_DEFAULT;
	/* a value the loader refused has its own error */
	bool hc_read = (g->hc_interval.set || g->hc_interval.pos.line == 0) &&
		       (g->hc_timeout.set || g->hc_timeout.pos.line == 0);
	if (hc_read && timeout >= interval)
		ERR(c, g->hc_timeout.set ? g->hc_timeout.pos : g->hc_interval.pos,
		    "%shealth check timeout %llu s must be less than its interval %llu s", pfx,
		    (unsigned long long)timeout, (unsigned long long)interval);
	if (g->n_targets > VPC_LB_MAX_TARGETS)
		ERR(c, g->targets[VPC_LB_MAX_TARGETS].pos, "%smore than %u targets (the limit)", pfx,
		    VPC_LB_MAX_TARGETS);
	if (!keymap_ok(c, &seen, g->n_targets))
		return;
	for (uint32_t k = 0; k < g->n_targets; k++) {
		struct topo_lb_target *x = &g->targets[k];
		if (x->iface.s == NULL)
			continue;
		uint32_t fi = keymap_get_str(&mp->ifaces, x->iface.s);
		if (fi == VPC_KEYMAP_NEW) {
			const struct topo_vpc *o = vpc_elsewhere(c->t, v, x->iface.s, false);
			if (o != NULL)
				ERR(c, x->iface.pos,
				    "%sinterface '%s' is in VPC '%s', not VPC '%s' (a target is an interface of the balancer's VPC)",
				    pfx, x->iface.s, o->name.s ? o->name.s : "?", vn);
			else
				ERR(c, x->iface.pos, "%sunknown interface '%s' in VPC '%s'", pfx,
				    x->iface.s, vn);
			continue;
		}
		x->iface_idx = fi;
		/* (interface, port): the port resolved, unless it is unreadable */
		const struct topo_uint *port = x->port.set || x->port.pos.line != 0 ? &x->port :
										    &g->port;
		if (!port->set)
			continue;
		uint32_t first = keymap_put_u64(&seen, (uint64_t)fi << 16 | port->v, k);
		if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL)
			ERR(c, x->iface.pos,
			    "%sinterface '%s' port %llu is already a target of the group (line %u)",
			    pfx, x->iface.s, (unsigned long long)port->v, g->targets[first].pos.line);
	}
	keymap_fini(&seen);
}

/* "tcp/80", or the listener's position in its list when either is unread. */
static const char *
listener_name(char buf[24], const struct topo_lb_listener *l, uint32_t k)
{
	if (l->proto.set && l->port.set)
		snprintf(buf, 24, "%s/%llu", l->proto.v == 6 ? "tcp" : "udp",
			 (unsigned long long)l->port.v);
	else
		snprintf(buf, 24, "%u", k + 1);
	return buf;
}

/* Listeners: each a target group of the balancer and of its protocol,
 * no (protocol, port) twice.  names: the groups' names. */
static void
check_lb_listeners(struct vctx *c, struct topo_lb *b, const struct keymap *names, const char *bn)
{
	struct keymap seen;
	char ln[24];

	if (!keymap_ok(c, &seen, b->n_listeners))
		return;
	for (uint32_t k = 0; k < b->n_listeners; k++) {
		struct topo_lb_listener *l = &b->listeners[k];
		listener_name(ln, l, k);
		if (l->proto.set && l->port.set) {
			uint32_t first = keymap_put_u64(&seen, l->proto.v << 16 | l->port.v, k);
			if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL)
				ERR(c, l->port.pos,
				    "load balancer '%s': duplicate listener %s (first at line %u)", bn, ln,
				    b->listeners[first].pos.line);
		}
		if (l->tgroup.s == NULL)
			continue;
		uint32_t gi = keymap_get_str(names, l->tgroup.s);
		if (gi == VPC_KEYMAP_NEW) {
			ERR(c, l->tgroup.pos, "load balancer '%s': listener %s: unknown target group '%s'",
			    bn, ln, l->tgroup.s);
			continue;
		}
		l->tgroup_idx = gi;
		const struct topo_lb_tgroup *g = &b->tgroups[gi];
		/* the group's protocol: tcp unless given (an unreadable one has
		 * its own error) */
		uint64_t gp = g->proto.set ? g->proto.v : 6;
		if (l->proto.set && (g->proto.set || g->proto.pos.line == 0) && gp != l->proto.v)
			ERR(c, l->tgroup.pos,
			    "load balancer '%s': listener %s: target group '%s' is %s (a listener forwards to a group of its protocol)",
			    bn, ln, l->tgroup.s, gp == 6 ? "tcp" : "udp");
	}
	keymap_fini(&seen);
}

/*
 * Load balancers: refused in a hosts: topology for now (a balancer lives
 * on one host; its targets on others would be reached over the overlay:
 * not built yet).  Internal ones: subnet and address; internet-facing
 * ones: the VPC's internet gateway (their elastic IPs are checked
 * host-wide with the others').  Then groups, target groups, listeners.
 * Names are unique in the VPC, like every other object's (index_names in
 * check_vpc).  Run after the interfaces (their addresses indexed).
 */
static void
check_lbs(struct vctx *c, struct topo_vpc *v, struct vpc_maps *mp)
{
	const char *vn = v->name.s ? v->name.s : "?";

	for (uint32_t i = 0; i < v->n_lbs; i++) {
		struct topo_lb *b = &v->lbs[i];
		const char *bn = b->name.s ? b->name.s : "?";
		char scope[80], pfx[160];
		struct keymap names;

		b->subnet_idx = VPC_INDEX_NONE;
		if (c->t->has_hosts) {
			ERR(c, b->pos,
			    "load balancer '%s': load balancers are not supported in a topology with hosts: yet (one host: use host:)",
			    bn);
			continue;
		}
		if (b->internal)
			check_lb_internal(c, v, mp, b, i, bn);
		else if (b->eip.set && !(v->igw.set && v->igw.v))
			ERR(c, b->eip.pos,
			    "load balancer '%s': an internet-facing load balancer needs an internet gateway, but VPC '%s' has none (set internet_gateway: true)",
			    bn, vn);
		check_lb_sgs(c, v, mp, b, bn);
		if (!keymap_ok(c, &names, b->n_tgroups))
			return;
		snprintf(scope, sizeof(scope), "load balancer '%s'", bn);
		index_names_in(c, &names, b->tgroups, b->n_tgroups, sizeof(*b->tgroups),
			       offsetof(struct topo_lb_tgroup, name), "target group", scope);
		for (uint32_t k = 0; k < b->n_tgroups; k++) {
			const struct topo_lb_tgroup *g = &b->tgroups[k];
			snprintf(pfx, sizeof(pfx), "load balancer '%s': target group '%s': ", bn,
				 g->name.s ? g->name.s : "?");
			check_lb_tgroup(c, v, mp, &b->tgroups[k], pfx);
		}
		check_lb_listeners(c, b, &names, bn);
		keymap_fini(&names);
	}
}

static void
check_vpc(struct vctx *c, struct topo_vpc *v)
{
	struct vpc_maps mp;
	const char *vn = v->name.s;

	memset(&mp, 0, sizeof(mp));
	if (!keymap_ok(c, &mp.subnets, v->n_subnets) ||
	    !keymap_ok(c, &mp.rtables, v->n_rtables + 1) ||
	    !keymap_ok(c, &mp.sgs, v->n_sgs + 1) ||
	    !keymap_ok(c, &mp.ifaces, v->n_ifaces) ||
	    !keymap_ok(c, &mp.ips, v->n_ifaces + v->n_lbs) ||
	    !keymap_ok(c, &mp.natgws, v->n_natgws) ||
	    !keymap_ok(c, &mp.lbs, v->n_lbs))
		goto out;
	index_names(c, &mp.subnets, v->subnets, v->n_subnets, sizeof(*v->subnets),
		    offsetof(struct topo_subnet, name), "subnet", vn);
	index_names(c, &mp.rtables, v->rtables, v->n_rtables, sizeof(*v->rtables),
		    offsetof(struct topo_rtable, name), "route table", vn);
	index_names(c, &mp.sgs, v->sgs, v->n_sgs, sizeof(*v->sgs),
		    offsetof(struct topo_sg, name), "security group", vn);
	index_names(c, &mp.ifaces, v->ifaces, v->n_ifaces, sizeof(*v->ifaces),
		    offsetof(struct topo_iface, name), "interface", vn);
	index_names(c, &mp.natgws, v->natgws, v->n_natgws, sizeof(*v->natgws),
		    offsetof(struct topo_natgw, name), "NAT gateway", vn);
	index_names(c, &mp.lbs, v->lbs, v->n_lbs, sizeof(*v->lbs),
		    offsetof(struct topo_lb, name), "load balancer", vn);
	for (uint32_t i = 0; i < v->n_ifaces; i++)
		v->ifaces[i].name_dup = v->ifaces[i].name.s != NULL &&
			keymap_get_str(&mp.ifaces, v->ifaces[i].name.s) != i;
	add_implicit(c, v, &mp);
	if (c->oom)
		goto out;
	check_vpc_cidr(c, v);
	check_dhcp(c, v);
	check_subnets(c, v, &mp);
	check_ifaces(c, v, &mp);
	check_routes(c, v, &mp);
	check_sgs(c, v, &mp);
	check_nacls(c, v, &mp);
	/* The default references, before the ICMP limit counts the
	 * default group's rules. */
	topo_derive_vpc_refs(v);
	topo_derive_dhcp(v);
	check_icmp_limits(c, v);
	check_natgws(c, v, &mp);
	check_lbs(c, v, &mp);
out:
	keymap_fini(&mp.subnets);
	keymap_fini(&mp.rtables);
	keymap_fini(&mp.sgs);
	keymap_fini(&mp.ifaces);
	keymap_fini(&mp.ips);
	keymap_fini(&mp.natgws);
	keymap_fini(&mp.lbs);
}

/* ---- peerings ---- */

/*
 * Before the VPCs: each peering's name (unique), its two VPCs (known,
 * distinct), and its pair (peered once); p->ok when all hold, so that
 * routes and rules can name it.  The CIDRs once the VPCs' are checked
 * (check_peering_cidrs).
 */
static void
check_peerings(struct vctx *c)
{
	struct topo *t = c->t;
	struct keymap pairs;

	index_names(c, &c->peering_names, t->peerings, t->n_peerings, sizeof(*t->peerings),
		    offsetof(struct topo_peering, name), "peering", NULL);
	if (!keymap_ok(c, &pairs, t->n_peerings))
		return;
	for (uint32_t i = 0; i < t->n_peerings; i++) {
		struct topo_peering *p = &t->peerings[i];
		const char *pn = p->name.s ? p->name.s : "?";
		bool known = p->n_vpcs == 2;
		for (uint32_t k = 0; k < p->n_vpcs; k++) {
			if (p->vpcs[k].s == NULL) {
				known = false;
				continue;
			}
			uint32_t x = keymap_get_str(&c->vpc_names, p->vpcs[k].s);
			if (x == VPC_KEYMAP_NEW) {
				ERR(c, p->vpcs[k].pos, "peering '%s': unknown VPC '%s'", pn,
				    p->vpcs[k].s);
				known = false;
				continue;
			}
			p->vpc_idx[k] = x;
		}
		if (!known)
			continue;
		if (p->vpc_idx[0] == p->vpc_idx[1]) {
			ERR(c, p->vpcs[1].pos, "peering '%s': VPC '%s' cannot be peered with itself",
			    pn, p->vpcs[1].s);
			continue;
		}
		uint32_t lo = p->vpc_idx[0] < p->vpc_idx[1] ? p->vpc_idx[0] : p->vpc_idx[1];
		uint32_t hi = p->vpc_idx[0] ^ p->vpc_idx[1] ^ lo;
		uint32_t first = keymap_put_u64(&pairs, (uint64_t)lo << 32 | hi, i);
		if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL) {
			ERR(c, p->pos, "peering '%s': VPCs '%s' and '%s' are already peered by '%s' (line %u)",
			    pn, p->vpcs[0].s, p->vpcs[1].s,
			    t->peerings[first].name.s ? t->peerings[first].name.s : "?",
			    t->peerings[first].pos.line);
			continue;
		}
		/* a duplicate name is reported, and routes find the first */
		p->ok = true;
	}
	keymap_fini(&pairs);
}

/* Peered VPCs' CIDRs do not overlap (AWS's rule: each routes to the other
 * by destination). */
static void
check_peering_cidrs(struct vctx *c)
{
	struct topo *t = c->t;
	char a[20], b[20];

	for (uint32_t i = 0; i < t->n_peerings; i++) {
		struct topo_peering *p = &t->peerings[i];
		if (!p->ok)
			continue;
		const struct topo_vpc *x = &t->vpcs[p->vpc_idx[0]], *y = &t->vpcs[p->vpc_idx[1]];
		if (!x->cidr.set || !y->cidr.set)
			continue;
		uint8_t len = x->cidr.len < y->cidr.len ? x->cidr.len : y->cidr.len;
		if (((x->cidr.addr ^ y->cidr.addr) & mask_of(len)) == 0)
			ERR(c, p->vpcs[1].pos,
			    "peering '%s': the CIDRs of VPC '%s' (%s) and VPC '%s' (%s) overlap",
			    p->name.s ? p->name.s : "?", p->vpcs[0].s,
			    topo_fmt_cidr(a, x->cidr.addr, x->cidr.len), p->vpcs[1].s,
			    topo_fmt_cidr(b, y->cidr.addr, y->cidr.len));
	}
}

/* The groups of {security_group: G, vpc: P} rules, in P (whose implicit
 * default group now exists). */
static void
check_peer_groups(struct vctx *c)
{
	struct topo *t = c->t;

	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		struct topo_vpc *v = &t->vpcs[vi];
		for (uint32_t g = 0; g < v->n_sgs; g++) {
			struct topo_sg *sg = &v->sgs[g];
			for (uint32_t dir = 0; dir < 2; dir++) {
				struct topo_rule *rules = dir == 0 ? sg->ingress : sg->egress;
				uint32_t n = dir == 0 ? sg->n_ingress : sg->n_egress;
				for (uint32_t k = 0; k < n; k++) {
					struct topo_rule *r = &rules[k];
					if (r->peer_kind != TOPO_PEER_SG || r->peer_vpc.s == NULL ||
					    r->peer_vpc_idx == VPC_INDEX_NONE)
						continue;
					const struct topo_vpc *pv = &t->vpcs[r->peer_vpc_idx];
					uint32_t x = 0;
					while (x < pv->n_sgs && (pv->sgs[x].name.s == NULL ||
								 strcmp(pv->sgs[x].name.s, r->peer_sg.s) != 0))
						x++;
					if (x < pv->n_sgs) {
						r->peer_sg_idx = x;
						if (r->peer_vpc_idx == vi)
							r->peer_vpc_idx = VPC_INDEX_NONE;	/* its own */
						continue;
					}
					ERR(c, r->peer_sg.pos,
					    "security group '%s': %s rule %u: unknown security group '%s' in VPC '%s'",
					    sg->name.s ? sg->name.s : "?", dir == 0 ? "ingress" : "egress",
					    k + 1, r->peer_sg.s, r->peer_vpc.s);
					r->peer_vpc_idx = VPC_INDEX_NONE;
				}
			}
		}
	}
}

/*
 * In a topology with hosts:, the interfaces of two peered VPCs all run on
 * one host: the overlay does not carry peering traffic yet (a receiving
 * host checks a frame's inner source against its VNI's VPC only), so a
 * peering between hosts is refused rather than half working.  After
 * check_hosts (the interfaces' hosts resolved).
 */
static void
check_peering_hosts(struct vctx *c)
{
	struct topo *t = c->t;

	if (!t->has_hosts)
		return;
	for (uint32_t i = 0; i < t->n_peerings; i++) {
		const struct topo_peering *p = &t->peerings[i];
		const struct topo_iface *first = NULL;
		if (!p->ok)
			continue;
		for (uint32_t k = 0; k < 2; k++) {
			const struct topo_vpc *v = &t->vpcs[p->vpc_idx[k]];
			for (uint32_t j = 0; j < v->n_ifaces; j++) {
				const struct topo_iface *f = &v->ifaces[j];
				if (f->host_idx == VPC_INDEX_NONE)
					continue;
				if (first == NULL) {
					first = f;
				} else if (f->host_idx != first->host_idx) {
					ERR(c, p->pos,
					    "peering '%s': interfaces '%s' (host '%s') and '%s' (host '%s') run on different hosts; peering over the overlay is not supported yet",
					    p->name.s ? p->name.s : "?", first->name.s ? first->name.s : "?",
					    first->host.s ? first->host.s : "?", f->name.s ? f->name.s : "?",
					    f->host.s ? f->host.s : "?");
					k = 2;
					break;
				}
			}
		}
	}
}

/* ---- host-wide checks ---- */

/* Explicit VNIs are unique; the omitted ones are derived afterwards. */
static void
check_vnis(struct vctx *c)
{
	struct topo *t = c->t;
	struct keymap vnis;

	if (!keymap_ok(c, &vnis, t->n_vpcs))
		return;
	for (uint32_t i = 0; i < t->n_vpcs; i++) {
		struct topo_vpc *v = &t->vpcs[i];
		if (!v->vni.set)
			continue;
		uint32_t first = keymap_put_u64(&vnis, v->vni.v, i);
		if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL)
			ERR(c, v->vni.pos, "VPC '%s': VNI %llu is already used by VPC '%s'",
			    v->name.s ? v->name.s : "?",
			    (unsigned long long)v->vni.v,
			    t->vpcs[first].name.s ? t->vpcs[first].name.s : "?");
	}
	keymap_fini(&vnis);
}

struct iref {
	uint32_t vpc, iface;
};

static const char *
iref_name(const struct topo *t, struct iref r)
{
	const char *n = t->vpcs[r.vpc].ifaces[r.iface].name.s;
	return n ? n : "?";
}

static const char *
iref_vpc(const struct topo *t, struct iref r)
{
	const char *n = t->vpcs[r.vpc].name.s;
	return n ? n : "?";
}

/* DDDD:BB:DD.F or BB:DD.F, hex digits only, device 0..1f, function 0..7. */
static bool
pci_addr_ok(const char *s)
{
	size_t n = strlen(s);
	const char *b = s;
	unsigned int dev;

	if (n == 12) {
		for (int i = 0; i < 4; i++)
			if (!isxdigit((unsigned char)s[i]))
				return false;
		if (s[4] != ':')
			return false;
		b = s + 5;
	} else if (n != 7) {
		return false;
	}
	if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]) ||
	    b[2] != ':' || !isxdigit((unsigned char)b[3]) ||
	    !isxdigit((unsigned char)b[4]) || b[5] != '.' || b[6] < '0' || b[6] > '7')
		return false;
	dev = (unsigned int)((isdigit((unsigned char)b[3]) ? b[3] - '0' : (tolower((unsigned char)b[3]) - 'a' + 10)) * 16 +
			     (isdigit((unsigned char)b[4]) ? b[4] - '0' : (tolower((unsigned char)b[4]) - 'a' + 10)));
	return dev <= 0x1f;
}

/*
 * What the host-wide checks share: every interface by its index across
 * VPCs (g, in file order), and what is already taken host-wide: ports,
 * MACs (the uplink's two, then interfaces'), elastic IPs, router MACs.
 */
struct host_maps {
	struct iref *refs;	/* g -> (VPC, interface) */
	uint32_t n_ifaces;	/* g's bound; NAT gateways' elastic IPs are
				 * keyed past it, by their index across VPCs,
				 * then load balancers', likewise */
	struct keymap ports, macs, eips, routers;
};

static bool
host_maps_init(struct vctx *c, struct host_maps *hm)
{
	const struct topo *t = c->t;
	uint32_t n_ifaces = 0, g = 0;

	memset(hm, 0, sizeof(*hm));
	uint32_t n_natgws = 0, n_lbs = 0;
	for (uint32_t i = 0; i < t->n_vpcs; i++) {
		n_ifaces += t->vpcs[i].n_ifaces;
		n_natgws += t->vpcs[i].n_natgws;
		n_lbs += t->vpcs[i].n_lbs;
	}
	hm->n_ifaces = n_ifaces;
	hm->refs = calloc(n_ifaces ? n_ifaces : 1, sizeof(*hm->refs));
	if (hm->refs == NULL) {
		c->oom = true;
		return false;
	}
	if (!keymap_ok(c, &hm->ports, n_ifaces + 1) ||
	    !keymap_ok(c, &hm->macs, n_ifaces + 2) ||
	    !keymap_ok(c, &hm->eips, n_ifaces + n_natgws + n_lbs) ||
	    !keymap_ok(c, &hm->routers, t->n_vpcs))
		return false;
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
		for (uint32_t i = 0; i < t->vpcs[vi].n_ifaces; i++)
			hm->refs[g++] = (struct iref){ vi, i };
	/* Router MACs come from the VNIs, derived by now. */
	for (uint32_t i = 0; i < t->n_vpcs; i++) {
		uint8_t m[6];
		topo_router_mac(m, (uint32_t)t->vpcs[i].vni.v);
		keymap_put_u64(&hm->routers, topo_mac_key(m), i);
	}
	/* The uplink's MACs (the file's, or the replay defaults) are taken
	 * too; their keymap value is past every interface. */
	keymap_put_u64(&hm->macs, topo_mac_key(topo_uplink_mac(&t->host)), n_ifaces);
	keymap_put_u64(&hm->macs, topo_mac_key(topo_gateway_mac(&t->host)), n_ifaces);
	return true;
}

static void
host_maps_fini(struct host_maps *hm)
{
	keymap_fini(&hm->ports);
	keymap_fini(&hm->macs);
	keymap_fini(&hm->eips);
	keymap_fini(&hm->routers);
	free(hm->refs);
}

/* An explicit MAC: no router's, not the uplink's, unique host-wide. */
static void
check_iface_mac_unique(struct vctx *c, struct host_maps *hm,
		       const struct topo_iface *f, uint32_t g)
{
	const struct topo *t = c->t;
	const char *fn = f->name.s ? f->name.s : "?";
	uint32_t r = keymap_get_u64(&hm->routers, topo_mac_key(f->mac.b));
	uint32_t first;
	char a[20];

	if (r != VPC_KEYMAP_NEW) {
		ERR(c, f->mac.pos,
		    "interface '%s': MAC %s is the router MAC of VPC '%s'",
		    fn, topo_fmt_mac(a, f->mac.b),
		    t->vpcs[r].name.s ? t->vpcs[r].name.s : "?");
	} else if (memcmp(f->mac.b, topo_uplink_mac(&t->host), 6) == 0) {
		ERR(c, f->mac.pos,
		    "interface '%s': MAC %s is the uplink's MAC",
		    fn, topo_fmt_mac(a, f->mac.b));
	} else if (memcmp(f->mac.b, topo_gateway_mac(&t->host), 6) == 0) {
		ERR(c, f->mac.pos,
		    "interface '%s': MAC %s is the uplink gateway's MAC",
		    fn, topo_fmt_mac(a, f->mac.b));
	} else if ((first = keymap_put_u64(&hm->macs, topo_mac_key(f->mac.b), g)) !=
			   VPC_KEYMAP_NEW &&
		   first != VPC_KEYMAP_FULL) {
		ERR(c, f->mac.pos,
		    "interface '%s': MAC %s is already used by interface '%s' in VPC '%s'",
		    fn, topo_fmt_mac(a, f->mac.b),
		    iref_name(t, hm->refs[first]), iref_vpc(t, hm->refs[first]));
	}
}

/* Ports: host-wide, and never the uplink's.  A port defaulted from a
 * duplicate name would only repeat the duplicate-name error. */
static void
check_iface_port(struct vctx *c, struct host_maps *hm,
		 const struct topo_vpc *v, const struct topo_iface *f, uint32_t g)
{
	const struct topo *t = c->t;
	const char *fn = f->name.s ? f->name.s : "?";
	struct topo_str port = topo_iface_port(f);
	bool implicit_port = f->port.s == NULL;
	uint32_t first;

	if (port.s == NULL || (implicit_port && f->name_dup))
		return;
	if (strcmp(port.s, topo_uplink_port(&t->host)) == 0)
		ERR(c, port.pos,
		    "interface '%s': port '%s' is the uplink's port",
		    fn, port.s);
	else if ((first = keymap_put_str(&hm->ports, port.s, g)) !=
			 VPC_KEYMAP_NEW &&
		 first != VPC_KEYMAP_FULL)
		ERR(c, port.pos,
		    "interface '%s' in VPC '%s': port '%s' is already bound to interface '%s' in VPC '%s' (set 'port')",
		    fn, v->name.s ? v->name.s : "?", port.s,
		    iref_name(t, hm->refs[first]), iref_vpc(t, hm->refs[first]));
}

/* Who holds elastic-IP key g (check_eip): "interface 'x' in VPC 'v'",
 * "NAT gateway 'n' in VPC 'v'" or "load balancer 'b' in VPC 'v'". */
static const char *
eip_holder(const struct topo *t, const struct host_maps *hm, uint32_t g, char *buf, size_t size)
{
	if (g < hm->n_ifaces) {
		snprintf(buf, size, "interface '%s' in VPC '%s'", iref_name(t, hm->refs[g]),
			 iref_vpc(t, hm->refs[g]));
		return buf;
	}
	g -= hm->n_ifaces;
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		if (g < v->n_natgws) {
			snprintf(buf, size, "NAT gateway '%s' in VPC '%s'",
				 v->natgws[g].name.s ? v->natgws[g].name.s : "?",
				 v->name.s ? v->name.s : "?");
			return buf;
		}
		g -= v->n_natgws;
	}
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		if (g < v->n_lbs) {
			snprintf(buf, size, "load balancer '%s' in VPC '%s'",
				 v->lbs[g].name.s ? v->lbs[g].name.s : "?",
				 v->name.s ? v->name.s : "?");
			return buf;
		}
		g -= v->n_lbs;
	}
	return "?";
}

/* Elastic IPs: public, outside every VPC, unique host-wide (interfaces',
 * NAT gateways' and load balancers' alike).  who: "interface 'x'", "NAT
 * gateway 'n'", "load balancer 'b'";
 * g: its key (see host_maps). */
static void
check_eip(struct vctx *c, struct host_maps *hm, const char *who, const struct topo_ip *eip,
	  uint32_t g)
{
	const struct topo *t = c->t;
	uint32_t e = eip->addr;
	char a[20], b[20], h[160];

	if (!eip->set)
		return;
	for (uint32_t k = 0; k < t->n_vpcs; k++) {
		const struct topo_vpc *o = &t->vpcs[k];
		if (o->cidr.set && cidr_contains(o->cidr.addr, o->cidr.len, e)) {
			ERR(c, eip->pos,
			    "%s: elastic IP %s lies inside VPC '%s' (%s)",
			    who, topo_fmt_ip(a, e), o->name.s ? o->name.s : "?",
			    topo_fmt_cidr(b, o->cidr.addr, o->cidr.len));
			return;
		}
	}
	int k = non_public_range(e);
	if (k >= 0) {
		ERR(c, eip->pos,
		    "%s: elastic IP %s is not a public address (%s is %s)",
		    who, topo_fmt_ip(a, e),
		    topo_fmt_cidr(b, non_public[k].net, non_public[k].len),
		    non_public[k].what);
		return;
	}
	uint32_t first = keymap_put_u64(&hm->eips, e, g);
	if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL)
		ERR(c, eip->pos, "%s: elastic IP %s is already used by %s", who,
		    topo_fmt_ip(a, e), eip_holder(t, hm, first, h, sizeof(h)));
}

static void
check_iface_eip(struct vctx *c, struct host_maps *hm, const struct topo_iface *f, uint32_t g)
{
	char who[64];

	snprintf(who, sizeof(who), "interface '%s'", f->name.s ? f->name.s : "?");
	check_eip(c, hm, who, &f->eip, g);
}

/* Whether the host-wide checks under way cover interface f. */
static bool
on_checked_host(const struct vctx *c, const struct topo_iface *f)
{
	return c->only_host == VPC_INDEX_NONE || f->host_idx == c->only_host;
}

/*
 * Every interface's MAC first, so that a later pass of derived MACs
 * (topo_derive_host) avoids them all; then ports and elastic IPs.
 */
static void
check_ifaces_host_wide(struct vctx *c, struct host_maps *hm)
{
	const struct topo *t = c->t;
	uint32_t g = 0;

	for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
		for (uint32_t i = 0; i < t->vpcs[vi].n_ifaces; i++, g++)
			if (t->vpcs[vi].ifaces[i].mac.set && on_checked_host(c, &t->vpcs[vi].ifaces[i]))
				check_iface_mac_unique(c, hm, &t->vpcs[vi].ifaces[i], g);
	g = 0;
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		for (uint32_t i = 0; i < v->n_ifaces; i++, g++) {
			if (!on_checked_host(c, &v->ifaces[i]))
				continue;
			check_iface_port(c, hm, v, &v->ifaces[i], g);
			check_iface_eip(c, hm, &v->ifaces[i], g);
		}
	}
	/* NAT gateways' elastic IPs after the interfaces' (whose errors name
	 * the gateway as the second holder). */
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		for (uint32_t i = 0; i < v->n_natgws; i++, g++) {
			char who[64];
			snprintf(who, sizeof(who), "NAT gateway '%s'",
				 v->natgws[i].name.s ? v->natgws[i].name.s : "?");
			check_eip(c, hm, who, &v->natgws[i].eip, g);
		}
	}
	/* Then internet-facing load balancers' (none in a hosts: topology,
	 * which refuses them once: not again for each host). */
	for (uint32_t vi = 0; vi < t->n_vpcs && !t->has_hosts; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		for (uint32_t i = 0; i < v->n_lbs; i++, g++) {
			char who[64];
			snprintf(who, sizeof(who), "load balancer '%s'",
				 v->lbs[i].name.s ? v->lbs[i].name.s : "?");
			check_eip(c, hm, who, &v->lbs[i].eip, g);
		}
	}
}

/* A vhost-user socket's owner: USER or USER:GROUP, each a name or a
 * numeric id; whether the names exist is the daemon's to say (the file
 * may be validated on another machine). */
static bool
owner_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t n_user = colon ? (size_t)(colon - s) : strlen(s);
	size_t n_group = colon ? strlen(colon + 1) : 1;

	if (n_user < 1 || n_user > 32 || n_group < 1 || n_group > 32 ||
	    (colon && strchr(colon + 1, ':') != NULL))
		return false;
	for (const char *q = s; *q; q++)
		if (*q <= ' ' || *q >= 127)
			return false;
	return true;
}

/* A host port: bound, a usable path, ifname or PCI device; a vhost-user
 * socket's owner and mode only where vpcd creates the socket. */
static void
check_host_port(struct vctx *c, const struct keymap *ports,
		struct keymap *ifnames, uint32_t i)
{
	const struct topo_host *h = &c->t->host;
	const struct topo_hostport *p = &h->ports[i];

	if (p->name.s == NULL)
		return;
	if (strcmp(p->name.s, topo_uplink_port(h)) != 0 &&
	    keymap_get_str(ports, p->name.s) == VPC_KEYMAP_NEW)
		ERR(c, p->name.pos,
		    "host port '%s' is not bound to any interface or to the uplink",
		    p->name.s);
	if (p->path.s != NULL && p->path.s[0] != '/')
		ERR(c, p->path.pos, "port '%s': path '%s' must be absolute",
		    p->name.s, p->path.s);
	else if (p->path.s != NULL && strlen(p->path.s) > 107)
		ERR(c, p->path.pos,
		    "port '%s': path is %zu bytes, longer than the 107 a Unix socket path can hold",
		    p->name.s, strlen(p->path.s));
	if (p->ifname.s != NULL) {
		size_t n = strlen(p->ifname.s);
		bool ok = n >= 1 && n <= 15;
		for (size_t k = 0; k < n; k++)
			ok &= p->ifname.s[k] > ' ' && p->ifname.s[k] != '/' &&
			      p->ifname.s[k] != ':' && p->ifname.s[k] < 127;
		if (!ok)
			ERR(c, p->ifname.pos,
			    "port '%s': ifname '%s' is not a valid interface name (1 to 15 printable characters, no '/', ':' or spaces)",
			    p->name.s, p->ifname.s);
		else {
			uint32_t first = keymap_put_str(ifnames, p->ifname.s, i);
			if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL)
				ERR(c, p->ifname.pos,
				    "port '%s': ifname '%s' is already used by port '%s'",
				    p->name.s, p->ifname.s,
				    h->ports[first].name.s ? h->ports[first].name.s : "?");
		}
	}
	if (p->device.s != NULL && !pci_addr_ok(p->device.s))
		ERR(c, p->device.pos,
		    "port '%s': device '%s' is not a PCI address (expected DDDD:BB:DD.F)",
		    p->name.s, p->device.s);
	if (p->owner.s != NULL && !owner_ok(p->owner.s))
		ERR(c, p->owner.pos,
		    "port '%s': owner '%s' is not USER or USER:GROUP (names or numeric ids, 1 to 32 printable characters each, no spaces)",
		    p->name.s, p->owner.s);
	/* The socket's owner and mode are set by whoever creates it: vpcd
	 * in server mode, QEMU (or libvirt) in client mode. */
	if (p->client.set && p->client.v) {
		if (p->owner.s != NULL)
			ERR(c, p->owner.pos,
			    "port '%s': 'owner' applies to the socket vpcd creates, not with 'client: true' (QEMU creates the socket)",
			    p->name.s);
		if (p->mode.set)
			ERR(c, p->mode.pos,
			    "port '%s': 'mode' applies to the socket vpcd creates, not with 'client: true' (QEMU creates the socket)",
			    p->name.s);
	}
}

/* The host section: the uplink's MACs and the host ports. */
static void
check_host_section(struct vctx *c, const struct host_maps *hm)
{
	const struct topo_host *h = &c->t->host;
	struct keymap ifnames;
	char a[20];

	if (h->uplink_mac.set && (h->uplink_mac.b[0] & 1))
		ERR(c, h->uplink_mac.pos, "uplink: MAC %s is a multicast address (expected a unicast MAC)",
		    topo_fmt_mac(a, h->uplink_mac.b));
	if (h->gateway_mac.set && (h->gateway_mac.b[0] & 1))
		ERR(c, h->gateway_mac.pos, "uplink: gateway MAC %s is a multicast address (expected a unicast MAC)",
		    topo_fmt_mac(a, h->gateway_mac.b));
	if (!keymap_ok(c, &ifnames, h->n_ports))
		return;
	for (uint32_t i = 0; i < h->n_ports; i++)
		check_host_port(c, &hm->ports, &ifnames, i);
	keymap_fini(&ifnames);
}

static void
check_host_wide(struct vctx *c)
{
	struct host_maps hm;

	if (host_maps_init(c, &hm)) {
		check_ifaces_host_wide(c, &hm);
		check_host_section(c, &hm);
	}
	host_maps_fini(&hm);
}

/* ---- hosts: a topology over several hypervisors ---- */

/* An interface's host, resolved; where it lives bounds its port and its
 * elastic IP. */
static void
check_iface_host(struct vctx *c, struct keymap *names, struct topo_iface *f)
{
	struct topo *t = c->t;
	const char *fn = f->name.s ? f->name.s : "?";
	char a[20];

	if (f->host.s == NULL) {
		ERR(c, f->pos, "interface '%s' names no host (with 'hosts', every interface has 'host')", fn);
		return;
	}
	uint32_t k = keymap_get_str(names, f->host.s);
	if (k == VPC_KEYMAP_NEW || k == VPC_KEYMAP_FULL) {
		ERR(c, f->host.pos, "interface '%s': unknown host '%s'", fn, f->host.s);
		return;
	}
	f->host_idx = k;
	const struct topo_host *h = &t->hosts[k];
	if (f->eip.set && !h->has_uplink)
		ERR(c, f->eip.pos, "interface '%s': elastic IP %s, but its host '%s' has no uplink",
		    fn, topo_fmt_ip(a, f->eip.addr), f->host.s);
	/* Its port among another host's ports, not its own. */
	struct topo_str port = topo_iface_port(f);
	if (port.s == NULL)
		return;
	for (uint32_t p = 0; p < h->n_ports; p++)
		if (h->ports[p].name.s != NULL && strcmp(h->ports[p].name.s, port.s) == 0)
			return;
	for (uint32_t o = 0; o < t->n_hosts; o++)
		for (uint32_t p = 0; o != k && p < t->hosts[o].n_ports; p++)
			if (t->hosts[o].ports[p].name.s != NULL &&
			    strcmp(t->hosts[o].ports[p].name.s, port.s) == 0) {
				ERR(c, f->port.s != NULL ? f->port.pos : f->host.pos,
				    "interface '%s' runs on host '%s', but its port '%s' is a port of host '%s'",
				    fn, f->host.s, port.s, t->hosts[o].name.s ? t->hosts[o].name.s : "?");
				return;
			}
}

/* Underlay addresses: unique, outside every VPC, no elastic IP. */
static void
check_underlay(struct vctx *c, struct keymap *seen, const struct topo_host *h, uint32_t i)
{
	const struct topo *t = c->t;
	const char *hn = h->name.s ? h->name.s : "?";
	uint32_t u = h->underlay_ip.addr;
	char a[20], b[20];

	if (!h->underlay_ip.set)
		return;
	uint32_t first = keymap_put_u64(seen, u, i);
	if (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL) {
		ERR(c, h->underlay_ip.pos, "host '%s': underlay IP %s is already used by host '%s'", hn,
		    topo_fmt_ip(a, u), t->hosts[first].name.s ? t->hosts[first].name.s : "?");
		return;
	}
	for (uint32_t k = 0; k < t->n_vpcs; k++) {
		const struct topo_vpc *v = &t->vpcs[k];
		if (v->cidr.set && cidr_contains(v->cidr.addr, v->cidr.len, u)) {
			ERR(c, h->underlay_ip.pos, "host '%s': underlay IP %s lies inside VPC '%s' (%s)",
			    hn, topo_fmt_ip(a, u), v->name.s ? v->name.s : "?",
			    topo_fmt_cidr(b, v->cidr.addr, v->cidr.len));
			return;
		}
		for (uint32_t f = 0; f < v->n_ifaces; f++)
			if (v->ifaces[f].eip.set && v->ifaces[f].eip.addr == u) {
				ERR(c, h->underlay_ip.pos,
				    "host '%s': underlay IP %s is the elastic IP of interface '%s'", hn,
				    topo_fmt_ip(a, u), v->ifaces[f].name.s ? v->ifaces[f].name.s : "?");
				return;
			}
	}
}

/* Elastic IPs and explicit MACs are unique across hosts too (each
 * host's own checks see only its interfaces). */
static void
check_across_hosts(struct vctx *c)
{
	const struct topo *t = c->t;
	struct keymap eips, macs;
	const struct topo_iface **fs;
	uint32_t n = 0, g = 0;
	char a[20];

	for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
		n += t->vpcs[vi].n_ifaces;
	if ((fs = calloc(n ? n : 1, sizeof(*fs))) == NULL) {
		c->oom = true;
		return;
	}
	if (keymap_ok(c, &eips, n) && keymap_ok(c, &macs, n)) {
		for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
			for (uint32_t i = 0; i < t->vpcs[vi].n_ifaces; i++, g++) {
				const struct topo_iface *f = fs[g] = &t->vpcs[vi].ifaces[i];
				uint32_t first;
				if (f->host_idx == VPC_INDEX_NONE)
					continue;
				if (f->eip.set &&
				    (first = keymap_put_u64(&eips, f->eip.addr, g)) < VPC_KEYMAP_FULL &&
				    fs[first]->host_idx != f->host_idx)
					ERR(c, f->eip.pos,
					    "interface '%s': elastic IP %s is already used by interface '%s' (host '%s')",
					    f->name.s, topo_fmt_ip(a, f->eip.addr), fs[first]->name.s,
					    fs[first]->host.s);
				if (f->mac.set &&
				    (first = keymap_put_u64(&macs, topo_mac_key(f->mac.b), g)) < VPC_KEYMAP_FULL &&
				    fs[first]->host_idx != f->host_idx)
					ERR(c, f->mac.pos,
					    "interface '%s': MAC %s is already used by interface '%s' (host '%s')",
					    f->name.s, topo_fmt_mac(a, f->mac.b), fs[first]->name.s,
					    fs[first]->host.s);
			}
	}
	keymap_fini(&eips);
	keymap_fini(&macs);
	free(fs);
}

/*
 * Without hosts:, the host-wide checks over every interface (host:).
 * With it: the entries, each interface's host, then each host's checks
 * over its own interfaces, ports and uplink, as if it were host:.
 */
static void
check_hosts(struct vctx *c)
{
	struct topo *t = c->t;
	struct keymap names, underlay;

	if (!t->has_hosts) {
		for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
			for (uint32_t i = 0; i < t->vpcs[vi].n_ifaces; i++) {
				const struct topo_iface *f = &t->vpcs[vi].ifaces[i];
				if (f->host.s != NULL)
					ERR(c, f->host.pos,
					    "interface '%s': host '%s', but the topology has no 'hosts' list",
					    f->name.s ? f->name.s : "?", f->host.s);
			}
		check_host_wide(c);
		return;
	}
	if (t->host.present)
		ERR(c, t->hosts_pos,
		    "'host' and 'hosts' cannot both be given (with 'hosts', each entry has its own uplink and ports)");
	if (t->n_hosts == 0)
		ERR(c, t->hosts_pos, "'hosts' is empty (at least one host)");
	if (t->n_hosts > VPC_MAX_HOSTS) {
		ERR(c, t->hosts_pos, "'hosts' has %u entries; the limit is %u", t->n_hosts,
		    VPC_MAX_HOSTS);
		return;
	}
	for (uint32_t h = 0; h < t->n_hosts; h++) {
		const struct topo_mac *g = &t->hosts[h].underlay_gateway_mac;
		char a[20];
		if (g->set && (g->b[0] & 1))
			ERR(c, g->pos, "host '%s': underlay gateway MAC %s is a multicast address (expected a unicast MAC)",
			    t->hosts[h].name.s ? t->hosts[h].name.s : "?", topo_fmt_mac(a, g->b));
	}
	if (!keymap_ok(c, &names, t->n_hosts) || !keymap_ok(c, &underlay, t->n_hosts))
		return;
	index_names(c, &names, t->hosts, t->n_hosts, sizeof(*t->hosts),
		    offsetof(struct topo_host, name), "host", NULL);
	for (uint32_t h = 0; h < t->n_hosts; h++)
		check_underlay(c, &underlay, &t->hosts[h], h);
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
		for (uint32_t i = 0; i < t->vpcs[vi].n_ifaces; i++)
			check_iface_host(c, &names, &t->vpcs[vi].ifaces[i]);
	keymap_fini(&names);
	keymap_fini(&underlay);
	struct topo_host saved = t->host;
	for (uint32_t h = 0; h < t->n_hosts && !c->oom; h++) {
		t->host = t->hosts[h];
		c->only_host = h;
		check_host_wide(c);
	}
	t->host = saved;
	c->only_host = VPC_INDEX_NONE;
	if (!c->oom)
		check_across_hosts(c);
}

static void
check_limits(struct vctx *c)
{
	struct topo *t = c->t;
	enum { N_LIMITS = 11 };
	uint64_t n[N_LIMITS] = { t->n_vpcs, 0, 0, 0, 0, 0, t->n_peerings, 0, 0, 0, 0 };
	static const char *const what[N_LIMITS] = { "VPCs", "subnets", "interfaces",
						    "route tables", "security groups",
						    "network ACLs", "peerings", "load balancers",
						    "load balancer listeners", "target groups",
						    "targets" };
	static const uint64_t max[N_LIMITS] = { VPC_MAX_VPCS, VPC_MAX_SUBNETS,
						VPC_MAX_IFACES, VPC_MAX_RTABLES - 4096,
						VPC_MAX_SGS - 4096, VPC_MAX_NACLS, VPC_MAX_PEERINGS,
						VPC_MAX_LBS, VPC_MAX_LISTENERS, VPC_MAX_TGROUPS,
						VPC_MAX_TARGETS };

	for (uint32_t i = 0; i < t->n_vpcs; i++) {
		const struct topo_vpc *v = &t->vpcs[i];
		n[1] += v->n_subnets;
		n[2] += v->n_ifaces;
		n[3] += v->n_rtables;
		n[4] += v->n_sgs;
		n[5] += v->n_nacls;
		n[7] += v->n_lbs;
		for (uint32_t k = 0; k < v->n_lbs; k++) {
			n[8] += v->lbs[k].n_listeners;
			n[9] += v->lbs[k].n_tgroups;
			for (uint32_t g = 0; g < v->lbs[k].n_tgroups; g++)
				n[10] += v->lbs[k].tgroups[g].n_targets;
		}
	}
	for (int k = 0; k < N_LIMITS; k++)
		if (n[k] > max[k])
			ERR(c, ((struct vpc_pos){ 0, 0 }),
			    "the topology has %llu %s; the limit is %llu",
			    (unsigned long long)n[k], what[k],
			    (unsigned long long)max[k]);
}

uint32_t
topo_validate(struct topo *t, struct vpc_diag *d)
{
	struct vctx c = { .t = t, .d = d, .only_host = VPC_INDEX_NONE };

	check_limits(&c);
	if (c.n_errors)
		return c.n_errors;
	if (keymap_init(&c.vpc_names, t->n_vpcs) < 0 ||
	    keymap_init(&c.peering_names, t->n_peerings) < 0) {
		keymap_fini(&c.vpc_names);
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 }, "out of memory");
		return 1;
	}
	index_names(&c, &c.vpc_names, t->vpcs, t->n_vpcs, sizeof(*t->vpcs),
		    offsetof(struct topo_vpc, name), "VPC", NULL);
	check_peerings(&c);
	for (uint32_t i = 0; i < t->n_vpcs && !c.oom; i++)
		check_vpc(&c, &t->vpcs[i]);
	if (!c.oom) {
		check_peering_cidrs(&c);
		check_peer_groups(&c);
	}
	keymap_fini(&c.vpc_names);
	keymap_fini(&c.peering_names);
	if (!c.oom)
		check_vnis(&c);
	if (!c.oom && topo_derive_vnis(t) < 0)
		c.oom = true;
	if (!c.oom) {
		check_hosts(&c);
		check_peering_hosts(&c);
	}
	if (!c.oom && topo_derive_host(t) < 0)
		c.oom = true;
	if (c.oom) {
		vpc_diag_add(d, (struct vpc_pos){ 0, 0 }, "out of memory");
		c.n_errors++;
	}
	t->validated = c.n_errors == 0;
	return c.n_errors;
}
