#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of the data plane: the real tidegate binary, a real EAL
on virtual devices (net_pcap replaying a pcap that tidegate-gen-pcap made,
net_null or a net_pcap tx_pcap file as egress, af_packet on a veth pair),
checked against the JSON summary, the generator's manifest and the egress
pcap read back here.

Usage: dptest.py SCENARIO TIDEGATE GEN_PCAP   (one meson test per scenario)
Prints TAP: one "ok"/"not ok" line per assertion, each with the measured
numbers and the margin, then the plan "1..N". Python 3 standard library
only.

Every scenario works in its own temporary directory (removed at the end,
also on failure; DPTEST_KEEP=1 keeps it), every tidegate run has its own
--file-prefix (its DPDK runtime directory is removed after the run) and is
killed when it overruns. The af_packet scenario creates a veth pair and
always deletes it.

Offered counts are exact: net_pcap with infinite_rx replays the pcap in
order from its first frame, so after rx = q * F + r frames (F frames in the
pcap) a source or topic has been offered q times its count in the pcap plus
its count in the pcap's first r frames.
"""
import collections
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- TAP ----

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, cond, desc):
        """One assertion: 'ok N - desc' or 'not ok N - desc'."""
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc),
              flush=True)
        return bool(cond)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def plan(self):
        print("1..%d" % self.n, flush=True)


def rel(a, b):
    """Relative error of a against b, in percent."""
    return 100.0 * (a - b) / b if b else float("inf")


# --------------------------------------------------------------- pcap ----

def pcap_records(path):
    """Yield (timestamp_s, frame bytes) of a classic pcap (either byte
    order, micro- or nanosecond timestamps), Ethernet link type."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: not a pcap (%d bytes)" % (path, len(data)))
    magic = struct.unpack_from("<I", data)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    else:
        end = ">"
        magic = struct.unpack_from(">I", data)[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            raise ValueError("%s: bad pcap magic" % path)
    frac = 1e-9 if magic == 0xA1B23C4D else 1e-6
    linktype = struct.unpack_from(end + "I", data, 20)[0] & 0x0FFFFFFF
    if linktype != 1:
        raise ValueError("%s: link type %d, not Ethernet" % (path, linktype))
    rec = struct.Struct(end + "IIII")
    off, n = 24, len(data)
    while off + 16 <= n:
        sec, sub, caplen, _ = rec.unpack_from(data, off)
        off += 16
        if off + caplen > n:
            raise ValueError("%s: truncated record" % path)
        yield sec + sub * frac, data[off:off + caplen]
        off += caplen


def pcap_write(path, frames):
    """Write frames (bytes) as a classic microsecond pcap, 1 us apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1704067200 + i // 1000000,
                                i % 1000000, len(fr), len(fr)))
            f.write(fr)


def csum_ok(hdr):
    """True when an IPv4 header's checksum is valid."""
    if len(hdr) % 2:
        hdr += b"\0"
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


Frame = collections.namedtuple(
    "Frame", "src dport dscp ver csum tags l3opt seq")

TPIDS = (0x8100, 0x88A8, 0x9100)
V6EXT = (0, 43, 60)


def decode(b):
    """What the tests need of a frame: source address (bytes, 4 or 16),
    destination port, DSCP, IP version, IPv4 header checksum valid (None
    for IPv6), VLAN tag count, IPv4 options / IPv6 extension headers
    present, and the generator's frame number from the payload. None when
    the frame is not a readable IPv4/IPv6 UDP/TCP frame."""
    n = len(b)
    if n < 14:
        return None
    et = b[12] << 8 | b[13]
    off, tags = 14, 0
    while et in TPIDS and off + 4 <= n and tags < 3:
        et = b[off + 2] << 8 | b[off + 3]
        off += 4
        tags += 1
    if et == 0x0800:
        if off + 20 > n or b[off] >> 4 != 4:
            return None
        ihl = (b[off] & 15) * 4
        if ihl < 20 or off + ihl > n:
            return None
        ver, dscp, proto = 4, b[off + 1] >> 2, b[off + 9]
        src = bytes(b[off + 12:off + 16])
        csum = csum_ok(b[off:off + ihl])
        l3opt = ihl > 20
        l4 = off + ihl
    elif et == 0x86DD:
        if off + 40 > n or b[off] >> 4 != 6:
            return None
        ver, csum = 6, None
        dscp = (b[off] & 15) << 2 | b[off + 1] >> 6
        src = bytes(b[off + 8:off + 24])
        proto, l4, l3opt = b[off + 6], off + 40, False
        for _ in range(8):
            if proto in V6EXT and l4 + 8 <= n:
                proto, l4, l3opt = b[l4], l4 + (b[l4 + 1] + 1) * 8, True
            elif proto == 44 and l4 + 8 <= n:
                proto, l4, l3opt = b[l4], l4 + 8, True
            else:
                break
    else:
        return None
    if proto == 17:
        hl = 8
    elif proto == 6:
        hl = (b[l4 + 12] >> 4) * 4 if l4 + 13 <= n else 20
    else:
        return None
    if l4 + 4 > n:
        return None
    dport = b[l4 + 2] << 8 | b[l4 + 3]
    p = l4 + hl
    seq = int.from_bytes(b[p:p + 8], "big") if p + 8 <= n else None
    return Frame(src, dport, dscp, ver, csum, tags, l3opt, seq)


def addr_str(a):
    if len(a) == 4:
        return socket.inet_ntop(socket.AF_INET, a)
    return socket.inet_ntop(socket.AF_INET6, a)


# ---------------------------------------------------------- a scenario ----

SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")


def runtime_dirs(prefix):
    """Where DPDK keeps the runtime files of a --file-prefix."""
    dirs = ["/var/run/dpdk/" + prefix, "/tmp/dpdk/" + prefix]
    if os.environ.get("XDG_RUNTIME_DIR"):
        dirs.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk",
                                 prefix))
    return dirs


class Ctx:
    """A scenario's temp dir, binaries, generated pcaps and runs."""

    def __init__(self, name, tidegate, gen, tap):
        self.name = name
        self.tidegate = tidegate
        self.gen_exe = gen
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="tg-dptest-%s-" % name)
        self.runs = 0
        self.logs = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def cleanup(self):
        if self.tap.failed:
            for label, log in self.logs:
                if os.path.exists(log):
                    with open(log, errors="replace") as f:
                        self.tap.diag("%s: tidegate's output ends:\n%s" % (
                            label, "".join(f.readlines()[-12:])))
        if os.environ.get("DPTEST_KEEP"):
            self.tap.diag("kept " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- pcaps --

    def gen(self, name, *args):
        """tidegate-gen-pcap -o NAME.pcap --manifest NAME.json ARGS:
        returns (pcap path, manifest, decoded frames of the pcap)."""
        pcap, man = self.path(name + ".pcap"), self.path(name + ".json")
        cmd = [self.gen_exe, "-o", pcap, "--manifest", man] + \
            [str(a) for a in args]
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (
                " ".join(cmd), r.returncode,
                r.stdout.decode(errors="replace")))
        with open(man) as f:
            manifest = json.load(f)
        return pcap, manifest, [decode(b) for _, b in pcap_records(pcap)]

    # -- runs --

    def config(self, vdevs, ports, pipelines, extra=""):
        """A tidegate config: one worker, the vdevs, ports (name, device),
        pipelines (libconfig text), extra top-level settings."""
        self.runs += 1
        self.prefix = "tg-dptest-%s-%d-%d" % (self.name, os.getpid(),
                                              self.runs)
        eal = ["-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
               "--no-telemetry", "--file-prefix", self.prefix,
               "--log-level", "lib.*:notice"]
        for v in vdevs:
            eal += ["--vdev", v]
        return (
            "eal = [ %s ];\n"
            "workers = 1;\n"
            "# net_pcap with infinite_rx holds the whole pcap in mbufs\n"
            "mbufs = 65535;\n"
            "stats_interval = 1.0;\n"
            "%s\n"
            "ports = ( %s );\n"
            "pipelines = ( %s );\n"
            "# A replay keeps the worker 100%% busy, which by design raises\n"
            "# Warning (rates x 0.8): these tests measure the configured\n"
            "# limits, so the CPU trigger is off (busy never exceeds 1).\n"
            "policy = { cpu_warning = 1.0; };\n"
            "admin = { socket = %s; };\n" % (
                ", ".join(json.dumps(a) for a in eal), extra,
                ", ".join('{ name = "%s"; device = "%s"; }' % p
                          for p in ports),
                ",\n".join(pipelines),
                json.dumps(self.path("admin-%d.sock" % self.runs))))

    def run(self, label, cfg_text, duration):
        """Run tidegate on cfg_text for `duration` seconds. Returns the
        summary (dict), or None after a failed assertion. Checks the exit
        status, that no sanitizer reported, and conservation (rx == sum
        of outcomes, in total and per worker)."""
        cfg = self.path("%s.cfg" % label)
        out = self.path("%s.summary.json" % label)
        log = self.path("%s.log" % label)
        self.logs.append((label, log))
        with open(cfg, "w") as f:
            f.write(cfg_text)
        cmd = [self.tidegate, "-c", cfg, "--duration", str(duration),
               "--summary-json", out]
        t0 = time.monotonic()
        rc = None
        try:
            with open(log, "wb") as lf:
                p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
                try:
                    rc = p.wait(timeout=duration + 30)
                except BaseException:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait()
                    raise
        except subprocess.TimeoutExpired:
            rc = "killed after %.0f s" % (time.monotonic() - t0)
        finally:
            for d in runtime_dirs(self.prefix):
                shutil.rmtree(d, ignore_errors=True)
        wall = time.monotonic() - t0
        with open(log, errors="replace") as f:
            text = f.read()
        # a sanitizer that does not halt still reports: count it
        san = [m for m in SANITIZER_REPORTS if m in text]
        ok = self.tap.check(rc == 0 and os.path.exists(out) and not san,
                            "%s: tidegate ran %.1f s and exited %s%s%s" % (
                                label, wall, rc,
                                "" if os.path.exists(out) else
                                ", no summary written",
                                ", sanitizer report: %s" % san if san
                                else ""))
        if not ok:
            self.tap.diag("".join(text.splitlines(True)[-40:]))
            self.logs.remove((label, log))  # shown
            return None
        with open(out) as f:
            s = json.load(f)
        osum = sum(s["outcomes"].values())
        wok = all(w["rx"] == sum(w["outcomes"].values())
                  for w in s["workers"])
        self.tap.check(s["rx"] == osum and wok and s["rx"] > 0,
                       "%s: conservation: rx %d == sum of outcomes %d "
                       "(per worker too: %s)" % (label, s["rx"], osum, wok))
        return s


def bucket(s, name):
    for b in s["buckets"]:
        if b["name"] == name:
            return b
    raise KeyError("no bucket %s in the summary" % name)


def replay_counts(frames, rx, key):
    """Exact counts, by key(frame), of what net_pcap offered in rx frames
    replayed in order from the pcap's first frame."""
    f = len(frames)
    q, r = divmod(rx, f)
    full = collections.Counter(key(x) for x in frames)
    part = collections.Counter(key(x) for x in frames[:r])
    return collections.Counter({k: v * q + part[k] for k, v in full.items()})


def pcap_vdevs(rx_pcap, tx_pcap=None):
    v = ["net_pcap0,rx_pcap=%s,infinite_rx=1" % rx_pcap]
    if tx_pcap:
        v.append("net_pcap1,tx_pcap=%s" % tx_pcap)
        return v, [("in", "net_pcap0"), ("out", "net_pcap1")]
    v.append("net_null0,no-rx=1")
    return v, [("in", "net_pcap0"), ("out", "net_null0")]


def pipeline(body, name="p"):
    return ('{ name = "%s"; ingress = "in"; '
            'egress = { type = "port"; port = "out"; };\n  %s }' %
            (name, body))


def topic(name, port, rate, burst, extra=""):
    return ('{ name = "%s"; rate = %r; burst = %d; %s '
            'match = ( { dst_port = %d; } ); }' %
            (name, float(rate), burst, extra, port))


def limit(rate, t, burst):
    """What a saturated bucket admits in t seconds."""
    return rate * t + burst


# ---------------------------------------------------------- scenarios ----

@scenario
def global_accuracy(ctx):
    """A saturated global bucket admits rate x T + burst within 0.5%."""
    tap = ctx.tap
    pcap, _, _ = ctx.gen("g", "--count", 16384, "--topics", 1,
                         "--consumers", 100)
    rate = 1000000.0
    # The burst is 1 s of the rate, not a small one: on a 2-vCPU machine
    # the worker can be preempted for tens of ms, and a bucket that is full
    # while no offered load reaches it loses the tokens it would have
    # earned (legitimate token-bucket behaviour). A bucket is full only at
    # the start and while it cannot drain, so a large burst keeps such
    # stalls from capping it except in the first instants.
    burst = 1000000
    vd, ports = pcap_vdevs(pcap)
    cfg = ctx.config(vd, ports, [pipeline(
        "global = { rate = %r; burst = %d; };" % (rate, burst))])
    s = ctx.run("global", cfg, 3)
    if not s:
        return
    t = s["traffic_s"]
    adm = s["outcomes"]["admitted"]
    exp = limit(rate, t, burst)
    tap.check(s["rx"] / t > 1.5 * rate,
              "offered %.0f/s is well above the rate %.0f/s (saturated)" %
              (s["rx"] / t, rate))
    tap.check(abs(rel(adm, exp)) <= 0.5,
              "admitted %d vs rate x T + burst = %.0f x %.6f + %d = %.0f: "
              "%+.4f%% (limit 0.5%%)" % (adm, rate, t, burst, exp,
                                         rel(adm, exp)))
    g = bucket(s, "p/global")
    tap.check(g["admitted"] == adm and g["demand"] == s["rx"] and
              g["admitted"] + g["rejected"] == g["demand"] and
              s["outcomes"]["dropped_limit"] == g["rejected"],
              "global bucket: demand %d == rx, admitted %d == outcomes, "
              "rejected %d == dropped_limit %d" % (
                  g["demand"], g["admitted"], g["rejected"],
                  s["outcomes"]["dropped_limit"]))


@scenario
def consumer_tier(ctx):
    """Heavy senders are each held to their rate; light ones pass."""
    tap = ctx.tap
    # Zipf 2 over 2000 sources: a handful of senders carry most of the
    # traffic, hundreds send once or twice per pcap.
    pcap, man, frames = ctx.gen("c", "--count", 32768, "--topics", 1,
                                "--consumers", 2000, "--zipf", 2,
                                "--sizes", "60-80")
    srcs = {r[1]: r[2] for r in man["consumers"]["by_rank"]}
    mine = collections.Counter(addr_str(f.src) for f in frames)
    tap.check(mine == collections.Counter(srcs),
              "pcap reader: per-source counts of %d frames equal the "
              "manifest's (%d sources)" % (len(frames), len(srcs)))
    rate, burst = 1000.0, 500  # burst 0.5 s of the rate (see global)
    out = ctx.path("c.out.pcap")
    vd, ports = pcap_vdevs(pcap, out)
    cfg = ctx.config(vd, ports, [pipeline(
        "consumers = { rate = %r; burst = %d; max = 65536; "
        "idle_timeout = 60.0; };" % (rate, burst))])
    s = ctx.run("consumers", cfg, 3)
    if not s:
        return
    t = s["traffic_s"]
    exp = limit(rate, t, burst)
    offered = replay_counts(frames, s["rx"], lambda f: f.src)
    got = collections.Counter(decode(b).src for _, b in pcap_records(out))
    tap.check(sum(got.values()) == s["outcomes"]["admitted"],
              "egress pcap holds %d frames == outcomes.admitted %d" % (
                  sum(got.values()), s["outcomes"]["admitted"]))
    # Heavy: at least 10 times the limit, so that a bucket, full when its
    # sender is first seen, drains at once: a preemption of the worker
    # while a bucket is still full costs tokens (no load reaches it).
    # Light: at most a third of it, spread over the whole run.
    heavy = [a for a, o in offered.items() if o >= 10 * exp]
    light = [a for a, o in offered.items() if o <= exp / 3]
    tap.check(len(heavy) >= 3 and len(light) >= 50,
              "traffic as planned: %d heavy senders (offered >= 10 x %.0f), "
              "%d light ones (<= 1/3 of it), of %d" % (
                  len(heavy), exp, len(light), len(offered)))
    worst = max((abs(rel(got[a], exp)), a) for a in heavy) if heavy \
        else (float("inf"), None)
    tap.check(worst[0] <= 1.0,
              "each of %d heavy senders admitted rate x T + burst = %.0f "
              "within 1%%: worst %s %d (%+.3f%%), offered %s" % (
                  len(heavy), exp, worst[1] and addr_str(worst[1]),
                  got.get(worst[1], 0), rel(got.get(worst[1], 0), exp),
                  sorted((offered[a] for a in heavy), reverse=True)[:5]))
    for a in sorted(heavy, key=lambda a: -offered[a])[:5]:
        tap.diag("heavy %s: offered %d, admitted %d (%+.3f%%)" % (
            addr_str(a), offered[a], got[a], rel(got[a], exp)))
    lost = [(addr_str(a), offered[a], got[a]) for a in light
            if got[a] != offered[a]]
    tap.check(not lost and light,
              "every message of the %d light senders passed (%d messages);"
              " short: %s" % (len(light), sum(offered[a] for a in light),
                              lost[:5]))
    over = [(addr_str(a), got[a]) for a in offered
            if got[a] > min(offered[a], exp * 1.01)]
    tap.check(not over,
              "no sender got more than min(offered, 1.01 x %.0f): %s" % (
                  exp, over[:5]))
    c = bucket(s, "p/consumers")
    tap.check(c["admitted"] == s["outcomes"]["admitted"] and
              c["rejected"] == s["outcomes"]["dropped_limit"] and
              s["consumers"]["live"] == len(offered),
              "consumer tier: admitted %d, rejected %d match the outcomes; "
              "%d live consumers == %d sources" % (
                  c["admitted"], c["rejected"], s["consumers"]["live"],
                  len(offered)))


@scenario
def tiers_no_token(ctx):
    """A message one tier rejects takes no token from the others."""
    tap = ctx.tap
    # (1) global over topics: topic A, 3/4 of the traffic, far over its
    # limit; topic B alone saturates the global bucket. Had A's
    # rejections taken global tokens, far fewer than G x T + burst would
    # pass in all.
    pcap, _, frames = ctx.gen("t1", "--count", 32768,
                              "--topic-weights", "3,1", "--consumers", 100)
    g_rate, g_burst = 150000.0, 150000
    a_rate, a_burst = 20000.0, 20000
    vd, ports = pcap_vdevs(pcap)
    cfg = ctx.config(vd, ports, [pipeline(
        "global = { rate = %r; burst = %d; };\n  topics = ( %s, %s );" % (
            g_rate, g_burst,
            topic("A", 9000, a_rate, a_burst),
            topic("B", 9001, 1e8, 100000000)))])
    s = ctx.run("global-topic", cfg, 2)
    if s:
        t = s["traffic_s"]
        off = replay_counts(frames, s["rx"], lambda f: f.dport)
        a, b = bucket(s, "A"), bucket(s, "B")
        adm = s["outcomes"]["admitted"]
        exp = limit(g_rate, t, g_burst)
        exp_a = limit(a_rate, t, a_burst)
        tap.check(off[9001] > 1.2 * exp and a["rejected"] > 0.5 * exp and
                  a["demand"] == off[9000] and b["demand"] == off[9001],
                  "traffic as planned: B alone offers %d > 1.2 x G x T; "
                  "A's rejections %d > half of G x T (%.0f); demands "
                  "match the pcap" % (off[9001], a["rejected"], exp))
        tap.check(abs(rel(adm, exp)) <= 0.5,
                  "admitted over both topics %d vs G x T + burst %.0f: "
                  "%+.4f%% (limit 0.5%%; had A's %d rejections taken "
                  "global tokens, far fewer)" % (adm, exp, rel(adm, exp),
                                                a["rejected"]))
        tap.check(abs(rel(a["admitted"], exp_a)) <= 0.5,
                  "topic A admitted %d vs rate x T + burst %.0f: %+.4f%%" % (
                      a["admitted"], exp_a, rel(a["admitted"], exp_a)))
        tap.check(a["admitted"] + b["admitted"] == adm ==
                  bucket(s, "p/global")["admitted"],
                  "A %d + B %d == admitted %d == global bucket's admitted" % (
                      a["admitted"], b["admitted"], adm))

    # (2) topic over consumers: one source (10.1.0.1, rank 0, ~38% of the
    # traffic) held by a consumer override to 1000/s; the others, never
    # limited by the consumer tier, saturate the topic. Had the consumer
    # tier's rejections taken topic tokens, the topic would admit less.
    pcap, _, frames = ctx.gen("t2", "--count", 32768, "--topics", 1,
                              "--consumers", 1000, "--zipf", 1.5)
    t_rate, t_burst = 150000.0, 150000
    o_rate, o_burst = 1000.0, 500  # tiny on purpose: far below its load
    vd, ports = pcap_vdevs(pcap)
    cfg = ctx.config(vd, ports, [pipeline(
        "topics = ( %s );\n  consumers = { rate = 1e7; burst = 10000000; "
        "overrides = ( { match = \"10.1.0.1\"; rate = %r; burst = %d; } );"
        " };" % (topic("T", 9000, t_rate, t_burst), o_rate, o_burst))])
    s = ctx.run("topic-consumer", cfg, 2)
    if s:
        t = s["traffic_s"]
        heavy = socket.inet_aton("10.1.0.1")
        off = replay_counts(frames, s["rx"], lambda f: f.src == heavy)
        tb, cb = bucket(s, "T"), bucket(s, "p/consumers")
        adm = s["outcomes"]["admitted"]
        exp = limit(t_rate, t, t_burst)
        tap.check(off[False] > 1.2 * exp and cb["rejected"] > 0.5 * exp,
                  "traffic as planned: the others offer %d > 1.2 x topic "
                  "x T; the consumer tier rejected %d > half of it (%.0f)" %
                  (off[False], cb["rejected"], exp))
        tap.check(abs(rel(adm, exp)) <= 0.5 and tb["admitted"] == adm,
                  "topic admitted %d (outcomes %d) vs rate x T + burst "
                  "%.0f: %+.4f%% (limit 0.5%%; had the %d consumer-tier "
                  "rejections taken topic tokens, far fewer)" % (
                      tb["admitted"], adm, exp, rel(adm, exp),
                      cb["rejected"]))
        tap.check(0 < cb["rejected"] <= off[True],
                  "only the held source met the consumer tier's limit: "
                  "%d rejections <= its %d messages" % (cb["rejected"],
                                                        off[True]))


@scenario
def shadow(ctx):
    """A shadow bucket admits everything and counts what it would have
    rejected."""
    tap = ctx.tap
    # S: 1/50 of the traffic, shadowed at a rate far below its load; D:
    # the rest, dropped down to almost nothing to keep the egress small.
    pcap, _, frames = ctx.gen("s", "--count", 32768,
                              "--topic-weights", "1,49", "--consumers",
                              100, "--sizes", "60-80")
    rate, burst = 5000.0, 2500  # burst 0.5 s of the rate (see global)
    out = ctx.path("s.out.pcap")
    vd, ports = pcap_vdevs(pcap, out)
    cfg = ctx.config(vd, ports, [pipeline("topics = ( %s, %s );" % (
        topic("S", 9000, rate, burst, "shadow = true;"),
        topic("D", 9001, 1000.0, 500)))])
    s = ctx.run("shadow", cfg, 2)
    if not s:
        return
    t = s["traffic_s"]
    off = replay_counts(frames, s["rx"], lambda f: f.dport)
    sb = bucket(s, "S")
    exp = limit(rate, t, burst)
    would = sb["demand"] - sb["shadow_rejected"]
    tap.check(sb["demand"] == off[9000] and sb["demand"] > 2 * exp,
              "S offered %d (== its demand %d), over twice rate x T + "
              "burst %.0f" % (off[9000], sb["demand"], exp))
    tap.check(sb["rejected"] == 0 and sb["shadow_rejected"] > 0,
              "S rejected %d (must be 0), shadow_rejected %d" % (
                  sb["rejected"], sb["shadow_rejected"]))
    tap.check(abs(rel(would, exp)) <= 0.5,
              "demand - shadow_rejected = %d - %d = %d vs rate x T + burst "
              "%.0f: %+.4f%% (limit 0.5%%)" % (
                  sb["demand"], sb["shadow_rejected"], would, exp,
                  rel(would, exp)))
    got = collections.Counter(decode(b).dport for _, b in pcap_records(out))
    tap.check(got[9000] == off[9000],
              "every S message reached the egress: %d of %d" % (
                  got[9000], off[9000]))
    d = bucket(s, "D")
    tap.check(s["outcomes"]["admitted"] == off[9000] + d["admitted"] and
              s["outcomes"]["dropped_limit"] == d["rejected"],
              "outcomes: admitted %d == S %d + D %d; dropped_limit %d == "
              "D's rejected %d" % (s["outcomes"]["admitted"], off[9000],
                                   d["admitted"],
                                   s["outcomes"]["dropped_limit"],
                                   d["rejected"]))


@scenario
def mark(ctx):
    """Mark rewrites DSCP (IPv4 checksum kept valid) and takes no token."""
    tap = ctx.tap
    # M: 1/50 of the traffic, marked above its rate; D: dropped down to
    # almost nothing. IPv4 and IPv6, options, VLAN and QinQ tags.
    pcap, _, frames = ctx.gen("m", "--count", 32768,
                              "--topic-weights", "1,49", "--consumers",
                              200, "--ipv6-share", 0.3,
                              "--ipv4-options-share", 0.3,
                              "--vlan-share", 0.2, "--qinq-share", 0.1,
                              "--sizes", "104-128")
    rate, burst, dscp = 5000.0, 2500, 46  # burst: 0.5 s (see global)
    out = ctx.path("m.out.pcap")
    vd, ports = pcap_vdevs(pcap, out)
    cfg = ctx.config(vd, ports, [pipeline("topics = ( %s, %s );" % (
        topic("M", 9000, rate, burst,
              'action = "mark"; mark_dscp = %d;' % dscp),
        topic("D", 9001, 1000.0, 500)))])
    s = ctx.run("mark", cfg, 2)
    if not s:
        return
    t = s["traffic_s"]
    off = replay_counts(frames, s["rx"], lambda f: f.dport)
    mb = bucket(s, "M")
    marked = s["outcomes"]["marked"]
    exp = limit(rate, t, burst)
    eg = [decode(b) for _, b in pcap_records(out)]
    em = [f for f in eg if f.dscp == dscp]
    tap.check(marked > 0 and len(em) == marked,
              "egress frames with DSCP %d: %d == outcomes.marked %d" % (
                  dscp, len(em), marked))
    tap.check(all(f.dport == 9000 for f in em),
              "only topic M frames were marked (%d of %d marked are M)" % (
                  sum(f.dport == 9000 for f in em), len(em)))
    v4 = [f for f in eg if f.ver == 4]
    bad = sum(1 for f in v4 if not f.csum)
    tap.check(bad == 0 and sum(1 for f in em if f.ver == 4) > 0,
              "every IPv4 header checksum valid: %d bad of %d (%d marked, "
              "%d of them with options)" % (
                  bad, len(v4), sum(1 for f in em if f.ver == 4),
                  sum(1 for f in em if f.ver == 4 and f.l3opt)))
    kinds = (sum(1 for f in em if f.ver == 6), sum(1 for f in em if f.tags))
    tap.check(kinds[0] > 0 and kinds[1] > 0,
              "marked frames include IPv6 (%d) and VLAN/QinQ-tagged (%d)"
              % kinds)
    # the payload carries the frame's number in the pcap: compare every
    # forwarded frame with the frame that was sent
    odd = [(f.seq, f.dscp) for f in eg
           if f.seq is None or f.seq >= len(frames) or
           f.dscp != (dscp if f.dscp == dscp else frames[f.seq].dscp)]
    tap.check(not odd and all(frames[f.seq].dscp != dscp for f in em),
              "unmarked frames kept their DSCP, marked ones had another: "
              "%d frames differ from what was sent %s" % (len(odd), odd[:5]))
    em_all = sum(1 for f in eg if f.dport == 9000)
    tap.check(em_all == off[9000] == mb["demand"],
              "every M message was forwarded: %d in the egress, %d "
              "offered, demand %d" % (em_all, off[9000], mb["demand"]))
    tap.check(abs(rel(mb["admitted"], exp)) <= 0.5 and
              mb["rejected"] == marked,
              "marked messages took no token: M admitted %d vs rate x T + "
              "burst %.0f (%+.4f%%, limit 0.5%%), rejected %d == marked" % (
                  mb["admitted"], exp, rel(mb["admitted"], exp),
                  mb["rejected"]))


def cluster_pcap(ctx, name, parts):
    """A pcap of runs: for each (port, n) of parts, n frames in a row to
    that port (from their own sources). On replay a run of a few hundred
    frames arrives at the full replay rate, and the next run of the same
    port one pcap later."""
    frames, raw = [], []
    for i, (port, n) in enumerate(parts):
        p, _, f = ctx.gen("%s-%d" % (name, i), "--count", n, "--topics", 1,
                          "--base-port", port, "--consumers", 50,
                          "--src-base", "10.%d.0.1" % (i + 1),
                          "--sizes", "60-80", "--seed", i + 2)
        frames += f
        raw += [b for _, b in pcap_records(p)]
    path = ctx.path(name + ".pcap")
    pcap_write(path, raw)
    return path, frames


@scenario
def shape(ctx):
    """Shape delays instead of dropping until its queue is full."""
    tap = ctx.tap
    # (1) a long max delay: S comes in runs of 500 at the full replay rate,
    # 1.5% of the traffic on average, below its rate: every run is shaped
    # and the queue drains before the next; nothing is dropped.
    k = 500
    pcap, frames = cluster_pcap(ctx, "sh", [(9000, k), (9001, 32768 - k)])
    rate, burst = 500000.0, 50
    out = ctx.path("sh.out.pcap")
    vd, ports = pcap_vdevs(pcap, out)
    cfg = ctx.config(vd, ports, [pipeline("topics = ( %s, %s );" % (
        topic("S", 9000, rate, burst,
              'action = "shape"; shape_max_delay = 1.0;'),
        topic("D", 9001, 1000.0, 500)))])
    s = ctx.run("shape-long", cfg, 2)
    if s:
        t = s["traffic_s"]
        o = s["outcomes"]
        sb = bucket(s, "S")
        off = replay_counts(frames, s["rx"], lambda f: f.dport)
        tap.check(s["rx"] / t > 3 * rate and off[9000] / t < rate,
                  "traffic as planned: replay %.0f/s > 3 x rate %.0f/s "
                  "(runs of %d arrive faster than the rate), S's mean "
                  "%.0f/s below it" % (s["rx"] / t, rate, k,
                                        off[9000] / t))
        tap.check(o["shaped"] > 0 and o["dropped_shape_full"] == 0 and
                  s["shape"]["discarded"] == 0,
                  "shaped %d > 0, dropped_shape_full %d == 0, discarded "
                  "at exit %d == 0" % (o["shaped"], o["dropped_shape_full"],
                                       s["shape"]["discarded"]))
        eg = [(ts, decode(b)) for ts, b in pcap_records(out)]
        es = [(ts, f.seq) for ts, f in eg if f.dport == 9000]
        tap.check(len(es) == off[9000] == sb["demand"],
                  "every S message delivered: %d in the egress, %d "
                  "offered, demand %d" % (len(es), off[9000], sb["demand"]))
        tap.check(sb["admitted_tokens"] == sb["demand_tokens"] and
                  sb["admitted"] + o["shaped"] == sb["demand"],
                  "S bucket: admitted %d + shaped %d == demand %d; tokens "
                  "%d == demand tokens %d" % (
                      sb["admitted"], o["shaped"], sb["demand"],
                      sb["admitted_tokens"], sb["demand_tokens"]))
        # A run of k messages leaves over at least (k - burst - what the
        # bucket earns while it arrives) / rate: shaping spreads it out.
        # (Preemption can only lengthen a span.)
        spans, first = [], None
        for ts, seq in es:
            if seq == 0:
                first = ts
            elif seq == k - 1 and first is not None:
                spans.append(ts - first)
                first = None
        spans.sort()
        arrive = k / (s["rx"] / t)
        need = (k - burst - rate * arrive) / rate
        med = spans[len(spans) // 2] if spans else 0.0
        tap.check(len(spans) >= 10 and med >= 0.9 * need,
                  "runs of %d S messages leave spread over median %.2f ms "
                  "(>= 0.9 x %.2f ms = (k - burst - rate x arrival %.3f ms)"
                  " / rate) over %d runs; unshaped they would take %.3f ms" %
                  (k, med * 1e3, need * 1e3, arrive * 1e3, len(spans),
                   arrive * 1e3))

    # (2) and (3): S is 1/4 of the traffic, far over its rate. With a tiny
    # max delay, or a tiny shape queue, what cannot wait is dropped; the
    # admitted and shaped tokens stay within rate x T + burst + queue.
    # (The bound holds whatever the load; it says something because S
    # offers many times its rate.)
    pcap, _, _ = ctx.gen("sh2", "--count", 32768,
                         "--topic-weights", "1,3", "--consumers", 100)
    rate = 20000.0
    for label, burst, delay, extra, queue, low in (
            # a max delay of 10 ms (the long one is 1 s): the shaper's
            # queue holds max(rate x delay, burst) = 200 tokens. The small
            # burst it needs makes the bucket lose what it would earn
            # while the worker is preempted for more than 10 ms, hence
            # the loose lower bound.
            ("shape-tiny-delay", 200, 0.01, "", 200, 0.5),
            # a queue of 8 messages; burst 0.5 s of the rate (see global)
            ("shape-tiny-queue", 10000, 1.0, "shape_queue = 8;", 8, 0.995)):
        vd, ports = pcap_vdevs(pcap)
        cfg = ctx.config(vd, ports, [pipeline("topics = ( %s, %s );" % (
            topic("S", 9000, rate, burst,
                  'action = "shape"; shape_max_delay = %r;' % delay),
            topic("D", 9001, 1e8, 100000000)))], extra)
        s = ctx.run(label, cfg, 2)
        if not s:
            continue
        t = s["traffic_s"]
        o = s["outcomes"]
        sb = bucket(s, "S")
        top = limit(rate, t, burst) + queue
        tap.check(o["dropped_shape_full"] > 0 and o["shaped"] > 0 and
                  sb["demand"] > 10 * limit(rate, t, burst),
                  "%s: dropped_shape_full %d > 0, shaped %d > 0; S offered "
                  "%d > 10 x rate x T + burst" % (
                      label, o["dropped_shape_full"], o["shaped"],
                      sb["demand"]))
        tap.check(sb["admitted_tokens"] <= top + 1,
                  "%s: S admitted+shaped tokens %d <= rate x T + burst + "
                  "queue = %.0f x %.6f + %d + %d = %.0f (margin %.0f)" % (
                      label, sb["admitted_tokens"], rate, t, burst, queue,
                      top, top - sb["admitted_tokens"]))
        tap.check(sb["admitted_tokens"] >= low * limit(rate, t, burst),
                  "%s: S used its rate: %d tokens >= %g x rate x T + burst "
                  "(%+.3f%% of it)" % (label, sb["admitted_tokens"], low,
                                    rel(sb["admitted_tokens"],
                                        limit(rate, t, burst))))
        tap.check(o["shaped"] + sb["admitted"] + o["dropped_shape_full"] ==
                  sb["demand"],
                  "%s: S admitted %d + shaped %d + dropped_shape_full %d == "
                  "demand %d" % (label, sb["admitted"], o["shaped"],
                                 o["dropped_shape_full"], sb["demand"]))


@scenario
def shape_bursty(ctx):
    """A shaped bucket passes its rate under bursty load too: what it
    admits and shapes adds up to rate x T + burst, as what a drop bucket
    admits does on the same traffic."""
    tap = ctx.tap
    # S (shape) and C (drop: the control) each get runs of 500 messages at
    # the full replay rate, one run per pcap replay, hundreds of times
    # their rate on average. A shape queue of 2 messages (1 ms at the
    # rate) cannot carry a backlog from one run to the next (a replay, a
    # few ms later), so every run of S starts a new deferral episode.
    k, rate, burst = 500, 2000.0, 1000  # burst 0.5 s of the rate
    pcap, frames = cluster_pcap(ctx, "sb", [(9000, k), (9002, k),
                                            (9001, 32768 - 2 * k)])
    vd, ports = pcap_vdevs(pcap)
    cfg = ctx.config(vd, ports, [pipeline("topics = ( %s, %s, %s );" % (
        topic("S", 9000, rate, burst,
              'action = "shape"; shape_max_delay = 1.0;'),
        topic("C", 9002, rate, burst),
        topic("D", 9001, 1e8, 100000000)))], "shape_queue = 2;")
    s = ctx.run("shape-bursty", cfg, 2)
    if not s:
        return
    t = s["traffic_s"]
    o = s["outcomes"]
    sb, cb = bucket(s, "S"), bucket(s, "C")
    # The buckets earn tokens until the end (T) but use them only until
    # their last run: the frames replayed after it (part of one replay, a
    # few ms) are taken off T at the mean replay rate, giving T'.
    n, rx = len(frames), s["rx"]
    runs, rem = divmod(rx, n)
    last = max(i for i, f in enumerate(frames) if f.dport in (9000, 9002))
    after = rem - last - 1 if rem > last else rem + n - last - 1
    window = t - after / (rx / t)
    exp = limit(rate, window, burst)
    tap.check(sb["demand"] > 5 * exp and cb["demand"] > 5 * exp and
              o["shaped"] > 0 and o["dropped_shape_full"] > 0,
              "traffic as planned: %d runs of %d; S offered %d, C %d, both "
              "> 5 x rate x T' + burst %.0f (T' = T %.6f s less %.2f ms "
              "after the last run); shaped %d, dropped_shape_full %d" % (
                  runs, k, sb["demand"], cb["demand"], exp, t,
                  (t - window) * 1e3, o["shaped"], o["dropped_shape_full"]))
    tap.check(abs(rel(cb["admitted_tokens"], exp)) <= 0.5,
              "control: drop bucket C admitted %d vs rate x T' + burst "
              "%.0f: %+.3f%% (limit 0.5%%)" % (
                  cb["admitted_tokens"], exp,
                  rel(cb["admitted_tokens"], exp)))
    # Fails today: shaper_defer() gives up the bucket's fraction of a
    # token at every new deferral episode, half a token a run on average.
    tap.check(abs(rel(sb["admitted_tokens"], exp)) <= 0.5,
              "shape bucket S admitted+shaped %d tokens vs rate x T' + "
              "burst %.0f: %+.3f%% (limit 0.5%%); short by %.2f token a "
              "run" % (sb["admitted_tokens"], exp,
                       rel(sb["admitted_tokens"], exp),
                       (exp - sb["admitted_tokens"]) / max(runs, 1)))


@scenario
def malformed(ctx):
    """Malformed frames are counted, never crash, and well-formed options
    and extension headers are not counted malformed."""
    tap = ctx.tap
    pcap, man, _ = ctx.gen("bad", "--count", 8192, "--only-malformed",
                           "--ipv6-share", 0.3, "--vlan-share", 0.2,
                           "--qinq-share", 0.1, "--tcp-share", 0.3)
    vd, ports = pcap_vdevs(pcap)
    g = "global = { rate = 1e8; burst = 100000000; };"
    s = ctx.run("only-malformed", ctx.config(vd, ports, [pipeline(g)]), 2)
    if s:
        kinds = {k: v for k, v in man["malformed_kinds"].items()}
        tap.check(man["malformed"] == 8192 and all(kinds.values()),
                  "the pcap holds every kind: %s" % kinds)
        tap.check(s["outcomes"]["dropped_malformed"] == s["rx"],
                  "all %d received counted dropped_malformed (%d)" % (
                      s["rx"], s["outcomes"]["dropped_malformed"]))

    pcap, man, _ = ctx.gen("mix", "--count", 32768, "--malformed", 0.2,
                           "--ipv4-options-share", 0.3, "--ipv6-share", 0.3,
                           "--ipv6-ext-share", 0.5, "--vlan-share", 0.2,
                           "--qinq-share", 0.1, "--tcp-share", 0.2,
                           "--topics", 4)
    vd, ports = pcap_vdevs(pcap)
    s = ctx.run("mixed", ctx.config(vd, ports, [pipeline(g)]), 2)
    if s:
        f, m = man["frames"], man["malformed"]
        wf = man["well_formed"]
        q = s["rx"] // f
        dm = s["outcomes"]["dropped_malformed"]
        tap.check(q >= 2 and wf["ipv4_options"] > 0 and wf["ipv6_ext"] > 0,
                  "%d replays of %d frames: %d malformed, %d well-formed "
                  "with IPv4 options, %d with IPv6 extension headers" % (
                      q, f, m, wf["ipv4_options"], wf["ipv6_ext"]))
        tap.check(m * q <= dm <= m * (q + 1),
                  "dropped_malformed %d within malformed x replays: [%d, %d]"
                  " (well-formed options/ext frames not counted: they "
                  "would add %d a replay)" % (
                      dm, m * q, m * (q + 1),
                      wf["ipv4_options"] + wf["ipv6_ext"]))
        ok = s["rx"] - dm
        tap.check((f - m) * q <= ok <= (f - m) * (q + 1) and
                  s["outcomes"]["dropped_unsupported"] == 0 and
                  s["outcomes"]["admitted"] == ok,
                  "every well-formed frame admitted: %d within [%d, %d]; "
                  "unsupported %d" % (
                      s["outcomes"]["admitted"], (f - m) * q,
                      (f - m) * (q + 1),
                      s["outcomes"]["dropped_unsupported"]))


# ---------------------------------------------------------- af_packet ----

def sh(*cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (
            " ".join(cmd), r.returncode, r.stdout.decode(errors="replace")))


def sh_quiet(*cmd):
    """Exit status of cmd, its output discarded; -1 if it cannot run."""
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode
    except OSError:
        return -1


def send_loop(iface, frames, stop):
    """Send frames round-robin on iface from an AF_PACKET socket as fast
    as this thread can until stop is set. Returns (frames sent, seconds,
    the longest time one round of the frames took)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        s.bind((iface, 0))
        send = s.send
        n, t0 = 0, time.monotonic()
        prev, gap = t0, 0.0
        while not stop.is_set():
            for fr in frames:
                try:
                    send(fr)
                except BlockingIOError:
                    pass
            n += len(frames)
            now = time.monotonic()
            gap = max(gap, now - prev)
            prev = now
        return n, prev - t0, gap
    finally:
        s.close()


class Sender:
    """A thread sending frames on iface (see send_loop) from CPU 0: the
    worker busy-polls lcore 1, and the main lcore (CPU 0) sleeps, so the
    two do not take turns on one CPU."""

    def __init__(self, iface, frames):
        self.stop = threading.Event()
        self.result, self.error = None, None
        self.th = threading.Thread(target=self._main, args=(iface, frames))

    def _main(self, iface, frames):
        try:
            try:
                os.sched_setaffinity(0, {0})  # this thread only
            except OSError:
                pass
            self.result = send_loop(iface, frames, self.stop)
        except Exception as e:  # reported by the caller
            self.error = e
            self.stop.set()

    def __enter__(self):
        self.th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.th.join()
        if self.error is not None and exc[0] is None:
            raise RuntimeError("the sender failed: %s" % self.error)


@scenario
def af_packet(ctx):
    """The same limits hold on af_packet with traffic from the kernel."""
    tap = ctx.tap
    if os.geteuid() != 0:
        tap.check(False, "af_packet needs root to create a veth pair "
                  "(CI runs as root): euid %d" % os.geteuid())
        return
    a, b = "tgv%da" % (os.getpid() % 10000000), \
        "tgv%db" % (os.getpid() % 10000000)
    sh_quiet("ip", "link", "del", a)
    try:
        try:
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            for i in (a, b):
                # no IPv6: no router/neighbour solicitations on the pair
                p = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % i
                if os.path.exists(p):
                    with open(p, "w") as f:
                        f.write("1")
                sh("ip", "link", "set", i, "up")
        except Exception as e:
            tap.check(False, "cannot create the veth pair %s/%s: %s" % (
                a, b, e))
            return
        tap.check(True, "veth pair %s/%s created" % (a, b))
        af_packet_runs(ctx, a, b)
    finally:
        # deleting one end deletes the pair
        sh_quiet("ip", "link", "del", a)
        gone = sh_quiet("ip", "link", "show", a) == 1 and \
            sh_quiet("ip", "link", "show", b) == 1
        tap.check(gone, "veth pair %s/%s deleted" % (a, b))


def egress_of(path, srcs):
    """Our frames in an egress pcap: (count by source, first and last
    timestamp), and how many other frames there were."""
    got, ts, other = collections.Counter(), [], 0
    for t, x in pcap_records(path):
        f = decode(x)
        if f is not None and f.src in srcs:
            got[f.src] += 1
            ts.append(t)
        else:
            other += 1
    return got, (min(ts), max(ts)) if ts else (0.0, 0.0), other


def af_packet_runs(ctx, a, b):
    tap = ctx.tap
    pcap, _, frames = ctx.gen("af", "--count", 1024, "--topics", 1,
                              "--consumers", 8, "--zipf", 0,
                              "--sizes", "60-80")
    raw = [x for _, x in pcap_records(pcap)]
    srcs = {f.src for f in frames}
    duration = 2.5

    # The sender runs before tidegate starts and until it has stopped, so
    # that the load is steady over the whole measurement: a sender (a
    # Python thread on a shared CPU) that starts slowly or stops before
    # tidegate leaves full buckets without load, which lose the tokens
    # they earn then (not a limit that fails to hold).
    #
    # DPDK's af_packet PMD opens its socket for every protocol and binds it
    # to the interface only after setting up its ring: frames of other
    # interfaces (eth0) that arrive in between are received too, when the
    # worker starts. So the limits are checked on our frames only, read
    # back from a tx_pcap egress, over the time from our first admitted
    # frame to our last (the egress stamps them with the workers' clock);
    # traffic_s would include the strays.
    vdev = "net_af_packet0,iface=%s,qpairs=1,framecnt=4096" % b

    def run(label, rate, burst, body):
        out = ctx.path(label + ".out.pcap")
        cfg = ctx.config([vdev, "net_pcap1,tx_pcap=%s" % out],
                         [("in", "net_af_packet0"), ("out", "net_pcap1")],
                         [pipeline(body)])
        with Sender(a, raw) as snd:
            time.sleep(0.5)  # sending at full speed before tidegate starts
            s = ctx.run(label, cfg, duration)
        if not s:
            return None, None, None
        sent, sent_s, gap = snd.result
        got, (t0, t1), other = egress_of(out, srcs)
        t = t1 - t0
        tap.check(s["rx"] / t > 2 * rate * (len(srcs) if "consumers" in body
                                           else 1) and
                  t > 0.8 * duration and set(got) == srcs,
                  "%s: sent %d in %.2f s (%.0f/s; one round of %d frames "
                  "took at most %.1f ms), tidegate received %d (%.0f/s), "
                  "well over the limit; our frames span %.3f s; %d stray "
                  "frames admitted, %d unsupported" % (
                      label, sent, sent_s, sent / sent_s, len(raw),
                      gap * 1e3, s["rx"], s["rx"] / t, t, other,
                      s["outcomes"]["dropped_unsupported"]))
        return s, got, t

    # (1) the global bucket
    rate, burst = 30000.0, 15000  # burst 0.5 s of the rate (see global)
    s, got, t = run("af-global", rate, burst,
                    "global = { rate = %r; burst = %d; };" % (rate, burst))
    if s:
        adm = sum(got.values())
        exp = limit(rate, t, burst)
        tap.check(abs(rel(adm, exp)) <= 1.0,
                  "af_packet: admitted %d vs rate x T + burst = %.0f x "
                  "%.4f + %d = %.0f: %+.3f%% (limit 1%%)" % (
                      adm, rate, t, burst, exp, rel(adm, exp)))

    # (2) the consumer tier: 8 senders, each far over its own rate
    rate, burst = 4000.0, 2000  # burst 0.5 s of the rate (see global)
    s, got, t = run("af-consumers", rate, burst,
                    "consumers = { rate = %r; burst = %d; };" % (
                        rate, burst))
    if s:
        exp = limit(rate, t, burst)
        worst = max((abs(rel(got[x], exp)), x) for x in srcs)
        tap.check(worst[0] <= 1.0,
                  "af_packet: each of %d senders admitted rate x T + burst "
                  "= %.0f within 1%%: %s (worst %+.3f%%)" % (
                      len(srcs), exp, sorted(got.values()),
                      rel(got[worst[1]], exp)))


# --------------------------------------------------------------- main ----

def on_sigterm(sig, frame):
    raise KeyboardInterrupt("SIGTERM")


def main(argv):
    if len(argv) != 4 or argv[1] not in SCENARIOS:
        sys.stderr.write("usage: dptest.py {%s} TIDEGATE GEN_PCAP\n" %
                         ",".join(SCENARIOS))
        return 2
    # meson stops a test that overruns with SIGTERM: unwind, so that
    # tidegate is killed and the temp dir and the veth pair are removed
    signal.signal(signal.SIGTERM, on_sigterm)
    name, tidegate, gen = argv[1], os.path.abspath(argv[2]), \
        os.path.abspath(argv[3])
    tap = Tap()
    ctx = Ctx(name, tidegate, gen, tap)
    t0 = time.monotonic()
    try:
        SCENARIOS[name](ctx)
    except KeyboardInterrupt as e:
        tap.check(False, "%s: interrupted (%s)" % (name, e or "SIGINT"))
    except Exception as e:  # a broken scenario is a failed test, never a pass
        import traceback
        tap.check(False, "%s: aborted: %s: %s" % (name, type(e).__name__, e))
        tap.diag(traceback.format_exc())
    finally:
        ctx.cleanup()
    tap.diag("%s: %.1f s" % (name, time.monotonic() - t0))
    if tap.n == 0:
        tap.check(False, "%s: no assertion ran" % name)
    tap.plan()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
