/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace_cli.c -- `vpcctl trace` (trace_cli.h).  A live engine is reached
 * through vpcctl_engine.h's trace operation; a file's tables are traced
 * by vpc-replay (vpcctl links no DPDK), which this execs.
 */
#include "trace_cli.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpc_ctl.h"
#include "vpcctl_engine.h"

static int
usage_err(const char *why)
{
	fprintf(stderr, "vpcctl trace: %s\n"
		"usage: vpcctl trace FILE|--socket PATH|--instance NAME --in PORT\n"
		"                    ('tcp SRC:PORT > DST:PORT [flags S]' | --pcap F [--index K])\n"
		"                    [--json] [--engine dpdk|xdp] [--host NAME]\n", why);
	return 2;
}

static uint32_t
u32_at(const uint8_t *p, bool swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Frame k of the pcap at path into buf (at most size bytes); its length,
 * or -1 with the reason on stderr.  (The classic format, either byte
 * order, micro- or nanoseconds; Ethernet only.) */
static int
pcap_frame(const char *path, unsigned long k, uint8_t *buf, uint32_t size)
{
	FILE *f = fopen(path, "rb");
	uint8_t h[24], r[16];

	if (f == NULL) {
		fprintf(stderr, "vpcctl trace: %s: %s\n", path, strerror(errno));
		return -1;
	}
	bool swap = false;
	if (fread(h, 24, 1, f) != 1)
		goto bad;
	uint32_t magic = u32_at(h, false);
	if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
		swap = true;
	else if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du)
		goto bad;
	if (u32_at(h + 20, swap) != 1) {
		fprintf(stderr, "vpcctl trace: %s: not an Ethernet capture\n", path);
		fclose(f);
		return -1;
	}
	for (unsigned long i = 0;; i++) {
		if (fread(r, 16, 1, f) != 1) {
			fprintf(stderr, "vpcctl trace: %s: has no frame %lu (%lu frames)\n", path, k, i);
			fclose(f);
			return -1;
		}
		uint32_t caplen = u32_at(r + 8, swap);
		if (caplen > 262144)
			goto bad;
		if (i == k) {
			if (caplen > size) {
				fprintf(stderr, "vpcctl trace: %s: frame %lu is %u bytes (at most %u)\n",
					path, k, caplen, size);
				fclose(f);
				return -1;
			}
			if (caplen > 0 && fread(buf, caplen, 1, f) != 1)
				goto bad;
			fclose(f);
			return (int)caplen;
		}
		if (fseek(f, caplen, SEEK_CUR) != 0)
			goto bad;
	}
bad:
	fprintf(stderr, "vpcctl trace: %s: not a pcap file (or a truncated one)\n", path);
	fclose(f);
	return -1;
}

/* vpc-replay beside this vpcctl (installed: the same directory; the build
 * tree: ../tools), else on the PATH. */
static void
replay_path(char *out, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (len > 0) {
		self[len] = 0;
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = 0;
			snprintf(out, n, "%s/vpc-replay", self);
			if (access(out, X_OK) == 0)
				return;
			snprintf(out, n, "%s/../tools/vpc-replay", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, n, "vpc-replay");
}

int
vpcctl_trace(int argc, char **argv)
{
	const char *file = NULL, *sock = NULL, *instance = NULL, *port = NULL, *spec = NULL;
	const char *pcap = NULL, *index = "0", *engine = NULL, *host = NULL;
	bool json = false;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (strcmp(a, "--json") == 0)
			json = true;
		else if (strcmp(a, "--socket") == 0 && more)
			sock = argv[++i];
		else if (strcmp(a, "--instance") == 0 && more)
			instance = argv[++i];
		else if (strcmp(a, "--in") == 0 && more)
			port = argv[++i];
		else if (strcmp(a, "--pcap") == 0 && more)
			pcap = argv[++i];
		else if (strcmp(a, "--index") == 0 && more)
			index = argv[++i];
		else if (strcmp(a, "--engine") == 0 && more)
			engine = argv[++i];
		else if (strcmp(a, "--host") == 0 && more)
			host = argv[++i];
		else if (a[0] == '-')
			return usage_err("unknown or incomplete option");
		else if (strchr(a, ' ') != NULL && spec == NULL)
			spec = a;	/* a description has words */
		else if (file == NULL)
			file = a;
		else if (spec == NULL)
			spec = a;
		else
			return usage_err("unexpected argument");
	}
	if ((file != NULL) + (sock != NULL) + (instance != NULL) > 1)
		return usage_err("FILE, --socket and --instance exclude each other");
	if (port == NULL)
		return usage_err("--in PORT is required");
	if ((spec != NULL) == (pcap != NULL))
		return usage_err("give a packet's description or --pcap F");
	char *end;
	errno = 0;
	unsigned long k = strtoul(index, &end, 10);
	if (errno || *end || index[0] == '-' || !index[0])
		return usage_err("--index needs a number");
	if ((engine != NULL || host != NULL) && file == NULL)
		return usage_err("--engine and --host go with FILE");

	if (file != NULL) {
		char replay[PATH_MAX + 32];
		replay_path(replay, sizeof(replay));
		const char *args[20];
		int n = 0;
		args[n++] = replay;
		args[n++] = "--config";
		args[n++] = file;
		if (host != NULL) {
			args[n++] = "--host";
			args[n++] = host;
		}
		args[n++] = "--engine";
		args[n++] = engine != NULL ? engine : "dpdk";
		args[n++] = "--trace";
		args[n++] = port;
		if (spec != NULL) {
			args[n++] = "--packet";
			args[n++] = spec;
		} else {
			args[n++] = "--pcap";
			args[n++] = pcap;
			args[n++] = "--index";
			args[n++] = index;
		}
		if (json)
			args[n++] = "--json";
		args[n] = NULL;
		fflush(stdout);
		execvp(replay, (char *const *)args);
		fprintf(stderr, "vpcctl trace: %s: %s (a file's tables are traced by vpc-replay)\n",
			replay, strerror(errno));
		return 1;
	}
	const struct vpcctl_engine *eng = vpcctl_engine(instance != NULL ? "xdp" : "vpcd");
	if (eng == NULL || eng->trace == NULL) {
		fprintf(stderr, "vpcctl trace: --instance: this build has no XDP engine\n");
		return 1;
	}
	static uint8_t frame[VPC_CTL_TRACE_MAX];
	uint32_t kind = VPC_CTL_TRACE_SPEC, len;
	const uint8_t *bytes;
	if (pcap != NULL) {
		int fl = pcap_frame(pcap, k, frame, sizeof(frame));
		if (fl < 0)
			return 1;
		kind = VPC_CTL_TRACE_FRAME;
		bytes = frame;
		len = (uint32_t)fl;
	} else {
		bytes = (const uint8_t *)spec;
		len = (uint32_t)strlen(spec);
	}
	return eng->trace(instance != NULL ? instance : sock != NULL ? sock : VPC_CTL_DEFAULT_SOCKET,
			  port, kind, bytes, len, json ? VPC_CTL_F_JSON : 0);
}
