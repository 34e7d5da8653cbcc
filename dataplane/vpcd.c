/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcd -- the DPDK vswitch daemon (docs/cli.md).
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
 * path) takes `vpcctl apply`: the image is checked; the ports it adds are
 * opened (hot-plugged) and the new tables built; then the configuration
 * -- tables, port map, each worker's rx ports -- is published by one
 * pointer store.  Each worker picks it up between two bursts, so no packet
 * is ever forwarded by a mix of old and new tables; a port kept across the
 * apply stays with its worker, so no rx queue is ever polled by two
 * lcores.  After an RCU grace period the old configuration is freed and
 * the ports it alone had are closed.  A failed apply changes nothing and
 * says why.  Also `vpcctl stats` and `vpcctl conntrack list|count|flush`,
 * and the counters in DPDK telemetry.
 *
 * Per-port counters are kept by each worker under the DPDK port id, which
 * an apply never renumbers (topology port indexes it may).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
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
#include "vpc_report.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define N_MBUFS 16383

/* The quit flag: set by the signal handler, read by the workers. */
static volatile sig_atomic_t quit;

/*
 * A configuration: the tables and the ports that go with them.  Immutable
 * once published.  Workers read the published one through RCU (once per
 * loop); the telemetry thread under cfg_lock; the control thread (which
 * alone publishes and frees) freely.
 */
struct cfg {
	struct vpc_image *img;
	struct vpc_tables *tables;
	uint32_t n_ports;
	uint16_t *ethdev;			/* topology port -> DPDK port id */
	uint16_t *rx[RTE_MAX_LCORE];		/* per worker: its rx ports */
	uint16_t n_rx[RTE_MAX_LCORE];
};

struct port_counters {
	uint64_t rx, tx, drops;
};

struct worker {
	unsigned int idx;
	unsigned int lcore;
	uint16_t txq;			/* this worker's tx queue on every port */
	struct vpc_pipeline *pl;
	const struct cfg *cur;		/* the configuration this worker uses */
	struct port_counters ports[RTE_MAX_ETHPORTS];	/* by DPDK port id */
} __rte_cache_aligned;

static struct {
	struct cfg *cfg;		/* the published one (see struct cfg) */
	pthread_mutex_t cfg_lock;	/* telemetry readers vs. apply's swap */
	struct vpc_ct *ct;
	struct rte_rcu_qsbr *rcu;
	struct rte_mempool *mp;
	struct worker workers[RTE_MAX_LCORE];
	unsigned int n_workers;
	uint64_t tsc_hz;
	/* By DPDK port id; written before a port is published, then read. */
	uint16_t n_txq[RTE_MAX_ETHPORTS];
	rte_spinlock_t tx_lock[RTE_MAX_ETHPORTS];	/* shared tx queues */
	uint32_t dev_seq;		/* names of hot-plugged devices */
} d = { .cfg_lock = PTHREAD_MUTEX_INITIALIZER };

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

static const struct vpc_image_hport *
hport_of(const struct vpc_image *img, const char *name)
{
	for (uint32_t i = 0; i < img->n_hports; i++)
		if (strcmp(img->hports[i].name, name) == 0)
			return &img->hports[i];
	return NULL;
}

/* Start a port with one rx queue and up to n_txq tx queues. */
static int
port_start(uint16_t pid, unsigned int n_txq, const char *name, char *err, size_t err_size)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int ret;

	if ((ret = rte_eth_dev_info_get(pid, &info)) != 0)
		goto fail;
	if (n_txq > info.max_tx_queues)
		n_txq = info.max_tx_queues;
	if ((ret = rte_eth_dev_configure(pid, 1, (uint16_t)n_txq, &conf)) != 0)
		goto fail;
	uint16_t nb_rx = RX_DESC, nb_tx = TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx);
	int socket = rte_eth_dev_socket_id(pid);
	if ((ret = rte_eth_rx_queue_setup(pid, 0, nb_rx, (unsigned int)socket, NULL, d.mp)) != 0)
		goto fail;
	for (uint16_t q = 0; q < n_txq; q++)
		if ((ret = rte_eth_tx_queue_setup(pid, q, nb_tx, (unsigned int)socket, NULL)) != 0)
			goto fail;
	if ((ret = rte_eth_dev_start(pid)) != 0)
		goto fail;
	rte_eth_promiscuous_enable(pid);	/* frames for the VMs' MACs */
	d.n_txq[pid] = (uint16_t)n_txq;
	rte_spinlock_init(&d.tx_lock[pid]);
	return 0;
fail:
	snprintf(err, err_size, "port '%s': %s", name, strerror(-ret));
	return ret;
}

/*
 * Open a port as its host-port record says: a virtual device is
 * hot-plugged (rte_dev_probe), a PCI device was allowed at start-up.
 */
static int
port_open(const struct vpc_image *img, const char *name, uint16_t *pid, char *err, size_t err_size)
{
	const struct vpc_image_hport *h = hport_of(img, name);
	char dev[VPC_HPORT_STR + 16], args[512];
	uint32_t seq = d.dev_seq++;

	if (h == NULL) {
		snprintf(err, err_size, "port '%s' has no entry in host.ports (how is it realised on this host?)", name);
		return -EINVAL;
	}
	/* Interface-backed virtual devices: driver, and options of ours. */
	static const struct {
		const char *driver, *options;
	} vdev[] = {
		[VPC_HPORT_TAP] = { "net_tap", "" },
		[VPC_HPORT_AF_PACKET] = { "net_af_packet", ",qpairs=1" },
		[VPC_HPORT_AF_XDP] = { "net_af_xdp", "" },
		[VPC_HPORT_VHOST_USER] = { "net_vhost", ",queues=1" },
	};
	if (h->type == VPC_HPORT_PCAP) {
		snprintf(dev, sizeof(dev), "net_pcap%u", seq);
		snprintf(args, sizeof(args), "%s%s%s%s%s%s", dev, h->a[0] ? ",rx_pcap=" : "", h->a,
			 h->b[0] ? ",tx_pcap=" : "", h->b, h->flags & VPC_HPORT_F_LOOP ? ",infinite_rx=1" : "");
	} else if (h->type == VPC_HPORT_PCI) {
		/* probed by the EAL at start-up (--allow) */
		snprintf(dev, sizeof(dev), "%s", h->a);
		args[0] = '\0';
	} else {
		snprintf(dev, sizeof(dev), "%s%u", vdev[h->type].driver, seq);
		snprintf(args, sizeof(args), "%s,iface=%s%s", dev, h->a, vdev[h->type].options);
	}
	if (args[0] != '\0') {
		int ret = rte_dev_probe(args);
		if (ret < 0) {
			snprintf(err, err_size, "port '%s': cannot open device %s: %s", name, dev,
				 strerror(-ret));
			return ret;
		}
	}
	if (rte_eth_dev_get_port_by_name(dev, pid) != 0) {
		snprintf(err, err_size, "port '%s': device %.64s did not come up", name, dev);
		return -ENODEV;
	}
	return port_start(*pid, d.n_workers, name, err, err_size);
}

static void
port_close(uint16_t pid)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(pid, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(pid);
	rte_eth_dev_close(pid);
	if (dev != NULL)
		rte_dev_remove(dev);
}

static void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (unsigned int w = 0; w < RTE_MAX_LCORE; w++)
		free(c->rx[w]);
	free(c->ethdev);
	vpc_tables_free(c->tables);
	vpc_image_free(c->img);
	free(c);
}

/*
 * A configuration for img.  Ports of prev (by name) keep their device and
 * their worker; the others are opened and dealt to the least busy worker.
 * On failure, the ports opened here are closed again and NULL returned.
 */
static struct cfg *
cfg_build(struct vpc_image *img, const struct cfg *prev, uint32_t generation,
	  bool revalidate, char *err, size_t err_size)
{
	struct cfg *c = calloc(1, sizeof(*c));
	uint16_t opened[RTE_MAX_ETHPORTS];
	uint32_t n_opened = 0;

	if (c == NULL)
		goto nomem;
	c->img = img;
	c->n_ports = img->n_ports;
	c->ethdev = calloc(img->n_ports, sizeof(uint16_t));
	if (c->ethdev == NULL)
		goto nomem;
	for (unsigned int w = 0; w < d.n_workers; w++)
		if ((c->rx[w] = calloc(img->n_ports, sizeof(uint16_t))) == NULL)
			goto nomem;
	for (uint32_t p = 0; p < img->n_ports; p++) {
		const char *name = img->ports[p].name;
		int owner = -1;
		for (uint32_t q = 0; prev != NULL && q < prev->n_ports && owner < 0; q++)
			if (strcmp(prev->img->ports[q].name, name) == 0) {
				c->ethdev[p] = prev->ethdev[q];
				for (unsigned int w = 0; w < d.n_workers && owner < 0; w++)
					for (uint16_t r = 0; r < prev->n_rx[w]; r++)
						if (prev->rx[w][r] == q)
							owner = (int)w;
			}
		if (owner < 0) {
			if (n_opened == RTE_MAX_ETHPORTS ||
			    port_open(img, name, &c->ethdev[p], err, err_size) < 0)
				goto fail;
			opened[n_opened++] = c->ethdev[p];
			owner = 0;
			for (unsigned int w = 1; w < d.n_workers; w++)
				if (c->n_rx[w] < c->n_rx[owner])
					owner = (int)w;
		}
		c->rx[owner][c->n_rx[owner]++] = (uint16_t)p;
	}
	c->tables = vpc_tables_create(img, (int)rte_socket_id(), err, err_size);
	if (c->tables == NULL)
		goto fail;
	c->tables->generation = generation;
	c->tables->revalidate = revalidate;
	return c;
nomem:
	snprintf(err, err_size, "out of memory");
fail:
	for (uint32_t i = 0; i < n_opened; i++)
		port_close(opened[i]);
	if (c != NULL)
		c->img = NULL;	/* the caller's */
	cfg_free(c);
	return NULL;
}

/* Transmit what the verdicts send out, port by port; free the rest. */
static void
transmit(struct worker *w, const struct cfg *c, uint16_t in_port, struct rte_mbuf **pkts,
	 uint16_t n, const struct vpc_verdict *v)
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
		if (port < c->n_ports) {
			uint16_t pid = c->ethdev[port];
			if (w->txq < d.n_txq[pid]) {
				done = rte_eth_tx_burst(pid, w->txq, out, k);
			} else {
				uint16_t q = (uint16_t)(w->txq % d.n_txq[pid]);
				rte_spinlock_lock(&d.tx_lock[pid]);
				done = rte_eth_tx_burst(pid, q, out, k);
				rte_spinlock_unlock(&d.tx_lock[pid]);
			}
			w->ports[pid].tx += done;
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
		/* A new configuration takes effect between bursts. */
		const struct cfg *c = __atomic_load_n(&d.cfg, __ATOMIC_ACQUIRE);
		if (unlikely(c != w->cur)) {
			vpc_pipeline_set_tables(w->pl, c->tables);
			w->cur = c;
		}
		uint64_t tsc = rte_rdtsc();
		uint64_t now = tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
		for (uint16_t r = 0; r < c->n_rx[w->idx]; r++) {
			uint16_t port = c->rx[w->idx][r];
			uint16_t pid = c->ethdev[port];
			uint16_t n = rte_eth_rx_burst(pid, 0, pkts, VPC_BURST_MAX);
			if (n == 0)
				continue;
			vpc_pipeline_process(w->pl, port, pkts, n, now, v);
			w->ports[pid].rx += n;
			for (uint16_t i = 0; i < n; i++)
				w->ports[pid].drops += v[i].action == VPC_ACT_DROP;
			transmit(w, c, port, pkts, n, v);
		}
		/* Between bursts: no reference to a connection entry or to the
		 * configuration is held. */
		rte_rcu_qsbr_quiescent(d.rcu, w->lcore);
	}
	rte_rcu_qsbr_thread_offline(d.rcu, w->lcore);
	rte_rcu_qsbr_thread_unregister(d.rcu, w->lcore);
	return 0;
}

/* Sums over the workers (read without locks: each counter is a 64-bit
 * value written by its lcore alone).  c is only read for per-port
 * counters: NULL is fine when ports is NULL. */
static void
sum_stats(const struct cfg *c, struct vpc_stats *sum, struct port_counters *ports)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < d.n_workers; i++) {
		const struct vpc_stats *st = vpc_pipeline_stats(d.workers[i].pl);
		sum->packets += st->packets;
		for (int r = 0; r < VPC_DROP_COUNT; r++)
			sum->drops[r] += st->drops[r];
		for (int p = 0; p < VPC_PATH_COUNT; p++)
			sum->paths[p] += st->paths[p];
		for (uint32_t p = 0; ports != NULL && p < c->n_ports; p++) {
			const struct port_counters *pc = &d.workers[i].ports[c->ethdev[p]];
			ports[p].rx += pc->rx;
			ports[p].tx += pc->tx;
			ports[p].drops += pc->drops;
		}
	}
}

/* ---- DPDK telemetry: the same counters, for dpdk-telemetry.py ---- */

/* Telemetry names allow letters, digits and '_': "l2-switch" -> "l2_switch". */
static const char *
tel_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

/* The per-lcore totals, without per-port counters: those need no
 * configuration, so no lock either. */
static void
totals(struct vpc_stats *sum)
{
	sum_stats(NULL, sum, NULL);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	char nb[64];
	(void)cmd;
	(void)params;
	totals(&sum);
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_u64(t, "packets", sum.packets);
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
	char nb[64];
	(void)cmd;
	(void)params;
	totals(&sum);
	rte_tel_data_start_dict(t);
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
	int ret = -EINVAL;
	(void)cmd;
	if (params == NULL)
		return -EINVAL;
	pthread_mutex_lock(&d.cfg_lock);
	const struct cfg *c = d.cfg;
	for (uint32_t p = 0; p < c->n_ports; p++) {
		if (strcmp(c->img->ports[p].name, params) != 0)
			continue;
		struct port_counters *ports = calloc(c->n_ports, sizeof(*ports));
		if (ports == NULL) {
			ret = -ENOMEM;
			break;
		}
		sum_stats(c, &sum, ports);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_u64(t, "rx_packets", ports[p].rx);
		rte_tel_data_add_dict_u64(t, "tx_packets", ports[p].tx);
		rte_tel_data_add_dict_u64(t, "drops", ports[p].drops);
		free(ports);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&d.cfg_lock);
	return ret;
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

/* The daemon's clock: ns since the TSC started, as the workers see it. */
static uint64_t
now_ns(void)
{
	uint64_t tsc = rte_rdtsc(), hz = d.tsc_hz;
	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

/* `vpcctl stats`: the lcores' counters summed, printed by vpc_report. */
static void
ctl_stats(FILE *out, bool json)
{
	const struct cfg *c = d.cfg;	/* the control thread alone swaps it */
	struct vpc_stats sum;
	struct vpc_report_lcore lcores[RTE_MAX_LCORE];
	struct port_counters *ports = calloc(c->n_ports + 1, sizeof(*ports));
	struct vpc_report_port *rp = calloc(c->n_ports + 1, sizeof(*rp));

	if (ports == NULL || rp == NULL) {
		fprintf(out, "out of memory\n");
		goto out;
	}
	sum_stats(c, &sum, ports);
	for (unsigned int i = 0; i < d.n_workers; i++)
		lcores[i] = (struct vpc_report_lcore){
			d.workers[i].lcore, vpc_pipeline_stats(d.workers[i].pl)->packets,
		};
	for (uint32_t p = 0; p < c->n_ports; p++)
		rp[p] = (struct vpc_report_port){
			c->img->ports[p].name, ports[p].rx, ports[p].tx, ports[p].drops,
		};
	const struct vpc_ct_stats *cs = vpc_ct_stats(d.ct);
	struct vpc_report r = {
		.generation = c->tables->generation, .packets = sum.packets,
		.paths = sum.paths, .drops = sum.drops,
		.ports = rp, .n_ports = c->n_ports,
		.has_lcores = true, .lcores = lcores, .n_lcores = d.n_workers,
		.tracked = vpc_ct_count(d.ct), .capacity = vpc_ct_capacity(d.ct),
		.created = cs->created, .expired = cs->expired, .refused = cs->refused_full,
	};
	vpc_report_stats(out, &r, json);
out:
	free(rp);
	free(ports);
}

static void
ctl_ct_list(FILE *out, bool json)
{
	uint32_t pos = 0, n = 0;
	int64_t i;
	uint64_t now = now_ns();

	vpc_report_conns_begin(out, json);
	while ((i = vpc_ct_next(d.ct, &pos)) >= 0 && n < VPC_REPORT_MAX_CONNS) {
		const struct vpc_ct_entry *e = vpc_ct_entry(d.ct, (uint32_t)i);
		const struct vpc_ct_key *k = &e->key[0];
		struct vpc_report_conn rc = {
			.ctx_proto = k->ctx_proto, .src = k->src, .dst = k->dst,
			.sport = k->sport, .dport = k->dport, .state = e->trk.state,
			.expires_in = e->expires > now ? (e->expires - now) / 1000000000ull : 0,
		};
		vpc_report_conn(out, &rc, json, &n);
	}
	vpc_report_conns_end(out, json);
}

/* Apply: check; open added ports and build; publish; wait for the
 * workers; free the old configuration and close the ports it alone had. */
static int
ctl_apply(const void *buf, uint32_t len, uint32_t flags, FILE *out)
{
	char err[256];
	struct vpc_image *img = vpc_image_from_bytes(buf, len, err, sizeof(err));
	struct cfg *old = d.cfg;

	if (img == NULL) {
		fprintf(out, "refused: %s\n", err);
		return EINVAL;
	}
	struct cfg *c = cfg_build(img, old, old->tables->generation + 1,
				  flags & VPC_CTL_F_REVALIDATE, err, sizeof(err));
	if (c == NULL) {
		fprintf(out, "refused: %s\n", err);
		vpc_image_free(img);
		return EINVAL;
	}
	pthread_mutex_lock(&d.cfg_lock);
	__atomic_store_n(&d.cfg, c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d.cfg_lock);
	/* Every worker finishes the loop it is in: then none uses the old. */
	rte_rcu_qsbr_synchronize(d.rcu, RTE_QSBR_THRID_INVALID);
	uint32_t added = 0, removed = 0;
	for (uint32_t q = 0; q < old->n_ports; q++) {
		bool kept = false;
		for (uint32_t p = 0; p < c->n_ports && !kept; p++)
			kept = c->ethdev[p] == old->ethdev[q];
		if (!kept) {
			port_close(old->ethdev[q]);
			removed++;
		}
	}
	for (uint32_t p = 0; p < c->n_ports; p++) {
		bool known = false;
		for (uint32_t q = 0; q < old->n_ports && !known; q++)
			known = c->ethdev[p] == old->ethdev[q];
		added += !known;
	}
	cfg_free(old);
	fprintf(out, "applied: generation %u, %u VPCs, %u interfaces", c->tables->generation,
		img->n_vpcs, img->n_ifaces);
	if (added || removed)
		fprintf(out, ", %u port%s opened, %u closed", added, added == 1 ? "" : "s", removed);
	fprintf(out, "%s\n", c->tables->revalidate ? ", connections revalidated" : "");
	return 0;
}

/* One complete request: its answer as text, and a status. */
static uint32_t
ctl_handle(const struct vpc_ctl_rx *rx, FILE *out)
{
	const struct vpc_ctl_req *req = &rx->req;
	bool json = req->flags & VPC_CTL_F_JSON;

	switch (req->op) {
	case VPC_CTL_APPLY:
		return (uint32_t)ctl_apply(rx->payload, req->len, req->flags, out);
	case VPC_CTL_STATS:
		ctl_stats(out, json);
		return 0;
	case VPC_CTL_CT_LIST:
		ctl_ct_list(out, json);
		return 0;
	case VPC_CTL_CT_COUNT:
		fprintf(out, json ? "{\"tracked\":%u,\"capacity\":%u}\n" :
				    "%u connections tracked (capacity %u)\n",
			vpc_ct_count(d.ct), vpc_ct_capacity(d.ct));
		return 0;
	case VPC_CTL_CT_FLUSH: {
		uint32_t before = vpc_ct_count(d.ct);
		vpc_ct_flush(d.ct);
		fprintf(out, json ? "{\"flushed\":%u}\n" : "flushed %u connections\n", before);
		return 0;
	}
	default:	/* vpc_ctl_rx_feed() let no other op through */
		fprintf(out, "unknown request %u\n", req->op);
		return EOPNOTSUPP;
	}
}

/*
 * The control socket serves many clients at once from one thread: every
 * socket is non-blocking, each client has a deadline to send its request
 * and another to read the answer, and a client that stalls, lies or goes
 * away only loses its own connection (answers are sent with MSG_NOSIGNAL;
 * SIGPIPE is ignored as well).  Requests are carried out one at a time,
 * in the order they complete.  Between events the same thread reclaims
 * expired connections, so an idle daemon's table empties too.
 */
#define CTL_MAX_CLIENTS 64
#define CTL_TICK_MS 100

struct ctl_client {
	int fd;				/* -1: slot unused */
	uint64_t deadline;		/* ns, daemon clock */
	struct vpc_ctl_rx rx;
	char *out;			/* answer: header + text */
	size_t out_len, out_sent;	/* out != NULL: answering */
};

static void
ctl_client_close(struct ctl_client *c)
{
	close(c->fd);
	vpc_ctl_rx_free(&c->rx);
	free(c->out);
	*c = (struct ctl_client){ .fd = -1 };
}

/* Queue the answer (status, text) and start sending it. */
static void
ctl_client_answer(struct ctl_client *c, uint32_t status, const char *text, size_t len)
{
	struct vpc_ctl_resp resp = { VPC_CTL_MAGIC, status, (uint32_t)len, 0 };

	c->out = malloc(sizeof(resp) + len);
	if (c->out == NULL) {
		ctl_client_close(c);
		return;
	}
	memcpy(c->out, &resp, sizeof(resp));
	memcpy(c->out + sizeof(resp), text, len);
	c->out_len = sizeof(resp) + len;
	c->out_sent = 0;
	c->deadline = now_ns() + VPC_CTL_DEADLINE_S * 1000000000ull;
}

/* The request is complete (or refused): carry it out, answer. */
static void
ctl_client_serve(struct ctl_client *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	uint32_t status;

	if (out == NULL) {
		ctl_client_close(c);
		return;
	}
	if (c->rx.state == VPC_CTL_RX_BAD) {
		status = (uint32_t)c->rx.error;
		if (status == EOPNOTSUPP)
			fprintf(out, "unknown request %u\n", c->rx.req.op);
		else
			fprintf(out, "bad request: %s\n", strerror(c->rx.error));
	} else {
		status = ctl_handle(&c->rx, out);
	}
	fclose(out);
	vpc_ctl_rx_free(&c->rx);
	ctl_client_answer(c, status, text, len);
	free(text);
}

static void
ctl_client_read(struct ctl_client *c)
{
	uint8_t buf[65536];

	for (;;) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {		/* gone before asking: nobody to answer */
			ctl_client_close(c);
			return;
		}
		size_t used;
		int st = vpc_ctl_rx_feed(&c->rx, buf, (size_t)r, &used);
		if (st != VPC_CTL_RX_MORE) {
			ctl_client_serve(c);	/* bytes past the request: ignored */
			return;
		}
	}
}

static void
ctl_client_write(struct ctl_client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t r = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0)
			break;		/* gone: EPIPE, ECONNRESET */
		c->out_sent += (size_t)r;
	}
	ctl_client_close(c);
}

static void *
ctl_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct pollfd pfd[CTL_MAX_CLIENTS + 1];
	uint32_t sweep_budget = vpc_ct_capacity(d.ct) / 16;
	uint64_t next_tick = 0;

	if (sweep_budget < 1024)
		sweep_budget = 1024;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		cl[i] = (struct ctl_client){ .fd = -1 };
	while (!quit) {
		int n = 0, used = 0, slot[CTL_MAX_CLIENTS + 1];
		for (int i = 0; i < CTL_MAX_CLIENTS; i++)
			if (cl[i].fd >= 0) {
				pfd[n] = (struct pollfd){ cl[i].fd, cl[i].out ? POLLOUT : POLLIN, 0 };
				slot[n++] = i;
				used++;
			}
		/* At the limit, newcomers wait in the backlog. */
		if (used < CTL_MAX_CLIENTS) {
			pfd[n] = (struct pollfd){ lfd, POLLIN, 0 };
			slot[n++] = -1;
		}
		int r = poll(pfd, (nfds_t)n, CTL_TICK_MS);
		uint64_t now = now_ns();
		for (int k = 0; r > 0 && k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (slot[k] < 0) {
				for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
					if (cl[i].fd >= 0)
						continue;
					int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
					if (fd < 0)
						break;	/* none waiting, or a client gone */
					cl[i] = (struct ctl_client){
						.fd = fd,
						.deadline = now + VPC_CTL_DEADLINE_S * 1000000000ull,
					};
					vpc_ctl_rx_init(&cl[i].rx);
				}
				continue;
			}
			struct ctl_client *c = &cl[slot[k]];
			if (c->out != NULL)
				ctl_client_write(c);
			else
				ctl_client_read(c);
			/* The answer may go out at once. */
			if (c->fd >= 0 && c->out != NULL && c->out_sent == 0)
				ctl_client_write(c);
		}
		now = now_ns();
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (cl[i].fd < 0 || cl[i].deadline > now)
				continue;
			if (cl[i].out == NULL) {
				/* Too slow to ask: say so if it listens, then close. */
				static const char msg[] = "timed out waiting for the request\n";
				cl[i].rx.state = VPC_CTL_RX_BAD;
				ctl_client_answer(&cl[i], ETIMEDOUT, msg, sizeof(msg) - 1);
				if (cl[i].fd >= 0)
					ctl_client_write(&cl[i]);
			}
			if (cl[i].fd >= 0)	/* too slow to read its answer */
				ctl_client_close(&cl[i]);
		}
		if (now >= next_tick) {
			/* Expired connections go even when none are opened. */
			vpc_ct_sweep(d.ct, now, sweep_budget);
			vpc_ct_reclaim(d.ct);
			next_tick = now + CTL_TICK_MS * 1000000ull;
		}
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			ctl_client_close(&cl[i]);
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
	/* Non-blocking: the control thread accepts until none is waiting. */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("control socket: %s", strerror(errno));
	unlink(path);
	mode_t old = umask(0077);	/* mode 0600: root only */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("control socket %s: %s", path, strerror(errno));
	umask(old);
	chmod(path, 0600);
	if (listen(fd, SOMAXCONN) < 0)
		die("control socket %s: %s", path, strerror(errno));
	return fd;
}

static void
print_final(void)
{
	const struct cfg *c = d.cfg;
	struct vpc_stats sum;
	struct port_counters *ports = calloc(c->n_ports + 1, sizeof(*ports));

	sum_stats(c, &sum, ports);
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
	for (uint32_t p = 0; p < c->n_ports; p++)
		printf("  port %-16s rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64 "\n",
		       c->img->ports[p].name, ports[p].rx, ports[p].tx, ports[p].drops);
	fflush(stdout);
	free(ports);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: vpcd --config TOPO.yaml [--socket PATH] [--max-connections N] [-- EAL options]\n");
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
	int ch;
	opterr = 0;
	while ((ch = getopt_long(eal_at, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
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
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL) {
		usage(stderr);
		return 2;
	}

	/* The tables and the host's ports, from the topology. */
	struct vpc_image *img = vpc_image_load(config, stderr);
	if (img == NULL)
		die("%s: invalid topology", config);
	for (uint32_t p = 0; p < img->n_ports; p++)
		if (hport_of(img, img->ports[p].name) == NULL)
			die("%s: port '%s' has no entry in host.ports (how is it realised on this host?)",
			    config, img->ports[p].name);
	if (img->n_ports > RTE_MAX_ETHPORTS)
		die("%s: %u ports; this DPDK build opens at most %d", config, img->n_ports,
		    RTE_MAX_ETHPORTS);

	/* EAL: the user's arguments; PCI devices of the topology allowed. */
	char **eargs = calloc((size_t)(argc - eal_at) + img->n_hports + 2, sizeof(char *));
	/* rte_eal_init() may reorder eargs: the strings made here are freed
	 * from a list of their own. */
	char **allow = calloc(img->n_hports + 1, sizeof(char *));
	int ne = 0, na = 0;
	if (eargs == NULL || allow == NULL)
		die("out of memory");
	eargs[ne++] = argv[0];
	for (int i = eal_at + 1; i < argc; i++)
		eargs[ne++] = argv[i];
	for (uint32_t i = 0; i < img->n_hports; i++)
		if (img->hports[i].type == VPC_HPORT_PCI) {
			char *a = malloc(160);
			if (a == NULL)
				die("out of memory");
			snprintf(a, 160, "--allow=%s", img->hports[i].a);
			eargs[ne++] = allow[na++] = a;
		}
	if (rte_eal_init(ne, eargs) < 0)
		die("DPDK initialisation failed: %s", rte_strerror(rte_errno));
	d.tsc_hz = rte_get_tsc_hz();

	size_t rsz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	d.rcu = rte_zmalloc("vpcd_rcu", rsz, RTE_CACHE_LINE_SIZE);
	if (d.rcu == NULL || rte_rcu_qsbr_init(d.rcu, RTE_MAX_LCORE) != 0)
		die("RCU: out of memory");
	uint32_t cmax = max_conns ? (uint32_t)max_conns : vpc_ct_default_size(img->n_ifaces);
	d.ct = vpc_ct_create_shared("vpcd", cmax, (int)rte_socket_id(), d.rcu);
	if (d.ct == NULL)
		die("connection table of %u entries: %s", cmax, strerror(errno));
	d.mp = rte_pktmbuf_pool_create("vpcd", N_MBUFS + RTE_MAX_ETHPORTS * (RX_DESC + TX_DESC),
				       256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (d.mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));

	/* Workers: every lcore. */
	unsigned int lc;
	RTE_LCORE_FOREACH(lc) {
		struct worker *w = &d.workers[d.n_workers];
		w->idx = d.n_workers;
		w->lcore = lc;
		w->txq = (uint16_t)d.n_workers;
		d.n_workers++;
	}

	/* The first configuration: every port opened, dealt to the workers. */
	char err[256];
	d.cfg = cfg_build(img, NULL, 1, false, err, sizeof(err));
	if (d.cfg == NULL)
		die("%s", err);
	for (unsigned int i = 0; i < d.n_workers; i++) {
		d.workers[i].pl = vpc_pipeline_create(d.cfg->tables, d.ct);
		if (d.workers[i].pl == NULL)
			die("out of memory");
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A control client that goes away must not take the daemon along. */
	signal(SIGPIPE, SIG_IGN);
	tel_register();
	int lfd = ctl_listen(sock);
	pthread_t ctl;
	if (pthread_create(&ctl, NULL, ctl_thread, (void *)(intptr_t)lfd) != 0)
		die("control thread: %s", strerror(errno));
	printf("vpcd: forwarding between %u ports on %u lcore%s\n", d.cfg->n_ports, d.n_workers,
	       d.n_workers == 1 ? "" : "s");
	fflush(stdout);
	for (unsigned int i = 1; i < d.n_workers; i++)
		rte_eal_remote_launch(worker_main, &d.workers[i], d.workers[i].lcore);
	worker_main(&d.workers[0]);
	rte_eal_mp_wait_lcore();
	/* The control thread sees quit within one tick. */
	pthread_join(ctl, NULL);
	close(lfd);
	unlink(sock);

	print_final();
	for (uint32_t p = 0; p < d.cfg->n_ports; p++) {
		rte_eth_dev_stop(d.cfg->ethdev[p]);
		rte_eth_dev_close(d.cfg->ethdev[p]);
	}
	for (unsigned int i = 0; i < d.n_workers; i++)
		vpc_pipeline_free(d.workers[i].pl);
	vpc_ct_free(d.ct);
	cfg_free(d.cfg);
	rte_free(d.rcu);
	rte_mempool_free(d.mp);
	rte_eal_cleanup();
	for (int i = 0; i < na; i++)
		free(allow[i]);
	free(allow);
	free(eargs);
	return 0;
}
