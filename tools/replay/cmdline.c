/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmdline.c -- vpc-replay's command line: options, the topologies they name.
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
#include "compile.h"
#include "topo.h"

void
usage(FILE *f)
{
	fprintf(f,
		"usage: vpc-replay --config TOPO.yaml --in PORT=IN.pcap [--in PORT=IN.pcap ...] --out DIR\n"
		"                  [--host NAME] [--engine dpdk|xdp] [--bench [--loops N]] [--json]\n"
		"                  [--apply TIME=TOPO.yaml] [--apply-revalidate TIME=TOPO.yaml]\n"
		"                  [--max-connections N] [--bench-new-connections] [--prefill N]\n"
		"                  [--flow-logs DIR [--flow-log-interval S] [--flow-log-account ID]]\n"
		"       vpc-replay --config TOPO.yaml [--in PORT=IN.pcap ... --out DIR] [--engine dpdk|xdp]\n"
		"                  --trace PORT (--packet 'tcp SRC:PORT > DST:PORT [flags S]' |\n"
		"                  --pcap FILE [--index K]) [--json]\n");
}

__attribute__((format(printf, 1, 2), noreturn)) void
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

uint64_t
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

void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "host", required_argument, NULL, 'H' },
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
		{ "trace", required_argument, NULL, 'T' },
		{ "packet", required_argument, NULL, 'K' },
		{ "pcap", required_argument, NULL, 'F' },
		{ "index", required_argument, NULL, 'I' },
		{ "flow-logs", required_argument, NULL, 'L' },
		{ "flow-log-interval", required_argument, NULL, 'V' },
		{ "flow-log-account", required_argument, NULL, 'a' },
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
		case 'H':
			o->host = optarg;
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
		case 'T':
			o->trace_port = optarg;
			break;
		case 'K':
			o->trace_packet = optarg;
			break;
		case 'F':
			o->trace_pcap = optarg;
			break;
		case 'I': {
			char *end;
			errno = 0;
			o->trace_index = strtoull(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || !optarg[0]) {
				fprintf(stderr, "vpc-replay: --index needs a number, got '%s'\n", optarg);
				exit(2);
			}
			break;
		}
		case 'L':
			o->flow_logs = optarg;
			break;
		case 'V':
			o->flow_interval = (uint32_t)positive(optarg, "--flow-log-interval");
			if (o->flow_interval > 3600) {
				fprintf(stderr, "vpc-replay: --flow-log-interval: at most 3600 s\n");
				exit(2);
			}
			break;
		case 'a':
			o->flow_account = optarg;
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
	if (o->trace_port != NULL) {
		if ((o->trace_packet != NULL) == (o->trace_pcap != NULL)) {
			fprintf(stderr, "vpc-replay: --trace needs --packet SPEC or --pcap FILE\n");
			exit(2);
		}
		if (o->bench) {
			fprintf(stderr, "vpc-replay: --trace cannot be combined with --bench\n");
			exit(2);
		}
		if (o->config == NULL || (o->n_inputs > 0 && o->out == NULL)) {
			fprintf(stderr, "vpc-replay: --trace needs --config (and --out with --in)\n");
			exit(2);
		}
	} else if (o->trace_packet != NULL || o->trace_pcap != NULL) {
		fprintf(stderr, "vpc-replay: --packet and --pcap go with --trace PORT\n");
		exit(2);
	}
	if (o->trace_port == NULL &&
	    (o->config == NULL || o->n_inputs == 0 || (o->out == NULL && !o->bench))) {
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
	if ((o->flow_interval || o->flow_account) && o->flow_logs == NULL) {
		fprintf(stderr, "vpc-replay: --flow-log-interval and --flow-log-account need --flow-logs\n");
		exit(2);
	}
	if (o->flow_interval == 0)
		o->flow_interval = VPC_FLOW_INTERVAL_DEFAULT;
	if (o->bench && o->n_applies) {
		fprintf(stderr, "vpc-replay: --apply cannot be combined with --bench\n");
		exit(2);
	}
}

/* A topology file, or an image compiled by `vpcctl compile`. */
struct vpc_image *
load_topology(const char *path, const char *host)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	fclose(f);
	struct vpc_image *img = vpc_image_load_host(path, NULL, host, stderr);
	if (img == NULL)
		die("%s: invalid topology", path);
	return img;
}

int
port_by_name(const struct vpc_image *img, const char *name)
{
	for (uint32_t p = 0; p < img->n_ports; p++)
		if (strcmp(img->ports[p].name, name) == 0)
			return (int)p;
	return -1;
}
