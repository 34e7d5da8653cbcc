# shellcheck shell=bash disable=SC2154  # here: set by the sourcing script
# Real-traffic checks shared by the end-to-end tests of the two engines
# (test_vpcd.sh: the DPDK daemon; test_xdp.sh: the XDP program), sourced
# by both.  Each VM, and the internet, is a network namespace on a veth
# pair whose host side the engine serves; topo-vpcd.yaml names them.
#
# The sourcing script sets:
#   here    the directory of the topologies (tests/e2e)
#   vpcctl  the vpcctl binary
# and defines:
#   vctl ARGS...   runs vpcctl ARGS with the option that selects its engine
#                  (--socket for vpcd, --instance for XDP)
#   host_extra NS  (optional) engine-specific setup of a namespace's eth0,
#                  run by host after the rest
# then calls, in order: e2e_need_root, e2e_cleanup_net (from its cleanup),
# e2e_hosts, [starts its engine], e2e_checks, [its own checks], e2e_summary.

n_pass=0
n_fail=0

ok() { n_pass=$((n_pass + 1)); echo "ok - $1"; }
fail() { n_fail=$((n_fail + 1)); echo "not ok - $1"; [ $# -gt 1 ] && printf '    %s\n' "${@:2}"; }
in_ns() { local ns=e2e-$1; shift; timeout 20 ip netns exec "$ns" "$@"; }

# Exits 77 (skipped) without root or network namespaces.
e2e_need_root() {
	if [ "$(id -u)" != 0 ] || ! ip netns add e2e-probe 2>/dev/null; then
		echo "SKIP: needs root and network namespaces"
		exit 77
	fi
	ip netns del e2e-probe
}

# Removes the namespaces (and what runs in them) and the host-side links.
e2e_cleanup_net() {
	for ns in vm1 vm2 vm3 vm5 twin1 inet; do
		ip netns pids "e2e-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "e2e-$ns" 2>/dev/null
	done
	for l in e2e-vm1 e2e-vm2 e2e-vm3 e2e-vm5 e2e-twin1 e2e-up; do
		ip link del "$l" 2>/dev/null
	done
}

# vm NAME HOSTIF MAC IP/LEN GATEWAY
host() {
	local ns=e2e-$1 hostif=$2 mac=$3 addr=$4 gw=$5
	ip netns add "$ns"
	ip link add "$hostif" type veth peer name eth0 netns "$ns"
	ip link set "$hostif" up
	ethtool -K "$hostif" tx off rx off >/dev/null 2>&1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link set eth0 address "$mac"
	ip netns exec "$ns" ip link set eth0 up
	# checksums computed in software: frames cross user space (DPDK) or
	# leave the veth as raw frames (XDP in driver mode)
	ip netns exec "$ns" ethtool -K eth0 tx off rx off >/dev/null 2>&1
	ip netns exec "$ns" ip addr add "$addr" dev eth0
	[ -n "$gw" ] && ip netns exec "$ns" ip route add default via "$gw"
	if declare -F host_extra >/dev/null; then host_extra "$ns" || return 1; fi
	return 0
}

# The hosts of topo-vpcd.yaml (vm5 comes later, with topo-vpcd-add.yaml).
e2e_hosts() {
	host vm1 e2e-vm1 02:32:0a:32:01:0a 10.50.1.10/24 10.50.1.1
	host vm2 e2e-vm2 02:32:0a:32:02:0a 10.50.2.10/24 10.50.2.1
	host vm3 e2e-vm3 02:32:0a:32:01:0b 10.50.1.11/24 10.50.1.1
	host twin1 e2e-twin1 02:33:0a:32:01:0c 10.50.1.12/24 10.50.1.1
	host inet e2e-up 02:fe:00:00:00:fe 203.0.113.1/24 ""
	# the internet reaches the elastic IP through the uplink (ARP answered
	# by the dataplane)
	ip netns exec e2e-inet ip route add 198.51.100.50/32 dev eth0
}

# A TCP server in a namespace: answers "hello from NAME, you are PEER".
serve_tcp() { # NS PORT  (in a subshell: no job-control chatter when killed)
	( in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(8); s.settimeout(15)
while True:
    try:
        c, a = s.accept()
    except socket.timeout:
        break
    c.sendall(("hello from %s, you are %s\n" % (sys.argv[1], a[0])).encode()); c.close()
' "$1" "$2" & )
}
# Connect: prints the greeting, or "refused"/"timeout".
connect_tcp() { # NS ADDR PORT
	in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(); s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print(s.recv(200).decode().strip())
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error: %s" % e)
' "$2" "$3"
}
stop_servers() { for ns in "$@"; do ip netns pids "e2e-$ns" | xargs -r kill 2>/dev/null; done; sleep 0.2; }

# The checks, against an engine serving topo-vpcd.yaml at generation 1.
# Checks, with real tools: ARP against the dataplane, ping in a subnet and
# across subnets, TCP allowed (80) and refused (22) by a security group,
# return traffic with no reverse rule, elastic-IP traffic to and from the
# internet (which sees only the elastic IP), UDP, and two VPCs with the
# same CIDR that cannot reach each other.
# Then, live: vpcctl stats and conntrack; an apply that removes the rule of
# an open TCP connection (it survives, a new one is refused); 100 applies
# while a UDP stream flows, not one of its packets lost; applies that add
# and remove an interface (its port opened and closed); a port deleted
# under the engine (e2e-vm3 is gone afterwards).
e2e_checks() {
	local mac got srv n out applied f g i
	serve_tcp vm2 80; serve_tcp vm2 22; serve_tcp inet 8080; serve_tcp vm1 80
	sleep 0.5

	in_ns vm1 ping -c 2 -W 2 -q 10.50.1.11 >/dev/null && ok "ping in a subnet (ARP for a peer, switched)" || fail "ping in a subnet"
	in_ns vm1 ping -c 2 -W 2 -q 10.50.2.10 >/dev/null && ok "ping across subnets (ARP for the gateway, routed)" || fail "ping across subnets"
	mac=$(in_ns vm1 ip neigh show 10.50.1.1 | awk '{print $5}')
	[ "$mac" = "06:00:00:00:32:01" ] && ok "the gateway resolves to the VPC router's MAC" || fail "gateway MAC" "$mac"

	got=$(connect_tcp vm1 10.50.2.10 80)
	[ "$got" = "hello from vm2, you are 10.50.1.10" ] && ok "TCP 80 allowed by the security group, replies with no reverse rule" || fail "TCP 80" "$got"
	got=$(connect_tcp vm1 10.50.2.10 22)
	[ "$got" = "timeout" ] && ok "TCP 22 refused by the security group (connect times out)" || fail "TCP 22" "$got"

	got=$(connect_tcp vm1 203.0.113.1 8080)
	[ "$got" = "hello from inet, you are 198.51.100.50" ] && ok "to the internet: the internet sees only the elastic IP" || fail "egress via elastic IP" "$got"
	got=$(connect_tcp inet 198.51.100.50 80)
	[ "$got" = "hello from vm1, you are 203.0.113.1" ] && ok "from the internet to the elastic IP (port 80 allowed)" || fail "ingress via elastic IP" "$got"
	in_ns inet ping -c 2 -W 2 -q 198.51.100.50 >/dev/null && ok "the internet pings the elastic IP" || fail "ping to the elastic IP"

	( in_ns vm3 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5353)); s.settimeout(5)
d, a = s.recvfrom(100); s.sendto(b"pong:" + d, a); print(a[0], d.decode())' >/tmp/e2e-udp-srv.out 2>&1 & )
	sleep 0.3
	got=$(in_ns vm1 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"ping", ("10.50.1.11", 5353))
try:
    print(s.recvfrom(100)[0].decode())
except socket.timeout:
    print("timeout")')
	sleep 0.2
	srv=$(cat /tmp/e2e-udp-srv.out); rm -f /tmp/e2e-udp-srv.out
	[ "$srv" = "10.50.1.10 ping" ] && [ "$got" = "pong:ping" ] && ok "UDP exchange, reply allowed by state" || fail "UDP" "$srv / $got"

	if in_ns twin1 ping -c 2 -W 1 -q 10.50.1.10 >/dev/null 2>&1 || in_ns twin1 ping -c 1 -W 1 -q 10.50.1.11 >/dev/null 2>&1; then
		fail "two VPCs with the same CIDR are isolated"
	else
		ok "two VPCs with the same CIDR are isolated"
	fi

	# ---- live: stats, conntrack, applies ----
	got=$(vctl stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["generation"], d["ports"]["vm1"]["rx_packets"] > 0, d["drops"]["sg-denied"] > 0, d["connections"]["created"] > 0)')
	[ "$got" = "1 True True True" ] && ok "vpcctl stats --json" || fail "vpcctl stats" "$got"
	n=$(vctl conntrack count --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tracked"] > 0)')
	[ "$n" = "True" ] && ok "vpcctl conntrack count" || fail "conntrack count" "$n"
	vctl conntrack list | grep -q "tcp   vni 50       10.50.1.10:[0-9]* -> 10.50.2.10:80 " &&
		ok "vpcctl conntrack list shows the TCP connection to vm2:80" || fail "conntrack list" "$(vctl conntrack list | head)"

	# An echo server on vm2:80 and a client that keeps its connection open
	# across an apply removing web's rule for port 80.  (The first part's
	# servers go first.)
	stop_servers vm1 vm2 vm3 inet
	( in_ns vm2 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(4); s.settimeout(20)
c, a = s.accept(); c.settimeout(20)
while True:
    d = c.recv(100)
    if not d:
        break
    c.sendall(d)
' & )
	sleep 0.3
	( in_ns vm1 python3 -c '
import socket, time
s = socket.socket(); s.settimeout(5); s.connect(("10.50.2.10", 80))
s.sendall(b"before"); a = s.recv(100)
open("/tmp/e2e-apply-go", "w").close()
for _ in range(100):
    time.sleep(0.1)
    try:
        open("/tmp/e2e-apply-done").close(); break
    except OSError:
        pass
s.sendall(b"after"); b = s.recv(100)
print(a.decode(), b.decode())' >/tmp/e2e-client.out 2>&1 & )
	for _ in $(seq 50); do [ -e /tmp/e2e-apply-go ] && break; sleep 0.1; done
	out=$(vctl apply "$here/topo-vpcd-no80.yaml")
	[ "$out" = "applied: generation 2, 2 VPCs, 4 interfaces" ] && ok "vpcctl apply: live, generation 2" || fail "apply" "$out"
	touch /tmp/e2e-apply-done
	sleep 1
	[ "$(cat /tmp/e2e-client.out)" = "before after" ] && ok "an open TCP connection survives the removal of its rule" ||
		fail "connection across apply" "$(cat /tmp/e2e-client.out)"
	rm -f /tmp/e2e-apply-go /tmp/e2e-apply-done /tmp/e2e-client.out
	stop_servers vm2
	serve_tcp vm2 80
	sleep 0.3
	got=$(connect_tcp vm1 10.50.2.10 80)
	[ "$got" = "timeout" ] && ok "after the apply a new connection to port 80 is refused" || fail "new connection after apply" "$got"
	out=$(vctl apply "$here/topo-vpcd.yaml" 2>&1)
	[ "$out" = "applied: generation 3, 2 VPCs, 4 interfaces" ] && ok "apply back" || fail "apply back" "$out"

	# 100 applies while vm1 streams 3,000 numbered UDP datagrams to vm3.
	( in_ns vm3 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5353)); s.settimeout(3)
seen = set()
while True:
    try:
        d, a = s.recvfrom(100)
    except socket.timeout:
        break
    seen.add(int(d))
missing = [i for i in range(3000) if i not in seen]
print(len(seen), len(missing))' >/tmp/e2e-udp.out 2>&1 & )
	sleep 0.3
	( in_ns vm1 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(str(i).encode(), ("10.50.1.11", 5353)); time.sleep(0.001)' & )
	applied=0
	for i in $(seq 100); do
		if [ $((i % 2)) = 1 ]; then f=topo-vpcd-alt.yaml; else f=topo-vpcd.yaml; fi
		vctl apply "$here/$f" >/dev/null && applied=$((applied + 1))
	done
	for _ in $(seq 100); do [ -s /tmp/e2e-udp.out ] && break; sleep 0.1; done
	got=$(cat /tmp/e2e-udp.out); rm -f /tmp/e2e-udp.out
	[ "$applied" = 100 ] && [ "$got" = "3000 0" ] && ok "100 applies under load: 3000 of 3000 datagrams arrived" ||
		fail "applies under load" "applied $applied, received/missing: $got"
	out=$(vctl apply "$here/../topo/invalid/001-subnet-outside-vpc.yaml" 2>&1)
	g=$(vctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
	[ "$g" = 103 ] && ok "a failed apply changes nothing (generation stays 103)" || fail "failed apply" "$g $out"

	# An apply that adds an interface opens its port; the one that takes it
	# away closes it.
	host vm5 e2e-vm5 02:32:0a:32:02:0b 10.50.2.11/24 10.50.2.1
	out=$(vctl apply "$here/topo-vpcd-add.yaml" 2>&1)
	[ "$out" = "applied: generation 104, 2 VPCs, 5 interfaces, 1 port opened, 0 closed" ] &&
		ok "an apply that adds an interface opens its port" || fail "apply adding vm5" "$out"
	in_ns vm1 ping -c 2 -W 2 -q 10.50.2.11 >/dev/null && ok "the added interface is reachable" || fail "ping vm5"
	out=$(vctl apply "$here/topo-vpcd.yaml" 2>&1)
	[ "$out" = "applied: generation 105, 2 VPCs, 4 interfaces, 0 ports opened, 1 closed" ] &&
		ok "an apply that removes it closes the port" || fail "apply removing vm5" "$out"
	if in_ns vm1 ping -c 1 -W 1 -q 10.50.2.11 >/dev/null 2>&1; then fail "vm5 still reachable"; else ok "the removed interface is gone"; fi
	in_ns vm1 ping -c 2 -W 2 -q 10.50.2.10 >/dev/null && ok "the others go on" || fail "ping vm2 after the removal"

	# A port that goes away (a VM stops, its interface is deleted) does not
	# stop the others.
	ip link del e2e-vm3
	in_ns vm1 ping -c 2 -W 2 -q 10.50.2.10 >/dev/null && ok "a deleted port does not stop the others" ||
		fail "traffic after a port went away"
}

e2e_summary() {
	echo "$n_pass passed, $n_fail failed"
	[ "$n_fail" -eq 0 ]
}
