/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng.c -- the three pcapng blocks vpcctl capture writes
 * (vpc_pcapng.h).  A block: type, total length, body, options padded to
 * 32 bits and closed by opt_endofopt, total length again.
 */
#include "vpc_pcapng.h"

#include <string.h>

#define OPT_ENDOFOPT 0
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9
#define OPT_EPB_FLAGS 2

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* An option at p (code, length, value, zero padding); its size. */
static size_t
put_opt(uint8_t *p, uint16_t code, const void *val, uint16_t len)
{
	put16(p, code);
	put16(p + 2, len);
	if (len != 0)	/* opt_endofopt: no value (val NULL) */
		memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return 4 + pad4(len);
}

/* Closes a block of total size n begun at buf. */
static size_t
close_block(uint8_t *buf, uint32_t type, size_t n)
{
	put32(buf, type);
	put32(buf + 4, (uint32_t)n);
	put32(buf + n - 4, (uint32_t)n);
	return n;
}

size_t
vpc_pcapng_shb(uint8_t *buf, size_t size)
{
	const size_t n = 28;
	const uint64_t section_len = UINT64_MAX;	/* -1: not given */

	if (size < n)
		return 0;
	put32(buf + 8, VPC_PCAPNG_BYTE_ORDER_MAGIC);
	put16(buf + 12, 1);	/* major */
	put16(buf + 14, 0);	/* minor */
	memcpy(buf + 16, &section_len, 8);
	return close_block(buf, VPC_PCAPNG_SHB, n);
}

size_t
vpc_pcapng_idb(uint8_t *buf, size_t size, uint16_t linktype, uint32_t snaplen,
	       const char *name, uint8_t tsresol)
{
	size_t name_len = name != NULL ? strnlen(name, VPC_PCAPNG_NAME_MAX) : 0;
	size_t n = 16 + (name_len ? 4 + pad4(name_len) : 0) + 8 + 4 + 4;

	if (size < n)
		return 0;
	put16(buf + 8, linktype);
	put16(buf + 10, 0);
	put32(buf + 12, snaplen);
	size_t o = 16;
	if (name_len)
		o += put_opt(buf + o, OPT_IF_NAME, name, (uint16_t)name_len);
	o += put_opt(buf + o, OPT_IF_TSRESOL, &tsresol, 1);
	o += put_opt(buf + o, OPT_ENDOFOPT, NULL, 0);
	return close_block(buf, VPC_PCAPNG_IDB, o + 4);
}

size_t
vpc_pcapng_epb(uint8_t *buf, size_t size, const struct vpc_pcapng_packet *p)
{
	size_t n = 28 + pad4(p->cap_len) + (p->dir ? 8 + 4 : 0) + 4;

	if (p->cap_len > p->orig_len || p->cap_len > UINT32_MAX - 64 || size < n)
		return 0;
	put32(buf + 8, p->if_id);
	put32(buf + 12, (uint32_t)(p->ts >> 32));
	put32(buf + 16, (uint32_t)p->ts);
	put32(buf + 20, p->cap_len);
	put32(buf + 24, p->orig_len);
	memcpy(buf + 28, p->data, p->cap_len);
	memset(buf + 28 + p->cap_len, 0, pad4(p->cap_len) - p->cap_len);
	size_t o = 28 + pad4(p->cap_len);
	if (p->dir) {
		o += put_opt(buf + o, OPT_EPB_FLAGS, &p->dir, 4);
		o += put_opt(buf + o, OPT_ENDOFOPT, NULL, 0);
	}
	return close_block(buf, VPC_PCAPNG_EPB, o + 4);
}
