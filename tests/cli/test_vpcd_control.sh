#!/usr/bin/env bash
# vpcd's control socket against clients that lie, stall or vanish (issue
# "hostile input"): none of them may stop vpcd or delay another client.
# vpcd runs on capture ports that go nowhere (no devices, no root needed
# beyond the EAL's --no-huge).  usage: test_vpcd_control.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
. "$src/tests/cli/tap.sh"
tap_vpcd_scratch

cd "$src"
"$vpcd" --config tests/cli/topo-control.yaml --socket "$sock" -- --no-huge -m 512 --no-pci \
	--no-telemetry -l 0 --file-prefix="vpcd-control-$$" >"$tmp/vpcd.out" 2>"$tmp/vpcd.err" &
pid=$!
# Ready when it answers (bounded: a sanitizer build on a loaded machine is slow).
for _ in $(seq 600); do
	"$vpcctl" stats --socket "$sock" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! "$vpcctl" stats --socket "$sock" >/dev/null 2>&1; then
	bad "vpcd starts and answers" "$(tail -5 "$tmp/vpcd.err")"
	tap_summary
	exit 1
fi
ok "vpcd starts and answers"

# A raw client: python3, so every byte and every close is ours to choose.
client() { python3 - "$sock" "$@"; }

alive() {
	if kill -0 "$pid" 2>/dev/null && "$vpcctl" stats --socket "$sock" >/dev/null 2>&1; then
		ok "$1: vpcd lives on and answers"
	else
		bad "$1: vpcd lives on and answers" "$(tail -5 "$tmp/vpcd.err")"
	fi
}

client <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.send(b"VCTL\x02\0\0\0"); s.close()
PY
alive "8 bytes of a header, then gone"

client <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.send(struct.pack("<IIII", 0x4c544356, 3, 0, 0)); s.close()
PY
alive "a connection listing asked for, then gone without reading"

timeout 0.03 "$vpcctl" apply tests/cli/topo-control.yaml --socket "$sock" >/dev/null 2>&1
alive "an interrupted vpcctl apply"

client <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.send(struct.pack("<IIII", 0x4c544356, 1, 0, 1 << 30)); s.send(b"x" * 100); s.close()
PY
alive "an apply announcing 1 GiB that sends 100 bytes"

# Refusals: answered with a status and a reason.
refused() {
	local name=$1 want=$2 hdr=$3
	local got
	got=$(client "$hdr" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
magic, op, flags, ln = (int(x, 0) for x in sys.argv[2].split())
s.sendall(struct.pack("<IIII", magic, op, flags, ln))
h = b""
while len(h) < 16:
    d = s.recv(16 - len(h))
    if not d: break
    h += d
m, st, l, _ = struct.unpack("<IIII", h)
t = b""
while len(t) < l:
    t += s.recv(l - len(t))
print(st, t.decode().strip())
PY
)
	if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "got: $got" "want: $want"; fi
}
refused "bad magic: refused with a reason" "71 bad request: Protocol error" "0x1234 2 0 0"
refused "unknown request: refused" "95 unknown request 9" "0x4c544356 9 0 0"
refused "a stats request with a payload: refused" "71 bad request: Protocol error" "0x4c544356 2 0 4"
refused "unknown flags: refused" "71 bad request: Protocol error" "0x4c544356 2 0x80 0"
refused "a capture request of the wrong size: refused" "71 bad request: Protocol error" "0x4c544356 7 0 4"
refused "an empty apply: refused" "71 bad request: Protocol error" "0x4c544356 1 0 0"
refused "an apply over the image size limit: refused" "90 bad request: Message too long" "0x4c544356 1 0 0x40000001"

# A client that connects and says nothing does not hold up the others.
client <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(4)
PY
idle=$!
sleep 0.5
if timeout 3 "$vpcctl" stats --socket "$sock" >"$tmp/stats" 2>&1 && grep -q "^generation" "$tmp/stats"; then
	ok "a silent client does not block the next one"
else
	bad "a silent client does not block the next one" "$(cat "$tmp/stats")"
fi
wait "$idle"

# Many at once: every one answered (backlog, and no client waits on another).
n=$(client <<'PY'
import socket, struct, sys, threading
answered = []
def one():
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sys.argv[1])
        s.sendall(struct.pack("<IIII", 0x4c544356, 4, 0, 0))
        h = b""
        while len(h) < 16:
            d = s.recv(16 - len(h))
            if not d: break
            h += d
        if len(h) == 16 and struct.unpack("<IIII", h)[1] == 0:
            answered.append(1)
    except OSError:
        pass
ts = [threading.Thread(target=one) for _ in range(500)]
[t.start() for t in ts]; [t.join() for t in ts]
print(len(answered))
PY
)
if [ "$n" = 500 ]; then ok "500 concurrent clients, every one answered"; else bad "500 concurrent clients, every one answered" "answered: $n"; fi

# A client too slow to send its request is told so when its deadline passes.
got=$(client <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
s.send(struct.pack("<II", 0x4c544356, 2))
h = b""
while len(h) < 16:
    d = s.recv(16 - len(h))
    if not d: break
    h += d
m, st, l, _ = struct.unpack("<IIII", h)
print(st, s.recv(l).decode().strip())
PY
)
want="110 timed out waiting for the request"
if [ "$got" = "$want" ]; then ok "a stalled request times out"; else bad "a stalled request times out" "got: $got" "want: $want"; fi
alive "after every client above"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" = 0 ] && grep -q "^vpcd: stopped after" "$tmp/vpcd.out"; then
	ok "vpcd stops on SIGTERM with exit status 0"
else
	bad "vpcd stops on SIGTERM with exit status 0" "exit status $rc" "$(tail -20 "$tmp/vpcd.err")"
fi
[ -e "$sock" ] && bad "the socket file is removed at exit" || ok "the socket file is removed at exit"
tap_summary
