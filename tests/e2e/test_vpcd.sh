#!/usr/bin/env bash
# End-to-end: vpcd between real TCP/IP stacks.  Each VM, and the internet,
# is a network namespace on a veth pair; vpcd opens the host sides with
# af_packet.  The checks (checks.sh, shared with test_xdp.sh): ARP against
# the dataplane, ping in a subnet and across subnets, TCP allowed (80) and
# refused (22) by a security group, return traffic with no reverse rule,
# elastic-IP traffic to and from the internet (which sees only the elastic
# IP), UDP, and two VPCs with the same CIDR that cannot reach each other.
# Then, live: vpcctl stats and conntrack; an apply that removes the rule of
# an open TCP connection (it survives, a new one is refused); 100 applies
# while a UDP stream flows, not one of its packets lost; applies that add
# and remove an interface (its port opened and closed); a deleted port.
# Here: vpcd keeps running without the port, and stops cleanly on SIGINT
# (exit status 0: a sanitizer's report at exit fails the test).  Flow
# logs (--flow-logs, interval 10 s): a live TCP connection to port 80 is
# written while vpcd runs (ACCEPT), the refused one to 22 as REJECT.
# usage: test_vpcd.sh VPCD VPCCTL SOURCE_ROOT [LCORES]   (root; cleans up after itself)
# LCORES: the EAL core list for vpcd (default 0); with 0-1 the ports are
# dealt to two lcores and the directions of a connection cross them.
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
lcores=${4:-0}
here="$src/tests/e2e"
topo="$here/topo-vpcd.yaml"
tmp=""
. "$here/checks.sh"

# (bounded: a control socket that stops answering fails a check, not the
# whole test by meson's timeout)
vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }

cleanup() {
	e2e_cleanup_net
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpcd-e2e-XXXXXX)
log=$tmp/vpcd.log
sock=$tmp/vpcd.sock

e2e_hosts

flows=$tmp/flow-logs.txt
daemon_start vpcd "$log" "$vpcd" --config "$topo" --socket "$sock" --flow-logs "$flows" \
	--flow-log-interval 10 -- --no-huge -m 512 --no-shconf \
	--file-prefix=e2e-vpcd -l "$lcores" --log-level=error
vpcd_ready() { grep -q "forwarding" "$log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1

e2e_checks

daemon_running vpcd && ok "vpcd keeps running without the port" || fail "vpcd died with a port"

# AWS's version 2 fields: ... srcport dstport protocol packets bytes start end action log-status
flow_record() { # DPORT ACTION
	awk -v p="$1" -v a="$2" '$1 == 2 && $7 == p && $8 == 6 && $9 > 0 && $13 == a && $14 == "OK" { f = 1 } END { exit !f }' "$flows" 2>/dev/null
}
wait_for 30 "a flow-log record of TCP to port 80" flow_record 80 ACCEPT &&
	ok "flow logs: the connection to port 80 is written while vpcd runs (ACCEPT)" ||
	fail "flow logs: an ACCEPT record to port 80" "$(tail -n 5 "$flows" 2>/dev/null)"

daemon_stop vpcd INT 0 && ok "SIGINT: vpcd exits with status 0"
grep -q "vpcd: stopped after" "$log" && ok "SIGINT: clean stop with final counters" || fail "clean stop" "$(tail -n 25 "$log")"
grep -q "drop sg-denied" "$log" && ok "the refused connection is counted under sg-denied" || fail "sg-denied counted" "$(tail -n 25 "$log")"
flow_record 22 REJECT && ok "flow logs: the refused connection to port 22 is a REJECT record" ||
	fail "flow logs: a REJECT record to port 22" "$(grep -c . "$flows" 2>/dev/null) records"

e2e_summary
