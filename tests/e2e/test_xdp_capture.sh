#!/usr/bin/env bash
# End-to-end: vpcctl capture --instance on the XDP engine's live ports
# (capture_checks.sh, the same checks as test_vpcd_capture.sh): the
# program copies the captured port's frames into its ring buffer, vpcctl
# writes the pcapng file; a capture SIGKILLed mid-way leaves forwarding
# alone and the next capture takes over.
# usage: test_xdp_capture.sh VPCCTL SOURCE_ROOT [native|generic]   (root; cleans up)
set -uo pipefail
vpcctl=$1
src=$2
mode=${3:-native}
here="$src/tests/e2e"
topo="$here/topo-vpcd.yaml"
inst=e2e-xdp-cap
clang=${CLANG:-clang}
tmp=""
case $mode in
native | generic) ;;
*) echo "usage: test_xdp_capture.sh VPCCTL SOURCE_ROOT [native|generic]" >&2; exit 2 ;;
esac
. "$here/checks.sh"
. "$here/capture_checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --instance "$inst"; }
vctl_target="--instance $inst"

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
	# driver mode on veth: the namespace side needs an XDP program of its
	# own to receive redirected frames (bpf/README.md, Limits)
	if ! command -v "$clang" >/dev/null; then
		echo "SKIP: native mode needs clang (\$CLANG) for the namespaces' XDP_PASS program"
		exit 77
	fi
	printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; /* XDP_PASS */ }' \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' |
		"$clang" -O2 -target bpf -c -x c - -o "$tmp/pass.o" || { echo "not ok - compiling the XDP_PASS program"; exit 1; }
	host_extra() { ip -n "$1" link set dev eth0 xdpdrv obj "$tmp/pass.o" sec xdp; }
fi

# A capture of vm2 killed with SIGKILL (its flag stays set, nobody reads
# the ring): forwarding goes on; the next capture takes the port over.
capture_gone() {
	daemon_start capture-kill "$tmp/capture-kill.log" "$vpcctl" capture vm2 -w "$tmp/killed.pcapng" \
		--instance "$inst"
	daemon_wait capture-kill "the capture of vm2 on" grep -qs "^capturing" "$tmp/capture-kill.log"
	capture_forwards "a capture running"
	daemon_stop capture-kill KILL 137 2>/dev/null # (not the shell's "Killed" line)
	capture_forwards "a capture SIGKILLed, its flag left set"
	capture_again "the SIGKILLed capture"
}

e2e_hosts

out=$("$vpcctl" xdp start "$topo" --instance "$inst" --mode "$mode" 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
	echo "not ok - vpcctl xdp start failed (exit $rc)"; printf '%s\n' "$out" | sed 's/^/    /'; exit 1
fi
ok "vpcctl xdp start ($mode)"

e2e_capture_checks

out=$("$vpcctl" xdp stop --instance "$inst" 2>&1)
[ $? = 0 ] && ok "vpcctl xdp stop" || fail "xdp stop" "$out"
e2e_summary
