/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_offload -- libFuzzer target: what a kernel port does with a frame
 * and its virtio-net header (dataplane/offload.c's vpc_vnet_to_mbufs:
 * the checksum finished, a TCP super-frame segmented), the header and the
 * frame being whatever a guest's kernel or a namespace could hand over.
 *
 * Input: 10 bytes of struct virtio_net_hdr (host order, as a packet
 * socket gives it), then the frame (at most 65,550 bytes).
 *
 * Invariants: no read or write outside the frame (ASan: the frame is a
 * malloc'd copy of exactly its length); on success 1..max mbufs, each
 * chained correctly (pkt_len the sum of data_len, nb_segs the count) and
 * no longer than the frame; a segmented frame's segments are TCP/IPv4
 * with valid IPv4 and TCP checksums, their payloads adding up to the
 * input's; without segmentation one mbuf with the frame's length; every
 * mbuf back in the pool afterwards (no leak).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "offload.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_SEGS 256
#define FRAME_MAX 65550

static struct rte_mempool *mp;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzz-offload-%d", (int)getpid());
	char *args[] = { "fuzz_offload", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 prefix, "--no-telemetry", "-l", "0", "--log-level=error", NULL };
	if (rte_eal_init(11, args) < 0) {
		fprintf(stderr, "fuzz_offload: EAL: cannot start\n");
		exit(1);
	}
	/* Enough for MAX_SEGS segments of 64 KB chained in 2 KB mbufs: the
	 * target never lets one input take more than it gives back. */
	mp = rte_pktmbuf_pool_create("fuzz", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "fuzz_offload: no mbuf pool\n");
		exit(1);
	}
	return 0;
}

/* The one's-complement sum of n bytes (big-endian words). */
static uint32_t
sum16(const uint8_t *b, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* A segment as one buffer, checked: IPv4 and TCP checksums valid; its
 * TCP payload's length. */
static uint32_t
check_segment(const struct rte_mbuf *m)
{
	static uint8_t f[FRAME_MAX];
	uint32_t len = rte_pktmbuf_pkt_len(m);

	CHECK(len <= FRAME_MAX);
	const uint8_t *d = rte_pktmbuf_read(m, 0, len, f);
	CHECK(d != NULL && len >= 14 + 20 + 20);
	uint32_t ihl = (uint32_t)(d[14] & 0xf) * 4;
	CHECK(d[12] == 0x08 && d[13] == 0x00 && (d[14] >> 4) == 4 && ihl >= 20 && d[14 + 9] == 6);
	CHECK(sum16(d + 14, ihl, 0) == 0xffff);
	uint32_t tot = (uint32_t)d[16] << 8 | d[17];
	CHECK(tot == len - 14);
	uint32_t l4 = tot - ihl;
	uint32_t pseudo = sum16(d + 14 + 12, 8, 0) + 6 + l4;
	CHECK(sum16(d + 14 + ihl, l4, pseudo) == 0xffff);
	uint32_t doff = (uint32_t)(d[14 + ihl + 12] >> 4) * 4;
	CHECK(doff >= 20 && doff <= l4);
	return l4 - doff;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr h;
	struct rte_mbuf *out[MAX_SEGS];
	enum vpc_vnet_err err;

	if (size < sizeof(h) || size - sizeof(h) > FRAME_MAX)
		return 0;
	memcpy(&h, data, sizeof(h));
	uint32_t len = (uint32_t)(size - sizeof(h));
	uint8_t *f = malloc(len ? len : 1);
	CHECK(f != NULL);
	memcpy(f, data + sizeof(h), len);
	unsigned int avail = rte_mempool_avail_count(mp);

	uint16_t n = vpc_vnet_to_mbufs(mp, f, len, &h, out, MAX_SEGS, &err);
	CHECK(n <= MAX_SEGS);
	CHECK((n == 0) == (err != VPC_VNET_OK));
	uint8_t gso = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint64_t payload = 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = out[i];
		uint32_t sum = 0, segs = 0;
		for (const struct rte_mbuf *s = m; s != NULL; s = s->next, segs++)
			sum += s->data_len;
		CHECK(sum == rte_pktmbuf_pkt_len(m) && segs == m->nb_segs);
		CHECK(rte_pktmbuf_pkt_len(m) <= len || gso == VIRTIO_NET_HDR_GSO_TCPV4);
		if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
			payload += check_segment(m);
		else
			CHECK(n == 1 && rte_pktmbuf_pkt_len(m) == len);
	}
	if (n > 0 && gso == VIRTIO_NET_HDR_GSO_TCPV4) {
		/* the segments carry the super-frame's payload, all of it */
		uint32_t ihl = (uint32_t)(f[14] & 0xf) * 4;
		uint32_t hl = 14 + ihl + (uint32_t)(f[14 + ihl + 12] >> 4) * 4;
		CHECK(payload == len - hl);
	}
	rte_pktmbuf_free_bulk(out, n);
	CHECK(rte_mempool_avail_count(mp) == avail);
	free(f);
	return 0;
}
