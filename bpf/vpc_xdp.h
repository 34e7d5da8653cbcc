/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_xdp.h -- the XDP engine's loader and table writer (user space).
 *
 * An engine is the loaded program (bpf/vpc_xdp.bpf.c, through its libbpf
 * skeleton) and its maps.  Two ways to hold one:
 *  - vpc_xdp_load(): load a fresh copy.  vpc-replay uses it unattached,
 *    running the program on each packet with BPF_PROG_TEST_RUN;
 *    `vpcctl xdp start` loads one, pins it under /sys/fs/bpf/vpc/NAME and
 *    attaches it to the host's ports.
 *  - vpc_xdp_open_pinned(): the maps of a running instance, by their
 *    pins, for `vpcctl apply|stats|conntrack|xdp stop`.
 *
 * Publishing tables (vpc_xdp_publish) fills the inactive table set with
 * freshly created maps, places them in the array-of-maps slots, flips the
 * active set in one 4-byte store, and waits for a grace period: from then
 * on no packet is decided by the old set.  On any error before the flip
 * nothing the program sees has changed.
 *
 * Thread-safety: one writer at a time per instance (vpcctl takes a lock
 * file); the program reads concurrently.
 */
#ifndef VPC_XDP_H
#define VPC_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpc_image_io.h"
#include "vpc_reasons.h"
#include "vpc_xdp_maps.h"

#define VPC_XDP_PIN_ROOT "/sys/fs/bpf/vpc"

enum vpc_xdp_set_map {
	VPC_XS_GLOBAL, VPC_XS_PORTS, VPC_XS_IFACES, VPC_XS_VPCS, VPC_XS_L2, VPC_XS_IPS,
	VPC_XS_EIPS, VPC_XS_ROUTES, VPC_XS_SG_CLASSES, VPC_XS_SG_NODES,
	VPC_XS_SG_INTERVALS, VPC_XS_SG_ICMPS, VPC_XS_NACLS, VPC_XS_TUNNELS, VPC_XS_UNDERLAY,
	VPC_XS_VNIS, VPC_XS_APPLIANCES, VPC_XS_RPORTS, VPC_XS_NATGWS, VPC_XS_LBS,
	VPC_XS_LISTENERS, VPC_XS_TGROUPS, VPC_XS_LB_HC, VPC_XS_LB_IP, VPC_XS_LB_HEALTHY,
	VPC_XS_LB_ANSWERS, VPC_XS_COUNT
};

/* The maps an engine is driven through. */
struct vpc_xdp_fds {
	int set[VPC_XS_COUNT];	/* the array-of-maps, one per kind of table */
	int control, ct, if_slots, if_slots_lo, tx_ports, stats, port_stats;
	int lb_turn;		/* the round-robin turns (-1: an instance pinned without) */
	int names;		/* port name -> slot (user space only) */
	int info;		/* instance settings (user space only) */
	int prog;		/* the entry program */
	int capture, capture_ring;	/* vpcctl capture: the flag, the ring buffer */
};

/* info[0]: how the instance was started. */
struct vpc_xdp_info {
	uint32_t mode;		/* XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE */
	uint32_t max_conns;
};

struct vpc_xdp;

/* Load the program and create its maps.  replay: the port and clock come
 * from the caller (vpc_xdp_run).  NULL with a message in err. */
struct vpc_xdp *vpc_xdp_load(bool replay, uint32_t max_conns, char *err, size_t err_size);
void vpc_xdp_free(struct vpc_xdp *x);
const struct vpc_xdp_fds *vpc_xdp_fds(const struct vpc_xdp *x);

/* Pin every map and the programs under dir (created); 0 or -errno. */
int vpc_xdp_pin(struct vpc_xdp *x, const char *dir, const struct vpc_xdp_info *info,
		char *err, size_t err_size);

/* The maps of a pinned instance; 0 or -errno (-ENOENT: no instance). */
int vpc_xdp_open_pinned(const char *dir, struct vpc_xdp_fds *f);
void vpc_xdp_close_fds(struct vpc_xdp_fds *f);

/* What a publish changed. */
struct vpc_xdp_published {
	uint32_t generation;
	uint32_t n_added, n_removed;	/* ports (slots) */
	uint32_t n_attached;		/* added ports attached to a device (not the
					 * uplink of a topology with no gateway) */
	uint32_t added[VPC_XDP_MAX_PORTS];	/* their slots */
	uint32_t removed[VPC_XDP_MAX_PORTS];
};

/*
 * Publish img's tables (see above).  attach: also make the ports real on
 * this host -- attach the program to each added port's device (mode from
 * the instance info; links pinned under pin_dir) before the flip, and
 * detach the removed ones after the grace period.  0 or -errno with a
 * message in err; nothing changed on error.
 */
int vpc_xdp_publish(const struct vpc_xdp_fds *f, const struct vpc_image *img, bool revalidate,
		    const char *pin_dir, struct vpc_xdp_published *out, char *err, size_t err_size);

/* The slot of port name, or -1. */
int vpc_xdp_slot(const struct vpc_xdp_fds *f, const char *name);

/* The generation of the active tables (0: none yet). */
uint32_t vpc_xdp_generation(const struct vpc_xdp_fds *f);

/* Every slot's port name, and whether it is a port of the active tables:
 * one pass over the maps (for listings, and replay's verdicts). */
struct vpc_xdp_port_table {
	char name[VPC_XDP_MAX_PORTS][VPC_NAME_SIZE];	/* "" where none */
	uint8_t active[VPC_XDP_MAX_PORTS];
};
int vpc_xdp_port_table(const struct vpc_xdp_fds *f, struct vpc_xdp_port_table *t);

/*
 * vpc-replay: run the program once on pkt (len bytes) as if it arrived on
 * slot at time now.  The packet is rewritten in place (out_len: its new
 * length; buf has room for len bytes).  0 or -errno.
 */
int vpc_xdp_run(struct vpc_xdp *x, uint32_t slot, uint64_t now, uint8_t *pkt, uint32_t len,
		uint32_t cap, uint32_t *out_len, struct vpc_xdp_verdict *v);

/*
 * A traced copy of the program (vpcctl trace, vpc-replay --trace;
 * common/vpc_trace.h): loaded on live's tables and connections, which it
 * reads and never writes (a trace's connection changes go to a table of
 * its own).  Run it with vpc_xdp_trace: as vpc_xdp_run, and tb receives
 * the stages' events.  NULL with a message in err.
 */
struct vpc_trace_buf;
struct vpc_xdp *vpc_xdp_load_trace(const struct vpc_xdp_fds *live, char *err, size_t err_size);
int vpc_xdp_trace(struct vpc_xdp *x, uint32_t slot, uint64_t now, uint8_t *pkt, uint32_t len,
		  uint32_t cap, uint32_t *out_len, struct vpc_xdp_verdict *v, struct vpc_trace_buf *tb);

/* vpc-replay --bench: run pkt once; *ns is the run's time as the kernel
 * measured it.  baseline: run instead an empty XDP program (the cost of
 * the measurement itself). */
int vpc_xdp_bench(struct vpc_xdp *x, uint32_t slot, uint64_t now, const uint8_t *pkt,
		  uint32_t len, bool baseline, double *ns);

/* Counters summed over CPUs; ports[VPC_XDP_MAX_PORTS] by slot (or NULL). */
int vpc_xdp_read_stats(const struct vpc_xdp_fds *f, struct vpc_xdp_stats *sum,
		       struct vpc_xdp_port_stats *ports);

/* Connections: count, remove all, or visit each (direction-0 keys). */
uint32_t vpc_xdp_ct_count(const struct vpc_xdp_fds *f);
uint32_t vpc_xdp_ct_capacity(const struct vpc_xdp_fds *f);
uint32_t vpc_xdp_ct_flush(const struct vpc_xdp_fds *f);
int vpc_xdp_ct_each(const struct vpc_xdp_fds *f,
		    void (*fn)(const struct vpc_ct_key *k, const struct vpc_xdp_ct *e, void *arg),
		    void *arg);

/*
 * Load balancers' health checks (lib/lb_health.c drives them): the active
 * table set's answers map (what the program recorded per target) and
 * healthy map (the members' bits per target group), as new fds the caller
 * closes; and the end of the connections a balancer opened to a target
 * (VPC vpc, address ip, port: network order).  0 or -errno; the count.
 */
int vpc_xdp_lb_maps(const struct vpc_xdp_fds *f, int *answers_fd, int *healthy_fd);
void vpc_xdp_lb_answer(int answers_fd, uint32_t k, struct vpc_lb_answer *out);
void vpc_xdp_lb_set_healthy(int healthy_fd, uint32_t g, uint64_t mask);
uint32_t vpc_xdp_lb_drain(const struct vpc_xdp_fds *f, uint32_t vpc, uint32_t ip, uint16_t port);

/* Detach from every port and remove the pins (and dir). */
int vpc_xdp_unpin(const char *dir, uint32_t *n_detached, char *err, size_t err_size);

/* The clock the program uses (CLOCK_MONOTONIC, ns): for "expires in". */
uint64_t vpc_xdp_now(void);

/* Flow logs (bpf/stage_flowlog.h): count and log with interval_s (0:
 * off); hand fn the records the program wrote since the last call (the
 * ring buffer); at the end (once), every value's pending counters and
 * every interface's lost count (SKIPDATA).  0 or a count, or negative
 * errno. */
void vpc_xdp_flow_set_interval(struct vpc_xdp *x, uint32_t interval_s);
int vpc_xdp_flow_drain(struct vpc_xdp *x, void (*fn)(void *arg, const struct vpc_flow_rec *r),
		       void *arg);
int vpc_xdp_flow_flush(struct vpc_xdp *x, void (*fn)(void *arg, const struct vpc_flow_rec *r),
		       void *arg);
/* The records of connection v0 (its direction-0 value) and of its other
 * direction, for one user space deletes (vpc_xdp_lb_drain). */
void vpc_xdp_flow_conn(struct vpc_xdp *x, const struct vpc_xdp_ct *v0,
		       void (*fn)(void *arg, const struct vpc_flow_rec *r), void *arg);

#endif /* VPC_XDP_H */
