/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_engine.c -- load the XDP program, derive its tables from a table
 * image, publish them atomically, attach to ports, read counters and
 * connections (see vpc_xdp.h).
 */
#include "vpc_xdp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "sg.h"
#include "vpc_trace.h"
#include "vpc_xdp.skel.h"

struct vpc_xdp {
	struct vpc_xdp_bpf *skel;
	struct vpc_xdp_fds fds;
	struct ring_buffer *flow_rb;	/* flow logs' reader, once asked for */
	void (*flow_fn)(void *arg, const struct vpc_flow_rec *r);
	void *flow_arg;
};

/* Map names, as pinned; the order of enum vpc_xdp_set_map. */
static const char *const set_names[VPC_XS_COUNT] = {
	"set_global", "set_ports", "set_ifaces", "set_vpcs", "set_l2", "set_ips",
	"set_eips", "set_routes", "set_sg_classes", "set_sg_nodes",
	"set_sg_intervals", "set_sg_icmps", "set_nacls", "set_tunnels", "set_underlay",
	"set_vnis", "set_appliances", "set_rports", "set_natgws", "set_lbs", "set_listeners",
	"set_tgroups", "set_lb_hc", "set_lb_ip", "set_lb_healthy", "set_lb_answers",
};

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return ret;
}

uint64_t
vpc_xdp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
fds_reset(struct vpc_xdp_fds *f)
{
	for (int i = 0; i < VPC_XS_COUNT; i++)
		f->set[i] = -1;
	f->control = f->ct = f->if_slots = f->if_slots_lo = f->tx_ports = f->stats = f->port_stats = -1;
	f->lb_turn = -1;
	f->names = f->info = f->prog = -1;
	f->capture = f->capture_ring = -1;
}

/* ---- loading ---- */

__attribute__((format(printf, 2, 0))) static int
silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("VPC_XDP_DEBUG") != NULL)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG && getenv("VPC_XDP_DEBUG") != NULL)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* The skeleton's maps of each kind of table, in enum vpc_xdp_set_map order. */
static void
skel_sets(struct vpc_xdp_bpf *k, struct bpf_map *sets[VPC_XS_COUNT])
{
	struct bpf_map *all[VPC_XS_COUNT] = {
		k->maps.set_global, k->maps.set_ports, k->maps.set_ifaces,
		k->maps.set_vpcs, k->maps.set_l2, k->maps.set_ips,
		k->maps.set_eips, k->maps.set_routes, k->maps.set_sg_classes,
		k->maps.set_sg_nodes, k->maps.set_sg_intervals,
		k->maps.set_sg_icmps, k->maps.set_nacls, k->maps.set_tunnels,
		k->maps.set_underlay, k->maps.set_vnis, k->maps.set_appliances,
		k->maps.set_rports, k->maps.set_natgws, k->maps.set_lbs,
		k->maps.set_listeners, k->maps.set_tgroups, k->maps.set_lb_hc,
		k->maps.set_lb_ip, k->maps.set_lb_healthy, k->maps.set_lb_answers,
	};
	memcpy(sets, all, sizeof(all));
}

/* A traced copy's connection table: its own, small (the entries a trace
 * looks at are copied in). */
#define TRACE_CT_SIZE 256

/*
 * live: NULL for a forwarding copy (max_conns connections); else a traced
 * copy (vpc_xdp_load_trace) that reads live's tables and connections.
 */
static struct vpc_xdp *
load(bool replay, uint32_t max_conns, const struct vpc_xdp_fds *live, char *err, size_t err_size)
{
	struct vpc_xdp *x = calloc(1, sizeof(*x));

	libbpf_set_print(silent_print);
	if (x == NULL) {
		fail(err, err_size, 0, "out of memory");
		return NULL;
	}
	fds_reset(&x->fds);
	x->skel = vpc_xdp_bpf__open();
	if (x->skel == NULL) {
		fail(err, err_size, 0, "opening the XDP program: %s", strerror(errno));
		free(x);
		return NULL;
	}
	x->skel->rodata->replay_mode = replay;
	int ret = 0;
	if (live != NULL) {
		/* A traced copy: the live tables (every set, the active-set
		 * switch) and connections (read through live_ct); its own
		 * counters, scratch, turns and ct. */
		struct bpf_map_info info;
		uint32_t ilen = sizeof(info);
		memset(&info, 0, sizeof(info));
		x->skel->rodata->trace_mode = 1;
		bpf_map__set_max_entries(x->skel->maps.ct, TRACE_CT_SIZE);
		bpf_map__set_max_entries(x->skel->maps.trace_gone, TRACE_CT_SIZE);
		if (bpf_obj_get_info_by_fd(live->ct, &info, &ilen) < 0)
			ret = -errno;
		else
			bpf_map__set_max_entries(x->skel->maps.live_ct, info.max_entries);
		struct bpf_map *sets[VPC_XS_COUNT];
		skel_sets(x->skel, sets);
		for (int i = 0; i < VPC_XS_COUNT && ret == 0; i++)
			ret = bpf_map__reuse_fd(sets[i], live->set[i]);
		if (ret == 0)
			ret = bpf_map__reuse_fd(x->skel->maps.control, live->control);
		if (ret == 0)
			ret = bpf_map__reuse_fd(x->skel->maps.live_ct, live->ct);
		/* the round-robin turns: read, not taken (stage_decide.h) */
		if (ret == 0 && live->lb_turn >= 0)
			ret = bpf_map__reuse_fd(x->skel->maps.lb_turn, live->lb_turn);
		if (ret < 0) {
			fail(err, err_size, 0, "the instance's maps: %s", strerror(-ret));
			vpc_xdp_bpf__destroy(x->skel);
			free(x);
			return NULL;
		}
	} else {
		if (max_conns == 0 || max_conns > (1u << 30))
			max_conns = 65536;
		bpf_map__set_max_entries(x->skel->maps.ct, 2 * max_conns);
	}
	ret = vpc_xdp_bpf__load(x->skel);
	if (ret < 0) {
		fail(err, err_size, 0, "loading the XDP program: %s%s", strerror(-ret),
		     -ret == EPERM ? " (needs root, or CAP_BPF and CAP_NET_ADMIN)" :
		     " (VPC_XDP_DEBUG=1 shows the verifier's log)");
		vpc_xdp_bpf__destroy(x->skel);
		free(x);
		return NULL;
	}
	struct vpc_xdp_fds *f = &x->fds;
	struct bpf_map *sets[VPC_XS_COUNT];
	skel_sets(x->skel, sets);
	for (int i = 0; i < VPC_XS_COUNT; i++)
		f->set[i] = bpf_map__fd(sets[i]);
	f->control = bpf_map__fd(x->skel->maps.control);
	f->ct = bpf_map__fd(x->skel->maps.ct);
	f->if_slots = bpf_map__fd(x->skel->maps.if_slots);
	f->if_slots_lo = bpf_map__fd(x->skel->maps.if_slots_lo);
	f->tx_ports = bpf_map__fd(x->skel->maps.tx_ports);
	f->stats = bpf_map__fd(x->skel->maps.stats);
	f->port_stats = bpf_map__fd(x->skel->maps.port_stats);
	f->lb_turn = bpf_map__fd(x->skel->maps.lb_turn);
	f->capture = bpf_map__fd(x->skel->maps.capture);
	f->capture_ring = bpf_map__fd(x->skel->maps.capture_ring);
	f->prog = bpf_program__fd(x->skel->progs.vpc_xdp);
	/* User-space-only maps: the port names' slots and the settings. */
	f->names = bpf_map_create(BPF_MAP_TYPE_HASH, "vpc_names", VPC_NAME_SIZE, sizeof(uint32_t),
				  VPC_XDP_MAX_PORTS, NULL);
	f->info = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vpc_info", sizeof(uint32_t),
				 sizeof(struct vpc_xdp_info), 1, NULL);
	if (f->names < 0 || f->info < 0) {
		fail(err, err_size, 0, "creating maps: %s", strerror(errno));
		vpc_xdp_free(x);
		return NULL;
	}
	return x;
}

struct vpc_xdp *
vpc_xdp_load(bool replay, uint32_t max_conns, char *err, size_t err_size)
{
	return load(replay, max_conns, NULL, err, err_size);
}

struct vpc_xdp *
vpc_xdp_load_trace(const struct vpc_xdp_fds *live, char *err, size_t err_size)
{
	return load(true, 0, live, err, err_size);
}

void
vpc_xdp_free(struct vpc_xdp *x)
{
	if (x == NULL)
		return;
	if (x->fds.names >= 0)
		close(x->fds.names);
	if (x->fds.info >= 0)
		close(x->fds.info);
	ring_buffer__free(x->flow_rb);
	vpc_xdp_bpf__destroy(x->skel);
	free(x);
}

/* ---- flow logs (bpf/stage_flowlog.h) ---- */

void
vpc_xdp_flow_set_interval(struct vpc_xdp *x, uint32_t interval_s)
{
	x->skel->bss->flow_interval = interval_s;
}

static int
flow_rb_one(void *ctx, void *data, size_t size)
{
	struct vpc_xdp *x = ctx;

	if (size >= sizeof(struct vpc_flow_rec))
		x->flow_fn(x->flow_arg, data);
	return 0;
}

int
vpc_xdp_flow_drain(struct vpc_xdp *x, void (*fn)(void *arg, const struct vpc_flow_rec *r),
		   void *arg)
{
	if (x->flow_rb == NULL) {
		x->flow_rb = ring_buffer__new(bpf_map__fd(x->skel->maps.flow_ring), flow_rb_one, x,
					      NULL);
		if (x->flow_rb == NULL)
			return -errno;
	}
	x->flow_fn = fn;
	x->flow_arg = arg;
	return ring_buffer__consume(x->flow_rb);
}

static void
flow_value(const struct vpc_xdp_ct *v, void (*fn)(void *arg, const struct vpc_flow_rec *r),
	   void *arg)
{
	struct vpc_flow_rec r;

	for (unsigned int k = 0; k < 2; k++)
		if (vpc_flow_record(&v->flow, k, (uint8_t)v->self.ctx_proto, v->self.src, v->self.dst,
				    v->self.sport, v->self.dport, v->other.dst, v->other.src,
				    v->other.dport, v->other.sport, &r))
			fn(arg, &r);
}

void
vpc_xdp_flow_conn(struct vpc_xdp *x, const struct vpc_xdp_ct *v0,
		  void (*fn)(void *arg, const struct vpc_flow_rec *r), void *arg)
{
	struct vpc_xdp_ct v1;
	struct vpc_ct_key other = v0->other;

	flow_value(v0, fn, arg);
	if (!vpc_ct_key_eq(&v0->self, &other) &&
	    bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.ct), &other, &v1) == 0 && v1.dir == 1)
		flow_value(&v1, fn, arg);
}

int
vpc_xdp_flow_flush(struct vpc_xdp *x, void (*fn)(void *arg, const struct vpc_flow_rec *r),
		   void *arg)
{
	int ct = bpf_map__fd(x->skel->maps.ct), lim_fd = bpf_map__fd(x->skel->maps.flow_limits);
	struct vpc_ct_key key, next;
	void *prev = NULL;
	struct vpc_xdp_ct v;
	struct vpc_flow_rec r;

	/* Every value is one direction's counters, whichever direction. */
	while (bpf_map_get_next_key(ct, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(ct, &key, &v) != 0)
			continue;
		flow_value(&v, fn, arg);
		/* (Not emptied: an update moves the element to the head of
		 * its bucket, and the walk would meet it again, for ever.
		 * The end of a replay, once.) */
	}
	for (uint32_t i = 0; i < VPC_XDP_FLOW_IFACES; i++) {
		struct vpc_xdp_flow_limit lim;
		if (bpf_map_lookup_elem(lim_fd, &i, &lim) != 0 || lim.skipped == 0)
			continue;
		r = (struct vpc_flow_rec){ .start = lim.skip_first, .end = lim.skip_last, .iface = i,
					   .action = VPC_FLOW_SKIPDATA, .n_skipped = lim.skipped };
		fn(arg, &r);
		lim.skipped = 0;
		bpf_map_update_elem(lim_fd, &i, &lim, BPF_ANY);
	}
	return 0;
}

const struct vpc_xdp_fds *
vpc_xdp_fds(const struct vpc_xdp *x)
{
	return &x->fds;
}

/* ---- pins ---- */

static int
pin_fd(int fd, const char *dir, const char *name, char *err, size_t n)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path) < 0)
		return fail(err, n, -errno, "pinning %s: %s", path, strerror(errno));
	return 0;
}

int
vpc_xdp_pin(struct vpc_xdp *x, const char *dir, const struct vpc_xdp_info *info,
	    char *err, size_t err_size)
{
	const struct vpc_xdp_fds *f = &x->fds;
	uint32_t z = 0;
	int ret;

	/* bpffs at /sys/fs/bpf, mounted as bpftool would if it is not. */
	struct statfs sfs;
	if (statfs("/sys/fs/bpf", &sfs) < 0 || sfs.f_type != 0xcafe4a11 /* BPF_FS_MAGIC */) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
			return fail(err, err_size, -errno, "/sys/fs/bpf is not a BPF filesystem and "
				    "mounting one failed: %s", strerror(errno));
	}
	mkdir(VPC_XDP_PIN_ROOT, 0700);
	if (mkdir(dir, 0700) < 0)
		return fail(err, err_size, -errno, "%s: %s%s", dir, strerror(errno),
			    errno == EEXIST ? " (an instance of that name runs: vpcctl xdp stop)" : "");
	if (bpf_map_update_elem(f->info, &z, info, 0) < 0)
		return fail(err, err_size, -errno, "info: %s", strerror(errno));
	for (int i = 0; i < VPC_XS_COUNT; i++)
		if ((ret = pin_fd(f->set[i], dir, set_names[i], err, err_size)) < 0)
			return ret;
	struct { int fd; const char *name; } more[] = {
		{ f->control, "control" }, { f->ct, "ct" }, { f->if_slots, "if_slots" },
		{ f->if_slots_lo, "if_slots_lo" },
		{ f->tx_ports, "tx_ports" }, { f->stats, "stats" }, { f->port_stats, "port_stats" },
		{ f->names, "names" }, { f->info, "info" }, { f->prog, "prog" },
		{ f->capture, "capture" }, { f->capture_ring, "capture_ring" },
		{ bpf_program__fd(x->skel->progs.vpc_xdp_slow), "prog_slow" },
		{ bpf_map__fd(x->skel->maps.slow_path), "slow_path" },
		{ bpf_map__fd(x->skel->maps.handoffs), "handoffs" },
		{ bpf_map__fd(x->skel->maps.scratch), "scratch" },
		{ f->lb_turn, "lb_turn" },
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if ((ret = pin_fd(more[i].fd, dir, more[i].name, err, err_size)) < 0)
			return ret;
	return 0;
}

static int
get_pin(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

int
vpc_xdp_open_pinned(const char *dir, struct vpc_xdp_fds *f)
{
	struct stat st;

	fds_reset(f);
	if (stat(dir, &st) < 0)
		return -errno;
	for (int i = 0; i < VPC_XS_COUNT; i++)
		if ((f->set[i] = get_pin(dir, set_names[i])) < 0)
			goto fail;
	if ((f->control = get_pin(dir, "control")) < 0 || (f->ct = get_pin(dir, "ct")) < 0 ||
	    (f->if_slots = get_pin(dir, "if_slots")) < 0 ||
	    (f->if_slots_lo = get_pin(dir, "if_slots_lo")) < 0 ||
	    (f->tx_ports = get_pin(dir, "tx_ports")) < 0 || (f->stats = get_pin(dir, "stats")) < 0 ||
	    (f->port_stats = get_pin(dir, "port_stats")) < 0 ||
	    (f->names = get_pin(dir, "names")) < 0 || (f->info = get_pin(dir, "info")) < 0 ||
	    (f->prog = get_pin(dir, "prog")) < 0 || (f->capture = get_pin(dir, "capture")) < 0 ||
	    (f->capture_ring = get_pin(dir, "capture_ring")) < 0)
		goto fail;
	f->lb_turn = get_pin(dir, "lb_turn");	/* optional: older instances have none */
	return 0;
fail:;
	int ret = -errno;
	vpc_xdp_close_fds(f);
	return ret;
}

void
vpc_xdp_close_fds(struct vpc_xdp_fds *f)
{
	int *all[] = { &f->control, &f->ct, &f->if_slots, &f->if_slots_lo, &f->tx_ports, &f->stats,
		       &f->port_stats, &f->names, &f->info, &f->prog, &f->lb_turn, &f->capture,
		       &f->capture_ring };
	for (int i = 0; i < VPC_XS_COUNT; i++)
		if (f->set[i] >= 0)
			close(f->set[i]);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i] >= 0)
			close(*all[i]);
	fds_reset(f);
}

static void
link_path(char *path, size_t n, const char *dir, uint32_t slot)
{
	snprintf(path, n, "%s/link-%u", dir, slot);
}

int
vpc_xdp_unpin(const char *dir, uint32_t *n_detached, char *err, size_t err_size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	*n_detached = 0;
	if (d == NULL)
		return fail(err, err_size, -errno, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (strncmp(de->d_name, "link-", 5) == 0) {
			/* A link whose device went away is detached already. */
			struct bpf_link_info li = { 0 };
			uint32_t len = sizeof(li);
			int lfd = bpf_obj_get(path);
			if (lfd >= 0 && bpf_obj_get_info_by_fd(lfd, &li, &len) == 0 &&
			    li.xdp.ifindex != 0)
				++*n_detached;
			if (lfd >= 0)
				close(lfd);
		}
		/* The last reference to a link gone: detached. */
		if (unlink(path) < 0) {
			closedir(d);
			return fail(err, err_size, -errno, "%s: %s", path, strerror(errno));
		}
	}
	closedir(d);
	if (rmdir(dir) < 0)
		return fail(err, err_size, -errno, "%s: %s", dir, strerror(errno));
	return 0;
}

/* ---- reading the active set ---- */

static uint32_t
active_set(const struct vpc_xdp_fds *f)
{
	uint32_t z = 0;
	struct vpc_xdp_control c = { 0 };

	bpf_map_lookup_elem(f->control, &z, &c);
	return c.active & 1;
}

/* An fd of the inner map of kind k in set s, or -1. */
static int
inner_fd(const struct vpc_xdp_fds *f, int k, uint32_t s)
{
	uint32_t id;

	if (bpf_map_lookup_elem(f->set[k], &s, &id) < 0)
		return -1;
	return bpf_map_get_fd_by_id(id);
}

uint32_t
vpc_xdp_generation(const struct vpc_xdp_fds *f)
{
	int fd = inner_fd(f, VPC_XS_GLOBAL, active_set(f));
	struct vpc_xdp_global g = { 0 };
	uint32_t z = 0;

	if (fd < 0)
		return 0;
	bpf_map_lookup_elem(fd, &z, &g);
	close(fd);
	return g.generation;
}

int
vpc_xdp_slot(const struct vpc_xdp_fds *f, const char *name)
{
	char key[VPC_NAME_SIZE] = { 0 };
	uint32_t slot;

	snprintf(key, sizeof(key), "%s", name);
	if (bpf_map_lookup_elem(f->names, key, &slot) < 0)
		return -1;
	return (int)slot;
}

int
vpc_xdp_port_table(const struct vpc_xdp_fds *f, struct vpc_xdp_port_table *t)
{
	char key[VPC_NAME_SIZE], next[VPC_NAME_SIZE];
	void *prev = NULL;
	uint32_t s;

	memset(t, 0, sizeof(*t));
	while (bpf_map_get_next_key(f->names, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(f->names, key, &s) == 0 && s < VPC_XDP_MAX_PORTS)
			memcpy(t->name[s], key, VPC_NAME_SIZE);
	}
	int fd = inner_fd(f, VPC_XS_PORTS, active_set(f));
	if (fd < 0)
		return 0;	/* no tables yet */
	for (s = 0; s < VPC_XDP_MAX_PORTS; s++) {
		struct vpc_xdp_port p = { 0 };
		if (t->name[s][0] != '\0' && bpf_map_lookup_elem(fd, &s, &p) == 0)
			t->active[s] = p.present != 0;
	}
	close(fd);
	return 0;
}

/* ---- building a table set ---- */

static int
new_map(enum bpf_map_type type, const char *name, uint32_t ksize, uint32_t vsize,
	uint32_t max, uint32_t flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	return bpf_map_create(type, name, ksize, vsize, max ? max : 1, &o);
}

static int
put(int fd, const void *k, const void *v, char *err, size_t n, const char *what)
{
	if (bpf_map_update_elem(fd, k, v, 0) < 0)
		return fail(err, n, -errno, "%s: %s", what, strerror(errno));
	return 0;
}

/* Slots for every port of img: kept by name, new names get free ones. */
static int
assign_slots(const struct vpc_xdp_fds *f, const struct vpc_image *img,
	     const struct vpc_xdp_port_table *known, uint32_t *slots, uint8_t *fresh,
	     char *err, size_t n)
{
	static uint8_t used[VPC_XDP_MAX_PORTS];
	uint32_t s, cursor = 0;

	for (s = 0; s < VPC_XDP_MAX_PORTS; s++)
		used[s] = known->name[s][0] != '\0';
	for (uint32_t p = 0; p < img->n_ports; p++) {
		char name[VPC_NAME_SIZE] = { 0 };
		memcpy(name, img->ports[p].name, VPC_NAME_MAX);
		fresh[p] = 0;
		if (bpf_map_lookup_elem(f->names, name, &s) == 0) {
			slots[p] = s;
			continue;
		}
		while (cursor < VPC_XDP_MAX_PORTS && used[cursor])
			cursor++;
		if (cursor == VPC_XDP_MAX_PORTS)
			return fail(err, n, -ENOSPC, "more than %u ports", VPC_XDP_MAX_PORTS);
		used[cursor] = 1;
		slots[p] = cursor;
		if (bpf_map_update_elem(f->names, name, &cursor, 0) < 0)
			return fail(err, n, -errno, "port names: %s", strerror(errno));
		fresh[p] = 1;
	}
	return 0;
}

/* A delivery route x (an interface's or an internal balancer's /32), put
 * where the address's longest match so far says it applies
 * (vpc_lower_delivery_applies); 0 or -1 with err set. */
static int
put_delivery(int fd, const struct vpc_route_rec *x, char *err, size_t n)
{
	struct vpc_xdp_route_key k = { 32u + x->prefix_len, htonl(x->rtable), x->prefix };
	struct vpc_xdp_nexthop cur;

	if (bpf_map_lookup_elem(fd, &k, &cur) < 0 ||
	    !vpc_lower_delivery_applies(x, cur.kind, cur.iface))
		return 0;
	struct vpc_xdp_nexthop nh = { x->kind, x->iface };
	return put(fd, &k, &nh, err, n, "routes");
}

static int
build_routes(int fd, const struct vpc_image *img, char *err, size_t n)
{
	struct vpc_route_rec x;

	for (uint32_t r = 0; r < img->n_routes; r++) {
		vpc_lower_route(img, r, &x);
		struct vpc_xdp_route_key k = {
			.prefixlen = 32u + x.prefix_len, .rtable = htonl(x.rtable), .addr = x.prefix,
		};
		struct vpc_xdp_nexthop nh = { x.kind, x.iface };
		if (put(fd, &k, &nh, err, n, "routes") < 0)
			return -1;
	}
	/* Delivery routes where the IP's longest match in the table is the
	 * local route, or the route to the peering of the interface's VPC
	 * (decided by the trie itself, the file's routes in it). */
	for (uint32_t t = 0; t < img->n_rtables; t++)
		for (uint32_t i = 0; i < img->n_ifaces; i++)
			if (vpc_lower_delivery(img, t, i, &x) && put_delivery(fd, &x, err, n) < 0)
				return -1;
	/* Internal load balancers' addresses, the same way. */
	for (uint32_t t = 0; t < img->n_rtables; t++)
		for (uint32_t b = 0; b < img->n_lbs; b++)
			if (vpc_lower_lb_route(img, t, b, &x) && put_delivery(fd, &x, err, n) < 0)
				return -1;
	return 0;
}

static int
build_sg(int *fd, const struct vpc_image *img, struct vpc_sg *sg, char *err, size_t n)
{
	struct vpc_sg_flat fl;

	vpc_sg_export(sg, &fl);
	fd[VPC_XS_SG_CLASSES] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_sg_classes", 4,
					sizeof(struct vpc_sg_class), fl.n_classes, BPF_F_INNER_MAP);
	fd[VPC_XS_SG_NODES] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_sg_nodes", 4,
				      sizeof(struct vpc_sg_node), fl.n_nodes, BPF_F_INNER_MAP);
	fd[VPC_XS_SG_INTERVALS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_sg_ivs", 4,
					  sizeof(struct vpc_sg_interval), fl.n_intervals,
					  BPF_F_INNER_MAP);
	fd[VPC_XS_SG_ICMPS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_sg_icmps", 4,
				      sizeof(struct vpc_sg_icmp), fl.n_icmps, BPF_F_INNER_MAP);
	for (int k = VPC_XS_SG_CLASSES; k <= VPC_XS_SG_ICMPS; k++)
		if (fd[k] < 0)
			return fail(err, n, -errno, "security-group maps: %s", strerror(errno));
	/* Bulk writes: one syscall per map. */
	struct { int fd; const void *v; uint32_t count; const char *what; } w[] = {
		{ fd[VPC_XS_SG_CLASSES], fl.classes, fl.n_classes, "sg classes" },
		{ fd[VPC_XS_SG_NODES], fl.nodes, fl.n_nodes, "sg nodes" },
		{ fd[VPC_XS_SG_INTERVALS], fl.intervals, fl.n_intervals, "sg intervals" },
		{ fd[VPC_XS_SG_ICMPS], fl.icmps, fl.n_icmps, "sg icmps" },
	};
	/* vpc_sg_build() refused more than VPC_SG_MAX_ICMPS ICMP matches at
	 * a node: the program's scan sees every one. */
	(void)img;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (w[i].count == 0)
			continue;
		uint32_t *keys = malloc(w[i].count * sizeof(uint32_t));
		if (keys == NULL)
			return fail(err, n, -ENOMEM, "out of memory");
		for (uint32_t k = 0; k < w[i].count; k++)
			keys[k] = k;
		uint32_t count = w[i].count;
		int r = bpf_map_update_batch(w[i].fd, keys, w[i].v, &count, NULL);
		free(keys);
		if (r < 0)
			return fail(err, n, -errno, "%s: %s", w[i].what, strerror(errno));
	}
	return 0;
}

/* Each network ACL's two lists (common/vpc_nacl.h), at
 * vpc_nacl_list_index(). */
static int
build_nacls(int *fd, const struct vpc_image *img, char *err, size_t n)
{
	uint32_t n_lists = img->n_nacls * 2;

	if (img->n_nacls > VPC_XDP_MAX_NACLS)
		return fail(err, n, -E2BIG, "%u network ACLs: the XDP engine holds at most %u",
			    img->n_nacls, VPC_XDP_MAX_NACLS);
	/* (the program's template's size: its lookups are inlined) */
	fd[VPC_XS_NACLS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_nacls", 4, sizeof(struct vpc_nacl_list),
				   2 * VPC_XDP_MAX_NACLS, 0);
	if (fd[VPC_XS_NACLS] < 0)
		return fail(err, n, -errno, "network ACL map: %s", strerror(errno));
	for (uint32_t l = 0; l < n_lists; l++) {
		struct vpc_nacl_list x;
		vpc_lower_nacl_list(img, l, &x);
		if (put(fd[VPC_XS_NACLS], &l, &x, err, n, "network ACLs") < 0)
			return -1;
	}
	return 0;
}

/* The netdev a port is realised by on this host. */
static int
port_ifindex(const struct vpc_image *img, uint32_t p, char *err, size_t n)
{
	const char *name = img->ports[p].name;
	for (uint32_t h = 0; h < img->n_hports; h++) {
		const struct vpc_image_hport *hp = &img->hports[h];
		if (strncmp(hp->name, name, VPC_NAME_SIZE) != 0)
			continue;
		if (hp->type != VPC_HPORT_TAP && hp->type != VPC_HPORT_AF_PACKET &&
		    hp->type != VPC_HPORT_AF_XDP)
			return fail(err, n, -EINVAL, "port '%s': the XDP engine serves ports that "
				    "are kernel network devices (tap, af_packet, af_xdp with ifname)",
				    name);
		unsigned int idx = if_nametoindex(hp->a);
		if (idx == 0)
			return fail(err, n, -ENODEV, "port '%s': no network device '%s'", name, hp->a);
		return (int)idx;
	}
	if (img->ports[p].kind == VPC_PORT_UPLINK && !vpc_lower_uplink_needed(img))
		return 0;	/* no internet gateway: the uplink needs no device */
	return fail(err, n, -EINVAL, "port '%s': host.ports does not say which device it is", name);
}

/* ifindex -> slot: the array below VPC_XDP_IFINDEX_LO (slot + 1; 0 for
 * none), the hash above. */
static int
ifslot_set(const struct vpc_xdp_fds *f, uint32_t idx, uint32_t slot)
{
	uint32_t v = slot + 1;
	if (idx < VPC_XDP_IFINDEX_LO)
		return bpf_map_update_elem(f->if_slots_lo, &idx, &v, 0);
	return bpf_map_update_elem(f->if_slots, &idx, &slot, 0);
}

static bool
ifslot_get(const struct vpc_xdp_fds *f, uint32_t idx, uint32_t *slot)
{
	uint32_t v = 0;
	if (idx >= VPC_XDP_IFINDEX_LO)
		return bpf_map_lookup_elem(f->if_slots, &idx, slot) == 0;
	if (bpf_map_lookup_elem(f->if_slots_lo, &idx, &v) < 0 || v == 0)
		return false;
	*slot = v - 1;
	return true;
}

static void
ifslot_del(const struct vpc_xdp_fds *f, uint32_t idx)
{
	uint32_t zero = 0;
	if (idx < VPC_XDP_IFINDEX_LO)
		bpf_map_update_elem(f->if_slots_lo, &idx, &zero, 0);
	else
		bpf_map_delete_elem(f->if_slots, &idx);
}

static int
attach_slot(const struct vpc_xdp_fds *f, const char *pin_dir, uint32_t slot, int ifindex,
	    char *err, size_t n)
{
	uint32_t z = 0, idx = (uint32_t)ifindex;
	struct vpc_xdp_info info = { 0 };
	char path[512];

	bpf_map_lookup_elem(f->info, &z, &info);
	if (bpf_map_update_elem(f->tx_ports, &slot, &idx, 0) < 0)
		return fail(err, n, -errno, "devmap (ifindex %d): %s", ifindex, strerror(errno));
	if (ifslot_set(f, idx, slot) < 0)
		return fail(err, n, -errno, "ifindex map: %s", strerror(errno));
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = info.mode);
	int lfd = bpf_link_create(f->prog, idx, BPF_XDP, &o);
	if (lfd < 0) {
		char ifn[IF_NAMESIZE] = "?";
		if_indextoname(idx, ifn);
		return fail(err, n, -errno, "attaching to %s (%s mode): %s", ifn,
			    info.mode == XDP_FLAGS_SKB_MODE ? "generic" : "native", strerror(errno));
	}
	link_path(path, sizeof(path), pin_dir, slot);
	int r = bpf_obj_pin(lfd, path);
	close(lfd);
	if (r < 0)
		return fail(err, n, -errno, "pinning %s: %s", path, strerror(errno));
	return 0;
}

static void
detach_slot(const struct vpc_xdp_fds *f, const char *pin_dir, uint32_t slot)
{
	char path[512];
	uint32_t idx;

	link_path(path, sizeof(path), pin_dir, slot);
	unlink(path);
	if (bpf_map_lookup_elem(f->tx_ports, &slot, &idx) == 0) {
		ifslot_del(f, idx);
		bpf_map_delete_elem(f->tx_ports, &slot);
	}
}

/* A removed port's slot is free again: its name forgotten, its counters
 * zeroed (after the grace period: no program counts into it). */
static void
release_slot(const struct vpc_xdp_fds *f, uint32_t slot, const char *name)
{
	int ncpu = libbpf_num_possible_cpus();

	if (name[0] != '\0')
		bpf_map_delete_elem(f->names, name);
	if (ncpu > 0) {
		struct vpc_xdp_port_stats *z = calloc((size_t)ncpu, sizeof(*z));
		if (z != NULL)
			bpf_map_update_elem(f->port_stats, &slot, z, 0);
		free(z);
	}
}

/* The maps of one table set, empty: global, ports, vpcs at the fixed sizes
 * of the program's templates (their lookups are inlined); the other arrays
 * sized to the image.  0, or -1 with err set (fd[] holds what was made). */
static int
set_create(int fd[VPC_XS_COUNT], const struct vpc_image *img, char *err, size_t n)
{
	fd[VPC_XS_GLOBAL] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_global", 4,
				    sizeof(struct vpc_xdp_global), 1, 0);
	fd[VPC_XS_PORTS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_ports", 4,
				   sizeof(struct vpc_xdp_port), VPC_XDP_MAX_PORTS, 0);
	fd[VPC_XS_IFACES] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_ifaces", 4,
				    sizeof(struct vpc_iface_rec), img->n_ifaces, BPF_F_INNER_MAP);
	/* (the established path reads a VPC's timeouts on every packet) */
	fd[VPC_XS_VPCS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_vpcs", 4, sizeof(struct vpc_xdp_vpc),
				  VPC_MAX_VPCS, 0);
	fd[VPC_XS_L2] = new_map(BPF_MAP_TYPE_HASH, "vpc_l2", sizeof(struct vpc_xdp_l2_key), 4,
				img->n_ifaces, 0);
	fd[VPC_XS_IPS] = new_map(BPF_MAP_TYPE_HASH, "vpc_ips", sizeof(struct vpc_xdp_ip_key), 4,
				 img->n_ifaces, 0);
	fd[VPC_XS_EIPS] = new_map(BPF_MAP_TYPE_HASH, "vpc_eips", 4, 4, img->n_eips, 0);
	uint32_t n_routes = img->n_routes;
	for (uint32_t t = 0; t < img->n_rtables; t++)
		n_routes += vpc_lower_n_deliveries(img, t) + img->n_lbs;
	fd[VPC_XS_ROUTES] = new_map(BPF_MAP_TYPE_LPM_TRIE, "vpc_routes",
				    sizeof(struct vpc_xdp_route_key),
				    sizeof(struct vpc_xdp_nexthop), n_routes, BPF_F_NO_PREALLOC);
	for (int k = 0; k <= VPC_XS_ROUTES; k++)
		if (fd[k] < 0)
			return fail(err, n, 0, "creating the table maps: %s", strerror(errno));
	/* The overlay's (empty without other hosts; one entry at least). */
	/* (the template's fixed size: every encapsulated frame reads it) */
	fd[VPC_XS_TUNNELS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_tunnels", 4,
				     sizeof(struct vpc_tunnel_rec), VPC_MAX_HOSTS, 0);
	fd[VPC_XS_UNDERLAY] = new_map(BPF_MAP_TYPE_HASH, "vpc_underlay", 4, 4, img->n_rhosts, 0);
	fd[VPC_XS_VNIS] = new_map(BPF_MAP_TYPE_HASH, "vpc_vnis", 4, 4, img->n_vpcs, 0);
	fd[VPC_XS_APPLIANCES] = new_map(BPF_MAP_TYPE_HASH, "vpc_appliances",
					sizeof(struct vpc_xdp_appliance_key), 4, img->n_ifaces, 0);
	fd[VPC_XS_RPORTS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_rports", 4,
				    sizeof(struct vpc_xdp_port), img->n_ifaces, BPF_F_INNER_MAP);
	for (int k = VPC_XS_TUNNELS; k <= VPC_XS_RPORTS; k++)
		if (fd[k] < 0)
			return fail(err, n, 0, "creating the overlay maps: %s", strerror(errno));
	fd[VPC_XS_NATGWS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_natgws", 4,
				    sizeof(struct vpc_natgw_rec), VPC_MAX_NATGWS, 0);
	if (fd[VPC_XS_NATGWS] < 0)
		return fail(err, n, 0, "creating the NAT gateway map: %s", strerror(errno));
	/* Load balancers (common/vpc_lb.h): the balancers at the template's
	 * size (read on every new connection to one), the rest sized to the
	 * image. */
	fd[VPC_XS_LBS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_lbs", 4, sizeof(struct vpc_lb_rec),
				 VPC_MAX_LBS, 0);
	fd[VPC_XS_LISTENERS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_listeners", 4,
				       sizeof(struct vpc_lb_listener_rec), img->n_listeners,
				       BPF_F_INNER_MAP);
	fd[VPC_XS_TGROUPS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_tgroups", 4,
				     sizeof(struct vpc_lb_group_rec), img->n_tgroups, BPF_F_INNER_MAP);
	fd[VPC_XS_LB_HC] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_lb_hc", 4, sizeof(struct vpc_lb_hc_rec),
				   img->n_targets, BPF_F_INNER_MAP);
	fd[VPC_XS_LB_IP] = new_map(BPF_MAP_TYPE_HASH, "vpc_lb_ip", sizeof(struct vpc_xdp_ip_key), 4,
				   img->n_lbs, 0);
	fd[VPC_XS_LB_HEALTHY] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_lb_healthy", 4, sizeof(uint64_t),
					img->n_tgroups, BPF_F_INNER_MAP);
	fd[VPC_XS_LB_ANSWERS] = new_map(BPF_MAP_TYPE_ARRAY, "vpc_lb_answers", 4,
					sizeof(struct vpc_lb_answer), img->n_targets,
					BPF_F_INNER_MAP);
	for (int k = VPC_XS_LBS; k <= VPC_XS_LB_ANSWERS; k++)
		if (fd[k] < 0)
			return fail(err, n, 0, "creating the load balancer maps: %s", strerror(errno));
	return 0;
}

/* The load balancers' maps. */
static int
set_fill_lbs(int fd[VPC_XS_COUNT], const struct vpc_image *img, const struct vpc_sg *sg,
	     char *err, size_t n)
{
	for (uint32_t b = 0; b < img->n_lbs; b++) {
		struct vpc_lb_rec r;
		vpc_lower_lb(img, b, sg, &r);
		if (put(fd[VPC_XS_LBS], &b, &r, err, n, "load balancers") < 0)
			return -1;
		if (img->lbs[b].flags & VPC_LB_F_INTERNET)
			continue;
		struct vpc_xdp_ip_key k = { .vpc = img->lbs[b].vpc, .ip = img->lbs[b].ip };
		if (put(fd[VPC_XS_LB_IP], &k, &b, err, n, "load balancer addresses") < 0)
			return -1;
	}
	for (uint32_t l = 0; l < img->n_listeners; l++) {
		struct vpc_lb_listener_rec r;
		vpc_lower_listener(img, l, &r);
		if (put(fd[VPC_XS_LISTENERS], &l, &r, err, n, "listeners") < 0)
			return -1;
	}
	struct vpc_lb_group_rec *g = malloc(sizeof(*g));
	if (g == NULL)
		return fail(err, n, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < img->n_tgroups; i++) {
		vpc_lower_tgroup(img, i, g);
		if (put(fd[VPC_XS_TGROUPS], &i, g, err, n, "target groups") < 0) {
			free(g);
			return -1;
		}
	}
	free(g);
	for (uint32_t k = 0; k < img->n_targets; k++) {
		struct vpc_lb_hc_rec r;
		vpc_lower_lb_hc(img, k, &r);
		if (put(fd[VPC_XS_LB_HC], &k, &r, err, n, "health checks") < 0)
			return -1;
	}
	return 0;
}

/* The overlay's maps (a host's view with other hosts): tunnel records,
 * underlay addresses, VNIs, appliances, and the port record of each
 * interface on another host (fis: the lowered interfaces). */
static int
set_fill_overlay(int fd[VPC_XS_COUNT], const struct vpc_image *img,
		 const struct vpc_iface_rec *fis, char *err, size_t n)
{
	for (uint32_t r = 0; r < img->n_rhosts; r++) {
		struct vpc_tunnel_rec tr;
		vpc_lower_tunnel(img, r, &tr);
		if (put(fd[VPC_XS_TUNNELS], &r, &tr, err, n, "tunnels") < 0 ||
		    put(fd[VPC_XS_UNDERLAY], &tr.underlay_ip, &r, err, n, "underlay") < 0)
			return -1;
	}
	if (img->n_rhosts == 0)
		return 0;
	for (uint32_t v = 0; v < img->n_vpcs; v++)
		if (put(fd[VPC_XS_VNIS], &img->vpcs[v].vni, &v, err, n, "VNIs") < 0)
			return -1;
	for (uint32_t i = 0; i < img->n_ifaces; i++) {
		const struct vpc_image_iface *f_ = &img->ifaces[i];
		if (!(f_->flags & VPC_IFACE_F_REMOTE))
			continue;
		if (!(f_->flags & VPC_IFACE_F_SRC_DST_CHECK)) {
			struct vpc_xdp_appliance_key ak = { .vpc = f_->vpc, .rhost = f_->rhost };
			uint32_t first;
			if (bpf_map_lookup_elem(fd[VPC_XS_APPLIANCES], &ak, &first) != 0 &&
			    put(fd[VPC_XS_APPLIANCES], &ak, &i, err, n, "appliances") < 0)
				return -1;
		}
		struct vpc_port_rec r;
		vpc_lower_iface_port(img, i, &r);
		struct vpc_xdp_port *x = calloc(1, sizeof(*x));
		if (x == NULL)
			return fail(err, n, 0, "out of memory");
		*x = (struct vpc_xdp_port){
			.present = 1, .iface = r.iface, .ctx = r.ctx, .rtable = r.rtable,
			.gateway_ip = r.gateway_ip, .subnet = r.subnet, .nacl = r.nacl, .fi = fis[i],
		};
		int ret = put(fd[VPC_XS_RPORTS], &i, x, err, n, "remote ports");
		free(x);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* The image's interfaces, elastic IPs and ports into the set's maps. */
static int
set_fill_ifaces(int fd[VPC_XS_COUNT], const struct vpc_image *img, const uint32_t *slots,
		const struct vpc_sg *sg, char *err, size_t n)
{
	struct vpc_iface_rec *fis = calloc(img->n_ifaces + 1, sizeof(*fis));
	int ret = -1;

	if (fis == NULL)
		return fail(err, n, 0, "out of memory");
	for (uint32_t i = 0; i < img->n_ifaces; i++) {
		const struct vpc_image_iface *f_ = &img->ifaces[i];
		struct vpc_iface_rec *fi = &fis[i];
		/* one on another host is reached through the uplink */
		uint32_t port = f_->flags & VPC_IFACE_F_REMOTE ? img->host[0].uplink_port : f_->port;
		vpc_lower_iface(img, i, (uint16_t)slots[port], sg, fi);
		struct vpc_xdp_l2_key lk = { .vpc = f_->vpc };
		memcpy(lk.mac, f_->mac, 6);
		struct vpc_xdp_ip_key ik = { .vpc = f_->vpc, .ip = f_->ip };
		if (put(fd[VPC_XS_IFACES], &i, fi, err, n, "interfaces") < 0 ||
		    put(fd[VPC_XS_L2], &lk, &i, err, n, "l2") < 0 ||
		    put(fd[VPC_XS_IPS], &ik, &i, err, n, "ips") < 0)
			goto out;
	}
	for (uint32_t e = 0; e < img->n_eips; e++)
		if (put(fd[VPC_XS_EIPS], &img->eips[e].elastic_ip, &img->eips[e].iface,
			err, n, "elastic IPs") < 0)
			goto out;
	for (uint32_t p = 0; p < img->n_ports; p++) {
		struct vpc_port_rec r;
		vpc_lower_port(img, p, &r);
		struct vpc_xdp_port x = {
			.present = 1, .is_uplink = r.is_uplink, .iface = r.iface, .ctx = r.ctx,
			.rtable = r.rtable, .gateway_ip = r.gateway_ip,
			.subnet = r.subnet, .nacl = r.nacl,
		};
		if (!r.is_uplink) {
			x.fi = fis[r.iface];
			vpc_lower_dhcp(img, fis[r.iface].subnet, &x.dhcp);
		}
		if (put(fd[VPC_XS_PORTS], &slots[p], &x, err, n, "ports") < 0)
			goto out;
	}
	ret = set_fill_overlay(fd, img, fis, err, n);
out:
	free(fis);
	return ret;
}

/* Every map of the set: security groups, routes, the global record g,
 * VPC timeouts, interfaces and ports. */
static int
set_fill(int fd[VPC_XS_COUNT], const struct vpc_image *img, const uint32_t *slots,
	 struct vpc_sg *sg, const struct vpc_xdp_global *g, char *err, size_t n)
{
	uint32_t z = 0;

	if (build_sg(fd, img, sg, err, n) < 0 || build_routes(fd[VPC_XS_ROUTES], img, err, n) < 0 ||
	    build_nacls(fd, img, err, n) < 0)
		return -1;
	if (put(fd[VPC_XS_GLOBAL], &z, g, err, n, "global") < 0)
		return -1;
	for (uint32_t i = 0; i < img->n_natgws; i++) {
		struct vpc_natgw_rec r;
		vpc_lower_natgw(img, i, &r);
		if (put(fd[VPC_XS_NATGWS], &i, &r, err, n, "NAT gateways") < 0)
			return -1;
	}
	if (set_fill_lbs(fd, img, sg, err, n) < 0)
		return -1;
	for (uint32_t v = 0; v < img->n_vpcs; v++) {
		struct vpc_xdp_vpc x = { .vni = img->vpcs[v].vni };
		for (int k = 0; k < VPC_TO_COUNT; k++)
			x.timeouts_ns[k] = (uint64_t)img->vpcs[v].timeouts[k] * 1000000000ull;
		memcpy(x.router_mac, img->vpcs[v].router_mac, 6);
		if (put(fd[VPC_XS_VPCS], &v, &x, err, n, "vpcs") < 0)
			return -1;
	}
	return set_fill_ifaces(fd, img, slots, sg, err, n);
}

/* Added and removed ports, by slot (against the active tables). */
static void
port_changes(const struct vpc_image *img, const uint32_t *slots,
	     const struct vpc_xdp_port_table *known, struct vpc_xdp_published *out)
{
	static uint8_t in_new[VPC_XDP_MAX_PORTS];

	memset(in_new, 0, sizeof(in_new));
	for (uint32_t p = 0; p < img->n_ports; p++) {
		in_new[slots[p]] = 1;
		if (!known->active[slots[p]])
			out->added[out->n_added++] = slots[p];
	}
	for (uint32_t s = 0; s < VPC_XDP_MAX_PORTS; s++)
		if (!in_new[s] && known->active[s])
			out->removed[out->n_removed++] = s;
}

/*
 * Devices: every kept port must still be on its device (moving a port to
 * another device is a remove and an add, in two applies); the added ones
 * are attached before anything is published (*attached counts them, for
 * the caller's rollback).
 */
static int
ports_attach(const struct vpc_xdp_fds *f, const struct vpc_image *img, const uint32_t *slots,
	     const struct vpc_xdp_port_table *known, const char *pin_dir, int *ifindex,
	     struct vpc_xdp_published *out, uint32_t *attached, char *err, size_t n)
{
	for (uint32_t p = 0; p < img->n_ports; p++) {
		bool added = false;
		for (uint32_t a = 0; a < out->n_added && !added; a++)
			added = out->added[a] == slots[p];
		ifindex[p] = port_ifindex(img, p, err, n);
		if (ifindex[p] == -ENODEV && !added)
			continue;	/* a kept port whose device went away */
		if (ifindex[p] < 0)
			return -1;
		if (ifindex[p] == 0)
			continue;	/* a port this host does not realise */
		uint32_t idx = (uint32_t)ifindex[p], cur_ifindex, owner;
		if (!added && bpf_map_lookup_elem(f->tx_ports, &slots[p], &cur_ifindex) == 0 &&
		    cur_ifindex != idx)
			return fail(err, n, 0, "port '%s' moves to another device: remove it in one "
				    "apply and add it in the next", img->ports[p].name);
		if (added && ifslot_get(f, idx, &owner))
			return fail(err, n, 0, "port '%s': its device is port '%s' already (remove "
				    "that port first)", img->ports[p].name,
				    owner < VPC_XDP_MAX_PORTS ? known->name[owner] : "?");
	}
	for (uint32_t a = 0; a < out->n_added; a++) {
		uint32_t p = 0;
		while (p < img->n_ports && slots[p] != out->added[a])
			p++;
		if (ifindex[p] == 0)
			continue;	/* not realised here */
		if (attach_slot(f, pin_dir, out->added[a], ifindex[p], err, n) < 0)
			return -1;
		out->n_attached++;
		*attached = a + 1;
	}
	return 0;
}

/* Publish: the target set's slots, then the flip, then a grace period. */
static int
set_flip(const struct vpc_xdp_fds *f, const int fd[VPC_XS_COUNT], uint32_t target, char *err,
	 size_t n)
{
	uint32_t z = 0;

	for (int k = 0; k < VPC_XS_COUNT; k++)
		if (bpf_map_update_elem(f->set[k], &target, &fd[k], 0) < 0)
			return fail(err, n, 0, "publishing %s: %s", set_names[k], strerror(errno));
	/* (until here the active set is untouched) */
	struct vpc_xdp_control c = { .active = target };
	if (bpf_map_update_elem(f->control, &z, &c, 0) < 0)
		return fail(err, n, 0, "flipping the active set: %s", strerror(errno));
	/* A grace period: updating an array-of-maps waits for every running
	 * program (synchronize_rcu), so none still reads the old set.  (If
	 * it failed, wait by another one: the flip is done either way.) */
	if (bpf_map_update_elem(f->set[VPC_XS_GLOBAL], &target, &fd[VPC_XS_GLOBAL], 0) < 0)
		bpf_map_update_elem(f->set[VPC_XS_PORTS], &target, &fd[VPC_XS_PORTS], 0);
	return 0;
}

int
vpc_xdp_publish(const struct vpc_xdp_fds *f, const struct vpc_image *img, bool revalidate,
		const char *pin_dir, struct vpc_xdp_published *out, char *err, size_t n)
{
	int fd[VPC_XS_COUNT];
	uint32_t attached = 0;	/* added ports attached so far */
	uint32_t *slots = calloc(img->n_ports + 1, sizeof(uint32_t));
	uint8_t *fresh = calloc(img->n_ports + 1, 1);	/* names new to this apply */
	int *ifindex = calloc(img->n_ports + 1, sizeof(int));	/* the ports' devices */
	struct vpc_xdp_port_table *known = malloc(sizeof(*known));	/* before the apply */
	struct vpc_sg *sg = NULL;
	int ret = -1;

	for (int k = 0; k < VPC_XS_COUNT; k++)
		fd[k] = -1;
	memset(out, 0, sizeof(*out));
	if (slots == NULL || fresh == NULL || ifindex == NULL || known == NULL ||
	    vpc_xdp_port_table(f, known) < 0) {
		free(slots);
		free(fresh);
		free(ifindex);
		free(known);
		return fail(err, n, -ENOMEM, "out of memory");
	}

	/* Always the inactive set, the first publish too: a packet sees a
	 * complete set or none (unknown-port). */
	uint32_t cur = active_set(f), target = cur ^ 1;
	struct vpc_xdp_global g = { .generation = vpc_xdp_generation(f) + 1,
				    .revalidate = revalidate };
	if ((ret = assign_slots(f, img, known, slots, fresh, err, n)) < 0)
		goto out;
	ret = -EINVAL;	/* until published */
	if (set_create(fd, img, err, n) < 0)
		goto out;
	sg = vpc_sg_build(img);
	if (sg == NULL) {
		if (errno == E2BIG)
			fail(err, n, -E2BIG, "security groups: more than %u ICMP type/code rules "
			     "for one peer prefix (the limit)", VPC_SG_MAX_ICMPS);
		else
			fail(err, n, 0, "security groups: out of memory");
		goto out;
	}
	g.uplink_slot = slots[img->host[0].uplink_port];
	g.underlay_ip = img->host[0].underlay_ip;
	for (uint32_t i = 0; i < img->n_natgws; i++) {
		struct vpc_natgw_rec r;
		vpc_lower_natgw(img, i, &r);
		g.natgw_nacl |= r.nacl != VPC_NACL_DEFAULT;
	}
	memcpy(g.uplink_mac, img->host[0].uplink_mac, 6);
	memcpy(g.gateway_mac, img->host[0].gateway_mac, 6);
	if (set_fill(fd, img, slots, sg, &g, err, n) < 0)
		goto out;
	port_changes(img, slots, known, out);
	if (pin_dir != NULL &&
	    ports_attach(f, img, slots, known, pin_dir, ifindex, out, &attached, err, n) < 0)
		goto out;
	if (set_flip(f, fd, target, err, n) < 0)
		goto out;
	attached = 0;	/* published: no rollback from here on */
	for (uint32_t r = 0; r < out->n_removed; r++) {
		if (pin_dir != NULL)
			detach_slot(f, pin_dir, out->removed[r]);
		release_slot(f, out->removed[r], known->name[out->removed[r]]);
	}
	out->generation = g.generation;
	ret = 0;
out:
	for (uint32_t a = 0; a < attached; a++)
		detach_slot(f, pin_dir, out->added[a]);
	if (ret < 0) {
		/* A refused apply leaves no slot taken by its new names. */
		for (uint32_t p = 0; p < img->n_ports; p++)
			if (fresh[p]) {
				char name[VPC_NAME_SIZE] = { 0 };
				memcpy(name, img->ports[p].name, VPC_NAME_MAX);
				bpf_map_delete_elem(f->names, name);
			}
		out->n_added = out->n_removed = 0;
	}
	free(fresh);
	free(ifindex);
	free(known);
	for (int k = 0; k < VPC_XS_COUNT; k++)
		if (fd[k] >= 0)
			close(fd[k]);
	vpc_sg_free(sg);
	free(slots);
	return ret;
}

/* ---- replay ---- */

int
vpc_xdp_run(struct vpc_xdp *x, uint32_t slot, uint64_t now, uint8_t *pkt, uint32_t len,
	    uint32_t cap, uint32_t *out_len, struct vpc_xdp_verdict *v)
{
	static uint8_t out[65536];

	x->skel->bss->replay_slot = slot;
	x->skel->bss->replay_now = now;
	memset(&x->skel->bss->last_verdict, 0, sizeof(*v));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	if (bpf_prog_test_run_opts(x->fds.prog, &o) < 0)
		return -errno;
	*v = x->skel->bss->last_verdict;
	if (o.data_size_out > cap)	/* a reply longer than the request (DHCP) fits cap */
		return -EOVERFLOW;
	memcpy(pkt, out, o.data_size_out);
	*out_len = o.data_size_out;
	return 0;
}

/* Remove every element of map fd. */
static void
map_clear(int fd, size_t key_size)
{
	uint8_t k[64];

	if (key_size > sizeof(k))
		return;
	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		if (bpf_map_delete_elem(fd, k) < 0)
			break;
}

int
vpc_xdp_trace(struct vpc_xdp *x, uint32_t slot, uint64_t now, uint8_t *pkt, uint32_t len,
	      uint32_t cap, uint32_t *out_len, struct vpc_xdp_verdict *v, struct vpc_trace_buf *tb)
{
	if (!x->skel->rodata->trace_mode)
		return -EINVAL;
	/* Each trace from the live connections afresh. */
	map_clear(bpf_map__fd(x->skel->maps.ct), sizeof(struct vpc_ct_key));
	map_clear(bpf_map__fd(x->skel->maps.trace_gone), sizeof(struct vpc_ct_key));
	memset(&x->skel->bss->trace_buf, 0, sizeof(x->skel->bss->trace_buf));
	int ret = vpc_xdp_run(x, slot, now, pkt, len, cap, out_len, v);
	_Static_assert(sizeof(*tb) == sizeof(x->skel->bss->trace_buf), "one trace buffer");
	memcpy(tb, &x->skel->bss->trace_buf, sizeof(*tb));
	return ret;
}

int
vpc_xdp_bench(struct vpc_xdp *x, uint32_t slot, uint64_t now, const uint8_t *pkt, uint32_t len,
	      bool baseline, double *ns)
{
	x->skel->bss->replay_slot = slot;
	x->skel->bss->replay_now = now;
	/* One run per call: a repeated run would see its own rewrites (the
	 * kernel does not restore the packet between repetitions, in either
	 * test-run mode), so the packet is handed in afresh each time. */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .repeat = 1);
	int fd = baseline ? bpf_program__fd(x->skel->progs.vpc_xdp_baseline) : x->fds.prog;
	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	*ns = o.duration;
	return 0;
}

/* ---- counters and connections ---- */

int
vpc_xdp_read_stats(const struct vpc_xdp_fds *f, struct vpc_xdp_stats *sum,
		   struct vpc_xdp_port_stats *ports)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t z = 0;

	if (ncpu <= 0)
		return -EINVAL;
	struct vpc_xdp_stats *s = calloc((size_t)ncpu, sizeof(*s));
	struct vpc_xdp_port_stats *p = calloc((size_t)ncpu, sizeof(*p));
	if (s == NULL || p == NULL) {
		free(s);
		free(p);
		return -ENOMEM;
	}
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(f->stats, &z, s) == 0)
		for (int c = 0; c < ncpu; c++) {
			const uint64_t *a = (const uint64_t *)&s[c];
			uint64_t *b = (uint64_t *)sum;
			for (size_t i = 0; i < sizeof(*sum) / 8; i++)
				b[i] += a[i];
		}
	for (uint32_t slot = 0; ports != NULL && slot < VPC_XDP_MAX_PORTS; slot++) {
		memset(&ports[slot], 0, sizeof(ports[slot]));
		if (bpf_map_lookup_elem(f->port_stats, &slot, p) < 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			ports[slot].rx_packets += p[c].rx_packets;
			ports[slot].rx_bytes += p[c].rx_bytes;
			ports[slot].tx_packets += p[c].tx_packets;
			ports[slot].tx_bytes += p[c].tx_bytes;
			ports[slot].drops += p[c].drops;
		}
	}
	free(s);
	free(p);
	return 0;
}

int
vpc_xdp_ct_each(const struct vpc_xdp_fds *f,
		void (*fn)(const struct vpc_ct_key *k, const struct vpc_xdp_ct *e, void *arg),
		void *arg)
{
	struct vpc_ct_key key, next;
	void *prev = NULL;
	struct vpc_xdp_ct e;
	int n = 0;

	while (bpf_map_get_next_key(f->ct, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(f->ct, &key, &e) == 0 && e.dir == 0) {
			fn(&key, &e, arg);
			n++;
		}
	}
	return n;
}

static void
count_one(const struct vpc_ct_key *k, const struct vpc_xdp_ct *e, void *arg)
{
	(void)k;
	(void)e;
	++*(uint32_t *)arg;
}

uint32_t
vpc_xdp_ct_count(const struct vpc_xdp_fds *f)
{
	uint32_t n = 0;

	vpc_xdp_ct_each(f, count_one, &n);
	return n;
}

uint32_t
vpc_xdp_ct_capacity(const struct vpc_xdp_fds *f)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(f->ct, &info, &len) < 0)
		return 0;
	return info.max_entries / 2;
}

uint32_t
vpc_xdp_ct_flush(const struct vpc_xdp_fds *f)
{
	struct vpc_ct_key key;
	uint32_t n = vpc_xdp_ct_count(f);

	/* Deleting the first key each time: the iteration order changes as
	 * keys go. */
	while (bpf_map_get_next_key(f->ct, NULL, &key) == 0)
		if (bpf_map_delete_elem(f->ct, &key) < 0)
			break;
	return n;
}

int
vpc_xdp_lb_maps(const struct vpc_xdp_fds *f, int *answers_fd, int *healthy_fd)
{
	uint32_t s = active_set(f);

	*answers_fd = inner_fd(f, VPC_XS_LB_ANSWERS, s);
	*healthy_fd = inner_fd(f, VPC_XS_LB_HEALTHY, s);
	if (*answers_fd < 0 || *healthy_fd < 0) {
		int e = errno;
		if (*answers_fd >= 0)
			close(*answers_fd);
		if (*healthy_fd >= 0)
			close(*healthy_fd);
		*answers_fd = *healthy_fd = -1;
		return -e;
	}
	return 0;
}

uint32_t
vpc_xdp_lb_drain(const struct vpc_xdp_fds *f, uint32_t vpc, uint32_t ip, uint16_t port)
{
	struct vpc_ct_key key, next, *cur = NULL;
	struct vpc_xdp_ct v;
	uint32_t n = 0;

	/* Collect first: deleting while walking reorders the walk. */
	uint32_t cap = 1024, count = 0;
	struct vpc_xdp_ct *hit = malloc(cap * sizeof(*hit));
	if (hit == NULL)
		return 0;
	while (bpf_map_get_next_key(f->ct, cur, &next) == 0) {
		key = next;
		cur = &key;
		if (bpf_map_lookup_elem(f->ct, &key, &v) < 0 || v.dir != 0)
			continue;
		if (v.act[0].path != VPC_PATH_LB || v.act[0].vpc != vpc || v.act[0].nat_addr != ip ||
		    v.act[0].nat_port != port)
			continue;
		if (count == cap) {
			struct vpc_xdp_ct *h2 = realloc(hit, 2 * cap * sizeof(*hit));
			if (h2 == NULL)
				break;
			hit = h2;
			cap *= 2;
		}
		hit[count++] = v;
	}
	for (uint32_t i = 0; i < count; i++) {
		bpf_map_delete_elem(f->ct, &hit[i].other);
		if (bpf_map_delete_elem(f->ct, &hit[i].self) == 0)
			n++;
	}
	free(hit);
	return n;
}

void
vpc_xdp_lb_answer(int answers_fd, uint32_t k, struct vpc_lb_answer *out)
{
	memset(out, 0, sizeof(*out));
	bpf_map_lookup_elem(answers_fd, &k, out);
}

void
vpc_xdp_lb_set_healthy(int healthy_fd, uint32_t g, uint64_t mask)
{
	bpf_map_update_elem(healthy_fd, &g, &mask, 0);
}
