/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lb.c -- the load balancers' health checks in the daemon: the checker
 * (lib/lb_health.c) run by the control thread on the daemon's clock, its
 * probes handed to worker 0 through a ring (workers own the tx queues),
 * the answers and the healthy masks in the published tables, and the
 * `vpcctl lb` answer.
 *
 * Concurrency: the control thread alone owns the checker (it also
 * publishes configurations: lb_retable runs there); the pipeline stores
 * answers into the published tables and loads the masks the checker
 * stores (vpc_lb.h: one writer per word); worker 0 alone dequeues the
 * ring, the control thread alone enqueues.
 */
#include "vpcd.h"

#include <rte_ring.h>

#include "vpc_lb_health.h"
#include "vpc_names.h"

static struct vpc_lb_hc *hc;		/* the current configuration's */
static const struct vpc_image *hc_img;	/* its image */
static struct rte_ring *probes;		/* mbufs for worker 0 to send */
static uint64_t probes_lost;		/* no mbuf, or the ring full */

int
lb_init(void)
{
	probes = rte_ring_create("vpcd_lb_probes", 1024, SOCKET_ID_ANY,
				 RING_F_SP_ENQ | RING_F_SC_DEQ);
	return probes == NULL ? -rte_errno : 0;
}

static void
io_answer(void *arg, uint32_t k, struct vpc_lb_answer *out)
{
	const struct vpc_tables *t = arg;
	*out = k < t->n_targets ? t->lb_answers[k] : (struct vpc_lb_answer){ 0 };
}

static void
io_healthy(void *arg, uint32_t g, uint64_t mask)
{
	const struct vpc_tables *t = arg;
	if (g < t->n_tgroups)
		__atomic_store_n(&t->lb_healthy[g], mask, __ATOMIC_RELAXED);
}

static void
io_send(void *arg, uint32_t iface, const uint8_t *frame, uint32_t len, uint64_t now)
{
	const struct vpc_tables *t = arg;
	(void)now;
	struct rte_mbuf *m = rte_pktmbuf_alloc(vpcd.mp);
	uint8_t *d = m != NULL ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len) : NULL;
	if (d == NULL) {
		rte_pktmbuf_free(m);
		probes_lost++;
		return;
	}
	memcpy(d, frame, len);
	m->port = (uint16_t)t->ifaces[iface].port;	/* the topology port it leaves by */
	if (rte_ring_enqueue(probes, m) != 0) {
		rte_pktmbuf_free(m);
		probes_lost++;
	}
}

/* End the connections a balancer opened to (vpc, ip, port). */
static void
io_drain(void *arg, uint32_t vpc, uint32_t ip, uint16_t port)
{
	uint32_t pos = 0;
	int64_t i;

	(void)arg;
	while ((i = vpc_ct_next(vpcd.ct, &pos)) >= 0) {
		const struct vpc_ct_entry *e = vpc_ct_entry(vpcd.ct, (uint32_t)i);
		if (e->act[0].path == VPC_PATH_LB && e->act[0].vpc == vpc &&
		    e->act[0].nat_addr == ip && e->act[0].nat_port == port)
			vpc_ct_delete(vpcd.ct, (uint32_t)i);
	}
}

static struct vpc_lb_hc_io
io_of(const struct cfg *c)
{
	return (struct vpc_lb_hc_io){ .arg = c->tables, .answer = io_answer, .healthy = io_healthy,
				      .send = io_send, .drain = io_drain };
}

void
lb_retable(struct cfg *c)
{
	if (c->img->n_targets == 0 && hc == NULL)
		return;
	struct vpc_lb_hc *h = vpc_lb_hc_create(c->img, hc);
	if (h == NULL) {
		fprintf(stderr, "vpcd: load balancers: out of memory; health checks stopped\n");
		return;
	}
	vpc_lb_hc_free(hc);
	hc = h;
	hc_img = c->img;
	/* The new tables start from the states carried over. */
	for (uint32_t g = 0; g < c->tables->n_tgroups; g++)
		c->tables->lb_healthy[g] = vpc_lb_hc_mask(hc, g);
}

void
lb_tick(uint64_t now)
{
	const struct cfg *c = vpcd.cfg;	/* the control thread alone swaps it */

	if (hc == NULL || c->img != hc_img)
		return;
	struct vpc_lb_hc_io io = io_of(c);
	/* Every tick: answers as they come, probes and timeouts when due. */
	vpc_lb_hc_tick(hc, now, &io);
}

void
lb_worker_send(struct worker *w, const struct cfg *c)
{
	struct rte_mbuf *pkts[VPC_BURST_MAX];
	struct vpc_verdict v[VPC_BURST_MAX];

	unsigned int n = rte_ring_dequeue_burst(probes, (void **)pkts, VPC_BURST_MAX, NULL);
	for (unsigned int i = 0; i < n; i++)
		v[i] = (struct vpc_verdict){ .action = VPC_ACT_FORWARD, .out_port = pkts[i]->port,
					     .path = VPC_PATH_LB_HEALTH };
	if (n > 0)
		worker_transmit(w, c, UINT16_MAX, pkts, (uint16_t)n, v);
}

bool
lb_probes_waiting(void)
{
	return probes != NULL && !rte_ring_empty(probes);
}

void
lb_count_states(uint32_t *n, uint32_t by_state[4])
{
	const struct vpc_image *img = vpcd.cfg->img;

	*n = 0;
	memset(by_state, 0, 4 * sizeof(*by_state));
	for (uint32_t k = 0; k < img->n_targets; k++) {
		struct vpc_lb_target_status s = { 0 };
		if (hc != NULL && hc_img == img)
			vpc_lb_hc_status(hc, k, &s);
		by_state[s.state & 3]++;
		(*n)++;
	}
}

void
ctl_lb(FILE *out, bool json)
{
	const struct vpc_image *img = vpcd.cfg->img;

	/* The checker of another image (not retabled yet): every target as
	 * it starts. */
	vpc_lb_hc_report(out, img, hc != NULL && hc_img == img ? hc : NULL, probes_lost, json);
}
