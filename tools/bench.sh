#!/usr/bin/env bash
# tools/bench.sh -- the benchmark notes' figures, reproducibly.
#
# Builds (if needed), generates the inputs (tools/gen-bench.py: 1,000 flows
# x 8 packets per path, fixed seed) into out/bench, and runs
# `vpc-replay --bench --json` three times per case, printing the median
# ns/packet, cycles/packet and Mpps (pipeline only, one core).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x build/tools/vpc-replay ] || tools/run build
replay=build/tools/vpc-replay
dir=out/bench
python3 tools/gen-bench.py "$dir" >/dev/null

median() { # ARGS... -> "ns cycles mpps" median by ns
	for _ in 1 2 3; do
		"$replay" "$@" --bench --json
	done | python3 -c '
import json, sys
r = sorted((json.loads(l) for l in sys.stdin), key=lambda x: x["ns_per_packet"])[1]
print("%6.2f %7.1f %8.2f" % (r["ns_per_packet"], r["cycles_per_packet"], r["mpps"]))'
}

printf '%-34s %6s %7s %8s\n' "case (config/default.yaml)" "ns/pkt" "cyc/pkt" "Mpps"
printf '%-34s %s\n' "L2 switched (web-1 -> web-2)" "$(median --config config/default.yaml --in web-1=$dir/l2.pcap)"
printf '%-34s %s\n' "routed (web-1 -> db-1)" "$(median --config config/default.yaml --in web-1=$dir/routed.pcap)"
printf '%-34s %s\n' "elastic-IP egress (SNAT)" "$(median --config config/default.yaml --in web-1=$dir/egress.pcap)"
printf '%-34s %s\n' "elastic-IP ingress (DNAT)" "$(median --config config/default.yaml --in uplink=$dir/ingress.pcap)"
for n in 10 1000 100000; do
	printf '%-34s %s\n' "egress, table of $n routes" "$(median --config $dir/routes-$n.yaml --in web-1=$dir/sweep.pcap)"
done
