/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_report.h -- one printer of the counters (`vpcctl stats`) and of the
 * connection listing (`vpcctl conntrack list`), text and JSON, for every
 * engine: vpcd fills a report from its lcores' counters, vpcctl from the
 * XDP engine's maps, and both print it here, so their outputs cannot
 * drift (lib/report.c, in the image library: no DPDK, no libbpf).
 *
 * Stateless: any thread, with its own FILE.
 */
#ifndef VPC_REPORT_H
#define VPC_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vpc_report_port {
	const char *name;
	uint64_t rx, tx, drops;
	uint64_t tx_failed;	/* frames the port did not take (text: only when not 0) */
};

struct vpc_report_lcore {
	unsigned int lcore;
	uint64_t packets;
};

/* What `stats` says.  Optional parts are printed only when present: the
 * lcores (vpcd), the transmit errors (the XDP engine: text only when not
 * zero). */
struct vpc_report {
	uint32_t generation;
	uint64_t packets;
	const uint64_t *paths;		/* [VPC_PATH_COUNT], by enum vpc_path */
	const uint64_t *drops;		/* [VPC_DROP_COUNT], by enum vpc_drop_reason */
	const struct vpc_report_port *ports;
	uint32_t n_ports;
	bool has_lcores;
	const struct vpc_report_lcore *lcores;
	uint32_t n_lcores;
	bool has_tx_errors;
	uint64_t tx_errors;
	uint32_t tracked, capacity;
	uint64_t created, expired, refused;
	/* Load balancers' targets by health (enum vpc_lb_target_state:
	 * initial, healthy, unhealthy, draining); printed when n_lb_targets. */
	uint32_t n_lb_targets;
	uint32_t lb_targets[4];
};

void vpc_report_stats(FILE *out, const struct vpc_report *r, bool json);

/* One connection of a listing, by its forward key. */
struct vpc_report_conn {
	uint32_t ctx_proto;	/* VNI << 8 | IP protocol (the key's) */
	uint32_t src, dst;	/* network order */
	uint16_t sport, dport;	/* network order */
	uint8_t state;		/* enum vpc_ct_state */
	uint64_t expires_in;	/* seconds */
	uint32_t natgw_ip;	/* through a NAT gateway: its elastic IP and the
				 * connection's port; through a load balancer:
				 * its target's address and port */
	uint16_t natgw_port;	/* (network order) */
	uint8_t via;		/* VPC_REPORT_VIA_*; 0: neither */
};
#define VPC_REPORT_VIA_NATGW 1
#define VPC_REPORT_VIA_LB    2

/* A listing: begin, one line (or array element) per connection, end.
 * At most VPC_REPORT_MAX_CONNS are printed; *n counts them. */
#define VPC_REPORT_MAX_CONNS 100000
void vpc_report_conns_begin(FILE *out, bool json);
void vpc_report_conn(FILE *out, const struct vpc_report_conn *c, bool json, uint32_t *n);
void vpc_report_conns_end(FILE *out, bool json);

#endif /* VPC_REPORT_H */
