# shellcheck shell=bash disable=SC2154  # here, tmp: set by the sourcing script
# Real-traffic checks shared by the end-to-end tests of the two engines
# (test_vpcd.sh: the DPDK daemon; test_xdp.sh: the XDP program), sourced
# by both; test_vhost.sh uses its helpers (ok/fail, waits, daemons).  Each
# VM, and the internet, is a network namespace on a veth pair whose host
# side the engine serves; topo-vpcd.yaml names them.
#
# The sourcing script sets:
#   here    the directory of the topologies (tests/e2e)
#   vpcctl  the vpcctl binary
#   tmp     a directory of its own (daemon logs, the checks' files)
# and defines:
#   vctl ARGS...   runs vpcctl ARGS with the option that selects its engine
#                  (--socket for vpcd, --instance for XDP)
#   host_extra NS  (optional) engine-specific setup of a namespace's eth0,
#                  run by host after the rest
# then calls, in order: e2e_trap CLEANUP (CLEANUP removes what it made;
# e2e_cleanup_net among it), e2e_need_root, e2e_hosts, [starts its engine],
# e2e_checks, [its own checks], e2e_summary.
#
# Nothing waits a fixed time for something to happen: each wait polls the
# event itself (a socket, a listener, a file, a counter) up to $E2E_WAIT
# seconds (60 by default: a sanitizer build on two loaded cores passes),
# and says what it was waiting for when it gives up.  Every process the
# checks start in the background is a daemon of this shell (daemon_start):
# it is stopped by daemon_stop or joined by daemon_join, which wait for it
# and check its exit status (a sanitizer's abort, 134, fails the test); one
# that died before it was stopped fails with its status and its log's tail;
# whatever is still running at exit is stopped and checked by the EXIT
# trap, before the cleanup.

# One end-to-end test at a time on a machine, whatever tree it runs from:
# they share the e2e-* namespace and link names (each cleanup removes them
# all).  The lock is the file's, held until the test's shell exits.
exec {e2e_lock_fd}>>/tmp/vpc-e2e.lock && flock "$e2e_lock_fd"

E2E_WAIT=${E2E_WAIT:-60}
E2E_STOP_WAIT=${E2E_STOP_WAIT:-30} # a daemon told to stop has that long to exit
n_pass=0
n_fail=0

ok() { n_pass=$((n_pass + 1)); echo "ok - $1"; }
fail() {
	n_fail=$((n_fail + 1)); echo "not ok - $1"
	[ $# -gt 1 ] && printf '%s\n' "${@:2}" | sed '/^$/d; s/^/    /'
	return 0
}
in_ns() { local ns=e2e-$1; shift; timeout $((E2E_WAIT + 30)) ip netns exec "$ns" "$@"; }

# wait_for SECONDS WHAT CMD...: runs CMD every 0.1 s until it succeeds;
# after SECONDS, prints that WHAT did not happen and returns 1.
wait_for() {
	local limit=$1 what=$2 end
	shift 2
	end=$((SECONDS + limit))
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "# timed out after ${limit}s waiting for $what"
			return 1
		fi
		sleep 0.1
	done
}

# ---- daemons: background processes, children of this shell ----
declare -gA d_pid=() d_log=()
d_status=0

# describe_status STATUS: "134 (SIGABRT)" and the like
describe_status() {
	local st=$1 sig
	if [ "$st" -gt 128 ] && sig=$(kill -l $((st - 128)) 2>/dev/null); then
		case $sig in
		ABRT) echo "$st (killed by SIGABRT: an abort, e.g. a sanitizer's report)" ;;
		*) echo "$st (killed by SIG$sig)" ;;
		esac
	else
		echo "$st"
	fi
}

# daemon_start NAME LOG CMD...: CMD in the background (stdin /dev/null,
# stdout and stderr to LOG).  CMD must be a program, not a function, so
# that the signals of daemon_stop reach it.
daemon_start() {
	local name=$1 log=$2
	shift 2
	"$@" </dev/null >"$log" 2>&1 &
	d_pid[$name]=$!
	d_log[$name]=$log
}
# ns_daemon NAME NS CMD...: CMD in namespace e2e-NS (ip netns exec execs
# it: the pid is CMD's), its log in $tmp.
ns_daemon() {
	local name=$1 ns=$2
	shift 2
	daemon_start "$name" "$tmp/${name//[^A-Za-z0-9_.-]/_}.log" ip netns exec "e2e-$ns" "$@"
}

# daemon_running NAME: started, not stopped, and not exited (an exited
# child not yet waited for is a zombie, which kill -0 still finds).
daemon_running() {
	local pid=${d_pid[$1]:-} s
	[ -n "$pid" ] || return 1
	{ read -r s <"/proc/$pid/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}
daemon_gone() { ! daemon_running "$1"; }
daemon_tail() { echo "--- last lines of $1's output (${d_log[$1]}):"; tail -n 25 "${d_log[$1]}" 2>/dev/null; }

# daemon_reap NAME: waits for NAME (which has exited) and forgets it;
# its exit status in $d_status.
daemon_reap() {
	wait "${d_pid[$1]}"
	d_status=$?
	unset "d_pid[$1]"
}

# daemon_stop NAME [SIGNAL [STATUS]]: sends SIGNAL (TERM) to NAME, waits
# for it (up to $E2E_STOP_WAIT s, then SIGKILL) and checks that it exited with
# STATUS (0).  Fails -- naming NAME, its status, and its output's tail --
# if it exited otherwise, if it did not exit, or if it had died before it
# was stopped.
daemon_stop() {
	local name=$1 sig=${2:-TERM} want=${3:-0} pid=${d_pid[$1]:-} early=0 hung=0
	[ -n "$pid" ] || return 1 # never started, or already reported
	if daemon_running "$name"; then
		kill -s "$sig" "$pid" 2>/dev/null
		if ! wait_for "$E2E_STOP_WAIT" "$name to exit after SIG$sig" daemon_gone "$name" >/dev/null; then
			hung=1
			kill -s KILL "$pid" 2>/dev/null
		fi
	else
		early=1
	fi
	daemon_reap "$name"
	if [ $early = 1 ]; then
		fail "$name died before the test stopped it: exit status $(describe_status $d_status)" "$(daemon_tail "$name")"
	elif [ $hung = 1 ]; then
		fail "$name did not exit within ${E2E_STOP_WAIT}s of SIG$sig (killed)" "$(daemon_tail "$name")"
	elif [ "$d_status" != "$want" ]; then
		fail "$name: exit status $(describe_status $d_status) after SIG$sig, not $want" "$(daemon_tail "$name")"
	else
		return 0
	fi
	return 1
}

# daemon_join NAME [STATUS]: waits for NAME to exit by itself (up to
# $E2E_WAIT s; then stops it with SIGTERM, which the checks' helpers
# answer by reporting what they have and exiting 0) and checks its status
# (0).
daemon_join() {
	local name=$1 want=${2:-0}
	[ -n "${d_pid[$name]:-}" ] || return 1 # never started, or already reported
	if ! wait_for "$E2E_WAIT" "$name to finish" daemon_gone "$name"; then
		daemon_stop "$name" TERM "$want"
		return
	fi
	daemon_reap "$name"
	if [ "$d_status" != "$want" ]; then
		fail "$name: exit status $(describe_status $d_status), not $want" "$(daemon_tail "$name")"
		return 1
	fi
}

# daemon_wait NAME WHAT CMD...: polls CMD until it succeeds (the daemon
# is ready); fails at once if NAME dies meanwhile, or after $E2E_WAIT s.
daemon_wait() {
	local name=$1 what=$2 msg
	shift 2
	if msg=$(wait_for "$E2E_WAIT" "$what" _ready_or_gone "$name" "$@") && daemon_running "$name"; then
		return 0
	fi
	if daemon_running "$name"; then
		fail "$name: $what: never happened" "$msg" "$(daemon_tail "$name")"
	else
		daemon_stop "$name" # reports the early exit
	fi
	return 1
}
_ready_or_gone() { local name=$1; shift; ! daemon_running "$name" || "$@"; }

# daemons_stop_all: stops (SIGTERM, status 0) what is still running.
daemons_stop_all() {
	local name rc=0
	for name in "${!d_pid[@]}"; do daemon_stop "$name" TERM 0 || rc=1; done
	return $rc
}

# e2e_trap CLEANUP: on exit (or SIGTERM/SIGINT, meson's timeout), the
# daemons still running are stopped and checked (a bad status fails the
# test), then CLEANUP runs.  A SIGTERM/SIGINT meanwhile (meson gives 0.5 s
# before its SIGKILL) SIGKILLs them: none is left running.
e2e_trap() {
	# shellcheck disable=SC2064
	trap "_e2e_exit $1" EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
}
_e2e_exit() {
	local rc=$?
	trap _e2e_kill_all TERM INT
	daemons_stop_all || rc=1
	"$@"
	exit "$rc"
}
_e2e_kill_all() {
	local name
	for name in "${!d_pid[@]}"; do kill -s KILL "${d_pid[$name]}" 2>/dev/null; done
}

# ns_listening NS tcp|udp PORT: a socket listens (TCP) or is bound (UDP)
# on PORT in namespace e2e-NS
ns_listening() {
	local opt=-Hltn
	[ "$2" = udp ] && opt=-Hlun
	[ -n "$(ip netns exec "e2e-$1" ss $opt "sport = :$3" 2>/dev/null)" ]
}
# ns_serving NAME NS tcp|udp PORT: waits until daemon NAME listens
ns_serving() { daemon_wait "$1" "a $3 listener on port $4 in e2e-$2" ns_listening "$2" "$3" "$4"; }

# Exits 77 (skipped) without root or network namespaces.
e2e_need_root() {
	if [ "$(id -u)" != 0 ] || ! ip netns add e2e-probe 2>/dev/null; then
		echo "SKIP: needs root and network namespaces"
		exit 77
	fi
	ip netns del e2e-probe
}

# Removes the namespaces (and what runs in them) and the host-side links.
e2e_cleanup_net() {
	for ns in vm1 vm2 vm3 vm5 twin1 inet; do
		ip netns pids "e2e-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "e2e-$ns" 2>/dev/null
	done
	for l in e2e-vm1 e2e-vm2 e2e-vm3 e2e-vm5 e2e-twin1 e2e-up; do
		ip link del "$l" 2>/dev/null
	done
}

# vm NAME HOSTIF MAC IP/LEN GATEWAY
host() {
	local ns=e2e-$1 hostif=$2 mac=$3 addr=$4 gw=$5
	ip netns add "$ns"
	ip link add "$hostif" type veth peer name eth0 netns "$ns"
	ip link set "$hostif" up
	ethtool -K "$hostif" tx off rx off >/dev/null 2>&1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link set eth0 address "$mac"
	ip netns exec "$ns" ip link set eth0 up
	# checksums computed in software: frames cross user space (DPDK) or
	# leave the veth as raw frames (XDP in driver mode)
	ip netns exec "$ns" ethtool -K eth0 tx off rx off >/dev/null 2>&1
	ip netns exec "$ns" ip addr add "$addr" dev eth0
	[ -n "$gw" ] && ip netns exec "$ns" ip route add default via "$gw"
	if declare -F host_extra >/dev/null; then host_extra "$ns" || return 1; fi
	return 0
}

# The hosts of topo-vpcd.yaml (vm5 comes later, with topo-vpcd-add.yaml).
e2e_hosts() {
	host vm1 e2e-vm1 02:32:0a:32:01:0a 10.50.1.10/24 10.50.1.1
	host vm2 e2e-vm2 02:32:0a:32:02:0a 10.50.2.10/24 10.50.2.1
	host vm3 e2e-vm3 02:32:0a:32:01:0b 10.50.1.11/24 10.50.1.1
	host twin1 e2e-twin1 02:33:0a:32:01:0c 10.50.1.12/24 10.50.1.1
	host inet e2e-up 02:fe:00:00:00:fe 203.0.113.1/24 ""
	# the internet reaches the elastic IP through the uplink (ARP answered
	# by the dataplane)
	ip netns exec e2e-inet ip route add 198.51.100.50/32 dev eth0
}

# ---- the helpers run in the namespaces (python3 -c) ----
# Each daemon exits 0 on SIGTERM (after saying what it has, where that is
# its result), and 1 if still running after 600 s.
py_prologue='
import signal, socket, sys, time
class Stop(Exception):
    pass
def _stop(*_):
    raise Stop()
signal.signal(signal.SIGTERM, _stop)
signal.signal(signal.SIGALRM, lambda *_: sys.exit("still running after 600 s"))
signal.alarm(600)
'
# A TCP server: answers each connection "hello from NAME, you are PEER".
# args: NAME PORT
py_tcp_server=$py_prologue'
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(8)
try:
    while True:
        c, a = s.accept()
        try:
            c.sendall(("hello from %s, you are %s\n" % (sys.argv[1], a[0])).encode())
        except OSError:
            pass
        c.close()
except Stop:
    pass
'
# A UDP server: answers each datagram "pong:DATA", and prints "PEER DATA"
# for each.  args: PORT
py_udp_pong=$py_prologue'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
try:
    while True:
        d, a = s.recvfrom(100)
        print(a[0], d.decode(), flush=True)
        s.sendto(b"pong:" + d, a)
except Stop:
    pass
'
# A UDP client: sends "ping" to ADDR PORT, again every second until an
# answer comes (up to SECONDS); prints the answer and the number of sends,
# or "timeout".  args: ADDR PORT SECONDS
py_udp_ping='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
end = time.monotonic() + float(sys.argv[3]); sends = 0
while time.monotonic() < end:
    s.sendto(b"ping", (sys.argv[1], int(sys.argv[2]))); sends += 1
    try:
        print(s.recvfrom(100)[0].decode(), sends); break
    except socket.timeout:
        pass
else:
    print("timeout")
'
# A TCP echo server for one connection, which it serves to its end.
# args: PORT
py_echo_once=$py_prologue'
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4)
try:
    c, a = s.accept()
    while True:
        d = c.recv(100)
        if not d:
            break
        c.sendall(d)
except Stop:
    pass
'
# A client that keeps one connection open across an event: sends "before",
# reads the echo, creates GO, waits for DONE to exist, sends "after", reads
# the echo; prints both echoes.  args: ADDR PORT GO DONE SECONDS
py_keep_open=$py_prologue'
import os
s = socket.socket(); s.settimeout(float(sys.argv[5])); s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b"before"); a = s.recv(100)
open(sys.argv[3], "w").close()
end = time.monotonic() + float(sys.argv[5])
while not os.path.exists(sys.argv[4]):
    if time.monotonic() > end:
        sys.exit("%s never appeared" % sys.argv[4])
    time.sleep(0.05)
s.sendall(b"after"); b = s.recv(100)
print(a.decode(), b.decode())
'
# A UDP sink for datagrams numbered 0..N-1: exits when it has them all, or
# on SIGTERM; prints "RECEIVED MISSING".  (Its receive buffer is large: a
# loaded machine that leaves it unscheduled for a while must not drop what
# the dataplane delivered.)  args: PORT N
py_udp_sink=$py_prologue'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
s.bind(("0.0.0.0", int(sys.argv[1]))); n = int(sys.argv[2])
seen = set()
try:
    while len(seen) < n:
        seen.add(int(s.recvfrom(100)[0]))
except Stop:
    pass
print(len(seen), len([i for i in range(n) if i not in seen]))
'
# A UDP source: N numbered datagrams to ADDR PORT, 1 ms apart.
# args: ADDR PORT N
py_udp_source='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(str(i).encode(), (sys.argv[1], int(sys.argv[2]))); time.sleep(0.001)
'

# serve_tcp NS PORT: a TCP server (py_tcp_server) in NS, listening on
# return (daemon "tcp-server NS:PORT").
serve_tcp() {
	ns_daemon "tcp-server $1:$2" "$1" python3 -c "$py_tcp_server" "$1" "$2" &&
		ns_serving "tcp-server $1:$2" "$1" tcp "$2"
}
# stop_servers NS...: stops the TCP servers of those namespaces, each to
# exit 0.
stop_servers() {
	local ns name
	for ns in "$@"; do
		for name in "${!d_pid[@]}"; do
			[[ $name == "tcp-server $ns:"* ]] && daemon_stop "$name"
		done
	done
	return 0
}
# Connect: prints the greeting, or "timeout"/"error: ...".  TIMEOUT: 3 s
# where the connection is to be refused (dropped: it times out), $E2E_WAIT
# where it is to succeed.
connect_tcp() { # NS ADDR PORT [TIMEOUT]
	in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(); s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print(s.recv(200).decode().strip())
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error: %s" % e)
' "$2" "$3" "${4:-3}"
}
# ping_ok NS ADDR: two echo replies, waiting up to $E2E_WAIT s for them
# (ping_none, for what must not answer, waits 1-2 s: a reply would be
# the failure)
ping_ok() { in_ns "$1" ping -c 2 -i 0.5 -w "$E2E_WAIT" -q "$2" >/dev/null; }
ping_none() { ! in_ns "$1" ping -c "${3:-1}" -W 1 -q "$2" >/dev/null 2>&1; }

# The checks, against an engine serving topo-vpcd.yaml at generation 1.
# Checks, with real tools: ARP against the dataplane, ping in a subnet and
# across subnets, TCP allowed (80) and refused (22) by a security group,
# return traffic with no reverse rule, elastic-IP traffic to and from the
# internet (which sees only the elastic IP), UDP, and two VPCs with the
# same CIDR that cannot reach each other.
# Then, live: vpcctl stats and conntrack; an apply that removes the rule of
# an open TCP connection (it survives, a new one is refused); 100 applies
# while a UDP stream flows, not one of its packets lost; applies that add
# and remove an interface (its port opened and closed); a port deleted
# under the engine (e2e-vm3 is gone afterwards).
# Every server and client it starts is stopped (or has finished) by its
# end, each with exit status 0.
e2e_checks() {
	local mac got srv n out rc applied f g i sends
	serve_tcp vm2 80; serve_tcp vm2 22; serve_tcp inet 8080; serve_tcp vm1 80

	ping_ok vm1 10.50.1.11 && ok "ping in a subnet (ARP for a peer, switched)" || fail "ping in a subnet"
	ping_ok vm1 10.50.2.10 && ok "ping across subnets (ARP for the gateway, routed)" || fail "ping across subnets"
	mac=$(in_ns vm1 ip neigh show 10.50.1.1 | awk '{print $5}')
	[ "$mac" = "06:00:00:00:32:01" ] && ok "the gateway resolves to the VPC router's MAC" || fail "gateway MAC" "$mac"

	got=$(connect_tcp vm1 10.50.2.10 80 "$E2E_WAIT")
	[ "$got" = "hello from vm2, you are 10.50.1.10" ] && ok "TCP 80 allowed by the security group, replies with no reverse rule" || fail "TCP 80" "$got"
	got=$(connect_tcp vm1 10.50.2.10 22)
	[ "$got" = "timeout" ] && ok "TCP 22 refused by the security group (connect times out)" || fail "TCP 22" "$got"

	got=$(connect_tcp vm1 203.0.113.1 8080 "$E2E_WAIT")
	[ "$got" = "hello from inet, you are 198.51.100.50" ] && ok "to the internet: the internet sees only the elastic IP" || fail "egress via elastic IP" "$got"
	got=$(connect_tcp inet 198.51.100.50 80 "$E2E_WAIT")
	[ "$got" = "hello from vm1, you are 203.0.113.1" ] && ok "from the internet to the elastic IP (port 80 allowed)" || fail "ingress via elastic IP" "$got"
	ping_ok inet 198.51.100.50 && ok "the internet pings the elastic IP" || fail "ping to the elastic IP"

	# UDP: vm3 answers, bound before vm1 sends; vm1 sends again every
	# second until the answer comes (a datagram is not retransmitted).
	ns_daemon "udp-server vm3:5353" vm3 python3 -c "$py_udp_pong" 5353
	ns_serving "udp-server vm3:5353" vm3 udp 5353
	read -r got sends < <(in_ns vm1 python3 -c "$py_udp_ping" 10.50.1.11 5353 "$E2E_WAIT")
	daemon_stop "udp-server vm3:5353"
	srv=$(sort -u "$tmp/udp-server_vm3_5353.log")
	[ "$srv" = "10.50.1.10 ping" ] && [ "$got" = "pong:ping" ] && ok "UDP exchange, reply allowed by state ($sends datagram(s) sent)" ||
		fail "UDP" "server received: $srv" "client: $got $sends"

	ping_none twin1 10.50.1.10 2 && ping_none twin1 10.50.1.11 && ok "two VPCs with the same CIDR are isolated" ||
		fail "two VPCs with the same CIDR are isolated"

	# ---- live: stats, conntrack, applies ----
	got=$(vctl stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["generation"], d["ports"]["vm1"]["rx_packets"] > 0, d["drops"]["sg-denied"] > 0, d["connections"]["created"] > 0)')
	rc=$?
	[ "$rc" = 0 ] && [ "$got" = "1 True True True" ] && ok "vpcctl stats --json" || fail "vpcctl stats (exit $rc)" "$got"
	n=$(vctl conntrack count --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tracked"] > 0)')
	rc=$?
	[ "$rc" = 0 ] && [ "$n" = "True" ] && ok "vpcctl conntrack count" || fail "conntrack count (exit $rc)" "$n"
	out=$(vctl conntrack list)
	rc=$?
	[ "$rc" = 0 ] && grep -q "tcp   vni 50       10.50.1.10:[0-9]* -> 10.50.2.10:80 " <<<"$out" &&
		ok "vpcctl conntrack list shows the TCP connection to vm2:80" || fail "conntrack list (exit $rc)" "$(head <<<"$out")"

	# vpcctl trace on the live tables: a new flow is traced as on the
	# file's tables (the same text), creates nothing; a tracked one hits.
	local spec live file sport
	for spec in "tcp 10.50.1.10:40001 > 10.50.2.10:80" "tcp 10.50.1.10:40002 > 10.50.2.10:22"; do
		live=$(vctl trace --in vm1 "$spec" 2>&1)
		rc=$?
		file=$("$vpcctl" trace "$topo" --engine "${E2E_ENGINE:-dpdk}" --in vm1 "$spec" 2>&1)
		[ "$rc" = 0 ] && [ -n "$live" ] && [ "$live" = "$file" ] &&
			ok "vpcctl trace, live = the file's tables: $spec" || fail "vpcctl trace $spec (exit $rc)" "live:" "$live" "file:" "$file"
	done
	grep -q "verdict         forward on port vm2, path routed" <<<"$(vctl trace --in vm1 "tcp 10.50.1.10:40001 > 10.50.2.10:80")" &&
		grep -q "b1 ingress: denied, no rule allows\|vm2 ingress: denied, no rule allows" <<<"$(vctl trace --in vm1 "tcp 10.50.1.10:40002 > 10.50.2.10:22")" &&
		ok "vpcctl trace: port 80 forwarded, 22 denied by vm2's groups" || fail "vpcctl trace verdicts" "$(vctl trace --in vm1 "tcp 10.50.1.10:40002 > 10.50.2.10:22")"
	out=$(vctl conntrack list)
	! grep -q ":40001 -> " <<<"$out" && ok "a trace creates no connection" || fail "a trace created a connection" "$out"
	sport=$(sed -n 's/.*tcp   vni 50       10\.50\.1\.10:\([0-9]*\) -> 10\.50\.2\.10:80 .*/\1/p' <<<"$out" | head -1)
	live=$(vctl trace --in vm1 "tcp 10.50.1.10:$sport > 10.50.2.10:80 flags A" 2>&1)
	grep -q "^  conntrack       hit, direction 0 (original), state " <<<"$live" &&
		ok "vpcctl trace: a tracked connection's packet hits its entry" || fail "vpcctl trace of a tracked connection (port $sport)" "$live"
	out=$(vctl trace --in vm1 "tcp 10.50.1.10:40001 > 10.50.2.10:80" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["action"], d["out_port"], d["reason"], [s["stage"] for s in d["stages"]][:3])')
	[ "$out" = "forward vm2 routed ['source', 'conntrack', 'route']" ] && ok "vpcctl trace --json" || fail "vpcctl trace --json" "$out"

	# An echo server on vm2:80 and a client that keeps its connection open
	# across an apply removing web's rule for port 80.  (The first part's
	# servers go first.)
	stop_servers vm1 vm2 inet
	ns_daemon "echo-server vm2:80" vm2 python3 -c "$py_echo_once" 80
	ns_serving "echo-server vm2:80" vm2 tcp 80
	ns_daemon "keep-open client vm1" vm1 python3 -c "$py_keep_open" 10.50.2.10 80 "$tmp/apply-go" "$tmp/apply-done" "$E2E_WAIT"
	daemon_wait "keep-open client vm1" "its connection to vm2:80 open and echoed" test -e "$tmp/apply-go"
	out=$(vctl apply "$here/topo-vpcd-no80.yaml")
	rc=$?
	[ "$rc" = 0 ] && [ "$out" = "applied: generation 2, 2 VPCs, 4 interfaces" ] && ok "vpcctl apply: live, generation 2" || fail "apply (exit $rc)" "$out"
	touch "$tmp/apply-done"
	daemon_join "keep-open client vm1"
	daemon_join "echo-server vm2:80"
	got=$(cat "$tmp/keep-open_client_vm1.log")
	[ "$got" = "before after" ] && ok "an open TCP connection survives the removal of its rule" ||
		fail "connection across apply" "$got"
	serve_tcp vm2 80
	got=$(connect_tcp vm1 10.50.2.10 80)
	[ "$got" = "timeout" ] && ok "after the apply a new connection to port 80 is refused" || fail "new connection after apply" "$got"
	stop_servers vm2
	out=$(vctl apply "$here/topo-vpcd.yaml" 2>&1)
	rc=$?
	[ "$rc" = 0 ] && [ "$out" = "applied: generation 3, 2 VPCs, 4 interfaces" ] && ok "apply back" || fail "apply back (exit $rc)" "$out"

	# 100 applies while vm1 streams 3,000 numbered UDP datagrams to vm3
	# (bound before the first is sent); vm3 has them all, or, once the
	# stream is over, waits $E2E_WAIT s for what is missing.
	ns_daemon "udp-sink vm3:5353" vm3 python3 -c "$py_udp_sink" 5353 3000
	ns_serving "udp-sink vm3:5353" vm3 udp 5353
	ns_daemon "udp-source vm1" vm1 python3 -c "$py_udp_source" 10.50.1.11 5353 3000
	applied=0
	for i in $(seq 100); do
		if [ $((i % 2)) = 1 ]; then f=topo-vpcd-alt.yaml; else f=topo-vpcd.yaml; fi
		vctl apply "$here/$f" >/dev/null && applied=$((applied + 1))
	done
	daemon_join "udp-source vm1"
	daemon_join "udp-sink vm3:5353"
	got=$(cat "$tmp/udp-sink_vm3_5353.log")
	[ "$applied" = 100 ] && [ "$got" = "3000 0" ] && ok "100 applies under load: 3000 of 3000 datagrams arrived" ||
		fail "applies under load" "applied $applied, received/missing: $got" \
			"vm3's UDP receive-buffer drops: $(ip netns exec e2e-vm3 nstat -az UdpRcvbufErrors 2>&1 | awk '/UdpRcvbufErrors/ {print $2}')"
	out=$(vctl apply "$here/../topo/invalid/001-subnet-outside-vpc.yaml" 2>&1)
	rc=$?
	g=$(vctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
	[ "$rc" != 0 ] && [ "$g" = 103 ] && ok "a failed apply changes nothing (generation stays 103)" || fail "failed apply" "exit $rc, generation $g: $out"

	# An apply that adds an interface opens its port; the one that takes it
	# away closes it.
	host vm5 e2e-vm5 02:32:0a:32:02:0b 10.50.2.11/24 10.50.2.1
	out=$(vctl apply "$here/topo-vpcd-add.yaml" 2>&1)
	rc=$?
	[ "$rc" = 0 ] && [ "$out" = "applied: generation 104, 2 VPCs, 5 interfaces, 1 port opened, 0 closed" ] &&
		ok "an apply that adds an interface opens its port" || fail "apply adding vm5 (exit $rc)" "$out"
	ping_ok vm1 10.50.2.11 && ok "the added interface is reachable" || fail "ping vm5"
	out=$(vctl apply "$here/topo-vpcd.yaml" 2>&1)
	rc=$?
	[ "$rc" = 0 ] && [ "$out" = "applied: generation 105, 2 VPCs, 4 interfaces, 0 ports opened, 1 closed" ] &&
		ok "an apply that removes it closes the port" || fail "apply removing vm5 (exit $rc)" "$out"
	ping_none vm1 10.50.2.11 && ok "the removed interface is gone" || fail "vm5 still reachable"
	ping_ok vm1 10.50.2.10 && ok "the others go on" || fail "ping vm2 after the removal"

	# A port that goes away (a VM stops, its interface is deleted) does not
	# stop the others.
	ip link del e2e-vm3
	ping_ok vm1 10.50.2.10 && ok "a deleted port does not stop the others" ||
		fail "traffic after a port went away"
}

# etcd_setup: a real etcd for a test, on two free loopback ports (the
# kernel picks them; etcd binds them next), data under $tmp/etcd.  Sets E
# (its client URL) and P; etcd_ctl runs etcdctl against it; start_etcd starts
# it (again, after a stop: the same data) and waits until it answers.
etcd_ports() {
	read -r cport pport < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))')
	E=http://127.0.0.1:$cport
	P=http://127.0.0.1:$pport
}
etcd_setup() {
	etcd_ports
	n_etcd=0
}
etcd_ctl() { ETCDCTL_API=3 etcdctl --endpoints "$E" --dial-timeout 2s "$@"; }
_etcd_up_or_gone() { daemon_gone etcd || etcd_ctl endpoint health >/dev/null 2>&1; }
# (a port the kernel handed back between etcd_ports and etcd's bind may be
# taken by then: a first start that finds its address in use chooses
# again, up to three times; a restart keeps its ports, the data has them)
start_etcd() {
	local first=0 try
	[ "${n_etcd:-0}" = 0 ] && first=1
	for try in 1 2 3; do
		n_etcd=$((n_etcd + 1))
		daemon_start etcd "$tmp/etcd-$n_etcd.log" etcd --name t --data-dir "$tmp/etcd" \
			--listen-client-urls "$E" --advertise-client-urls "$E" \
			--listen-peer-urls "$P" --initial-advertise-peer-urls "$P" --initial-cluster "t=$P"
		wait_for "$E2E_WAIT" "etcd to answer on $E" _etcd_up_or_gone >/dev/null
		if [ "$first" = 1 ] && daemon_gone etcd &&
			grep -q "address already in use" "$tmp/etcd-$n_etcd.log" 2>/dev/null; then
			daemon_reap etcd
			rm -rf "$tmp/etcd"
			etcd_ports
			continue
		fi
		break
	done
	# (the redirection inside: daemon_wait's own report must be seen)
	daemon_wait etcd "etcd to answer on $E" _etcd_health
}
_etcd_health() { etcd_ctl endpoint health >/dev/null 2>&1; }

e2e_summary() {
	echo "$n_pass passed, $n_fail failed"
	[ "$n_fail" -eq 0 ]
}
