#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of the test broker (tools/kafka/broker.sh) with a real client.

Installs the broker's jars (if the cache is not complete yet), starts a
broker in a temporary directory, checks that it answers, produces one
message and consumes it back through librdkafka (tests/kafka/kcheck.c),
restarts the broker and reads the message again (persistence), kills it
with SIGKILL and checks that it is down, brings it back after the kill and
reads the message once more, then stops it.

Usage: test_broker.py [KCHECK]
  KCHECK  the kcheck program (meson passes the one it built); without it,
          or when it does not exist, kcheck.c is built here with cc.
Environment: TIDEGATE_KAFKA_CACHE (the jar cache, as for broker.sh),
KAFKA_TEST_KEEP=1 keeps the temporary directory.

Prints TAP ("ok N - ...", then "1..N"), with the timings of install,
start, restart, kill and stop as "# timing:" lines. Exit status 0 only when
every check passed. Whatever it started is stopped on every exit path.
Python 3 standard library only.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktest import (BROKER, HERE, KAFKA_JAR, ROOT, Fatal, Tap,  # noqa: E402
                   broker, cache_dir, on_signal, run)

def port_refuses(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, int(port)))
        return False
    except OSError:
        return True
    finally:
        s.close()


def pid_running(pid):
    """True while some thread of pid has not exited (a SIGKILLed JVM's main
    thread is a zombie while its other threads still hold its sockets)."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            return True
    return False


def build_kcheck(tap, tmp, given):
    if given and os.access(given, os.X_OK):
        tap.check(True, "kcheck given: %s" % given)
        return given
    exe = os.path.join(tmp, "kcheck")
    cc = os.environ.get("CC", "cc")
    rc, out, err, _ = run([cc, "-std=c11", "-O1", "-Wall", "-Wextra",
                           "-o", exe, os.path.join(HERE, "kcheck.c"),
                           "-lrdkafka"], 120)
    if not tap.check(rc == 0, "kcheck built with %s" % cc):
        tap.diag(out + err)
        raise Fatal()
    return exe


def kcheck(exe, bootstrap, topic, mode, value):
    return run([exe, bootstrap, topic, mode, value], 60)


def main(argv):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tap = Tap()
    timings = []
    tmp = tempfile.mkdtemp(prefix="tidegate-kafka-")
    bdir = os.path.join(tmp, "broker")
    started = False
    topic = "tidegate-smoke"
    value = "tidegate-smoke-%d-%d" % (os.getpid(), time.time_ns())

    def fail_logs():
        for name in ("server.log", "java.out"):
            p = os.path.join(bdir, "logs", name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    lines = [x for x in f.read().splitlines()
                             if not x.startswith((" ", "\t"))]
                tap.diag("---- last lines of %s" % p)
                tap.diag("\n".join(lines[-25:]))

    try:
        # install: cold (cache incomplete) or warm, then again: a no-op
        cache = cache_dir()
        cold = not os.path.exists(os.path.join(cache, ".complete"))
        rc, out, err, dt = broker("install", timeout=1500)
        timings.append("install_%s=%.1fs" % ("cold" if cold else "warm", dt))
        ok = rc == 0 and out.strip() == cache and os.path.exists(
            os.path.join(cache, KAFKA_JAR))
        if not tap.check(ok, "install (%s cache) in %.1f s: %s present in %s"
                         % ("cold" if cold else "warm", dt, KAFKA_JAR,
                            cache)):
            tap.diag(out + err)
            raise Fatal()
        rc, out, err, dt = broker("install", timeout=120)
        timings.append("install_again=%.2fs" % dt)
        if not tap.check(rc == 0 and "already" in err and dt < 10,
                         "second install does nothing (%.2f s)" % dt):
            tap.diag(out + err)

        exe = build_kcheck(tap, tmp, argv[1] if len(argv) > 1 else None)

        # start
        started = True  # from here on the finally block stops it
        rc, out, err, dt = broker("start", bdir, timeout=180)
        timings.append("start=%.1fs" % dt)
        bootstrap = out.strip()
        try:
            with open(os.path.join(bdir, "bootstrap")) as f:
                bfile = f.read().strip()
            with open(os.path.join(bdir, "broker.pid")) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            bfile, pid = None, 0
        ok = (rc == 0 and bootstrap.startswith("127.0.0.1:")
              and not bootstrap.endswith(":9092") and bfile == bootstrap
              and pid_running(pid))
        if not tap.check(ok, "start: %s (pid %d) in %.1f s"
                         % (bootstrap or "?", pid, dt)):
            tap.diag(err)
            raise Fatal()

        rc, out, err, _ = broker("status", bdir, timeout=30)
        tap.check(rc == 0, "status says it answers")

        # one message through it
        rc, out, err, dt = kcheck(exe, bootstrap, topic, "produce", value)
        if not tap.check(rc == 0, "produce to %s[0] (topic created through "
                         "CreateTopics): %s (%.2f s)"
                         % (topic, out.strip(), dt)):
            tap.diag(err)
            fail_logs()
            raise Fatal()
        rc, out, err, dt = kcheck(exe, bootstrap, topic, "consume", value)
        if not tap.check(rc == 0, "consume it back by assign at "
                         "OFFSET_BEGINNING: %s (%.2f s)" % (out.strip(), dt)):
            tap.diag(err)

        # restart: same address, same data
        rc, out, err, dt = broker("restart", bdir, timeout=180)
        timings.append("restart=%.1fs" % dt)
        if not tap.check(rc == 0 and out.strip() == bootstrap,
                         "restart on the same address in %.1f s" % dt):
            tap.diag(err)
            fail_logs()
            raise Fatal()
        rc, out, err, dt = kcheck(exe, bootstrap, topic, "consume", value)
        if not tap.check(rc == 0, "the message survived the restart: %s"
                         % out.strip()):
            tap.diag(err)

        # SIGKILL: down at once
        with open(os.path.join(bdir, "broker.pid")) as f:
            pid = int(f.read())
        rc, out, err, dt = broker("kill", bdir, timeout=30)
        timings.append("kill=%.2fs" % dt)
        tap.check(rc == 0 and not pid_running(pid),
                  "kill: pid %d gone in %.2f s" % (pid, dt))
        rc2, _, err2, _ = broker("status", bdir, timeout=30)
        if not tap.check(rc2 != 0, "after SIGKILL: status fails"):
            tap.diag(err2)
        tap.check(port_refuses(bootstrap),
                  "after SIGKILL: %s refuses connections" % bootstrap)

        # and back after the kill (unclean shutdown: log recovery)
        rc, out, err, dt = broker("restart", bdir, timeout=180)
        timings.append("restart_after_kill=%.1fs" % dt)
        if not tap.check(rc == 0 and out.strip() == bootstrap,
                         "restart after SIGKILL in %.1f s" % dt):
            tap.diag(err)
            fail_logs()
            raise Fatal()
        rc, out, err, dt = kcheck(exe, bootstrap, topic, "consume", value)
        if not tap.check(rc == 0, "the message survived the SIGKILL: %s"
                         % out.strip()):
            tap.diag(err)

        # stop, twice
        rc, out, err, dt = broker("stop", bdir, timeout=60)
        timings.append("stop=%.2fs" % dt)
        tap.check(rc == 0 and port_refuses(bootstrap),
                  "stop in %.2f s" % dt)
        rc, out, err, dt = broker("stop", bdir, timeout=60)
        tap.check(rc == 0, "a second stop is a no-op")
        started = False
    except Fatal:
        pass
    except (Exception, KeyboardInterrupt) as e:  # report, stop the broker
        tap.check(False, "unexpected error: %r" % (e,))
    finally:
        if started:
            rc, out, err, _ = broker("stop", bdir, timeout=60)
            if rc != 0:
                tap.diag("cleanup stop failed: " + err)
        if tap.failed:
            fail_logs()
        tap.diag("timing: " + " ".join(timings))
        if os.environ.get("KAFKA_TEST_KEEP") == "1":
            tap.diag("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    tap.plan()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
