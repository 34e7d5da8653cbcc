/* bench-xdp-dev-gen -- tools/bench-xdp-dev.sh's traffic generator.
 *
 * usage: bench-xdp-dev-gen IFNAME SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT SECONDS
 *
 * Sends one UDP flow (source port 4242, 60-byte frames, UDP checksum 0)
 * out of IFNAME for about SECONDS and prints one JSON object: packets
 * handed to the device, seconds, Mpps, and the CPU time this process used
 * (getrusage: user + system, softirq work done in its context included).
 * Root (CAP_NET_RAW).
 *
 * An AF_PACKET socket with PACKET_QDISC_BYPASS, bursts of BURST frames
 * by sendmmsg(): each frame goes straight to the device's transmit
 * (veth_xmit), no qdisc.  On a veth whose peer has an XDP program the
 * frame is queued on the peer and the peer's NAPI is scheduled on this
 * CPU; it runs when the transmit re-enables bottom halves, in this CPU's
 * softirq, before sendmmsg returns.  So the sender's CPU does everything:
 * the send, the peer's XDP program, the redirect and whatever the next
 * device's XDP program does.  A full peer queue drops the frame there
 * (the peer's rx_queue_N_drops): count what arrives, not what is sent.
 *
 * Why not xdp-trafficgen (xdp-tools) or BPF_PROG_RUN's live frames: on
 * this machine Debian 12's xdp-tools 1.3.1 cannot load its objects on
 * kernel 6.18 (their tracepoint programs for xdp_redirect_map_err, which
 * the kernel no longer has), and a live-frames test run answers EPERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define BURST 64
#define FRAME_SIZE 60 /* the Ethernet minimum without the FCS */
#define SRC_PORT 4242

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		      &mac[5]) == 6 ? 0 : -EINVAL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t ip_checksum(const uint8_t *hdr)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int main(int argc, char **argv)
{
	uint8_t frame[FRAME_SIZE] = {0}, *ip = frame + 14, *udp = ip + 20;
	struct in_addr src, dst;
	unsigned int ifindex;
	int fd, one = 1;

	if (argc != 8) {
		fprintf(stderr, "usage: bench-xdp-dev-gen IFNAME SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT SECONDS\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex || parse_mac(argv[2], frame + 6) || parse_mac(argv[3], frame) ||
	    !inet_aton(argv[4], &src) || !inet_aton(argv[5], &dst)) {
		fprintf(stderr, "bench-xdp-dev-gen: bad device, address or MAC\n");
		return 2;
	}
	double seconds = atof(argv[7]);
	uint16_t dport = (uint16_t)atoi(argv[6]), ulen = FRAME_SIZE - 14 - 20;

	frame[12] = 0x08; /* IPv4 */
	ip[0] = 0x45;
	ip[3] = 20 + ulen;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	uint16_t ck = ip_checksum(ip);
	ip[10] = ck >> 8;
	ip[11] = ck & 0xff;
	udp[0] = SRC_PORT >> 8;
	udp[1] = SRC_PORT & 0xff;
	udp[2] = dport >> 8;
	udp[3] = dport & 0xff;
	udp[5] = ulen;

	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: receives nothing */
	if (fd < 0) {
		perror("bench-xdp-dev-gen: socket(AF_PACKET)");
		return 1;
	}
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		fprintf(stderr, "bench-xdp-dev-gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct iovec iov = {.iov_base = frame, .iov_len = sizeof(frame)};
	struct mmsghdr msgs[BURST];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BURST; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	uint64_t n = 0, n_errors = 0;
	double t0 = now(), t = t0;
	while (t - t0 < seconds) {
		for (int k = 0; k < 64; k++) { /* the clock once per 4,096 frames */
			int r = sendmmsg(fd, msgs, BURST, 0);
			if (r > 0)
				n += (uint64_t)r;
			else
				n_errors++;
		}
		t = now();
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("{\"packets\":%llu,\"seconds\":%.4f,\"mpps\":%.4f,\"cpu_seconds\":%.4f,\"send_errors\":%llu}\n",
	       (unsigned long long)n, t - t0, n / (t - t0) / 1e6, cpu, (unsigned long long)n_errors);
	return 0;
}
