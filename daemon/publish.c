/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * publish.c -- configurations: built from an image (tables, the ports it adds
 * opened, rx ports dealt to the workers), published by one pointer
 * store, and the old one freed after an RCU grace period.  Control thread
 * and start-up only (see vpcd.h).
 */
#include "vpcd.h"

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (unsigned int w = 0; w < RTE_MAX_LCORE; w++)
		free(c->rx[w]);
	free(c->ethdev);
	vpc_tables_free(c->tables);
	vpc_image_free(c->img);
	free(c);
}

/*
 * A configuration for img.  Ports of prev (by name) keep their device and
 * their worker; the others are opened and dealt to the least busy worker.
 * On failure, the ports opened here are closed again and NULL returned.
 */
struct cfg *
cfg_build(struct vpc_image *img, const struct cfg *prev, uint32_t generation,
	  bool revalidate, char *err, size_t err_size)
{
	struct cfg *c = calloc(1, sizeof(*c));
	uint16_t opened[RTE_MAX_ETHPORTS];
	uint32_t n_opened = 0;

	if (c == NULL)
		goto nomem;
	c->img = img;
	c->n_ports = img->n_ports;
	c->ethdev = calloc(img->n_ports, sizeof(uint16_t));
	if (c->ethdev == NULL)
		goto nomem;
	for (unsigned int w = 0; w < vpcd.n_workers; w++)
		if ((c->rx[w] = calloc(img->n_ports, sizeof(uint16_t))) == NULL)
			goto nomem;
	for (uint32_t p = 0; p < img->n_ports; p++) {
		const char *name = img->ports[p].name;
		int owner = -1;
		for (uint32_t q = 0; prev != NULL && q < prev->n_ports && owner < 0; q++)
			if (strcmp(prev->img->ports[q].name, name) == 0) {
				c->ethdev[p] = prev->ethdev[q];
				for (unsigned int w = 0; w < vpcd.n_workers && owner < 0; w++)
					for (uint16_t r = 0; r < prev->n_rx[w]; r++)
						if (prev->rx[w][r] == q)
							owner = (int)w;
			}
		if (owner < 0 && img->ports[p].kind == VPC_PORT_UPLINK &&
		    hport_of(img, name) == NULL && !vpc_lower_uplink_needed(img)) {
			c->ethdev[p] = PORT_UNREALISED;	/* nothing goes there */
			continue;
		}
		if (owner < 0) {
			if (n_opened == RTE_MAX_ETHPORTS ||
			    port_open(img, name, &c->ethdev[p], err, err_size) < 0)
				goto fail;
			opened[n_opened++] = c->ethdev[p];
			owner = 0;
			for (unsigned int w = 1; w < vpcd.n_workers; w++)
				if (c->n_rx[w] < c->n_rx[owner])
					owner = (int)w;
		}
		c->rx[owner][c->n_rx[owner]++] = (uint16_t)p;
	}
	c->tables = vpc_tables_create(img, (int)rte_socket_id(), err, err_size);
	if (c->tables == NULL)
		goto fail;
	c->tables->generation = generation;
	c->tables->revalidate = revalidate;
	return c;
nomem:
	snprintf(err, err_size, "out of memory");
fail:
	for (uint32_t i = 0; i < n_opened; i++)
		port_close(opened[i]);
	if (c != NULL)
		c->img = NULL;	/* the caller's */
	cfg_free(c);
	return NULL;
}


/* Apply: check; open added ports and build; publish; wait for the
 * workers; free the old configuration and close the ports it alone had. */
int
ctl_apply(const void *buf, uint32_t len, uint32_t flags, FILE *out)
{
	char err[256];
	struct vpc_image *img = vpc_image_from_bytes(buf, len, err, sizeof(err));
	struct cfg *old = vpcd.cfg;

	if (img == NULL) {
		fprintf(out, "refused: %s\n", err);
		return EINVAL;
	}
	struct cfg *c = cfg_build(img, old, old->tables->generation + 1,
				  flags & VPC_CTL_F_REVALIDATE, err, sizeof(err));
	if (c == NULL) {
		fprintf(out, "refused: %s\n", err);
		vpc_image_free(img);
		return EINVAL;
	}
	lb_retable(c);	/* the health checks' states carried over */
	pthread_mutex_lock(&vpcd.cfg_lock);
	__atomic_store_n(&vpcd.cfg, c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vpcd.cfg_lock);
	/* Every worker finishes the loop it is in: then none uses the old. */
	rte_rcu_qsbr_synchronize(vpcd.rcu, RTE_QSBR_THRID_INVALID);
	uint32_t added = 0, removed = 0;
	for (uint32_t q = 0; q < old->n_ports; q++) {
		bool kept = false;
		for (uint32_t p = 0; p < c->n_ports && !kept; p++)
			kept = c->ethdev[p] == old->ethdev[q];
		if (!kept && old->ethdev[q] != PORT_UNREALISED) {
			port_close(old->ethdev[q]);
			removed++;
		}
	}
	for (uint32_t p = 0; p < c->n_ports; p++) {
		bool known = false;
		for (uint32_t q = 0; q < old->n_ports && !known; q++)
			known = c->ethdev[p] == old->ethdev[q];
		added += !known && c->ethdev[p] != PORT_UNREALISED;
	}
	cfg_free(old);
	fprintf(out, "applied: generation %u, %u VPC%s, %u interface%s", c->tables->generation,
		img->n_vpcs, img->n_vpcs == 1 ? "" : "s", img->n_ifaces, img->n_ifaces == 1 ? "" : "s");
	if (added || removed)
		fprintf(out, ", %u port%s opened, %u closed", added, added == 1 ? "" : "s", removed);
	fprintf(out, "%s\n", c->tables->revalidate ? ", connections revalidated" : "");
	return 0;
}
