/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pipeline -- libFuzzer target: the DPDK pipeline
 * (vpc_pipeline_process, dataplane/pipeline.c) in process, no NIC.
 *
 * At start: the EAL (--no-huge, no devices, a per-process file prefix),
 * and for each topology below its tables, a connection table of
 * CT_SIZE connections (small, so that it fills) and a pipeline.
 *
 * Input (tests/fuzz/make-seeds.py writes it):
 *   byte 0            the topology (index into topo_files, modulo)
 *   then records      ctl, dt, len (16 bits, big endian), len bytes
 *     ctl bits 0-4    ingress port, modulo (ports + 1): the last one is
 *                     a port the tables do not have
 *     ctl bit 5       start a new burst here (a burst is otherwise a run
 *                     of up to 32 frames of one port)
 *     ctl bit 6       before this frame's burst, "apply" the tables again
 *                     (a new generation: every cached action is stale)
 *     ctl bit 7       ... and ask for revalidation (with bit 6)
 *     dt              the clock advances ((dt & 7) + 1) << ((dt >> 3) + 16)
 *                     ns before this frame (65 us .. 13 days)
 *   A record whose length passes the end takes what is left.  Every
 *   input starts from an empty connection table, at generation 1.
 *
 * Each frame is copied into a malloc'd buffer of exactly its length,
 * attached to an mbuf as external memory: a read past the frame is a
 * heap-buffer-overflow for ASan.
 *
 * Invariants, per burst:
 *  - every verdict is in range: a drop has a reason, a forward a routed
 *    or switched path and an existing port, a reply is an ARP reply on
 *    the ingress port; an unknown port drops everything as such;
 *  - a forwarded frame is IPv4 with a valid header checksum, and its L4
 *    checksum (TCP, UDP, ICMP) is valid when the input's was (a UDP
 *    checksum of 0, "none", stays 0); frames keep their length;
 *  - the connection table is never over its limit, and its count is the
 *    number of live entries; the counters add up.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "compile.h"
#include "conntrack.h"
#include "pipeline.h"
#include "tables.h"
#include "fuzz.h"
#include "vpc_trace.h"
#include "vpc_trace_report.h"
#include "vpc_geneve.h"

#ifndef VPC_SOURCE_ROOT
#define VPC_SOURCE_ROOT "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CT_SIZE 64

/* Topology 0 matches the captures in config/demo; 1 to 4 the conformance
 * corpus (3: the overlay, as its host hv1 sees it; 4: load balancers). */
static const char *const topo_files[] = {
	"config/default.yaml",
	"tests/conformance/topo/basic.yaml",
	"tests/conformance/topo/sg.yaml",
	"tests/conformance/topo/overlay.yaml",
	"tests/conformance/topo/lb.yaml",
};
static const char *const topo_hosts[] = { NULL, NULL, NULL, "hv1", NULL };

/* Room in front of each frame, as a port's mbufs have: the overlay puts
 * its 50 bytes there. */
#define HEADROOM 64
#define N_TOPOS (sizeof(topo_files) / sizeof(topo_files[0]))

static struct world {
	struct vpc_image *img;
	struct vpc_tables *t;
	struct vpc_ct *ct;
	struct vpc_pipeline *p;
	struct vpc_pipeline *tp;	/* the trace's (vpc_pipeline_trace) */
} worlds[N_TOPOS];

static FILE *devnull;

static struct rte_mempool *mp;

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_pipeline: %s: %s\n", what, why);
	exit(1);
}

static bool verbose;	/* FUZZ_PIPELINE_VERBOSE: print every verdict */

static void
noop_free(void *addr, void *opaque)
{
	(void)addr;
	(void)opaque;
}

/* At exit, before LeakSanitizer looks: what the tables own is referenced
 * from DPDK memory, which it does not scan. */
static void
cleanup(void)
{
	for (size_t i = 0; i < N_TOPOS; i++) {
		vpc_pipeline_free(worlds[i].p);
		vpc_pipeline_free(worlds[i].tp);
		vpc_ct_free(worlds[i].ct);
		vpc_tables_free(worlds[i].t);
		vpc_image_free(worlds[i].img);
		memset(&worlds[i], 0, sizeof(worlds[i]));
	}
	rte_mempool_free(mp);
	mp = NULL;
	rte_eal_cleanup();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[4096], err[256], mem[32], prefix[64];
	const char *root = getenv("VPC_SOURCE_ROOT");
	uint64_t need = 64u << 20;

	(void)argc;
	(void)argv;
	if (root == NULL)
		root = VPC_SOURCE_ROOT;
	for (size_t i = 0; i < N_TOPOS; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, topo_files[i]);
		worlds[i].img = vpc_image_load_host(path, NULL, topo_hosts[i], stderr);
		if (worlds[i].img == NULL)
			die(path, "cannot load (set VPC_SOURCE_ROOT to the source tree)");
		need += vpc_tables_memory(worlds[i].img) + vpc_ct_memory(CT_SIZE);
	}
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)(need >> 20) + 1);
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzz-pipeline-%d", (int)getpid());
	char *args[] = {
		"fuzz_pipeline", "--no-huge", "-m", mem, "--no-pci", "--no-shconf",
		prefix, "--no-telemetry", "-l", "0", "--log-level=error", NULL,
	};
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])) - 1, args) < 0)
		die("rte_eal_init", rte_strerror(rte_errno));
	mp = rte_pktmbuf_pool_create("fuzz", 2 * VPC_BURST_MAX, 0, 0, 0, SOCKET_ID_ANY);
	if (mp == NULL)
		die("mbuf pool", rte_strerror(rte_errno));
	for (size_t i = 0; i < N_TOPOS; i++) {
		struct world *w = &worlds[i];
		char name[32];
		w->t = vpc_tables_create(w->img, SOCKET_ID_ANY, err, sizeof(err));
		if (w->t == NULL)
			die("tables", err);
		snprintf(name, sizeof(name), "fuzz%zu", i);
		w->ct = vpc_ct_create(name, CT_SIZE, SOCKET_ID_ANY);
		if (w->ct == NULL)
			die("connection table", strerror(errno));
		CHECK(vpc_ct_capacity(w->ct) == CT_SIZE);
		w->p = vpc_pipeline_create(w->t, w->ct);
		w->tp = vpc_pipeline_create(w->t, w->ct);
		if (w->p == NULL || w->tp == NULL)
			die("pipeline", strerror(errno));
	}
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		die("/dev/null", strerror(errno));
	atexit(cleanup);
	verbose = getenv("FUZZ_PIPELINE_VERBOSE") != NULL;
	return 0;
}

/* ---- checksums, over exactly the frame's bytes ---- */

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static bool
sum_ok(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static bool
is_ipv4(const uint8_t *f, size_t len)
{
	return len >= 14 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[14] == 0x45 &&
	       (size_t)(f[16] << 8 | f[17]) >= 20 && (size_t)(f[16] << 8 | f[17]) <= len - 14;
}

static bool
ip_ok(const uint8_t *f, size_t len)
{
	return is_ipv4(f, len) && sum_ok(sum16(f + 14, 20, 0));
}

enum l4_check { L4_NONE, L4_VALID, L4_INVALID, L4_UDP_ZERO };

/* The L4 checksum of an IPv4 frame (is_ipv4). */
static enum l4_check
l4_check(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t tot = (size_t)(ip[2] << 8 | ip[3]);
	const uint8_t *l4 = ip + 20;
	size_t n = tot - 20;
	uint8_t proto = ip[9];
	uint32_t pseudo = sum16(ip + 12, 8, 0) + proto;

	(void)len;
	switch (proto) {
	case IPPROTO_TCP:
		if (n < 20)
			return L4_NONE;
		return sum_ok(sum16(l4, n, pseudo + (uint32_t)n)) ? L4_VALID : L4_INVALID;
	case IPPROTO_UDP: {
		if (n < 8)
			return L4_NONE;
		size_t ul = (size_t)(l4[4] << 8 | l4[5]);
		if (ul < 8 || ul > n)
			return L4_NONE;
		if (l4[6] == 0 && l4[7] == 0)
			return L4_UDP_ZERO;
		return sum_ok(sum16(l4, ul, pseudo + (uint32_t)ul)) ? L4_VALID : L4_INVALID;
	}
	case IPPROTO_ICMP:
		if (n < 8)
			return L4_NONE;
		return sum_ok(sum16(l4, n, 0)) ? L4_VALID : L4_INVALID;
	default:
		return L4_NONE;
	}
}

/* ---- one burst ---- */

struct frame {
	const uint8_t *in;	/* the input's bytes */
	uint16_t len;
};

/* What a trace of the frame said, to compare with the burst's own. */
struct traced {
	bool valid;
	struct vpc_verdict v;
	uint8_t out[HEADROOM + 65536];
	uint32_t off, len;
};

static bool
later_fragment(const struct frame *f)
{
	return f->len >= 34 && f->in[12] == 0x08 && f->in[13] == 0 &&
	       ((f->in[20] << 8 | f->in[21]) & 0x1fff) != 0;
}

/*
 * The trace (dataplane/pipeline_trace.c) of a lone frame, before the
 * pipeline takes it: the same code on the same state must say the same
 * -- verdict and bytes -- and change nothing in the connection table.
 * (Not a later fragment: its first one is remembered by the forwarding
 * pipeline only; not with the table full: the trace does as if room
 * were made.)
 */
static void
trace_first(struct world *w, uint16_t port, const struct frame *fr, uint64_t now,
	    struct traced *tr)
{
	static struct rte_mbuf_ext_shared_info shinfo;
	struct vpc_trace_buf tb;

	tr->valid = false;
	if (port >= w->t->n_ports || later_fragment(fr) ||
	    vpc_ct_count(w->ct) >= vpc_ct_capacity(w->ct))
		return;
	uint32_t before = vpc_ct_count(w->ct);
	memcpy(tr->out + HEADROOM, fr->in, fr->len);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	CHECK(m != NULL);
	shinfo.free_cb = noop_free;
	shinfo.fcb_opaque = NULL;
	rte_mbuf_ext_refcnt_set(&shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, tr->out, 0, HEADROOM + fr->len, &shinfo);
	m->data_off = HEADROOM;
	m->data_len = fr->len;
	m->pkt_len = fr->len;
	vpc_pipeline_copy_turns(w->tp, w->p);
	vpc_pipeline_trace(w->tp, port, m, now, &tr->v, &tb);
	tr->off = m->data_off;
	tr->len = m->data_len;
	rte_pktmbuf_free(m);
	CHECK(vpc_ct_count(w->ct) == before);
	CHECK(tb.n <= 64);
	/* the printer, on whatever the stages recorded */
	struct vpc_trace_result r = {
		.in_port = port, .in_frame = fr->in, .in_len = fr->len, .tb = &tb,
		.action = tr->v.action, .path = tr->v.path, .reason = tr->v.reason,
		.out_port = tr->v.action == VPC_ACT_DROP ? VPC_INDEX_NONE : tr->v.out_port,
		.out_frame = tr->out + tr->off, .out_len = tr->len,
	};
	vpc_trace_print(devnull, w->img, &r, fr->len & 1);
	tr->valid = true;
}

static void
run_burst(struct world *w, uint16_t port, const struct frame *fr, uint16_t n, uint64_t now)
{
	static struct rte_mbuf_ext_shared_info shinfo[VPC_BURST_MAX];
	struct rte_mbuf *pkts[VPC_BURST_MAX];
	uint8_t *bufs[VPC_BURST_MAX];
	struct vpc_verdict v[VPC_BURST_MAX];
	uint32_t n_ports = w->t->n_ports;

	for (uint16_t i = 0; i < n; i++) {
		bufs[i] = malloc(HEADROOM + fr[i].len);
		CHECK(bufs[i] != NULL);
		memcpy(bufs[i] + HEADROOM, fr[i].in, fr[i].len);
		pkts[i] = rte_pktmbuf_alloc(mp);
		CHECK(pkts[i] != NULL);
		shinfo[i].free_cb = noop_free;
		shinfo[i].fcb_opaque = NULL;
		rte_mbuf_ext_refcnt_set(&shinfo[i], 1);
		rte_pktmbuf_attach_extbuf(pkts[i], bufs[i], 0, HEADROOM + fr[i].len, &shinfo[i]);
		pkts[i]->data_off = HEADROOM;
		pkts[i]->data_len = fr[i].len;
		pkts[i]->pkt_len = fr[i].len;
	}
	memset(v, 0xa5, sizeof(v));

	static struct traced tr;
	if (n == 1)
		trace_first(w, port, &fr[0], now, &tr);
	CHECK(vpc_pipeline_process(w->p, port, pkts, n, now, v) == n);
	if (n == 1 && tr.valid) {
		CHECK(tr.v.action == v[0].action);
		if (v[0].action == VPC_ACT_DROP) {
			CHECK(tr.v.reason == v[0].reason);
		} else {
			CHECK(tr.v.path == v[0].path && tr.v.out_port == v[0].out_port);
			CHECK(tr.len == pkts[0]->data_len &&
			      memcmp(tr.out + tr.off, bufs[0] + pkts[0]->data_off, tr.len) == 0);
		}
	}
	if (verbose)
		for (uint16_t i = 0; i < n; i++)
			fprintf(stderr, "port %u, %u bytes, t %llu: %s %s %s -> %u\n", port,
				fr[i].len, (unsigned long long)now, vpc_action_name(v[i].action),
				vpc_path_name(v[i].path), vpc_drop_name(v[i].reason),
				v[i].out_port);

	for (uint16_t i = 0; i < n; i++) {
		/* The frame as it leaves: where it starts now says whether the
		 * overlay's header was put in front (-50) or taken off. */
		int delta = (int)pkts[i]->data_off - HEADROOM;
		const uint8_t *out = bufs[i] + pkts[i]->data_off;
		const uint8_t *in = fr[i].in;
		size_t len = fr[i].len;
		CHECK(pkts[i]->buf_addr == bufs[i] && pkts[i]->nb_segs == 1);
		CHECK(pkts[i]->pkt_len == pkts[i]->data_len && (int)pkts[i]->data_len == (int)len - delta);
		CHECK(delta == 0 || delta == -VPC_GENEVE_HLEN || (delta > 0 && port == w->t->uplink_port));
		if (delta == -VPC_GENEVE_HLEN) {
			/* to another host: a whole outer IPv4/UDP header to 6081,
			 * then the frame as the checks below see it */
			CHECK(v[i].action == VPC_ACT_FORWARD &&
			      (v[i].path == VPC_PATH_OVERLAY_SWITCH || v[i].path == VPC_PATH_OVERLAY_ROUTED));
			CHECK(is_ipv4(out, len + VPC_GENEVE_HLEN) && sum_ok(sum16(out + 14, 20, 0)));
			CHECK(out[23] == IPPROTO_UDP && out[36] == (VPC_GENEVE_PORT >> 8) &&
			      out[37] == (VPC_GENEVE_PORT & 0xff));
			CHECK((size_t)(out[16] << 8 | out[17]) == len + VPC_GENEVE_HLEN - 14);
			out += VPC_GENEVE_HLEN;
		} else if (delta > 0) {
			/* from another host: the inner frame was decided */
			in += delta;
			len -= (size_t)delta;
		}
		switch (v[i].action) {
		case VPC_ACT_DROP:
			CHECK(v[i].reason > VPC_DROP_NONE && v[i].reason < VPC_DROP_COUNT);
			if (port >= n_ports)
				CHECK(v[i].reason == VPC_DROP_UNKNOWN_PORT);
			continue;
		case VPC_ACT_REPLY:
			CHECK(port < n_ports);
			CHECK(v[i].path == VPC_PATH_ARP_REPLY && v[i].out_port == port);
			continue;
		case VPC_ACT_FORWARD:
			CHECK(port < n_ports);
			CHECK(v[i].path > VPC_PATH_NONE && v[i].path < VPC_PATH_COUNT &&
			      v[i].path != VPC_PATH_ARP_REPLY);
			CHECK(v[i].out_port < n_ports);
			break;
		default:
			CHECK(!"verdict action out of range");
		}
		/* forwarded: IPv4, parsed and checked on the way in */
		CHECK(ip_ok(in, len));
		CHECK(is_ipv4(out, len));
		CHECK(sum_ok(sum16(out + 14, 20, 0)));
		CHECK(memcmp(in + 16, out + 16, 2) == 0);	/* total length */
		CHECK(in[14 + 9] == out[14 + 9]);		/* protocol */
		enum l4_check before = l4_check(in, len), after = l4_check(out, len);
		if (before == L4_VALID)
			CHECK(after == L4_VALID);
		if (before == L4_UDP_ZERO)
			CHECK(after == L4_UDP_ZERO);
	}

	for (uint16_t i = 0; i < n; i++) {
		rte_pktmbuf_free(pkts[i]);
		free(bufs[i]);
	}

	/* the connection table */
	uint32_t count = vpc_ct_count(w->ct), live = 0, pos = 0;
	CHECK(count <= vpc_ct_capacity(w->ct));
	while (vpc_ct_next(w->ct, &pos) >= 0)
		live++;
	CHECK(live == count);
}

static uint64_t
dt_ns(uint8_t dt)
{
	return (uint64_t)((dt & 7) + 1) << ((dt >> 3) + 16);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame fr[VPC_BURST_MAX];
	uint16_t n = 0, burst_port = 0;
	uint64_t now = 1000000000ull, frames = 0;

	if (size == 0)
		return 0;
	struct world *w = &worlds[data[0] % N_TOPOS];
	uint32_t n_ports = w->t->n_ports;

	vpc_ct_flush(w->ct);
	w->t->generation = 1;
	w->t->revalidate = 0;
	vpc_pipeline_stats_reset(w->p);

	size_t off = 1;
	while (off < size) {
		uint8_t ctl = data[off];
		uint8_t dt = off + 1 < size ? data[off + 1] : 0;
		size_t len = off + 3 < size ? (size_t)(data[off + 2] << 8 | data[off + 3]) : 0;
		off += 4;
		if (off > size)
			off = size;
		if (len > size - off)
			len = size - off;
		uint16_t port = (uint16_t)((ctl & 31) % (n_ports + 1));

		if (n > 0 && (n == VPC_BURST_MAX || port != burst_port || (ctl & 0xe0))) {
			run_burst(w, burst_port, fr, n, now);
			frames += n;
			n = 0;
		}
		if (ctl & 0x40) {
			/* the publisher's side of an apply: a new generation */
			w->t->generation = w->t->generation + 1 ? w->t->generation + 1 : 1;
			w->t->revalidate = (ctl & 0x80) != 0;
		}
		now += dt_ns(dt);
		burst_port = port;
		fr[n].in = data + off;
		fr[n].len = (uint16_t)len;
		n++;
		off += len;
	}
	if (n > 0) {
		run_burst(w, burst_port, fr, n, now);
		frames += n;
	}

	/* the counters add up */
	const struct vpc_stats *st = vpc_pipeline_stats(w->p);
	uint64_t sum = 0;
	CHECK(st->packets == frames);
	for (unsigned int i = 0; i < VPC_DROP_COUNT; i++)
		sum += st->drops[i];
	for (unsigned int i = 0; i < VPC_PATH_COUNT; i++)
		sum += st->paths[i];
	CHECK(sum == frames);
	return 0;
}
