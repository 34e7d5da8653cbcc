#!/usr/bin/env bash
# tools/bench-guests.sh [on|off] -- TCP throughput through vpcd between
# namespace "guests" on veths, vpcd's kernel ports (tests/e2e/topo-guests.yaml):
# guest to guest across subnets, guest to internet and internet to guest
# through the elastic IP; 200 MB each, one Python sender, one receiver.
# on|off: the guests' transmit offloads -- checksum, TSO, GSO -- all on (the
# kernel's default, and this script's) or all off.  vpcd on lcore 1.  Root;
# removes what it made.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x build/daemon/vpcd ] || tools/run build
csum=${1:-on}
sock=$(mktemp -u /tmp/vpcd-bench-XXXXXX.sock)
cleanup() {
	for ns in g1 g2 ginet; do ip netns del "e2e-$ns" 2>/dev/null; done
	for l in e2e-g1 e2e-g2 e2e-gup; do ip link del "$l" 2>/dev/null; done
}
trap cleanup EXIT
cleanup
mk() { # NS HOSTIF MAC ADDR GATEWAY
	ip netns add "e2e-$1"
	ip link add "$2" type veth peer name eth0 netns "e2e-$1"
	ip link set "$2" up
	ip netns exec "e2e-$1" ip link set eth0 address "$3"
	ip netns exec "e2e-$1" ip link set eth0 up
	ip netns exec "e2e-$1" ethtool -K eth0 tso "$csum" gso "$csum" tx "$csum" >/dev/null
	ip netns exec "e2e-$1" ip addr add "$4" dev eth0
	[ -z "$5" ] || ip netns exec "e2e-$1" ip route add default via "$5"
}
mk g1 e2e-g1 02:60:00:00:01:0a 10.60.1.10/24 10.60.1.1
mk g2 e2e-g2 02:60:00:00:02:14 10.60.2.20/24 10.60.2.1
mk ginet e2e-gup 02:fe:00:00:00:fe 203.0.113.1/24 ""
ip netns exec e2e-ginet ip route add 198.51.100.60/32 dev eth0
build/daemon/vpcd --config tests/e2e/topo-guests.yaml --socket "$sock" -- --no-huge \
	--no-telemetry --file-prefix=bench-guests -l 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do build/control/vpcctl stats --socket "$sock" >/dev/null 2>&1 && break; sleep 0.1; done
srv='
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(1)
c, _ = s.accept()
while c.recv(1 << 20):
    pass
c.close()'
cli='
import socket, sys, time
c = socket.create_connection((sys.argv[1], 5001), timeout=60); buf = b"x" * (1 << 20)
t = time.time()
for _ in range(200):
    c.sendall(buf)
c.shutdown(socket.SHUT_WR); c.recv(1)
print("%.2f Gbit/s" % (200 * 8 * (1 << 20) / (time.time() - t) / 1e9))'
run() { # NAME SERVER_NS CLIENT_NS ADDR
	ip netns exec "e2e-$2" python3 -c "$srv" &
	local sp=$!
	sleep 0.5
	printf '%-34s %s\n' "$1" "$(ip netns exec "e2e-$3" python3 -c "$cli" "$4")"
	wait $sp
}
echo "transmit offloads (checksum, TSO, GSO) $csum"
run "guest -> guest (routed)" g2 g1 10.60.2.20
run "guest -> internet (elastic IP)" ginet g1 203.0.113.1
run "internet -> guest (elastic IP)" g1 ginet 198.51.100.60
kill -INT $pid
wait $pid
