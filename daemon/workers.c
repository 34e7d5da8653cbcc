/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * workers.c -- the forwarding lcores: receive a burst, run the pipeline, transmit
 * by port (shared tx queues under a per-port lock, once per burst; kernel
 * ports by kport.c), count; copy the frames of a captured port
 * (capture.c: one test per burst when nothing is captured);
 * report an RCU quiescent state once per loop; back off when idle (sleeps
 * growing to IDLE_SLEEP_MAX_US; --busy-poll: never).
 */
#include "vpcd.h"

/* Transmit what the verdicts send out, port by port; free the rest. */
void
worker_transmit(struct worker *w, const struct cfg *c, uint16_t in_port, struct rte_mbuf **pkts,
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
		uint16_t pid = UINT16_MAX;
		if (port < c->n_ports && c->ethdev[port] != PORT_UNREALISED) {
			pid = c->ethdev[port];
			/* vpcctl capture, tx: one test per port's burst */
			if (unlikely(w->cap != 0))
				capture_burst(w, w->cap, pid, VPC_CTL_CAP_TX, out, k);
			if (IS_KPORT(pid)) {
				done = kport_tx(pid, out, k);	/* all freed */
				w->ports[pid].tx += done;
				w->ports[pid].tx_failed += k - done;
				w->tx_failed += k - done;
				continue;
			}
			if (w->txq < vpcd.n_txq[pid]) {
				done = rte_eth_tx_burst(pid, w->txq, out, k);
			} else {
				uint16_t q = (uint16_t)(w->txq % vpcd.n_txq[pid]);
				rte_spinlock_lock(&vpcd.tx_lock[pid]);
				done = rte_eth_tx_burst(pid, q, out, k);
				rte_spinlock_unlock(&vpcd.tx_lock[pid]);
			}
			w->ports[pid].tx += done;
		}
		if (done < k) {
			/* Not taken (a guest down, its ring full; or a port the
			 * configuration no longer has): counted, then freed. */
			if (pid != UINT16_MAX)
				w->ports[pid].tx_failed += k - done;
			w->tx_failed += k - done;
			rte_pktmbuf_free_bulk(out + done, k - done);
		}
	}
}

int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pkts[VPC_BURST_MAX];
	struct vpc_verdict v[VPC_BURST_MAX];
	const uint64_t hz = vpcd.tsc_hz;

	uint32_t idle = 0, sleep_us = 0;	/* empty loops; the current back-off */

	rte_rcu_qsbr_thread_register(vpcd.rcu, w->lcore);
	rte_rcu_qsbr_thread_online(vpcd.rcu, w->lcore);
	while (!vpcd_quit) {
		uint32_t got = 0;
		/* A new configuration takes effect between bursts. */
		const struct cfg *c = __atomic_load_n(&vpcd.cfg, __ATOMIC_ACQUIRE);
		if (unlikely(c != w->cur)) {
			vpc_pipeline_set_tables(w->pl, c->tables);
			w->cur = c;
		}
		/* Acquire: a capture's rings and snaplen before its word. */
		w->cap = __atomic_load_n(&vpcd.cap_word, __ATOMIC_ACQUIRE);
		uint64_t tsc = rte_rdtsc();
		uint64_t now = tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
		for (uint16_t r = 0; r < c->n_rx[w->idx]; r++) {
			uint16_t port = c->rx[w->idx][r];
			uint16_t pid = c->ethdev[port];
			uint16_t n = IS_KPORT(pid) ? kport_rx(pid, pkts, VPC_BURST_MAX) :
						     rte_eth_rx_burst(pid, 0, pkts, VPC_BURST_MAX);
			if (n == 0)
				continue;
			got += n;
			/* vpcctl capture, rx: one test per burst (capture.c) */
			if (unlikely(w->cap != 0))
				capture_burst(w, w->cap, pid, VPC_CTL_CAP_RX, pkts, n);
			vpc_pipeline_process(w->pl, port, pkts, n, now, v);
			w->ports[pid].rx += n;
			for (uint16_t i = 0; i < n; i++)
				w->ports[pid].drops += v[i].action == VPC_ACT_DROP;
			worker_transmit(w, c, port, pkts, n, v);
		}
		/* The load balancers' health-check probes leave by worker 0. */
		if (unlikely(w->idx == 0) && unlikely(lb_probes_waiting()))
			lb_worker_send(w, c);
		/* Between bursts: no reference to a connection entry or to the
		 * configuration is held. */
		rte_rcu_qsbr_quiescent(vpcd.rcu, w->lcore);
		/* Idle: spin a while, then sleep, longer each time (a core sold
		 * to guests is not burnt on empty rings); offline meanwhile, so
		 * an apply's grace period does not wait for the sleep. */
		if (got != 0 || vpcd.busy_poll) {
			idle = sleep_us = 0;
		} else if (++idle > IDLE_SPINS) {
			sleep_us = sleep_us == 0 ? 1 : RTE_MIN(sleep_us * 2, IDLE_SLEEP_MAX_US);
			rte_rcu_qsbr_thread_offline(vpcd.rcu, w->lcore);
			rte_delay_us_sleep(sleep_us);
			rte_rcu_qsbr_thread_online(vpcd.rcu, w->lcore);
		}
	}
	rte_rcu_qsbr_thread_offline(vpcd.rcu, w->lcore);
	rte_rcu_qsbr_thread_unregister(vpcd.rcu, w->lcore);
	return 0;
}

/* Sums over the workers (read without locks: each counter is a 64-bit
 * value written by its lcore alone).  c is only read for per-port
 * counters: NULL is fine when ports is NULL. */
void
sum_stats(const struct cfg *c, struct vpc_stats *sum, struct port_counters *ports)
{
	memset(sum, 0, sizeof(*sum));
	/* What kernel ports could not use (kport.c): not a worker's. */
	for (uint32_t p = 0; c != NULL && p < c->n_ports; p++) {
		uint16_t id = c->ethdev[p];
		if (id == PORT_UNREALISED || !IS_KPORT(id))
			continue;
		uint64_t n = kport_rx_unusable(id);
		sum->drops[VPC_DROP_RX_UNUSABLE] += n;
		sum->packets += n;
		if (ports != NULL) {
			ports[p].rx += n;
			ports[p].drops += n;
		}
	}
	for (unsigned int i = 0; i < vpcd.n_workers; i++) {
		const struct vpc_stats *st = vpc_pipeline_stats(vpcd.workers[i].pl);
		sum->packets += st->packets;
		for (int r = 0; r < VPC_DROP_COUNT; r++)
			sum->drops[r] += st->drops[r];
		for (int p = 0; p < VPC_PATH_COUNT; p++)
			sum->paths[p] += st->paths[p];
		sum->drops[VPC_DROP_TX_FAILED] += vpcd.workers[i].tx_failed;
		for (uint32_t p = 0; ports != NULL && p < c->n_ports; p++) {
			if (c->ethdev[p] == PORT_UNREALISED)
				continue;
			const struct port_counters *pc = &vpcd.workers[i].ports[c->ethdev[p]];
			ports[p].rx += pc->rx;
			ports[p].tx += pc->tx;
			ports[p].drops += pc->drops;
			ports[p].tx_failed += pc->tx_failed;
		}
	}
}
