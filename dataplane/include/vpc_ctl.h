/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_ctl.h -- the control socket between vpcctl and vpcd.
 *
 * A Unix stream socket (default /run/vpcd/vpcd.sock, mode 0600: root
 * only).  One request per connection: a header, then len bytes of payload
 * (a table image for APPLY); one response: a header, then len bytes of
 * text -- JSON when the request asked for it, readable lines otherwise.
 * status is 0 or a positive errno; on error the text says why.
 */
#ifndef VPC_CTL_H
#define VPC_CTL_H

#include <linux/types.h>

#define VPC_CTL_MAGIC 0x4c544356u	/* "VCTL" */
#define VPC_CTL_DEFAULT_SOCKET "/run/vpcd/vpcd.sock"

enum vpc_ctl_op {
	VPC_CTL_APPLY = 1,	/* payload: a table image */
	VPC_CTL_STATS = 2,
	VPC_CTL_CT_LIST = 3,
	VPC_CTL_CT_COUNT = 4,
	VPC_CTL_CT_FLUSH = 5,
};

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

#endif /* VPC_CTL_H */
