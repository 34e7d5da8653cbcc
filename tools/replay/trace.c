/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.c -- vpc-replay --trace: one packet through the engine's traced
 * pipeline (common/vpc_trace.h) on the topology's tables, after the
 * inputs (if any) were replayed, printed by lib/trace.c.  The packet is
 * described (--packet) or taken from a capture (--pcap, --index).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#include "vpc_trace_report.h"

/* Frame k (0: the first) of a capture, into buf; its length, and its
 * time in *ts. */
static uint32_t
pcap_frame(const char *path, uint64_t k, uint8_t *buf, uint32_t size, uint64_t *ts)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);

	if (pc == NULL)
		die("%s: not a pcap file (%s)", path, err);
	if (pcap_datalink(pc) != DLT_EN10MB) {
		pcap_close(pc);
		die("%s: not an Ethernet capture", path);
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	for (uint64_t i = 0;; i++) {
		int r = pcap_next_ex(pc, &h, &data);
		if (r != 1) {
			pcap_close(pc);
			die("%s: has no frame %llu (%llu frames)", path, (unsigned long long)k,
			    (unsigned long long)i);
		}
		if (i == k)
			break;
	}
	uint32_t len = h->caplen < size ? h->caplen : size;
	memcpy(buf, data, len);
	*ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	pcap_close(pc);
	return len;
}

/* The traced frame, made before the engine opens (a wrong description or
 * port is said before anything is allocated). */
static uint8_t *trace_in;
static uint32_t trace_len;
static uint64_t trace_ts;	/* a captured frame's time; 0: none */

void
trace_prepare(struct opts *o, const struct vpc_image *img)
{
	char err[256];
	int port = port_by_name(img, o->trace_port);

	if (port < 0)
		die("--trace %s: unknown port", o->trace_port);
	trace_in = malloc(REPLAY_MAX_FRAME);
	if (trace_in == NULL)
		die("out of memory");
	if (o->trace_packet != NULL) {
		int n = vpc_trace_frame(img, (uint32_t)port, o->trace_packet, trace_in,
					REPLAY_MAX_FRAME, err, sizeof(err));
		if (n < 0)
			die("--packet '%s': %s", o->trace_packet, err);
		trace_len = (uint32_t)n;
	} else {
		trace_len = pcap_frame(o->trace_pcap, o->trace_index, trace_in, REPLAY_MAX_FRAME,
				       &trace_ts);
	}
}

int
run_trace(struct opts *o, const struct replay_engine *eng, void *e)
{
	const struct vpc_image *img = o->final_img;
	int port = port_by_name(img, o->trace_port);

	if (port < 0 || trace_in == NULL)
		die("--trace %s: unknown port", o->trace_port);
	if (eng->trace == NULL)
		die("the %s engine cannot trace", eng->name);
	uint8_t *in = trace_in, *buf = malloc(REPLAY_MBUF_ROOM);
	if (buf == NULL)
		die("out of memory");
	uint32_t len = trace_len;
	/* The clock: a captured frame's time (as a replay would take it),
	 * else the replay's last packet's. */
	uint64_t now = o->trace_pcap != NULL ? trace_ts : o->final_ns;
	memcpy(buf, in, len);
	uint32_t out_len = len;
	struct vpc_verdict v;
	struct vpc_trace_buf tb;
	eng->trace(e, img, port, now, buf, &out_len, &v, &tb);
	struct vpc_trace_result r = {
		.in_port = (uint32_t)port, .in_frame = in, .in_len = len, .tb = &tb,
		.action = v.action, .path = v.path, .reason = v.reason,
		.out_port = v.action == VPC_ACT_REPLY ? (uint32_t)port :
			    v.action == VPC_ACT_DROP ? VPC_INDEX_NONE : v.out_port,
		.out_frame = buf, .out_len = out_len,
	};
	vpc_trace_print(stdout, img, &r, o->json);
	free(in);
	trace_in = NULL;
	free(buf);
	return 0;
}
