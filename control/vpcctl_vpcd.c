/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcctl_vpcd.c -- vpcctl's engine for vpcd: one request per connection
 * on its control socket (vpc_ctl.h), the answer printed as it comes.
 */
#include <errno.h>
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
};

static void __attribute__((constructor))
vpcd_register(void)
{
	vpcctl_engine_register(&vpcd_engine);
}
