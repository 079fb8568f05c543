#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tidegatectl against a fake admin server.

A UNIX socket server in a thread answers canned JSON, one line per request,
with the schemas of tidegate's admin socket (and some replies no real server
should send: not JSON, too long, none at all). The test runs the client as
people and scripts do and checks exit codes, what the readable output says,
that --json prints the object itself, that errors go to stderr, and that
`top` draws its screens, reconnects, quits on q and on signals, and gives
the terminal back as it found it (on a pseudo-terminal). TAP on stdout.
Python 3, standard library only. Usage: test_tidegatectl.py TIDEGATECTL
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

CTL = os.path.abspath(sys.argv[1])
MAX_REPLY = 16 << 20

HELP = {"commands": [
    {"name": "help", "usage": "help", "help": "this list"},
    {"name": "status", "usage": "status", "help": "state of the gate"},
    {"name": "set-rate", "usage": "set-rate BUCKET RATE [BURST]",
     "help": "override the rate of a bucket"},
    {"name": "lag", "usage": "lag inject N | lag clear",
     "help": "pretend the consumers lag"},
]}

STATUS = {
    "version": "0.1.0", "uptime_s": 3723.4, "severity": "warning",
    "severity_forced": False, "breaker": "half-open", "breaker_mode": "auto",
    "tick": 123, "tick_ms": 100, "lag": 4567,
    "lag_sources": [{"pipeline": "main", "source": "ring", "lag": 4567}],
    "ports": [{"name": "in", "device": "net_pcap0", "ipackets": 1234567,
               "imissed": 3, "rx_nombuf": 0, "opackets": 1200000,
               "oerrors": 0}],
    "workers": [{"id": 0, "lcore": 1, "busy_pct": 99.5},
                {"id": 1, "lcore": 2, "busy_pct": 42.0}],
    "config": "/etc/tidegate/tidegate.conf", "reaction_us": 850,
    "tick_delay_max_us": 1200, "shed_below": 0,
    "future_member": {"ignored": True},
}

OUTCOME_KEYS = ["admitted", "marked", "shaped", "dropped_limit",
                "dropped_breaker", "dropped_shed", "dropped_credit",
                "dropped_shape_full", "dropped_malformed",
                "dropped_unsupported", "dropped_tx_full"]


def outcomes(admitted, dropped_limit):
    o = {k: 0 for k in OUTCOME_KEYS}
    o["admitted"] = admitted
    o["dropped_limit"] = dropped_limit
    return o


def stats(admitted=12345, dropped=678):
    return {
        "buckets": [
            {"name": "orders", "tier": "topic", "pipeline": "main",
             "mode": "packets", "controller": "aimd",
             "configured_rate": 1000.0, "effective_rate": 800.0,
             "override_rate": None, "burst": 100, "tokens": 42,
             "utilization": 0.93, "demand_rate": 1200.5,
             "admitted_rate": 800.1, "rejected_rate": 400.4,
             "admitted": admitted, "rejected": dropped,
             "shadow_rejected": 0, "new_member": 1},
            {"name": "global", "tier": "global", "pipeline": "main",
             "mode": "bytes", "controller": "pid",
             "configured_rate": 125000000.0, "effective_rate": 1.0e8,
             "override_rate": 5.0e7, "burst": 1500000, "tokens": 1499000,
             "utilization": 0.25, "demand_rate": 2.5e7,
             "admitted_rate": 2.5e7, "rejected_rate": 0.0,
             "admitted": 98765432, "rejected": 0, "shadow_rejected": 17},
        ],
        "workers": [{"id": 0, "busy_pct": 99.1, "rx": admitted + dropped,
                     "outcomes": outcomes(admitted, dropped)}],
        "rx": admitted + dropped,
        "outcomes": outcomes(admitted, dropped),
    }


CREDITS = {
    "consumers": [
        {"consumer": "10.1.0.5", "available": 900, "granted": 1000,
         "fraction_left": 0.9, "blocked": False},
        {"consumer": "2001:db8::7", "available": 0, "granted": 5000,
         "fraction_left": 0.0, "blocked": True},
    ],
    "pipelines": [{"name": "main", "ring_free": 60000, "ring_size": 65536,
                   "fraction_free": 0.91, "blocked": False}],
}

SILENT = object()   # keep the connection, never answer
HANGUP = object()   # close the connection without an answer

CANNED = {
    "help": HELP,
    "status": STATUS,
    "stats": stats(),
    "set-rate orders 500 50": {"ok": True, "bucket": "orders",
                               "rate": 500.0, "burst": 50},
    "config reload": {"ok": True, "changed": ["orders", "payments"]},
    "severity": {"severity": "warning", "forced": False,
                 "auto_level": "warning"},
    "severity force critical": {"ok": True, "severity": "critical"},
    "breaker": {"breaker": "open", "mode": "auto"},
    "credits show": CREDITS,
    "frobnicate now": {"widgets": 3, "label": "x y",
                       "nested": {"a": [1, 2]}},
    "reset nope": {"error": "no such bucket: nope"},
    "oknotok": {"ok": False},
    "evil": {"name": "\x1b[31mred\x1b]0;pwned\x07",
             "c1": "\u009b2J", "nul": "a\u0000b", "del": "x\x7fy"},
    "notjson": b"this is not json\n",
    "array": b"[1, 2]\n",
    "huge": b'{"x":"' + b"a" * (MAX_REPLY + 10) + b'"}\n',
    "exact": b'{"pad":"' + b"a" * (MAX_REPLY - 10) + b'"}\n',
    "silent": SILENT,
    "hangup": HANGUP,
}


def canned(line):
    if line in CANNED:
        return CANNED[line]
    return {"error": "unknown command: " + line}


class FakeServer:
    """The admin socket: one reply line per request line, from handler(line)
    (a dict, raw bytes, SILENT or HANGUP). close_after: close a connection
    after that many replies (0: never)."""

    def __init__(self, path, handler=canned, close_after=0):
        self.path = path
        self.handler = handler
        self.close_after = close_after
        self.requests = []
        self.connections = 0
        self.conns = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        buf = b""
        replies = 0
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.decode("utf-8", "replace")
                    with self.lock:
                        self.requests.append(line)
                    reply = self.handler(line)
                    if reply is SILENT:
                        continue
                    if reply is HANGUP:
                        return
                    if isinstance(reply, dict):
                        reply = json.dumps(reply).encode() + b"\n"
                    conn.sendall(reply)
                    replies += 1
                    if self.close_after and replies >= self.close_after:
                        return
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        """Stop listening, drop every connection, remove the file."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


n_tests = 0
n_failed = 0


def check(name, cond, detail=""):
    global n_tests, n_failed
    n_tests += 1
    if cond:
        print("ok %d - %s" % (n_tests, name))
    else:
        n_failed += 1
        print("not ok %d - %s" % (n_tests, name))
        for line in str(detail).splitlines()[:60]:
            print("#   " + line)
    sys.stdout.flush()


def base_env():
    env = dict(os.environ)
    for k in ("TIDEGATE_SOCKET", "NO_COLOR"):
        env.pop(k, None)
    env["TERM"] = "xterm"
    return env


def run(args, env=None, timeout=30):
    """Run tidegatectl; returns (exit status, stdout, stderr) as text."""
    p = subprocess.run([CTL] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout,
                       env=env or base_env())
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def info(rc, out, err):
    return "exit %s\n--- stdout\n%s\n--- stderr\n%s" % (rc, out[:3000],
                                                        err[:3000])


def section(out, title):
    """The lines of a titled table of the readable output."""
    lines = out.split("\n")
    i = lines.index(title)
    rows = []
    for line in lines[i + 1:]:
        if not line.startswith("  "):
            break
        rows.append(line)
    return rows


def test_one_shot(tmp):
    path = os.path.join(tmp, "admin.sock")
    srv = FakeServer(path)
    s = ["-s", path]

    rc, out, err = run(s + ["help"])
    lines = out.splitlines()
    cols = set()
    for usage in ("help", "status", "set-rate BUCKET RATE [BURST]",
                  "lag inject N | lag clear"):
        line = [x for x in lines if x.startswith(usage + " ")]
        cols.add(len(line[0]) - len(line[0][len(usage):].lstrip())
                 if line else -1)
    check("help: usage and help of every command, aligned",
          rc == 0 and len(cols) == 1 and -1 not in cols
          and "override the rate of a bucket" in out, info(rc, out, err))
    check("help: lists the client's own top",
          re.search(r"^top \[--interval S\].*q quits", out, re.M),
          info(rc, out, err))

    rc, out, err = run(s + ["status"])
    want = ["0.1.0", "1h 02m 03s", "/etc/tidegate/tidegate.conf",
            "half-open (mode auto)", "4,567", "123 (every 100 ms)",
            "850 us", "1,200 us", "net_pcap0", "1,234,567", "1,200,000",
            "99.5%", "42.0%"]
    check("status: readable, with grouped numbers",
          rc == 0 and all(w in out for w in want) and err == "",
          info(rc, out, err) + "\nwanted %s" % want)
    check("status: severity and breaker, not coloured into a pipe",
          re.search(r"^severity +warning$", out, re.M) and "\x1b" not in out,
          info(rc, out, err))
    check("status: unknown members ignored",
          "future_member" not in out and "ignored" not in out,
          info(rc, out, err))
    check("status: lag sources, ports and workers tables",
          all(t in out.split("\n") for t in
              ("lag sources", "ports", "workers"))
          and re.search(r"^  main +ring +4,567$", out, re.M),
          info(rc, out, err))

    nolag = dict(STATUS, lag=None, lag_sources=[])
    CANNED["status nolag"] = nolag
    rc, out, err = run(s + ["status", "nolag"])
    check("status: lag null reads unknown",
          rc == 0 and re.search(r"^lag +unknown", out, re.M)
          and "lag sources" not in out, info(rc, out, err))

    rc, out, err = run(s + ["--json", "status"])
    try:
        got = json.loads(out)
    except ValueError:
        got = None
    check("status --json: the object itself, indented",
          rc == 0 and got == STATUS and out.startswith("{\n  \""),
          info(rc, out, err))

    rc, out, err = run(s + ["status", "--json"])
    check("--json after the command works too",
          rc == 0 and out.startswith("{"), info(rc, out, err))

    rc, out, err = run(s + ["stats"])
    want = ["orders", "global", "topic", "aimd", "1.00k/s", "800/s",
            "125M/s", "50.0M/s", "1,500,000", "93%", "1.20k/s",
            "800.1/s", "400.4/s", "12,345", "98,765,432", "99.1%"]
    check("stats: buckets, rates with SI suffixes and /s, totals",
          rc == 0 and all(w in out for w in want),
          info(rc, out, err) + "\nwanted %s" % want)
    rows = section(out, "buckets") if rc == 0 else []
    check("stats: bucket table columns aligned",
          len(rows) == 3 and len(set(len(r) for r in rows)) == 1
          and re.search(r"^  orders .* -  +100 +42$", rows[1]),
          "\n".join(rows))
    rows = section(out, "outcomes") if rc == 0 else []
    check("stats: outcomes with counts and shares",
          any(re.match(r"^  admitted +12,345 +94\.8%$", r) for r in rows)
          and any(re.match(r"^  dropped_limit +678 +5\.2%$", r)
                  for r in rows) and len(rows) == 2 + len(OUTCOME_KEYS),
          "\n".join(rows))
    rows = section(out, "workers") if rc == 0 else []
    check("stats: workers with dropped summed",
          len(rows) == 2 and re.search(r"99\.1% +13,023 +12,345 +0 +0 +678$",
                                       rows[1]), "\n".join(rows))

    rc, out, err = run(s + ["set-rate", "orders", "500", "50"])
    check("set-rate: one request line, words joined by single spaces",
          "set-rate orders 500 50" in srv.requests, srv.requests)
    check("set-rate: ok and the extra members",
          rc == 0 and out == "ok\nbucket: orders\nrate: 500\nburst: 50\n",
          info(rc, out, err))

    rc, out, err = run(s + ["config", "reload"])
    check("config reload: lists what changed",
          rc == 0 and out == "ok\nchanged: orders, payments\n",
          info(rc, out, err))

    rc, out, err = run(s + ["severity", "force", "critical"])
    check("severity force: ok and the new level",
          rc == 0 and out == "ok\nseverity: critical\n", info(rc, out, err))

    rc, out, err = run(s + ["severity"])
    check("severity: level, forced, automatic level",
          rc == 0 and re.search(r"^severity +warning$", out, re.M)
          and re.search(r"^forced +no$", out, re.M)
          and re.search(r"^auto_level +warning$", out, re.M),
          info(rc, out, err))

    rc, out, err = run(s + ["breaker"])
    check("breaker: state and mode",
          rc == 0 and re.search(r"^breaker +open$", out, re.M)
          and re.search(r"^mode +auto$", out, re.M), info(rc, out, err))

    rc, out, err = run(s + ["credits", "show"])
    check("credits show: consumers table",
          rc == 0 and re.search(r"^  10\.1\.0\.5 +900 +1,000 +90% +no$",
                                out, re.M)
          and re.search(r"^  2001:db8::7 +0 +5,000 +0% +yes$", out, re.M),
          info(rc, out, err))
    check("credits show: pipelines table",
          re.search(r"^  main +60,000 +65,536 +91% +no$", out, re.M),
          info(rc, out, err))

    rc, out, err = run(s + ["frobnicate", "now"])
    check("unknown command: passed through, reply as key: value",
          rc == 0 and "frobnicate now" in srv.requests
          and out == 'widgets: 3\nlabel: x y\nnested: {"a":[1,2]}\n',
          info(rc, out, err))

    rc, out, err = run(s + ["reset", "nope"])
    check("error reply: exit 1, message on stderr, nothing on stdout",
          rc == 1 and err == "tidegatectl: no such bucket: nope\n"
          and out == "", info(rc, out, err))

    rc, out, err = run(s + ["--json", "reset", "nope"])
    check("error reply with --json: exit 1, the object on stdout",
          rc == 1 and json.loads(out or "null") ==
          {"error": "no such bucket: nope"}
          and "no such bucket: nope" in err, info(rc, out, err))

    rc, out, err = run(s + ["oknotok"])
    check("ok: false: exit 1", rc == 1 and "false" in err,
          info(rc, out, err))

    rc, out, err = run(s + ["evil"])
    check("control characters from the server are made visible",
          rc == 0 and "\x1b" not in out and "\x07" not in out
          and "\u009b" not in out and "\\x1b[31mred" in out
          and "\\u009b2J" in out and "a\\x00b" in out
          and "x\\x7fy" in out, info(rc, out, err))

    rc, out, err = run(s + ["--json", "evil"])
    check("--json keeps the strings, escaped by the JSON encoder",
          rc == 0 and "\x1b" not in out
          and json.loads(out)["name"] == CANNED["evil"]["name"],
          info(rc, out, err))

    for cmd, msg in (("notjson", "reply is not JSON"),
                     ("array", "reply is not a JSON object"),
                     ("huge", "reply longer than 16 MiB"),
                     ("hangup", "tidegate closed the connection without a reply")):
        rc, out, err = run(s + [cmd])
        check("%s: exit 2 with a clear message" % cmd,
              rc == 2 and err.startswith("tidegatectl: " + msg)
              and out == "", info(rc, out, err))

    rc, out, err = run(s + ["exact"])
    check("a reply of exactly 16 MiB is fine",
          rc == 0 and len(out) == len("pad: \n") + MAX_REPLY - 10,
          info(rc, out[:100], err))

    t0 = time.monotonic()
    rc, out, err = run(s + ["silent"])
    took = time.monotonic() - t0
    check("no reply: exit 2 after 5 s",
          rc == 2 and err == "tidegatectl: no reply within 5 s\n"
          and 4.5 < took < 9, info(rc, out, err) + "\ntook %.1f s" % took)

    t0 = time.monotonic()
    rc, out, err = run(s + ["--timeout", "0.3", "silent"])
    took = time.monotonic() - t0
    check("--timeout 0.3 gives up sooner",
          rc == 2 and err == "tidegatectl: no reply within 0.3 s\n"
          and took < 3, info(rc, out, err))

    env = base_env()
    env["TIDEGATE_SOCKET"] = path
    rc, out, err = run(["breaker"], env=env)
    check("$TIDEGATE_SOCKET names the socket", rc == 0,
          info(rc, out, err))
    env["TIDEGATE_SOCKET"] = os.path.join(tmp, "nowhere.sock")
    rc, out, err = run(s + ["breaker"], env=env)
    check("-s wins over $TIDEGATE_SOCKET", rc == 0, info(rc, out, err))

    before = len(srv.requests)
    rc, out, err = run(s + ["set-rate", "a b", "1"])
    check("an argument with a space is refused, nothing sent",
          rc == 2 and "space" in err and len(srv.requests) == before,
          info(rc, out, err))
    rc, out, err = run(s + ["set-rate", "a\nstatus", "1"])
    check("an argument with a newline is refused",
          rc == 2 and len(srv.requests) == before, info(rc, out, err))
    srv.close()


def test_usage_and_connect(tmp):
    rc, out, err = run([])
    check("no command: exit 2 and a hint",
          rc == 2 and "no command" in err, info(rc, out, err))
    rc, out, err = run(["--frobnicate", "status"])
    check("unknown option: exit 2 and the usage",
          rc == 2 and "usage:" in err, info(rc, out, err))
    rc, out, err = run(["-h"])
    check("-h: usage on stdout, exit 0",
          rc == 0 and out.startswith("usage: tidegatectl"),
          info(rc, out, err))
    rc, out, err = run(["--timeout", "0", "status"])
    check("--timeout 0 is refused", rc == 2 and "-t" in err,
          info(rc, out, err))
    rc, out, err = run(["--interval", "1", "status"])
    check("--interval without top is refused",
          rc == 2 and "for top" in err, info(rc, out, err))
    rc, out, err = run(["--json", "top"])
    check("top --json is refused", rc == 2, info(rc, out, err))

    missing = os.path.join(tmp, "missing.sock")
    rc, out, err = run(["-s", missing, "status"])
    check("missing socket: exit 2, the path, errno and a hint",
          rc == 2 and err == "tidegatectl: cannot connect to %s: No such "
          "file or directory (is tidegate running? -s PATH)\n" % missing
          and out == "", info(rc, out, err))

    dead = os.path.join(tmp, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(dead)
    s.close()
    rc, out, err = run(["-s", dead, "status"])
    check("nobody listening: exit 2, connection refused",
          rc == 2 and err.startswith("tidegatectl: cannot connect to " +
                                     dead + ": Connection refused (is "
                                     "tidegate running?"),
          info(rc, out, err))

    if not os.path.exists("/run/tidegate/admin.sock"):
        rc, out, err = run(["status"])
        check("default socket: /run/tidegate/admin.sock",
              rc == 2 and "cannot connect to /run/tidegate/admin.sock: "
              in err, info(rc, out, err))
    else:
        check("default socket: /run/tidegate/admin.sock # SKIP in use",
              True)

    rc, out, err = run(["-s", "/tmp/" + "x" * 120, "status"])
    check("socket path too long: exit 2", rc == 2 and "too long" in err,
          info(rc, out, err))


def frames(out):
    """The screens of top drawn into a pipe, each starting at its title."""
    return [f for f in re.split(r"(?m)^(?=tidegate )", out) if f.strip()]


class Counting:
    """stats whose counters grow by 1000 admitted, 10 dropped a call."""

    def __init__(self):
        self.n = 0

    def __call__(self, line):
        if line == "stats":
            self.n += 1
            return stats(admitted=10000 + 1000 * self.n,
                         dropped=100 + 10 * self.n)
        return canned(line)


def test_top(tmp):
    path = os.path.join(tmp, "top.sock")
    srv = FakeServer(path, handler=Counting())
    rc, out, err = run(["-s", path, "top", "--iterations", "2",
                        "--interval", "0.2"])
    fr = frames(out)
    check("top: two screens, exit 0",
          rc == 0 and len(fr) == 2 and "\x1b" not in out,
          info(rc, out, err))
    want = ["tidegate 0.1.0", "up 1h 02m 03s", "severity warning",
            "breaker half-open (auto)", "lag 4,567", "ticks 123",
            "busiest worker 99.5% (worker 0)", "orders", "global"]
    check("top: header with severity, breaker, lag, ticks, busiest worker",
          all(all(w in f for w in want) for f in fr),
          info(rc, out, err) + "\nwanted %s" % want)
    check("top: a row per bucket with a utilization bar",
          all(re.search(r"^orders +topic +1.00k +800 +\[#########-\]  93% +"
                        r"1.20k +800.1 +400.4$", f, re.M)
              and re.search(r"^global +global +125M +100M +\[###-------\]"
                            r"  25%", f, re.M) for f in fr),
          info(rc, out, err))
    check("top: status and stats on one connection",
          srv.connections == 1 and
          srv.requests == ["status", "stats", "status", "stats"],
          "connections %d, requests %s" % (srv.connections, srv.requests))
    m = re.search(r"^admitted +([0-9.]+)k +12,000$",
                  fr[1] if len(fr) == 2 else "", re.M)
    check("top: outcome rates from the change between screens",
          "(rates from the next refresh)" in fr[0]
          and re.search(r"^admitted +- +11,000$", fr[0], re.M)
          and m and 2.5 < float(m.group(1)) < 7.5
          and re.search(r"^dropped_limit +[0-9.]+ +120$", fr[1], re.M),
          info(rc, out, err))
    srv.close()

    srv = FakeServer(path, close_after=2)
    rc, out, err = run(["-s", path, "top", "--iterations", "3",
                        "--interval", "0.1"])
    fr = frames(out)
    check("top: reconnects when the server closed the connection",
          rc == 0 and len(fr) == 3 and all("orders" in f for f in fr)
          and srv.connections == 3, info(rc, out, err) +
          "\nconnections %d" % srv.connections)
    srv.close()

    rc, out, err = run(["-s", path, "top", "--iterations", "2",
                        "--interval", "0.1"])
    fr = frames(out)
    check("top: no server, disconnected, retrying",
          rc == 0 and len(fr) == 2 and all(
              "disconnected, retrying" in f and "No such file" in f
              for f in fr), info(rc, out, err))

    # The server goes away and comes back while top runs.
    srv = FakeServer(path)
    p = subprocess.Popen([CTL, "-s", path, "top", "--iterations", "12",
                          "--interval", "0.25"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=base_env())
    time.sleep(0.7)
    srv.close()
    time.sleep(0.8)
    srv = FakeServer(path)
    out, err = p.communicate(timeout=30)
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    fr = frames(out)
    kinds = "".join("d" if "disconnected, retrying" in f else
                    "u" if "orders" in f else "?" for f in fr)
    check("top: keeps trying while the server is away, then resumes",
          p.returncode == 0 and re.fullmatch(r"u+d+u+", kinds),
          "kinds %s\n" % kinds + info(p.returncode, out, err))
    srv.close()


def pty_run(args, act=None, timeout=15):
    """Run tidegatectl with stdin and stdout on a pseudo-terminal of 40x120.
    act(output so far, master fd, process) is called as output comes; it
    returns True once it did its part. Returns (exit status, output,
    stderr, terminal mode before, after)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([CTL] + args, stdin=slave, stdout=slave,
                         stderr=subprocess.PIPE, env=base_env())
    buf = b""
    done = act is None
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            buf += os.read(master, 65536)
        if not done:
            done = act(buf, master, p)
        if p.poll() is not None and not r:
            break
    if p.poll() is None:
        p.kill()
    rc = p.wait()
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    return rc, buf.decode("utf-8", "replace"), err, before, after


def test_top_tty(tmp):
    path = os.path.join(tmp, "tty.sock")
    srv = FakeServer(path)

    rc, out, err, before, after = pty_run(["-s", path, "top",
                                           "--iterations", "2",
                                           "--interval", "0.2"])
    check("top on a terminal: alternate screen, cursor hidden and back",
          rc == 0 and out.startswith("\x1b[?1049h\x1b[?25l")
          and out.rstrip().endswith("\x1b[?25h\x1b[?1049l")
          and out.count("\x1b[H") == 2, info(rc, repr(out[:2000]), err))
    check("top on a terminal: severity and breaker coloured",
          "\x1b[33mwarning\x1b[0m" in out
          and "\x1b[33mhalf-open\x1b[0m" in out and "q quits" in out,
          info(rc, repr(out[:2000]), err))
    check("top on a terminal: terminal mode restored", before == after,
          "before %s\nafter  %s" % (before, after))

    def press_q(buf, master, p):
        if b"q quits" in buf:
            os.write(master, b"q")
            return True
        return False

    t0 = time.monotonic()
    rc, out, err, before, after = pty_run(["-s", path, "top"], press_q)
    check("top: q quits at once, exit 0, terminal restored",
          rc == 0 and before == after and time.monotonic() - t0 < 5
          and out.rstrip().endswith("\x1b[?1049l"),
          info(rc, repr(out[-300:]), err))

    for sig in (signal.SIGTERM, signal.SIGINT):
        def send(buf, master, p, sig=sig):
            if b"q quits" in buf:
                p.send_signal(sig)
                return True
            return False
        rc, out, err, before, after = pty_run(["-s", path, "top",
                                               "--interval", "5"], send)
        check("top: %s ends it, terminal restored, dies of the signal"
              % signal.Signals(sig).name,
              rc == -sig and before == after
              and out.rstrip().endswith("\x1b[?1049l"),
              info(rc, repr(out[-300:]), err))

    CANNED["evil"] = dict(CANNED["evil"], wide="caf\u00e9")
    rc, out, err, before, after = pty_run(["-s", path, "--json", "evil"])
    try:
        got = json.loads(out)
    except ValueError:
        got = None
    check("--json on a terminal: C1 controls and DEL escaped, still JSON",
          rc == 0 and got == CANNED["evil"] and "\x1b" not in out
          and "\u009b" not in out and "\x7f" not in out
          and "\\u009B" in out and "\\u007F" in out,
          info(rc, repr(out), err))

    rc, out, err, before, after = pty_run(["-s", path, "status"])
    check("status on a terminal: severity coloured",
          rc == 0 and "\x1b[33mwarning\x1b[0m" in out,
          info(rc, repr(out), err))
    srv.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_usage_and_connect(tmp)
        test_one_shot(tmp)
        test_top(tmp)
        test_top_tty(tmp)
    print("1..%d" % n_tests)
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
