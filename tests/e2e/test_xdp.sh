#!/usr/bin/env bash
# End-to-end: the XDP engine between real TCP/IP stacks -- the checks of
# test_vpcd.sh (checks.sh), against `vpcctl xdp start` instead of vpcd.
# Each VM, and the internet, is a network namespace on a veth pair; the XDP
# program is attached to the host sides named by topo-vpcd.yaml, and
# vpcctl selects the instance with --instance.  Here, besides: the start
# line, a program attached to every host port in the mode asked for, its
# maps pinned, the closed port left without one; and `vpcctl xdp stop`
# detaches from every port, unpins, and nothing is forwarded after it.
# usage: test_xdp.sh VPCCTL SOURCE_ROOT [MODE]   (root; cleans up after itself)
# MODE: native (default; driver mode) or generic (SKB mode).
#
# In native mode a frame that XDP redirects into a veth, or sends back out
# of one with XDP_TX, reaches the peer (namespace) side only through that
# side's NAPI, which a veth has only with an XDP program (or GRO) on it;
# and XDP_TX flushes the peer only when it has an XDP program (with GRO
# alone the frames wait for the next packet).  So each namespace's eth0
# gets a program that passes everything (compiled here with clang; $CLANG
# to choose another).  Its transmit checksum offload is off (checks.sh):
# a frame with a partial checksum would leave the veth as raw data with
# the checksum unfinished.  Generic mode needs neither.
set -uo pipefail
vpcctl=$1
src=$2
mode=${3:-native}
here="$src/tests/e2e"
topo="$here/topo-vpcd.yaml"
inst=e2e-xdp
pins=/sys/fs/bpf/vpc/$inst
clang=${CLANG:-clang}
tmp=""
case $mode in
native) prog=xdp ;;
generic) prog=xdpgeneric ;;
*) echo "usage: test_xdp.sh VPCCTL SOURCE_ROOT [native|generic]" >&2; exit 2 ;;
esac
. "$here/checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --instance "$inst"; }
E2E_ENGINE=xdp	# checks.sh: the engine vpcctl trace FILE compares with

cleanup() {
	"$vpcctl" xdp stop --instance "$inst" >/dev/null 2>&1
	e2e_cleanup_net
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpc-xdp-e2e-XXXXXX)

if [ "$mode" = native ]; then
	if ! command -v "$clang" >/dev/null; then
		echo "SKIP: native mode needs clang (\$CLANG) for the namespaces' XDP_PASS program"
		exit 77
	fi
	printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; /* XDP_PASS */ }' \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' |
		"$clang" -O2 -target bpf -c -x c - -o "$tmp/pass.o" || { echo "not ok - compiling the XDP_PASS program"; exit 1; }
	host_extra() { ip -n "$1" link set dev eth0 xdpdrv obj "$tmp/pass.o" sec xdp; }
fi

e2e_hosts

# xdp_attached HOSTIF: an XDP program in the test's mode is on it
# (the mode is a word of the link's first line: "xdp" or "xdpgeneric")
xdp_attached() { ip -d link show "$1" 2>/dev/null | head -1 | grep -qw "$prog" &&
	ip -d link show "$1" | grep -q "prog/xdp id .* name vpc_xdp "; }
# xdp_none HOSTIF: no XDP program of any mode on it
xdp_none() { ! ip -d link show "$1" 2>/dev/null | grep -q xdp; }

out=$("$vpcctl" xdp start "$topo" --instance "$inst" --mode "$mode" 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
	echo "not ok - vpcctl xdp start failed (exit $rc)"; printf '%s\n' "$out" | sed 's/^/    /'; exit 1
fi
[ "$out" = "xdp: instance $inst attached to 5 ports ($mode), generation 1" ] &&
	ok "vpcctl xdp start: attached to 5 ports ($mode)" || fail "xdp start output" "$out"
missing=""
for l in e2e-vm1 e2e-vm2 e2e-vm3 e2e-twin1 e2e-up; do xdp_attached "$l" || missing="$missing $l"; done
[ -z "$missing" ] && ok "an XDP program ($mode) on every host port" || fail "XDP program attached" "missing on:$missing"
[ -d "$pins" ] && ok "maps pinned under $pins" || fail "pinned under $pins"

e2e_checks

xdp_none e2e-vm5 && ok "the closed port (vm5) has no XDP program left" || fail "XDP program left on e2e-vm5" "$(ip -d link show e2e-vm5)"
got=$(vctl stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["generation"], d["drops"]["sg-denied"] > 0)')
rc=$?
[ "$rc" = 0 ] && [ "$got" = "105 True" ] && ok "stats without the deleted port: generation 105, sg-denied counted" || fail "stats after the deleted port (exit $rc)" "$got"

# An apply whose new port names no device is refused before anything is
# published: the generation stays, nothing is attached, traffic goes on.
sed 's/ifname: e2e-vm5/ifname: e2e-nodev/' "$here/topo-vpcd-add.yaml" >"$tmp/nodev.yaml"
out=$(vctl apply "$tmp/nodev.yaml" 2>&1)
rc=$?
g=$(vctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
[ "$rc" = 1 ] && [ "$out" = "refused: port 'vm5': no network device 'e2e-nodev'" ] && [ "$g" = 105 ] &&
	ok "an apply naming a missing device is refused; generation stays 105" || fail "apply with a missing device" "exit $rc: $out (generation $g)"
ping_ok vm1 10.50.2.10 && ok "traffic goes on after the refused apply" || fail "ping after the refused apply"
# IP fragments (the XDP program sees them as they cross the veth): 3000
# bytes of ICMP, three fragments each way, routed across subnets.
in_ns vm1 ping -c 2 -i 0.5 -s 3000 -w "$E2E_WAIT" -q 10.50.2.10 >/dev/null &&
	ok "ping -s 3000 vm1 -> vm2: the later fragments follow their first" || fail "ping -s 3000 (fragments)"

# vm3's interface is gone, and its link with it: 4 ports are left to
# detach.
out=$("$vpcctl" xdp stop --instance "$inst" 2>&1)
rc=$?
[ "$rc" = 0 ] && [ "$out" = "xdp: instance $inst detached from 4 ports" ] &&
	ok "vpcctl xdp stop" || fail "xdp stop (exit $rc)" "$out"
left=""
for l in e2e-vm1 e2e-vm2 e2e-vm5 e2e-twin1 e2e-up; do xdp_none "$l" || left="$left $l"; done
[ -z "$left" ] && ok "after stop no XDP program on the host ports" ||
	fail "XDP programs left after stop" "on:$left" "$(for l in $left; do ip -d link show "$l"; done)"
[ ! -e "$pins" ] && ok "after stop $pins is gone" || fail "pins left after stop" "$(ls -la "$pins" 2>&1)"
ping_none vm1 10.50.2.10 && ok "after stop nothing is forwarded" || fail "traffic still forwarded after stop"
if vctl stats --json >/dev/null 2>&1; then fail "stats of a stopped instance succeed"; else ok "after stop the instance is gone (stats fail)"; fi

e2e_summary
