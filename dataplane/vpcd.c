/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcd -- the DPDK vswitch daemon (spec/cli.md).
 *
 *   vpcd --config TOPO.yaml [--socket PATH] [--max-connections N] [-- EAL options]
 *
 * Opens the topology's host ports (host.ports: vhost-user, tap, af_packet,
 * af_xdp, pcap as DPDK virtual devices; pci by address), and forwards on
 * every lcore given to the EAL (default: one).  Run-to-completion: each
 * port's one rx queue is owned by one lcore (ports are dealt round-robin);
 * every lcore has its own tx queue on every port that has enough of them,
 * so it transmits there without locks.  A device with fewer tx queues
 * than lcores (af_packet, pcap) shares them: a per-port spinlock, taken
 * once per burst sent to that port, never per packet.  The connection table is shared by all lcores
 * (lock-free lookups, RCU: each worker reports a quiescent state once per
 * loop).  SIGINT/SIGTERM stop the workers; the final counters are printed.
 * A port that goes away (a VM stops, a tap is deleted) only fails its own
 * rx/tx: the other ports go on.
 *
 * The control socket (vpc_ctl.h; a thread of its own, never on the fast
 * path) takes `vpcctl apply`: the image is checked, the new tables are
 * built, then published by one pointer store; each worker picks them up
 * between two bursts, so no packet is ever forwarded by a mix of old and
 * new tables, and the old tables are freed after an RCU grace period.  A
 * failed apply changes nothing and says why.  Also `vpcctl stats` and
 * `vpcctl conntrack list|count|flush`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "compile.h"
#include "conntrack.h"
#include "pipeline.h"
#include "tables.h"
#include "topo.h"
#include "vpc_ctl.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define N_MBUFS 16383

/* The quit flag: set by the signal handler, read by the workers. */
static volatile sig_atomic_t quit;

struct worker {
	unsigned int lcore;
	uint16_t txq;			/* this worker's tx queue on every port */
	uint16_t *rx_ports;		/* topology ports whose rx queue it owns */
	uint16_t n_rx;
	struct vpc_pipeline *pl;
	const struct vpc_tables *cur;	/* the tables this worker uses */
} __rte_cache_aligned;

static struct {
	struct vpc_image *img;
	/*
	 * The published tables: written by the control thread (one release
	 * store per apply), read by every worker once per loop (acquire).
	 * The previous tables are freed by the control thread after
	 * rte_rcu_qsbr_synchronize(): every worker has then finished the loop
	 * that might have used them.
	 */
	struct vpc_tables *tables;
	struct vpc_ct *ct;
	struct rte_rcu_qsbr *rcu;
	uint16_t *ethdev;		/* topology port -> DPDK port id */
	uint16_t *n_txq;		/* tx queues of each port */
	rte_spinlock_t *tx_lock;	/* guards shared tx queues (see above) */
	uint32_t n_ports;
	struct worker workers[RTE_MAX_LCORE];
	unsigned int n_workers;
	uint64_t tsc_hz;
} d;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static __attribute__((format(printf, 1, 2), noreturn)) void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vpcd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const struct topo_hostport *
host_port(const struct topo *t, const char *name)
{
	for (uint32_t i = 0; i < t->host.n_ports; i++)
		if (t->host.ports[i].name.s && strcmp(t->host.ports[i].name.s, name) == 0)
			return &t->host.ports[i];
	return NULL;
}

/* The EAL argument that realises a host port, and the device's name. */
static void
port_device(const struct topo_hostport *hp, uint32_t i, char *arg, size_t arg_size,
	    char *dev, size_t dev_size)
{
	switch (hp->type) {
	case TOPO_PORT_TAP:
		snprintf(dev, dev_size, "net_tap%u", i);
		snprintf(arg, arg_size, "--vdev=%s,iface=%s", dev, hp->ifname.s);
		break;
	case TOPO_PORT_AF_PACKET:
		snprintf(dev, dev_size, "net_af_packet%u", i);
		snprintf(arg, arg_size, "--vdev=%s,iface=%s,qpairs=1", dev, hp->ifname.s);
		break;
	case TOPO_PORT_AF_XDP:
		snprintf(dev, dev_size, "net_af_xdp%u", i);
		snprintf(arg, arg_size, "--vdev=%s,iface=%s", dev, hp->ifname.s);
		break;
	case TOPO_PORT_VHOST_USER:
		snprintf(dev, dev_size, "net_vhost%u", i);
		snprintf(arg, arg_size, "--vdev=%s,iface=%s,queues=1", dev, hp->path.s);
		break;
	case TOPO_PORT_PCAP:
		snprintf(dev, dev_size, "net_pcap%u", i);
		snprintf(arg, arg_size, "--vdev=%s%s%s%s%s%s", dev,
			 hp->rx.s ? ",rx_pcap=" : "", hp->rx.s ? hp->rx.s : "",
			 hp->tx.s ? ",tx_pcap=" : "", hp->tx.s ? hp->tx.s : "",
			 hp->loop.set && hp->loop.v ? ",infinite_rx=1" : "");
		break;
	case TOPO_PORT_PCI:
		snprintf(dev, dev_size, "%s", hp->device.s);
		snprintf(arg, arg_size, "--allow=%s", hp->device.s);
		break;
	default:
		arg[0] = dev[0] = '\0';
	}
}

/* Start a port with one rx queue and up to n_txq tx queues; returns how
 * many tx queues it has. */
static uint16_t
port_start(uint16_t pid, unsigned int n_txq, struct rte_mempool *mp, const char *name)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int ret;

	if ((ret = rte_eth_dev_info_get(pid, &info)) != 0)
		die("port '%s': %s", name, strerror(-ret));
	if (n_txq > info.max_tx_queues)
		n_txq = info.max_tx_queues;
	if ((ret = rte_eth_dev_configure(pid, 1, (uint16_t)n_txq, &conf)) != 0)
		die("port '%s': configure: %s", name, strerror(-ret));
	uint16_t nb_rx = RX_DESC, nb_tx = TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx);
	int socket = rte_eth_dev_socket_id(pid);
	if ((ret = rte_eth_rx_queue_setup(pid, 0, nb_rx, (unsigned int)socket, NULL, mp)) != 0)
		die("port '%s': rx queue: %s", name, strerror(-ret));
	for (uint16_t q = 0; q < n_txq; q++)
		if ((ret = rte_eth_tx_queue_setup(pid, q, nb_tx, (unsigned int)socket, NULL)) != 0)
			die("port '%s': tx queue %u: %s", name, q, strerror(-ret));
	if ((ret = rte_eth_dev_start(pid)) != 0)
		die("port '%s': start: %s", name, strerror(-ret));
	rte_eth_promiscuous_enable(pid);	/* frames for the VMs' MACs */
	return (uint16_t)n_txq;
}

/* Transmit what the verdicts send out, port by port; free the rest. */
static void
transmit(const struct worker *w, uint16_t in_port, struct rte_mbuf **pkts, uint16_t n,
	 const struct vpc_verdict *v)
{
	struct rte_mbuf *out[VPC_BURST_MAX];
	bool sent[VPC_BURST_MAX] = { false };

	for (uint16_t i = 0; i < n; i++) {
		if (sent[i])
			continue;
		if (v[i].action == VPC_ACT_DROP) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		/* Gather every packet of the burst for the same port. */
		uint16_t port = v[i].action == VPC_ACT_REPLY ? in_port : v[i].out_port;
		uint16_t k = 0;
		for (uint16_t j = i; j < n; j++) {
			uint16_t pj = v[j].action == VPC_ACT_REPLY ? in_port : v[j].out_port;
			if (!sent[j] && v[j].action != VPC_ACT_DROP && pj == port) {
				out[k++] = pkts[j];
				sent[j] = true;
			}
		}
		uint16_t done = 0;
		if (port < d.n_ports) {
			if (w->txq < d.n_txq[port]) {
				done = rte_eth_tx_burst(d.ethdev[port], w->txq, out, k);
			} else {
				uint16_t q = (uint16_t)(w->txq % d.n_txq[port]);
				rte_spinlock_lock(&d.tx_lock[port]);
				done = rte_eth_tx_burst(d.ethdev[port], q, out, k);
				rte_spinlock_unlock(&d.tx_lock[port]);
			}
		}
		if (done < k)
			rte_pktmbuf_free_bulk(out + done, k - done);
	}
}

static int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pkts[VPC_BURST_MAX];
	struct vpc_verdict v[VPC_BURST_MAX];
	const uint64_t hz = d.tsc_hz;

	rte_rcu_qsbr_thread_register(d.rcu, w->lcore);
	rte_rcu_qsbr_thread_online(d.rcu, w->lcore);
	while (!quit) {
		/* New tables take effect between bursts, never within one. */
		const struct vpc_tables *pub = __atomic_load_n(&d.tables, __ATOMIC_ACQUIRE);
		if (unlikely(pub != w->cur)) {
			vpc_pipeline_set_tables(w->pl, pub);	/* same ports: no allocation */
			w->cur = pub;
		}
		uint64_t tsc = rte_rdtsc();
		uint64_t now = tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
		for (uint16_t r = 0; r < w->n_rx; r++) {
			uint16_t port = w->rx_ports[r];
			uint16_t n = rte_eth_rx_burst(d.ethdev[port], 0, pkts, VPC_BURST_MAX);
			if (n == 0)
				continue;
			vpc_pipeline_process(w->pl, port, pkts, n, now, v);
			transmit(w, port, pkts, n, v);
		}
		/* Between bursts: no reference to a connection entry is held. */
		rte_rcu_qsbr_quiescent(d.rcu, w->lcore);
	}
	rte_rcu_qsbr_thread_offline(d.rcu, w->lcore);
	rte_rcu_qsbr_thread_unregister(d.rcu, w->lcore);
	return 0;
}

/* ---- DPDK telemetry: the same counters, for dpdk-telemetry.py ---- */

/* Sums of the per-lcore counters (read without locks, as ctl_stats). */
static void
sum_stats(struct vpc_stats *sum, struct vpc_port_stats *ports)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < d.n_workers; i++) {
		const struct vpc_stats *st = vpc_pipeline_stats(d.workers[i].pl);
		sum->packets += st->packets;
		for (int r = 0; r < VPC_DROP_COUNT; r++)
			sum->drops[r] += st->drops[r];
		for (int p = 0; p < VPC_PATH_COUNT; p++)
			sum->paths[p] += st->paths[p];
		for (uint32_t p = 0; ports != NULL && p < d.n_ports && p < st->n_ports; p++) {
			ports[p].rx_packets += st->ports[p].rx_packets;
			ports[p].rx_bytes += st->ports[p].rx_bytes;
			ports[p].tx_packets += st->ports[p].tx_packets;
			ports[p].tx_bytes += st->ports[p].tx_bytes;
			ports[p].drops += st->ports[p].drops;
		}
	}
}

/* Telemetry names allow letters, digits and '_': "l2-switch" -> "l2_switch". */
static const char *
tel_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s", name);
	for (char *c = buf; *c; c++)
		if (*c == '-')
			*c = '_';
	return buf;
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	(void)cmd;
	(void)params;
	sum_stats(&sum, NULL);
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_u64(t, "packets", sum.packets);
	char nb[64];
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		rte_tel_data_add_dict_u64(t, tel_name(nb, sizeof(nb), vpc_path_name((unsigned)p)),
					  sum.paths[p]);
	rte_tel_data_add_dict_u64(t, "connections", vpc_ct_count(d.ct));
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	(void)cmd;
	(void)params;
	sum_stats(&sum, NULL);
	rte_tel_data_start_dict(t);
	char nb[64];
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(t, tel_name(nb, sizeof(nb), vpc_drop_name((unsigned)r)),
					  sum.drops[r]);
	return 0;
}

/* /vpc/port,NAME: one port's counters. */
static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	(void)cmd;
	if (params == NULL)
		return -EINVAL;
	for (uint32_t p = 0; p < d.n_ports; p++) {
		if (strcmp(d.img->ports[p].name, params) != 0)
			continue;
		struct vpc_port_stats *ports = calloc(d.n_ports, sizeof(*ports));
		if (ports == NULL)
			return -ENOMEM;
		sum_stats(&sum, ports);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_u64(t, "rx_packets", ports[p].rx_packets);
		rte_tel_data_add_dict_u64(t, "rx_bytes", ports[p].rx_bytes);
		rte_tel_data_add_dict_u64(t, "tx_packets", ports[p].tx_packets);
		rte_tel_data_add_dict_u64(t, "tx_bytes", ports[p].tx_bytes);
		rte_tel_data_add_dict_u64(t, "drops", ports[p].drops);
		free(ports);
		return 0;
	}
	return -EINVAL;
}

static void
tel_register(void)
{
	rte_telemetry_register_cmd("/vpc/stats", tel_stats,
				   "vpcd: packets by path, and connections tracked");
	rte_telemetry_register_cmd("/vpc/drops", tel_drops, "vpcd: drops by reason");
	rte_telemetry_register_cmd("/vpc/port", tel_port,
				   "vpcd: one port's counters. Parameter: the port's name");
}

/* ---- the control socket ---- */

static const char *
ct_proto(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "other";
}

static void
ctl_stats(FILE *out, bool json)
{
	struct vpc_stats sum;
	memset(&sum, 0, sizeof(sum));
	uint64_t per_lcore[RTE_MAX_LCORE];
	struct vpc_port_stats *ports = calloc(d.n_ports, sizeof(*ports));
	/* Counters are per lcore and read without locks: each is a 64-bit
	 * value written by its lcore alone, so a read sees some recent value. */
	for (unsigned int i = 0; i < d.n_workers; i++) {
		const struct vpc_stats *st = vpc_pipeline_stats(d.workers[i].pl);
		per_lcore[i] = st->packets;
		sum.packets += st->packets;
		for (int r = 0; r < VPC_DROP_COUNT; r++)
			sum.drops[r] += st->drops[r];
		for (int p = 0; p < VPC_PATH_COUNT; p++)
			sum.paths[p] += st->paths[p];
		for (uint32_t p = 0; p < d.n_ports && p < st->n_ports; p++) {
			ports[p].rx_packets += st->ports[p].rx_packets;
			ports[p].rx_bytes += st->ports[p].rx_bytes;
			ports[p].tx_packets += st->ports[p].tx_packets;
			ports[p].tx_bytes += st->ports[p].tx_bytes;
			ports[p].drops += st->ports[p].drops;
		}
	}
	const struct vpc_ct_stats *cs = vpc_ct_stats(d.ct);
	const struct vpc_tables *t = __atomic_load_n(&d.tables, __ATOMIC_ACQUIRE);
	if (json) {
		fprintf(out, "{\"generation\":%u,\"packets\":%" PRIu64 ",\"paths\":{", t->generation, sum.packets);
		bool first = true;
		for (int p = 1; p < VPC_PATH_COUNT; p++) {
			fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", vpc_path_name((unsigned)p), sum.paths[p]);
			first = false;
		}
		fprintf(out, "},\"drops\":{");
		first = true;
		for (int r = 1; r < VPC_DROP_COUNT; r++) {
			fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", vpc_drop_name((unsigned)r), sum.drops[r]);
			first = false;
		}
		fprintf(out, "},\"ports\":{");
		for (uint32_t p = 0; p < d.n_ports; p++)
			fprintf(out, "%s\"%s\":{\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
				",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"drops\":%" PRIu64 "}",
				p ? "," : "", d.img->ports[p].name, ports[p].rx_packets, ports[p].rx_bytes,
				ports[p].tx_packets, ports[p].tx_bytes, ports[p].drops);
		fprintf(out, "},\"lcores\":[");
		for (unsigned int i = 0; i < d.n_workers; i++)
			fprintf(out, "%s{\"lcore\":%u,\"packets\":%" PRIu64 "}", i ? "," : "",
				d.workers[i].lcore, per_lcore[i]);
		fprintf(out, "],\"connections\":{\"tracked\":%u,\"capacity\":%u,\"created\":%" PRIu64
			",\"expired\":%" PRIu64 ",\"refused\":%" PRIu64 "}}\n",
			vpc_ct_count(d.ct), vpc_ct_capacity(d.ct), cs->created, cs->expired, cs->refused_full);
	} else {
		fprintf(out, "generation %u, %" PRIu64 " packets\n", t->generation, sum.packets);
		for (int p = 1; p < VPC_PATH_COUNT; p++)
			if (sum.paths[p])
				fprintf(out, "  path %-22s %" PRIu64 "\n", vpc_path_name((unsigned)p), sum.paths[p]);
		for (int r = 1; r < VPC_DROP_COUNT; r++)
			if (sum.drops[r])
				fprintf(out, "  drop %-22s %" PRIu64 "\n", vpc_drop_name((unsigned)r), sum.drops[r]);
		for (uint32_t p = 0; p < d.n_ports; p++)
			fprintf(out, "  port %-16s rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64 "\n",
				d.img->ports[p].name, ports[p].rx_packets, ports[p].tx_packets, ports[p].drops);
		for (unsigned int i = 0; i < d.n_workers; i++)
			fprintf(out, "  lcore %u: %" PRIu64 " packets\n", d.workers[i].lcore, per_lcore[i]);
		fprintf(out, "  connections: %u tracked of %u, %" PRIu64 " opened, %" PRIu64 " expired, %"
			PRIu64 " refused\n", vpc_ct_count(d.ct), vpc_ct_capacity(d.ct), cs->created,
			cs->expired, cs->refused_full);
	}
	free(ports);
}

static void
ctl_ct_list(FILE *out, bool json)
{
	uint32_t pos = 0, n = 0;
	int64_t i;
	uint64_t tsc = rte_rdtsc(), hz = d.tsc_hz;
	uint64_t now = tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;

	if (json)
		fprintf(out, "[");
	while ((i = vpc_ct_next(d.ct, &pos)) >= 0 && n < 100000) {
		const struct vpc_ct_entry *e = vpc_ct_entry(d.ct, (uint32_t)i);
		const struct vpc_ct_key *k = &e->key[0];
		char a[16], b[16];
		uint32_t sa = rte_be_to_cpu_32(k->src), da = rte_be_to_cpu_32(k->dst);
		snprintf(a, sizeof(a), "%u.%u.%u.%u", sa >> 24, (sa >> 16) & 255, (sa >> 8) & 255, sa & 255);
		snprintf(b, sizeof(b), "%u.%u.%u.%u", da >> 24, (da >> 16) & 255, (da >> 8) & 255, da & 255);
		uint64_t left = e->expires > now ? (e->expires - now) / 1000000000ull : 0;
		if (json)
			fprintf(out, "%s{\"vni\":%u,\"proto\":\"%s\",\"src\":\"%s\",\"sport\":%u,"
				"\"dst\":\"%s\",\"dport\":%u,\"state\":\"%s\",\"expires_in\":%" PRIu64 "}",
				n ? "," : "", k->ctx_proto >> 8, ct_proto((uint8_t)k->ctx_proto), a,
				rte_be_to_cpu_16(k->sport), b, rte_be_to_cpu_16(k->dport),
				vpc_ct_state_name(e->state), left);
		else
			fprintf(out, "%-5s vni %-8u %s:%u -> %s:%u %s, expires in %" PRIu64 " s\n",
				ct_proto((uint8_t)k->ctx_proto), k->ctx_proto >> 8, a, rte_be_to_cpu_16(k->sport),
				b, rte_be_to_cpu_16(k->dport), vpc_ct_state_name(e->state), left);
		n++;
	}
	if (json)
		fprintf(out, "]\n");
}

/* Apply: check, build, publish, wait for the workers, free the old. */
static int
ctl_apply(const void *buf, uint32_t len, uint32_t flags, FILE *out)
{
	char err[256];
	struct vpc_image *img = vpc_image_from_bytes(buf, len, err, sizeof(err));

	if (img == NULL) {
		fprintf(out, "refused: %s\n", err);
		return EINVAL;
	}
	/* This version keeps the ports it opened at start-up. */
	bool same = img->n_ports == d.img->n_ports;
	for (uint32_t p = 0; same && p < img->n_ports; p++)
		same = strcmp(img->ports[p].name, d.img->ports[p].name) == 0;
	if (!same) {
		fprintf(out, "refused: the topology's ports differ from the running ones "
			"(vpcd opens ports at start-up; restart it to add or remove interfaces)\n");
		vpc_image_free(img);
		return EINVAL;
	}
	struct vpc_tables *old = d.tables;
	struct vpc_tables *t = vpc_tables_create(img, (int)rte_socket_id(), err, sizeof(err));
	if (t == NULL) {
		fprintf(out, "refused: %s\n", err);
		vpc_image_free(img);
		return ENOMEM;
	}
	t->generation = old->generation + 1;
	t->revalidate = !!(flags & VPC_CTL_F_REVALIDATE);
	__atomic_store_n(&d.tables, t, __ATOMIC_RELEASE);
	/* Every worker finishes the loop it is in: then none uses the old. */
	rte_rcu_qsbr_synchronize(d.rcu, RTE_QSBR_THRID_INVALID);
	struct vpc_image *old_img = d.img;
	d.img = img;
	vpc_tables_free(old);
	vpc_image_free(old_img);
	fprintf(out, "applied: generation %u, %u VPCs, %u interfaces%s\n", t->generation,
		img->n_vpcs, img->n_ifaces, t->revalidate ? ", connections revalidated" : "");
	return 0;
}

static bool
read_all(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void
write_all(int fd, const void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = write(fd, (const char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		done += (size_t)r;
	}
}

static void
ctl_serve(int fd)
{
	struct vpc_ctl_req req;
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	uint32_t status = 0;
	void *payload = NULL;

	if (out == NULL)
		return;
	if (!read_all(fd, &req, sizeof(req)) || req.magic != VPC_CTL_MAGIC ||
	    req.len > VPC_IMAGE_MAX_SIZE) {
		fprintf(out, "bad request\n");
		status = EPROTO;
		goto reply;
	}
	if (req.len) {
		payload = malloc(req.len);
		if (payload == NULL || !read_all(fd, payload, req.len)) {
			fprintf(out, "bad request\n");
			status = EPROTO;
			goto reply;
		}
	}
	bool json = req.flags & VPC_CTL_F_JSON;
	switch (req.op) {
	case VPC_CTL_APPLY:
		status = (uint32_t)ctl_apply(payload, req.len, req.flags, out);
		break;
	case VPC_CTL_STATS:
		ctl_stats(out, json);
		break;
	case VPC_CTL_CT_LIST:
		ctl_ct_list(out, json);
		break;
	case VPC_CTL_CT_COUNT:
		fprintf(out, json ? "{\"tracked\":%u,\"capacity\":%u}\n" :
				    "%u connections tracked (capacity %u)\n",
			vpc_ct_count(d.ct), vpc_ct_capacity(d.ct));
		break;
	case VPC_CTL_CT_FLUSH: {
		uint32_t before = vpc_ct_count(d.ct);
		vpc_ct_flush(d.ct);
		fprintf(out, json ? "{\"flushed\":%u}\n" : "flushed %u connections\n", before);
		break;
	}
	default:
		fprintf(out, "unknown request %u\n", req.op);
		status = EOPNOTSUPP;
	}
reply:
	fclose(out);
	struct vpc_ctl_resp resp = { VPC_CTL_MAGIC, status, (uint32_t)text_len, 0 };
	write_all(fd, &resp, sizeof(resp));
	write_all(fd, text, text_len);
	free(text);
	free(payload);
}

static void *
ctl_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	while (!quit) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;	/* EINTR at shutdown, or a client gone */
		ctl_serve(fd);
		close(fd);
	}
	return NULL;
}

static int
ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		die("--socket: path longer than %zu bytes", sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	/* The default directory: root's only. */
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("control socket: %s", strerror(errno));
	unlink(path);
	mode_t old = umask(0077);	/* mode 0600: root only */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("control socket %s: %s", path, strerror(errno));
	umask(old);
	chmod(path, 0600);
	if (listen(fd, 8) < 0)
		die("control socket %s: %s", path, strerror(errno));
	return fd;
}

static void
print_final(void)
{
	struct vpc_stats sum;
	memset(&sum, 0, sizeof(sum));
	struct vpc_port_stats *ports = calloc(d.n_ports, sizeof(*ports));
	for (unsigned int i = 0; i < d.n_workers; i++) {
		const struct vpc_stats *s = vpc_pipeline_stats(d.workers[i].pl);
		sum.packets += s->packets;
		for (int r = 0; r < VPC_DROP_COUNT; r++)
			sum.drops[r] += s->drops[r];
		for (int p = 0; p < VPC_PATH_COUNT; p++)
			sum.paths[p] += s->paths[p];
		for (uint32_t p = 0; p < d.n_ports && p < s->n_ports; p++) {
			ports[p].rx_packets += s->ports[p].rx_packets;
			ports[p].rx_bytes += s->ports[p].rx_bytes;
			ports[p].tx_packets += s->ports[p].tx_packets;
			ports[p].tx_bytes += s->ports[p].tx_bytes;
			ports[p].drops += s->ports[p].drops;
		}
	}
	printf("vpcd: stopped after %" PRIu64 " packets\n", sum.packets);
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (sum.paths[p])
			printf("  path %-22s %" PRIu64 "\n", vpc_path_name((unsigned)p), sum.paths[p]);
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		if (sum.drops[r])
			printf("  drop %-22s %" PRIu64 "\n", vpc_drop_name((unsigned)r), sum.drops[r]);
	const struct vpc_ct_stats *cs = vpc_ct_stats(d.ct);
	printf("  connections: %" PRIu64 " opened, %" PRIu64 " expired, %" PRIu64
	       " refused, %u tracked\n", cs->created, cs->expired, cs->refused_full,
	       vpc_ct_count(d.ct));
	for (uint32_t p = 0; p < d.n_ports; p++)
		printf("  port %-16s rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64 "\n",
		       d.img->ports[p].name, ports[p].rx_packets, ports[p].tx_packets,
		       ports[p].drops);
	fflush(stdout);
	free(ports);
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *sock = VPC_CTL_DEFAULT_SOCKET;
	uint64_t max_conns = 0;
	int eal_at = argc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_at = i;
			break;
		}
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(eal_at, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'M':
			max_conns = strtoull(optarg, NULL, 10);
			if (max_conns == 0 || max_conns > (1u << 26))
				die("--max-connections needs 1..%u", 1u << 26);
			break;
		case 'S':
			sock = optarg;
			break;
		case 'h':
			printf("usage: vpcd --config TOPO.yaml [--socket PATH] [--max-connections N] [-- EAL options]\n");
			return 0;
		default:
			fprintf(stderr, "usage: vpcd --config TOPO.yaml [--socket PATH] [--max-connections N] [-- EAL options]\n");
			return 2;
		}
	}
	if (config == NULL) {
		fprintf(stderr, "usage: vpcd --config TOPO.yaml [--socket PATH] [--max-connections N] [-- EAL options]\n");
		return 2;
	}

	/* The topology, validated, and the host section it needs here. */
	struct vpc_diag dg;
	vpc_diag_init(&dg, config);
	struct topo *t = topo_load_valid(config, &dg);
	if (t == NULL) {
		vpc_diag_print(&dg, stderr);
		die("%s: invalid topology", config);
	}
	vpc_diag_fini(&dg);
	d.img = topo_compile(t);
	if (d.img == NULL)
		die("%s: cannot compile: %s", config, strerror(errno));
	d.n_ports = d.img->n_ports;

	/* EAL arguments: the user's, then one device per host port. */
	char **eargs = calloc((size_t)(argc - eal_at) + d.n_ports + 4, sizeof(char *));
	char (*devs)[128] = calloc(d.n_ports, sizeof(*devs));
	int ne = 0;
	eargs[ne++] = argv[0];
	for (int i = eal_at + 1; i < argc; i++)
		eargs[ne++] = argv[i];
	for (uint32_t p = 0; p < d.n_ports; p++) {
		const char *name = d.img->ports[p].name;
		const struct topo_hostport *hp = host_port(t, name);
		if (hp == NULL)
			die("%s: port '%s' has no entry in host.ports (how is it realised on this host?)",
			    config, name);
		char *arg = malloc(512);
		port_device(hp, p, arg, 512, devs[p], sizeof(devs[p]));
		eargs[ne++] = arg;
	}
	if (rte_eal_init(ne, eargs) < 0)
		die("DPDK initialisation failed: %s", rte_strerror(rte_errno));
	topo_free(t);
	d.tsc_hz = rte_get_tsc_hz();

	char err[256];
	d.tables = vpc_tables_create(d.img, (int)rte_socket_id(), err, sizeof(err));
	if (d.tables == NULL)
		die("tables: %s", err);
	unsigned int n_lcores = rte_lcore_count();
	size_t rsz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	d.rcu = rte_zmalloc("vpcd_rcu", rsz, RTE_CACHE_LINE_SIZE);
	if (d.rcu == NULL || rte_rcu_qsbr_init(d.rcu, RTE_MAX_LCORE) != 0)
		die("RCU: out of memory");
	uint32_t cmax = max_conns ? (uint32_t)max_conns :
		d.img->n_ifaces * 16384u < 65536 ? 65536 :
		d.img->n_ifaces * 16384u > (1u << 20) ? 1u << 20 : d.img->n_ifaces * 16384u;
	d.ct = vpc_ct_create_shared("vpcd", cmax, (int)rte_socket_id(), d.rcu);
	if (d.ct == NULL)
		die("connection table of %u entries: %s", cmax, strerror(errno));
	struct rte_mempool *mp = rte_pktmbuf_pool_create("vpcd", N_MBUFS + d.n_ports * 2 * (RX_DESC + TX_DESC),
							 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
	if (mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));

	/* Ports: devices by name, one rx queue, a tx queue per lcore. */
	d.ethdev = calloc(d.n_ports, sizeof(uint16_t));
	d.n_txq = calloc(d.n_ports, sizeof(uint16_t));
	d.tx_lock = calloc(d.n_ports, sizeof(rte_spinlock_t));
	for (uint32_t p = 0; p < d.n_ports; p++) {
		uint16_t pid;
		if (rte_eth_dev_get_port_by_name(devs[p], &pid) != 0)
			die("port '%s': device %s did not come up", d.img->ports[p].name, devs[p]);
		d.ethdev[p] = pid;
		rte_spinlock_init(&d.tx_lock[p]);
		d.n_txq[p] = port_start(pid, n_lcores, mp, d.img->ports[p].name);
	}

	/* Workers: every lcore, ports dealt round-robin. */
	unsigned int lc;
	RTE_LCORE_FOREACH(lc) {
		struct worker *w = &d.workers[d.n_workers];
		w->lcore = lc;
		w->txq = (uint16_t)d.n_workers;
		w->rx_ports = calloc(d.n_ports, sizeof(uint16_t));
		w->pl = vpc_pipeline_create(d.tables, d.ct);
		if (w->pl == NULL || w->rx_ports == NULL)
			die("out of memory");
		d.n_workers++;
	}
	for (uint32_t p = 0; p < d.n_ports; p++) {
		struct worker *w = &d.workers[p % d.n_workers];
		w->rx_ports[w->n_rx++] = (uint16_t)p;
	}

	/* No SA_RESTART: a blocked accept() returns at shutdown. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	tel_register();
	int lfd = ctl_listen(sock);
	pthread_t ctl;
	if (pthread_create(&ctl, NULL, ctl_thread, (void *)(intptr_t)lfd) != 0)
		die("control thread: %s", strerror(errno));
	printf("vpcd: forwarding between %u ports on %u lcore%s\n", d.n_ports, d.n_workers,
	       d.n_workers == 1 ? "" : "s");
	fflush(stdout);
	for (unsigned int i = 1; i < d.n_workers; i++)
		rte_eal_remote_launch(worker_main, &d.workers[i], d.workers[i].lcore);
	worker_main(&d.workers[0]);
	rte_eal_mp_wait_lcore();
	/* The control thread: wake it from accept() and wait for it. */
	shutdown(lfd, SHUT_RDWR);
	pthread_kill(ctl, SIGTERM);
	pthread_join(ctl, NULL);
	close(lfd);
	unlink(sock);

	print_final();
	for (uint32_t p = 0; p < d.n_ports; p++) {
		rte_eth_dev_stop(d.ethdev[p]);
		rte_eth_dev_close(d.ethdev[p]);
	}
	for (unsigned int i = 0; i < d.n_workers; i++) {
		vpc_pipeline_free(d.workers[i].pl);
		free(d.workers[i].rx_ports);
	}
	vpc_ct_free(d.ct);
	vpc_tables_free(d.tables);
	rte_free(d.rcu);
	rte_mempool_free(mp);
	vpc_image_free(d.img);
	rte_eal_cleanup();
	return 0;
}
