#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Kafka figures: runs the kafka suite's cluster scenarios (three
tidegate nodes and a real broker, tests/kafka/cluster.py) several times and
prints the medians of what they measure:

  - aggregate accuracy: admitted over 10 s by 3 nodes with unequal demand,
    against the cluster rate;
  - reallocation time after a demand move, and after a node is killed;
  - resync time after the broker comes back;
  - sync traffic per node per shared bucket (record payload, and what the
    broker stores per record);
  - latency from a record produced on one node to its effect on another:
    the sync record's transit, and a set-rate given on one node until the
    others run it.

Usage: tools/bench_kafka.py [--build DIR] [--runs N]   (root: veth pairs)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(build, name):
    exe = [os.path.join(build, "tidegate"),
           os.path.join(build, "tools", "tidegatectl"),
           os.path.join(build, "tools", "tidegate-kafka-load"),
           os.path.join(build, "tools", "tidegate-gen-pcap")]
    r = subprocess.run([sys.executable,
                        os.path.join(ROOT, "tests", "kafka", "cluster.py"),
                        name] + exe, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    bad = [ln for ln in r.stdout.splitlines() if ln.startswith("not ok")]
    if bad:
        print("  %s: %d check(s) failed: %s" % (name, len(bad), bad[0]))
    return r.stdout


def nums(pattern, text, cast=float):
    return [cast(x) for x in re.findall(pattern, text)]


def med(xs, fmt="%.2f"):
    if not xs:
        return "n/a"
    return (fmt % statistics.median(xs)) + " (runs: %s)" % ", ".join(
        fmt % x for x in xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    acc, realloc, kill, resync, rec, stored, transit, cmd = \
        [], [], [], [], [], [], [], []
    for i in range(a.runs):
        print("run %d of %d" % (i + 1, a.runs), flush=True)
        t = run(a.build, "share")
        acc += nums(r"within 2% of the cluster rate \d+/s \(([-+0-9.]+)%\)",
                    t)
        rec += nums(r"bench: sync record (\d+) bytes", t)
        stored += nums(r"in \d+ bytes: (\d+) B per record", t)
        t = run(a.build, "move")
        realloc += [statistics.median(nums(r"(\d+)", m)) for m in
                    re.findall(r"bench: reallocation after a demand move: "
                               r"([0-9, ]+) ms", t)]
        t = run(a.build, "kill")
        kill += nums(r"have half the rate each (\d+) and \d+ ms", t)
        kill += nums(r"have half the rate each \d+ and (\d+) ms", t)
        t = run(a.build, "outage")
        resync += nums(r"bench: resync after the broker came back: "
                       r"([0-9.]+) s", t)
        t = run(a.build, "control")
        cmd += nums(r"applied on both others: median (\d+) ms", t)
        for m in re.findall(r"sync record transit.*?mean \[([^\]]*)\]", t):
            transit += [float(x.strip(" '")) for x in m.split(",") if x]
    print()
    print("aggregate admitted vs cluster rate, 3 nodes, 10 s: %s %%" %
          med(acc, "%+.2f"))
    print("reallocation after a demand move (3 moves per run, median): "
          "%s ms" % med(realloc, "%.0f"))
    print("share taken over after kill -9 (both survivors): %s ms" %
          med(kill, "%.0f"))
    print("resync after the broker came back: %s s" % med(resync))
    print("sync record payload (value + key): %s B -> x10/s per node per "
          "shared bucket" % med(rec, "%.0f"))
    print("stored by the broker per sync record: %s B" % med(stored, "%.0f"))
    print("sync record transit, produce -> consumed on another node: "
          "%s ms" % med(transit, "%.1f"))
    print("set-rate on one node -> in force on the others: %s ms" %
          med(cmd, "%.0f"))


if __name__ == "__main__":
    main()
