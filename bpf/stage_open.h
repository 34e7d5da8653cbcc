/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_open.h -- open: connection tracking -- a new connection's two keys, and what
 * an established one's packets change.
 *
 * Reads: meta (the TCP header through the shared tracker common/vpc_tcp.h),
 *        the decision, the connection map.
 * Sets:  both keys' values (the connection in direction 0's), the tracking
 *        record, the expiry, direction 0's action; room in a full table.
 * Next:  apply (stage_apply.h); a full table or a conflicting key drops.
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_open.h.
 */
#ifndef VPC_XDP_STAGE_OPEN_H
#define VPC_XDP_STAGE_OPEN_H

/* The XDP engine's option walker (below), for the shared tracker. */
struct xdp_md;
int xdp_tcp_wscale(struct xdp_md *ctx);
#define VPC_TCP_WSCALE(ctx) xdp_tcp_wscale((struct xdp_md *)(ctx))
#include "vpc_tcp.h"

static __always_inline __u64
timeout_ns(struct tables *t, __u16 vpc, int id)
{
	void *vpcs = inner(&set_vpcs, t->set);
	__u32 k = vpc;
	if (vpcs == NULL)
		return 0;
	struct vpc_xdp_vpc *v = bpf_map_lookup_elem(vpcs, &k);
	if (v == NULL)
		return 0;
	if (id < 0 || id >= VPC_TO_COUNT)
		return 0;
	return v->timeouts_ns[id];
}

static __always_inline __u64
entry_timeout(struct tables *t, const struct vpc_xdp_ct *e, __u16 vpc)
{
	return vpc_ct_timeout(&e->trk, timeout_ns(t, vpc, vpc_ct_timeout_class(&e->trk)));
}

/* Window scale option of a SYN, or 0xff when absent: the options are
 * copied to the stack and walked by bpf_loop, whose step is verified once
 * (a plain loop's variable stride makes the verifier walk every path). */
struct wscale_walk {
	__u8 opt[40];
	__u32 len;
	__u32 i;
	__u32 result;
};

static long
wscale_step(__u32 n, void *arg)
{
	struct wscale_walk *w = arg;
	__u32 i = w->i;

	if (i >= w->len || i >= 40)
		return 1;
	__u8 kind = w->opt[i];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= w->len || i + 1 >= 40)
		return 1;
	__u8 l = w->opt[i + 1];
	if (l < 2)
		return 1;
	if (kind == 3 && l == 3 && i + 2 < w->len && i + 2 < 40) {
		__u8 s = w->opt[i + 2];
		w->result = s > 14 ? 14 : s;
		return 1;
	}
	w->i = i + l;
	return 0;
}

__attribute__((noinline)) int
xdp_tcp_wscale(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *tcp = data + VPC_OFF_L4;
	struct wscale_walk w = { .result = 0xff };

	if ((void *)(tcp + 20) > end)
		return 0xff;
	__u32 len = (__u32)(tcp[12] >> 4) * 4;
	if (len <= 20)
		return 0xff;
	len -= 20;
	if (len > 40)
		return 0xff;
	if (bpf_xdp_load_bytes(ctx, VPC_OFF_L4 + 20, w.opt, len) < 0)
		return 0xff;
	w.len = len;
	bpf_loop(40, wscale_step, &w, 0);
	return w.result;
}

/* VPC_DROP_NONE: forward; a drop reason; or VPC_TCP_REOPEN: a new
 * connection over this one (a SYN after a reset or close). */
static __always_inline unsigned int
tcp_update(struct xdp_md *ctx, struct vpc_xdp_ct *e, int dir, void *data, void *end,
	   const struct vpc_pkt *m)
{
	struct vpc_tcp_seg s;

	if (vpc_tcp_seg_read((const __u8 *)data + VPC_OFF_L4, end, m, &s) < 0)
		return VPC_DROP_L4_TRUNCATED;
	return vpc_tcp_update(&e->trk, (unsigned int)dir, &s, ctx);
}


/* Remove connection e (its direction-0 value, under fwd).  The CPU whose
 * delete of fwd succeeds removes the reply key too; one that finds fwd
 * gone already (another CPU removing the same connection) stops there.
 * What a race of deleters can still leave -- a reply key without its
 * connection -- is an orphan that ct_resolve removes when it meets it. */
static __always_inline void
ct_delete(struct vpc_xdp_ct *e, const struct vpc_ct_key *fwd)
{
	struct vpc_ct_key rev = e->other;

	if (ct_del(fwd) != 0)
		return;
	if (flow_interval != 0)
		vpc_flow_gone(e);	/* its last counters (flow logs) */
	if (!vpc_ct_key_eq(fwd, &rev))
		ct_del(&rev);
}

/*
 * The connection of the value v found under key k: v itself (direction 0),
 * or the direction-0 value v names (direction 1) -- provided it still
 * names k back.  A direction-1 key whose connection is gone, or belongs to
 * another connection now, is an orphan (a race of two deleters, or an
 * element reused): it is removed and the packet is of no connection.
 */
static __always_inline struct vpc_xdp_ct *
ct_resolve(const struct vpc_ct_key *k, struct vpc_xdp_ct *v, struct vpc_ct_key *fwd,
	   int *dir)
{
	*dir = 0;
	*fwd = *k;
	if (v == NULL || !vpc_ct_key_eq(&v->self, k))
		return NULL;
	if (v->dir == 0)
		return v;
	*fwd = v->other;
	*dir = 1;
	struct vpc_xdp_ct *e = ct_get(fwd);
	if (e != NULL && e->dir == 0 && vpc_ct_key_eq(&e->self, fwd) && vpc_ct_key_eq(&e->other, k))
		return e;
	if (e == NULL || !vpc_ct_key_eq(&e->other, k))
		ct_del(k);
	return NULL;
}

/* One walk for room: every expired connection is removed (when due), and
 * the first one never answered (when due; the walk stops there if it is
 * not reclaiming). */
struct room_ctx {
	__u64 now;
	__u64 expired;
	__u32 reclaim, early;	/* what this walk does */
	__u32 dropped;		/* connections never answered, removed */
};

/*
 * One element of the walk.  A global function: the verifier checks it once,
 * on its own, instead of along every path of the slow program that reaches
 * the walk (which that program's length cannot afford).
 */
__attribute__((noinline)) int
vpc_room_visit(struct vpc_ct_key *key, struct vpc_xdp_ct *val, struct room_ctx *c)
{
	if (key == NULL || val == NULL || c == NULL)
		return 1;
	/* Helpers take keys on the stack only (6.1: not a function's
	 * memory argument). */
	struct vpc_ct_key k = *key;
	if (val->dir != 0) {
		/* an orphaned reply key (see ct_resolve) */
		if (c->reclaim) {
			struct vpc_ct_key other = val->other;
			struct vpc_xdp_ct *e = bpf_map_lookup_elem(&ct, &other);
			if (e == NULL || !vpc_ct_key_eq(&e->other, &k))
				bpf_map_delete_elem(&ct, &k);
		}
		return 0;
	}
	int expired = c->reclaim && val->expires <= c->now;
	int drop = !expired && c->early && !c->dropped && vpc_ct_unreplied(&val->trk);
	if (!expired && !drop)
		return 0;
	struct vpc_ct_key other = val->other;
	if (bpf_map_delete_elem(&ct, &k) != 0)
		return 0;
	if (flow_interval != 0)
		vpc_flow_gone(val);	/* its last counters (flow logs) */
	bpf_map_delete_elem(&ct, &other);
	if (expired) {
		c->expired++;
		return 0;
	}
	c->dropped++;
	return c->reclaim ? 0 : 1;
}

static long
room_one(void *map, struct vpc_ct_key *key, struct vpc_xdp_ct *val, void *arg)
{
	struct vpc_ct_key k = *key;	/* a map key is read-only to a global function */

	(void)map;
	return vpc_room_visit(&k, val, arg) ? 1 : 0;	/* 1: stop */
}

/*
 * The table is full: reclaim what has expired (a walk of the whole table,
 * so at most once an interval) and drop one connection never answered
 * (Linux's early drop; after a walk that found none, not again for an
 * interval), never one whose other side answered.  1 when room was made.
 * (Two CPUs may both walk in the same instant: harmless.)
 */
static __always_inline int
ct_make_room(__u64 now, struct vpc_xdp_stats *st)
{
	struct room_ctx rc = { .now = now };

	rc.reclaim = now >= reclaim_due;
	rc.early = now >= early_drop_due;
	if (!rc.reclaim && !rc.early)
		return 0;
	if (rc.reclaim)
		reclaim_due = now + RECLAIM_INTERVAL_NS;
	/* (a trace walks its own few entries: it makes no room in the
	 * live table) */
	bpf_for_each_map_elem(&ct, room_one, &rc, 0);
	st->ct_expired += rc.expired;
	st->ct_early_dropped += rc.dropped;
	if (rc.early && !rc.dropped)
		early_drop_due = now + RECLAIM_INTERVAL_NS;
	return rc.expired + rc.dropped != 0;
}

/* Is the ICMP error about a tracked connection (by the reverse of the
 * quoted tuple, in the context it arrived in)?  h: what decide needs of
 * it when it goes through a NAT gateway (struct conn_hint). */
static __always_inline int
icmp_error_related(void *data, void *end, const struct vpc_pkt *m, __u32 ctx,
		   struct conn_hint *h)
{
	struct vpc_flow f;

	if (!vpc_icmp_quote_flow(data + VPC_OFF_L4, end, (__u32)m->l4_len - 8, &f))
		return 0;
	struct vpc_ct_key k;
	vpc_ct_key_of_flow(&k, ctx, &f);
	struct vpc_xdp_ct *v = ct_get(&k);
	if (v == NULL)
		return 0;
	struct vpc_xdp_ct *e = v;
	if (v->dir != 0) {
		struct vpc_ct_key o = v->other;
		e = ct_get(&o);
	}
	if (e != NULL && e->dir == 0 && e->act[0].path == VPC_PATH_LB) {
		h->lb_dir = (v->dir != 0) + 1;
		h->lb_fwd = e->self;
		h->lb_a0 = e->act[0];
	}
	if (e != NULL && e->dir == 0 && e->act[0].path == VPC_PATH_NATGW_EGRESS) {
		h->dir1 = v->dir != 0;
		h->dir0 = v->dir == 0;
		h->nat_addr = e->act[0].nat_addr;
		h->nat_port = e->act[0].nat_port;
		h->src = e->self.src;
		h->sport = e->self.sport;
	}
	return 1;
}

/*
 * A packet the groups allow opens its connection: both keys (the reply's
 * as the replies will enter, after NAT), the tracking record (a TCP
 * connection from its SYN), direction 0's action; then the action is
 * applied.  Direction 1's action is computed from its first packet.
 */
/* One candidate port of a new connection through a NAT gateway
 * (bpf_loop's step): free when no live connection has the reply key with
 * it; an expired holder, or an orphaned key, is removed (as the DPDK
 * engine's natgw_alloc: both engines choose the same port). */
struct natgw_probe {
	struct vpc_ct_key key;	/* the connection's forward key */
	struct vpc_ct_key rev;	/* its reply key; each probe sets the port */
	__u64 now;
	__u32 proto;
	__u32 port;		/* the one found (network order); 0: none */
	__u32 expired;		/* expired holders removed */
};

static long
natgw_probe_one(__u32 i, void *arg)
{
	struct natgw_probe *p = arg;
	__u16 port = vpc_natgw_port(&p->key, i);

	if (port == 0)
		return 0;
	vpc_ct_key_set_nat_port(&p->rev, (__u8)p->proto, port);
	struct vpc_ct_key k = p->rev;
	struct vpc_xdp_ct *v = ct_get(&k);
	if (v != NULL) {
		if (v->dir == 0)
			return 0;	/* another connection's own key */
		struct vpc_ct_key o = v->other;
		struct vpc_xdp_ct *e = ct_get(&o);
		int live = e != NULL && e->dir == 0 && vpc_ct_key_eq(&e->other, &k);
		if (live && e->expires > p->now)
			return 0;	/* taken */
		if (live) {
			ct_del(&o);
			p->expired++;
		}
		ct_del(&k);
	}
	p->port = port;
	return 1;
}

static __always_inline __u8
open_conn(struct xdp_md *ctx, struct tables *t, const struct vpc_xdp_port *pi,
	  const struct vpc_pkt *m, void *data, void *end, const struct vpc_ct_key *key,
	  struct decision *d, __be32 saddr, __be32 daddr, __u64 now,
	  struct vpc_xdp_verdict *v, struct vpc_xdp_stats *st)
{
	/* The reply's key: as the replies will enter (common/vpc_key.h). */
	__u32 reply_ctx = pi->ctx;
	if (d->act.nat != VPC_NAT_SRC && d->receiver != VPC_INDEX_NONE) {
		const struct vpc_iface_rec *x = iface_at(t, d->receiver);
		if (x == NULL)
			return VPC_DROP_NO_INTERFACE;
		reply_ctx = x->ctx;
	}
	struct vpc_ct_key rev;
	/* (a NAT gateway's port is not chosen yet: 0; a balancer's target's
	 * port is its replies' source) */
	vpc_ct_key_reverse(&rev, m, saddr, daddr, d->act.nat, d->act.nat_addr, d->act.nat_port,
			   reply_ctx);
	/* Through a NAT gateway: the first free port (common/vpc_natgw.h),
	 * in the reply key. */
	int natgw = d->act.path == VPC_PATH_NATGW_EGRESS;
	if (natgw) {
		struct natgw_probe np = { .key = *key, .rev = rev, .now = now, .proto = m->proto };
		bpf_loop(VPC_NATGW_PROBES, natgw_probe_one, &np, 0);
		st->ct_expired += np.expired;
		if (np.port == 0)
			return VPC_DROP_NATGW_EXHAUSTED;
		d->act.nat_port = (__u16)np.port;
		vpc_ct_key_set_nat_port(&rev, m->proto, (__u16)np.port);
	}
	/* The reply key taken: by another live connection a conflict; an
	 * orphan (see ct_resolve) is removed on the way. */
	int self_addressed = vpc_ct_key_eq(key, &rev);
	struct vpc_xdp_ct *taken = ct_get(&rev);
	if (taken != NULL && !self_addressed) {
		struct vpc_ct_key ofwd;
		int odir;
		if (ct_resolve(&rev, taken, &ofwd, &odir) != NULL ||
		    ct_get(&rev) != NULL)
			return VPC_DROP_CT_CONFLICT;
	}

	__u32 z = 0, one = 1;
	struct vpc_xdp_ct *fv = bpf_map_lookup_elem(&scratch, &z);
	struct vpc_xdp_ct *rv = bpf_map_lookup_elem(&scratch, &one);
	if (fv == NULL || rv == NULL)
		return VPC_DROP_CT_FULL;
	__builtin_memset(fv, 0, sizeof(*fv));
	fv->dir = 0;
	fv->self = *key;
	fv->other = rev;
	fv->created = now;
	switch (m->proto) {
	case IPPROTO_TCP: {
		struct vpc_tcp_seg seg;
		if (vpc_tcp_seg_read((const __u8 *)data + VPC_OFF_L4, end, m, &seg) < 0)
			return VPC_DROP_L4_TRUNCATED;
		vpc_tcp_open(&fv->trk, &seg, (__u8)xdp_tcp_wscale(ctx));
		break;
	}
	case IPPROTO_UDP:
		fv->trk.state = VPC_CT_UDP;
		break;
	case IPPROTO_ICMP:
		fv->trk.state = VPC_CT_ICMP;
		break;
	default:
		fv->trk.state = VPC_CT_OTHER;
		break;
	}
	if (natgw)
		fv->trk.flags |= VPC_CT_F_NATGW;
	else if (d->act.path == VPC_PATH_LB)
		fv->trk.flags |= VPC_CT_F_LB;
	fv->act[0] = d->act;
	fv->expires = now + entry_timeout(t, fv, d->act.vpc);
	__builtin_memset(rv, 0, sizeof(*rv));
	rv->dir = 1;
	rv->self = rev;
	rv->other = *key;

	/* The forward key, then the reply's: room made for the first is
	 * room for both (a connection removed frees two keys). */
	long err = ct_put(key, fv);
	if (err == -E2BIG && ct_make_room(now, st))	/* full */
		err = ct_put(key, fv);
	/* A flow addressed to itself has one key, in direction 0. */
	if (err == 0 && !self_addressed) {
		err = ct_put(&rev, rv);
		if (err != 0)
			ct_del(key);
	}
	if (err == -E2BIG) {
		VPC_TRACE(VPC_TR_OPEN, 0, 0, 0, 0);
		st->ct_refused_full++;
		return VPC_DROP_CT_FULL;
	}
	VPC_TRACE(VPC_TR_OPEN, err == 0, 0, 0, 0);
	if (err != 0)
		return VPC_DROP_CT_CONFLICT;
	st->ct_created++;
	return apply(data, end, m, &d->act, v);
}

#endif /* VPC_XDP_STAGE_OPEN_H */
