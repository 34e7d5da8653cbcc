#!/usr/bin/env bash
# The XDP programs against Debian 12's own kernel's verifier, not only the
# running one: boot the newest linux-image-6.1.0-*-amd64 from Debian's
# archive in QEMU (software emulation), with an initramfs of busybox, a
# statically linked loader (verify_load.c) and the object; every program
# must load.  The kernel package is downloaded once into CACHE.
# usage: test_verifier_kernel.sh OBJECT.bpf.o SOURCE_ROOT CACHE
# Needs qemu-system-x86, busybox-static, gcc with libbpf/libelf/zlib
# static libraries (tools/run setup installs them).
set -uo pipefail
obj=$1
src=$2
cache=$3
series=6.1.0

skip() { echo "SKIP: $*"; exit 77; }
for tool in qemu-system-x86_64 gcc dpkg-deb apt-cache; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ -x /bin/busybox ] || skip "busybox-static is not installed"

mkdir -p "$cache"
pkg=$(apt-cache search --names-only "^linux-image-${series//./\\.}-[0-9]+-amd64-unsigned\$" |
	awk '{print $1}' | sort -V | tail -1)
[ -n "$pkg" ] || skip "no linux-image-$series-*-amd64-unsigned in the package lists (apt-get update?)"
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	(cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) || skip "cannot download $pkg"
	deb=$(ls "$cache/${pkg}_"*.deb | head -1)
fi
work=$(mktemp -d /tmp/vpc-kernel-XXXXXX)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/k"
kernel=$(ls "$work"/k/boot/vmlinuz-* | head -1)

gcc -static -O2 -o "$work/verify_load" "$src/tests/kernel/verify_load.c" -lbpf -lelf -lz \
	2>"$work/cc.log" || { cat "$work/cc.log"; echo "not ok - building the static loader"; exit 1; }
r=$work/root
mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev"
cp /bin/busybox "$r/bin/busybox"
cp "$work/verify_load" "$r/verify_load"
cp "$obj" "$r/prog.bpf.o"
cat >"$r/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf
ulimit -l unlimited
echo "kernel: $(uname -r)"
/verify_load /prog.bpf.o
echo "verify_load exit: $?"
poweroff -f
INIT
chmod +x "$r/init"
(cd "$r" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

timeout 600 qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 2048 -kernel "$kernel" \
	-initrd "$work/initrd.gz" -append "console=ttyS0 panic=-1 quiet" -nographic -no-reboot \
	>"$work/serial.log" 2>&1
tr -d '\r' <"$work/serial.log" | grep -E '^(kernel:|mode:|load|program |verify_load exit)' | sed 's/^/    /'
if grep -q "verify_load exit: 0" "$work/serial.log"; then
	echo "ok - every XDP program loads on $(basename "$kernel" | sed 's/vmlinuz-//') ($pkg)"
	exit 0
fi
echo "not ok - the XDP programs on $pkg"
tr -d '\r' <"$work/serial.log" | tail -60 | sed 's/^/    /'
exit 1
