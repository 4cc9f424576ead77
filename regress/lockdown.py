#!/usr/bin/env python3
"""
peerctl key show, and the lockdown of a security breach (peerd(8),
SECURITY BREACH).  Speaks TAP.

Usage: lockdown.py BUILDDIR [CHECKS]   as root; CHECKS are letters
(default: all):
  k  peerctl key show, text and -j: the peer ID show status gives, a
     public key (base64 of the protobuf PublicKey) whose identity
     multihash is that peer ID and whose key is the public half of the
     key file, Ed25519, the fingerprint as ssh prints one (SHA256 of
     the protobuf, base64 without padding), the key file and its mtime,
     not encrypted; the text aligned
  l  a relay with a js-libp2p peer connected (node.mjs watch) and one
     reserved (node.mjs reserve): the 32-byte seed of the key file is
     in keyd's memory and in no other process's (read through
     /proc/PID/maps and /proc/PID/mem); neither a prefix (lockdow) nor
     the read-only socket locks down; peerctl lockdown: both js connections close, no TCP
     connection is accepted on the listen port, show status says
     lockdown (text, -j, every process's state), the reservation is
     gone from show reservations, the metric peerd_lockdown is 1 (0
     before), /health is 503
     lockdown, key show and connect fail saying lockdown, keyd's memory
     no longer has the seed, every process logged it at level alert
     (log.format json), the processes are the same and still up; a
     reload, a SIGHUP and a second lockdown leave it in lockdown
  s  SIGUSR2 to the parent of a second suite: lockdown as above
     (status, the listen port, /health, keyd's memory)
  p  with stored stopped (SIGSTOP), peerctl lockdown fails naming
     stored, the log names it late, the engine and keyd locked down
     all the same; once stored goes on (SIGCONT) it is in lockdown too
Every address is on 127.0.0.1.
"""
import base64
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (TAP, wait_for, wait_value, kill, js_ready,  # noqa: E402
                   EventReader, exit_on_signals, check_args, need_root,
                   need_users, temp_base, run_check, nothing_left, JSDIR,
                   b58encode, http_request)
from suite import mem_find as suite_mem_find  # noqa: E402

t = TAP()
NODE = ["node", "--import", "./polyfill.mjs", "node.mjs"]
JSENV = dict(os.environ, INTEROP_TIMEOUT="60", INTEROP_DIAL_TIMEOUT="10")
JSPROCS = []
BUILD = None
BASE = None
WAIT = 20
NAMES = ("parent", "engine", "keyd", "stored", "relayd")
CONF = ("mode: relay\nlog:\n  format: json\n  rateLimit: 0\n"
        "relay:\n  rateLimit:\n    connectionsPerMinute: 0\n")


class Node(suite.Node):
    wait = WAIT
    noise = ("control client closed its channel",)

    def __init__(self, name):
        suite.Node.__init__(self, t, name, BUILD,
                            os.path.join(BASE, name))
        self.conf = CONF

    def status(self):
        return self.json("show", "status") or {}

    def procs(self):
        return {p["name"]: p for p in self.status().get("processes", [])}

    def seed(self):
        """The 32-byte seed: Data[0:32] of the protobuf key file."""
        with open(os.path.join(self.s.keys, "identity.key"), "rb") as f:
            pb = f.read()
        return pb[4:36], pb[36:68]

    def events(self, name):
        """The JSON log lines of event name."""
        out = []
        for ln in self.since().splitlines():
            try:
                o = json.loads(ln)
            except ValueError:
                continue
            if isinstance(o, dict) and o.get("event") == name:
                out.append(o)
        return out


# --- memory ----------------------------------------------------------------

def mem_find(pid, needle):
    """Where needle is in the memory of pid (suite.mem_find)."""
    hits = suite_mem_find(pid, [needle])
    return None if hits is None else hits[needle]


# --- the outside -------------------------------------------------------

def spawn(args, env=None):
    e = dict(JSENV)
    e.update(env or {})
    p = subprocess.Popen(NODE + list(args), cwd=JSDIR, env=e,
                         start_new_session=True, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    JSPROCS.append(p)
    return EventReader(p)


def tcp_refused(port):
    """None when a TCP connection to port is refused, or accepted and
    closed without a byte; otherwise what happened."""
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=3)
    except OSError:
        return None
    try:
        c.settimeout(3)
        data = c.recv(64)
    except socket.timeout:
        return "accepted and held open"
    except OSError:
        return None
    finally:
        c.close()
    return None if data == b"" else "accepted, sent %r" % data


def health(node):
    """(code, JSON) of GET /health, by hand."""
    code, _, body = http_request(("127.0.0.1", node.s.admin_port), "GET",
                                 "/health")
    try:
        return code, json.loads(body) if code is not None else body
    except ValueError:
        return None, body[:200]


def lockdown_metric(node):
    """The value of peerd_lockdown in show metrics -j, or None."""
    for m in node.json("show", "metrics", key="metrics") or []:
        if m.get("name") == "peerd_lockdown":
            return m.get("value")
    return None


def in_lockdown(node, what):
    """The checks of a suite in lockdown: status, the port, /health, the
    metric."""
    st = node.status()
    states = {n: p["state"] for n, p in node.procs().items()}
    t.ok(st.get("lockdown") is True and
         all(states.get(n) == "lockdown" for n in NAMES),
         "%s: show status -j says lockdown, and every process's state "
         "is lockdown: %s %s" % (what, st.get("lockdown"), states))
    r = node.ctl("show", "status")
    t.ok(r.returncode == 0 and "LOCKDOWN" in r.stdout,
         "%s: show status (text) says LOCKDOWN: exit %s" %
         (what, r.returncode))
    ok, why = wait_value(lambda: tcp_refused(node.s.port),
                         lambda w: w is None, timeout=5)
    t.ok(ok, "%s: no TCP connection is accepted on the listen port "
         "(%s)" % (what, why or "refused"))
    code, h = health(node)
    t.ok(code == 503 and isinstance(h, dict) and
         h.get("status") == "lockdown" and "lockdown" in h.get("reason", ""),
         "%s: /health is 503 lockdown with a reason: %s %s"
         % (what, code, h))
    v = lockdown_metric(node)
    t.ok(v == 1, "%s: the metric peerd_lockdown is 1: %s" % (what, v))


def keyd_clean(node, seed, what):
    pid = node.procs().get("keyd", {}).get("pid")
    hits = mem_find(pid, seed) if pid else None
    t.ok(hits == [], "%s: keyd's memory (pid %s) no longer has the "
         "32-byte seed: %s" % (what, pid, hits))
    if hits == []:
        t.diag("%s: 8-byte runs of the seed left in keyd: %d" % (
            what, sum(len(mem_find(pid, seed[i:i + 8]) or [])
                      for i in range(0, 32, 8))))


# --- k: key show -------------------------------------------------------

def check_k():
    A = Node("K")
    if not A.start():
        return
    seed, pub = A.seed()
    k = A.json("key", "show") or {}
    t.ok(k.get("peerId") == A.peer_id,
         "key show -j gives the peer ID show status gives: %s %s"
         % (k.get("peerId"), A.peer_id))
    try:
        pb = base64.b64decode(k.get("publicKey", ""), validate=True)
    except ValueError:
        pb = b""
    t.ok(pb[:4] == b"\x08\x01\x12\x20" and len(pb) == 36 and
         pb[4:] == pub, "the public key is the base64 of an Ed25519 "
         "PublicKey protobuf holding the key file's public half: %r"
         % k.get("publicKey"))
    # the peer ID of an Ed25519 key: the identity multihash of the pb
    t.ok(b58encode(b"\x00" + bytes([len(pb)]) + pb) == A.peer_id,
         "the public key decodes to the peer ID (identity multihash)")
    fp = "SHA256:" + base64.b64encode(
        hashlib.sha256(pb).digest()).decode().rstrip("=")
    t.ok(k.get("type") == "Ed25519" and k.get("fingerprint") == fp,
         "type Ed25519, fingerprint SHA256 of the protobuf as ssh "
         "prints one: %s %s" % (k.get("type"), k.get("fingerprint")))
    kf = os.path.join(A.s.keys, "identity.key")
    t.ok(k.get("file") == kf and
         k.get("created") == int(os.stat(kf).st_mtime) and
         k.get("encrypted") is False,
         "the key file, its mtime, not encrypted: %s %s %s"
         % (k.get("file"), k.get("created"), k.get("encrypted")))
    r = A.ctl("key", "show")
    rows = dict(re.match(r"^([a-z A-Z]+:) +(\S.*)$", ln).groups()
                for ln in r.stdout.splitlines()
                if re.match(r"^([a-z A-Z]+:) +(\S.*)$", ln))
    cols = {len(ln) - len(ln.split(": ", 1)[1].lstrip())
            for ln in r.stdout.splitlines() if ": " in ln}
    t.ok(r.returncode == 0 and rows.get("peer ID:") == A.peer_id and
         rows.get("public key:") == k.get("publicKey") and
         rows.get("encrypted:") == "no" and len(cols) == 1,
         "key show (text): the same peer ID and public key, not "
         "encrypted, every value in one column: exit %s, %r"
         % (r.returncode, r.stdout))
    r = A.ctl("key", "show", sock=A.s.rosock)
    t.ok(r.returncode == 0 and A.peer_id in r.stdout,
         "key show is allowed on the read-only socket: exit %s"
         % r.returncode)
    A.stop()


# --- l: lockdown -------------------------------------------------------

def check_l():
    A = Node("A")
    if not A.start():
        return
    seed, _ = A.seed()
    before = {n: p["pid"] for n, p in A.procs().items()}
    if not js_ready(t, "lockdown with js-libp2p peers"):
        return
    watch = spawn(["watch", A.addr], {"PEER_KEY_SEED": "%064x" % 0xa1})
    rsv = spawn(["reserve", A.addr], {"PEER_KEY_SEED": "%064x" % 0xa2})
    got = (watch.event("addrs", timeout=40), rsv.event("reserved",
                                                        timeout=40))
    if not t.ok(all(got), "a js peer connects (watch) and one reserves "
                "on peerd A: %s" % (got,)):
        A.show()
        return
    ok, n = wait_value(lambda: len(A.json("show", "connections",
                                          key="connections") or []),
                       lambda n: n == 2)
    t.ok(ok, "show connections lists the two js peers: %s" % n)
    rs = A.json("show", "reservations", key="reservations") or []
    t.ok(len(rs) == 1, "show reservations lists the js reservation: %s"
         % rs)
    v = lockdown_metric(A)
    t.ok(v == 0, "before: the metric peerd_lockdown is 0: %s" % v)
    hits = {n: mem_find(pid, seed) for n, pid in before.items()}
    t.ok(len(hits.get("keyd") or []) >= 1,
         "before: keyd's memory holds the seed (the scan finds it): %s"
         % hits.get("keyd"))
    t.ok(all(hits[n] == [] for n in hits if n != "keyd"),
         "after handshakes and a reservation no other process has the "
         "seed anywhere in its memory: %s"
         % {n: h for n, h in hits.items() if n != "keyd"})

    r = A.ctl("lockdow")
    t.ok(r.returncode == 2 and A.status().get("lockdown") is False,
         "no prefix stands for lockdown: peerctl lockdow exits %s"
         % r.returncode)
    r = A.ctl("lockdown", sock=A.s.rosock)
    t.ok(r.returncode == 1 and "read-only" in r.stderr and
         A.status().get("lockdown") is False,
         "the read-only socket refuses lockdown: exit %s %r"
         % (r.returncode, r.stderr.strip()))

    r = A.ctl("lockdown")
    t.ok(r.returncode == 0 and "lockdown" in r.stdout,
         "peerctl lockdown: exit %s %r" % (r.returncode,
                                           (r.stdout + r.stderr).strip()))
    closed = (watch.event("closed", timeout=10),
              rsv.event("close", timeout=10))
    t.ok(all(closed), "both js connections are closed: %s" % (closed,))
    ok, n = wait_value(lambda: A.json("show", "connections",
                                      key="connections"),
                       lambda c: c == [], timeout=10)
    t.ok(ok, "show connections: none: %s" % n)
    ok, rs = wait_value(lambda: A.json("show", "reservations",
                                       key="reservations"),
                        lambda r: r == [], timeout=10)
    t.ok(ok, "show reservations: none, relayd dropped it: %s" % rs)
    in_lockdown(A, "peerctl lockdown")
    r = A.ctl("key", "show")
    t.ok(r.returncode == 1 and "lockdown" in r.stderr,
         "key show fails saying lockdown: exit %s %r"
         % (r.returncode, r.stderr.strip()))
    r = A.ctl("connect", "/ip4/127.0.0.1/tcp/%d" % A.s.port)
    t.ok(r.returncode == 1 and "lockdown" in r.stderr,
         "connect fails saying lockdown: exit %s %r"
         % (r.returncode, r.stderr.strip()))
    keyd_clean(A, seed, "peerctl lockdown")
    entered = {e.get("process"): e.get("level")
               for e in A.events("lockdown_entered")}
    parent = [e.get("level") for e in A.events("lockdown_started") +
              A.events("lockdown_complete")]
    t.ok(all(entered.get(n) == "alert" for n in NAMES if n != "parent")
         and parent == ["alert", "alert"],
         "every process logged the lockdown at level alert: %s, parent "
         "%s" % (entered, parent))
    after = {n: p["pid"] for n, p in A.procs().items()}
    t.ok(after == before and all(suite.pids_alive(after.values())),
         "the suite stays up, the same processes: %s" % after)

    A.mark = len(A.s.log())
    r = A.ctl("reload")
    t.ok(r.returncode == 0, "reload in lockdown: exit %s" % r.returncode)
    in_lockdown(A, "after reload")
    os.kill(before["parent"], signal.SIGHUP)
    A.wait_log("config_reloaded", count=2)
    in_lockdown(A, "after SIGHUP")
    r = A.ctl("lockdown")
    t.ok(r.returncode == 0 and A.running(),
         "a second lockdown is harmless: exit %s" % r.returncode)
    in_lockdown(A, "after a second lockdown")
    t.ok(A.events("lockdown_entered") == [],
         "no process entered lockdown twice")
    keyd_clean(A, seed, "after reload and a second lockdown")
    for j in (watch, rsv):
        kill(j.p)
    A.stop()


# --- s: SIGUSR2 --------------------------------------------------------

def check_s():
    B = Node("B")
    if not B.start():
        return
    seed, _ = B.seed()
    pid = B.procs()["parent"]["pid"]
    os.kill(pid, signal.SIGUSR2)
    ok, st = wait_value(lambda: B.status().get("lockdown"),
                        lambda v: v is True)
    t.ok(ok and B.events("lockdown_started") and
         B.events("lockdown_started")[0].get("by") == "SIGUSR2",
         "SIGUSR2 to the parent: lockdown, started by SIGUSR2: %s" % st)
    B.wait_log("lockdown_complete")
    in_lockdown(B, "SIGUSR2")
    keyd_clean(B, seed, "SIGUSR2")
    B.stop()


# --- p: a process that does not answer ---------------------------------

def check_p():
    C = Node("C")
    if not C.start():
        return
    seed, _ = C.seed()
    stored = C.procs()["stored"]["pid"]
    os.kill(stored, signal.SIGSTOP)
    try:
        r = C.ctl("lockdown")
        t.ok(r.returncode == 1 and "stored did not answer" in r.stderr,
             "lockdown with stored stopped: exit 1, naming stored: exit "
             "%s %r" % (r.returncode, r.stderr.strip()))
        late = [e.get("late") for e in C.events("lockdown_complete")]
        t.ok(late == ["stored"], "lockdown_complete names stored late: %s"
             % late)
        ok, why = wait_value(lambda: tcp_refused(C.s.port),
                             lambda w: w is None, timeout=5)
        t.ok(ok, "the engine locked down all the same: the listen port "
             "refuses (%s)" % (why or "refused"))
        keyd_clean(C, seed, "stored stopped")
    finally:
        os.kill(stored, signal.SIGCONT)
    ok, st = wait_value(lambda: C.procs().get("stored", {}).get("state"),
                        lambda v: v == "lockdown")
    t.ok(ok, "once it goes on, stored is in lockdown too: %s" % st)
    C.stop()


def main():
    global BUILD, BASE
    exit_on_signals()
    BUILD, which = check_args(__doc__, "klsp")
    need_root(t, "lockdown test")
    need_users(t)
    BASE = temp_base("peerd-lockdown-")
    try:
        for c in which:
            run_check(t, c, globals()["check_" + c])
    finally:
        for p in JSPROCS:
            kill(p)
        suite.Suite.cleanup_all()
    nothing_left(t, JSPROCS)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
