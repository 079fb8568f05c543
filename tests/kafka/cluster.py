#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tidegate nodes sharing buckets through a real Kafka broker.

Each scenario starts its own broker (tools/kafka/broker.sh, loopback, a
temporary directory), three tidegate processes (one worker each; the
ingress is DPDK's af_packet PMD on a veth pair of its own, the egress a
net_null sink) and one paced sender per node writing frames into the other
end of its veth pair, so each node's demand is a rate the test chooses. It
reads the nodes through their admin sockets and checks what users rely on:

  share     3 nodes, unequal demand: the aggregate admitted over 10 s is
            within 2% of the cluster rate and the split is max-min fair;
            the sync records decode with kcat
  move      demand moves from node A to node B: B has the freed share
            within 3 sync intervals
  kill      kill -9 of a node: the others take its share within a lease
            plus an interval
  outage    the broker stops: the nodes keep enforcing, then apply the
            outage policy; it comes back: in sync within 2 s, no crash
  ids       two nodes with one shared id split its rate; a third with
            another id has a rate of its own
  policies  the open and closed outage policies
  control   set-rate and severity force on node 1 reach nodes 2 and 3
            within 1 s, and the override survives a restart of all three
  lag       a real consumer group (tidegate-kafka-load consume) builds lag
            on a topic: the lag drives the severity machine

Usage: cluster.py SCENARIO TIDEGATE TIDEGATECTL KAFKA_LOAD GEN_PCAP
Prints TAP. Everything it starts (broker, tidegates, senders, veth pairs,
consumers) is stopped on every exit path, SIGTERM included.
Environment: KAFKA_TEST_KEEP=1 keeps the temporary directory.
"""
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktest import BROKER, Tap, on_signal  # noqa: E402

SCENARIOS = {}

# The defaults of the kafka section (config/README.md)
INTERVAL = 0.1
LEASE = 1.0
HEADROOM = 1.05


def scenario(f):
    SCENARIOS[f.__name__] = f
    return f


class Abort(Exception):
    pass


ALL_CPUS = os.sched_getaffinity(0)


def unpin():
    os.sched_setaffinity(0, ALL_CPUS)


def popen(cmd, **kw):
    return subprocess.Popen(cmd, preexec_fn=unpin, start_new_session=True,
                            **kw)


def kill_group(p, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def sh_quiet(*cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode
    except OSError:
        return -1


def sh(*cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Abort("%s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                         r.stdout.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


def pcap_frames(path):
    """The frames of a pcap file (libpcap format, any byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


# ------------------------------------------------------------ pieces ----

class Sender:
    """A thread writing frames into iface at `rate` frames a second (the
    rate may change while it runs), counting what it sent."""

    def __init__(self, iface, frames, rate):
        self.iface, self.frames, self.rate = iface, frames, float(rate)
        self.sent = 0
        self.stop_ev = threading.Event()
        self.error = None
        self.th = threading.Thread(target=self._main, daemon=True)
        self.th.start()

    def set_rate(self, rate):
        self.rate = float(rate)

    def _main(self):
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((self.iface, 0))
            k, t = 0, time.monotonic()
            owed = 0.0
            nf = len(self.frames)
            while not self.stop_ev.is_set():
                now = time.monotonic()
                owed += self.rate * (now - t)
                t = now
                if owed > self.rate * 0.05 + 1:  # no catch-up bursts
                    owed = self.rate * 0.05 + 1
                while owed >= 1:
                    try:
                        s.send(self.frames[k % nf])
                        self.sent += 1
                    except BlockingIOError:
                        pass
                    k += 1
                    owed -= 1
                time.sleep(0.002)
            s.close()
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.stop_ev.set()
        self.th.join(5)


class Node:
    """A tidegate process of the cluster."""

    def __init__(self, ctx, name, iface):
        self.ctx, self.name, self.iface = ctx, name, iface
        self.sock = ctx.path(name + ".sock")
        self.cfg = ctx.path(name + ".cfg")
        self.log = ctx.path(name + ".log")
        self.p = None
        self.lf = None
        self.runs = 0

    def config(self, buckets, kafka_extra="", policy=""):
        self.runs += 1
        prefix = "tg-kt-%s-%s-%d-%d" % (self.ctx.name, self.name,
                                         os.getpid(), self.runs)
        self.prefix = prefix
        eal = ["-l", "0-1", "--no-huge", "-m", "256", "--no-pci",
               "--no-telemetry", "--file-prefix", prefix,
               "--log-level", "lib.*:notice",
               "--vdev", "net_af_packet0,iface=%s,qpairs=1,framecnt=4096"
               % self.iface, "--vdev", "net_null0,no-rx=1"]
        return (
            "eal = [ %s ];\n"
            "workers = 1;\n"
            "mbufs = 16383;\n"
            "stats_interval = 0.0;\n"
            "log_level = \"info\";\n"
            "# three nodes and a broker share two CPUs: an idle worker\n"
            "# gives its CPU away\n"
            "idle_sleep_us = 100;\n"
            "policy = { cpu_warning = 1.0; %s };\n"
            "kafka = { brokers = \"%s\"; node = \"%s\";\n"
            "  sync_topic = \"%s\"; control_topic = \"%s\"; %s };\n"
            "ports = ( { name = \"in\"; device = \"net_af_packet0\"; },\n"
            "          { name = \"out\"; device = \"net_null0\"; } );\n"
            "pipelines = ( { name = \"p\"; ingress = \"in\";\n"
            "  egress = { type = \"port\"; port = \"out\"; };\n"
            "  topics = ( %s ); } );\n" % (
                ", ".join(json.dumps(a) for a in eal), policy,
                self.ctx.bootstrap, self.name, self.ctx.sync_topic,
                self.ctx.ctl_topic, kafka_extra, ",\n".join(buckets)))

    def start(self, cfg_text, wait=True):
        with open(self.cfg, "w") as f:
            f.write(cfg_text)
        self.lf = open(self.log, "ab")
        self.p = popen([self.ctx.tidegate, "-c", self.cfg, "--admin-socket",
                        self.sock, "--duration", "300"],
                       stdout=self.lf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_started()

    def text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_started(self, limit=60):
        end = time.monotonic() + limit
        runs_seen = self.text().count("worker(s), ")
        while time.monotonic() < end:
            if self.p.poll() is not None:
                raise Abort("%s: tidegate exited (%s) before starting:\n%s"
                            % (self.name, self.p.returncode,
                               self.text()[-3000:]))
            if self.text().count("worker(s), ") >= max(runs_seen, 1) and \
                    os.path.exists(self.sock):
                try:
                    self.cmd("status")
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise Abort("%s: tidegate did not start within %d s" %
                    (self.name, limit))

    def cmd(self, line, timeout=5.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            s.sendall((line + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        finally:
            s.close()
        return json.loads(buf.decode())

    def bucket(self, name="orders"):
        for b in self.cmd("stats")["buckets"]:
            if b["name"] == name:
                return b
        raise Abort("%s: no bucket %s" % (self.name, name))

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def sanitizer(self):
        """The sanitizer reports in the log (a sanitizer build)."""
        t = self.text()
        return [m for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                            "runtime error:") if m in t]

    def stop(self):
        """SIGTERM; returns the exit status, or a string saying what went
        wrong (no exit, a sanitizer report)."""
        rc = None
        if self.p is not None:
            if self.p.poll() is None:
                self.p.send_signal(signal.SIGTERM)
            try:
                rc = self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(self.p)
                self.p.wait()
                rc = "killed after 20 s"
        self._cleanup()
        san = self.sanitizer()
        if rc == 0 and san:
            rc = "0 but sanitizer reports: %s" % san
        return rc

    def kill9(self):
        if self.p is not None and self.p.poll() is None:
            kill_group(self.p)
            self.p.wait()
        self._cleanup()

    def _cleanup(self):
        if self.lf and not self.lf.closed:
            self.lf.close()
        for d in ("/var/run/dpdk/", "/tmp/dpdk/"):
            shutil.rmtree(d + getattr(self, "prefix", "none"),
                          ignore_errors=True)


class Ctx:
    def __init__(self, name, argv):
        self.name = name
        self.tap = Tap()
        (self.tidegate, self.tidegatectl, self.kafka_load,
         self.gen_pcap) = argv
        self.tmp = tempfile.mkdtemp(prefix="tidegate-cluster-%s-" % name)
        self.bdir = self.path("broker")
        self.broker_started = False
        self.bootstrap = None
        self.sync_topic = "tg.sync.%s" % name
        self.ctl_topic = "tg.control.%s" % name
        self.veths = []
        self.nodes = []
        self.senders = []
        self.procs = []
        self.frames = None

    def path(self, name):
        return os.path.join(self.tmp, name)

    # broker
    def broker(self, *args, timeout=180):
        r = subprocess.run([BROKER] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
        return r.returncode, r.stdout.strip(), r.stderr

    def start_broker(self):
        rc, out, err = self.broker("install", timeout=1500)
        if rc != 0:
            raise Abort("broker install failed: %s" % err[-2000:])
        self.broker_started = True
        t0 = time.monotonic()
        rc, out, err = self.broker("start", self.bdir)
        if rc != 0 or not out.startswith("127.0.0.1:"):
            raise Abort("broker start failed: %s" % err[-2000:])
        self.bootstrap = out
        self.tap.diag("broker on %s (started in %.1f s)" % (
            out, time.monotonic() - t0))

    # traffic
    def make_frames(self):
        pcap = self.path("frames.pcap")
        sh(self.gen_pcap, "-o", pcap, "--count", "256", "--topics", "1",
           "--consumers", "16", "--zipf", "0", "--sizes", "60-80",
           "--priorities", "1")
        self.frames = pcap_frames(pcap)

    def veth(self, i):
        a = "tgk%d%da" % (os.getpid() % 100000, i)
        b = "tgk%d%db" % (os.getpid() % 100000, i)
        sh_quiet("ip", "link", "del", a)
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        self.veths.append(a)
        for x in (a, b):
            p = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % x
            if os.path.exists(p):
                with open(p, "w") as f:
                    f.write("1")
            sh("ip", "link", "set", x, "up")
        return a, b

    def cluster(self, n, rates):
        """n nodes, each fed by a sender at rates[i] frames/s."""
        if self.frames is None:
            self.make_frames()
        for i in range(n):
            a, b = self.veth(i)
            node = Node(self, "n%d" % (i + 1), b)
            self.nodes.append(node)
            self.senders.append(Sender(a, self.frames, rates[i]))
        return self.nodes

    def close(self):
        for s in self.senders:
            s.stop()
        for nd in self.nodes:
            nd.kill9()
        for p in self.procs:
            if p.poll() is None:
                kill_group(p)
                p.wait()
        if self.broker_started:
            self.broker("stop", self.bdir, timeout=60)
        for a in self.veths:
            sh_quiet("ip", "link", "del", a)
        if os.environ.get("KAFKA_TEST_KEEP"):
            self.tap.diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def dump_logs(self):
        for nd in self.nodes:
            t = nd.text()
            self.tap.diag("---- %s log (last 40 lines)" % nd.name)
            self.tap.diag("\n".join(t.splitlines()[-40:]))


def bucket_cfg(rate, burst, shared="orders", extra=""):
    return ('{ name = "orders"; rate = %.1f; burst = %d; shared = "%s"; '
            'match = ( { dst_port = 9000; } ); %s }' % (rate, burst, shared,
                                                       extra))


def start_all(ctx, nodes, cfgs):
    for nd, c in zip(nodes, cfgs):
        nd.start(c, wait=False)
    for nd in nodes:
        nd.wait_started()


def wait_until(pred, limit, step=0.02):
    """Poll pred until true or limit seconds; returns (value, seconds)."""
    t0 = time.monotonic()
    while True:
        v = pred()
        if v or time.monotonic() - t0 > limit:
            return v, time.monotonic() - t0
        time.sleep(step)


def all_synced(nodes, live):
    def pred():
        for nd in nodes:
            b = nd.bucket()
            if b.get("sync_state") != "synced" or b.get("live_nodes") != live:
                return False
        return True
    return pred


def admitted(nodes):
    return [nd.bucket()["admitted"] for nd in nodes]


def rates_over(ctx, nodes, seconds):
    """What each node admitted and its sender sent, per second, over the
    next `seconds`: (admitted, sent)."""
    senders = [ctx.senders[ctx.nodes.index(nd)] for nd in nodes]
    a0, s0 = admitted(nodes), [x.sent for x in senders]
    t0 = time.monotonic()
    time.sleep(seconds)
    a1, s1 = admitted(nodes), [x.sent for x in senders]
    dt = time.monotonic() - t0
    return ([(y - x) / dt for x, y in zip(a0, a1)],
            [(y - x) / dt for x, y in zip(s0, s1)])


def stop_all(tap, nodes, why=""):
    """SIGTERM each node; check each exits 0 (sanitizers quiet)."""
    for nd in nodes:
        rc = nd.stop()
        tap.check(rc == 0, "%s stopped on SIGTERM%s (exit %s)" % (
            nd.name, why, rc))


def maxmin(total, claims):
    """Max-min fair split of total over claims (floats)."""
    out = [0.0] * len(claims)
    left = set(range(len(claims)))
    rest = total
    while left:
        share = rest / len(left)
        small = [i for i in left if claims[i] <= share]
        if not small:
            for i in left:
                out[i] = share
            break
        for i in small:
            out[i] = claims[i]
            rest -= claims[i]
            left.discard(i)
    return out


# --------------------------------------------------------- scenarios ----

R = 3000.0  # the cluster rate of the shared bucket, msg/s


def boot(ctx, rates):
    """A broker and three nodes sharing "orders" (R/s), fed at rates[i]
    frames/s; the nodes, once each sees the other two (None if not)."""
    nodes = ctx.cluster(3, rates)
    ctx.start_broker()
    start_all(ctx, nodes, [nd.config([bucket_cfg(R, 300)]) for nd in nodes])
    ok, dt = wait_until(all_synced(nodes, 3), 15)
    if not ctx.tap.check(ok, "3 nodes in sync, each sees 3 live nodes "
                         "(%.1f s after they started)" % dt):
        return None
    return nodes


@scenario
def share(ctx):
    tap = ctx.tap
    rates = [3000, 3000, 400]
    nodes = boot(ctx, rates)
    if nodes is None:
        return
    time.sleep(2.0)  # demand measured, shares settled
    T = 10.0
    adm, sent = rates_over(ctx, nodes, T)
    total = sum(adm)
    tap.diag("sent/s %s, admitted/s %s, aggregate %.1f of %.0f" % (
        ["%.0f" % x for x in sent], ["%.1f" % x for x in adm], total, R))
    tap.check(abs(total - R) <= 0.02 * R,
              "aggregate admitted %.1f/s over %.1f s is within 2%% of the "
              "cluster rate %.0f/s (%+.2f%%)" % (total, T, R,
                                                 (total / R - 1) * 100))
    # max-min: the light node keeps all it sends, the heavy ones split
    # the rest equally
    expect = maxmin(R, [x * HEADROOM for x in sent])
    tap.diag("max-min split of the demand: %s" % (
        ["%.0f" % x for x in expect]))
    tap.check(adm[2] >= 0.97 * sent[2],
              "the light node (demand %.0f/s, below its fair share) is "
              "admitted %.1f/s: all it sends" % (sent[2], adm[2]))
    tap.check(abs(adm[0] - adm[1]) <= 0.03 * max(adm[0], adm[1]),
              "the two heavy nodes get equal shares: %.1f and %.1f/s"
              % (adm[0], adm[1]))
    for i in (0, 1):
        tap.check(abs(adm[i] - expect[i]) <= 0.03 * expect[i],
                  "heavy node %s is admitted %.1f/s, its max-min share "
                  "%.1f/s within 3%%" % (nodes[i].name, adm[i], expect[i]))
    # what each node runs adds up to the cluster rate. Each node splits
    # at its own tick from the records it has then, and the light node's
    # demand moves a little between records: within 1%, not exactly
    shares = [nd.bucket()["node_share"] for nd in nodes]
    tap.check(abs(sum(shares) - R) <= 0.01 * R,
              "the nodes' shares add up to the cluster rate within 1%%: "
              "%s = %.3f" % (["%.3f" % x for x in shares], sum(shares)))
    # the sync records with kcat
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if not tap.check(kcat is not None, "kcat is installed"):
        return
    r = subprocess.run([kcat, "-b", ctx.bootstrap, "-C", "-t",
                        ctx.sync_topic, "-o", "-30", "-c", "30", "-q", "-f",
                        "%k\t%s\n"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, text=True)
    recs, bad = [], 0
    for line in r.stdout.splitlines():
        try:
            k, v = line.split("\t", 1)
            j = json.loads(v)
            if k == "orders" and j["type"] == "sync" and j["v"] == 1 and \
                    j["bucket"] == "orders":
                recs.append(j)
            else:
                bad += 1
        except (ValueError, KeyError):
            bad += 1
    tap.diag("a record as kcat shows it: %s" % (
        r.stdout.splitlines()[-1] if r.stdout else r.stderr[-500:]))
    tap.check(len(recs) >= 20 and bad == 0 and
              {j["node"] for j in recs} == {"n1", "n2", "n3"} and
              all(set(j) >= {"node", "inc", "seq", "demand", "admitted",
                             "rate", "ts"} for j in recs),
              "kcat shows the sync records as JSON keyed by bucket id, "
              "from all 3 nodes (%d records, %d not decoded)" % (
                  len(recs), bad))
    # benchmark figure: bytes of sync records per node per bucket
    size = sum(len(json.dumps(j, separators=(",", ":"))) + len("orders")
               for j in recs) / max(len(recs), 1)
    tap.diag("bench: sync record %.0f bytes (value + key) x %.0f/s = %.0f "
             "B/s per node per shared bucket (payload, before Kafka's "
             "framing)" % (size, 1 / INTERVAL, size / INTERVAL))
    stop_all(tap, nodes)
    # what the broker stores per record (Kafka's batch framing included)
    r = subprocess.run([kcat, "-b", ctx.bootstrap, "-C", "-t",
                        ctx.sync_topic, "-e", "-q", "-f", "x\n"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=60, text=True)
    n = r.stdout.count("x")
    data = os.path.join(ctx.bdir, "data")
    stored = 0
    for d in os.listdir(data) if os.path.isdir(data) else []:
        if d.startswith(ctx.sync_topic + "-"):
            for f in os.listdir(os.path.join(data, d)):
                if f.endswith(".log"):
                    stored += os.path.getsize(os.path.join(data, d, f))
    if n:
        tap.diag("bench: the broker stores %d sync records in %d bytes: "
                 "%.0f B per record, %.0f B/s per node per shared bucket"
                 % (n, stored, stored / n, stored / n / INTERVAL))


def share_of(nd):
    return nd.bucket()["node_share"]


@scenario
def move(ctx):
    tap = ctx.tap
    rates = [3000, 200, 200]
    nodes = boot(ctx, rates)
    if nodes is None:
        return
    time.sleep(2.0)
    a_before, b_before = share_of(nodes[0]), share_of(nodes[1])
    tap.diag("shares before: A %.0f, B %.0f" % (a_before, b_before))
    tap.check(a_before > 0.8 * R and b_before < 0.1 * R,
              "A holds most of the rate (%.0f) while B sends little "
              "(%.0f)" % (a_before, b_before))
    times = []
    for rnd in range(3):
        # A's demand goes to B
        src, dst = (0, 1) if rnd % 2 == 0 else (1, 0)
        target = maxmin(R, [200 * HEADROOM, 3000 * HEADROOM,
                            200 * HEADROOM])[1]
        t0 = time.monotonic()
        ctx.senders[src].set_rate(200)
        ctx.senders[dst].set_rate(3000)
        ok, dt = wait_until(lambda: share_of(nodes[dst]) >= 0.95 * target,
                            5, 0.01)
        times.append(dt)
        tap.check(ok and dt <= 3 * INTERVAL + 0.05,
                  "round %d: %s gets the freed share (%.0f/s, 95%% of its "
                  "max-min share) %.0f ms after the demand moved (3 sync "
                  "intervals = %.0f ms, + 50 ms of polling)" % (
                      rnd + 1, nodes[dst].name, share_of(nodes[dst]),
                      dt * 1000, 3 * INTERVAL * 1000))
        time.sleep(1.5)
    tap.diag("bench: reallocation after a demand move: %s ms" % (
        ", ".join("%.0f" % (t * 1000) for t in times)))


@scenario
def kill(ctx):
    tap = ctx.tap
    rates = [3000, 3000, 3000]
    nodes = boot(ctx, rates)
    if nodes is None:
        return
    time.sleep(2.0)
    before = [share_of(nd) for nd in nodes]
    tap.check(all(abs(x - R / 3) <= 0.01 * R for x in before),
              "equal demand, equal shares: %s" % (
                  ["%.1f" % x for x in before]))
    # the survivors' clocks: uptime now, to place the kill on them
    st = [(nodes[i].cmd("status")["uptime_s"], time.monotonic())
          for i in (0, 1)]
    t_kill = time.monotonic()
    nodes[2].kill9()
    tap.check(True, "n3 killed with SIGKILL")
    ok, dt = wait_until(lambda: all(
        abs(share_of(nodes[i]) - R / 2) <= 0.01 * R for i in (0, 1)), 10)
    res = []
    for i in (0, 1):
        b = nodes[i].bucket()
        kill_up = st[i][0] + (t_kill - st[i][1])
        res.append(b["share_changed_s"] - kill_up)
    tap.diag("the survivors took n3's share %s s after the kill (their "
             "own clocks)" % ["%.3f" % x for x in res])
    tap.check(ok and all(0 < x <= LEASE + INTERVAL + 0.02 for x in res),
              "n1 and n2 have half the rate each %.0f and %.0f ms after the "
              "kill: within a lease + an interval (%.0f ms)" % (
                  res[0] * 1000, res[1] * 1000,
                  (LEASE + INTERVAL) * 1000))
    b = nodes[0].bucket()
    tap.check(b["live_nodes"] == 2, "n1 counts 2 live nodes")
    # and the aggregate holds with two
    tot = sum(rates_over(ctx, nodes[:2], 3)[0])
    tap.check(abs(tot - R) <= 0.03 * R,
              "two nodes admit %.1f/s together: the cluster rate within "
              "3%% over 3 s" % tot)
    stop_all(tap, nodes[:2])


@scenario
def outage(ctx):
    tap = ctx.tap
    rates = [3000, 3000, 400]
    nodes = boot(ctx, rates)
    if nodes is None:
        return
    time.sleep(2.0)
    synced = [share_of(nd) for nd in nodes]
    a0 = admitted(nodes)
    t_stop = time.monotonic()
    rc, _, err = ctx.broker("kill", ctx.bdir, timeout=60)
    tap.check(rc == 0, "broker killed (SIGKILL)")
    # within the lease: the last share holds
    time.sleep(0.4)
    held = [nd.bucket() for nd in nodes]
    tap.check(all(b["sync_state"] in ("synced", "holding") and
                  abs(b["node_share"] - s) <= 0.02 * R
                  for b, s in zip(held, synced)),
              "for a lease the nodes keep their last shares: %s -> %s" % (
                  ["%.0f" % s for s in synced],
                  ["%s %.0f" % (b["sync_state"], b["node_share"])
                   for b in held]))
    ok, dt = wait_until(lambda: all(nd.bucket()["sync_state"] == "outage"
                                    for nd in nodes), 5)
    dt = time.monotonic() - t_stop
    tap.check(ok and dt <= LEASE + 0.5,
              "every node is in outage %.2f s after the broker died "
              "(a lease: %.1f s)" % (dt, LEASE))
    out = [nd.bucket() for nd in nodes]
    tap.check(all(abs(b["node_share"] - R / 3) <= 1e-6 * R for b in out),
              "outage policy static: each node runs the cluster rate / 3 "
              "(last known nodes): %s" % (
                  ["%.1f" % b["node_share"] for b in out]))
    st = nodes[0].cmd("status")
    tap.check(st["kafka"]["connected"] is False and
              st["kafka"]["shared"][0]["sync_state"] == "outage",
              "status shows Kafka disconnected and the bucket in outage")
    tap.check(all("outage policy static" in nd.text() for nd in nodes),
              "each node logged the outage policy it applies")
    time.sleep(2.0)
    a1 = admitted(nodes)
    tap.check(all(y > x for x, y in zip(a0, a1)) and
              all(nd.alive() for nd in nodes),
              "the data plane kept admitting on every node during the "
              "outage: %s more" % ([y - x for x, y in zip(a0, a1)]))
    # Kafka calls never held the control loop up
    worst = max(nd.cmd("status")["tick_delay_max_us"] for nd in nodes)
    tap.check(worst < 50000,
              "no control tick was late by 50 ms or more through the outage "
              "(worst %.1f ms over the three nodes)" % (worst / 1000))
    # enforcement held: heavy nodes at ~R/3 each
    b = [nd.bucket() for nd in nodes]
    tap.check(all(x["admitted_rate"] <= R / 3 * 1.05 for x in b[:2]),
              "the heavy nodes admit at most the static share: %s" % (
                  ["%.0f" % x["admitted_rate"] for x in b[:2]]))
    # back
    rc, out_, err = ctx.broker("restart", ctx.bdir)
    t_back = time.monotonic()
    tap.check(rc == 0, "broker restarted (%s)" % out_)
    ok, dt = wait_until(all_synced(nodes, 3), 20)
    tap.check(ok and dt <= 2.0,
              "all nodes back in sync with 3 live nodes %.2f s after the "
              "broker answered again (2 s allowed)" % dt)
    tap.diag("bench: resync after the broker came back: %.2f s" % dt)
    time.sleep(1.0)
    shares = [share_of(nd) for nd in nodes]
    tap.check(abs(sum(shares) - R) <= 0.01 * R and
              shares[2] < shares[0],
              "shares are the max-min split again: %s" % (
                  ["%.0f" % x for x in shares]))
    stop_all(tap, nodes, ", no crash")


@scenario
def control(ctx):
    tap = ctx.tap
    nodes = boot(ctx, [3000, 3000, 3000])
    if nodes is None:
        return
    r = nodes[0].cmd("set-rate orders 1500")
    tap.check(r.get("ok") and "control topic" in r.get("cluster", ""),
              "set-rate on n1: %s" % json.dumps(r))
    t0 = time.monotonic()
    ok, dt = wait_until(lambda: all(
        nd.bucket()["override_rate"] == 1500 for nd in nodes[1:]), 5, 0.01)
    tap.check(ok and dt <= 1.0,
              "n2 and n3 have the override %.0f ms after set-rate on n1 "
              "(1 s allowed)" % (dt * 1000))
    tap.diag("bench: command produced on n1 -> applied on n2 and n3: %.0f "
             "ms (polled every 10 ms)" % (dt * 1000))
    ok, dt = wait_until(lambda: abs(sum(share_of(nd) for nd in nodes) -
                                    1500) < 1e-3, 3)
    tap.check(ok, "the shares add up to the override, 1500/s")
    # produce -> applied, several times: the benchmark's figure
    lat = []
    for k in range(7):
        rate = 1400 - 10 * k
        nodes[k % 3].cmd("set-rate orders %d" % rate)
        others = [nd for j, nd in enumerate(nodes) if j != k % 3]
        ok, dt = wait_until(lambda: all(
            nd.bucket()["override_rate"] == rate for nd in others), 5,
            0.005)
        lat.append(dt * 1000 if ok else float("inf"))
    lat.sort()
    tap.check(lat[-1] <= 1000,
              "7 more set-rates from alternating nodes reached the other "
              "two within 1 s each")
    tap.diag("bench: set-rate on one node -> applied on both others: "
             "median %.0f ms, max %.0f ms (7 runs, polled every 5 ms)" % (
                 lat[3], lat[-1]))
    tr = [nd.cmd("status")["kafka"]["sync_transit_ms"] for nd in nodes]
    tap.diag("bench: sync record transit, producer to consumer: mean %s "
             "ms, max %s ms" % (
                 ["%.1f" % t["mean"] for t in tr if t],
                 [t["max"] for t in tr if t]))
    nodes[0].cmd("set-rate orders 1500")
    ok, dt = wait_until(lambda: all(
        nd.bucket()["override_rate"] == 1500 for nd in nodes), 5, 0.01)
    # severity
    r = nodes[1].cmd("severity force critical")
    ok, dt = wait_until(lambda: all(nd.cmd("status")["severity"] ==
                                    "critical" for nd in nodes), 5, 0.01)
    tap.check(ok and dt <= 1.0,
              "severity force critical on n2 is in force on all nodes "
              "%.0f ms later" % (dt * 1000))
    r = nodes[2].cmd("severity auto")
    ok, dt = wait_until(lambda: all(not nd.cmd("status")["severity_forced"]
                                    for nd in nodes), 5, 0.01)
    tap.check(ok and dt <= 1.0,
              "severity auto on n3 reaches every node (%.0f ms)" % (
                  dt * 1000))
    # restart all three
    stop_all(tap, nodes)
    start_all(ctx, nodes, [nd.config([bucket_cfg(R, 300)]) for nd in nodes])
    got = [nd.bucket()["override_rate"] for nd in nodes]
    tap.check(got == [1500, 1500, 1500],
              "after a restart of all three the override is in force on "
              "each from the start: %s" % got)
    tap.check(all("replayed" in nd.text() for nd in nodes),
              "each node logged the replayed override")
    ok, dt = wait_until(all_synced(nodes, 3), 15)
    # the nodes' first records after a start carry the demand of their
    # first tick: the split settles once each has sent a full one
    shares = []

    def settled():
        shares[:] = [share_of(nd) for nd in nodes]
        return abs(sum(shares) - 1500) <= 0.01 * 1500 and \
            max(shares) - min(shares) <= 0.02 * 500

    ok2, dt2 = wait_until(settled, 3, 0.05)
    tap.check(ok and ok2,
              "the cluster runs 1500/s in all, split equally (equal "
              "demand), %.2f s after the nodes were in sync: %s" % (
                  dt2, ["%.1f" % x for x in shares]))
    r = nodes[2].cmd("clear-override orders")
    ok, dt = wait_until(lambda: all(nd.bucket()["override_rate"] is None
                                    for nd in nodes), 5, 0.01)
    tap.check(ok and dt <= 1.0,
              "clear-override on n3 clears it everywhere (%.0f ms)" % (
                  dt * 1000))
    for nd in nodes:
        nd.stop()
    # cleared for good: a restart keeps no override
    start_all(ctx, nodes[:1], [nodes[0].config([bucket_cfg(R, 300)])])
    b = nodes[0].bucket()
    tap.check(b["override_rate"] is None,
              "after clear-override and a restart, no override")
    nodes[0].stop()


@scenario
def ids(ctx):
    """Same id, one rate; another id, another rate."""
    tap = ctx.tap
    nodes = ctx.cluster(3, [3000, 3000, 3000])
    ctx.start_broker()
    start_all(ctx, nodes, [
        nodes[0].config([bucket_cfg(R, 300, shared="orders")]),
        nodes[1].config([bucket_cfg(R, 300, shared="orders")]),
        nodes[2].config([bucket_cfg(R, 300, shared="orders-eu")])])

    def settled():
        b = [nd.bucket() for nd in nodes]
        return all(x["sync_state"] == "synced" for x in b) and \
            [x["live_nodes"] for x in b] == [2, 2, 1]

    ok, dt = wait_until(settled, 15)
    if not tap.check(ok, "n1 and n2 (id orders) see each other, n3 (id "
                     "orders-eu) sees only itself (%.1f s)" % dt):
        return
    time.sleep(1.5)
    adm, _ = rates_over(ctx, nodes, 5)
    shares = [share_of(nd) for nd in nodes]
    tap.diag("shares %s, admitted/s %s" % (
        ["%.0f" % x for x in shares], ["%.0f" % x for x in adm]))
    tap.check(abs(adm[0] + adm[1] - R) <= 0.02 * R,
              "id orders: n1 + n2 admit %.0f/s, the rate %.0f/s within 2%%"
              % (adm[0] + adm[1], R))
    tap.check(abs(adm[2] - R) <= 0.02 * R and abs(shares[2] - R) < 1e-6,
              "id orders-eu: n3 alone runs the whole rate, %.0f/s" %
              adm[2])
    stop_all(tap, nodes)


@scenario
def policies(ctx):
    """The open and closed outage policies."""
    tap = ctx.tap
    nodes = ctx.cluster(2, [1000, 1000])
    ctx.start_broker()
    start_all(ctx, nodes, [
        nodes[0].config([bucket_cfg(300, 30, shared="a")],
                        kafka_extra='outage = "open";'),
        nodes[1].config([bucket_cfg(300, 30, shared="b")],
                        kafka_extra='outage = "closed";')])
    ok, dt = wait_until(lambda: all(nd.bucket()["sync_state"] == "synced"
                                    for nd in nodes), 15)
    if not tap.check(ok, "both nodes in sync (%.1f s)" % dt):
        return
    time.sleep(1.0)
    rc, _, _ = ctx.broker("kill", ctx.bdir, timeout=60)
    tap.check(rc == 0, "broker killed (SIGKILL)")
    ok, dt = wait_until(lambda: all(nd.bucket()["sync_state"] == "outage"
                                    for nd in nodes), 5)
    tap.check(ok, "both nodes in outage %.1f s later" % dt)
    time.sleep(0.5)
    adm, sent = rates_over(ctx, nodes, 3)
    tap.check(adm[0] >= 0.97 * sent[0],
              "outage = open: the bucket stops limiting, %.0f/s admitted "
              "of %.0f/s sent (its rate is 300/s)" % (adm[0], sent[0]))
    tap.check(adm[1] == 0,
              "outage = closed: the bucket admits nothing (%.1f/s of "
              "%.0f/s sent)" % (adm[1], sent[1]))
    stop_all(tap, nodes, " with Kafka down")


@scenario
def lag(ctx):
    tap = ctx.tap
    nodes = ctx.cluster(1, [500])
    ctx.start_broker()
    topic, group = "tg.work.lag", "tg-slow-consumers"
    # the pipeline behind the gate: a topic, and a group reading it slowly
    rc = subprocess.run([ctx.kafka_load, "produce", "-b", ctx.bootstrap,
                         "-t", topic, "-n", "1000", "--partitions", "3"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=60, text=True)
    tap.check(rc.returncode == 0, "1000 messages produced to %s: %s" % (
        topic, rc.stdout.strip()[-200:]))
    cons = popen([ctx.kafka_load, "consume", "-b", ctx.bootstrap, "-g",
                  group, "-t", topic, "--rate", "2000", "--stdin-control"],
                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    ctx.procs.append(cons)
    extra = ('lag = ( { pipeline = "p"; group = "%s"; topic = "%s"; } ); '
             'lag_interval = 0.2;' % (group, topic))
    nd = nodes[0]
    nd.start(nd.config([bucket_cfg(R, 300)], kafka_extra=extra))

    def lag_now():
        s = nd.cmd("status")
        src = [x for x in s["lag_sources"] if x["source"].startswith("kafka")]
        return (src[0]["lag"] if src else None), s["severity"]

    ok, dt = wait_until(lambda: lag_now()[0] == 0, 20, 0.1)
    tap.check(ok, "the consumer caught up: lag 0 on the kafka source "
              "(%.1f s)" % dt)
    tap.check(lag_now()[1] == "normal", "severity normal at lag 0")
    # the consumer slows to a crawl and the producers go on
    cons.stdin.write(b"rate 10\n")
    cons.stdin.flush()
    prod = popen([ctx.kafka_load, "produce", "-b", ctx.bootstrap, "-t",
                  topic, "-n", "30000", "--rate", "4000"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.procs.append(prod)
    seen = []

    def level(name):
        def pred():
            lg, sev = lag_now()
            seen.append((round(time.monotonic(), 2), lg, sev))
            return sev == name
        return pred

    ok, dt = wait_until(level("warning"), 20, 0.05)
    if not ok:
        tap.diag("lag and severity seen: %s" % seen[-40:])
    lg, _ = lag_now()
    tap.check(ok and lg is not None and lg > 5000,
              "consumer-group lag %s > 5000 took the node to Warning" % lg)
    ok, dt = wait_until(level("critical"), 20, 0.05)
    lg, _ = lag_now()
    tap.check(ok and lg > 10000,
              "lag %s > 10000: Critical" % lg)
    ok, dt = wait_until(level("emergency"), 20, 0.05)
    lg, _ = lag_now()
    tap.check(ok and lg > 20000, "lag %s > 20000: Emergency" % lg)
    b = nd.bucket()
    tap.check(b["effective_rate"] <= 1.0,
              "in Emergency the shared topic bucket runs at its floor "
              "(%.2f/s)" % b["effective_rate"])
    # the producers are done: the lag now moves by the consumer's 10/s
    try:
        prod.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.6)  # > two lag polls
    ref = subprocess.run([ctx.kafka_load, "lag", "-b", ctx.bootstrap, "-g",
                          group, "-t", topic], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30, text=True)
    try:
        want = int(ref.stdout.strip())
    except ValueError:
        want = -1
    got, _ = lag_now()
    tap.check(want > 0 and got is not None and abs(got - want) <= 20,
              "tidegate's lag %s matches the group's lag measured by "
              "tidegate-kafka-load lag, %d (within 20: what the consumer, "
              "at 10/s, reads between the two)" % (got, want))
    # the consumer speeds up: lag back to 0, severity recovers
    cons.stdin.write(b"rate 100000\n")
    cons.stdin.flush()
    ok, dt = wait_until(lambda: lag_now()[0] == 0, 60, 0.1)
    tap.check(ok, "the consumer drained the lag (%.1f s)" % dt)
    ok, dt = wait_until(level("normal"), 30, 0.1)
    tap.check(ok, "severity back to normal after the backlog cleared "
              "(%.1f s)" % dt)
    rc = nd.stop()
    tap.check(rc == 0, "tidegate stopped (exit %s)" % rc)


def main(argv):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    if len(argv) != 6 or argv[1] not in SCENARIOS:
        sys.stderr.write("usage: cluster.py {%s} TIDEGATE TIDEGATECTL "
                         "KAFKA_LOAD GEN_PCAP\n" % "|".join(SCENARIOS))
        return 2
    ctx = Ctx(argv[1], argv[2:])
    tap = ctx.tap
    try:
        if os.geteuid() != 0:
            tap.check(False, "needs root (veth pairs, af_packet): euid %d"
                      % os.geteuid())
        else:
            SCENARIOS[argv[1]](ctx)
    except Abort as e:
        tap.check(False, "aborted: %s" % e)
    except KeyboardInterrupt as e:
        tap.check(False, "interrupted: %s" % e)
    except Exception as e:  # a bug of this script: report, still clean up
        import traceback
        tap.check(False, "error: %r" % e)
        tap.diag(traceback.format_exc())
    finally:
        if tap.failed:
            ctx.dump_logs()
        for s in ctx.senders:
            if s.error:
                tap.check(False, "sender error: %s" % s.error)
        ctx.close()
    print("1..%d" % tap.n, flush=True)
    return 1 if tap.failed or tap.n == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
