#!/usr/bin/env python3
"""
peerctl's output and exit status against a relay with js-libp2p peers:
js A reserves, js B holds a circuit to A through the relay, and a ban is
set.  Every show command runs in text and with -j: the JSON parses, its
numbers are numbers, its listings are arrays holding what the relay has,
and each text table has its columns at the offsets of its header in
every row, with the same peers as the JSON.  Exit status: 0 on success;
2 with a usage line for a usage error, an unknown command and a bad
argument; 1 with the reason on stderr for a request peerd refuses or
that fails, for a write command on the read-only socket and for a socket
no one listens on.  Speaks TAP.

Usage: peerctl.py BUILDDIR   as root.  Every address is on 127.0.0.0/8.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (end, TAP, Suite, wait_value, kill, EventReader,  # noqa: E402
                   js_ready, exit_on_signals, check_args, need_root,
                   temp_base, JSDIR, parse_events)

t = TAP()
NODE = ["node", "--import", "./polyfill.mjs", "node.mjs"]
JSENV = dict(os.environ, INTEROP_TIMEOUT="150", INTEROP_DIAL_TIMEOUT="10")
JSPROCS = []
CONF = ("mode: relay\n"
        "relay:\n"
        "  enabled: true\n"
        "  hop:\n"
        "    enabled: true\n"
        "  limit:\n"
        "    duration: 0\n"
        "    data: 0\n"
        "  rateLimit:\n"
        "    connectionsPerMinute: 0\n")
BAN = "127.0.0.77"     # as show bans gives it

# each table: the command, its header's column names (man/peerctl.8),
# the -j array, and a column with the member of the -j rows it shows
TABLES = (
    (("show", "connections"),
     ("peer", "dir", "address", "age", "streams", "agent"),
     "connections", ("peer", "peerId")),
    (("show", "reservations"), ("peer", "address", "expires"),
     "reservations", ("peer", "peerId")),
    (("show", "circuits"),
     ("source", "target", "bytes out", "bytes back", "age", "limits"),
     "circuits", ("target", "target")),
    (("show", "peers"),
     ("peer", "conn", "last seen", "last success", "fails", "sources",
      "address", "agent"), "peers", ("peer", "peerId")),
    (("show", "bans"), ("target", "until", "reason"), "bans",
     ("target", "target")),
    (("show", "accounting"),
     ("day", "peer", "rsvps", "circuits", "bytes in", "bytes out"),
     "accounting", ("peer", "peerId")),
)
PROCS_HEAD = ("process", "pid", "user", "state", "sandbox",
              "root / detail")


def seed(n):
    return "%064x" % (0x5eed0000 + n)


class Js(EventReader):
    """A node.mjs that runs until its stdin closes."""

    def __init__(self, args, n):
        e = dict(JSENV, PEER_KEY_SEED=seed(n))
        p = subprocess.Popen(NODE + list(args), cwd=JSDIR, env=e,
                             start_new_session=True, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        JSPROCS.append(p)
        EventReader.__init__(self, p)


def js_peer_id(n):
    r = subprocess.run(NODE + ["peerid", seed(n)], cwd=JSDIR, env=JSENV,
                       capture_output=True, text=True, timeout=60)
    for ev in parse_events(r.stdout):
        if ev.get("event") == "peerid":
            return ev["peerId"]
    raise RuntimeError("node.mjs peerid failed: %s" % r.stderr[-300:])


def numbers(obj, path=""):
    """The members of obj that hold a number as a string."""
    bad = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            bad += numbers(v, path + "." + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            bad += numbers(v, "%s[%d]" % (path, i))
    elif isinstance(obj, str) and obj.strip().lstrip("-").isdigit():
        bad.append(path)
    return bad


def columns(lines, names):
    """Split a table at its header's column offsets: (rows of cells,
    problems).  Every column of every row must start where the header's
    name does, after a blank."""
    head = lines[0]
    offs = []
    for name in names:
        o = head.find(name, offs[-1] + 1 if offs else 0)
        offs.append(o)
    if -1 in offs or offs != sorted(offs) or offs[0] != 0:
        return [], ["header %r lacks %s" % (head, names)]
    rows, bad = [], []
    for line in lines[1:]:
        cells = []
        for i, o in enumerate(offs):
            end = offs[i + 1] if i + 1 < len(offs) else len(line)
            cell = line[o:end]
            if i > 0 and len(line) > o and line[o - 1] != " ":
                bad.append("column %r of %r starts at %d, not after a "
                           "blank" % (names[i], line, o))
            if i + 1 < len(offs) and cell[-1:] != " ":
                bad.append("column %r of %r runs into the next"
                           % (names[i], line))
            if cell[:1] == " " and cell.strip():
                bad.append("column %r of %r starts after %d" %
                           (names[i], line, o))
            cells.append(cell.strip())
        rows.append(cells)
    return rows, bad


def check_table(s, cmd, names, key, first):
    """One listing: -j parses, and the text table is aligned and lists
    what the JSON does."""
    what = " ".join(cmd)
    r = s.ctl("-j", *cmd)
    try:
        js = json.loads(r.stdout)
    except ValueError:
        js = None
    rows = js.get(key) if isinstance(js, dict) else None
    t.ok(r.returncode == 0 and isinstance(rows, list) and rows and
         not numbers(js), "-j %s: exit %s, JSON with %d %s, numbers as "
         "numbers %s" % (what, r.returncode, len(rows or []), key,
                         numbers(js) if js else r.stdout[:200]))
    r = s.ctl(*cmd)
    lines = r.stdout.splitlines()
    cells, bad = columns(lines, names) if lines else ([], ["no output"])
    t.ok(r.returncode == 0 and not bad and cells,
         "%s: %d rows aligned under the header: %s" % (what, len(cells),
                                                      bad[:3]))
    if not rows or not cells:
        t.diag(r.stdout + r.stderr)
        return js
    col, member = first
    want = sorted(str(x.get(member)) for x in rows)
    got = sorted(c[names.index(col)] for c in cells)
    t.ok(got == want, "%s: the text lists the rows of -j: %s vs %s"
         % (what, got, want))
    return js


def check_status(s, relay_id, a_id):
    r = s.ctl("-j", "show", "status")
    try:
        st = json.loads(r.stdout)
    except ValueError:
        st = {}
    t.ok(r.returncode == 0 and st.get("peerId") == relay_id and
         isinstance(st.get("connections"), int) and
         st["connections"] >= 2 and isinstance(st.get("uptime"), int) and
         isinstance(st.get("listenAddrs"), list) and
         len(st.get("processes") or []) == 5 and not numbers(st),
         "-j show status: exit %s, %s connections, 5 processes, numbers "
         "as numbers %s" % (r.returncode, st.get("connections"),
                            numbers(st)))
    r = s.ctl("show", "status")
    lines = r.stdout.splitlines()
    at = [i for i, x in enumerate(lines) if x.startswith("process ")]
    rows, bad = columns(lines[at[0]:], PROCS_HEAD) if at else ([], ["no "
                                                                   "table"])
    # a detail row has only its last column
    names = [c[0] for c in rows if c[0]]
    t.ok(r.returncode == 0 and not bad and
         sorted(names) == sorted(p["name"] for p in st.get("processes", [])),
         "show status: the process table is aligned and lists %s: %s"
         % (names, bad[:3]))


def check_store(s):
    r = s.ctl("-j", "show", "store")
    try:
        st = json.loads(r.stdout)["store"]
    except (ValueError, KeyError):
        st = None
    t.ok(r.returncode == 0 and isinstance(st, dict) and
         isinstance(st.get("accounting"), int) and st["accounting"] >= 1 and
         isinstance(st.get("bans"), int) and st["bans"] >= 1 and
         not numbers(st), "-j show store: %s" % st)
    r = s.ctl("show", "store")
    t.ok(r.returncode == 0 and "records:" in r.stdout,
         "show store: exit %s" % r.returncode)


def exits(s, relay_id, stranger):
    """Exit statuses and what goes to stderr."""
    def run(args, code, what, err=None, sock=None, out=None):
        r = s.ctl(*args, sock=sock)
        good = r.returncode == code and (err is None or err in r.stderr)
        if out is not None:
            good = good and out(r.stdout)
        t.ok(good, "%s: exit %s (want %d) %r" % (what, r.returncode, code,
                                                   r.stderr.strip()[:200]))
        return r

    run(["show", "status"], 0, "show status succeeds")
    run([], 2, "no command is a usage error", "usage:")
    run(["-x", "show"], 2, "an unknown flag is a usage error", "usage:")
    run(["frobnicate"], 2, "an unknown command is a usage error", "usage:")
    run(["show", "frob"], 2, "an unknown show is a usage error", "usage:")
    run(["log", "loud"], 2, "a bad argument is a usage error", "usage:")
    run(["ping", relay_id, "-c", "0"], 2, "ping -c 0 is a bad argument",
        "count 0")
    run(["block", "127.0.0.78", "7x"], 2, "a mistyped duration is a bad "
        "argument", "not a duration")
    run(["disconnect"], 2, "a missing argument is a usage error",
        "missing argument")
    run(["show", "status", "extra"], 2, "an extra argument is a usage "
        "error", "unexpected argument")
    run(["ping", stranger, "-c", "1"], 1, "ping of a peer no one knows "
        "fails", "peerctl: ")
    r = run(["-j", "ping", stranger, "-c", "1"], 1, "-j ping of a peer no "
            "one knows fails")
    try:
        js = json.loads(r.stdout)
    except ValueError:
        js = {}
    t.ok(js.get("ok") is False and js.get("message") and
         js.get("pings") == [], "-j says so: %s" % r.stdout.strip())
    run(["block", "not/a/target"], 1, "block of a malformed target is "
        "refused by peerd", "peerctl: ")
    run(["connect", "/ip4/127.0.0.1/udp/1"], 1, "connect to an address "
        "peerd cannot dial fails", "peerctl: ")
    run(["-s", s.s.sock + ".gone", "show"], 1, "a socket that is not there",
        "cannot connect")
    dead = s.s.sock + ".dead"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as d:
        d.bind(dead)
        run(["-s", dead, "show"], 1, "a socket no one listens on",
            "cannot connect")
    os.unlink(dead)
    cut_short(s)
    run(["-s", "/" + "x" * 200, "show"], 2, "a socket path too long is a "
        "bad argument", "too long")
    run(["-s", s.s.rosock, "reload"], 1, "the read-only socket refuses "
        "reload", "not permitted")
    run(["-s", s.s.rosock, "block", "127.0.0.79"], 1, "the read-only "
        "socket refuses block", "not permitted")
    run(["-s", s.s.rosock, "-j", "show", "bans"], 0, "the read-only "
        "socket answers -j show bans", out=lambda o: BAN in
        [b["target"] for b in json.loads(o)["bans"]])


def cut_short(s):
    """A control socket that closes without an answer: exit 1, the
    reason on stderr, and with -j still one JSON object that says so."""
    path = s.s.sock + ".mute"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)

    def serve():
        for _ in range(2):
            try:
                c, _ = srv.accept()
                c.recv(65536)
                c.close()
            except OSError:
                return
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        r = s.ctl("-j", "show", "connections", sock=path)
        try:
            js = json.loads(r.stdout)
        except ValueError:
            js = {}
        t.ok(r.returncode == 1 and "closed" in r.stderr and
             js.get("ok") is False and js.get("connections") == [],
             "-j on a socket that closes: exit %s, %r, JSON %r"
             % (r.returncode, r.stderr.strip(), r.stdout.strip()))
        r = s.ctl("show", "connections", sock=path)
        t.ok(r.returncode == 1 and "closed" in r.stderr and
             r.stdout == "", "text on a socket that closes: exit %s, %r %r"
             % (r.returncode, r.stderr.strip(), r.stdout))
    finally:
        srv.close()
        th.join(5)
        os.unlink(path)


def run_all(s):
    relay_id = s.peer_id
    a_id, b_id, stranger = js_peer_id(1), js_peer_id(2), js_peer_id(3)
    a = Js(["reserve", s.addr], 1)
    ev = a.event("reserved", timeout=30)
    circ = [x for x in (ev or {}).get("addrs") or []
            if "/p2p-circuit" in x and x.startswith(s.addr)]
    if not t.ok(circ, "js A %s reserves on the relay: %s" % (a_id, ev)):
        return
    b = Js(["hold", circ[0]], 2)
    ok, circs = wait_value(lambda: s.json("show", "circuits",
                                          key="circuits") or [],
                           lambda v: any(c.get("source") == b_id and
                                         c.get("target") == a_id
                                         for c in v), timeout=30)
    if not t.ok(ok, "js B %s holds a circuit to A through the relay: %s"
                % (b_id, circs)):
        kill(b.p)
        t.diag("js B: %s %s" % (b.events, b.p.stderr.read()[-1000:]))
        return
    r = s.ctl("block", BAN, "1h", "test", "ban")
    t.ok(r.returncode == 0, "block %s: exit %s %s" % (BAN, r.returncode,
                                                       r.stderr.strip()))
    ok, acct = wait_value(lambda: s.json("show", "accounting",
                                         key="accounting") or [],
                          lambda v: any(x.get("peerId") == a_id
                                        for x in v), timeout=30)
    t.ok(ok, "the accounting has A's reservation: %s" % acct)
    check_status(s, relay_id, a_id)
    for cmd, names, key, first in TABLES:
        check_table(s, cmd, names, key, first)
    check_store(s)
    exits(s, relay_id, stranger)
    b.p.stdin.close()
    a.p.stdin.close()


def main():
    build, _ = check_args(__doc__, "a")
    exit_on_signals()
    need_root(t, "peerctl tests")
    base = temp_base("peerd-peerctl-")
    s = None
    try:
        if not js_ready(t, "peerctl tests with js-libp2p"):
            return
        s = suite.Node(t, "relay", build, os.path.join(base, "relay"))
        s.s.prepare()
        s.s.write_conf(CONF)
        s.launch()
        if s.up("peerd relay starts"):
            run_all(s)
            t.ok(s.running(), "peerd still runs")
    except Exception:
        t.ok(False, "peerctl.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        if s is not None:
            s.stop()
        sys.exit(end(t, JSPROCS, base))


if __name__ == "__main__":
    main()
