#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Sum up meson test logs into one line, 'N passed, N failed'.

A CUnit program counts as its individual tests (from its Run Summary), a TAP
script as its 'ok'/'not ok' lines; any other test counts as one. A program that failed without a CUnit failure
(it crashed, timed out, or a sanitizer stopped it) adds one failure.
Usage: summary.py [--failed N] LOG.json... ; N failures counted beforehand
(a build that failed); exits 1 when anything failed or nothing ran.
"""
import json
import re
import sys

TAP = re.compile(r"^(not )?ok \d+", re.M)
CUNIT = re.compile(r"^\s*tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$",
                   re.M)


def main(args):
    passed = failed = 0
    if len(args) >= 2 and args[0] == "--failed":
        failed = int(args[1])
        args = args[2:]
    paths = args
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                t = json.loads(line)
                ok = t.get("result") in ("OK", "EXPECTEDFAIL")
                out = t.get("stdout") or ""
                m = CUNIT.search(out)
                tap = TAP.findall(out)
                if tap and not m:
                    bad = sum(1 for x in tap if x)
                    passed += len(tap) - bad
                    failed += bad
                    if not ok and bad == 0:
                        failed += 1
                elif m:
                    p, fl = int(m.group(3)), int(m.group(4))
                    passed += p
                    failed += fl
                    if not ok and fl == 0:
                        failed += 1
                elif ok:
                    passed += 1
                else:
                    failed += 1
                if not ok:
                    print("FAILED: %s (%s) in %s" % (t.get("name"),
                          t.get("result"), path), file=sys.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
