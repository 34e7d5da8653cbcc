/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.c -- `vpcctl capture PORT [-c N] [-w FILE] [--direction
 * rx|tx|both] [--socket S | --instance N]` (capture.h, docs/cli.md): a
 * pcapng file (lib/pcapng.c) or one line per frame, from either engine.
 * The file only ever holds whole blocks: a stop (the count, SIGINT,
 * SIGTERM, the engine's end) finishes the block in hand and closes it.
 */
#include "capture.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpc_ctl.h"
#include "vpc_pcapng.h"
#include "vpcctl_engine.h"

volatile sig_atomic_t vpcctl_capture_stop;

struct vpcctl_sink {
	const struct vpcctl_capture *opt;
	const char *path;	/* -w FILE, or NULL: lines on stdout */
	FILE *f;
	uint8_t *buf;		/* one block */
	size_t buf_size;
	uint64_t n_frames, lost;
	bool began;		/* the engine turned the capture on */
	int error;		/* a write failed: -errno */
};

static void
on_stop(int sig)
{
	(void)sig;
	vpcctl_capture_stop = 1;
}

int
vpcctl_sink_begin(struct vpcctl_sink *s, uint32_t snaplen)
{
	s->began = true;
	if (s->path == NULL)
		return 0;
	s->buf_size = VPC_PCAPNG_EPB_SIZE(snaplen) + 128;
	s->buf = malloc(s->buf_size);
	s->f = s->buf != NULL ? fopen(s->path, "wb") : NULL;
	if (s->f == NULL) {
		int e = s->buf == NULL ? ENOMEM : errno;
		fprintf(stderr, "vpcctl: %s: cannot write: %s\n", s->path, strerror(e));
		return s->error = -e;
	}
	size_t n = vpc_pcapng_shb(s->buf, s->buf_size);
	if (fwrite(s->buf, n, 1, s->f) != 1)
		goto fail;
	n = vpc_pcapng_idb(s->buf, s->buf_size, VPC_PCAPNG_LINKTYPE_ETHERNET, snaplen,
			   s->opt->port, 9);
	if (fwrite(s->buf, n, 1, s->f) != 1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "vpcctl: %s: cannot write: %s\n", s->path, strerror(errno));
	return s->error = -EIO;
}

/* ---- the readable summary ---- */

static void
fmt_mac(char *out, const uint8_t *m)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *
fmt_ip(char *out, const uint8_t *p)
{
	sprintf(out, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
	return out;
}

static unsigned int
get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* What the frame is, every read bounded by len. */
static void
summary(FILE *out, const uint8_t *d, uint32_t len)
{
	char a[24], b[24];

	if (len < 14) {
		fprintf(out, "truncated ethernet frame");
		return;
	}
	fmt_mac(a, d + 6);
	fmt_mac(b, d);
	fprintf(out, "%s > %s, ", a, b);
	unsigned int type = get16(d + 12);
	const uint8_t *l3 = d + 14;
	uint32_t n = len - 14;
	if (type == 0x0806) {
		if (n < 28) {
			fprintf(out, "ARP, truncated");
			return;
		}
		unsigned int op = get16(l3 + 6);
		if (op == 1)
			fprintf(out, "ARP who-has %s tell %s", fmt_ip(a, l3 + 24), fmt_ip(b, l3 + 14));
		else if (op == 2)
			fmt_mac(b, l3 + 8), fprintf(out, "ARP reply %s is-at %s", fmt_ip(a, l3 + 14), b);
		else
			fprintf(out, "ARP op %u", op);
		return;
	}
	if (type != 0x0800) {
		fprintf(out, "ethertype 0x%04x, length %u", type, len);
		return;
	}
	if (n < 20 || (l3[0] >> 4) != 4 || (l3[0] & 0xf) < 5 || (uint32_t)(l3[0] & 0xf) * 4 > n) {
		fprintf(out, "IPv4, truncated");
		return;
	}
	uint32_t ihl = (uint32_t)(l3[0] & 0xf) * 4;
	unsigned int proto = l3[9], frag = get16(l3 + 6) & 0x1fff;
	const uint8_t *l4 = l3 + ihl;
	uint32_t m = n - ihl;
	fmt_ip(a, l3 + 12);
	fmt_ip(b, l3 + 16);
	fprintf(out, "IPv4 ttl %u ", l3[8]);
	if (frag != 0) {
		fprintf(out, "%s > %s: proto %u fragment at %u", a, b, proto, frag * 8);
		return;
	}
	if ((proto == 6 && m >= 20) || (proto == 17 && m >= 8)) {
		fprintf(out, "%s %s:%u > %s:%u", proto == 6 ? "TCP" : "UDP", a, get16(l4), b,
			get16(l4 + 2));
		if (proto == 17) {
			fprintf(out, " length %u", get16(l4 + 4));
			return;
		}
		static const char names[] = "FSRPAUEC";
		char fl[9];
		int k = 0;
		for (int i = 0; i < 8; i++)
			if (l4[13] & (1u << i))
				fl[k++] = names[i];
		fl[k] = '\0';
		fprintf(out, " [%s] seq %u ack %u", fl,
			(unsigned int)get16(l4 + 4) << 16 | get16(l4 + 6),
			(unsigned int)get16(l4 + 8) << 16 | get16(l4 + 10));
		return;
	}
	if (proto == 1 && m >= 8) {
		unsigned int t = l4[0];
		fprintf(out, "ICMP %s > %s: ", a, b);
		if (t == 0 || t == 8)
			fprintf(out, "echo %s id %u seq %u", t == 8 ? "request" : "reply", get16(l4 + 4),
				get16(l4 + 6));
		else
			fprintf(out, "type %u code %u", t, l4[1]);
		return;
	}
	fprintf(out, "%s > %s: proto %u, truncated or other", a, b, proto);
}

int
vpcctl_sink_frame(struct vpcctl_sink *s, uint64_t ts_ns, uint32_t dir, const void *data,
		  uint32_t cap_len, uint32_t orig_len)
{
	if (s->error)
		return s->error;
	if (s->f != NULL) {
		struct vpc_pcapng_packet p = {
			.if_id = 0, .ts = ts_ns, .data = data, .cap_len = cap_len,
			.orig_len = orig_len,
			.dir = dir == VPC_CTL_CAP_RX ? VPC_PCAPNG_DIR_IN : VPC_PCAPNG_DIR_OUT,
		};
		size_t n = vpc_pcapng_epb(s->buf, s->buf_size, &p);
		if (n == 0 || fwrite(s->buf, n, 1, s->f) != 1) {
			fprintf(stderr, "vpcctl: %s: cannot write: %s\n", s->path,
				n == 0 ? "a frame larger than the snap length" : strerror(errno));
			return s->error = -EIO;
		}
	} else {
		time_t sec = (time_t)(ts_ns / 1000000000ull);
		struct tm tm;
		gmtime_r(&sec, &tm);
		printf("%02d:%02d:%02d.%06u %s %s %u bytes%s: ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (unsigned int)(ts_ns % 1000000000ull / 1000), dir == VPC_CTL_CAP_RX ? "rx" : "tx",
		       s->opt->port, orig_len, cap_len < orig_len ? " (cut)" : "");
		summary(stdout, data, cap_len);
		putchar('\n');
		fflush(stdout);
	}
	s->n_frames++;
	return s->opt->count != 0 && s->n_frames >= s->opt->count ? 1 : 0;
}

void
vpcctl_sink_lost(struct vpcctl_sink *s, uint64_t lost)
{
	if (lost > s->lost)
		s->lost = lost;
}

static int
usage(void)
{
	fprintf(stderr, "usage: vpcctl capture PORT [-c N] [-w FILE.pcapng] [--direction rx|tx|both]\n"
			"                      [--socket PATH | --instance NAME]\n");
	return 2;
}

int
vpcctl_capture(int argc, char **argv)
{
	struct vpcctl_capture opt = { .dirs = VPC_CTL_CAP_RX | VPC_CTL_CAP_TX };
	const char *sock = VPC_CTL_DEFAULT_SOCKET, *instance = NULL, *path = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || argv[i][0] == '-' || v == 0) {
				fprintf(stderr, "vpcctl: -c %s: not a count of frames (1 or more)\n", argv[i]);
				return 2;
			}
			opt.count = v;
		} else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--direction") == 0 && i + 1 < argc) {
			const char *d = argv[++i];
			opt.dirs = strcmp(d, "rx") == 0 ? VPC_CTL_CAP_RX :
				   strcmp(d, "tx") == 0 ? VPC_CTL_CAP_TX :
				   strcmp(d, "both") == 0 ? VPC_CTL_CAP_RX | VPC_CTL_CAP_TX : 0;
			if (opt.dirs == 0) {
				fprintf(stderr, "vpcctl: --direction %s: rx, tx or both\n", d);
				return 2;
			}
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc) {
			instance = argv[++i];
		} else if (argv[i][0] != '-' && opt.port == NULL) {
			opt.port = argv[i];
		} else {
			return usage();
		}
	}
	if (opt.port == NULL)
		return usage();
	if (strlen(opt.port) >= VPC_CTL_PORT_NAME_MAX) {
		fprintf(stderr, "vpcctl: port name '%s' too long\n", opt.port);
		return 1;
	}
	const struct vpcctl_engine *eng = vpcctl_engine(instance != NULL ? "xdp" : "vpcd");
	if (eng == NULL || eng->capture == NULL) {
		fprintf(stderr, "vpcctl: --instance: this build has no XDP engine\n");
		return 1;
	}
	/* No SA_RESTART: a blocked read returns, the engine sees the flag. */
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct vpcctl_sink sink = { .opt = &opt, .path = path };
	int ret = eng->capture(instance != NULL ? instance : sock, &opt, &sink);
	if (sink.f != NULL && fclose(sink.f) != 0 && sink.error == 0) {
		fprintf(stderr, "vpcctl: %s: cannot write: %s\n", path, strerror(errno));
		sink.error = -EIO;
	}
	free(sink.buf);
	if (sink.error)
		ret = 1;
	/* The totals, once the capture ran (on stderr when the frames' lines
	 * are on stdout, so a pipe of them stays clean). */
	if (sink.began)
		fprintf(path != NULL ? stdout : stderr, "%llu frames captured, %llu not captured (ring full)\n",
			(unsigned long long)sink.n_frames, (unsigned long long)sink.lost);
	return ret;
}
