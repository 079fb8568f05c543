# SPDX-License-Identifier: BSD-3-Clause
"""What the kafka suite's scripts share: TAP output, running a command with
a timeout, the test broker's launcher (tools/kafka/broker.sh) and its jar
cache, and turning SIGTERM into KeyboardInterrupt so that every script's
finally block stops what it started. Python 3 standard library only."""
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BROKER = os.path.join(ROOT, "tools", "kafka", "broker.sh")
KAFKA_JAR = "kafka_2.13-3.9.1.jar"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, cond, desc):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc),
              flush=True)
        return cond

    def diag(self, text):
        for line in str(text).rstrip().splitlines():
            print("# " + line, flush=True)

    def plan(self):
        print("1..%d" % self.n, flush=True)


class Fatal(Exception):
    pass


def cache_dir():
    c = os.environ.get("TIDEGATE_KAFKA_CACHE")
    if c:
        return os.path.abspath(c)
    return os.path.join(os.path.expanduser("~"), ".cache", "tidegate",
                        "kafka-3.9.1")


def run(args, timeout):
    """Runs a command; returns (exit code, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc = -1
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = (e.stderr.decode() if isinstance(e.stderr, bytes)
               else (e.stderr or "")) + "\n(timed out after %ss)" % timeout
    return rc, out, err, time.monotonic() - t0


def broker(*args, timeout=120):
    return run([BROKER] + list(args), timeout)



def on_signal(signum, frame):
    # SIGTERM (meson's timeout, a CI stop) runs the finally blocks too
    raise KeyboardInterrupt("signal %d" % signum)
