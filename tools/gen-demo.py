#!/usr/bin/env python3
"""Make the bundled demo capture (config/demo/*.pcap) for config/default.yaml.

    tools/gen-demo.py [OUTDIR]     (default: config/demo)

A short story in packets, one pcap per port, timestamps interleaving them:
web-1 resolves its gateway and opens HTTPS to the internet (SNAT to its
elastic IP) and the answer comes back (DNAT); web-1 queries the database
across subnets and the database answers; web-1 talks to web-2 on the same
subnet; the internet resolves and reaches the bastion's elastic IP; and
the things a vswitch must refuse: what security groups do not allow
(web-1 to web-2 over UDP, the bastion pinging the database, SSH from the
internet to web-1), a reply with no request, a spoofed source, the
database trying the internet with no route, a packet for an unknown
elastic IP, a TTL-1 packet, a broadcast, an ARP for a reserved address, a
truncated frame.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "conformance"))
import pkt  # noqa: E402

R = "06:00:00:00:64:01"
W1, W2, B, DB = "02:64:0a:00:01:0a", "02:64:0a:00:01:0b", "02:00:00:00:0b:05", "02:64:0a:00:02:14"
UP, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
NET, ADMIN = "93.184.216.34", "198.51.100.9"

STORY = [
    ("web-1", pkt.arp_request(W1, "10.0.1.10", "10.0.1.1")),
    ("web-1", pkt.tcp_frame(R, W1, "10.0.1.10", NET, 43210, 443, "S", seq=1000)),
    ("uplink", pkt.tcp_frame(UP, GW, NET, "203.0.113.10", 443, 43210, "SA", seq=5000, ack=1001)),
    ("web-1", pkt.tcp_frame(R, W1, "10.0.1.10", NET, 43210, 443, "A", seq=1001, ack=5001)),
    ("web-1", pkt.tcp_frame(R, W1, "10.0.1.10", "10.0.2.20", 43300, 5432, "S")),
    ("db-1", pkt.tcp_frame(R, DB, "10.0.2.20", "10.0.1.10", 5432, 43300, "SA", ack=1001)),
    ("web-1", pkt.arp_request(W1, "10.0.1.10", "10.0.1.11")),
    ("web-1", pkt.udp_frame(W2, W1, "10.0.1.10", "10.0.1.11", 7000, 7001, b"cache-sync")),
    ("uplink", pkt.arp_request(GW, "203.0.113.1", "203.0.113.5")),
    ("uplink", pkt.tcp_frame(UP, GW, ADMIN, "203.0.113.5", 50022, 22, "S")),
    ("bastion", pkt.tcp_frame(R, B, "10.0.1.5", ADMIN, 22, 50022, "SA", ack=1001)),
    ("bastion", pkt.ping_frame(R, B, "10.0.1.5", "10.0.2.20", ident=99)),
    ("web-2", pkt.udp_frame(R, W2, "10.0.1.66", "10.0.2.20", 53, 53)),
    ("db-1", pkt.tcp_frame(R, DB, "10.0.2.20", NET, 40000, 80, "S")),
    ("uplink", pkt.tcp_frame(UP, GW, NET, "203.0.113.77", 1234, 80, "S")),
    ("uplink", pkt.tcp_frame(UP, GW, NET, "203.0.113.10", 1234, 22, "S")),
    ("uplink", pkt.tcp_frame(UP, GW, NET, "203.0.113.10", 443, 40999, "SA", ack=77)),
    ("web-1", pkt.ping_frame(R, W1, "10.0.1.10", NET, ttl=1)),
    ("web-1", pkt.udp_frame(pkt.BROADCAST, W1, "10.0.1.10", "255.255.255.255", 68, 67)),
    ("web-1", pkt.arp_request(W1, "10.0.1.10", "10.0.1.2")),
    ("web-2", pkt.tcp_frame(R, W2, "10.0.1.11", "10.9.3.3", 40000, 80, "S")),
    ("web-1", b"\x06\x00\x00\x00\x64\x01\x02\x64"),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "config", "demo")
    os.makedirs(out, exist_ok=True)
    per_port = {}
    for i, (port, frame) in enumerate(STORY):
        per_port.setdefault(port, []).append((1_700_000_000_000_000_000 + i * 1_000_000, frame))
    for port, frames in per_port.items():
        pkt.write_pcap(os.path.join(out, port + ".pcap"), frames)


if __name__ == "__main__":
    main()
