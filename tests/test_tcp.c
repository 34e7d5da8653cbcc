/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tcp -- the shared TCP tracker (common/vpc_tcp.h), driven directly:
 * tables of segments, each with the verdict and the state it must leave,
 * including the RST window and window scaling.  The same header is what
 * both engines run (the DPDK pipeline and the XDP program).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* The option walker is the engines' own: here each step says what the
 * SYN-ACK announced. */
static uint8_t next_wscale = 0xff;
#define VPC_TCP_WSCALE(ctx) ((void)(ctx), next_wscale)
#include "vpc_names.h"
#include "vpc_tcp.h"

#define S VPC_TCP_SYN
#define A VPC_TCP_ACK
#define F VPC_TCP_FIN
#define R VPC_TCP_RST

struct step {
	unsigned int dir;
	uint8_t flags;
	uint32_t seq, ack, len;	/* len: payload bytes (SYN/FIN added here) */
	uint16_t win;
	uint8_t wscale;		/* a SYN-ACK's option (0xff: none) */
	unsigned int want;	/* VPC_DROP_* or VPC_TCP_REOPEN */
	uint8_t want_state;
};

static struct vpc_tcp_seg
seg_of(const struct step *s)
{
	return (struct vpc_tcp_seg){
		.seq = s->seq, .ack = s->ack, .win = s->win, .flags = s->flags,
		.len = s->len + !!(s->flags & S) + !!(s->flags & F),
	};
}

/* Open with steps[0] (a SYN, direction 0; its wscale is the SYN's), then
 * feed the rest, checking each verdict and state. */
static void
run(const struct step *steps, size_t n)
{
	struct vpc_ct_track t;
	struct vpc_tcp_seg s0 = seg_of(&steps[0]);

	memset(&t, 0, sizeof(t));
	vpc_tcp_open(&t, &s0, steps[0].wscale);
	assert_int_equal(t.state, VPC_CT_TCP_SYN_SENT);
	for (size_t i = 1; i < n; i++) {
		struct vpc_tcp_seg s = seg_of(&steps[i]);
		next_wscale = steps[i].wscale;
		unsigned int got = vpc_tcp_update(&t, steps[i].dir, &s, NULL);
		if (got != steps[i].want || t.state != steps[i].want_state)
			fail_msg("step %zu: verdict %u state %s, want %u %s", i, got,
				 vpc_ct_state_name(t.state), steps[i].want,
				 vpc_ct_state_name(steps[i].want_state));
	}
}

#define NONE VPC_DROP_NONE
#define X 0xff

static void
test_handshake_and_close(void **state)
{
	(void)state;
	const struct step s[] = {
		{ 0, S, 100, 0, 0, 65535, X, NONE, VPC_CT_TCP_SYN_SENT },
		{ 1, S | A, 500, 101, 0, 65535, X, NONE, VPC_CT_TCP_SYN_RECV },
		{ 0, A, 101, 501, 0, 65535, X, NONE, VPC_CT_TCP_ESTABLISHED },
		{ 0, A, 101, 501, 100, 65535, X, NONE, VPC_CT_TCP_ESTABLISHED },
		{ 1, A, 501, 201, 50, 65535, X, NONE, VPC_CT_TCP_ESTABLISHED },
		{ 0, F | A, 201, 551, 0, 65535, X, NONE, VPC_CT_TCP_FIN_WAIT },
		{ 1, A, 551, 202, 0, 65535, X, NONE, VPC_CT_TCP_FIN_WAIT },
		{ 1, F | A, 551, 202, 0, 65535, X, NONE, VPC_CT_TCP_TIME_WAIT },
		{ 0, A, 202, 552, 0, 65535, X, NONE, VPC_CT_TCP_TIME_WAIT },
		/* the port reused: a new connection over the old one */
		{ 0, S, 9000, 0, 0, 65535, X, VPC_TCP_REOPEN, VPC_CT_TCP_TIME_WAIT },
	};
	run(s, sizeof(s) / sizeof(s[0]));
}

static void
test_syn_recv_needs_the_opener_s_ack(void **state)
{
	(void)state;
	const struct step s[] = {
		{ 0, S, 100, 0, 0, 65535, X, NONE, VPC_CT_TCP_SYN_SENT },
		/* data from the responder before the SYN-ACK: no state change */
		{ 1, A, 500, 101, 0, 65535, X, NONE, VPC_CT_TCP_SYN_SENT },
		{ 1, S | A, 500, 101, 0, 65535, X, NONE, VPC_CT_TCP_SYN_RECV },
		/* the responder's ACK does not establish it; the opener's does */
		{ 1, A, 501, 101, 0, 65535, X, NONE, VPC_CT_TCP_SYN_RECV },
		{ 0, S | A, 101, 501, 0, 65535, X, NONE, VPC_CT_TCP_SYN_RECV },
		{ 0, A, 101, 501, 0, 65535, X, NONE, VPC_CT_TCP_ESTABLISHED },
	};
	run(s, sizeof(s) / sizeof(s[0]));
}

/* RFC 5961's spirit: a reset is believed inside the window only. */
static void
test_rst_window(void **state)
{
	(void)state;
	const struct step s[] = {
		{ 0, S, 1000, 0, 0, 1000, X, NONE, VPC_CT_TCP_SYN_SENT },
		{ 1, S | A, 5000, 1001, 0, 2000, X, NONE, VPC_CT_TCP_SYN_RECV },
		{ 0, A, 1001, 5001, 0, 1000, X, NONE, VPC_CT_TCP_ESTABLISHED },
		/* direction 1 sent up to 5001; direction 0 advertised 1000:
		 * 5001 +- 1000 is believed */
		{ 1, R, 7000, 0, 0, 0, X, VPC_DROP_TCP_BAD_RST, VPC_CT_TCP_ESTABLISHED },
		{ 1, R, 6002, 0, 0, 0, X, VPC_DROP_TCP_BAD_RST, VPC_CT_TCP_ESTABLISHED },
		{ 1, R, 4000, 0, 0, 0, X, VPC_DROP_TCP_BAD_RST, VPC_CT_TCP_ESTABLISHED },
		{ 1, R, 6001, 0, 0, 0, X, NONE, VPC_CT_TCP_CLOSE },
		/* closed: only a new SYN of the opener goes on */
		{ 0, A, 1001, 5001, 10, 1000, X, VPC_DROP_TCP_CLOSED, VPC_CT_TCP_CLOSE },
		{ 1, S, 100, 0, 0, 1000, X, VPC_DROP_TCP_CLOSED, VPC_CT_TCP_CLOSE },
		{ 0, S, 3000, 0, 0, 1000, X, VPC_TCP_REOPEN, VPC_CT_TCP_CLOSE },
	};
	run(s, sizeof(s) / sizeof(s[0]));
}

/* The answer to a SYN may reset it only by acknowledging it. */
static void
test_rst_answering_a_syn(void **state)
{
	(void)state;
	const struct step s[] = {
		{ 0, S, 1000, 0, 0, 1000, X, NONE, VPC_CT_TCP_SYN_SENT },
		{ 1, R, 0, 0, 0, 0, X, VPC_DROP_TCP_BAD_RST, VPC_CT_TCP_SYN_SENT },
		{ 1, R | A, 0, 1000, 0, 0, X, VPC_DROP_TCP_BAD_RST, VPC_CT_TCP_SYN_SENT },
		{ 1, R | A, 0, 1001, 0, 0, X, NONE, VPC_CT_TCP_CLOSE },
	};
	run(s, sizeof(s) / sizeof(s[0]));
}

/* Windows are scaled once both sides announced a scale (RFC 7323), and a
 * reset's window is the scaled one. */
static void
test_window_scaling(void **state)
{
	(void)state;
	const struct step scaled[] = {
		{ 0, S, 1000, 0, 0, 1000, 7, NONE, VPC_CT_TCP_SYN_SENT },
		{ 1, S | A, 5000, 1001, 0, 1000, 7, NONE, VPC_CT_TCP_SYN_RECV },
		{ 0, A, 1001, 5001, 0, 1000, X, NONE, VPC_CT_TCP_ESTABLISHED },
		/* direction 0 now advertises 1000 << 7 = 128,000 */
		{ 1, R, 5001 + 100000, 0, 0, 0, X, NONE, VPC_CT_TCP_CLOSE },
	};
	run(scaled, sizeof(scaled) / sizeof(scaled[0]));
	const struct step one_sided[] = {
		{ 0, S, 1000, 0, 0, 1000, 7, NONE, VPC_CT_TCP_SYN_SENT },
		{ 1, S | A, 5000, 1001, 0, 1000, X, NONE, VPC_CT_TCP_SYN_RECV },
		{ 0, A, 1001, 5001, 0, 1000, X, NONE, VPC_CT_TCP_ESTABLISHED },
		/* only one side announced: no scaling, 100,000 is outside */
		{ 1, R, 5001 + 100000, 0, 0, 0, X, VPC_DROP_TCP_BAD_RST, VPC_CT_TCP_ESTABLISHED },
	};
	run(one_sided, sizeof(one_sided) / sizeof(one_sided[0]));

	/* The record itself: scale, largest window, highest end. */
	struct vpc_ct_track t;
	memset(&t, 0, sizeof(t));
	struct vpc_tcp_seg syn = { .seq = 10, .win = 500, .flags = S, .len = 1 };
	vpc_tcp_open(&t, &syn, 3);
	assert_int_equal(t.end[0], 11);
	assert_int_equal(t.maxwin[0], 500);	/* a SYN's window is never scaled */
	next_wscale = 16;	/* more than 14 is taken as the walker gave it */
	struct vpc_tcp_seg sa = { .seq = 90, .ack = 11, .win = 300, .flags = S | A, .len = 1 };
	assert_int_equal(vpc_tcp_update(&t, 1, &sa, NULL), VPC_DROP_NONE);
	assert_int_equal(t.wscale[1], 16);
	struct vpc_tcp_seg a = { .seq = 11, .ack = 91, .win = 2, .flags = A, .len = 0 };
	assert_int_equal(vpc_tcp_update(&t, 0, &a, NULL), VPC_DROP_NONE);
	assert_int_equal(t.maxwin[0], 500);	/* 2 << 3 = 16 < 500 */
	struct vpc_tcp_seg b = { .seq = 91, .ack = 11, .win = 1000, .flags = A, .len = 0 };
	assert_int_equal(vpc_tcp_update(&t, 1, &b, NULL), VPC_DROP_NONE);
	assert_int_equal(t.maxwin[1], 1000);	/* the shift masked to 0..15: 16 & 15 = 0 */
}

/* The sequence end only moves forward (serial arithmetic). */
static void
test_end_moves_forward(void **state)
{
	(void)state;
	struct vpc_ct_track t;
	memset(&t, 0, sizeof(t));
	struct vpc_tcp_seg syn = { .seq = 0xfffffff0u, .win = 100, .flags = S, .len = 1 };
	vpc_tcp_open(&t, &syn, 0xff);
	struct vpc_tcp_seg wrap = { .seq = 0xfffffff1u, .win = 100, .flags = A, .len = 0x20 };
	vpc_tcp_track(&t, 0, &wrap);
	assert_int_equal(t.end[0], 0x11);
	struct vpc_tcp_seg old = { .seq = 0xfffffff1u, .win = 100, .flags = A, .len = 1 };
	vpc_tcp_track(&t, 0, &old);
	assert_int_equal(t.end[0], 0x11);
}

static void
test_timeout_classes(void **state)
{
	(void)state;
	static const struct { uint8_t st; uint16_t replies; int cls; } c[] = {
		{ VPC_CT_TCP_SYN_SENT, 0, VPC_TO_TCP_OPENING },
		{ VPC_CT_TCP_SYN_RECV, 0, VPC_TO_TCP_OPENING },
		{ VPC_CT_TCP_ESTABLISHED, 0, VPC_TO_TCP_ESTABLISHED },
		{ VPC_CT_TCP_FIN_WAIT, 0, VPC_TO_TCP_CLOSING },
		{ VPC_CT_TCP_TIME_WAIT, 0, VPC_TO_TCP_CLOSING },
		{ VPC_CT_TCP_CLOSE, 0, VPC_TO_TCP_CLOSING },
		{ VPC_CT_UDP, 1, VPC_TO_UDP },
		{ VPC_CT_UDP, 2, VPC_TO_UDP_STREAM },
		{ VPC_CT_ICMP, 5, VPC_TO_ICMP },
		{ VPC_CT_OTHER, 0, VPC_TO_OTHER },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vpc_ct_track t = { .state = c[i].st, .replies = c[i].replies };
		assert_int_equal(vpc_ct_timeout_class(&t), c[i].cls);
	}
	struct vpc_ct_track closed = { .state = VPC_CT_TCP_CLOSE };
	assert_int_equal(vpc_ct_timeout(&closed, 120000000000ull), 10000000000ull);
	assert_int_equal(vpc_ct_timeout(&closed, 5000000000ull), 5000000000ull);
	struct vpc_ct_track est = { .state = VPC_CT_TCP_ESTABLISHED };
	assert_int_equal(vpc_ct_timeout(&est, 120000000000ull), 120000000000ull);
	/* never answered: what a full table may drop */
	struct vpc_ct_track syn = { .state = VPC_CT_TCP_SYN_SENT };
	struct vpc_ct_track udp0 = { .state = VPC_CT_UDP }, udp1 = { .state = VPC_CT_UDP, .replies = 1 };
	struct vpc_ct_track recv = { .state = VPC_CT_TCP_SYN_RECV };
	assert_true(vpc_ct_unreplied(&syn));
	assert_true(vpc_ct_unreplied(&udp0));
	assert_false(vpc_ct_unreplied(&udp1));
	assert_false(vpc_ct_unreplied(&recv));
	assert_false(vpc_ct_unreplied(&est));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_close),
		cmocka_unit_test(test_syn_recv_needs_the_opener_s_ack),
		cmocka_unit_test(test_rst_window),
		cmocka_unit_test(test_rst_answering_a_syn),
		cmocka_unit_test(test_window_scaling),
		cmocka_unit_test(test_end_moves_forward),
		cmocka_unit_test(test_timeout_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
