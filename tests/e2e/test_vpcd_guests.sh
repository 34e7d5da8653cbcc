#!/usr/bin/env bash
# End-to-end: guests as a user's VMs are, not as the other tests tune them.
# Every veth keeps the kernel's default offloads: the frames vpcd reads
# carry checksums left partial and TCP super-frames of up to 64 KB (TSO and
# GSO), which its kernel ports finish and segment from each frame's
# virtio-net header (PACKET_VNET_HDR).  vpcd runs with the spec's minimal command line
# (`vpcd --config X -- --no-huge`, plus a file prefix of its own); each
# guest namespace starts with no address and configures itself with DHCP
# (busybox udhcpc): its own address, the router, the VPC's DNS, domain
# name and MTU.  Then: ping across subnets; 1 MB over TCP guest to guest
# and guest to internet (through the elastic IP), both ways, each byte
# checked; the internet sees only the elastic IP.
# usage: test_vpcd_guests.sh VPCD VPCCTL SOURCE_ROOT   (root; cleans up after itself)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
here="$src/tests/e2e"
topo="$here/topo-guests.yaml"
tmp=""
. "$here/checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }

cleanup() {
	for ns in g1 g2 ginet; do
		ip netns pids "e2e-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "e2e-$ns" 2>/dev/null
	done
	for l in e2e-g1 e2e-g2 e2e-gup; do ip link del "$l" 2>/dev/null; done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
command -v busybox >/dev/null || { echo "SKIP: needs busybox (udhcpc)"; exit 77; }
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpcd-guests-XXXXXX)
chmod 755 "$tmp"
log=$tmp/vpcd.log
sock=$tmp/vpcd.sock

# A guest: a namespace on a veth, the kernel's default offloads, no address.
guest() { # NAME HOSTIF MAC
	local ns=e2e-$1
	ip netns add "$ns"
	ip link add "$2" type veth peer name eth0 netns "$ns"
	ip link set "$2" up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link set eth0 address "$3"
	ip netns exec "$ns" ip link set eth0 up
}
guest g1 e2e-g1 02:60:00:00:01:0a
guest g2 e2e-g2 02:60:00:00:02:14
guest ginet e2e-gup 02:fe:00:00:00:fe
ip netns exec e2e-ginet ip addr add 203.0.113.1/24 dev eth0
ip netns exec e2e-ginet ip route add 198.51.100.60/32 dev eth0
offloads=$(ip netns exec e2e-g1 ethtool -k eth0 2>/dev/null |
	grep -E '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload):' | tr -s ' ' | paste -sd' ')
echo "# guest offloads: $offloads"

daemon_start vpcd "$log" "$vpcd" --config "$topo" --socket "$sock" -- --no-huge \
	--file-prefix=e2e-guests --no-telemetry
vpcd_ready() { grep -q "forwarding" "$log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1
grep -q "^vpcd: EAL options chosen: one lcore" "$log" && ok "vpcd chose its EAL options and said so" ||
	fail "vpcd's EAL line" "$(grep '^vpcd' "$log")"

# DHCP: udhcpc's script records the lease and configures the guest.
cat >"$tmp/udhcpc.sh" <<'SH'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
	ip route add default via "$router"
	echo "ip=$ip mask=$mask router=$router dns=$dns domain=$domain mtu=$mtu lease=$lease server=$serverid" >"$LEASE_FILE"
	;;
esac
SH
chmod 755 "$tmp/udhcpc.sh"
lease() { # NAME: udhcpc in the guest, at most 5 discovers a second apart
	in_ns "$1" env LEASE_FILE="$tmp/lease-$1" busybox udhcpc -i eth0 -q -n -t 5 -T 1 \
		-s "$tmp/udhcpc.sh" >"$tmp/udhcpc-$1.log" 2>&1
}
for g in g1 g2; do
	if lease "$g"; then ok "$g: udhcpc got a lease"; else fail "$g: udhcpc got a lease" "$(cat "$tmp/udhcpc-$g.log")"; fi
done
want_g1="ip=10.60.1.10 mask=24 router=10.60.1.1 dns=10.60.0.2 domain=lab.e2e.internal mtu=1500 lease=600 server=10.60.1.1"
want_g2="ip=10.60.2.20 mask=24 router=10.60.2.1 dns=10.60.0.2 domain=lab.e2e.internal mtu=1500 lease=600 server=10.60.2.1"
got=$(cat "$tmp/lease-g1" 2>/dev/null)
[ "$got" = "$want_g1" ] && ok "g1's lease: its own address, router, VPC DNS, domain, MTU" || fail "g1's lease" "want: $want_g1" "got:  $got"
got=$(cat "$tmp/lease-g2" 2>/dev/null)
[ "$got" = "$want_g2" ] && ok "g2's lease: its own address, router, VPC DNS, domain, MTU" || fail "g2's lease" "want: $want_g2" "got:  $got"

ping_ok g1 10.60.2.20 && ok "ping g1 -> g2 across subnets" || fail "ping g1 -> g2"
ping_ok ginet 198.51.100.60 && ok "ping internet -> g1's elastic IP" || fail "ping internet -> elastic IP"

# 1 MB each way over one TCP connection: the server reads all the client
# sends, answers with as many bytes of its own pattern, and both check
# every byte; the server also prints the peer address it saw.
py_bulk_server=$py_prologue'
import hashlib
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(4)
try:
    while True:
        c, a = s.accept(); c.settimeout(60)
        n = int.from_bytes(c.recv(4, socket.MSG_WAITALL), "big")
        got = bytearray()
        while len(got) < n:
            d = c.recv(65536)
            if not d: break
            got += d
        ok = bytes(got) == bytes(i * 7 % 251 for i in range(n))
        c.sendall(bytes(i * 13 % 251 for i in range(n)))
        c.close()
        print(a[0], len(got), "intact" if ok else "CORRUPT", flush=True)
except Stop:
    pass
'
py_bulk_client='
import socket, sys
n = 1 << 20
c = socket.create_connection((sys.argv[1], 5001), timeout=60)
c.sendall(n.to_bytes(4, "big") + bytes(i * 7 % 251 for i in range(n)))
c.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    d = c.recv(65536)
    if not d: break
    got += d
print(len(got), "intact" if bytes(got) == bytes(i * 13 % 251 for i in range(n)) else "CORRUPT")
'
bulk() { # FROM SERVER_NS ADDR NAME SEEN_AS
	local out
	ns_daemon "bulk-server $2" "$2" python3 -c "$py_bulk_server" &&
		ns_serving "bulk-server $2" "$2" tcp 5001 || return
	out=$(in_ns "$1" python3 -c "$py_bulk_client" "$3" 2>&1)
	if [ "$out" = "1048576 intact" ]; then ok "$4: 1 MB back, every byte intact"; else fail "$4: 1 MB back" "$out"; fi
	daemon_stop "bulk-server $2" TERM 0
	out=$(cat "${d_log[bulk-server $2]}")
	if [ "$out" = "$5 1048576 intact" ]; then
		ok "$4: 1 MB there, every byte intact, from $5"
	else
		fail "$4: 1 MB there, from $5" "$out"
	fi
}
bulk g1 g2 10.60.2.20 "g1 -> g2 (routed)" 10.60.1.10
bulk g1 ginet 203.0.113.1 "g1 -> internet (elastic IP)" 198.51.100.60
bulk ginet g1 198.51.100.60 "internet -> g1 (elastic IP)" 203.0.113.1

vctl stats >"$tmp/stats" 2>&1
grep -q "path dhcp-reply" "$tmp/stats" && ok "vpcctl stats counts the DHCP replies" || fail "dhcp-reply counted" "$(cat "$tmp/stats")"
daemon_stop vpcd TERM 0 && ok "SIGTERM: vpcd exits with status 0"
e2e_summary
