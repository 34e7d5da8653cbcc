/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.c -- the DPDK ports of host.ports: opened as virtual devices (vhost-user,
 * tap, af_packet, af_xdp, pcap) or by PCI address, started with one rx
 * queue and a tx queue per worker where the device has enough, closed
 * when an apply removes them.  Control thread and start-up only.
 */
#include "vpcd.h"

#include <net/if.h>

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

/*
 * Open a port as its host-port record says: a virtual device is
 * hot-plugged (rte_dev_probe), a PCI device was allowed at start-up.
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
	/* Interface-backed virtual devices: driver, and options of ours. */
	static const struct {
		const char *driver, *options;
	} vdev[] = {
		[VPC_HPORT_TAP] = { "net_tap", "" },
		[VPC_HPORT_AF_PACKET] = { "net_af_packet", ",qpairs=1" },
		[VPC_HPORT_AF_XDP] = { "net_af_xdp", "" },
		[VPC_HPORT_VHOST_USER] = { "net_vhost", ",queues=1,legacy-ol-flags=0" },
	};
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
		snprintf(args, sizeof(args), "%s,iface=%s%s", dev, h->a, vdev[h->type].options);
	}
	if ((h->type == VPC_HPORT_AF_PACKET || h->type == VPC_HPORT_AF_XDP) &&
	    if_nametoindex(h->a) == 0) {
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
	return port_start(*pid, vpcd.n_workers, name, err, err_size);
}

void
port_close(uint16_t pid)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(pid, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(pid);
	rte_eth_dev_close(pid);
	if (dev != NULL)
		rte_dev_remove(dev);
}
