#!/usr/bin/env bash
# The XDP programs' instruction counts against bpf/insn-counts.txt: a shared
# header that adds instructions to the fast path is noticed.
# usage: test_insn_counts.sh OBJECT SOURCE_ROOT
set -uo pipefail
obj=$1
src=$2
objdump=$(command -v llvm-objdump || ls /usr/bin/llvm-objdump-* 2>/dev/null | head -1)
[ -n "$objdump" ] || { echo "not ok - llvm-objdump not found"; exit 1; }
fail=0
while read -r prog want; do
	case "$prog" in '#'* | '') continue ;; esac
	size=$("$objdump" -t "$obj" | awk -v p="$prog" '$NF == p && $3 == "F" { print $(NF-1) }')
	if [ -z "$size" ]; then
		echo "not ok - $prog: no such program in $obj"
		fail=1
		continue
	fi
	got=$((16#$size / 8))
	if [ "$got" -gt "$want" ]; then
		echo "not ok - $prog: $got instructions, more than the $want recorded in bpf/insn-counts.txt"
		fail=1
	elif [ "$got" -lt "$want" ]; then
		echo "ok - $prog: $got instructions (fewer than the $want recorded: update bpf/insn-counts.txt)"
	else
		echo "ok - $prog: $got instructions, as recorded"
	fi
done <"$src/bpf/insn-counts.txt"
exit $fail
