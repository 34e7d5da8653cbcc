#!/usr/bin/env bash
# vhost-user ports for hypervisors that run QEMU as another user, as
# docs/topology.md writes them: a server socket gets the owner and mode the
# file names (and an unknown user refuses the start, or an apply, naming
# it); a stale socket left by a killed vpcd does not stop the next one; a
# client port connects to the socket QEMU created and connects again when
# QEMU restarts.  Needs root (chown); skipped otherwise.
# usage: test_vpcd_vhost_opts.sh VPCD VPCCTL SOURCE_ROOT
set -uo pipefail
vpcd=$1
vpcctl=$2
src=$3
cd "$src" || exit 1
if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null; then
	echo "skipped: needs root and a user 'nobody'"
	exit 77
fi
group=$(id -gn nobody)	# nogroup on Debian, nobody elsewhere
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=
srv=
prefix="vpcd-vhost-opts-$$"
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$srv" ] && kill -KILL "$srv" 2>/dev/null
	rm -rf "$tmp" /var/run/dpdk/"$prefix"-*
}
trap cleanup EXIT
. "$src/tests/cli/tap.sh"

# topo NAME PORT-OPTIONS...: one interface per option set, vm1, vm2, ...
topo() {
	local f=$tmp/$1 i=0
	shift
	{
		echo "version: 1"
		echo "vpcs:"
		echo "  - name: lab"
		echo "    cidr: 10.0.0.0/16"
		echo "    subnets: [ { name: a, cidr: 10.0.1.0/24 } ]"
		echo "    interfaces:"
		for _ in "$@"; do
			i=$((i + 1))
			echo "      - { name: vm$i, subnet: a, ip: 10.0.1.$((9 + i)) }"
		done
		echo "host:"
		echo "  ports:"
		i=0
		for o in "$@"; do
			i=$((i + 1))
			echo "    vm$i: { type: vhost-user, $o }"
		done
	} >"$f"
}

# start NAME TOPO: vpcd in the background until it answers (0), or its
# exit status.
start() {
	"$vpcd" --config "$tmp/$2" --socket "$tmp/$1.ctl" -- --no-huge --no-telemetry \
		--file-prefix="$prefix-$1" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	pid=$!
	for _ in $(seq 300); do
		"$vpcctl" stats --socket "$tmp/$1.ctl" >/dev/null 2>&1 && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			local rc=$?
			pid=
			return $rc
		fi
		sleep 0.1
	done
	return 124
}

# stop SIGNAL: vpcd's exit status
stop() {
	kill -"$1" "$pid"
	wait "$pid" 2>/dev/null	# (no "Killed" from the shell)
	local rc=$?
	pid=
	return $rc
}

# A server socket for QEMU running as another user.
topo server.yaml "path: $tmp/vm1.sock, owner: \"nobody:$group\", mode: \"0660\""
if start s1 server.yaml; then
	ok "vpcd starts with owner and mode on a server port"
	check "the socket has the owner and mode of the file" "nobody:$group 660" \
		"$(stat -c '%U:%G %a' "$tmp/vm1.sock" 2>&1)"
	stop INT
	check "vpcd exits 0 on SIGINT" 0 "$?"
	check "and removes its socket" "gone" "$([ -e "$tmp/vm1.sock" ] && echo there || echo gone)"
else
	bad "vpcd starts with owner and mode on a server port" "$(tail -3 "$tmp/s1.err")"
fi

# Unknown names: the start fails, naming them, and no socket stays.
topo nouser.yaml "path: $tmp/vm1.sock, owner: \"vpcd-no-such-user:$group\""
start s2 nouser.yaml
check "an unknown user: exit status 1" 1 "$?"
check "an unknown user: named" \
	"vpcd: port 'vm1': socket $tmp/vm1.sock: owner vpcd-no-such-user:$group: no user 'vpcd-no-such-user' on this host" \
	"$(tail -1 "$tmp/s2.err")"
topo nogroup.yaml "path: $tmp/vm1.sock, owner: \"nobody:vpcd-no-such-group\", mode: 0600"
start s3 nogroup.yaml
check "an unknown group: exit status 1" 1 "$?"
check "an unknown group: named" \
	"vpcd: port 'vm1': socket $tmp/vm1.sock: owner nobody:vpcd-no-such-group: no group 'vpcd-no-such-group' on this host" \
	"$(tail -1 "$tmp/s3.err")"
check "no socket left behind" "gone" "$([ -e "$tmp/vm1.sock" ] && echo there || echo gone)"

# A killed vpcd leaves its socket; the next one starts all the same, and
# one that finds the socket in use names it.
topo plain.yaml "path: $tmp/vm1.sock, mode: 0600"
start s4 plain.yaml && stop KILL
if [ -S "$tmp/vm1.sock" ]; then
	if start s5 plain.yaml; then
		ok "a stale socket after SIGKILL: the next vpcd starts"
		check "with the mode of the file" "600" "$(stat -c '%a' "$tmp/vm1.sock")"
		pid5=$pid
		start s6 plain.yaml
		check "a socket in use: exit status 1" 1 "$?"
		check "a socket in use: named" \
			"vpcd: port 'vm1': socket $tmp/vm1.sock is in use by another process (a running vpcd, or QEMU in server mode: set 'client: true')" \
			"$(tail -1 "$tmp/s6.err")"
		pid=$pid5

		# An apply that adds a port whose owner is unknown: refused,
		# and the running configuration stays.
		topo add.yaml "path: $tmp/vm1.sock, mode: 0600" \
			"path: $tmp/vm2.sock, owner: vpcd-no-such-user"
		out=$("$vpcctl" apply "$tmp/add.yaml" --socket "$tmp/s5.ctl" 2>&1)
		check "an apply with an unknown user: refused, named" \
			"1 refused: port 'vm2': socket $tmp/vm2.sock: owner vpcd-no-such-user: no user 'vpcd-no-such-user' on this host" \
			"$? $out"
		check "its socket is not left behind" "gone" \
			"$([ -e "$tmp/vm2.sock" ] && echo there || echo gone)"
		check "vpcd still answers" 0 \
			"$("$vpcctl" stats --socket "$tmp/s5.ctl" >/dev/null 2>&1; echo $?)"
		stop INT
		check "vpcd exits 0 on SIGINT" 0 "$?"
	else
		bad "a stale socket after SIGKILL: the next vpcd starts" "$(tail -3 "$tmp/s5.err")"
	fi
else
	bad "a killed vpcd leaves its socket" "$(tail -3 "$tmp/s4.err")"
fi

# Client mode: QEMU (here a listener) creates the socket; vpcd connects,
# and connects again after QEMU restarts.
python3 - "$tmp/qemu.sock" >"$tmp/qemu.out" 2>&1 <<'PY' &
import os, socket, sys, time
path = sys.argv[1]
for run in range(2):            # QEMU, then QEMU restarted
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    s.settimeout(30)
    c, _ = s.accept()
    print("connected", run, flush=True)
    c.close()
    s.close()
    os.unlink(path)
    time.sleep(0.5)
PY
srv=$!
for _ in $(seq 50); do [ -S "$tmp/qemu.sock" ] && break; sleep 0.1; done
topo client.yaml "path: $tmp/qemu.sock, client: true"
if start c1 client.yaml; then
	ok "vpcd starts with a client port"
	wait "$srv"
	srv=
	check "it connects to QEMU's socket, and again after QEMU restarts" \
		"connected 0|connected 1" "$(paste -sd'|' "$tmp/qemu.out")"
	stop INT
	check "vpcd exits 0 on SIGINT" 0 "$?"
else
	bad "vpcd starts with a client port" "$(tail -3 "$tmp/c1.err")"
fi

tap_summary
