#!/usr/bin/env bash
# A vhost-user port with a virtio_user peer: dpdk-testpmd, in a process of
# its own, sends UDP from vm4's MAC and address to vm3 through vpcd's
# vhost-user socket; vm3's port writes what vpcd sent it to a capture,
# checked byte for byte.  (testpmd's txonly mode sends one burst to a
# backend that sends nothing back -- it does the same with testpmd's own
# vhost backend -- so a second peer, forwarding a net_null generator into
# virtio_user, checks that the port keeps receiving.)
# usage: test_vhost.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
tmp=$(mktemp -d /tmp/vpc-vhost-XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd is not installed"; exit 77; }
sed "s|TMP|$tmp|g" "$src/tests/e2e/topo-vhost.yaml" >"$tmp/topo.yaml"

"$vpcd" --config "$tmp/topo.yaml" --socket "$tmp/s" -- --no-huge -m 512 --no-shconf \
	--file-prefix=vpc-vhost-d -l 0 --log-level=error >"$tmp/vpcd.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S "$tmp/vm4.sock" ] && break; sleep 0.1; done
timeout -s INT 4 dpdk-testpmd --no-huge -m 1024 --no-shconf --no-pci --file-prefix=vpc-vhost-c \
	-l 0-1 --log-level=error \
	--vdev "virtio_user0,path=$tmp/vm4.sock,mac=02:32:0a:32:01:14" -- \
	--forward-mode=txonly --tx-ip=10.50.1.20,10.50.1.11 --tx-udp=5353,5353 \
	--eth-peer=0,02:32:0a:32:01:0b --stats-period=1 --total-num-mbufs=8192 \
	</dev/null >"$tmp/testpmd.log" 2>&1
stats=$("$vpcctl" stats --json --socket "$tmp/s")
tel=""
if command -v dpdk-telemetry.py >/dev/null; then
	tel=$(printf '/vpc/stats\n/vpc/port,vm4\n' | timeout 10 dpdk-telemetry.py -f vpc-vhost-d 2>/dev/null | tail -2)
fi
# A sustained stream: net_null's frames (zeroes) through virtio_user.
timeout -s INT 4 dpdk-testpmd --no-huge -m 1024 --no-shconf --no-pci --file-prefix=vpc-vhost-g \
	-l 0-1 --log-level=error \
	--vdev "virtio_user0,path=$tmp/vm4.sock,mac=02:32:0a:32:01:14" --vdev net_null0,copy=1 -- \
	--forward-mode=io --stats-period=1 --total-num-mbufs=8192 </dev/null >"$tmp/testpmd2.log" 2>&1
stats2=$("$vpcctl" stats --json --socket "$tmp/s")
kill -INT "$pid"; wait "$pid"; pid=""
python3 - "$stats" "$stats2" <<'PY' || exit 1
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rx = b["ports"]["vm4"]["rx_packets"] - a["ports"]["vm4"]["rx_packets"]
bad = b["drops"]["unsupported-ethertype"] - a["drops"]["unsupported-ethertype"]
ok = rx > 10000 and bad == rx
print(("ok - " if ok else "not ok - ") +
      "the vhost-user port keeps receiving: %d frames, each counted (unsupported-ethertype)" % rx)
sys.exit(0 if ok else 1)
PY
PYTHONPATH="$src/tests/conformance" python3 - "$tmp/vm3.pcap" "$stats" "$tel" <<'PY'
import json, sys
import pkt
frames = pkt.read_pcap(sys.argv[1])
st = json.loads(sys.argv[2])
n_ok = n_bad = 0
def check(name, good):
    global n_ok, n_bad
    print(("ok - " if good else "not ok - ") + name)
    n_ok += good
    n_bad += not good
check("frames from the virtio_user peer reach vm3 through the vhost-user port",
      len(frames) > 0 and st["ports"]["vm4"]["rx_packets"] == len(frames))
f = frames[0][1] if frames else b""
check("switched unchanged: vm3's MAC, vm4's MAC, 10.50.1.20 -> 10.50.1.11:5353",
      f[0:6] == pkt.mac_bytes("02:32:0a:32:01:0b") and f[6:12] == pkt.mac_bytes("02:32:0a:32:01:14")
      and f[26:30] == pkt.ip_bytes("10.50.1.20") and f[30:34] == pkt.ip_bytes("10.50.1.11")
      and f[36:38] == b"\x14\xe9" and not pkt.verify_checksums(f))
check("one connection tracked for the flow", st["connections"]["created"] == 1)
tel = [json.loads(l) for l in sys.argv[3].splitlines() if l.startswith("{")]
check("dpdk-telemetry.py reads the counters (/vpc/stats, /vpc/port)",
      len(tel) == 2 and tel[0]["/vpc/stats"]["l2_switch"] == st["paths"]["l2-switch"]
      and tel[1]["/vpc/port"]["rx_packets"] == st["ports"]["vm4"]["rx_packets"])
print("%d passed, %d failed" % (n_ok, n_bad))
sys.exit(1 if n_bad else 0)
PY
