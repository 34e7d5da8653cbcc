/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lb_health.c -- the load balancers' health checker (vpc_lb_health.h).
 */
#include "vpc_lb_health.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#define NS 1000000000ull

static const char *const state_names[VPC_LB_TS_COUNT] = {
	"initial", "healthy", "unhealthy", "draining",
};

const char *
vpc_lb_target_state_name(unsigned int s)
{
	return s < VPC_LB_TS_COUNT ? state_names[s] : "?";
}

/* Who a target is, across applies: balancer, group, interface, port. */
#define ID_SIZE (4 * VPC_NAME_SIZE + 8)

struct hc_target {
	char id[ID_SIZE];
	uint32_t tgroup;
	uint32_t member;	/* its bit in the group's mask */
	uint32_t iface;
	uint32_t vpc;
	uint32_t ip;		/* network order */
	uint16_t port, hc_port;	/* network order */
	uint32_t gateway;	/* its subnet's router address */
	uint8_t mac[6], router_mac[6];
	uint64_t interval, timeout, dereg;	/* ns */
	uint8_t healthy_th, unhealthy_th;
	struct vpc_lb_target_status st;
	bool outstanding;	/* a probe awaits its result */
	bool drained;
	uint32_t token;
	uint32_t n;		/* probes sent, for the token */
	uint64_t sent_at, next_at;	/* next_at 0: at the first tick */
	uint64_t drain_at;	/* 0: nothing to drain */
};

struct hc_removed {
	uint32_t vpc, ip;
	uint16_t port;
	uint64_t delay;		/* ns */
	uint64_t at;		/* 0: set at the next tick */
};

struct vpc_lb_hc {
	uint32_t n;
	struct hc_target *t;
	uint32_t n_groups;
	uint64_t *mask;		/* [tgroup]: published */
	uint32_t n_removed;
	struct hc_removed *removed;
};

static void
target_id(const struct vpc_image *img, uint32_t k, char *out)
{
	const struct vpc_image_target *x = &img->targets[k];
	const struct vpc_image_tgroup *g = &img->tgroups[x->tgroup];

	snprintf(out, ID_SIZE, "%s/%s/%s/%u", img->lbs[g->lb].name, g->name,
		 img->ifaces[x->iface].name, (unsigned)x->port);
}

static const struct hc_target *
find_old(const struct vpc_lb_hc *old, const char *id)
{
	for (uint32_t i = 0; old != NULL && i < old->n; i++)
		if (strcmp(old->t[i].id, id) == 0)
			return &old->t[i];
	return NULL;
}

struct vpc_lb_hc *
vpc_lb_hc_create(const struct vpc_image *img, const struct vpc_lb_hc *old)
{
	struct vpc_lb_hc *hc = calloc(1, sizeof(*hc));

	if (hc == NULL)
		return NULL;
	hc->n = img->n_targets;
	hc->n_groups = img->n_tgroups;
	hc->t = calloc(img->n_targets + 1, sizeof(*hc->t));
	hc->mask = calloc(img->n_tgroups + 1, sizeof(*hc->mask));
	if (hc->t == NULL || hc->mask == NULL)
		goto nomem;
	for (uint32_t k = 0; k < img->n_targets; k++) {
		const struct vpc_image_target *x = &img->targets[k];
		const struct vpc_image_tgroup *g = &img->tgroups[x->tgroup];
		const struct vpc_image_iface *f = &img->ifaces[x->iface];
		struct hc_target *t = &hc->t[k];
		target_id(img, k, t->id);
		t->tgroup = x->tgroup;
		t->member = k - g->first_target;
		t->iface = x->iface;
		t->vpc = f->vpc;
		t->ip = f->ip;
		t->port = x->port;
		t->hc_port = x->hc_port;
		t->gateway = img->subnets[f->subnet].gateway_ip;
		memcpy(t->mac, f->mac, 6);
		memcpy(t->router_mac, img->vpcs[f->vpc].router_mac, 6);
		t->interval = (uint64_t)g->hc_interval * NS;
		t->timeout = (uint64_t)g->hc_timeout * NS;
		t->dereg = (uint64_t)g->dereg_delay * NS;
		t->healthy_th = g->hc_healthy;
		t->unhealthy_th = g->hc_unhealthy;
		const struct hc_target *o = find_old(old, t->id);
		if (o != NULL) {
			t->st = o->st;
			t->outstanding = o->outstanding;
			t->drained = o->drained;
			t->n = o->n;
			t->token = o->token;
			t->sent_at = o->sent_at;
			t->next_at = o->next_at;
			t->drain_at = o->drain_at;
			/* Its probe's answer is recorded under its old index:
			 * the token names that one.  Ask again. */
			if (t->outstanding && VPC_LB_HC_TARGET(t->token) != k) {
				t->outstanding = false;
				t->next_at = 0;
			}
		}
		if (t->st.state == VPC_LB_TS_HEALTHY && t->member < 64)
			hc->mask[t->tgroup] |= 1ull << t->member;
	}
	/* What old had and img has not drains; so does what old was
	 * draining still. */
	uint32_t cap = 0;
	if (old != NULL)
		cap = old->n + old->n_removed;
	hc->removed = calloc(cap + 1, sizeof(*hc->removed));
	if (hc->removed == NULL)
		goto nomem;
	for (uint32_t i = 0; old != NULL && i < old->n_removed; i++)
		hc->removed[hc->n_removed++] = old->removed[i];
	for (uint32_t i = 0; old != NULL && i < old->n; i++) {
		const struct hc_target *o = &old->t[i];
		bool kept = false;
		for (uint32_t k = 0; k < hc->n && !kept; k++)
			kept = strcmp(hc->t[k].id, o->id) == 0;
		if (!kept && !o->drained)
			hc->removed[hc->n_removed++] = (struct hc_removed){
				.vpc = o->vpc, .ip = o->ip, .port = o->port, .delay = o->dereg };
	}
	return hc;
nomem:
	vpc_lb_hc_free(hc);
	errno = ENOMEM;
	return NULL;
}

void
vpc_lb_hc_free(struct vpc_lb_hc *hc)
{
	if (hc == NULL)
		return;
	free(hc->t);
	free(hc->mask);
	free(hc->removed);
	free(hc);
}

uint64_t
vpc_lb_hc_mask(const struct vpc_lb_hc *hc, uint32_t g)
{
	return g < hc->n_groups ? hc->mask[g] : 0;
}

static void
set_state(struct hc_target *t, uint8_t s, uint64_t now)
{
	t->st.state = s;
	t->st.since = now;
	t->drained = false;
	/* Unhealthy: its connections go on for the deregistration delay. */
	t->drain_at = s == VPC_LB_TS_UNHEALTHY ? now + t->dereg : 0;
}

/* A probe's result: success, or failure of kind last (2 reset, 3 timeout). */
static void
result(struct hc_target *t, bool ok, uint8_t last, uint64_t now)
{
	t->outstanding = false;
	t->st.last = last;
	if (ok) {
		t->st.fail_run = 0;
		if (t->st.ok_run < UINT8_MAX)
			t->st.ok_run++;
		if (t->st.state != VPC_LB_TS_HEALTHY && t->st.ok_run >= t->healthy_th)
			set_state(t, VPC_LB_TS_HEALTHY, now);
	} else {
		t->st.ok_run = 0;
		if (t->st.fail_run < UINT8_MAX)
			t->st.fail_run++;
		if (t->st.state != VPC_LB_TS_UNHEALTHY && t->st.fail_run >= t->unhealthy_th)
			set_state(t, VPC_LB_TS_UNHEALTHY, now);
	}
}

static inline uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
vpc_lb_hc_tick(struct vpc_lb_hc *hc, uint64_t now, const struct vpc_lb_hc_io *io)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t k = 0; k < hc->n; k++) {
		struct hc_target *t = &hc->t[k];
		if (t->outstanding) {
			struct vpc_lb_answer a = { 0 };
			io->answer(io->arg, k, &a);
			if (a.token == t->token && a.kind == VPC_LB_ANS_SYNACK)
				result(t, true, 1, now);
			else if (a.token == t->token && a.kind == VPC_LB_ANS_RST)
				result(t, false, 2, now);
			else if (now >= t->sent_at + t->timeout)
				result(t, false, 3, now);
		}
		if (!t->outstanding && now >= t->next_at) {
			uint8_t f[VPC_LB_PROBE_LEN];
			t->token = VPC_LB_HC_TOKEN(k, ++t->n);
			vpc_lb_probe_frame(f, t->router_mac, t->mac, t->gateway, t->ip,
					   VPC_LB_HC_SPORT(k), t->hc_port, t->token);
			io->send(io->arg, t->iface, f, sizeof(f), now);
			t->outstanding = true;
			t->sent_at = now;
			t->next_at = now + t->interval;
			t->st.probes++;
		}
		if (t->outstanding)
			next = min64(next, t->sent_at + t->timeout);
		next = min64(next, t->next_at);
	}
	/* The masks, then what is due to drain (a target whose group has a
	 * healthy member: fail-open keeps the others' connections too). */
	for (uint32_t k = 0; k < hc->n; k++) {
		struct hc_target *t = &hc->t[k];
		uint64_t bit = t->member < 64 ? 1ull << t->member : 0;
		if (t->st.state == VPC_LB_TS_HEALTHY)
			hc->mask[t->tgroup] |= bit;
		else
			hc->mask[t->tgroup] &= ~bit;
	}
	for (uint32_t g = 0; g < hc->n_groups; g++)
		io->healthy(io->arg, g, hc->mask[g]);
	for (uint32_t k = 0; k < hc->n; k++) {
		struct hc_target *t = &hc->t[k];
		if (t->drain_at == 0 || t->drained || t->st.state != VPC_LB_TS_UNHEALTHY)
			continue;
		if (now < t->drain_at) {
			next = min64(next, t->drain_at);
			continue;
		}
		if (hc->mask[t->tgroup] == 0)
			continue;	/* fail-open: every target serves */
		if (io->drain != NULL)
			io->drain(io->arg, t->vpc, t->ip, t->port);
		t->drained = true;
	}
	for (uint32_t i = 0; i < hc->n_removed;) {
		struct hc_removed *r = &hc->removed[i];
		if (r->at == 0)
			r->at = now + r->delay;
		if (now < r->at) {
			next = min64(next, r->at);
			i++;
			continue;
		}
		if (io->drain != NULL)
			io->drain(io->arg, r->vpc, r->ip, r->port);
		*r = hc->removed[--hc->n_removed];
	}
	return next;
}

void
vpc_lb_hc_status(const struct vpc_lb_hc *hc, uint32_t k, struct vpc_lb_target_status *out)
{
	if (k >= hc->n) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = hc->t[k].st;
}

void
vpc_lb_hc_report(FILE *out, const struct vpc_image *img, const struct vpc_lb_hc *hc,
		 uint64_t probes_lost, bool json)
{
	static const char *const last[] = { "none", "success", "reset", "timeout" };
	bool first = true;

	if (json)
		fprintf(out, "{\"load_balancers\":[");
	for (uint32_t b = 0; b < img->n_lbs; b++) {
		const struct vpc_image_lb *lb = &img->lbs[b];
		if (json)
			fprintf(out, "%s{\"name\":\"%s\",\"vpc\":\"%s\",\"target_groups\":[",
				b ? "," : "", lb->name, img->vpcs[lb->vpc].name);
		else
			fprintf(out, "load balancer %s (VPC %s)\n", lb->name, img->vpcs[lb->vpc].name);
		for (uint32_t g = lb->first_tgroup; g < lb->first_tgroup + lb->n_tgroups; g++) {
			const struct vpc_image_tgroup *tg = &img->tgroups[g];
			if (json)
				fprintf(out, "%s{\"name\":\"%s\",\"targets\":[", g > lb->first_tgroup ? "," : "",
					tg->name);
			else
				fprintf(out, "  target group %s\n", tg->name);
			for (uint32_t k = tg->first_target; k < tg->first_target + tg->n_targets; k++) {
				const struct vpc_image_target *x = &img->targets[k];
				struct vpc_lb_target_status s = { 0 };
				if (hc != NULL)
					vpc_lb_hc_status(hc, k, &s);
				if (json)
					fprintf(out, "%s{\"interface\":\"%s\",\"port\":%u,\"state\":\"%s\","
						"\"successes\":%u,\"failures\":%u,\"last\":\"%s\",\"probes\":%"
						PRIu64 "}", k > tg->first_target ? "," : "",
						img->ifaces[x->iface].name, ntohs(x->port),
						vpc_lb_target_state_name(s.state), s.ok_run, s.fail_run,
						last[s.last & 3], s.probes);
				else
					fprintf(out, "    %-20s port %-5u %-9s (%u ok, %u failed in a row; "
						"last %s; %" PRIu64 " probes)\n",
						img->ifaces[x->iface].name, ntohs(x->port),
						vpc_lb_target_state_name(s.state), s.ok_run, s.fail_run,
						last[s.last & 3], s.probes);
			}
			if (json)
				fprintf(out, "]}");
		}
		if (json)
			fprintf(out, "]}");
		first = false;
	}
	if (json)
		fprintf(out, "],\"probes_lost\":%" PRIu64 "}\n", probes_lost);
	else if (first)
		fprintf(out, "no load balancers\n");
}
