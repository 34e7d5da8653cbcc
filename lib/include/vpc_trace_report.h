/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_trace_report.h -- a traced packet in words (`vpcctl trace`,
 * `vpc-replay --trace`): the events its stages recorded
 * (common/vpc_trace.h) named from the table image, the verdict and the
 * output frame's headers.  One printer for both engines, so the same
 * events give the same text.  And the frame a trace starts from, built
 * from a one-line description ("tcp 10.0.1.10:43210 > 10.0.2.20:5432
 * flags S").
 *
 * Where an engine's lookup structure keeps no rule identity (a security
 * group's classifier merges its rules; a FIB keeps next hops, not
 * prefixes), the printer names the rule from the image: the first of the
 * groups' rules that matches the packet as the engine saw it, the longest
 * of the table's prefixes that holds the address.  The verdict is always
 * the engine's; should the image's rules disagree with it, the line says
 * so ("(the image's rules disagree)"), which a test looks for.
 *
 * Stateless: any thread, with its own FILE (lib/trace.c: no DPDK, no libbpf).
 */
#ifndef VPC_TRACE_REPORT_H
#define VPC_TRACE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vpc_image_io.h"
#include "vpc_trace.h"

struct vpc_trace_result {
	uint32_t in_port;		/* index into the image's ports */
	const uint8_t *in_frame;	/* as it arrived */
	uint32_t in_len;
	const struct vpc_trace_buf *tb;
	uint8_t action;			/* enum vpc_action */
	uint8_t path;			/* enum vpc_path (forward, reply) */
	uint8_t reason;			/* enum vpc_drop_reason (drop) */
	uint32_t out_port;		/* index into ports; VPC_INDEX_NONE for none */
	const uint8_t *out_frame;	/* as it would leave (forward, reply) */
	uint32_t out_len;
};

/* Print r, as text or as one JSON object, with a newline. */
void vpc_trace_print(FILE *f, const struct vpc_image *img, const struct vpc_trace_result *r,
		     bool json);

/*
 * Build in buf the frame that port in_port of img would receive for the
 * description spec:
 *   tcp|udp SRC:SPORT > DST:DPORT [flags FLAGS] [ttl N] [len N]
 *   icmp SRC > DST [type T] [code C] [id N] [ttl N] [len N]
 * FLAGS: letters of S (SYN), A (ACK), F (FIN), R (RST), P (PSH), or
 * "none"; tcp's default S, icmp's type 8 (echo request).  The Ethernet
 * addresses are the port's: from an interface, its MAC to the owner of
 * DST when DST is in the interface's own subnet, else to the VPC
 * router's; from the uplink, the gateway's MAC to the uplink's.  len: the
 * payload's bytes (zeros).  Returns the frame's length, or -1 with a
 * message in err.
 */
int vpc_trace_frame(const struct vpc_image *img, uint32_t in_port, const char *spec,
		    uint8_t *buf, size_t size, char *err, size_t err_size);

/* The port of img named name, or VPC_INDEX_NONE. */
uint32_t vpc_trace_port(const struct vpc_image *img, const char *name);

/* A one-line summary of a frame's headers (Ethernet, ARP or IPv4 and its
 * L4), into out. */
void vpc_trace_frame_summary(const uint8_t *f, uint32_t len, char *out, size_t size);

#endif /* VPC_TRACE_REPORT_H */
