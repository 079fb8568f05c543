#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The slow-consumer scenario, recorded and plotted.

tidegate replays a generated pcap (net_pcap, as fast as its worker polls)
through a global bucket into a ring egress; tidegate-consumer, a DPDK
secondary process, dequeues the ring slower than tidegate admits. The
ring's backlog is the control loop's lag: it walks the severity ladder up
(Warning > 5000, Critical > 10000, Emergency > 20000: floors and breaker),
then the consumer is sped up through its --rate-file, the backlog drains,
Emergency ends below 1000 and the rate climbs back x 1.2 a tick.

Every tick (100 ms) the script asks the admin socket for stats and status
and writes a CSV row: time, offered rate (received), admitted rate, lag,
severity (0 normal .. 3 emergency), effective rate of the global bucket,
breaker (0 closed, 1 half-open, 2 open), recovering. Then gnuplot
(tools/scenario.gp; the Debian package gnuplot-nox is installed with
apt-get when missing and this runs as root) draws the PNG, and the
reaction times from status are printed.

DPDK multi-process needs hugepages: as root, the script reserves them
(/proc/sys/vm/nr_hugepages) and mounts a hugetlbfs in a temporary
directory, and gives both back at the end, also on failure or Ctrl-C;
every process it started is stopped then.

  tools/scenario.py [--build DIR] [--out PNG] [--csv CSV]
                    [--rate R] [--slow R] [--fast R]

Run from anywhere; defaults are relative to the repository: binaries in
build/, the plot in build/scenario.png, the CSV next to it.
Python 3, standard library only.
"""
import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVELS = ["normal", "warning", "critical", "emergency"]
BREAKER = {"closed": 0, "half-open": 1, "open": 2}
NR = "/proc/sys/vm/nr_hugepages"


class Failed(Exception):
    pass


def say(*a):
    print("scenario:", *a, flush=True)


class Admin:
    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def reqs(self, lines):
        self.s.sendall("".join(l + "\n" for l in lines).encode())
        out = []
        for _ in lines:
            while b"\n" not in self.buf:
                chunk = self.s.recv(1 << 16)
                if not chunk:
                    raise Failed("tidegate closed the admin connection")
                self.buf += chunk
            ln, self.buf = self.buf.split(b"\n", 1)
            out.append(json.loads(ln.decode()))
        return out

    def req(self, line):
        r = self.reqs([line])[0]
        if "error" in r:
            raise Failed("%s: %s" % (line, r["error"]))
        return r

    def sample(self):
        """stats and status answered in one poll: live counters dated by
        the control thread's clock."""
        ss, st = self.reqs(["stats", "status"])
        return st, ss

    def close(self):
        self.s.close()


class Run:
    """Everything started, to be stopped and given back."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tg-scenario-")
        self.procs = []
        self.huge_dir = None
        self.old_nr = None
        self.prefix = "tg-scenario-%d" % os.getpid()

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, cmd, log):
        lf = open(self.path(log), "wb")
        all_cpus = os.sched_getaffinity(0)
        p = subprocess.Popen(
            cmd, stdout=lf, stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: os.sched_setaffinity(0, all_cpus))
        self.procs.append((p, lf))
        return p

    def log(self, name):
        with open(self.path(name), errors="replace") as f:
            return f.read()

    def hugepages(self, pages):
        if os.geteuid() != 0:
            raise Failed("run as root: the ring consumer is a DPDK "
                         "secondary process, which needs hugepages, and "
                         "this reserves and mounts them")
        with open(NR) as f:
            self.old_nr = int(f.read())
        with open(NR, "w") as f:
            f.write("%d\n" % (self.old_nr + pages))
        with open(NR) as f:
            got = int(f.read())
        if got < self.old_nr + pages:
            raise Failed("asked for %d hugepages, got %d" %
                         (self.old_nr + pages, got))
        d = self.path("huge")
        os.mkdir(d)
        r = subprocess.run(["mount", "-t", "hugetlbfs", "nodev", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            raise Failed("mount hugetlbfs: %s" % r.stdout.decode().strip())
        self.huge_dir = d
        return d

    def cleanup(self):
        for p, lf in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            lf.close()
        self.procs = []
        for d in ("/var/run/dpdk/", "/tmp/dpdk/"):
            shutil.rmtree(d + self.prefix, ignore_errors=True)
        if self.huge_dir:
            for _ in range(50):
                if subprocess.run(["umount", self.huge_dir],
                                  stderr=subprocess.DEVNULL).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                subprocess.run(["umount", "-l", self.huge_dir])
            self.huge_dir = None
        if self.old_nr is not None:
            with open(NR, "w") as f:
                f.write("%d\n" % self.old_nr)
            self.old_nr = None
        shutil.rmtree(self.dir, ignore_errors=True)


def need_gnuplot():
    if shutil.which("gnuplot"):
        return
    if os.geteuid() != 0:
        raise Failed("gnuplot is missing: apt-get install gnuplot-nox "
                     "(as root), or run this as root")
    say("installing gnuplot-nox")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends",
           "gnuplot-nox"]
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env)
        if subprocess.run(cmd, env=env).returncode != 0:
            raise Failed("apt-get install gnuplot-nox failed")


def write_rate(path, rate):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % rate)
    os.replace(tmp, path)


def config(run, pcap, huge, rate, ring):
    eal = ["-l", "0-1", "--huge-dir", huge, "--no-pci", "--no-telemetry",
           "--file-prefix", run.prefix, "--log-level", "lib.*:notice",
           "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap]
    return """\
eal = [ %s ];
workers = 1;
# the ring may hold `size` mbufs, and net_pcap with infinite_rx the pcap
mbufs = %d;
stats_interval = 0.0;
# The pcap is replayed as fast as the worker polls: the worker is 100%%
# busy by construction, and the CPU rule (> 85%% raises Warning) would
# blur the picture. Here the lag alone drives the severity.
policy = { cpu_warning = 1.0; };
ports = ( { name = "in"; device = "net_pcap0"; } );
pipelines = ( {
  name = "p";
  ingress = "in";
  egress = { type = "ring"; ring = "tg_p"; size = %d; };
  global = { rate = %r; burst = %d; };
} );
""" % (", ".join(json.dumps(a) for a in eal), ring + 32767, ring,
       float(rate), max(1, int(rate / 100)))


def main():
    ap = argparse.ArgumentParser(
        description="Run the slow-consumer scenario and plot it.")
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="the meson build directory (default: build/)")
    ap.add_argument("--out", default=None,
                    help="the PNG (default: BUILD/scenario.png)")
    ap.add_argument("--csv", default=None,
                    help="the samples (default: the PNG's name, .csv)")
    ap.add_argument("--rate", type=float, default=50000,
                    help="the global bucket's rate (default 50000/s)")
    ap.add_argument("--slow", type=int, default=2000,
                    help="the consumer's rate at first (default 2000/s; "
                    "Critical admits 0.1 x --rate, which must outrun it "
                    "for Emergency to come)")
    ap.add_argument("--fast", type=int, default=200000,
                    help="the consumer's rate once sped up (default "
                    "200000/s)")
    o = ap.parse_args()
    out = os.path.abspath(o.out or os.path.join(o.build, "scenario.png"))
    csv = os.path.abspath(o.csv or os.path.splitext(out)[0] + ".csv")
    exe = {n: os.path.join(o.build, p) for n, p in (
        ("tidegate", "tidegate"), ("gen", "tools/tidegate-gen-pcap"),
        ("consumer", "tools/tidegate-consumer"))}
    for n, p in exe.items():
        if not os.access(p, os.X_OK):
            raise Failed("%s is not built (meson compile -C %s)" %
                         (p, o.build))
    if 0.1 * o.rate <= o.slow:
        raise Failed("--slow %d must be below 0.1 x --rate (%g), what "
                     "Critical admits, or the backlog never reaches "
                     "Emergency" % (o.slow, 0.1 * o.rate))
    need_gnuplot()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    os.makedirs(os.path.dirname(csv), exist_ok=True)

    run = Run()

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        scenario(run, exe, o, csv)
    finally:
        run.cleanup()
        say("stopped everything, hugepages given back")
    plot(csv, out)
    say("plot: %s" % out)
    return 0


def scenario(run, exe, o, csv):
    # keep this process off lcore 1, where tidegate's worker polls
    all_cpus = os.sched_getaffinity(0)
    if 0 in all_cpus and 1 in all_cpus:
        os.sched_setaffinity(0, {0})
    pcap = run.path("s.pcap")
    subprocess.run([exe["gen"], "-o", pcap, "--count", "4096", "--topics",
                    "1", "--consumers", "50", "--priorities", "3", "--sizes",
                    "60-80"], check=True, stderr=subprocess.DEVNULL)
    huge = run.hugepages(384)
    ring = 65536
    cfg, sock = run.path("s.cfg"), run.path("admin.sock")
    with open(cfg, "w") as f:
        f.write(config(run, pcap, huge, o.rate, ring))
    tg = run.start([exe["tidegate"], "-c", cfg, "--admin-socket", sock,
                    "--duration", "300"], "tidegate.log")
    # connect as soon as the socket is there and hold the breaker open:
    # nothing enters the ring before the consumer is attached
    end = time.monotonic() + 60
    while True:
        if tg.poll() is not None:
            raise Failed("tidegate exited (%s):\n%s" % (
                tg.returncode, run.log("tidegate.log")[-2000:]))
        try:
            adm = Admin(sock)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > end:
                raise Failed("no admin socket after 60 s")
            time.sleep(0.002)
    adm.req("breaker open")
    rate_file = run.path("consumer.rate")
    write_rate(rate_file, o.slow)
    cons = run.start([
        exe["consumer"], "-l", "0", "--proc-type=secondary", "--file-prefix",
        run.prefix, "--huge-dir", huge, "--no-pci", "--no-telemetry",
        "--log-level", "lib.*:notice", "--", "--ring", "tg_p", "--rate",
        str(o.slow), "--rate-file", rate_file, "--stats", "0"],
        "consumer.log")
    end = time.monotonic() + 30
    while "rate %d/s" % o.slow not in run.log("consumer.log"):
        if cons.poll() is not None or time.monotonic() > end:
            raise Failed("tidegate-consumer did not attach:\n%s" %
                         run.log("consumer.log")[-2000:])
        time.sleep(0.02)
    end = time.monotonic() + 15
    while adm.sample()[0]["lag"] != 0:
        if time.monotonic() > end:
            raise Failed("the ring did not drain")
        time.sleep(0.05)
    say("consumer attached at %d/s; global bucket %.0f/s; go" %
        (o.slow, o.rate))

    rows, events = [], []
    prev = None
    t0 = None
    phase = "escalate"
    adm.req("breaker auto")
    deadline = time.monotonic() + 60
    hold_until = None
    while time.monotonic() < deadline:
        st, ss = adm.sample()
        if prev is None or st["tick"] != prev[0]["tick"]:
            if prev is not None:
                dt = st["uptime_s"] - prev[0]["uptime_s"]
                if t0 is None:
                    t0 = prev[0]["uptime_s"]
                g = next(b for b in ss["buckets"]
                         if b["name"] == "p/global")
                row = {
                    "t": st["uptime_s"] - t0, "tick": st["tick"],
                    "offered": (ss["rx"] - prev[1]["rx"]) / dt,
                    "admitted": (ss["outcomes"]["admitted"] -
                                 prev[1]["outcomes"]["admitted"]) / dt,
                    "lag": st["lag"],
                    "sev": LEVELS.index(st["severity"]),
                    "eff": g["effective_rate"],
                    "breaker": BREAKER.get(st["breaker"], -1),
                    "recovering": int(bool(st["recovering"]))}
                if rows and row["sev"] != rows[-1]["sev"]:
                    events.append((row["t"], "%s -> %s at lag %d" % (
                        LEVELS[rows[-1]["sev"]], st["severity"],
                        row["lag"])))
                if rows and rows[-1]["recovering"] and \
                        not row["recovering"]:
                    events.append((row["t"], "recovery over: %.0f/s" %
                                   row["eff"]))
                rows.append(row)
            prev = (st, ss)
            if phase == "escalate" and st["severity"] == "emergency":
                phase, hold_until = "hold", time.monotonic() + 0.5
            elif phase == "hold" and time.monotonic() >= hold_until:
                write_rate(rate_file, o.fast)
                events.append((rows[-1]["t"], "consumer sped up to %d/s"
                               % o.fast))
                phase = "recover"
            elif phase == "recover" and rows and rows[-1]["recovering"] == 0 \
                    and st["severity"] == "normal" and \
                    any(e[1].startswith("recovery over") for e in events):
                phase, hold_until = "tail", time.monotonic() + 1.5
            elif phase == "tail" and time.monotonic() >= hold_until:
                break
        time.sleep(0.003)
    else:
        raise Failed("the scenario did not finish within 60 s (phase %s)"
                     % phase)
    st = prev[0]
    adm.close()
    with open(csv, "w") as f:
        f.write("# t_s tick offered_per_s admitted_per_s lag severity "
                "effective_rate breaker recovering\n")
        f.write("# severity: 0 normal, 1 warning, 2 critical, 3 emergency;"
                " breaker: 0 closed, 1 half-open, 2 open\n")
        for r in rows:
            f.write("%.3f,%d,%.1f,%.1f,%d,%d,%.6g,%d,%d\n" % (
                r["t"], r["tick"], r["offered"], r["admitted"], r["lag"],
                r["sev"], r["eff"], r["breaker"], r["recovering"]))
    say("%d samples (one per tick) in %s" % (len(rows), csv))
    for t, e in events:
        say("  t = %6.2f s  %s" % (t, e))
    say("reaction (severity change -> every worker runs the new rates): "
        "last %s us, worst %s us; worst tick delay %s us" % (
            fmt(st["reaction_us"]), fmt(st["reaction_us_max"]),
            fmt(st["tick_delay_max_us"])))


def fmt(v):
    return "n/a" if v is None else "%.0f" % v


def plot(csv, out):
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "scenario.gp")
    r = subprocess.run(["gnuplot", "-e", "csv='%s'; out='%s'" % (csv, out),
                        gp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0 or not os.path.exists(out):
        raise Failed("gnuplot failed: %s" % r.stdout.decode().strip())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print("scenario: %s" % e, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("scenario: interrupted", file=sys.stderr)
        sys.exit(130)
