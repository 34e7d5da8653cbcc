#!/usr/bin/env python3
"""Generate a large, valid topology for scale measurements.

    tools/gen-topology.py [--vpcs 100] [--interfaces 10000] [--groups 1000] > big.yaml

Deterministic (no randomness): the same arguments give the same file.
Each VPC gets 10.V.0.0/16 (V < 250) with four /20 subnets, its share of the
interfaces and security groups; every group has a CIDR rule, a port-range
rule and a reference to another group of the VPC; one interface in ten has
an elastic IP from 198.18.0.0/15.  --hosts N: a hosts: list of N hosts
(underlay 172.16.0.0/12, each with an uplink), the interfaces dealt to them
in turn.
"""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vpcs", type=int, default=100)
    ap.add_argument("--interfaces", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=0)
    a = ap.parse_args()
    if not 1 <= a.vpcs <= 250:
        sys.exit("--vpcs must be 1..250")
    per_if = a.interfaces // a.vpcs
    per_sg = max(1, a.groups // a.vpcs)
    if per_if > 4 * 4000:
        sys.exit("too many interfaces per VPC")
    out = sys.stdout.write
    out("version: 1\n")
    if a.hosts:
        out("hosts:\n")
        for h in range(a.hosts):
            u = (172 << 24 | 16 << 16) + h + 1
            out(f"  - name: h{h + 1}\n    underlay_ip: {u >> 24}.{u >> 16 & 255}.{u >> 8 & 255}.{u & 255}\n")
            out(f"    uplink: {{ mac: \"02:fe:{h >> 16 & 255:02x}:{h >> 8 & 255:02x}:{h & 255:02x}:01\", "
                f"gateway_mac: \"02:fe:{h >> 16 & 255:02x}:{h >> 8 & 255:02x}:{h & 255:02x}:fe\" }}\n")
    out("vpcs:\n")
    eip, n_if = 0, 0
    for v in range(a.vpcs):
        out(f"  - name: vpc-{v}\n    cidr: 10.{v}.0.0/16\n    internet_gateway: true\n")
        out("    route_tables:\n")
        out("      - name: main\n        main: true\n        routes:\n")
        out("          - { destination: 0.0.0.0/0, target: internet_gateway }\n")
        out("          - { destination: 192.0.2.0/24, target: blackhole }\n")
        out("    subnets:\n")
        for s in range(4):
            out(f"      - {{ name: s{s}, cidr: 10.{v}.{s * 16}.0/20 }}\n")
        out("    security_groups:\n")
        for g in range(per_sg):
            peer = (g + 1) % per_sg
            out(f"      - name: g{g}\n        ingress:\n")
            out(f"          - {{ protocol: tcp, ports: {1000 + g}, source: 0.0.0.0/0 }}\n")
            out(f"          - {{ protocol: udp, ports: \"5000-5999\", source: 10.{v}.0.0/16 }}\n")
            out(f"          - {{ protocol: tcp, ports: 22, source: {{ security_group: g{peer} }} }}\n")
            out("          - { protocol: icmp, icmp_type: 8, source: 0.0.0.0/0 }\n")
        out("    interfaces:\n")
        for i in range(per_if):
            s, k = i % 4, i // 4
            host = 4 + k  # skip the reserved .0-.3
            ip = f"10.{v}.{s * 16 + host // 256}.{host % 256}"
            out(f"      - {{ name: if-{i}, subnet: s{s}, ip: {ip}, port: p{v}-{i}, "
                f"security_groups: [g{i % per_sg}, g{(i + 1) % per_sg}]")
            if a.hosts:
                out(f", host: h{n_if % a.hosts + 1}")
            n_if += 1
            if i % 10 == 0:
                out(f", elastic_ip: 198.{18 + eip // 65536}.{(eip // 256) % 256}.{eip % 256}")
                eip += 1
            out(" }\n")


if __name__ == "__main__":
    main()
