#!/usr/bin/env bash
# A vhost-user port with a virtio_user peer: dpdk-testpmd, in a process of
# its own, sends UDP from vm4's MAC and address to vm3 through vpcd's
# vhost-user socket; vm3's port writes what vpcd sent it to a capture,
# checked byte for byte.  (testpmd's txonly mode sends one burst to a
# backend that sends nothing back -- it does the same with testpmd's own
# vhost backend -- so a second peer, forwarding a net_null generator into
# virtio_user, checks that the port keeps receiving.)
# Every process it starts is waited for and its exit status checked:
# vpcd 0 after SIGTERM (a sanitizer's report at exit fails the test), each
# testpmd 0 after SIGINT; nothing waits a fixed time (checks.sh).
# usage: test_vhost.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
tmp=$(mktemp -d /tmp/vpc-vhost-XXXXXX)
. "$src/tests/e2e/checks.sh"
cleanup() { rm -rf "$tmp"; }
e2e_trap cleanup
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd is not installed"; exit 77; }
sed "s|TMP|$tmp|g" "$src/tests/e2e/topo-vhost.yaml" >"$tmp/topo.yaml"

vstats() { timeout "$E2E_WAIT" "$vpcctl" stats --json --socket "$tmp/s"; }
# vm4_rx_over N: vpcd has counted more than N frames from vm4
vm4_rx_over() {
	local rx
	rx=$(vstats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["ports"]["vm4"]["rx_packets"])') &&
		[ "$rx" -gt "$1" ]
}
# testpmd NAME LOG ARGS...: a virtio_user peer on vm4's socket
testpmd() {
	local name=$1 log=$2
	shift 2
	daemon_start "$name" "$log" dpdk-testpmd --no-huge -m 1024 --no-shconf --no-pci \
		-l 0-1 --log-level=error --vdev "virtio_user0,path=$tmp/vm4.sock,mac=02:32:0a:32:01:14" "$@"
}

daemon_start vpcd "$tmp/vpcd.log" "$vpcd" --config "$tmp/topo.yaml" --socket "$tmp/s" -- --no-huge -m 512 --no-shconf \
	--file-prefix=vpc-vhost-d -l 0 --log-level=error
vpcd_ready() { [ -S "$tmp/vm4.sock" ] && vstats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd's vhost-user socket, and its control socket answering" vpcd_ready || exit 1

# One burst from txonly: until vpcd has counted it.  (The snapshot of the
# counters is taken once testpmd is gone: nothing comes in after it.)
testpmd testpmd-txonly "$tmp/testpmd.log" --file-prefix=vpc-vhost-c -- \
	--forward-mode=txonly --tx-ip=10.50.1.20,10.50.1.11 --tx-udp=5353,5353 \
	--eth-peer=0,02:32:0a:32:01:0b --stats-period=1 --total-num-mbufs=8192
daemon_wait testpmd-txonly "vpcd counting frames from vm4" vm4_rx_over 0
daemon_stop testpmd-txonly INT 0
stats=$(vstats)
tel=""
if command -v dpdk-telemetry.py >/dev/null; then
	tel=$(printf '/vpc/stats\n/vpc/port,vm4\n' | timeout "$E2E_WAIT" dpdk-telemetry.py -f vpc-vhost-d 2>/dev/null | tail -2)
fi
# A sustained stream: net_null's frames (zeroes) through virtio_user,
# until vpcd has counted 10,000 more.
rx0=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ports"]["vm4"]["rx_packets"])' "$stats") || rx0=0
testpmd testpmd-io "$tmp/testpmd2.log" --file-prefix=vpc-vhost-g --vdev net_null0,copy=1 -- \
	--forward-mode=io --stats-period=1 --total-num-mbufs=8192
daemon_wait testpmd-io "vpcd counting 10000 frames more from vm4" vm4_rx_over $((rx0 + 10000))
daemon_stop testpmd-io INT 0
stats2=$(vstats)
daemon_running vpcd && ok "vpcd runs on after its vhost-user peers went away" || fail "vpcd died"
daemon_stop vpcd TERM 0 && ok "SIGTERM: vpcd exits with status 0"

# py_checks CMD...: runs CMD, which prints "ok - ..." / "not ok - ..."
# lines, counted with the others (a CMD that fails printing none fails).
py_checks() {
	local out rc
	out=$("$@")
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	n_pass=$((n_pass + $(grep -c '^ok - ' <<<"$out")))
	n_fail=$((n_fail + $(grep -c '^not ok - ' <<<"$out")))
	[ "$rc" = 0 ] || grep -q '^not ok - ' <<<"$out" || fail "$1: exit status $(describe_status $rc)"
}
py_checks python3 - "$stats" "$stats2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rx = b["ports"]["vm4"]["rx_packets"] - a["ports"]["vm4"]["rx_packets"]
bad = b["drops"]["unsupported-ethertype"] - a["drops"]["unsupported-ethertype"]
ok = rx > 10000 and bad == rx
print(("ok - " if ok else "not ok - ") +
      "the vhost-user port keeps receiving: %d frames, each counted (unsupported-ethertype)" % rx)
sys.exit(0 if ok else 1)
PY
PYTHONPATH="$src/tests/conformance" py_checks python3 - "$tmp/vm3.pcap" "$stats" "$tel" <<'PY'
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
sys.exit(1 if n_bad else 0)
PY
e2e_summary
