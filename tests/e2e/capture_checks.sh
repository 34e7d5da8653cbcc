# shellcheck shell=bash disable=SC2154  # here, tmp, vctl: the sourcing script's
# vpcctl capture against a live engine, shared by test_vpcd_capture.sh
# and test_xdp_capture.sh (sourced after checks.sh, the engine started on
# topo-vpcd.yaml's hosts).  A UDP flow vm1:40000 <-> vm2:5353 runs
# throughout (a datagram every 20 ms, each answered); the captures are
# read back with tcpdump and with a pcapng reader of our own (below), and
# their frames checked against the flow's exact MACs, addresses, ports.
# Waits are on events (the capture's own exit, a line in a log).

# A UDP client on a fixed source port: "ping" to ADDR PORT every 20 ms
# (pacing, not a wait) until SIGTERM.  args: ADDR PORT SPORT
py_udp_flow=$py_prologue'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[3]))); s.setblocking(False)
try:
    while True:
        s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
        try:
            while True: s.recv(100)
        except BlockingIOError:
            pass
        time.sleep(0.02)
except Stop:
    pass
'
# A pcapng reader: checks the section header, the one interface (Ethernet,
# its name, nanoseconds) and prints a line per enhanced packet block:
# DIR ORIG_LEN CAP_LEN SRC_MAC DST_MAC [SRC_IP:SPORT DST_IP:DPORT PROTO]
# args: FILE PORT
py_pcapng_read='
import struct, sys
d = open(sys.argv[1], "rb").read()
o = 0; n_if = 0
while o < len(d):
    t, ln = struct.unpack_from("<II", d, o)
    assert ln >= 12 and ln % 4 == 0 and o + ln <= len(d), "block length %d at %d" % (ln, o)
    assert struct.unpack_from("<I", d, o + ln - 4)[0] == ln, "trailing length at %d" % o
    b = d[o + 8:o + ln - 4]
    if t == 0x0a0d0d0a:
        assert struct.unpack_from("<IHH", b)[0:3] == (0x1a2b3c4d, 1, 0), "section header"
    elif t == 1:
        lt, _, snap = struct.unpack_from("<HHI", b); opts = {}; p = 8
        while p + 4 <= len(b):
            c, l = struct.unpack_from("<HH", b, p)
            if c == 0: break
            opts[c] = b[p + 4:p + 4 + l]; p += 4 + (l + 3) // 4 * 4
        assert lt == 1, "linktype %d" % lt
        assert opts.get(2) == sys.argv[2].encode(), "if_name %r" % opts.get(2)
        assert opts.get(9) == b"\x09", "if_tsresol %r" % opts.get(9)
        n_if += 1
    elif t == 6:
        ifid, th, tl, cap, orig = struct.unpack_from("<IIIII", b)
        assert ifid == 0 and cap <= orig, "packet block"
        f = b[20:20 + cap]; p = 20 + (cap + 3) // 4 * 4; fl = 0
        while p + 4 <= len(b):
            c, l = struct.unpack_from("<HH", b, p)
            if c == 0: break
            if c == 2: fl = struct.unpack_from("<I", b, p + 4)[0]
            p += 4 + (l + 3) // 4 * 4
        mac = lambda m: ":".join("%02x" % x for x in m)
        line = ["rx" if fl & 3 == 1 else "tx" if fl & 3 == 2 else "?", str(orig), str(cap), mac(f[6:12]), mac(f[0:6])]
        if len(f) >= 42 and f[12:14] == b"\x08\x00" and f[23] in (6, 17):
            ip = lambda a: ".".join(str(x) for x in a)
            h = (f[14] & 15) * 4 + 14
            sp, dp = struct.unpack_from(">HH", f, h)
            line += ["%s:%d" % (ip(f[26:30]), sp), "%s:%d" % (ip(f[30:34]), dp), "udp" if f[23] == 17 else "tcp"]
        elif f[12:14] == b"\x08\x06":
            line += ["arp"]
        print(" ".join(line))
    o += ln
assert n_if == 1, "%d interfaces" % n_if
'

# pcap_frames FILE PORT: the reader's lines (nothing, and a message on
# stderr, when the file is not valid pcapng)
pcap_frames() { python3 -c "$py_pcapng_read" "$1" "$2"; }

# capture_forwards WHAT: 300 datagrams vm1 -> vm2:5353, none lost (while
# WHAT holds a capture of vm2)
capture_forwards() {
	local r
	ns_daemon udp-sink vm2 python3 -c "$py_udp_sink" 5353 300 && ns_serving udp-sink vm2 udp 5353
	in_ns vm1 python3 -c "$py_udp_source" 10.50.2.10 5353 300
	daemon_join udp-sink
	r=$(cat "$tmp/udp-sink.log" 2>/dev/null)
	[ "$r" = "300 0" ] && ok "$1: 300 datagrams forwarded, none lost" ||
		fail "$1: forwarding goes on" "$r"
}
# capture_again WHAT: once WHAT has gone, a new capture of vm2 runs
capture_again() {
	ns_daemon udp-flow vm1 python3 -c "$py_udp_flow" 10.50.2.10 5353 40000
	wait_for "$E2E_WAIT" "a capture accepted after $1 left" \
		vctl capture vm2 -c 1 -w "$tmp/after.pcapng" >/dev/null 2>&1 &&
		[ "$(pcap_frames "$tmp/after.pcapng" vm2 | grep -c .)" = 1 ] &&
		ok "$1 gone: a new capture runs" || fail "a new capture after $1 left"
	daemon_stop udp-flow
}

e2e_capture_checks() {
	local r m1=02:32:0a:32:01:0a m2=02:32:0a:32:02:0a rt=06:00:00:00:32:01
	local req="10.50.1.10:40000 10.50.2.10:5353 udp" rep="10.50.2.10:5353 10.50.1.10:40000 udp"

	if ! command -v tcpdump >/dev/null; then
		fail "tcpdump is not installed (tools/run setup installs it)"
		return
	fi
	# The flow, and both sides' ARP resolved before anything is captured.
	ns_daemon udp-pong vm2 python3 -c "$py_udp_pong" 5353 && ns_serving udp-pong vm2 udp 5353
	r=$(in_ns vm1 python3 -c "$py_udp_ping" 10.50.2.10 5353 20)
	case $r in pong:ping*) ok "capture: the UDP flow vm1 -> vm2:5353 is answered" ;;
	*) fail "capture: the UDP flow is answered" "$r" ;; esac
	ns_daemon udp-flow vm1 python3 -c "$py_udp_flow" 10.50.2.10 5353 40000

	# 1. Both directions of vm2 into a file: 6 frames.
	r=$(vctl capture vm2 -c 6 -w "$tmp/vm2.pcapng" 2>&1)
	[ "$(tail -n 1 <<<"$r")" = "6 frames captured, 0 not captured (ring full)" ] &&
		ok "capture vm2 -c 6 -w: 6 frames captured, the totals said" ||
		fail "capture vm2 -c 6 -w" "$r"
	local td
	if td=$(tcpdump -nn -e -r "$tmp/vm2.pcapng" 2>"$tmp/tcpdump.err"); then
		ok "tcpdump -r reads the capture"
	else
		fail "tcpdump -r reads the capture" "$(cat "$tmp/tcpdump.err")"
	fi
	[ "$(grep -c '10.50.1.10.40000 > 10.50.2.10.5353' <<<"$td")" -ge 1 ] &&
	[ "$(grep -c '10.50.2.10.5353 > 10.50.1.10.40000' <<<"$td")" -ge 1 ] &&
	[ "$(grep -c . <<<"$td")" = 6 ] &&
		ok "tcpdump: 6 frames, the flow's request and reply among them" ||
		fail "tcpdump: 6 frames, request and reply" "$td"
	local fr
	fr=$(pcap_frames "$tmp/vm2.pcapng" vm2 2>&1)
	# vm2's port: the requests leave towards vm2 from the router (tx),
	# the replies come from vm2 to the router (rx); nothing else but ARP.
	local bad
	bad=$(grep -v -e "^tx 46 46 $rt $m2 $req$" -e "^rx 51 51 $m2 $rt $rep$" -e " arp$" <<<"$fr")
	if [ -z "$bad" ] && grep -q "^tx 46 46 $rt $m2 $req$" <<<"$fr" &&
		grep -q "^rx 51 51 $m2 $rt $rep$" <<<"$fr" && [ "$(grep -c . <<<"$fr")" = 6 ]; then
		ok "pcapng: 6 blocks, the request as tx and the reply as rx, exact MACs, addresses, ports, lengths"
	else
		fail "pcapng: the request as tx, the reply as rx" "$fr"
	fi

	# 2. One direction: only what vpcd sent to vm2.
	vctl capture vm2 --direction tx -c 3 -w "$tmp/vm2-tx.pcapng" >/dev/null 2>&1
	fr=$(pcap_frames "$tmp/vm2-tx.pcapng" vm2 2>&1)
	[ "$(grep -c "^tx 46 46 $rt $m2 $req$" <<<"$fr")" = 3 ] &&
		ok "capture --direction tx: the 3 requests to vm2 only" ||
		fail "capture --direction tx" "$fr"

	# 3. Without -w: a line per frame.
	r=$(vctl capture vm1 -c 4 2>/dev/null)
	grep -q "^[0-9:.]* rx vm1 46 bytes: $m1 > $rt, IPv4 ttl 64 UDP 10.50.1.10:40000 > 10.50.2.10:5353 length 12$" <<<"$r" &&
	grep -q "^[0-9:.]* tx vm1 51 bytes: $rt > $m1, IPv4 ttl 63 UDP 10.50.2.10:5353 > 10.50.1.10:40000 length 17$" <<<"$r" &&
	[ "$(grep -c . <<<"$r")" = 4 ] &&
		ok "capture vm1 -c 4: one readable line per frame, both directions" ||
		fail "capture vm1 -c 4: readable lines" "$r"

	# 4. Until SIGINT; a second capture meanwhile is refused.
	daemon_start capture-int "$tmp/capture-int.log" "$vpcctl" capture vm3 -w "$tmp/vm3.pcapng" $vctl_target
	daemon_wait capture-int "the capture of vm3 on" grep -qs "^capturing" "$tmp/capture-int.log"
	r=$(vctl capture vm2 -c 1 -w "$tmp/second.pcapng" 2>&1)
	[ $? = 1 ] && grep -q "one capture at a time" <<<"$r" && [ ! -e "$tmp/second.pcapng" ] &&
		ok "a second capture at once is refused, no file made" || fail "a second capture refused" "$r"
	daemon_stop capture-int INT 0 && ok "capture until SIGINT: exit status 0"
	grep -q "^[0-9]* frames captured, 0 not captured (ring full)$" "$tmp/capture-int.log" &&
		tcpdump -r "$tmp/vm3.pcapng" >/dev/null 2>&1 &&
		ok "after SIGINT: the totals said, the file finished (tcpdump reads it)" ||
		fail "after SIGINT: totals and a finished file" "$(cat "$tmp/capture-int.log")"

	# 5. An apply that removes the captured port ends the capture (exit
	# 0, said); the port comes back with the next apply.
	grep -v vm3 "$here/topo-vpcd.yaml" >"$tmp/no-vm3.yaml"
	daemon_start capture-gone "$tmp/capture-gone.log" "$vpcctl" capture vm3 -w "$tmp/gone.pcapng" $vctl_target
	daemon_wait capture-gone "the capture of vm3 on" grep -qs "^capturing" "$tmp/capture-gone.log"
	r=$(vctl apply "$tmp/no-vm3.yaml" 2>&1) || fail "apply without vm3" "$r"
	daemon_join capture-gone 0 &&
		grep -q "port 'vm3' is gone (an apply removed it): capture ended" "$tmp/capture-gone.log" &&
		ok "an apply that removes the captured port ends the capture (exit 0, said)" ||
		fail "the capture of a removed port" "$(cat "$tmp/capture-gone.log")"
	r=$(vctl apply "$here/topo-vpcd.yaml" 2>&1) || fail "apply with vm3 again" "$r"

	# 6. The engine's own: what a client that stalls or vanishes does
	# (capture_gone, defined by the sourcing script).
	daemon_stop udp-flow
	daemon_stop udp-pong
	capture_gone
}
