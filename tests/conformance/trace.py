#!/usr/bin/env python3
"""The trace (vpc-replay --trace, what `vpcctl trace FILE` runs) over the
conformance corpus (scenarios.py).

    trace.py --replay build/tools/vpc-replay [--engine dpdk|xdp|dpdk,xdp] [-k SUBSTRING]

For each scenario, twice: its first frame traced on the topology's tables
(an empty connection table), and its last frame traced after the frames
before it were replayed (the connections they opened in the table).  Each
trace must
  - give the verdict the scenario expects of that frame (action, output
    port, reason or path) -- the verdict the replay gives;
  - name the rule where a security group decided ("allowed by group G
    rule N", or "no rule allows" for sg-denied), and a network ACL's rule
    number for the ACL drops, and never say that the image's rules
    disagree with the engine;
  - with several engines: be the same text from each, line for line.
Scenarios whose tables change (--apply) before the traced frame are
traced on the first frame only.  Prints one line per scenario and
"N passed, M failed"; exit 1 on failure.
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
from run import step_times  # noqa: E402


def trace(replay, engine, sc, k, workdir, json_out=False):
    """Frame k of sc traced by engine after frames 0..k-1: (rc, stdout, stderr)."""
    steps = sc["steps"]
    times = step_times(steps)
    args = [replay, "--config", os.path.join(HERE, sc["topo"]), "--engine", engine] + \
        sc.get("args", [])
    inputs = {}
    for i in range(k):
        inputs.setdefault(steps[i][0], []).append((times[i], steps[i][1]))
    for port, frames in inputs.items():
        path = os.path.join(workdir, "in-%s.pcap" % port)
        pkt.write_pcap(path, frames)
        args += ["--in", "%s=%s" % (port, path)]
    if inputs:
        args += ["--out", os.path.join(workdir, "out-%s" % engine)]
    one = os.path.join(workdir, "trace.pcap")
    pkt.write_pcap(one, [(times[k], steps[k][1])])
    args += ["--trace", steps[k][0], "--pcap", one, "--index", "0"]
    if json_out:
        args.append("--json")
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def is_later_fragment(frame):
    return (len(frame) >= 34 and frame[12:14] == b"\x08\x00"
            and (int.from_bytes(frame[20:22], "big") & 0x1fff) != 0)


def verdict_of(text):
    """(action, out_port, reason) from a trace's verdict line."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("verdict "):
            v = line[len("verdict "):].strip()
            if v.startswith("drop: "):
                return ("drop", None, v[len("drop: "):].split(" ")[0])
            # "forward on port P, path X" / "reply on port P, path X"
            act, rest = v.split(" on port ", 1)
            port, path = rest.split(", path ", 1)
            return (act, port, path)
    return None


def check(sc, k, text, exp):
    problems = []
    want = (exp["action"], exp["out_port"], exp["reason"])
    got = verdict_of(text)
    if got != want:
        problems.append("frame %d: trace's verdict %s, the scenario's %s" % (k, got, want))
    if "disagree" in text:
        problems.append("frame %d: the image's rules disagree with the engine" % k)
    sg_lines = [l for l in text.splitlines() if l.strip().startswith("security group")]
    for l in sg_lines:
        if ("allowed by group " not in l and "no rule allows" not in l and
                "allowed (" not in l):
            problems.append("frame %d: a security group's line names no rule: %s" % (k, l.strip()))
    if exp["reason"] == "sg-denied" and not any("no rule allows" in l for l in sg_lines):
        problems.append("frame %d: sg-denied, but no group's line says so" % k)
    if exp["reason"] in ("nacl-ingress", "nacl-egress"):
        acl = [l for l in text.splitlines() if l.strip().startswith("network ACL")]
        if not any(": rule " in l and l.rstrip().endswith("deny") or "no rule matches" in l
                   for l in acl):
            problems.append("frame %d: %s, but no ACL line names the rule" % (k, exp["reason"]))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--engine", default="dpdk")
    ap.add_argument("-k", default="")
    a = ap.parse_args()
    engines = a.engine.split(",")
    n_pass = n_fail = 0
    first_json = True
    for sc in scenarios.SCENARIOS:
        if a.k not in sc["name"]:
            continue
        problems = []
        last = len(sc["steps"]) - 1
        frames = [0]
        applied_before = [b for b, _, _ in sc.get("applies", [])]
        # (a later fragment follows a first one the lcore or CPU that
        # forwarded it remembers, which a trace's own pipeline has not
        # seen; a full table is traced as if room were made)
        if (last > 0 and not applied_before and not is_later_fragment(sc["steps"][last][1])
                and "--max-connections" not in sc.get("args", [])):
            frames.append(last)
        if applied_before and min(applied_before) == 0:
            frames = []   # the tables change before the first frame
        with tempfile.TemporaryDirectory() as wd:
            for k in frames:
                exp = sc["steps"][k][2]
                texts = {}
                for e in engines:
                    rc, out, err = trace(a.replay, e, sc, k, wd)
                    if rc != 0:
                        problems.append("[%s] frame %d: vpc-replay exited %d: %s"
                                        % (e, k, rc, err.strip()))
                        continue
                    texts[e] = out
                    problems += ["[%s] %s" % (e, p) for p in check(sc, k, out, exp)]
                if len(texts) > 1:
                    ref = texts[engines[0]]
                    for e in engines[1:]:
                        if e in texts and texts[e] != ref:
                            problems.append("frame %d: the traces differ\n      [%s]\n%s\n      [%s]\n%s"
                                            % (k, engines[0], ref, e, texts[e]))
                if first_json and k == 0 and exp["action"] == "forward":
                    # once: the JSON form says the same
                    first_json = False
                    rc, out, err = trace(a.replay, engines[0], sc, k, wd, json_out=True)
                    try:
                        j = json.loads(out)
                        got = (j["action"], j["out_port"], j["reason"])
                        if got != (exp["action"], exp["out_port"], exp["reason"]):
                            problems.append("--json: verdict %s" % (got,))
                        if not j["stages"] or j["events_lost"] != 0:
                            problems.append("--json: stages %s" % j["stages"])
                    except (ValueError, KeyError) as ex:
                        problems.append("--json: %s: %r" % (ex, out))
        if problems:
            n_fail += 1
            print("not ok - [%s] %s" % (a.engine, sc["name"]))
            for p in problems:
                print("    " + p)
        else:
            n_pass += 1
            print("ok - [%s] %s" % (a.engine, sc["name"]))
    print("%d passed, %d failed" % (n_pass, n_fail))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
