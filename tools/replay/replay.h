/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.h -- what vpc-replay's files share (the pcap replay harness,
 * docs/cli.md).
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
 * Bench: the same inputs, --loops times, in bursts of up to 32 packets of
 * one port, with no output; only the pipeline calls are timed (TSC), the
 * restoring of packet bytes between loops is not.
 *
 * DPDK runs in-process with --no-huge, --no-shconf and no devices: the user
 * needs no hugepages and no EAL flags.
 */
#ifndef VPC_REPLAY_H
#define VPC_REPLAY_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>

#include "conntrack.h"
#include "pipeline.h"
#include "vpc_image_io.h"
#include "vpc_lb_health.h"
#include "vpc_flow.h"

#define MAX_INPUTS 256
/* mbuf data rooms are 16-bit: the largest frame replay takes. */
#define REPLAY_MBUF_ROOM UINT16_MAX
#define REPLAY_MAX_FRAME (REPLAY_MBUF_ROOM - RTE_PKTMBUF_HEADROOM)

struct input {
	const char *port_name;
	const char *path;
	uint16_t port;
	bool nano;		/* the file's timestamps are nanoseconds */
};

struct packet {
	uint64_t ts_ns;
	uint32_t input;		/* index in inputs: the tie-break */
	uint32_t seq;		/* order in its file: the next tie-break */
	uint16_t port;
	uint32_t len;
	uint8_t *data;
};

/* A table change during the replay, at a capture time. */
struct apply {
	uint64_t at_ns;
	const char *path;
	bool revalidate;
	struct vpc_image *img;
	void *engine_tables;	/* what the engine prepared from img (DPDK: its tables) */
};

#define MAX_APPLIES 64

struct opts {
	const char *config;
	const char *host;	/* --host: one host's view of a hosts: topology */
	uint64_t max_conns;	/* 0: sized from the topology */
	uint64_t prefill;	/* bench: idle connections added first */
	bool bench_new;		/* bench: empty the connection table each loop */
	struct apply applies[MAX_APPLIES];
	uint32_t n_applies;
	const char *out;
	const char *engine;
	bool bench;
	bool json;
	uint64_t loops;		/* 0: enough for about two seconds */
	struct input inputs[MAX_INPUTS];
	uint32_t n_inputs;
	/* --trace PORT with --packet SPEC or --pcap FILE [--index K]: one
	 * packet traced after the replay of the inputs (if any) */
	const char *trace_port;
	const char *trace_packet;
	const char *trace_pcap;
	uint64_t trace_index;
	const struct vpc_image *final_img;	/* the tables the replay ended with */
	uint64_t final_ns;			/* and its last packet's time */
	const char *flow_logs;	/* --flow-logs DIR; NULL: off */
	uint32_t flow_interval;	/* s */
	const char *flow_account;	/* account-id; "-" by default */
};

/*
 * An engine, as the tools drive it: one table of operations, one
 * implementation per engine (engine_dpdk.c, engine_xdp.c); meson decides
 * which exist, and each registers itself at start-up.
 */
struct replay_engine {
	const char *name;
	/* Everything a replay or a bench needs: the topology's tables, each
	 * apply's (o->applies[i].engine_tables), the connection table.
	 * Exits with a message on failure. */
	void *(*open)(struct opts *o, const struct vpc_image *img, uint32_t n, uint32_t max_len);
	/* Process the len bytes at buf (rewritten in place; *len updated),
	 * received on port (an index in cur; -1: not a port any more). */
	void (*process)(void *e, const struct vpc_image *cur, int port, uint64_t now,
			uint8_t *buf, uint32_t *len, struct vpc_verdict *v);
	void (*apply)(void *e, struct apply *ap);
	/* The account of a replay of n packets (outputs.c prints it). */
	void (*account)(void *e, const struct vpc_image *cur, uint32_t n, bool json);
	int (*bench)(void *e, const struct opts *o, const struct vpc_image *img,
		     struct packet *pkts, uint32_t n);
	void (*close)(void *e, struct opts *o);
	/* Load balancers' health checks (vpc_lb_health.h), driven by the
	 * replay in capture time: the answer the engine recorded for target
	 * k, group g's healthy members, the end of a target's connections. */
	void (*lb_answer)(void *e, uint32_t k, struct vpc_lb_answer *out);
	void (*lb_healthy)(void *e, uint32_t g, uint64_t mask);
	void (*lb_drain)(void *e, uint32_t vpc, uint32_t ip, uint16_t port);
	/* As process, traced (common/vpc_trace.h): the connection table is
	 * read, not changed. */
	void (*trace)(void *e, const struct vpc_image *cur, int port, uint64_t now, uint8_t *buf,
		      uint32_t *len, struct vpc_verdict *v, struct vpc_trace_buf *tb);
	/* Flow logs (--flow-logs): the records the last packets produced,
	 * and at the end of the capture every pending one, each handed to
	 * sink.  NULL: not available. */
	void (*flow_drain)(void *e, void (*sink)(void *arg, const struct vpc_flow_rec *r),
			   void *arg);
	void (*flow_flush)(void *e, void (*sink)(void *arg, const struct vpc_flow_rec *r),
			   void *arg);
};

void replay_engine_register(const struct replay_engine *eng);

/* cmdline.c */
void usage(FILE *f);
__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);
uint64_t positive(const char *arg, const char *opt);
void parse_args(int argc, char **argv, struct opts *o);
struct vpc_image *load_topology(const char *path, const char *host);
int port_by_name(const struct vpc_image *img, const char *name);

/* pcap_io.c */
struct packet *read_inputs(struct opts *o, const struct vpc_image *img, uint32_t *n_out,
			   uint32_t *max_len);
void free_inputs(struct opts *o, struct vpc_image *img, struct packet *pkts, uint32_t n);

struct out_port {
	pcap_t *dead;
	pcap_dumper_t *dump;
	uint64_t packets;
};

struct outputs {
	char (*names)[VPC_NAME_SIZE];
	struct out_port *ports;
	uint32_t n;
};

void mkdir_p(const char *dir);
uint32_t output_of(struct outputs *outs, const char *name);
void outputs_add(struct outputs *outs, const struct vpc_image *img, const char *dir, bool nano);

/* outputs.c */
void json_str(FILE *f, const char *s);
void print_account(const struct vpc_image *img, const struct vpc_stats *st,
		   const struct vpc_ct_stats *cs, uint32_t tracked, uint32_t n, bool json);
void describe(FILE *f, const struct packet *p, const char *in_name, const struct vpc_image *img,
	      const uint8_t *buf, uint32_t len, const struct vpc_verdict *v);

/* trace.c: the frame checked and made before the engine opens, then
 * traced after the replay */
void trace_prepare(struct opts *o, const struct vpc_image *img);
int run_trace(struct opts *o, const struct replay_engine *eng, void *e);

/* main.c */
int replay(struct opts *o, const struct vpc_image *img, const struct replay_engine *eng,
	   void *e, struct packet *pkts, uint32_t n);

#endif /* VPC_REPLAY_H */
