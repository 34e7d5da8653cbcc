/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcctl_xdp.c -- vpcctl's verbs for the XDP engine.  There is no daemon:
 * `vpcctl xdp start` loads the program, pins it and its maps under
 * /sys/fs/bpf/vpc/NAME and attaches it; every later verb works on the
 * pinned maps (bpf/vpc_xdp.h).  Writers (start, apply, stop) of one
 * instance are serialised by a lock file.  Outputs are vpcd's, line for
 * line, so scripts need not care which engine runs.  An instance whose
 * tables have load balancers' targets has a health checker, a process of
 * its own (xdp_health.h): start and apply start it, apply hands it each
 * new image, stop stops it first.
 */
#include "vpcctl_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "compile.h"
#include "vpc_names.h"
#include "vpc_report.h"
#include "vpc_trace.h"
#include "vpc_trace_report.h"
#include "vpc_xdp.h"
#include "xdp_health.h"

/* How long apply waits for the health checker to take its tables. */
#define HEALTH_RELOAD_MS 5000

static void
pin_dir(char *dir, size_t n, const char *instance)
{
	snprintf(dir, n, "%s/%s", VPC_XDP_PIN_ROOT, instance);
}

/* The instance's writer lock (released at exit). */
static int
lock_instance(const char *instance)
{
	char path[256];

	mkdir(VPCCTL_XDP_RUN_DIR, 0700);
	snprintf(path, sizeof(path), VPCCTL_XDP_RUN_DIR "/%s.lock", instance);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		fprintf(stderr, "vpcctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

/* The image of the instance's active tables (for the names a trace
 * prints): written by start and apply, removed by stop. */
static void
image_path(char *path, size_t n, const char *instance)
{
	snprintf(path, n, VPCCTL_XDP_RUN_DIR "/%s.image", instance);
}

static void
save_image(const char *instance, const struct vpc_image *img)
{
	char path[256];

	mkdir(VPCCTL_XDP_RUN_DIR, 0700);
	image_path(path, sizeof(path), instance);
	int r = vpc_image_write_file(img, path);
	if (r < 0)
		fprintf(stderr, "vpcctl: instance %s: %s: %s (vpcctl trace needs it)\n", instance,
			path, strerror(-r));
}

static bool
valid_instance(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

static int
open_instance(const char *instance, struct vpc_xdp_fds *f)
{
	char dir[256];

	if (!valid_instance(instance)) {
		fprintf(stderr, "vpcctl: bad instance name '%s' ([a-z0-9_-], 1 to 32)\n", instance);
		return -1;
	}
	pin_dir(dir, sizeof(dir), instance);
	int r = vpc_xdp_open_pinned(dir, f);
	if (r < 0) {
		fprintf(stderr, "vpcctl: no XDP instance '%s' (%s: %s)\n", instance, dir,
			strerror(-r));
		return -1;
	}
	return 0;
}

static void
print_applied(const struct vpc_image *img, const struct vpc_xdp_published *pub, bool revalidate)
{
	printf("applied: generation %u, %u VPCs, %u interfaces", pub->generation, img->n_vpcs,
	       img->n_ifaces);
	if (pub->n_added || pub->n_removed)
		printf(", %u port%s opened, %u closed", pub->n_added, pub->n_added == 1 ? "" : "s",
		       pub->n_removed);
	printf("%s\n", revalidate ? ", connections revalidated" : "");
}

/* The checker of img (the tables just published; the caller holds the
 * instance lock): its pid, or 0 with the reason on stderr. */
static pid_t
health_start(const char *instance, const struct vpc_image *img, bool fresh_log)
{
	char err[768];
	int r = vpcctl_health_set_image(instance, img);
	pid_t pid = 0;

	if (r < 0)
		snprintf(err, sizeof(err), "cannot write its image: %s", strerror(-r));
	else
		pid = vpcctl_health_spawn(instance, fresh_log, err, sizeof(err));
	if (pid == 0)
		fprintf(stderr, "vpcctl: instance %s: health checker not started: %s\n", instance,
			err);
	return pid;
}

static int
xdp_start(int argc, char **argv)
{
	const char *file = NULL, *instance = "default", *mode = "native", *host = NULL;
	unsigned long max_conns = 0;
	char dir[256], err[512];

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc)
			instance = argv[++i];
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			host = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "--max-connections") == 0 && i + 1 < argc) {
			char *end;
			max_conns = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || max_conns == 0 || max_conns > (1ul << 26)) {
				fprintf(stderr, "vpcctl: --max-connections: 1 to %lu\n", 1ul << 26);
				return 2;
			}
		} else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return 2;
	}
	if (file == NULL)
		return 2;
	if (strcmp(mode, "native") != 0 && strcmp(mode, "generic") != 0) {
		fprintf(stderr, "vpcctl: --mode: native or generic\n");
		return 2;
	}
	if (!valid_instance(instance)) {
		fprintf(stderr, "vpcctl: bad instance name '%s' ([a-z0-9_-], 1 to 32)\n", instance);
		return 2;
	}
	struct vpc_image *img = vpc_image_load_host(file, NULL, host, stderr);
	if (img == NULL)
		return 1;
	if (lock_instance(instance) < 0) {
		vpc_image_free(img);
		return 1;
	}
	pin_dir(dir, sizeof(dir), instance);
	struct vpc_xdp_info info = {
		.mode = strcmp(mode, "generic") == 0 ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE,
		.max_conns = max_conns ? (uint32_t)max_conns : vpc_ct_default_size(img->n_ifaces),
	};
	struct vpc_xdp *x = vpc_xdp_load(false, info.max_conns, err, sizeof(err));
	if (x == NULL) {
		fprintf(stderr, "vpcctl: %s\n", err);
		vpc_image_free(img);
		return 1;
	}
	static struct vpc_xdp_published pub;
	int ret = 1;
	uint32_t n;
	if (vpc_xdp_pin(x, dir, &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "vpcctl: %s\n", err);
		if (errno != EEXIST)
			vpc_xdp_unpin(dir, &n, err, sizeof(err));
		goto out;
	}
	if (vpc_xdp_publish(vpc_xdp_fds(x), img, false, dir, &pub, err, sizeof(err)) < 0) {
		fprintf(stderr, "vpcctl: %s\n", err);
		char e2[256];
		vpc_xdp_unpin(dir, &n, e2, sizeof(e2));	/* nothing stays behind */
		goto out;
	}
	/* A checker left by an instance of this name unpinned without a stop
	 * drives maps nobody uses any more. */
	if (vpcctl_health_stop(instance, err, sizeof(err)) < 0)
		fprintf(stderr, "vpcctl: instance %s: an old %s\n", instance, err);
	pid_t hc = 0;
	if (img->n_targets > 0 && (hc = health_start(instance, img, true)) == 0) {
		char e2[256];
		vpc_xdp_unpin(dir, &n, e2, sizeof(e2));	/* all or nothing */
		goto out;
	}
	save_image(instance, img);
	printf("xdp: instance %s attached to %u port%s (%s), generation %u\n", instance,
	       pub.n_attached, pub.n_attached == 1 ? "" : "s", mode, pub.generation);
	if (hc > 0)
		printf("xdp: instance %s: health checks of %u target%s (pid %d; %s/%s)\n",
		       instance, img->n_targets, img->n_targets == 1 ? "" : "s", (int)hc,
		       VPCCTL_XDP_RUN_DIR, instance);
	ret = 0;
out:
	vpc_xdp_free(x);
	vpc_image_free(img);
	return ret;
}

static int
xdp_stop(int argc, char **argv)
{
	const char *instance = "default";
	char dir[256], err[512];
	uint32_t n;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc)
			instance = argv[++i];
		else
			return 2;
	}
	if (!valid_instance(instance)) {
		fprintf(stderr, "vpcctl: bad instance name '%s'\n", instance);
		return 2;
	}
	if (lock_instance(instance) < 0)
		return 1;
	pin_dir(dir, sizeof(dir), instance);
	/* The checker first: it must not drive maps on their way out. */
	int h = vpcctl_health_stop(instance, err, sizeof(err));
	if (h < 0)
		fprintf(stderr, "vpcctl: instance %s: %s\n", instance, err);
	else if (h > 0)
		printf("xdp: instance %s: health checker stopped\n", instance);
	if (vpc_xdp_unpin(dir, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "vpcctl: no XDP instance '%s' (%s)\n", instance, err);
		return 1;
	}
	image_path(dir, sizeof(dir), instance);
	unlink(dir);
	printf("xdp: instance %s detached from %u ports\n", instance, n);
	return 0;
}

/* `vpcctl xdp health`: the checker itself (xdp_health.h). */
static int
xdp_health(int argc, char **argv)
{
	const char *instance = "default";
	int ready_fd = -1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc)
			instance = argv[++i];
		else if (strcmp(argv[i], "--ready-fd") == 0 && i + 1 < argc) {
			char *end;
			long fd = strtol(argv[++i], &end, 10);
			if (*end != '\0' || fd < 3 || fd > 65535)
				return 2;
			ready_fd = (int)fd;
		} else
			return 2;
	}
	if (!valid_instance(instance)) {
		fprintf(stderr, "vpcctl: bad instance name '%s' ([a-z0-9_-], 1 to 32)\n", instance);
		return 2;
	}
	return vpcctl_health_run(instance, ready_fd);
}

static int
xdp_verbs(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "start") == 0)
		return xdp_start(argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "stop") == 0)
		return xdp_stop(argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "health") == 0)
		return xdp_health(argc - 1, argv + 1);
	return 2;
}

static int
xdp_apply(const char *instance, const struct vpc_image *img, uint32_t flags)
{
	struct vpc_xdp_fds f;
	char dir[256], err[512];
	static struct vpc_xdp_published pub;

	/* open_instance checks the name before it makes any path of it */
	if (open_instance(instance, &f) < 0)
		return 1;
	/* Released when the apply is done, not at exit: the agent applies
	 * many times in one process, and a second flock() on a new open of
	 * the file would wait for its own first one forever. */
	int lock = lock_instance(instance);
	if (lock < 0) {
		vpc_xdp_close_fds(&f);
		return 1;
	}
	pin_dir(dir, sizeof(dir), instance);
	bool revalidate = flags & VPC_CTL_F_REVALIDATE;
	int r = vpc_xdp_publish(&f, img, revalidate, dir, &pub, err, sizeof(err));
	pid_t hc = 0;
	if (r < 0) {
		fprintf(stderr, "refused: %s\n", err);
	} else {
		save_image(instance, img);
		print_applied(img, &pub, revalidate);
		/* The checker takes the new image (one that removes every
		 * target too: it drains theirs); none runs yet: start one
		 * where there are targets.  The tables are applied in any
		 * case: a checker that fails is said, not an apply refused. */
		hc = vpcctl_health_pid(instance);
		if (hc > 0 && (r = vpcctl_health_set_image(instance, img)) < 0) {
			fprintf(stderr, "vpcctl: instance %s: the health checker keeps the previous "
				"tables: cannot write its image: %s\n", instance, strerror(-r));
			hc = 0;
		} else if (hc == 0 && img->n_targets > 0)
			health_start(instance, img, false);
		r = 0;
	}
	vpc_xdp_close_fds(&f);
	close(lock);
	/* After the lock is released: the checker takes it to reload. */
	if (hc > 0) {
		int e = vpcctl_health_reload(instance, hc, pub.generation, HEALTH_RELOAD_MS);
		if (e < 0)
			fprintf(stderr, "vpcctl: instance %s: the health checker (pid %d) has not "
				"taken generation %u: %s (its log: %s/%s/health.log)\n", instance,
				(int)hc, pub.generation, strerror(-e), VPCCTL_XDP_RUN_DIR, instance);
	}
	return r < 0 ? 1 : 0;
}

static int
xdp_stats(const struct vpc_xdp_fds *f, bool json)
{
	static struct vpc_xdp_port_stats ps[VPC_XDP_MAX_PORTS];
	static struct vpc_xdp_port_table pt;
	static struct vpc_report_port rp[VPC_XDP_MAX_PORTS];
	static uint64_t paths[VPC_PATH_COUNT], drops[VPC_DROP_COUNT];
	struct vpc_xdp_stats s;
	uint32_t n = 0;

	if (vpc_xdp_read_stats(f, &s, ps) < 0 || vpc_xdp_port_table(f, &pt) < 0) {
		fprintf(stderr, "vpcctl: cannot read the counters\n");
		return 1;
	}
	for (uint32_t slot = 0; slot < VPC_XDP_MAX_PORTS; slot++)
		if (pt.active[slot])
			rp[n++] = (struct vpc_report_port){
				pt.name[slot], ps[slot].rx_packets, ps[slot].tx_packets, ps[slot].drops,
			};
	for (int p = 0; p < VPC_PATH_COUNT; p++)
		paths[p] = s.paths[p];
	for (int r = 0; r < VPC_DROP_COUNT; r++)
		drops[r] = s.drops[r];
	struct vpc_report r = {
		.generation = vpc_xdp_generation(f), .packets = s.packets,
		.paths = paths, .drops = drops, .ports = rp, .n_ports = n,
		.has_tx_errors = true, .tx_errors = s.tx_errors,
		.tracked = vpc_xdp_ct_count(f), .capacity = vpc_xdp_ct_capacity(f),
		.created = s.ct_created, .expired = s.ct_expired, .refused = s.ct_refused_full,
	};
	vpc_report_stats(stdout, &r, json);
	return 0;
}

struct list_ctx {
	bool json;
	uint32_t n;
	uint64_t now;
};

static void
list_one(const struct vpc_ct_key *k, const struct vpc_xdp_ct *e, void *arg)
{
	struct list_ctx *c = arg;
	struct vpc_report_conn rc = {
		.ctx_proto = k->ctx_proto, .src = k->src, .dst = k->dst,
		.sport = k->sport, .dport = k->dport, .state = e->trk.state,
		.expires_in = e->expires > c->now ? (e->expires - c->now) / 1000000000ull : 0,
		.via = e->act[0].path == VPC_PATH_LB ? VPC_REPORT_VIA_LB :
		       e->act[0].nat_port != 0 ? VPC_REPORT_VIA_NATGW : 0,
		.natgw_ip = e->act[0].nat_addr, .natgw_port = e->act[0].nat_port,
	};

	vpc_report_conn(stdout, &rc, c->json, &c->n);
}

static int
xdp_query(const char *instance, uint32_t op, uint32_t flags)
{
	bool json = flags & VPC_CTL_F_JSON;
	struct vpc_xdp_fds f;
	int ret = 0;

	if (open_instance(instance, &f) < 0)
		return 1;
	if (op == VPC_CTL_STATS) {
		ret = xdp_stats(&f, json);
	} else if (op == VPC_CTL_CT_LIST) {
		struct list_ctx c = { .json = json, .now = vpc_xdp_now() };
		vpc_report_conns_begin(stdout, json);
		vpc_xdp_ct_each(&f, list_one, &c);
		vpc_report_conns_end(stdout, json);
	} else if (op == VPC_CTL_CT_COUNT) {
		printf(json ? "{\"tracked\":%u,\"capacity\":%u}\n" :
			      "%u connections tracked (capacity %u)\n",
		       vpc_xdp_ct_count(&f), vpc_xdp_ct_capacity(&f));
	} else if (op == VPC_CTL_LB) {
		ret = vpcctl_health_print(instance, json);
	} else {
		uint32_t n = vpc_xdp_ct_flush(&f);
		printf(json ? "{\"flushed\":%u}\n" : "flushed %u connections\n", n);
	}
	vpc_xdp_close_fds(&f);
	return ret;
}

/* ---- vpcctl capture --instance ---- */

struct cap_ctx {
	struct vpcctl_sink *sink;
	int64_t wall_offset;	/* UNIX time - CLOCK_MONOTONIC, ns */
	bool discard;		/* draining a previous capture's records */
	int stop;		/* 1: the count reached; -1: the sink failed */
};

static int
cap_record(void *arg, void *data, size_t size)
{
	struct cap_ctx *c = arg;
	const struct vpc_xdp_cap_rec *r = data;

	if (c->discard || c->stop)
		return 0;
	if (size < sizeof(*r) || r->cap_len > VPC_XDP_CAP_SNAPLEN || r->cap_len > r->orig_len)
		return 0;	/* not one of ours: skipped */
	int k = vpcctl_sink_frame(c->sink, (uint64_t)((int64_t)r->ts + c->wall_offset),
				  r->dir == VPC_XDP_CAP_RX ? VPC_CTL_CAP_RX : VPC_CTL_CAP_TX,
				  r->data, r->cap_len, r->orig_len);
	if (k != 0) {
		c->stop = k;
		return 1;	/* ring_buffer__poll returns at once */
	}
	return 0;
}

/*
 * The capture flag (map "capture") set for the port's slot and device,
 * the ring buffer (map "capture_ring") read until the count, a stop or
 * the port's removal, the flag cleared.  One capture per instance at a
 * time: a lock file held while it runs (a vpcctl killed with SIGKILL
 * leaves the flag set -- the program goes on copying into a ring nobody
 * reads, each copy refused once it is full -- until the next capture or
 * `xdp stop`).
 */
static int
xdp_capture(const char *instance, const struct vpcctl_capture *opt, struct vpcctl_sink *sink)
{
	struct vpc_xdp_fds f;
	char path[256];
	uint32_t z = 0, ifindex = 0;
	int ret = 1;

	if (open_instance(instance, &f) < 0)
		return 1;
	int slot = vpc_xdp_slot(&f, opt->port);
	if (slot < 0) {
		fprintf(stderr, "vpcctl: cannot capture: no port '%s' in instance '%s'\n", opt->port,
			instance);
		vpc_xdp_close_fds(&f);
		return 1;
	}
	uint32_t s32 = (uint32_t)slot;
	if (bpf_map_lookup_elem(f.tx_ports, &s32, &ifindex) < 0 || ifindex == 0) {
		fprintf(stderr, "vpcctl: cannot capture: port '%s' is not on this host\n", opt->port);
		vpc_xdp_close_fds(&f);
		return 1;
	}
	mkdir(VPCCTL_XDP_RUN_DIR, 0700);
	snprintf(path, sizeof(path), VPCCTL_XDP_RUN_DIR "/%s.capture.lock", instance);
	int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		if (lock >= 0 && errno == EWOULDBLOCK)
			fprintf(stderr, "vpcctl: cannot capture: instance '%s' is being captured "
					"already (one capture at a time)\n", instance);
		else
			fprintf(stderr, "vpcctl: %s: %s\n", path, strerror(errno));
		if (lock >= 0)
			close(lock);
		vpc_xdp_close_fds(&f);
		return 1;
	}
	struct cap_ctx c = { .sink = sink, .discard = true };
	struct ring_buffer *rb = ring_buffer__new(f.capture_ring, cap_record, &c, NULL);
	if (rb == NULL) {
		fprintf(stderr, "vpcctl: instance '%s': the capture ring: %s\n", instance,
			strerror(errno));
		goto out;
	}
	/* What an earlier capture left (a vpcctl killed, copies after its
	 * flag was cleared): not this capture's. */
	ring_buffer__consume(rb);
	c.discard = false;
	struct timespec rt, mono;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	c.wall_offset = ((int64_t)rt.tv_sec - (int64_t)mono.tv_sec) * 1000000000 +
			((int64_t)rt.tv_nsec - (int64_t)mono.tv_nsec);
	struct vpc_xdp_capture cap = {
		.slot = s32, .ifindex = ifindex,
		.dirs = (opt->dirs & VPC_CTL_CAP_RX ? VPC_XDP_CAP_RX : 0) |
			(opt->dirs & VPC_CTL_CAP_TX ? VPC_XDP_CAP_TX : 0),
	};
	if (bpf_map_update_elem(f.capture, &z, &cap, BPF_ANY) < 0) {
		fprintf(stderr, "vpcctl: instance '%s': turning the capture on: %s\n", instance,
			strerror(errno));
		goto out;
	}
	const char *dn = opt->dirs == VPC_CTL_CAP_RX ? "rx" : opt->dirs == VPC_CTL_CAP_TX ? "tx" :
			 "rx and tx";
	fprintf(stderr, "capturing %s of port '%s', up to %u bytes a frame\n", dn, opt->port,
		VPC_XDP_CAP_SNAPLEN);
	if (vpcctl_sink_begin(sink, VPC_XDP_CAP_SNAPLEN) != 0)
		goto off;
	ret = 0;
	while (!vpcctl_capture_stop && c.stop == 0) {
		int n = ring_buffer__poll(rb, 100);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "vpcctl: instance '%s': reading the capture ring: %s\n",
				instance, strerror(-n));
			ret = 1;
			break;
		}
		struct vpc_xdp_capture now;
		if (bpf_map_lookup_elem(f.capture, &z, &now) == 0)
			vpcctl_sink_lost(sink, now.lost);
		/* The port removed by an apply (or its slot given to another). */
		if (c.stop == 0 && vpc_xdp_slot(&f, opt->port) != slot) {
			fprintf(stderr, "vpcctl: port '%s' is gone (an apply removed it): capture ended\n",
				opt->port);
			break;
		}
	}
	if (c.stop < 0)
		ret = 1;
off:;
	struct vpc_xdp_capture last;
	if (bpf_map_lookup_elem(f.capture, &z, &last) == 0)
		vpcctl_sink_lost(sink, last.lost);
	struct vpc_xdp_capture none = { 0 };
	if (bpf_map_update_elem(f.capture, &z, &none, BPF_ANY) < 0) {
		fprintf(stderr, "vpcctl: instance '%s': turning the capture off: %s\n", instance,
			strerror(errno));
		ret = 1;
	}
out:
	ring_buffer__free(rb);	/* NULL is fine */
	close(lock);
	vpc_xdp_close_fds(&f);
	return ret;
}

/* `vpcctl trace --instance`: a traced copy of the program on the
 * instance's maps (vpc_xdp_load_trace), run once on the packet. */
static int
xdp_trace(const char *instance, const char *port, uint32_t kind, const uint8_t *bytes, uint32_t len,
	  uint32_t flags)
{
	static uint8_t frame[VPC_CTL_TRACE_MAX], out[VPC_CTL_TRACE_MAX + 512];
	static struct vpc_xdp_port_table ports;
	struct vpc_xdp_fds f;
	char path[256], err[512];
	int ret = 1;

	if (open_instance(instance, &f) < 0)
		return 1;
	image_path(path, sizeof(path), instance);
	struct vpc_image *img = vpc_image_read_file(path, err, sizeof(err));
	struct vpc_xdp *x = NULL;
	if (img == NULL) {
		fprintf(stderr, "vpcctl: instance %s: its tables' image: %s\n", instance, err);
		goto out;
	}
	uint32_t pi = vpc_trace_port(img, port);
	int slot = vpc_xdp_slot(&f, port);
	if (pi == VPC_INDEX_NONE || slot < 0) {
		fprintf(stderr, "vpcctl: trace: no port '%s' in instance %s\n", port, instance);
		goto out;
	}
	uint32_t flen = len;
	if (kind == VPC_CTL_TRACE_SPEC) {
		char spec[512];
		if (len >= sizeof(spec)) {
			fprintf(stderr, "vpcctl: trace: the packet's description is too long\n");
			goto out;
		}
		memcpy(spec, bytes, len);
		spec[len] = 0;
		int n = vpc_trace_frame(img, pi, spec, frame, sizeof(frame), err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "vpcctl: trace: %s\n", err);
			goto out;
		}
		flen = (uint32_t)n;
	} else {
		if (len > sizeof(frame) || len < 14) {
			fprintf(stderr, "vpcctl: trace: a frame of %u bytes\n", len);
			goto out;
		}
		memcpy(frame, bytes, len);
	}
	if ((x = vpc_xdp_load_trace(&f, err, sizeof(err))) == NULL) {
		fprintf(stderr, "vpcctl: trace: %s\n", err);
		goto out;
	}
	memcpy(out, frame, flen);
	uint32_t out_len = flen;
	struct vpc_xdp_verdict v;
	struct vpc_trace_buf tb;
	int r = vpc_xdp_trace(x, (uint32_t)slot, vpc_xdp_now(), out, flen, sizeof(out), &out_len,
			      &v, &tb);
	if (r < 0 || vpc_xdp_port_table(&f, &ports) < 0) {
		fprintf(stderr, "vpcctl: trace: running the program: %s\n", strerror(r < 0 ? -r : EIO));
		goto out;
	}
	uint32_t op = VPC_INDEX_NONE;
	if (v.action == VPC_ACT_REPLY)
		op = pi;
	else if (v.action != VPC_ACT_DROP && v.out_slot < VPC_XDP_MAX_PORTS)
		op = vpc_trace_port(img, ports.name[v.out_slot]);
	struct vpc_trace_result res = {
		.in_port = pi, .in_frame = frame, .in_len = flen, .tb = &tb,
		.action = v.action, .path = v.path, .reason = v.reason, .out_port = op,
		.out_frame = out, .out_len = out_len,
	};
	vpc_trace_print(stdout, img, &res, flags & VPC_CTL_F_JSON);
	ret = 0;
out:
	vpc_xdp_free(x);
	vpc_image_free(img);
	vpc_xdp_close_fds(&f);
	return ret;
}

static const struct vpcctl_engine xdp_engine = {
	.name = "xdp", .apply = xdp_apply, .query = xdp_query, .trace = xdp_trace, .verbs = xdp_verbs,
	.capture = xdp_capture,
};

static void __attribute__((constructor))
xdp_register(void)
{
	vpcctl_engine_register(&xdp_engine);
}
