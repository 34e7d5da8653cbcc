/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg.h -- security-group classifiers: "do this interface's groups allow
 * this packet in this direction?", for new connections only (established
 * ones never get here: see conntrack.h).
 *
 * Design
 * ------
 * Rules only allow and are unioned, so a decision is "does any rule
 * match".  For each distinct (set of groups, direction) -- interfaces with
 * the same groups share one -- the rules are compiled into one binary
 * prefix trie per protocol class (any protocol, TCP, UDP, ICMP, other
 * protocols) keyed by the peer prefix (security-group peers arrive
 * already expanded to /32s by the compiler).  A node where rules end holds
 * their port ranges merged into sorted, disjoint intervals (for "other"
 * protocols the interval is over protocol numbers; for ICMP a short list
 * of type/code pairs).  A lookup walks at most 33 nodes per trie and
 * binary-searches the intervals at each: its cost is bounded by the
 * address length and the log of the ranges, not by the number of rules,
 * so 1,000 rules on one interface cost about what 10 do.
 *
 * Thread-safety: built once with the tables, then read-only.
 */
#ifndef VPC_SG_H
#define VPC_SG_H

#include <stdbool.h>
#include <stdint.h>

#include "vpc_image_io.h"

struct vpc_sg;

/* Compile the classifiers of every interface and load balancer of img.
 * NULL + errno. */
struct vpc_sg *vpc_sg_build(const struct vpc_image *img);
void vpc_sg_free(struct vpc_sg *sg);

/* The classifier of an interface in a direction (enum vpc_rule_dir). */
uint32_t vpc_sg_class_of(const struct vpc_sg *sg, uint32_t iface, unsigned int dir);

/* The ingress classifier of load balancer lb's own groups, or
 * VPC_INDEX_NONE when it has none (nothing filters at the balancer). */
uint32_t vpc_sg_lb_class(const struct vpc_sg *sg, uint32_t lb);

/*
 * Does classifier cls allow a packet of protocol proto whose peer (the
 * source for ingress, the destination for egress) is peer (host order)?
 * port: the destination port (TCP, UDP); icmp_type/icmp_code for ICMP.
 */
bool vpc_sg_allows(const struct vpc_sg *sg, uint32_t cls, uint8_t proto,
		   uint32_t peer, uint16_t port, uint8_t icmp_type, uint8_t icmp_code);

/* The classifiers as flat arrays (vpc_image.h records), borrowed from sg:
 * the XDP loader copies them into its maps. */
struct vpc_sg_flat {
	const struct vpc_sg_node *nodes;
	uint32_t n_nodes;
	const struct vpc_sg_interval *intervals;
	uint32_t n_intervals;
	const struct vpc_sg_icmp *icmps;
	uint32_t n_icmps;
	const struct vpc_sg_class *classes;
	uint32_t n_classes;
	const uint32_t *iface_class;	/* [iface * 2 + dir] */
};
void vpc_sg_export(const struct vpc_sg *sg, struct vpc_sg_flat *f);

/* Statistics for tests and `show`. */
uint32_t vpc_sg_n_classes(const struct vpc_sg *sg);
uint32_t vpc_sg_n_nodes(const struct vpc_sg *sg);

#endif /* VPC_SG_H */
