#!/usr/bin/env bash
# End-to-end: vpcctl capture on vpcd's live ports (capture_checks.sh):
# a UDP flow between two namespace VMs captured into pcapng files (both
# directions, one direction, -c N), read back by tcpdump and by a pcapng
# reader; the readable lines without -w; a capture stopped by SIGINT; a
# second capture refused; a client that never reads, beside which
# forwarding loses nothing, and whose capture ends when it leaves.  Then
# vpcd stops cleanly on SIGINT.
# usage: test_vpcd_capture.sh VPCD VPCCTL SOURCE_ROOT [LCORES]   (root; cleans up)
# LCORES: vpcd's EAL core list (default 0); with 0-1 a flow's directions
# cross two lcores, so a capture takes copies from two rings.
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
lcores=${4:-0}
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
vctl_target="--socket $sock"

# A client that asks for a capture of vm2 and then never reads: beside it
# forwarding loses nothing; once it has left, its capture is off.
capture_gone() {
	daemon_start capture-stall "$tmp/capture-stall.log" python3 -c '
import signal, socket, struct, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack("<IIII", 0x4c544356, 8, 0, 80) + sys.argv[2].encode().ljust(64, b"\0") + struct.pack("<IIQ", 3, 2048, 0))
print("asked", flush=True)
while True: time.sleep(1)' "$sock" vm2
	daemon_wait capture-stall "the stalling client's request" grep -qs asked "$tmp/capture-stall.log"
	capture_forwards "a capture client that never reads"
	daemon_stop capture-stall TERM 0
	capture_again "the client that never read"
}

e2e_hosts

daemon_start vpcd "$log" "$vpcd" --config "$topo" --socket "$sock" -- --no-huge -m 512 --no-shconf \
	--file-prefix=e2e-vpcd-cap -l "$lcores" --log-level=error
vpcd_ready() { grep -q "forwarding" "$log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1

e2e_capture_checks

daemon_stop vpcd INT 0 && ok "SIGINT: vpcd exits with status 0"
e2e_summary
