/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcctl_engine.h -- how vpcctl reaches a running engine: one table of
 * operations, one implementation per engine (vpcctl_vpcd.c: vpcd's control
 * socket; vpcctl_xdp.c: the XDP engine's pinned maps).  Each registers
 * itself at start-up; meson decides which exist, so vpcctl.c has no
 * #ifdef.  Single-threaded (a command line).
 */
#ifndef VPCCTL_ENGINE_H
#define VPCCTL_ENGINE_H

#include <stdint.h>

#include "capture.h"
#include "vpc_ctl.h"
#include "vpc_image_io.h"

struct vpcctl_engine {
	const char *name;	/* "vpcd", "xdp" */
	/* Publish img (flags: VPC_CTL_F_*) to the engine named target
	 * (vpcd: its socket; xdp: the instance).  Exit status 0 or 1. */
	int (*apply)(const char *target, const struct vpc_image *img, uint32_t flags);
	/* stats, conntrack list|count|flush (op: VPC_CTL_STATS...); prints
	 * the answer.  Exit status 0 or 1. */
	int (*query)(const char *target, uint32_t op, uint32_t flags);
	/* `vpcctl trace`: one packet on port `port` through the engine's
	 * traced pipeline on its live tables (vpc_trace.h), printed (flags:
	 * VPC_CTL_F_JSON).  bytes: a description (kind VPC_CTL_TRACE_SPEC)
	 * or a frame (VPC_CTL_TRACE_FRAME).  Exit status 0 or 1. */
	int (*trace)(const char *target, const char *port, uint32_t kind, const uint8_t *bytes,
		     uint32_t len, uint32_t flags);
	/* vpcctl capture (capture.h): runs until the count, the stop flag
	 * or the engine's end; frames go to sink.  Exit status 0 or 1. */
	int (*capture)(const char *target, const struct vpcctl_capture *opt,
		       struct vpcctl_sink *sink);
	/* The engine's own verbs (`vpcctl xdp start|stop`), or NULL.  Exit
	 * status; 2: usage. */
	int (*verbs)(int argc, char **argv);
};

void vpcctl_engine_register(const struct vpcctl_engine *eng);
const struct vpcctl_engine *vpcctl_engine(const char *name);

#endif /* VPCCTL_ENGINE_H */
