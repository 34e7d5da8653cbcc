#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
and the pipeline's regression inputs, from what the repository already has:

  yaml      every topology file: config/*.yaml, tests/topo/{valid,invalid},
            tests/conformance/topo
  image     those of them that are valid, compiled (vpcctl compile)
  ctl       control-socket requests: each op and flag, an apply carrying an
            image, and refused headers; fed whole and in pieces
  pipeline  the demo captures (config/demo/*.pcap, on config/default.yaml)
            and the conformance scenarios (tests/conformance), in
            fuzz_pipeline's input format (see fuzz_pipeline.c)

    tests/fuzz/make-seeds.py [--vpcctl build-fuzz/control/vpcctl]

Deterministic: the same tree gives the same files (named by content).
Files already there are kept; nothing is deleted.
"""
import argparse
import glob
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(TOP, "tests", "fuzz")
sys.path.insert(0, os.path.join(TOP, "tests", "conformance"))

import pkt  # noqa: E402

# fuzz_pipeline.c: topo_files[]
PIPELINE_TOPOS = ["config/default.yaml", "tests/conformance/topo/basic.yaml",
                  "tests/conformance/topo/sg.yaml", "tests/conformance/topo/overlay.yaml"]
# ... and the host whose view each is (fuzz_pipeline.c: topo_hosts[])
PIPELINE_HOSTS = [None, None, None, "hv1"]

CTL_MAGIC = 0x4C544356
MAX_FRAMES = 48


def put(target, data, name=None, kind="corpus"):
    d = os.path.join(HERE, kind, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def vpcctl_json(vpcctl, path, host=None):
    out = subprocess.run([vpcctl, "show", "--json"] + (["--host", host] if host else []) + [path],
                         check=True, capture_output=True).stdout
    return json.loads(out)


# ---- yaml, image ----

def topology_files():
    files = sorted(glob.glob(os.path.join(TOP, "config", "*.yaml")))
    for d in ("tests/topo/valid", "tests/topo/invalid", "tests/conformance/topo"):
        files += sorted(glob.glob(os.path.join(TOP, d, "*.yaml")))
    return files


def images(vpcctl, files):
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            img = os.path.join(tmp, "x.img")
            r = subprocess.run([vpcctl, "compile", f, "-o", img], capture_output=True)
            if r.returncode == 0:
                with open(img, "rb") as fh:
                    out.append(fh.read())
    return out


# ---- ctl ----

def ctl_req(op, flags=0, length=0, magic=CTL_MAGIC):
    return struct.pack("<IIII", magic, op, flags, length)


# struct vpc_ctl_capture: port, dirs, snaplen, count
CAPTURE = b"vm1".ljust(64, b"\0") + struct.pack("<IIQ", 3, 2048, 10)
# struct vpc_ctl_trace: port, kind (0: a description), len; the description
TRACE_SPEC = b"tcp 10.0.1.10:43210 > 10.0.2.20:5432 flags S"
TRACE = b"web-1".ljust(40, b"\0") + struct.pack("<II", 0, len(TRACE_SPEC)) + TRACE_SPEC


def ctl_seeds(image):
    """(chunk sizes, stream) pairs."""
    reqs = []
    for op in range(1, 7):	# (7, trace, and 8, capture, have payloads: below)
        for flags in (0, 2):
            if op == 1:
                reqs.append(ctl_req(op, flags, len(image)) + image)
                reqs.append(ctl_req(op, flags | 1, len(image)) + image)
            else:
                reqs.append(ctl_req(op, flags))
    reqs += [
        ctl_req(1, 0, 16) + bytes(range(16)) + b"trailing bytes",   # more than asked
        ctl_req(1, 0, 100) + b"short",          # incomplete payload
        ctl_req(1, 0, 0),                       # an empty apply
        ctl_req(1, 0, (1 << 30) + 1),           # too large
        ctl_req(2, 0, 4) + b"xxxx",             # a payload on a stats request
        ctl_req(9),                             # unknown op
        ctl_req(2, 4),                          # unknown flag
        ctl_req(2, magic=0x56435456),           # wrong magic
        ctl_req(2)[:9],                         # half a header
        ctl_req(8, 0, 80) + CAPTURE,            # a capture request
        ctl_req(8, 0, 79) + CAPTURE[:79],       # a capture request of the wrong size
        ctl_req(8, 0, 0),                       # a capture with no request
        ctl_req(7, 2, len(TRACE)) + TRACE,      # a trace request
        ctl_req(7, 0, 47) + TRACE[:47],         # a trace request shorter than its header
        ctl_req(7, 0, 0),                       # a trace with no request
    ]
    out = []
    for r in reqs:
        out.append((b"", r))
        out.append((bytes([1, 3, 7, 0, 16]), r))
    return out


def ctl_input(sizes, stream):
    return bytes([len(sizes)]) + sizes + stream


# ---- pipeline ----

def dt_ns(v):
    return ((v & 7) + 1) << ((v >> 3) + 16)


def dt_byte(ns):
    """The smallest clock step not shorter than ns."""
    best = 255
    for v in range(256):
        if dt_ns(v) >= ns and dt_ns(v) < dt_ns(best):
            best = v
    return best


def record(port, frame, dt=0, new_burst=False, apply=False, revalidate=False):
    ctl = port | (0x20 if new_burst else 0) | (0x40 if apply else 0) | \
        (0x80 if revalidate else 0)
    return bytes([ctl, dt]) + struct.pack("!H", len(frame)) + frame


def encode(topo, steps):
    """steps: [(port index, frame, time ns, apply, revalidate)]."""
    out, last = bytearray([topo]), None
    for port, frame, t, apply, reval in steps:
        dt = 0 if last is None else dt_byte(max(t - last, 0))
        last = t
        out += record(port, frame, dt, apply=apply, revalidate=reval)
    return bytes(out)


def port_map(vpcctl, topo):
    host = PIPELINE_HOSTS[PIPELINE_TOPOS.index(topo)] if topo in PIPELINE_TOPOS else None
    return {p["name"]: p["id"] for p in vpcctl_json(vpcctl, os.path.join(TOP, topo), host)["ports"]}


def demo_seeds(vpcctl):
    ports = port_map(vpcctl, PIPELINE_TOPOS[0])
    frames = []
    for f in sorted(glob.glob(os.path.join(TOP, "config", "demo", "*.pcap"))):
        name = os.path.basename(f)[:-5]
        for t, data in pkt.read_pcap(f):
            frames.append((t, ports[name], data))
    frames.sort(key=lambda x: (x[0], x[1]))
    seeds = []
    # all of it, in time order (conversations), and each port's on its own
    for i in range(0, len(frames), MAX_FRAMES):
        seeds.append(encode(0, [(p, d, t, False, False) for t, p, d in frames[i:i + MAX_FRAMES]]))
    for port in sorted(set(p for _, p, _ in frames)):
        mine = [(p, d, t, False, False) for t, p, d in frames if p == port]
        seeds.append(encode(0, mine[:MAX_FRAMES]))
    return seeds


def conformance_seeds(vpcctl):
    import run
    import scenarios
    maps = {}
    seeds = []
    for sc in scenarios.SCENARIOS:
        topo = os.path.normpath(os.path.join("tests/conformance", sc["topo"]))
        if topo not in PIPELINE_TOPOS or sc.get("args", []) not in ([], ["--host", "hv1"]):
            continue
        ti = PIPELINE_TOPOS.index(topo)
        if topo not in maps:
            maps[topo] = port_map(vpcctl, topo)
        times = run.step_times(sc["steps"])
        applies = {a[0]: a[2] for a in sc.get("applies", [])}
        steps = []
        for i, st in enumerate(sc["steps"]):
            steps.append((maps[topo][st[0]], st[1], times[i], i in applies, applies.get(i, False)))
        seeds.append(encode(ti, steps[:MAX_FRAMES]))
    return seeds


def fill_seed(vpcctl):
    """More new connections than the table holds (fuzz_pipeline: 64), then,
    past the UDP timeout, more again: conntrack-full, then reclaiming."""
    d = vpcctl_json(vpcctl, os.path.join(TOP, PIPELINE_TOPOS[0]))
    ports = {p["name"]: p["id"] for p in d["ports"]}
    router = d["vpcs"][0]["router_mac"]
    web1 = next(i for i in d["interfaces"] if i["name"] == "web-1")
    steps, t = [], 0
    for i in range(72):
        t += 1000 if i != 68 else 40_000_000_000
        f = pkt.udp_frame(router, web1["mac"], web1["ip"], "198.51.100.7", 20000 + i, 53,
                          payload=b"")
        steps.append((ports["web-1"], f, t, False, False))
    return encode(0, steps)


def regression_seeds(vpcctl):
    """Inputs that once made fuzz_pipeline fail (tests/fuzz/regressions)."""
    d = vpcctl_json(vpcctl, os.path.join(TOP, PIPELINE_TOPOS[0]))
    ports = {p["name"]: p["id"] for p in d["ports"]}
    router = d["vpcs"][0]["router_mac"]
    bastion = next(i for i in d["interfaces"] if i["name"] == "bastion")
    # ICMP destination unreachable (3/3) from the bastion (its group lets
    # ICMP out) to an internet address, quoting nothing: 14 + 20 + 8 bytes.
    # The translation of the quoted header for the elastic IP read past it.
    frame = pkt.ether(router, bastion["mac"], 0x0800,
                      pkt.ipv4(bastion["ip"], "198.51.100.7", 1, pkt.icmp(3, 3)))
    assert len(frame) == 42
    return {"icmp-3-3-nothing-quoted": encode(0, [(ports["bastion"], frame, 0, False, False)])}


def offload_seeds():
    """fuzz_offload: a virtio-net header (host order) and a frame, as a
    kernel port reads them: plain, a checksum to finish (TCP, UDP), a TCP
    super-frame to segment, a segmentation kind not handled."""
    def hdr(flags=0, gso=0, hdr_len=0, gso_size=0, start=0, off=0):
        return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, start, off)
    tcp = pkt.tcp_frame("02:00:00:00:00:02", "02:00:00:00:00:01", "10.0.0.1", "10.0.0.2", 40000, 80,
                        "PA", payload=bytes(range(256)) * 20)
    udp = pkt.udp_frame("02:00:00:00:00:02", "02:00:00:00:00:01", "10.0.0.1", "10.0.0.2", 5353, 53,
                        b"q" * 100)
    return [hdr() + udp, hdr(1, 0, 0, 0, 34, 16) + tcp, hdr(1, 0, 0, 0, 34, 6) + udp,
            hdr(1, 1, 54, 1448, 34, 16) + tcp, hdr(1, 1, 54, 536, 34, 16) + tcp,
            hdr(1, 4, 54, 1448, 34, 16) + tcp, hdr(1, 0x81, 54, 1000, 34, 16) + tcp]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vpcctl", default=None, help="vpcctl to compile images with")
    o = ap.parse_args()
    vpcctl = o.vpcctl
    if vpcctl is None:
        for b in ("build-fuzz", "build"):
            p = os.path.join(TOP, b, "control", "vpcctl")
            if os.access(p, os.X_OK):
                vpcctl = p
                break
    if vpcctl is None:
        sys.exit("make-seeds: no vpcctl (build first, or --vpcctl PATH)")

    files = topology_files()
    for f in files:
        with open(f, "rb") as fh:
            put("yaml", fh.read())
    imgs = images(vpcctl, files)
    for img in imgs:
        put("image", img)
    small = min(imgs, key=len)
    for sizes, stream in ctl_seeds(small):
        put("ctl", ctl_input(sizes, stream))
    for s in demo_seeds(vpcctl) + conformance_seeds(vpcctl) + [fill_seed(vpcctl)]:
        put("pipeline", s)
    for name, s in regression_seeds(vpcctl).items():
        put("pipeline", s, name=name, kind="regressions")
    for seed in offload_seeds():
        put("offload", seed)
    for t in ("yaml", "image", "ctl", "pipeline", "offload"):
        n = len(os.listdir(os.path.join(HERE, "corpus", t)))
        print("corpus/%s: %d files" % (t, n))


if __name__ == "__main__":
    main()
