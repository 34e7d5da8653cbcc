/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_image -- libFuzzer target: the table-image reader
 * (vpc_image_from_bytes, lib/image.c) and what reads an image it
 * accepted: `vpcctl show` (text and JSON, control/show.c) and the
 * security-group classifiers (lib/sg.c).
 *
 * Input: an image's bytes.  Each input is tried twice: as it is, then
 * with the header's checksum made right (a mutated image almost never
 * has one, and the checks behind it are the ones worth reaching).
 *
 * Invariants:
 *  - no crash, leak or undefined behaviour; the reader copies exactly
 *    the bytes it was given, and its copy passes vpc_image_check again;
 *  - on an accepted image, show prints without reading outside it, the
 *    classifiers build, and vpc_sg_allows agrees with a plain scan of the
 *    interface's groups' rules on probes drawn from those rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "sg.h"
#include "show.h"
#include "vpc_image.h"
#include "vpc_image_io.h"
#include "fuzz.h"


static FILE *devnull;

static uint64_t rng;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* The plain meaning of an interface's groups (vpc_image.h). */
static bool
scan_allows(const struct vpc_image *img, uint32_t iface, unsigned int dir, uint8_t proto,
	    uint32_t peer, uint16_t port, uint8_t type, uint8_t code)
{
	const struct vpc_image_iface *f = &img->ifaces[iface];

	for (uint32_t g = 0; g < f->n_sgs; g++) {
		const struct vpc_image_sg *s = &img->sgs[f->sgs[g]];
		for (uint32_t i = 0; i < s->n_ingress + s->n_egress; i++) {
			const struct vpc_image_rule *r = &img->rules[s->first_rule + i];
			CHECK(r->peer_len <= 32);	/* the checker's job */
			if (r->dir != dir)
				continue;
			uint32_t mask = r->peer_len ? ~0u << (32 - r->peer_len) : 0;
			if (((peer ^ ntohl(r->peer_addr)) & mask) != 0)
				continue;
			if (r->flags & VPC_RULE_F_ANY_PROTO)
				return true;
			if (r->proto != proto)
				continue;
			switch (proto) {
			case IPPROTO_TCP:
			case IPPROTO_UDP:
				if (port >= r->port_lo && port <= r->port_hi)
					return true;
				break;
			case IPPROTO_ICMP:
				if ((!(r->flags & VPC_RULE_F_ICMP_TYPE) || r->icmp_type == type) &&
				    (!(r->flags & VPC_RULE_F_ICMP_CODE) || r->icmp_code == code))
					return true;
				break;
			default:
				return true;
			}
		}
	}
	return false;
}

static void
check_sg(const struct vpc_image *img)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47, 0, 255 };
	struct vpc_sg *sg = vpc_sg_build(img);

	if (sg == NULL) {
		CHECK(errno == ENOMEM || errno == E2BIG);
		return;
	}
	struct vpc_sg_flat flat;
	vpc_sg_export(sg, &flat);
	CHECK(flat.n_classes == vpc_sg_n_classes(sg));

	uint32_t n_if = img->n_ifaces < 16 ? img->n_ifaces : 16;
	for (uint32_t i = 0; i < n_if; i++) {
		for (unsigned int dir = 0; dir < 2; dir++) {
			uint32_t cls = vpc_sg_class_of(sg, i, dir);
			CHECK(cls < vpc_sg_n_classes(sg));
			for (int k = 0; k < 24; k++) {
				uint32_t peer = next();
				uint16_t port = (uint16_t)next();
				uint8_t proto = protos[next() % sizeof(protos)];
				uint8_t type = (uint8_t)(next() % 20), code = (uint8_t)(next() % 4);
				if (img->n_rules > 0 && (next() & 3) != 0) {
					/* near a rule's edges */
					const struct vpc_image_rule *r = &img->rules[next() % img->n_rules];
					uint32_t host = r->peer_len < 32 ? next() >> r->peer_len : 0;
					peer = ntohl(r->peer_addr) ^ ((next() & 1) ? host : 0);
					if (next() & 1)
						peer ^= 1u << (next() % 32);
					uint16_t edge[] = { r->port_lo, r->port_hi,
							    (uint16_t)(r->port_lo - 1),
							    (uint16_t)(r->port_hi + 1) };
					port = edge[next() % 4];
					if (!(r->flags & VPC_RULE_F_ANY_PROTO) && (next() & 1))
						proto = r->proto;
					if (next() & 1) {
						type = r->icmp_type;
						code = (uint8_t)(r->icmp_code + (next() & 1));
					}
				}
				bool a = vpc_sg_allows(sg, cls, proto, peer, port, type, code);
				bool b = scan_allows(img, i, dir, proto, peer, port, type, code);
				if (a != b) {
					fprintf(stderr, "fuzz_image: iface %u dir %u proto %u peer %08x "
						"port %u icmp %u/%u: classifier %d, rules %d\n",
						i, dir, proto, peer, port, type, code, a, b);
					__builtin_trap();
				}
			}
		}
	}
	vpc_sg_free(sg);
}

static void
one(const uint8_t *buf, size_t size)
{
	char err[256];
	struct vpc_image *img = vpc_image_from_bytes(buf, size, err, sizeof(err));

	if (img == NULL) {
		CHECK(errno == EINVAL || errno == ENOMEM);
		CHECK(memchr(err, 0, sizeof(err)) != NULL);
		return;
	}
	CHECK(img->size == size && memcmp(img->buf, buf, size) == 0);
	CHECK(vpc_image_check(img->buf, img->size, err, sizeof(err)) == 0);
	vpc_show_text(img, devnull);
	vpc_show_json(img, devnull);
	check_sg(img);
	vpc_image_free(img);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		CHECK(devnull != NULL);
	}
	/* exactly the input's bytes, so that ASan sees a read past them */
	uint8_t *buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, data, size);
	rng = vpc_image_checksum(data, size) | 1;

	one(buf, size);
	if (size >= sizeof(struct vpc_image_header)) {
		struct vpc_image_header *h = (struct vpc_image_header *)buf;
		uint64_t sum = vpc_image_checksum(buf + sizeof(*h), size - sizeof(*h));
		if (sum != h->checksum) {
			memcpy(&h->checksum, &sum, sizeof(sum));
			one(buf, size);
		}
	}
	free(buf);
	return 0;
}
