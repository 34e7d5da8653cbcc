/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_tcp.h -- TCP connection tracking, one source for every engine: the
 * state machine, the RST window check and window scaling, over an
 * engine-neutral segment record (what the engine read from the packet)
 * and the tracking record both engines' connection entries embed
 * (vpc_ct_track.h).
 *
 * Freestanding: no libc, no DPDK, no libbpf; gcc builds it for the DPDK
 * engine and the tests, clang -target bpf for the XDP program.
 *
 * What the including engine provides, defined before the include:
 *   VPC_TCP_WSCALE(ctx)  the window-scale option of the SYN-ACK being
 *                        tracked (0..14), or 0xff when it has none: each
 *                        engine keeps its own TCP option walker (the one
 *                        place where the verifier needs another shape).
 *                        ctx is the opaque pointer given to vpc_tcp_update.
 *
 * Concurrency: a tracking record belongs to one connection entry; the
 * engines' notes say who writes it (plain stores: the two directions of
 * a connection on two CPUs may race on a timestamp or a window, never on
 * the entry's identity).
 */
#ifndef VPC_TCP_H
#define VPC_TCP_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_ct_track.h"
#include "vpc_pkt.h"
#include "vpc_reasons.h"	/* drop reasons */
#include "vpc_trace.h"

#ifndef VPC_TCP_WSCALE
#error "define VPC_TCP_WSCALE(ctx) before including vpc_tcp.h"
#endif

/* TCP header flags (RFC 9293). */
#define VPC_TCP_FIN 0x01
#define VPC_TCP_SYN 0x02
#define VPC_TCP_RST 0x04
#define VPC_TCP_PSH 0x08
#define VPC_TCP_ACK 0x10

/* What vpc_tcp_update() says of a segment besides a drop reason. */
enum vpc_tcp_verdict {
	VPC_TCP_REOPEN = 0x100,	/* a SYN over a closed connection: open anew */
};

/* One segment, as the engine read it (host byte order). */
struct vpc_tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t len;		/* sequence space: payload + SYN + FIN */
	uint16_t win;		/* the window field, unscaled */
	uint8_t flags;		/* VPC_TCP_* */
	uint8_t pad;
};

/* The segment record of the TCP header at tcp (the packet m; the frame
 * ends at end): 0, or -1 when the header is not inside the frame. */
static inline __attribute__((always_inline)) int
vpc_tcp_seg_read(const uint8_t *tcp, const uint8_t *end, const struct vpc_pkt *m,
		 struct vpc_tcp_seg *s)
{
	if (tcp + 20 > end)
		return -1;
	s->seq = __builtin_bswap32(vpc_load32(tcp + 4));
	s->ack = __builtin_bswap32(vpc_load32(tcp + 8));
	s->win = __builtin_bswap16(vpc_load16(tcp + 14));
	s->flags = m->tcp_flags;
	s->pad = 0;
	s->len = m->l4_len - (uint32_t)(tcp[12] >> 4) * 4 + !!(m->tcp_flags & VPC_TCP_SYN) +
		 !!(m->tcp_flags & VPC_TCP_FIN);
	return 0;
}

/* Record what a segment of direction dir sent and advertised. */
static inline __attribute__((always_inline)) void
vpc_tcp_track(struct vpc_ct_track *t, unsigned int dir, const struct vpc_tcp_seg *s)
{
	uint32_t end = s->seq + s->len;
	uint32_t win = s->win;

	dir &= 1;
	if ((int32_t)(end - t->end[dir]) > 0 || t->end[dir] == 0)
		t->end[dir] = end;
	/* Scaling applies once both sides announced it (RFC 7323). */
	if (!(s->flags & VPC_TCP_SYN) && t->wscale[0] != 0xff && t->wscale[1] != 0xff)
		win <<= t->wscale[dir] & 15;
	if (win > t->maxwin[dir])
		t->maxwin[dir] = win;
}

/*
 * A reset is believed when its sequence number lies within the window the
 * receiver advertised around what the sender has sent (RFC 5961's spirit,
 * as Linux does): a stray or forged RST cannot end a connection.  The
 * answer to a SYN must acknowledge it.
 */
static inline __attribute__((always_inline)) int
vpc_tcp_rst_ok(const struct vpc_ct_track *t, unsigned int dir, const struct vpc_tcp_seg *s)
{
	dir &= 1;
	if (t->state == VPC_CT_TCP_SYN_SENT && dir == 1)
		return (s->flags & VPC_TCP_ACK) && s->ack == t->end[0];
	uint32_t w = t->maxwin[!dir] ? t->maxwin[!dir] : 65535;
	return (uint32_t)(s->seq - t->end[dir] + w) <= 2 * w;
}

/* The tracking record of a connection opened by SYN s (direction 0);
 * wscale: the SYN's window-scale option, 0xff when none. */
static inline __attribute__((always_inline)) void
vpc_tcp_open(struct vpc_ct_track *t, const struct vpc_tcp_seg *s, uint8_t wscale)
{
	t->state = VPC_CT_TCP_SYN_SENT;
	t->wscale[0] = wscale;
	t->wscale[1] = 0xff;
	vpc_tcp_track(t, 0, s);
}

/*
 * Advance a TCP connection with a segment of direction dir.  Returns
 * VPC_DROP_NONE to forward, a drop reason, or VPC_TCP_REOPEN when the
 * segment opens a new connection over this one (a SYN after a reset or a
 * close).
 */
static inline __attribute__((always_inline)) unsigned int
vpc_tcp_step(struct vpc_ct_track *t, unsigned int dir, const struct vpc_tcp_seg *s,
	     void *ctx)
{
	uint8_t f = s->flags;
	int syn = f & VPC_TCP_SYN, ack = f & VPC_TCP_ACK;

	(void)ctx;
	dir &= 1;
	if (f & VPC_TCP_RST) {
		if (!vpc_tcp_rst_ok(t, dir, s))
			return VPC_DROP_TCP_BAD_RST;
		t->state = VPC_CT_TCP_CLOSE;
		return VPC_DROP_NONE;
	}
	switch (t->state) {
	case VPC_CT_TCP_CLOSE:
	case VPC_CT_TCP_TIME_WAIT:
		if (dir == 0 && syn && !ack)
			return VPC_TCP_REOPEN;	/* the port is reused */
		if (t->state == VPC_CT_TCP_CLOSE)
			return VPC_DROP_TCP_CLOSED;
		break;
	case VPC_CT_TCP_SYN_SENT:
		if (dir == 1 && syn && ack) {
			t->wscale[1] = (uint8_t)VPC_TCP_WSCALE(ctx);
			t->state = VPC_CT_TCP_SYN_RECV;
		}
		break;
	case VPC_CT_TCP_SYN_RECV:
		if (dir == 0 && ack && !syn)
			t->state = VPC_CT_TCP_ESTABLISHED;
		break;
	default:
		break;
	}
	if (f & VPC_TCP_FIN) {
		t->fin_seen |= (uint8_t)(1u << dir);
		t->state = t->fin_seen == 3 ? VPC_CT_TCP_TIME_WAIT : VPC_CT_TCP_FIN_WAIT;
	}
	vpc_tcp_track(t, dir, s);
	return VPC_DROP_NONE;
}

static inline __attribute__((always_inline)) unsigned int
vpc_tcp_update(struct vpc_ct_track *t, unsigned int dir, const struct vpc_tcp_seg *s,
	       void *ctx)
{
#ifdef VPC_TRACING
	uint8_t before = t->state;
	unsigned int r = vpc_tcp_step(t, dir, s, ctx);
	VPC_TRACE(VPC_TR_TCP, before, t->state, r, 0);
	return r;
#else
	return vpc_tcp_step(t, dir, s, ctx);
#endif
}

#endif /* VPC_TCP_H */
