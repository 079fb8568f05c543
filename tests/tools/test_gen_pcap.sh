#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tidegate-gen-pcap, as demos and tests use it: small pcaps read back with a
# strict parser written here (python3, standard library only), checking the
# count, sizes, topics and their weights, the consumers and their Zipf skew,
# tags, DSCP, IPv6 and extension headers, checksums, every malformed kind,
# the manifest, determinism, and clear errors for bad flags.
# Usage: test_gen_pcap.sh GEN_PCAP_BINARY
set -u
G=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
n=0

check() { # name, condition result (0 = ok)
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		fails=$((fails + 1))
	fi
}

# The reader: parses every frame of a pcap and writes what it saw as JSON.
# A frame "fails" when anything in it is malformed, checksums included.
cat >"$tmp/read.py" <<'PY'
import ipaddress, json, os, struct, sys

def csum(data, acc=0):
    if len(data) % 2:
        data += b"\0"
    acc += sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc

class Bad(Exception):
    pass

def need(cond, why):
    if not cond:
        raise Bad(why)

def parse(f, base_port):
    """One frame -> dict of what it carries; raises Bad(reason)."""
    need(len(f) >= 14, "eth-short")
    off, tags = 12, []
    et = struct.unpack_from("!H", f, off)[0]
    while et in (0x8100, 0x88A8):
        need(len(tags) < 2, "three-tags")
        need(len(f) >= off + 8, "tag-short")
        tci = struct.unpack_from("!H", f, off + 2)[0]
        tags.append((et, tci >> 13, tci & 0xFFF))
        off += 4
        et = struct.unpack_from("!H", f, off)[0]
    off += 2
    need(len(tags) != 1 or tags[0][0] == 0x8100, "single-tag-tpid")
    need(len(tags) != 2 or [t[0] for t in tags] == [0x88A8, 0x8100],
         "qinq-tpids")
    r = {"tags": tags, "opts": False, "ext": False, "frag": False}
    if et == 0x0800:
        need(len(f) >= off + 20, "ipv4-short")
        vihl, tos, tot = struct.unpack_from("!BBH", f, off)
        need(vihl >> 4 == 4, "ipv4-version")
        hl = (vihl & 15) * 4
        need(hl >= 20, "ihl-short")
        need(off + hl <= len(f) and hl <= tot, "ihl-long")
        need(off + tot <= len(f), "ipv4-len-long")
        need(off + tot == len(f) or len(f) == 60, "ipv4-trailing-bytes")
        need(csum(f[off:off + hl]) == 0xFFFF, "ipv4-csum")
        if hl > 20:
            o = f[off + 20:off + hl]
            need(all(b == 1 for b in o[:-1]) and o[-1] == 0, "ipv4-opts")
            r["opts"] = True
        proto = f[off + 9]
        src, dst = f[off + 12:off + 16], f[off + 16:off + 20]
        r["dscp"] = tos >> 2
        l4, end = off + hl, off + tot
        pseudo = csum(src + dst)
    elif et == 0x86DD:
        need(len(f) >= off + 40, "ipv6-short")
        vtc, plen, proto = struct.unpack_from("!IHB", f, off)
        need(vtc >> 28 == 6, "ipv6-version")
        need(off + 40 + plen == len(f), "ipv6-payload-length")
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        r["dscp"] = (vtc >> 22) & 63
        l4, end = off + 40, off + 40 + plen
        first = True
        while proto in (0, 60, 43, 44):
            need(proto != 0 or first, "hbh-not-first")
            need(l4 + 8 <= end, "ext-short")
            hlen = 8 if proto == 44 else (f[l4 + 1] + 1) * 8
            need(l4 + hlen <= end, "ext-long")
            if proto == 44:
                fo = struct.unpack_from("!H", f, l4 + 2)[0]
                need(fo >> 3 == 0, "not-first-fragment")
                need(fo & 1 == 0 or (end - l4 - 8) % 8 == 0, "frag-align")
                r["frag"] = bool(fo & 1)
            if proto == 43:
                need(f[l4 + 3] == 0, "segments-left")
            proto, l4, first = f[l4], l4 + hlen, False
            r["ext"] = True
        pseudo = csum(src + dst)
    else:
        raise Bad("ethertype")
    have = end - l4
    if proto == 17:
        need(have >= 8, "udp-short")
        sport, dport, ulen, uc = struct.unpack_from("!HHHH", f, l4)
        need(ulen >= 8, "udp-len-short")
        need(ulen == have or (r["frag"] and ulen > have), "udp-len")
        need(uc != 0 or et == 0x0800, "udp6-zero-csum")
        if uc:
            acc = pseudo + 17 + (ulen >> 16) + (ulen & 0xFFFF)
            need(csum(f[l4:end], acc) == 0xFFFF, "udp-csum")
        hdr = 8
    elif proto == 6:
        need(have >= 20, "tcp-short")
        sport, dport = struct.unpack_from("!HH", f, l4)
        hdr = (f[l4 + 12] >> 4) * 4
        need(hdr >= 20, "tcp-doff-short")
        need(hdr <= have, "tcp-doff-long")
        if not r["frag"]:  # a fragment's length is the whole datagram's
            acc = pseudo + 6 + (have >> 16) + (have & 0xFFFF)
            need(csum(f[l4:end], acc) == 0xFFFF, "tcp-csum")
    else:
        raise Bad("l4-proto")
    r.update(src=str(ipaddress.ip_address(bytes(src))),
             dst=str(ipaddress.ip_address(bytes(dst))), v6=et == 0x86DD,
             tcp=proto == 6, sport=sport, dport=dport)
    pay = f[l4 + hdr:end]
    if len(pay) >= 14:
        r["seq"], r["rank"], r["topic"] = struct.unpack_from("!QIH", pay)
    return r

def read(path, base_port):
    data = open(path, "rb").read()
    magic, vmaj, vmin, _, _, snap, link = struct.unpack_from("<IHHiIII", data)
    s = {"magic_ok": magic == 0xA1B2C3D4 and (vmaj, vmin) == (2, 4),
         "linktype": link, "snaplen": snap, "count": 0, "sizes": {},
         "ports": {}, "srcs": {}, "tags": [0, 0, 0], "dscp": {}, "v4": 0,
         "v6": 0, "tcp": 0, "opts": 0, "ext": 0, "frag": 0, "fail": {},
         "failed": 0, "tag_bad": 0, "vid_bad": 0, "ts_bad": 0,
         "rank_src": {}, "caplen_bad": 0}
    off, prev, dsts = 24, None, set()
    while off < len(data):
        sec, usec, cap, wire = struct.unpack_from("<IIII", data, off)
        f = data[off + 16:off + 16 + cap]
        off += 16 + cap
        t = sec * 1000000 + usec
        s["ts_bad"] += prev is not None and t != prev + 1
        s["caplen_bad"] += cap != wire or len(f) != cap
        prev = t
        i = s["count"]
        s["count"] += 1
        s["sizes"][cap] = s["sizes"].get(cap, 0) + 1
        try:
            r = parse(f, base_port)
        except (Bad, struct.error, IndexError) as e:
            why = str(e) if isinstance(e, Bad) else "short"
            s["fail"][why] = s["fail"].get(why, 0) + 1
            s["failed"] += 1
            continue
        topic = r["dport"] - base_port
        s["ports"][r["dport"]] = s["ports"].get(r["dport"], 0) + 1
        s["srcs"][r["src"]] = s["srcs"].get(r["src"], 0) + 1
        dsts.add(r["dst"])
        s["tags"][len(r["tags"])] += 1
        s["vid_bad"] += any(v != 100 + topic or p != r["dscp"] // 8
                            for _, p, v in r["tags"])
        s["dscp"][r["dscp"]] = s["dscp"].get(r["dscp"], 0) + 1
        for k in ("v6", "tcp", "opts", "ext", "frag"):
            s[k] += r[k]
        s["v4"] += not r["v6"]
        if "seq" in r:
            s["tag_bad"] += r["seq"] != i or r["topic"] != topic
            old = s["rank_src"].setdefault(str(r["rank"]), r["src"])
            s["tag_bad"] += old != r["src"]
    s["dsts"] = sorted(dsts)
    c = sorted(s["srcs"].values(), reverse=True)
    s["distinct"] = len(c)
    s["top"] = c[0] if c else 0
    s["median"] = c[len(c) // 2] if c else 0
    s["min_src"] = c[-1] if c else 0
    s["size_min"] = min(s["sizes"]) if s["sizes"] else 0
    s["size_max"] = max(s["sizes"]) if s["sizes"] else 0
    return s

# read.py [--base-port P] PCAP...: the stats of one pcap, or of several
# by file name: {name: stats}
args, port = sys.argv[1:], 9000
if args[:1] == ["--base-port"]:
    port, args = int(args[1]), args[2:]
out = {os.path.basename(a): read(a, port) for a in args}
json.dump(out.popitem()[1] if len(args) == 1 else out, sys.stdout)
PY

# The judge: reads "name :: python expression" lines on stdin and prints
# "0 name" (holds) or "1 name" for each, with s = the reader's stats, m =
# the manifest (if given) and near(a, b, tol). An expression that raises
# fails; unreadable stats fail every line.
cat >"$tmp/judge.py" <<'PY'
import json, sys

def near(a, b, tol):
    return abs(a - b) <= tol

env = {"near": near}
try:
    env["s"] = json.load(open(sys.argv[1]))
    env["m"] = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None
    loaded = True
except (OSError, ValueError):
    loaded = False
for line in sys.stdin:
    if not line.strip():
        continue
    name, expr = line.strip().split(" :: ", 1)
    try:
        ok = loaded and bool(eval(expr, env))
    except Exception:
        ok = False
    print(0 if ok else 1, name)
PY

# read_pcap OUT [--base-port P] PCAP...: the reader's stats into OUT
read_pcap() {
	out=$1
	shift
	python3 "$tmp/read.py" "$@" >"$out"
}

# judge STATS [MANIFEST] < checks: one check per line "name :: expression";
# never at the end of a pipe, whose subshell would lose the count
judge() {
	python3 "$tmp/judge.py" "$@" >"$tmp/verdicts" ||
		check "the judge runs ($*)" 1
	while read -r rc name; do
		check "$name" "$rc"
	done <"$tmp/verdicts"
}

# --- defaults: 20000 frames ---
"$G" -o "$tmp/d.pcap" --count 20000 --seed 7 --manifest "$tmp/d.json" \
	2>"$tmp/d.err"
check "defaults: exit 0" $?
check "summary line on stderr" \
	$(grep -q "d.pcap: 20000 frames, [0-9]* bytes, 4 topics, [0-9]* consumers used, 0 malformed" \
		"$tmp/d.err"; echo $?)
read_pcap "$tmp/d.s" "$tmp/d.pcap"
judge "$tmp/d.s" "$tmp/d.json" <<'PY'
pcap header: classic, Ethernet :: s["magic_ok"] and s["linktype"] == 1 and s["snaplen"] >= 9000
frame count :: s["count"] == 20000
timestamps 1 us apart, whole frames captured :: s["ts_bad"] == 0 and s["caplen_bad"] == 0
every frame parses with valid checksums :: s["failed"] == 0
sizes in 64..512 and spread over it :: s["size_min"] >= 64 and s["size_max"] <= 512 and s["size_min"] < 70 and s["size_max"] > 505
four topics, ports 9000..9003, about equal :: sorted(s["ports"]) == ["9000", "9001", "9002", "9003"] and all(near(v / 20000, 0.25, 0.02) for v in s["ports"].values())
at most 1000 sources, all 10.1.x.y :: 900 < s["distinct"] <= 1000 and all(a.startswith("10.1.") for a in s["srcs"])
Zipf: the top consumer sends far more than the median :: s["top"] > 50 * s["median"] and 0.10 < s["top"] / 20000 < 0.17
the heaviest consumer is rank 0, 10.1.0.1 :: max(s["srcs"], key=s["srcs"].get) == "10.1.0.1" == s["rank_src"]["0"]
payload: frame number, rank and topic :: s["tag_bad"] == 0
IPv4 UDP to 10.0.0.1, untagged :: s["v4"] == 20000 and s["tcp"] == 0 and s["tags"] == [20000, 0, 0] and s["dsts"] == ["10.0.0.1"]
3 DSCP classes, CS0 > CS1 > CS2 :: sorted(s["dscp"]) == ["0", "16", "8"] and s["dscp"]["0"] > s["dscp"]["8"] > s["dscp"]["16"] > 0
manifest: totals :: m["frames"] == 20000 and m["malformed"] == 0 and m["bytes"] == sum(int(k) * v for k, v in s["sizes"].items())
manifest: per-topic counts match the pcap :: len(m["topics"]) == 4 and all(s["ports"].get(str(t["dst_port"]), 0) == t["frames"] for t in m["topics"])
manifest: per-rank counts match the pcap :: all(s["srcs"][a] == f for r, a, f, b in m["consumers"]["by_rank"]) and m["consumers"]["used"] == s["distinct"] == len(m["consumers"]["by_rank"])
manifest: by rank, rank 0 first and heaviest :: m["consumers"]["by_rank"][0][:3] == [0, "10.1.0.1", s["top"]] and [e[0] for e in m["consumers"]["by_rank"]] == sorted(e[0] for e in m["consumers"]["by_rank"])
manifest: DSCP counts :: m["well_formed"]["dscp"] == s["dscp"]
PY

# --- determinism ---
"$G" -o "$tmp/d2.pcap" --count 20000 --seed 7 2>/dev/null
check "same seed: byte-identical" $(cmp -s "$tmp/d.pcap" "$tmp/d2.pcap"; echo $?)
"$G" -o "$tmp/d3.pcap" --count 20000 --seed 8 2>/dev/null
check "another seed: different bytes" \
	$(! cmp -s "$tmp/d.pcap" "$tmp/d3.pcap"; echo $?)

# --- topics and consumers ---
"$G" -o "$tmp/w.pcap" --count 20000 --topic-weights 5,3,1,1 \
	--base-port 7000 --dst 192.0.2.9 2>/dev/null
"$G" -o "$tmp/w0.pcap" --count 2000 --topic-weights 0,1 2>/dev/null
"$G" -o "$tmp/u.pcap" --count 20000 --consumers 50 --zipf 0 \
	--src-base 172.16.0.250 2>/dev/null
read_pcap "$tmp/w.s" --base-port 7000 "$tmp/w.pcap"
read_pcap "$tmp/wu.s" "$tmp/w0.pcap" "$tmp/u.pcap"
judge "$tmp/w.s" <<'PY'
topic weights 5,3,1,1 on ports 7000.. :: all(near(s["ports"][str(7000 + i)] / 20000, w / 10, 0.02) for i, w in enumerate([5, 3, 1, 1]))
--dst 192.0.2.9 :: s["dsts"] == ["192.0.2.9"] and s["failed"] == 0 and s["tag_bad"] == 0
PY
judge "$tmp/wu.s" <<'PY'
a zero weight never picks its topic :: s["w0.pcap"]["ports"] == {"9001": 2000}
--zipf 0: 50 consumers, about equal :: s["u.pcap"]["distinct"] == 50 and s["u.pcap"]["top"] < 1.5 * s["u.pcap"]["min_src"]
--src-base: addresses count up across octets :: sorted(s["u.pcap"]["srcs"], key=lambda a: tuple(map(int, a.split("."))))[0] == "172.16.0.250" and "172.16.1.43" in s["u.pcap"]["srcs"] and "172.16.1.44" not in s["u.pcap"]["srcs"]
PY

# --- tags, priorities, sizes ---
"$G" -o "$tmp/v.pcap" --count 20000 --vlan-share 0.3 --qinq-share 0.2 \
	--priorities 4 --topics 6 2>/dev/null
"$G" -o "$tmp/p.pcap" --count 10000 --dscp-weights 0,1,0,3 2>/dev/null
"$G" -o "$tmp/z.pcap" --count 9000 --sizes 64,128,1500 --tcp-share 0.5 \
	2>/dev/null
"$G" -o "$tmp/z2.pcap" --count 1000 --sizes 60 --ipv6-share 1 \
	--ipv6-ext-share 1 --qinq-share 1 --tcp-share 1 2>/dev/null
"$G" -o "$tmp/z3.pcap" --count 1000 --sizes 9000 2>/dev/null
read_pcap "$tmp/v.s" "$tmp/v.pcap" "$tmp/p.pcap" "$tmp/z.pcap" \
	"$tmp/z2.pcap" "$tmp/z3.pcap"
judge "$tmp/v.s" <<'PY'
VLAN 0.3 and QinQ 0.2 shares :: near(s["v.pcap"]["tags"][1] / 20000, 0.3, 0.03) and near(s["v.pcap"]["tags"][2] / 20000, 0.2, 0.03)
VLAN id 100 + topic on every tag, PCP = class :: s["v.pcap"]["vid_bad"] == 0 and s["v.pcap"]["failed"] == 0 and len(s["v.pcap"]["ports"]) == 6
4 classes, each about half the one before :: len(s["v.pcap"]["dscp"]) == 4 and all(0.4 < s["v.pcap"]["dscp"][str(8 * c + 8)] / s["v.pcap"]["dscp"][str(8 * c)] < 0.6 for c in range(3))
--dscp-weights 0,1,0,3 :: sorted(s["p.pcap"]["dscp"]) == ["24", "8"] and near(s["p.pcap"]["dscp"]["24"] / 10000, 0.75, 0.03)
--sizes list: only those sizes, about a third each :: sorted(map(int, s["z.pcap"]["sizes"])) == [64, 128, 1500] and all(near(v / 9000, 1 / 3, 0.03) for v in s["z.pcap"]["sizes"].values())
TCP share 0.5, checksums valid :: near(s["z.pcap"]["tcp"] / 9000, 0.5, 0.03) and s["z.pcap"]["failed"] == 0
a frame grows to hold its headers :: s["z2.pcap"]["failed"] == 0 and s["z2.pcap"]["size_min"] > 60 and s["z2.pcap"]["size_max"] <= 14 + 8 + 40 + 48 + 20 + 7
jumbo frames of 9000 bytes :: s["z3.pcap"]["sizes"] == {"9000": 1000} and s["z3.pcap"]["failed"] == 0
PY

# --- IPv6, options, extension headers, TCP ---
"$G" -o "$tmp/6.pcap" --count 20000 --consumers 100 --ipv6-share 0.5 \
	--tcp-share 0.3 --ipv6-ext-share 0.5 --ipv4-options-share 0.5 \
	--vlan-share 0.2 --qinq-share 0.2 --manifest "$tmp/6.json" 2>/dev/null
read_pcap "$tmp/6.s" "$tmp/6.pcap"
judge "$tmp/6.s" "$tmp/6.json" <<'PY'
IPv4 and IPv6 mixed: every frame parses, checksums valid :: s["failed"] == 0 and s["v6"] > 0 and s["v4"] > 0
half the consumers IPv6, in 2001:db8::/32 :: sum(":" in a for a in s["srcs"]) == 50 == sum(":" not in a for a in s["srcs"]) and all(a.startswith("2001:db8:") for a in s["srcs"] if ":" in a)
IPv6 frames to 2001:db8::1 :: sorted(s["dsts"]) == ["10.0.0.1", "2001:db8::1"]
one address per rank, each family counting up :: s["tag_bad"] == 0 and s["rank_src"]["0"] == "10.1.0.1" and s["rank_src"]["1"] == "2001:db8:1::1" and s["rank_src"]["2"] == "10.1.0.2" and s["rank_src"]["3"] == "2001:db8:1::2"
IPv4 options on about half the IPv4 frames :: near(s["opts"] / s["v4"], 0.5, 0.04)
extension headers on about half the IPv6 frames, first fragments too :: near(s["ext"] / s["v6"], 0.5, 0.04) and s["frag"] > 0
TCP share 0.3 over both families :: near(s["tcp"] / 20000, 0.3, 0.03)
manifest counts families, tags and extensions :: (lambda w: w["ipv6"] == s["v6"] and w["tcp"] == s["tcp"] and [w["untagged"], w["vlan"], w["qinq"]] == s["tags"] and w["ipv6_ext"] == s["ext"] and w["ipv4_options"] == s["opts"])(m["well_formed"])
PY

# --- malformed ---
"$G" -o "$tmp/m.pcap" --count 20000 --malformed 0.1 --ipv6-share 0.3 \
	--tcp-share 0.3 --vlan-share 0.2 --manifest "$tmp/m.json" 2>"$tmp/m.err"
read_pcap "$tmp/m.s" "$tmp/m.pcap"
judge "$tmp/m.s" "$tmp/m.json" <<'PY'
malformed share 0.1 :: near(s["failed"] / 20000, 0.1, 0.01)
exactly the malformed frames fail the parser :: m["malformed"] == s["failed"] and m["well_formed"]["frames"] == 20000 - s["failed"]
every kind drawn :: len(m["malformed_kinds"]) == 11 and all(v > 0 for v in m["malformed_kinds"].values())
PY
nm=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["failed"])' "$tmp/m.s")
check "summary counts the malformed" $(grep -q ", $nm malformed" "$tmp/m.err"; echo $?)
kinds="eth-trunc ipv4-trunc ihl-short ihl-long ipv4-len-long udp-len-short
udp-len-long tcp-doff-short vlan3 ipv6-ext-long ip-version"
files=""
for k in $kinds; do
	"$G" -o "$tmp/k-$k.pcap" --count 300 --only-malformed \
		--malformed-kinds $k --ipv6-share 0.5 --tcp-share 0.5 \
		--qinq-share 0.3 --ipv6-ext-share 0.5 --ipv4-options-share 0.5 \
		2>/dev/null
	files="$files $tmp/k-$k.pcap"
done
# shellcheck disable=SC2086
read_pcap "$tmp/k.s" $files
for k in $kinds; do
	echo "malformed kind $k: all 300 fail the parser :: s[\"k-$k.pcap\"][\"count\"] == 300 == s[\"k-$k.pcap\"][\"failed\"]"
done >"$tmp/k.checks"
judge "$tmp/k.s" <"$tmp/k.checks"
"$G" -o "$tmp/k2.pcap" --count 1000 --malformed 0.5 \
	--malformed-kinds eth-trunc,vlan3 --manifest "$tmp/k2.json" 2>/dev/null
judge "$tmp/k.s" "$tmp/k2.json" <<'PY'
--malformed-kinds picks only those :: (lambda k: sum(k.values()) == k["eth-trunc"] + k["vlan3"] and k["eth-trunc"] > 0 and k["vlan3"] > 0)(m["malformed_kinds"])
PY

# --- tcpdump, when installed ---
if command -v tcpdump >/dev/null 2>&1; then
	tcpdump -nn -vv -r "$tmp/6.pcap" >"$tmp/td" 2>/dev/null
	check "tcpdump reads every frame" \
		$([ "$(grep -c '^[0-9][0-9]:' "$tmp/td")" -eq 20000 ]; echo $?)
	check "tcpdump finds nothing wrong" \
		$(! grep -qE 'bad (udp |tcp )?cksum|incorrect|invalid|truncated|bad-h?len|bad length|\[\|' "$tmp/td"; echo $?)
else
	n=$((n + 1)); echo "ok $n - tcpdump reads the file # SKIP no tcpdump"
fi

# --- flags ---
for bad in "--count 0:--count" "--count x:--count" "--topics 0:--topics" \
	"--zipf -1:--zipf" "--zipf x:--zipf" "--sizes 10-100:--sizes" \
	"--sizes 100-64:--sizes" "--sizes 64-9001:--sizes" "--sizes 64,x:--sizes" \
	"--vlan-share 1.5:--vlan-share" "--vlan-share 0.6 --qinq-share 0.6:--qinq-share" \
	"--ipv6-share nan:--ipv6-share" "--malformed 2:--malformed" \
	"--malformed 0.1 --malformed-kinds bogus:--malformed-kinds" \
	"--malformed-kinds vlan3:--malformed-kinds" \
	"--topic-weights 1,x:--topic-weights" "--topic-weights 0,0:--topic-weights" \
	"--topics 3 --topic-weights 1,2:--topic-weights" \
	"--priorities 9:--priorities" "--dscp-weights 1,2 --priorities 3:--dscp-weights" \
	"--consumers 0:--consumers" "--src-base 10.1.0:--src-base" \
	"--src-base 255.255.255.0:--src-base" "--dst6 10.0.0.1:--dst6" \
	"--dst-mac 02:00:00:00:00:zz:--dst-mac" "--base-port 65535:--topics" \
	"--tcp-share -0.1:--tcp-share" "--seed -1:--seed" "--flows 0:--flows" \
	"--bogus:bogus" "extra:extra"; do
	args=${bad%:*}
	flag=${bad##*:}
	# shellcheck disable=SC2086
	"$G" -o "$tmp/x.pcap" $args >/dev/null 2>"$tmp/x.err"
	rc=$?
	check "bad flags '$args': exit 2, naming $flag" \
		$([ $rc -eq 2 ] && grep -q -- "$flag" "$tmp/x.err"; echo $?)
done
"$G" --count 10 >/dev/null 2>"$tmp/x.err"
check "no -o: exit 2, naming it" $([ $? -eq 2 ] && grep -q -- "-o" "$tmp/x.err"; echo $?)
"$G" -o "$tmp/no/such/dir/x.pcap" --count 10 >/dev/null 2>&1
check "unwritable output: exit 1" $([ $? -eq 1 ]; echo $?)
"$G" -o "$tmp/x.pcap" --count 10 --manifest "$tmp/no/such/m.json" \
	>/dev/null 2>&1
check "unwritable manifest: exit 1" $([ $? -eq 1 ]; echo $?)
"$G" --help >"$tmp/h" 2>&1
check "--help exits 0 and names every malformed kind" \
	$([ $? -eq 0 ] && grep -q "ipv6-ext-long" "$tmp/h" && grep -q -- "--manifest" "$tmp/h"; echo $?)

echo "1..$n"
[ $fails -eq 0 ]
