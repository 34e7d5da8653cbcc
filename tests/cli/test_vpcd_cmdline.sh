#!/usr/bin/env bash
# vpcd's command line as docs/cli.md writes it: `vpcd --config X -- --no-huge`
# with nothing else chooses its EAL options itself (one lcore, --no-pci, a
# memory size) and says so; a topology with no internet gateway needs no
# uplink device; a missing kernel device is named; frames a port does not
# take are counted as tx-failed (a vhost-user port with no guest).
# usage: test_vpcd_cmdline.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
. "$src/tests/cli/tap.sh"
tap_vpcd_scratch

cd "$src"
# One SYN from web-1 to web-2:80, then (looping) nothing more.
python3 - "$tmp/rx.pcap" <<'PY'
import sys
sys.path.insert(0, "tests/conformance")
import pkt
f = pkt.tcp_frame("02:00:00:00:01:0b", "02:00:00:00:01:0a", "10.0.1.10", "10.0.1.11",
                  40000, 80, flags="S")
pkt.write_pcap(sys.argv[1], [(i * 1000, f) for i in range(3)])
PY
sed -e "s|RX_PCAP|$tmp/rx.pcap|" -e "s|VHOST_SOCK|$tmp/web-2.sock|" \
	tests/cli/topo-noigw.yaml >"$tmp/topo.yaml"

# The spec's command line, and only a file prefix of the test's own (so a
# parallel test's EAL does not collide) and no telemetry socket.
"$vpcd" --config "$tmp/topo.yaml" --socket "$sock" -- --no-huge --no-telemetry \
	--file-prefix="vpcd-cmdline-$$" >"$tmp/vpcd.out" 2>"$tmp/vpcd.err" &
pid=$!
for _ in $(seq 600); do
	"$vpcctl" stats --socket "$sock" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! "$vpcctl" stats --socket "$sock" >/dev/null 2>&1; then
	bad "vpcd --config X -- --no-huge starts and answers" "$(tail -5 "$tmp/vpcd.err")" \
		"$(tail -5 "$tmp/vpcd.out")"
	tap_summary
	exit 1
fi
ok "vpcd --config X -- --no-huge starts and answers"
check "it says which EAL options it chose" \
	"vpcd: EAL options chosen: one lcore (CPU $(python3 -c 'import os; print(min(os.sched_getaffinity(0)))'); -l for more), --no-pci (no pci port), -m 1024 (--no-huge without -m)" \
	"$(grep '^vpcd: EAL options chosen' "$tmp/vpcd.out")"
check "no internet gateway: no uplink device" \
	"vpcd: forwarding between 2 ports on 1 lcore (no uplink: no internet gateway)" \
	"$(grep '^vpcd: forwarding' "$tmp/vpcd.out")"

# The SYNs were sent to web-2, whose vhost-user socket no guest opened.
got=
for _ in $(seq 100); do
	got=$("$vpcctl" stats --socket "$sock" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["drops"]["tx-failed"], d["ports"]["web-2"]["tx_failed"], d["ports"]["web-2"]["tx_packets"])')
	[ "$got" = "3 3 0" ] && break
	sleep 0.1
done
check "frames a port does not take: counted as tx-failed, on the port too" "3 3 0" "$got"
check "stats text names them" "  drop tx-failed              3|  port web-2            rx 0 tx 0 drops 0 tx-failed 3" \
	"$("$vpcctl" stats --socket "$sock" | grep -E 'tx-failed' | paste -sd'|')"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "vpcd exits 0 on SIGTERM" 0 "$rc"
check "its final counters name the failed frames" "  port web-2            rx 0 tx 0 drops 0 tx-failed 3" \
	"$(grep 'port web-2' "$tmp/vpcd.out")"

# A kernel port whose device does not exist: named.
cat >"$tmp/topo2.yaml" <<'YAML'
version: 1
vpcs:
  - name: lab
    cidr: 10.0.0.0/16
    subnets: [ { name: a, cidr: 10.0.1.0/24 } ]
    interfaces: [ { name: vm1, subnet: a, ip: 10.0.1.10 } ]
host:
  ports:
    vm1: { type: af_packet, ifname: vpcd-no-such0 }
YAML
"$vpcd" --config "$tmp/topo2.yaml" --socket "$tmp/s2" -- --no-huge --no-telemetry \
	--file-prefix="vpcd-cmdline2-$$" >"$tmp/out2" 2>"$tmp/err2"
rc=$?
check "a missing device: exit status 1" 1 "$rc"
check "a missing device: named" "vpcd: port 'vm1': no network device 'vpcd-no-such0' on this host" \
	"$(tail -1 "$tmp/err2")"

tap_summary
