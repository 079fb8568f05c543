#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The demo command: installs what is missing, builds tidegate, and runs the
# embedded demo. Until the data plane lands (issue 3) the demo replays a
# sample trace through one token bucket with tidegate-trace and shows what
# a user relies on: burst means capacity, and the rate holds to the message.
set -eu
cd "$(dirname "$0")/.."

tools/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

trace=build/demo-trace.txt
# 1 s of saturating offered load (a message every 100 us, 10,000/s, the
# last one at exactly 1 s) at a
# bucket of 1,000/s with a burst of 200, then 2 s idle, then 100 at once.
awk 'BEGIN {
	for (t = 0; t <= 1000000000; t += 100000) printf "%.0f 1\n", t
	for (i = 0; i < 300; i++) printf "%.0f 1\n", 3000000000
}' >"$trace"
build/tools/tidegate-trace --rate 1000 --burst 200 <"$trace" >build/demo-out.txt

echo "tidegate-trace --rate 1000 --burst 200 (packet mode)"
paste -d' ' "$trace" build/demo-out.txt | awk '
	$1 <= 1000000000 { off1++; adm1 += $3 }
	$1 == 3000000000 { off2++; adm2 += $3 }
	END {
		printf "  1 s of saturating load: offered %d, admitted %d", off1, adm1
		printf " (exact: 1000/s x 1 s + burst 200 = 1200)\n"
		printf "  after 2 s idle, 300 at once: admitted %d (expect the burst, 200)\n", adm2
	}'
