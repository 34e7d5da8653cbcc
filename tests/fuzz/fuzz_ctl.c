/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl -- libFuzzer target: the control socket's request reader,
 * vpc_ctl_rx_feed() (lib/ctl_rx.c), fed a byte stream in pieces.
 *
 * Input: data[0] & 15 = k, then k chunk sizes (one byte each), then the
 * stream.  The stream is fed in chunks of sizes[0], sizes[1], ... (round
 * robin; 0 is an empty read), all at once when k is 0.
 *
 * Invariants, after every feed:
 *  - the state is MORE, DONE or BAD, and it is what feed returned; DONE
 *    and BAD are final: a later feed consumes nothing and changes nothing;
 *  - used <= n; MORE means every byte offered was taken;
 *  - hdr_got <= header size; no payload before the header is complete;
 *    got <= req.len, got <= cap;
 *  - DONE: the header passes the rules of vpc_ctl.h (checked again here,
 *    independently), exactly header + req.len bytes were taken, and the
 *    payload is those bytes of the stream;
 *  - BAD: a positive errno; a refused header consumed no payload.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_ctl.h"
#include "vpc_image.h"
#include "fuzz.h"


static int
header_ok(const struct vpc_ctl_req *h)
{
	if (h->magic != VPC_CTL_MAGIC)
		return 0;
	if (h->op < VPC_CTL_APPLY || h->op > VPC_CTL_OP_MAX)
		return 0;
	if (h->flags & ~(uint32_t)(VPC_CTL_F_REVALIDATE | VPC_CTL_F_JSON))
		return 0;
	if (h->op == VPC_CTL_APPLY)
		return h->len >= 1 && h->len <= VPC_IMAGE_MAX_SIZE;
	if (h->op == VPC_CTL_TRACE)
		return h->len >= sizeof(struct vpc_ctl_trace) &&
		       h->len <= sizeof(struct vpc_ctl_trace) + VPC_CTL_TRACE_MAX;
	if (h->op == VPC_CTL_CAPTURE)
		return h->len == sizeof(struct vpc_ctl_capture);
	return h->len == 0;
}

static void
check_state(const struct vpc_ctl_rx *rx)
{
	CHECK(rx->state == VPC_CTL_RX_MORE || rx->state == VPC_CTL_RX_DONE ||
	      rx->state == VPC_CTL_RX_BAD);
	CHECK(rx->hdr_got <= sizeof(rx->req));
	if (rx->hdr_got < sizeof(rx->req))
		CHECK(rx->got == 0 && rx->payload == NULL && rx->state == VPC_CTL_RX_MORE);
	CHECK(rx->got <= rx->req.len || rx->hdr_got < sizeof(rx->req));
	CHECK(rx->got <= rx->cap);
	CHECK(rx->cap == 0 || rx->payload != NULL);
	if (rx->state == VPC_CTL_RX_BAD)
		CHECK(rx->error > 0);
	else
		CHECK(rx->error == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t k = data[0] & 15;
	if (1 + k > size)
		k = size - 1;
	const uint8_t *sizes = data + 1;
	const uint8_t *s = data + 1 + k;
	size_t n = size - 1 - k;

	struct vpc_ctl_rx rx;
	vpc_ctl_rx_init(&rx);
	check_state(&rx);

	size_t off = 0, i = 0;
	int prev = VPC_CTL_RX_MORE;
	for (unsigned int empty = 0; empty <= 16;) {
		size_t want = k ? sizes[i++ % k] : n - off;
		if (want > n - off)
			want = n - off;
		if (want == 0)
			empty++;
		size_t used = (size_t)-1;
		int st = vpc_ctl_rx_feed(&rx, s + off, want, &used);
		CHECK(st == rx.state);
		CHECK(used <= want);
		check_state(&rx);
		if (st == VPC_CTL_RX_MORE)
			CHECK(used == want);
		if (st == VPC_CTL_RX_BAD && rx.error != ENOMEM) {
			/* refused at the header: no payload taken */
			CHECK(rx.hdr_got == sizeof(rx.req) && rx.got == 0 && !header_ok(&rx.req));
			CHECK(off + used == sizeof(rx.req));
		}
		off += used;
		prev = st;
		if (st != VPC_CTL_RX_MORE) {
			/* final: another feed takes nothing and changes nothing */
			struct vpc_ctl_rx before = rx;
			size_t u2 = (size_t)-1;
			CHECK(vpc_ctl_rx_feed(&rx, s + off, n - off, &u2) == st);
			CHECK(u2 == 0 && memcmp(&before, &rx, sizeof(rx)) == 0);
			break;
		}
		if (off == n && want == 0)
			break;	/* the stream is over (and an empty read changed nothing) */
	}
	CHECK(prev == rx.state);

	if (rx.state == VPC_CTL_RX_DONE) {
		CHECK(header_ok(&rx.req));
		CHECK(rx.hdr_got == sizeof(rx.req) && rx.got == rx.req.len);
		CHECK(off == sizeof(rx.req) + (size_t)rx.req.len);
		CHECK(memcmp(&rx.req, s, sizeof(rx.req)) == 0);
		if (rx.req.len > 0)
			CHECK(rx.payload != NULL &&
			      memcmp(rx.payload, s + sizeof(rx.req), rx.req.len) == 0);
	} else if (rx.state == VPC_CTL_RX_MORE) {
		CHECK(rx.hdr_got + rx.got == off);
		CHECK(rx.hdr_got < sizeof(rx.req) || rx.got < rx.req.len);
		if (rx.hdr_got == sizeof(rx.req))
			CHECK(header_ok(&rx.req));
		if (rx.hdr_got > 0)
			CHECK(memcmp(&rx.req, s, rx.hdr_got) == 0);
		if (rx.got > 0)
			CHECK(memcmp(rx.payload, s + sizeof(rx.req), rx.got) == 0);
	}
	vpc_ctl_rx_free(&rx);
	CHECK(rx.payload == NULL);
	return 0;
}
