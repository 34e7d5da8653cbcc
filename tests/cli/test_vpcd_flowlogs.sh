#!/usr/bin/env bash
# vpcd --flow-logs: a live flow gives its records (one at each interface
# it crosses) while vpcd runs -- the control thread's scan writes an
# interval once it is over, here 1 s -- a rejected one its REJECT record,
# nothing is written twice at exit, and the file rotates by size (FILE.1,
# FILE.2 ...) without losing a record.  vpcd runs on
# capture ports (no devices; --no-huge): web-1's port replays a capture
# once.  usage: test_vpcd_flowlogs.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
. "$src/tests/cli/tap.sh"
tap_vpcd_scratch
cd "$src"

# web-1 opens 20 connections to db-1:5432 (allowed) and one to db-1:22
# (db's groups allow 22 from the bastion only: rejected).
PYTHONPATH="$src/tests/conformance" python3 - "$tmp/in.pcap" <<'PY'
import sys
from pkt import tcp_frame, write_pcap
R, W1 = "06:00:00:00:64:01", "02:64:0a:00:01:0a"
frames = [(i * 1000, tcp_frame(R, W1, "10.0.1.10", "10.0.2.20", 40000 + i, 5432, "S", seq=1))
          for i in range(20)]
frames.append((30000, tcp_frame(R, W1, "10.0.1.10", "10.0.2.20", 41000, 22, "S", seq=1)))
write_pcap(sys.argv[1], frames)
PY
sed "s|web-1: { type: pcap, tx: /dev/null }|web-1: { type: pcap, rx: $tmp/in.pcap, tx: /dev/null }|" \
	"$src/tests/cli/topo-control.yaml" >"$tmp/topo.yaml"

t0=$(date +%s)
"$vpcd" --config "$tmp/topo.yaml" --socket "$sock" --flow-logs "$tmp/fl.txt" \
	--flow-log-interval 1 --flow-log-account 123456789012 --flow-log-max-size 1k \
	-- --no-huge -m 512 --no-pci --no-telemetry -l 0 --file-prefix="vpcd-flowlogs-$$" \
	>"$tmp/vpcd.out" 2>"$tmp/vpcd.err" &
pid=$!
# Every packet through (the counters say so: an event, not a time).
for _ in $(seq 600); do
	n=$("$vpcctl" stats --json --socket "$sock" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])' 2>/dev/null)
	[ "${n:-0}" -ge 21 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
check "vpcd took the 21 packets" 21 "${n:-0}"
for _ in $(seq 300); do
	r=$(cat "$tmp"/fl.txt* 2>/dev/null | grep -c .)
	[ "${r:-0}" -ge 41 ] && break
	sleep 0.1
done
check "the 41 records are written while vpcd runs" 41 "${r:-0}"
kill -TERM "$pid"
wait "$pid"
check "vpcd stops with status 0" 0 $?
pid=
t1=$(date +%s)

python3 - "$tmp" "$t0" "$t1" <<'PY' && ok "every record, field by field, across the rotated files" || bad "every record" "$(cat "$tmp/check.log")"
import glob, os, sys
tmp, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(glob.glob(tmp + "/fl.txt*"))
log = open(tmp + "/check.log", "w")
lines = [l.split() for f in files for l in open(f)]
want = []
for i in range(20):
    for iface in ("web-1", "db-1"):
        want.append(["2", "123456789012", iface, "10.0.1.10", "10.0.2.20", str(40000 + i), "5432",
                     "6", "1", "40", "ACCEPT", "OK"])
want.append(["2", "123456789012", "web-1", "10.0.1.10", "10.0.2.20", "41000", "22", "6", "1",
             "40", "REJECT", "OK"])
got = []
for f in lines:
    if len(f) != 14 or not (t0 <= int(f[10]) <= int(f[11]) <= t1):
        print("bad record (fields or times %d..%d): %s" % (t0, t1, " ".join(f)), file=log)
        sys.exit(1)
    got.append(f[:10] + f[12:])
if sorted(got) != sorted(want):
    print("records: %d, expected %d\n%s" % (len(got), len(want), "\n".join(map(" ".join, lines))), file=log)
    sys.exit(1)
if len(files) < 3 or any(os.path.getsize(f) > 1024 + 200 for f in files):
    print("files: %s" % [(f, os.path.getsize(f)) for f in files], file=log)
    sys.exit(1)
PY
tap_summary
