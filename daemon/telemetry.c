/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * telemetry.c -- the counters in DPDK telemetry (dpdk-telemetry.py), read under
 * cfg_lock from the telemetry thread.
 */
#include "vpcd.h"

/* ---- DPDK telemetry: the same counters, for dpdk-telemetry.py ---- */

/* Telemetry names allow letters, digits and '_': "l2-switch" -> "l2_switch". */
static const char *
tel_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

/* The per-lcore totals, without per-port counters: those need no
 * configuration, so no lock either. */
static void
totals(struct vpc_stats *sum)
{
	sum_stats(NULL, sum, NULL);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	char nb[64];
	(void)cmd;
	(void)params;
	totals(&sum);
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_u64(t, "packets", sum.packets);
	for (int p = 1; p < VPC_PATH_COUNT; p++)
		rte_tel_data_add_dict_u64(t, tel_name(nb, sizeof(nb), vpc_path_name((unsigned)p)),
					  sum.paths[p]);
	rte_tel_data_add_dict_u64(t, "connections", vpc_ct_count(vpcd.ct));
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	char nb[64];
	(void)cmd;
	(void)params;
	totals(&sum);
	rte_tel_data_start_dict(t);
	for (int r = 1; r < VPC_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(t, tel_name(nb, sizeof(nb), vpc_drop_name((unsigned)r)),
					  sum.drops[r]);
	return 0;
}

/* /vpc/port,NAME: one port's counters. */
static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct vpc_stats sum;
	int ret = -EINVAL;
	(void)cmd;
	if (params == NULL)
		return -EINVAL;
	pthread_mutex_lock(&vpcd.cfg_lock);
	const struct cfg *c = vpcd.cfg;
	for (uint32_t p = 0; p < c->n_ports; p++) {
		if (strcmp(c->img->ports[p].name, params) != 0)
			continue;
		struct port_counters *ports = calloc(c->n_ports, sizeof(*ports));
		if (ports == NULL) {
			ret = -ENOMEM;
			break;
		}
		sum_stats(c, &sum, ports);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_u64(t, "rx_packets", ports[p].rx);
		rte_tel_data_add_dict_u64(t, "tx_packets", ports[p].tx);
		rte_tel_data_add_dict_u64(t, "drops", ports[p].drops);
		free(ports);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&vpcd.cfg_lock);
	return ret;
}

void
tel_register(void)
{
	rte_telemetry_register_cmd("/vpc/stats", tel_stats,
				   "vpcd: packets by path, and connections tracked");
	rte_telemetry_register_cmd("/vpc/drops", tel_drops, "vpcd: drops by reason");
	rte_telemetry_register_cmd("/vpc/port", tel_port,
				   "vpcd: one port's counters. Parameter: the port's name");
}
