#!/usr/bin/env bash
# End-to-end with real guest kernels: two QEMU guests (software emulation,
# Debian 12's kernel, a busybox initramfs made here) whose virtio-net NICs
# are vhost-user ports of vpcd, with the guests' default offloads.  Inside
# the guests: a DHCP lease (its address, router, DNS, domain, MTU), ping
# across subnets, 1 MB over TCP from one guest to the other; the guests
# power off, QEMU and vpcd exit 0.  (vpcd restarting under running guests
# is not checked: QEMU 7.2 in software emulation fails to restore the
# rings on reconnect -- "vhost VQ 0 ring restore failed" -- now and then.)
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
deb=$(ls "$cache"/linux-image-6.1.0-*-amd64-unsigned_*.deb 2>/dev/null | sort -V | tail -1)
if [ -z "$deb" ]; then
	mkdir -p "$cache"
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
		awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] && (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) || skip "no Debian kernel package"
	deb=$(ls "$cache"/linux-image-6.1.0-*-amd64-unsigned_*.deb | sort -V | tail -1)
fi

cleanup() {
	[ -n "$tmp" ] && rm -rf "$tmp"
}
e2e_trap cleanup
tmp=$(mktemp -d /tmp/vpcd-qemu-XXXXXX)
chmod 755 "$tmp"
sock=$tmp/vpcd.sock

# The guest: the kernel, virtio-net's modules, busybox, an init that takes
# its role from the kernel command line.
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
role=$(sed -n 's/.*vpc.role=\([a-z]*\).*/\1/p' /proc/cmdline)
peer=$(sed -n 's/.*vpc.peer=\([0-9.]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -q -n -t 20 -T 1 -s /dhcp.sh >/dev/null 2>&1 || echo "NO LEASE"
cat /tmp/lease 2>/dev/null
n=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -ge 120 ] && break
done
[ $n -lt 120 ] && echo "PING ok" || echo "PING failed"
if [ "$role" = b ]; then
	nc -l -p 5001 >/tmp/got
	echo "RECEIVED $(wc -c </tmp/got)"
else
	n=0
	until dd if=/dev/zero bs=1024 count=1024 2>/dev/null | nc -w 30 "$peer" 5001; do
		n=$((n + 1)); [ $n -ge 60 ] && break; sleep 1
	done
	echo "SENT $n"
fi
echo "DONE"
poweroff -f
INIT
chmod +x "$r/init" "$r/dhcp.sh"
(cd "$r" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp/initrd.gz"

sed -e "s|QA_SOCK|$tmp/qa.sock|" -e "s|QB_SOCK|$tmp/qb.sock|" "$here/topo-qemu.yaml" >"$tmp/topo.yaml"
start_vpcd() { # LOG
	daemon_start vpcd "$1" "$vpcd" --config "$tmp/topo.yaml" --socket "$sock" -- --no-huge \
		--no-telemetry --file-prefix=e2e-qemu
	vpcd_ready() { grep -q "forwarding" "$1" && timeout 5 "$vpcctl" stats --socket "$sock" >/dev/null 2>&1; }
	daemon_wait vpcd "vpcd forwarding" vpcd_ready "$1"
}
start_vpcd "$tmp/vpcd.log" || exit 1

guest() { # NAME MAC ROLE PEER
	daemon_start "qemu-$1" "$tmp/qemu-$1.log" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 256 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$kernel" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 vpc.role=$3 vpc.peer=$4" \
		-chardev "socket,id=c0,path=$tmp/$1.sock,reconnect=1" \
		-netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,mac=$2,vectors=0" \
		-nographic -no-reboot -monitor none -serial "file:$tmp/console-$1.log"
}
guest qa 02:70:00:00:01:0a a 10.70.2.20
guest qb 02:70:00:00:02:14 b 10.70.1.10

console_has() { grep -q "$2" "$tmp/console-$1.log" 2>/dev/null; }
both_done() { console_has qa DONE && console_has qb DONE; }
wait_for 400 "both guests through their checks" both_done

for g in qa qb; do
	case $g in
	qa) want="LEASE ip=10.70.1.10 mask=24 router=10.70.1.1 dns=10.70.0.2 domain=qemu.e2e.internal mtu=1500" ;;
	qb) want="LEASE ip=10.70.2.20 mask=24 router=10.70.2.1 dns=10.70.0.2 domain=qemu.e2e.internal mtu=1500" ;;
	esac
	got=$(grep -ao 'LEASE ip=[^[:cntrl:]]*' "$tmp/console-$g.log" | head -1)
	[ "$got" = "$want" ] && ok "$g: its lease from vpcd's DHCP" || fail "$g's lease" "want: $want" "got:  $got"
	console_has "$g" "PING ok" && ok "$g: ping across subnets" || fail "$g: ping" "$(tail -5 "$tmp/console-$g.log")"
done
got=$(grep -ao 'RECEIVED [0-9]*' "$tmp/console-qb.log" | head -1)
[ "$got" = "RECEIVED 1048576" ] && ok "qa -> qb: 1 MB over TCP, virtio-net offloads on" ||
	fail "1 MB over TCP" "$got" "$(tail -5 "$tmp/console-qa.log")"


# The guests power off by themselves (QEMU exits 0: -no-reboot).
daemon_join qemu-qa 0 && ok "guest qa powered off (QEMU status 0)"
daemon_join qemu-qb 0 && ok "guest qb powered off (QEMU status 0)"
daemon_stop vpcd INT 0 && ok "vpcd stops (status 0)"
e2e_summary
