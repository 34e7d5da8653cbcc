/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_nacl.h -- network ACLs: does a packet pass the stateless rules of
 * the subnet it leaves (egress) and of the subnet it enters (ingress)?
 * The evaluation is common/vpc_nacl.h's, shared with the DPDK engine.
 *
 * Reads: the packet record and addresses, the ingress and egress ports'
 *        records (subnet, ACL), the ACL lists' map.
 * Sets:  nothing: allowed, or the drop reason.
 * Next:  the fast path: TCP tracking and apply; the slow path: the
 *        security groups and open, or apply.  A drop: nacl-egress,
 *        nacl-ingress.
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_nacl.h.
 */
#ifndef VPC_XDP_STAGE_NACL_H
#define VPC_XDP_STAGE_NACL_H

/* Does list `list` of table set `set` allow it?  key: nacl_meta()'s.  A
 * global function: verified once, on its own (its loop of
 * VPC_NACL_MAX_RULES). */
__attribute__((noinline)) int
nacl_list_allows(__u32 set, __u32 list, __u32 proto, __u32 remote, __u32 key)
{
	void *lists = inner(&set_nacls, set);
	if (lists == NULL)
		return 0;
	const struct vpc_nacl_list *l = bpf_map_lookup_elem(lists, &list);
	if (l == NULL)
		return 0;
	if (proto == IPPROTO_ICMP)
		return vpc_nacl_allows(l, (__u8)proto, remote, 0, (__u8)(key >> 8), (__u8)key);
	return vpc_nacl_allows(l, (__u8)proto, remote, (__u16)key, 0, 0);
}

/* Has either side of a packet from port pi to port po an ACL?  Not one
 * to another host (tunnel): the receiving host applies both subnets'
 * (dataplane/stage_nacl.h). */
static __always_inline int
nacl_any(const struct vpc_xdp_port *pi, const struct vpc_xdp_port *po, __u16 tunnel)
{
	return tunnel == 0 && (pi->nacl | po->nacl) != VPC_NACL_DEFAULT;
}

/*
 * The ACLs' verdict on a packet from slot in to slot out: a drop reason,
 * or VPC_DROP_NONE.  meta: set << 31 | protocol << 16 | the key (tcp,
 * udp: the destination port; icmp: type << 8 | code).  A global
 * function, verified once: the callers keep five scalars on their
 * stacks, not its locals (the slow program's stack is nearly full).
 */
__attribute__((noinline)) int
nacl_verdict(__u32 in, __u32 out, __u32 meta, __u32 saddr, __u32 daddr)
{
	__u32 set = meta >> 31, proto = (meta >> 16) & 0xff, key = meta & 0xffff;
	__u32 egress, ingress;

	void *pm = inner(&set_ports, set);
	void *rm = inner(&set_rports, set);
	if (pm == NULL || rm == NULL)
		return VPC_DROP_ENGINE;
	/* in: a slot, or (top bit) the sender's rport of a frame from the
	 * overlay (nacl_in) */
	__u32 rin = in & 0x7fffffff;
	const struct vpc_xdp_port *pi = bpf_map_lookup_elem(in >> 31 ? rm : pm, &rin);
	const struct vpc_xdp_port *po = bpf_map_lookup_elem(pm, &out);
	if (pi == NULL || po == NULL)
		return VPC_DROP_ENGINE;
	vpc_nacl_lists(pi->nacl, pi->subnet, po->nacl, po->subnet, &egress, &ingress);
	if (egress != VPC_NACL_NO_LIST && !nacl_list_allows(set, egress, proto, daddr, key))
		return VPC_DROP_NACL_EGRESS;
	if (ingress != VPC_NACL_NO_LIST && !nacl_list_allows(set, ingress, proto, saddr, key))
		return VPC_DROP_NACL_INGRESS;
	return VPC_DROP_NONE;
}

/*
 * Through a NAT gateway (vpc_natgw_nacl_steps): the gateway's subnet is
 * crossed too.  in: what the caller knows, in the slow program's scratch
 * (a global function takes one pointer; its stack is nearly full).  The
 * fast path leaves such packets to the slow program when an ACL is
 * anywhere on their way (bpf/README.md).
 */
struct natgw_nacl_in {
	__u32 set, egress;
	__u32 slot;		/* the interface's port (egress: in; ingress: out) */
	__u32 meta;		/* nacl_meta() */
	__be32 saddr, daddr;
	__be32 eip;		/* the gateway's elastic IP */
	__be32 nat_addr;	/* ingress: the interface's address */
	__u32 nat_key;		/* ingress: its port as nacl_meta's key */
};

__attribute__((noinline)) int
nacl_verdict_natgw(const struct natgw_nacl_in *in)
{
	if (in == NULL)
		return VPC_DROP_ENGINE;
	__u32 set = in->set & 1, proto = (in->meta >> 16) & 0xff, key = in->meta & 0xffff;
	__u32 slot = in->slot;
	__be32 eip = in->eip;
	void *pm = inner(&set_ports, set);
	void *em = inner(&set_eips, set);
	void *gm = inner(&set_natgws, set);
	if (pm == NULL || em == NULL || gm == NULL)
		return VPC_DROP_ENGINE;
	const struct vpc_xdp_port *x = bpf_map_lookup_elem(pm, &slot);
	__u32 *gp = bpf_map_lookup_elem(em, &eip);
	if (x == NULL || gp == NULL)
		return VPC_DROP_ENGINE;
	__u32 gi = *gp & ~VPC_EIP_NATGW;
	const struct vpc_natgw_rec *g = bpf_map_lookup_elem(gm, &gi);
	if (g == NULL)
		return VPC_DROP_ENGINE;
	struct vpc_nacl_step s[3];
	vpc_natgw_nacl_steps(in->egress != 0, x->nacl, x->subnet, g->nacl, g->subnet, s);
	for (int i = 0; i < 3; i++) {
		if (s[i].list == VPC_NACL_NO_LIST)
			continue;
		__u32 remote = s[i].remote_src ? in->saddr : s[i].translated ? in->nat_addr : in->daddr;
		__u32 k = s[i].translated && proto != IPPROTO_ICMP ? in->nat_key : key;
		if (!nacl_list_allows(set, s[i].list, proto, remote, k))
			return s[i].reason;
	}
	return VPC_DROP_NONE;
}

/*
 * Through a load balancer the receiver's subnet sees the translated
 * packet: to the target's port (path lb), from the listener's address
 * (lb-reply); the sender's sees it as sent (dataplane/stage_nacl.h).
 */
struct lb_nacl_in {
	__u32 in, out;		/* nacl_verdict()'s */
	__u32 meta;		/* nacl_meta() */
	__be32 daddr;		/* the egress side's remote */
	__be32 isrc;		/* the ingress side's remote */
	__u32 ikey;		/* the ingress side's key */
};

__attribute__((noinline)) int
nacl_verdict_lb(const struct lb_nacl_in *x)
{
	if (x == NULL)
		return VPC_DROP_ENGINE;
	__u32 set = x->meta >> 31, proto = (x->meta >> 16) & 0xff, key = x->meta & 0xffff;
	__u32 egress, ingress;
	void *pm = inner(&set_ports, set);
	if (pm == NULL)
		return VPC_DROP_ENGINE;
	__u32 in = x->in & 0x7fffffff, out = x->out;
	const struct vpc_xdp_port *pi = bpf_map_lookup_elem(pm, &in);
	const struct vpc_xdp_port *po = bpf_map_lookup_elem(pm, &out);
	if (pi == NULL || po == NULL)
		return VPC_DROP_ENGINE;
	vpc_nacl_lists(pi->nacl, pi->subnet, po->nacl, po->subnet, &egress, &ingress);
	if (egress != VPC_NACL_NO_LIST && !nacl_list_allows(set, egress, proto, x->daddr, key))
		return VPC_DROP_NACL_EGRESS;
	if (ingress != VPC_NACL_NO_LIST &&
	    !nacl_list_allows(set, ingress, proto, x->isrc, x->ikey))
		return VPC_DROP_NACL_INGRESS;
	return VPC_DROP_NONE;
}

static __always_inline int
lb_path(__u8 path)
{
	return path == VPC_PATH_LB || path == VPC_PATH_LB_REPLY;
}

static __always_inline int
natgw_path(__u8 path)
{
	return path == VPC_PATH_NATGW_EGRESS || path == VPC_PATH_NATGW_INGRESS;
}

/* nacl_verdict()'s `in` for a packet from port pi (slot): the slot, or
 * for a frame from the overlay its sender's rport. */
static __always_inline __u32
nacl_in(__u32 slot, const struct vpc_xdp_port *pi)
{
	return pi->fi.tunnel ? 0x80000000u | pi->iface : slot;
}

/* nacl_verdict()'s meta for packet m under table set `set`. */
static __always_inline __u32
nacl_meta(__u32 set, const struct vpc_pkt *m)
{
	__u32 key = m->proto == IPPROTO_ICMP ? (__u32)m->icmp_type << 8 | m->icmp_code
					     : vpc_nacl_dport(m->proto, m->dport);
	return set << 31 | (__u32)m->proto << 16 | key;
}

#endif /* VPC_XDP_STAGE_NACL_H */
