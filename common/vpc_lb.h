/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_lb.h -- network load balancers (AWS's NLB), one source for every
 * engine: the records an engine keeps of a balancer, its listeners and
 * target groups; the choice of a new connection's target; the health
 * checks' frames (the probe the engine sends, the answer it reads, the
 * reset it answers a SYN-ACK with).
 *
 * Choosing a target.  A connection to a listener is delivered to one
 * member of the listener's target group, chosen among the healthy members
 * (a bit mask the health checker writes), or among all when none is
 * healthy (AWS's fail-open).  The connection entry then remembers the
 * target: every later packet of the flow goes there in one lookup, and
 * nothing below runs again for it.
 *  - hash: rendezvous (highest random weight) hashing of the client's
 *    5-tuple: each member scores mix(flow hash ^ its seed), the highest
 *    wins.  A member that leaves the healthy set (or the group) moves
 *    exactly the flows it had, and one that joins takes only flows from
 *    the others in proportion -- the property Maglev approximates with a
 *    lookup table, here exact, with no table to rebuild when health
 *    changes, and a loop of at most VPC_LB_MAX_TARGETS steps that BPF can
 *    run as it is (new connections only).
 *  - round_robin: the k-th eligible member, k a counter per target group
 *    and per lcore (CPU): no shared write.
 *  - weighted_round_robin: the same over the members' weights (a member
 *    of weight w takes w consecutive turns of every sum-of-weights).

 * (least_connections is refused by the validator for now: the engines
 * keep no per-target count of open connections yet.)
 *
 * Health checks (TCP, as an NLB's).  The engine sends each target a SYN
 * from the VPC router's address in the target's subnet to its
 * health-check port, with a sequence number that names the target and
 * the probe (VPC_LB_HC_TOKEN); the target's SYN-ACK (acknowledging it)
 * counts healthy and is answered with a reset, built in place of the
 * SYN-ACK; its reset counts unhealthy; silence until the timeout counts
 * unhealthy.  The engine's source stage sees the answers (a TCP segment
 * to its subnet's router address from a health-check port) and records
 * them; the checker (lib/lb_health.c, user space) keeps the states.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Stateless: any thread.
 */
#ifndef VPC_LB_H
#define VPC_LB_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_image.h"
#include "vpc_key.h"
#include "vpc_pkt.h"

#define VPC_LB_MAX_LISTENERS 50	/* per balancer (AWS's quota): the scan's bound */

/* A balancer as the engines keep it (by its index in the image). */
struct vpc_lb_rec {
	uint32_t vpc;
	uint32_t addr;		/* network order: the private address (internal)
				 * or the elastic IP (internet-facing) */
	uint32_t first_listener;	/* into the listener records */
	uint16_t n_listeners;	/* <= VPC_LB_MAX_LISTENERS */
	uint8_t internet;	/* internet-facing */
	uint8_t has_sgs;	/* its own groups filter what reaches it */
	uint32_t sg_class;	/* their ingress classifier (has_sgs) */
	uint32_t subnet;	/* internal: its subnet (ARP is answered there) */
};
_Static_assert(sizeof(struct vpc_lb_rec) == 24, "balancer record layout");

struct vpc_lb_listener_rec {
	uint8_t proto;
	uint8_t pad;
	uint16_t port;		/* network order */
	uint32_t tgroup;
};
_Static_assert(sizeof(struct vpc_lb_listener_rec) == 8, "listener record layout");

/* A target group with its members inline: one lookup finds them all. */
struct vpc_lb_member {
	uint32_t ip;		/* network order */
	uint32_t iface;		/* index into the interfaces */
	uint16_t port;		/* network order */
	uint16_t weight;
	uint32_t seed;		/* the rendezvous hash's, from ip and port */
};

struct vpc_lb_group_rec {
	uint16_t n;		/* members, <= VPC_LB_MAX_TARGETS */
	uint8_t algorithm;	/* enum vpc_lb_algorithm */
	uint8_t pad;
	uint32_t first_target;	/* the image's index of member 0 (health, counts) */
	struct vpc_lb_member m[VPC_LB_MAX_TARGETS];
};
_Static_assert(sizeof(struct vpc_lb_group_rec) == 8 + 16 * VPC_LB_MAX_TARGETS,
	       "target group record layout");

/* What a health check's answer is checked against: by the image's target
 * index (the token names it). */
struct vpc_lb_hc_rec {
	uint32_t ip;		/* network order: the target */
	uint16_t hc_port;	/* network order */
	uint16_t sport;		/* network order: the probes' source port */
};

/* What the dataplane saw of the last answer to a target's probes (it
 * writes, the checker reads). */
enum vpc_lb_answer_kind { VPC_LB_ANS_NONE = 0, VPC_LB_ANS_SYNACK = 1, VPC_LB_ANS_RST = 2 };
struct vpc_lb_answer {
	uint32_t token;		/* the probe's sequence number */
	uint32_t kind;		/* enum vpc_lb_answer_kind */
};

static inline __attribute__((always_inline)) uint32_t
vpc_lb_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

/* A member's seed: its address and port. */
static inline __attribute__((always_inline)) uint32_t
vpc_lb_seed(uint32_t ip, uint16_t port)
{
	return vpc_lb_mix(ip ^ vpc_lb_mix((uint32_t)port | 0x10000u));
}

/* The flow hash of a connection's first packet (its key as it arrived). */
static inline __attribute__((always_inline)) uint32_t
vpc_lb_flow_hash(const struct vpc_ct_key *k)
{
	return vpc_lb_mix(k->src ^ vpc_lb_mix(k->dst ^ vpc_lb_mix(
		((uint32_t)k->sport << 16 | k->dport) ^ vpc_lb_mix(k->ctx_proto & 0xff))));
}

/* The listener of balancer lb for (proto, port network order), or
 * VPC_INDEX_NONE.  VPC_LB_LISTENER(ctx, i) is the engine's way to its
 * listener record i (a pointer, NULL past the end). */
#define VPC_LB_FIND_LISTENER(ctx, lb, proto_, port_, out)                              \
	do {                                                                           \
		(out) = VPC_INDEX_NONE;                                                \
		for (uint32_t li_ = 0; li_ < VPC_LB_MAX_LISTENERS; li_++) {            \
			if (li_ >= (lb)->n_listeners)                                   \
				break;                                                 \
			const struct vpc_lb_listener_rec *l_ =                          \
				VPC_LB_LISTENER(ctx, (lb)->first_listener + li_);       \
			if (l_ == 0)                                                   \
				break;                                                 \
			if (l_->proto == (proto_) && l_->port == (port_)) {            \
				(out) = (lb)->first_listener + li_;                     \
				break;                                                 \
			}                                                              \
		}                                                                      \
	} while (0)

/*
 * The member of group g a new connection goes to, in steps over the
 * members, so that BPF can run them by bpf_loop() (one callback, verified
 * once) and C by a loop: vpc_lb_choice_init(), then
 * vpc_lb_choice_step(c, i) for i = 0.. until it returns 1 (at most
 * VPC_LB_CHOICE_STEPS), then c->best: a member, or VPC_INDEX_NONE when g
 * has none.  healthy: bit i for member i; hash: vpc_lb_flow_hash of the
 * connection; turn: the group's round-robin counter (this lcore's).
 * Round robin and weighted round robin take two passes over the members
 * (the eligible total, then the turn's member); the hash one.
 */
#define VPC_LB_CHOICE_STEPS (2 * VPC_LB_MAX_TARGETS)

struct vpc_lb_choice {
	const struct vpc_lb_group_rec *g;
	uint64_t set;		/* eligible members */
	uint32_t hash_turn;	/* hash: the flow's; round robin: the turn */
	uint32_t total;		/* eligible turns: members, or their weights */
	uint32_t best;		/* the answer so far */
	uint32_t best_score;
};

static inline __attribute__((always_inline)) void
vpc_lb_choice_init(struct vpc_lb_choice *c, const struct vpc_lb_group_rec *g, uint64_t healthy,
		   uint32_t hash, uint32_t turn)
{
	uint32_t n = g->n < VPC_LB_MAX_TARGETS ? g->n : VPC_LB_MAX_TARGETS;
	uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1;

	c->g = g;
	c->set = healthy & all;
	if (c->set == 0)
		c->set = all;			/* fail-open */
	c->hash_turn = g->algorithm == VPC_LB_HASH ? hash : turn;
	c->total = 0;
	c->best = VPC_INDEX_NONE;
	c->best_score = 0;
}

/* Step i of the choice (see above): 1 when it is done.  Members past the
 * group's are never in the set. */
static inline __attribute__((always_inline)) int
vpc_lb_choice_step(struct vpc_lb_choice *c, uint32_t i)
{
	const struct vpc_lb_group_rec *g = c->g;
	uint8_t alg = g->algorithm;
	int two_pass = alg != VPC_LB_HASH;
	uint32_t pass = i >= VPC_LB_MAX_TARGETS;
	uint32_t m = i & (VPC_LB_MAX_TARGETS - 1);

	if (i >= VPC_LB_CHOICE_STEPS || (pass && !two_pass))
		return 1;
	if (m == 0 && pass) {
		if (c->total == 0)
			return 1;		/* nothing eligible: none */
		c->hash_turn %= c->total;	/* the second pass from member 0 */
	}
	if (!(c->set >> m & 1))
		return 0;
	if (two_pass) {
		uint32_t w = alg == VPC_LB_WEIGHTED_ROUND_ROBIN ? g->m[m].weight : 1;
		if (!pass) {
			c->total += w;
			return 0;
		}
		if (c->hash_turn < w) {
			c->best = m;
			return 1;
		}
		c->hash_turn -= w;
		return 0;
	}
	uint32_t s = vpc_lb_mix(c->hash_turn ^ g->m[m].seed);
	if (c->best == VPC_INDEX_NONE || s > c->best_score) {
		c->best = m;
		c->best_score = s;
	}
	return 0;
}

#ifndef __bpf__
/* The whole choice, as a loop (user space and the DPDK engine). */
static inline uint32_t
vpc_lb_choose(const struct vpc_lb_group_rec *g, uint64_t healthy, uint32_t hash, uint32_t turn)
{
	struct vpc_lb_choice c;

	vpc_lb_choice_init(&c, g, healthy, hash, turn);
	for (uint32_t i = 0; i < VPC_LB_CHOICE_STEPS; i++)
		if (vpc_lb_choice_step(&c, i))
			break;
	return c.best;
}
#endif

/* ---- health checks ---- */

/* A probe's sequence number: the image's target index and the probe's
 * number (at most 2^18 targets). */
#define VPC_LB_HC_TOKEN(target, n) ((uint32_t)(target) << 14 | ((n) & 0x3fffu))
#define VPC_LB_HC_TARGET(token) ((token) >> 14)
/* The probes' source port of a target: an ephemeral one (network order). */
#define VPC_LB_HC_SPORT(target) ((uint16_t)__builtin_bswap16((uint16_t)(49152u + ((target) & 0x3fffu))))

#define VPC_LB_PROBE_LEN 58	/* Ethernet, IPv4, TCP with an MSS option */
#define VPC_LB_RST_LEN 54	/* Ethernet, IPv4, TCP */

/* Sum of n 16-bit words at p (n constant in every caller). */
static inline __attribute__((always_inline)) uint32_t
vpc_lb_sum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;
	VPC_UNROLL
	for (uint32_t i = 0; i < n; i++)
		s += vpc_load16(p + 2 * i);
	return s;
}

/* IPv4 (20 bytes at ip, no options) and TCP (tcp_len bytes after it):
 * both checksums computed whole. */
static inline __attribute__((always_inline)) void
vpc_lb_checksums(uint8_t *ip, uint32_t tcp_len)
{
	uint8_t *tcp = ip + 20;

	vpc_store16(ip + 10, 0);
	vpc_store16(ip + 10, (uint16_t)~vpc_csum_fold(vpc_lb_sum(ip, 10)));
	vpc_store16(tcp + 16, 0);
	uint32_t s = vpc_lb_sum(ip + 12, 4) + VPC_BE16(6) + __builtin_bswap16((uint16_t)tcp_len);
	s += tcp_len == 24 ? vpc_lb_sum(tcp, 12) : vpc_lb_sum(tcp, 10);
	vpc_store16(tcp + 16, (uint16_t)~vpc_csum_fold(s));
}

/* IPv4 header of a 40 + opt byte TCP segment, TTL 64, DF. */
static inline __attribute__((always_inline)) void
vpc_lb_ip_header(uint8_t *ip, uint32_t src, uint32_t dst, uint32_t tcp_len)
{
	ip[0] = 0x45;
	ip[1] = 0;
	vpc_store16(ip + 2, __builtin_bswap16((uint16_t)(20 + tcp_len)));
	vpc_store16(ip + 4, 0);
	vpc_store16(ip + 6, VPC_BE16(0x4000));
	ip[8] = 64;
	ip[9] = 6;
	vpc_store32(ip + 12, src);
	vpc_store32(ip + 16, dst);
}

/*
 * The probe of a target: VPC_LB_PROBE_LEN bytes at f, from the router
 * (router_mac, gateway: its subnet's router address) to the target (mac,
 * ip, hc_port), source port sport, sequence number token.
 */
static inline void
vpc_lb_probe_frame(uint8_t *f, const uint8_t *router_mac, const uint8_t *mac, uint32_t gateway,
		   uint32_t ip, uint16_t sport, uint16_t hc_port, uint32_t token)
{
	__builtin_memcpy(f, mac, 6);
	__builtin_memcpy(f + 6, router_mac, 6);
	vpc_store16(f + 12, VPC_BE16(VPC_ETH_P_IP));
	vpc_lb_ip_header(f + 14, gateway, ip, 24);
	uint8_t *t = f + 34;
	vpc_store16(t, sport);
	vpc_store16(t + 2, hc_port);
	vpc_store32(t + 4, __builtin_bswap32(token));
	vpc_store32(t + 8, 0);
	t[12] = 6 << 4;			/* 24 bytes: the MSS option */
	t[13] = 0x02;			/* SYN */
	vpc_store16(t + 14, VPC_BE16(64240));
	vpc_store16(t + 18, 0);
	t[20] = 2, t[21] = 4;		/* MSS 1460 */
	vpc_store16(t + 22, VPC_BE16(1460));
	vpc_lb_checksums(f + 14, 24);
}

/*
 * Is the TCP segment at l4 (of the frame at f, the IPv4 header at f + 14
 * without options, l4_len bytes of IP payload) an answer to a probe?  The
 * engine checks the rest: that it is addressed to its subnet's router
 * address, comes from an interface's own port, and that the token's
 * target has that address, health-check port and probe port.  Returns the
 * kind (SYN-ACK, reset; NONE: not an answer) and the token.
 */
static inline __attribute__((always_inline)) uint32_t
vpc_lb_answer_kind(const uint8_t *l4, uint8_t flags, uint32_t *token)
{
	uint32_t ack = __builtin_bswap32(vpc_load32(l4 + 8));
	uint32_t seq = __builtin_bswap32(vpc_load32(l4 + 4));

	if ((flags & 0x17) == 0x12) {	/* SYN-ACK (no FIN, no RST) */
		*token = ack - 1;
		return VPC_LB_ANS_SYNACK;
	}
	if (flags & 0x04) {		/* RST: ACK of the SYN, or a bare reset */
		*token = flags & 0x10 ? ack - 1 : seq - 1;
		return VPC_LB_ANS_RST;
	}
	return VPC_LB_ANS_NONE;
}

/*
 * A SYN-ACK answering a probe, made in place into the reset the checker
 * answers it with (so the target frees its half-open connection): the
 * first VPC_LB_RST_LEN bytes of f (the engine trims the frame to that),
 * back to the sender from the router.
 */
static inline __attribute__((always_inline)) void
vpc_lb_rst_in_place(uint8_t *f, const uint8_t *router_mac)
{
	uint8_t *ip = f + 14, *t = f + 34;
	uint32_t src = vpc_load32(ip + 12), dst = vpc_load32(ip + 16);
	uint16_t sp = vpc_load16(t), dp = vpc_load16(t + 2);
	uint32_t ack = vpc_load32(t + 8);

	__builtin_memcpy(f, f + 6, 6);
	__builtin_memcpy(f + 6, router_mac, 6);
	vpc_lb_ip_header(ip, dst, src, 20);
	vpc_store16(t, dp);
	vpc_store16(t + 2, sp);
	vpc_store32(t + 4, ack);		/* the SYN-ACK acknowledged seq + 1 */
	vpc_store32(t + 8, 0);
	t[12] = 5 << 4;
	t[13] = 0x04;				/* RST */
	vpc_store16(t + 14, 0);
	vpc_store16(t + 18, 0);
	vpc_lb_checksums(ip, 20);
}

#endif /* VPC_LB_H */
