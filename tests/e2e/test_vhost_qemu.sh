#!/usr/bin/env bash
# End-to-end with real guest kernels: two QEMU guests (software emulation,
# Debian 12's kernel, a busybox initramfs made here) whose virtio-net NICs
# are vhost-user ports of vpcd, with the guests' default offloads; the
# internet is a network namespace on a veth pair whose host end vpcd opens
# as its uplink (af_packet), with the kernel's default offloads on both
# ends (checksum offload, TSO, GSO: the dataplane copes with what a
# default veth gives it).  topo-qemu.yaml: qa in subnet a with elastic IP
# 198.51.100.70, qb in subnet b.  The test drives each guest through a
# shell on its second serial port (a unix socket here, `gx`).  Checked,
# from inside the guests:
#  - each guest's DHCP lease from vpcd (its address, router, DNS, domain,
#    MTU); ping across subnets; 1 MB over TCP qa -> qb, md5 equal at both
#    ends;
#  - qa -> internet: one TCP connection, 1 MB up and then 1 MB down; the
#    internet's server sees the elastic IP as its peer; md5 of each 1 MB
#    equal at both ends;
#  - internet -> qa's elastic IP: the same, the internet connecting;
#  - the internet never sees a private address: a sniffer on its eth0
#    records the source of every IPv4 and ARP frame it receives, over the
#    whole test: only the elastic IP; it also checks that the internet did
#    send vpcd TSO/GSO super-frames (an IPv4 frame above 1514 bytes);
#  - a refused port: qb -> qa:5004 (allowed by no rule; qa listens) times
#    out, and vpcctl stats counts the drops as sg-denied;
#  - a live apply (vpcctl apply, no --revalidate) of the topology without
#    the rule for port 5003: a connection from the internet to qa:5003
#    opened before it carries on after it; a new one is refused (times
#    out); then the rule back, a connection opened, and the same apply
#    with --revalidate: that connection is cut (its next segment gets no
#    answer);
#  - qb's QEMU killed (SIGKILL) and started again on the same vhost-user
#    socket, vpcd running on: qb gets its lease again and pings qa, qa
#    pings qb;
# then vpcctl stats counts DHCP replies and igw-ingress, the guests power
# off (QEMU exits 0), vpcd is still the same process and exits 0 on
# SIGINT, every helper exits 0.  Nothing waits a fixed time for what must
# happen: each step polls for its event, bounded (checks.sh); what must
# not happen (a refused connection, an echo on a cut one) gets 3 s.
# About 30 s here.
# (vpcd restarting under running guests is not checked: QEMU 7.2 in
# software emulation fails to restore the rings on reconnect -- "vhost VQ
# 0 ring restore failed" -- now and then.)
# QEMU 7.2 without KVM crashes starting a vhost-user virtio-net device
# with MSI-X; the devices here have vectors=0.
# usage: test_vhost_qemu.sh VPCD VPCCTL SOURCE_ROOT CACHE   (root)
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
cache=$4
here="$src/tests/e2e"
tmp=""
. "$here/checks.sh"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86 is not installed"
[ -x /bin/busybox ] || skip "busybox-static is not installed"
e2e_need_root
deb=$(ls "$cache"/linux-image-6.1.0-*-amd64-unsigned_*.deb 2>/dev/null | sort -V | tail -1)
if [ -z "$deb" ]; then
	mkdir -p "$cache"
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
		awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] && (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) || skip "no Debian kernel package"
	deb=$(ls "$cache"/linux-image-6.1.0-*-amd64-unsigned_*.deb | sort -V | tail -1)
fi

cleanup_net() {
	ip netns pids e2e-qinet 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del e2e-qinet 2>/dev/null
	ip link del e2e-qup 2>/dev/null
}
cleanup() {
	cleanup_net
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup
cleanup_net
tmp=$(mktemp -d /tmp/vpcd-qemu-XXXXXX)
chmod 755 "$tmp"
sock=$tmp/vpcd.sock
vctl() { timeout "$E2E_WAIT" "$vpcctl" "$@" --socket "$sock"; }

# The guest: the kernel, virtio-net's modules, busybox, an init that gets
# its lease, then serves the test's commands on ttyS1.
dpkg-deb -x "$deb" "$tmp/k"
kernel=$(ls "$tmp"/k/boot/vmlinuz-* | head -1)
mods=$(ls -d "$tmp"/k/lib/modules/*)
r=$tmp/root
mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/m"
cp /bin/busybox "$r/bin/busybox"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover \
	net_failover virtio_net; do
	f=$(find "$mods" -name "$m.ko" | head -1)
	[ -n "$f" ] && cp "$f" "$r/m/"
done
cat >"$r/dhcp.sh" <<'SH'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
	ip route add default via "$router"
	echo "LEASE ip=$ip mask=$mask router=$router dns=$dns domain=$domain mtu=$mtu" >/tmp/lease
	;;
esac
SH
# The command channel: each line the test writes to ttyS1, "ID COMMAND"
# (the command in base64: it may span lines), runs in a subshell (stdin
# /dev/null); its output follows on ttyS1, then "__END ID STATUS".  Echo and output processing are off, so what comes
# back is exactly what the command wrote.  "CTL ready" on the console says
# ttyS1 is open (bytes sent before that could be lost to the UART's reset).
cat >"$r/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover \
	net_failover virtio_net; do
	[ -f /m/$m.ko ] && insmod /m/$m.ko
done
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -q -n -t 20 -T 1 -s /dhcp.sh >/dev/null 2>&1 || echo "NO LEASE"
cat /tmp/lease 2>/dev/null
# pingwait ADDR: an echo reply from ADDR within 60 tries (1 s each)
pingwait() {
	n=0
	until ping -c 1 -W 1 "$1" >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -ge 60 ] && return 1
	done
	return 0
}
# listening PORT: a TCP listener on PORT (what the test starts in the
# background is there before the peer connects)
listening() {
	n=0
	until netstat -ltn | grep -q ":$1 "; do
		n=$((n + 1)); [ $n -ge 100 ] && return 1; usleep 100000
	done
}
{
	stty -echo -opost
	echo "CTL ready" >/dev/console
	while :; do
		while read -r id cmd; do
			(eval "$(echo "$cmd" | base64 -d)") </dev/null 2>&1
			echo "__END $id $?"
		done
	done
} <>/dev/ttyS1 >&0 2>&0
INIT
chmod +x "$r/init" "$r/dhcp.sh"
(cd "$r" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp/initrd.gz"

# gx GUEST SECONDS COMMAND: runs COMMAND in GUEST's shell, prints its
# output and returns its status (124 after SECONDS without its end).
py_gx='
import base64, socket, sys, time
path, limit = sys.argv[1], float(sys.argv[2])
cmd = base64.b64encode(sys.argv[3].encode()).decode()
tag = str(time.time_ns())
end = time.monotonic() + limit
s = socket.socket(socket.AF_UNIX); s.settimeout(limit); s.connect(path)
s.sendall(("%s %s\n" % (tag, cmd)).encode())
buf, mark = b"", ("__END %s " % tag).encode()
while True:
    i = buf.find(mark)
    if i >= 0 and b"\n" in buf[i:]:
        sys.stdout.write(buf[:i].decode(errors="replace"))
        sys.exit(int(buf[i:].split(b"\n")[0].split()[2]))
    if time.monotonic() >= end:
        sys.stdout.write(buf.decode(errors="replace") + "(no answer within %g s)\n" % limit)
        sys.exit(124)
    s.settimeout(max(end - time.monotonic(), 0.01))
    try:
        d = s.recv(65536)
    except socket.timeout:
        continue
    if not d:
        sys.exit("the guest'"'"'s channel closed")
    buf += d
'
gx() { python3 -c "$py_gx" "$tmp/$1.ctl" "$2" "$3"; }

# The internet: a namespace on a veth pair, the kernel's default offloads
# on both ends; it reaches the elastic IP through the uplink (ARP answered
# by the dataplane).
ip netns add e2e-qinet
ip link add e2e-qup type veth peer name eth0 netns e2e-qinet
ip link set e2e-qup up
in_ns qinet sysctl -qw net.ipv6.conf.all.disable_ipv6=1
in_ns qinet ip link set lo up
in_ns qinet ip link set eth0 address 02:fe:00:00:00:fe
in_ns qinet ip link set eth0 up
in_ns qinet ip addr add 203.0.113.1/24 dev eth0
in_ns qinet ip route add 198.51.100.70/32 dev eth0
echo "# internet's eth0 offloads: $(in_ns qinet ethtool -k eth0 2>/dev/null |
	grep -E '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload):' | tr -s ' ' | paste -sd' ')"

# The sniffer: the source address of every IPv4 and ARP frame the
# internet's eth0 receives, and the largest IPv4 frame it sends (above
# 1514 bytes: a TSO/GSO super-frame went to vpcd), printed when it stops.
py_sniff=$py_prologue'
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
s.bind(("eth0", 0))
print("listening", flush=True)
seen, largest, d = set(), 0, bytearray(64)
try:
    while True:
        n, a = s.recvfrom_into(d, 64, socket.MSG_TRUNC)
        if a[2] == socket.PACKET_OUTGOING:
            if d[12:14] == b"\x08\x00":
                largest = max(largest, n)
        elif d[12:14] == b"\x08\x00":
            seen.add(socket.inet_ntoa(d[26:30]))
        elif d[12:14] == b"\x08\x06":
            seen.add(socket.inet_ntoa(d[28:32]))
except Stop:
    pass
print("sources", " ".join(sorted(seen)))
print("largest", largest)
'
ns_daemon sniffer qinet python3 -c "$py_sniff"
daemon_wait sniffer "the sniffer on the internet's eth0" grep -q listening "$tmp/sniffer.log"

sed -e "s|QA_SOCK|$tmp/qa.sock|" -e "s|QB_SOCK|$tmp/qb.sock|" "$here/topo-qemu.yaml" >"$tmp/topo.yaml"
sed '/LIVE-APPLY: removed/d' "$tmp/topo.yaml" >"$tmp/topo-no5003.yaml"
daemon_start vpcd "$tmp/vpcd.log" "$vpcd" --config "$tmp/topo.yaml" --socket "$sock" -- --no-huge \
	--no-telemetry --file-prefix=e2e-qemu
vpcd_ready() { grep -q "forwarding" "$tmp/vpcd.log" && vctl stats >/dev/null 2>&1; }
daemon_wait vpcd "vpcd forwarding" vpcd_ready || exit 1
vpcd_pid=${d_pid[vpcd]}

guest() { # NAME MAC RUN [DEVICE-OPTIONS]: QEMU for guest NAME, its console in console-NAME-RUN.log
	daemon_start "qemu-$1" "$tmp/qemu-$1-$3.log" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 256 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$kernel" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1" \
		-chardev "socket,id=c0,path=$tmp/$1.sock,reconnect=1" \
		-netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,mac=$2,vectors=0${4:+,$4}" \
		-chardev "socket,id=ctl,path=$tmp/$1.ctl,server=on,wait=off" \
		-nographic -no-reboot -monitor none -serial "file:$tmp/console-$1-$3.log" -serial chardev:ctl
}
console_has() { grep -aq "$3" "$tmp/console-$1-$2.log" 2>/dev/null; }
# ready NAME RUN: waits for the guest's command channel (QEMU must live)
ready() { daemon_wait "qemu-$1" "guest $1 (run $2) up, its command channel open" console_has "$1" "$2" "CTL ready"; }
lease_ok() { # NAME RUN WANT
	local got
	got=$(grep -ao 'LEASE ip=[^[:cntrl:]]*' "$tmp/console-$1-$2.log" | head -1)
	[ "$got" = "$3" ] && ok "$1 (run $2): its lease from vpcd's DHCP" || fail "$1's lease (run $2)" "want: $3" "got:  $got"
}
want_qa="LEASE ip=10.70.1.10 mask=24 router=10.70.1.1 dns=10.70.0.2 domain=qemu.e2e.internal mtu=1500"
want_qb="LEASE ip=10.70.2.20 mask=24 router=10.70.2.1 dns=10.70.0.2 domain=qemu.e2e.internal mtu=1500"

# A guest's boot in software emulation, on a loaded machine, may take
# minutes: the waits for it are longer.
step_wait=$E2E_WAIT
boot_wait=$((E2E_WAIT > 300 ? E2E_WAIT : 300))
E2E_WAIT=$boot_wait
guest qa 02:70:00:00:01:0a 1
guest qb 02:70:00:00:02:14 1
ready qa 1 && ready qb 1 || exit 1
E2E_WAIT=$step_wait
lease_ok qa 1 "$want_qa"
lease_ok qb 1 "$want_qb"
gx qa 90 "pingwait 10.70.2.20" && ok "qa pings qb across subnets" || fail "qa: ping qb"
gx qb 90 "pingwait 10.70.1.10" && ok "qb pings qa across subnets" || fail "qb: ping qa"

# ---- 1 MB qa -> qb (routed), md5 at both ends ----
# (Each transfer is over when the guest's nc returns: it exits on its
# peer's end of stream, which comes after the peer has what it was sent.
# A listener reads with -e: busybox nc ends its side when its stdin does,
# and a client that sees that end stops sending.)
out=$(gx qb 10 "{ nc -l -p 5001 -e sh -c 'cat >/tmp/got' & } && listening 5001") || fail "qb: a listener on 5001" "$out"
sent=$(gx qa 60 "dd if=/dev/urandom of=/tmp/blob bs=1024 count=1024 2>/dev/null &&
	nc -w 30 10.70.2.20 5001 </tmp/blob; echo \$? \$(md5sum </tmp/blob)")
read -r rc sent_md5 _ <<<"$sent"
got=$(gx qb 10 "echo \$(wc -c </tmp/got) \$(md5sum </tmp/got)")
read -r got_n got_md5 _ <<<"$got"
[ "${rc:-}" = 0 ] && [ "${got_n:-}" = 1048576 ] && [ "${got_md5:-}" = "${sent_md5:-}" ] &&
	ok "qa -> qb: 1 MB over TCP, md5 equal at both ends" ||
	fail "qa -> qb: 1 MB over TCP" "qa (nc status, md5 sent): $sent" "qb (bytes, md5 received): $got"

# ---- the internet, through qa's elastic IP ----
# The internet's server: reads to EOF, then answers 1 MB of its own; prints
# the peer it saw, what it got (bytes, md5) and the md5 of what it sent.
py_bulk_server=$py_prologue'
import hashlib, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4)
back = os.urandom(1 << 20)
try:
    c, a = s.accept(); c.settimeout(30)
    got = bytearray()
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += d
    c.sendall(back); c.close()
    print(a[0], len(got), hashlib.md5(got).hexdigest(), hashlib.md5(back).hexdigest(), flush=True)
except Stop:
    pass
'
# The internet's client: 1 MB to ADDR PORT, then reads to EOF; prints what
# it got (bytes, md5) and the md5 of what it sent.
py_bulk_client='
import hashlib, os, socket, sys
data = os.urandom(1 << 20)
got = bytearray()
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
    c.sendall(data); c.shutdown(socket.SHUT_WR)
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += d
except OSError as e:
    print("(%s)" % e, end=" ")
print(len(got), hashlib.md5(got).hexdigest(), hashlib.md5(data).hexdigest())
'
gx qa 30 "pingwait 203.0.113.1" && ok "qa pings the internet (through its elastic IP)" || fail "qa: ping the internet"
ping_ok qinet 198.51.100.70 && ok "the internet pings qa's elastic IP" || fail "the internet: ping the elastic IP"

ns_daemon "bulk-server qinet:5002" qinet python3 -c "$py_bulk_server" 5002
ns_serving "bulk-server qinet:5002" qinet tcp 5002
out=$(gx qa 60 "dd if=/dev/urandom of=/tmp/up bs=1024 count=1024 2>/dev/null &&
	nc -w 30 203.0.113.1 5002 </tmp/up >/tmp/down; echo \$? \$(md5sum </tmp/up) \$(wc -c </tmp/down) \$(md5sum </tmp/down)")
daemon_join "bulk-server qinet:5002"
read -r rc up_md5 _ down_n down_md5 _ <<<"$out"
read -r peer srv_n srv_md5 back_md5 <"$tmp/bulk-server_qinet_5002.log"
[ "${peer:-}" = 198.51.100.70 ] && ok "qa -> internet: the internet's server sees the elastic IP as its peer" ||
	fail "qa -> internet: peer seen by the internet" "$(cat "$tmp/bulk-server_qinet_5002.log")"
[ "${srv_n:-}" = 1048576 ] && [ "${srv_md5:-}" = "${up_md5:-}" ] && ok "qa -> internet: 1 MB up, md5 equal at both ends" ||
	fail "qa -> internet: 1 MB up" "qa: $out" "internet: $(cat "$tmp/bulk-server_qinet_5002.log")"
[ "${rc:-}" = 0 ] && [ "${down_n:-}" = 1048576 ] && [ "${down_md5:-}" = "${back_md5:-}" ] &&
	ok "qa -> internet: 1 MB down on the same connection, md5 equal at both ends" ||
	fail "qa -> internet: 1 MB down (nc status, md5 up, bytes down, md5 down)" "qa: $out" \
		"internet: $(cat "$tmp/bulk-server_qinet_5002.log")"

out=$(gx qa 30 "dd if=/dev/urandom of=/tmp/back bs=1024 count=1024 2>/dev/null &&
	{ nc -l -p 5002 -e sh -c 'cat >/tmp/in; cat /tmp/back' & } && listening 5002 && md5sum </tmp/back")
read -r back_md5 _ <<<"$out"
cli=$(in_ns qinet python3 -c "$py_bulk_client" 198.51.100.70 5002 2>&1)
read -r cli_n cli_md5 sent_md5 <<<"$cli"
got=$(gx qa 10 "echo \$(wc -c </tmp/in) \$(md5sum </tmp/in)")
read -r got_n got_md5 _ <<<"$got"
[ "${got_n:-}" = 1048576 ] && [ "${got_md5:-}" = "${sent_md5:-}" ] && ok "internet -> qa: 1 MB in, md5 equal at both ends" ||
	fail "internet -> qa: 1 MB in" "internet (bytes, md5 received, md5 sent): $cli" "qa (bytes, md5 received): $got"
[ "${cli_n:-}" = 1048576 ] && [ "${cli_md5:-}" = "${back_md5:-}" ] &&
	ok "internet -> qa: 1 MB back on the same connection, md5 equal at both ends" ||
	fail "internet -> qa: 1 MB back" "qa sent md5: $out" "internet (bytes, md5 received, md5 sent): $cli"

# ---- a refused port: qb -> qa:5004, which no rule allows ----
sg_denied() { vctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["drops"]["sg-denied"])'; }
out=$(gx qa 10 "{ nc -l -p 5004 >/dev/null & } && listening 5004") || fail "qa: a listener on 5004" "$out"
before=$(sg_denied)
out=$(gx qb 30 "nc -w 3 10.70.1.10 5004 </dev/null; echo status \$?")
after=$(sg_denied)
[ "${out##*status }" != 0 ] && [ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] &&
	ok "qb -> qa:5004 refused by the security group (times out; sg-denied $before -> $after)" ||
	fail "refused port 5004" "qb: $out" "sg-denied before: $before, after: $after"
gx qa 10 "kill \$(pidof nc) 2>/dev/null; true" >/dev/null

# ---- a live apply that removes the rule for 5003 ----
out=$(gx qa 10 "{ nc -l -p 5003 -e cat & } && listening 5003") || fail "qa: an echo server on 5003" "$out"
ns_daemon "keep-open client qinet" qinet python3 -c "$py_keep_open" 198.51.100.70 5003 "$tmp/apply-go" \
	"$tmp/apply-done" "$E2E_WAIT"
daemon_wait "keep-open client qinet" "its connection to qa:5003 open and echoed" test -e "$tmp/apply-go"
out=$(vctl apply "$tmp/topo-no5003.yaml" 2>&1)
rc=$?
[ "$rc" = 0 ] && [[ $out == "applied: generation 2, "* ]] && ok "vpcctl apply without port 5003's rule: live, generation 2" ||
	fail "apply (exit $rc)" "$out"
touch "$tmp/apply-done"
daemon_join "keep-open client qinet"
got=$(cat "$tmp/keep-open_client_qinet.log")
[ "$got" = "before after" ] && ok "internet -> qa:5003: the open connection survives the removal of its rule" ||
	fail "connection across the apply" "$got"
out=$(gx qa 10 "{ nc -l -p 5003 -e cat & } && listening 5003") || fail "qa: an echo server on 5003, again" "$out"
got=$(connect_tcp qinet 198.51.100.70 5003)
[ "$got" = "timeout" ] && ok "after the apply a new connection to qa:5003 is refused" || fail "new connection after the apply" "$got"
gx qa 10 "kill \$(pidof nc) 2>/dev/null; true" >/dev/null

# ---- --revalidate: the rule back (generation 3), a connection opened, the
# rule taken away again with --revalidate (generation 4): it is cut ----
# A client like py_keep_open, whose second echo may not come: prints
# "before" and "after" or "cut" (nothing within 3 s).
py_keep_or_cut=$py_prologue'
import os
s = socket.socket(); s.settimeout(float(sys.argv[5])); s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b"before"); a = s.recv(100)
open(sys.argv[3], "w").close()
end = time.monotonic() + float(sys.argv[5])
while not os.path.exists(sys.argv[4]):
    if time.monotonic() > end:
        sys.exit("%s never appeared" % sys.argv[4])
    time.sleep(0.05)
s.settimeout(3); s.sendall(b"after")
try:
    b = s.recv(100)
except socket.timeout:
    b = b"cut"
print(a.decode(), b.decode())
'
out=$(vctl apply "$tmp/topo.yaml" 2>&1)
rc=$?
[ "$rc" = 0 ] && [[ $out == "applied: generation 3, "* ]] && ok "vpcctl apply with port 5003's rule back: generation 3" ||
	fail "apply back (exit $rc)" "$out"
out=$(gx qa 10 "{ nc -l -p 5003 -e cat & } && listening 5003") || fail "qa: an echo server on 5003, a third time" "$out"
ns_daemon "cut client qinet" qinet python3 -c "$py_keep_or_cut" 198.51.100.70 5003 "$tmp/cut-go" "$tmp/cut-done" "$E2E_WAIT"
daemon_wait "cut client qinet" "its connection to qa:5003 open and echoed" test -e "$tmp/cut-go"
out=$(vctl apply "$tmp/topo-no5003.yaml" --revalidate 2>&1)
rc=$?
[ "$rc" = 0 ] && [[ $out == "applied: generation 4, "*", connections revalidated" ]] &&
	ok "vpcctl apply --revalidate without port 5003's rule: generation 4" || fail "apply --revalidate (exit $rc)" "$out"
touch "$tmp/cut-done"
daemon_join "cut client qinet"
got=$(cat "$tmp/cut_client_qinet.log")
[ "$got" = "before cut" ] && ok "internet -> qa:5003: the open connection is cut by the apply --revalidate" ||
	fail "connection across the apply --revalidate" "$got"
gx qa 10 "kill \$(pidof nc cat) 2>/dev/null; true" >/dev/null

# ---- qb's QEMU dies and starts again on the same socket; vpcd runs on ----
# (bash's notice "Killed" for the job it reaps is not wanted)
daemon_stop qemu-qb KILL 137 2>/dev/null && ok "qb's QEMU killed (SIGKILL)"
E2E_WAIT=$boot_wait
# (this run's QEMU announces an MTU of its own, virtio-net's host_mtu,
# other than the VPC's: vpcd names it when the device starts)
guest qb 02:70:00:00:02:14 2 host_mtu=9000
ready qb 2
E2E_WAIT=$step_wait
lease_ok qb 2 "$want_qb"
gx qb 90 "pingwait 10.70.1.10" && ok "qb (run 2) pings qa across subnets" || fail "qb (run 2): ping qa"
gx qa 90 "pingwait 10.70.2.20" && ok "qa pings qb (run 2)" || fail "qa: ping qb (run 2)"
want_mtu="vpcd: port 'qb': the guest's virtio-net MTU is 9000 (QEMU's host_mtu), its VPC's 1500: set host_mtu=1500 on the device"
grep -qxF "$want_mtu" "$tmp/vpcd.log" && ok "vpcd named qb's virtio-net MTU (9000) against its VPC's (1500)" ||
	fail "vpcd's line on qb's MTU" "want: $want_mtu" "got:  $(grep "MTU" "$tmp/vpcd.log")"
[ "${d_pid[vpcd]:-}" = "$vpcd_pid" ] && daemon_running vpcd && ok "vpcd ran on through qb's restart (same process)" ||
	fail "vpcd did not run on through qb's restart" "$(daemon_tail vpcd)"

# ---- the end ----
daemon_stop sniffer TERM 0
got=$(sed -n 's/^sources //p' "$tmp/sniffer.log")
[ "$got" = 198.51.100.70 ] && ok "the internet saw only the elastic IP as a source (IPv4 and ARP)" ||
	fail "sources the internet saw" "$got"
got=$(sed -n 's/^largest //p' "$tmp/sniffer.log")
[ "${got:-0}" -gt 1514 ] && ok "the internet sent vpcd TSO/GSO super-frames (up to $got bytes)" ||
	fail "no super-frame from the internet (largest IPv4 frame sent: $got bytes): is TSO off on its eth0?"
vctl stats >"$tmp/stats" 2>&1
grep -q "path dhcp-reply" "$tmp/stats" && grep -q "path igw-ingress" "$tmp/stats" &&
	ok "vpcctl stats counts the DHCP replies and the elastic IP's traffic" || fail "vpcctl stats" "$(cat "$tmp/stats")"
for g in qa qb; do gx "$g" 3 "poweroff -f" >/dev/null 2>&1; done
daemon_join qemu-qa 0 && ok "guest qa powered off (QEMU status 0)"
daemon_join qemu-qb 0 && ok "guest qb (run 2) powered off (QEMU status 0)"
daemon_stop vpcd INT 0 && ok "vpcd stops (status 0)"
e2e_summary
