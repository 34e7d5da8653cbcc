/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cksum.h -- incremental Internet checksum updates (RFC 1624, eqn. 3):
 * HC' = ~(~HC + ~m + m').  The one's-complement sum does not depend on
 * byte order, so the 16-bit words are used exactly as they lie in the
 * packet (network order), with no conversion.  Also the 16- and 32-bit
 * field moves every rewrite uses.
 */
#ifndef VPC_CKSUM_H
#define VPC_CKSUM_H

/* Freestanding (no libc header): the XDP program includes it too. */
#include <stddef.h>
#include <stdint.h>

/* Address of a field of a packed header, without the compiler's warning
 * about unaligned pointers: every access through it goes by (builtin) memcpy.
 * The 16-bit words these helpers touch (IPv4, TCP, UDP, ICMP) lie at even
 * offsets in headers that start at even offsets of a 2-aligned frame (both
 * engines' buffers are), so they are 2-aligned: said to the compiler, the
 * BPF target loads each with one instruction instead of two byte loads. */
#define VPC_FIELD_PTR(hdr, field) \
	((void *)((uint8_t *)(hdr) + offsetof(__typeof__(*(hdr)), field)))

static inline uint16_t
vpc_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint16_t
vpc_load16(const void *p)
{
	uint16_t v;
	__builtin_memcpy(&v, __builtin_assume_aligned(p, 2), 2);
	return v;
}

static inline void
vpc_store16(void *p, uint16_t v)
{
	__builtin_memcpy(__builtin_assume_aligned(p, 2), &v, 2);
}

/*
 * The BPF target has no unaligned moves of its own: unless told a pointer
 * is aligned it splits a 32-bit move into four byte moves.  The packet path
 * allows unaligned access (as the kernel's header structs assume), so for
 * BPF the 4-byte moves below are said to be aligned.  Elsewhere that would
 * be a lie the sanitizers catch (a frame's addresses are only 2-aligned),
 * and the compiler needs no hint: an unaligned 4-byte memcpy is one move.
 */
#ifdef __bpf__
#define VPC_ALIGNED4(p) __builtin_assume_aligned((p), 4)
#else
#define VPC_ALIGNED4(p) ((void *)(p))
#endif

/* An IPv4 address in a header (see VPC_ALIGNED4). */
static inline __attribute__((always_inline)) uint32_t
vpc_load32(const void *p)
{
	uint32_t v;
	__builtin_memcpy(&v, VPC_ALIGNED4(p), 4);
	return v;
}

static inline __attribute__((always_inline)) void
vpc_store32(void *p, uint32_t v)
{
	__builtin_memcpy(VPC_ALIGNED4(p), &v, 4);
}

/* The checksum at csum covers a 16-bit word that changes from old to new. */
static inline void
vpc_csum_replace2(void *csum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~vpc_load16(csum);
	sum += (uint16_t)~old;
	sum += new_;
	vpc_store16(csum, (uint16_t)~vpc_csum_fold(sum));
}

/* The checksum at csum covers a 32-bit word (an IPv4 address) that changes. */
static inline void
vpc_csum_replace4(void *csum, uint32_t old, uint32_t new_)
{
	uint32_t sum = (uint16_t)~vpc_load16(csum);
	sum += (uint16_t)~(old & 0xffff);
	sum += (uint16_t)~(old >> 16);
	sum += new_ & 0xffff;
	sum += new_ >> 16;
	vpc_store16(csum, (uint16_t)~vpc_csum_fold(sum));
}

#endif /* VPC_CKSUM_H */
