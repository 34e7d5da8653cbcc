/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_rx.c -- the server side of the control socket's framing: one
 * request (header, then payload) read from a byte stream that arrives in
 * any number of pieces, checked before any of it is believed.  No I/O
 * here: the daemon feeds what read() returned, the fuzz target feeds
 * arbitrary bytes.
 */
#include "vpc_ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_image.h"

void
vpc_ctl_rx_init(struct vpc_ctl_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void
vpc_ctl_rx_free(struct vpc_ctl_rx *rx)
{
	free(rx->payload);
	rx->payload = NULL;
	rx->cap = 0;
}

/* Is the header one a client may send?  0 or a positive errno. */
static int
check_header(const struct vpc_ctl_req *h)
{
	if (h->magic != VPC_CTL_MAGIC)
		return EPROTO;
	if (h->op < VPC_CTL_APPLY || h->op > VPC_CTL_OP_MAX)
		return EOPNOTSUPP;
	if (h->flags & ~(uint32_t)(VPC_CTL_F_REVALIDATE | VPC_CTL_F_JSON))
		return EPROTO;
	/* An apply carries a table image, never empty; a trace its packet
	 * (checked whole by the daemon); a capture its request; nothing else
	 * has a payload. */
	if (h->op == VPC_CTL_APPLY) {
		if (h->len == 0 || h->len > VPC_IMAGE_MAX_SIZE)
			return h->len == 0 ? EPROTO : EMSGSIZE;
	} else if (h->op == VPC_CTL_TRACE) {
		if (h->len < sizeof(struct vpc_ctl_trace) ||
		    h->len > sizeof(struct vpc_ctl_trace) + VPC_CTL_TRACE_MAX)
			return h->len < sizeof(struct vpc_ctl_trace) ? EPROTO : EMSGSIZE;
	} else if (h->op == VPC_CTL_CAPTURE) {
		if (h->len != sizeof(struct vpc_ctl_capture))
			return EPROTO;
	} else if (h->len != 0) {
		return EPROTO;
	}
	return 0;
}

int
vpc_ctl_rx_feed(struct vpc_ctl_rx *rx, const void *buf, size_t n, size_t *used)
{
	const uint8_t *b = buf;
	size_t u = 0;

	if (rx->state != VPC_CTL_RX_MORE) {
		*used = 0;
		return rx->state;
	}
	/* The header first: nothing is allocated before it is checked. */
	if (rx->hdr_got < sizeof(rx->req)) {
		size_t k = sizeof(rx->req) - rx->hdr_got;
		if (k > n)
			k = n;
		memcpy((uint8_t *)&rx->req + rx->hdr_got, b, k);
		rx->hdr_got += (uint32_t)k;
		u += k;
		if (rx->hdr_got < sizeof(rx->req)) {
			*used = u;
			return VPC_CTL_RX_MORE;
		}
		rx->error = check_header(&rx->req);
		if (rx->error != 0) {
			*used = u;
			return rx->state = VPC_CTL_RX_BAD;
		}
	}
	/* Then the payload, into a buffer that grows with what arrived (a
	 * client announcing a large image and sending nothing costs
	 * nothing). */
	while (rx->got < rx->req.len && u < n) {
		size_t k = rx->req.len - rx->got;
		if (k > n - u)
			k = n - u;
		if (rx->got + k > rx->cap) {
			size_t cap = rx->cap ? rx->cap : 4096;
			while (cap < rx->got + k)
				cap *= 2;
			if (cap > rx->req.len)
				cap = rx->req.len;
			uint8_t *p = realloc(rx->payload, cap);
			if (p == NULL) {
				rx->error = ENOMEM;
				*used = u;
				return rx->state = VPC_CTL_RX_BAD;
			}
			rx->payload = p;
			rx->cap = (uint32_t)cap;
		}
		memcpy(rx->payload + rx->got, b + u, k);
		rx->got += (uint32_t)k;
		u += k;
	}
	*used = u;
	if (rx->got == rx->req.len)
		rx->state = VPC_CTL_RX_DONE;
	return rx->state;
}
