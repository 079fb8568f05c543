#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The demo command: installs what is missing, builds tidegate, makes the
# demo's traffic (build/demo.pcap) and runs the embedded demo,
# config/demo.cfg: virtual devices only (pcap replay in, null out), no NIC,
# no hugepages, no Kafka. It prints one stats line per second and, at the
# end, the final counters. DURATION=S sets how long (default 10 s; 0 runs
# until Ctrl-C).
set -eu
cd "$(dirname "$0")/.."

tools/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

if [ ! -f build/demo.pcap ]; then
	# 4 topics, 5,000 consumers (Zipf 1), 3 priority classes, 1% malformed
	build/tools/tidegate-gen-pcap -o build/demo.pcap --count 32768 \
		--topics 4 --consumers 5000 --zipf 1.0 --priorities 3 \
		--malformed 0.01 --vlan-share 0.05 --sizes 64-512
fi

duration=${DURATION:-10}
set -- -c config/demo.cfg --summary-json build/demo-summary.json
[ "$duration" != 0 ] && set -- "$@" --duration "$duration"
build/tidegate "$@"
echo "final counters: build/demo-summary.json"
python3 - build/demo-summary.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("  rx %d = %s" % (s["rx"], " + ".join(
    "%s %d" % (k, v) for k, v in sorted(s["outcomes"].items()) if v)))
for b in s["buckets"]:
    print("  %-16s %-8s rate %12.0f/s  admitted %10d  rejected %10d%s" % (
        b["name"], b["tier"], b["rate"], b["admitted"], b["rejected"],
        "  (shadow: would reject %d)" % b["shadow_rejected"]
        if b["shadow"] else ""))
PY
