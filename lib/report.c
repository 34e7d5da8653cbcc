/* SPDX-License-Identifier: BSD-3-Clause */
/* report.c -- see vpc_report.h. */
#include "vpc_report.h"

#include <inttypes.h>
#include <stdio.h>

#include <arpa/inet.h>

#include "vpc_names.h"

static const char *
proto_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "other";
}

static void
stats_json(FILE *out, const struct vpc_report *r)
{
	fprintf(out, "{\"generation\":%u,\"packets\":%" PRIu64 ",\"paths\":{", r->generation,
		r->packets);
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		fprintf(out, "%s\"%s\":%" PRIu64, p > 1 ? "," : "", vpc_path_name((unsigned)p),
			r->paths[p]);
	fprintf(out, "},\"drops\":{");
	for (int d = 1; d < VPC_DROP_COUNT; d++)
		fprintf(out, "%s\"%s\":%" PRIu64, d > 1 ? "," : "", vpc_drop_name((unsigned)d),
			r->drops[d]);
	fprintf(out, "},\"ports\":{");
	for (uint32_t p = 0; p < r->n_ports; p++)
		fprintf(out, "%s\"%s\":{\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64
			",\"drops\":%" PRIu64 ",\"tx_failed\":%" PRIu64 "}", p ? "," : "",
			r->ports[p].name, r->ports[p].rx, r->ports[p].tx, r->ports[p].drops,
			r->ports[p].tx_failed);
	fprintf(out, "}");
	if (r->has_lcores) {
		fprintf(out, ",\"lcores\":[");
		for (uint32_t i = 0; i < r->n_lcores; i++)
			fprintf(out, "%s{\"lcore\":%u,\"packets\":%" PRIu64 "}", i ? "," : "",
				r->lcores[i].lcore, r->lcores[i].packets);
		fprintf(out, "]");
	}
	if (r->has_tx_errors)
		fprintf(out, ",\"tx_errors\":%" PRIu64, r->tx_errors);
	if (r->n_lb_targets)
		fprintf(out, ",\"lb_targets\":{\"initial\":%u,\"healthy\":%u,\"unhealthy\":%u,"
			"\"draining\":%u}", r->lb_targets[0], r->lb_targets[1], r->lb_targets[2],
			r->lb_targets[3]);
	fprintf(out, ",\"connections\":{\"tracked\":%u,\"capacity\":%u,\"created\":%" PRIu64
		",\"expired\":%" PRIu64 ",\"refused\":%" PRIu64 "}}\n", r->tracked, r->capacity,
		r->created, r->expired, r->refused);
}

static void
stats_text(FILE *out, const struct vpc_report *r)
{
	fprintf(out, "generation %u, %" PRIu64 " packets\n", r->generation, r->packets);
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (r->paths[p])
			fprintf(out, "  path %-22s %" PRIu64 "\n", vpc_path_name((unsigned)p),
				r->paths[p]);
	for (int d = 1; d < VPC_DROP_COUNT; d++)
		if (r->drops[d])
			fprintf(out, "  drop %-22s %" PRIu64 "\n", vpc_drop_name((unsigned)d),
				r->drops[d]);
	for (uint32_t p = 0; p < r->n_ports; p++) {
		fprintf(out, "  port %-16s rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64,
			r->ports[p].name, r->ports[p].rx, r->ports[p].tx, r->ports[p].drops);
		if (r->ports[p].tx_failed)
			fprintf(out, " tx-failed %" PRIu64, r->ports[p].tx_failed);
		fputc('\n', out);
	}
	if (r->has_lcores)
		for (uint32_t i = 0; i < r->n_lcores; i++)
			fprintf(out, "  lcore %u: %" PRIu64 " packets\n", r->lcores[i].lcore,
				r->lcores[i].packets);
	if (r->has_tx_errors && r->tx_errors)
		fprintf(out, "  tx errors (no device for the port) %" PRIu64 "\n", r->tx_errors);
	if (r->n_lb_targets)
		fprintf(out, "  load balancer targets: %u healthy, %u unhealthy, %u initial, "
			"%u draining (vpcctl lb)\n", r->lb_targets[1], r->lb_targets[2],
			r->lb_targets[0], r->lb_targets[3]);
	fprintf(out, "  connections: %u tracked of %u, %" PRIu64 " opened, %" PRIu64
		" expired, %" PRIu64 " refused\n", r->tracked, r->capacity, r->created, r->expired,
		r->refused);
}

void
vpc_report_stats(FILE *out, const struct vpc_report *r, bool json)
{
	if (json)
		stats_json(out, r);
	else
		stats_text(out, r);
}

void
vpc_report_conns_begin(FILE *out, bool json)
{
	if (json)
		fputc('[', out);
}

void
vpc_report_conn(FILE *out, const struct vpc_report_conn *c, bool json, uint32_t *n)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (*n >= VPC_REPORT_MAX_CONNS)
		return;
	inet_ntop(AF_INET, &c->src, a, sizeof(a));
	inet_ntop(AF_INET, &c->dst, b, sizeof(b));
	/* Through a NAT gateway: the translation, as the internet sees it. */
	char g[INET_ADDRSTRLEN + 64] = "";
	if (c->via != 0) {
		char ga[INET_ADDRSTRLEN];
		bool lb = c->via == VPC_REPORT_VIA_LB;
		inet_ntop(AF_INET, &c->natgw_ip, ga, sizeof(ga));
		if (json)
			snprintf(g, sizeof(g), lb ? ",\"lb_target_ip\":\"%s\",\"lb_target_port\":%u" :
					       ",\"natgw_ip\":\"%s\",\"natgw_port\":%u", ga,
				 ntohs(c->natgw_port));
		else
			snprintf(g, sizeof(g), lb ? " via load balancer to %s:%u" :
					       " via NAT gateway %s:%u", ga, ntohs(c->natgw_port));
	}
	if (json)
		fprintf(out, "%s{\"vni\":%u,\"proto\":\"%s\",\"src\":\"%s\",\"sport\":%u,"
			"\"dst\":\"%s\",\"dport\":%u,\"state\":\"%s\",\"expires_in\":%" PRIu64 "%s}",
			*n ? "," : "", c->ctx_proto >> 8, proto_name((uint8_t)c->ctx_proto), a,
			ntohs(c->sport), b, ntohs(c->dport), vpc_ct_state_name(c->state),
			c->expires_in, g);
	else
		fprintf(out, "%-5s vni %-8u %s:%u -> %s:%u%s %s, expires in %" PRIu64 " s\n",
			proto_name((uint8_t)c->ctx_proto), c->ctx_proto >> 8, a, ntohs(c->sport), b,
			ntohs(c->dport), g, vpc_ct_state_name(c->state), c->expires_in);
	(*n)++;
}

void
vpc_report_conns_end(FILE *out, bool json)
{
	if (json)
		fputs("]\n", out);
}
