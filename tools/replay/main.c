/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c -- vpc-replay (docs/cli.md): the engines that registered, the
 * replay loop, main.
 *
 *   vpc-replay --config TOPO.yaml --in PORT=IN.pcap [--in ...] --out DIR
 *              [--engine dpdk|xdp] [--bench [--loops N]] [--json]
 *
 * Replay: every packet of every input, in timestamp order (ties: the order
 * of --in, then the order in the file), goes through the engine one at a
 * time with its capture time as the clock.  Output: DIR/PORT.pcap for every
 * port (what the dataplane sent out of it, with the timestamp of the input
 * packet that caused it), DIR/verdicts.jsonl (one object per input packet),
 * and a readable account on stdout (--json: the same as one JSON object).
 *
 * Bench: the same inputs, --loops times (the engine's bench).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#include "vpc_names.h"
#include "vpc_flow_format.h"

/* The engines this build has (each registers itself at start-up). */
static const struct replay_engine *engines[4];
static unsigned int n_engines;

void
replay_engine_register(const struct replay_engine *eng)
{
	if (n_engines < sizeof(engines) / sizeof(engines[0]))
		engines[n_engines++] = eng;
}

/* The health checker's way to the engine and the outputs. */
struct hc_ctx {
	const struct replay_engine *eng;
	void *e;
	const struct vpc_image *cur;
	struct outputs *outs;
	bool nano;
	bool verbose;
};

static void
hc_answer(void *arg, uint32_t k, struct vpc_lb_answer *out)
{
	struct hc_ctx *c = arg;
	c->eng->lb_answer(c->e, k, out);
}

static void
hc_healthy(void *arg, uint32_t g, uint64_t mask)
{
	struct hc_ctx *c = arg;
	c->eng->lb_healthy(c->e, g, mask);
}

static void
hc_drain(void *arg, uint32_t vpc, uint32_t ip, uint16_t port)
{
	struct hc_ctx *c = arg;
	c->eng->lb_drain(c->e, vpc, ip, port);
}

static void
dump_frame(struct outputs *outs, const char *port, const uint8_t *buf, uint32_t len, uint64_t ts,
	   bool nano)
{
	struct pcap_pkthdr h = { .caplen = len, .len = len };
	h.ts.tv_sec = (time_t)(ts / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ts % 1000000000ull);
	if (!nano)
		h.ts.tv_usec /= 1000;
	struct out_port *op = &outs->ports[output_of(outs, port)];
	pcap_dump((u_char *)op->dump, &h, buf);
	op->packets++;
}

/* A health check's probe, out of the target's port at now. */
static void
hc_send(void *arg, uint32_t iface, const uint8_t *frame, uint32_t len, uint64_t now)
{
	struct hc_ctx *c = arg;
	const struct vpc_image_iface *f = &c->cur->ifaces[iface];
	dump_frame(c->outs, c->cur->ports[f->port].name, frame, len, now, c->nano);
	if (c->verbose)
		printf("  %" PRIu64 ".%06" PRIu64 "  health check -> %s (%s)\n",
		       (uint64_t)(now / 1000000000u), (uint64_t)(now % 1000000000u / 1000), f->name,
		       c->cur->ports[f->port].name);
}

/* The flow-log records of a replay, written sorted at the end. */
struct flow_recs {
	struct vpc_flow_rec *recs;
	size_t n, cap;
};

static void
flow_keep(void *arg, const struct vpc_flow_rec *r)
{
	struct flow_recs *fr = arg;

	if (fr->n == fr->cap) {
		fr->cap = fr->cap ? fr->cap * 2 : 256;
		fr->recs = realloc(fr->recs, fr->cap * sizeof(*fr->recs));
		if (fr->recs == NULL)
			die("out of memory");
	}
	fr->recs[fr->n++] = *r;
}

/* DIR/flow-logs.txt: every record, in vpc_flow_rec_cmp's order (the same
 * whatever order an engine produced them in), interfaces named as the
 * last tables name them. */
static void
flow_write(const struct opts *o, const struct vpc_image *cur, struct flow_recs *fr)
{
	char path[4096], line[256];
	uint64_t skipped = 0;

	mkdir_p(o->flow_logs);
	snprintf(path, sizeof(path), "%s/flow-logs.txt", o->flow_logs);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	if (fr->n > 1)	/* (recs is NULL when there are none) */
		qsort(fr->recs, fr->n, sizeof(*fr->recs), vpc_flow_rec_cmp);
	for (size_t i = 0; i < fr->n; i++) {
		const struct vpc_flow_rec *r = &fr->recs[i];
		const char *name = r->iface < cur->n_ifaces ? cur->ifaces[r->iface].name : "-";
		vpc_flow_format(line, sizeof(line), r, o->flow_account, name);
		fputs(line, f);
		if (r->action == VPC_FLOW_SKIPDATA)
			skipped += r->n_skipped;
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	if (!o->json)
		printf("flow logs: %zu records in %s (%" PRIu64 " not logged, in SKIPDATA records)\n",
		       fr->n, path, skipped);
}

int
replay(struct opts *o, const struct vpc_image *img, const struct replay_engine *eng,
       void *e, struct packet *pkts, uint32_t n)
{
	bool nano = false;
	for (uint32_t i = 0; i < o->n_inputs; i++)
		nano |= o->inputs[i].nano;

	mkdir_p(o->out);
	struct outputs outs = { 0 };
	outputs_add(&outs, img, o->out, nano);
	for (uint32_t i = 0; i < o->n_applies; i++)
		outputs_add(&outs, o->applies[i].img, o->out, nano);
	char path[4096];
	snprintf(path, sizeof(path), "%s/verdicts.jsonl", o->out);
	FILE *vf = fopen(path, "w");
	if (vf == NULL)
		die("%s: %s", path, strerror(errno));

	/* The input ports' names: an apply may renumber the ports. */
	const struct vpc_image *cur = img;
	uint32_t next_apply = 0;
	uint8_t *buf = malloc(REPLAY_MBUF_ROOM);
	if (buf == NULL)
		die("out of memory");

	/* Each input's port in the current tables (-1: gone after an apply). */
	int *in_ports = calloc(o->n_inputs, sizeof(int));
	if (in_ports == NULL)
		die("out of memory");
	for (uint32_t k = 0; k < o->n_inputs; k++)
		in_ports[k] = port_by_name(cur, o->inputs[k].port_name);

	bool verbose = !o->json && n <= 200;
	if (verbose)
		printf("replaying %u packets through %u ports\n\n", n, img->n_ports);

	/* Load balancers' health checks, in capture time from the first
	 * packet on. */
	struct hc_ctx hcx = { .eng = eng, .e = e, .cur = cur, .outs = &outs, .nano = nano,
			      .verbose = verbose };
	struct vpc_lb_hc_io io = { .arg = &hcx, .answer = hc_answer, .healthy = hc_healthy,
				   .send = hc_send, .drain = hc_drain };
	struct vpc_lb_hc *hc = NULL;
	if (img->n_targets > 0 && (hc = vpc_lb_hc_create(img, NULL)) == NULL)
		die("out of memory");
	uint64_t hc_due = n > 0 ? pkts[0].ts_ns : UINT64_MAX;
	struct flow_recs fr = { 0 };
	if (o->flow_logs != NULL && eng->flow_drain == NULL)
		die("--flow-logs: the %s engine has no flow logs", eng->name);
	for (uint32_t i = 0; i < n; i++) {
		struct packet *p = &pkts[i];
		while (next_apply < o->n_applies && o->applies[next_apply].at_ns <= p->ts_ns) {
			struct apply *ap = &o->applies[next_apply++];
			eng->apply(e, ap);
			cur = ap->img;
			hcx.cur = cur;
			if (hc != NULL || cur->n_targets > 0) {
				struct vpc_lb_hc *h2 = vpc_lb_hc_create(cur, hc);
				if (h2 == NULL)
					die("out of memory");
				vpc_lb_hc_free(hc);
				hc = h2;
				if (hc_due == UINT64_MAX || hc_due > p->ts_ns)
					hc_due = p->ts_ns;
			}
			for (uint32_t k = 0; k < o->n_inputs; k++)
				in_ports[k] = port_by_name(cur, o->inputs[k].port_name);
			if (verbose)
				printf("  -- applied %s%s\n", ap->path,
				       ap->revalidate ? " (revalidating connections)" : "");
		}
		if (hc != NULL) {
			while (hc_due <= p->ts_ns)
				hc_due = vpc_lb_hc_tick(hc, hc_due, &io);
			/* The answers the last packets brought. */
			uint64_t d = vpc_lb_hc_tick(hc, p->ts_ns, &io);
			if (d < hc_due)
				hc_due = d;
		}
		const char *in_name = o->inputs[p->input].port_name;
		int port = in_ports[p->input];
		struct vpc_verdict v;
		uint32_t len = p->len;
		memcpy(buf, p->data, len);
		eng->process(e, cur, port, p->ts_ns, buf, &len, &v);

		const char *out_name = v.action == VPC_ACT_DROP ? NULL : cur->ports[v.out_port].name;
		if (out_name != NULL)
			dump_frame(&outs, out_name, buf, len, p->ts_ns, nano);
		fprintf(vf, "{\"seq\":%u,\"time\":%" PRIu64 ".%09" PRIu64 ",\"in_port\":",
			i, (uint64_t)(p->ts_ns / 1000000000u), (uint64_t)(p->ts_ns % 1000000000u));
		json_str(vf, in_name);
		fprintf(vf, ",\"action\":\"%s\",\"out_port\":", vpc_action_name(v.action));
		if (out_name == NULL)
			fprintf(vf, "null");
		else
			json_str(vf, out_name);
		fprintf(vf, ",\"reason\":\"%s\"}\n",
			v.action == VPC_ACT_DROP ? vpc_drop_name(v.reason) : vpc_path_name(v.path));
		if (verbose)
			describe(stdout, p, in_name, cur, buf, len, &v);
		if (o->flow_logs != NULL)
			eng->flow_drain(e, flow_keep, &fr);
	}
	if (o->flow_logs != NULL) {
		eng->flow_flush(e, flow_keep, &fr);
		flow_write(o, cur, &fr);
		free(fr.recs);
	}
	free(buf);
	vpc_lb_hc_free(hc);
	if (fclose(vf) != 0)
		die("verdicts.jsonl: %s", strerror(errno));
	for (uint32_t q = 0; q < outs.n; q++) {
		pcap_dump_close(outs.ports[q].dump);
		pcap_close(outs.ports[q].dead);
	}
	free(outs.ports);
	free(outs.names);
	free(in_ports);
	o->final_img = cur;
	o->final_ns = n > 0 ? pkts[n - 1].ts_ns : 0;
	if (o->trace_port != NULL) {
		/* the account goes to stderr's side: stdout is the trace's */
		return 0;
	}
	if (!o->json && !verbose)
		printf("replayed %u packets (per-packet account in %s/verdicts.jsonl)\n", n, o->out);
	eng->account(e, cur, n, o->json);
	if (!o->json)
		printf("\noutputs: %s/<port>.pcap, %s/verdicts.jsonl\n", o->out, o->out);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	uint32_t n, max_len;

	parse_args(argc, argv, &o);
	struct vpc_image *img = load_topology(o.config, o.host);
	for (uint32_t i = 0; i < o.n_applies; i++) {
		o.applies[i].img = load_topology(o.applies[i].path, o.host);
		if (i > 0 && o.applies[i].at_ns < o.applies[i - 1].at_ns)
			die("--apply times must not go back (%s)", o.applies[i].path);
	}
	struct packet *pkts = read_inputs(&o, img, &n, &max_len);
	const struct replay_engine *eng = NULL;
	for (unsigned int i = 0; i < n_engines && eng == NULL; i++)
		if (strcmp(engines[i]->name, o.engine) == 0)
			eng = engines[i];
	if (eng == NULL)	/* parse_args knows every engine's name */
		die("engine '%s': this build has no %s engine (libbpf, clang and bpftool were "
		    "missing when it was configured)", o.engine, strcmp(o.engine, "xdp") ? o.engine : "XDP");
	if (o.trace_port != NULL)	/* the tables it will be traced on */
		trace_prepare(&o, o.n_applies > 0 ? o.applies[o.n_applies - 1].img : img);
	void *e = eng->open(&o, img, n, max_len);
	o.final_img = img;
	int ret = o.bench ? eng->bench(e, &o, img, pkts, n) :
		  o.n_inputs > 0 ? replay(&o, img, eng, e, pkts, n) : 0;
	if (ret == 0 && o.trace_port != NULL)
		ret = run_trace(&o, eng, e);
	eng->close(e, &o);
	free_inputs(&o, img, pkts, n);
	return ret;
}
