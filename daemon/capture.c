/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.c -- `vpcctl capture` in vpcd: the workers copy the captured
 * port's frames into a ring of their own, the control thread takes them
 * out and streams them to the client (control.c sends them).
 *
 * Fast path.  vpcd.cap_word says what is captured (0: nothing): the port
 * id, the directions and the capture's generation.  A worker loads it
 * once per loop into w->cap and tests it once per burst, received or
 * sent (`unlikely(w->cap != 0)`): with no capture that is all it costs.
 * With one, each frame of the captured port and direction is copied (up
 * to snaplen bytes, after a struct cap_hdr) into an mbuf of the capture
 * pool and put on the worker's single-producer, single-consumer ring.
 * An empty pool or a full ring drops the copy, never the frame, and
 * counts it in w->cap_lost: capturing never stalls forwarding.
 *
 * Thread-safety.  The control thread alone writes cap (state, word, pool
 * and rings, created at the first capture and kept for the daemon's
 * life); it publishes the word with a release store after everything
 * the word refers to (snaplen, rings) is set.  Each worker writes its
 * ring (producer) and cap_lost; the control thread is each ring's only
 * consumer and reads cap_lost (a 64-bit word of one writer, relaxed).
 * A worker may still copy under an old word for one loop after the word
 * changes: every copy carries its generation and the control thread
 * frees, unsent, the copies of another.
 */
#include "vpcd.h"

#include <time.h>

#define CAP_POOL_SIZE 8191u	/* copies in flight over every worker */
#define CAP_RING_SIZE 1024u	/* per worker */
#define CAP_POOL_CACHE 64u

/* The word's fields. */
#define CAP_WORD(pid, dirs, gen) \
	((uint64_t)(pid) | (uint64_t)(dirs) << 16 | (uint64_t)(gen) << 32)
#define CAP_PID(w) ((uint16_t)(w))
#define CAP_DIRS(w) ((uint32_t)((w) >> 16) & 0x3u)
#define CAP_GEN(w) ((uint32_t)((w) >> 32))

/* In front of each copy. */
struct cap_hdr {
	uint64_t ts;		/* daemon clock, ns (now_ns) */
	uint32_t orig_len;
	uint32_t gen;
	uint32_t dir;
	uint32_t pad;
};

static struct {
	bool active;
	char port[VPC_CTL_PORT_NAME_MAX];
	uint16_t pid;
	uint32_t dirs;
	uint32_t gen;
	uint64_t count, sent;		/* frames asked for (0: no limit), streamed */
	uint64_t lost_base;		/* sum of cap_lost when it began */
	int64_t wall_offset;		/* UNIX time - daemon clock, ns */
	unsigned int next_ring;		/* round robin over the workers */
} cap;

/* ---- the workers' side ---- */

void
capture_burst(struct worker *w, uint64_t word, uint16_t pid, uint32_t dir,
	      struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *copies[VPC_BURST_MAX];
	uint32_t snaplen = __atomic_load_n(&vpcd.cap_snaplen, __ATOMIC_RELAXED);
	uint16_t k = 0;

	if (CAP_PID(word) != pid || !(CAP_DIRS(word) & dir))
		return;
	uint64_t ts = now_ns();
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = RTE_MIN(rte_pktmbuf_pkt_len(pkts[i]), snaplen);
		struct rte_mbuf *m = rte_pktmbuf_alloc(vpcd.cap_mp);
		uint8_t *p = m != NULL ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(struct cap_hdr) + len)) : NULL;
		if (p == NULL) {
			rte_pktmbuf_free(m);	/* NULL is fine */
			w->cap_lost++;
			continue;
		}
		*(struct cap_hdr *)p = (struct cap_hdr){
			.ts = ts, .orig_len = rte_pktmbuf_pkt_len(pkts[i]),
			.gen = CAP_GEN(word), .dir = dir,
		};
		const void *d = rte_pktmbuf_read(pkts[i], 0, len, p + sizeof(struct cap_hdr));
		if (d != NULL && d != p + sizeof(struct cap_hdr))
			memcpy(p + sizeof(struct cap_hdr), d, len);
		copies[k++] = m;
	}
	unsigned int done = rte_ring_sp_enqueue_burst(w->cap_ring, (void **)copies, k, NULL);
	if (done < k) {
		rte_pktmbuf_free_bulk(copies + done, k - done);
		w->cap_lost += k - done;
	}
}

/* ---- the control thread's side ---- */

static uint64_t
lost_sum(void)
{
	uint64_t s = 0;
	for (unsigned int i = 0; i < vpcd.n_workers; i++)
		s += __atomic_load_n(&vpcd.workers[i].cap_lost, __ATOMIC_RELAXED);
	return s;
}

/* The pool and the rings, at the first capture. */
static int
cap_setup(char *err, size_t err_size)
{
	if (vpcd.cap_mp != NULL)
		return 0;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("vpcd_capture", CAP_POOL_SIZE,
		CAP_POOL_CACHE, 0, RTE_PKTMBUF_HEADROOM + sizeof(struct cap_hdr) +
		VPC_CTL_CAP_SNAPLEN_MAX, (int)rte_socket_id());
	if (mp == NULL) {
		snprintf(err, err_size, "cannot capture: no memory for the capture pool: %s",
			 rte_strerror(rte_errno));
		return ENOMEM;
	}
	for (unsigned int i = 0; i < vpcd.n_workers; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "vpcd_cap%u", i);
		vpcd.workers[i].cap_ring = rte_ring_create(name, CAP_RING_SIZE, (int)rte_socket_id(),
							   RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (vpcd.workers[i].cap_ring == NULL) {
			snprintf(err, err_size, "cannot capture: no memory for a capture ring: %s",
				 rte_strerror(rte_errno));
			for (unsigned int j = 0; j < i; j++) {
				rte_ring_free(vpcd.workers[j].cap_ring);
				vpcd.workers[j].cap_ring = NULL;
			}
			rte_mempool_free(mp);
			return ENOMEM;
		}
	}
	vpcd.cap_mp = mp;
	return 0;
}

/* Frees what the rings hold. */
static void
cap_drain(void)
{
	for (unsigned int i = 0; i < vpcd.n_workers; i++) {
		struct rte_mbuf *m[64];
		unsigned int n;
		while (vpcd.workers[i].cap_ring != NULL &&
		       (n = rte_ring_sc_dequeue_burst(vpcd.workers[i].cap_ring, (void **)m, 64, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
	}
}

static const char *
dirs_name(uint32_t dirs)
{
	return dirs == VPC_CTL_CAP_RX ? "rx" : dirs == VPC_CTL_CAP_TX ? "tx" : "rx and tx";
}

/* The port id of name in the published configuration, or -1. */
static int
cap_port(const char *name)
{
	const struct cfg *c = vpcd.cfg;
	for (uint32_t p = 0; p < c->n_ports; p++)
		if (strcmp(c->img->ports[p].name, name) == 0)
			return c->ethdev[p] == PORT_UNREALISED ? -2 : c->ethdev[p];
	return -1;
}

bool
capture_active(void)
{
	return cap.active;
}

uint32_t
capture_begin(const struct vpc_ctl_capture *req, FILE *out)
{
	char err[256];

	if (cap.active) {
		fprintf(out, "cannot capture: port '%s' is being captured already (one capture at a time)\n",
			cap.port);
		return EBUSY;
	}
	if (memchr(req->port, '\0', sizeof(req->port)) == NULL || req->port[0] == '\0') {
		fprintf(out, "cannot capture: no port name\n");
		return EINVAL;
	}
	if (req->dirs == 0 || (req->dirs & ~(VPC_CTL_CAP_RX | VPC_CTL_CAP_TX))) {
		fprintf(out, "cannot capture: bad direction %#x\n", req->dirs);
		return EINVAL;
	}
	if (req->snaplen == 0 || req->snaplen > VPC_CTL_CAP_SNAPLEN_MAX) {
		fprintf(out, "cannot capture: snaplen %u outside 1..%u\n", req->snaplen,
			VPC_CTL_CAP_SNAPLEN_MAX);
		return EINVAL;
	}
	int pid = cap_port(req->port);
	if (pid < 0) {
		fprintf(out, pid == -1 ? "cannot capture: no port '%s' in the topology\n" :
			"cannot capture: port '%s' is not on this host\n", req->port);
		return ENOENT;
	}
	int e = cap_setup(err, sizeof(err));
	if (e != 0) {
		fprintf(out, "%s\n", err);
		return (uint32_t)e;
	}
	cap_drain();
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	cap.wall_offset = (int64_t)((uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec) -
			  (int64_t)now_ns();
	snprintf(cap.port, sizeof(cap.port), "%s", req->port);
	cap.pid = (uint16_t)pid;
	cap.dirs = req->dirs;
	cap.count = req->count;
	cap.sent = 0;
	cap.gen = (cap.gen + 1) & 0xffffffffu;
	if (cap.gen == 0)
		cap.gen = 1;
	cap.lost_base = lost_sum();
	cap.active = true;
	__atomic_store_n(&vpcd.cap_snaplen, req->snaplen, __ATOMIC_RELAXED);
	/* Release: the rings and snaplen before the word that sends workers
	 * to them. */
	__atomic_store_n(&vpcd.cap_word, CAP_WORD(cap.pid, cap.dirs, cap.gen), __ATOMIC_RELEASE);
	fprintf(out, "capturing %s of port '%s', up to %u bytes a frame\n", dirs_name(cap.dirs),
		cap.port, req->snaplen);
	return 0;
}

void
capture_end(void)
{
	if (!cap.active)
		return;
	__atomic_store_n(&vpcd.cap_word, 0, __ATOMIC_RELEASE);
	cap.active = false;
	cap_drain();	/* what a late worker adds: freed at the next begin */
}

static size_t
put_rec(uint8_t *buf, uint32_t kind, uint32_t dir, uint64_t ts, uint64_t lost)
{
	struct vpc_ctl_cap_rec r = { .kind = kind, .dir = dir, .ts_ns = ts, .lost = lost };
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

size_t
capture_pull(uint8_t *buf, size_t room, bool status, bool *ended)
{
	size_t o = 0;
	uint64_t lost = lost_sum() - cap.lost_base;

	*ended = false;
	if (!cap.active)
		return 0;
	/* The port gone by an apply: the capture ends. */
	if (cap_port(cap.port) != cap.pid) {
		if (room < sizeof(struct vpc_ctl_cap_rec))
			return 0;
		o += put_rec(buf, VPC_CTL_CAP_END, 1, 0, lost);
		capture_end();
		*ended = true;
		return o;
	}
	/* Round robin over the rings, one frame at a time, while a frame of
	 * the largest size and the END record fit. */
	unsigned int empty = 0;
	while (empty < vpcd.n_workers &&
	       room - o >= 2 * sizeof(struct vpc_ctl_cap_rec) + VPC_CTL_CAP_SNAPLEN_MAX &&
	       (cap.count == 0 || cap.sent < cap.count)) {
		struct worker *w = &vpcd.workers[cap.next_ring];
		cap.next_ring = (cap.next_ring + 1) % vpcd.n_workers;
		struct rte_mbuf *m;
		if (rte_ring_sc_dequeue(w->cap_ring, (void **)&m) != 0) {
			empty++;
			continue;
		}
		empty = 0;
		const struct cap_hdr *h = rte_pktmbuf_mtod(m, const struct cap_hdr *);
		uint32_t len = rte_pktmbuf_data_len(m) - (uint32_t)sizeof(*h);
		if (h->gen == cap.gen) {
			struct vpc_ctl_cap_rec r = {
				.kind = VPC_CTL_CAP_FRAME, .cap_len = len, .orig_len = h->orig_len,
				.dir = h->dir, .ts_ns = (uint64_t)((int64_t)h->ts + cap.wall_offset),
				.lost = lost,
			};
			memcpy(buf + o, &r, sizeof(r));
			memcpy(buf + o + sizeof(r), h + 1, len);
			o += sizeof(r) + len;
			cap.sent++;
		}
		rte_pktmbuf_free(m);
	}
	if (cap.count != 0 && cap.sent >= cap.count) {
		o += put_rec(buf + o, VPC_CTL_CAP_END, 0, 0, lost);
		capture_end();
		*ended = true;
	} else if (status && o == 0 && room >= sizeof(struct vpc_ctl_cap_rec)) {
		o += put_rec(buf, VPC_CTL_CAP_STATUS, 0, 0, lost);
	}
	return o;
}

/* At exit, the workers and the control thread stopped: the copies left,
 * the rings, the pool. */
void
capture_free(void)
{
	cap_drain();
	for (unsigned int i = 0; i < vpcd.n_workers; i++) {
		rte_ring_free(vpcd.workers[i].cap_ring);
		vpcd.workers[i].cap_ring = NULL;
	}
	rte_mempool_free(vpcd.cap_mp);
	vpcd.cap_mp = NULL;
}
