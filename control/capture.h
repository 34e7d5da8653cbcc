/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.h -- `vpcctl capture`: what the engines deliver frames to.
 *
 * The command (capture.c) parses its arguments, installs SIGINT/SIGTERM
 * handlers that only set vpcctl_capture_stop, and hands the engine a
 * sink.  The engine (vpcctl_vpcd.c: the control socket's stream;
 * vpcctl_xdp.c: the program's ring buffer) calls vpcctl_sink_begin once
 * the capture is on, then vpcctl_sink_frame per frame and
 * vpcctl_sink_lost whenever it learns the count of frames not captured,
 * until the count is reached (frame returns 1), the stop flag is set, or
 * the engine ends it.  The command then finishes the file and prints the
 * totals.  Single-threaded.
 */
#ifndef VPCCTL_CAPTURE_H
#define VPCCTL_CAPTURE_H

#include <signal.h>
#include <stdint.h>

struct vpcctl_capture {
	const char *port;
	uint32_t dirs;		/* VPC_CTL_CAP_RX | VPC_CTL_CAP_TX */
	uint64_t count;		/* 0: until stopped */
};

struct vpcctl_sink;

/* Set by SIGINT/SIGTERM while a capture runs. */
extern volatile sig_atomic_t vpcctl_capture_stop;

/* The capture is on: snaplen is the engine's copy limit.  0 or -errno
 * (the file cannot be written: said on stderr). */
int vpcctl_sink_begin(struct vpcctl_sink *s, uint32_t snaplen);
/* One frame: ts_ns UNIX time; dir VPC_CTL_CAP_RX or _TX.  0, 1 when the
 * count is reached (stop now), or -errno (said on stderr). */
int vpcctl_sink_frame(struct vpcctl_sink *s, uint64_t ts_ns, uint32_t dir, const void *data,
		      uint32_t cap_len, uint32_t orig_len);
/* Frames the engine could not capture so far (its ring full). */
void vpcctl_sink_lost(struct vpcctl_sink *s, uint64_t lost);

/* `vpcctl capture ...` (argv after "capture").  Exit status. */
int vpcctl_capture(int argc, char **argv);

#endif /* VPCCTL_CAPTURE_H */
