#!/usr/bin/env bash
# End-to-end: vpcd's network load balancers between real TCP/IP stacks
# (topo-vpcd-lb.yaml: the namespaces of topo-vpcd.yaml on veths,
# af_packet).  vm2 and vm3 serve TCP 8080 behind an internal balancer
# (10.50.2.100:80) and an internet-facing one (198.51.100.60:80); vpcd's
# own TCP health checks (every 5 s, two in a row decide) make both
# healthy; vm1's connections to the internal listener spread over both,
# each seeing vm1's own address (the client's address is kept), and vm3's
# answers to vm1, in vm3's subnet, come back switched; the internet
# reaches the other listener through its elastic IP.  vm3's server
# stopped, its health checks fail and it gets no new connections.  About
# 30 s.
# usage: test_vpcd_lb.sh VPCD VPCCTL SOURCE_ROOT   (root; cleans up after itself)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
here="$src/tests/e2e"
tmp=""
. "$here/checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }

cleanup() {
	e2e_cleanup_net
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpcd-lb-XXXXXX)
log=$tmp/vpcd.log
sock=$tmp/vpcd.sock

e2e_hosts
ip netns exec e2e-inet ip route add 198.51.100.60/32 dev eth0

serve_tcp vm2 8080 && serve_tcp vm3 8080 || fail "target servers"

daemon_start vpcd "$log" "$vpcd" --config "$here/topo-vpcd-lb.yaml" --socket "$sock" -- \
	--no-huge -m 512 --no-shconf --file-prefix=e2e-lb -l 0 --log-level=error
vpcd_ready() { grep -q "forwarding" "$log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1

# states LB GROUP: "IFACE=STATE ..." from vpcctl lb --json
states() {
	vctl lb --json | python3 -c '
import json, sys
lbs = {l["name"]: l for l in json.load(sys.stdin)["load_balancers"]}
g = [g for g in lbs[sys.argv[1]]["target_groups"] if g["name"] == sys.argv[2]][0]
print(" ".join("%s=%s" % (t["interface"], t["state"]) for t in g["targets"]))' "$1" "$2"
}
# Two results in a row at 5 s intervals: healthy within 15 s.
both_healthy() { [ "$(states ilb app)" = "vm2=healthy vm3=healthy" ] &&
	[ "$(states elb app)" = "vm2=healthy vm3=healthy" ]; }
wait_for 25 "both targets of both balancers healthy" both_healthy &&
	ok "vpcd's health checks: both targets healthy ($(states ilb app))" ||
	fail "health checks" "$(vctl lb)"
out=$(vctl stats | grep "load balancer targets")
[ "$out" = "  load balancer targets: 4 healthy, 0 unhealthy, 0 initial, 0 draining (vpcctl lb)" ] &&
	ok "vpcctl stats counts the targets by health" || fail "stats" "$out"

# connect_many NS ADDR N: N connections, one greeting per line
connect_many() {
	in_ns "$1" python3 -c '
import socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect((sys.argv[1], 80)); print(s.recv(200).decode().strip())
    except OSError as e:
        print("error: %s" % e)
    s.close()
' "$2" "$3"
}

out=$(connect_many vm1 10.50.2.100 16)
n_vm2=$(grep -c "^hello from vm2, you are 10.50.1.10$" <<<"$out")
n_vm3=$(grep -c "^hello from vm3, you are 10.50.1.10$" <<<"$out")
[ $((n_vm2 + n_vm3)) -eq 16 ] && ok "16 connections to the internal listener, the client's address kept" ||
	fail "internal listener" "$out"
[ "$n_vm2" -ge 1 ] && [ "$n_vm3" -ge 1 ] &&
	ok "spread over both targets ($n_vm2 to vm2, $n_vm3 to vm3: vm3's replies switched in subnet a)" ||
	fail "spread" "vm2 $n_vm2, vm3 $n_vm3"

vctl conntrack list | grep -q "10.50.1.10:[0-9]* -> 10.50.2.100:80 via load balancer to 10.50.2.10:8080 " &&
	ok "conntrack list names a connection's target" || fail "conntrack list" "$(vctl conntrack list | head -5)"

out=$(connect_many inet 198.51.100.60 4)
[ "$(grep -c "^hello from vm[23], you are 203.0.113.1$" <<<"$out")" -eq 4 ] &&
	[ "$(grep -c "^hello from vm2" <<<"$out")" -eq 2 ] &&
	ok "the internet reaches the internet-facing listener, round robin over both" ||
	fail "internet-facing listener" "$out"

stop_servers vm3
vm3_down() { [ "$(states ilb app)" = "vm2=healthy vm3=unhealthy" ]; }
wait_for 25 "vm3 unhealthy once its server stopped" vm3_down &&
	ok "vm3's server stopped: unhealthy ($(states ilb app))" || fail "unhealthy" "$(vctl lb)"
out=$(connect_many vm1 10.50.2.100 8)
[ "$(grep -c "^hello from vm2, you are 10.50.1.10$" <<<"$out")" -eq 8 ] &&
	ok "every new connection goes to the healthy target" || fail "after vm3 down" "$out"

stop_servers vm2
daemon_stop vpcd INT 0 && ok "SIGINT: vpcd exits with status 0"
e2e_summary
