#!/usr/bin/env bash
# The vpcctl command-line contract (docs/cli.md): exact outputs, exit codes,
# and the stream each goes to.  usage: test_vpcctl.sh VPCCTL SOURCE_ROOT
set -uo pipefail
vpcctl=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n_pass=0
n_fail=0

# check NAME WANT_RC WANT_STDOUT WANT_STDERR -- CMD...
check() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4
	shift 5
	local rc=0
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$(cat "$tmp/out")" = "$want_out" ] &&
		[ "$(cat "$tmp/err")" = "$want_err" ]; then
		n_pass=$((n_pass + 1))
		echo "ok - $name"
	else
		n_fail=$((n_fail + 1))
		echo "not ok - $name"
		echo "  rc: got $rc want $want_rc"
		echo "  stdout: got:"; sed 's/^/    /' "$tmp/out"; echo "  want:"; printf '%s\n' "$want_out" | sed 's/^/    /'
		echo "  stderr: got:"; sed 's/^/    /' "$tmp/err"; echo "  want:"; printf '%s\n' "$want_err" | sed 's/^/    /'
	fi
}

cd "$src"

check "validate: valid file, summary on stdout" 0 \
	"config/default.yaml: valid: 1 VPC, 2 subnets, 2 route tables, 4 security groups (1 implicit), 4 interfaces, 3 elastic IPs" "" \
	-- "$vpcctl" validate config/default.yaml

cat >"$tmp/bad.yaml" <<'YAML'
version: 1
vpcs:
  - name: prod
    cidr: 10.0.0.0/16
    subnets:
      - { name: a, cidr: 10.1.0.0/24 }
      - { name: b, cidr: 10.0.1.0/24, route_table: nope }
    interfaces:
      - { name: x, subnet: b, ip: 10.0.1.1 }
YAML
check "validate: every error as FILE:LINE:COL: message on stderr, exit 1" 1 "" \
"$tmp/bad.yaml:6:26: subnet 'a' (10.1.0.0/24) is not inside VPC 'prod' (10.0.0.0/16)
$tmp/bad.yaml:7:52: subnet 'b': unknown route table 'nope' in VPC 'prod'
$tmp/bad.yaml:9:35: interface 'x': IP 10.0.1.1 is reserved in subnet 'b' (the VPC router)" \
	-- "$vpcctl" validate "$tmp/bad.yaml"

check "validate: missing file" 1 "" "$tmp/none.yaml: cannot read: No such file or directory" \
	-- "$vpcctl" validate "$tmp/none.yaml"

# the usage text, exactly
usage_text="usage: vpcctl validate FILE
       vpcctl show [--json] [--host NAME] FILE   (a topology or a compiled image)
       vpcctl compile [--host NAME] FILE -o IMAGE
       vpcctl apply FILE [--host NAME] [--revalidate] [--socket PATH]
       vpcctl stats [--json] [--socket PATH]
       vpcctl conntrack list|count|flush [--json] [--socket PATH]
       vpcctl lb [--json] [--socket PATH]    (load balancers' targets, health)
       vpcctl capture PORT [-c N] [-w FILE.pcapng] [--direction rx|tx|both]
                      [--socket PATH]    (a live port's frames: pcapng, or lines)
       (apply, stats, conntrack, lb, capture: --instance NAME for the XDP engine)
       vpcctl trace FILE|--socket PATH|--instance NAME --in PORT
                    ('tcp SRC:PORT > DST:PORT [flags S]' | --pcap F [--index K]) [--json]
       vpcctl xdp start FILE [--host NAME] [--instance NAME] [--mode native|generic]
                             [--max-connections N]
       vpcctl xdp stop [--instance NAME]
       vpcctl xdp health [--instance NAME]   (its health checker, in the foreground)
       vpcctl publish FILE --etcd URL [--prefix P] [--wait [--timeout S]]
       vpcctl status --etcd URL [--prefix P] [--json]
       vpcctl agent --etcd URL --host NAME [--prefix P]
                    (--engine dpdk [--socket PATH] | --engine xdp [--instance NAME]
                     | --dry-run)"
check "validate: no file is a usage error" 2 "" "$usage_text" \
	-- "$vpcctl" validate

check "unknown command" 2 "" "vpcctl: unknown command 'frobnicate'
$usage_text" \
	-- "$vpcctl" frobnicate

# compile, then show the image: the same text as showing the topology.
"$vpcctl" show config/default.yaml >"$tmp/show-yaml.txt"
size=$("$vpcctl" compile config/default.yaml -o "$tmp/default.img" | sed 's/.*: \([0-9]*\) bytes/\1/')
check "compile writes the image" 0 "$tmp/default.img: $size bytes" "" \
	-- "$vpcctl" compile config/default.yaml -o "$tmp/default.img"
check "show IMAGE equals show TOPOLOGY" 0 "$(cat "$tmp/show-yaml.txt")" "" \
	-- "$vpcctl" show "$tmp/default.img"

# A corrupt image is refused with the reason.
cp "$tmp/default.img" "$tmp/cut.img"
truncate -s 1000 "$tmp/cut.img"
check "show refuses a truncated image" 1 "" \
	"$tmp/cut.img: corrupt table image: header says $size bytes, the image has 1000 (truncated?)" \
	-- "$vpcctl" show "$tmp/cut.img"

# show --json is one valid JSON document with the expected facts.
check "show --json" 0 "prod 100 10.0.0.0/16 ['web', 'bastion', 'db', 'default'] 203.0.113.5 uplink" "" \
	-- bash -c "'$vpcctl' show --json config/default.yaml | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = d[\"vpcs\"][0]
print(v[\"name\"], v[\"vni\"], v[\"cidr\"], [g[\"name\"] for g in d[\"security_groups\"]],
      d[\"elastic_ips\"][0][\"elastic_ip\"], d[\"ports\"][-1][\"name\"])'"

# DHCP options: each VPC's, AWS's defaults where the file gives none.
check "show: DHCP options" 0 \
"  dhcp_options: domain_name_servers 172.16.1.53 172.16.0.2, domain_name \"tenant-a.internal\", ntp_servers 169.254.169.123, lease_time 86400s
  dhcp_options: domain_name_servers 172.16.0.2, domain_name none, ntp_servers none, lease_time 3600s" "" \
	-- bash -c "'$vpcctl' show config/multi-vpc.yaml | grep dhcp_options"
check "show --json: DHCP options" 0 \
'{"domain_name_servers": ["172.16.1.53", "172.16.0.2"], "domain_name": "tenant-a.internal", "ntp_servers": ["169.254.169.123"], "lease_time": 86400}
{"domain_name_servers": ["172.16.0.2"], "domain_name": null, "ntp_servers": [], "lease_time": 3600}' "" \
	-- bash -c "'$vpcctl' show --json config/multi-vpc.yaml | python3 -c '
import json, sys
for v in json.load(sys.stdin)[\"vpcs\"]:
    print(json.dumps(v[\"dhcp_options\"]))'"

# hosts: each host's view has its own interfaces, ports, uplink and
# elastic IPs, and every member of a group in the rules.
hosts=tests/topo/valid/hosts.yaml
check "show --host: the host's ports and elastic IPs" 0 \
"ports:
    0 web2             interface web2 (VPC prod)
    1 up2              uplink, MAC 02:fe:00:00:02:01, gateway MAC 02:fe:00:00:02:fe, underlay 192.0.2.2

other hosts (overlay):
  hv1              underlay 192.0.2.1       next hop MAC 02:fe:00:00:01:01

elastic IPs (uplink):
  198.51.100.11   -> web2 10.1.1.11 (VPC prod)" "" \
	-- bash -c "'$vpcctl' show --host hv2 $hosts | sed -n '/^ports:/,\$p'"
check "show --host: group members on every host stay in the rules" 0 \
"      ingress tcp   5432          from 10.1.1.10/32 (member of web)
      ingress tcp   5432          from 10.1.1.11/32 (member of web)" "" \
	-- bash -c "'$vpcctl' show --host hv2 $hosts | grep 5432"
check "show --host: hv1 runs web1 and db1; web2 is hv2's" 0 "web1 db1 up1 | web1:- web2:hv2 db1:-" "" \
	-- bash -c "'$vpcctl' show --json --host hv1 $hosts | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(\" \".join(p[\"name\"] for p in d[\"ports\"]), \"|\",
      \" \".join(f[\"name\"] + \":\" + (f.get(\"host\") or \"-\") for f in d[\"interfaces\"]))'"
check "show --host: an unknown host" 1 "" "$hosts: no host 'hv9' in its hosts list" \
	-- "$vpcctl" show --host hv9 "$hosts"
"$vpcctl" compile --host hv1 "$hosts" -o "$tmp/hv1.img" >/dev/null
check "compile --host, then show: the host's view" 0 "$("$vpcctl" show --host hv1 "$hosts")" "" \
	-- "$vpcctl" show "$tmp/hv1.img"

# Load balancers: each VPC's under "load balancers:", every default filled
# in; an internet-facing one's elastic IP in the uplink's table.
lb=tests/topo/valid/lb.yaml
check "show: load balancers" 0 \
"  load balancers:
    web-lb           internet-facing, elastic IP 198.51.100.20, groups lb-sg
      listener tcp 80 -> target group web
      target group web: tcp port 8080, hash, deregistration delay 300s
        health check tcp: interval 30s, timeout 10s, healthy threshold 5, unhealthy threshold 2
        web-1            10.0.1.10       port 8080, health check port 8080, weight 1
        web-2            10.0.1.11       port 8080, health check port 8080, weight 1
    dns-lb           internal, subnet private-a, ip 10.0.2.100, groups none (no filter)
      listener udp 53 -> target group dns-udp
      listener tcp 53 -> target group dns-tcp
      target group dns-udp: udp port 53, weighted_round_robin, deregistration delay 0s
        health check tcp: interval 10s, timeout 5s, healthy threshold 3, unhealthy threshold 3
        dns-1            10.0.2.10       port 53, health check port 53, weight 3
        dns-2            10.0.2.11       port 5353, health check port 53, weight 1
      target group dns-tcp: tcp port 53, round_robin, deregistration delay 300s
        health check tcp: interval 30s, timeout 10s, healthy threshold 5, unhealthy threshold 2
        dns-1            10.0.2.10       port 53, health check port 53, weight 1
      target group spare: udp port 53, round_robin, deregistration delay 300s
        health check tcp: interval 30s, timeout 10s, healthy threshold 5, unhealthy threshold 2
        (no targets)" "" \
	-- bash -c "'$vpcctl' show $lb | sed -n '/^  load balancers:/,/^  interfaces:/p' | sed '\$d'"
check "show: a load balancer's elastic IP" 0 \
"elastic IPs (uplink):
  198.51.100.20   -> load balancer web-lb (VPC prod)
  198.51.100.30   -> dns-2 10.0.2.11 (VPC prod)" "" \
	-- bash -c "'$vpcctl' show $lb | sed -n '/^elastic IPs/,\$p'"
check "show --json: load balancers" 0 \
'{"name": "web-lb", "vpc": "prod", "scheme": "internet-facing", "subnet": null, "ip": null, "elastic_ip": "198.51.100.20", "security_groups": ["lb-sg"], "listeners": [{"protocol": "tcp", "port": 80, "target_group": "web"}], "target_groups": [{"name": "web", "protocol": "tcp", "port": 8080, "algorithm": "hash", "deregistration_delay": 300, "health_check": {"protocol": "tcp", "interval": 30, "timeout": 10, "healthy_threshold": 5, "unhealthy_threshold": 2}, "targets": [{"interface": "web-1", "ip": "10.0.1.10", "port": 8080, "health_check_port": 8080, "weight": 1}, {"interface": "web-2", "ip": "10.0.1.11", "port": 8080, "health_check_port": 8080, "weight": 1}]}]}
{"name": "dns-lb", "vpc": "prod", "scheme": "internal", "subnet": "private-a", "ip": "10.0.2.100", "elastic_ip": null, "security_groups": [], "listeners": [{"protocol": "udp", "port": 53, "target_group": "dns-udp"}, {"protocol": "tcp", "port": 53, "target_group": "dns-tcp"}], "target_groups": [{"name": "dns-udp", "protocol": "udp", "port": 53, "algorithm": "weighted_round_robin", "deregistration_delay": 0, "health_check": {"protocol": "tcp", "interval": 10, "timeout": 5, "healthy_threshold": 3, "unhealthy_threshold": 3}, "targets": [{"interface": "dns-1", "ip": "10.0.2.10", "port": 53, "health_check_port": 53, "weight": 3}, {"interface": "dns-2", "ip": "10.0.2.11", "port": 5353, "health_check_port": 53, "weight": 1}]}, {"name": "dns-tcp", "protocol": "tcp", "port": 53, "algorithm": "round_robin", "deregistration_delay": 300, "health_check": {"protocol": "tcp", "interval": 30, "timeout": 10, "healthy_threshold": 5, "unhealthy_threshold": 2}, "targets": [{"interface": "dns-1", "ip": "10.0.2.10", "port": 53, "health_check_port": 53, "weight": 1}]}, {"name": "spare", "protocol": "udp", "port": 53, "algorithm": "round_robin", "deregistration_delay": 300, "health_check": {"protocol": "tcp", "interval": 30, "timeout": 10, "healthy_threshold": 5, "unhealthy_threshold": 2}, "targets": []}]}
[{"elastic_ip": "198.51.100.20", "load_balancer": "web-lb"}, {"elastic_ip": "198.51.100.30", "interface": "dns-2"}]' "" \
	-- bash -c "'$vpcctl' show --json $lb | python3 -c '
import json, sys
d = json.load(sys.stdin)
for b in d[\"load_balancers\"]:
    print(json.dumps(b))
print(json.dumps(d[\"elastic_ips\"]))'"
"$vpcctl" compile $lb -o "$tmp/lb.img" >/dev/null
check "compile, then show: load balancers from the image" 0 "$("$vpcctl" show $lb)" "" \
	-- "$vpcctl" show "$tmp/lb.img"
check "validate: a topology with load balancers" 0 \
	"$lb: valid: 1 VPC, 2 subnets, 1 route table, 4 security groups (1 implicit), 4 interfaces, 2 elastic IPs" "" \
	-- "$vpcctl" validate $lb

check "apply with no vpcd running" 1 "" "vpcctl: cannot reach vpcd at $tmp/none.sock: No such file or directory" \
	-- "$vpcctl" apply config/default.yaml --socket "$tmp/none.sock"
cap_usage="usage: vpcctl capture PORT [-c N] [-w FILE.pcapng] [--direction rx|tx|both]
                      [--socket PATH | --instance NAME]"
check "capture: no port is a usage error" 2 "" "$cap_usage" -- "$vpcctl" capture -c 3
check "capture: two ports are a usage error" 2 "" "$cap_usage" -- "$vpcctl" capture vm1 vm2
check "capture: a bad count" 2 "" "vpcctl: -c 0: not a count of frames (1 or more)" \
	-- "$vpcctl" capture vm1 -c 0
check "capture: a bad direction" 2 "" "vpcctl: --direction up: rx, tx or both" \
	-- "$vpcctl" capture vm1 --direction up
check "capture with no vpcd running: no file made" 1 "" \
	"vpcctl: cannot reach vpcd at $tmp/none.sock: No such file or directory" \
	-- "$vpcctl" capture vm1 -w "$tmp/none.pcapng" --socket "$tmp/none.sock"
if [ ! -e "$tmp/none.pcapng" ]; then
	n_pass=$((n_pass + 1)); echo "ok - capture refused: no file left"
else
	n_fail=$((n_fail + 1)); echo "not ok - capture refused: $tmp/none.pcapng left behind"
fi
check "stats of an XDP instance that does not run" 1 "" \
"vpcctl: no XDP instance 'cli-none' (/sys/fs/bpf/vpc/cli-none: No such file or directory)" \
	-- "$vpcctl" stats --instance cli-none
check "conntrack: a bad instance name" 1 "" "vpcctl: bad instance name 'a/b' ([a-z0-9_-], 1 to 32)" \
	-- "$vpcctl" conntrack list --instance a/b
if [ "$(id -u)" = 0 ]; then
	check "xdp start: a port with no device is refused, nothing stays pinned" 1 "" \
		"vpcctl: port 'web-1': host.ports does not say which device it is" \
		-- "$vpcctl" xdp start config/default.yaml --instance cli-test
	if [ ! -e /sys/fs/bpf/vpc/cli-test ]; then
		n_pass=$((n_pass + 1)); echo "ok - xdp start: no pins left after the refusal"
	else
		n_fail=$((n_fail + 1)); echo "not ok - xdp start: /sys/fs/bpf/vpc/cli-test left behind"
	fi
fi
check "apply of an invalid topology: errors before anything is sent" 1 "" \
"$tmp/bad.yaml:6:26: subnet 'a' (10.1.0.0/24) is not inside VPC 'prod' (10.0.0.0/16)
$tmp/bad.yaml:7:52: subnet 'b': unknown route table 'nope' in VPC 'prod'
$tmp/bad.yaml:9:35: interface 'x': IP 10.0.1.1 is reserved in subnet 'b' (the VPC router)" \
	-- "$vpcctl" apply "$tmp/bad.yaml" --socket "$tmp/none.sock"

# A crafted image (a rule flagged with a group peer that names none) once
# crashed show; the checker refuses it for every reader.
img=tests/topo/invalid-images/rule-peer-none.img
for sub in show "show --json" validate; do
	# shellcheck disable=SC2086
	check "$sub refuses an image whose rule has a group peer that names none" 1 "" \
		"$img: corrupt table image: rule 2: security-group peer without a peer group" \
		-- "$vpcctl" $sub "$img"
done

# Every example validates; the scale topology too.
for f in config/*.yaml; do
	check "validate $f" 0 "$("$vpcctl" validate "$f")" "" -- "$vpcctl" validate "$f"
	rc=0; "$vpcctl" validate "$f" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] || { n_fail=$((n_fail + 1)); echo "not ok - $f does not validate"; }
done
python3 tools/gen-topology.py >"$tmp/big.yaml"
check "scale: 100 VPCs, 10,000 interfaces, 1,000 groups" 0 \
	"$tmp/big.yaml: valid: 100 VPCs, 400 subnets, 100 route tables, 1100 security groups (100 implicit), 10000 interfaces, 1000 elastic IPs" "" \
	-- "$vpcctl" validate "$tmp/big.yaml"

# vpcctl trace FILE: the README's example, exactly; a denied one; errors.
check "trace FILE: the README's example" 0 "packet on port web-1: 02:64:0a:00:01:0a > 06:00:00:00:64:01, tcp 10.0.1.10:43210 > 10.0.2.20:5432 flags S, ttl 64, length 40
  source          from interface web-1: checks passed
  conntrack       miss
  route           table public: 10.0.2.20 matches 10.0.0.0/16 (local) -> interface db-1
  security group  web-1 egress: allowed by group web rule 1 (all to 0.0.0.0/0)
  security group  db-1 ingress: allowed by group db rule 1 (tcp 5432 from group web)
  open            connection created
  verdict         forward on port db-1, path routed
  output          06:00:00:00:64:01 > 02:64:0a:00:02:14, tcp 10.0.1.10:43210 > 10.0.2.20:5432 flags S, ttl 63, length 40" "" \
	-- "$vpcctl" trace config/default.yaml --in web-1 'tcp 10.0.1.10:43210 > 10.0.2.20:5432'
check "trace FILE: from the internet, a port no group opens" 0 "packet on port uplink: 02:fe:00:00:00:fe > 02:fe:00:00:00:01, udp 192.0.2.7:5000 > 203.0.113.10:53, ttl 64, length 28
  source          from the uplink: checks passed
  conntrack       miss
  uplink          203.0.113.10: elastic IP of interface web-1
  security group  web-1 ingress: denied, no rule allows
  verdict         drop: sg-denied (new connection not allowed by security groups)" "" \
	-- "$vpcctl" trace config/default.yaml --in uplink 'udp 192.0.2.7:5000 > 203.0.113.10:53'
trace_usage="usage: vpcctl trace FILE|--socket PATH|--instance NAME --in PORT
                    ('tcp SRC:PORT > DST:PORT [flags S]' | --pcap F [--index K])
                    [--json] [--engine dpdk|xdp] [--host NAME]"
check "trace: no --in" 2 "" "vpcctl trace: --in PORT is required
$trace_usage" -- "$vpcctl" trace config/default.yaml 'udp 1.2.3.4:1 > 5.6.7.8:2'
check "trace: both a description and --pcap" 2 "" "vpcctl trace: give a packet's description or --pcap F
$trace_usage" -- "$vpcctl" trace config/default.yaml --in web-1 'udp 1.2.3.4:1 > 5.6.7.8:2' --pcap x.pcap
check "trace: a file and a socket" 2 "" "vpcctl trace: FILE, --socket and --instance exclude each other
$trace_usage" -- "$vpcctl" trace config/default.yaml --socket /nonexistent --in web-1 'udp 1.2.3.4:1 > 5.6.7.8:2'
check "trace: a wrong description" 1 "" "vpc-replay: --packet 'tcp 10.0.1.10:1 > 10.0.2.20': bad destination '10.0.2.20' (ADDRESS:PORT)" \
	-- "$vpcctl" trace config/default.yaml --in web-1 'tcp 10.0.1.10:1 > 10.0.2.20'
check "trace: no vpcd" 1 "" "vpcctl: cannot reach vpcd at $tmp/none.sock: No such file or directory" \
	-- "$vpcctl" trace --socket "$tmp/none.sock" --in web-1 'udp 1.2.3.4:1 > 5.6.7.8:2'
printf 'not a pcap file at all' >"$tmp/x.pcap"
check "trace: --pcap, not a capture" 1 "" "vpcctl trace: $tmp/x.pcap: not a pcap file (or a truncated one)" \
	-- "$vpcctl" trace --socket "$tmp/none.sock" --in web-1 --pcap "$tmp/x.pcap"

echo "$n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
