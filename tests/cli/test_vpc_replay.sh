#!/usr/bin/env bash
# The vpc-replay command-line contract (docs/cli.md): argument and input
# errors before any packet, timestamp merge order, one pcap per port,
# verdicts.jsonl, --bench output.  usage: test_vpc_replay.sh REPLAY SOURCE_ROOT
set -uo pipefail
replay=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n_pass=0
n_fail=0
cd "$src"
topo=config/default.yaml

ok() { n_pass=$((n_pass + 1)); echo "ok - $1"; }
fail() { n_fail=$((n_fail + 1)); echo "not ok - $1"; shift; printf '    %s\n' "$@"; }

# expect NAME RC STDERR -- CMD : exact exit code and stderr
expect() {
	local name=$1 want_rc=$2 want_err=$3
	shift 4
	local rc=0
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$(cat "$tmp/err")" = "$want_err" ]; then
		ok "$name"
	else
		fail "$name" "rc $rc (want $want_rc)" "stderr: $(cat "$tmp/err")" "want:   $want_err"
	fi
}

py() { PYTHONPATH=tests/conformance python3 -c "$@"; }

py "
import pkt
R, W1, W2, DB = '06:00:00:00:64:01', '02:64:0a:00:01:0a', '02:64:0a:00:01:0b', '02:64:0a:00:02:14'
# web-1: t=1s, 3s, 3s ; db-1: t=2s, 3s -- ties at 3s: --in order, then file order
# (a TCP handshake to the database, which its group admits from web-1)
pkt.write_pcap('$tmp/w1.pcap', [
  (1_000_000_000, pkt.tcp_frame(R, W1, '10.0.1.10', '10.0.2.20', 40000, 5432, 'S', seq=100)),
  (3_000_000_000, pkt.tcp_frame(R, W1, '10.0.1.10', '10.0.2.20', 40000, 5432, 'A', seq=101, ack=901)),
  (3_000_000_000, pkt.arp_request(W1, '10.0.1.10', '10.0.1.1'))])
pkt.write_pcap('$tmp/db.pcap', [
  (2_000_000_000, pkt.tcp_frame(R, DB, '10.0.2.20', '10.0.1.10', 5432, 40000, 'SA', seq=900, ack=101)),
  (3_000_000_000, pkt.tcp_frame(R, DB, '10.0.2.20', '10.0.1.10', 5432, 40000, 'PA', seq=901, ack=101, payload=b'hello'))])
open('$tmp/notpcap.pcap', 'w').write('hello')
import struct
with open('$tmp/raw.pcap', 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
"
usage="usage: vpc-replay --config TOPO.yaml --in PORT=IN.pcap [--in PORT=IN.pcap ...] --out DIR
                  [--host NAME] [--engine dpdk|xdp] [--bench [--loops N]] [--json]
                  [--apply TIME=TOPO.yaml] [--apply-revalidate TIME=TOPO.yaml]
                  [--max-connections N] [--bench-new-connections] [--prefill N]
                  [--flow-logs DIR [--flow-log-interval S] [--flow-log-account ID]]
       vpc-replay --config TOPO.yaml [--in PORT=IN.pcap ... --out DIR] [--engine dpdk|xdp]
                  --trace PORT (--packet 'tcp SRC:PORT > DST:PORT [flags S]' |
                  --pcap FILE [--index K]) [--json]"

expect "no arguments: usage, exit 2" 2 "vpc-replay: --config, --in and --out are required
$usage" -- "$replay"
expect "--in without PORT=" 2 "vpc-replay: --in needs PORT=FILE, got 'w1.pcap'" -- \
	"$replay" --config $topo --in w1.pcap --out "$tmp/o"
expect "--trace without a packet" 2 "vpc-replay: --trace needs --packet SPEC or --pcap FILE" -- \
	"$replay" --config $topo --trace w1
expect "--packet without --trace" 2 "vpc-replay: --packet and --pcap go with --trace PORT" -- \
	"$replay" --config $topo --packet 'udp 1.2.3.4:1 > 5.6.7.8:2'
expect "--trace, a bad description" 1 "vpc-replay: --packet 'tcp 10.0.1.10 > 10.0.1.11:80': bad source '10.0.1.10' (ADDRESS:PORT)" -- \
	"$replay" --config $topo --trace web-1 --packet 'tcp 10.0.1.10 > 10.0.1.11:80'
expect "--trace, an unknown port" 1 "vpc-replay: --trace nope: unknown port" -- \
	"$replay" --config $topo --trace nope --packet 'udp 1.2.3.4:1 > 5.6.7.8:2'
expect "unknown option" 2 "vpc-replay: unknown or incomplete option '--frobnicate'
$usage" -- "$replay" --frobnicate
expect "unknown engine" 2 "vpc-replay: unknown engine 'ebpf' (expected dpdk or xdp)" -- \
	"$replay" --config $topo --in web-1="$tmp/w1.pcap" --out "$tmp/o" --engine ebpf
expect "--loops without --bench" 2 "vpc-replay: --loops, --bench-new-connections and --prefill need --bench" -- \
	"$replay" --config $topo --in web-1="$tmp/w1.pcap" --out "$tmp/o" --loops 3
expect "unknown port" 1 "vpc-replay: --in web-9=$tmp/w1.pcap: unknown port 'web-9' (the topology's ports: web-1, web-2, bastion, db-1, uplink)" -- \
	"$replay" --config $topo --in web-9="$tmp/w1.pcap" --out "$tmp/o"
expect "missing input file" 1 "vpc-replay: $tmp/none.pcap: No such file or directory" -- \
	"$replay" --config $topo --in web-1="$tmp/none.pcap" --out "$tmp/o"
expect "not a pcap" 1 "vpc-replay: $tmp/notpcap.pcap: not a pcap file (unknown file format)" -- \
	"$replay" --config $topo --in web-1="$tmp/notpcap.pcap" --out "$tmp/o"
expect "not Ethernet" 1 "vpc-replay: $tmp/raw.pcap: link type RAW, expected Ethernet (EN10MB)" -- \
	"$replay" --config $topo --in web-1="$tmp/raw.pcap" --out "$tmp/o"
printf 'version: 1\nvpcs:\n  - name: Bad\n    cidr: 10.0.0.0/16\n' >"$tmp/bad.yaml"
expect "invalid topology" 1 "$tmp/bad.yaml:3:11: 'Bad' is not a valid name (expected 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit)
vpc-replay: $tmp/bad.yaml: invalid topology" -- \
	"$replay" --config "$tmp/bad.yaml" --in uplink="$tmp/w1.pcap" --out "$tmp/o"
expect "missing topology" 1 "vpc-replay: $tmp/none.yaml: No such file or directory" -- \
	"$replay" --config "$tmp/none.yaml" --in uplink="$tmp/w1.pcap" --out "$tmp/o"
if [ -e "$tmp/o" ]; then fail "nothing is written when the inputs are refused" "$tmp/o exists"; else ok "nothing is written when the inputs are refused"; fi

# Merge order and outputs.
rc=0
"$replay" --config $topo --in web-1="$tmp/w1.pcap" --in db-1="$tmp/db.pcap" --out "$tmp/o" >"$tmp/stdout" 2>&1 || rc=$?
want='{"seq":0,"time":1.000000000,"in_port":"web-1","action":"forward","out_port":"db-1","reason":"routed"}
{"seq":1,"time":2.000000000,"in_port":"db-1","action":"forward","out_port":"web-1","reason":"routed"}
{"seq":2,"time":3.000000000,"in_port":"web-1","action":"forward","out_port":"db-1","reason":"routed"}
{"seq":3,"time":3.000000000,"in_port":"web-1","action":"reply","out_port":"web-1","reason":"arp-reply"}
{"seq":4,"time":3.000000000,"in_port":"db-1","action":"forward","out_port":"web-1","reason":"routed"}'
if [ "$rc" = 0 ] && [ "$(cat "$tmp/o/verdicts.jsonl")" = "$want" ]; then ok "timestamp order, ties by --in order then file order"; else fail "timestamp order" "rc $rc" "$(cat "$tmp/o/verdicts.jsonl" 2>&1)"; fi
files=$(cd "$tmp/o" && ls | tr '\n' ' ')
if [ "$files" = "bastion.pcap db-1.pcap uplink.pcap verdicts.jsonl web-1.pcap web-2.pcap " ]; then ok "one pcap per port, empty ones too"; else fail "one pcap per port" "$files"; fi
counts=$(py "
import pkt
print([(p, [t for t, _ in pkt.read_pcap('$tmp/o/%s.pcap' % p)]) for p in ('web-1', 'db-1', 'web-2', 'uplink')])")
if [ "$counts" = "[('web-1', [2000000000, 3000000000, 3000000000]), ('db-1', [1000000000, 3000000000]), ('web-2', []), ('uplink', [])]" ]; then
	ok "output packets keep their input's timestamp"; else fail "output timestamps" "$counts"; fi
if grep -q "5 packets: 4 forwarded, 1 answered, 0 dropped" "$tmp/stdout"; then ok "readable account"; else fail "readable account" "$(cat "$tmp/stdout")"; fi

# --json account
"$replay" --config $topo --in web-1="$tmp/w1.pcap" --in db-1="$tmp/db.pcap" --out "$tmp/o2" --json >"$tmp/j" 2>&1
got=$(python3 -c "import json; d=json.load(open('$tmp/j')); print(d['packets'], d['forwarded'], d['replied'], d['paths'], d['ports']['web-1']['rx_packets'])")
if [ "$got" = "5 4 1 {'routed': 4, 'arp-reply': 1} 3" ]; then ok "--json account"; else fail "--json account" "$got"; fi

# --bench
"$replay" --config $topo --in web-1="$tmp/w1.pcap" --bench --loops 7 --json >"$tmp/b" 2>&1
got=$(python3 -c "import json; d=json.load(open('$tmp/b')); print(d['engine'], d['packets'], d['loops'], sorted(d))")
if [ "$got" = "dpdk 21 7 ['connections', 'cycles_per_packet', 'engine', 'loops', 'mpps', 'ns_per_packet', 'packets', 'seconds', 'tsc_hz']" ]; then ok "--bench --loops N --json"; else fail "--bench --json" "$got"; fi
"$replay" --config $topo --in web-1="$tmp/w1.pcap" --bench --loops 2 >"$tmp/b" 2>&1
if grep -q "^packets: *6 (3 x 2 loops)" "$tmp/b" && grep -q "^ns/packet:" "$tmp/b" && grep -q "^Mpps:" "$tmp/b" && grep -q "^cycles/packet:" "$tmp/b" && grep -q "^seconds:" "$tmp/b"; then
	ok "--bench summary"; else fail "--bench summary" "$(cat "$tmp/b")"; fi

# No EAL runtime directory is left behind (the EAL makes one per process,
# even with --no-shconf): a replay whose PID we know leaves none.
"$replay" --config $topo --in web-1="$tmp/w1.pcap" --out "$tmp/o3" >/dev/null 2>&1 &
rpid=$!
wait "$rpid"
rrc=$?
if [ "$rrc" = 0 ] && [ ! -e "/var/run/dpdk/vpc-replay-$rpid" ] && [ ! -e "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/vpc-replay-$rpid" ]; then
	ok "no EAL runtime directory left"; else fail "no EAL runtime directory left" "rc $rrc" "$(ls -d /var/run/dpdk/vpc-replay-$rpid 2>&1)"; fi

echo "$n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
