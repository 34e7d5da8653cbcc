/* SPDX-License-Identifier: BSD-3-Clause */
#include "show.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

static const char *
ip_str(char buf[16], __be32 a)
{
	uint32_t h = ntohl(a);
	snprintf(buf, 16, "%u.%u.%u.%u", h >> 24, (h >> 16) & 0xff,
		 (h >> 8) & 0xff, h & 0xff);
	return buf;
}

static const char *
cidr_str(char buf[20], __be32 a, unsigned int len)
{
	char ip[16];
	snprintf(buf, 20, "%s/%u", ip_str(ip, a), len);
	return buf;
}

static const char *
mac_str(char buf[18], const uint8_t m[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

static const char *
proto_str(char buf[8], const struct vpc_image_rule *r)
{
	if (r->flags & VPC_RULE_F_ANY_PROTO)
		return "all";
	switch (r->proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		snprintf(buf, 8, "%u", r->proto);
		return buf;
	}
}

/* "443", "1024-2048", or "" when all ports. */
static const char *
ports_str(char buf[16], const struct vpc_image_rule *r)
{
	buf[0] = '\0';
	if (r->port_lo == 0 && r->port_hi == 65535)
		return buf;
	if (r->port_lo == r->port_hi)
		snprintf(buf, 16, "%u", r->port_lo);
	else
		snprintf(buf, 16, "%u-%u", r->port_lo, r->port_hi);
	return buf;
}

/* The other VPC of peering p, seen from VPC vpc (one of its two). */
static uint32_t
peer_vpc(const struct vpc_image *img, uint32_t p, uint32_t vpc)
{
	const struct vpc_image_peering *x = &img->peerings[p];
	return x->vpc[0] == vpc ? x->vpc[1] : x->vpc[0];
}

static void
text_rule(const struct vpc_image *img, const struct vpc_image_rule *r, FILE *out)
{
	char p[8], ports[16], peer[20], extra[48] = "";

	if (r->flags & VPC_RULE_F_ICMP_TYPE) {
		if (r->flags & VPC_RULE_F_ICMP_CODE)
			snprintf(extra, sizeof(extra), "type %u code %u",
				 r->icmp_type, r->icmp_code);
		else
			snprintf(extra, sizeof(extra), "type %u", r->icmp_type);
	} else {
		snprintf(extra, sizeof(extra), "%s", ports_str(ports, r));
	}
	fprintf(out, "      %-7s %-5s %-13s %s %s", r->dir ? "egress" : "ingress",
		proto_str(p, r), extra, r->dir ? "to  " : "from",
		cidr_str(peer, r->peer_addr, r->peer_len));
	if ((r->flags & VPC_RULE_F_SG_PEER) &&
	    img->sgs[r->peer_sg].vpc != img->sgs[r->sg].vpc)	/* across a peering */
		fprintf(out, " (member of %s in VPC %s)", img->sgs[r->peer_sg].name,
			img->vpcs[img->sgs[r->peer_sg].vpc].name);
	else if (r->flags & VPC_RULE_F_SG_PEER)
		fprintf(out, " (member of %s)", img->sgs[r->peer_sg].name);
	fputc('\n', out);
}

static const char *
nrule_proto_str(char buf[8], const struct vpc_image_nacl_rule *r)
{
	struct vpc_image_rule x = { .proto = r->proto,
				    .flags = r->flags & VPC_NRULE_F_ANY_PROTO ?
						     VPC_RULE_F_ANY_PROTO : 0 };
	return proto_str(buf, &x);
}

/* "rule 100 allow tcp 443 from 0.0.0.0/0", in rule-number order. */
static void
text_nrule(const struct vpc_image_nacl_rule *r, FILE *out)
{
	char p[8], ports[16], peer[20], extra[48] = "";

	if (r->flags & VPC_NRULE_F_ICMP_TYPE) {
		if (r->flags & VPC_NRULE_F_ICMP_CODE)
			snprintf(extra, sizeof(extra), "type %u code %u", r->icmp_type,
				 r->icmp_code);
		else
			snprintf(extra, sizeof(extra), "type %u", r->icmp_type);
	} else {
		struct vpc_image_rule x = { .port_lo = r->port_lo, .port_hi = r->port_hi };
		snprintf(extra, sizeof(extra), "%s", ports_str(ports, &x));
	}
	fprintf(out, "      %-7s %5u %-5s %-5s %-13s %s %s\n", r->dir ? "egress" : "ingress",
		r->number, r->flags & VPC_NRULE_F_ALLOW ? "allow" : "deny",
		nrule_proto_str(p, r), extra, r->dir ? "to  " : "from",
		cidr_str(peer, r->cidr_addr, r->cidr_len));
}

/* "10.0.0.2 10.0.0.3", or "none"; quoted and comma-separated for JSON. */
static void
addr_list(FILE *out, const __be32 *a, unsigned int n, bool json)
{
	char b[16];

	if (n == 0 && !json)
		fprintf(out, "none");
	for (unsigned int k = 0; k < n; k++)
		fprintf(out, json ? "%s\"%s\"" : "%s%s", k ? (json ? "," : " ") : "",
			ip_str(b, a[k]));
}

static const char *
lb_proto_str(uint8_t proto)
{
	return proto == 17 ? "udp" : "tcp";	/* the checker's: 6 or 17 */
}

/*
 * VPC vi's load balancers: each with its addressing and groups, its
 * listeners, then its target groups with their settings and targets.
 * A health check's port is each target's (traffic-port: its own).
 */
static void
text_lbs(const struct vpc_image *img, uint32_t vi, FILE *out)
{
	char a[20];
	bool title = false;

	for (uint32_t i = 0; i < img->n_lbs; i++) {
		const struct vpc_image_lb *b = &img->lbs[i];
		if (b->vpc != vi)
			continue;
		if (!title)
			fprintf(out, "  load balancers:\n");
		title = true;
		if (b->flags & VPC_LB_F_INTERNET)
			fprintf(out, "    %-16s internet-facing, elastic IP %s", b->name,
				ip_str(a, b->elastic_ip));
		else
			fprintf(out, "    %-16s internal, subnet %s, ip %s", b->name,
				img->subnets[b->subnet].name, ip_str(a, b->ip));
		fprintf(out, ", groups");
		if (b->n_sgs == 0)
			fprintf(out, " none (no filter)");
		for (unsigned int k = 0; k < b->n_sgs; k++)
			fprintf(out, "%s%s", k ? ", " : " ", img->sgs[b->sgs[k]].name);
		fputc('\n', out);
		for (uint32_t l = b->first_listener; l < b->first_listener + b->n_listeners; l++) {
			const struct vpc_image_listener *x = &img->listeners[l];
			fprintf(out, "      listener %s %u -> target group %s\n", lb_proto_str(x->proto),
				ntohs(x->port), img->tgroups[x->tgroup].name);
		}
		for (uint32_t g = b->first_tgroup; g < b->first_tgroup + b->n_tgroups; g++) {
			const struct vpc_image_tgroup *x = &img->tgroups[g];
			fprintf(out, "      target group %s: %s port %u, %s, deregistration delay %us\n",
				x->name, lb_proto_str(x->proto), ntohs(x->port),
				vpc_lb_algorithm_name(x->algorithm), x->dereg_delay);
			fprintf(out, "        health check tcp: interval %us, timeout %us, healthy threshold %u, unhealthy threshold %u\n",
				x->hc_interval, x->hc_timeout, x->hc_healthy, x->hc_unhealthy);
			if (x->n_targets == 0)
				fprintf(out, "        (no targets)\n");
			for (uint32_t t = x->first_target; t < x->first_target + x->n_targets; t++) {
				const struct vpc_image_target *y = &img->targets[t];
				const struct vpc_image_iface *f = &img->ifaces[y->iface];
				fprintf(out, "        %-16s %-15s port %u, health check port %u, weight %u\n",
					f->name, ip_str(a, f->ip), ntohs(y->port), ntohs(y->hc_port),
					y->weight);
			}
		}
	}
}

/* The domain is a C string: NUL-padded past domain_len (the checker's). */
static void
text_dhcp(const struct vpc_image_dhcp *o, FILE *out)
{
	fprintf(out, "  dhcp_options: domain_name_servers ");
	addr_list(out, o->dns, o->n_dns, false);
	if (o->domain_len)
		fprintf(out, ", domain_name \"%s\"", o->domain);
	else
		fprintf(out, ", domain_name none");
	fprintf(out, ", ntp_servers ");
	addr_list(out, o->ntp, o->n_ntp, false);
	fprintf(out, ", lease_time %us\n", o->lease);
}

void
vpc_show_text(const struct vpc_image *img, FILE *out)
{
	char a[20], b[20], c[18];

	fprintf(out, "table image v%u: %zu bytes, checksum %016" PRIx64 "\n",
		img->hdr->version, img->size, (uint64_t)img->hdr->checksum);
	fprintf(out, "VPCs %u, subnets %u, route tables %u (routes %u), "
		"security groups %u (rules %u), interfaces %u, ports %u\n",
		img->n_vpcs, img->n_subnets, img->n_rtables, img->n_routes,
		img->n_sgs, img->n_rules, img->n_ifaces, img->n_ports);

	for (uint32_t vi = 0; vi < img->n_vpcs; vi++) {
		const struct vpc_image_vpc *v = &img->vpcs[vi];
		fprintf(out, "\nVPC %s: %s, VNI %u, MTU %u, internet gateway %s, router MAC %s\n",
			v->name, cidr_str(a, v->cidr_addr, v->cidr_len), v->vni,
			v->mtu, v->flags & VPC_VPC_F_IGW ? "yes" : "no",
			mac_str(c, v->router_mac));
		fprintf(out, "  main route table %s, default security group %s\n",
			img->rtables[v->main_rtable].name,
			img->sgs[v->default_sg].name);
		fprintf(out, "  timeouts:");
		for (int k = 0; k < VPC_TO_COUNT; k++)
			fprintf(out, " %s %us", vpc_timeout_name((unsigned)k),
				v->timeouts[k]);
		fputc('\n', out);
		text_dhcp(&img->dhcp[vi], out);

		fprintf(out, "  subnets:\n");
		for (uint32_t i = 0; i < img->n_subnets; i++) {
			const struct vpc_image_subnet *s = &img->subnets[i];
			if (s->vpc != vi)
				continue;
			fprintf(out, "    %-16s %-18s gateway %-15s route table %s",
				s->name, cidr_str(a, s->cidr_addr, s->cidr_len),
				ip_str(b, s->gateway_ip), img->rtables[s->rtable].name);
			if (s->nacl != VPC_INDEX_NONE)
				fprintf(out, ", network ACL %s", img->nacls[s->nacl].name);
			fputc('\n', out);
		}
		fprintf(out, "  route tables:\n");
		for (uint32_t i = 0; i < img->n_rtables; i++) {
			const struct vpc_image_rtable *t = &img->rtables[i];
			if (t->vpc != vi)
				continue;
			fprintf(out, "    %s%s:\n", t->name, t->is_main ? " (main)" : "");
			for (uint32_t r = t->first_route; r < t->first_route + t->n_routes; r++) {
				const struct vpc_image_route *x = &img->routes[r];
				fprintf(out, "      %-18s -> %s",
					cidr_str(a, x->prefix, x->prefix_len),
					vpc_route_target_name(x->target));
				if (x->target == VPC_RT_IFACE)
					fprintf(out, " %s", img->ifaces[x->target_iface].name);
				if (x->target == VPC_RT_NATGW)
					fprintf(out, " %s", img->natgws[x->target_iface].name);
				if (x->target == VPC_RT_PEERING)
					fprintf(out, " %s (to VPC %s)", img->peerings[x->target_peering].name,
						img->vpcs[peer_vpc(img, x->target_peering, vi)].name);
				if (x->flags & VPC_ROUTE_F_IMPLICIT)
					fprintf(out, " (implicit)");
				fputc('\n', out);
			}
		}
		fprintf(out, "  security groups:\n");
		for (uint32_t i = 0; i < img->n_sgs; i++) {
			const struct vpc_image_sg *g = &img->sgs[i];
			if (g->vpc != vi)
				continue;
			fprintf(out, "    %s%s: %u member%s\n", g->name,
				g->flags & VPC_SG_F_IMPLICIT ? " (implicit)" : "",
				g->n_members, g->n_members == 1 ? "" : "s");
			uint32_t end = g->first_rule + g->n_ingress + g->n_egress;
			for (uint32_t r = g->first_rule; r < end; r++)
				text_rule(img, &img->rules[r], out);
		}
		bool nacl_title = false;
		for (uint32_t i = 0; i < img->n_nacls; i++) {
			const struct vpc_image_nacl *n = &img->nacls[i];
			if (n->vpc != vi)
				continue;
			if (!nacl_title)
				fprintf(out, "  network ACLs (the other subnets: the default, allow all):\n");
			nacl_title = true;
			fprintf(out, "    %s: %u subnet%s\n", n->name, n->n_subnets,
				n->n_subnets == 1 ? "" : "s");
			uint32_t end = n->first_rule + n->n_ingress + n->n_egress;
			for (uint32_t r = n->first_rule; r < end; r++)
				text_nrule(&img->nacl_rules[r], out);
			fprintf(out, "      (no match: deny)\n");
		}
		bool natgw_title = false;
		for (uint32_t i = 0; i < img->n_natgws; i++) {
			const struct vpc_image_natgw *g = &img->natgws[i];
			if (g->vpc != vi)
				continue;
			if (!natgw_title)
				fprintf(out, "  NAT gateways:\n");
			natgw_title = true;
			fprintf(out, "    %-16s subnet %-16s elastic IP %s\n", g->name,
				img->subnets[g->subnet].name, ip_str(a, g->elastic_ip));
		}
		text_lbs(img, vi, out);
		fprintf(out, "  interfaces:\n");
		for (uint32_t i = 0; i < img->n_ifaces; i++) {
			const struct vpc_image_iface *f = &img->ifaces[i];
			if (f->vpc != vi)
				continue;
			bool remote = f->flags & VPC_IFACE_F_REMOTE;
			fprintf(out, "    %-16s %s %-16s subnet %-16s ip %-15s mac %s%s\n",
				f->name, remote ? "host" : "port",
				remote ? img->rhosts[f->rhost].name : img->ports[f->port].name,
				img->subnets[f->subnet].name, ip_str(a, f->ip),
				mac_str(c, f->mac),
				f->flags & VPC_IFACE_F_MAC_DERIVED ? " (derived)" : "");
			fprintf(out, "%21s", "");
			if (f->flags & VPC_IFACE_F_EIP)
				fprintf(out, "elastic IP %s, ", ip_str(a, f->elastic_ip));
			fprintf(out, "source/dest check %s, groups",
				f->flags & VPC_IFACE_F_SRC_DST_CHECK ? "on" : "off");
			for (unsigned int k = 0; k < f->n_sgs; k++)
				fprintf(out, "%s%s", k ? ", " : " ", img->sgs[f->sgs[k]].name);
			fputc('\n', out);
		}
		fprintf(out, "  L2 table:\n");
		for (uint32_t i = 0; i < img->n_l2; i++) {
			const struct vpc_image_l2 *l = &img->l2[i];
			if (l->vpc == vi)
				fprintf(out, "    %s -> %s\n", mac_str(c, l->mac),
					img->ifaces[l->iface].name);
		}
	}

	const struct vpc_image_host *h = &img->host[0];
	fprintf(out, "\nports:\n");
	for (uint32_t i = 0; i < img->n_ports; i++) {
		const struct vpc_image_port *p = &img->ports[i];
		if (p->kind == VPC_PORT_UPLINK)
			fprintf(out, "  %3u %-16s uplink, MAC %s, gateway MAC %s%s%s%s\n",
				i, p->name, mac_str(a, h->uplink_mac),
				mac_str(c, h->gateway_mac),
				h->flags & VPC_HOST_F_UPLINK_MACS ? "" : " (defaults)",
				h->underlay_ip ? ", underlay " : "",
				h->underlay_ip ? ip_str(b, h->underlay_ip) : "");
		else
			fprintf(out, "  %3u %-16s interface %s (VPC %s)\n", i,
				p->name, img->ifaces[p->iface].name,
				img->vpcs[img->ifaces[p->iface].vpc].name);
	}
	if (img->n_peerings > 0) {
		fprintf(out, "\npeerings:\n");
		for (uint32_t i = 0; i < img->n_peerings; i++)
			fprintf(out, "  %-16s %s <-> %s\n", img->peerings[i].name,
				img->vpcs[img->peerings[i].vpc[0]].name,
				img->vpcs[img->peerings[i].vpc[1]].name);
	}
	if (img->n_rhosts > 0) {
		fprintf(out, "\nother hosts (overlay):\n");
		for (uint32_t i = 0; i < img->n_rhosts; i++)
			fprintf(out, "  %-16s underlay %-15s next hop MAC %s\n", img->rhosts[i].name,
				ip_str(a, img->rhosts[i].underlay_ip), mac_str(c, img->rhosts[i].next_hop_mac));
	}
	fprintf(out, "\nelastic IPs (uplink):\n");
	if (img->n_eips == 0)
		fprintf(out, "  none\n");
	for (uint32_t i = 0; i < img->n_eips; i++) {
		uint32_t x = img->eips[i].iface;
		if (x & VPC_EIP_NATGW) {
			const struct vpc_image_natgw *g = &img->natgws[x & ~VPC_EIP_NATGW];
			fprintf(out, "  %-15s -> NAT gateway %s (VPC %s)\n",
				ip_str(a, img->eips[i].elastic_ip), g->name, img->vpcs[g->vpc].name);
			continue;
		}
		if (x & VPC_EIP_LB) {
			const struct vpc_image_lb *lb = &img->lbs[x & ~VPC_EIP_LB];
			fprintf(out, "  %-15s -> load balancer %s (VPC %s)\n",
				ip_str(a, img->eips[i].elastic_ip), lb->name, img->vpcs[lb->vpc].name);
			continue;
		}
		const struct vpc_image_iface *f = &img->ifaces[x];
		fprintf(out, "  %-15s -> %s %s (VPC %s)\n",
			ip_str(a, img->eips[i].elastic_ip), f->name,
			ip_str(b, f->ip), img->vpcs[f->vpc].name);
	}
}

/* Names are [a-z0-9-], so JSON strings need no escaping; still, never
 * trust that: escape anything outside printable ASCII. */
static void
json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void
json_dhcp(const struct vpc_image_dhcp *o, FILE *out)
{
	fprintf(out, ",\"dhcp_options\":{\"domain_name_servers\":[");
	addr_list(out, o->dns, o->n_dns, true);
	fprintf(out, "],\"domain_name\":");
	if (o->domain_len)
		json_str(out, o->domain);
	else
		fprintf(out, "null");
	fprintf(out, ",\"ntp_servers\":[");
	addr_list(out, o->ntp, o->n_ntp, true);
	fprintf(out, "],\"lease_time\":%u}", o->lease);
}

/* The balancers, as the elements of the top-level load_balancers array. */
static void
json_lbs(const struct vpc_image *img, FILE *out)
{
	char a[20];

	for (uint32_t i = 0; i < img->n_lbs; i++) {
		const struct vpc_image_lb *b = &img->lbs[i];
		bool internet = b->flags & VPC_LB_F_INTERNET;
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, b->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[b->vpc].name);
		fprintf(out, ",\"scheme\":\"%s\",\"subnet\":", internet ? "internet-facing" : "internal");
		if (internet)
			fprintf(out, "null,\"ip\":null,\"elastic_ip\":\"%s\"", ip_str(a, b->elastic_ip));
		else {
			json_str(out, img->subnets[b->subnet].name);
			fprintf(out, ",\"ip\":\"%s\",\"elastic_ip\":null", ip_str(a, b->ip));
		}
		fprintf(out, ",\"security_groups\":[");
		for (unsigned int k = 0; k < b->n_sgs; k++) {
			if (k)
				fputc(',', out);
			json_str(out, img->sgs[b->sgs[k]].name);
		}
		fprintf(out, "],\"listeners\":[");
		for (uint32_t l = b->first_listener; l < b->first_listener + b->n_listeners; l++) {
			const struct vpc_image_listener *x = &img->listeners[l];
			fprintf(out, "%s{\"protocol\":\"%s\",\"port\":%u,\"target_group\":",
				l > b->first_listener ? "," : "", lb_proto_str(x->proto), ntohs(x->port));
			json_str(out, img->tgroups[x->tgroup].name);
			fputc('}', out);
		}
		fprintf(out, "],\"target_groups\":[");
		for (uint32_t g = b->first_tgroup; g < b->first_tgroup + b->n_tgroups; g++) {
			const struct vpc_image_tgroup *x = &img->tgroups[g];
			fprintf(out, "%s{\"name\":", g > b->first_tgroup ? "," : "");
			json_str(out, x->name);
			fprintf(out, ",\"protocol\":\"%s\",\"port\":%u,\"algorithm\":\"%s\","
				"\"deregistration_delay\":%u,\"health_check\":{\"protocol\":\"tcp\","
				"\"interval\":%u,\"timeout\":%u,\"healthy_threshold\":%u,"
				"\"unhealthy_threshold\":%u},\"targets\":[",
				lb_proto_str(x->proto), ntohs(x->port), vpc_lb_algorithm_name(x->algorithm),
				x->dereg_delay, x->hc_interval, x->hc_timeout, x->hc_healthy,
				x->hc_unhealthy);
			for (uint32_t t = x->first_target; t < x->first_target + x->n_targets; t++) {
				const struct vpc_image_target *y = &img->targets[t];
				fprintf(out, "%s{\"interface\":", t > x->first_target ? "," : "");
				json_str(out, img->ifaces[y->iface].name);
				fprintf(out, ",\"ip\":\"%s\",\"port\":%u,\"health_check_port\":%u,\"weight\":%u}",
					ip_str(a, img->ifaces[y->iface].ip), ntohs(y->port),
					ntohs(y->hc_port), y->weight);
			}
			fprintf(out, "]}");
		}
		fprintf(out, "]}");
	}
}

void
vpc_show_json(const struct vpc_image *img, FILE *out)
{
	char a[20], c[18];
	const struct vpc_image_host *h = &img->host[0];

	fprintf(out, "{\"version\":%u,\"size\":%zu,\"checksum\":\"%016" PRIx64 "\",\"vpcs\":[",
		img->hdr->version, img->size, (uint64_t)img->hdr->checksum);
	for (uint32_t vi = 0; vi < img->n_vpcs; vi++) {
		const struct vpc_image_vpc *v = &img->vpcs[vi];
		fprintf(out, "%s{\"name\":", vi ? "," : "");
		json_str(out, v->name);
		fprintf(out, ",\"cidr\":\"%s\",\"vni\":%u,\"mtu\":%u,\"internet_gateway\":%s,\"router_mac\":\"%s\",\"main_route_table\":",
			cidr_str(a, v->cidr_addr, v->cidr_len), v->vni, v->mtu,
			v->flags & VPC_VPC_F_IGW ? "true" : "false",
			mac_str(c, v->router_mac));
		json_str(out, img->rtables[v->main_rtable].name);
		fprintf(out, ",\"default_security_group\":");
		json_str(out, img->sgs[v->default_sg].name);
		fprintf(out, ",\"timeouts\":{");
		for (int k = 0; k < VPC_TO_COUNT; k++)
			fprintf(out, "%s\"%s\":%u", k ? "," : "",
				vpc_timeout_name((unsigned)k), v->timeouts[k]);
		fputc('}', out);
		json_dhcp(&img->dhcp[vi], out);
		fputc('}', out);
	}
	fprintf(out, "],\"subnets\":[");
	for (uint32_t i = 0; i < img->n_subnets; i++) {
		const struct vpc_image_subnet *s = &img->subnets[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, s->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[s->vpc].name);
		fprintf(out, ",\"cidr\":\"%s\",", cidr_str(a, s->cidr_addr, s->cidr_len));
		fprintf(out, "\"gateway\":\"%s\",\"route_table\":", ip_str(a, s->gateway_ip));
		json_str(out, img->rtables[s->rtable].name);
		fprintf(out, ",\"network_acl\":");
		if (s->nacl != VPC_INDEX_NONE)
			json_str(out, img->nacls[s->nacl].name);
		else
			fprintf(out, "null");
		fputc('}', out);
	}
	fprintf(out, "],\"route_tables\":[");
	for (uint32_t i = 0; i < img->n_rtables; i++) {
		const struct vpc_image_rtable *t = &img->rtables[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, t->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[t->vpc].name);
		fprintf(out, ",\"main\":%s,\"routes\":[", t->is_main ? "true" : "false");
		for (uint32_t r = t->first_route; r < t->first_route + t->n_routes; r++) {
			const struct vpc_image_route *x = &img->routes[r];
			fprintf(out, "%s{\"destination\":\"%s\",\"target\":\"%s\"",
				r > t->first_route ? "," : "",
				cidr_str(a, x->prefix, x->prefix_len),
				vpc_route_target_name(x->target));
			if (x->target == VPC_RT_IFACE) {
				fprintf(out, ",\"interface\":");
				json_str(out, img->ifaces[x->target_iface].name);
			}
			if (x->target == VPC_RT_NATGW) {
				fprintf(out, ",\"nat_gateway\":");
				json_str(out, img->natgws[x->target_iface].name);
			}
			if (x->target == VPC_RT_PEERING) {
				fprintf(out, ",\"peering\":");
				json_str(out, img->peerings[x->target_peering].name);
				fprintf(out, ",\"peer_vpc\":");
				json_str(out, img->vpcs[peer_vpc(img, x->target_peering, t->vpc)].name);
			}
			fprintf(out, ",\"implicit\":%s}",
				x->flags & VPC_ROUTE_F_IMPLICIT ? "true" : "false");
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\"security_groups\":[");
	for (uint32_t i = 0; i < img->n_sgs; i++) {
		const struct vpc_image_sg *g = &img->sgs[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, g->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[g->vpc].name);
		fprintf(out, ",\"implicit\":%s,\"members\":%u,\"rules\":[",
			g->flags & VPC_SG_F_IMPLICIT ? "true" : "false", g->n_members);
		uint32_t end = g->first_rule + g->n_ingress + g->n_egress;
		for (uint32_t r = g->first_rule; r < end; r++) {
			const struct vpc_image_rule *x = &img->rules[r];
			char p[8];
			fprintf(out, "%s{\"direction\":\"%s\",\"protocol\":\"%s\",\"ports\":[%u,%u],\"peer\":\"%s\"",
				r > g->first_rule ? "," : "",
				x->dir ? "egress" : "ingress", proto_str(p, x),
				x->port_lo, x->port_hi,
				cidr_str(a, x->peer_addr, x->peer_len));
			if (x->flags & VPC_RULE_F_ICMP_TYPE)
				fprintf(out, ",\"icmp_type\":%u", x->icmp_type);
			if (x->flags & VPC_RULE_F_ICMP_CODE)
				fprintf(out, ",\"icmp_code\":%u", x->icmp_code);
			if (x->flags & VPC_RULE_F_SG_PEER) {
				fprintf(out, ",\"peer_security_group\":");
				json_str(out, img->sgs[x->peer_sg].name);
				fprintf(out, ",\"peer_vpc\":");
				json_str(out, img->vpcs[img->sgs[x->peer_sg].vpc].name);
			}
			fprintf(out, ",\"source_rule\":%u}", x->src_rule);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\"network_acls\":[");
	for (uint32_t i = 0; i < img->n_nacls; i++) {
		const struct vpc_image_nacl *n = &img->nacls[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, n->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[n->vpc].name);
		fprintf(out, ",\"subnets\":%u,\"rules\":[", n->n_subnets);
		uint32_t end = n->first_rule + n->n_ingress + n->n_egress;
		for (uint32_t r = n->first_rule; r < end; r++) {
			const struct vpc_image_nacl_rule *x = &img->nacl_rules[r];
			char p[8];
			fprintf(out, "%s{\"direction\":\"%s\",\"rule\":%u,\"action\":\"%s\","
				"\"protocol\":\"%s\",\"ports\":[%u,%u],\"cidr\":\"%s\"",
				r > n->first_rule ? "," : "", x->dir ? "egress" : "ingress",
				x->number, x->flags & VPC_NRULE_F_ALLOW ? "allow" : "deny",
				nrule_proto_str(p, x), x->port_lo, x->port_hi,
				cidr_str(a, x->cidr_addr, x->cidr_len));
			if (x->flags & VPC_NRULE_F_ICMP_TYPE)
				fprintf(out, ",\"icmp_type\":%u", x->icmp_type);
			if (x->flags & VPC_NRULE_F_ICMP_CODE)
				fprintf(out, ",\"icmp_code\":%u", x->icmp_code);
			fputc('}', out);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\"nat_gateways\":[");
	for (uint32_t i = 0; i < img->n_natgws; i++) {
		const struct vpc_image_natgw *g = &img->natgws[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, g->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[g->vpc].name);
		fprintf(out, ",\"subnet\":");
		json_str(out, img->subnets[g->subnet].name);
		fprintf(out, ",\"elastic_ip\":\"%s\"}", ip_str(a, g->elastic_ip));
	}
	fprintf(out, "],\"load_balancers\":[");
	json_lbs(img, out);
	fprintf(out, "],\"interfaces\":[");
	for (uint32_t i = 0; i < img->n_ifaces; i++) {
		const struct vpc_image_iface *f = &img->ifaces[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, f->name);
		fprintf(out, ",\"vpc\":");
		json_str(out, img->vpcs[f->vpc].name);
		fprintf(out, ",\"subnet\":");
		json_str(out, img->subnets[f->subnet].name);
		fprintf(out, ",\"port\":");
		if (f->flags & VPC_IFACE_F_REMOTE) {
			fprintf(out, "null,\"host\":");	/* another host's */
			json_str(out, img->rhosts[f->rhost].name);
		} else {
			json_str(out, img->ports[f->port].name);
		}
		fprintf(out, ",\"ip\":\"%s\",\"mac\":\"%s\",\"mac_derived\":%s",
			ip_str(a, f->ip), mac_str(c, f->mac),
			f->flags & VPC_IFACE_F_MAC_DERIVED ? "true" : "false");
		if (f->flags & VPC_IFACE_F_EIP)
			fprintf(out, ",\"elastic_ip\":\"%s\"", ip_str(a, f->elastic_ip));
		else
			fprintf(out, ",\"elastic_ip\":null");
		fprintf(out, ",\"source_dest_check\":%s,\"security_groups\":[",
			f->flags & VPC_IFACE_F_SRC_DST_CHECK ? "true" : "false");
		for (unsigned int k = 0; k < f->n_sgs; k++) {
			if (k)
				fputc(',', out);
			json_str(out, img->sgs[f->sgs[k]].name);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\"ports\":[");
	for (uint32_t i = 0; i < img->n_ports; i++) {
		const struct vpc_image_port *p = &img->ports[i];
		fprintf(out, "%s{\"id\":%u,\"name\":", i ? "," : "", i);
		json_str(out, p->name);
		if (p->kind == VPC_PORT_UPLINK) {
			fprintf(out, ",\"kind\":\"uplink\",\"mac\":\"%s\",", mac_str(c, h->uplink_mac));
			fprintf(out, "\"gateway_mac\":\"%s\"", mac_str(c, h->gateway_mac));
			if (h->underlay_ip)
				fprintf(out, ",\"underlay_ip\":\"%s\"", ip_str(a, h->underlay_ip));
			fprintf(out, "}");
		} else {
			fprintf(out, ",\"kind\":\"interface\",\"interface\":");
			json_str(out, img->ifaces[p->iface].name);
			fputc('}', out);
		}
	}
	fprintf(out, "],\"l2\":[");
	for (uint32_t i = 0; i < img->n_l2; i++) {
		fprintf(out, "%s{\"vpc\":", i ? "," : "");
		json_str(out, img->vpcs[img->l2[i].vpc].name);
		fprintf(out, ",\"mac\":\"%s\",\"interface\":", mac_str(c, img->l2[i].mac));
		json_str(out, img->ifaces[img->l2[i].iface].name);
		fputc('}', out);
	}
	fprintf(out, "],\"elastic_ips\":[");
	for (uint32_t i = 0; i < img->n_eips; i++) {
		uint32_t x = img->eips[i].iface;
		fprintf(out, "%s{\"elastic_ip\":\"%s\",\"%s\":", i ? "," : "",
			ip_str(a, img->eips[i].elastic_ip),
			x & VPC_EIP_NATGW ? "nat_gateway" : x & VPC_EIP_LB ? "load_balancer" :
			"interface");
		json_str(out, x & VPC_EIP_NATGW ? img->natgws[x & ~VPC_EIP_NATGW].name :
			      x & VPC_EIP_LB ? img->lbs[x & ~VPC_EIP_LB].name : img->ifaces[x].name);
		fputc('}', out);
	}
	fprintf(out, "],\"peerings\":[");
	for (uint32_t i = 0; i < img->n_peerings; i++) {
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, img->peerings[i].name);
		fprintf(out, ",\"vpcs\":[");
		json_str(out, img->vpcs[img->peerings[i].vpc[0]].name);
		fputc(',', out);
		json_str(out, img->vpcs[img->peerings[i].vpc[1]].name);
		fprintf(out, "]}");
	}
	fprintf(out, "],\"other_hosts\":[");
	for (uint32_t i = 0; i < img->n_rhosts; i++) {
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, img->rhosts[i].name);
		fprintf(out, ",\"underlay_ip\":\"%s\",\"next_hop_mac\":\"%s\"}",
			ip_str(a, img->rhosts[i].underlay_ip), mac_str(c, img->rhosts[i].next_hop_mac));
	}
	fprintf(out, "]}\n");
}
