# tap.sh -- what the command-line tests share: TAP-style results and an
# exact comparison.  Sourced; the test prints its summary with tap_summary
# and exits with its status.
n_pass=0
n_fail=0
ok() { n_pass=$((n_pass + 1)); echo "ok - $1"; }
bad() { n_fail=$((n_fail + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "  $l"; done; }
check() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "want: $2" "got:  $3"; fi
}
tap_summary() {
	echo "tests: $n_pass passed, $n_fail failed"
	[ "$n_fail" -eq 0 ]
}

# tap_vpcd_scratch: $tmp (a scratch folder), $sock (a control socket in
# it) and $pid (the vpcd a test starts): on exit the vpcd is killed and
# the folder removed.
tap_vpcd_scratch() {
	tmp=$(mktemp -d)
	sock=$tmp/vpcd.sock
	pid=
	trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
}
