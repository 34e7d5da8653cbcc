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
# Here: vpcd keeps running without the port, and stops cleanly on SIGINT.
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
log=$(mktemp)
sock=$(mktemp -u /tmp/vpcd-e2e-XXXXXX.sock)
pid=""
. "$here/checks.sh"

vctl() { "$vpcctl" "$@" --socket "$sock"; }

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	e2e_cleanup_net
	rm -f "$log" "$sock"
}
trap cleanup EXIT

e2e_need_root
cleanup 2>/dev/null; trap cleanup EXIT

e2e_hosts

"$vpcd" --config "$topo" --socket "$sock" -- --no-huge -m 512 --no-shconf --file-prefix=e2e-vpcd \
	-l "$lcores" --log-level=error >"$log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	grep -q "forwarding" "$log" && break
	sleep 0.1
done
if ! grep -q "forwarding" "$log"; then
	echo "not ok - vpcd did not start"; cat "$log"; exit 1
fi

e2e_checks

kill -0 "$pid" 2>/dev/null && ok "vpcd keeps running without the port" || fail "vpcd died with a port"

kill -INT "$pid"; wait "$pid"; pid=""
grep -q "vpcd: stopped after" "$log" && ok "SIGINT: clean stop with final counters" || fail "clean stop" "$(cat "$log")"
grep -q "drop sg-denied" "$log" && ok "the refused connection is counted under sg-denied" || fail "sg-denied counted" "$(cat "$log")"

e2e_summary
