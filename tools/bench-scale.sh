#!/usr/bin/env bash
# tools/bench-scale.sh [--same|--split] [--huge] [K...] -- vpcd's forwarding
# rate on K lcores, against dpdk-testpmd's io forwarding on the same ports.
# --huge: both on 2 MiB hugepages (as deployed) instead of --no-huge; the
# machine must have them: 1,100 free 2 MiB pages (each run takes -m 2048)
# on a hugetlbfs mount, e.g. as root
#   echo 1100 > /proc/sys/vm/nr_hugepages
#   mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages
#
# K client/server pairs of looping net_pcap ports (infinite_rx, output to
# /dev/null), each pair a VPC of its own (VNI 100 + k) whose client
# (10.0.1.10) holds 1,000 established TCP connections to its server
# (10.0.2.20:5432) across subnets -- the routed case of tools/gen-bench.py,
# one set of captures per VNI.  vpcd runs on lcores 0..K-1; it deals rx
# ports to the least loaded lcore in file order, so --same (the default)
# lists the clients, then the servers (a connection's two ports on one
# lcore) and --split lists each client beside its server (on two lcores).
# testpmd io forwards the same K pairs with K forwarding lcores and one for
# its console, so it runs only where K + 1 CPUs are free.  Rates: received
# packets per second over 5 s after a 2 s warm-up (vpcd: vpcctl stats;
# testpmd: the Rx-pps of every port).  K defaults to 1 .. the CPUs there are.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=same
huge=0
ks=()
for a in "$@"; do
	case "$a" in
	--same) mode=same ;;
	--split) mode=split ;;
	--huge) huge=1 ;;
	[0-9]*) ks+=("$a") ;;
	*) echo "usage: tools/bench-scale.sh [--same|--split] [--huge] [K...]" >&2; exit 2 ;;
	esac
done
ncpu=$(nproc)
[ ${#ks[@]} -gt 0 ] || ks=($(seq 1 "$ncpu"))
[ -x build/daemon/vpcd ] || tools/run build
dir=$top/out/bench/scale
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; pkill -f "file-prefix=benchscale" 2>/dev/null || true' EXIT
eal=(--no-huge -m 2048 --no-shconf --log-level=error)
if [ "$huge" = 1 ]; then
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	size=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
	hdir=$(awk '$3 == "hugetlbfs" { print $2; exit }' /proc/mounts)
	if [ "${size:-0}" != 2048 ] || [ "${free:-0}" -lt 1100 ] || [ -z "$hdir" ]; then
		echo "bench-scale: --huge needs 1100 free 2 MiB hugepages on a hugetlbfs mount" \
			"(free: ${free:-0} of ${size:-?} kB; mount: ${hdir:-none}); see the script's head" >&2
		exit 1
	fi
	# --in-memory: no map files left in the mount, whatever ends the run
	eal=(-m 2048 --huge-dir "$hdir" --in-memory --log-level=error)
fi
kmax=$(printf '%s\n' "${ks[@]}" | sort -n | tail -1)

# One pair's captures per VNI: the client's and the server's side.
python3 - "$dir" "$kmax" <<'PY'
import os, sys
sys.path.insert(0, "tests/conformance")
import pkt
out, kmax = sys.argv[1], int(sys.argv[2])
for k in range(kmax):
    vni = 100 + k
    c = "c-%d.pcap" % k
    if os.path.exists(os.path.join(out, c)):
        continue
    v = "%02x" % (vni & 255)
    router = "06:00:00:%02x:%02x:01" % (vni >> 8, vni & 255)
    cmac, smac = "02:%s:0a:00:01:0a" % v, "02:%s:0a:00:02:14" % v
    client, server, t = [], [], 1_000_000_000
    for step in range(8):
        for i in range(1000):
            sp = 10000 + i
            if step == 1:
                server.append((t, pkt.tcp_frame(router, smac, "10.0.2.20", "10.0.1.10", 5432, sp, "SA",
                                                seq=5000, ack=1001)))
            else:
                flags = "S" if step == 0 else ("A" if step == 2 else "PA")
                seq = 1000 if step == 0 else 1001 + max(0, step - 3) * 64
                client.append((t, pkt.tcp_frame(router, cmac, "10.0.1.10", "10.0.2.20", sp, 5432, flags,
                                                seq=seq, ack=0 if step == 0 else 5001,
                                                payload=b"x" * 64 if step >= 3 else b"")))
            t += 1000
    pkt.write_pcap(os.path.join(out, c), client)
    pkt.write_pcap(os.path.join(out, "s-%d.pcap" % k), server)
PY

topology() { # K MODE: K VPCs, their ports in the order MODE asks
	local k=$1 m=$2 i
	echo "version: 1"
	echo "vpcs:"
	for ((i = 0; i < k; i++)); do
		cat <<EOF
  - name: pair-$i
    cidr: 10.0.0.0/16
    vni: $((100 + i))
    subnets:
      - { name: a, cidr: 10.0.1.0/24 }
      - { name: b, cidr: 10.0.2.0/24 }
    interfaces:
      - { name: c-$i, subnet: a, ip: 10.0.1.10 }
      - { name: s-$i, subnet: b, ip: 10.0.2.20 }
EOF
	done
	echo "host:"
	echo "  ports:"
	# the ports' order: rx ports go to the least loaded lcore in this order
	local order=()
	if [ "$m" = same ]; then
		for ((i = 0; i < k; i++)); do order+=("c-$i"); done
		for ((i = 0; i < k; i++)); do order+=("s-$i"); done
	else
		for ((i = 0; i < k; i++)); do order+=("c-$i" "s-$i"); done
	fi
	for p in "${order[@]}"; do
		echo "    $p: { type: pcap, rx: $dir/$p.pcap, tx: /dev/null, loop: true }"
	done
}

vpcd_pps() { # K MODE
	local k=$1 topo=$tmp/scale.yaml
	topology "$k" "$2" >"$topo"
	build/daemon/vpcd --config "$topo" --socket "$tmp/s" --busy-poll -- "${eal[@]}" \
		--file-prefix=benchscale -l "0-$((k - 1))" >"$tmp/vpcd.log" 2>&1 &
	local pid=$! a b i
	# up (its socket answers; hugepages take a while to map), then 2 s warm
	for ((i = 0; i < 300; i++)); do
		build/control/vpcctl stats --socket "$tmp/s" >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/vpcd.log" >&2; exit 1; }
		sleep 0.1
	done
	sleep 2
	a=$(build/control/vpcctl stats --json --socket "$tmp/s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
	sleep 5
	b=$(build/control/vpcctl stats --json --socket "$tmp/s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
	kill -INT "$pid"
	wait "$pid" || true
	echo $(((b - a) / 5))
}

testpmd_pps() { # K
	local k=$1 i vdevs=()
	if [ $((k + 1)) -gt "$ncpu" ]; then
		echo "-"
		return
	fi
	for ((i = 0; i < k; i++)); do
		vdevs+=(--vdev "net_pcap$((2 * i)),rx_pcap=$dir/c-$i.pcap,tx_pcap=/dev/null,infinite_rx=1")
		vdevs+=(--vdev "net_pcap$((2 * i + 1)),rx_pcap=$dir/s-$i.pcap,tx_pcap=/dev/null,infinite_rx=1")
	done
	timeout -s INT 9 dpdk-testpmd "${eal[@]}" --file-prefix=benchscaletp -l "0-$k" "${vdevs[@]}" \
		-- --forward-mode=io --nb-cores="$k" --stats-period=1 </dev/null >"$tmp/tp.log" 2>&1 || true
	# every port's Rx-pps, summed per report, the mean of reports 3 to 7
	python3 - "$tmp/tp.log" "$((2 * k))" <<'PY'
import re, sys
vals = [int(v) for v in re.findall(r"Rx-pps:\s+(\d+)", open(sys.argv[1]).read())]
n = int(sys.argv[2])
sums = [sum(vals[i:i + n]) for i in range(0, len(vals) - n + 1, n)]
use = sums[2:7] if len(sums) >= 7 else sums[-3:]
print(sum(use) // max(1, len(use)))
PY
}

printf '%s: %s CPUs, mode %s (a connection'"'"'s two ports on %s)\n' "$(uname -n)" "$ncpu" "$mode" \
	"$([ "$mode" = same ] && echo "one lcore" || echo "two lcores")"
printf '%3s %12s %14s %12s %14s %7s\n' K "vpcd Mpps" "per lcore" "testpmd Mpps" "per lcore" ratio
for k in "${ks[@]}"; do
	v=$(vpcd_pps "$k" "$mode")
	t=$(testpmd_pps "$k")
	python3 - "$k" "$v" "$t" <<'PY'
import sys
k, v, t = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
tp = "%12.2f %14.2f %7.2f" % (int(t) / 1e6, int(t) / 1e6 / k, v / int(t)) if t != "-" else "%12s %14s %7s" % ("-", "-", "-")
print("%3d %12.2f %14.2f %s" % (k, v / 1e6, v / 1e6 / k, tp))
PY
done
