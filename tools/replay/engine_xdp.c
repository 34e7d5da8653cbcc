/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_xdp.c -- vpc-replay's XDP engine: the BPF program loaded with
 * maps filled from the topology, each packet run by BPF_PROG_TEST_RUN with
 * the port and the clock handed in its global data.  Built only where the
 * XDP engine is (meson).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"

#include "conntrack.h"
#include "vpc_names.h"
#include "vpc_trace.h"
#include "vpc_xdp.h"

struct xdp_engine {
	struct vpc_xdp *x;
	struct vpc_xdp *tx;	/* --trace: a traced copy on x's maps */
	int lb_answers, lb_healthy;	/* the active set's (after each publish) */
	struct vpc_xdp_port_table *ports;	/* slot -> name, after each publish */
	uint64_t short_frames;	/* shorter than the kernel will test-run */
	bool flow_logs;
	/* Flow-log records of connections user space deleted (a balancer's
	 * drain), handed over by the next drain. */
	struct vpc_flow_rec *pending;
	size_t n_pending, cap_pending;
};

static void
keep_pending(void *arg, const struct vpc_flow_rec *r)
{
	struct xdp_engine *e = arg;

	if (e->n_pending == e->cap_pending) {
		e->cap_pending = e->cap_pending ? 2 * e->cap_pending : 64;
		e->pending = realloc(e->pending, e->cap_pending * sizeof(*e->pending));
		if (e->pending == NULL)
			die("out of memory");
	}
	e->pending[e->n_pending++] = *r;
}

struct drain_match {
	struct xdp_engine *e;
	uint32_t vpc, ip;
	uint16_t port;
};

/* vpc_xdp_lb_drain's choice: connections a balancer opened to (vpc, ip,
 * port); their counters before they go (the program would write them on
 * its own deletions). */
static void
drain_one(const struct vpc_ct_key *k, const struct vpc_xdp_ct *v, void *arg)
{
	struct drain_match *dm = arg;

	(void)k;
	if (v->act[0].path == VPC_PATH_LB && v->act[0].vpc == dm->vpc &&
	    v->act[0].nat_addr == dm->ip && v->act[0].nat_port == dm->port)
		vpc_xdp_flow_conn(dm->e->x, v, keep_pending, dm->e);
}

/* The kernel test-runs nothing shorter than an Ethernet header (no device
 * delivers such a frame either): replay drops those itself, with the
 * reason the program gives a short frame. */
#define XDP_MIN_FRAME 14

static void
xdp_publish(struct xdp_engine *e, const struct vpc_image *img, bool revalidate, const char *what)
{
	static struct vpc_xdp_published pub;
	char err[256];

	if (vpc_xdp_publish(vpc_xdp_fds(e->x), img, revalidate, NULL, &pub, err, sizeof(err)) < 0)
		die("%s: %s", what, err);
	if (vpc_xdp_port_table(vpc_xdp_fds(e->x), e->ports) < 0)
		die("%s: reading the port slots failed", what);
	if (e->lb_answers >= 0)
		close(e->lb_answers);
	if (e->lb_healthy >= 0)
		close(e->lb_healthy);
	if (vpc_xdp_lb_maps(vpc_xdp_fds(e->x), &e->lb_answers, &e->lb_healthy) < 0)
		die("%s: the load balancers' maps: %s", what, strerror(errno));
}

static void
xdp_lb_answer(void *arg, uint32_t k, struct vpc_lb_answer *out)
{
	struct xdp_engine *e = arg;

	vpc_xdp_lb_answer(e->lb_answers, k, out);
}

static void
xdp_lb_healthy(void *arg, uint32_t g, uint64_t mask)
{
	struct xdp_engine *e = arg;

	vpc_xdp_lb_set_healthy(e->lb_healthy, g, mask);
}

static void
xdp_lb_drain(void *arg, uint32_t vpc, uint32_t ip, uint16_t port)
{
	struct xdp_engine *e = arg;

	if (e->flow_logs) {
		struct drain_match dm = { .e = e, .vpc = vpc, .ip = ip, .port = port };
		vpc_xdp_ct_each(vpc_xdp_fds(e->x), drain_one, &dm);
	}
	vpc_xdp_lb_drain(vpc_xdp_fds(e->x), vpc, ip, port);
}

/* One packet through the program (tb NULL) or its traced copy. */
static void
run_one(struct xdp_engine *e, const struct vpc_image *cur, int port, uint64_t now,
	uint8_t *buf, uint32_t *len, struct vpc_verdict *v, struct vpc_trace_buf *tb)
{
	const struct vpc_xdp_fds *f = vpc_xdp_fds(e->x);
	struct vpc_xdp_verdict xv;

	memset(v, 0, sizeof(*v));
	if (*len < XDP_MIN_FRAME) {
		v->action = VPC_ACT_DROP;
		v->reason = VPC_DROP_FRAME_TRUNCATED;
		e->short_frames++;
		return;
	}
	/* A port the tables no longer have: a slot they do not name. */
	int slot = port < 0 ? -1 : vpc_xdp_slot(f, cur->ports[port].name);
	uint32_t s = slot < 0 ? VPC_XDP_MAX_PORTS - 1 : (uint32_t)slot;
	int r = tb == NULL ? vpc_xdp_run(e->x, s, now, buf, *len, REPLAY_MAX_FRAME, len, &xv) :
			     vpc_xdp_trace(e->tx, s, now, buf, *len, REPLAY_MAX_FRAME, len, &xv, tb);
	if (r < 0)
		die("BPF_PROG_TEST_RUN: %s", strerror(-r));
	v->action = xv.action;
	v->path = xv.path;
	v->reason = xv.reason;
	v->out_port = UINT16_MAX;
	if (xv.action != VPC_ACT_DROP) {
		int p = xv.out_slot < VPC_XDP_MAX_PORTS ? port_by_name(cur, e->ports->name[xv.out_slot]) : -1;
		if (p < 0)
			die("the XDP program sent a packet to slot %u, which is no port", xv.out_slot);
		v->out_port = (uint16_t)p;
	}
}

static void
xdp_process(void *arg, const struct vpc_image *cur, int port, uint64_t now,
	    uint8_t *buf, uint32_t *len, struct vpc_verdict *v)
{
	run_one(arg, cur, port, now, buf, len, v, NULL);
}

static void
xdp_trace(void *arg, const struct vpc_image *cur, int port, uint64_t now, uint8_t *buf,
	  uint32_t *len, struct vpc_verdict *v, struct vpc_trace_buf *tb)
{
	struct xdp_engine *e = arg;
	char err[256];

	if (e->tx == NULL && (e->tx = vpc_xdp_load_trace(vpc_xdp_fds(e->x), err, sizeof(err))) == NULL)
		die("the traced program: %s", err);
	memset(tb, 0, sizeof(*tb));
	if (*len < XDP_MIN_FRAME) {
		/* not run (xdp_process): the reason as the program would say */
		run_one(e, cur, port, now, buf, len, v, NULL);
		return;
	}
	run_one(e, cur, port, now, buf, len, v, tb);
}

static void
xdp_apply(void *arg, struct apply *ap)
{
	struct xdp_engine *e = arg;

	xdp_publish(e, ap->img, ap->revalidate, ap->path);
}

static void
xdp_account(void *arg, const struct vpc_image *cur, uint32_t n, bool json)
{
	struct xdp_engine *e = arg;
	const struct vpc_xdp_fds *f = vpc_xdp_fds(e->x);
	static struct vpc_xdp_port_stats ps[VPC_XDP_MAX_PORTS];
	struct vpc_xdp_stats xs;
	struct vpc_stats st = { 0 };
	struct vpc_ct_stats cs = { 0 };

	if (vpc_xdp_read_stats(f, &xs, ps) < 0)
		die("reading the XDP counters failed");
	st.packets = xs.packets + e->short_frames;
	for (int r = 0; r < VPC_DROP_COUNT; r++)
		st.drops[r] = xs.drops[r];
	st.drops[VPC_DROP_FRAME_TRUNCATED] += e->short_frames;
	for (int p = 0; p < VPC_PATH_COUNT; p++)
		st.paths[p] = xs.paths[p];
	st.n_ports = cur->n_ports;
	st.ports = calloc(cur->n_ports + 1, sizeof(*st.ports));
	if (st.ports == NULL)
		die("out of memory");
	for (uint32_t p = 0; p < cur->n_ports; p++) {
		int slot = vpc_xdp_slot(f, cur->ports[p].name);
		if (slot < 0)
			continue;
		st.ports[p] = (struct vpc_port_stats){
			ps[slot].rx_packets, ps[slot].rx_bytes, ps[slot].tx_packets,
			ps[slot].tx_bytes, ps[slot].drops,
		};
	}
	cs.created = xs.ct_created;
	cs.expired = xs.ct_expired;
	cs.refused_full = xs.ct_refused_full;
	print_account(cur, &st, &cs, vpc_xdp_ct_count(f), n, json);
	free(st.ports);
}

/*
 * Bench: every packet, loop after loop, run once per BPF_PROG_TEST_RUN
 * call (a repeated run would see its own rewrites); the kernel times each
 * run.  The first loop, untimed, opens the connections.  The same runs of
 * an empty XDP program give the measurement's own cost, reported beside.
 */
static int
xdp_bench(void *arg, const struct opts *o, const struct vpc_image *img,
	  struct packet *pkts, uint32_t n)
{
	struct xdp_engine *e = arg;
	const struct vpc_xdp_fds *f = vpc_xdp_fds(e->x);
	uint8_t *buf = malloc(REPLAY_MBUF_ROOM);
	uint32_t *slots = calloc(n + 1, sizeof(uint32_t));
	struct vpc_verdict v;
	double ns, total = 0, base = 0, wall0 = (double)vpc_xdp_now();
	uint64_t packets = 0, loops = o->loops, done = 0;

	if (buf == NULL || slots == NULL)
		die("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = pkts[i].len;
		memcpy(buf, pkts[i].data, len);
		if (!o->bench_new)
			xdp_process(e, img, pkts[i].port, pkts[i].ts_ns, buf, &len, &v);
		int s = vpc_xdp_slot(f, img->ports[pkts[i].port].name);
		slots[i] = s < 0 ? 0 : (uint32_t)s;
	}
	for (uint64_t loop = 0; loop < loops || loops == 0; loop++) {
		if (o->bench_new)	/* untimed: every flow opens anew */
			vpc_xdp_ct_flush(f);
		for (uint32_t i = 0; i < n; i++) {
			if (pkts[i].len < XDP_MIN_FRAME)
				continue;
			if (vpc_xdp_bench(e->x, slots[i], pkts[i].ts_ns, pkts[i].data, pkts[i].len,
					  false, &ns) < 0)
				die("BPF_PROG_TEST_RUN: %s", strerror(errno));
			total += ns;
			if (vpc_xdp_bench(e->x, slots[i], pkts[i].ts_ns, pkts[i].data, pkts[i].len,
					  true, &ns) < 0)
				die("BPF_PROG_TEST_RUN: %s", strerror(errno));
			base += ns;
			packets++;
		}
		done++;
		/* About two seconds of wall time in all, calls included. */
		if (loops == 0 && (double)vpc_xdp_now() - wall0 > 2e9)
			break;
	}
	double secs = total / 1e9;
	double per = packets ? total / (double)packets : 0;
	double per_base = packets ? base / (double)packets : 0;
	double mpps = secs > 0 ? (double)packets / secs / 1e6 : 0;
	if (o->json)
		printf("{\"engine\":\"xdp\",\"connections\":%u,\"packets\":%" PRIu64 ",\"loops\":%" PRIu64
		       ",\"seconds\":%.6f,\"mpps\":%.3f,\"ns_per_packet\":%.2f,"
		       "\"baseline_ns_per_packet\":%.2f,\"cycles_per_packet\":null}\n",
		       vpc_xdp_ct_count(f), packets, done, secs, mpps, per, per_base);
	else
		printf("engine:        xdp (BPF_PROG_TEST_RUN, the kernel timing each run)\n"
		       "connections:   %u at the end\npackets:       %" PRIu64 " (%u x %" PRIu64 " loops)\n"
		       "seconds:       %.6f (the runs alone)\nMpps:          %.3f\n"
		       "ns/packet:     %.2f\nbaseline:      %.2f ns/packet for an empty XDP program, "
		       "timed the same way\ncycles/packet: n/a (the kernel reports time only)\n",
		       vpc_xdp_ct_count(f), packets, n, done, secs, mpps, per, per_base);
	free(slots);
	free(buf);
	return 0;
}

static void
xdp_flow_drain(void *arg, void (*sink)(void *arg, const struct vpc_flow_rec *r), void *sarg)
{
	struct xdp_engine *e = arg;

	for (size_t i = 0; i < e->n_pending; i++)
		sink(sarg, &e->pending[i]);
	e->n_pending = 0;
	if (vpc_xdp_flow_drain(e->x, sink, sarg) < 0)
		die("flow logs: the ring buffer: %s", strerror(errno));
}

static void
xdp_flow_flush(void *arg, void (*sink)(void *arg, const struct vpc_flow_rec *r), void *sarg)
{
	struct xdp_engine *e = arg;

	xdp_flow_drain(e, sink, sarg);
	vpc_xdp_flow_flush(e->x, sink, sarg);
}

/* The program loaded with maps filled from the topology (root). */
static void *
xdp_open(struct opts *o, const struct vpc_image *img, uint32_t n, uint32_t max_len)
{
	char err[256];
	struct xdp_engine *e = calloc(1, sizeof(*e));
	uint32_t conns = o->max_conns ? (uint32_t)o->max_conns :
			 vpc_ct_default_size(img->n_ifaces) + (uint32_t)o->prefill;

	(void)n;
	(void)max_len;
	if (o->prefill)
		die("--prefill: not available with --engine xdp");
	if (e == NULL)
		die("out of memory");
	e->lb_answers = e->lb_healthy = -1;
	e->x = vpc_xdp_load(true, conns, err, sizeof(err));
	e->ports = malloc(sizeof(*e->ports));
	if (e->x == NULL)
		die("%s", err);
	if (e->ports == NULL)
		die("out of memory");
	xdp_publish(e, img, false, o->config);
	if (o->flow_logs != NULL) {
		vpc_xdp_flow_set_interval(e->x, o->flow_interval);
		e->flow_logs = true;
	}
	return e;
}

static void
xdp_close(void *arg, struct opts *o)
{
	struct xdp_engine *e = arg;

	(void)o;
	if (e->lb_answers >= 0)
		close(e->lb_answers);
	if (e->lb_healthy >= 0)
		close(e->lb_healthy);
	vpc_xdp_free(e->tx);
	vpc_xdp_free(e->x);
	free(e->pending);
	free(e->ports);
	free(e);
}

static const struct replay_engine xdp_engine = {
	.name = "xdp", .open = xdp_open, .process = xdp_process, .apply = xdp_apply,
	.account = xdp_account, .bench = xdp_bench, .close = xdp_close,
	.lb_answer = xdp_lb_answer, .lb_healthy = xdp_lb_healthy, .lb_drain = xdp_lb_drain,
	.trace = xdp_trace,
	.flow_drain = xdp_flow_drain, .flow_flush = xdp_flow_flush,
};

static void __attribute__((constructor))
xdp_register(void)
{
	replay_engine_register(&xdp_engine);
}
