#!/usr/bin/env bash
# tools/bench.sh -- the benchmark notes' figures, reproducibly.
#
# Builds (if needed), generates the inputs (tools/gen-bench.py: 1,000 TCP
# connections x 8 packets per path, fixed seed) into out/bench, and runs
# `vpc-replay --bench --json` three times per case, printing the median
# ns/packet, cycles/packet and Mpps (pipeline only, one core).
# usage: tools/bench.sh [dpdk|xdp]   (default dpdk; xdp needs root)
# With xdp the second column is the baseline: an empty XDP program timed
# the same way (BPF_PROG_TEST_RUN, one run per call).
set -euo pipefail
engine=${1:-dpdk}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x build/tools/vpc-replay ] || tools/run build
replay=build/tools/vpc-replay
dir=out/bench
topo=config/default.yaml
python3 tools/gen-bench.py "$dir" >/dev/null

median() { # ARGS... -> "ns cycles mpps" median by ns
	for _ in 1 2 3; do
		"$replay" "$@" --bench --json --engine "$engine"
	done | python3 -c '
import json, sys
r = sorted((json.loads(l) for l in sys.stdin), key=lambda x: x["ns_per_packet"])[1]
second = r["cycles_per_packet"] if r["cycles_per_packet"] is not None else r["baseline_ns_per_packet"]
print("%6.2f %7.1f %8.2f" % (r["ns_per_packet"], second, r["mpps"]))'
}
row() { local name=$1; shift; printf '%-44s %s\n' "$name" "$(median "$@")"; }

if [ "$engine" = xdp ]; then c2=base; else c2=cyc/pkt; fi
printf '%-44s %6s %7s %8s\n' "established connections (config/default.yaml)" "ns/pkt" "$c2" "Mpps"
row "L2 switched (web-1 -> web-2:80)" --config $topo --in web-1=$dir/l2-c.pcap --in web-2=$dir/l2-s.pcap
row "routed (web-1 -> db-1:5432)" --config $topo --in web-1=$dir/routed-c.pcap --in db-1=$dir/routed-s.pcap
row "elastic-IP egress (web-1 -> internet:443)" --config $topo --in web-1=$dir/egress-c.pcap --in uplink=$dir/egress-s.pcap
row "elastic-IP ingress (internet -> web-1:80)" --config $topo --in uplink=$dir/ingress-c.pcap --in web-1=$dir/ingress-s.pcap
row "VPC peering (l1 -> r1:80, topo/peering.yaml)" --config tests/conformance/topo/peering.yaml \
	--in l1=$dir/peering-c.pcap --in r1=$dir/peering-s.pcap
for n in 10 1000 100000; do
	row "egress, table of $n routes" --config $dir/routes-$n.yaml --in web-1=$dir/sweep-c.pcap --in uplink=$dir/sweep-s.pcap
done
if [ "$engine" = dpdk ]; then
	row "ingress, 1,000,000 idle connections more" --config $topo --in uplink=$dir/ingress-c.pcap --in web-1=$dir/ingress-s.pcap \
		--max-connections 1100000 --prefill 1000000
fi
echo
printf '%-44s %6s %7s %8s\n' "new connections (10,000 SYNs to web-1:80)" "ns/conn" "${c2%/pkt}" "Mconn/s"
for n in 10 100 1000; do
	row "web's ingress with $n rules" --config $dir/rules-$n.yaml --in uplink=$dir/newconn.pcap --bench-new-connections
done
