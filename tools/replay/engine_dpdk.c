/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_dpdk.c -- vpc-replay's DPDK engine: the pipeline in process,
 * with --no-huge, --no-shconf and no devices (the user needs no hugepages
 * and no EAL flags), one packet at a time, or in bursts for --bench.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mempool.h>

#include "conntrack.h"
#include "flowlog.h"
#include "tables.h"

struct dpdk_engine {
	struct vpc_pipeline *pl;
	struct vpc_ct *ct;
	struct rte_mempool *mp;
	const struct vpc_tables *t;	/* the current tables */
	struct vpc_tables *t0;		/* the topology's (the applies' are theirs) */
	uint32_t gen;
	struct vpc_flowlog *fl;		/* --flow-logs; NULL: off */
};

/* The replay drains the ring after every packet: it holds what one
 * packet emits (a deletion: four records), and bench's bursts. */
#define REPLAY_FLOW_RING 4096

static char eal_rundir[4096];	/* the EAL's runtime directory */

/* The runtime directory the EAL made (it makes one even with
 * --no-shconf, and leaves it): removed at exit, whichever way. */
static void
remove_rundir(void)
{
	DIR *dir = opendir(eal_rundir);
	if (dir != NULL) {
		struct dirent *de;
		while ((de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				unlinkat(dirfd(dir), de->d_name, 0);
		closedir(dir);
	}
	rmdir(eal_rundir);
}

/* Connection-table size: the flag, or from the topology (plus room for
 * the bench's idle connections). */
static uint32_t
ct_size(const struct opts *o, const struct vpc_image *img)
{
	if (o->max_conns)
		return (uint32_t)o->max_conns;
	return vpc_ct_default_size(img->n_ifaces) + (uint32_t)o->prefill;
}

static void
eal_init(const struct opts *o, const struct vpc_image *img, uint32_t n_mbufs, uint32_t room)
{
	char mem[32], prefix[64];
	uint64_t need = vpc_tables_memory(img) + (uint64_t)n_mbufs * (room + 512) +
			vpc_ct_memory(ct_size(o, img)) + (64u << 20);
	for (uint32_t i = 0; i < o->n_applies; i++)
		need += vpc_tables_memory(o->applies[i].img);
	snprintf(mem, sizeof(mem), "%" PRIu64, (need >> 20) + 1);
	/* No shared config and a per-process prefix: any number of replays
	 * may run at once, and none leaves files behind. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=vpc-replay-%d", (int)getpid());
	char *args[] = {
		"vpc-replay", "--no-huge", "-m", mem, "--no-pci", "--no-shconf",
		prefix, "--no-telemetry", "-l", "0", "--log-level=error", NULL,
	};
	int argc = (int)(sizeof(args) / sizeof(args[0])) - 1;
	if (rte_eal_init(argc, args) < 0)
		die("DPDK initialisation failed: %s", rte_strerror(rte_errno));
	snprintf(eal_rundir, sizeof(eal_rundir), "%s", rte_eal_get_runtime_dir());
	atexit(remove_rundir);
}

/* One packet through the pipeline, or its traced twin (tb not NULL), in
 * an mbuf of its own; buf receives the frame as it leaves. */
static void
run_one(struct dpdk_engine *e, int port, uint64_t now, uint8_t *buf, uint32_t *len,
	struct vpc_verdict *v, struct vpc_trace_buf *tb)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->mp);
	if (m == NULL)
		die("out of mbufs");
	uint8_t *dst = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)*len);
	if (dst == NULL && *len > 0)
		die("a packet of %u bytes does not fit an mbuf", *len);
	memcpy(dst, buf, *len);
	/* A port the tables no longer have: an index past them. */
	uint16_t in_port = port < 0 ? (uint16_t)e->t->n_ports : (uint16_t)port;
	m->port = in_port;
	if (tb == NULL) {
		vpc_pipeline_process(e->pl, in_port, &m, 1, now, v);
	} else {
		/* A pipeline of the trace's own (as vpcd's): the replay's
		 * round-robin turns, no fragment or sender remembered -- as
		 * the XDP engine's. */
		struct vpc_pipeline *pl = vpc_pipeline_create(e->t, e->ct);
		if (pl == NULL)
			die("pipeline: %s", strerror(errno));
		vpc_pipeline_copy_turns(pl, e->pl);
		vpc_pipeline_trace(pl, in_port, m, now, v, tb);
		vpc_pipeline_free(pl);
		if (v->action == VPC_ACT_REPLY)
			v->out_port = in_port;
	}
	*len = rte_pktmbuf_data_len(m);
	memcpy(buf, rte_pktmbuf_mtod(m, const uint8_t *), *len);
	rte_pktmbuf_free(m);
}

static void
dpdk_process(void *arg, const struct vpc_image *cur, int port, uint64_t now,
	     uint8_t *buf, uint32_t *len, struct vpc_verdict *v)
{
	(void)cur;
	run_one(arg, port, now, buf, len, v, NULL);
}

static void
dpdk_trace(void *arg, const struct vpc_image *cur, int port, uint64_t now, uint8_t *buf,
	   uint32_t *len, struct vpc_verdict *v, struct vpc_trace_buf *tb)
{
	(void)cur;
	run_one(arg, port, now, buf, len, v, tb);
}

static void
dpdk_apply(void *arg, struct apply *ap)
{
	struct dpdk_engine *e = arg;
	struct vpc_tables *t = ap->engine_tables;

	t->generation = ++e->gen;
	t->revalidate = ap->revalidate;
	if (vpc_pipeline_set_tables(e->pl, t) < 0)
		die("out of memory");
	e->t = t;
}

static void
dpdk_account(void *arg, const struct vpc_image *cur, uint32_t n, bool json)
{
	struct dpdk_engine *e = arg;

	print_account(cur, vpc_pipeline_stats(e->pl), vpc_ct_stats(e->ct), vpc_ct_count(e->ct),
		      n, json);
}

/* Idle connections in a context no packet uses (VNI 0xffffff). */
static void
prefill(struct vpc_ct *ct, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct vpc_ct_key f = {
			.ctx_proto = 0xffffff00u | 253,
			.src = rte_cpu_to_be_32((uint32_t)i),
			.dst = rte_cpu_to_be_32((uint32_t)(i >> 32) + 1),
		};
		struct vpc_ct_key r = f;
		r.src = f.dst;
		r.dst = f.src;
		struct vpc_ct_entry init = { .trk.state = VPC_CT_OTHER, .expires = UINT64_MAX };
		if (vpc_ct_create_conn(ct, &f, &r, 0, &init) < 0)
			die("--prefill: the connection table is full after %" PRIu64
			    " connections (raise --max-connections)", i);
	}
}

static int
bench(const struct opts *o, struct vpc_pipeline *pl, struct vpc_ct *ct,
      struct packet *pkts, uint32_t n, struct rte_mempool *mp, struct vpc_flowlog *fl)
{
	struct vpc_flow_rec recs[64];
	struct rte_mbuf **mb = calloc(n, sizeof(*mb));
	struct vpc_verdict v[VPC_BURST_MAX];

	if (mb == NULL || rte_pktmbuf_alloc_bulk(mp, mb, n) < 0)
		die("out of mbufs for %u packets", n);
	for (uint32_t i = 0; i < n; i++)
		if (rte_pktmbuf_append(mb[i], (uint16_t)pkts[i].len) == NULL && pkts[i].len)
			die("packet %u does not fit an mbuf", i);

	uint64_t hz = rte_get_tsc_hz(), cycles = 0, loops = o->loops, done = 0;
	if (o->prefill)
		prefill(ct, o->prefill);
	for (uint64_t loop = 0; loop < loops || loops == 0; loop++) {
		/* Untimed: every flow's first packet opens a new connection. */
		if (o->bench_new) {
			vpc_ct_flush(ct);
			if (o->prefill)
				prefill(ct, o->prefill);
		}
		/* Untimed: fresh packets, as a NIC would deliver them (the
		 * last loop may have moved their start: the overlay's header
		 * put in front, or taken off). */
		for (uint32_t i = 0; i < n; i++) {
			rte_pktmbuf_reset(mb[i]);
			memcpy(rte_pktmbuf_append(mb[i], (uint16_t)pkts[i].len), pkts[i].data,
			       pkts[i].len);
			mb[i]->port = pkts[i].port;
		}
		for (uint32_t i = 0; i < n;) {
			uint16_t k = 1;
			while (i + k < n && k < VPC_BURST_MAX && pkts[i + k].port == pkts[i].port)
				k++;
			uint64_t t0 = rte_rdtsc_precise();
			vpc_pipeline_process(pl, pkts[i].port, &mb[i], k, pkts[i].ts_ns, v);
			cycles += rte_rdtsc_precise() - t0;
			i += k;
			/* Untimed, as vpcd's writer thread would: the records. */
			while (fl != NULL && vpc_flowlog_drain(fl, rte_lcore_id(), recs, 64) > 0)
				;
		}
		done++;
		if (loops == 0 && cycles > 0) {
			/* Calibrated by the first loop: about two seconds in all. */
			loops = (2 * hz + cycles - 1) / cycles;
			if (loops < 1)
				loops = 1;
		}
	}
	uint64_t packets = done * n;
	double secs = (double)cycles / (double)hz;
	double mpps = packets / secs / 1e6;
	double ns = secs * 1e9 / (double)packets;
	double cpp = (double)cycles / (double)packets;
	if (o->json)
		printf("{\"engine\":\"%s\",\"connections\":%u,\"packets\":%" PRIu64 ",\"loops\":%" PRIu64
		       ",\"seconds\":%.6f,\"mpps\":%.3f,\"ns_per_packet\":%.2f,"
		       "\"cycles_per_packet\":%.1f,\"tsc_hz\":%" PRIu64 "}\n",
		       o->engine, vpc_ct_count(ct), packets, done, secs, mpps, ns, cpp, hz);
	else
		printf("engine:        %s\nconnections:   %u at the end\npackets:       %" PRIu64 " (%u x %" PRIu64 " loops)\n"
		       "seconds:       %.6f\nMpps:          %.3f\nns/packet:     %.2f\n"
		       "cycles/packet: %.1f (TSC %.3f GHz)\n",
		       o->engine, vpc_ct_count(ct), packets, n, done, secs, mpps, ns, cpp, hz / 1e9);
	rte_pktmbuf_free_bulk(mb, n);
	free(mb);
	return 0;
}

/* The EAL in process (no hugepages, no devices), an mbuf pool, the tables
 * of the topology and of each apply, the connection table, a pipeline. */
static void *
dpdk_open(struct opts *o, const struct vpc_image *img, uint32_t n, uint32_t max_len)
{
	char err[256];

	uint32_t room = o->bench ? max_len + RTE_PKTMBUF_HEADROOM : REPLAY_MBUF_ROOM;
	if (room > REPLAY_MBUF_ROOM)
		room = REPLAY_MBUF_ROOM;
	uint32_t n_mbufs = o->bench ? n + 64 : 64;
	if (room < RTE_MBUF_DEFAULT_BUF_SIZE)
		room = RTE_MBUF_DEFAULT_BUF_SIZE;
	eal_init(o, img, n_mbufs, room);
	struct rte_mempool *mp = rte_pktmbuf_pool_create("replay", n_mbufs, 0, 0,
							 (uint16_t)room, SOCKET_ID_ANY);
	if (mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));
	struct vpc_tables *t = vpc_tables_create(img, SOCKET_ID_ANY, err, sizeof(err));
	if (t == NULL)
		die("tables: %s", err);
	for (uint32_t i = 0; i < o->n_applies; i++) {
		o->applies[i].engine_tables = vpc_tables_create(o->applies[i].img, SOCKET_ID_ANY, err, sizeof(err));
		if (o->applies[i].engine_tables == NULL)
			die("%s: tables: %s", o->applies[i].path, err);
	}
	struct vpc_ct *ct = vpc_ct_create("replay", ct_size(o, img), SOCKET_ID_ANY);
	if (ct == NULL)
		die("connection table of %u entries: %s", ct_size(o, img), strerror(errno));
	struct vpc_pipeline *pl = vpc_pipeline_create(t, ct);
	if (pl == NULL)
		die("pipeline: %s", strerror(errno));
	struct vpc_flowlog *fl = NULL;
	if (o->flow_logs != NULL) {
		uint32_t n_ifaces = img->n_ifaces;
		for (uint32_t i = 0; i < o->n_applies; i++)
			if (o->applies[i].img->n_ifaces > n_ifaces)
				n_ifaces = o->applies[i].img->n_ifaces;
		fl = vpc_flowlog_create(o->flow_interval, n_ifaces);
		int rc = fl == NULL ? -errno : vpc_flowlog_attach(fl, rte_lcore_id(), REPLAY_FLOW_RING);
		if (rc < 0)
			die("flow logs: %s", strerror(-rc));
		vpc_pipeline_set_flowlog(pl, fl);
		vpc_ct_set_flowlog(ct, fl);
	}

	struct dpdk_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		die("out of memory");
	*e = (struct dpdk_engine){ .pl = pl, .ct = ct, .mp = mp, .t = t, .t0 = t, .gen = t->generation,
				   .fl = fl };
	return e;
}

static int
dpdk_bench(void *arg, const struct opts *o, const struct vpc_image *img, struct packet *pkts,
	   uint32_t n)
{
	struct dpdk_engine *e = arg;

	(void)img;
	return bench(o, e->pl, e->ct, pkts, n, e->mp, e->fl);
}

static void
dpdk_close(void *arg, struct opts *o)
{
	struct dpdk_engine *e = arg;

	vpc_pipeline_free(e->pl);
	vpc_ct_set_flowlog(e->ct, NULL);
	vpc_ct_free(e->ct);
	vpc_flowlog_free(e->fl);
	for (uint32_t i = 0; i < o->n_applies; i++)
		vpc_tables_free(o->applies[i].engine_tables);
	vpc_tables_free(e->t0);
	rte_mempool_free(e->mp);
	free(e);
	rte_eal_cleanup();
}

static void
dpdk_lb_answer(void *arg, uint32_t k, struct vpc_lb_answer *out)
{
	struct dpdk_engine *e = arg;

	*out = k < e->t->n_targets ? e->t->lb_answers[k] : (struct vpc_lb_answer){ 0 };
}

static void
dpdk_lb_healthy(void *arg, uint32_t g, uint64_t mask)
{
	struct dpdk_engine *e = arg;

	if (g < e->t->n_tgroups)
		e->t->lb_healthy[g] = mask;
}

/* End the connections a balancer opened to (vpc, ip, port). */
static void
dpdk_lb_drain(void *arg, uint32_t vpc, uint32_t ip, uint16_t port)
{
	struct dpdk_engine *e = arg;
	uint32_t pos = 0;
	int64_t i;

	while ((i = vpc_ct_next(e->ct, &pos)) >= 0) {
		const struct vpc_ct_entry *x = vpc_ct_entry(e->ct, (uint32_t)i);
		if (x->act[0].path == VPC_PATH_LB && x->act[0].vpc == vpc &&
		    x->act[0].nat_addr == ip && x->act[0].nat_port == port)
			vpc_ct_delete(e->ct, (uint32_t)i);
	}
}

static void
dpdk_flow_drain(void *arg, void (*sink)(void *arg, const struct vpc_flow_rec *r), void *sarg)
{
	struct dpdk_engine *e = arg;
	struct vpc_flow_rec recs[64];
	unsigned int k;

	while ((k = vpc_flowlog_drain(e->fl, rte_lcore_id(), recs, 64)) > 0)
		for (unsigned int j = 0; j < k; j++)
			sink(sarg, &recs[j]);
}

/* The end of the capture: every live connection's counters, then what
 * each interface lost, draining as it goes (a table's worth of records
 * does not fit the ring). */
static void
dpdk_flow_flush(void *arg, void (*sink)(void *arg, const struct vpc_flow_rec *r), void *sarg)
{
	struct dpdk_engine *e = arg;
	uint32_t pos = 0;
	int64_t i;

	while ((i = vpc_ct_next(e->ct, &pos)) >= 0) {
		struct vpc_ct_entry *x = vpc_ct_entry(e->ct, (uint32_t)i);
		for (unsigned int d = 0; d < 2; d++) {
			vpc_flowlog_conn(e->fl, x, d);
			x->flow[d].packets = 0;
		}
		dpdk_flow_drain(e, sink, sarg);
	}
	vpc_flowlog_flush(e->fl, NULL);
	dpdk_flow_drain(e, sink, sarg);
}

static const struct replay_engine dpdk_engine = {
	.name = "dpdk", .open = dpdk_open, .process = dpdk_process, .apply = dpdk_apply,
	.trace = dpdk_trace,
	.account = dpdk_account, .bench = dpdk_bench, .close = dpdk_close,
	.lb_answer = dpdk_lb_answer, .lb_healthy = dpdk_lb_healthy, .lb_drain = dpdk_lb_drain,
	.flow_drain = dpdk_flow_drain, .flow_flush = dpdk_flow_flush,
};

static void __attribute__((constructor))
dpdk_register(void)
{
	replay_engine_register(&dpdk_engine);
}
