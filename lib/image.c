/* SPDX-License-Identifier: BSD-3-Clause */
#include "vpc_image_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint32_t section_entry_size[VPC_SEC_COUNT] = {
#define VPC_X(e, f, t) [VPC_SEC_##e] = sizeof(t),
	VPC_IMAGE_SECTIONS(VPC_X)
#undef VPC_X
};

static const char *const section_name[VPC_SEC_COUNT] = {
#define VPC_X(e, f, t) [VPC_SEC_##e] = #f,
	VPC_IMAGE_SECTIONS(VPC_X)
#undef VPC_X
};

/* Largest count each section may hold. */
static const uint32_t section_max[VPC_SEC_COUNT] = {
	[VPC_SEC_VPC] = VPC_MAX_VPCS,
	[VPC_SEC_SUBNET] = VPC_MAX_SUBNETS,
	[VPC_SEC_RTABLE] = VPC_MAX_RTABLES,
	[VPC_SEC_ROUTE] = VPC_MAX_ROUTES,
	[VPC_SEC_SG] = VPC_MAX_SGS,
	[VPC_SEC_RULE] = VPC_MAX_RULES,
	[VPC_SEC_IFACE] = VPC_MAX_IFACES,
	[VPC_SEC_PORT] = VPC_MAX_IFACES + 1,
	[VPC_SEC_L2] = VPC_MAX_IFACES,
	[VPC_SEC_EIP] = VPC_MAX_IFACES + VPC_MAX_NATGWS + VPC_MAX_LBS,
	[VPC_SEC_HOST] = 1,
	[VPC_SEC_HPORT] = VPC_MAX_IFACES + 1,
	[VPC_SEC_DHCP] = VPC_MAX_VPCS,
	[VPC_SEC_NACL] = VPC_MAX_NACLS,
	[VPC_SEC_NRULE] = VPC_MAX_NACLS * 2 * VPC_NACL_MAX_RULES,
	[VPC_SEC_RHOST] = VPC_MAX_HOSTS - 1,
	[VPC_SEC_NATGW] = VPC_MAX_NATGWS,
	[VPC_SEC_PEERING] = VPC_MAX_PEERINGS,
	[VPC_SEC_LB] = VPC_MAX_LBS,
	[VPC_SEC_LISTENER] = VPC_MAX_LISTENERS,
	[VPC_SEC_TGROUP] = VPC_MAX_TGROUPS,
	[VPC_SEC_TARGET] = VPC_MAX_TARGETS,
};

static const char *const target_names[VPC_RT_COUNT] = {
	[VPC_RT_LOCAL] = "local",
	[VPC_RT_IGW] = "internet_gateway",
	[VPC_RT_BLACKHOLE] = "blackhole",
	[VPC_RT_IFACE] = "interface",
	[VPC_RT_NATGW] = "nat_gateway",
	[VPC_RT_PEERING] = "peering",
};

static const char *const lb_algorithm_names[VPC_LB_ALG_COUNT] = {
	[VPC_LB_HASH] = "hash",
	[VPC_LB_ROUND_ROBIN] = "round_robin",
	[VPC_LB_WEIGHTED_ROUND_ROBIN] = "weighted_round_robin",
	[VPC_LB_LEAST_CONNECTIONS] = "least_connections",
};

static const char *const timeout_names[VPC_TO_COUNT] = {
#define VPC_X(e, f, d) [VPC_TO_##e] = #f,
	VPC_TIMEOUTS(VPC_X)
#undef VPC_X
};

const char *
vpc_route_target_name(unsigned int target)
{
	return target < VPC_RT_COUNT && target_names[target] != NULL ? target_names[target] : "?";
}

uint32_t
vpc_image_peering_of(const struct vpc_image *img, uint32_t a, uint32_t b)
{
	for (uint32_t p = 0; p < img->n_peerings; p++) {
		const struct vpc_image_peering *x = &img->peerings[p];
		if ((x->vpc[0] == a && x->vpc[1] == b) || (x->vpc[0] == b && x->vpc[1] == a))
			return p;
	}
	return VPC_INDEX_NONE;
}

const char *
vpc_lb_algorithm_name(unsigned int alg)
{
	return alg < VPC_LB_ALG_COUNT ? lb_algorithm_names[alg] : "?";
}

const char *
vpc_timeout_name(unsigned int id)
{
	return id < VPC_TO_COUNT ? timeout_names[id] : "?";
}

uint64_t
vpc_image_checksum(const void *p, size_t size)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Point the typed views at the sections of an image's buffer. */
static void
image_bind(struct vpc_image *img)
{
	uint8_t *base = img->buf;

	img->hdr = img->buf;
#define VPC_X(e, f, t)                                                 \
	img->f = (t *)(base + img->hdr->sections[VPC_SEC_##e].offset); \
	img->n_##f = img->hdr->sections[VPC_SEC_##e].count;
	VPC_IMAGE_SECTIONS(VPC_X)
#undef VPC_X
}

struct vpc_image *
vpc_image_alloc(const uint32_t counts[VPC_SEC_COUNT])
{
	size_t size = align8(sizeof(struct vpc_image_header));
	struct vpc_image_section secs[VPC_SEC_COUNT];

	for (int s = 0; s < VPC_SEC_COUNT; s++) {
		if (counts[s] > section_max[s]) {
			errno = E2BIG;
			return NULL;
		}
		secs[s] = (struct vpc_image_section){
			.offset = (uint32_t)size,
			.count = counts[s],
			.entry_size = section_entry_size[s],
		};
		size = align8(size + (size_t)counts[s] * section_entry_size[s]);
		if (size > VPC_IMAGE_MAX_SIZE) {
			errno = E2BIG;
			return NULL;
		}
	}

	struct vpc_image *img = calloc(1, sizeof(*img));
	if (img == NULL)
		return NULL;
	img->buf = calloc(1, size);
	if (img->buf == NULL) {
		free(img);
		errno = ENOMEM;
		return NULL;
	}
	img->size = size;
	struct vpc_image_header *h = img->buf;
	h->magic = VPC_IMAGE_MAGIC;
	h->version = VPC_IMAGE_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = (uint32_t)size;
	h->n_sections = VPC_SEC_COUNT;
	memcpy(h->sections, secs, sizeof(secs));
	image_bind(img);
	return img;
}

void
vpc_image_seal(struct vpc_image *img)
{
	img->hdr->checksum = vpc_image_checksum(
		(uint8_t *)img->buf + sizeof(*img->hdr),
		img->size - sizeof(*img->hdr));
}

void
vpc_image_free(struct vpc_image *img)
{
	if (img == NULL)
		return;
	free(img->buf);
	free(img);
}

__attribute__((format(printf, 3, 4))) static int
fault(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_size > 0) {
		int n = snprintf(err, err_size, "corrupt table image: ");
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < err_size)
			vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * Names are [a-z0-9][a-z0-9-]{0,31}, NUL-padded to VPC_NAME_SIZE, as the
 * loader accepts them.  Readers rely on more than the NUL: `show` prints
 * them raw to a terminal, vpc-replay makes file names of port names, and
 * the XDP engine keys a map with the whole field.
 */
static bool
name_ok(const char *name)
{
	size_t n = strnlen(name, VPC_NAME_SIZE);

	if (n == 0 || n > VPC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (c == '-' && i > 0)))
			return false;
	}
	for (size_t i = n; i < VPC_NAME_SIZE; i++)
		if (name[i] != '\0')
			return false;
	return true;
}

#define CHECK(cond, ...)                                      \
	do {                                                  \
		if (!(cond))                                  \
			return fault(err, err_size, __VA_ARGS__); \
	} while (0)

/*
 * Bounds of the values the loader accepts (control/topo_load.c), which the
 * engines take as given: a connection's context is VNI << 8 in 32 bits (0
 * is the uplink's), a timeout of 0 would expire every connection at its
 * first packet, and a DHCP lease of at most a year keeps its rebinding
 * time (lease * 7 / 8) within 32 bits.
 */
#define IMG_VNI_MAX     0xffffffu
#define IMG_MTU_MIN     68
#define IMG_MTU_MAX     9000
#define IMG_TIMEOUT_MAX (30u * 86400)
#define IMG_LEASE_MIN   60
#define IMG_LEASE_MAX   (365u * 86400)

/* Scratch for the uniqueness checks; not the image's fault if it fails. */
static void *
scratch(size_t n, size_t size, char *err, size_t err_size)
{
	void *p = malloc((n + 1) * size);

	if (p == NULL && err != NULL && err_size > 0)
		snprintf(err, err_size, "checking the table image: out of memory");
	return p;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * No two VPCs share a VNI: both engines key connections by VNI << 8, so
 * two VPCs with one VNI would share connections (one's replies let into
 * the other), and the router MAC is derived from it.
 */
static int
check_vnis(const struct vpc_image *m, char *err, size_t err_size)
{
	uint64_t *key = scratch(m->n_vpcs, sizeof(*key), err, err_size);
	int ret = 0;

	if (key == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n_vpcs; i++)
		key[i] = (uint64_t)m->vpcs[i].vni << 32 | i;
	qsort(key, m->n_vpcs, sizeof(*key), u64_cmp);
	for (uint32_t i = 1; i < m->n_vpcs && ret == 0; i++)
		if (key[i] >> 32 == key[i - 1] >> 32)
			ret = fault(err, err_size, "vpc %u: VNI %u is also vpc %u's",
				    (uint32_t)key[i], (uint32_t)(key[i] >> 32),
				    (uint32_t)key[i - 1]);
	free(key);
	return ret;
}

/* By name, then by position: the first of two equal names sorts first. */
static int
port_name_cmp(const void *a, const void *b)
{
	const struct vpc_image_port *x = *(const struct vpc_image_port *const *)a;
	const struct vpc_image_port *y = *(const struct vpc_image_port *const *)b;
	int c = strncmp(x->name, y->name, VPC_NAME_SIZE);

	return c != 0 ? c : (x > y) - (x < y);
}

/*
 * No two ports share a name: a port is known by its name across applies.
 * The XDP engine gives each name one slot and lists an added slot once per
 * record (past its 4096-entry list with enough duplicates); the daemon
 * moves devices between ports by name; vpc-replay writes a capture per name.
 */
static int
check_port_names(const struct vpc_image *m, char *err, size_t err_size)
{
	const struct vpc_image_port **by_name =
		scratch(m->n_ports, sizeof(*by_name), err, err_size);
	int ret = 0;

	if (by_name == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n_ports; i++)
		by_name[i] = &m->ports[i];
	qsort(by_name, m->n_ports, sizeof(*by_name), port_name_cmp);
	for (uint32_t i = 1; i < m->n_ports && ret == 0; i++)
		if (strncmp(by_name[i]->name, by_name[i - 1]->name, VPC_NAME_SIZE) == 0)
			ret = fault(err, err_size, "port %u: name '%s' is also port %u's",
				    (uint32_t)(by_name[i] - m->ports), by_name[i]->name,
				    (uint32_t)(by_name[i - 1] - m->ports));
	free(by_name);
	return ret;
}

/* What validation accepts in a domain name list (letters, digits, '-',
 * dots and the spaces between names): show prints it raw. */
static bool
domain_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ' ';
}

/*
 * DHCP options, one record per VPC (dhcp[i] is vpcs[i]'s): the dataplane
 * copies the first n_dns and n_ntp addresses and domain_len bytes of the
 * domain into its answers, and the lease and its renewal times derived
 * from it.
 */
static int
check_dhcp(const struct vpc_image *m, char *err, size_t err_size)
{
	CHECK(m->n_dhcp == m->n_vpcs,
	      "dhcp section holds %u records, expected one per VPC (%u)",
	      m->n_dhcp, m->n_vpcs);
	for (uint32_t i = 0; i < m->n_dhcp; i++) {
		const struct vpc_image_dhcp *o = &m->dhcp[i];
		CHECK(o->n_dns >= 1 && o->n_dns <= VPC_DHCP_MAX_SERVERS,
		      "dhcp %u: %u domain name servers", i, o->n_dns);
		CHECK(o->n_ntp <= VPC_DHCP_MAX_SERVERS, "dhcp %u: %u NTP servers",
		      i, o->n_ntp);
		CHECK(o->domain_len < VPC_DHCP_DOMAIN_MAX,
		      "dhcp %u: domain name of %u bytes", i, o->domain_len);
		for (unsigned int k = 0; k < o->domain_len; k++)
			CHECK(domain_char_ok(o->domain[k]),
			      "dhcp %u: domain name byte %u is 0x%02x", i, k,
			      (unsigned char)o->domain[k]);
		for (unsigned int k = o->domain_len; k < VPC_DHCP_DOMAIN_MAX; k++)
			CHECK(o->domain[k] == '\0',
			      "dhcp %u: byte %u past the domain name is not 0", i, k);
		CHECK(o->lease >= IMG_LEASE_MIN && o->lease <= IMG_LEASE_MAX,
		      "dhcp %u: lease %u seconds out of range", i, o->lease);
		CHECK(o->pad == 0, "dhcp %u: padding is not 0", i);
	}
	return 0;
}

/* Network ACLs: their rule ranges, each direction's rules in strictly
 * increasing number order (so unique) within the engines' scan bound. */
static int
check_nacls(const struct vpc_image *m, char *err, size_t err_size)
{
	uint64_t n_owned = 0;

	for (uint32_t i = 0; i < m->n_nacls; i++) {
		const struct vpc_image_nacl *a = &m->nacls[i];
		uint64_t end = (uint64_t)a->first_rule + a->n_ingress + a->n_egress;
		CHECK(name_ok(a->name), "network ACL %u: bad name", i);
		CHECK(a->vpc < m->n_vpcs, "network ACL %u: vpc %u out of range", i, a->vpc);
		CHECK(a->n_ingress <= VPC_NACL_MAX_RULES && a->n_egress <= VPC_NACL_MAX_RULES,
		      "network ACL %u: %u ingress and %u egress rules (at most %u each)", i,
		      a->n_ingress, a->n_egress, VPC_NACL_MAX_RULES);
		CHECK(end <= m->n_nacl_rules, "network ACL %u: rules out of range", i);
		for (uint32_t r = a->first_rule; r < end; r++) {
			const struct vpc_image_nacl_rule *x = &m->nacl_rules[r];
			bool in = r < a->first_rule + a->n_ingress;
			CHECK(x->nacl == i && x->dir == (in ? VPC_DIR_INGRESS : VPC_DIR_EGRESS),
			      "network ACL rule %u does not belong to network ACL %u", r, i);
			CHECK(r == a->first_rule || r == a->first_rule + a->n_ingress ||
				      m->nacl_rules[r - 1].number < x->number,
			      "network ACL rule %u: not in rule-number order", r);
		}
		n_owned += a->n_ingress + a->n_egress;
	}
	CHECK(n_owned == m->n_nacl_rules, "%llu of %u network ACL rules are in no ACL's range",
	      (unsigned long long)(m->n_nacl_rules - n_owned), m->n_nacl_rules);
	for (uint32_t i = 0; i < m->n_nacl_rules; i++) {
		const struct vpc_image_nacl_rule *r = &m->nacl_rules[i];
		CHECK(r->number >= 1 && r->number <= VPC_NACL_RULE_MAX,
		      "network ACL rule %u: number %u out of range", i, r->number);
		CHECK(!(r->flags & ~VPC_NRULE_F_ALL), "network ACL rule %u: flags 0x%x", i,
		      r->flags);
		CHECK(r->cidr_len <= 32, "network ACL rule %u: prefix length %u", i, r->cidr_len);
		CHECK(r->port_lo <= r->port_hi, "network ACL rule %u: port range %u-%u", i,
		      r->port_lo, r->port_hi);
		CHECK(!(r->flags & VPC_NRULE_F_ICMP_CODE) || (r->flags & VPC_NRULE_F_ICMP_TYPE),
		      "network ACL rule %u: ICMP code without a type", i);
		CHECK(!(r->flags & (VPC_NRULE_F_ICMP_TYPE | VPC_NRULE_F_ICMP_CODE)) ||
			      (r->proto == 1 && !(r->flags & VPC_NRULE_F_ANY_PROTO)),
		      "network ACL rule %u: ICMP type or code on protocol %u", i, r->proto);
		CHECK((r->port_lo == 0 && r->port_hi == 65535) ||
			      ((r->proto == 6 || r->proto == 17) && !(r->flags & VPC_NRULE_F_ANY_PROTO)),
		      "network ACL rule %u: ports on protocol %u", i, r->proto);
	}
	return 0;
}

/* Bounds of a target group's fields (vpc_image.h's VPC_HC_* and
 * VPC_LB_DEREG_DEFAULT comments; the loader's ranges). */
#define IMG_HC_INTERVAL_MIN 5
#define IMG_HC_INTERVAL_MAX 300
#define IMG_HC_TIMEOUT_MIN  2
#define IMG_HC_TIMEOUT_MAX  120
#define IMG_HC_THRESHOLD_MIN 2
#define IMG_HC_THRESHOLD_MAX 10
#define IMG_LB_DEREG_MAX    3600
#define IMG_LB_WEIGHT_MAX   1000

static bool
lb_proto_ok(uint8_t proto)
{
	return proto == 6 || proto == 17;
}

/* Listeners of one balancer: no (protocol, port) twice -- an engine keys
 * its listener table by them, and a second one would never be reached. */
static int
check_listener_keys(const struct vpc_image *m, char *err, size_t err_size)
{
	uint64_t *key = scratch(m->n_listeners, sizeof(*key), err, err_size);
	int ret = 0;

	if (key == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n_listeners; i++) {
		const struct vpc_image_listener *l = &m->listeners[i];
		key[i] = (uint64_t)l->lb << 40 | (uint64_t)l->proto << 32 | (uint32_t)ntohs(l->port) << 16;
	}
	qsort(key, m->n_listeners, sizeof(*key), u64_cmp);
	for (uint32_t i = 1; i < m->n_listeners && ret == 0; i++)
		if (key[i] == key[i - 1])
			ret = fault(err, err_size, "load balancer %u: two listeners of protocol %u port %u",
				    (uint32_t)(key[i] >> 40), (uint32_t)(key[i] >> 32) & 0xff,
				    (uint32_t)(key[i] >> 16) & 0xffff);
	free(key);
	return ret;
}

/*
 * Load balancers, after the subnets, groups and interfaces they name
 * (checked): each one's VPC, addressing by its scheme, groups; its
 * listeners and target groups as contiguous ranges of records that name
 * it back, covering their sections; each group's targets likewise; every
 * protocol, port, enum and bound an engine indexes or loops by.
 */
static int
check_lbs(const struct vpc_image *m, char *err, size_t err_size)
{
	uint64_t n_listeners = 0, n_tgroups = 0, n_targets = 0;

	for (uint32_t i = 0; i < m->n_lbs; i++) {
		const struct vpc_image_lb *b = &m->lbs[i];
		CHECK(name_ok(b->name), "load balancer %u: bad name", i);
		CHECK(b->vpc < m->n_vpcs, "load balancer %u: vpc %u out of range", i, b->vpc);
		CHECK((b->flags & ~VPC_LB_F_INTERNET) == 0, "load balancer %u: unknown flags 0x%x",
		      i, b->flags);
		if (b->flags & VPC_LB_F_INTERNET) {
			CHECK(b->subnet == VPC_INDEX_NONE && b->ip == 0 && b->elastic_ip != 0,
			      "load balancer %u: internet-facing with subnet %u, or no elastic IP", i,
			      b->subnet);
		} else {
			CHECK(b->subnet < m->n_subnets && m->subnets[b->subnet].vpc == b->vpc,
			      "load balancer %u: subnet %u out of range", i, b->subnet);
			const struct vpc_image_subnet *s = &m->subnets[b->subnet];
			uint32_t mask = s->cidr_len ? 0xffffffffu << (32 - s->cidr_len) : 0;
			CHECK(b->ip != 0 && ((ntohl(b->ip) ^ ntohl(s->cidr_addr)) & mask) == 0 &&
				      b->elastic_ip == 0,
			      "load balancer %u: internal, its address outside subnet %u or an elastic IP",
			      i, b->subnet);
		}
		CHECK(b->n_sgs <= VPC_LB_MAX_SGS, "load balancer %u: %u security groups", i,
		      b->n_sgs);
		for (unsigned int k = 0; k < b->n_sgs; k++)
			CHECK(b->sgs[k] < m->n_sgs && m->sgs[b->sgs[k]].vpc == b->vpc,
			      "load balancer %u: security group %u out of range", i, b->sgs[k]);
		CHECK(b->first_listener <= m->n_listeners &&
			      b->n_listeners <= m->n_listeners - b->first_listener,
		      "load balancer %u: listeners [%u, +%u) out of range", i, b->first_listener,
		      b->n_listeners);
		for (uint32_t l = b->first_listener; l < b->first_listener + b->n_listeners; l++)
			CHECK(m->listeners[l].lb == i, "listener %u does not belong to load balancer %u",
			      l, i);
		CHECK(b->first_tgroup <= m->n_tgroups && b->n_tgroups <= m->n_tgroups - b->first_tgroup,
		      "load balancer %u: target groups [%u, +%u) out of range", i, b->first_tgroup,
		      b->n_tgroups);
		for (uint32_t g = b->first_tgroup; g < b->first_tgroup + b->n_tgroups; g++)
			CHECK(m->tgroups[g].lb == i,
			      "target group %u does not belong to load balancer %u", g, i);
		n_listeners += b->n_listeners;
		n_tgroups += b->n_tgroups;
	}
	/* The ranges are disjoint (each record names its one owner); they
	 * must also cover every record, which the engines load whole. */
	CHECK(n_listeners == m->n_listeners, "%llu of %u listeners are in no load balancer's range",
	      (unsigned long long)(m->n_listeners - n_listeners), m->n_listeners);
	CHECK(n_tgroups == m->n_tgroups, "%llu of %u target groups are in no load balancer's range",
	      (unsigned long long)(m->n_tgroups - n_tgroups), m->n_tgroups);
	for (uint32_t i = 0; i < m->n_tgroups; i++) {
		const struct vpc_image_tgroup *g = &m->tgroups[i];
		CHECK(name_ok(g->name), "target group %u: bad name", i);
		CHECK(g->lb < m->n_lbs, "target group %u: load balancer %u out of range", i, g->lb);
		CHECK(lb_proto_ok(g->proto), "target group %u: protocol %u", i, g->proto);
		CHECK(g->algorithm < VPC_LB_ALG_COUNT, "target group %u: algorithm %u", i,
		      g->algorithm);
		CHECK(g->port != 0, "target group %u: port 0", i);
		CHECK(g->hc_interval >= IMG_HC_INTERVAL_MIN && g->hc_interval <= IMG_HC_INTERVAL_MAX &&
			      g->hc_timeout >= IMG_HC_TIMEOUT_MIN &&
			      g->hc_timeout <= IMG_HC_TIMEOUT_MAX && g->hc_timeout < g->hc_interval,
		      "target group %u: health check interval %u s, timeout %u s", i, g->hc_interval,
		      g->hc_timeout);
		CHECK(g->hc_healthy >= IMG_HC_THRESHOLD_MIN && g->hc_healthy <= IMG_HC_THRESHOLD_MAX &&
			      g->hc_unhealthy >= IMG_HC_THRESHOLD_MIN &&
			      g->hc_unhealthy <= IMG_HC_THRESHOLD_MAX,
		      "target group %u: health check thresholds %u and %u", i, g->hc_healthy,
		      g->hc_unhealthy);
		CHECK(g->dereg_delay <= IMG_LB_DEREG_MAX,
		      "target group %u: deregistration delay %u s out of range", i, g->dereg_delay);
		CHECK(g->n_targets <= VPC_LB_MAX_TARGETS, "target group %u: %u targets", i,
		      g->n_targets);
		CHECK(g->first_target <= m->n_targets && g->n_targets <= m->n_targets - g->first_target,
		      "target group %u: targets [%u, +%u) out of range", i, g->first_target,
		      g->n_targets);
		for (uint32_t t = g->first_target; t < g->first_target + g->n_targets; t++)
			CHECK(m->targets[t].tgroup == i, "target %u does not belong to target group %u",
			      t, i);
		n_targets += g->n_targets;
	}
	CHECK(n_targets == m->n_targets, "%llu of %u targets are in no target group's range",
	      (unsigned long long)(m->n_targets - n_targets), m->n_targets);
	for (uint32_t i = 0; i < m->n_listeners; i++) {
		const struct vpc_image_listener *l = &m->listeners[i];
		CHECK(l->lb < m->n_lbs, "listener %u: load balancer %u out of range", i, l->lb);
		CHECK(lb_proto_ok(l->proto) && l->port != 0, "listener %u: protocol %u port %u", i,
		      l->proto, ntohs(l->port));
		CHECK(l->tgroup < m->n_tgroups && m->tgroups[l->tgroup].lb == l->lb &&
			      m->tgroups[l->tgroup].proto == l->proto,
		      "listener %u: target group %u out of range, of another load balancer or protocol",
		      i, l->tgroup);
	}
	for (uint32_t i = 0; i < m->n_targets; i++) {
		const struct vpc_image_target *t = &m->targets[i];
		CHECK(t->tgroup < m->n_tgroups, "target %u: target group %u out of range", i,
		      t->tgroup);
		uint32_t vpc = m->lbs[m->tgroups[t->tgroup].lb].vpc;
		CHECK(t->iface < m->n_ifaces && m->ifaces[t->iface].vpc == vpc &&
			      !(m->ifaces[t->iface].flags & VPC_IFACE_F_REMOTE),
		      "target %u: interface %u out of range, of another VPC or remote", i, t->iface);
		CHECK(t->port != 0 && t->hc_port != 0, "target %u: port %u, health check port %u", i,
		      ntohs(t->port), ntohs(t->hc_port));
		CHECK(t->weight >= 1 && t->weight <= IMG_LB_WEIGHT_MAX, "target %u: weight %u", i,
		      t->weight);
	}
	return check_listener_keys(m, err, err_size);
}

/*
 * Every record's indexes and enums, once the sections are known in bounds:
 * whatever a reader (show, the engines' table builders, the daemon, replay)
 * uses as an index, a count, a bound, or a flag that selects another field
 * is checked here, so that none of them needs to check it again.
 */
static int
check_records(const struct vpc_image *m, char *err, size_t err_size)
{
	int ret;

	CHECK(m->n_host == 1, "host section holds %u records, expected 1",
	      m->n_host);
	CHECK(m->n_ports >= 1, "no uplink port");

	for (uint32_t i = 0; i < m->n_vpcs; i++) {
		const struct vpc_image_vpc *v = &m->vpcs[i];
		CHECK(name_ok(v->name), "vpc %u: bad name", i);
		CHECK(v->cidr_len <= 32, "vpc %u: prefix length %u", i,
		      v->cidr_len);
		CHECK(v->vni >= 1 && v->vni <= IMG_VNI_MAX,
		      "vpc %u: VNI %u out of range", i, v->vni);
		CHECK(v->mtu >= IMG_MTU_MIN && v->mtu <= IMG_MTU_MAX,
		      "vpc %u: MTU %u out of range", i, v->mtu);
		for (unsigned int k = 0; k < VPC_TO_COUNT; k++)
			CHECK(v->timeouts[k] >= 1 && v->timeouts[k] <= IMG_TIMEOUT_MAX,
			      "vpc %u: %s timeout %u out of range", i,
			      vpc_timeout_name(k), v->timeouts[k]);
		CHECK(v->main_rtable < m->n_rtables,
		      "vpc %u: main route table %u out of range", i,
		      v->main_rtable);
		CHECK(v->default_sg < m->n_sgs,
		      "vpc %u: default group %u out of range", i, v->default_sg);
		CHECK(m->rtables[v->main_rtable].vpc == i &&
			      m->sgs[v->default_sg].vpc == i,
		      "vpc %u: main table or default group of another VPC", i);
	}
	if ((ret = check_vnis(m, err, err_size)) < 0 ||
	    (ret = check_dhcp(m, err, err_size)) < 0)
		return ret;
	for (uint32_t i = 0; i < m->n_subnets; i++) {
		const struct vpc_image_subnet *s = &m->subnets[i];
		CHECK(name_ok(s->name), "subnet %u: bad name", i);
		CHECK(s->vpc < m->n_vpcs, "subnet %u: vpc %u out of range", i,
		      s->vpc);
		CHECK(s->rtable < m->n_rtables && m->rtables[s->rtable].vpc == s->vpc,
		      "subnet %u: route table %u out of range", i, s->rtable);
		CHECK(s->cidr_len <= 32, "subnet %u: prefix length %u", i,
		      s->cidr_len);
		CHECK(s->nacl == VPC_INDEX_NONE ||
			      (s->nacl < m->n_nacls && m->nacls[s->nacl].vpc == s->vpc),
		      "subnet %u: network ACL %u out of range", i, s->nacl);
	}
	if ((ret = check_nacls(m, err, err_size)) < 0)
		return ret;
	/* Peerings before the routes and rules that name them. */
	for (uint32_t i = 0; i < m->n_peerings; i++) {
		const struct vpc_image_peering *p = &m->peerings[i];
		CHECK(name_ok(p->name), "peering %u: bad name", i);
		CHECK(p->vpc[0] < m->n_vpcs && p->vpc[1] < m->n_vpcs && p->vpc[0] != p->vpc[1],
		      "peering %u: VPCs %u and %u", i, p->vpc[0], p->vpc[1]);
	}
	uint64_t n_owned = 0;
	for (uint32_t i = 0; i < m->n_rtables; i++) {
		const struct vpc_image_rtable *t = &m->rtables[i];
		CHECK(name_ok(t->name), "route table %u: bad name", i);
		CHECK(t->vpc < m->n_vpcs, "route table %u: vpc %u out of range",
		      i, t->vpc);
		CHECK(t->first_route <= m->n_routes &&
			      t->n_routes <= m->n_routes - t->first_route,
		      "route table %u: routes [%u, +%u) out of range", i,
		      t->first_route, t->n_routes);
		for (uint32_t r = t->first_route; r < t->first_route + t->n_routes; r++)
			CHECK(m->routes[r].rtable == i,
			      "route %u does not belong to route table %u", r, i);
		n_owned += t->n_routes;
	}
	/* The ranges are disjoint (each route names its one table); they
	 * must also cover every route: the XDP engine loads the whole
	 * section, the DPDK engine and show only the tables' ranges. */
	CHECK(n_owned == m->n_routes, "%llu of %u routes are in no table's range",
	      (unsigned long long)(m->n_routes - n_owned), m->n_routes);
	for (uint32_t i = 0; i < m->n_routes; i++) {
		const struct vpc_image_route *r = &m->routes[i];
		CHECK(r->rtable < m->n_rtables, "route %u: table %u out of range",
		      i, r->rtable);
		CHECK(r->prefix_len <= 32, "route %u: prefix length %u", i,
		      r->prefix_len);
		CHECK(r->target < VPC_RT_COUNT && target_names[r->target] != NULL,
		      "route %u: target %u", i, r->target);
		if (r->target == VPC_RT_PEERING)
			CHECK(r->target_peering < m->n_peerings &&
				      (m->peerings[r->target_peering].vpc[0] ==
					       m->rtables[r->rtable].vpc ||
				       m->peerings[r->target_peering].vpc[1] ==
					       m->rtables[r->rtable].vpc),
			      "route %u: peering %u out of range, or not of its VPC", i,
			      r->target_peering);
		else if (r->target == VPC_RT_IFACE)
			CHECK(r->target_iface < m->n_ifaces &&
				      m->ifaces[r->target_iface].vpc ==
					      m->rtables[r->rtable].vpc,
			      "route %u: interface %u out of range", i,
			      r->target_iface);
		else if (r->target == VPC_RT_NATGW)
			CHECK(r->target_iface < m->n_natgws &&
				      m->natgws[r->target_iface].vpc == m->rtables[r->rtable].vpc,
			      "route %u: NAT gateway %u out of range", i, r->target_iface);
		else	/* the XDP engine copies it into the next hop */
			CHECK(r->target_iface == VPC_INDEX_NONE,
			      "route %u: target %s with interface %u", i,
			      vpc_route_target_name(r->target), r->target_iface);
	}
	for (uint32_t i = 0; i < m->n_sgs; i++) {
		const struct vpc_image_sg *g = &m->sgs[i];
		uint64_t end = (uint64_t)g->first_rule + g->n_ingress + g->n_egress;
		CHECK(name_ok(g->name), "security group %u: bad name", i);
		CHECK(g->vpc < m->n_vpcs,
		      "security group %u: vpc %u out of range", i, g->vpc);
		CHECK(end <= m->n_rules,
		      "security group %u: rules out of range", i);
		for (uint32_t r = g->first_rule; r < end; r++)
			CHECK(m->rules[r].sg == i &&
				      m->rules[r].dir ==
					      (r < g->first_rule + g->n_ingress ?
						       VPC_DIR_INGRESS :
						       VPC_DIR_EGRESS),
			      "rule %u does not belong to security group %u", r,
			      i);
	}
	for (uint32_t i = 0; i < m->n_rules; i++) {
		const struct vpc_image_rule *r = &m->rules[i];
		CHECK(r->sg < m->n_sgs, "rule %u: group %u out of range", i,
		      r->sg);
		CHECK(r->dir <= VPC_DIR_EGRESS, "rule %u: direction %u", i,
		      r->dir);
		CHECK(r->peer_len <= 32, "rule %u: prefix length %u", i,
		      r->peer_len);
		CHECK(r->port_lo <= r->port_hi, "rule %u: port range %u-%u", i,
		      r->port_lo, r->port_hi);
		/* A code without a type, or ICMP fields on another protocol,
		 * mean different things to the classifier and to show (a
		 * fuzzed image found the classifier allowing every code). */
		CHECK(!(r->flags & VPC_RULE_F_ICMP_CODE) || (r->flags & VPC_RULE_F_ICMP_TYPE),
		      "rule %u: ICMP code without a type", i);
		CHECK(!(r->flags & (VPC_RULE_F_ICMP_TYPE | VPC_RULE_F_ICMP_CODE)) ||
			      (r->proto == 1 && !(r->flags & VPC_RULE_F_ANY_PROTO)),
		      "rule %u: ICMP type or code on protocol %u", i, r->proto);
		/* The flag is what readers test before they index sgs with
		 * peer_sg (show names the group): one without the other is
		 * refused both ways. */
		if (r->flags & VPC_RULE_F_SG_PEER) {
			CHECK(r->peer_sg != VPC_INDEX_NONE,
			      "rule %u: security-group peer without a peer group", i);
			CHECK(r->peer_sg < m->n_sgs,
			      "rule %u: peer group %u out of range", i, r->peer_sg);
			/* Another VPC's group only across a peering. */
			CHECK(m->sgs[r->peer_sg].vpc == m->sgs[r->sg].vpc ||
				      vpc_image_peering_of(m, m->sgs[r->peer_sg].vpc,
							   m->sgs[r->sg].vpc) != VPC_INDEX_NONE,
			      "rule %u: peer group %u of another VPC, not peered", i, r->peer_sg);
		} else {
			CHECK(r->peer_sg == VPC_INDEX_NONE,
			      "rule %u: peer group %u without the security-group peer flag",
			      i, r->peer_sg);
		}
	}
	uint32_t n_with_eip = 0;
	for (uint32_t i = 0; i < m->n_ifaces; i++) {
		const struct vpc_image_iface *f = &m->ifaces[i];
		CHECK(name_ok(f->name), "interface %u: bad name", i);
		CHECK(f->vpc < m->n_vpcs, "interface %u: vpc %u out of range", i,
		      f->vpc);
		CHECK(f->subnet < m->n_subnets && m->subnets[f->subnet].vpc == f->vpc,
		      "interface %u: subnet %u out of range", i, f->subnet);
		if (f->flags & VPC_IFACE_F_REMOTE) {
			/* On another host: no port, no elastic IP here. */
			CHECK(f->port == VPC_INDEX_NONE && f->rhost < m->n_rhosts &&
				      !(f->flags & VPC_IFACE_F_EIP),
			      "interface %u: remote on host %u, port %u", i, f->rhost, f->port);
		} else {
			CHECK(f->port < m->n_ports && m->ports[f->port].kind == VPC_PORT_IFACE &&
				      m->ports[f->port].iface == i && f->rhost == 0,
			      "interface %u: port %u out of range", i, f->port);
		}
		CHECK((f->flags & ~(VPC_IFACE_F_SRC_DST_CHECK | VPC_IFACE_F_EIP |
				    VPC_IFACE_F_MAC_DERIVED | VPC_IFACE_F_REMOTE)) == 0,
		      "interface %u: unknown flags 0x%x", i, f->flags);
		CHECK(f->n_sgs >= 1 && f->n_sgs <= VPC_IFACE_MAX_SGS,
		      "interface %u: %u security groups", i, f->n_sgs);
		for (unsigned int k = 0; k < f->n_sgs; k++)
			CHECK(f->sgs[k] < m->n_sgs && m->sgs[f->sgs[k]].vpc == f->vpc,
			      "interface %u: security group %u out of range", i,
			      f->sgs[k]);
		n_with_eip += !!(f->flags & VPC_IFACE_F_EIP);
	}
	/* Before the ports: a port of kind uplink must be this one. */
	CHECK(m->host[0].uplink_port < m->n_ports &&
		      m->ports[m->host[0].uplink_port].kind == VPC_PORT_UPLINK,
	      "uplink port %u out of range", m->host[0].uplink_port);
	for (uint32_t i = 0; i < m->n_ports; i++) {
		const struct vpc_image_port *p = &m->ports[i];
		CHECK(name_ok(p->name), "port %u: bad name", i);
		CHECK(p->kind <= VPC_PORT_UPLINK, "port %u: kind %u", i, p->kind);
		if (p->kind == VPC_PORT_IFACE)
			CHECK(p->iface < m->n_ifaces && m->ifaces[p->iface].port == i,
			      "port %u: interface %u out of range", i, p->iface);
		else if (p->kind == VPC_PORT_UPLINK) {
			/* The engines send to the internet by the host's
			 * uplink only, and take any uplink port's traffic
			 * as the internet's: there is one. */
			CHECK(i == m->host[0].uplink_port, "port %u: a second uplink", i);
			CHECK(p->iface == VPC_INDEX_NONE,
			      "port %u: uplink with interface %u", i, p->iface);
		}
	}
	if ((ret = check_port_names(m, err, err_size)) < 0)
		return ret;
	/* Remote hosts: named, addressed, none of them this host. */
	for (uint32_t i = 0; i < m->n_rhosts; i++) {
		const struct vpc_image_rhost *h = &m->rhosts[i];
		CHECK(name_ok(h->name), "remote host %u: bad name", i);
		CHECK(h->underlay_ip != 0 && h->underlay_ip != m->host[0].underlay_ip,
		      "remote host %u: underlay address", i);
		CHECK(!(h->next_hop_mac[0] & 1), "remote host %u: next hop MAC", i);
	}
	CHECK(m->n_rhosts == 0 || m->host[0].underlay_ip != 0,
	      "remote hosts, but no underlay address of this host");
	for (uint32_t i = 0; i < m->n_l2; i++)
		CHECK(m->l2[i].vpc < m->n_vpcs && m->l2[i].iface < m->n_ifaces &&
			      m->ifaces[m->l2[i].iface].vpc == m->l2[i].vpc,
		      "l2 entry %u out of range", i);
	/*
	 * Elastic IPs: the uplink delivers an address to the interface its
	 * entry names, whose own elastic IP the egress path translates to;
	 * both must agree, and every interface with one has its entry.
	 * Entries are sorted by address, hence distinct.
	 */
	for (uint32_t i = 0; i < m->n_natgws; i++) {
		const struct vpc_image_natgw *g = &m->natgws[i];
		CHECK(name_ok(g->name), "NAT gateway %u: bad name", i);
		CHECK(g->vpc < m->n_vpcs && g->subnet < m->n_subnets &&
			      m->subnets[g->subnet].vpc == g->vpc,
		      "NAT gateway %u: VPC %u or subnet %u out of range", i, g->vpc, g->subnet);
		CHECK(g->elastic_ip != 0, "NAT gateway %u: no elastic IP", i);
	}
	if ((ret = check_lbs(m, err, err_size)) < 0)
		return ret;
	uint32_t n_internet_lbs = 0, n_lb_eips = 0;
	for (uint32_t i = 0; i < m->n_lbs; i++)
		n_internet_lbs += !!(m->lbs[i].flags & VPC_LB_F_INTERNET);
	uint32_t n_natgw_eips = 0;
	for (uint32_t i = 0; i < m->n_eips; i++) {
		const struct vpc_image_eip *e = &m->eips[i];
		CHECK(i == 0 || ntohl(m->eips[i - 1].elastic_ip) < ntohl(e->elastic_ip),
		      "elastic IP entry %u: not in address order", i);
		if (e->iface & VPC_EIP_NATGW) {
			uint32_t g = e->iface & ~VPC_EIP_NATGW;
			CHECK(g < m->n_natgws && m->natgws[g].elastic_ip == e->elastic_ip,
			      "elastic IP entry %u: NAT gateway %u out of range or without that elastic IP",
			      i, g);
			n_natgw_eips++;
			continue;
		}
		if (e->iface & VPC_EIP_LB) {
			uint32_t b = e->iface & ~VPC_EIP_LB;
			CHECK(b < m->n_lbs && (m->lbs[b].flags & VPC_LB_F_INTERNET) &&
				      m->lbs[b].elastic_ip == e->elastic_ip,
			      "elastic IP entry %u: load balancer %u out of range, internal or without that elastic IP",
			      i, b);
			n_lb_eips++;
			continue;
		}
		CHECK(e->iface < m->n_ifaces,
		      "elastic IP entry %u: interface %u out of range", i,
		      e->iface);
		CHECK((m->ifaces[e->iface].flags & VPC_IFACE_F_EIP) &&
			      m->ifaces[e->iface].elastic_ip == e->elastic_ip,
		      "elastic IP entry %u: interface %u does not have that elastic IP",
		      i, e->iface);
	}
	CHECK((uint64_t)m->n_eips == (uint64_t)n_with_eip + m->n_natgws + n_internet_lbs &&
		      n_natgw_eips == m->n_natgws && n_lb_eips == n_internet_lbs,
	      "%u interfaces, %u NAT gateways and %u load balancers have an elastic IP, %u elastic IP entries",
	      n_with_eip, m->n_natgws, n_internet_lbs, m->n_eips);
	for (uint32_t i = 0; i < m->n_hports; i++) {
		const struct vpc_image_hport *h = &m->hports[i];
		CHECK(name_ok(h->name), "host port %u: bad name", i);
		CHECK(h->type >= VPC_HPORT_VHOST_USER && h->type <= VPC_HPORT_PCI,
		      "host port %u: type %u", i, h->type);
		CHECK(memchr(h->a, 0, sizeof(h->a)) != NULL && memchr(h->b, 0, sizeof(h->b)) != NULL,
		      "host port %u: unterminated string", i);
		/* vhost-user: client mode, or the server socket's owner (b)
		 * and mode -- the daemon's devargs and chown/chmod. */
		CHECK((h->flags & ~VPC_HPORT_F_ALL) == 0, "host port %u: unknown flags 0x%x", i,
		      h->flags);
		CHECK(!(h->flags & VPC_HPORT_F_CLIENT) || h->type == VPC_HPORT_VHOST_USER,
		      "host port %u: client flag on type %u (not vhost-user)", i, h->type);
		CHECK(!(h->flags & VPC_HPORT_F_MODE) || h->type == VPC_HPORT_VHOST_USER,
		      "host port %u: mode flag on type %u (not vhost-user)", i, h->type);
		CHECK(h->mode <= 0777, "host port %u: mode 0%o above 0777", i, h->mode);
		CHECK(h->mode == 0 || (h->flags & VPC_HPORT_F_MODE),
		      "host port %u: mode 0%o without the mode flag", i, h->mode);
		CHECK(!(h->flags & VPC_HPORT_F_CLIENT) ||
			      (!(h->flags & VPC_HPORT_F_MODE) && h->b[0] == '\0'),
		      "host port %u: owner or mode on a client socket", i);
	}
	return 0;
}

int
vpc_image_check(const void *buf, size_t size, char *err, size_t err_size)
{
	const struct vpc_image_header *h = buf;

	if (err != NULL && err_size > 0)
		err[0] = '\0';
	CHECK(size >= sizeof(*h), "%zu bytes is shorter than the header", size);
	CHECK(((uintptr_t)buf & 7) == 0, "buffer is not 8-byte aligned");
	CHECK(h->magic == VPC_IMAGE_MAGIC, "bad magic 0x%08x", h->magic);
	CHECK(h->version == VPC_IMAGE_VERSION,
	      "version %u, this build reads version %u", h->version,
	      VPC_IMAGE_VERSION);
	CHECK(h->header_size == sizeof(*h) && h->n_sections == VPC_SEC_COUNT,
	      "header of %u bytes with %u sections, expected %zu and %d",
	      h->header_size, h->n_sections, sizeof(*h), VPC_SEC_COUNT);
	CHECK(h->total_size == size,
	      "header says %u bytes, the image has %zu (truncated?)",
	      h->total_size, size);

	uint64_t prev_end = sizeof(*h);
	for (int s = 0; s < VPC_SEC_COUNT; s++) {
		const struct vpc_image_section *sec = &h->sections[s];
		uint64_t end = (uint64_t)sec->offset +
			       (uint64_t)sec->count * sec->entry_size;
		CHECK(sec->entry_size == section_entry_size[s],
		      "section %s: records of %u bytes, expected %u",
		      section_name[s], sec->entry_size, section_entry_size[s]);
		CHECK(sec->count <= section_max[s],
		      "section %s: %u records, the limit is %u", section_name[s],
		      sec->count, section_max[s]);
		CHECK((sec->offset & 7) == 0 && sec->offset >= prev_end &&
			      end <= size,
		      "section %s: bytes [%u, %llu) out of bounds",
		      section_name[s], sec->offset, (unsigned long long)end);
		prev_end = end;
	}
	uint64_t sum = vpc_image_checksum((const uint8_t *)buf + sizeof(*h),
					  size - sizeof(*h));
	CHECK(sum == h->checksum, "checksum mismatch");

	struct vpc_image view = { .buf = (void *)buf, .size = size };
	image_bind(&view);
	return check_records(&view, err, err_size);
}

struct vpc_image *
vpc_image_from_bytes(const void *buf, size_t size, char *err, size_t err_size)
{
	struct vpc_image *img;
	void *copy;

	if (size > VPC_IMAGE_MAX_SIZE) {
		fault(err, err_size, "%zu bytes exceeds the limit", size);
		errno = EINVAL;
		return NULL;
	}
	/* Copy first: the check needs 8-byte alignment, and a private copy
	 * cannot change under us after it is checked. */
	copy = aligned_alloc(8, align8(size ? size : 8));
	if (copy == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (size > 0)
		memcpy(copy, buf, size);	/* buf may be NULL when size is 0 */
	if (vpc_image_check(copy, size, err, err_size) < 0) {
		free(copy);
		errno = EINVAL;
		return NULL;
	}
	img = calloc(1, sizeof(*img));
	if (img == NULL) {
		free(copy);
		errno = ENOMEM;
		return NULL;
	}
	img->buf = copy;
	img->size = size;
	image_bind(img);
	return img;
}

struct vpc_image *
vpc_image_read_file(const char *path, char *err, size_t err_size)
{
	struct vpc_image *img = NULL;
	struct stat st;
	void *buf = NULL;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		saved = errno;
		snprintf(err, err_size, "%s: %s", path, strerror(saved));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > VPC_IMAGE_MAX_SIZE) {
		saved = EINVAL;
		snprintf(err, err_size, "%s: not a regular file of at most %u bytes",
			 path, VPC_IMAGE_MAX_SIZE);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		saved = ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n < 0 ? errno : EIO;
			snprintf(err, err_size, "%s: read: %s", path,
				 strerror(saved));
			goto out;
		}
		got += (size_t)n;
	}
	img = vpc_image_from_bytes(buf, got, err, err_size);
	saved = errno;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (img == NULL)
		errno = saved;
	return img;
}

int
vpc_image_write_file(const struct vpc_image *img, const char *path)
{
	char tmp[4096];
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	while (done < img->size) {
		ssize_t n = write(fd, (const char *)img->buf + done,
				  img->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}
