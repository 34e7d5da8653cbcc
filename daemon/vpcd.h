/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcd.h -- what the daemon's files share: the published configuration,
 * the workers, the process-wide state, and each file's entry points.
 *
 *   main.c       command line, EAL, start and stop, the final counters
 *   ports.c      opening, starting and closing the DPDK ports of host.ports
 *   kport.c      kernel ports (af_packet): a packet socket with the
 *                virtio-net header, offloads finished by offload.c
 *   publish.c    a configuration built from an image, published by one
 *                pointer store, the old one freed after an RCU grace period
 *   workers.c    the lcores' loop: receive, pipeline, transmit, counters
 *   control.c    the control socket (vpc_ctl.h): many clients, deadlines
 *   lb.c         the load balancers' health checks (lib/lb_health.c)
 *   capture.c    vpcctl capture: the workers' copies, the stream's records
 *   telemetry.c  the counters in DPDK telemetry
 *
 * Concurrency: the workers read the published configuration through RCU
 * and write only their own counters; the control thread alone publishes
 * and frees configurations and answers clients; the telemetry thread
 * reads under cfg_lock.  vpcd_quit is set by the signal handler and read
 * by every loop.
 */
#ifndef VPCD_H
#define VPCD_H

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
#include <rte_ring.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "compile.h"
#include "conntrack.h"
#include "flowlog.h"
#include "offload.h"
#include "pipeline.h"
#include "tables.h"
#include "topo.h"
#include "vpc_ctl.h"
#include "vpc_image_io.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define N_MBUFS 16383

/* Idle workers back off (workers.c): after IDLE_SPINS empty loops, sleeps
 * from 1 us doubling up to IDLE_SLEEP_MAX_US (a packet waits at most that
 * long, well under 1 ms), until a packet arrives. */
#define IDLE_SPINS 256u
#define IDLE_SLEEP_MAX_US 500u

/* cfg->ethdev of a port this host does not realise: the uplink of a
 * topology with no internet gateway and no host.ports entry for it. */
#define PORT_UNREALISED UINT16_MAX

/* Port ids: DPDK's (below RTE_MAX_ETHPORTS), then kernel ports' (kport.c). */
#define KPORT_MAX 32u
#define KPORT_ID_BASE RTE_MAX_ETHPORTS
#define PORT_IDS (RTE_MAX_ETHPORTS + KPORT_MAX)
#define IS_KPORT(id) ((id) >= KPORT_ID_BASE)


/* Set by SIGINT/SIGTERM; every loop ends when it sees it. */
extern volatile sig_atomic_t vpcd_quit;

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
	uint16_t *ethdev;			/* topology port -> port id (DPDK's,
						 * or a kernel port's) */
	uint16_t *rx[RTE_MAX_LCORE];		/* per worker: its rx ports */
	uint16_t n_rx[RTE_MAX_LCORE];
};

struct port_counters {
	uint64_t rx, tx, drops;
	uint64_t tx_failed;	/* frames the port did not take */
};

struct worker {
	unsigned int idx;
	unsigned int lcore;
	uint16_t txq;			/* this worker's tx queue on every port */
	struct vpc_pipeline *pl;
	const struct cfg *cur;		/* the configuration this worker uses */
	uint64_t tx_failed;		/* over every port: drop reason tx-failed */
	uint64_t cap;			/* vpcd.cap_word as of this loop (0: off) */
	struct rte_ring *cap_ring;	/* its copies of captured frames (capture.c) */
	uint64_t cap_lost;		/* copies not made: pool empty, ring full */
	struct port_counters ports[PORT_IDS];	/* by port id */
} __rte_cache_aligned;

struct vpcd_state {
	struct cfg *cfg;		/* the published one (see struct cfg) */
	pthread_mutex_t cfg_lock;	/* telemetry readers vs. apply's swap */
	struct vpc_ct *ct;
	struct rte_rcu_qsbr *rcu;
	struct rte_mempool *mp;
	struct worker workers[RTE_MAX_LCORE];
	unsigned int n_workers;
	uint64_t tsc_hz;
	bool busy_poll;			/* --busy-poll: never sleep when idle */
	/* By port id; written before a port is published, then read. */
	uint16_t n_txq[PORT_IDS];
	rte_spinlock_t tx_lock[PORT_IDS];	/* shared tx queues */
	uint32_t dev_seq;		/* names of hot-plugged devices */
	/* vpcctl capture (capture.c): written by the control thread, read
	 * by the workers; the word (0: no capture) is stored last, with
	 * release, and loaded once per loop with acquire. */
	uint64_t cap_word;
	uint32_t cap_snaplen;
	struct rte_mempool *cap_mp;
	struct vpc_flowlog *fl;		/* --flow-logs; NULL: off.  Set before
					 * the workers start */
};

/* The daemon: main.c defines it; see each field for who writes it. */
extern struct vpcd_state vpcd;

/* main.c */
__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);

/* ports.c */
const struct vpc_image_hport *hport_of(const struct vpc_image *img, const char *name);
int port_open(const struct vpc_image *img, const char *name, uint16_t *pid, char *err,
	      size_t err_size);
void port_close(uint16_t pid);

/* kport.c */
int kport_open(const char *ifname, const char *name, uint16_t *id, char *err, size_t err_size);
void kport_close(uint16_t id);
uint16_t kport_rx(uint16_t id, struct rte_mbuf **pkts, uint16_t max);
uint16_t kport_tx(uint16_t id, struct rte_mbuf **pkts, uint16_t n);	/* frees all n */
uint64_t kport_rx_unusable(uint16_t id);

/* publish.c */
void cfg_free(struct cfg *c);
struct cfg *cfg_build(struct vpc_image *img, const struct cfg *prev, uint32_t generation,
		      bool revalidate, char *err, size_t err_size);
int ctl_apply(const void *buf, uint32_t len, uint32_t flags, FILE *out);

/* workers.c */
int worker_main(void *arg);
void worker_transmit(struct worker *w, const struct cfg *c, uint16_t in_port,
		     struct rte_mbuf **pkts, uint16_t n, const struct vpc_verdict *v);

/* lb.c */
int lb_init(void);
void lb_retable(struct cfg *c);
void lb_tick(uint64_t now);
bool lb_probes_waiting(void);
void lb_worker_send(struct worker *w, const struct cfg *c);
void ctl_lb(FILE *out, bool json);
void lb_count_states(uint32_t *n, uint32_t by_state[4]);
void sum_stats(const struct cfg *c, struct vpc_stats *sum, struct port_counters *ports);

/* capture.c */
void capture_burst(struct worker *w, uint64_t word, uint16_t pid, uint32_t dir,
		   struct rte_mbuf **pkts, uint16_t n);
bool capture_active(void);
uint32_t capture_begin(const struct vpc_ctl_capture *req, FILE *out);
void capture_end(void);
/* Records for the stream into buf (room bytes): frames, then END when the
 * count is reached or the port is gone (*ended: the capture is over);
 * with status and no frame, a STATUS record.  Bytes written. */
size_t capture_pull(uint8_t *buf, size_t room, bool status, bool *ended);
void capture_free(void);
/* flowlogs.c: the flow-log writer thread (--flow-logs).  Interfaces
 * whose rejects are rate-limited (an index past it: its rejects are
 * lost, counted), records a ring holds, rotated files kept, the default
 * size of a file before it rotates. */
#define VPCD_FLOW_IFACES 65536u
#define VPCD_FLOW_RING 65536u
#define VPCD_FLOW_KEEP 5u
#define VPCD_FLOW_MAX_SIZE (100ull << 20)
int fl_start(const char *path, const char *account, uint64_t max_size, unsigned int keep);
void fl_stop(void);

/* telemetry.c */
void tel_register(void);

/* control.c */
uint64_t now_ns(void);
int ctl_listen(const char *path);
void *ctl_thread(void *arg);

#endif /* VPCD_H */
