#!/usr/bin/env python3
"""End-to-end: the XDP engine on tap devices, the hypervisor's side of a
VM.  The test opens the taps itself and plays the guests: what a guest
writes to its tap is what the program receives; what the program
redirects to a tap (or bounces with XDP_TX) is what that guest reads.
Checks, byte for byte: an ARP answer, a switched frame, a routed frame
(MACs rewritten, TTL and checksum), a frame refused by the security
groups; then the counters.  Nothing waits a fixed time for what is to
arrive: a frame is awaited up to WAIT seconds (and returned as soon as it
is read), the counters polled until they reach their values; each vpcctl
run must exit 0.

    test_xdp_tap.py VPCCTL SOURCE_ROOT [native|generic]   (root)
"""
import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
INSTANCE = "e2e-xdp-tap"
WAIT = 20.0  # seconds, the most a frame or a counter is waited for


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip(s):
    return bytes(int(x) for x in s.split("."))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_ip(src, dst, sp, dp, payload, ttl=64):
    u = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    c = csum(ip(src) + ip(dst) + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 1, 0, ttl, 17, 0, ip(src), ip(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + u


def eth(dst, src, etype, payload):
    return mac(dst) + mac(src) + struct.pack("!H", etype) + payload


class Taps:
    def __init__(self, names):
        self.fds = {}
        for n in names:
            fd = os.open("/dev/net/tun", os.O_RDWR)
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", n.encode(), IFF_TAP | IFF_NO_PI))
            subprocess.run(["ip", "link", "set", n, "up"], check=True)
            subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % n])
            self.fds[n] = fd

    def drain(self):
        for fd in self.fds.values():
            while select.select([fd], [], [], 0.05)[0]:
                os.read(fd, 4096)

    def send(self, n, frame):
        os.write(self.fds[n], frame)

    def recv(self, n, etype, timeout=WAIT):
        """The next frame of that ethertype read from tap n, or None."""
        end = time.time() + timeout
        while time.time() < end:
            if select.select([self.fds[n]], [], [], 0.1)[0]:
                f = os.read(self.fds[n], 4096)
                if f[12:14] == struct.pack("!H", etype):
                    return f
        return None

    def close(self):
        for fd in self.fds.values():
            os.close(fd)


def main():
    # One end-to-end test at a time on a machine (checks.sh: they share
    # the e2e-* names); held until the process exits.
    lock = open("/tmp/vpc-e2e.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    vpcctl, src = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "native"
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("SKIP: needs root and /dev/net/tun")
        return 77
    n_pass = n_fail = 0

    def check(name, good, detail=""):
        nonlocal n_pass, n_fail
        if good:
            n_pass += 1
            print("ok - " + name)
        else:
            n_fail += 1
            print("not ok - " + name + ("\n    " + detail if detail else ""))

    subprocess.run([vpcctl, "xdp", "stop", "--instance", INSTANCE], capture_output=True)
    taps = Taps(["e2e-xtap0", "e2e-xtap1", "e2e-xtap2", "e2e-xtap3"])
    try:
        r = subprocess.run([vpcctl, "xdp", "start", os.path.join(src, "tests/e2e/topo-xdp-tap.yaml"),
                            "--instance", INSTANCE, "--mode", mode], capture_output=True, text=True)
        started = r.returncode == 0
        check("vpcctl xdp start on taps (%s)" % mode,
              started and r.stdout.strip() == "xdp: instance %s attached to 4 ports (%s), generation 1" % (INSTANCE, mode),
              "exit status %d: %s" % (r.returncode, r.stdout + r.stderr))
        if not started:
            return 1
        taps.drain()

        # vm1 asks who has vm2's address: answered on vm1's tap
        req = eth("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0a", 0x0806,
                  struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac("02:00:00:00:00:0a") + ip("10.9.1.10")
                  + b"\0" * 6 + ip("10.9.1.11"))
        taps.send("e2e-xtap1", req)
        want = eth("02:00:00:00:00:0a", "02:00:00:00:00:0b", 0x0806,
                   struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac("02:00:00:00:00:0b") + ip("10.9.1.11")
                   + mac("02:00:00:00:00:0a") + ip("10.9.1.10"))
        got = taps.recv("e2e-xtap1", 0x0806)
        check("ARP answered on the asking VM's tap (XDP_TX)", got == want, got.hex() if got else "nothing")

        # switched: vm1 -> vm2, unchanged
        f = eth("02:00:00:00:00:0b", "02:00:00:00:00:0a", 0x0800,
                udp_ip("10.9.1.10", "10.9.1.11", 5000, 6000, b"switched"))
        taps.send("e2e-xtap1", f)
        got = taps.recv("e2e-xtap2", 0x0800)
        check("a frame switched into the other VM's tap, byte for byte", got == f, got.hex() if got else "nothing")

        # routed: vm1 -> vm3 through the router MAC
        f = eth("06:00:00:00:4d:01", "02:00:00:00:00:0a", 0x0800,
                udp_ip("10.9.1.10", "10.9.2.10", 5001, 6001, b"routed"))
        want = eth("02:00:00:00:00:0c", "06:00:00:00:4d:01", 0x0800,
                   udp_ip("10.9.1.10", "10.9.2.10", 5001, 6001, b"routed", ttl=63))
        taps.send("e2e-xtap1", f)
        got = taps.recv("e2e-xtap3", 0x0800)
        check("a frame routed into another subnet's VM: MACs, TTL and checksum rewritten",
              got == want, got.hex() if got else "nothing")

        # the default group: vm3 is a member, but a spoofed source is not vm1's
        f = eth("02:00:00:00:00:0b", "02:00:00:00:00:0a", 0x0800,
                udp_ip("10.9.1.99", "10.9.1.11", 5002, 6002, b"spoofed"))
        taps.send("e2e-xtap1", f)
        got = taps.recv("e2e-xtap2", 0x0800, timeout=0.5)
        check("a frame with another source IP is not forwarded", got is None, got.hex() if got else "")

        # The counters, polled until they are what the frames above make
        # them (or one has gone past, or WAIT is over).
        want = (1, 1, 1, 1, 4)
        end = time.monotonic() + WAIT
        while True:
            r = subprocess.run([vpcctl, "stats", "--json", "--instance", INSTANCE],
                               capture_output=True, text=True)
            got = None
            if r.returncode == 0:
                d = json.loads(r.stdout)
                got = (d["paths"]["arp-reply"], d["paths"]["l2-switch"], d["paths"]["routed"],
                       d["drops"]["spoofed-src-ip"], d["ports"]["vm1"]["rx_packets"])
            if got is None or got == want or any(g > w for g, w in zip(got, want)) or time.monotonic() > end:
                break
            time.sleep(0.1)
        check("counters: one ARP answer, one switched, one routed, one spoofed",
              got == want, "exit status %d: %s %s" % (r.returncode, r.stdout, r.stderr))
    finally:
        r = subprocess.run([vpcctl, "xdp", "stop", "--instance", INSTANCE], capture_output=True, text=True)
        taps.close()
    check("vpcctl xdp stop", r.returncode == 0 and
          r.stdout.strip() == "xdp: instance %s detached from 4 ports" % INSTANCE,
          "exit status %d: %s" % (r.returncode, r.stdout + r.stderr))
    print("%d passed, %d failed" % (n_pass, n_fail))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
