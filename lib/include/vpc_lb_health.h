/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_lb_health.h -- the load balancers' health checker, one for every
 * engine (lib/lb_health.c; the frames are common/vpc_lb.h's).
 *
 * Each target of each target group is probed every interval of its
 * group: a TCP SYN the engine sends out of the target's port.  A probe's
 * result is known when the engine has recorded an answer with its token
 * (a SYN-ACK: success; a reset: failure) or when its timeout passes
 * without one (failure).  A target starts `initial`; healthy_threshold
 * successes in a row make it `healthy`, unhealthy_threshold failures in
 * a row `unhealthy` (AWS's states).  Each group's healthy members are a
 * bit mask the engine's new connections choose among (none healthy: all,
 * AWS's fail-open).  A target that turns unhealthy while others in its
 * group are healthy keeps its connections for the group's deregistration
 * delay; then the engine is told to end them.  A target a live apply
 * removes is `draining` the same way.
 *
 * Time is the caller's: the daemon's clock, or capture time in replay.
 * vpc_lb_hc_tick() does what is due at `now` and says when the next thing
 * is due; between ticks the engine only records answers.
 *
 * Thread-safety: one thread owns a checker (the daemon's control thread,
 * the replay loop); it talks to the engine only through the callbacks.
 */
#ifndef VPC_LB_HEALTH_H
#define VPC_LB_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vpc_image_io.h"
#include "vpc_lb.h"

enum vpc_lb_target_state {
	VPC_LB_TS_INITIAL = 0,
	VPC_LB_TS_HEALTHY,
	VPC_LB_TS_UNHEALTHY,
	VPC_LB_TS_DRAINING,	/* removed by an apply; its connections drain */
	VPC_LB_TS_COUNT
};

const char *vpc_lb_target_state_name(unsigned int s);

/* How the checker reaches the engine. */
struct vpc_lb_hc_io {
	void *arg;
	/* The answer the engine last recorded for target k of the image. */
	void (*answer)(void *arg, uint32_t k, struct vpc_lb_answer *out);
	/* Target group g's healthy members are now mask. */
	void (*healthy)(void *arg, uint32_t g, uint64_t mask);
	/* Send a probe (len bytes) out of interface iface's port, at now. */
	void (*send)(void *arg, uint32_t iface, const uint8_t *frame, uint32_t len, uint64_t now);
	/* End the connections to target (VPC vpc, address ip, port: network
	 * order) that a balancer opened.  May be NULL. */
	void (*drain)(void *arg, uint32_t vpc, uint32_t ip, uint16_t port);
};

struct vpc_lb_target_status {
	uint8_t state;		/* enum vpc_lb_target_state */
	uint8_t ok_run;		/* successes in a row */
	uint8_t fail_run;	/* failures in a row */
	uint8_t last;		/* the last result: 0 none, 1 success, 2 reset, 3 timeout */
	uint64_t probes;	/* sent */
	uint64_t since;		/* when the state began (ns; 0: from the start) */
};

struct vpc_lb_hc;

/*
 * A checker for img's targets (img must outlive it).  old: the checker of
 * the tables img replaces, or NULL: a target the same (balancer, group,
 * interface, port) keeps its state and probe schedule; targets old had
 * and img has not drain.  NULL with errno on failure.
 */
struct vpc_lb_hc *vpc_lb_hc_create(const struct vpc_image *img, const struct vpc_lb_hc *old);
void vpc_lb_hc_free(struct vpc_lb_hc *hc);

/* Each group's healthy members (for an engine's new tables). */
uint64_t vpc_lb_hc_mask(const struct vpc_lb_hc *hc, uint32_t g);

/* Do what is due at now: evaluate answers and timeouts, send probes,
 * publish changed masks, drain.  Returns when the next thing is due
 * (UINT64_MAX: never -- no targets). */
uint64_t vpc_lb_hc_tick(struct vpc_lb_hc *hc, uint64_t now, const struct vpc_lb_hc_io *io);

/* Target k of the image's state. */
void vpc_lb_hc_status(const struct vpc_lb_hc *hc, uint32_t k, struct vpc_lb_target_status *out);

/*
 * `vpcctl lb [--json]`: img's balancers, their target groups and each
 * target's state (hc: img's checker, or NULL: every target as it starts),
 * and probes_lost (probes the engine could not send: JSON only), to out.
 * One printer for every engine, so their answers cannot drift.
 */
void vpc_lb_hc_report(FILE *out, const struct vpc_image *img, const struct vpc_lb_hc *hc,
		      uint64_t probes_lost, bool json);

#endif /* VPC_LB_HEALTH_H */
