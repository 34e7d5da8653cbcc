#!/usr/bin/env bash
# End-to-end: the XDP engine's load-balancer health checks, between real
# TCP/IP stacks.  topo-xdp-lb.yaml: a client (lbc) and two targets (lbt1,
# lbt2), each a network namespace on a veth, behind an internal balancer
# (10.61.1.100, tcp/80 -> port 8080, checks every 5 s, 2 results in a row
# either way).  `vpcctl xdp start` starts the instance's health checker
# (control/xdp_health.h); its probes leave by the targets' host-side
# veths, their SYN-ACKs come back through the program.  Checks:
#  - start starts the checker (its pid in /run/vpc-xdp/NAME/health.pid);
#  - `vpcctl lb --instance` shows both targets healthy within 15 s;
#  - 20 connections to the balancer reach both targets (each server
#    answers with its own name);
#  - with lbt1's server stopped (its kernel resets the probes), lbt1 is
#    unhealthy within 15 s, and every new connection goes to lbt2;
#  - an apply (the active table set flips): the same checker takes the new
#    image, the states carry over, new connections still avoid lbt1;
#  - lbt1's server back: healthy again within 15 s, through the new
#    tables' maps, and both targets get connections;
#  - lbt1's device deleted: its probes fail and are counted (probes_lost),
#    the checker goes on;
#  - `vpcctl xdp stop` stops the checker first and removes its files.
# usage: test_xdp_lb.sh VPCCTL SOURCE_ROOT [MODE]   (root; cleans up after itself)
# MODE: native (default; driver mode: the namespaces' veths get an
# XDP_PASS program, as in test_xdp.sh) or generic (SKB mode).
set -uo pipefail
vpcctl=$1
src=$2
mode=${3:-native}
here="$src/tests/e2e"
topo="$here/topo-xdp-lb.yaml"
inst=e2e-xdp-lb
run=/run/vpc-xdp/$inst
clang=${CLANG:-clang}
tmp=""
case $mode in
native | generic) ;;
*) echo "usage: test_xdp_lb.sh VPCCTL SOURCE_ROOT [native|generic]" >&2; exit 2 ;;
esac
. "$here/checks.sh"

vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --instance "$inst"; }

cleanup() {
	"$vpcctl" xdp stop --instance "$inst" >/dev/null 2>&1
	for ns in lbc lbt1 lbt2; do
		ip netns pids "e2e-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "e2e-$ns" 2>/dev/null
		ip link del "e2e-$ns" 2>/dev/null
	done
	rm -rf "$run"	# its log (stop keeps it)
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup

e2e_need_root
cleanup 2>/dev/null
tmp=$(mktemp -d /tmp/vpc-xdp-lb-e2e-XXXXXX)

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

host lbc e2e-lbc 02:3d:0a:3d:00:0a 10.61.0.10/24 10.61.0.1
host lbt1 e2e-lbt1 02:3d:0a:3d:01:0a 10.61.1.10/24 10.61.1.1
host lbt2 e2e-lbt2 02:3d:0a:3d:01:0b 10.61.1.11/24 10.61.1.1
# The targets serve before the engine starts: the first probes find them.
serve_tcp lbt1 8080
serve_tcp lbt2 8080

# lb_states: "lbt1=STATE lbt2=STATE", from `vpcctl lb`'s text
lb_states() { vctl lb | awk '$2 == "port" { printf "%s%s=%s", sep, $1, $4; sep = " " } END { print "" }'; }
states_are() { [ "$(lb_states 2>/dev/null)" = "$1" ]; }
# many N: N connections from lbc to the balancer, one after the other;
# prints how many each target answered ("lbt1=N lbt2=M"; "error=K" for
# those that failed)
many() {
	in_ns lbc python3 -c '
import collections, socket, sys
n = collections.Counter()
for i in range(int(sys.argv[1])):
    try:
        s = socket.create_connection(("10.61.1.100", 80), timeout=5)
        n[s.recv(200).decode().split()[2].rstrip(",")] += 1
        s.close()
    except (OSError, IndexError):
        n["error"] += 1
print(" ".join("%s=%d" % kv for kv in sorted(n.items())))
' "$1"
}
# alive PID: running, not a zombie (the checker is orphaned to init)
alive() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}
diag() { echo "vpcctl lb:"; vctl lb 2>&1; echo "--- $run/health.log:"; tail -n 20 "$run/health.log" 2>&1; }

out=$("$vpcctl" xdp start "$topo" --instance "$inst" --mode "$mode" 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
	echo "not ok - vpcctl xdp start failed (exit $rc)"; printf '%s\n' "$out" | sed 's/^/    /'; exit 1
fi
hpid=$(sed -n "s|^xdp: instance $inst: health checks of 2 targets (pid \([0-9]*\); $run)\$|\1|p" <<<"$out")
[ "$(head -1 <<<"$out")" = "xdp: instance $inst attached to 3 ports ($mode), generation 1" ] && [ -n "$hpid" ] &&
	ok "vpcctl xdp start: attached, health checker started (pid $hpid)" || fail "xdp start output" "$out"
[ -n "$hpid" ] && [ "$(cat "$run/health.pid" 2>/dev/null)" = "$hpid" ] && alive "$hpid" &&
	ok "the checker runs, its pid in $run/health.pid" || fail "the checker's pid file" "$(ls -l "$run" 2>&1)"

# (a) both healthy: two successful probes, 5 s apart
t0=$SECONDS
wait_for 15 "both targets healthy" states_are "lbt1=healthy lbt2=healthy" &&
	ok "vpcctl lb --instance: both targets healthy after $((SECONDS - t0)) s" || fail "targets healthy" "$(diag)"
out=$(vctl lb)
rc=$?
[ "$rc" = 0 ] && [ "$(head -2 <<<"$out")" = $'load balancer ilb (VPC e2elb)\n  target group web' ] &&
	grep -Eq '^    lbt2 +port 8080  healthy +\([0-9]+ ok, 0 failed in a row; last success; [0-9]+ probes\)$' <<<"$out" &&
	ok "vpcctl lb --instance: vpcd's text" || fail "vpcctl lb text (exit $rc)" "$out"
got=$(vctl lb --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = d["load_balancers"][0]["target_groups"][0]["targets"]
print(d["load_balancers"][0]["name"], [(x["interface"], x["port"], x["state"], x["last"]) for x in t], d["probes_lost"])')
rc=$?
[ "$rc" = 0 ] && [ "$got" = "ilb [('lbt1', 8080, 'healthy', 'success'), ('lbt2', 8080, 'healthy', 'success')] 0" ] &&
	ok "vpcctl lb --json --instance" || fail "vpcctl lb --json (exit $rc)" "$got"

# (b) new connections go to both
got=$(many 20)
[[ $got =~ ^lbt1=[0-9]+\ lbt2=[0-9]+$ ]] && ok "20 connections to the balancer reach both targets ($got)" ||
	fail "connections to both targets" "$got" "$(diag)"

# (c) lbt1's server stops: its kernel resets the probes
stop_servers lbt1
t0=$SECONDS
wait_for 15 "lbt1 unhealthy" states_are "lbt1=unhealthy lbt2=healthy" &&
	ok "lbt1's server stopped: unhealthy after $((SECONDS - t0)) s" || fail "lbt1 unhealthy" "$(diag)"
grep -Eq '^    lbt1 +port 8080  unhealthy \(0 ok, [0-9]+ failed in a row; last reset; ' <<<"$(vctl lb)" &&
	ok "lbt1's last result: reset" || fail "lbt1's last result" "$(diag)"
got=$(many 20)
[ "$got" = "lbt2=20" ] && ok "every new connection goes to lbt2" || fail "connections with lbt1 unhealthy" "$got" "$(diag)"

# (d) an apply: the checker takes the new image and the new set's maps
out=$(vctl apply "$topo" 2>&1)
rc=$?
[ "$rc" = 0 ] && [ "$out" = "applied: generation 2, 1 VPCs, 3 interfaces" ] && ok "vpcctl apply: generation 2" ||
	fail "apply (exit $rc)" "$out"
[ "$(cat "$run/health.generation" 2>/dev/null)" = 2 ] && [ "$(cat "$run/health.pid" 2>/dev/null)" = "$hpid" ] &&
	states_are "lbt1=unhealthy lbt2=healthy" &&
	ok "after the apply the same checker drives generation 2, states carried over" || fail "checker after apply" "$(diag)"
got=$(many 20)
[ "$got" = "lbt2=20" ] && ok "after the apply new connections still avoid lbt1" || fail "connections after apply" "$got" "$(diag)"

# (e) lbt1 back
serve_tcp lbt1 8080
t0=$SECONDS
wait_for 15 "lbt1 healthy again" states_are "lbt1=healthy lbt2=healthy" &&
	ok "lbt1's server back: healthy again after $((SECONDS - t0)) s" || fail "lbt1 healthy again" "$(diag)"
got=$(many 20)
[[ $got =~ ^lbt1=[0-9]+\ lbt2=[0-9]+$ ]] && ok "both targets get connections again ($got)" ||
	fail "connections after lbt1 came back" "$got" "$(diag)"
grep -q "lbt1 port 8080: unhealthy -> healthy" "$run/health.log" && ok "the checker's log has lbt1's changes" ||
	fail "health.log" "$(cat "$run/health.log")"

# (f) a target's device goes away (its VM stops): its probes fail, are
# counted, and the checker goes on with the others
ip link del e2e-lbt1
lost() { vctl lb --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["probes_lost"] == 0)'; }
wait_for 15 "a probe lost" lost && alive "$hpid" && [[ $(lb_states) == *" lbt2=healthy" ]] &&
	ok "lbt1's device deleted: its probes counted lost, the checker goes on" || fail "device gone" "$(diag)"
grep -q "device e2e-lbt1: cannot send probes: " "$run/health.log" && ok "the log names the device" ||
	fail "health.log after the device went" "$(cat "$run/health.log")"

# (g) stop: the checker first (lbt1's port is gone: 2 to detach)
out=$("$vpcctl" xdp stop --instance "$inst" 2>&1)
rc=$?
[ "$rc" = 0 ] && [ "$out" = $'xdp: instance '"$inst"$': health checker stopped\nxdp: instance '"$inst"' detached from 2 ports' ] &&
	ok "vpcctl xdp stop: the checker, then the program" || fail "xdp stop (exit $rc)" "$out"
! alive "$hpid" && [ ! -e "$run/health.pid" ] && [ ! -e "$run/health.txt" ] &&
	ok "after stop the checker is gone, its files removed" || fail "checker after stop" "$(ls -l "$run" 2>&1)"
out=$(vctl lb 2>&1)
rc=$?
[ "$rc" = 1 ] && ok "vpcctl lb of the stopped instance: exit 1" || fail "lb after stop (exit $rc)" "$out"
# Nobody waits for the checker's exit status (init reaps it): a sanitizer
# build's report is in its log.
! grep -q "Sanitizer\|runtime error" "$run/health.log" && grep -q ": stopped$" "$run/health.log" &&
	ok "the checker's log ends with its stop, no sanitizer report" || fail "health.log at the end" "$(tail -n 40 "$run/health.log")"

stop_servers lbt1 lbt2
e2e_summary
