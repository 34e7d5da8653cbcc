/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * vpc_xdp.bpf.c -- the XDP engine: the DPDK pipeline's behaviour
 * (dataplane/pipeline.c) in BPF C, one packet at a time.
 *
 *   parse -> source checks (anti-spoofing, ARP responder, MTU) ->
 *   connection lookup -> a current cached action: rewrite, redirect (the
 *   fast path) -> otherwise decide (L2 / LPM route / elastic IP), check
 *   the security groups, open the connection, cache the action.
 *
 * The maps' layouts are vpc_image.h's (vpc_xdp_*).  Tables that come
 * from a topology live in two sets (array-of-maps slots 0 and 1); the
 * active set's number is read once per packet, so a packet is decided by
 * one set of tables, never a mix (bpf/README.md).  The connection table
 * and the counters are shared by both sets.
 *
 * Verifier: bounded loops only; the security-group walk is split into
 * global functions, verified on their own, to keep the state space small.
 * Builds with clang 14 and libbpf 1.1 (Debian 12).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Tracing (vpcctl trace; common/vpc_trace.h): a copy of the program
 * loaded with trace_mode set records each decision in trace_buf.  In
 * the forwarding copy trace_mode is 0, a constant the verifier knows:
 * the recording is removed at load, and costs nothing. */
#define VPC_TRACING 1
#define VPC_TRACE(kind, a, b, c, d) trace_put((kind), (a), (b), (c), (d))
#include "vpc_trace.h"

const volatile __u32 trace_mode = 0;
struct vpc_trace_buf trace_buf = { 0 };

static __always_inline void
trace_put(__u32 kind, __u32 a, __u32 b, __u32 c, __u32 d)
{
	if (!trace_mode)
		return;
	__u32 i = trace_buf.n;
	if (i < VPC_TRACE_MAX) {
		struct vpc_trace_ev *e = &trace_buf.ev[i & (VPC_TRACE_MAX - 1)];
		e->kind = (__u16)kind;
		e->a = (__u16)a;
		e->b = b;
		e->c = c;
		e->d = d;
	}
	trace_buf.n = i + 1;
}

#include "cksum.h"	/* RFC 1624 updates, shared with the DPDK engine */
#include "vpc_rewrite.h"	/* ARP reply, TTL, NAT: shared */
#include "vpc_icmp.h"	/* queries, errors, the quote's NAT: shared too */
#include "vpc_decide.h"
#include "vpc_frag.h"	/* fragments follow their first: shared */
#include "vpc_geneve.h"	/* the overlay between hosts: shared */
#include "vpc_nacl.h"	/* network ACLs: shared */
#include "vpc_natgw.h"	/* NAT gateways' ports: shared */
#include "vpc_lb.h"	/* load balancers: shared */
#include "vpc_image.h"
#include "vpc_reasons.h"
#include "vpc_xdp_maps.h"


char LICENSE[] SEC("license") = "Dual BSD/GPL";




_Static_assert(VPC_DROP_COUNT <= 64 && VPC_PATH_COUNT <= 32, "counter arrays");

/* ---- configuration (set by the loader before load) ---- */

/* vpc-replay: the port and the clock come from replay_slot/replay_now,
 * and each verdict is written to last_verdict. */
const volatile __u32 replay_mode = 0;

#ifndef E2BIG
#define E2BIG 7		/* the errno a full hash map's update returns */
#endif

__u64 replay_now = 0;

/* A full connection table walks itself for expired entries at most once
 * per interval (on the program's clock). */
#define RECLAIM_INTERVAL_NS 1000000000ull
__u64 reclaim_due = 0;
/* Nor does it look for a connection never answered (early drop) more
 * than once an interval after a walk that found none. */
__u64 early_drop_due = 0;
__u32 replay_slot = 0;
struct vpc_xdp_verdict last_verdict = { 0 };

/* ---- maps ---- */

/* Inner map templates, by size: clang 14 leaves their key and value
 * types as forward declarations in BTF, which libbpf cannot size. */
#define INNER_SZ(tname, mtype, flags, ksize, vsize)	\
	struct tname {					\
		__uint(type, mtype);			\
		__uint(map_flags, flags);		\
		__uint(max_entries, 1);			\
		__uint(key_size, ksize);		\
		__uint(value_size, vsize);		\
	}
/* Fixed-size arrays: no BPF_F_INNER_MAP, so every table set's map has
 * the template's size and the verifier inlines their lookups. */
#define INNER_FIXED(tname, max, vsize)			\
	struct tname {					\
		__uint(type, BPF_MAP_TYPE_ARRAY);	\
		__uint(max_entries, max);		\
		__uint(key_size, 4);			\
		__uint(value_size, vsize);		\
	}
#define SET(name, tname)				\
	struct {					\
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);	\
		__uint(max_entries, 2);			\
		__type(key, __u32);			\
		__array(values, struct tname);		\
	} name SEC(".maps")

INNER_FIXED(in_global, 1, sizeof(struct vpc_xdp_global));
INNER_FIXED(in_ports, VPC_XDP_MAX_PORTS, sizeof(struct vpc_xdp_port));
INNER_SZ(in_ifaces, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_iface_rec));
INNER_FIXED(in_vpcs, VPC_MAX_VPCS, sizeof(struct vpc_xdp_vpc));
INNER_SZ(in_l2, BPF_MAP_TYPE_HASH, 0, sizeof(struct vpc_xdp_l2_key), sizeof(__u32));
INNER_SZ(in_ips, BPF_MAP_TYPE_HASH, 0, sizeof(struct vpc_xdp_ip_key), sizeof(__u32));
INNER_SZ(in_eips, BPF_MAP_TYPE_HASH, 0, 4, sizeof(__u32));
INNER_SZ(in_routes, BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC, sizeof(struct vpc_xdp_route_key),
	 sizeof(struct vpc_xdp_nexthop));
INNER_SZ(in_sg_classes, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_class));
INNER_SZ(in_sg_nodes, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_node));
INNER_SZ(in_sg_intervals, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_interval));
INNER_SZ(in_sg_icmps, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_icmp));
INNER_FIXED(in_nacls, 2 * VPC_XDP_MAX_NACLS, sizeof(struct vpc_nacl_list));
INNER_FIXED(in_tunnels, VPC_MAX_HOSTS, sizeof(struct vpc_tunnel_rec));
INNER_SZ(in_underlay, BPF_MAP_TYPE_HASH, 0, 4, sizeof(__u32));
INNER_SZ(in_vnis, BPF_MAP_TYPE_HASH, 0, 4, sizeof(__u32));
INNER_SZ(in_appliances, BPF_MAP_TYPE_HASH, 0, sizeof(struct vpc_xdp_appliance_key), sizeof(__u32));
INNER_SZ(in_rports, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_xdp_port));
INNER_FIXED(in_natgws, VPC_MAX_NATGWS, sizeof(struct vpc_natgw_rec));
INNER_FIXED(in_lbs, VPC_MAX_LBS, sizeof(struct vpc_lb_rec));
INNER_SZ(in_listeners, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_lb_listener_rec));
INNER_SZ(in_tgroups, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_lb_group_rec));
INNER_SZ(in_lb_hc, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_lb_hc_rec));
INNER_SZ(in_lb_ip, BPF_MAP_TYPE_HASH, 0, sizeof(struct vpc_xdp_ip_key), sizeof(__u32));
INNER_SZ(in_lb_healthy, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(__u64));
INNER_SZ(in_lb_answers, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_lb_answer));

SET(set_global, in_global);
SET(set_ports, in_ports);
SET(set_ifaces, in_ifaces);
SET(set_vpcs, in_vpcs);
SET(set_l2, in_l2);
SET(set_ips, in_ips);
SET(set_eips, in_eips);
SET(set_routes, in_routes);
SET(set_sg_classes, in_sg_classes);
SET(set_sg_nodes, in_sg_nodes);
SET(set_sg_intervals, in_sg_intervals);
SET(set_sg_icmps, in_sg_icmps);
SET(set_nacls, in_nacls);
SET(set_tunnels, in_tunnels);
SET(set_underlay, in_underlay);
SET(set_vnis, in_vnis);
SET(set_appliances, in_appliances);
SET(set_natgws, in_natgws);
SET(set_rports, in_rports);
SET(set_lbs, in_lbs);
SET(set_listeners, in_listeners);
SET(set_tgroups, in_tgroups);
SET(set_lb_hc, in_lb_hc);
SET(set_lb_ip, in_lb_ip);
SET(set_lb_healthy, in_lb_healthy);
SET(set_lb_answers, in_lb_answers);

/* Each target group's round-robin turn, per CPU (common/vpc_lb.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VPC_MAX_TGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} lb_turn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vpc_xdp_control);
} control SEC(".maps");

/* Connections: max_entries (two keys per connection) set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__type(key, struct vpc_ct_key);
	__type(value, struct vpc_xdp_ct);
} ct SEC(".maps");

/*
 * A trace reads the live connections, never writes them: the traced copy
 * has a ct of its own, filled from live_ct (the instance's, reused by the
 * loader) as the stages look keys up, and trace_gone holds the keys the
 * trace removed.  In the forwarding copy live_ct and trace_gone are unused
 * (one entry each).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct vpc_ct_key);
	__type(value, struct vpc_xdp_ct);
} live_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct vpc_ct_key);
	__type(value, __u32);
} trace_gone SEC(".maps");

/* ifindex -> slot */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VPC_XDP_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} if_slots SEC(".maps");

/* The same for the common ifindexes, below VPC_XDP_IFINDEX_LO: an array
 * (its lookup is inlined: no hash per packet), holding slot + 1, 0 for
 * none; if_slots holds the larger ones. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VPC_XDP_IFINDEX_LO);
	__type(key, __u32);
	__type(value, __u32);
} if_slots_lo SEC(".maps");

/* slot -> device */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, VPC_XDP_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vpc_xdp_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VPC_XDP_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vpc_xdp_port_stats);
} port_stats SEC(".maps");

/* Scratch space for building a connection's two values (too big for the
 * 512-byte stack next to everything else). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct vpc_xdp_ct);
} scratch SEC(".maps");

/* Datagrams whose first fragment this CPU forwarded (common/vpc_frag.h):
 * a direct-mapped table, per CPU (a device's frames of one flow arrive on
 * one CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VPC_FRAG_SLOTS);
	__type(key, __u32);
	__type(value, struct vpc_frag_rec);
} frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VPC_XDP_SENDER_SLOTS);
	__type(key, __u32);
	__type(value, struct vpc_xdp_sender);
} senders SEC(".maps");

/* vpcctl capture (vpc_xdp_maps.h): the flag, and the copies. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vpc_xdp_capture);
} capture SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VPC_XDP_CAP_RING_SIZE);
} capture_ring SEC(".maps");

/*
 * A copy of the frame as it is now into capture_ring, if the capture is
 * of this port (rx: its device's ifindex; tx: its slot) and direction.
 * The callers test only that one is on (an inlined array lookup and a
 * branch per packet); this global function -- verified once, its own
 * small frame -- does the rest.  A full ring counts the frame in lost;
 * the frame itself goes on.
 */
__attribute__((noinline)) int
capture_frame(struct xdp_md *ctx, __u32 port, __u32 dir)
{
	__u32 z = 0;
	struct vpc_xdp_capture *cp = bpf_map_lookup_elem(&capture, &z);

	if (cp == NULL || !(cp->dirs & dir) ||
	    (dir == VPC_XDP_CAP_RX ? cp->ifindex : cp->slot) != port)
		return 0;
	__u32 len = (__u32)(ctx->data_end - ctx->data);
	struct vpc_xdp_cap_rec *r = bpf_ringbuf_reserve(&capture_ring, sizeof(*r), 0);
	if (r == NULL) {
		__sync_fetch_and_add(&cp->lost, 1);
		return 0;
	}
	r->ts = bpf_ktime_get_ns();
	r->orig_len = len;
	r->dir = dir;
	r->pad = 0;
	r->cap_len = 0;
	/* The helper wants a length the verifier knows to be within
	 * 1..sizeof(data), by arithmetic rather than by branches.  Symptoms:
	 * without the barrier "R4 min value is negative" (clang passed the
	 * unclamped copy of the length); with a test n >= 1, Debian 12's
	 * verifier still saw "size=0".  (A frame of 0 bytes, which XDP never
	 * has, would ask for 256 and be refused by the helper.) */
	_Static_assert((VPC_XDP_CAP_SNAPLEN & (VPC_XDP_CAP_SNAPLEN - 1)) == 0, "a power of 2");
	__u64 n = len > VPC_XDP_CAP_SNAPLEN ? VPC_XDP_CAP_SNAPLEN : len;
	asm volatile("" : "+r"(n));
	n = ((n - 1) & (VPC_XDP_CAP_SNAPLEN - 1)) + 1;
	if (bpf_xdp_load_bytes(ctx, 0, r->data, (__u32)n) == 0)
		r->cap_len = (__u32)n;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Is a capture on?  (The test every packet pays, twice: rx and tx.) */
static __always_inline int
capture_on(void)
{
	__u32 z = 0;
	struct vpc_xdp_capture *cp = bpf_map_lookup_elem(&capture, &z);
	return cp != NULL && cp->dirs != 0;
}

/* ---- small helpers ---- */

static __always_inline int
mac_eq(const void *a, const void *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)((const __u8 *)a + 4) == *(const __u16 *)((const __u8 *)b + 4);
}

/* ---- the tables of one set ---- */

/*
 * The connection a packet to a NAT gateway's elastic IP belongs to, or
 * the one an ICMP error is about, as the slow path found it for decide
 * (dataplane/stage_decide.h's decide_natgw_return): dir1, the packet goes
 * in direction 1 of a connection through a NAT gateway (its opener:
 * src, sport); dir0, in direction 0 of one (an interface's error about
 * it: its translation nat_addr, nat_port).
 */
struct conn_hint {
	__u32 dir1, dir0;
	__be32 nat_addr;
	__be32 src;
	__be16 sport;
	__be16 nat_port;
	__u32 receiver;	/* decide's receiver (flow logs: where a rejected
			 * packet from the uplink is logged); VPC_INDEX_NONE */
	/* an ICMP error about a connection through a load balancer: its
	 * direction (lb_dir + 1; 0: not one), direction 0's key and action */
	__u32 lb_dir;
	struct vpc_ct_key lb_fwd;
	struct vpc_xdp_action lb_a0;
};

struct tables {
	__u32 set;
	const struct vpc_xdp_global *g;
	void *ifaces;		/* the inner maps, looked up as needed */
	struct conn_hint *conn;	/* the slow path's (NULL on the fast path) */
};

static __always_inline void *
inner(void *outer, __u32 set)
{
	return bpf_map_lookup_elem(outer, &set);
}

static __always_inline const struct vpc_iface_rec *
iface_at(struct tables *t, __u32 i)
{
	if (t->ifaces == NULL)
		t->ifaces = inner(&set_ifaces, t->set);
	if (t->ifaces == NULL)
		return NULL;
	return bpf_map_lookup_elem(t->ifaces, &i);
}

/* The interface of VPC vpc whose MAC is mac (*xi: its index), or NULL. */
static __always_inline const struct vpc_iface_rec *
l2_iface(struct tables *t, __u32 vpc, const __u8 *mac, __u32 *xi)
{
	void *l2 = inner(&set_l2, t->set);
	if (l2 == NULL)
		return NULL;
	struct vpc_xdp_l2_key k = { .vpc = vpc };
	vpc_mac_copy(k.mac, mac);
	__u32 *xp = bpf_map_lookup_elem(l2, &k);
	if (xp == NULL)
		return NULL;
	*xi = *xp;
	return iface_at(t, *xi);
}

static __always_inline struct vpc_xdp_stats *
counters(void)
{
	__u32 z = 0;
	return bpf_map_lookup_elem(&stats, &z);
}

/* ---- the packet ---- */

static __always_inline void
set_drop(struct vpc_xdp_verdict *v, __u8 reason)
{
	v->action = VPC_ACT_DROP;
	v->path = VPC_PATH_NONE;
	v->reason = reason;
	v->out_slot = 0xffffffff;
}

/* Forward (to slot) or send back (REPLY: on slot, the ingress). */
static __always_inline void
set_send(struct vpc_xdp_verdict *v, __u8 action, __u8 path, __u32 slot)
{
	v->action = action;
	v->path = path;
	v->reason = VPC_DROP_NONE;
	v->out_slot = slot;
}

/* A forwarded first fragment (frame data..end after its rewrite; conn:
 * its connection key as it arrived): its datagram's record. */
static __always_inline void
frag_first(void *data, void *end, const struct vpc_ct_key *conn, const struct vpc_xdp_verdict *v,
	   __u32 gen, __u64 now)
{
	struct vpc_ct_key k;
	__u8 *f = data;

	if ((void *)(f + VPC_OFF_L4) > end)
		return;
	vpc_frag_key_of(&k, conn, *(__u16 *)(f + VPC_OFF_IP + 4));
	__u32 slot = vpc_frag_slot(&k);
	struct vpc_frag_rec *r = bpf_map_lookup_elem(&frags, &slot);
	if (r != NULL)
		vpc_frag_note(r, &k, f, v->out_slot, v->path, gen, now);
}

/* A later fragment: as its datagram's first fragment went, or dropped. */
static __always_inline __u8
frag_later(void *data, void *end, __u32 ctx, __u32 gen, __u64 now, struct vpc_xdp_verdict *v)
{
	struct vpc_ct_key k;
	__u8 *f = data;
	__u32 out;
	__u8 path;

	if ((void *)(f + VPC_OFF_L4) > end)
		return VPC_DROP_IP_TRUNCATED;
	vpc_frag_key(&k, ctx, f + VPC_OFF_IP);
	__u32 slot = vpc_frag_slot(&k);
	const struct vpc_frag_rec *r = bpf_map_lookup_elem(&frags, &slot);
	if (r == NULL)
		return VPC_DROP_IP_FRAGMENT;
	__u8 reason = vpc_frag_follow(r, &k, f, end, gen, now, &out, &path);
	if (reason != VPC_DROP_NONE)
		return reason;
	set_send(v, VPC_ACT_FORWARD, path, out);
	return VPC_DROP_NONE;
}

/* ---- the connection table, as the stages reach it ---- */

/* A trace: key k's live connection copied into the trace's own ct, unless
 * the trace removed it.  1 when copied. */
static __noinline int
trace_ct_fault(const struct vpc_ct_key *kp)
{
	struct vpc_ct_key k = *kp;

	if (bpf_map_lookup_elem(&trace_gone, &k) != NULL)
		return 0;
	struct vpc_xdp_ct *lv = bpf_map_lookup_elem(&live_ct, &k);
	if (lv == NULL)
		return 0;
	return bpf_map_update_elem(&ct, &k, lv, BPF_NOEXIST) == 0;
}

/* A trace: is key k live (and not removed by the trace)? */
static __noinline int
trace_ct_live(const struct vpc_ct_key *kp)
{
	struct vpc_ct_key k = *kp;

	return bpf_map_lookup_elem(&trace_gone, &k) == NULL &&
	       bpf_map_lookup_elem(&live_ct, &k) != NULL;
}

static __always_inline struct vpc_xdp_ct *
ct_get(const struct vpc_ct_key *k)
{
	struct vpc_xdp_ct *v = bpf_map_lookup_elem(&ct, k);

	if (!trace_mode || v != NULL)
		return v;
	return trace_ct_fault(k) ? bpf_map_lookup_elem(&ct, k) : NULL;
}

static __always_inline long
ct_put(const struct vpc_ct_key *k, const struct vpc_xdp_ct *v)
{
	if (trace_mode && bpf_map_lookup_elem(&ct, k) == NULL && trace_ct_live(k))
		return -17;	/* EEXIST */
	return bpf_map_update_elem(&ct, k, v, BPF_NOEXIST);
}

static __noinline long
trace_ct_del(const struct vpc_ct_key *kp)
{
	struct vpc_ct_key k = *kp;
	__u32 one = 1;
	int live = trace_ct_live(&k);
	long r = bpf_map_delete_elem(&ct, &k);

	bpf_map_update_elem(&trace_gone, &k, &one, BPF_ANY);
	return r == 0 || live ? 0 : r;
}

static __always_inline long
ct_del(const struct vpc_ct_key *k)
{
	return trace_mode ? trace_ct_del(k) : bpf_map_delete_elem(&ct, k);
}

/* ---- the stages, one file each (the DPDK engine's have the same names) ---- */

#include "stage_parse.h"
#include "stage_source.h"
#include "stage_decide.h"
#include "stage_nacl.h"
#include "stage_sg.h"
#include "stage_apply.h"
#include "stage_flowlog.h"
#include "stage_open.h"





/*
 * A Geneve frame for this host (uplink_checks said so): its header
 * (common/vpc_geneve.h), a known host and VNI, its outer headers removed,
 * the inner frame parsed into m, its sender on that host (overlay_sender:
 * *xi) -- the lookups skipped when this CPU's senders cache knows the
 * (underlay source, VNI, inner source MAC and IP) under these tables.
 * ctx's packet pointers change.  Inlined: as a function of its own (fewer
 * instructions) every packet of the fast program paid about 10 ns, taken
 * or not (BENCHMARKS.md).
 */
static __always_inline __u8
overlay_in(struct xdp_md *ctx, __u32 set, __u32 gen, struct vpc_pkt *m, __u32 *xi)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + VPC_OFF_IP;
	struct tables t = { .set = set };
	__u32 vni, off, vpc = 0, host = 0;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (m->frag != VPC_FRAG_NONE)
		return VPC_DROP_OVERLAY_MALFORMED;	/* DF is set: never whole */
	__u8 r = vpc_geneve_inner(data + VPC_OFF_L4, end, &vni, &off);
	if (r != VPC_DROP_NONE)
		return r;
	/* The sender from this CPU's cache, when its key is whole here. */
	__be32 underlay = ip->saddr;
	__u8 *in = data + VPC_OFF_L4 + (off & 0xff);
	struct vpc_xdp_sender *c = NULL;
	int hit = 0;
	if ((void *)(in + 14 + 20) <= end) {
		__be32 isrc = *(__be32 *)(in + 14 + 12);
		__u32 h = (underlay ^ isrc ^ vni * 0x9e3779b1u ^ *(__u32 *)(in + 8)) * 0x9e3779b1u;
		__u32 slot = h >> 24;
		c = bpf_map_lookup_elem(&senders, &slot);
		hit = c != NULL && c->gen == gen && c->underlay == underlay && c->vni == vni &&
		      c->ip == isrc && mac_eq(c->mac, in + 6);
	}
	if (!hit) {
		void *um = inner(&set_underlay, set);
		void *vm = inner(&set_vnis, set);
		if (um == NULL || vm == NULL)
			return VPC_DROP_OVERLAY_UNKNOWN_HOST;
		__u32 *hp = bpf_map_lookup_elem(um, &underlay);
		if (hp == NULL)
			return VPC_DROP_OVERLAY_UNKNOWN_HOST;
		__u32 *vp = bpf_map_lookup_elem(vm, &vni);
		if (vp == NULL)
			return VPC_DROP_OVERLAY_UNKNOWN_VNI;
		host = *hp;
		vpc = *vp;
	}
	if (bpf_xdp_adjust_head(ctx, (int)(VPC_OFF_L4 + off)) != 0)
		return VPC_DROP_ENGINE;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	vpc_parse(data, end, m);
	if (m->kind == VPC_PKT_DROP)
		return m->reason;
	if (m->kind != VPC_PKT_IPV4)
		return VPC_DROP_OVERLAY_MALFORMED;	/* its host answers ARP */
	struct ethhdr *eth = data;
	ip = data + VPC_OFF_IP;
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (hit) {
		*xi = c->iface;
	} else {
		r = overlay_sender(&t, data, end, vpc, host, xi);
		if (r != VPC_DROP_NONE)
			return r;
		if (c != NULL) {
			c->gen = gen;
			c->underlay = underlay;
			c->vni = vni;
			c->ip = ip->saddr;
			vpc_mac_copy(c->mac, eth->h_source);
			c->iface = *xi;
		}
	}
	if ((eth->h_dest[0] & 1) || (ip->daddr & bpf_htonl(0xe0000000)) == bpf_htonl(0xe0000000))
		return VPC_DROP_MULTICAST;
	return VPC_DROP_NONE;
}

/* A later fragment whose datagram went to another host: the tunnel of the
 * interface its first fragment went to (the inner destination MAC, as
 * vpc_frag_follow wrote it). */
static __always_inline __u8
frag_tunnel(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m, void *data,
	    void *end, struct vpc_xdp_verdict *v)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	__u32 xi;
	const struct vpc_iface_rec *x = l2_iface(t, pi->fi.vpc, eth->h_dest, &xi);
	if (x == NULL || x->tunnel == 0)
		return VPC_DROP_ENGINE;
	v->tunnel = x->tunnel;
	v->vpc = (__u16)x->vpc;
	v->sport = vpc_geneve_sport(m, ip->saddr, ip->daddr);
	return VPC_DROP_NONE;
}

/* The ACLs of a packet through a load balancer (nacl_verdict_lb). */
static __always_inline __u8
lb_nacl(__u32 set, __u32 slot, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
	const struct vpc_xdp_action *a, __be32 saddr, __be32 daddr)
{
	const struct vpc_xdp_port *po;
	void *pm = inner(&set_ports, set);
	__u32 out = a->out_slot;

	if (pm == NULL || (po = bpf_map_lookup_elem(pm, &out)) == NULL)
		return VPC_DROP_ENGINE;
	if (!nacl_any(pi, po, a->tunnel))
		return VPC_DROP_NONE;
	struct lb_nacl_in in = {
		.in = nacl_in(slot, pi), .out = out, .meta = nacl_meta(set, m), .daddr = daddr,
		.isrc = a->path == VPC_PATH_LB_REPLY ? a->nat_addr : saddr,
		.ikey = m->proto == IPPROTO_ICMP ? (__u32)m->icmp_type << 8 | m->icmp_code :
			vpc_nacl_dport(m->proto, a->path == VPC_PATH_LB ? a->nat_port : m->dport),
	};
	return (__u8)nacl_verdict_lb(&in);
}

/* The ACLs on the slow path: a packet through a NAT gateway crosses its
 * subnet too (nacl_verdict_natgw, with its inputs in the slow program's
 * scratch: t->conn's record lies in it). */
struct natgw_nacl_scratch {
	struct conn_hint hint;
	struct natgw_nacl_in nin;
};

static __always_inline __u8
slow_nacl(struct tables *t, __u32 slot, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
	  const struct vpc_xdp_action *a, __be32 saddr, __be32 daddr)
{
	if (a->tunnel != 0)
		return VPC_DROP_NONE;
	if (VPC_UNLIKELY(lb_path(a->path)))
		return lb_nacl(t->set, slot, pi, m, a, saddr, daddr);
	if (!natgw_path(a->path))
		return (__u8)nacl_verdict(nacl_in(slot, pi), a->out_slot, nacl_meta(t->set, m), saddr,
					  daddr);
	struct natgw_nacl_in *in = &((struct natgw_nacl_scratch *)t->conn)->nin;
	int egress = a->path == VPC_PATH_NATGW_EGRESS;
	in->set = t->set;
	in->egress = egress;
	in->slot = egress ? slot : a->out_slot;
	in->meta = nacl_meta(t->set, m);
	in->saddr = saddr;
	in->daddr = daddr;
	in->eip = egress ? a->nat_addr : daddr;
	in->nat_addr = a->nat_addr;
	in->nat_key = vpc_nacl_dport(m->proto, a->nat_port);
	return (__u8)nacl_verdict_natgw(in);
}

/* A new connection (or an ICMP error, which opens none). */
static __always_inline __u8
new_conn(struct xdp_md *ctx, struct tables *t, __u32 slot, const struct vpc_xdp_port *pi,
	 const struct vpc_pkt *m, void *data, void *end, const struct vpc_ct_key *key, __u64 now,
	 struct vpc_xdp_verdict *v, struct vpc_xdp_stats *st)
{
	struct iphdr *ip = data + VPC_OFF_IP;
	struct decision d;
	__u8 r;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	/* An ICMP error opens nothing: it is about a connection (whose
	 * translation it follows), or allowed by the rules as they stand. */
	int icmp_error = m->proto == IPPROTO_ICMP && m->icmp_error;
	int related = icmp_error && icmp_error_related(data, end, m, pi->ctx, t->conn);
	if (VPC_UNLIKELY(related && t->conn->lb_dir != 0)) {
		/* An error about a connection through a load balancer: the
		 * way its packets go, translated (the quote too, below). */
		if ((r = lb_known(t, pi, m, ctx, &d)) != VPC_DROP_NONE)
			return r;
	} else {
		if ((r = decide(t, pi, m, ctx, &d)) != VPC_DROP_NONE)
			return r;
		if (VPC_UNLIKELY(d.lb != VPC_INDEX_NONE)) {
			/* To a load balancer: its listener chooses the target. */
			if (icmp_error)
				return VPC_DROP_LB_NO_LISTENER;
			__u32 gi = lb_listener(t->set, d.lb, (__u32)m->proto << 24 |
							      (__u32)m->tcp_flags << 16 | m->dport);
			if (gi & LB_DROP)
				return (__u8)gi;
			__u32 k = lb_choose(t->set, gi, vpc_lb_flow_hash(key));
			if (k & LB_DROP) {
				if ((__u8)k == VPC_DROP_LB_NO_TARGET)
					VPC_TRACE(VPC_TR_LB, 0, d.lb, VPC_INDEX_NONE, 0);
				return (__u8)k;
			}
			if ((r = lb_open(t, m, &d, gi, k)) != VPC_DROP_NONE)
				return r;
			d.act.gen = t->g->generation;
		}
	}
	t->conn->receiver = d.receiver;	/* (a balancer's: its target) */
	if (icmp_error && d.act.path == VPC_PATH_NATGW_EGRESS) {
		if (!t->conn->dir0)
			return VPC_DROP_ICMP_UNRELATED;
		d.act.nat_addr = t->conn->nat_addr;
		d.act.nat_port = t->conn->nat_port;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + VPC_OFF_IP;
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	__be32 saddr = ip->saddr, daddr = ip->daddr;
	/* Stateless: a packet the ACLs deny opens nothing. */
	if ((r = slow_nacl(t, slot, pi, m, &d.act, saddr, daddr)) != VPC_DROP_NONE)
		return r;

	if (icmp_error) {
		if (!related && !sg_allows_packet(t, pi, m, saddr, daddr, &d, 0))
			return VPC_DROP_ICMP_UNRELATED;
		icmp_error_translate(data, end, m, &d.act);
		return apply(data, end, m, &d.act, v);
	}
	if (m->proto == IPPROTO_TCP && (m->tcp_flags & (VPC_TCP_SYN | VPC_TCP_ACK | VPC_TCP_RST)) != VPC_TCP_SYN)
		return VPC_DROP_TCP_NOT_SYN;
	if (!sg_allows_packet(t, pi, m, saddr, daddr, &d, 0))
		return VPC_DROP_SG_DENIED;
	if (d.act.rewrite_macs && ip->ttl <= 1)
		return VPC_DROP_TTL_EXPIRED;

	return open_conn(ctx, t, pi, m, data, end, key, &d, saddr, daddr, now, v, st);
}

/*
 * A known connection whose cached action for this direction is stale (new
 * tables) or does not fit this frame: decide afresh, re-check the groups
 * when the apply asked for it or the frame now reaches someone else.
 */
static __always_inline __u8
refresh(struct xdp_md *ctx, struct tables *t, __u32 slot, const struct vpc_xdp_port *pi,
	const struct vpc_pkt *m, void *data, void *end, struct vpc_xdp_ct *e, int dir,
	const struct vpc_ct_key *fwd, __u64 now, struct vpc_xdp_verdict *v)
{
	struct iphdr *ip = data + VPC_OFF_IP;
	struct decision d;
	__u8 r;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	struct conn_hint *h = t->conn;
	h->dir1 = dir == 1 && e->act[0].path == VPC_PATH_NATGW_EGRESS;
	h->nat_addr = e->act[0].nat_addr;
	h->src = e->self.src;
	h->sport = e->self.sport;
	if (VPC_UNLIKELY(e->act[0].path == VPC_PATH_LB)) {
		/* Through a load balancer: to its target, or back from it. */
		h->lb_dir = (__u32)(dir != 0) + 1;
		h->lb_fwd = *fwd;
		h->lb_a0 = e->act[0];
		r = lb_known(t, pi, m, ctx, &d);
	} else {
		r = decide(t, pi, m, ctx, &d);
		if (r == VPC_DROP_NONE && VPC_UNLIKELY(d.lb != VPC_INDEX_NONE))
			r = VPC_DROP_LB_NO_LISTENER;
	}
	if (r != VPC_DROP_NONE)
		return r;
	t->conn->receiver = d.receiver;
	/* A translation through a NAT gateway stays the connection's
	 * (dataplane/pipeline.c's slow_path says why). */
	if (e->act[0].gen != 0 && dir == 0 &&
	    (e->act[0].path == VPC_PATH_NATGW_EGRESS) != (d.act.path == VPC_PATH_NATGW_EGRESS))
		return VPC_DROP_NATGW_REROUTED;
	if (d.act.path == VPC_PATH_NATGW_EGRESS) {
		d.act.nat_addr = e->act[0].nat_addr;
		d.act.nat_port = e->act[0].nat_port;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + VPC_OFF_IP;
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	struct vpc_xdp_action *old = &e->act[dir & 1];
	int other = old->gen != 0 && (old->out_slot != d.act.out_slot ||
				      old->path != d.act.path);
	if ((t->g->revalidate || other) && d.act.path != VPC_PATH_LB_REPLY &&
	    !sg_allows_packet(t, pi, m, ip->saddr, ip->daddr, &d, dir)) {
		if (t->g->revalidate && !other) {
			ct_delete(e, fwd);
		}
		return VPC_DROP_SG_DENIED;
	}
	e->act[dir & 1] = d.act;
	e->expires = now + entry_timeout(t, e, d.act.vpc);
	/* The ACLs after the action is cached: the next packets meet them
	 * on the fast path, before TCP tracking. */
	if ((r = slow_nacl(t, slot, pi, m, &d.act, ip->saddr, ip->daddr)) != VPC_DROP_NONE)
		return r;
	return apply(data, end, m, &e->act[dir & 1], v);
}

/* ---- the slow path's setup: it re-reads what it needs ---- */

struct slow {
	struct tables t;
	const struct vpc_xdp_port *pi;
	struct vpc_pkt *m;		/* in slow_scratch: off the stack, which the */
	struct vpc_ct_key *key;		/* slow program's call chains fill */
	struct vpc_xdp_stats *st;
};

struct slow_scratch {
	struct vpc_pkt m;
	struct vpc_ct_key key;
	struct vpc_xdp_verdict v;
	struct natgw_nacl_scratch natgw;	/* t.conn, and the NAT gateway's ACL inputs */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slow_scratch);
} slow_scratch SEC(".maps");

static __always_inline int
slow_setup(struct xdp_md *ctx, __u32 set, __u32 slot, __u32 src, struct slow_scratch *sc,
	   struct slow *s)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 z = 0;

	s->t.set = set & 1;
	s->t.ifaces = NULL;
	void *gm = inner(&set_global, s->t.set);
	void *pm = inner(&set_ports, s->t.set);
	if (gm == NULL || pm == NULL)
		return -1;
	s->t.g = bpf_map_lookup_elem(gm, &z);
	if (src == VPC_INDEX_NONE) {
		s->pi = bpf_map_lookup_elem(pm, &slot);
	} else {	/* decapsulated: from the sender's rport */
		void *rm = inner(&set_rports, s->t.set);
		s->pi = rm != NULL ? bpf_map_lookup_elem(rm, &src) : NULL;
	}
	s->st = counters();
	if (s->t.g == NULL || s->pi == NULL || s->st == NULL)
		return -1;
	s->m = &sc->m;
	s->key = &sc->key;
	__builtin_memset(&sc->natgw.hint, 0, sizeof(sc->natgw.hint));
	sc->natgw.hint.receiver = VPC_INDEX_NONE;
	s->t.conn = &sc->natgw.hint;
	vpc_parse(data, end, s->m);
	struct iphdr *ip = data + VPC_OFF_IP;
	if (s->m->kind != VPC_PKT_IPV4 || (void *)(ip + 1) > end)
		return -1;
	vpc_ct_key_fwd(s->key, s->pi->ctx, s->m, ip->saddr, ip->daddr);
	return 0;
}


/* ---- two programs: the fast path, and the slow path it tail-calls ----
 *
 * A packet with no current cached action goes to vpc_xdp_slow by a tail
 * call, with what it needs (the table set, the port, the clock) in the
 * per-CPU handoff.  The tail call gives the slow path a stack of its own
 * (the two together would not fit the 512 bytes of one) and keeps the
 * fast path's code small.  XDP runs to completion on its CPU, so the
 * handoff cannot be overwritten in between.
 */

struct handoff {
	__u64 now;
	__u32 set;
	__u32 slot;
	__u32 len;
	__u32 src;	/* decapsulated: the sender's interface (its rport);
			 * else VPC_INDEX_NONE */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct handoff);
} handoffs SEC(".maps");

int vpc_xdp_slow(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} slow_path SEC(".maps") = {
	.values = { [0] = (void *)&vpc_xdp_slow },
};

#define SLOW 0xfe	/* process(): take the slow path */

/* Count, record, and say what becomes of the packet. */
static __always_inline int
finish(struct xdp_md *ctx, __u32 slot, __u32 len, __u32 out_len, struct vpc_xdp_verdict *v,
       __u8 r, struct vpc_xdp_stats *st)
{
	int ret;

	if (r != VPC_DROP_NONE)
		set_drop(v, r);
	st->packets++;
	struct vpc_xdp_port_stats *in = bpf_map_lookup_elem(&port_stats, &slot);
	if (in != NULL) {
		in->rx_packets++;
		in->rx_bytes += len;
	}
	if (v->action == VPC_ACT_DROP) {
		st->drops[v->reason & 63]++;
		if (in != NULL)
			in->drops++;
		ret = XDP_DROP;
	} else {
		st->paths[v->path & 31]++;
		__u32 out = v->out_slot;
		struct vpc_xdp_port_stats *o = bpf_map_lookup_elem(&port_stats, &out);
		if (o != NULL) {
			o->tx_packets++;
			o->tx_bytes += out_len;	/* as it leaves: a DHCP answer's, a tunnel's */
		}
		/* vpcctl capture, tx: the frame as it leaves (by slot) */
		if (VPC_UNLIKELY(capture_on()))
			capture_frame(ctx, out, VPC_XDP_CAP_TX);
		if (v->action == VPC_ACT_REPLY) {
			ret = XDP_TX;
		} else {
			ret = bpf_redirect_map(&tx_ports, out, XDP_DROP);
			if (ret == XDP_DROP && !replay_mode)
				st->tx_errors++;
		}
	}
	if (replay_mode)
		last_verdict = *v;
	return ret;
}

static __always_inline __u8
process(struct xdp_md *ctx, __u32 slot, __u64 now, struct vpc_xdp_verdict *v,
	struct vpc_xdp_stats *st, __u32 *set, __u32 *src)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 z = 0;
	struct vpc_xdp_control *c = bpf_map_lookup_elem(&control, &z);
	struct tables t = { 0 };
	struct vpc_pkt m = { 0 };	/* (whole: clang 14 keeps it in registers, and would spill a
				 * field a path never set, which the verifier refuses) */
	__u8 r;
	int done;

	if (c == NULL)
		return VPC_DROP_UNKNOWN_PORT;
	t.set = c->active & 1;
	*set = t.set;
	void *gm = inner(&set_global, t.set);
	void *pm = inner(&set_ports, t.set);
	if (gm == NULL || pm == NULL)
		return VPC_DROP_UNKNOWN_PORT;
	t.g = bpf_map_lookup_elem(gm, &z);
	const struct vpc_xdp_port *pi = bpf_map_lookup_elem(pm, &slot);
	if (t.g == NULL || pi == NULL || !pi->present)
		return VPC_DROP_UNKNOWN_PORT;

	vpc_parse(data, end, &m);
	if (m.kind == VPC_PKT_DROP)
		return m.reason;
	r = pi->is_uplink ? uplink_checks(&t, &m, data, end, &done) :
			    iface_checks(&t, pi, &m, data, end, &done);
	if (done == SOURCE_OVERLAY) {
		/* From another host: checked, decapsulated, then decided as
		 * if it came from its sender's port (its rport). */
		__u32 xi;
		r = overlay_in(ctx, t.set, t.g->generation, &m, &xi);
		if (r != VPC_DROP_NONE)
			return r;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		void *rm = inner(&set_rports, t.set);
		pi = rm != NULL ? bpf_map_lookup_elem(rm, &xi) : NULL;
		if (pi == NULL || !pi->present)
			return VPC_DROP_ENGINE;
		*src = xi;
	}
	if (done == SOURCE_DHCP || done == SOURCE_LB_HEALTH)
		return SLOW;
	if (done == SOURCE_ANSWERED) {
		set_send(v, VPC_ACT_REPLY, VPC_PATH_ARP_REPLY, slot);
		return VPC_DROP_NONE;
	}
	if (r != VPC_DROP_NONE)
		return r;
	VPC_TRACE(VPC_TR_SOURCE, 0, pi->iface, 0, 0);

	if (m.frag != VPC_FRAG_NONE)
		return SLOW;	/* fragments: the slow program (vpc_frag.h) */
	struct iphdr *ip = data + VPC_OFF_IP;
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	struct vpc_ct_key key;
	vpc_ct_key_fwd(&key, pi->ctx, &m, ip->saddr, ip->daddr);
	struct vpc_ct_key fwd;
	int dir;
	struct vpc_xdp_ct *kv = ct_get(&key);
	struct vpc_xdp_ct *e = ct_resolve(&key, kv, &fwd, &dir);
	if (e == NULL) {
		VPC_TRACE(VPC_TR_CONN, 0, 0, 0, 0);
		return SLOW;
	}
	if (e->expires <= now) {
		VPC_TRACE(VPC_TR_CONN, 2, 0, 0, 0);
		ct_delete(e, &fwd);
		st->ct_expired++;
		return SLOW;
	}
	struct vpc_xdp_action *a = &e->act[dir & 1];
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return VPC_DROP_FRAME_TRUNCATED;
	/* A current action names the egress slot: the ACLs decide before
	 * the packet moves the connection's TCP state. */
	int current = a->gen == t.g->generation && fast_path_ok(pi, eth->h_dest, a);
	VPC_TRACE(VPC_TR_CONN, 1, dir, current, e->trk.state);
	if (current) {
		__u32 out = a->out_slot;
		const struct vpc_xdp_port *po = bpf_map_lookup_elem(pm, &out);
		if (po == NULL)
			return SLOW;
		if (VPC_UNLIKELY(natgw_path(a->path))) {
			/* Through a NAT gateway: its subnet's ACL too, before
			 * TCP tracking as every ACL (slow_nacl's twin). */
			if (t.g->natgw_nacl || nacl_any(pi, po, a->tunnel)) {
				int egress = a->path == VPC_PATH_NATGW_EGRESS;
				struct natgw_nacl_in in = {
					.set = t.set, .egress = egress, .slot = egress ? slot : out,
					.meta = nacl_meta(t.set, &m), .saddr = ip->saddr,
					.daddr = ip->daddr, .eip = egress ? a->nat_addr : ip->daddr,
					.nat_addr = a->nat_addr,
					.nat_key = vpc_nacl_dport(m.proto, a->nat_port),
				};
				r = (__u8)nacl_verdict_natgw(&in);
				if (r != VPC_DROP_NONE)
					return vpc_ct_key_eq(&e->self, &fwd) ? r : SLOW;
			}
		} else if (VPC_UNLIKELY(nacl_any(pi, po, a->tunnel))) {
			r = VPC_UNLIKELY(lb_path(a->path)) ?
				    lb_nacl(t.set, slot, pi, &m, a, ip->saddr, ip->daddr) :
				    (__u8)nacl_verdict(nacl_in(slot, pi), out, nacl_meta(t.set, &m),
						       ip->saddr, ip->daddr);
			/* (the element may have been reused meanwhile: then
			 * the slow path decides) */
			if (r != VPC_DROP_NONE)
				return vpc_ct_key_eq(&e->self, &fwd) ? r : SLOW;
		}
	}
	if (m.proto == IPPROTO_TCP) {
		unsigned int u = tcp_update(ctx, e, dir, data, end, &m);
		if (u == VPC_TCP_REOPEN) {	/* a new connection */
			ct_delete(e, &fwd);
			return SLOW;
		}
		if (u != VPC_DROP_NONE)
			return (__u8)u;
	} else if (dir == 1 && e->trk.replies < 0xffff) {
		e->trk.replies++;
	}
	if (current) {
		/* The fast path: one lookup (two for a reply), the rewrite.
		 * The element is checked once more right before its action is
		 * used: a deleted one is reused by the map at once. */
		e->expires = now + entry_timeout(&t, e, a->vpc);
		struct vpc_xdp_action act = *a;
		if (!vpc_ct_key_eq(&e->self, &fwd))
			return SLOW;
		/* (one apply: inlined twice, it doubles the program) */
		__u32 len = bpf_ntohs(ip->tot_len);
		r = apply(data, end, &m, &act, v);
		if (VPC_UNLIKELY(flow_interval != 0) && r == VPC_DROP_NONE && kv != NULL)
			flow_count(kv, t.set, pi, act.out_slot, len, now);
		return r;
	}
	return SLOW;
}

SEC("xdp")
int
vpc_xdp(struct xdp_md *ctx)
{
	struct vpc_xdp_verdict v = { .action = VPC_ACT_DROP, .out_slot = 0xffffffff };
	struct vpc_xdp_stats *st = counters();
	__u32 slot, set = 0, z = 0;
	__u64 now;
	__u32 len = (__u32)(ctx->data_end - ctx->data);

	/* vpcctl capture, rx: the frame as it came, by its device (here,
	 * before anything else: a call further down made clang 14 read an
	 * undefined register on a path, "R4 !read_ok").  Never on in replay. */
	if (VPC_UNLIKELY(capture_on()))
		capture_frame(ctx, ctx->ingress_ifindex, VPC_XDP_CAP_RX);
	if (st == NULL)
		return XDP_ABORTED;
	if (replay_mode) {
		slot = replay_slot;
		now = replay_now;
	} else {
		__u32 ifindex = ctx->ingress_ifindex;
		__u32 *s;
		slot = 0xffffffff;
		if (ifindex < VPC_XDP_IFINDEX_LO) {
			s = bpf_map_lookup_elem(&if_slots_lo, &ifindex);
			if (s != NULL && *s != 0)
				slot = *s - 1;
		} else {
			s = bpf_map_lookup_elem(&if_slots, &ifindex);
			if (s != NULL)
				slot = *s;
		}
		if (slot == 0xffffffff) {
			st->packets++;
			st->drops[VPC_DROP_UNKNOWN_PORT]++;
			return XDP_DROP;	/* attached, but not (or no longer) a port */
		}
		now = bpf_ktime_get_ns();
	}

	__u32 src = VPC_INDEX_NONE;
	__u8 r = process(ctx, slot, now, &v, st, &set, &src);
	if (r == SLOW) {
		struct handoff *h = bpf_map_lookup_elem(&handoffs, &z);
		if (h != NULL) {
			h->now = now;
			h->set = set;
			h->slot = slot;
			h->len = len;
			h->src = src;
			bpf_tail_call(ctx, &slow_path, 0);
		}
		r = VPC_DROP_ENGINE;	/* the slow path is not loaded */
	}
	/* A reject on the fast path (an ACL on an established connection):
	 * at the interface it came from.  (Here, once the slow path is out
	 * of the way, and a function of its own: before the tail call, or
	 * inline, the branch made clang duplicate the program's tail, +600
	 * instructions.) */
	if (VPC_UNLIKELY(flow_interval != 0) && src == VPC_INDEX_NONE)
		vpc_flow_reject_port(ctx, set, slot, r, now);
	if (r == VPC_DROP_NONE && v.tunnel)
		r = encap(ctx, set, &v);
	return finish(ctx, slot, len, (__u32)(ctx->data_end - ctx->data), &v, r, st);
}

SEC("xdp")
int
vpc_xdp_slow(struct xdp_md *ctx)
{
	struct slow s;
	__u32 z = 0;
	__u8 r;

	/* The verdict, the packet's record and key: per-CPU scratch, not
	 * the stack (the call chains below fill it). */
	struct handoff *h = bpf_map_lookup_elem(&handoffs, &z);
	struct slow_scratch *sc = bpf_map_lookup_elem(&slow_scratch, &z);
	if (h == NULL || sc == NULL)
		return XDP_ABORTED;
	struct vpc_xdp_verdict *v = &sc->v;
	*v = (struct vpc_xdp_verdict){ .action = VPC_ACT_DROP, .out_slot = 0xffffffff };
	__u32 slot = h->slot, len = h->len;
	__u64 now = h->now;
	if (slow_setup(ctx, h->set, slot, h->src, sc, &s) < 0) {
		struct vpc_xdp_stats *st = counters();
		if (st == NULL)
			return XDP_ABORTED;
		return finish(ctx, slot, len, len, v, VPC_DROP_ENGINE, st);
	}
	if (!s.pi->is_uplink && vpc_dhcp_is_request(s.m)) {
		r = dhcp_answer(ctx, s.pi, slot, v);
		return finish(ctx, slot, len, (__u32)(ctx->data_end - ctx->data), v, r, s.st);
	}
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *sip = data + VPC_OFF_IP;
	if ((void *)(sip + 1) > end)
		return finish(ctx, slot, len, len, v, VPC_DROP_IP_TRUNCATED, s.st);
	if (!s.pi->is_uplink && VPC_UNLIKELY(sip->daddr == s.pi->gateway_ip) &&
	    s.m->proto == IPPROTO_TCP) {
		r = lb_health_answer(ctx, &s.t, s.pi, s.m);
		if (r != VPC_DROP_NO_INTERFACE) {
			if (r == VPC_DROP_NONE)
				set_send(v, VPC_ACT_REPLY, VPC_PATH_LB_HEALTH, slot);
			return finish(ctx, slot, len, (__u32)(ctx->data_end - ctx->data), v, r, s.st);
		}
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
	}
	if (s.m->frag == VPC_FRAG_LATER) {
		r = frag_later(data, end, s.pi->ctx, s.t.g->generation, now, v);
		if (r == VPC_DROP_NONE &&
		    (v->path == VPC_PATH_OVERLAY_SWITCH || v->path == VPC_PATH_OVERLAY_ROUTED))
			r = frag_tunnel(&s.t, s.pi, s.m, data, end, v);
	} else {
		struct vpc_ct_key fwd;
		int dir;
		struct vpc_xdp_ct *e = ct_resolve(s.key, ct_get(s.key), &fwd, &dir);
		if (s.m->frag == VPC_FRAG_FIRST)	/* the fast program left it here */
			VPC_TRACE(VPC_TR_CONN, e != NULL, dir, 0, e != NULL ? e->trk.state : 0);
		if (e == NULL)
			r = new_conn(ctx, &s.t, slot, s.pi, s.m, data, end, s.key, now, v, s.st);
		else
			r = refresh(ctx, &s.t, slot, s.pi, s.m, data, end, e, dir, &fwd, now, v);
		/* Flow logs: a forwarded packet of a connection -- one just
		 * opened (its value's counters empty), or refreshed -- counts
		 * in its direction's value (an ICMP error has none).  Here,
		 * after the fact, so refresh and open_conn keep nothing more
		 * live (the frame is at Debian 12's limit). */
		if (VPC_UNLIKELY(flow_interval != 0) && r == VPC_DROP_NONE &&
		    v->action == VPC_ACT_FORWARD)
			vpc_flow_count_key(ctx, s.key, s.pi, s.t.set << 16 | v->out_slot, now);
		if (s.m->frag == VPC_FRAG_FIRST && r == VPC_DROP_NONE && v->action == VPC_ACT_FORWARD)
			frag_first((void *)(long)ctx->data, (void *)(long)ctx->data_end, s.key, v,
				   s.t.g->generation, now);
	}
	/* A reject: at the interface it came from, or the local one it was for. */
	if (VPC_UNLIKELY(flow_interval != 0) && r != VPC_DROP_NONE)
		vpc_flow_reject(ctx, flow_src_iface(s.pi), sc->natgw.hint.receiver,
				s.t.set << 8 | r, (__u32)(now / 1000000000ull));
	if (r == VPC_DROP_NONE && v->tunnel)
		r = encap(ctx, s.t.set, v);
	return finish(ctx, slot, len, (__u32)(ctx->data_end - ctx->data), v, r, s.st);
}

/* vpc-replay --bench's baseline: what a test run of a program that does
 * nothing costs (the kernel's timing of one run included). */
SEC("xdp")
int
vpc_xdp_baseline(struct xdp_md *ctx)
{
	return XDP_DROP;
}
