"""Packets for the conformance corpus: build, parse, checksum, pcap I/O.

Written from the RFCs, independently of the engines under test: the
checksums here are computed from scratch over the whole header/segment,
never incrementally, so an engine's incremental updates are checked
against a different computation.  Standard library only.
"""
import struct

BROADCAST = "ff:ff:ff:ff:ff:ff"


def mac_bytes(m):
    b = bytes(int(x, 16) for x in m.split(":"))
    assert len(b) == 6
    return b


def ip_bytes(a):
    b = bytes(int(x) for x in a.split("."))
    assert len(b) == 4
    return b


def csum(data):
    """Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ether(dst, src, etype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac_bytes(sha) + ip_bytes(spa) + \
        mac_bytes(tha) + ip_bytes(tpa)


def ipv4(src, dst, proto, payload, ttl=64, ident=1, flags_frag=0x4000, options=b"",
         tos=0, total_length=None, bad_checksum=False, version=4, ihl=None):
    if ihl is None:
        ihl = 5 + len(options) // 4
    tl = total_length if total_length is not None else 20 + len(options) + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, tos, tl, ident, flags_frag,
                      ttl, proto, 0, ip_bytes(src), ip_bytes(dst)) + options
    c = csum(hdr)
    if bad_checksum:
        c ^= 0x1234
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def _pseudo(src, dst, proto, length):
    return ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, proto, length)


def tcp(src, dst, sport, dport, flags="S", seq=1000, ack=0, payload=b"", window=65535):
    fl = 0
    for ch, bit in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16)):
        if ch in flags:
            fl |= bit
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, window, 0, 0)
    seg = hdr + payload
    c = csum(_pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload=b"", zero_checksum=False):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if zero_checksum:
        return seg
    c = csum(_pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp(typ, code, rest=b"\0\0\0\0", payload=b""):
    msg = struct.pack("!BBH", typ, code, 0) + rest + payload
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def icmp_echo(ident, seq, payload=b"ping", reply=False):
    return icmp(0 if reply else 8, 0, struct.pack("!HH", ident, seq), payload)


# ---- whole frames ----

def ip_frame(dst_mac, src_mac, src, dst, proto, l4, **ip_kw):
    return ether(dst_mac, src_mac, 0x0800, ipv4(src, dst, proto, l4, **ip_kw))


def tcp_frame(dst_mac, src_mac, src, dst, sport, dport, flags="S", ttl=64, **kw):
    return ip_frame(dst_mac, src_mac, src, dst, 6, tcp(src, dst, sport, dport, flags, **kw), ttl=ttl)


def udp_frame(dst_mac, src_mac, src, dst, sport, dport, payload=b"data", ttl=64, **kw):
    return ip_frame(dst_mac, src_mac, src, dst, 17, udp(src, dst, sport, dport, payload, **kw), ttl=ttl)


def ping_frame(dst_mac, src_mac, src, dst, ident=7, seq=1, ttl=64, reply=False):
    return ip_frame(dst_mac, src_mac, src, dst, 1, icmp_echo(ident, seq, reply=reply), ttl=ttl)


def arp_request(src_mac, spa, tpa, dst_mac=BROADCAST, sha=None):
    return ether(dst_mac, src_mac, 0x0806,
                 arp(1, sha or src_mac, spa, "00:00:00:00:00:00", tpa))


def arp_reply(dst_mac, src_mac, spa, tha, tpa):
    return ether(dst_mac, src_mac, 0x0806, arp(2, src_mac, spa, tha, tpa))


def pad60(frame):
    """Ethernet minimum frame size (without FCS), as a NIC delivers it."""
    return frame + b"\0" * max(0, 60 - len(frame))


# ---- checks done on every output frame, independently ----

def verify_checksums(frame):
    """Return a list of problems with the IPv4/L4 checksums of frame."""
    problems = []
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return problems
    ip = frame[14:]
    ihl = (ip[0] & 0xF) * 4
    tl = struct.unpack("!H", ip[2:4])[0]
    if csum(ip[:ihl]) != 0:
        problems.append("IPv4 header checksum is wrong")
    proto = ip[9]
    frag = struct.unpack("!H", ip[6:8])[0]
    if frag & 0x3FFF:          # fragments: the L4 checksum spans other frames
        return problems
    seg = ip[ihl:tl]
    src = ".".join(str(b) for b in ip[12:16])
    dst = ".".join(str(b) for b in ip[16:20])
    if proto == 6 and csum(_pseudo(src, dst, 6, len(seg)) + seg) != 0:
        problems.append("TCP checksum is wrong")
    if proto == 17 and len(seg) >= 8 and seg[6:8] != b"\0\0":
        if csum(_pseudo(src, dst, 17, len(seg)) + seg) != 0:
            problems.append("UDP checksum is wrong")
    if proto == 1 and csum(seg) != 0:
        problems.append("ICMP checksum is wrong")
    return problems


# ---- pcap ----

def write_pcap(path, frames):
    """frames: list of (time_ns, bytes).  Microsecond pcap, Ethernet."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, data in frames:
            f.write(struct.pack("<IIII", t // 1_000_000_000, (t % 1_000_000_000) // 1000,
                                len(data), len(data)))
            f.write(data)


def read_pcap(path):
    """Return [(time_ns, bytes)] from a micro- or nanosecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B2C3D4:
        scale = 1000
    elif magic == 0xA1B23C4D:
        scale = 1
    else:
        raise ValueError("%s: not a little-endian pcap" % path)
    linktype = struct.unpack("<I", data[20:24])[0]
    assert linktype == 1, "%s: link type %d" % (path, linktype)
    out, off = [], 24
    while off < len(data):
        sec, frac, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        out.append((sec * 1_000_000_000 + frac * scale, data[off:off + caplen]))
        off += caplen
    return out
