/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_health.c -- the XDP engine's health checker (xdp_health.h): the
 * process, its loop and callbacks into the pinned maps, and what vpcctl
 * does to it (start, reload, stop, ask).
 *
 * The loop: every TICK_NS on the program's clock, vpc_lb_hc_tick() with
 * the callbacks below (answers from the active set's answers map, masks
 * into its healthy map, probes out of packet sockets, drains by walking
 * the connections), then the report files when they changed.  It waits
 * for signals (blocked, taken by sigtimedwait()), so there is no handler
 * and no flag: SIGHUP asks for a reload, SIGTERM and SIGINT for the end.
 * Nothing it does can hold up the program: the maps are shared, its
 * sends never block (a device that does not take a probe fails it), and
 * a failing device only counts (probes_lost) and is looked up again.
 */
#include "xdp_health.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netpacket/packet.h>

#include "vpc_lb_health.h"
#include "vpc_xdp.h"

#define NS 1000000000ull
#define TICK_NS (NS / 10)		/* the checker's period, as vpcd's */
#define LOCK_RETRY_NS (NS / 100)	/* a reload that finds the lock taken tries again */
#define PINS_CHECK_NS NS		/* how often it looks for its instance's pins */
#define READY_TIMEOUT_MS 10000		/* spawn: until the checker has its maps */
#define STOP_TIMEOUT_MS 10000		/* stop: SIGTERM, then SIGKILL */
#define POLL_MS 10

/* ---- files ---- */

static void
path_of(char *out, size_t n, const char *instance, const char *file)
{
	snprintf(out, n, VPCCTL_XDP_RUN_DIR "/%s/%s", instance, file);
}

static int
run_dir(const char *instance)
{
	char dir[256];

	snprintf(dir, sizeof(dir), VPCCTL_XDP_RUN_DIR "/%s", instance);
	if ((mkdir(VPCCTL_XDP_RUN_DIR, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return -errno;
	return 0;
}

/* path's new content, whole or not at all (a temporary file, renamed). */
static int
write_atomic(const char *path, const void *buf, size_t len)
{
	char tmp[600];
	int ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, (const char *)buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int
vpcctl_health_set_image(const char *instance, const struct vpc_image *img)
{
	char path[512];
	int r = run_dir(instance);

	if (r < 0)
		return r;
	path_of(path, sizeof(path), instance, "health.image");
	return vpc_image_write_file(img, path);
}

/* ---- the checker ---- */

/* A device probes leave by: the host side of a target's port. */
struct hc_dev {
	char ifname[VPC_HPORT_STR];
	unsigned int ifindex;	/* 0: to look up (again: a device that comes
				 * back has a new index) */
	int fd;			/* its packet socket; -1: not open yet */
	bool failing;		/* its last send failed (said once, in the log) */
};

struct checker {
	const char *instance;
	struct vpc_xdp_fds f;		/* the instance's pinned maps */
	struct vpc_image *img;		/* the tables it checks */
	struct vpc_lb_hc *hc;		/* img's checker */
	int answers_fd, healthy_fd;	/* img's publish's set: its answers, masks */
	uint32_t generation;		/* of that set */
	uint64_t *masks;		/* [tgroup]: as last written to healthy_fd */
	uint8_t *states;		/* [target]: as last logged */
	struct hc_dev *devs;
	uint32_t n_devs;
	uint32_t *dev_of;		/* [iface]: its index in devs, or VPC_INDEX_NONE */
	uint64_t probes_lost;		/* sends that failed */
	char *report[2];		/* health.txt, health.json as last written */
	size_t report_len[2];
};

static void __attribute__((format(printf, 2, 3)))
note(const struct checker *c, const char *fmt, ...)
{
	char when[32] = "";
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s vpcctl xdp health %s: ", when, c->instance);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The device interface i's port is on this host (host.ports' ifname), as
 * bpf/xdp_engine.c's port_ifindex() finds it; NULL: none. */
static const char *
iface_device(const struct vpc_image *img, uint32_t i)
{
	uint32_t p = img->ifaces[i].port;

	if (p >= img->n_ports)
		return NULL;	/* on another host */
	for (uint32_t h = 0; h < img->n_hports; h++) {
		const struct vpc_image_hport *hp = &img->hports[h];
		if (strncmp(hp->name, img->ports[p].name, VPC_NAME_SIZE) != 0)
			continue;
		if (hp->type != VPC_HPORT_TAP && hp->type != VPC_HPORT_AF_PACKET &&
		    hp->type != VPC_HPORT_AF_XDP)
			return NULL;
		return hp->a;
	}
	return NULL;
}

static int
dev_send(struct hc_dev *d, const uint8_t *frame, uint32_t len)
{
	if (d->ifindex == 0 && (d->ifindex = if_nametoindex(d->ifname)) == 0)
		return -ENODEV;
	if (d->fd < 0) {
		/* Protocol 0: it receives nothing, so no queue fills behind
		 * it.  Non-blocking, and one per device: a device that does
		 * not take a frame fails that probe, and no other's. */
		d->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (d->fd < 0)
			return -errno;
	}
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = (int)d->ifindex, .sll_halen = 6,
	};
	memcpy(sll.sll_addr, frame, 6);
	ssize_t n = sendto(d->fd, frame, len, MSG_DONTWAIT, (const struct sockaddr *)&sll,
			   sizeof(sll));
	if (n == (ssize_t)len)
		return 0;
	int e = n < 0 ? errno : EMSGSIZE;
	if (e == ENXIO || e == ENODEV || e == ENETDOWN)
		d->ifindex = 0;	/* gone, or replaced: look it up again next time */
	return -e;
}

static void
io_send(void *arg, uint32_t iface, const uint8_t *frame, uint32_t len, uint64_t now)
{
	struct checker *c = arg;
	uint32_t k = iface < c->img->n_ifaces ? c->dev_of[iface] : VPC_INDEX_NONE;

	(void)now;
	if (k == VPC_INDEX_NONE) {
		c->probes_lost++;	/* no device: said at the load */
		return;
	}
	struct hc_dev *d = &c->devs[k];
	int e = dev_send(d, frame, len);
	if (e == 0) {
		if (d->failing)
			note(c, "device %s: probes sent again", d->ifname);
		d->failing = false;
		return;
	}
	c->probes_lost++;
	if (!d->failing)
		note(c, "device %s: cannot send probes: %s (counted in probes_lost; trying on)",
		     d->ifname, strerror(-e));
	d->failing = true;
}

static void
io_answer(void *arg, uint32_t k, struct vpc_lb_answer *out)
{
	const struct checker *c = arg;
	vpc_xdp_lb_answer(c->answers_fd, k, out);
}

/* Every tick gives every mask; the map is written when one changes. */
static void
io_healthy(void *arg, uint32_t g, uint64_t mask)
{
	struct checker *c = arg;

	if (g >= c->img->n_tgroups || c->masks[g] == mask)
		return;
	vpc_xdp_lb_set_healthy(c->healthy_fd, g, mask);
	c->masks[g] = mask;
}

static void
io_drain(void *arg, uint32_t vpc, uint32_t ip, uint16_t port)
{
	struct checker *c = arg;
	char a[INET_ADDRSTRLEN] = "?";

	uint32_t n = vpc_xdp_lb_drain(&c->f, vpc, ip, port);
	inet_ntop(AF_INET, &ip, a, sizeof(a));
	note(c, "ended %u connection%s to %s port %u", n, n == 1 ? "" : "s", a, ntohs(port));
}

/* health.txt and health.json, where they changed (force: in any case). */
static void
report_write(struct checker *c, bool force)
{
	static const char *const files[2] = { "health.txt", "health.json" };

	for (int j = 0; j < 2; j++) {
		char *buf = NULL, path[512];
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (m == NULL)
			return;
		vpc_lb_hc_report(m, c->img, c->hc, c->probes_lost, j == 1);
		if (fclose(m) != 0 ||
		    (!force && c->report[j] != NULL && len == c->report_len[j] &&
		     memcmp(buf, c->report[j], len) == 0)) {
			free(buf);
			continue;
		}
		path_of(path, sizeof(path), c->instance, files[j]);
		int r = write_atomic(path, buf, len);
		if (r < 0) {
			note(c, "%s: %s", path, strerror(-r));
			free(buf);
			continue;
		}
		free(c->report[j]);
		c->report[j] = buf;
		c->report_len[j] = len;
	}
}

static void
log_changes(struct checker *c)
{
	const struct vpc_image *img = c->img;

	for (uint32_t k = 0; k < img->n_targets; k++) {
		struct vpc_lb_target_status s;
		vpc_lb_hc_status(c->hc, k, &s);
		if (s.state == c->states[k])
			continue;
		const struct vpc_image_target *x = &img->targets[k];
		const struct vpc_image_tgroup *g = &img->tgroups[x->tgroup];
		note(c, "load balancer %s, target group %s: %s port %u: %s -> %s",
		     img->lbs[g->lb].name, g->name, img->ifaces[x->iface].name, ntohs(x->port),
		     vpc_lb_target_state_name(c->states[k]), vpc_lb_target_state_name(s.state));
		c->states[k] = s.state;
	}
}

static void
tick(struct checker *c, uint64_t now)
{
	struct vpc_lb_hc_io io = { .arg = c, .answer = io_answer, .healthy = io_healthy,
				   .send = io_send, .drain = io_drain };

	vpc_lb_hc_tick(c->hc, now, &io);
	log_changes(c);
	report_write(c, false);
}

static void
devs_close(struct hc_dev *devs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (devs[i].fd >= 0)
			close(devs[i].fd);
	free(devs);
}

/* img's targets' devices; those c has already keep their sockets. */
static int
devs_build(struct checker *c, const struct vpc_image *img, struct hc_dev **devs_out,
	   uint32_t *n_out, uint32_t **dev_of_out)
{
	struct hc_dev *devs = calloc(img->n_ifaces + 1, sizeof(*devs));
	uint32_t *dev_of = malloc((img->n_ifaces + 1) * sizeof(*dev_of));
	uint32_t n = 0;

	if (devs == NULL || dev_of == NULL) {
		free(devs);
		free(dev_of);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < img->n_ifaces; i++)
		dev_of[i] = VPC_INDEX_NONE;
	for (uint32_t k = 0; k < img->n_targets; k++) {
		uint32_t i = img->targets[k].iface;
		if (dev_of[i] != VPC_INDEX_NONE)
			continue;
		const char *name = iface_device(img, i);
		if (name == NULL) {
			note(c, "interface %s: no device on this host: its probes cannot be sent",
			     img->ifaces[i].name);
			continue;
		}
		uint32_t d = 0;
		while (d < n && strncmp(devs[d].ifname, name, VPC_HPORT_STR) != 0)
			d++;
		if (d == n) {
			snprintf(devs[n].ifname, sizeof(devs[n].ifname), "%.*s", VPC_HPORT_STR - 1,
				 name);
			devs[n].fd = -1;
			for (uint32_t o = 0; o < c->n_devs; o++) {
				if (strcmp(c->devs[o].ifname, devs[n].ifname) != 0)
					continue;
				devs[n] = c->devs[o];
				c->devs[o].fd = -1;	/* moved */
				break;
			}
			n++;
		}
		dev_of[i] = d;
	}
	*devs_out = devs;
	*n_out = n;
	*dev_of_out = dev_of;
	return 0;
}

/* What a checker holds for its current tables (its image, checker, maps,
 * devices): let go, on a reload and at the end. */
static void
checker_release(struct checker *c)
{
	devs_close(c->devs, c->n_devs);
	free(c->dev_of);
	free(c->masks);
	free(c->states);
	vpc_lb_hc_free(c->hc);
	vpc_image_free(c->img);
	if (c->answers_fd >= 0)
		close(c->answers_fd);
	if (c->healthy_fd >= 0)
		close(c->healthy_fd);
}

/*
 * Take the image and the active set's maps, the states of c's targets
 * carried over (vpc_lb_hc_create).  locked: the caller holds the
 * instance lock (vpcctl_health_spawn's caller, for the first load);
 * otherwise it is taken without waiting.  1: done; 0: the lock is taken
 * (an apply is under way: try again); -1: failed, nothing changed
 * (message in err).
 */
static int
load(struct checker *c, bool locked, char *err, size_t n)
{
	char path[512], e2[512];
	int lock = -1;

	if (!locked) {
		snprintf(path, sizeof(path), VPCCTL_XDP_RUN_DIR "/%s.lock", c->instance);
		lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			if (lock >= 0)
				close(lock);
			if (e == EWOULDBLOCK)
				return 0;
			snprintf(err, n, "%s: %s", path, strerror(e));
			return -1;
		}
	}
	path_of(path, sizeof(path), c->instance, "health.image");
	struct vpc_image *img = vpc_image_read_file(path, e2, sizeof(e2));
	struct vpc_lb_hc *hc = img != NULL ? vpc_lb_hc_create(img, c->hc) : NULL;
	int a = -1, h = -1, r = -1;
	uint32_t gen = 0;
	if (img == NULL)
		snprintf(err, n, "%s", e2);
	else if (hc == NULL)
		snprintf(err, n, "out of memory");
	else if ((r = vpc_xdp_lb_maps(&c->f, &a, &h)) < 0)
		snprintf(err, n, "the active tables' health-check maps: %s", strerror(-r));
	else
		gen = vpc_xdp_generation(&c->f);
	if (lock >= 0)
		close(lock);	/* the image and the maps are one apply's */

	struct hc_dev *devs = NULL;
	uint32_t n_devs = 0, *dev_of = NULL;
	uint64_t *masks = NULL;
	uint8_t *states = NULL;
	if (r == 0) {
		masks = calloc(img->n_tgroups + 1, sizeof(*masks));
		states = calloc(img->n_targets + 1, sizeof(*states));
		if (masks == NULL || states == NULL ||
		    devs_build(c, img, &devs, &n_devs, &dev_of) < 0) {
			snprintf(err, n, "out of memory");
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		free(masks);
		free(states);
		if (a >= 0)
			close(a);
		if (h >= 0)
			close(h);
		vpc_lb_hc_free(hc);
		vpc_image_free(img);
		return -1;
	}
	/* The new tables start from the states carried over (until the first
	 * masks are written, new connections fail open). */
	for (uint32_t g = 0; g < img->n_tgroups; g++) {
		masks[g] = vpc_lb_hc_mask(hc, g);
		vpc_xdp_lb_set_healthy(h, g, masks[g]);
	}
	for (uint32_t k = 0; k < img->n_targets; k++) {
		struct vpc_lb_target_status s;
		vpc_lb_hc_status(hc, k, &s);
		states[k] = s.state;
	}
	checker_release(c);
	c->img = img;
	c->hc = hc;
	c->answers_fd = a;
	c->healthy_fd = h;
	c->generation = gen;
	c->masks = masks;
	c->states = states;
	c->devs = devs;
	c->n_devs = n_devs;
	c->dev_of = dev_of;
	report_write(c, true);
	char g[16];
	int len = snprintf(g, sizeof(g), "%u\n", gen);
	path_of(path, sizeof(path), c->instance, "health.generation");
	if ((r = write_atomic(path, g, (size_t)len)) < 0)
		note(c, "%s: %s", path, strerror(-r));
	note(c, "generation %u: %u target%s in %u target group%s, probes out of %u device%s", gen,
	     img->n_targets, img->n_targets == 1 ? "" : "s", img->n_tgroups,
	     img->n_tgroups == 1 ? "" : "s", n_devs, n_devs == 1 ? "" : "s");
	return 1;
}

static void
checker_free(struct checker *c)
{
	checker_release(c);
	free(c->report[0]);
	free(c->report[1]);
	vpc_xdp_close_fds(&c->f);
}

/* Wait up to ns for one of sigs: the signal, or 0. */
static int
wait_signal(const sigset_t *sigs, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS), .tv_nsec = (long)(ns % NS) };
	int s = sigtimedwait(sigs, NULL, &ts);
	return s < 0 ? 0 : s;
}

/* The pid file, locked: 0 with *fd, or -1 with the reason in err. */
static int
pid_file_take(const char *instance, int *fd, char *err, size_t n)
{
	char path[512], b[24];

	path_of(path, sizeof(path), instance, "health.pid");
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0) {
		snprintf(err, n, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t r = pread(*fd, b, sizeof(b) - 1, 0);
		b[r > 0 ? r : 0] = '\0';
		b[strcspn(b, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			snprintf(err, n, "a health checker already runs (pid %s)", b);
		else
			snprintf(err, n, "%s: %s", path, strerror(e));
		close(*fd);
		*fd = -1;
		return -1;
	}
	int len = snprintf(b, sizeof(b), "%d\n", (int)getpid());
	if (ftruncate(*fd, 0) < 0 || pwrite(*fd, b, (size_t)len, 0) != len) {
		snprintf(err, n, "%s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int
vpcctl_health_run(const char *instance, int ready_fd)
{
	struct checker c = { .instance = instance, .answers_fd = -1, .healthy_fd = -1 };
	char err[768] = "", pins[256];
	bool ready = false;
	sigset_t sigs;
	int pid_fd = -1, ret = 1, r;

	/* Taken by sigtimedwait(), so blocked; and their actions the default
	 * ones, whatever exec kept (a shell starts background jobs with
	 * SIGINT ignored). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);	/* the spawner gone: its pipe's write fails */
	snprintf(pins, sizeof(pins), "%s/%s", VPC_XDP_PIN_ROOT, instance);
	if ((r = vpc_xdp_open_pinned(pins, &c.f)) < 0) {
		snprintf(err, sizeof(err), "no XDP instance '%s' (%s: %s)", instance, pins,
			 strerror(-r));
		goto out;
	}
	if ((r = run_dir(instance)) < 0) {
		snprintf(err, sizeof(err), "%s: %s", VPCCTL_XDP_RUN_DIR, strerror(-r));
		goto out;
	}
	if (pid_file_take(instance, &pid_fd, err, sizeof(err)) < 0)
		goto out;
	/* By hand: the lock may be an apply's; wait for it. */
	while ((r = load(&c, ready_fd >= 0, err, sizeof(err))) == 0) {
		int s = wait_signal(&sigs, LOCK_RETRY_NS);
		if (s == SIGTERM || s == SIGINT) {
			ret = 0;
			goto out;
		}
	}
	if (r < 0)
		goto out;
	if (ready_fd >= 0) {
		if (write(ready_fd, "ok\n", 3) != 3)
			note(&c, "the spawner did not wait for the start");
		close(ready_fd);
		ready_fd = -1;
	}
	ready = true;
	note(&c, "running (pid %d)", (int)getpid());

	uint64_t now = vpc_xdp_now(), next_tick = now, next_pins = now + PINS_CHECK_NS;
	bool reload = false;
	for (;;) {
		now = vpc_xdp_now();
		if (reload) {
			r = load(&c, false, err, sizeof(err));
			if (r < 0)
				note(&c, "reload: %s (checking the tables it had)", err);
			reload = r == 0;
		}
		if (now >= next_tick) {
			tick(&c, now);
			next_tick += TICK_NS;
			if (next_tick <= now)
				next_tick = now + TICK_NS;	/* late (a slow drain): no burst */
		}
		if (now >= next_pins) {
			struct stat st;
			if (stat(pins, &st) < 0) {
				note(&c, "%s is gone: the instance has stopped", pins);
				ret = 0;
				break;
			}
			next_pins = now + PINS_CHECK_NS;
		}
		now = vpc_xdp_now();
		uint64_t wait = next_tick > now ? next_tick - now : 0;
		if (reload && wait > LOCK_RETRY_NS)
			wait = LOCK_RETRY_NS;
		int s = wait_signal(&sigs, wait);
		if (s == SIGHUP)
			reload = true;
		else if (s == SIGTERM || s == SIGINT) {
			note(&c, "stopped");
			ret = 0;
			break;
		}
	}
out:
	if (ret != 0 && !ready) {
		if (ready_fd >= 0)
			dprintf(ready_fd, "%s\n", err);	/* the spawner's answer */
		note(&c, "%s", err);
	}
	if (ready_fd >= 0)
		close(ready_fd);
	checker_free(&c);
	if (pid_fd >= 0)
		close(pid_fd);
	return ret;
}

/* ---- what vpcctl does to it ---- */

pid_t
vpcctl_health_pid(const char *instance)
{
	char path[512], b[24];
	pid_t pid = 0;

	path_of(path, sizeof(path), instance, "health.pid");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* Its flock held: it runs (a stale file is not locked). */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		ssize_t r = pread(fd, b, sizeof(b) - 1, 0);
		b[r > 0 ? r : 0] = '\0';
		pid = (pid_t)strtol(b, NULL, 10);
	}
	close(fd);
	return pid > 0 ? pid : 0;
}

/* fd, moved above stdin, stdout and stderr (which the child replaces). */
static int
above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int f = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return f;
}

pid_t
vpcctl_health_spawn(const char *instance, bool fresh_log, char *err, size_t n)
{
	char logp[512], inst[64], ans[512];
	int p[2] = { -1, -1 }, r;

	path_of(logp, sizeof(logp), instance, "health.log");
	if ((r = run_dir(instance)) < 0) {
		snprintf(err, n, "%s: %s", VPCCTL_XDP_RUN_DIR, strerror(-r));
		return 0;
	}
	int log = above_stdio(open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
					   (fresh_log ? O_TRUNC : 0), 0644));
	int null = above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (log < 0 || null < 0 || pipe2(p, O_CLOEXEC) < 0 || (p[0] = above_stdio(p[0])) < 0 ||
	    (p[1] = above_stdio(p[1])) < 0) {
		snprintf(err, n, "%s: %s", log < 0 ? logp : "cannot start", strerror(errno));
		goto fail;
	}
	snprintf(inst, sizeof(inst), "%s", instance);
	char *argv[] = { "vpcctl", "xdp", "health", "--instance", inst, "--ready-fd", "3", NULL };

	/* Detached twice (its own session, then orphaned: init reaps it, and
	 * a long-lived parent such as `vpcctl agent` keeps no zombie).  Only
	 * async-signal-safe calls between fork and exec (the agent may have
	 * threads: libcurl's resolver). */
	pid_t child = fork();
	if (child == 0) {
		if (setsid() < 0)
			_exit(1);
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0);
		/* stdio, the answer's pipe as fd 3, and nothing else of ours
		 * (a pipe of the caller's kept open would hold up whoever
		 * reads it to its end: a shell's $(...)) */
		if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
		    (p[1] != 3 && dup2(p[1], 3) < 0) || fcntl(3, F_SETFD, 0) < 0 ||
		    close_range(4, ~0u, 0) < 0 || chdir("/") < 0)
			_exit(127);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[1]);
	p[1] = -1;
	int st = 0;
	while (child > 0 && waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (child < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, n, "cannot fork: %s", child < 0 ? strerror(errno) : "its child failed");
		goto fail;
	}
	/* Its answer: "ok", or why not; EOF (it died) or silence: see the log. */
	size_t got = 0;
	int waited = 0;
	while (got < sizeof(ans) - 1 && waited < READY_TIMEOUT_MS) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int k = poll(&pf, 1, POLL_MS * 10);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0) {
			waited += POLL_MS * 10;
			continue;
		}
		ssize_t m = k < 0 ? -1 : read(p[0], ans + got, sizeof(ans) - 1 - got);
		if (m <= 0)
			break;
		got += (size_t)m;
		if (memchr(ans, '\n', got) != NULL)
			break;
	}
	ans[got] = '\0';
	ans[strcspn(ans, "\n")] = '\0';
	close(p[0]);
	p[0] = -1;
	close(log);
	close(null);
	if (strcmp(ans, "ok") == 0) {
		pid_t pid = vpcctl_health_pid(instance);
		if (pid > 0)
			return pid;
		snprintf(err, n, "it exited once started (its log: %s)", logp);
	} else if (ans[0] != '\0')
		snprintf(err, n, "%s", ans);
	else if (waited >= READY_TIMEOUT_MS)
		snprintf(err, n, "not ready after %d s (its log: %s)", READY_TIMEOUT_MS / 1000, logp);
	else
		snprintf(err, n, "it exited before it was ready (its log: %s)", logp);
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	if (log >= 0)
		close(log);
	if (null >= 0)
		close(null);
	return 0;
}

static uint32_t
loaded_generation(const char *instance)
{
	char path[512], b[16] = "";
	uint32_t g = 0;

	path_of(path, sizeof(path), instance, "health.generation");
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fgets(b, sizeof(b), f) != NULL)
		g = (uint32_t)strtoul(b, NULL, 10);
	fclose(f);
	return g;
}

int
vpcctl_health_reload(const char *instance, pid_t pid, uint32_t generation,
		     unsigned int timeout_ms)
{
	if (kill(pid, SIGHUP) < 0)
		return -errno;
	/* At least: an apply after this one may have published already, and
	 * the checker takes the latest. */
	for (unsigned int t = 0;; t += POLL_MS) {
		if (loaded_generation(instance) >= generation)
			return 0;
		if (vpcctl_health_pid(instance) != pid)
			return -ESRCH;
		if (t >= timeout_ms)
			return -ETIMEDOUT;
		usleep(POLL_MS * 1000);
	}
}

static bool
gone_within(const char *instance, unsigned int ms)
{
	for (unsigned int t = 0; vpcctl_health_pid(instance) != 0; t += POLL_MS) {
		if (t >= ms)
			return false;
		usleep(POLL_MS * 1000);
	}
	return true;
}

int
vpcctl_health_stop(const char *instance, char *err, size_t n)
{
	static const char *const files[] = {
		"health.pid", "health.image", "health.generation", "health.txt", "health.json",
	};
	pid_t pid = vpcctl_health_pid(instance);
	char path[512];

	if (pid > 0 && kill(pid, SIGTERM) == 0 && !gone_within(instance, STOP_TIMEOUT_MS)) {
		kill(pid, SIGKILL);
		if (!gone_within(instance, STOP_TIMEOUT_MS)) {
			snprintf(err, n, "health checker (pid %d) does not exit", (int)pid);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_of(path, sizeof(path), instance, files[i]);
		unlink(path);
	}
	return pid > 0;
}

int
vpcctl_health_print(const char *instance, bool json)
{
	char path[512], buf[8192];

	if (vpcctl_health_pid(instance) == 0) {
		path_of(path, sizeof(path), instance, "health.log");
		fprintf(stderr, "vpcctl lb: instance '%s' runs no health checker (one runs while "
			"its tables have load balancers' targets; its log: %s)\n", instance, path);
		return 1;
	}
	path_of(path, sizeof(path), instance, json ? "health.json" : "health.txt");
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr, "vpcctl lb: %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t m;
	while ((m = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, m, stdout);
	fclose(f);
	return 0;
}
