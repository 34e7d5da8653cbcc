#!/usr/bin/env bash
# The topology in etcd, with the real parts: an etcd started here on
# loopback ports (its own data dir), vpcctl publish/status, two agents --
# h1 in --dry-run, h2 driving a real vpcd (capture ports that go nowhere,
# as test_vpcd_control.sh; no root) -- and checks with exact outputs:
#   an invalid file is refused before anything is written;
#   publish --wait returns when both hosts applied; vpcd's stats show it;
#   a revision h2 cannot apply (a port it cannot open) is in the status,
#     --wait names h2 with the error, vpcd keeps its tables;
#   etcd stopped and restarted while the agents run: the dataplane answers
#     meanwhile, the next publish is applied;
#   etcd compacted past h2's revision while h2 was away: h2 reads the
#     whole state and applies the newest once (vpcd's generation +1);
#   a file that names its hosts (hosts:): publish compiles each named
#     host's view before writing; --wait waits for exactly the named hosts
#     (a named host with no agent is named at the timeout; h1 and h2,
#     which the file does not name, are not waited for);
#   etcd, the agents and vpcd stop on SIGTERM with exit status 0.
# usage: test_etcd_agent.sh VPCD VPCCTL SOURCE_ROOT   (exit 77: no etcd)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "SKIP: needs etcd and etcdctl (Debian: etcd-server, etcd-client)"
	exit 77
fi
here=$src/tests/e2e
tmp=$(mktemp -d)
# shellcheck source=../e2e/checks.sh
. "$src/tests/e2e/checks.sh"
E2E_WAIT=${E2E_WAIT:-60}
cleanup() { rm -rf "$tmp"; }
e2e_trap cleanup
check() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}
cd "$src"

# Two free loopback ports (the kernel picks them; etcd binds them next).
etcd_setup
# normalize: times and the stored size vary; the rest is exact
norm() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/, [0-9]+ stored\)/, N stored)/; s/ in [0-9.]+ s$/ in S s/'; }
stats() { "$vpcctl" stats --socket "$tmp/vpcd.sock"; }
generation() { stats | sed -n 's/^generation \([0-9]*\),.*/\1/p'; }
status_json() { "$vpcctl" status --etcd "$E" --json; }
# host_applied HOST REV: HOST's status says it applied REV
host_applied() {
	status_json | python3 -c 'import json,sys
s = json.load(sys.stdin); h = [x for x in s["hosts"] if x["host"] == sys.argv[1]]
sys.exit(0 if h and h[0]["applied"] == int(sys.argv[2]) else 1)' "$1" "$2"
}
n_hosts() { status_json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hosts"]))'; }
# (a function for wait_for, which runs it each time: "$(n_hosts)" in its
# arguments would be expanded once, before the first try)
n_hosts_is() { test "$(n_hosts 2>/dev/null)" = "$1"; }
published_rev() { sed -n 's/.*published as revision \([0-9]*\) .*/\1/p' "$1"; }

start_etcd || { e2e_summary; exit 1; }
ok "etcd starts on $E"

# ---- the files ----
good=$tmp/good.yaml # topo-control.yaml plus web-3 (a capture port)
sed 's|    bastion: { type: pcap, tx: /dev/null }|&\n    web-3: { type: pcap, tx: /dev/null }|
     s|      - name: db-1|      - name: web-3\n        subnet: public-a\n        ip: 10.0.1.12\n&|' \
	tests/cli/topo-control.yaml >"$good"
noport=$tmp/noport.yaml # valid, but its port web-4 reads a capture that is not there
sed 's|    bastion: { type: pcap, tx: /dev/null }|&\n    web-4: { type: pcap, rx: /nonexistent/web-4.pcap, tx: /dev/null }|
     s|      - name: db-1|      - name: web-4\n        subnet: public-a\n        ip: 10.0.1.13\n&|' \
	tests/cli/topo-control.yaml >"$noport"
invalid=$tmp/invalid.yaml
sed 's|ip: 10.0.2.20|ip: 10.0.9.20|' tests/cli/topo-control.yaml >"$invalid"

# ---- an invalid file: refused, nothing written ----
"$vpcctl" publish "$invalid" --etcd "$E" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "publish of an invalid file: exit 1" 1 "$rc"
check "publish of an invalid file: the error, as FILE:LINE:COL" \
	"$invalid:64:13: interface 'db-1': IP 10.0.9.20 is not inside subnet 'private-a' (10.0.2.0/24)" \
	"$(cat "$tmp/err")$(cat "$tmp/out")"
check "publish of an invalid file: nothing in etcd" "" "$(etcd_ctl get --prefix /vpc/ --keys-only)"
check "status before any publish" "topology: none published
no host has reported a status" "$("$vpcctl" status --etcd "$E")"
"$vpcctl" publish "$good" --etcd http://127.0.0.1:1 >"$tmp/out" 2>"$tmp/err"
check "publish to an etcd that is not there: exit 1, named" \
	"1 vpcctl: $good: not published: etcd http://127.0.0.1:1: /v3/kv/txn: Couldn't connect to server" \
	"$? $(cat "$tmp/err")"
"$vpcctl" publish "$good" >/dev/null 2>&1
check "publish without --etcd: usage, exit 2" 2 "$?"
"$vpcctl" agent --etcd "$E" --host h9 >/dev/null 2>&1
check "agent without --engine or --dry-run: usage, exit 2" 2 "$?"

# ---- vpcd and the two agents ----
daemon_start vpcd "$tmp/vpcd.log" "$vpcd" --config tests/cli/topo-control.yaml \
	--socket "$tmp/vpcd.sock" -- --no-huge -m 512 --no-pci --no-telemetry -l 0 \
	--file-prefix="vpcd-etcd-$$"
daemon_wait vpcd "vpcd to answer" stats >/dev/null 2>&1 && ok "vpcd starts and answers"
gen0=$(generation)
daemon_start h1 "$tmp/h1.log" "$vpcctl" agent --etcd "$E" --host h1 --dry-run
daemon_start h2 "$tmp/h2.log" "$vpcctl" agent --etcd "$E" --host h2 --engine dpdk \
	--socket "$tmp/vpcd.sock"
wait_for "$E2E_WAIT" "both agents to report" n_hosts_is 2 &&
	ok "both agents report a status before any publish"

# ---- publish --wait: applied everywhere ----
"$vpcctl" publish "$good" --etcd "$E" --wait --timeout "$E2E_WAIT" >"$tmp/out" 2>"$tmp/err"
rc=$?
r1=$(published_rev "$tmp/out")
check "publish --wait: exit 0, both hosts" "0 $good: published as revision $r1 ($(wc -c <"$good") bytes, N stored)
revision $r1: applied by 2 hosts in S s" "$rc $(norm <"$tmp/out")$(cat "$tmp/err")"
check "vpcd took it: one generation more" $((gen0 + 1)) "$(generation)"
check "vpcd's stats show the new port" "  port web-3            rx 0 tx 0 drops 0" \
	"$(stats | grep 'port web-3')"
check "status: both hosts at the revision, no lag" \
	"topology: revision $r1, published TIME from $good ($(wc -c <"$good") bytes, N stored)
HOST   APPLIED       LAG  TIME                      ERROR
h1    $(printf '%8d  %8d' "$r1" 0)  TIME  -
h2    $(printf '%8d  %8d' "$r1" 0)  TIME  -" \
	"$("$vpcctl" status --etcd "$E" | norm)"
check "the value is stored compressed (zlib)" "78da" \
	"$(etcd_ctl get /vpc/topology --print-value-only | head -c 2 | od -An -tx1 | tr -d ' \n')"

# ---- a revision h2 cannot apply ----
"$vpcctl" publish "$noport" --etcd "$E" --wait --timeout "$E2E_WAIT" >"$tmp/out" 2>"$tmp/err"
rc=$?
r2=$(published_rev "$tmp/out")
check "publish --wait of a revision that fails on h2: exit 1, h2 and its error named" \
	"1 vpcctl: revision $r2: failed on 1 of 2 hosts:
  h2: applied $r1, error: refused: port 'web-4': cannot open device net_pcap6: Operation not permitted" \
	"$rc $(cat "$tmp/err")"
check "vpcd kept its tables (same generation, no web-4)" "$((gen0 + 1)) 0" \
	"$(generation) $(stats | grep -c 'port web-4')"
status_json >"$tmp/status.json"
check "status --json: h1 applied it; h2 did not, with its lag and error" \
	"h1 $r2 $r2 0 None
h2 $r2 $r1 $((r2 - r1)) refused: port 'web-4': cannot open device net_pcap6: Operation not permitted" \
	"$(python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
assert s["revision"] == int(sys.argv[2]), s
for h in s["hosts"]: print(h["host"], h["seen"], h["applied"], h["lag"], h["error"])' "$tmp/status.json" "$r2")"
grep -q "revision $r2 not applied, the running tables are kept: refused: port 'web-4'" "$tmp/h2.log" &&
	ok "h2's log says so" || fail "h2's log says so" "$(tail -5 "$tmp/h2.log")"

# ---- the next publish is applied again ----
"$vpcctl" publish tests/cli/topo-control.yaml --etcd "$E" --wait --timeout "$E2E_WAIT" >"$tmp/out" 2>"$tmp/err"
rc=$?
r3=$(published_rev "$tmp/out")
check "the next publish: applied by both" "0 revision $r3: applied by 2 hosts in S s" \
	"$rc $(tail -1 "$tmp/out" | norm)$(cat "$tmp/err")"
check "vpcd: one generation more, web-3 gone" "$((gen0 + 2)) 0" \
	"$(generation) $(stats | grep -c 'port web-3')"

# ---- etcd stopped and restarted while the agents run ----
daemon_stop etcd TERM 143 && ok "etcd stops on SIGTERM (its status: 143, the signal re-raised after a clean shutdown)"
"$vpcctl" status --etcd "$E" >"$tmp/out" 2>"$tmp/err"
check "status without etcd: exit 1, named" \
	"1 vpcctl: etcd $E: /v3/kv/range: Couldn't connect to server" "$? $(cat "$tmp/err")"
wait_for "$E2E_WAIT" "h2 to notice" grep -q "lost etcd" "$tmp/h2.log" &&
	ok "h2 notices that etcd is gone"
check "the dataplane goes on with its tables" "$((gen0 + 2))" "$(generation)"
daemon_running h1 && daemon_running h2 && ok "the agents keep running without etcd"
start_etcd && ok "etcd restarts (same data)"
"$vpcctl" publish "$good" --etcd "$E" --wait --timeout "$E2E_WAIT" >"$tmp/out" 2>"$tmp/err"
rc=$?
r4=$(published_rev "$tmp/out")
check "after the restart, the next publish is applied by both" \
	"0 revision $r4: applied by 2 hosts in S s" "$rc $(tail -1 "$tmp/out" | norm)$(cat "$tmp/err")"
check "vpcd: one generation more" "$((gen0 + 3))" "$(generation)"
grep -q "etcd answers again" "$tmp/h2.log" && ok "h2 says it resumed" ||
	fail "h2 says it resumed" "$(tail -5 "$tmp/h2.log")"

# ---- compaction past h2's revision ----
# h2 is frozen while etcd restarts and two revisions are published and the
# history compacted; thawed, it cannot resume from its revision.
kill -STOP "${d_pid[h2]}"
daemon_stop etcd TERM 143 && start_etcd
"$vpcctl" publish tests/cli/topo-control.yaml --etcd "$E" >"$tmp/out" 2>&1
r5=$(published_rev "$tmp/out")
"$vpcctl" publish "$good" --etcd "$E" >"$tmp/out" 2>&1
r6=$(published_rev "$tmp/out")
etcd_ctl compact "$r6" >/dev/null
kill -CONT "${d_pid[h2]}"
if wait_for "$E2E_WAIT" "h2 to apply revision $r6" host_applied h2 "$r6"; then
	ok "compacted past h2's revision: h2 applies the newest ($r6)"
else
	fail "compacted past h2's revision: h2 applies the newest ($r6)" "$(tail -8 "$tmp/h2.log")"
fi
grep -q "etcd compacted past revision" "$tmp/h2.log" && ok "h2 says it read the whole state" ||
	fail "h2 says it read the whole state" "$(tail -8 "$tmp/h2.log")"
check "the superseded revision $r5 was never applied on h2; vpcd: exactly one generation more" \
	"0 $((gen0 + 4))" "$(grep -c "revision $r5 " "$tmp/h2.log") $(generation)"
wait_for "$E2E_WAIT" "h1 to apply revision $r6" host_applied h1 "$r6" && ok "h1 applies $r6 too"
check "each revision applied at most once on h2" "" \
	"$(sed -n 's/.*: revision \([0-9]*\) applied.*/\1/p' "$tmp/h2.log" | sort | uniq -d)"

# ---- a file that names its hosts: --wait waits for exactly those ----
# tests/topo/valid/hosts.yaml names hv1 and hv2.  hv1's agent runs (dry
# run); hv2 has none yet.  h1 and h2 are not named: their agents fail to
# compile it (no host of theirs in it), which --wait does not look at.
hosts=tests/topo/valid/hosts.yaml
daemon_start hv1 "$tmp/hv1.log" "$vpcctl" agent --etcd "$E" --host hv1 --dry-run
wait_for "$E2E_WAIT" "hv1's agent to report" n_hosts_is 3
"$vpcctl" publish "$hosts" --etcd "$E" --wait --timeout 2 >"$tmp/out" 2>"$tmp/err"
rc=$?
r7=$(published_rev "$tmp/out")
check "publish --wait of a hosts: file: waits for hv1 and hv2 only; hv2, with no agent, named at the timeout" \
	"1 vpcctl: revision $r7: not applied by 1 of 2 hosts after 2 s:
  hv2: no status: its agent has never reported" "$rc $(cat "$tmp/err")"
host_applied hv1 "$r7" && ok "hv1's agent applied the hosts: file (its own view)" ||
	fail "hv1's agent applied the hosts: file" "$(tail -3 "$tmp/hv1.log")"
daemon_start hv2 "$tmp/hv2.log" "$vpcctl" agent --etcd "$E" --host hv2 --dry-run
"$vpcctl" publish "$hosts" --etcd "$E" --wait --timeout "$E2E_WAIT" >"$tmp/out" 2>"$tmp/err"
rc=$?
r8=$(published_rev "$tmp/out")
check "with hv2's agent: applied by the 2 named hosts (h1 and h2 failing it are not waited for)" \
	"0 revision $r8: applied by 2 hosts in S s" "$rc $(tail -1 "$tmp/out" | norm)$(cat "$tmp/err")"
check "h2 did fail it (its host is not in the file), and vpcd kept its tables" \
	"$r8 $r6 /vpc/topology@$r8: no host 'h2' in its hosts list $((gen0 + 4))" \
	"$(status_json | python3 -c 'import json,sys
h = [x for x in json.load(sys.stdin)["hosts"] if x["host"] == "h2"][0]
print(h["seen"], h["applied"], h["error"])') $(generation)"

# ---- everything stops with exit status 0 ----
daemon_stop hv1 TERM 0 && ok "agent hv1 stops on SIGTERM with exit status 0"
daemon_stop hv2 TERM 0 && ok "agent hv2 stops on SIGTERM with exit status 0"
daemon_stop h1 TERM 0 && ok "agent h1 stops on SIGTERM with exit status 0"
daemon_stop h2 TERM 0 && ok "agent h2 stops on SIGTERM with exit status 0"
daemon_stop vpcd TERM 0 && ok "vpcd stops on SIGTERM with exit status 0"
daemon_stop etcd TERM 143 && ok "etcd stops on SIGTERM (its status: 143, the signal re-raised after a clean shutdown)"
sed 's/^/# h2: /' "$tmp/h2.log"
e2e_summary
