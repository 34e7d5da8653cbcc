/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline.c -- the DPDK engine's burst driver.  The stages are headers,
 * one per stage, inlined here:
 *
 *   stage_parse.h   a frame into struct meta
 *   stage_source.h  what a port may send; ARP answered
 *   stage_decide.h  L2 switch, route, elastic IP: where it goes
 *   stage_nacl.h    the network ACLs of the subnets a packet leaves and
 *                   enters: every packet, established ones too
 *   stage_sg.h      the security groups of a new connection
 *   stage_open.h    connection tracking: a new entry, TCP state
 *   stage_apply.h   the cached action rewritten into the frame
 *
 * The loop: parse and check the whole burst, one bulk lookup in the
 * connection table, then per packet the fast path (a current cached
 * action) or the slow path (decide, groups, open), then the counters.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "pipeline_priv.h"
#include "stage_parse.h"
#include "stage_source.h"
#include "stage_decide.h"
#include "stage_nacl.h"
#include "stage_sg.h"
#include "stage_apply.h"
#include "stage_open.h"
#include "stage_flowlog.h"

#ifndef VPC_TRACING	/* pipeline_trace.c: the same stages, traced */
struct vpc_pipeline *
vpc_pipeline_create(const struct vpc_tables *tables, struct vpc_ct *ct)
{
	struct vpc_pipeline *p = rte_zmalloc("vpc_pipeline", sizeof(*p),
					     RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p->ct = ct;
	if (vpc_pipeline_set_tables(p, tables) < 0) {
		rte_free(p->stats.ports);
		rte_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void
vpc_pipeline_free(struct vpc_pipeline *p)
{
	if (p == NULL)
		return;
	rte_free(p->stats.ports);
	rte_free(p->lb_turn);
	rte_free(p);
}

int
vpc_pipeline_set_tables(struct vpc_pipeline *p, const struct vpc_tables *t)
{
	if (t->n_ports > p->stats.n_ports) {
		struct vpc_port_stats *ps = rte_zmalloc("vpc_port_stats",
			t->n_ports * sizeof(*ps), RTE_CACHE_LINE_SIZE);
		if (ps == NULL)
			return -ENOMEM;
		if (p->stats.ports != NULL)
			memcpy(ps, p->stats.ports, p->stats.n_ports * sizeof(*ps));
		rte_free(p->stats.ports);
		p->stats.ports = ps;
		p->stats.n_ports = t->n_ports;
	}
	if (t->n_tgroups > p->n_lb_turn) {
		uint32_t *turn = rte_zmalloc("vpc_lb_turn", t->n_tgroups * sizeof(*turn),
					     RTE_CACHE_LINE_SIZE);
		if (turn == NULL)
			return -ENOMEM;
		rte_free(p->lb_turn);
		p->lb_turn = turn;
		p->n_lb_turn = t->n_tgroups;
	}
	p->t = t;
	return 0;
}

void
vpc_pipeline_set_flowlog(struct vpc_pipeline *p, struct vpc_flowlog *fl)
{
	p->fl = fl;
	p->fl_interval = fl != NULL ? vpc_flowlog_interval(fl) : 0;
	p->fl_receiver = VPC_INDEX_NONE;
}

const struct vpc_stats *
vpc_pipeline_stats(const struct vpc_pipeline *p)
{
	return &p->stats;
}

void
vpc_pipeline_stats_reset(struct vpc_pipeline *p)
{
	struct vpc_port_stats *ports = p->stats.ports;
	uint32_t n = p->stats.n_ports;

	memset(ports, 0, n * sizeof(*ports));
	memset(&p->stats, 0, sizeof(p->stats));
	p->stats.ports = ports;
	p->stats.n_ports = n;
}

#endif /* VPC_TRACING */

/* ---- the slow path: a packet with no current cached action ---- */

/*
 * e/dir: the connection it belongs to (e NULL: none).  Decides, checks the
 * security groups when the packet opens a connection (or the apply asked
 * for revalidation), creates the entry, caches the action, applies it.
 */

static unsigned int
slow_path(struct vpc_pipeline *p, const struct vpc_port_info *pi, struct meta *m,
	  struct vpc_ct_entry *e, unsigned int dir, const struct vpc_ct_key *key,
	  uint64_t now, struct vpc_verdict *v, uint32_t *tracked)
{
	const struct vpc_tables *t = p->t;
	struct decision d;
	uint8_t r;

	if (e == NULL) {
		/* An earlier packet of the same burst may have opened it: the
		 * bulk lookup ran before.  (One lookup more, on new
		 * connections only.) */
		uint64_t hit;
		vpc_ct_lookup_bulk(p->ct, key, 1, &hit, tracked);
		if (hit & 1)
			return VPC_SLOW_NOW_TRACKED;
	}
	/* An ICMP error opens nothing: it is about a connection (whose
	 * translation it follows), or allowed by the rules as they stand. */
	const struct vpc_ct_entry *rel = NULL;
	unsigned int rel_dir = 0;
	bool icmp_error = e == NULL && m->pkt.proto == IPPROTO_ICMP && m->pkt.icmp_error;
	if (icmp_error)
		rel = icmp_error_related(p, m, pi->ctx, &rel_dir);
	/* Every decide sets it before it returns VPC_DROP_NONE; gcc 12 cannot
	 * tell through the route switch (-Wmaybe-uninitialized). */
	d.receiver = VPC_INDEX_NONE;
	d.lb = VPC_INDEX_NONE;
	if (unlikely(e != NULL && e->act[0].path == VPC_PATH_LB)) {
		/* Through a load balancer: to its target, or back from it. */
		r = lb_known(t, pi, m, e, dir, &d);
	} else if (unlikely(rel != NULL && rel->act[0].path == VPC_PATH_LB)) {
		/* An error about one: the way its packets go, translated
		 * (the quote too, below). */
		r = lb_known(t, pi, m, rel, rel_dir, &d);
	} else {
		r = pi->is_uplink ? decide_uplink(t, m, e != NULL ? e : rel,
						  e != NULL ? dir : rel_dir, &d) :
		    unlikely(pi->fi->tunnel) ? decide_overlay(t, pi, m, &d) :
					       decide_iface(t, pi, m, &d);
		if (r == VPC_DROP_NONE && unlikely(d.lb != VPC_INDEX_NONE))
			r = e != NULL || icmp_error ? VPC_DROP_LB_NO_LISTENER : lb_open(p, m, key, &d);
	}
	if (r != VPC_DROP_NONE)
		return r;
	p->fl_receiver = d.receiver;
	d.act.gen = t->generation;

	if (e != NULL) {
		/* Known connection: its action is stale (new tables), or this
		 * frame is addressed differently.  The groups are checked again
		 * when the apply asked for it, or when the frame now reaches
		 * someone else than the cached action did. */
		const struct vpc_ct_action *old = &e->act[dir];
		bool other = old->gen != 0 && (old->out_port != d.act.out_port ||
					       old->path != d.act.path);
		/* A balancer's reply is the client's connection: its groups
		 * were checked in direction 0. */
		if ((t->revalidate || other) && d.act.path != VPC_PATH_LB_REPLY &&
		    !sg_allows_packet(t, pi, m, &d, dir)) {
			/* Only a revalidating apply cuts the connection; an
			 * oddly addressed frame is just not forwarded. */
			if (t->revalidate && !other)
				vpc_ct_delete(p->ct, (uint32_t)(e - vpc_ct_entry(p->ct, 0)));
			return VPC_DROP_SG_DENIED;
		}
		e->act[dir] = d.act;
		e->expires = now + entry_timeout(t, e, d.act.vpc);
		/* A translation through a NAT gateway stays the connection's
		 * (its replies come to that address and port): a route that
		 * now sends it another way, or one that now sends a connection
		 * opened otherwise to a gateway, cannot carry it. */
		if (old->gen != 0 && dir == 0 &&
		    (old->path == VPC_PATH_NATGW_EGRESS) != (d.act.path == VPC_PATH_NATGW_EGRESS))
			return VPC_DROP_NATGW_REROUTED;
		if (d.act.path == VPC_PATH_NATGW_EGRESS) {
			d.act.nat_addr = e->act[0].nat_addr;
			d.act.nat_port = e->act[0].nat_port;
		}
		e->act[dir] = d.act;
		e->expires = now + entry_timeout(t, e, d.act.vpc);
		/* The ACLs after the action is cached: the next packets meet
		 * them on the fast path, before TCP tracking. */
		if (nacl_any_act(t, pi, &d.act) && (r = nacl_check_act(t, pi, &d.act, m)) != VPC_DROP_NONE)
			return r;
		uint32_t len = rte_be_to_cpu_16(m->ip->total_length);
		r = apply(t, m, &e->act[dir], v);
		if (r == VPC_DROP_NONE && p->fl != NULL)
			flow_count(p, pi, e, dir, len);
		return r;
	}
	/* An error about a connection through a NAT gateway leaves with its
	 * translation; one about none cannot. */
	if (icmp_error && d.act.path == VPC_PATH_NATGW_EGRESS) {
		if (rel == NULL || rel_dir != 0 || rel->act[0].path != VPC_PATH_NATGW_EGRESS)
			return VPC_DROP_ICMP_UNRELATED;
		d.act.nat_addr = rel->act[0].nat_addr;
		d.act.nat_port = rel->act[0].nat_port;
	}
	/* Stateless: a packet the ACLs deny opens nothing. */
	if (nacl_any_act(t, pi, &d.act) && (r = nacl_check_act(t, pi, &d.act, m)) != VPC_DROP_NONE)
		return r;

	if (icmp_error) {
		if (rel == NULL && !sg_allows_packet(t, pi, m, &d, 0))
			return VPC_DROP_ICMP_UNRELATED;
		icmp_error_translate(m, &d.act);
		return apply(t, m, &d.act, v);
	}
	if (m->pkt.proto == IPPROTO_TCP &&
	    (m->pkt.tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
		    RTE_TCP_SYN_FLAG)
		return VPC_DROP_TCP_NOT_SYN;
	if (!sg_allows_packet(t, pi, m, &d, 0))
		return VPC_DROP_SG_DENIED;
	/* A packet that cannot be forwarded opens nothing. */
	if (d.act.rewrite_macs && m->ip->time_to_live <= 1)
		return VPC_DROP_TTL_EXPIRED;

	return open_conn(p, pi, m, &d, key, now, v);
}

/* ---- the burst ---- */

/*
 * One packet after the bulk lookup: the fast path when its connection is
 * tracked and the cached action current, else the slow path.  The slow
 * path may find that an earlier packet of the burst opened the connection
 * since the lookup: then once more as a tracked packet (a second slow
 * path cannot say so again: it has the entry).
 */
static inline __attribute__((always_inline)) uint8_t
one_packet(struct vpc_pipeline *p, const struct vpc_port_info *pi, struct meta *m,
	   const struct vpc_ct_key *key, bool hit, uint32_t *data, uint64_t now,
	   struct vpc_verdict *v)
{
	const struct vpc_tables *t = p->t;

	for (int pass = 0; pass < 2; pass++) {
		struct vpc_ct_entry *e = NULL;
		unsigned int dir = 0;

		if (hit) {
			e = vpc_ct_entry(p->ct, *data >> 1);
			dir = *data & 1;
			if (unlikely(e->expires <= now)) {
				vpc_ct_delete(p->ct, *data >> 1);
				vpc_ct_stats(p->ct)->expired++;
				e = NULL;
				dir = 0;
			}
		}
		/* A current action names the egress port: the ACLs decide
		 * before the packet moves the connection's TCP state. */
		bool current = false;
		if (e != NULL) {
			const struct vpc_ct_action *a = &e->act[dir];
			current = a->gen == t->generation && fast_path_ok(pi, m, a);
			VPC_TRACE(VPC_TR_CONN, 1, dir, current, e->trk.state);
			if (current && unlikely(nacl_any_act(t, pi, a))) {
				uint8_t r = nacl_check_act(t, pi, a, m);
				if (r != VPC_DROP_NONE)
					return r;
			}
		}
		else
			VPC_TRACE(VPC_TR_CONN, hit ? 2 : 0, 0, 0, 0);
		if (e != NULL && m->pkt.proto == IPPROTO_TCP) {
			unsigned int u = tcp_update(e, dir, m);
			if (u == VPC_TCP_REOPEN) {	/* a new connection over it */
				vpc_ct_delete(p->ct, *data >> 1);
				e = NULL;
				dir = 0;
			} else if (u != VPC_DROP_NONE) {
				return (uint8_t)u;
			}
		} else if (e != NULL && dir == 1 && e->trk.replies < UINT16_MAX) {
			e->trk.replies++;
		}
		if (e != NULL) {
			const struct vpc_ct_action *a = &e->act[dir];
			if (likely(current)) {
				/* The fast path: one lookup, then the rewrite. */
				e->expires = now + entry_timeout(t, e, a->vpc);
				/* (one apply, inlined once) */
				uint32_t len = rte_be_to_cpu_16(m->ip->total_length);
				uint8_t r = apply(t, m, a, v);
				if (unlikely(p->fl != NULL) && r == VPC_DROP_NONE)
					flow_count(p, pi, e, dir, len);
				return r;
			}
		}
		unsigned int r = slow_path(p, pi, m, e, dir, key, now, v, data);
		if (r != VPC_SLOW_NOW_TRACKED)
			return (uint8_t)r;
		hit = true;
	}
	return VPC_DROP_CT_CONFLICT;	/* not reached */
}

/* A forwarded first fragment: its datagram's record (vpc_frag.h). */
static void
frag_first(struct vpc_pipeline *p, const struct meta *m, const struct vpc_ct_key *conn,
	   uint64_t now, const struct vpc_verdict *v)
{
	struct vpc_ct_key k;

	vpc_frag_key_of(&k, conn, m->ip->packet_id);
	vpc_frag_note(&p->frags[vpc_frag_slot(&k)], &k, (const uint8_t *)m->eth, v->out_port, v->path,
		      p->t->generation, now);
}

/* A later fragment: as its datagram's first fragment went, or dropped. */
static uint8_t
frag_later(struct vpc_pipeline *p, const struct vpc_port_info *pi, struct rte_mbuf *mb,
	   struct meta *m, uint64_t now, struct vpc_verdict *v)
{
	struct vpc_ct_key k;
	uint32_t out;
	uint8_t path;

	vpc_frag_key(&k, pi->ctx, (const uint8_t *)m->ip);
	uint8_t r = vpc_frag_follow(&p->frags[vpc_frag_slot(&k)], &k, (uint8_t *)m->eth,
				    rte_pktmbuf_mtod(mb, uint8_t *) + rte_pktmbuf_data_len(mb),
				    p->t->generation, now, &out, &path);
	if (r != VPC_DROP_NONE)
		return r;
	if (unlikely(path == VPC_PATH_OVERLAY_SWITCH || path == VPC_PATH_OVERLAY_ROUTED)) {
		/* To another host, as its first fragment: the tunnel of the
		 * interface the frame is now addressed to. */
		uint32_t xi = l2_iface(p->t, pi->fi->vpc, &m->eth->dst_addr);
		if (xi == VPC_INDEX_NONE)
			return VPC_DROP_ENGINE;
		const struct vpc_iface_rec *x = &p->t->ifaces[xi];
		struct vpc_ct_action a = { .tunnel = x->tunnel, .vpc = (uint16_t)x->vpc };
		if (x->tunnel == 0 || (r = encap(p->t, m, &a)) != VPC_DROP_NONE)
			return r != VPC_DROP_NONE ? r : VPC_DROP_ENGINE;
	}
	set_forward(v, (uint16_t)out, path);
	return VPC_DROP_NONE;
}

uint16_t
vpc_pipeline_process(struct vpc_pipeline *p, uint16_t in_port,
		     struct rte_mbuf **pkts, uint16_t n, uint64_t now,
		     struct vpc_verdict *v)
{
	const struct vpc_tables *t = p->t;
	struct meta x[VPC_BURST_MAX];
	struct vpc_ct_key keys[VPC_BURST_MAX];
	uint32_t data[VPC_BURST_MAX];
	uint16_t idx[VPC_BURST_MAX];
	uint16_t later[VPC_BURST_MAX];	/* later fragments (vpc_frag.h) */
	uint16_t n_ct = 0, n_later = 0;
	uint64_t hits;

	RTE_ASSERT(n <= VPC_BURST_MAX);
	p->now = now;
	p->now_s = (uint32_t)(now / 1000000000ull);
	if (unlikely(in_port >= t->n_ports)) {
		for (uint16_t i = 0; i < n; i++)
			set_drop(&v[i], VPC_DROP_UNKNOWN_PORT);
		p->stats.drops[VPC_DROP_UNKNOWN_PORT] += n;
		p->stats.packets += n;
		return n;
	}
	const struct vpc_port_info *pi = &t->ports[in_port];
	/* Each packet's source: the port's, or for a frame from the overlay
	 * the port info of the interface on another host it comes from. */
	const struct vpc_port_info *pis[VPC_BURST_MAX];

	/* Received bytes are counted from the lengths the frames leave with;
	 * an answer longer than its request (DHCP) says by how much. */
	int64_t rx_adjust = 0;

	/* Parse and check the source of the whole burst. */
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		struct meta *m = &x[i];
		parse_one(pkts[i], m);
		pis[i] = pi;
		if (m->pkt.kind == VPC_PKT_DROP) {
			set_drop(&v[i], m->pkt.reason);
			continue;
		}
		bool done;
		uint8_t r = pi->is_uplink ? uplink_checks(t, p->senders, m, &v[i], &done, &pis[i],
							  &rx_adjust) :
					    iface_checks(t, pi, pkts[i], m, &v[i], &done, &rx_adjust);
		if (done)
			continue;
		if (r != VPC_DROP_NONE) {
			set_drop(&v[i], r);
			continue;
		}
		VPC_TRACE(VPC_TR_SOURCE, 0, pis[i]->iface, 0, 0);
		if (unlikely(m->pkt.frag == VPC_FRAG_LATER)) {
			later[n_later++] = i;	/* after the first fragments below */
			continue;
		}
		vpc_ct_key_fwd(&keys[n_ct], pis[i]->ctx, &m->pkt, m->ip->src_addr, m->ip->dst_addr);
		idx[n_ct++] = i;
	}

	/* One bulk lookup in the connection table. */
	hits = 0;
	if (n_ct > 0)
		vpc_ct_lookup_bulk(p->ct, keys, n_ct, &hits, data);
	/* Bring the entries in while the first ones are processed: the
	 * actions' line and the state's (and the flow counters'). */
	for (uint16_t k = 0; k < n_ct; k++)
		if (hits & (1ull << k)) {
			const struct vpc_ct_entry *pe = vpc_ct_entry(p->ct, data[k] >> 1);
			rte_prefetch0(pe);
			rte_prefetch0((const uint8_t *)pe + RTE_CACHE_LINE_SIZE);
			if (p->fl != NULL)	/* the flow-log counters' line */
				rte_prefetch0((const uint8_t *)pe + 2 * RTE_CACHE_LINE_SIZE);
		}
	for (uint16_t k = 0; k < n_ct; k++) {
		uint16_t i = idx[k];
		if (unlikely(p->fl != NULL))
			p->fl_receiver = VPC_INDEX_NONE;
		uint8_t r = one_packet(p, pis[i], &x[i], &keys[k], hits & (1ull << k), &data[k], now,
				       &v[i]);
		if (r != VPC_DROP_NONE) {
			set_drop(&v[i], r);
			if (unlikely(p->fl != NULL))
				flow_reject(p, pis[i], &x[i], r);
		} else if (unlikely(x[i].pkt.frag == VPC_FRAG_FIRST) && v[i].action == VPC_ACT_FORWARD)
			frag_first(p, &x[i], &keys[k], now, &v[i]);
	}
	/* Later fragments, once the burst's first fragments are recorded (a
	 * datagram's fragments often come in one burst). */
	for (uint16_t k = 0; k < n_later; k++) {
		uint16_t i = later[k];
		uint8_t r = frag_later(p, pis[i], pkts[i], &x[i], now, &v[i]);
		if (r != VPC_DROP_NONE)
			set_drop(&v[i], r);
	}

	/* Counters: per lcore, so plain increments; the ingress port's are
	 * summed over the burst. */
	struct vpc_port_stats *ps = p->stats.ports;
	uint64_t rx_bytes = 0, drops = 0;
	p->stats.packets += n;
	/* Egress counters by runs of one port (bursts mostly are). */
	uint16_t run_port = UINT16_MAX;
	uint64_t run_pkts = 0, run_bytes = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
		rx_bytes += len;
		if (v[i].action == VPC_ACT_DROP) {
			p->stats.drops[v[i].reason]++;
			drops++;
			continue;
		}
		if (v[i].action == VPC_ACT_REPLY)
			v[i].out_port = in_port;
		if (unlikely(v[i].path == VPC_PATH_OVERLAY_SWITCH || v[i].path == VPC_PATH_OVERLAY_ROUTED))
			rx_bytes -= VPC_GENEVE_HLEN;	/* received without it */
		p->stats.paths[v[i].path]++;
		if (v[i].out_port != run_port) {
			if (run_pkts) {
				ps[run_port].tx_packets += run_pkts;
				ps[run_port].tx_bytes += run_bytes;
			}
			run_port = v[i].out_port;
			run_pkts = run_bytes = 0;
		}
		run_pkts++;
		run_bytes += len;
	}
	if (run_pkts) {
		ps[run_port].tx_packets += run_pkts;
		ps[run_port].tx_bytes += run_bytes;
	}
	ps[in_port].rx_packets += n;
	ps[in_port].rx_bytes += rx_bytes + (uint64_t)rx_adjust;
	ps[in_port].drops += drops;
	return n;
}
