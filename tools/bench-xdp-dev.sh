#!/usr/bin/env bash
# tools/bench-xdp-dev.sh [ROUNDS [SECONDS]] -- the XDP engine attached to
# real devices (veths), not run by BPF_PROG_TEST_RUN.
#
# Two network namespaces, a client VM and a server VM, each on a veth
# whose host side the XDP instance serves in native mode (ports of type
# af_packet naming the host side with ifname, as tests/e2e/test_xdp.sh
# does).  A generator in the client namespace (tools/bench-xdp-dev-gen.c,
# AF_PACKET straight to the device, one UDP flow of 60-byte frames) sends
# from the client's MAC and IP; on the server's eth0 an XDP program drops
# everything, and its veth counts what arrived (ethtool -S: xdp_drops).
# Three configurations on the host side of the client's veth:
#   redirect  a plain program, bpf_redirect() to the server's host side:
#             the floor, what any XDP forwarding costs on these devices
#   switched  vpcctl xdp start, the server in the client's subnet, frames
#             to the server's MAC (path l2-switch)
#   routed    the server in the other subnet, frames to the VPC router's
#             MAC (path routed: TTL, MACs rewritten)
# Each runs ROUNDS times (default 3), alternated, SECONDS each (default 5)
# after a 1 s warm-up (the flow's connection is created then); printed per
# run: the received Mpps, the generator's CPU time per packet, the
# instance's own counters (vpcctl stats --json), what each CPU spent its
# time on (/proc/stat); then medians and ranges of both measures, the ratio
# to the floor and the net ns/packet over it; last, the test-run figure of
# the routed established path (vpc-replay --bench --engine xdp) beside.
# The CPU time is the figure to read on a shared machine: the rate also
# counts whatever else took the generator's CPU (BENCHMARKS.md, "XDP on
# devices").
#
# The generator is pinned to CPU $GEN_CPU (default 1).  On a veth the
# receive side's XDP runs in the NAPI of the CPU that transmitted: the
# sender's, in its softirq, before its sendmmsg() returns; and the
# redirect's veth again.  So one CPU does everything (send, both XDP
# programs, both veth hops): its CPU time per packet is the whole chain's
# cost (and the rate its inverse, when nothing else runs on that CPU),
# and the difference between two configurations is the programs'.
# Root; takes /tmp/vpc-e2e.lock (the end-to-end tests' lock); removes
# everything it made on exit, failure or signal.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
rounds=${1:-3}
seconds=${2:-5}
gen_cpu=${GEN_CPU:-1}
clang=${CLANG:-clang}
vpcctl=build/control/vpcctl
replay=build/tools/vpc-replay
inst=xbench
ns_c=xbench-client
ns_s=xbench-server
if_c=xb-client # host sides: the ports the instance serves
if_s=xb-server
mac_c=02:46:00:00:00:10
mac_s=02:46:00:00:00:20
mac_router=06:00:00:00:46:01 # VNI 70's router (vpcctl show)
ip_c=10.70.1.10
ip_s_switched=10.70.1.20
ip_s_routed=10.70.2.20
port=9 # UDP, allowed by the topology's group
tmp=""

[ "$(id -u)" = 0 ] || { echo "bench-xdp-dev.sh: needs root" >&2; exit 1; }
{ [ -x $vpcctl ] && [ -x $replay ]; } || tools/run build
exec {lock_fd}>>/tmp/vpc-e2e.lock
flock "$lock_fd"

cleanup() {
	"$vpcctl" xdp stop --instance "$inst" >/dev/null 2>&1
	for ns in $ns_c $ns_s; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	for l in $if_c $if_s; do ip link del "$l" 2>/dev/null; done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
die() { echo "bench-xdp-dev.sh: $*" >&2; exit 1; }
cleanup
tmp=$(mktemp -d /tmp/bench-xdp-dev-XXXXXX)

# ---- the programs: the generator, the receiver's drop, the floor's redirect
cc -O2 -Wall -o "$tmp/gen" tools/bench-xdp-dev-gen.c || die "compiling the generator"
bpf_prog() { # NAME BODY: an XDP program returning BODY, into $tmp/NAME.o
	printf '%s\n' "static long (*bpf_redirect)(unsigned int ifindex, unsigned long flags) = (void *)23;" \
		"__attribute__((section(\"xdp\"), used)) int xdp_$1(void *ctx) { return $2; }" \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' |
		"$clang" -O2 -target bpf -c -x c - -o "$tmp/$1.o" || die "compiling the XDP program $1 ($clang)"
}
bpf_prog drop "1 /* XDP_DROP */"

# ---- the namespaces and their veths (checks.sh's host(), without IPs:
# nothing but XDP sees these frames)
veth() { # NS HOSTIF MAC
	ip netns add "$1" || die "ip netns add $1"
	ip link add "$2" type veth peer name eth0 netns "$1" || die "veth $2"
	ip link set "$2" up
	ethtool -K "$2" tx off rx off >/dev/null 2>&1
	# no IPv6 (router solicitations, MLD) into the instance or the counts
	sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$1" link set lo up
	ip -n "$1" link set eth0 address "$3"
	ip -n "$1" link set eth0 up
	ip netns exec "$1" ethtool -K eth0 tx off rx off >/dev/null 2>&1
}
veth $ns_c $if_c $mac_c
veth $ns_s $if_s $mac_s
ip -n $ns_s link set dev eth0 xdpdrv obj "$tmp/drop.o" sec xdp || die "the server's XDP_DROP program"
bpf_prog redirect "bpf_redirect($(cat /sys/class/net/$if_s/ifindex), 0) /* $if_s */"

topo() { # FILE SERVER_SUBNET SERVER_IP
	cat >"$1" <<EOF
# bench-xdp-dev.sh: a client and a server VM on veths, UDP $port allowed
version: 1
vpcs:
  - name: bench
    cidr: 10.70.0.0/16
    vni: 70
    security_groups:
      - name: udp
        ingress:
          - { protocol: udp, ports: $port, source: 10.70.0.0/16 }
    subnets:
      - { name: a, cidr: 10.70.1.0/24 }
      - { name: b, cidr: 10.70.2.0/24 }
    interfaces:
      - { name: client, subnet: a, ip: $ip_c, mac: $mac_c, security_groups: [udp] }
      - { name: server, subnet: $2, ip: $3, mac: $mac_s, security_groups: [udp] }
host:
  ports:
    client: { type: af_packet, ifname: $if_c }
    server: { type: af_packet, ifname: $if_s }
EOF
}
topo "$tmp/switched.yaml" a $ip_s_switched
topo "$tmp/routed.yaml" b $ip_s_routed

# ---- counters
# queue_sum FIELD: rx_queue_N_FIELD summed over the queues of the device
# whose `ethtool -S` is on stdin
queue_sum() { awk -v f="^rx_queue_[0-9]+_$1:\$" '$1 ~ f { s += $2 } END { print s + 0 }'; }
veth_sum() { ip netns exec "$1" ethtool -S "$2" | queue_sum "$3"; } # NS DEV FIELD
host_sum() { ethtool -S "$1" | queue_sum "$2"; }                    # DEV FIELD
stats() { # the instance's counters, or zeros without one
	"$vpcctl" stats --json --instance "$inst" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print(0, 0, 0, 0); sys.exit()
p = d["ports"]
print(p["client"]["rx_packets"], p["server"]["tx_packets"], sum(d["drops"].values()),
      d["paths"]["l2-switch"] + d["paths"]["routed"])' || echo 0 0 0 0
}
# ksoftirqd: its utime + stime in ticks (softirq work deferred to the
# thread is not the generator's)
ksoftirqd() { awk '{ print $14 + $15 }' "/proc/$(pgrep -x "ksoftirqd/$gen_cpu")/stat"; }
cpustat() { awk '/^cpu[0-9]/ { printf "%s %s %s %s %s ", $1, $2 + $3, $4, $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

start() { # CONFIG: attach the host side's program
	case $1 in
	redirect) ip link set dev $if_c xdpdrv obj "$tmp/redirect.o" sec xdp ;;
	*) "$vpcctl" xdp start "$tmp/$1.yaml" --instance "$inst" --mode native >/dev/null ;;
	esac
}
stop() {
	case $1 in
	redirect) ip link set dev $if_c xdpdrv off ;;
	*) "$vpcctl" xdp stop --instance "$inst" >/dev/null ;;
	esac
}
dst() { # CONFIG -> "DST_MAC DST_IP"
	case $1 in
	redirect | switched) echo "$mac_s $ip_s_switched" ;;
	routed) echo "$mac_router $ip_s_routed" ;;
	esac
}
gen() { # CONFIG SECONDS: the generator on CPU $gen_cpu; its JSON
	# shellcheck disable=SC2046
	ip netns exec $ns_c taskset -c "$gen_cpu" "$tmp/gen" eth0 $mac_c $(dst "$1" | cut -d' ' -f1) \
		$ip_c $(dst "$1" | cut -d' ' -f2) $port "$2"
}

results=$tmp/results
run() { # CONFIG ROUND
	local c=$1 g rx0 rx1 ring0 ring1 st0 st1 cpu0 cpu1
	start "$c" || die "$c: attaching"
	gen "$c" 1 >/dev/null || die "$c: the generator failed"
	rx0=$(veth_sum $ns_s eth0 xdp_drops); ring0=$(host_sum $if_c drops); st0=$(stats); cpu0=$(cpustat); k0=$(ksoftirqd)
	g=$(gen "$c" "$seconds") || die "$c: the generator failed"
	rx1=$(veth_sum $ns_s eth0 xdp_drops); ring1=$(host_sum $if_c drops); st1=$(stats); cpu1=$(cpustat); k1=$(ksoftirqd)
	stop "$c"
	python3 - "$c" "$2" "$g" "$rx0" "$rx1" "$ring0" "$ring1" "$st0" "$st1" "$cpu0" "$cpu1" "$k0" "$k1" "$(getconf CLK_TCK)" \
		<<'EOF' | tee -a "$results"
import json, sys
c, rnd, g = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
rx = int(sys.argv[5]) - int(sys.argv[4])
ring = int(sys.argv[7]) - int(sys.argv[6])
st = [int(b) - int(a) for a, b in zip(sys.argv[8].split(), sys.argv[9].split())]
a, b = sys.argv[10].split(), sys.argv[11].split()
cpus = []
for i in range(0, len(a), 5):
    d = [int(y) - int(x) for x, y in zip(a[i + 1:i + 5], b[i + 1:i + 5])]
    tot = d[3] or 1
    cpus.append("%s usr %d%% sys %d%% softirq %d%%" % (a[i], 100 * d[0] / tot, 100 * d[1] / tot, 100 * d[2] / tot))
s = g["seconds"]
ksoft = (int(sys.argv[13]) - int(sys.argv[12])) / int(sys.argv[14])
line = {"config": c, "round": int(rnd), "sent_mpps": g["mpps"], "rx_mpps": round(rx / s / 1e6, 4),
        "cpu_ns": round((g["cpu_seconds"] + ksoft) * 1e9 / max(rx, 1), 1), "ksoftirqd_s": ksoft,
        "ring_drops": ring, "vpc_rx": st[0], "vpc_tx": st[1], "vpc_drops": st[2], "vpc_forwarded": st[3]}
print(json.dumps(line))
print("#   %-8s round %s: received %.3f Mpps (sent %.3f, dropped at the host side's queue %d), "
      "CPU %.1f ns/packet (generator %.2f s, ksoftirqd %.2f s)%s; %s" % (
    c, rnd, line["rx_mpps"], g["mpps"], ring, line["cpu_ns"], g["cpu_seconds"], ksoft,
    "" if c == "redirect" else ", instance: rx %d tx %d forwarded %d drops %d" % tuple(st[:2] + st[3:] + st[2:3]),
    "; ".join(cpus)), file=sys.stderr)
EOF
}

echo "# $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); generator on CPU $gen_cpu; $rounds rounds of ${seconds}s, alternated"
: >"$results"
for r in $(seq "$rounds"); do
	for c in redirect switched routed; do run $c "$r" >/dev/null; done
done
python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {c: sorted(r["rx_mpps"] for r in rows if r["config"] == c) for c in ("redirect", "switched", "routed")}
med = {c: statistics.median(v) for c, v in by.items()}
names = {"redirect": "redirect only (the floor)", "switched": "vpc XDP, L2 switched", "routed": "vpc XDP, routed"}
print("%-28s %8s %17s %9s %14s" % ("received at the server", "Mpps", "range", "of floor", "net ns/packet"))
for c, v in by.items():
    net = "" if c == "redirect" else "%+.1f" % (1e3 / med[c] - 1e3 / med["redirect"])
    print("%-28s %8.3f %8.3f-%-8.3f %8.2fx %14s" % (names[c], med[c], v[0], v[-1], med[c] / med["redirect"], net))
print("(median of %d rounds; net ns/packet: 1/median - 1/the floor's median; wall-clock rates: other work on the CPU weighs in)"
      % len(by["redirect"]))
# The same within each round (its three runs are seconds apart, so what
# else the machine does weighs on them alike): ratio and net ns/packet.
rounds = sorted({r["round"] for r in rows})
floor = {r["round"]: r["rx_mpps"] for r in rows if r["config"] == "redirect"}
for c in ("switched", "routed"):
    mine = {r["round"]: r["rx_mpps"] for r in rows if r["config"] == c}
    ratio = sorted(mine[k] / floor[k] for k in rounds)
    net = sorted(1e3 / mine[k] - 1e3 / floor[k] for k in rounds)
    print("per round, %-18s of floor %.2fx [%.2f-%.2f], net %+.1f ns/packet [%+.1f..%+.1f]" % (
        names[c][9:] + ":", statistics.median(ratio), ratio[0], ratio[-1], statistics.median(net), net[0], net[-1]))
# CPU time per packet: the generator's own (getrusage: the send and the
# softirq work run in its context, both veth hops and both XDP programs)
# plus ksoftirqd's; what else ran on that CPU is not in it.
cpu = {c: sorted(r["cpu_ns"] for r in rows if r["config"] == c) for c in by}
cmed = {c: statistics.median(v) for c, v in cpu.items()}
print()
print("%-28s %8s %17s %14s" % ("CPU time on the sending CPU", "ns/pkt", "range", "net ns/packet"))
for c, v in cpu.items():
    net = "" if c == "redirect" else "%+.1f" % (cmed[c] - cmed["redirect"])
    print("%-28s %8.1f %8.1f-%-8.1f %14s" % (names[c], cmed[c], v[0], v[-1], net))
EOF

# ---- the test-run figure beside: the routed established path through
# BPF_PROG_TEST_RUN, net of the empty program's run
[ -f out/bench/routed-c.pcap ] || python3 tools/gen-bench.py out/bench >/dev/null
taskset -c "$gen_cpu" $replay --config config/default.yaml --in web-1=out/bench/routed-c.pcap \
	--in db-1=out/bench/routed-s.pcap --bench --json --engine xdp | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("test run (vpc-replay --bench --engine xdp, routed, established): %.1f ns/packet, empty program %.1f, net %.1f"
      % (r["ns_per_packet"], r["baseline_ns_per_packet"], r["ns_per_packet"] - r["baseline_ns_per_packet"]))'
