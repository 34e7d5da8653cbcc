#!/usr/bin/env bash
# End-to-end: vpcctl capture on vpcd's live ports (capture_checks.sh):
# a UDP flow between two namespace VMs captured into pcapng files (both
# directions, one direction, -c N), read back by tcpdump and by a pcapng
# reader; the readable lines without -w; a capture stopped by SIGINT; a
# second capture refused; a client that never reads, beside which
# forwarding loses nothing, and whose capture ends when it leaves.  Then
# vpcd stops cleanly on SIGINT.
# usage: test_vpcd_capture.sh VPCD VPCCTL SOURCE_ROOT   (root; cleans up after itself)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
here="$src/tests/e2e"
topo="$here/topo-vpcd.yaml"
tmp=""
. "$here/checks.sh"
. "$here/capture_checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }

cleanup() {
	e2e_cleanup_net
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpcd-e2e-XXXXXX)
log=$tmp/vpcd.log
sock=$tmp/vpcd.sock
capture_sock=$sock
vctl_target="--socket $sock"

e2e_hosts

daemon_start vpcd "$log" "$vpcd" --config "$topo" --socket "$sock" -- --no-huge -m 512 --no-shconf \
	--file-prefix=e2e-vpcd-cap -l 0 --log-level=error
vpcd_ready() { grep -q "forwarding" "$log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1

e2e_capture_checks

daemon_stop vpcd INT 0 && ok "SIGINT: vpcd exits with status 0"
e2e_summary
