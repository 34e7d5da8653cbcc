#!/usr/bin/env bash
# tools/bench-vpcd.sh -- vpcd through real ports against dpdk-testpmd's io
# forwarding on the same ports, in the same run.
#
# Ports: net_pcap devices replaying the benchmark captures forever
# (infinite_rx) and writing to /dev/null -- the client's and the server's
# side of 1,000 TCP connections per path (tools/gen-bench.py), so vpcd
# forwards established connections.  One forwarding lcore each: vpcd on
# lcore 0; testpmd forwards on lcore 1 (lcore 0 is its console).  Rates are
# received packets per second over 5 s after a 2 s warm-up.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x build/daemon/vpcd ] || tools/run build
dir=$top/out/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; pkill -f "file-prefix=benchvpcd" 2>/dev/null || true' EXIT
python3 tools/gen-bench.py "$dir" >/dev/null
eal=(--no-huge -m 1024 --no-shconf --log-level=error)

vpcd_pps() { # CASE CLIENT_PORT SERVER_PORT
	local case=$1 cp=$2 sp=$3 topo=$tmp/$1.yaml
	{
		cat config/default.yaml | sed '/^host:/,$d'
		echo "host:"
		echo "  uplink: { port: uplink, mac: 02:fe:00:00:00:01, gateway_mac: 02:fe:00:00:00:fe }"
		echo "  ports:"
		for p in web-1 web-2 bastion db-1 uplink; do
			if [ "$p" = "$cp" ]; then
				echo "    $p: { type: pcap, rx: $dir/$case-c.pcap, tx: /dev/null, loop: true }"
			elif [ "$p" = "$sp" ]; then
				echo "    $p: { type: pcap, rx: $dir/$case-s.pcap, tx: /dev/null, loop: true }"
			else
				echo "    $p: { type: pcap, tx: /dev/null }"
			fi
		done
	} >"$topo"
	build/daemon/vpcd --config "$topo" --socket "$tmp/s" -- "${eal[@]}" --file-prefix=benchvpcd -l 0 >"$tmp/vpcd.log" 2>&1 &
	local pid=$!
	sleep 2
	local a b
	a=$(build/control/vpcctl stats --json --socket "$tmp/s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
	sleep 5
	b=$(build/control/vpcctl stats --json --socket "$tmp/s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
	kill -INT "$pid"; wait "$pid" || true
	echo $(((b - a) / 5))
}

testpmd_pps() { # CASE
	local case=$1
	timeout -s INT 9 dpdk-testpmd "${eal[@]}" --file-prefix=benchtp -l 0,1 \
		--vdev "net_pcap0,rx_pcap=$dir/$case-c.pcap,tx_pcap=/dev/null,infinite_rx=1" \
		--vdev "net_pcap1,rx_pcap=$dir/$case-s.pcap,tx_pcap=/dev/null,infinite_rx=1" \
		-- --forward-mode=io --nb-cores=1 --stats-period=1 </dev/null >"$tmp/tp.log" 2>&1 || true
	# the mean of the Rx-pps of both ports over seconds 3 to 7
	python3 - "$tmp/tp.log" <<'PY'
import re, sys
vals = [int(v) for v in re.findall(r"Rx-pps:\s+(\d+)", open(sys.argv[1]).read())]
pairs = [vals[i] + vals[i + 1] for i in range(0, len(vals) - 1, 2)]
use = pairs[2:7] if len(pairs) >= 7 else pairs[-3:]
print(sum(use) // max(1, len(use)))
PY
}

printf '%-36s %14s %14s %8s\n' "path (established connections)" "vpcd pps" "testpmd pps" "ratio"
for c in routed:web-1:db-1 egress:web-1:uplink ingress:uplink:web-1; do
	IFS=: read -r name cp sp <<<"$c"
	v=$(vpcd_pps "$name" "$cp" "$sp")
	t=$(testpmd_pps "$name")
	printf '%-36s %14s %14s %8s\n' "$name" "$v" "$t" "$(python3 -c "print('%.2f' % ($v / $t))")"
done
