/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_sg.h -- security groups: does a connection pass the sender's egress and the
 * receiver's ingress rules (the classifiers' array maps)?
 *
 * Reads: meta, the decision, the classifier maps.
 * Sets:  nothing: allowed or not.
 * Next:  open (stage_open.h), or a drop (sg-denied, icmp-unrelated).
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_sg.h.
 */
#ifndef VPC_XDP_STAGE_SG_H
#define VPC_XDP_STAGE_SG_H

/* Does node nd's list (intervals or ICMP matches) match?  A global
 * function: verified once, on its own. */
__attribute__((noinline)) int
sg_node_match(__u32 set_kind, __u32 first, __u32 n, __u32 key)
{
	__u32 set = set_kind >> 8, kind = set_kind & 0xff;

	if (kind == VPC_SGT_ICMP) {
		void *icmps = inner(&set_sg_icmps, set);
		if (icmps == NULL)
			return 0;
		for (__u32 i = 0; i < VPC_SG_MAX_ICMPS; i++) {
			if (i >= n)
				break;
			__u32 at = first + i;
			struct vpc_sg_icmp *im = bpf_map_lookup_elem(icmps, &at);
			if (im == NULL)
				return 0;
			if ((!im->has_type || im->type == (key >> 8)) &&
			    (!im->has_code || im->code == (key & 0xff)))
				return 1;
		}
		return 0;
	}
	void *ivs = inner(&set_sg_intervals, set);
	if (ivs == NULL)
		return 0;
	__u32 lo = first, hi = first + n;
	for (int i = 0; i < VPC_SG_MAX_BSEARCH; i++) {
		if (lo >= hi)
			break;
		__u32 mid = (lo + hi) / 2;
		struct vpc_sg_interval *iv = bpf_map_lookup_elem(ivs, &mid);
		if (iv == NULL)
			return 0;
		if (key < iv->lo)
			hi = mid;
		else if (key > iv->hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* Walk one trie along the peer's bits (host order).  set_kind and key
 * travel packed in one register (set_kind << 16 | key: a key is 16 bits):
 * fewer values live across the call to sg_node_match() keep this frame
 * at 32 bytes -- Debian 12's verifier rounds each frame of a call chain
 * up to 32 and refused the slow program's deepest chain (the program,
 * this, sg_class_allows, sg_node_match) at 544 bytes when it was 40. */
__attribute__((noinline)) int
sg_trie_allows(__u32 set_kind, __u32 root, __u32 peer, __u32 key)
{
	void *nodes = inner(&set_sg_nodes, set_kind >> 8);
	__u32 sk_key = set_kind << 16 | (key & 0xffff);
	__u32 n = root;

	if (nodes == NULL)
		return 0;
	for (int d = 0; d < VPC_SG_MAX_DEPTH; d++) {
		if (n == 0)
			return 0;
		struct vpc_sg_node *nd = bpf_map_lookup_elem(nodes, &n);
		if (nd == NULL)
			return 0;
		if (nd->all)
			return 1;
		/* the next node first: nd is not needed after the call */
		n = d == 32 ? 0 : nd->child[(peer >> (31 - d)) & 1];
		if (nd->n && sg_node_match(sk_key >> 16, nd->first, nd->n, sk_key & 0xffff))
			return 1;
	}
	return 0;
}

/* Does classifier cls allow it?  peer in network order; port in host
 * order. */
__attribute__((noinline)) int
sg_class_allows(__u32 set, __u32 cls, __u32 proto, __u32 peer_be, __u32 key)
{
	void *classes = inner(&set_sg_classes, set);
	if (classes == NULL)
		return 0;
	struct vpc_sg_class *c = bpf_map_lookup_elem(classes, &cls);
	if (c == NULL)
		return 0;
	__u32 peer = bpf_ntohl(peer_be);
	if (c->root[VPC_SGT_ANY] &&
	    sg_trie_allows(set << 8 | VPC_SGT_ANY, c->root[VPC_SGT_ANY], peer, 0))
		return 1;
	__u32 kind, root;
	switch (proto) {
	case IPPROTO_TCP:
		kind = VPC_SGT_TCP;
		break;
	case IPPROTO_UDP:
		kind = VPC_SGT_UDP;
		break;
	case IPPROTO_ICMP:
		kind = VPC_SGT_ICMP;
		break;
	default:
		kind = VPC_SGT_OTHER;
		key = proto;
		break;
	}
	root = c->root[kind];
	return root && sg_trie_allows(set << 8 | kind, root, peer, key);
}

/*
 * The rules for the connection a packet belongs to, seen from the packet:
 * dir 0, its own direction; dir 1, the roles swap.
 */
static __always_inline int
sg_allows_packet(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
		 __be32 saddr, __be32 daddr, const struct decision *d, int dir)
{
	__u32 here = pi->is_uplink ? VPC_INDEX_NONE : pi->iface;
	__u32 sender = dir == 0 ? here : d->receiver;
	__u32 receiver = dir == 0 ? d->receiver : here;
	__be32 egress_peer = dir == 0 ? daddr : saddr;
	__be32 ingress_peer = dir == 0 ? saddr : daddr;
	__u16 port = bpf_ntohs(dir == 0 ? m->dport : m->sport);
	__u8 type = dir == 0 ? m->icmp_type : vpc_icmp_peer_type(m->icmp_type);
	/* the key: the port, or for ICMP type << 8 | code */
	__u32 key = m->proto == IPPROTO_ICMP ? (__u32)type << 8 | m->icmp_code : port;
	__u32 ikey = key;

	/* Through a load balancer: its own groups see the packet as it
	 * reaches the listener, the target's the translated one. */
	if (dir == 0 && VPC_UNLIKELY(d->act.path == VPC_PATH_LB)) {
		void *bm = inner(&set_lbs, t->set);
		__u32 bi = d->lb;
		const struct vpc_lb_rec *lb = bm != NULL ? bpf_map_lookup_elem(bm, &bi) : NULL;
		if (lb == NULL)
			return 0;
		if (lb->has_sgs) {
			int ok = sg_class_allows(t->set, lb->sg_class, m->proto, saddr, key);
			VPC_TRACE(VPC_TR_SG, VPC_TR_SG_LB | (ok != 0) << 8, bi, bpf_ntohl(saddr),
				  (__u32)m->proto << 16 | key);
			if (!ok)
				return 0;
		}
		ikey = bpf_ntohs(d->act.nat_port);
	}

	if (sender != VPC_INDEX_NONE) {
		const struct vpc_iface_rec *s = sender == here && !pi->is_uplink ?
						&pi->fi : iface_at(t, sender);
		/* each host applies its own interfaces' rules */
		if (s == NULL)
			return 0;
		if (!s->tunnel) {
			int ok = sg_class_allows(t->set, s->sg_class[VPC_DIR_EGRESS], m->proto,
						 egress_peer, key);
			VPC_TRACE(VPC_TR_SG, VPC_TR_SG_EGRESS | (ok != 0) << 8, sender,
				  bpf_ntohl(egress_peer), (__u32)m->proto << 16 | key);
			if (!ok)
				return 0;
		}
	}
	if (receiver != VPC_INDEX_NONE) {
		const struct vpc_iface_rec *r = receiver == here && !pi->is_uplink ?
						&pi->fi : iface_at(t, receiver);
		if (r == NULL)
			return 0;
		if (!r->tunnel) {
			int ok = sg_class_allows(t->set, r->sg_class[VPC_DIR_INGRESS], m->proto,
						 ingress_peer, ikey);
			VPC_TRACE(VPC_TR_SG, VPC_TR_SG_INGRESS | (ok != 0) << 8, receiver,
				  bpf_ntohl(ingress_peer), (__u32)m->proto << 16 | ikey);
			if (!ok)
				return 0;
		}
	}
	return 1;
}

#endif /* VPC_XDP_STAGE_SG_H */
