#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A three-node cluster on this machine: starts a Kafka broker on
# 127.0.0.1:19192 (tools/kafka/broker.sh; Java and Kafka's jars are
# installed on first use), then the three nodes of config/cluster/, which
# share the topic bucket "orders" (300,000/s for the whole cluster). It
# prints what each node runs every two seconds, gives a set-rate to node 1
# and shows it reach the others, and stops everything at the end (also on
# Ctrl-C). DURATION=S sets how long the nodes run (default 20 s). Root:
# the admin sockets go to /run/tidegate.
set -eu
cd "$(dirname "$0")/.."

tools/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
if [ ! -f build/demo.pcap ]; then
	build/tools/tidegate-gen-pcap -o build/demo.pcap --count 32768 \
		--topics 4 --consumers 5000 --zipf 1.0 --priorities 3 \
		--malformed 0.01 --vlan-share 0.05 --sizes 64-512 >/dev/null
fi
tools/kafka/broker.sh install >/dev/null

duration=${DURATION:-20}
dir=$(mktemp -d /tmp/tidegate-cluster.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	tools/kafka/broker.sh stop "$dir/broker" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "broker: $(tools/kafka/broker.sh start "$dir/broker" --port 19192 \
	--controller-port 19193 2>/dev/null)"
for n in 1 2 3; do
	build/tidegate -c config/cluster/node$n.cfg --duration $((duration + 30)) \
		>"$dir/node$n.log" 2>&1 &
	pids="$pids $!"
done

show() {
	python3 - <<'PY'
import json, subprocess
for i in (1, 2, 3):
    r = subprocess.run(["build/tools/tidegatectl", "-s",
                        "/run/tidegate/node%d.sock" % i, "--json", "stats"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    try:
        b = [x for x in json.loads(r.stdout)["buckets"]
             if x["name"] == "orders"][0]
    except (ValueError, KeyError, IndexError):
        print("  node%d: not up yet" % i)
        continue
    print("  node%d: %-7s %d live, share %7.0f/s of %7.0f/s, admitted "
          "%7.0f/s, demand %9.0f/s%s" % (
              i, b["sync_state"], b["live_nodes"], b["node_share"],
              b["cluster_rate"], b["admitted_rate"], b["demand_rate"],
              "  (override %.0f)" % b["override_rate"]
              if b["override_rate"] else ""))
PY
}

t=0
while [ "$t" -lt "$duration" ]; do
	sleep 2
	t=$((t + 2))
	echo "t=${t}s  orders (shared, 300,000/s for the cluster):"
	show
	if [ "$t" -eq 8 ]; then
		echo "node1: set-rate orders 150000"
		build/tools/tidegatectl -s /run/tidegate/node1.sock \
			set-rate orders 150000 >/dev/null || true
	fi
	if [ "$t" -eq 14 ]; then
		echo "node3: clear-override orders"
		build/tools/tidegatectl -s /run/tidegate/node3.sock \
			clear-override orders >/dev/null || true
	fi
done
echo "logs of the nodes (last lines):"
for n in 1 2 3; do
	sed -n '/kafka:/p' "$dir/node$n.log" | tail -4 | sed "s/^/  node$n: /"
done
