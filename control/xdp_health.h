/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_health.h -- the XDP engine's health checker: a process per instance
 * whose tables have load balancers' targets, running lib/lb_health.c's
 * checker on the program's clock (vpc_xdp_now) against the instance's
 * pinned maps.  The XDP engine has no daemon, so this is one for the one
 * thing that needs time to pass: probes, timeouts, healthy masks, drains.
 *
 * Its files, in VPCCTL_XDP_RUN_DIR/NAME/ (NAME: the instance):
 *   health.pid         its pid; it holds an exclusive flock() on the file
 *                      while it runs, so a stale file reads "not running"
 *   health.image       the table image it checks: written (atomically) by
 *                      `vpcctl xdp start` and by each `vpcctl apply
 *                      --instance NAME` after the publish, which then
 *                      signal it (SIGHUP) to take it
 *   health.generation  the generation of the tables it drives (its
 *                      answer to a SIGHUP: apply waits for it)
 *   health.txt, health.json
 *                      `vpcctl lb [--json]`'s answer (vpc_lb_hc_report),
 *                      rewritten (temporary file, rename) whenever it
 *                      changes
 *   health.log         its stdout and stderr: start, reloads, state
 *                      changes, devices whose sends fail
 * The instance's writer lock (NAME.lock, beside the directory) orders a
 * reload after the publish it follows: the checker takes it (without
 * blocking) to read the image and open the active set's maps, so both are
 * the same apply's.
 *
 * Every probe leaves by an AF_PACKET socket on the host-side device of
 * the target's port (host.ports' ifname): a frame sent there is received
 * by the VM; XDP runs on receive only, so the program does not see it.
 *
 * Single-threaded: the checker is one loop; the functions below are for
 * vpcctl's command line (one verb at a time).
 */
#ifndef VPCCTL_XDP_HEALTH_H
#define VPCCTL_XDP_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vpc_image_io.h"

#define VPCCTL_XDP_RUN_DIR "/run/vpc-xdp"

/*
 * The checker of instance, in the foreground, until SIGTERM or SIGINT (or
 * until the instance's pins are gone).  ready_fd >= 0: started by
 * vpcctl_health_spawn(), whose caller holds the instance lock and waits
 * on the fd for "ok" (or the reason it could not start); -1: by hand
 * (`vpcctl xdp health`).  Exit status.
 */
int vpcctl_health_run(const char *instance, int ready_fd);

/* Write img as the image the checker takes (atomically).  0 or -errno. */
int vpcctl_health_set_image(const char *instance, const struct vpc_image *img);

/* The running checker's pid, or 0 when none runs. */
pid_t vpcctl_health_pid(const char *instance);

/*
 * Start the checker in the background (its own session, stdio to its
 * log: truncated when fresh_log, else appended to) once its image is
 * written; the caller holds the instance lock.  Returns when the checker
 * has taken its image and opened the maps: its pid, or 0 with the reason
 * in err.
 */
pid_t vpcctl_health_spawn(const char *instance, bool fresh_log, char *err, size_t err_size);

/*
 * After an apply published generation (and wrote the image; the caller
 * has released the instance lock since), signal the checker pid and wait
 * for it to drive that generation's maps: 0, or -ETIMEDOUT after
 * timeout_ms, -ESRCH when it is gone.
 */
int vpcctl_health_reload(const char *instance, pid_t pid, uint32_t generation,
			 unsigned int timeout_ms);

/*
 * Stop the checker (SIGTERM; SIGKILL if it has not exited after 10 s),
 * wait until it has exited, and remove its files but the log.  1: one was
 * stopped; 0: none ran; -1: it would not die (message in err).
 */
int vpcctl_health_stop(const char *instance, char *err, size_t err_size);

/* `vpcctl lb [--json] --instance`: print the checker's report to stdout.
 * Exit status (1, with a message on stderr, when no checker runs). */
int vpcctl_health_print(const char *instance, bool json);

#endif /* VPCCTL_XDP_HEALTH_H */
