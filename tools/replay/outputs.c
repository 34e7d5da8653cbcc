/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * outputs.c -- what a replay says: the account (text or JSON) and one line per
 * packet.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"
#include <arpa/inet.h>
#include "conntrack.h"
#include "vpc_names.h"

void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void
print_account(const struct vpc_image *img, const struct vpc_stats *st,
	      const struct vpc_ct_stats *cs, uint32_t live, uint32_t n, bool json)
{
	uint64_t fwd = 0, drop = 0, reply = st->paths[VPC_PATH_ARP_REPLY];
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		drop += st->drops[r];
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (p != VPC_PATH_ARP_REPLY)
			fwd += st->paths[p];
	if (json) {
		printf("{\"packets\":%u,\"forwarded\":%" PRIu64 ",\"replied\":%" PRIu64
		       ",\"dropped\":%" PRIu64 ",\"paths\":{", n, fwd, reply, drop);
		bool first = true;
		for (int p = 1; p < VPC_PATH_COUNT; p++)
			if (st->paths[p]) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",", vpc_path_name((unsigned)p), st->paths[p]);
				first = false;
			}
		printf("},\"drops\":{");
		first = true;
		for (int r = 1; r < VPC_DROP_COUNT; r++)
			if (st->drops[r]) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",", vpc_drop_name((unsigned)r), st->drops[r]);
				first = false;
			}
		printf("},\"connections\":{\"created\":%" PRIu64 ",\"expired\":%" PRIu64
		       ",\"refused\":%" PRIu64 ",\"live\":%u},\"ports\":{",
		       cs->created, cs->expired, cs->refused_full, live);
		for (uint32_t p = 0; p < img->n_ports; p++) {
			const struct vpc_port_stats *ps = &st->ports[p];
			printf("%s", p ? "," : "");
			json_str(stdout, img->ports[p].name);
			printf(":{\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			       ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
			       ",\"drops\":%" PRIu64 "}",
			       ps->rx_packets, ps->rx_bytes, ps->tx_packets, ps->tx_bytes, ps->drops);
		}
		printf("}}\n");
		return;
	}
	printf("\n%u packets: %" PRIu64 " forwarded, %" PRIu64 " answered, %" PRIu64 " dropped\n",
	       n, fwd, reply, drop);
	printf("\npaths:\n");
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (st->paths[p])
			printf("  %-22s %10" PRIu64 "\n", vpc_path_name((unsigned)p), st->paths[p]);
	printf("\ndrops:\n");
	if (drop == 0)
		printf("  none\n");
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		if (st->drops[r])
			printf("  %-22s %10" PRIu64 "   %s\n", vpc_drop_name((unsigned)r),
			       st->drops[r], vpc_drop_description((unsigned)r));
	printf("\nconnections: %" PRIu64 " opened, %" PRIu64 " expired, %" PRIu64
	       " refused (table full), %u tracked at the end\n",
	       cs->created, cs->expired, cs->refused_full, live);
	printf("\nports:                  rx pkts    rx bytes    tx pkts    tx bytes      drops\n");
	for (uint32_t p = 0; p < img->n_ports; p++) {
		const struct vpc_port_stats *ps = &st->ports[p];
		printf("  %-18s %10" PRIu64 " %11" PRIu64 " %10" PRIu64 " %11" PRIu64 " %10" PRIu64 "\n",
		       img->ports[p].name, ps->rx_packets, ps->rx_bytes,
		       ps->tx_packets, ps->tx_bytes, ps->drops);
	}
}

/* One readable line per packet: what it was, what happened, why. */
void
describe(FILE *f, const struct packet *p, const char *in_name, const struct vpc_image *img,
	 const uint8_t *out, uint32_t out_len, const struct vpc_verdict *v)
{
	const uint8_t *d = p->data;
	char what[128] = "frame";
	if (p->len >= 34 && d[12] == 0x08 && d[13] == 0x00) {
		const uint8_t *ip = d + 14;
		static const char *const pn[256] = { [1] = "icmp", [6] = "tcp", [17] = "udp" };
		char proto[16];
		if (pn[ip[9]] != NULL)
			snprintf(proto, sizeof(proto), "%s", pn[ip[9]]);
		else
			snprintf(proto, sizeof(proto), "proto %u", ip[9]);
		uint32_t ihl = (ip[0] & 0xf) * 4u;
		if (ip[9] == 6 && p->len >= 14 + ihl + 14) {
			char fl[8] = "";
			int k = 0;
			const uint8_t tf = d[14 + ihl + 13];
			static const char letters[] = "FSRPA";
			for (int b = 0; b < 5; b++)
				if (tf & (1 << b))
					fl[k++] = letters[b];
			snprintf(proto, sizeof(proto), "tcp [%s]", fl);
		}
		if ((ip[9] == 6 || ip[9] == 17) && p->len >= 14 + ihl + 4)
			snprintf(what, sizeof(what), "%s %u.%u.%u.%u:%u > %u.%u.%u.%u:%u", proto,
				 ip[12], ip[13], ip[14], ip[15], d[14 + ihl] << 8 | d[15 + ihl],
				 ip[16], ip[17], ip[18], ip[19], d[16 + ihl] << 8 | d[17 + ihl]);
		else
			snprintf(what, sizeof(what), "%s %u.%u.%u.%u > %u.%u.%u.%u", proto,
				 ip[12], ip[13], ip[14], ip[15], ip[16], ip[17], ip[18], ip[19]);
	} else if (p->len >= 42 && d[12] == 0x08 && d[13] == 0x06) {
		snprintf(what, sizeof(what), "arp %s who-has %u.%u.%u.%u tell %u.%u.%u.%u",
			 d[21] == 1 ? "request" : "reply", d[38], d[39], d[40], d[41],
			 d[28], d[29], d[30], d[31]);
	}
	fprintf(f, "  %-10s %-52s ", in_name, what);
	if (v->action == VPC_ACT_DROP)
		fprintf(f, "DROP %s (%s)\n", vpc_drop_name(v->reason), vpc_drop_description(v->reason));
	else if (v->action == VPC_ACT_REPLY)
		fprintf(f, "REPLY %s\n", vpc_path_name(v->path));
	else if (v->path == VPC_PATH_IGW_EGRESS && out_len >= 34)
		fprintf(f, "-> %-10s %s, source now %u.%u.%u.%u\n", img->ports[v->out_port].name,
			vpc_path_name(v->path), out[26], out[27], out[28], out[29]);
	else if (v->path == VPC_PATH_IGW_INGRESS && out_len >= 34)
		fprintf(f, "-> %-10s %s, destination now %u.%u.%u.%u\n", img->ports[v->out_port].name,
			vpc_path_name(v->path), out[30], out[31], out[32], out[33]);
	else
		fprintf(f, "-> %-10s %s\n", img->ports[v->out_port].name, vpc_path_name(v->path));
}
