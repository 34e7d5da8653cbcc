/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control.c -- the control socket (vpc_ctl.h): stats, connection listings, flush,
 * apply, the stream of a capture (capture.c); many clients at once with
 * deadlines, and the idle sweep of the connection table between events.
 * The control thread.
 */
#include "vpcd.h"
#include "vpc_report.h"
#include "vpc_trace.h"
#include "vpc_trace_report.h"

/* ---- the control socket ---- */

/* The daemon's clock: ns since the TSC started, as the workers see it. */
uint64_t
now_ns(void)
{
	uint64_t tsc = rte_rdtsc(), hz = vpcd.tsc_hz;
	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

/* `vpcctl stats`: the lcores' counters summed, printed by vpc_report. */
static void
ctl_stats(FILE *out, bool json)
{
	const struct cfg *c = vpcd.cfg;	/* the control thread alone swaps it */
	struct vpc_stats sum;
	struct vpc_report_lcore lcores[RTE_MAX_LCORE];
	struct port_counters *ports = calloc(c->n_ports + 1, sizeof(*ports));
	struct vpc_report_port *rp = calloc(c->n_ports + 1, sizeof(*rp));

	if (ports == NULL || rp == NULL) {
		fprintf(out, "out of memory\n");
		goto out;
	}
	sum_stats(c, &sum, ports);
	for (unsigned int i = 0; i < vpcd.n_workers; i++)
		lcores[i] = (struct vpc_report_lcore){
			vpcd.workers[i].lcore, vpc_pipeline_stats(vpcd.workers[i].pl)->packets,
		};
	for (uint32_t p = 0; p < c->n_ports; p++)
		rp[p] = (struct vpc_report_port){
			c->img->ports[p].name, ports[p].rx, ports[p].tx, ports[p].drops,
			ports[p].tx_failed,
		};
	const struct vpc_ct_stats *cs = vpc_ct_stats(vpcd.ct);
	struct vpc_report r = {
		.generation = c->tables->generation, .packets = sum.packets,
		.paths = sum.paths, .drops = sum.drops,
		.ports = rp, .n_ports = c->n_ports,
		.has_lcores = true, .lcores = lcores, .n_lcores = vpcd.n_workers,
		.tracked = vpc_ct_count(vpcd.ct), .capacity = vpc_ct_capacity(vpcd.ct),
		.created = cs->created, .expired = cs->expired, .refused = cs->refused_full,
	};
	lb_count_states(&r.n_lb_targets, r.lb_targets);
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
	while ((i = vpc_ct_next(vpcd.ct, &pos)) >= 0 && n < VPC_REPORT_MAX_CONNS) {
		const struct vpc_ct_entry *e = vpc_ct_entry(vpcd.ct, (uint32_t)i);
		const struct vpc_ct_key *k = &e->key[0];
		struct vpc_report_conn rc = {
			.ctx_proto = k->ctx_proto, .src = k->src, .dst = k->dst,
			.sport = k->sport, .dport = k->dport, .state = e->trk.state,
			.expires_in = e->expires > now ? (e->expires - now) / 1000000000ull : 0,
			.via = e->act[0].path == VPC_PATH_LB ? VPC_REPORT_VIA_LB :
			       e->act[0].nat_port != 0 ? VPC_REPORT_VIA_NATGW : 0,
			.natgw_ip = e->act[0].nat_addr, .natgw_port = e->act[0].nat_port,
		};
		vpc_report_conn(out, &rc, json, &n);
	}
	vpc_report_conns_end(out, json);
}

/*
 * `vpcctl trace --socket`: one packet through the traced pipeline
 * (vpc_pipeline_trace) on the published tables and the live connection
 * table, on this thread -- the one that reclaims deleted entries, so
 * every entry the trace reads stays whole.  A pipeline of its own per
 * trace, with worker 0's round-robin turns.  Nothing is forwarded,
 * nothing of the live state changes.
 */
static uint32_t
ctl_trace(const uint8_t *payload, uint32_t len, FILE *out, bool json)
{
	const struct cfg *c = vpcd.cfg;
	struct vpc_ctl_trace h;
	char err[256];
	static uint8_t frame[VPC_CTL_TRACE_MAX];

	memcpy(&h, payload, sizeof(h));
	if (h.len != len - sizeof(h) || h.len > VPC_CTL_TRACE_MAX ||
	    memchr(h.port, 0, sizeof(h.port)) == NULL ||
	    (h.kind != VPC_CTL_TRACE_SPEC && h.kind != VPC_CTL_TRACE_FRAME)) {
		fprintf(out, "malformed trace request\n");
		return EPROTO;
	}
	uint32_t port = vpc_trace_port(c->img, h.port);
	if (port == VPC_INDEX_NONE) {
		fprintf(out, "no port '%s' in the running topology\n", h.port);
		return ENOENT;
	}
	uint32_t flen = h.len;
	if (h.kind == VPC_CTL_TRACE_SPEC) {
		char spec[512];
		if (h.len >= sizeof(spec)) {
			fprintf(out, "the packet's description is too long\n");
			return EMSGSIZE;
		}
		memcpy(spec, payload + sizeof(h), h.len);
		spec[h.len] = 0;
		int n = vpc_trace_frame(c->img, port, spec, frame, sizeof(frame), err, sizeof(err));
		if (n < 0) {
			fprintf(out, "%s\n", err);
			return EINVAL;
		}
		flen = (uint32_t)n;
	} else {
		memcpy(frame, payload + sizeof(h), h.len);
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(vpcd.mp);
	struct vpc_pipeline *pl = vpc_pipeline_create(c->tables, vpcd.ct);
	uint8_t *dst = m != NULL ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)flen) : NULL;
	if (m == NULL || pl == NULL || (dst == NULL && flen > 0)) {
		rte_pktmbuf_free(m);
		vpc_pipeline_free(pl);
		fprintf(out, "out of memory\n");
		return ENOMEM;
	}
	if (flen > 0)
		memcpy(dst, frame, flen);
	if (vpcd.n_workers > 0)
		vpc_pipeline_copy_turns(pl, vpcd.workers[0].pl);
	struct vpc_verdict v;
	struct vpc_trace_buf tb;
	vpc_pipeline_trace(pl, (uint16_t)port, m, now_ns(), &v, &tb);
	struct vpc_trace_result r = {
		.in_port = port, .in_frame = frame, .in_len = flen, .tb = &tb,
		.action = v.action, .path = v.path, .reason = v.reason,
		.out_port = v.action == VPC_ACT_REPLY ? port :
			    v.action == VPC_ACT_DROP ? VPC_INDEX_NONE : v.out_port,
		.out_frame = rte_pktmbuf_mtod(m, const uint8_t *), .out_len = rte_pktmbuf_data_len(m),
	};
	vpc_trace_print(out, c->img, &r, json);
	rte_pktmbuf_free(m);
	vpc_pipeline_free(pl);
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
			vpc_ct_count(vpcd.ct), vpc_ct_capacity(vpcd.ct));
		return 0;
	case VPC_CTL_LB:
		ctl_lb(out, json);
		return 0;
	case VPC_CTL_TRACE:
		return ctl_trace(rx->payload, req->len, out, json);
	case VPC_CTL_CT_FLUSH: {
		uint32_t before = vpc_ct_count(vpcd.ct);
		vpc_ct_flush(vpcd.ct);
		fprintf(out, json ? "{\"flushed\":%u}\n" : "flushed %u connections\n", before);
		return 0;
	}
	default:	/* refused by vpc_ctl_rx_feed(), answered here */
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
 * expired connections, so an idle daemon's table empties too, and runs
 * the load balancers' health checks (lb.c).
 */
#define CTL_MAX_CLIENTS 64
#define CTL_TICK_MS 100
/* While a capture streams: how often the workers' rings are emptied (a
 * ring holds 1,023 copies: about 500,000 frames a second), and the
 * stream's buffer.  A client that reads slower than frames come lets
 * the buffer fill, then the rings: the workers drop copies, and count
 * them; one that reads nothing for VPC_CTL_DEADLINE_S is closed. */
#define CTL_CAPTURE_POLL_MS 2
#define CTL_CAPTURE_BUF (1u << 20)

struct ctl_client {
	int fd;				/* -1: slot unused */
	uint64_t deadline;		/* ns, daemon clock */
	struct vpc_ctl_rx rx;
	char *out;			/* answer: header + text */
	size_t out_len, out_sent;	/* out != NULL: answering */
	bool capture;			/* streaming a capture (out: CTL_CAPTURE_BUF) */
	bool capture_over;		/* its END record is in out */
};

static void
ctl_client_close(struct ctl_client *c)
{
	if (c->capture && !c->capture_over)
		capture_end();	/* the client stalled or left: the capture stops */
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
	if (c->rx.state == VPC_CTL_RX_BAD && c->rx.error != EOPNOTSUPP) {
		status = (uint32_t)c->rx.error;
		fprintf(out, "bad request: %s\n", strerror(c->rx.error));
	} else if (c->rx.state == VPC_CTL_RX_DONE && c->rx.req.op == VPC_CTL_CAPTURE) {
		status = capture_begin((const struct vpc_ctl_capture *)c->rx.payload, out);
	} else {
		status = ctl_handle(&c->rx, out);	/* an unknown op: its default */
	}
	fclose(out);
	vpc_ctl_rx_free(&c->rx);
	ctl_client_answer(c, status, text, len);
	free(text);
	if (status != 0 || c->fd < 0 || c->rx.req.op != VPC_CTL_CAPTURE)
		return;
	/* An accepted capture: the answer is the stream's beginning. */
	char *buf = realloc(c->out, CTL_CAPTURE_BUF);
	if (buf == NULL) {
		capture_end();
		ctl_client_close(c);
		return;
	}
	c->out = buf;
	c->capture = true;
}

/* A capture client: what the rings hold into its buffer, as far as it
 * goes (status: a STATUS record if nothing else). */
static void
ctl_capture_fill(struct ctl_client *c, bool status)
{
	if (c->capture_over)
		return;
	if (c->out_sent == c->out_len) {
		c->out_sent = c->out_len = 0;
	} else if (c->out_sent > CTL_CAPTURE_BUF / 2) {
		memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
		c->out_len -= c->out_sent;
		c->out_sent = 0;
	}
	bool ended;
	c->out_len += capture_pull((uint8_t *)c->out + c->out_len, CTL_CAPTURE_BUF - c->out_len,
				   status, &ended);
	c->capture_over = ended;
}

/* Send what is pending without blocking: 1 all of it sent, 0 the socket
 * takes no more now, -1 the client is gone. */
static int
ctl_client_send(struct ctl_client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t r = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return -1;
		c->out_sent += (size_t)r;
	}
	return 1;
}

/* A capture client's socket: readable means gone (it sends nothing after
 * its request) or junk, which is dropped; then send what is pending.
 * Progress (or nothing pending) moves its deadline on. */
static void
ctl_capture_io(struct ctl_client *c, short revents, uint64_t now)
{
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		char junk[256];
		ssize_t r = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			ctl_client_close(c);
			return;
		}
	}
	size_t before = c->out_sent;
	if (ctl_client_send(c) < 0) {
		ctl_client_close(c);	/* gone: EPIPE, ECONNRESET */
		return;
	}
	if (c->out_sent != before)
		c->deadline = now + VPC_CTL_DEADLINE_S * 1000000000ull;
	if (c->out_sent == c->out_len) {
		if (c->capture_over) {
			ctl_client_close(c);	/* END sent: done */
			return;
		}
		c->deadline = now + VPC_CTL_DEADLINE_S * 1000000000ull;
	}
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
	if (ctl_client_send(c) == 0)
		return;		/* the rest when the socket takes it */
	ctl_client_close(c);	/* answered, or gone (EPIPE, ECONNRESET) */
}

void *
ctl_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct pollfd pfd[CTL_MAX_CLIENTS + 1];
	uint32_t sweep_budget = vpc_ct_capacity(vpcd.ct) / 16;
	uint64_t next_tick = 0;

	if (sweep_budget < 1024)
		sweep_budget = 1024;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		cl[i] = (struct ctl_client){ .fd = -1 };
	while (!vpcd_quit) {
		int n = 0, used = 0, slot[CTL_MAX_CLIENTS + 1];
		for (int i = 0; i < CTL_MAX_CLIENTS; i++)
			if (cl[i].fd >= 0) {
				short ev = cl[i].out ? POLLOUT : POLLIN;
				if (cl[i].capture)
					ev = POLLIN | (cl[i].out_sent < cl[i].out_len ? POLLOUT : 0);
				pfd[n] = (struct pollfd){ cl[i].fd, ev, 0 };
				slot[n++] = i;
				used++;
			}
		/* At the limit, newcomers wait in the backlog. */
		if (used < CTL_MAX_CLIENTS) {
			pfd[n] = (struct pollfd){ lfd, POLLIN, 0 };
			slot[n++] = -1;
		}
		int r = poll(pfd, (nfds_t)n, capture_active() ? CTL_CAPTURE_POLL_MS : CTL_TICK_MS);
		uint64_t now = now_ns();
		bool tick = now >= next_tick;
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
			if (c->capture) {
				ctl_capture_io(c, pfd[k].revents, now);
				continue;
			}
			if (c->out == NULL)
				ctl_client_read(c);
			/* An answer goes out as far as the socket takes it. */
			if (c->fd >= 0 && c->out != NULL && !c->capture)
				ctl_client_write(c);
		}
		now = now_ns();
		/* The capture's stream: the rings into its client's buffer, and
		 * out as far as the socket takes it now. */
		for (int i = 0; i < CTL_MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && cl[i].capture) {
				ctl_capture_fill(&cl[i], tick);
				ctl_capture_io(&cl[i], 0, now);
			}
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (cl[i].fd < 0 || cl[i].deadline > now)
				continue;
			if (cl[i].capture) {	/* read nothing for the deadline */
				ctl_client_close(&cl[i]);
				continue;
			}
			if (cl[i].out == NULL) {
				/* Too slow to ask: say so if it listens, then close. */
				static const char msg[] = "timed out waiting for the request\n";
				ctl_client_answer(&cl[i], ETIMEDOUT, msg, sizeof(msg) - 1);
				if (cl[i].fd >= 0)
					ctl_client_write(&cl[i]);
			}
			if (cl[i].fd >= 0)	/* too slow to read its answer */
				ctl_client_close(&cl[i]);
		}
		if (tick) {
			/* Expired connections go even when none are opened. */
			vpc_ct_sweep(vpcd.ct, now, sweep_budget);
			/* Flow logs: intervals of quiet connections. */
			if (vpcd.fl != NULL)
				vpc_flowlog_scan(vpcd.fl, vpcd.ct, now, sweep_budget);
			vpc_ct_reclaim(vpcd.ct);
			lb_tick(now);	/* load balancers' health checks */
			next_tick = now + CTL_TICK_MS * 1000000ull;
		}
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			ctl_client_close(&cl[i]);
	return NULL;
}

int
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
