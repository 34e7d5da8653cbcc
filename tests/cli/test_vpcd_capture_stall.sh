#!/usr/bin/env bash
# vpcctl capture against a client that stalls under a flood: vpcd's web-1
# receives a one-frame capture replayed forever (a pcap port with loop),
# a client asks for a capture of web-1 and never reads (it waits for the
# close without reading).  The stream's
# buffer and the rings fill; the workers drop copies, never stop; after
# VPC_CTL_DEADLINE_S (10 s) without progress vpcd closes the client and
# the capture is off: a new capture runs and says how many copies it could
# not make.  No root, no devices.
# usage: test_vpcd_capture_stall.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
. "$src/tests/cli/tap.sh"
tap_vpcd_scratch

cd "$src"
# One frame (web-1's TCP SYN to web-2:80) in a pcap.
python3 - "$tmp/flood.pcap" <<'PY'
import struct, sys
eth = bytes.fromhex("060000000001") + bytes.fromhex("02000a00010a") + b"\x08\x00"
ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, bytes([10, 0, 1, 10]), bytes([10, 0, 1, 11])))
s = sum(struct.unpack(">10H", ip)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
ip[10:12] = struct.pack(">H", ~s & 0xffff)
tcp = struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
f = eth + bytes(ip) + tcp
with open(sys.argv[1], "wb") as o:
    o.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    o.write(struct.pack("<IIII", 0, 0, len(f), len(f)) + f)
PY
sed 's|web-1: { type: pcap, tx: /dev/null }|web-1: { type: pcap, rx: '"$tmp"'/flood.pcap, tx: /dev/null, loop: true }|' \
	tests/cli/topo-control.yaml >"$tmp/topo.yaml"
"$vpcd" --config "$tmp/topo.yaml" --socket "$sock" -- --no-huge -m 512 --no-pci \
	--no-telemetry -l 0 --file-prefix="vpcd-capstall-$$" >"$tmp/vpcd.out" 2>"$tmp/vpcd.err" &
pid=$!
for _ in $(seq 600); do
	"$vpcctl" stats --socket "$sock" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
packets() { "$vpcctl" stats --json --socket "$sock" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])'; }
if ! before=$(packets); then
	bad "vpcd starts and answers" "$(tail -5 "$tmp/vpcd.err")"
	tap_summary
	exit 1
fi
ok "vpcd starts and answers, web-1 flooded"

# The client: asks, then reads nothing, waiting (poll, POLLRDHUP: no
# read) for vpcd to close the stream; then reads what vpcd had sent, and
# says whether the close came after the deadline or before.
got=$(timeout 60 python3 - "$sock" <<'PY'
import select, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(struct.pack("<IIII", 0x4c544356, 8, 0, 80) + b"web-1".ljust(64, b"\0") + struct.pack("<IIQ", 1, 2048, 0))
t0 = time.monotonic()
p = select.poll(); p.register(s, select.POLLRDHUP)
if not p.poll(45000):
    sys.exit("vpcd did not close the stalled stream within 45 s")
waited = time.monotonic() - t0
n = 0
s.settimeout(30)
while True:
    d = s.recv(65536)
    if not d:
        break
    n += len(d)
print("closed", "after the deadline" if waited >= 9.5 else "early (%.1f s)" % waited, "some" if n > 0 else "none")
PY
)
after=$(packets)
check "a client that reads nothing: vpcd closes its stream after 10 s without progress" "closed after the deadline some" "$got"
if [ -n "$after" ] && [ "$after" -gt "$before" ]; then
	ok "forwarding went on meanwhile ($before -> $after packets)"
else
	bad "forwarding went on meanwhile" "$before -> $after"
fi
out=$(timeout 60 "$vpcctl" capture web-1 --direction rx -c 5 -w "$tmp/after.pcapng" --socket "$sock" 2>&1)
if [ $? = 0 ] && grep -Eq '^5 frames captured, [0-9]+ not captured \(ring full\)$' <<<"$out"; then
	ok "the stalled client gone, its capture is off: a new one runs ($(tail -n 1 <<<"$out"))"
else
	bad "a new capture after the stalled client" "$out"
fi
kill -INT "$pid"
wait "$pid"
check "vpcd exits 0 on SIGINT" 0 "$?"
pid=
tap_summary
