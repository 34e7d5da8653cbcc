/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcctl_vpcd.c -- vpcctl's engine for vpcd: one request per connection
 * on its control socket (vpc_ctl.h), the answer printed as it comes; a
 * capture's stream of records handed to the capture's sink (capture.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpcctl_engine.h"

/* One request to vpcd; prints its answer.  Exit status 0 or 1. */
static int
ctl_request(const char *sock, uint32_t op, uint32_t flags, const void *payload, uint32_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vpcctl: %s: bad socket path\n", sock);
		return 1;
	}
	strcpy(sa.sun_path, sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vpcctl: cannot reach vpcd at %s: %s\n", sock, strerror(errno));
		close(fd);
		return 1;
	}
	struct vpc_ctl_req req = { VPC_CTL_MAGIC, op, flags, len };
	struct vpc_ctl_resp resp;
	FILE *f = fdopen(fd, "r+");
	if (f == NULL || fwrite(&req, sizeof(req), 1, f) != 1 ||
	    (len && fwrite(payload, len, 1, f) != 1) || fflush(f) != 0 ||
	    fread(&resp, sizeof(resp), 1, f) != 1 || resp.magic != VPC_CTL_MAGIC) {
		fprintf(stderr, "vpcctl: %s: no valid answer from vpcd\n", sock);
		if (f)
			fclose(f);
		return 1;
	}
	char buf[65536];
	uint32_t left = resp.len;
	FILE *to = resp.status ? stderr : stdout;
	while (left > 0) {
		size_t n = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), f);
		if (n == 0)
			break;
		fwrite(buf, 1, n, to);
		left -= (uint32_t)n;
	}
	fclose(f);
	return resp.status ? 1 : 0;
}

/* n bytes from fd; 0, or -1 (EOF, an error, or a stop asked for: said
 * unless it was the stop). */
static int
read_full(int fd, void *buf, size_t n, const char *sock)
{
	size_t got = 0;

	while (got < n) {
		if (vpcctl_capture_stop)
			return -1;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vpcctl: %s: the capture's stream ended: %s\n", sock,
				r == 0 ? "vpcd closed it" : strerror(errno));
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* vpcctl capture: the request, then the stream of records (vpc_ctl.h)
 * until END, the count, a stop, or the stream's end. */
static int
vpcd_capture(const char *sock, const struct vpcctl_capture *opt, struct vpcctl_sink *sink)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vpc_ctl_capture creq = { .dirs = opt->dirs, .snaplen = VPC_CTL_CAP_SNAPLEN_MAX,
					.count = opt->count };
	struct vpc_ctl_req req = { VPC_CTL_MAGIC, VPC_CTL_CAPTURE, 0, sizeof(creq) };
	struct vpc_ctl_resp resp;
	static uint8_t frame[VPC_CTL_CAP_SNAPLEN_MAX];
	char text[1024];
	int ret = 1;

	snprintf(creq.port, sizeof(creq.port), "%s", opt->port);
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vpcctl: %s: bad socket path\n", sock);
		return 1;
	}
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vpcctl: cannot reach vpcd at %s: %s\n", sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req) ||
	    send(fd, &creq, sizeof(creq), MSG_NOSIGNAL) != (ssize_t)sizeof(creq) ||
	    read_full(fd, &resp, sizeof(resp), sock) != 0 || resp.magic != VPC_CTL_MAGIC ||
	    resp.len >= sizeof(text) || read_full(fd, text, resp.len, sock) != 0) {
		if (!vpcctl_capture_stop)
			fprintf(stderr, "vpcctl: %s: no valid answer from vpcd\n", sock);
		close(fd);
		return vpcctl_capture_stop ? 0 : 1;
	}
	text[resp.len] = '\0';
	fputs(text, stderr);
	if (resp.status != 0) {
		close(fd);
		return 1;
	}
	if (vpcctl_sink_begin(sink, VPC_CTL_CAP_SNAPLEN_MAX) != 0)
		goto out;
	for (;;) {
		struct vpc_ctl_cap_rec r;
		if (read_full(fd, &r, sizeof(r), sock) != 0) {
			ret = vpcctl_capture_stop ? 0 : 1;
			break;
		}
		vpcctl_sink_lost(sink, r.lost);
		if (r.kind == VPC_CTL_CAP_END) {
			if (r.dir == 1)
				fprintf(stderr, "vpcctl: port '%s' is gone (an apply removed it): capture ended\n",
					opt->port);
			ret = 0;
			break;
		}
		if (r.kind == VPC_CTL_CAP_STATUS)
			continue;
		if (r.kind != VPC_CTL_CAP_FRAME || r.cap_len > sizeof(frame) || r.cap_len > r.orig_len) {
			fprintf(stderr, "vpcctl: %s: bad record in the capture's stream\n", sock);
			break;
		}
		if (read_full(fd, frame, r.cap_len, sock) != 0) {
			ret = vpcctl_capture_stop ? 0 : 1;
			break;
		}
		int k = vpcctl_sink_frame(sink, r.ts_ns, r.dir, frame, r.cap_len, r.orig_len);
		if (k != 0) {
			ret = k < 0 ? 1 : 0;
			break;
		}
	}
out:
	close(fd);	/* vpcd sees it and turns the capture off */
	return ret;
}

static int
vpcd_apply(const char *sock, const struct vpc_image *img, uint32_t flags)
{
	return ctl_request(sock, VPC_CTL_APPLY, flags, img->buf, (uint32_t)img->size);
}

static int
vpcd_query(const char *sock, uint32_t op, uint32_t flags)
{
	return ctl_request(sock, op, flags, NULL, 0);
}

static int
vpcd_trace(const char *sock, const char *port, uint32_t kind, const uint8_t *bytes, uint32_t len,
	   uint32_t flags)
{
	static uint8_t buf[sizeof(struct vpc_ctl_trace) + VPC_CTL_TRACE_MAX];
	struct vpc_ctl_trace h = { .kind = kind, .len = len };

	if (strlen(port) >= sizeof(h.port) || len > VPC_CTL_TRACE_MAX) {
		fprintf(stderr, "vpcctl: trace: %s too long\n",
			len > VPC_CTL_TRACE_MAX ? "the packet is" : "the port name is");
		return 1;
	}
	strcpy(h.port, port);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), bytes, len);
	return ctl_request(sock, VPC_CTL_TRACE, flags, buf, (uint32_t)sizeof(h) + len);
}

static const struct vpcctl_engine vpcd_engine = {
	.name = "vpcd", .apply = vpcd_apply, .query = vpcd_query, .trace = vpcd_trace,
	.capture = vpcd_capture,
};

static void __attribute__((constructor))
vpcd_register(void)
{
	vpcctl_engine_register(&vpcd_engine);
}
