#!/usr/bin/env python3
"""Run the conformance corpus (scenarios.py) against an engine.

    run.py --replay build/tools/vpc-replay [--engine dpdk|xdp] [-k SUBSTRING]

For each scenario: write one input pcap per port (frame i at time i ms, so
the processing order is the scenario's order), run vpc-replay, and check
  - verdicts.jsonl: one line per frame, in order, with the expected seq,
    in_port, action, out_port and reason;
  - DIR/PORT.pcap: exactly the expected frames, byte for byte, in order,
    each with the timestamp of the input frame that caused it;
  - every output frame's IPv4/TCP/UDP/ICMP checksums, recomputed here.
Prints one line per scenario and "N passed, M failed"; exit 1 on failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pkt  # noqa: E402
import scenarios  # noqa: E402


def hexdiff(want, got):
    n = next((i for i in range(min(len(want), len(got))) if want[i] != got[i]),
             min(len(want), len(got)))
    return ("      first difference at byte %d (lengths %d/%d)\n      want %s\n      got  %s"
            % (n, len(want), len(got), want.hex(), got.hex()))


def step_times(steps):
    """Frame i is at i ms, or at the time (seconds) its step gives."""
    times, last = [], 0
    for i, st in enumerate(steps):
        t = int(round(st[3] * 1e9)) if len(st) > 3 else (i + 1) * 1_000_000
        assert t > last, "scenario times must increase"
        times.append(t)
        last = t
    return times


def run_scenario(sc, replay, engine, workdir):
    problems = []
    inputs = {}
    times = step_times(sc["steps"])
    for i, st in enumerate(sc["steps"]):
        inputs.setdefault(st[0], []).append((times[i], st[1]))
    args = [replay, "--config", os.path.join(HERE, sc["topo"]), "--out",
            os.path.join(workdir, "out"), "--engine", engine, "--json"] + sc.get("args", [])
    for before, topo, revalidate in sc.get("applies", []):
        at = (times[before] - 500_000) / 1e9   # half a millisecond before that frame
        args += ["--apply-revalidate" if revalidate else "--apply",
                 "%.6f=%s" % (at, os.path.join(HERE, topo))]
    for port, frames in inputs.items():
        path = os.path.join(workdir, "in-%s.pcap" % port)
        pkt.write_pcap(path, frames)
        args += ["--in", "%s=%s" % (port, path)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return ["vpc-replay exited %d: %s" % (proc.returncode, proc.stderr.strip())]
    outdir = os.path.join(workdir, "out")
    with open(os.path.join(outdir, "verdicts.jsonl")) as f:
        verdicts = [json.loads(line) for line in f]
    steps = sc["steps"]
    if len(verdicts) != len(steps):
        problems.append("%d verdicts for %d frames" % (len(verdicts), len(steps)))
    want_out = {}
    for i, st in enumerate(steps):
        port, frame, exp = st[0], st[1], st[2]
        if i < len(verdicts):
            v = verdicts[i]
            got = (v.get("seq"), v.get("in_port"), v.get("action"), v.get("out_port"), v.get("reason"))
            want = (i, port, exp["action"], exp["out_port"], exp["reason"])
            if got != want:
                problems.append("frame %d: verdict %s, expected %s" % (i, got[2:], want[2:]))
        if exp["frame"] is not None:
            want_out.setdefault(exp["out_port"], []).append((times[i], exp["frame"], i))
    for name in sorted(os.listdir(outdir)):
        if not name.endswith(".pcap"):
            continue
        port = name[:-5]
        got = pkt.read_pcap(os.path.join(outdir, name))
        want = want_out.pop(port, [])
        if len(got) != len(want):
            problems.append("%s.pcap: %d frames, expected %d" % (port, len(got), len(want)))
        for (gt, gf), (wt, wf, i) in zip(got, want):
            if gf != wf:
                problems.append("%s.pcap: frame for input %d differs\n%s" % (port, i, hexdiff(wf, gf)))
            if gt != wt:
                problems.append("%s.pcap: frame for input %d has time %d, expected %d" % (port, i, gt, wt))
        for gt, gf in got:
            for p in pkt.verify_checksums(gf):
                problems.append("%s.pcap: %s" % (port, p))
    for port in want_out:
        problems.append("no %s.pcap written" % port)
    for port in inputs:
        if not os.path.exists(os.path.join(outdir, port + ".pcap")):
            problems.append("no %s.pcap written for an input port" % port)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--engine", default="dpdk")
    ap.add_argument("-k", dest="filter", default="")
    a = ap.parse_args()
    n_pass = n_fail = 0
    for sc in scenarios.SCENARIOS:
        if a.filter not in sc["name"]:
            continue
        with tempfile.TemporaryDirectory() as d:
            problems = run_scenario(sc, os.path.abspath(a.replay), a.engine, d)
        if problems:
            n_fail += 1
            print("not ok - [%s] %s" % (a.engine, sc["name"]))
            for p in problems:
                print("    " + p)
        else:
            n_pass += 1
            print("ok - [%s] %s" % (a.engine, sc["name"]))
    print("%d passed, %d failed" % (n_pass, n_fail))
    return 1 if n_fail or not n_pass else 0


if __name__ == "__main__":
    sys.exit(main())
