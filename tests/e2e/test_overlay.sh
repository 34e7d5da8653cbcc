#!/usr/bin/env bash
# End-to-end: one VPC over two hosts joined by the Geneve overlay, with the
# real parts (issue 13, part 5).  hv1 runs vpcd (af_packet), hv2 the XDP
# engine (driver mode); both are in the root namespace, each on its own
# devices.  The VMs are namespaces on veths (topo-overlay.yaml: vm1 and vm4
# on hv1, vm2 and vm3 on hv2; vm1, vm2 in subnet a, vm3, vm4 in b).  Each
# host's uplink is a veth (ov-hvN, served by its engine) whose peer is a
# port of the underlay bridge ov-br; the bridge also holds the internet
# (e2e-ovinet, the uplinks' gateway, 203.0.113.1) and a namespace that is
# no host (e2e-ovrogue).  MTU: the uplink veths and the rogue's are 1600,
# the VMs' 1500: a full-size inner frame (1514 bytes) is 1564 in Geneve
# (+50: outer Ethernet 14, IPv4 20, UDP 8, Geneve 8), which the underlay
# must carry as OVN's and AWS's do (docs/topology.md), so the bulk TCP
# checks below are also the MTU check.  The XDP side's veths get an
# XDP_PASS program on their peers, and every veth has its checksum
# offloads off, for the reasons test_xdp.sh gives.
#
# The tables come through a real etcd started here on loopback ports: each
# engine starts with its host's view of the file (vpcd --host hv1, vpcctl
# xdp start --host hv2), an agent per host (vpcctl agent --engine dpdk |
# xdp) takes over, and every change is `vpcctl publish --wait`.
# Checks, from inside the VM namespaces, with exact outputs:
#   ping and TCP (256 KB each way, content checked) between VMs of one
#     subnet on two hosts, and across subnets on two hosts, both ways;
#   a security group refusing port 22 across hosts, each way: the
#     connection times out, the receiving host counts sg-denied, the
#     sending host does not; replies cross with no reverse rule;
#   an elastic IP on each host to and from the internet, the internet's
#     ARP for it answered by its own host's uplink only;
#   a forged Geneve frame from the rogue namespace (no host), and one that
#     claims to come from the other host with the inner source of a VM that
#     host does not run, sent to each host: dropped and counted under
#     overlay-unknown-host and overlay-spoofed (vpcctl stats --json), the
#     target VM receives nothing;
#   vm4 moved from hv1 to hv2 by publishing a changed file (--wait): the
#     port moves, its traffic follows;
#   etcd stopped and restarted while a UDP stream crosses the overlay: no
#     datagram lost, the agents keep running, the next publish (port 22
#     opened) applies on both hosts;
#   a full-size (1500-byte) ping crosses with DF set; no uplink counts
#     tx_failed; vpcctl status shows both hosts at the revision, lag 0;
#   everything stops: agents 0, vpcd 0, xdp stop 0, etcd 143.
# About 25 s on the 2-core VM.  E2E_KEEP=1 keeps the logs in the tmp dir.
# usage: test_overlay.sh VPCD VPCCTL SOURCE_ROOT   (root, etcd; exit 77 without)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
here="$src/tests/e2e"
clang=${CLANG:-clang}
inst=e2e-ov
tmp=""
# shellcheck source=checks.sh
. "$here/checks.sh"

vms="ov1 ov2 ov3 ov4"
nss="$vms ovinet ovrogue"
links="ov-vm1 ov-vm2 ov-vm3 ov-vm4 ov-hv1 ov-hv2 ov-inet-br ov-rogue-br ov-br"
cleanup_net() {
	"$vpcctl" xdp stop --instance "$inst" >/dev/null 2>&1
	local ns l
	for ns in $nss; do
		ip netns pids "e2e-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "e2e-$ns" 2>/dev/null
	done
	for l in $links; do ip link del "$l" 2>/dev/null; done
}
cleanup() {
	cleanup_net
	# (E2E_KEEP=1: the logs stay, for a failure's post-mortem)
	[ -n "$tmp" ] && [ -z "${E2E_KEEP:-}" ] && rm -rf "$tmp"
}
check() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

e2e_need_root
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "SKIP: needs etcd and etcdctl (Debian: etcd-server, etcd-client)"
	exit 77
fi
if ! command -v "$clang" >/dev/null; then
	echo "SKIP: needs clang (\$CLANG) for the XDP_PASS program of the veths' peers"
	exit 77
fi
e2e_trap cleanup
cleanup_net 2>/dev/null
tmp=$(mktemp -d /tmp/vpc-overlay-e2e-XXXXXX)
sock=$tmp/vpcd.sock
cd "$src" || exit 1
t0=$SECONDS

# ---- the files: the first revision, vm4 moved, port 22 opened ----
t1=$tmp/t1.yaml t2=$tmp/t2.yaml t3=$tmp/t3.yaml
cp "$here/topo-overlay.yaml" "$t1"
sed '/^  - name: hv1/,/^  - name: hv2/{/vm4: /d}
     s|^      vm3: { type: af_packet, ifname: ov-vm3 }$|&\n      vm4: { type: af_packet, ifname: ov-vm4 }|
     s|name: vm4, host: hv1|name: vm4, host: hv2|' "$t1" >"$t2"
sed 's|^          - { protocol: tcp, ports: 80, source: 0.0.0.0/0 }$|&\n          - { protocol: tcp, ports: 22, source: 10.60.0.0/16 }|' "$t2" >"$t3"
for f in "$t1" "$t2" "$t3"; do
	"$vpcctl" validate "$f" >/dev/null || { fail "$f does not validate" "$("$vpcctl" validate "$f" 2>&1)"; exit 1; }
done
check "the moved file: vm4 is hv2's" "host hv2" \
	"$("$vpcctl" show --host hv1 "$t2" | sed -n 's/^    vm4 *\(host hv[0-9]\).*/\1/p')"

# ---- the network ----
printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; /* XDP_PASS */ }' \
	'char _license[] __attribute__((section("license"), used)) = "GPL";' |
	"$clang" -O2 -target bpf -c -x c - -o "$tmp/pass.o" || { fail "compiling the XDP_PASS program"; exit 1; }
# every namespace's eth0 gets it (a VM may move to hv2's XDP engine)
host_extra() { ip -n "$1" link set dev eth0 xdpdrv obj "$tmp/pass.o" sec xdp; }
noipv6() { sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"; }

ip link add ov-br type bridge || { fail "creating the underlay bridge"; exit 1; }
noipv6 ov-br
ip link set ov-br up
# uplink LINK MAC: LINK (the engine's) and LINK-br (the bridge's), MTU 1600
uplink() {
	ip link add "$1" type veth peer name "$1-br" || return 1
	local l
	for l in "$1" "$1-br"; do
		noipv6 "$l"
		ip link set "$l" mtu 1600
		ethtool -K "$l" tx off rx off >/dev/null 2>&1
	done
	ip link set "$1" address "$2"
	ip link set "$1-br" master ov-br
	ip link set "$1-br" up
	ip link set "$1" up
}
uplink ov-hv1 02:fe:00:00:01:01 && uplink ov-hv2 02:fe:00:00:02:01 || { fail "creating the uplinks"; exit 1; }
links="$links ov-hv1-br ov-hv2-br"
# hv2's engine sends into ov-hv2 from XDP: its peer needs NAPI (test_xdp.sh)
ip link set dev ov-hv2-br xdpdrv obj "$tmp/pass.o" sec xdp || { fail "XDP_PASS on ov-hv2-br"; exit 1; }

host ov1 ov-vm1 02:3c:0a:3c:01:0a 10.60.1.10/24 10.60.1.1 &&
	host ov2 ov-vm2 02:3c:0a:3c:01:14 10.60.1.20/24 10.60.1.1 &&
	host ov3 ov-vm3 02:3c:0a:3c:02:1e 10.60.2.30/24 10.60.2.1 &&
	host ov4 ov-vm4 02:3c:0a:3c:02:28 10.60.2.40/24 10.60.2.1 &&
	host ovinet ov-inet-br 02:fe:00:00:00:fe 203.0.113.1/24 "" &&
	host ovrogue ov-rogue-br 02:fe:00:00:00:99 192.0.2.99/24 "" || { fail "creating the namespaces"; exit 1; }
for l in ov-vm1 ov-vm2 ov-vm3 ov-vm4 ov-inet-br ov-rogue-br; do noipv6 "$l"; done
ip link set ov-inet-br master ov-br
ip -n e2e-ovrogue link set eth0 mtu 1600
ip link set ov-rogue-br mtu 1600
ip link set ov-rogue-br master ov-br
# the internet reaches the elastic IPs through the underlay (ARP answered
# by the uplink of the host that runs the interface)
ip -n e2e-ovinet route add 198.51.100.61/32 dev eth0
ip -n e2e-ovinet route add 198.51.100.62/32 dev eth0

# ---- etcd on two free loopback ports ----
etcd_setup
start_etcd || exit 1
ok "etcd starts on $E"

# ---- the engines, each with its host's view, and their agents ----
daemon_start vpcd "$tmp/vpcd.log" "$vpcd" --config "$t1" --host hv1 --socket "$sock" -- \
	--no-huge -m 512 --no-shconf --file-prefix=e2e-ov -l 0 --log-level=error
hv1() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }
hv2() { timeout "$E2E_WAIT" "$vpcctl" "$@" --instance "$inst"; }
vpcd_ready() { grep -q "forwarding" "$tmp/vpcd.log" && hv1 stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1
ok "vpcd (hv1) starts with hv1's view"
out=$("$vpcctl" xdp start "$t1" --host hv2 --instance "$inst" --mode native 2>&1)
check "vpcctl xdp start --host hv2: exit 0, attached to hv2's 3 ports" \
	"0 xdp: instance $inst attached to 3 ports (native), generation 1" "$? $out"
daemon_start agent-hv1 "$tmp/agent-hv1.log" "$vpcctl" agent --etcd "$E" --host hv1 --engine dpdk --socket "$sock"
daemon_start agent-hv2 "$tmp/agent-hv2.log" "$vpcctl" agent --etcd "$E" --host hv2 --engine xdp --instance "$inst"
n_hosts() { "$vpcctl" status --etcd "$E" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hosts"]))'; }
# (a function: wait_for runs it again each time; "$(...)" in its arguments
# would be expanded once)
n_hosts_is() { test "$(n_hosts 2>/dev/null)" = "$1"; }
if wait_for "$E2E_WAIT" "both agents to report" n_hosts_is 2; then
	ok "both agents report a status"
else
	fail "both agents report a status" "$("$vpcctl" status --etcd "$E" 2>&1)" \
		"$(tail -n 5 "$tmp/agent-hv1.log" "$tmp/agent-hv2.log")"
fi

# publish FILE: publish --wait; prints "EXIT LAST-LINE" (times normalized)
publish() {
	"$vpcctl" publish "$1" --etcd "$E" --wait --timeout "$E2E_WAIT" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	echo "$rc $(tail -1 "$tmp/out" | sed -E 's/ in [0-9.]+ s$/ in S s/')$(cat "$tmp/err")"
}
gen() { "$@" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
check "publish --wait: applied by both named hosts" "0 revision R: applied by 2 hosts in S s" \
	"$(publish "$t1" | sed 's/revision [0-9]*:/revision R:/')"
check "each engine took it through its agent (generation 2 on both)" "2 2" "$(gen hv1) $(gen hv2)"

# ---- traffic across the overlay ----
# counter ENGINE drops|paths NAME: a counter of vpcctl stats --json
counter() {
	"$1" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]][sys.argv[2]])' "$2" "$3"
}
serve_tcp ov1 80; serve_tcp ov2 80; serve_tcp ov3 80; serve_tcp ov4 80
serve_tcp ov1 22; serve_tcp ov2 22; serve_tcp ovinet 8080

ping_ok ov1 10.60.1.20 && ok "ping vm1 (hv1) -> vm2 (hv2), one subnet (switched over the overlay)" || fail "ping vm1 -> vm2 (one subnet, two hosts)"
ping_ok ov3 10.60.1.10 && ok "ping vm3 (hv2) -> vm1 (hv1), across subnets (routed over the overlay)" || fail "ping vm3 -> vm1 (across subnets, two hosts)"
check "the gateway resolves to the VPC router's MAC (answered by hv2)" "06:00:00:00:3c:01" \
	"$(in_ns ov3 ip neigh show 10.60.2.1 | awk '{print $5}')"
check "TCP 80 vm1 (hv1) -> vm2 (hv2), one subnet; the reply needs no rule (vm1's group has none for it)" \
	"hello from ov2, you are 10.60.1.10" "$(connect_tcp ov1 10.60.1.20 80 "$E2E_WAIT")"
check "TCP 80 vm2 (hv2) -> vm1 (hv1), one subnet" \
	"hello from ov1, you are 10.60.1.20" "$(connect_tcp ov2 10.60.1.10 80 "$E2E_WAIT")"
check "TCP 80 vm3 (hv2) -> vm4 (hv1), across subnets" \
	"hello from ov4, you are 10.60.2.30" "$(connect_tcp ov3 10.60.2.40 80 "$E2E_WAIT")"
check "TCP 80 vm4 (hv1) -> vm2 (hv2), across subnets" \
	"hello from ov2, you are 10.60.2.40" "$(connect_tcp ov4 10.60.1.20 80 "$E2E_WAIT")"
for p in 1 2; do
	[ "$(counter hv$p paths overlay-in)" -gt 0 ] 2>/dev/null || fail "hv$p: no overlay-in counted"
done

# 256 KB each way through an echo server, compared byte for byte: full-size
# segments (1514-byte frames, 1564 in Geneve) cross the underlay.
py_bulk_echo=$py_prologue'
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
try:
    while True:
        c, a = s.accept(); c.settimeout(60); buf = b""
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            c.sendall(buf)
        except OSError:
            pass
        c.close()
except Stop:
    pass
'
bulk() { # NS ADDR: prints "N bytes echoed intact" or what went wrong
	in_ns "$1" python3 -c '
import hashlib, os, socket, sys
data = os.urandom(256 * 1024); back = b""
s = socket.socket(); s.settimeout(float(sys.argv[2]))
try:
    s.connect((sys.argv[1], 5001)); s.sendall(data); s.shutdown(socket.SHUT_WR)
    while True:
        d = s.recv(65536)
        if not d:
            break
        back += d
except OSError as e:
    print("error after %d bytes back: %s" % (len(back), e)); sys.exit()
print("%d bytes echoed intact" % len(back) if back == data else "%d of %d bytes back, differing" % (len(back), len(data)))
' "$2" "$E2E_WAIT"
}
for ns in ov1 ov2 ov3; do
	ns_daemon "bulk-echo $ns" "$ns" python3 -c "$py_bulk_echo" 5001
	ns_serving "bulk-echo $ns" "$ns" tcp 5001
done
check "TCP 256 KB vm1 (hv1) <-> vm2 (hv2), one subnet, content checked" "262144 bytes echoed intact" "$(bulk ov1 10.60.1.20)"
check "TCP 256 KB vm4 (hv1) <-> vm3 (hv2), one subnet, content checked" "262144 bytes echoed intact" "$(bulk ov4 10.60.2.30)"
check "TCP 256 KB vm3 (hv2) <-> vm1 (hv1), across subnets, content checked" "262144 bytes echoed intact" "$(bulk ov3 10.60.1.10)"
check "TCP 256 KB vm4 (hv1) <-> vm2 (hv2), across subnets, content checked" "262144 bytes echoed intact" "$(bulk ov4 10.60.1.20)"

in_ns ov1 ping -c 2 -i 0.5 -M do -s 1472 -w "$E2E_WAIT" -q 10.60.1.20 >/dev/null &&
	ok "ping -M do -s 1472 vm1 -> vm2: a full 1500-byte packet crosses (1564-byte Geneve frames)" ||
	fail "a full-size packet across the overlay (ping -M do -s 1472)"
check "no frame failed to leave either uplink (tx_failed)" "0 0" \
	"$(for h in hv1 hv2; do "$h" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ports"]["uplink"]["tx_failed"])'; done | tr '\n' ' ' | sed 's/ $//')"

# ---- a security group refusing port 22 across hosts ----
d1=$(counter hv1 drops sg-denied) d2=$(counter hv2 drops sg-denied)
check "TCP 22 vm1 (hv1) -> vm2 (hv2): refused by vm2's group (times out)" timeout "$(connect_tcp ov1 10.60.1.20 22)"
e1=$(counter hv1 drops sg-denied) e2=$(counter hv2 drops sg-denied)
check "... counted under sg-denied by hv2 (the receiver's host), not by hv1" "hv1 0 hv2 True" \
	"hv1 $((e1 - d1)) hv2 $([ $((e2 - d2)) -gt 0 ] && echo True || echo "$((e2 - d2))")"
check "TCP 22 vm2 (hv2) -> vm1 (hv1): refused by vm1's group (times out)" timeout "$(connect_tcp ov2 10.60.1.10 22)"
f1=$(counter hv1 drops sg-denied) f2=$(counter hv2 drops sg-denied)
check "... counted under sg-denied by hv1, not by hv2" "hv1 True hv2 0" \
	"hv1 $([ $((f1 - e1)) -gt 0 ] && echo True || echo "$((f1 - e1))") hv2 $((f2 - e2))"

# ---- elastic IPs: each on its own host ----
check "vm1 (hv1) -> the internet: seen as its elastic IP" "hello from ovinet, you are 198.51.100.61" \
	"$(connect_tcp ov1 203.0.113.1 8080 "$E2E_WAIT")"
check "vm2 (hv2) -> the internet: seen as its elastic IP" "hello from ovinet, you are 198.51.100.62" \
	"$(connect_tcp ov2 203.0.113.1 8080 "$E2E_WAIT")"
check "the internet -> 198.51.100.61 (vm1 on hv1)" "hello from ov1, you are 203.0.113.1" \
	"$(connect_tcp ovinet 198.51.100.61 80 "$E2E_WAIT")"
check "the internet -> 198.51.100.62 (vm2 on hv2)" "hello from ov2, you are 203.0.113.1" \
	"$(connect_tcp ovinet 198.51.100.62 80 "$E2E_WAIT")"
check "the internet's ARP: each elastic IP answered by its own host's uplink" \
	"198.51.100.61 02:fe:00:00:01:01 198.51.100.62 02:fe:00:00:02:01" \
	"$(for a in 198.51.100.61 198.51.100.62; do echo -n "$a $(in_ns ovinet ip neigh show "$a" | awk '{print $5}') "; done | sed 's/ $//')"

# ---- forged Geneve frames from the rogue namespace ----
# forge DSTMAC OUTER-SRC OUTER-DST INNER-SMAC INNER-DMAC INNER-SRC INNER-DST:
# 5 Geneve frames (VNI 60) carrying an ICMP echo request, written raw on
# the rogue's eth0 (AF_PACKET), onto the underlay bridge.
py_forge='
import socket, struct, sys
def mac(s): return bytes.fromhex(s.replace(":", ""))
def ip(s): return socket.inet_aton(s)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def ipv4(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, ttl, proto, 0, ip(src), ip(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
dmac, osrc, odst, ismac, idmac, isrc, idst = sys.argv[1:8]
icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"forged" * 8
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
inner = mac(idmac) + mac(ismac) + b"\x08\x00" + ipv4(isrc, idst, 1, icmp)
gnv = struct.pack("!BBHI", 0, 0, 0x6558, 60 << 8) + inner
udp = struct.pack("!HHHH", 50000, 6081, 8 + len(gnv), 0) + gnv
frame = mac(dmac) + mac("02:fe:00:00:00:99") + b"\x08\x00" + ipv4(osrc, odst, 17, udp)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))
for _ in range(5): s.send(frame)
'
at_least() { test "$(counter "$1" drops "$2")" -ge "$3"; } # ENGINE REASON N
forge() { in_ns ovrogue python3 -c "$py_forge" "$@"; }
echos() { ip netns exec "e2e-$1" nstat -az IcmpInEchos | awk '/IcmpInEchos/ {print $2}'; }
# forged HOST VM-NS WHAT REASON ARGS...: 5 frames to HOST, counted
# under REASON there, VM-NS (their inner destination) receiving none
forged() {
	local h=$1 ns=$2 what=$3 reason=$4 before echos0 n
	shift 4
	before=$(counter "$h" drops "$reason")
	echos0=$(echos "$ns")
	forge "$@" || { fail "$what: sending it"; return; }
	if wait_for "$E2E_WAIT" "$h to count 5 more under $reason" at_least "$h" "$reason" $((before + 5)); then
		n=$(($(counter "$h" drops "$reason") - before))
	else
		n="$(($(counter "$h" drops "$reason") - before)) (stats: $("$h" stats | grep -E 'overlay|drop' | tr '\n' ' '))"
	fi
	check "$what: dropped by $h, counted under $reason; the VM gets no echo request" "5 0" \
		"$n $(($(echos "$ns") - echos0))"
}
forged hv2 ov2 "a Geneve frame from a namespace that is no host (192.0.2.99) to hv2" overlay-unknown-host \
	02:fe:00:00:02:01 192.0.2.99 192.0.2.2 02:3c:0a:3c:01:0a 02:3c:0a:3c:01:14 10.60.1.10 10.60.1.20
forged hv1 ov1 "a Geneve frame from a namespace that is no host (192.0.2.99) to hv1" overlay-unknown-host \
	02:fe:00:00:01:01 192.0.2.99 192.0.2.1 02:3c:0a:3c:01:14 02:3c:0a:3c:01:0a 10.60.1.20 10.60.1.10
# From "hv1" (its underlay address, forged) with the inner source of vm3,
# which hv2 itself runs: routed to vm2 as hv1 would have sent it.
forged hv2 ov2 "a Geneve frame claiming hv1 speaks for vm3 (hv2's own VM), to hv2" overlay-spoofed \
	02:fe:00:00:02:01 192.0.2.1 192.0.2.2 06:00:00:00:3c:01 02:3c:0a:3c:01:14 10.60.2.30 10.60.1.20
# From "hv2" with the inner source of vm4, which hv1 runs: routed to vm1.
forged hv1 ov1 "a Geneve frame claiming hv2 speaks for vm4 (hv1's own VM), to hv1" overlay-spoofed \
	02:fe:00:00:01:01 192.0.2.2 192.0.2.1 06:00:00:00:3c:01 02:3c:0a:3c:01:0a 10.60.2.40 10.60.1.10
ping_ok ov1 10.60.1.20 && ok "real traffic goes on after the forgeries" || fail "ping vm1 -> vm2 after the forgeries"

# ---- vm4 moves from hv1 to hv2 ----
rx4() { "$1" stats --json | python3 -c 'import json,sys; p = json.load(sys.stdin)["ports"]; print(p["vm4"]["rx_packets"] if "vm4" in p else "none")'; }
check "before the move: vm4 is a port of hv1, not of hv2" "none" "$(rx4 hv2)"
check "publish --wait of the move: applied by both hosts" "0 revision R: applied by 2 hosts in S s" \
	"$(publish "$t2" | sed 's/revision [0-9]*:/revision R:/')"
check "hv1 closed vm4's port, hv2 opened it" "none opened" \
	"$(rx4 hv1) $([ "$(rx4 hv2)" != none ] && echo opened || echo none)"
ip -d link show ov-vm4 | grep -q "prog/xdp id .* name vpc_xdp " && ok "hv2's XDP program is on ov-vm4" ||
	fail "no XDP program on ov-vm4" "$(ip -d link show ov-vm4)"
check "TCP 80 vm1 (hv1) -> vm4 (now hv2): over the overlay" "hello from ov4, you are 10.60.1.10" \
	"$(connect_tcp ov1 10.60.2.40 80 "$E2E_WAIT")"
check "TCP 80 vm2 -> vm4 (both on hv2 now)" "hello from ov4, you are 10.60.1.20" \
	"$(connect_tcp ov2 10.60.2.40 80 "$E2E_WAIT")"
check "TCP 256 KB vm4 (hv2) <-> vm1 (hv1), content checked" "262144 bytes echoed intact" "$(bulk ov4 10.60.1.10)"
n=$(rx4 hv2)
[ "$n" -gt 0 ] 2>/dev/null && ok "vm4's traffic enters hv2 ($n packets on its port there)" || fail "vm4's port on hv2 received nothing" "$n"

# ---- etcd stopped and restarted while traffic flows ----
# vm1 (hv1) streams numbered datagrams to vm3 (hv2) until told to stop; the
# sink has every one of them or says what is missing.
py_stream_src='
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); n = 0
while not os.path.exists(sys.argv[3]) and n < 100000:
    s.sendto(str(n).encode(), (sys.argv[1], int(sys.argv[2]))); n += 1; time.sleep(0.002)
for _ in range(20):
    s.sendto(b"end %d" % n, (sys.argv[1], int(sys.argv[2]))); time.sleep(0.05)
print(n)
'
py_stream_sink=$py_prologue'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)
s.bind(("0.0.0.0", int(sys.argv[1]))); seen = set(); n = None
try:
    while n is None or len(seen) < n:
        d = s.recvfrom(100)[0].decode()
        if d.startswith("end "):
            n = int(d[4:])
        else:
            seen.add(int(d))
except Stop:
    pass
print(len(seen), "missing", "?" if n is None else n - len(seen))
'
ns_daemon "stream-sink ov3" ov3 python3 -c "$py_stream_sink" 5353
ns_serving "stream-sink ov3" ov3 udp 5353
ns_daemon "stream-source ov1" ov1 python3 -c "$py_stream_src" 10.60.2.30 5353 "$tmp/stream-stop"
daemon_stop etcd TERM 143 && ok "etcd stops on SIGTERM (143) while the stream flows"
wait_for "$E2E_WAIT" "the agents to notice" \
	eval 'grep -q "lost etcd" "$tmp/agent-hv1.log" && grep -q "lost etcd" "$tmp/agent-hv2.log"' &&
	ok "both agents notice that etcd is gone"
ping_ok ov2 10.60.1.10 && ok "without etcd: vm2 (hv2) pings vm1 (hv1)" || fail "ping without etcd"
check "without etcd: the engines keep their tables" "3 3" "$(gen hv1) $(gen hv2)"
start_etcd && ok "etcd restarts (same data) while the stream flows"
touch "$tmp/stream-stop"
daemon_join "stream-source ov1"
daemon_join "stream-sink ov3"
sent=$(cat "$tmp/stream-source_ov1.log")
check "the stream across the outage ($sent datagrams vm1 -> vm3, hv1 -> hv2): every one arrived" \
	"$sent missing 0" "$(cat "$tmp/stream-sink_ov3.log")"
daemon_running agent-hv1 && daemon_running agent-hv2 && ok "the agents kept running" || fail "an agent died without etcd"
check "after the restart, the next publish (port 22 opened) is applied by both" \
	"0 revision R: applied by 2 hosts in S s" "$(publish "$t3" | sed 's/revision [0-9]*:/revision R:/')"
check "... and takes effect: TCP 22 vm1 (hv1) -> vm2 (hv2)" "hello from ov2, you are 10.60.1.10" \
	"$(connect_tcp ov1 10.60.1.20 22 "$E2E_WAIT")"
check "... TCP 22 vm2 (hv2) -> vm1 (hv1)" "hello from ov1, you are 10.60.1.20" \
	"$(connect_tcp ov2 10.60.1.10 22 "$E2E_WAIT")"
check "vpcctl status: both hosts at the topology's revision, lag 0, no error" "hv1 0 None hv2 0 None" \
	"$("$vpcctl" status --etcd "$E" --json | python3 -c 'import json,sys
s = json.load(sys.stdin)
print(" ".join("%s %d %s" % (h["host"], h["lag"], h["error"]) for h in s["hosts"]))')"
grep -q "etcd answers again" "$tmp/agent-hv1.log" && grep -q "etcd answers again" "$tmp/agent-hv2.log" &&
	ok "both agents say they resumed" || fail "agents resumed" "$(tail -n 3 "$tmp/agent-hv1.log" "$tmp/agent-hv2.log")"

# ---- everything stops ----
stop_servers ov1 ov2 ov3 ov4 ovinet
for ns in ov1 ov2 ov3; do daemon_stop "bulk-echo $ns"; done
daemon_stop agent-hv1 TERM 0 && ok "agent hv1 stops on SIGTERM with exit status 0"
daemon_stop agent-hv2 TERM 0 && ok "agent hv2 stops on SIGTERM with exit status 0"
daemon_stop vpcd INT 0 && ok "vpcd stops on SIGINT with exit status 0"
out=$("$vpcctl" xdp stop --instance "$inst" 2>&1)
check "vpcctl xdp stop: exit 0, detached from hv2's 4 ports" "0 xdp: instance $inst detached from 4 ports" "$? $out"
daemon_stop etcd TERM 143 && ok "etcd stops on SIGTERM (143: the signal re-raised after a clean shutdown)"
echo "# run time: $((SECONDS - t0)) s"
e2e_summary
