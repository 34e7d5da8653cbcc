/* SPDX-License-Identifier: BSD-3-Clause */
#include "tables.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "sg.h"

/* DIR-24-8 with 2-byte next hops: 32 MiB of tbl24, up to 32767 next hops
 * (DPDK keeps one bit of each entry for itself). */
#define FIB_NH_MAX_2B 32767
#define TBL24_BYTES(nh_sz) ((uint64_t)(1u << 24) * (nh_sz))

/* Names of DPDK objects must be unique per process; tables are rebuilt on
 * every apply, so number them. */
static atomic_uint table_seq;

static uint32_t
num_tbl8(uint32_t n_long_prefixes, unsigned int nh_sz)
{
	/* One tbl8 group per /24 holding a longer prefix, at worst; DPDK
	 * numbers groups in the next-hop field, so their count is bounded
	 * like the next hops'. */
	uint32_t n = n_long_prefixes + 64;
	uint32_t max = nh_sz == 2 ? FIB_NH_MAX_2B : 1u << 20;
	return n > max ? max : n;
}

uint64_t
vpc_tables_memory(const struct vpc_image *img)
{
	uint64_t total = 8u << 20;	/* hashes, arrays, slack */

	for (uint32_t t = 0; t < img->n_rtables; t++) {
		uint32_t n_long = img->rtables[t].n_routes + vpc_lower_n_deliveries(img, t);
		unsigned int nh_sz = n_long + 64 > FIB_NH_MAX_2B ? 4 : 2;
		total += TBL24_BYTES(nh_sz) + (uint64_t)num_tbl8(n_long, nh_sz) * 256 * nh_sz +
			 (uint64_t)n_long * 96 + (1u << 20);
	}
	total += (uint64_t)img->n_ifaces * 512;
	total += (uint64_t)img->n_nacls * 2 * sizeof(struct vpc_nacl_list);
	/* the overlay's: remote ports, the appliance hash, tunnels, maps */
	if (img->n_rhosts > 0)
		total += (uint64_t)img->n_ifaces * (sizeof(struct vpc_port_info) + 256) +
			 (uint64_t)img->n_rhosts * (sizeof(struct vpc_tunnel_rec) + 32);
	total += (uint64_t)img->n_vpcs * 64;
	total += (uint64_t)img->n_natgws * (sizeof(struct vpc_natgw_rec) + 64);
	total += (uint64_t)img->n_lbs * (sizeof(struct vpc_lb_rec) + 256) +
		 (uint64_t)img->n_listeners * sizeof(struct vpc_lb_listener_rec) +
		 (uint64_t)img->n_tgroups * (sizeof(struct vpc_lb_group_rec) + 8) +
		 (uint64_t)img->n_targets * (sizeof(struct vpc_lb_hc_rec) +
					     sizeof(struct vpc_lb_answer));
	return total;
}

static struct rte_hash *
hash_create(const char *kind, uint32_t n, uint32_t key_len, int socket_id,
	    unsigned int seq)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = n < 32 ? 64 : n * 2,
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
		/* Readers on every lcore, writer only while building: the
		 * table is never written after it is published. */
		.extra_flag = 0,
	};
	snprintf(name, sizeof(name), "vpc_%s_%u", kind, seq);
	return rte_hash_create(&p);
}

struct fib_entry {
	uint32_t prefix;	/* host order */
	uint8_t len;
	uint32_t nh;
};

static int
build_rtable(struct vpc_tables *t, uint32_t ti, int socket_id, unsigned int seq,
	     char *err, size_t err_size)
{
	const struct vpc_image *img = t->img;
	const struct vpc_image_rtable *it = &img->rtables[ti];
	struct vpc_rtable *rt = &t->rtables[ti];
	uint32_t n_deliver = vpc_lower_n_deliveries(img, ti) + img->n_lbs;
	uint32_t max_nh = 1 + it->n_routes + n_deliver;
	uint32_t n_entries = 0;
	char name[64];
	int ret = 0;

	rt->nexthops = rte_zmalloc_socket("vpc_nh", max_nh * sizeof(*rt->nexthops),
					  0, socket_id);
	struct fib_entry *entries = rte_malloc("vpc_fib_entries",
					       (it->n_routes + n_deliver + 1) * sizeof(*entries), 0);
	if (rt->nexthops == NULL || entries == NULL) {
		snprintf(err, err_size, "route table '%s': out of memory", it->name);
		ret = -ENOMEM;
		goto out;
	}

	/* Next hops, shared: one per kind of route target, one per appliance
	 * interface, then one per delivered interface. */
	rt->nexthops[0] = (struct vpc_nexthop){ VPC_NH_NO_ROUTE, VPC_INDEX_NONE };
	rt->n_nexthops = 1;
	uint32_t shared[VPC_NH_COUNT] = { 0 };	/* by kind */
	uint32_t *appliance_nh = rte_zmalloc("vpc_appl", (img->n_ifaces + 1) * sizeof(uint32_t), 0);
	uint32_t *natgw_nh = rte_zmalloc("vpc_natgw_nh", (img->n_natgws + 1) * sizeof(uint32_t), 0);
	if (appliance_nh == NULL || natgw_nh == NULL) {
		rte_free(appliance_nh);
		rte_free(natgw_nh);
		ret = -ENOMEM;
		snprintf(err, err_size, "route table '%s': out of memory", it->name);
		goto out;
	}
	for (uint32_t r = it->first_route; r < it->first_route + it->n_routes; r++) {
		struct vpc_route_rec x;
		uint32_t nh;
		vpc_lower_route(img, r, &x);
		if (x.kind == VPC_NH_PEERING_MISS) {
			/* Its own: the peering's deliveries replace it only
			 * where it is the match (vpc_lower_delivery_applies). */
			nh = rt->n_nexthops;
			rt->nexthops[rt->n_nexthops++] = (struct vpc_nexthop){ x.kind, x.iface };
		} else if (x.kind == VPC_NH_APPLIANCE) {
			if (appliance_nh[x.iface] == 0) {
				appliance_nh[x.iface] = rt->n_nexthops;
				rt->nexthops[rt->n_nexthops++] = (struct vpc_nexthop){
					VPC_NH_APPLIANCE, x.iface };
			}
			nh = appliance_nh[x.iface];
		} else if (x.kind == VPC_NH_NATGW) {	/* one per NAT gateway */
			if (natgw_nh[x.iface] == 0) {
				natgw_nh[x.iface] = rt->n_nexthops;
				rt->nexthops[rt->n_nexthops++] = (struct vpc_nexthop){
					VPC_NH_NATGW, x.iface };
			}
			nh = natgw_nh[x.iface];
		} else {
			if (shared[x.kind] == 0) {
				shared[x.kind] = rt->n_nexthops;
				rt->nexthops[rt->n_nexthops++] = (struct vpc_nexthop){
					x.kind, VPC_INDEX_NONE };
			}
			nh = shared[x.kind];
		}
		entries[n_entries++] = (struct fib_entry){
			rte_be_to_cpu_32(x.prefix), x.prefix_len, nh };
	}
	rte_free(appliance_nh);
	rte_free(natgw_nh);
	/* Delivery routes: each interface IP whose longest match is the local
	 * route, or the route to the peering of its VPC.  Decided below with the FIB itself, once the file's routes
	 * are in it: one lookup per interface, whatever the table's size. */
	uint32_t first_deliver = rt->n_nexthops;
	for (uint32_t i = 0; i < img->n_ifaces; i++) {
		struct vpc_route_rec d;
		if (vpc_lower_delivery(img, ti, i, &d))
			rt->nexthops[rt->n_nexthops++] = (struct vpc_nexthop){ d.kind, d.iface };
	}
	/* Internal load balancers' addresses, the same way. */
	for (uint32_t b = 0; b < img->n_lbs; b++) {
		struct vpc_route_rec d;
		if (vpc_lower_lb_route(img, ti, b, &d))
			rt->nexthops[rt->n_nexthops++] = (struct vpc_nexthop){ d.kind, d.iface };
	}
	uint32_t n_file = n_entries;

	/* 2-byte next hops (32 MiB of tbl24) unless this table has more
	 * distinct next hops than they can name. */
	uint32_t n_long = rt->n_nexthops - first_deliver;	/* the /32s, at most */
	for (uint32_t k = 0; k < n_file; k++)
		n_long += entries[k].len > 24;
	bool wide = rt->n_nexthops > FIB_NH_MAX_2B || n_long + 64 > FIB_NH_MAX_2B;
	struct rte_fib_conf conf = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = 0,
		/* The RIB under the FIB also spends nodes on branch points:
		 * at most one per route in a binary trie. */
		.max_routes = (int)(2 * (n_file + rt->n_nexthops) + 64),
		.dir24_8 = {
			.nh_sz = wide ? RTE_FIB_DIR24_8_4B : RTE_FIB_DIR24_8_2B,
			.num_tbl8 = num_tbl8(n_long, wide ? 4 : 2),
		},
	};
	snprintf(name, sizeof(name), "vpc_fib_%u_%u", seq, ti);
	rt->fib = rte_fib_create(name, socket_id, &conf);
	if (rt->fib == NULL) {
		snprintf(err, err_size, "route table '%s': rte_fib_create: %s",
			 it->name, rte_strerror(rte_errno));
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < n_file; k++) {
		ret = rte_fib_add(rt->fib, entries[k].prefix, entries[k].len, entries[k].nh);
		if (ret < 0) {
			snprintf(err, err_size, "route table '%s': rte_fib_add: %s",
				 it->name, strerror(-ret));
			goto out;
		}
	}
	for (uint32_t nh = first_deliver; nh < rt->n_nexthops; nh++) {
		bool lb = rt->nexthops[nh].kind == VPC_NH_LB;
		uint32_t ip = rte_be_to_cpu_32(lb ? img->lbs[rt->nexthops[nh].iface].ip :
						    img->ifaces[rt->nexthops[nh].iface].ip);
		struct vpc_route_rec d;
		uint64_t cur;
		if (lb)
			vpc_lower_lb_route(img, ti, rt->nexthops[nh].iface, &d);
		else
			vpc_lower_delivery(img, ti, rt->nexthops[nh].iface, &d);
		rte_fib_lookup_bulk(rt->fib, &ip, &cur, 1);
		if (!vpc_lower_delivery_applies(&d, rt->nexthops[cur].kind, rt->nexthops[cur].iface))
			continue;	/* a more specific route wins */
		ret = rte_fib_add(rt->fib, ip, 32, nh);
		if (ret < 0) {
			snprintf(err, err_size, "route table '%s': rte_fib_add: %s",
				 it->name, strerror(-ret));
			goto out;
		}
	}
out:
	rte_free(entries);
	return ret;
}

/* A port record as the pipeline's port info. */
static void
port_info(struct vpc_tables *t, struct vpc_port_info *pi, const struct vpc_port_rec *r)
{
	pi->is_uplink = r->is_uplink;
	pi->iface = r->iface;
	pi->subnet = r->subnet;
	pi->nacl = r->nacl;
	if (r->is_uplink)
		return;
	pi->fi = &t->ifaces[r->iface];
	pi->ctx = r->ctx;
	pi->rtable = &t->rtables[r->rtable];
	pi->gateway_ip = r->gateway_ip;
	pi->subnet_addr = r->subnet_addr;
	pi->subnet_mask = r->subnet_mask;
}

/* A vpc_u32_map for n keys: at least twice as many slots. */
static int
u32_map_init(struct vpc_u32_map *m, uint32_t n, int socket_id)
{
	uint32_t bits = 1;

	while ((1u << bits) < 2 * n)
		bits++;
	m->mask = (1u << bits) - 1;
	m->shift = 32 - bits;
	m->slots = rte_zmalloc_socket("vpc_u32_map", (m->mask + 1) * sizeof(*m->slots), 0,
				      socket_id);
	return m->slots == NULL ? -ENOMEM : 0;
}

/* key -> val (keys unique: the image's checks say so). */
static void
u32_map_put(struct vpc_u32_map *m, uint32_t key, uint32_t val)
{
	uint32_t i = (key * 0x9e3779b1u) >> m->shift;

	while (m->slots[i].val1 != 0 && m->slots[i].key != key)
		i = (i + 1) & m->mask;
	m->slots[i] = (struct vpc_u32_slot){ key, val + 1 };
}

/*
 * The overlay's tables (a host's view with other hosts): a tunnel record
 * per remote host and the hash of their underlay addresses, the VNIs both
 * ways, and a port info for each interface on another host, as the
 * source of what its frames carry.
 */
static int
build_overlay(struct vpc_tables *t, const struct vpc_image *img, int socket_id, unsigned int seq,
	      char *err, size_t err_size)
{
	t->underlay_ip = img->host[0].underlay_ip;
	t->vni = rte_zmalloc_socket("vpc_vni", (img->n_vpcs + 1) * sizeof(*t->vni), 0, socket_id);
	t->router = rte_zmalloc_socket("vpc_router", (img->n_vpcs + 1) * sizeof(*t->router), 0,
				       socket_id);
	if (t->vni == NULL || t->router == NULL)
		goto nomem;
	for (uint32_t v = 0; v < img->n_vpcs; v++) {
		t->vni[v] = img->vpcs[v].vni;
		memcpy(&t->router[v], img->vpcs[v].router_mac, 6);
	}
	/* Always there (empty without other hosts): every Geneve frame to
	 * this host's underlay address is looked up in them. */
	if (u32_map_init(&t->underlay, img->n_rhosts, socket_id) < 0 ||
	    u32_map_init(&t->vnis, img->n_vpcs, socket_id) < 0)
		goto nomem;
	if (img->n_rhosts == 0)
		return 0;
	t->tunnels = rte_zmalloc_socket("vpc_tunnels", img->n_rhosts * sizeof(*t->tunnels),
					RTE_CACHE_LINE_SIZE, socket_id);
	t->rports = rte_zmalloc_socket("vpc_rports", img->n_ifaces * sizeof(*t->rports),
				       RTE_CACHE_LINE_SIZE, socket_id);
	t->appliances = hash_create("appl", img->n_ifaces, sizeof(struct vpc_eip_key), socket_id, seq);
	if (t->tunnels == NULL || t->rports == NULL)
		goto nomem;
	if (t->appliances == NULL) {
		snprintf(err, err_size, "rte_hash_create: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (uint32_t r = 0; r < img->n_rhosts; r++) {
		vpc_lower_tunnel(img, r, &t->tunnels[r]);
		u32_map_put(&t->underlay, t->tunnels[r].underlay_ip, r);
	}
	for (uint32_t v = 0; v < img->n_vpcs; v++) {
		u32_map_put(&t->vnis, img->vpcs[v].vni, v);
	}
	for (uint32_t i = 0; i < img->n_ifaces; i++) {
		struct vpc_port_rec r;
		if (!(img->ifaces[i].flags & VPC_IFACE_F_REMOTE))
			continue;
		vpc_lower_iface_port(img, i, &r);
		port_info(t, &t->rports[i], &r);
		if (!(img->ifaces[i].flags & VPC_IFACE_F_SRC_DST_CHECK)) {
			struct vpc_eip_key k = { .ip = img->ifaces[i].vpc, .pad = img->ifaces[i].rhost };
			if (rte_hash_add_key_data(t->appliances, &k, (void *)(uintptr_t)i) < 0 &&
			    rte_hash_lookup(t->appliances, &k) < 0)
				goto full;
		}
	}
	return 0;
nomem:
	snprintf(err, err_size, "out of memory (DPDK heap)");
	return -ENOMEM;
full:
	snprintf(err, err_size, "overlay tables: hash table full");
	return -ENOSPC;
}

/* The load balancers' records (common/vpc_lb.h) and their ARP hash. */
static int
build_lbs(struct vpc_tables *t, const struct vpc_image *img, int socket_id, unsigned int seq,
	  char *err, size_t err_size)
{
	t->n_lbs = img->n_lbs;
	t->n_tgroups = img->n_tgroups;
	t->n_targets = img->n_targets;
	t->lbs = rte_zmalloc_socket("vpc_lbs", (img->n_lbs + 1) * sizeof(*t->lbs), 0, socket_id);
	t->listeners = rte_zmalloc_socket("vpc_listeners",
					  (img->n_listeners + 1) * sizeof(*t->listeners), 0, socket_id);
	t->tgroups = rte_zmalloc_socket("vpc_tgroups", (img->n_tgroups + 1) * sizeof(*t->tgroups),
					RTE_CACHE_LINE_SIZE, socket_id);
	t->lb_healthy = rte_zmalloc_socket("vpc_lb_healthy",
					   (img->n_tgroups + 1) * sizeof(*t->lb_healthy),
					   RTE_CACHE_LINE_SIZE, socket_id);
	t->lb_hc = rte_zmalloc_socket("vpc_lb_hc", (img->n_targets + 1) * sizeof(*t->lb_hc), 0,
				      socket_id);
	t->lb_answers = rte_zmalloc_socket("vpc_lb_answers",
					   (img->n_targets + 1) * sizeof(*t->lb_answers),
					   RTE_CACHE_LINE_SIZE, socket_id);
	t->lb_ip = hash_create("lbip", img->n_lbs, sizeof(struct vpc_ip_key), socket_id, seq);
	if (t->lbs == NULL || t->listeners == NULL || t->tgroups == NULL || t->lb_healthy == NULL ||
	    t->lb_hc == NULL || t->lb_answers == NULL || t->lb_ip == NULL) {
		snprintf(err, err_size, "load balancers: out of memory (DPDK heap)");
		return -ENOMEM;
	}
	for (uint32_t b = 0; b < img->n_lbs; b++) {
		vpc_lower_lb(img, b, t->sg, &t->lbs[b]);
		if (img->lbs[b].flags & VPC_LB_F_INTERNET)
			continue;
		struct vpc_ip_key k = { .vpc = img->lbs[b].vpc, .ip = img->lbs[b].ip };
		if (rte_hash_add_key_data(t->lb_ip, &k, (void *)(uintptr_t)b) < 0) {
			snprintf(err, err_size, "load balancer '%s': hash table full", img->lbs[b].name);
			return -ENOSPC;
		}
	}
	for (uint32_t l = 0; l < img->n_listeners; l++)
		vpc_lower_listener(img, l, &t->listeners[l]);
	for (uint32_t g = 0; g < img->n_tgroups; g++)
		vpc_lower_tgroup(img, g, &t->tgroups[g]);
	for (uint32_t k = 0; k < img->n_targets; k++)
		vpc_lower_lb_hc(img, k, &t->lb_hc[k]);
	return 0;
}

struct vpc_tables *
vpc_tables_create(const struct vpc_image *img, int socket_id, char *err,
		  size_t err_size)
{
	unsigned int seq = atomic_fetch_add(&table_seq, 1);
	struct vpc_tables *t;
	int ret = -ENOMEM;

	if (img->n_ports > UINT16_MAX) {
		snprintf(err, err_size, "%u ports; this engine handles %u",
			 img->n_ports, UINT16_MAX);
		errno = E2BIG;
		return NULL;
	}
	t = rte_zmalloc_socket("vpc_tables", sizeof(*t), RTE_CACHE_LINE_SIZE,
			       socket_id);
	if (t == NULL)
		goto nomem;
	t->img = img;
	t->generation = 1;
	t->n_ports = img->n_ports;
	t->uplink_port = img->host[0].uplink_port;
	memcpy(&t->uplink_mac, img->host[0].uplink_mac, 6);
	memcpy(&t->gateway_mac, img->host[0].gateway_mac, 6);
	t->ports = rte_zmalloc_socket("vpc_ports", (img->n_ports + 1) * sizeof(*t->ports),
				      RTE_CACHE_LINE_SIZE, socket_id);
	t->ifaces = rte_zmalloc_socket("vpc_ifaces", (img->n_ifaces + 1) * sizeof(*t->ifaces),
				       RTE_CACHE_LINE_SIZE, socket_id);
	t->rtables = rte_zmalloc_socket("vpc_rtables", (img->n_rtables + 1) * sizeof(*t->rtables),
					RTE_CACHE_LINE_SIZE, socket_id);
	if (t->ports == NULL || t->ifaces == NULL || t->rtables == NULL)
		goto nomem;
	t->n_rtables = img->n_rtables;

	t->sg = vpc_sg_build(img);
	if (t->sg == NULL && errno == E2BIG) {
		snprintf(err, err_size, "security groups: more than %u ICMP type/code rules "
			 "for one peer prefix (the limit)", VPC_SG_MAX_ICMPS);
		ret = -E2BIG;
		goto fail;
	}
	t->timeouts_ns = rte_malloc_socket("vpc_timeouts",
		((size_t)img->n_vpcs * VPC_TO_COUNT + 1) * sizeof(uint64_t), 0, socket_id);
	if (t->sg == NULL || t->timeouts_ns == NULL)
		goto nomem;
	for (uint32_t v = 0; v < img->n_vpcs; v++)
		for (int k = 0; k < VPC_TO_COUNT; k++)
			t->timeouts_ns[v * VPC_TO_COUNT + k] =
				(uint64_t)img->vpcs[v].timeouts[k] * 1000000000ull;

	t->dhcp = rte_malloc_socket("vpc_dhcp", (img->n_subnets + 1) * sizeof(*t->dhcp),
				    RTE_CACHE_LINE_SIZE, socket_id);
	if (t->dhcp == NULL)
		goto nomem;
	for (uint32_t s = 0; s < img->n_subnets; s++)
		vpc_lower_dhcp(img, s, &t->dhcp[s]);

	t->nacls = rte_malloc_socket("vpc_nacls", ((size_t)img->n_nacls * 2 + 1) * sizeof(*t->nacls),
				     RTE_CACHE_LINE_SIZE, socket_id);
	if (t->nacls == NULL)
		goto nomem;
	for (uint32_t l = 0; l < img->n_nacls * 2; l++)
		vpc_lower_nacl_list(img, l, &t->nacls[l]);

	for (uint32_t i = 0; i < img->n_rtables; i++) {
		ret = build_rtable(t, i, socket_id, seq, err, err_size);
		if (ret < 0)
			goto fail;
	}

	t->l2 = hash_create("l2", img->n_ifaces, sizeof(struct vpc_l2_key), socket_id, seq);
	t->ip = hash_create("ip", img->n_ifaces, sizeof(struct vpc_ip_key), socket_id, seq);
	t->eip = hash_create("eip", img->n_eips, sizeof(struct vpc_eip_key), socket_id, seq);
	if (t->l2 == NULL || t->ip == NULL || t->eip == NULL) {
		snprintf(err, err_size, "rte_hash_create: %s", rte_strerror(rte_errno));
		goto fail;
	}

	for (uint32_t i = 0; i < img->n_ifaces; i++) {
		const struct vpc_image_iface *f = &img->ifaces[i];
		/* One on another host is reached through the uplink. */
		vpc_lower_iface(img, i, (uint16_t)(f->flags & VPC_IFACE_F_REMOTE ? t->uplink_port : f->port),
				t->sg, &t->ifaces[i]);

		struct vpc_l2_key lk = { .vpc = f->vpc };
		memcpy(&lk.mac, f->mac, 6);
		struct vpc_ip_key ik = { .vpc = f->vpc, .ip = f->ip };
		if (rte_hash_add_key_data(t->l2, &lk, (void *)(uintptr_t)i) < 0 ||
		    rte_hash_add_key_data(t->ip, &ik, (void *)(uintptr_t)i) < 0) {
			snprintf(err, err_size, "interface '%s': hash table full", f->name);
			goto fail;
		}
	}
	for (uint32_t i = 0; i < img->n_eips; i++) {
		struct vpc_eip_key ek = { .ip = img->eips[i].elastic_ip };
		if (rte_hash_add_key_data(t->eip, &ek,
					  (void *)(uintptr_t)img->eips[i].iface) < 0) {
			snprintf(err, err_size, "elastic IP table full");
			goto fail;
		}
	}

	t->natgws = rte_zmalloc_socket("vpc_natgws", (img->n_natgws + 1) * sizeof(*t->natgws), 0,
				       socket_id);
	if (t->natgws == NULL)
		goto nomem;
	for (uint32_t g = 0; g < img->n_natgws; g++) {
		vpc_lower_natgw(img, g, &t->natgws[g]);
		t->natgw_nacl |= t->natgws[g].nacl != VPC_NACL_DEFAULT;
	}

	if ((ret = build_lbs(t, img, socket_id, seq, err, err_size)) < 0)
		goto fail;

	for (uint32_t p = 0; p < img->n_ports; p++) {
		struct vpc_port_rec r;
		struct vpc_port_info *pi = &t->ports[p];
		vpc_lower_port(img, p, &r);
		port_info(t, pi, &r);
	}
	if ((ret = build_overlay(t, img, socket_id, seq, err, err_size)) < 0)
		goto fail;
	return t;

nomem:
	snprintf(err, err_size, "out of memory (DPDK heap)");
fail:
	vpc_tables_free(t);
	errno = ret < 0 ? -ret : ENOMEM;
	return NULL;
}

void
vpc_tables_free(struct vpc_tables *t)
{
	if (t == NULL)
		return;
	if (t->rtables != NULL)
		for (uint32_t i = 0; i < t->n_rtables; i++) {
			rte_fib_free(t->rtables[i].fib);
			rte_free(t->rtables[i].nexthops);
		}
	vpc_sg_free(t->sg);
	rte_free(t->timeouts_ns);
	rte_free(t->dhcp);
	rte_free(t->nacls);
	rte_free(t->natgws);
	rte_free(t->lbs);
	rte_free(t->listeners);
	rte_free(t->tgroups);
	rte_free(t->lb_healthy);
	rte_free(t->lb_hc);
	rte_free(t->lb_answers);
	rte_hash_free(t->lb_ip);
	rte_hash_free(t->l2);
	rte_hash_free(t->ip);
	rte_hash_free(t->eip);
	rte_free(t->underlay.slots);
	rte_free(t->vnis.slots);
	rte_hash_free(t->appliances);
	rte_free(t->router);
	rte_free(t->tunnels);
	rte_free(t->rports);
	rte_free(t->vni);
	rte_free(t->rtables);
	rte_free(t->ifaces);
	rte_free(t->ports);
	rte_free(t);
}
