/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_io.c -- the captures: inputs read and merged in timestamp order (ties: --in
 * order, then file order), one output capture per port.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"

static bool
file_is_nano(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint32_t magic = 0;
	if (f == NULL)
		return false;
	bool ok = fread(&magic, 4, 1, f) == 1;
	fclose(f);
	return ok && (magic == 0xa1b23c4d || magic == 0x4d3cb2a1);
}

static int
packet_cmp(const void *a, const void *b)
{
	const struct packet *x = a, *y = b;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	if (x->input != y->input)
		return x->input < y->input ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read every input (all checks before any packet is processed). */
struct packet *
read_inputs(struct opts *o, const struct vpc_image *img, uint32_t *n_out,
	    uint32_t *max_len)
{
	struct packet *pkts = NULL;
	size_t n = 0, cap = 0;

	*max_len = 0;
	for (uint32_t i = 0; i < o->n_inputs; i++) {
		struct input *in = &o->inputs[i];
		int port = port_by_name(img, in->port_name);
		if (port < 0) {
			char list[2048] = "";
			size_t off = 0;
			for (uint32_t p = 0; p < img->n_ports && off < sizeof(list) - 64; p++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							p ? ", " : "", img->ports[p].name);
			die("--in %s=%s: unknown port '%s' (the topology's ports: %s)",
			    in->port_name, in->path, in->port_name, list);
		}
		in->port = (uint16_t)port;
	}
	for (uint32_t i = 0; i < o->n_inputs; i++) {
		struct input *in = &o->inputs[i];
		char err[PCAP_ERRBUF_SIZE];
		struct stat st;
		if (stat(in->path, &st) < 0)
			die("%s: %s", in->path, strerror(errno));
		pcap_t *pc = pcap_open_offline_with_tstamp_precision(
			in->path, PCAP_TSTAMP_PRECISION_NANO, err);
		if (pc == NULL)
			die("%s: not a pcap file (%s)", in->path, err);
		if (pcap_datalink(pc) != DLT_EN10MB) {
			const char *lt = pcap_datalink_val_to_name(pcap_datalink(pc));
			pcap_close(pc);
			die("%s: link type %s, expected Ethernet (EN10MB)", in->path,
			    lt ? lt : "unknown");
		}
		in->nano = file_is_nano(in->path);
		struct pcap_pkthdr *h;
		const u_char *data;
		int ret;
		uint32_t seq = 0;
		while ((ret = pcap_next_ex(pc, &h, &data)) == 1) {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				pkts = realloc(pkts, cap * sizeof(*pkts));
				if (pkts == NULL)
					die("out of memory");
			}
			if (h->caplen > REPLAY_MAX_FRAME)
				die("%s: packet %u is %u bytes; the largest frame vpc-replay takes is %u",
				    in->path, seq, h->caplen, REPLAY_MAX_FRAME);
			struct packet *p = &pkts[n++];
			p->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
			p->input = i;
			p->seq = seq++;
			p->port = in->port;
			p->len = h->caplen;
			p->data = malloc(h->caplen ? h->caplen : 1);
			if (p->data == NULL)
				die("out of memory");
			memcpy(p->data, data, h->caplen);
			if (h->caplen > *max_len)
				*max_len = h->caplen;
		}
		if (ret == PCAP_ERROR)
			die("%s: %s", in->path, pcap_geterr(pc));
		pcap_close(pc);
	}
	if (n > 1)	/* (none at all with --trace alone: pkts is NULL) */
		qsort(pkts, n, sizeof(*pkts), packet_cmp);
	*n_out = (uint32_t)n;
	return pkts;
}

/* What main read before choosing an engine: the images and the packets. */
void
free_inputs(struct opts *o, struct vpc_image *img, struct packet *pkts, uint32_t n)
{
	for (uint32_t i = 0; i < o->n_applies; i++)
		vpc_image_free(o->applies[i].img);
	for (uint32_t i = 0; i < n; i++)
		free(pkts[i].data);
	free(pkts);
	vpc_image_free(img);
}

/* mkdir -p: the output directory and any missing parents. */
void
mkdir_p(const char *dir)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		die("%s: path too long", dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die("%s: %s", path, strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die("%s: not a directory", dir);
}

uint32_t
output_of(struct outputs *outs, const char *name)
{
	for (uint32_t i = 0; i < outs->n; i++)
		if (strcmp(outs->names[i], name) == 0)
			return i;
	return UINT32_MAX;
}

void
outputs_add(struct outputs *outs, const struct vpc_image *img, const char *dir, bool nano)
{
	char path[4096];

	for (uint32_t p = 0; p < img->n_ports; p++) {
		if (output_of(outs, img->ports[p].name) != UINT32_MAX)
			continue;
		outs->names = realloc(outs->names, (outs->n + 1) * sizeof(*outs->names));
		outs->ports = realloc(outs->ports, (outs->n + 1) * sizeof(*outs->ports));
		if (outs->names == NULL || outs->ports == NULL)
			die("out of memory");
		struct out_port *op = &outs->ports[outs->n];
		memcpy(outs->names[outs->n], img->ports[p].name, VPC_NAME_SIZE);
		snprintf(path, sizeof(path), "%s/%s.pcap", dir, img->ports[p].name);
		op->packets = 0;
		op->dead = pcap_open_dead_with_tstamp_precision(
			DLT_EN10MB, 65535,
			nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
		op->dump = pcap_dump_open(op->dead, path);
		if (op->dump == NULL)
			die("%s: %s", path, pcap_geterr(op->dead));
		outs->n++;
	}
}
