/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_ctl.h -- the control socket between vpcctl and vpcd.
 *
 * A Unix stream socket (default /run/vpcd/vpcd.sock, mode 0600: root
 * only).  One request per connection: a header, then len bytes of payload
 * (a table image for APPLY, a struct vpc_ctl_capture for CAPTURE); one
 * response: a header, then len bytes of text -- JSON when the request
 * asked for it, readable lines otherwise.  status is 0 or a positive
 * errno; on error the text says why.  An accepted CAPTURE goes on: after
 * its text comes a stream of records (struct vpc_ctl_cap_rec, each
 * followed by cap_len bytes of frame) until an END record, or until
 * either side closes the connection.
 *
 * The server checks the header before it believes any of it (magic, a
 * known op and flags, a payload only for APPLY, at most
 * VPC_IMAGE_MAX_SIZE bytes, and for CAPTURE of exactly its size) and gives each client a deadline; bytes after
 * the request are ignored.  A client that goes away early affects nobody.
 */
#ifndef VPC_CTL_H
#define VPC_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#define VPC_CTL_MAGIC 0x4c544356u	/* "VCTL" */
#define VPC_CTL_DEFAULT_SOCKET "/run/vpcd/vpcd.sock"

enum vpc_ctl_op {
	VPC_CTL_APPLY = 1,	/* payload: a table image */
	VPC_CTL_STATS = 2,
	VPC_CTL_CT_LIST = 3,
	VPC_CTL_CT_COUNT = 4,
	VPC_CTL_CT_FLUSH = 5,
	VPC_CTL_LB = 6,		/* the load balancers' targets and their health */
	VPC_CTL_TRACE = 7,	/* payload: struct vpc_ctl_trace, then its bytes */
	VPC_CTL_CAPTURE = 8,	/* payload: struct vpc_ctl_capture; a stream */
};

/* VPC_CTL_TRACE: one packet through the traced pipeline on the live
 * tables (vpcctl trace --socket): a description (vpc_trace_frame's) or
 * a frame, as it arrives on port `port`. */
#define VPC_CTL_TRACE_SPEC 0	/* the bytes: a description, not NUL-terminated */
#define VPC_CTL_TRACE_FRAME 1	/* the bytes: an Ethernet frame */
#define VPC_CTL_TRACE_MAX 9216	/* bytes, at most */
struct vpc_ctl_trace {
	char port[40];		/* VPC_NAME_SIZE, NUL-terminated */
	__u32 kind;		/* VPC_CTL_TRACE_* */
	__u32 len;		/* the bytes that follow, <= VPC_CTL_TRACE_MAX */
};
#define VPC_CTL_OP_MAX VPC_CTL_CAPTURE

#define VPC_CTL_F_REVALIDATE 0x1	/* APPLY: cut what the rules refuse */
#define VPC_CTL_F_JSON       0x2	/* answer in JSON */

struct vpc_ctl_req {
	__u32 magic;
	__u32 op;
	__u32 flags;
	__u32 len;
};

struct vpc_ctl_resp {
	__u32 magic;
	__u32 status;
	__u32 len;
	__u32 pad;
};

/*
 * CAPTURE: the frames a port received (rx) and/or sent (tx).  port: its
 * name, NUL-terminated; dirs: VPC_CTL_CAP_RX | VPC_CTL_CAP_TX; count:
 * frames to send, then END (0: until the client closes); snaplen: bytes
 * of each frame to copy (1..VPC_CTL_CAP_SNAPLEN_MAX).
 */
#define VPC_CTL_CAP_RX 0x1u
#define VPC_CTL_CAP_TX 0x2u
#define VPC_CTL_CAP_SNAPLEN_MAX 2048u
#define VPC_CTL_PORT_NAME_MAX 64

struct vpc_ctl_capture {
	char port[VPC_CTL_PORT_NAME_MAX];
	__u32 dirs;
	__u32 snaplen;
	__u64 count;
};
_Static_assert(sizeof(struct vpc_ctl_capture) == 80, "vpc_ctl_capture layout");

enum vpc_ctl_cap_kind {
	VPC_CTL_CAP_FRAME = 1,	/* cap_len bytes of frame follow */
	VPC_CTL_CAP_STATUS = 2,	/* only lost: sent every 100 ms */
	VPC_CTL_CAP_END = 3,	/* count reached, or the port removed (dir: 0/1) */
};

struct vpc_ctl_cap_rec {
	__u32 kind;		/* enum vpc_ctl_cap_kind */
	__u32 cap_len;		/* bytes that follow */
	__u32 orig_len;		/* the frame's length */
	__u32 dir;		/* VPC_CTL_CAP_RX or _TX; END: 1 = port removed */
	__u64 ts_ns;		/* when the worker saw it: UNIX time, ns */
	__u64 lost;		/* frames not captured so far (ring full) */
};
_Static_assert(sizeof(struct vpc_ctl_cap_rec) == 32, "vpc_ctl_cap_rec layout");

/* Seconds a client has to send its request, and then to read the answer. */
#define VPC_CTL_DEADLINE_S 10

/*
 * The server's reader of one request (ctl_rx.c): feed it the bytes as they
 * arrive.  Not thread-safe: one per client, used by one thread.
 */
enum vpc_ctl_rx_state {
	VPC_CTL_RX_MORE,	/* incomplete: feed more */
	VPC_CTL_RX_DONE,	/* req and payload (req.len bytes) complete */
	VPC_CTL_RX_BAD,		/* refused: error says why */
};

struct vpc_ctl_rx {
	struct vpc_ctl_req req;
	uint32_t hdr_got;	/* bytes of req received */
	uint32_t got;		/* bytes of payload received */
	uint32_t cap;		/* bytes allocated at payload */
	uint8_t *payload;
	int state;		/* enum vpc_ctl_rx_state */
	int error;		/* VPC_CTL_RX_BAD: a positive errno */
};

void vpc_ctl_rx_init(struct vpc_ctl_rx *rx);
void vpc_ctl_rx_free(struct vpc_ctl_rx *rx);
/* Consume up to n bytes (*used: how many were taken); returns the state. */
int vpc_ctl_rx_feed(struct vpc_ctl_rx *rx, const void *buf, size_t n, size_t *used);

#endif /* VPC_CTL_H */
