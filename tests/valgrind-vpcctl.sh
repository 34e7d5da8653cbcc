#!/usr/bin/env bash
# valgrind: no leak and no memory error in `vpcctl validate` on every example
# (config/, tests/topo/valid) and every invalid topology.
# usage: valgrind-vpcctl.sh VPCCTL SOURCE_ROOT
set -uo pipefail
vpcctl=$1
src=$2
command -v valgrind >/dev/null || { echo "valgrind is not installed (tools/run setup installs it)"; exit 1; }
n_pass=0
n_fail=0
for f in "$src"/config/*.yaml "$src"/tests/topo/valid/*.yaml "$src"/tests/topo/invalid/*.yaml; do
	rc=0
	valgrind -q --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=definite,indirect,possible,reachable \
		--error-exitcode=99 "$vpcctl" validate "$f" >/dev/null 2>"${TMPDIR:-/tmp}/vg.$$" || rc=$?
	if [ "$rc" = 99 ] || [ "$rc" -gt 1 ]; then
		n_fail=$((n_fail + 1))
		echo "not ok - $f (exit $rc)"
		cat "${TMPDIR:-/tmp}/vg.$$"
	else
		n_pass=$((n_pass + 1))
	fi
done
rm -f "${TMPDIR:-/tmp}/vg.$$"
echo "$n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
