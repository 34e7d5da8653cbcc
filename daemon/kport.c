/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kport.c -- kernel ports: a network device of this host (a veth, a
 * bridge's port, a NIC left to the kernel) opened with a packet socket
 * that carries each frame's virtio-net header (PACKET_VNET_HDR).  The
 * header says what the sending kernel left to an offload -- a checksum to
 * finish, a TCP super-frame to segment (TSO/GSO) -- and offload.c does it,
 * so the device keeps the kernel's default offloads.  Frames leave with a
 * header that asks for nothing: they are whole.
 *
 * A kernel port has an id past DPDK's (KPORT_ID_BASE + slot), used
 * wherever a DPDK port id is (per-port counters, a configuration's port
 * map).  Concurrency: kport_rx is called by the one worker that polls the
 * port, kport_tx by any worker (each with its own message arrays, the
 * socket serialises them), kport_open and kport_close by the control
 * thread with the port unpublished.
 */
#include "vpcd.h"

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>

#define KPORT_BURST 32		/* frames per receive call */
#define KPORT_FRAME_MAX 65550	/* a super-frame: 64 KB of IP, its Ethernet header */
#define KPORT_PEND 256		/* segments of received frames not yet handed over */
#define KPORT_SOCKBUF (4 << 20)

struct kport {
	int fd;
	char ifname[IF_NAMESIZE];
	/* Receive side, the polling worker's alone. */
	uint8_t *buf;			/* KPORT_BURST frames of KPORT_FRAME_MAX */
	struct virtio_net_hdr hdr[KPORT_BURST];
	struct iovec iov[KPORT_BURST][2];
	struct sockaddr_ll from[KPORT_BURST];
	struct mmsghdr msg[KPORT_BURST];
	uint16_t n_msg, msg_at;		/* received, of which handed over */
	struct rte_mbuf *pend[KPORT_PEND];
	uint16_t n_pend, pend_at;
	uint64_t rx_unusable;		/* frames offload.c could not use */
};

static struct kport *kports[KPORT_MAX];

static struct kport *
kport_of(uint16_t id)
{
	return kports[id - KPORT_ID_BASE];
}

int
kport_open(const char *ifname, const char *name, uint16_t *id, char *err, size_t err_size)
{
	unsigned int ifindex = if_nametoindex(ifname);
	unsigned int slot;
	int one = 1, ret;

	if (ifindex == 0) {
		snprintf(err, err_size, "port '%s': no network device '%s' on this host", name, ifname);
		return -ENODEV;
	}
	for (slot = 0; slot < KPORT_MAX && kports[slot] != NULL; slot++)
		;
	if (slot == KPORT_MAX) {
		snprintf(err, err_size, "port '%s': more than %u kernel ports", name, KPORT_MAX);
		return -ENOSPC;
	}
	struct kport *kp = calloc(1, sizeof(*kp));
	if (kp == NULL || (kp->buf = malloc((size_t)KPORT_BURST * KPORT_FRAME_MAX)) == NULL) {
		free(kp);
		snprintf(err, err_size, "port '%s': out of memory", name);
		return -ENOMEM;
	}
	snprintf(kp->ifname, sizeof(kp->ifname), "%s", ifname);
	/* Protocol 0 until bound: no frame of another device gets queued. */
	kp->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)ifindex,
	};
	struct packet_mreq mr = { .mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC };
	int bufsz = KPORT_SOCKBUF;
	const char *what = "socket";
	if (kp->fd < 0)
		goto fail;
	what = "PACKET_VNET_HDR";
	if (setsockopt(kp->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) != 0)
		goto fail;
	/* Our own transmissions are not received back (older kernels: the
	 * receive loop skips outgoing frames). */
	(void)setsockopt(kp->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	(void)setsockopt(kp->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	(void)setsockopt(kp->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	what = "bind";
	if (bind(kp->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		goto fail;
	what = "promiscuous mode";	/* frames for the VMs' MACs */
	if (setsockopt(kp->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0)
		goto fail;
	for (unsigned int i = 0; i < KPORT_BURST; i++) {
		kp->iov[i][0] = (struct iovec){ &kp->hdr[i], sizeof(kp->hdr[i]) };
		kp->iov[i][1] = (struct iovec){ kp->buf + (size_t)i * KPORT_FRAME_MAX, KPORT_FRAME_MAX };
	}
	kports[slot] = kp;
	*id = (uint16_t)(KPORT_ID_BASE + slot);
	return 0;
fail:
	ret = -errno;
	snprintf(err, err_size, "port '%s': device %s: %s: %s", name, ifname, what, strerror(errno));
	if (kp->fd >= 0)
		close(kp->fd);
	free(kp->buf);
	free(kp);
	return ret;
}

void
kport_close(uint16_t id)
{
	struct kport *kp = kport_of(id);

	if (kp == NULL)
		return;
	if (kp->pend_at < kp->n_pend)
		rte_pktmbuf_free_bulk(kp->pend + kp->pend_at, kp->n_pend - kp->pend_at);
	close(kp->fd);
	free(kp->buf);
	free(kp);
	kports[id - KPORT_ID_BASE] = NULL;
}

uint64_t
kport_rx_unusable(uint16_t id)
{
	const struct kport *kp = kport_of(id);
	return kp == NULL ? 0 : kp->rx_unusable;
}

/* Receive a batch of frames (one system call), when none is left over. */
static void
refill(struct kport *kp)
{
	for (unsigned int i = 0; i < KPORT_BURST; i++)
		kp->msg[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &kp->from[i], .msg_namelen = sizeof(kp->from[i]),
			.msg_iov = kp->iov[i], .msg_iovlen = 2 } };
	int n = recvmmsg(kp->fd, kp->msg, KPORT_BURST, MSG_DONTWAIT, NULL);
	kp->n_msg = n > 0 ? (uint16_t)n : 0;
	kp->msg_at = 0;
}

uint16_t
kport_rx(uint16_t id, struct rte_mbuf **pkts, uint16_t max)
{
	struct kport *kp = kport_of(id);
	uint16_t n = 0;
	bool polled = false;

	while (n < max) {
		if (kp->pend_at < kp->n_pend) {
			uint16_t k = RTE_MIN((uint16_t)(kp->n_pend - kp->pend_at), (uint16_t)(max - n));
			memcpy(pkts + n, kp->pend + kp->pend_at, k * sizeof(*pkts));
			kp->pend_at = (uint16_t)(kp->pend_at + k);
			n = (uint16_t)(n + k);
			continue;
		}
		if (kp->msg_at == kp->n_msg) {
			if (polled)
				break;
			polled = true;
			refill(kp);
			if (kp->n_msg == 0)
				break;
		}
		const struct mmsghdr *m = &kp->msg[kp->msg_at];
		unsigned int i = kp->msg_at++;
		uint32_t len = m->msg_len;
		if (kp->from[i].sll_pkttype == PACKET_OUTGOING)
			continue;
		if (len < sizeof(struct virtio_net_hdr) + RTE_ETHER_HDR_LEN ||
		    (m->msg_hdr.msg_flags & MSG_TRUNC)) {
			kp->rx_unusable++;
			continue;
		}
		enum vpc_vnet_err why;
		kp->n_pend = vpc_vnet_to_mbufs(vpcd.mp, kp->iov[i][1].iov_base,
					       len - (uint32_t)sizeof(struct virtio_net_hdr),
					       &kp->hdr[i], kp->pend, KPORT_PEND, &why);
		kp->pend_at = 0;
		kp->rx_unusable += kp->n_pend == 0;
	}
	return n;
}

#define KPORT_TX_IOV 16

uint16_t
kport_tx(uint16_t id, struct rte_mbuf **pkts, uint16_t n)
{
	static const struct virtio_net_hdr whole;	/* nothing left to do */
	struct kport *kp = kport_of(id);
	struct mmsghdr msg[VPC_BURST_MAX];
	struct iovec iov[VPC_BURST_MAX][KPORT_TX_IOV];
	uint16_t k = 0, sent = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (m->nb_segs >= KPORT_TX_IOV && rte_pktmbuf_linearize(m) != 0)
			continue;	/* not sent: counted by the caller */
		iov[k][0] = (struct iovec){ (void *)(uintptr_t)&whole, sizeof(whole) };
		unsigned int s = 1;
		for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next)
			iov[k][s++] = (struct iovec){ rte_pktmbuf_mtod(seg, void *), seg->data_len };
		msg[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = iov[k], .msg_iovlen = s } };
		k++;
	}
	/* A frame the device refuses (longer than its MTU) is skipped; a full
	 * socket buffer ends the burst. */
	for (uint16_t at = 0; at < k;) {
		int r = sendmmsg(kp->fd, msg + at, (unsigned int)(k - at), MSG_DONTWAIT);
		if (r > 0) {
			sent = (uint16_t)(sent + r);
			at = (uint16_t)(at + r);
		} else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)) {
			break;
		} else {
			at++;
		}
	}
	rte_pktmbuf_free_bulk(pkts, n);
	return sent;
}
