#!/usr/bin/env python3
"""Run the conformance corpus (scenarios.py) against an engine.

    run.py --replay build/tools/vpc-replay [--engine dpdk|xdp] [-k SUBSTRING]

For each scenario: write one input pcap per port (frame i at time i ms, so
the processing order is the scenario's order), run vpc-replay, and check
  - verdicts.jsonl: one line per frame, in order, with the expected seq,
    in_port, action, out_port and reason;
  - DIR/PORT.pcap: exactly the expected frames, byte for byte, in order,
    each with the timestamp of the input frame that caused it (and the
    frames the dataplane sends itself, health checks, at their times);
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


def run_scenario(sc, replay, engine, workdir, flow_logs=False):
    problems = []
    inputs = {}
    times = step_times(sc["steps"])
    for i, st in enumerate(sc["steps"]):
        inputs.setdefault(st[0], []).append((times[i], st[1]))
    args = [replay, "--config", os.path.join(HERE, sc["topo"]), "--out",
            os.path.join(workdir, "out"), "--engine", engine, "--json"] + sc.get("args", [])
    if flow_logs:   # out/flow-logs.txt, compared between engines with the rest
        args += ["--flow-logs", os.path.join(workdir, "out"), "--flow-log-interval", "10"]
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
    # Frames the dataplane sends of itself (load balancers' health checks):
    # (port, time, frame), before the outputs of an input at the same time.
    for port, t, frame in sc.get("extra_out", []):
        want_out.setdefault(port, []).append((t, frame, "sent at %d" % t))
    for port in want_out:
        want_out[port].sort(key=lambda w: (w[0], isinstance(w[2], int)))
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


def same_outputs(dirs):
    """Differences between the engines' outputs: verdicts and captures,
    byte for byte."""
    problems = []
    (e0, d0), rest = dirs[0], dirs[1:]
    names = sorted(os.listdir(os.path.join(d0, "out")))
    for e1, d1 in rest:
        other = sorted(os.listdir(os.path.join(d1, "out")))
        if names != other:
            problems.append("%s wrote %s, %s wrote %s" % (e0, names, e1, other))
            continue
        for name in names:
            with open(os.path.join(d0, "out", name), "rb") as f:
                a = f.read()
            with open(os.path.join(d1, "out", name), "rb") as f:
                b = f.read()
            if a != b:
                problems.append("%s differs between %s and %s" % (name, e0, e1))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--engine", default="dpdk",
                    help="an engine, or several (dpdk,xdp): each must pass, and their "
                         "outputs must be identical")
    ap.add_argument("-k", dest="filter", default="")
    ap.add_argument("--flow-logs", action="store_true",
                    help="also write flow logs (vpc-replay --flow-logs, interval 10 s): "
                         "with several engines their records must be identical too")
    a = ap.parse_args()
    n_pass = n_fail = 0
    for sc in scenarios.SCENARIOS:
        if a.filter not in sc["name"]:
            continue
        engines = a.engine.split(",")
        with tempfile.TemporaryDirectory() as d:
            problems, dirs = [], []
            for e in engines:
                wd = os.path.join(d, e)
                os.mkdir(wd)
                problems += ["[%s] %s" % (e, p) if len(engines) > 1 else p
                             for p in run_scenario(sc, os.path.abspath(a.replay), e, wd,
                                                   a.flow_logs)]
                dirs.append((e, wd))
            if not problems and len(dirs) > 1:
                problems += same_outputs(dirs)
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
