#!/usr/bin/env python3
"""
The admin HTTP server on admin.listen: GET /status, /health, /metrics,
and the operator guide's health-check script against them.  Speaks TAP.

Usage: admin.py BUILDDIR [CHECK ...]

CHECK is one or more of the letters a to d (default: all):
  a  the guide's health-check script (regress/health-check.sh, copied
     unchanged but for its address): "WARNING: No connections", exit 1,
     on a relay without peers; "OK: 2 connections, 2 reservations",
     exit 0, once two js-libp2p peers reserved on it; "CRITICAL: Relay
     not responding", exit 2, once the suite stopped.  /status has its
     fields with their JSON types, /metrics its content type and a
     # TYPE line
  b  /health: healthy (200) while A has its bootstrap peer B; partitioned
     (503) once B stops; healthy again once B is back on its port
  c  bounds (admin.timeout 2 s): an idle admin connection is closed;
     POST is 405 with Allow: GET, another path 404, a request
     with 16 KiB of headers is refused (never 200); 500 idle admin
     connections held open leave a js peer pinging the suite, and once
     they close /status answers again
  d  /health degraded: with connectionManager.maxConnections 1, a js
     peer connected puts the relay at its limit (503 degraded,
     connectionLimit false); once it leaves, healthy again

Runs as root (peerd -d), needs node (20 or later) for a, c and d, curl and
jq for a.  Every address is on 127.0.0.1; every process started is
stopped at the end.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (end, TAP, wait_for, wait_value, parse_events,  # noqa: E402
                   js_ready, yaml, exit_on_signals, NODE,
                   check_args, need_root, temp_base, run_check,
                   http_request)

t = TAP()
JSENV = dict(os.environ, INTEROP_TIMEOUT="60", INTEROP_DIAL_TIMEOUT="10")
JSPROCS = []
NODES = []
BUILD = None
BASE = None
WAIT = 20
NO_RATE = {"relay": {"rateLimit": {"connectionsPerMinute": 0}}}


def seed(n):
    return "%064x" % (0xad000000 + n)


class Node(suite.Node):
    wait = WAIT
    noise = ("control client closed its channel",)

    def __init__(self, name, conf=None):
        suite.Node.__init__(self, t, name, BUILD, os.path.join(
            BASE, "%s-%d" % (name, len(NODES))))
        d = dict(NO_RATE)
        d.update(conf or {})
        # under the admin: that Suite.write_conf writes
        self.admin_conf = yaml(d.pop("admin", {}), 2)
        self.conf = "\n".join(yaml(d)) + "\n"
        NODES.append(self)

    def start(self):
        self.s.prepare()
        self.s.write_conf(self.conf)
        with open(self.s.conf) as f:
            lines = f.read().split("\n")
        i = lines.index("admin:") + 2
        with open(self.s.conf, "w") as f:
            f.write("\n".join(lines[:i] + self.admin_conf + lines[i:]))
        self.launch()
        return self.up("peerd %s starts" % self.name)

    @property
    def admin(self):
        return "127.0.0.1", self.s.admin_port


# --- HTTP, by hand: what is sent is what the check says ------------------

def http(node, method, path, headers=(), timeout=10):
    """(code, headers dict, body) of one request, or (None, {}, why)."""
    return http_request(node.admin, method, path, headers, timeout)


def get_json(node, path):
    code, _, body = http(node, "GET", path)
    try:
        return code, json.loads(body)
    except ValueError:
        return code, None


# --- js ------------------------------------------------------------------

class JsProc(suite.JsProc):
    def __init__(self, args, env=None):
        suite.JsProc.__init__(self, t, JSPROCS, args,
                              dict(JSENV, **(env or {})), BASE)


def js_ping(addr, count=3, timeout=60):
    """node.mjs ping: (exit status, events)."""
    rc, out, _ = suite.js_run(JSPROCS, NODE + ["ping", addr, str(count)],
                              JSENV, timeout)
    return rc, parse_events(out) if rc is not None else []


# --- the guide's script --------------------------------------------------

def health_script(node):
    """regress/health-check.sh, pointed at node's admin port: (exit
    status, first line)."""
    with open(os.path.join(HERE, "health-check.sh")) as f:
        text = f.read()
    path = os.path.join(BASE, "health-check-%d.sh" % node.s.admin_port)
    with open(path, "w") as f:
        f.write(text.replace("127.0.0.1:4003",
                             "127.0.0.1:%d" % node.s.admin_port))
    r = subprocess.run(["bash", path], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, (r.stdout.strip().splitlines() or [""])[0]


STATUS_TYPES = {"peerId": str, "reservations": int, "connections": int,
                "circuits": int, "mode": str, "version": str,
                "uptime": int, "listen": list, "announce": list,
                "network": str}


def check_status_fields(node):
    code, st = get_json(node, "/status")
    t.ok(code == 200 and st is not None, "GET /status is 200 with JSON "
         "(%s)" % code)
    st = st or {}
    bad = [k for k, ty in STATUS_TYPES.items()
           if not isinstance(st.get(k), ty) or isinstance(st.get(k), bool)]
    t.ok(not bad, "/status has %s with their JSON types (wrong or "
         "missing: %s)" % (", ".join(STATUS_TYPES), bad))
    t.ok(st.get("peerId") == node.peer_id and st.get("mode") == "relay",
         "/status names the relay's peer ID and mode: %s %s"
         % (st.get("peerId"), st.get("mode")))
    want = "/ip4/127.0.0.1/tcp/%d" % node.s.port
    t.ok(want in (st.get("listen") or []), "/status lists %s: %s"
         % (want, st.get("listen")))
    t.ok(st.get("network") in ("ok", "connecting", "partitioned"),
         "/status network is a state: %s" % st.get("network"))
    code, hd, body = http(node, "GET", "/metrics")
    t.ok(code == 200 and hd.get("content-type", "").startswith(
        "text/plain; version=0.0.4") and "# TYPE " in body,
         "GET /metrics is 200, text/plain; version=0.0.4, with # TYPE "
         "lines (%s, %s)" % (code, hd.get("content-type")))


def check_a():
    if shutil.which("curl") is None or shutil.which("jq") is None:
        t.skip("the guide's health-check script", "curl or jq missing "
               "(sh etc/bootstrap test installs them)")
        return
    R = Node("R")
    if not R.start():
        return
    check_status_fields(R)
    rc, line = health_script(R)
    if not t.ok(rc == 1 and line == "WARNING: No connections",
                "health-check.sh on a relay without peers: exit %s, %r"
                % (rc, line)):
        R.show()
    if not js_ready(t, "health-check.sh with js peers reserved"):
        R.stop()
        return
    js = [JsProc(["reserve", R.addr], {"PEER_KEY_SEED": seed(i)})
          for i in (1, 2)]
    try:
        got = [j.event("reserved", timeout=40) for j in js]
        t.ok(all(got), "two js peers reserve on peerd R")
        ok, st = wait_value(lambda: get_json(R, "/status")[1] or {},
                            lambda s: s.get("reservations") == 2 and
                            s.get("connections") == 2)
        t.ok(ok and st.get("connections") == 2,
             "/status counts 2 reservations and 2 connections: %s" % st)
        rc, line = health_script(R)
        if not t.ok(rc == 0 and line == "OK: 2 connections, 2 reservations",
                    "health-check.sh with two js peers reserved: exit %s, "
                    "%r" % (rc, line)):
            R.show()
        code, h = get_json(R, "/health")
        t.ok(code == 200 and (h or {}).get("status") == "healthy" and
             (h or {}).get("peers") == 2 and
             isinstance((h or {}).get("checks"), dict),
             "/health with two peers: 200 healthy, peers 2: %s %s"
             % (code, h))
    finally:
        for j in js:
            j.stop()
    R.stop()
    rc, line = health_script(R)
    t.ok(rc == 2 and line == "CRITICAL: Relay not responding",
         "health-check.sh once the suite stopped: exit %s, %r" % (rc, line))


def health(node):
    code, h = get_json(node, "/health")
    return code, (h or {}).get("status"), h


def check_b():
    B = Node("B", {"connectionManager": {"maxOutgoing": 0,
                                         "minConnections": 0}})
    if not B.start():
        return
    A = Node("A", {"bootstrapPeers": [B.addr],
                   "connectionManager": {"maxOutgoing": 1,
                                         "minConnections": 1,
                                         "dialBackoffMin": 200,
                                         "dialBackoffMax": 2000}})
    if not A.start():
        return
    ok, got = wait_value(lambda: health(A), lambda h: h[0] == 200 and
                         h[1] == "healthy" and h[2].get("peers") == 1)
    if not t.ok(ok,
                "/health of A with its bootstrap peer B: 200 healthy: "
                "%s %s" % (got[0], got[2])):
        A.show()
    B.stop()
    ok, got = wait_value(lambda: health(A),
                         lambda h: h[1] == "partitioned")
    if not t.ok(ok and got[0] == 503 and got[1] == "partitioned" and
                got[2].get("peers") == 0,
                "/health of A once B stopped: 503 partitioned, peers 0: "
                "%s %s" % (got[0], got[2])):
        A.show()
    B.launch()
    B.up("peerd B starts again")
    ok, got = wait_value(lambda: health(A), lambda h: h[0] == 200 and
                         h[1] == "healthy", timeout=30)
    if not t.ok(ok,
                "/health of A once B is back: 200 healthy: %s %s"
                % (got[0], got[2])):
        A.show()
    A.stop()
    B.stop()


def hold_idle(node, n):
    """n admin connections that send nothing."""
    held = []
    for _ in range(n):
        c = socket.socket()
        c.settimeout(10)
        try:
            c.connect(node.admin)
        except OSError:
            c.close()
            break
        held.append(c)
    return held


def closed_by_server(c, timeout):
    """Whether the server closes c, which sent nothing, within timeout."""
    c.settimeout(timeout)
    try:
        return c.recv(1) == b""
    except OSError:
        return False


def check_c():
    R = Node("C", {"admin": {"timeout": 2000}})
    if not R.start():
        return
    idle = hold_idle(R, 1)
    t.ok(idle and closed_by_server(idle[0], WAIT),
         "an idle admin connection is closed after admin.timeout")
    for c in idle:
        c.close()
    code, hd, _ = http(R, "POST", "/status")
    t.ok(code == 405 and hd.get("allow") == "GET",
         "POST /status: 405 with Allow: GET (%s, %s)"
         % (code, hd.get("allow")))
    code, _, _ = http(R, "GET", "/nothing-here")
    t.ok(code == 404, "GET /nothing-here: 404 (%s)" % code)
    code, _, body = http(R, "GET", "/status",
                         ["X-Filler-%d: %s" % (i, "x" * 1000)
                          for i in range(16)])
    t.ok(code != 200, "a GET with 16 KiB of headers is refused, not "
         "served: %s %s" % (code, body[:80]))
    code, st = get_json(R, "/status")
    t.ok(code == 200 and st, "/status answers after it (%s)" % code)
    if not js_ready(t, "500 idle admin connections and a js peer"):
        R.stop()
        return
    held = hold_idle(R, 500)
    try:
        t.ok(len(held) == 500, "500 idle admin connections open (%d)"
             % len(held))
        full = R.wait_log(r"http_full connections=64")
        t.ok(full, "the engine stops accepting admin connections at 64 "
             "and says so")
        rc, ev = js_ping(R.addr, 3)
        pings = [e for e in ev if e.get("event") == "ping" and "rtt" in e]
        if not t.ok(rc == 0 and len(pings) >= 3,
                    "a js peer pings peerd meanwhile: exit %s, %d pings"
                    % (rc, len(pings))):
            R.show()
    finally:
        for c in held:
            c.close()
    ok, got = wait_value(lambda: get_json(R, "/status"),
                         lambda r: r[0] == 200 and r[1] is not None)
    t.ok(ok, "/status answers once they closed (%s)" % got[0])
    R.stop()


def check_d():
    R = Node("D", {"connectionManager": {"maxConnections": 1,
                                         "minConnections": 0}})
    if not R.start():
        return
    code, st, h = health(R)
    t.ok(code == 200 and st == "healthy", "/health of D without peers: "
         "200 healthy: %s %s" % (code, h))
    if not js_ready(t, "/health at the connection limit"):
        R.stop()
        return
    js = JsProc(["reserve", R.addr], {"PEER_KEY_SEED": seed(9)})
    try:
        t.ok(js.event("reserved", timeout=40), "a js peer reserves on D")
        ok, got = wait_value(lambda: health(R),
                             lambda h: h[1] == "degraded")
        checks = (got[2] or {}).get("checks") or {}
        if not t.ok(ok and got[0] == 503 and
                    checks.get("connectionLimit") is False,
                    "/health of D at maxConnections 1: 503 degraded, "
                    "connectionLimit false: %s %s" % (got[0], got[2])):
            R.show()
    finally:
        js.stop()
    ok, got = wait_value(lambda: health(R), lambda h: h[0] == 200 and
                         h[1] == "healthy")
    t.ok(ok, "/health of D once the js peer left: 200 healthy: %s %s"
         % (got[0], got[2]))
    R.stop()


def main():
    global BUILD, BASE
    BUILD, which = check_args(__doc__, "abcd")
    exit_on_signals()
    need_root(t, "admin.py")
    BASE = temp_base("peerd-admin-")
    try:
        for name, fn in (("a", check_a), ("b", check_b), ("c", check_c),
                         ("d", check_d)):
            if name in which:
                run_check(t, name, fn)
    finally:
        for n in NODES:
            n.stop()
        return end(t, JSPROCS, BASE)


if __name__ == "__main__":
    sys.exit(main())
