#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Consumer-group lag against a real broker, with tidegate-kafka-load.

Starts a broker (tools/kafka/broker.sh) in a temporary directory, produces
2000 messages to a 3-partition topic, runs a group member that consumes at
200 msg/s and checks with `tidegate-kafka-load lag` that the group's lag
went down by about its rate (so it paced and committed), pauses it through
its stdin ("rate 0") and checks the lag stays put, then lets it run fast
and checks the lag reaches 0 and that it consumed every message exactly
once. Also: --max with the final commit, and the exit status of bad usage.

Usage: test_load.py [LOAD]
  LOAD  the tidegate-kafka-load program (meson passes the one it built);
        without it, or when it does not exist, tools/kafka_load.c is built
        here with cc.
Environment: TIDEGATE_KAFKA_CACHE (the jar cache, as for broker.sh),
KAFKA_TEST_KEEP=1 keeps the temporary directory.

The broker's ports are free ones the kernel picks (broker.sh's default), so
they never collide with another test's broker. Prints TAP. Exit status 0
only when every check passed. The broker and the consumer are stopped on
every exit path. Python 3 standard library only.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktest import (BROKER, HERE, ROOT, Fatal, Tap, broker,  # noqa: E402
                   on_signal, run)

MSGS = 2000          # produced
RATE = 200           # msg/s of the slow phase
SLOW_S = 3.0         # s the slow phase lasts, about
FAST_RATE = 100000   # msg/s of the catch-up phase
PAUSE_S = 2.0        # s the lag must stay constant while paused
CATCHUP_S = 10.0     # s the lag has to reach 0 in


def build_load(tap, tmp, given):
    if given and os.access(given, os.X_OK):
        return given
    exe = os.path.join(tmp, "tidegate-kafka-load")
    cc = os.environ.get("CC", "cc")
    rc, out, err, _ = run([cc, "-std=c11", "-D_GNU_SOURCE", "-O1", "-Wall",
                        "-Wextra", "-o", exe,
                        os.path.join(ROOT, "tools", "kafka_load.c"),
                        "-lrdkafka", "-lm"], 120)
    if not tap.check(rc == 0, "tidegate-kafka-load built with %s" % cc):
        tap.diag(out + err)
        raise Fatal()
    return exe


class Consumer:
    """A `consume --stdin-control` process; its lines are read as they
    come, each with the monotonic time it arrived."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  bufsize=1)
        self.lines = []      # (time, total, rate)
        self.other = []      # stdout lines of another shape
        self.err = []
        self.lock = threading.Lock()
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _read_out(self):
        for line in self.p.stdout:
            now = time.monotonic()
            w = line.split()
            # "consumed N total, rate R/s"
            with self.lock:
                if (len(w) == 5 and w[0] == "consumed" and w[2] == "total,"
                        and w[3] == "rate" and w[4].endswith("/s")):
                    self.lines.append((now, int(w[1]), float(w[4][:-2])))
                else:
                    self.other.append(line.rstrip("\n"))

    def _read_err(self):
        for line in self.p.stderr:
            with self.lock:
                self.err.append(line.rstrip("\n"))

    def reports(self):
        with self.lock:
            return list(self.lines)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self, timeout=20):
        """SIGTERM; returns the exit code (None when it had to be
        killed)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self.t_out.join(5)
        self.t_err.join(5)
        return rc


def main(argv):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="tidegate-kafka-load-")
    bdir = os.path.join(tmp, "broker")
    started = False
    cons = None
    topic = "tidegate-load"
    group = "tidegate-slow-%d" % os.getpid()

    def fail_logs():
        p = os.path.join(bdir, "logs", "server.log")
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                lines = [x for x in f.read().splitlines()
                         if not x.startswith((" ", "\t"))]
            tap.diag("---- last lines of %s" % p)
            tap.diag("\n".join(lines[-25:]))

    try:
        rc, out, err, _ = broker("install", timeout=1500)
        if not tap.check(rc == 0, "broker jars installed"):
            tap.diag(out + err)
            raise Fatal()
        exe = build_load(tap, tmp, argv[1] if len(argv) > 1 else None)

        def load(*args, timeout=60):
            return run([exe] + list(args), timeout)[:3]

        def lag(g=group):
            rc, out, err = load("lag", "-b", bootstrap, "-g", g, "-t", topic)
            try:
                value = int(out.strip()) if rc == 0 else None
            except ValueError:
                value = None
            if value is None:
                tap.diag("lag: exit %d, stdout %r, stderr %s" % (rc, out, err))
            return value

        rc, out, err = load("lag")
        tap.check(rc == 2 and "usage:" in err,
                  "bad usage: exit status 2 and the usage (%d)" % rc)

        started = True  # from here on the finally block stops it
        rc, out, err, _ = broker("start", bdir, timeout=180)
        bootstrap = out.strip()
        if not tap.check(rc == 0 and bootstrap.startswith("127.0.0.1:"),
                         "broker started: %s" % bootstrap):
            tap.diag(err)
            raise Fatal()

        rc, out, err = load("produce", "-b", bootstrap, "-t", topic,
                            "-n", str(MSGS), "--partitions", "3")
        if not tap.check(rc == 0 and out.strip() == "produced %d" % MSGS,
                         "produce %d to %s: %s" % (MSGS, topic, out.strip())):
            tap.diag(err)
            fail_logs()
            raise Fatal()
        l0 = lag()
        tap.check(l0 == MSGS, "lag of a group that committed nothing: %s "
                  "(every message, from the low watermarks)" % l0)

        # --max: consumes that many, commits them at exit
        g_max = group + "-max"
        rc, out, err = load("consume", "-b", bootstrap, "-g", g_max, "-t",
                            topic, "--rate", "1000", "--max", "50",
                            "--duration", "30")
        last = out.strip().splitlines()[-1:] or [""]
        lm = lag(g_max)
        if not tap.check(rc == 0 and last[0].startswith("consumed 50 total")
                         and lm == MSGS - 50,
                         "--max 50: exits 0 after 50 (%s), lag %s"
                         % (last[0], lm)):
            tap.diag(out + err)

        # the slow phase: RATE msg/s for about SLOW_S seconds
        cons = Consumer([exe, "consume", "-b", bootstrap, "-g", group,
                         "-t", topic, "--rate", str(RATE),
                         "--stdin-control"])
        t_start = time.monotonic()
        deadline = t_start + 30
        while time.monotonic() < deadline and cons.p.poll() is None:
            if any(total > 0 for _, total, _ in cons.reports()):
                break
            time.sleep(0.05)
        t_first = time.monotonic()
        if not tap.check(any(total > 0 for _, total, _ in cons.reports()),
                         "the consumer joined and consumes (%.1f s after "
                         "its start)" % (t_first - t_start)):
            tap.diag("\n".join(cons.err))
            raise Fatal()
        # the first report came up to 1 s after the first message
        time.sleep(max(0.0, SLOW_S - 1.0))
        t_l1 = time.monotonic()
        l1 = lag()
        lo, hi = MSGS - RATE * 6, MSGS - RATE
        if not tap.check(l1 is not None and lo <= l1 <= hi,
                         "after ~%.0f s at %d msg/s the lag is %s, in "
                         "[%d, %d]: it paced and committed"
                         % (SLOW_S, RATE, l1, lo, hi)):
            tap.diag("\n".join("consumed %d total, rate %.0f/s" % (t, r)
                               for _, t, r in cons.reports()))
            tap.diag("\n".join(cons.err))
        # no more than the rate allows since the process started
        bound = RATE * (t_l1 - t_start) + RATE * 0.25
        tap.check(l1 is not None and MSGS - l1 <= bound,
                  "committed %s <= %.0f, the rate's allowance since start"
                  % (None if l1 is None else MSGS - l1, bound))
        rates = [r for _, _, r in cons.reports()]
        tap.check(rates and max(rates) <= RATE * 1.25,
                  "every second's rate <= %.0f/s: %s"
                  % (RATE * 1.25, " ".join("%.0f" % r for r in rates)))

        # paused: the lag stays put, the member stays in the group
        cons.send("rate 0")
        time.sleep(0.5)  # the rate is read within 0.1 s, a commit too
        l2 = lag()
        time.sleep(PAUSE_S)
        l3 = lag()
        tap.check(l1 is not None and l2 is not None and 0 < l2 <= l1,
                  "paused with messages left: lag %s (was %s)" % (l2, l1))
        tap.check(l2 is not None and l2 == l3,
                  "the lag stays at %s for %.0f s at rate 0 (then %s)"
                  % (l2, PAUSE_S, l3))
        time.sleep(1.1)  # a report that covers only the pause
        reps = cons.reports()
        total_paused = reps[-1][1] if reps else None
        tap.check(l3 is not None and total_paused == MSGS - l3
                  and reps[-1][2] == 0,
                  "while paused: reports %s consumed at 0/s, committed %s"
                  % (total_paused, None if l3 is None else MSGS - l3))

        # fast: the lag reaches 0
        cons.send("rate %d" % FAST_RATE)
        t0 = time.monotonic()
        lz = None
        while time.monotonic() - t0 < CATCHUP_S:
            lz = lag()
            if lz == 0:
                break
            time.sleep(0.25)
        tap.check(lz == 0, "at %d msg/s the lag reaches 0 in %.1f s (<= "
                  "%.0f s)" % (FAST_RATE, time.monotonic() - t0, CATCHUP_S))

        rc = cons.stop()
        reps = cons.reports()
        final = reps[-1][1] if reps else None
        if not tap.check(rc == 0 and final == MSGS,
                         "SIGTERM: exit %s, consumed %s in all: each message "
                         "once" % (rc, final)):
            tap.diag("\n".join(cons.other + cons.err))
        tap.check(not any("commit" in e for e in cons.err),
                  "no commit errors on the consumer's stderr")
        tap.diag("consumer stderr:\n" + "\n".join(cons.err))
        cons = None
    except Fatal:
        pass
    except (Exception, KeyboardInterrupt) as e:  # report, stop everything
        tap.check(False, "unexpected error: %r" % (e,))
    finally:
        if cons is not None:
            cons.stop(5)
        if started:
            rc, out, err, _ = broker("stop", bdir, timeout=60)
            if rc != 0:
                tap.diag("cleanup stop failed: " + err)
        if tap.failed:
            fail_logs()
        if os.environ.get("KAFKA_TEST_KEEP") == "1":
            tap.diag("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    tap.plan()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
