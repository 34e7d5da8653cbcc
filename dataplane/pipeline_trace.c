/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline_trace.c -- the DPDK pipeline once more, traced (vpcctl trace,
 * vpc-replay --trace): pipeline.c and its stages compiled with
 * VPC_TRACE() recording each decision (common/vpc_trace.h), and with the
 * connection table read, never written.  The same source as the
 * forwarding pipeline, so a stage that changes is traced as it now is.
 *
 * What differs from forwarding, by macro, before pipeline.c is included:
 *  - an entry the stages look at is a copy (writes to it -- TCP state,
 *    expiry, actions -- change the copy);
 *  - a connection the stages create is a copy too, checked against the
 *    table as creation would be (a key already tracked; a full table is
 *    not, as if room were made);
 *  - a removal marks the copy: the trace's later lookups miss it;
 *  - the sweep and the table's counters do nothing.
 * Everything else -- the tables, the lookups -- is the live code on the
 * live data.  One trace at a time (the buffer and the copies are this
 * file's).
 */
#define VPC_TRACING 1

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vpc_trace.h"

static struct vpc_trace_buf *trace_buf;

static void
trace_put(uint16_t kind, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	if (trace_buf == NULL)
		return;
	if (trace_buf->n < VPC_TRACE_MAX)
		trace_buf->ev[trace_buf->n] = (struct vpc_trace_ev){
			.kind = kind, .a = (uint16_t)a, .b = b, .c = c, .d = d,
		};
	trace_buf->n++;
}
#undef VPC_TRACE
#define VPC_TRACE(kind, a, b, c, d) trace_put((kind), (uint32_t)(a), (uint32_t)(b), \
					      (uint32_t)(c), (uint32_t)(d))

#include "conntrack.h"

/* The entries a trace looked at, as copies: live ones by index, and the
 * one it would create. */
#define TRACE_COPIES 4
#define TRACE_NEW_IDX 0x7fffffff
static struct {
	uint32_t idx;
	bool deleted;		/* removed by the trace: lookups miss it */
	struct vpc_ct_entry e;
} copies[TRACE_COPIES];
static unsigned int n_copies;
static struct vpc_ct_stats trace_ct_counters;

static struct vpc_ct_entry *
trace_ct_entry(const struct vpc_ct *ct, uint32_t idx)
{
	for (unsigned int i = 0; i < n_copies && i < TRACE_COPIES; i++)
		if (copies[i].idx == idx)
			return &copies[i].e;
	unsigned int i = n_copies++ % TRACE_COPIES;
	copies[i].idx = idx;
	copies[i].deleted = false;
	if (idx == TRACE_NEW_IDX)
		memset(&copies[i].e, 0, sizeof(copies[i].e));
	else
		copies[i].e = *vpc_ct_entry(ct, idx);
	return &copies[i].e;
}

/* A removal: later lookups of the trace miss the entry. */
static void
trace_ct_delete(struct vpc_ct *ct, uint32_t idx)
{
	struct vpc_ct_entry *e = trace_ct_entry(ct, idx);
	for (unsigned int i = 0; i < TRACE_COPIES; i++)
		if (&copies[i].e == e)
			copies[i].deleted = true;
}

static void
trace_ct_lookup_bulk(const struct vpc_ct *ct, const struct vpc_ct_key *keys, uint32_t n,
		     uint64_t *hits, uint32_t *data)
{
	vpc_ct_lookup_bulk(ct, keys, n, hits, data);
	for (uint32_t k = 0; k < n; k++)
		if (*hits & (1ull << k))
			for (unsigned int i = 0; i < n_copies && i < TRACE_COPIES; i++)
				if (copies[i].deleted && copies[i].idx == data[k] >> 1)
					*hits &= ~(1ull << k);
}

static int
trace_ct_create_conn(struct vpc_ct *ct, const struct vpc_ct_key *fwd,
		     const struct vpc_ct_key *rev, uint64_t now, const struct vpc_ct_entry *init)
{
	struct vpc_ct_key k[2] = { *fwd, *rev };
	uint32_t data[2];
	uint64_t hits;

	(void)now;
	trace_ct_lookup_bulk(ct, k, 2, &hits, data);
	if (hits != 0)
		return -EEXIST;
	/* A full table: traced as if room were made (the XDP engine's
	 * trace, with a table of its own, cannot tell either). */
	struct vpc_ct_entry *e = trace_ct_entry(ct, TRACE_NEW_IDX);
	*e = *init;
	e->key[0] = *fwd;
	e->key[1] = *rev;
	return TRACE_NEW_IDX;
}

#define vpc_ct_entry(ct, idx) trace_ct_entry((ct), (idx))
#define vpc_ct_create_conn(ct, fwd, rev, now, init) trace_ct_create_conn((ct), (fwd), (rev), (now), (init))
#define vpc_ct_delete(ct, idx) trace_ct_delete((ct), (idx))
#define vpc_ct_lookup_bulk(ct, keys, n, hits, data) trace_ct_lookup_bulk((ct), (keys), (n), (hits), (data))
#define vpc_ct_sweep(ct, now, budget) ((void)(ct), (void)(now), (void)(budget))
#define vpc_ct_stats(ct) ((void)(ct), &trace_ct_counters)

#define vpc_pipeline_process trace_process
#include "pipeline.c"
#undef vpc_pipeline_process

void
vpc_pipeline_copy_turns(struct vpc_pipeline *dst, const struct vpc_pipeline *src)
{
	uint32_t n = dst->n_lb_turn < src->n_lb_turn ? dst->n_lb_turn : src->n_lb_turn;

	for (uint32_t i = 0; i < n; i++)
		dst->lb_turn[i] = src->lb_turn[i];
}

void
vpc_pipeline_trace(struct vpc_pipeline *p, uint16_t in_port, struct rte_mbuf *mb, uint64_t now,
		   struct vpc_verdict *verdict, struct vpc_trace_buf *tb)
{
	memset(tb, 0, sizeof(*tb));
	n_copies = 0;
	trace_buf = tb;
	trace_process(p, in_port, &mb, 1, now, verdict);
	trace_buf = NULL;
}
