/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.c -- the ports of host.ports: opened as DPDK virtual devices
 * (vhost-user, tap, af_xdp, pcap), by PCI address, or as kernel ports
 * (af_packet: kport.c); DPDK's started with one rx queue and a tx queue
 * per worker where the device has enough; closed when an apply removes
 * them.  Control thread and start-up only.
 */
#include "vpcd.h"

#include <grp.h>
#include <net/if.h>
#include <pwd.h>

#include <rte_eth_vhost.h>
#include <rte_vhost.h>

const struct vpc_image_hport *
hport_of(const struct vpc_image *img, const char *name)
{
	for (uint32_t i = 0; i < img->n_hports; i++)
		if (strcmp(img->hports[i].name, name) == 0)
			return &img->hports[i];
	return NULL;
}

/* Start a port with one rx queue and up to n_txq tx queues. */
static int
port_start(uint16_t pid, unsigned int n_txq, const char *name, char *err, size_t err_size)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int ret;

	if ((ret = rte_eth_dev_info_get(pid, &info)) != 0)
		goto fail;
	if (n_txq > info.max_tx_queues)
		n_txq = info.max_tx_queues;
	ret = rte_eth_dev_configure(pid, 1, (uint16_t)n_txq, &conf);
	if (ret == -EINVAL && n_txq > 1) {
		/* Devices that want as many tx queues as rx queues (tap):
		 * one, shared by the workers under the port's lock. */
		n_txq = 1;
		ret = rte_eth_dev_configure(pid, 1, 1, &conf);
	}
	if (ret != 0)
		goto fail;
	uint16_t nb_rx = RX_DESC, nb_tx = TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx);
	int socket = rte_eth_dev_socket_id(pid);
	if ((ret = rte_eth_rx_queue_setup(pid, 0, nb_rx, (unsigned int)socket, NULL, vpcd.mp)) != 0)
		goto fail;
	for (uint16_t q = 0; q < n_txq; q++)
		if ((ret = rte_eth_tx_queue_setup(pid, q, nb_tx, (unsigned int)socket, NULL)) != 0)
			goto fail;
	if ((ret = rte_eth_dev_start(pid)) != 0)
		goto fail;
	rte_eth_promiscuous_enable(pid);	/* frames for the VMs' MACs */
	vpcd.n_txq[pid] = (uint16_t)n_txq;
	rte_spinlock_init(&vpcd.tx_lock[pid]);
	return 0;
fail:
	snprintf(err, err_size, "port '%s': %s", name, strerror(-ret));
	return ret;
}

/* A user or group id written as digits: 0, or -1 when s is not one. */
static int
numeric_id(const char *s, unsigned int *id)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v >= UINT32_MAX)	/* (uid_t)-1 means "unchanged" */
			return -1;
	}
	*id = (unsigned int)v;
	return 0;
}

/*
 * A vhost-user server socket's owner, "USER[:GROUP]" (names or numeric
 * ids), as ids on this host; gid (gid_t)-1 when no group is named.  0, or
 * -ENOENT with the unknown name in why.
 */
static int
owner_ids(const char *owner, uid_t *uid, gid_t *gid, char *why, size_t why_size)
{
	const char *colon = strchr(owner, ':');
	char user[VPC_HPORT_STR];
	unsigned int id;

	snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - owner) : (int)strlen(owner), owner);
	if (numeric_id(user, &id) == 0) {
		*uid = (uid_t)id;
	} else {
		const struct passwd *pw = getpwnam(user);
		if (pw == NULL) {
			snprintf(why, why_size, "no user '%s' on this host", user);
			return -ENOENT;
		}
		*uid = pw->pw_uid;
	}
	*gid = (gid_t)-1;
	if (colon == NULL)
		return 0;
	if (numeric_id(colon + 1, &id) == 0) {
		*gid = (gid_t)id;
	} else {
		const struct group *gr = getgrnam(colon + 1);
		if (gr == NULL) {
			snprintf(why, why_size, "no group '%s' on this host", colon + 1);
			return -ENOENT;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/*
 * A vhost-user server socket, once the port has created it: its owner and
 * mode as the record says (a hypervisor that runs QEMU as another user,
 * libvirt's, must be able to connect).  0, or a negative errno with the
 * reason in err.
 */
static int
socket_perms(const struct vpc_image_hport *h, const char *name, uid_t uid, gid_t gid,
	     char *err, size_t err_size)
{
	if (h->b[0] != '\0' && chown(h->a, uid, gid) != 0) {
		int ret = -errno;
		snprintf(err, err_size, "port '%s': socket %s: cannot set its owner to %s: %s", name,
			 h->a, h->b, strerror(-ret));
		return ret;
	}
	if ((h->flags & VPC_HPORT_F_MODE) && chmod(h->a, (mode_t)h->mode) != 0) {
		int ret = -errno;
		snprintf(err, err_size, "port '%s': socket %s: cannot set its mode to 0%o: %s", name,
			 h->a, h->mode, strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * A vhost-user server socket's path, before the port creates the socket
 * there (the vhost library binds, and does not bind over a file): a socket
 * nobody listens on, left by a vpcd that did not stop cleanly, is removed,
 * so that a restart after a crash finds its path free; a live socket or
 * another kind of file is named.  0, or a negative errno with why in err.
 */
static int
free_socket_path(const char *path, const char *name, char *err, size_t err_size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;	/* absent (or the bind will say why) */
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, err_size, "port '%s': socket %s: a file that is not a socket is in the way",
			 name, path);
		return -EEXIST;
	}
	size_t len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return 0;	/* the vhost library names it */
	memcpy(sa.sun_path, path, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	int ret = connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	if (ret == ECONNREFUSED) {
		unlink(path);	/* stale */
		return 0;
	}
	if (ret == 0 || ret == EAGAIN) {
		snprintf(err, err_size, "port '%s': socket %s is in use by another process (a running vpcd, or QEMU in server mode: set 'client: true')",
			 name, path);
		return -EADDRINUSE;
	}
	return 0;
}

/* A vhost-user port's name and its VPC's MTU, for the link event. */
static struct {
	char name[VPC_NAME_SIZE];
	uint16_t vpc_mtu;
} vhost_ports[RTE_MAX_ETHPORTS];

/* The VPC MTU of the interface a port belongs to; 0 for the uplink. */
static uint16_t
port_vpc_mtu(const struct vpc_image *img, const char *name)
{
	for (uint32_t p = 0; p < img->n_ports; p++)
		if (strcmp(img->ports[p].name, name) == 0 && img->ports[p].kind == VPC_PORT_IFACE)
			return img->vpcs[img->ifaces[img->ports[p].iface].vpc].mtu;
	return 0;
}

/*
 * A guest's virtio-net device came up on a vhost-user port: the MTU its
 * QEMU announces (virtio-net's MTU feature, QEMU's host_mtu=) checked
 * against the VPC's.  A guest without the feature takes the VPC MTU from
 * DHCP (option 26); one with another MTU is told about in one line, since
 * it either sends frames the VPC drops (mtu-exceeded) or cannot raise its
 * MTU to the VPC's.  Runs in the vhost library's thread; reads only its
 * own port's entry, written before the port started.
 */
static int
vhost_link_event(uint16_t pid, enum rte_eth_event_type ev, void *arg, void *ret)
{
	struct rte_eth_link link;
	uint16_t mtu;
	(void)ev;
	(void)arg;
	(void)ret;

	if (rte_eth_link_get_nowait(pid, &link) != 0 || link.link_status != RTE_ETH_LINK_UP)
		return 0;
	int vid = rte_eth_vhost_get_vid_from_port_id(pid);
	if (vid < 0 || rte_vhost_get_mtu(vid, &mtu) != 0 || vhost_ports[pid].vpc_mtu == 0 ||
	    mtu == vhost_ports[pid].vpc_mtu)
		return 0;
	printf("vpcd: port '%s': the guest's virtio-net MTU is %u (QEMU's host_mtu), its VPC's %u: set host_mtu=%u on the device\n",
	       vhost_ports[pid].name, mtu, vhost_ports[pid].vpc_mtu, vhost_ports[pid].vpc_mtu);
	fflush(stdout);
	return 0;
}

/*
 * Open a port as its host-port record says: a virtual device is
 * hot-plugged (rte_dev_probe), a PCI device was allowed at start-up.
 * A vhost-user port either creates its socket (server; then its owner and
 * mode are set) or connects to QEMU's (client=1: the vhost library
 * reconnects by itself whenever QEMU restarts).
 */
int
port_open(const struct vpc_image *img, const char *name, uint16_t *pid, char *err, size_t err_size)
{
	const struct vpc_image_hport *h = hport_of(img, name);
	char dev[VPC_HPORT_STR + 16], args[512];
	uint32_t seq = vpcd.dev_seq++;

	if (h == NULL) {
		snprintf(err, err_size, "port '%s' has no entry in host.ports (how is it realised on this host?)", name);
		return -EINVAL;
	}
	/* The owner's names resolve before anything is opened. */
	bool vhost_server = h->type == VPC_HPORT_VHOST_USER && !(h->flags & VPC_HPORT_F_CLIENT);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	if (vhost_server && h->b[0] != '\0') {
		char why[160];
		int ret = owner_ids(h->b, &uid, &gid, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, err_size, "port '%s': socket %s: owner %s: %s", name, h->a, h->b,
				 why);
			return ret;
		}
	}
	/* Interface-backed virtual devices: driver, and options of ours. */
	static const struct {
		const char *driver, *options;
	} vdev[] = {
		[VPC_HPORT_TAP] = { "net_tap", "" },
		[VPC_HPORT_AF_XDP] = { "net_af_xdp", "" },
		[VPC_HPORT_VHOST_USER] = { "net_vhost", ",queues=1,legacy-ol-flags=0" },
	};
	if (h->type == VPC_HPORT_AF_PACKET) {
		int ret = kport_open(h->a, name, pid, err, err_size);
		if (ret == 0)
			vpcd.n_txq[*pid] = (uint16_t)vpcd.n_workers;	/* any worker sends */
		return ret;
	}
	if (h->type == VPC_HPORT_PCAP) {
		snprintf(dev, sizeof(dev), "net_pcap%u", seq);
		snprintf(args, sizeof(args), "%s%s%s%s%s%s", dev, h->a[0] ? ",rx_pcap=" : "", h->a,
			 h->b[0] ? ",tx_pcap=" : "", h->b, h->flags & VPC_HPORT_F_LOOP ? ",infinite_rx=1" : "");
	} else if (h->type == VPC_HPORT_PCI) {
		/* probed by the EAL at start-up (--allow) */
		snprintf(dev, sizeof(dev), "%s", h->a);
		args[0] = '\0';
	} else {
		snprintf(dev, sizeof(dev), "%s%u", vdev[h->type].driver, seq);
		snprintf(args, sizeof(args), "%s,iface=%s%s%s", dev, h->a, vdev[h->type].options,
			 h->type == VPC_HPORT_VHOST_USER && (h->flags & VPC_HPORT_F_CLIENT) ?
				 ",client=1" : "");
	}
	if (vhost_server) {
		int ret = free_socket_path(h->a, name, err, err_size);
		if (ret < 0)
			return ret;
	}
	if (h->type == VPC_HPORT_AF_XDP && if_nametoindex(h->a) == 0) {
		snprintf(err, err_size, "port '%s': no network device '%s' on this host", name, h->a);
		return -ENODEV;
	}
	if (args[0] != '\0') {
		int ret = rte_dev_probe(args);
		if (ret < 0) {
			snprintf(err, err_size, "port '%s': cannot open device %s: %s", name, dev,
				 strerror(-ret));
			return ret;
		}
	}
	if (rte_eth_dev_get_port_by_name(dev, pid) != 0) {
		snprintf(err, err_size, "port '%s': device %.64s did not come up", name, dev);
		return -ENODEV;
	}
	if (h->type == VPC_HPORT_VHOST_USER) {
		snprintf(vhost_ports[*pid].name, sizeof(vhost_ports[*pid].name), "%s", name);
		vhost_ports[*pid].vpc_mtu = port_vpc_mtu(img, name);
		rte_eth_dev_callback_register(*pid, RTE_ETH_EVENT_INTR_LSC, vhost_link_event, NULL);
	}
	int ret = port_start(*pid, vpcd.n_workers, name, err, err_size);
	if (ret == 0 && vhost_server && (ret = socket_perms(h, name, uid, gid, err, err_size)) != 0)
		port_close(*pid);	/* removes the socket it created */
	return ret;
}

void
port_close(uint16_t pid)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (IS_KPORT(pid)) {
		kport_close(pid);
		return;
	}
	if (rte_eth_dev_info_get(pid, &info) == 0)
		dev = info.device;
	rte_eth_dev_callback_unregister(pid, RTE_ETH_EVENT_INTR_LSC, vhost_link_event, NULL);
	rte_eth_dev_stop(pid);
	rte_eth_dev_close(pid);
	if (dev != NULL)
		rte_dev_remove(dev);
}
