/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowlog.c -- per-lcore rings of flow-log records (flowlog.h).
 */
#include "flowlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "conntrack.h"

/* The rate limit of one interface's rejected packets, and what it lost. */
struct fl_limit {
	uint32_t second;	/* the second n counts */
	uint32_t n;		/* REJECT records in it */
	uint32_t skipped;	/* records lost since the last SKIPDATA */
	uint32_t skip_first;	/* s: the first and last lost */
	uint32_t skip_last;
};

struct fl_lcore {
	struct rte_ring *ring;	/* NULL: not attached */
	struct fl_limit *lim;	/* [n_ifaces] */
} __rte_cache_aligned;

struct vpc_flowlog {
	uint32_t interval;
	uint32_t n_ifaces;
	uint64_t lost;		/* atomic: emitters with no slot */
	uint32_t scan_pos;	/* vpc_flowlog_scan's cursor */
	struct fl_lcore lc[RTE_MAX_LCORE + 1];	/* [VPC_FLOWLOG_NON_EAL]: a non-EAL thread */
};

struct vpc_flowlog *
vpc_flowlog_create(uint32_t interval_s, uint32_t n_ifaces)
{
	if (interval_s == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct vpc_flowlog *fl = calloc(1, sizeof(*fl));
	if (fl == NULL)
		return NULL;
	fl->interval = interval_s;
	fl->n_ifaces = n_ifaces;
	return fl;
}

void
vpc_flowlog_free(struct vpc_flowlog *fl)
{
	if (fl == NULL)
		return;
	for (unsigned int l = 0; l <= RTE_MAX_LCORE; l++) {
		rte_ring_free(fl->lc[l].ring);
		free(fl->lc[l].lim);
	}
	free(fl);
}

int
vpc_flowlog_attach(struct vpc_flowlog *fl, unsigned int lcore, uint32_t ring_size)
{
	char name[RTE_RING_NAMESIZE];

	if (lcore > VPC_FLOWLOG_NON_EAL || fl->lc[lcore].ring != NULL)
		return -EINVAL;
	struct fl_limit *lim = calloc(fl->n_ifaces + 1, sizeof(*lim));
	if (lim == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "fl%" PRIxPTR "_%u", (uintptr_t)fl & 0xffffff, lcore);
	struct rte_ring *r = rte_ring_create_elem(name, sizeof(struct vpc_flow_rec), ring_size,
						  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL) {
		free(lim);
		return -rte_errno;
	}
	fl->lc[lcore].lim = lim;
	fl->lc[lcore].ring = r;
	return 0;
}

uint32_t
vpc_flowlog_interval(const struct vpc_flowlog *fl)
{
	return fl->interval;
}

static struct fl_lcore *
my_slot(struct vpc_flowlog *fl)
{
	unsigned int l = rte_lcore_id();

	if (l == LCORE_ID_ANY)
		l = VPC_FLOWLOG_NON_EAL;
	if (l > VPC_FLOWLOG_NON_EAL || fl->lc[l].ring == NULL)
		return NULL;
	return &fl->lc[l];
}

static void
lose(struct vpc_flowlog *fl, struct fl_lcore *lc, const struct vpc_flow_rec *r)
{
	if (lc == NULL || r->iface >= fl->n_ifaces) {
		__atomic_fetch_add(&fl->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	struct fl_limit *lim = &lc->lim[r->iface];
	if (lim->skipped == 0)
		lim->skip_first = r->start;
	lim->skipped++;
	if (r->end > lim->skip_last)
		lim->skip_last = r->end;
}

static void
put(struct vpc_flowlog *fl, struct fl_lcore *lc, struct vpc_flow_rec *r)
{
	if (lc == NULL || rte_ring_sp_enqueue_elem(lc->ring, r, sizeof(*r)) != 0)
		lose(fl, lc, r);
}

/* The SKIPDATA record of what iface lost, if anything. */
static void
put_skipped(struct fl_lcore *lc, uint32_t iface)
{
	struct fl_limit *lim = &lc->lim[iface];

	if (lim->skipped == 0)
		return;
	struct vpc_flow_rec r = {
		.start = lim->skip_first, .end = lim->skip_last, .iface = iface,
		.action = VPC_FLOW_SKIPDATA, .n_skipped = lim->skipped,
	};
	/* A full ring keeps the count for the next try. */
	if (rte_ring_sp_enqueue_elem(lc->ring, &r, sizeof(r)) == 0)
		lim->skipped = 0;
}

void
vpc_flowlog_conn(struct vpc_flowlog *fl, const struct vpc_ct_entry *e, unsigned int d)
{
	const struct vpc_ct_key *in = &e->key[d], *rev = &e->key[d ^ 1];
	struct vpc_flow_rec r;

	if (e->flow[d].packets == 0)
		return;
	struct fl_lcore *lc = my_slot(fl);
	/* As it leaves: the other direction's key as it enters, reversed. */
	for (unsigned int k = 0; k < 2; k++)
		if (vpc_flow_record(&e->flow[d], k, (uint8_t)in->ctx_proto, in->src, in->dst,
				    in->sport, in->dport, rev->dst, rev->src, rev->dport, rev->sport,
				    &r))
			put(fl, lc, &r);
}

void
vpc_flowlog_reject(struct vpc_flowlog *fl, uint32_t iface, uint8_t proto, uint32_t src,
		   uint32_t dst, uint16_t sport, uint16_t dport, uint32_t len, uint32_t now_s)
{
	struct fl_lcore *lc = my_slot(fl);
	struct vpc_flow_rec r = {
		.bytes = len, .packets = 1, .start = now_s, .end = now_s, .iface = iface,
		.src = src, .dst = dst, .sport = proto == 1 ? 0 : sport,
		.dport = proto == 1 ? 0 : dport, .proto = proto, .action = VPC_FLOW_REJECT,
	};

	if (lc == NULL || iface >= fl->n_ifaces) {
		lose(fl, lc, &r);
		return;
	}
	struct fl_limit *lim = &lc->lim[iface];
	if (lim->second != now_s) {
		put_skipped(lc, iface);
		lim->second = now_s;
		lim->n = 0;
	}
	if (lim->n >= VPC_FLOW_REJECT_PER_S) {
		lose(fl, lc, &r);
		return;
	}
	lim->n++;
	put(fl, lc, &r);
}

void
vpc_flowlog_flush(struct vpc_flowlog *fl, struct vpc_ct *ct)
{
	if (ct != NULL) {
		uint32_t pos = 0;
		int64_t i;
		while ((i = vpc_ct_next(ct, &pos)) >= 0) {
			struct vpc_ct_entry *e = vpc_ct_entry(ct, (uint32_t)i);
			for (unsigned int d = 0; d < 2; d++) {
				vpc_flowlog_conn(fl, e, d);
				e->flow[d].packets = 0;
				e->flow[d].bytes = 0;
			}
		}
	}
	/* Every slot's lost counts, each into its own ring (quiesced). */
	for (unsigned int l = 0; l <= VPC_FLOWLOG_NON_EAL; l++)
		if (fl->lc[l].ring != NULL)
			for (uint32_t k = 0; k < fl->n_ifaces; k++)
				put_skipped(&fl->lc[l], k);
}

void
vpc_flowlog_scan(struct vpc_flowlog *fl, struct vpc_ct *ct, uint64_t now, uint32_t budget)
{
	uint32_t now_s = (uint32_t)(now / 1000000000ull), cap = vpc_ct_capacity(ct);
	uint32_t pos = fl->scan_pos;

	if (budget > cap)
		budget = cap;
	for (uint32_t seen = 0; seen < budget; seen++) {
		if (pos >= cap)
			pos = 0;
		uint32_t at = pos;
		int64_t i = vpc_ct_next(ct, &pos);
		if (i < 0) {
			seen += cap - at;
			pos = 0;
			continue;
		}
		seen += (uint32_t)(pos - at) - 1;
		struct vpc_ct_entry *e = vpc_ct_entry(ct, (uint32_t)i);
		for (unsigned int d = 0; d < 2; d++) {
			struct vpc_flow_count *c = &e->flow[d];
			if (c->packets != 0 && now_s > c->until) {
				vpc_flowlog_conn(fl, e, d);
				c->packets = 0;
				c->bytes = 0;
			}
		}
	}
	fl->scan_pos = pos;
}

unsigned int
vpc_flowlog_drain(struct vpc_flowlog *fl, unsigned int lcore, struct vpc_flow_rec *recs,
		  unsigned int n)
{
	if (lcore > VPC_FLOWLOG_NON_EAL || fl->lc[lcore].ring == NULL)
		return 0;
	return rte_ring_sc_dequeue_burst_elem(fl->lc[lcore].ring, recs, sizeof(*recs), n, NULL);
}

uint64_t
vpc_flowlog_lost(const struct vpc_flowlog *fl)
{
	return __atomic_load_n(&fl->lost, __ATOMIC_RELAXED);
}
