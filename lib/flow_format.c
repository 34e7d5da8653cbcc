/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_format.c -- flow-log records as AWS's version 2 lines
 * (vpc_flow_format.h).
 */
#include "vpc_flow_format.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

int
vpc_flow_format(char *buf, size_t size, const struct vpc_flow_rec *r, const char *account,
		const char *iface)
{
	if (account == NULL)
		account = "-";
	if (r->action == VPC_FLOW_SKIPDATA)
		return snprintf(buf, size, "%d %s %s - - - - - - - %" PRIu32 " %" PRIu32 " - SKIPDATA\n",
				VPC_FLOW_VERSION, account, iface, r->start, r->end);
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &r->src, src, sizeof(src));
	inet_ntop(AF_INET, &r->dst, dst, sizeof(dst));
	return snprintf(buf, size,
			"%d %s %s %s %s %u %u %u %" PRIu32 " %" PRIu64 " %" PRIu32 " %" PRIu32 " %s OK\n",
			VPC_FLOW_VERSION, account, iface, src, dst, ntohs(r->sport), ntohs(r->dport),
			r->proto, r->packets, r->bytes, r->start, r->end,
			r->action == VPC_FLOW_REJECT ? "REJECT" : "ACCEPT");
}

#define CMP(f)                                   \
	do {                                     \
		if (x->f != y->f)                \
			return x->f < y->f ? -1 : 1; \
	} while (0)

int
vpc_flow_rec_cmp(const void *a, const void *b)
{
	const struct vpc_flow_rec *x = a, *y = b;

	CMP(start);
	CMP(end);
	CMP(iface);
	CMP(action);
	CMP(proto);
	CMP(src);
	CMP(dst);
	CMP(sport);
	CMP(dport);
	CMP(packets);
	CMP(bytes);
	CMP(n_skipped);
	return 0;
}
