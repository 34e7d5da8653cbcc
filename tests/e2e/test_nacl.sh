#!/usr/bin/env bash
# End-to-end: a network ACL in vpcd between real TCP/IP stacks (the VMs
# and the internet of topo-vpcd.yaml, namespaces on veths, af_packet).
# topo-vpcd-nacl.yaml puts an ACL on subnet b that denies TCP 80 from
# subnet a on entering b, though vm2's security group allows it: vm1's
# connection to vm2:80 times out and is counted under nacl-ingress; ping
# across the same boundary, and TCP 80 inside subnet a, still pass. An
# apply without the ACL lets the next connection through; an apply with
# it again cuts the connection opened meanwhile at its next packet
# (stateless: unlike a security group's rule, an ACL holds on established
# connections). Its first part: about 10 s.
# usage: test_nacl.sh VPCD VPCCTL SOURCE_ROOT   (root; cleans up after itself)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
here="$src/tests/e2e"
tmp=""
. "$here/checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }

cleanup() {
	e2e_cleanup_net
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpcd-nacl-XXXXXX)
log=$tmp/vpcd.log
sock=$tmp/vpcd.sock

e2e_hosts

daemon_start vpcd "$log" "$vpcd" --config "$here/topo-vpcd-nacl.yaml" --socket "$sock" -- \
	--no-huge -m 512 --no-shconf --file-prefix=e2e-nacl -l 0 --log-level=error
vpcd_ready() { grep -q "forwarding" "$log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding and answering on $sock" vpcd_ready || exit 1

nacl_drops() { vctl stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["drops"].get("nacl-ingress", 0))'; }

serve_tcp vm2 80; serve_tcp vm1 80

got=$(connect_tcp vm1 10.50.2.10 80)
[ "$got" = "timeout" ] && ok "TCP 80 from subnet a to b denied by b's ACL (the group allows it)" || fail "TCP 80 a -> b" "$got"
n=$(nacl_drops)
[ "${n:-0}" -ge 1 ] 2>/dev/null && ok "counted under nacl-ingress ($n)" || fail "nacl-ingress counted" "$n"
ping_ok vm1 10.50.2.10 && ok "ping across the same boundary passes (rule 110)" || fail "ping a -> b"
got=$(connect_tcp vm3 10.50.1.10 80 "$E2E_WAIT")
[ "$got" = "hello from vm1, you are 10.50.1.11" ] && ok "TCP 80 inside subnet a: no ACL in the way" || fail "TCP 80 in a" "$got"

out=$(vctl apply "$here/topo-vpcd.yaml")
[ "$out" = "applied: generation 2, 2 VPCs, 4 interfaces" ] && ok "apply without the ACL" || fail "apply" "$out"
got=$(connect_tcp vm1 10.50.2.10 80 "$E2E_WAIT")
[ "$got" = "hello from vm2, you are 10.50.1.10" ] && ok "then TCP 80 a -> b connects" || fail "TCP 80 after the apply" "$got"

# A connection opened without the ACL (to an echo server), then the ACL
# applied: its next segment from vm1 is denied (the client's second send
# gets no echo).
stop_servers vm1 vm2
ns_daemon "echo-server vm2:80" vm2 python3 -c "$py_echo_once" 80
ns_serving "echo-server vm2:80" vm2 tcp 80
# (its socket timeout 15 s: the denied segment's echo never comes, and the
# client exits 1 on that timeout)
ns_daemon "keep-open client vm1" vm1 python3 -c "$py_keep_open" 10.50.2.10 80 "$tmp/go" "$tmp/done" 15
daemon_wait "keep-open client vm1" "its connection to vm2:80 open and echoed" test -e "$tmp/go"
before=$(nacl_drops)
out=$(vctl apply "$here/topo-vpcd-nacl.yaml")
[ "$out" = "applied: generation 3, 2 VPCs, 4 interfaces" ] && ok "apply with the ACL again" || fail "apply" "$out"
# (the worker takes the new tables between two bursts after the apply
# answers: traffic through it first, so that the segment meets them)
ping_ok vm1 10.50.2.10 || fail "ping after the apply"
touch "$tmp/done"
after_ok() { [ "$(nacl_drops)" -gt "$before" ]; }
wait_for "$E2E_WAIT" "the open connection's next segment counted under nacl-ingress" after_ok &&
	ok "the established connection is cut at its next packet" ||
	fail "established connection" "$(nacl_drops) <= $before; $(vctl stats)"
daemon_join "keep-open client vm1" 1 && ok "its client got no echo (timed out)"
daemon_stop "echo-server vm2:80"
daemon_stop vpcd INT 0 && ok "SIGINT: vpcd exits with status 0"
e2e_summary
