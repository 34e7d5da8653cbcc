/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc-replay -- the pcap replay harness (docs/cli.md).
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
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "compile.h"
#include "conntrack.h"
#include "pipeline.h"
#include "tables.h"
#include "topo.h"
#include "vpc_image_io.h"
#ifdef VPC_HAVE_XDP
#include "vpc_xdp.h"
#endif

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
	struct vpc_tables *tables;
};

#define MAX_APPLIES 64

struct opts {
	const char *config;
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
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vpc-replay --config TOPO.yaml --in PORT=IN.pcap [--in PORT=IN.pcap ...] --out DIR\n"
		"                  [--engine dpdk|xdp] [--bench [--loops N]] [--json]\n"
		"                  [--apply TIME=TOPO.yaml] [--apply-revalidate TIME=TOPO.yaml]\n"
		"                  [--max-connections N] [--bench-new-connections] [--prefill N]\n");
}

static __attribute__((format(printf, 1, 2), noreturn)) void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vpc-replay: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t
positive(const char *arg, const char *opt)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || v == 0 || arg[0] == '-') {
		fprintf(stderr, "vpc-replay: %s needs a positive integer, got '%s'\n", opt, arg);
		exit(2);
	}
	return v;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "engine", required_argument, NULL, 'e' },
		{ "bench", no_argument, NULL, 'b' },
		{ "loops", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "apply", required_argument, NULL, 'A' },
		{ "apply-revalidate", required_argument, NULL, 'R' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "bench-new-connections", no_argument, NULL, 'N' },
		{ "prefill", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->engine = "dpdk";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'e':
			o->engine = optarg;
			break;
		case 'b':
			o->bench = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			o->loops = positive(optarg, "--loops");
			break;
		case 'M':
			o->max_conns = positive(optarg, "--max-connections");
			if (o->max_conns > (1u << 26)) {
				fprintf(stderr, "vpc-replay: --max-connections: at most %u\n", 1u << 26);
				exit(2);
			}
			break;
		case 'P':
			o->prefill = positive(optarg, "--prefill");
			break;
		case 'N':
			o->bench_new = true;
			break;
		case 'A':
		case 'R': {
			char *eq = strchr(optarg, '=');
			char *end;
			if (eq == NULL || eq == optarg || eq[1] == '\0') {
				fprintf(stderr, "vpc-replay: --apply needs TIME=FILE (TIME in seconds of capture time), got '%s'\n", optarg);
				exit(2);
			}
			*eq = '\0';
			errno = 0;
			double at = strtod(optarg, &end);
			if (errno || *end || at < 0) {
				fprintf(stderr, "vpc-replay: --apply: '%s' is not a time in seconds\n", optarg);
				exit(2);
			}
			if (o->n_applies == MAX_APPLIES) {
				fprintf(stderr, "vpc-replay: at most %d --apply\n", MAX_APPLIES);
				exit(2);
			}
			o->applies[o->n_applies++] = (struct apply){
				(uint64_t)(at * 1e9 + 0.5), eq + 1, c == 'R', NULL, NULL };
			break;
		}
		case 'i': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg || eq[1] == '\0') {
				fprintf(stderr, "vpc-replay: --in needs PORT=FILE, got '%s'\n", optarg);
				exit(2);
			}
			if (o->n_inputs == MAX_INPUTS) {
				fprintf(stderr, "vpc-replay: at most %d --in\n", MAX_INPUTS);
				exit(2);
			}
			*eq = '\0';
			o->inputs[o->n_inputs++] = (struct input){ optarg, eq + 1, 0, false };
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "vpc-replay: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vpc-replay: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
	if (o->config == NULL || o->n_inputs == 0 || (o->out == NULL && !o->bench)) {
		fprintf(stderr, "vpc-replay: --config, --in and --out are required\n");
		usage(stderr);
		exit(2);
	}
	if (strcmp(o->engine, "dpdk") != 0 && strcmp(o->engine, "xdp") != 0) {
		fprintf(stderr, "vpc-replay: unknown engine '%s' (expected dpdk or xdp)\n", o->engine);
		exit(2);
	}
	if ((o->loops || o->bench_new || o->prefill) && !o->bench) {
		fprintf(stderr, "vpc-replay: --loops, --bench-new-connections and --prefill need --bench\n");
		exit(2);
	}
	if (o->bench && o->n_applies) {
		fprintf(stderr, "vpc-replay: --apply cannot be combined with --bench\n");
		exit(2);
	}
}

/* A topology file, or an image compiled by `vpcctl compile`. */
static struct vpc_image *
load_topology(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	fclose(f);
	struct vpc_image *img = vpc_image_load(path, stderr);
	if (img == NULL)
		die("%s: invalid topology", path);
	return img;
}

static int
port_by_name(const struct vpc_image *img, const char *name)
{
	for (uint32_t p = 0; p < img->n_ports; p++)
		if (strcmp(img->ports[p].name, name) == 0)
			return (int)p;
	return -1;
}

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
static struct packet *
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
	qsort(pkts, n, sizeof(*pkts), packet_cmp);
	*n_out = (uint32_t)n;
	return pkts;
}

/* Connection-table size: the flag, or from the topology (plus room for
 * the bench's idle connections). */
static uint32_t
ct_size(const struct opts *o, const struct vpc_image *img)
{
	if (o->max_conns)
		return (uint32_t)o->max_conns;
	return vpc_ct_default_size(img->n_ifaces) + (uint32_t)o->prefill;
}

static char eal_rundir[4096];	/* the EAL's runtime directory */

/* The runtime directory the EAL made (it makes one even with
 * --no-shconf, and leaves it): removed at exit, whichever way. */
static void
remove_rundir(void)
{
	DIR *dir = opendir(eal_rundir);
	if (dir != NULL) {
		struct dirent *de;
		while ((de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				unlinkat(dirfd(dir), de->d_name, 0);
		closedir(dir);
	}
	rmdir(eal_rundir);
}

static void
eal_init(const struct opts *o, const struct vpc_image *img, uint32_t n_mbufs, uint32_t room)
{
	char mem[32], prefix[64];
	uint64_t need = vpc_tables_memory(img) + (uint64_t)n_mbufs * (room + 512) +
			vpc_ct_memory(ct_size(o, img)) + (64u << 20);
	for (uint32_t i = 0; i < o->n_applies; i++)
		need += vpc_tables_memory(o->applies[i].img);
	snprintf(mem, sizeof(mem), "%" PRIu64, (need >> 20) + 1);
	/* No shared config and a per-process prefix: any number of replays
	 * may run at once, and none leaves files behind. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=vpc-replay-%d", (int)getpid());
	char *args[] = {
		"vpc-replay", "--no-huge", "-m", mem, "--no-pci", "--no-shconf",
		prefix, "--no-telemetry", "-l", "0", "--log-level=error", NULL,
	};
	int argc = (int)(sizeof(args) / sizeof(args[0])) - 1;
	if (rte_eal_init(argc, args) < 0)
		die("DPDK initialisation failed: %s", rte_strerror(rte_errno));
	snprintf(eal_rundir, sizeof(eal_rundir), "%s", rte_eal_get_runtime_dir());
	atexit(remove_rundir);
}

struct out_port {
	pcap_t *dead;
	pcap_dumper_t *dump;
	uint64_t packets;
};

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
print_account(const struct vpc_image *img, const struct vpc_stats *st,
	      const struct vpc_ct_stats *cs, uint32_t live, uint32_t n, bool json)
{
	uint64_t fwd = 0, drop = 0, reply = st->paths[VPC_PATH_ARP_REPLY];
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		drop += st->drops[r];
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (p != VPC_PATH_ARP_REPLY)
			fwd += st->paths[p];
	if (json) {
		printf("{\"packets\":%u,\"forwarded\":%" PRIu64 ",\"replied\":%" PRIu64
		       ",\"dropped\":%" PRIu64 ",\"paths\":{", n, fwd, reply, drop);
		bool first = true;
		for (int p = 1; p < VPC_PATH_COUNT; p++)
			if (st->paths[p]) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",", vpc_path_name((unsigned)p), st->paths[p]);
				first = false;
			}
		printf("},\"drops\":{");
		first = true;
		for (int r = 1; r < VPC_DROP_COUNT; r++)
			if (st->drops[r]) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",", vpc_drop_name((unsigned)r), st->drops[r]);
				first = false;
			}
		printf("},\"connections\":{\"created\":%" PRIu64 ",\"expired\":%" PRIu64
		       ",\"refused\":%" PRIu64 ",\"live\":%u},\"ports\":{",
		       cs->created, cs->expired, cs->refused_full, live);
		for (uint32_t p = 0; p < img->n_ports; p++) {
			const struct vpc_port_stats *ps = &st->ports[p];
			printf("%s", p ? "," : "");
			json_str(stdout, img->ports[p].name);
			printf(":{\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			       ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
			       ",\"drops\":%" PRIu64 "}",
			       ps->rx_packets, ps->rx_bytes, ps->tx_packets, ps->tx_bytes, ps->drops);
		}
		printf("}}\n");
		return;
	}
	printf("\n%u packets: %" PRIu64 " forwarded, %" PRIu64 " answered, %" PRIu64 " dropped\n",
	       n, fwd, reply, drop);
	printf("\npaths:\n");
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		if (st->paths[p])
			printf("  %-22s %10" PRIu64 "\n", vpc_path_name((unsigned)p), st->paths[p]);
	printf("\ndrops:\n");
	if (drop == 0)
		printf("  none\n");
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		if (st->drops[r])
			printf("  %-22s %10" PRIu64 "   %s\n", vpc_drop_name((unsigned)r),
			       st->drops[r], vpc_drop_description((unsigned)r));
	printf("\nconnections: %" PRIu64 " opened, %" PRIu64 " expired, %" PRIu64
	       " refused (table full), %u tracked at the end\n",
	       cs->created, cs->expired, cs->refused_full, live);
	printf("\nports:                  rx pkts    rx bytes    tx pkts    tx bytes      drops\n");
	for (uint32_t p = 0; p < img->n_ports; p++) {
		const struct vpc_port_stats *ps = &st->ports[p];
		printf("  %-18s %10" PRIu64 " %11" PRIu64 " %10" PRIu64 " %11" PRIu64 " %10" PRIu64 "\n",
		       img->ports[p].name, ps->rx_packets, ps->rx_bytes,
		       ps->tx_packets, ps->tx_bytes, ps->drops);
	}
}

/* One readable line per packet: what it was, what happened, why. */
static void
describe(FILE *f, const struct packet *p, const char *in_name, const struct vpc_image *img,
	 const uint8_t *out, uint32_t out_len, const struct vpc_verdict *v)
{
	const uint8_t *d = p->data;
	char what[128] = "frame";
	if (p->len >= 34 && d[12] == 0x08 && d[13] == 0x00) {
		const uint8_t *ip = d + 14;
		static const char *const pn[256] = { [1] = "icmp", [6] = "tcp", [17] = "udp" };
		char proto[16];
		if (pn[ip[9]] != NULL)
			snprintf(proto, sizeof(proto), "%s", pn[ip[9]]);
		else
			snprintf(proto, sizeof(proto), "proto %u", ip[9]);
		uint32_t ihl = (ip[0] & 0xf) * 4u;
		if (ip[9] == 6 && p->len >= 14 + ihl + 14) {
			char fl[8] = "";
			int k = 0;
			const uint8_t tf = d[14 + ihl + 13];
			static const char letters[] = "FSRPA";
			for (int b = 0; b < 5; b++)
				if (tf & (1 << b))
					fl[k++] = letters[b];
			snprintf(proto, sizeof(proto), "tcp [%s]", fl);
		}
		if ((ip[9] == 6 || ip[9] == 17) && p->len >= 14 + ihl + 4)
			snprintf(what, sizeof(what), "%s %u.%u.%u.%u:%u > %u.%u.%u.%u:%u", proto,
				 ip[12], ip[13], ip[14], ip[15], d[14 + ihl] << 8 | d[15 + ihl],
				 ip[16], ip[17], ip[18], ip[19], d[16 + ihl] << 8 | d[17 + ihl]);
		else
			snprintf(what, sizeof(what), "%s %u.%u.%u.%u > %u.%u.%u.%u", proto,
				 ip[12], ip[13], ip[14], ip[15], ip[16], ip[17], ip[18], ip[19]);
	} else if (p->len >= 42 && d[12] == 0x08 && d[13] == 0x06) {
		snprintf(what, sizeof(what), "arp %s who-has %u.%u.%u.%u tell %u.%u.%u.%u",
			 d[21] == 1 ? "request" : "reply", d[38], d[39], d[40], d[41],
			 d[28], d[29], d[30], d[31]);
	}
	fprintf(f, "  %-10s %-52s ", in_name, what);
	if (v->action == VPC_ACT_DROP)
		fprintf(f, "DROP %s (%s)\n", vpc_drop_name(v->reason), vpc_drop_description(v->reason));
	else if (v->action == VPC_ACT_REPLY)
		fprintf(f, "REPLY %s\n", vpc_path_name(v->path));
	else if (v->path == VPC_PATH_IGW_EGRESS && out_len >= 34)
		fprintf(f, "-> %-10s %s, source now %u.%u.%u.%u\n", img->ports[v->out_port].name,
			vpc_path_name(v->path), out[26], out[27], out[28], out[29]);
	else if (v->path == VPC_PATH_IGW_INGRESS && out_len >= 34)
		fprintf(f, "-> %-10s %s, destination now %u.%u.%u.%u\n", img->ports[v->out_port].name,
			vpc_path_name(v->path), out[30], out[31], out[32], out[33]);
	else
		fprintf(f, "-> %-10s %s\n", img->ports[v->out_port].name, vpc_path_name(v->path));
}

/* mkdir -p: the output directory and any missing parents. */
static void
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

/* Outputs are per port name: an apply may add ports. */
struct outputs {
	char (*names)[VPC_NAME_SIZE];
	struct out_port *ports;
	uint32_t n;
};

static uint32_t
output_of(struct outputs *outs, const char *name)
{
	for (uint32_t i = 0; i < outs->n; i++)
		if (strcmp(outs->names[i], name) == 0)
			return i;
	return UINT32_MAX;
}

static void
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

/* An engine as replay drives it: one packet at a time, applies, counters. */
struct engine {
	/* Process the len bytes at buf (rewritten in place; *len updated),
	 * received on port (an index in cur; -1: not a port any more). */
	void (*process)(struct engine *e, const struct vpc_image *cur, int port, uint64_t now,
			uint8_t *buf, uint32_t *len, struct vpc_verdict *v);
	void (*apply)(struct engine *e, struct apply *ap);
	void (*account)(struct engine *e, const struct vpc_image *cur, uint32_t n, bool json);
	/* DPDK */
	struct vpc_pipeline *pl;
	struct vpc_ct *ct;
	struct rte_mempool *mp;
	const struct vpc_tables *t;
	uint32_t gen;
#ifdef VPC_HAVE_XDP
	struct vpc_xdp *x;
	struct vpc_xdp_port_table *ports;	/* slot -> name, after each publish */
	uint64_t short_frames;	/* shorter than the kernel will test-run */
#endif
};

static void
dpdk_process(struct engine *e, const struct vpc_image *cur, int port, uint64_t now,
	     uint8_t *buf, uint32_t *len, struct vpc_verdict *v)
{
	(void)cur;
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->mp);
	if (m == NULL)
		die("out of mbufs");
	uint8_t *dst = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)*len);
	if (dst == NULL && *len > 0)
		die("a packet of %u bytes does not fit an mbuf", *len);
	memcpy(dst, buf, *len);
	/* A port the tables no longer have: an index past them. */
	uint16_t in_port = port < 0 ? (uint16_t)e->t->n_ports : (uint16_t)port;
	m->port = in_port;
	vpc_pipeline_process(e->pl, in_port, &m, 1, now, v);
	*len = rte_pktmbuf_data_len(m);
	memcpy(buf, rte_pktmbuf_mtod(m, const uint8_t *), *len);
	rte_pktmbuf_free(m);
}

static void
dpdk_apply(struct engine *e, struct apply *ap)
{
	ap->tables->generation = ++e->gen;
	ap->tables->revalidate = ap->revalidate;
	if (vpc_pipeline_set_tables(e->pl, ap->tables) < 0)
		die("out of memory");
	e->t = ap->tables;
}

static void
dpdk_account(struct engine *e, const struct vpc_image *cur, uint32_t n, bool json)
{
	print_account(cur, vpc_pipeline_stats(e->pl), vpc_ct_stats(e->ct), vpc_ct_count(e->ct),
		      n, json);
}

static int
replay(struct opts *o, const struct vpc_image *img, struct engine *eng,
       struct packet *pkts, uint32_t n)
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
	for (uint32_t i = 0; i < n; i++) {
		struct packet *p = &pkts[i];
		while (next_apply < o->n_applies && o->applies[next_apply].at_ns <= p->ts_ns) {
			struct apply *ap = &o->applies[next_apply++];
			eng->apply(eng, ap);
			cur = ap->img;
			for (uint32_t k = 0; k < o->n_inputs; k++)
				in_ports[k] = port_by_name(cur, o->inputs[k].port_name);
			if (verbose)
				printf("  -- applied %s%s\n", ap->path,
				       ap->revalidate ? " (revalidating connections)" : "");
		}
		const char *in_name = o->inputs[p->input].port_name;
		int port = in_ports[p->input];
		struct vpc_verdict v;
		uint32_t len = p->len;
		memcpy(buf, p->data, len);
		eng->process(eng, cur, port, p->ts_ns, buf, &len, &v);

		const char *out_name = v.action == VPC_ACT_DROP ? NULL : cur->ports[v.out_port].name;
		if (out_name != NULL) {
			struct pcap_pkthdr h = {
				.caplen = len,
				.len = len,
			};
			h.ts.tv_sec = (time_t)(p->ts_ns / 1000000000ull);
			h.ts.tv_usec = (suseconds_t)(p->ts_ns % 1000000000ull);
			if (!nano)
				h.ts.tv_usec /= 1000;
			struct out_port *op = &outs.ports[output_of(&outs, out_name)];
			pcap_dump((u_char *)op->dump, &h, buf);
			op->packets++;
		}
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
	}
	free(buf);
	if (fclose(vf) != 0)
		die("verdicts.jsonl: %s", strerror(errno));
	for (uint32_t q = 0; q < outs.n; q++) {
		pcap_dump_close(outs.ports[q].dump);
		pcap_close(outs.ports[q].dead);
	}
	free(outs.ports);
	free(outs.names);
	free(in_ports);
	if (!o->json && !verbose)
		printf("replayed %u packets (per-packet account in %s/verdicts.jsonl)\n", n, o->out);
	eng->account(eng, cur, n, o->json);
	if (!o->json)
		printf("\noutputs: %s/<port>.pcap, %s/verdicts.jsonl\n", o->out, o->out);
	return 0;
}

/* Idle connections in a context no packet uses (VNI 0xffffff). */
static void
prefill(struct vpc_ct *ct, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct vpc_ct_key f = {
			.ctx_proto = 0xffffff00u | 253,
			.src = rte_cpu_to_be_32((uint32_t)i),
			.dst = rte_cpu_to_be_32((uint32_t)(i >> 32) + 1),
		};
		struct vpc_ct_key r = f;
		r.src = f.dst;
		r.dst = f.src;
		struct vpc_ct_entry init = { .trk.state = VPC_CT_OTHER, .expires = UINT64_MAX };
		if (vpc_ct_create_conn(ct, &f, &r, 0, &init) < 0)
			die("--prefill: the connection table is full after %" PRIu64
			    " connections (raise --max-connections)", i);
	}
}

static int
bench(const struct opts *o, struct vpc_pipeline *pl, struct vpc_ct *ct,
      struct packet *pkts, uint32_t n, struct rte_mempool *mp)
{
	struct rte_mbuf **mb = calloc(n, sizeof(*mb));
	struct vpc_verdict v[VPC_BURST_MAX];

	if (mb == NULL || rte_pktmbuf_alloc_bulk(mp, mb, n) < 0)
		die("out of mbufs for %u packets", n);
	for (uint32_t i = 0; i < n; i++)
		if (rte_pktmbuf_append(mb[i], (uint16_t)pkts[i].len) == NULL && pkts[i].len)
			die("packet %u does not fit an mbuf", i);

	uint64_t hz = rte_get_tsc_hz(), cycles = 0, loops = o->loops, done = 0;
	if (o->prefill)
		prefill(ct, o->prefill);
	for (uint64_t loop = 0; loop < loops || loops == 0; loop++) {
		/* Untimed: every flow's first packet opens a new connection. */
		if (o->bench_new) {
			vpc_ct_flush(ct);
			if (o->prefill)
				prefill(ct, o->prefill);
		}
		/* Untimed: fresh packet bytes, as a NIC would deliver them. */
		for (uint32_t i = 0; i < n; i++) {
			memcpy(rte_pktmbuf_mtod(mb[i], void *), pkts[i].data, pkts[i].len);
			mb[i]->port = pkts[i].port;
		}
		for (uint32_t i = 0; i < n;) {
			uint16_t k = 1;
			while (i + k < n && k < VPC_BURST_MAX && pkts[i + k].port == pkts[i].port)
				k++;
			uint64_t t0 = rte_rdtsc_precise();
			vpc_pipeline_process(pl, pkts[i].port, &mb[i], k, pkts[i].ts_ns, v);
			cycles += rte_rdtsc_precise() - t0;
			i += k;
		}
		done++;
		if (loops == 0 && cycles > 0) {
			/* Calibrated by the first loop: about two seconds in all. */
			loops = (2 * hz + cycles - 1) / cycles;
			if (loops < 1)
				loops = 1;
		}
	}
	uint64_t packets = done * n;
	double secs = (double)cycles / (double)hz;
	double mpps = packets / secs / 1e6;
	double ns = secs * 1e9 / (double)packets;
	double cpp = (double)cycles / (double)packets;
	if (o->json)
		printf("{\"engine\":\"%s\",\"connections\":%u,\"packets\":%" PRIu64 ",\"loops\":%" PRIu64
		       ",\"seconds\":%.6f,\"mpps\":%.3f,\"ns_per_packet\":%.2f,"
		       "\"cycles_per_packet\":%.1f,\"tsc_hz\":%" PRIu64 "}\n",
		       o->engine, vpc_ct_count(ct), packets, done, secs, mpps, ns, cpp, hz);
	else
		printf("engine:        %s\nconnections:   %u at the end\npackets:       %" PRIu64 " (%u x %" PRIu64 " loops)\n"
		       "seconds:       %.6f\nMpps:          %.3f\nns/packet:     %.2f\n"
		       "cycles/packet: %.1f (TSC %.3f GHz)\n",
		       o->engine, vpc_ct_count(ct), packets, n, done, secs, mpps, ns, cpp, hz / 1e9);
	rte_pktmbuf_free_bulk(mb, n);
	free(mb);
	return 0;
}

/* What main read before choosing an engine: the images and the packets. */
static void
free_inputs(struct opts *o, struct vpc_image *img, struct packet *pkts, uint32_t n)
{
	for (uint32_t i = 0; i < o->n_applies; i++)
		vpc_image_free(o->applies[i].img);
	for (uint32_t i = 0; i < n; i++)
		free(pkts[i].data);
	free(pkts);
	vpc_image_free(img);
}

#ifdef VPC_HAVE_XDP
/* ---- the XDP engine: the BPF program, run by BPF_PROG_TEST_RUN ---- */

/* The kernel test-runs nothing shorter than an Ethernet header (no device
 * delivers such a frame either): replay drops those itself, with the
 * reason the program gives a short frame. */
#define XDP_MIN_FRAME 14

static void
xdp_publish(struct engine *e, const struct vpc_image *img, bool revalidate, const char *what)
{
	static struct vpc_xdp_published pub;
	char err[256];

	if (vpc_xdp_publish(vpc_xdp_fds(e->x), img, revalidate, NULL, &pub, err, sizeof(err)) < 0)
		die("%s: %s", what, err);
	if (vpc_xdp_port_table(vpc_xdp_fds(e->x), e->ports) < 0)
		die("%s: reading the port slots failed", what);
}

static void
xdp_process(struct engine *e, const struct vpc_image *cur, int port, uint64_t now,
	    uint8_t *buf, uint32_t *len, struct vpc_verdict *v)
{
	const struct vpc_xdp_fds *f = vpc_xdp_fds(e->x);
	struct vpc_xdp_verdict xv;

	memset(v, 0, sizeof(*v));
	if (*len < XDP_MIN_FRAME) {
		v->action = VPC_ACT_DROP;
		v->reason = VPC_DROP_FRAME_TRUNCATED;
		e->short_frames++;
		return;
	}
	/* A port the tables no longer have: a slot they do not name. */
	int slot = port < 0 ? -1 : vpc_xdp_slot(f, cur->ports[port].name);
	int r = vpc_xdp_run(e->x, slot < 0 ? VPC_XDP_MAX_PORTS - 1 : (uint32_t)slot, now, buf,
			    *len, len, &xv);
	if (r < 0)
		die("BPF_PROG_TEST_RUN: %s", strerror(-r));
	v->action = xv.action;
	v->path = xv.path;
	v->reason = xv.reason;
	v->out_port = UINT16_MAX;
	if (xv.action != VPC_ACT_DROP) {
		int p = xv.out_slot < VPC_XDP_MAX_PORTS ? port_by_name(cur, e->ports->name[xv.out_slot]) : -1;
		if (p < 0)
			die("the XDP program sent a packet to slot %u, which is no port", xv.out_slot);
		v->out_port = (uint16_t)p;
	}
}

static void
xdp_apply(struct engine *e, struct apply *ap)
{
	xdp_publish(e, ap->img, ap->revalidate, ap->path);
}

static void
xdp_account(struct engine *e, const struct vpc_image *cur, uint32_t n, bool json)
{
	const struct vpc_xdp_fds *f = vpc_xdp_fds(e->x);
	static struct vpc_xdp_port_stats ps[VPC_XDP_MAX_PORTS];
	struct vpc_xdp_stats xs;
	struct vpc_stats st = { 0 };
	struct vpc_ct_stats cs = { 0 };

	if (vpc_xdp_read_stats(f, &xs, ps) < 0)
		die("reading the XDP counters failed");
	st.packets = xs.packets + e->short_frames;
	for (int r = 0; r < VPC_DROP_COUNT; r++)
		st.drops[r] = xs.drops[r];
	st.drops[VPC_DROP_FRAME_TRUNCATED] += e->short_frames;
	for (int p = 0; p < VPC_PATH_COUNT; p++)
		st.paths[p] = xs.paths[p];
	st.n_ports = cur->n_ports;
	st.ports = calloc(cur->n_ports + 1, sizeof(*st.ports));
	if (st.ports == NULL)
		die("out of memory");
	for (uint32_t p = 0; p < cur->n_ports; p++) {
		int slot = vpc_xdp_slot(f, cur->ports[p].name);
		if (slot < 0)
			continue;
		st.ports[p] = (struct vpc_port_stats){
			ps[slot].rx_packets, ps[slot].rx_bytes, ps[slot].tx_packets,
			ps[slot].tx_bytes, ps[slot].drops,
		};
	}
	cs.created = xs.ct_created;
	cs.expired = xs.ct_expired;
	cs.refused_full = xs.ct_refused_full;
	print_account(cur, &st, &cs, vpc_xdp_ct_count(f), n, json);
	free(st.ports);
}

/*
 * Bench: every packet, loop after loop, run once per BPF_PROG_TEST_RUN
 * call (a repeated run would see its own rewrites); the kernel times each
 * run.  The first loop, untimed, opens the connections.  The same runs of
 * an empty XDP program give the measurement's own cost, reported beside.
 */
static int
xdp_bench(const struct opts *o, struct engine *e, const struct vpc_image *img,
	  struct packet *pkts, uint32_t n)
{
	const struct vpc_xdp_fds *f = vpc_xdp_fds(e->x);
	uint8_t *buf = malloc(REPLAY_MBUF_ROOM);
	uint32_t *slots = calloc(n + 1, sizeof(uint32_t));
	struct vpc_verdict v;
	double ns, total = 0, base = 0, wall0 = (double)vpc_xdp_now();
	uint64_t packets = 0, loops = o->loops, done = 0;

	if (buf == NULL || slots == NULL)
		die("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = pkts[i].len;
		memcpy(buf, pkts[i].data, len);
		if (!o->bench_new)
			xdp_process(e, img, pkts[i].port, pkts[i].ts_ns, buf, &len, &v);
		int s = vpc_xdp_slot(f, img->ports[pkts[i].port].name);
		slots[i] = s < 0 ? 0 : (uint32_t)s;
	}
	for (uint64_t loop = 0; loop < loops || loops == 0; loop++) {
		if (o->bench_new)	/* untimed: every flow opens anew */
			vpc_xdp_ct_flush(f);
		for (uint32_t i = 0; i < n; i++) {
			if (pkts[i].len < XDP_MIN_FRAME)
				continue;
			if (vpc_xdp_bench(e->x, slots[i], pkts[i].ts_ns, pkts[i].data, pkts[i].len,
					  false, &ns) < 0)
				die("BPF_PROG_TEST_RUN: %s", strerror(errno));
			total += ns;
			if (vpc_xdp_bench(e->x, slots[i], pkts[i].ts_ns, pkts[i].data, pkts[i].len,
					  true, &ns) < 0)
				die("BPF_PROG_TEST_RUN: %s", strerror(errno));
			base += ns;
			packets++;
		}
		done++;
		/* About two seconds of wall time in all, calls included. */
		if (loops == 0 && (double)vpc_xdp_now() - wall0 > 2e9)
			break;
	}
	double secs = total / 1e9;
	double per = packets ? total / (double)packets : 0;
	double per_base = packets ? base / (double)packets : 0;
	double mpps = secs > 0 ? (double)packets / secs / 1e6 : 0;
	if (o->json)
		printf("{\"engine\":\"xdp\",\"connections\":%u,\"packets\":%" PRIu64 ",\"loops\":%" PRIu64
		       ",\"seconds\":%.6f,\"mpps\":%.3f,\"ns_per_packet\":%.2f,"
		       "\"baseline_ns_per_packet\":%.2f,\"cycles_per_packet\":null}\n",
		       vpc_xdp_ct_count(f), packets, done, secs, mpps, per, per_base);
	else
		printf("engine:        xdp (BPF_PROG_TEST_RUN, the kernel timing each run)\n"
		       "connections:   %u at the end\npackets:       %" PRIu64 " (%u x %" PRIu64 " loops)\n"
		       "seconds:       %.6f (the runs alone)\nMpps:          %.3f\n"
		       "ns/packet:     %.2f\nbaseline:      %.2f ns/packet for an empty XDP program, "
		       "timed the same way\ncycles/packet: n/a (the kernel reports time only)\n",
		       vpc_xdp_ct_count(f), packets, n, done, secs, mpps, per, per_base);
	free(slots);
	free(buf);
	return 0;
}

static int
xdp_main(struct opts *o, const struct vpc_image *img, struct packet *pkts, uint32_t n)
{
	char err[256];
	struct engine e = {
		.process = xdp_process, .apply = xdp_apply, .account = xdp_account,
	};
	uint32_t conns = o->max_conns ? (uint32_t)o->max_conns :
			 vpc_ct_default_size(img->n_ifaces) + (uint32_t)o->prefill;

	if (o->prefill)
		die("--prefill: not available with --engine xdp");
	e.x = vpc_xdp_load(true, conns, err, sizeof(err));
	e.ports = malloc(sizeof(*e.ports));
	if (e.x == NULL)
		die("%s", err);
	if (e.ports == NULL)
		die("out of memory");
	xdp_publish(&e, img, false, o->config);
	int ret = o->bench ? xdp_bench(o, &e, img, pkts, n) : replay(o, img, &e, pkts, n);
	vpc_xdp_free(e.x);
	free(e.ports);
	free_inputs(o, (struct vpc_image *)img, pkts, n);
	return ret;
}
#endif

int
main(int argc, char **argv)
{
	struct opts o;
	char err[256];
	uint32_t n, max_len;

	parse_args(argc, argv, &o);
	struct vpc_image *img = load_topology(o.config);
	for (uint32_t i = 0; i < o.n_applies; i++) {
		o.applies[i].img = load_topology(o.applies[i].path);
		if (i > 0 && o.applies[i].at_ns < o.applies[i - 1].at_ns)
			die("--apply times must not go back (%s)", o.applies[i].path);
	}
	struct packet *pkts = read_inputs(&o, img, &n, &max_len);
	if (strcmp(o.engine, "xdp") == 0) {
#ifdef VPC_HAVE_XDP
		return xdp_main(&o, img, pkts, n);
#else
		die("engine 'xdp': this build has no XDP engine (libbpf, clang and bpftool were "
		    "missing when it was configured)");
#endif
	}

	uint32_t room = o.bench ? max_len + RTE_PKTMBUF_HEADROOM : REPLAY_MBUF_ROOM;
	if (room > REPLAY_MBUF_ROOM)
		room = REPLAY_MBUF_ROOM;
	uint32_t n_mbufs = o.bench ? n + 64 : 64;
	if (room < RTE_MBUF_DEFAULT_BUF_SIZE)
		room = RTE_MBUF_DEFAULT_BUF_SIZE;
	eal_init(&o, img, n_mbufs, room);
	struct rte_mempool *mp = rte_pktmbuf_pool_create("replay", n_mbufs, 0, 0,
							 (uint16_t)room, SOCKET_ID_ANY);
	if (mp == NULL)
		die("mbuf pool: %s", rte_strerror(rte_errno));
	struct vpc_tables *t = vpc_tables_create(img, SOCKET_ID_ANY, err, sizeof(err));
	if (t == NULL)
		die("tables: %s", err);
	for (uint32_t i = 0; i < o.n_applies; i++) {
		o.applies[i].tables = vpc_tables_create(o.applies[i].img, SOCKET_ID_ANY, err, sizeof(err));
		if (o.applies[i].tables == NULL)
			die("%s: tables: %s", o.applies[i].path, err);
	}
	struct vpc_ct *ct = vpc_ct_create("replay", ct_size(&o, img), SOCKET_ID_ANY);
	if (ct == NULL)
		die("connection table of %u entries: %s", ct_size(&o, img), strerror(errno));
	struct vpc_pipeline *pl = vpc_pipeline_create(t, ct);
	if (pl == NULL)
		die("pipeline: %s", strerror(errno));

	struct engine eng = {
		.process = dpdk_process, .apply = dpdk_apply, .account = dpdk_account,
		.pl = pl, .ct = ct, .mp = mp, .t = t, .gen = t->generation,
	};
	int ret = o.bench ? bench(&o, pl, ct, pkts, n, mp) : replay(&o, img, &eng, pkts, n);

	vpc_pipeline_free(pl);
	vpc_ct_free(ct);
	for (uint32_t i = 0; i < o.n_applies; i++)
		vpc_tables_free(o.applies[i].tables);
	vpc_tables_free(t);
	rte_mempool_free(mp);
	free_inputs(&o, img, pkts, n);
	rte_eal_cleanup();
	return ret;
}
