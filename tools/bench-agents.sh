#!/usr/bin/env bash
# tools/bench-agents.sh -- how long a published change takes to reach N
# agents, with a real etcd (started here on loopback ports, data in a
# temporary directory) and N `vpcctl agent --dry-run` (compile, no
# dataplane).  Not a test: it reports, it asserts nothing.
#
#   tools/bench-agents.sh [N ...]        (default: 10 50 100)
#   BUILD=build-x tools/bench-agents.sh  (vpcctl from BUILD/control; default build)
#
# For each N: a topology of N hosts and N x 100 interfaces, 100 on each
# (tools/gen-topology.py --hosts N: up to 250 VPCs, 10 N security
# groups); agent i is host hi and compiles its view (the whole file read,
# its 100 interfaces with ports, the others remote).  It is published once (every agent applies
# it), then a change (one rule's port) is published with --wait; the
# latency of an agent is its status's time (when it had compiled the
# change) minus the publish's (the time written with the topology, just
# before the transaction).  Reported: median, p99, max of the latencies,
# the time --wait took, the median and max of the agents' compile times
# (wall clock: N agents share this machine's CPUs), and the most any
# agent's latency had besides its own compile (etcd's fan-out, waiting
# for a CPU, the status write).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
vpcctl=$top/$build/control/vpcctl
[ -x "$vpcctl" ] || { echo "bench-agents: no $vpcctl (tools/run build)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "bench-agents: no etcd (apt-get install etcd-server)" >&2; exit 1; }
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(10 50 100)

tmp=$(mktemp -d)
pids=()
etcd_pid=
stop_all() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
trap 'stop_all; [ -n "$etcd_pid" ] && kill -TERM "$etcd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

read -r cport pport < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))')
E=http://127.0.0.1:$cport
P=http://127.0.0.1:$pport
etcd --name b --data-dir "$tmp/etcd" --listen-client-urls "$E" --advertise-client-urls "$E" \
	--listen-peer-urls "$P" --initial-advertise-peer-urls "$P" --initial-cluster "b=$P" \
	>"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
	ETCDCTL_API=3 etcdctl --endpoints "$E" endpoint health >/dev/null 2>&1 && break
	sleep 0.1
done

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "etcd: $(etcd --version | head -1), on $E"
printf '%6s %9s %9s %8s %8s %8s %8s %12s %12s %12s\n' N interfaces "stored" "median" "p99" "max" \
	"wait" "compile med" "compile max" "other max"
for n in "${ns[@]}"; do
	prefix=/bench/n$n
	vpcs=$((n < 250 ? n : 250))
	python3 tools/gen-topology.py --vpcs "$vpcs" --interfaces $((n * 100)) --groups $((n * 10)) \
		--hosts "$n" >"$tmp/a.yaml"
	# the change: one rule's port
	sed '0,/ports: 1000,/s//ports: 999,/' "$tmp/a.yaml" >"$tmp/b.yaml"
	for i in $(seq "$n"); do
		"$vpcctl" agent --etcd "$E" --prefix "$prefix" --host "h$i" --dry-run \
			>"$tmp/agent-$n-$i.log" 2>&1 &
		pids+=($!)
	done
	# every agent has reported (the host list --wait waits for)
	for _ in $(seq 600); do
		c=$("$vpcctl" status --etcd "$E" --prefix "$prefix" --json |
			python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hosts"]))')
		[ "$c" = "$n" ] && break
		sleep 0.1
	done
	"$vpcctl" publish "$tmp/a.yaml" --etcd "$E" --prefix "$prefix" --wait --timeout 600 >/dev/null
	"$vpcctl" publish "$tmp/b.yaml" --etcd "$E" --prefix "$prefix" --wait --timeout 600 \
		>"$tmp/pub.out"
	"$vpcctl" status --etcd "$E" --prefix "$prefix" --json >"$tmp/status.json"
	python3 - "$tmp/status.json" "$n" "$tmp/pub.out" <<'PY'
import datetime, json, re, statistics, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
out = open(sys.argv[3]).read()
t0 = datetime.datetime.strptime(s["published"]["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp()
hosts = [h for h in s["hosts"] if h["applied"] == s["revision"]]
assert len(hosts) == n, f"{len(hosts)} of {n} agents applied it"
def when(h):
    return datetime.datetime.strptime(h["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
lat = sorted(when(h) - t0 for h in hosts)
# what is not this agent's compile: etcd's fan-out, waiting for a CPU, the rest
other = max(when(h) - t0 - h["compile_us"] / 1e6 for h in hosts)
comp = sorted(h["compile_us"] / 1000 for h in hosts)
p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat) + 0.5)) - 1)]
wait = re.search(r"in ([0-9.]+) s", out).group(1)
print(f"{n:6d} {n * 100:9d} {s['published']['stored']:9d} {statistics.median(lat) * 1000:6.0f}ms "
      f"{p99 * 1000:6.0f}ms {lat[-1] * 1000:6.0f}ms {float(wait) * 1000:6.0f}ms "
      f"{statistics.median(comp):10.1f}ms {comp[-1]:10.1f}ms {other * 1000:10.0f}ms")
PY
	stop_all
done
