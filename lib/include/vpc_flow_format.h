/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_flow_format.h -- a flow-log record (common/vpc_flow.h) as a line of
 * AWS VPC Flow Logs' version 2 default format:
 *
 *   version account-id interface-id srcaddr dstaddr srcport dstport
 *   protocol packets bytes start end action log-status
 *
 * ACCEPT and REJECT records have log-status OK; a SKIPDATA record (records
 * were lost: a rate limit, a full ring) has "-" for every field from
 * srcaddr to bytes and for action, as AWS writes it.  No libc beyond
 * snprintf; both engines' writers and vpc-replay use it.
 */
#ifndef VPC_FLOW_FORMAT_H
#define VPC_FLOW_FORMAT_H

#include <stddef.h>

#include "vpc_flow.h"

/* r as one line with its newline into buf (size bytes); account: the
 * account-id field ("-" when NULL), iface: the interface-id.  Returns the
 * length, as snprintf. */
int vpc_flow_format(char *buf, size_t size, const struct vpc_flow_rec *r, const char *account,
		    const char *iface);

/* The order records are written in by vpc-replay: start, end, interface,
 * action, then the 5-tuple and counts (qsort). */
int vpc_flow_rec_cmp(const void *a, const void *b);

#endif /* VPC_FLOW_FORMAT_H */
