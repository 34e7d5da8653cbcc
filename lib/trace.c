/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.c -- a traced packet in words, and the frame a trace starts from
 * (vpc_trace_report.h).
 */
#include "vpc_trace_report.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_image.h"
#include "vpc_names.h"
#include "vpc_reasons.h"

#define LINE_MAX_LEN 512

/* ---- small helpers ---- */

static void
ip_str(uint32_t host_order, char *out, size_t size)
{
	snprintf(out, size, "%u.%u.%u.%u", host_order >> 24, (host_order >> 16) & 0xff,
		 (host_order >> 8) & 0xff, host_order & 0xff);
}

static uint32_t
be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static const char *
iface_name(const struct vpc_image *img, uint32_t i)
{
	return i < img->n_ifaces ? img->ifaces[i].name : "?";
}

static const char *
proto_name(uint8_t proto, char *buf, size_t size)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		snprintf(buf, size, "protocol %u", proto);
		return buf;
	}
}

void
vpc_trace_frame_summary(const uint8_t *f, uint32_t len, char *out, size_t size)
{
	char a[16], b[16], pb[16];

	if (len < 14) {
		snprintf(out, size, "%u bytes (no Ethernet header)", len);
		return;
	}
	int n = snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x, ",
			 f[6], f[7], f[8], f[9], f[10], f[11], f[0], f[1], f[2], f[3], f[4], f[5]);
	if (n < 0 || (size_t)n >= size)
		return;
	out += n;
	size -= (size_t)n;
	uint16_t type = be16_at(f + 12);
	if (type == 0x0806 && len >= 42) {
		ip_str(be32_at(f + 28), a, sizeof(a));
		ip_str(be32_at(f + 38), b, sizeof(b));
		if (be16_at(f + 20) == 1)
			snprintf(out, size, "arp who-has %s tell %s", b, a);
		else
			snprintf(out, size, "arp reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x", a,
				 f[22], f[23], f[24], f[25], f[26], f[27]);
		return;
	}
	if (type != 0x0800 || len < 34) {
		snprintf(out, size, "ethertype 0x%04x, %u bytes", type, len);
		return;
	}
	const uint8_t *ip = f + 14;
	uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4;
	ip_str(be32_at(ip + 12), a, sizeof(a));
	ip_str(be32_at(ip + 16), b, sizeof(b));
	const uint8_t *l4 = ip + ihl;
	uint8_t proto = ip[9];
	uint16_t tot = be16_at(ip + 2);
	bool later = (be16_at(ip + 6) & 0x1fff) != 0;
	if (!later && (proto == 6 || proto == 17) && l4 + 4 <= f + len) {
		n = snprintf(out, size, "%s %s:%u > %s:%u", proto == 6 ? "tcp" : "udp", a,
			     be16_at(l4), b, be16_at(l4 + 2));
		if (proto == 6 && l4 + 14 <= f + len && n > 0 && (size_t)n < size) {
			static const char letters[] = "FSRPAU";
			char fl[8];
			int k = 0;
			for (int i = 0; i < 6; i++)
				if (l4[13] & (1u << i))
					fl[k++] = letters[i];
			fl[k] = 0;
			n += snprintf(out + n, size - (size_t)n, " flags %s", k ? fl : "none");
		}
	} else if (!later && proto == 1 && l4 + 2 <= f + len) {
		n = snprintf(out, size, "icmp %s > %s type %u code %u", a, b, l4[0], l4[1]);
	} else {
		n = snprintf(out, size, "%s %s > %s%s", proto_name(proto, pb, sizeof(pb)), a, b,
			     later ? " (a later fragment)" : "");
	}
	if (n > 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ", ttl %u, length %u", ip[8], tot);
}

/* ---- naming what the events point at ---- */

static void
route_target(const struct vpc_image *img, uint32_t kind, uint32_t idx, char *out, size_t size)
{
	switch (kind) {
	case VPC_NH_DELIVER:
		snprintf(out, size, "interface %s", iface_name(img, idx));
		break;
	case VPC_NH_APPLIANCE:
		snprintf(out, size, "appliance interface %s", iface_name(img, idx));
		break;
	case VPC_NH_PEERING:
		snprintf(out, size, "interface %s of the peer VPC", iface_name(img, idx));
		break;
	case VPC_NH_IGW:
		snprintf(out, size, "the internet gateway");
		break;
	case VPC_NH_NATGW:
		snprintf(out, size, "NAT gateway %s", idx < img->n_natgws ? img->natgws[idx].name : "?");
		break;
	case VPC_NH_LB:
		snprintf(out, size, "load balancer %s", idx < img->n_lbs ? img->lbs[idx].name : "?");
		break;
	case VPC_NH_BLACKHOLE:
		snprintf(out, size, "blackhole");
		break;
	case VPC_NH_LOCAL_MISS:
		snprintf(out, size, "no interface owns the address");
		break;
	case VPC_NH_PEERING_MISS:
		snprintf(out, size, "peering %s, where no interface owns the address",
			 idx < img->n_peerings ? img->peerings[idx].name : "?");
		break;
	default:
		snprintf(out, size, "no route");
		break;
	}
}

static void
ev_route(const struct vpc_image *img, const struct vpc_trace_ev *e, char *out, size_t size)
{
	char dst[16], pfx[16], tgt[96];
	uint32_t rt = e->a;

	ip_str(e->b, dst, sizeof(dst));
	route_target(img, e->c, e->d, tgt, sizeof(tgt));
	if (rt >= img->n_rtables) {
		snprintf(out, size, "route table %u: %s -> %s", rt, dst, tgt);
		return;
	}
	const struct vpc_image_rtable *t = &img->rtables[rt];
	/* the table's routes are longest prefix first */
	for (uint32_t i = 0; i < t->n_routes; i++) {
		const struct vpc_image_route *r = &img->routes[t->first_route + i];
		uint32_t m = mask_of(r->prefix_len);
		if ((e->b & m) != (ntohl(r->prefix) & m))
			continue;
		ip_str(ntohl(r->prefix), pfx, sizeof(pfx));
		snprintf(out, size, "table %s: %s matches %s/%u (%s) -> %s", t->name, dst, pfx,
			 r->prefix_len, vpc_route_target_name(r->target), tgt);
		return;
	}
	snprintf(out, size, "table %s: %s matches no route -> %s", t->name, dst, tgt);
}

/* Does rule r (of the image) match what the engine looked up? */
static bool
rule_matches(const struct vpc_image_rule *r, uint32_t peer, uint32_t key)
{
	uint8_t proto = (uint8_t)(key >> 16);

	if ((peer & mask_of(r->peer_len)) != (ntohl(r->peer_addr) & mask_of(r->peer_len)))
		return false;
	if (r->flags & VPC_RULE_F_ANY_PROTO)
		return true;
	if (r->proto != proto)
		return false;
	if (proto == 6 || proto == 17) {
		uint16_t port = (uint16_t)key;
		return port >= r->port_lo && port <= r->port_hi;
	}
	if (proto == 1) {
		uint8_t type = (uint8_t)(key >> 8), code = (uint8_t)key;
		if ((r->flags & VPC_RULE_F_ICMP_TYPE) && r->icmp_type != type)
			return false;
		if ((r->flags & VPC_RULE_F_ICMP_CODE) && r->icmp_code != code)
			return false;
	}
	return true;
}

static void
rule_words(const struct vpc_image *img, const struct vpc_image_rule *r, char *out, size_t size)
{
	char peer[24], pb[16];
	const char *fromto = r->dir == VPC_DIR_INGRESS ? "from" : "to";
	int n;

	if (r->flags & VPC_RULE_F_ANY_PROTO)
		n = snprintf(out, size, "all");
	else if (r->proto == 6 || r->proto == 17)
		n = r->port_lo == r->port_hi ?
			    snprintf(out, size, "%s %u", r->proto == 6 ? "tcp" : "udp", r->port_lo) :
			    snprintf(out, size, "%s %u-%u", r->proto == 6 ? "tcp" : "udp", r->port_lo,
				     r->port_hi);
	else if (r->proto == 1 && (r->flags & VPC_RULE_F_ICMP_TYPE))
		n = (r->flags & VPC_RULE_F_ICMP_CODE) ?
			    snprintf(out, size, "icmp type %u code %u", r->icmp_type, r->icmp_code) :
			    snprintf(out, size, "icmp type %u", r->icmp_type);
	else
		n = snprintf(out, size, "%s", proto_name(r->proto, pb, sizeof(pb)));
	if (n < 0 || (size_t)n >= size)
		return;
	if ((r->flags & VPC_RULE_F_SG_PEER) && r->peer_sg < img->n_sgs) {
		snprintf(out + n, size - (size_t)n, " %s group %s", fromto, img->sgs[r->peer_sg].name);
		return;
	}
	ip_str(ntohl(r->peer_addr), peer, sizeof(peer));
	snprintf(out + n, size - (size_t)n, " %s %s/%u", fromto, peer, r->peer_len);
}

static void
ev_sg(const struct vpc_image *img, const struct vpc_trace_ev *e, char *out, size_t size)
{
	unsigned int side = e->a & 0xff;
	bool allowed = (e->a >> 8) & 1;
	uint32_t dir = side == VPC_TR_SG_EGRESS ? VPC_DIR_EGRESS : VPC_DIR_INGRESS;
	const uint16_t *sgs;
	unsigned int n_sgs;
	char who[80], rw[96];

	if (side == VPC_TR_SG_LB) {
		if (e->b >= img->n_lbs) {
			snprintf(out, size, "load balancer %u: %s", e->b, allowed ? "allowed" : "denied");
			return;
		}
		sgs = img->lbs[e->b].sgs;
		n_sgs = img->lbs[e->b].n_sgs;
		snprintf(who, sizeof(who), "load balancer %s ingress", img->lbs[e->b].name);
	} else {
		if (e->b >= img->n_ifaces) {
			snprintf(out, size, "interface %u: %s", e->b, allowed ? "allowed" : "denied");
			return;
		}
		sgs = img->ifaces[e->b].sgs;
		n_sgs = img->ifaces[e->b].n_sgs;
		snprintf(who, sizeof(who), "%s %s", img->ifaces[e->b].name,
			 dir == VPC_DIR_EGRESS ? "egress" : "ingress");
	}
	for (unsigned int k = 0; k < n_sgs; k++) {
		if (sgs[k] >= img->n_sgs)
			continue;
		const struct vpc_image_sg *g = &img->sgs[sgs[k]];
		uint32_t first = g->first_rule + (dir == VPC_DIR_INGRESS ? 0 : g->n_ingress);
		uint32_t n = dir == VPC_DIR_INGRESS ? g->n_ingress : g->n_egress;
		for (uint32_t i = 0; i < n && first + i < img->n_rules; i++) {
			const struct vpc_image_rule *r = &img->rules[first + i];
			if (!rule_matches(r, e->c, e->d))
				continue;
			rule_words(img, r, rw, sizeof(rw));
			snprintf(out, size, "%s: %s by group %s rule %u (%s)%s", who,
				 allowed ? "allowed" : "denied", g->name, r->src_rule + 1u, rw,
				 allowed ? "" : " (the image's rules disagree)");
			return;
		}
	}
	snprintf(out, size, "%s: %s%s", who, allowed ? "allowed" : "denied, no rule allows",
		 allowed ? ", though no rule of the image matches (the image's rules disagree)" : "");
}

static void
ev_nacl(const struct vpc_image *img, const struct vpc_trace_ev *e, char *out, size_t size)
{
	uint32_t acl = e->b / 2, dir = e->b & 1;
	const char *dn = dir == VPC_DIR_EGRESS ? "egress" : "ingress";

	if (acl >= img->n_nacls) {
		snprintf(out, size, "network ACL %u %s: %s", acl, dn, e->a ? "allow" : "deny");
		return;
	}
	const struct vpc_image_nacl *a = &img->nacls[acl];
	uint32_t n = dir == VPC_DIR_INGRESS ? a->n_ingress : a->n_egress;
	uint32_t first = a->first_rule + (dir == VPC_DIR_INGRESS ? 0 : a->n_ingress);
	if (e->c >= n || first + e->c >= img->n_nacl_rules) {
		snprintf(out, size, "%s %s: no rule matches (*): deny", a->name, dn);
		return;
	}
	const struct vpc_image_nacl_rule *r = &img->nacl_rules[first + e->c];
	snprintf(out, size, "%s %s: rule %u %s", a->name, dn, r->number, e->a ? "allow" : "deny");
}

static void
ev_lb(const struct vpc_image *img, const struct vpc_trace_ev *e, char *out, size_t size)
{
	const char *lb = e->b < img->n_lbs ? img->lbs[e->b].name : "?";

	if (e->c == VPC_INDEX_NONE)
		snprintf(out, size, "load balancer %s: no target", lb);
	else
		snprintf(out, size, "load balancer %s: target %s port %u", lb, iface_name(img, e->c),
			 e->d);
}

static void
ev_eip(const struct vpc_image *img, const struct vpc_trace_ev *e, char *out, size_t size)
{
	char a[16];

	ip_str(e->b, a, sizeof(a));
	if (e->c == VPC_INDEX_NONE)
		snprintf(out, size, "%s: no elastic IP", a);
	else if (e->c & VPC_EIP_NATGW)
		snprintf(out, size, "%s: NAT gateway %s", a,
			 (e->c & ~VPC_EIP_NATGW) < img->n_natgws ? img->natgws[e->c & ~VPC_EIP_NATGW].name : "?");
	else if (e->c & VPC_EIP_LB)
		snprintf(out, size, "%s: load balancer %s", a,
			 (e->c & ~VPC_EIP_LB) < img->n_lbs ? img->lbs[e->c & ~VPC_EIP_LB].name : "?");
	else
		snprintf(out, size, "%s: elastic IP of interface %s", a, iface_name(img, e->c));
}

static const char *
ev_stage(uint16_t kind)
{
	switch (kind) {
	case VPC_TR_SOURCE:
		return "source";
	case VPC_TR_CONN:
		return "conntrack";
	case VPC_TR_ROUTE:
		return "route";
	case VPC_TR_L2:
		return "switch";
	case VPC_TR_EIP:
		return "uplink";
	case VPC_TR_SG:
		return "security group";
	case VPC_TR_NACL:
		return "network ACL";
	case VPC_TR_LB:
		return "load balancer";
	case VPC_TR_OPEN:
		return "open";
	case VPC_TR_TCP:
		return "tcp";
	default:
		return "?";
	}
}

static void
ev_text(const struct vpc_image *img, const struct vpc_trace_ev *e, char *out, size_t size)
{
	switch (e->kind) {
	case VPC_TR_SOURCE:
		if (e->b == VPC_INDEX_NONE)
			snprintf(out, size, "from the uplink: checks passed");
		else
			snprintf(out, size, "from interface %s: checks passed", iface_name(img, e->b));
		break;
	case VPC_TR_CONN:
		if (e->a == 0)
			snprintf(out, size, "miss");
		else if (e->a == 2)
			snprintf(out, size, "hit, expired (removed): miss");
		else
			snprintf(out, size, "hit, direction %u (%s), state %s, cached action %s", e->b,
				 e->b ? "reply" : "original", vpc_ct_state_name(e->d),
				 e->c ? "current" : "not current");
		break;
	case VPC_TR_ROUTE:
		ev_route(img, e, out, size);
		break;
	case VPC_TR_L2:
		if (e->c == VPC_INDEX_NONE)
			snprintf(out, size, "no interface of the VPC has the destination MAC");
		else
			snprintf(out, size, "destination MAC is interface %s", iface_name(img, e->c));
		break;
	case VPC_TR_EIP:
		ev_eip(img, e, out, size);
		break;
	case VPC_TR_SG:
		ev_sg(img, e, out, size);
		break;
	case VPC_TR_NACL:
		ev_nacl(img, e, out, size);
		break;
	case VPC_TR_LB:
		ev_lb(img, e, out, size);
		break;
	case VPC_TR_OPEN:
		snprintf(out, size, e->a ? "connection created" : "no connection created");
		break;
	case VPC_TR_TCP:
		if (e->a == e->b)
			snprintf(out, size, "state %s%s%s", vpc_ct_state_name(e->a),
				 e->c ? ": " : "", e->c ? vpc_drop_name(e->c & 0xff) : "");
		else
			snprintf(out, size, "state %s -> %s", vpc_ct_state_name(e->a),
				 vpc_ct_state_name(e->b));
		break;
	default:
		snprintf(out, size, "event %u", e->kind);
		break;
	}
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static const char *
port_name(const struct vpc_image *img, uint32_t p)
{
	return p < img->n_ports ? img->ports[p].name : "?";
}

void
vpc_trace_print(FILE *f, const struct vpc_image *img, const struct vpc_trace_result *r, bool json)
{
	char in[LINE_MAX_LEN], line[LINE_MAX_LEN], verdict[LINE_MAX_LEN], outs[LINE_MAX_LEN];
	uint32_t n = r->tb->n < VPC_TRACE_MAX ? r->tb->n : VPC_TRACE_MAX;

	vpc_trace_frame_summary(r->in_frame, r->in_len, in, sizeof(in));
	outs[0] = 0;
	if (r->action == VPC_ACT_DROP) {
		snprintf(verdict, sizeof(verdict), "drop: %s (%s)", vpc_drop_name(r->reason),
			 vpc_drop_description(r->reason));
	} else {
		snprintf(verdict, sizeof(verdict), "%s on port %s, path %s",
			 r->action == VPC_ACT_REPLY ? "reply" : "forward", port_name(img, r->out_port),
			 vpc_path_name(r->path));
		vpc_trace_frame_summary(r->out_frame, r->out_len, outs, sizeof(outs));
	}
	if (json) {
		fprintf(f, "{\"in_port\": ");
		json_str(f, port_name(img, r->in_port));
		fprintf(f, ", \"packet\": ");
		json_str(f, in);
		fprintf(f, ", \"stages\": [");
		for (uint32_t i = 0; i < n; i++) {
			ev_text(img, &r->tb->ev[i], line, sizeof(line));
			fprintf(f, "%s{\"stage\": ", i ? ", " : "");
			json_str(f, ev_stage(r->tb->ev[i].kind));
			fprintf(f, ", \"text\": ");
			json_str(f, line);
			fprintf(f, "}");
		}
		fprintf(f, "], \"events_lost\": %u, \"action\": \"%s\", \"out_port\": ",
			r->tb->n - n, vpc_action_name(r->action));
		if (r->action == VPC_ACT_DROP)
			fprintf(f, "null, \"reason\": \"%s\", \"output\": null}\n", vpc_drop_name(r->reason));
		else {
			json_str(f, port_name(img, r->out_port));
			fprintf(f, ", \"reason\": \"%s\", \"output\": ", vpc_path_name(r->path));
			json_str(f, outs);
			fprintf(f, "}\n");
		}
		return;
	}
	fprintf(f, "packet on port %s: %s\n", port_name(img, r->in_port), in);
	for (uint32_t i = 0; i < n; i++) {
		ev_text(img, &r->tb->ev[i], line, sizeof(line));
		fprintf(f, "  %-15s %s\n", ev_stage(r->tb->ev[i].kind), line);
	}
	if (r->tb->n > n)
		fprintf(f, "  (%u more events not recorded)\n", r->tb->n - n);
	fprintf(f, "  %-15s %s\n", "verdict", verdict);
	if (outs[0])
		fprintf(f, "  %-15s %s\n", "output", outs);
}

/* ---- the frame a trace starts from ---- */

uint32_t
vpc_trace_port(const struct vpc_image *img, const char *name)
{
	for (uint32_t i = 0; i < img->n_ports; i++)
		if (strcmp(img->ports[i].name, name) == 0)
			return i;
	return VPC_INDEX_NONE;
}

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* "A.B.C.D" or "A.B.C.D:PORT" */
static int
addr_port(const char *s, uint32_t *ip, uint16_t *port, bool want_port)
{
	char buf[32];
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	struct in_addr a;

	if (len >= sizeof(buf) || (colon != NULL) != want_port)
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (*end || end == colon + 1 || p > 65535)
			return -1;
		*port = (uint16_t)p;
	}
	return 0;
}

static int
number(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (s == NULL || !*s)
		return -1;
	*v = strtoul(s, &end, 10);
	return *end || *v > max ? -1 : 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int
vpc_trace_frame(const struct vpc_image *img, uint32_t in_port, const char *spec, uint8_t *buf,
		size_t size, char *err, size_t err_size)
{
	char tmp[256], *save = NULL;
	const char *w[16];
	int nw = 0;

	if (in_port >= img->n_ports || img->n_host == 0)
		return fail(err, err_size, "no such port");
	if (strlen(spec) >= sizeof(tmp))
		return fail(err, err_size, "the packet's description is too long");
	strcpy(tmp, spec);
	for (char *t = strtok_r(tmp, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (nw == 16)
			return fail(err, err_size, "too many words in the packet's description");
		w[nw++] = t;
	}
	if (nw < 4 || strcmp(w[2], ">") != 0)
		return fail(err, err_size,
			    "expected 'tcp|udp SRC:PORT > DST:PORT [flags F] [ttl N] [len N]' or "
			    "'icmp SRC > DST [type T] [code C] [id N]'");
	uint8_t proto;
	if (strcmp(w[0], "tcp") == 0)
		proto = 6;
	else if (strcmp(w[0], "udp") == 0)
		proto = 17;
	else if (strcmp(w[0], "icmp") == 0)
		proto = 1;
	else
		return fail(err, err_size, "unknown protocol '%s' (tcp, udp or icmp)", w[0]);
	uint32_t src, dst;
	uint16_t sport = 0, dport = 0;
	if (addr_port(w[1], &src, &sport, proto != 1) < 0)
		return fail(err, err_size, "bad source '%s' (%s)", w[1],
			    proto == 1 ? "an IPv4 address" : "ADDRESS:PORT");
	if (addr_port(w[3], &dst, &dport, proto != 1) < 0)
		return fail(err, err_size, "bad destination '%s' (%s)", w[3],
			    proto == 1 ? "an IPv4 address" : "ADDRESS:PORT");
	uint8_t flags = proto == 6 ? 0x02 : 0, type = 8, code = 0, ttl = 64;
	unsigned long plen = 0, id = 1, v;
	for (int i = 4; i < nw; i += 2) {
		const char *val = i + 1 < nw ? w[i + 1] : NULL;
		if (val == NULL)
			return fail(err, err_size, "'%s' needs a value", w[i]);
		if (strcmp(w[i], "flags") == 0 && proto == 6) {
			flags = 0;
			if (strcmp(val, "none") != 0)
				for (const char *c = val; *c; c++) {
					const char *p = strchr("FSRPAU", *c);
					if (p == NULL || *c == 0)
						return fail(err, err_size, "bad TCP flag '%c' (S A F R P U)", *c);
					flags |= (uint8_t)(1u << (p - "FSRPAU"));
				}
		} else if (strcmp(w[i], "ttl") == 0 && number(val, 255, &v) == 0) {
			ttl = (uint8_t)v;
		} else if (strcmp(w[i], "len") == 0 && number(val, 1400, &v) == 0) {
			plen = v;
		} else if (strcmp(w[i], "type") == 0 && proto == 1 && number(val, 255, &v) == 0) {
			type = (uint8_t)v;
		} else if (strcmp(w[i], "code") == 0 && proto == 1 && number(val, 255, &v) == 0) {
			code = (uint8_t)v;
		} else if (strcmp(w[i], "id") == 0 && proto == 1 && number(val, 65535, &v) == 0) {
			id = v;
		} else {
			return fail(err, err_size, "bad option '%s %s'", w[i], val);
		}
	}
	size_t l4len = proto == 6 ? 20 : 8;
	size_t len = 14 + 20 + l4len + plen;
	if (len > size)
		return fail(err, err_size, "frame too long");
	memset(buf, 0, len);

	/* Ethernet */
	const struct vpc_image_port *p = &img->ports[in_port];
	const uint8_t *smac, *dmac;
	if (p->kind == VPC_PORT_UPLINK) {
		smac = img->host[0].gateway_mac;
		dmac = img->host[0].uplink_mac;
	} else {
		const struct vpc_image_iface *x = &img->ifaces[p->iface];
		const struct vpc_image_subnet *sn = &img->subnets[x->subnet];
		smac = x->mac;
		dmac = img->vpcs[x->vpc].router_mac;
		uint32_t m = mask_of(sn->cidr_len);
		if ((dst & m) == (ntohl(sn->cidr_addr) & m))
			for (uint32_t i = 0; i < img->n_ifaces; i++)
				if (img->ifaces[i].vpc == x->vpc && ntohl(img->ifaces[i].ip) == dst &&
				    i != p->iface) {
					dmac = img->ifaces[i].mac;
					break;
				}
	}
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, 0x0800);

	/* IPv4 */
	uint8_t *ip = buf + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len + plen));
	put16(ip + 4, 1);
	ip[8] = ttl;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, csum(ip, 20, 0));

	/* L4, with its checksum */
	uint8_t *l4 = ip + 20;
	size_t l4all = l4len + plen;
	uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto +
			  (uint32_t)l4all;
	if (proto == 6) {
		put16(l4, sport);
		put16(l4 + 2, dport);
		put32(l4 + 4, 1000);
		put32(l4 + 8, (flags & 0x10) ? 1 : 0);
		l4[12] = 5 << 4;
		l4[13] = flags;
		put16(l4 + 14, 64240);
		put16(l4 + 16, csum(l4, l4all, pseudo));
	} else if (proto == 17) {
		put16(l4, sport);
		put16(l4 + 2, dport);
		put16(l4 + 4, (uint16_t)l4all);
		uint16_t c = csum(l4, l4all, pseudo);
		put16(l4 + 6, c ? c : 0xffff);
	} else {
		l4[0] = type;
		l4[1] = code;
		put16(l4 + 4, (uint16_t)id);
		put16(l4 + 6, 1);
		put16(l4 + 2, csum(l4, l4all, 0));
	}
	return (int)len;
}
