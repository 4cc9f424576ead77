#!/usr/bin/env python3
"""
The control sockets' bounds and the engine's answers when another
process does not answer: show status with stored stopped (SIGSTOP) names
stored as not answering and returns, show peers and block end with an
error naming stored, and once stored goes on (SIGCONT) status is whole
again; the control socket keys (a per-user cap, a pool, an idle timeout)
applied from the file and on reload; a reload that changes announce
reaches a connected js-libp2p peer by identify-push, without
reconnecting; an unknown protocol a peer proposes is counted and logged
at debug level, escaped and cut.  Speaks TAP.

Usage: control.py BUILDDIR [CHECKS]   as root; CHECKS are letters:
  s  show status and show peers with stored stopped
  k  controlSocketReadonlyMaxPerUser, ...MaxClients, ...IdleTimeout
  a  reload changing announce, seen by js-libp2p (node.mjs watch)
  u  unknown protocols (regress/interop/rawnoise.mjs --propose)
Every address is on 127.0.0.0/8.
"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import (Suite, TAP, wait_for, wait_value, parse_events,  # noqa
                   kill, EventReader, js_ready, exit_on_signals, need_root,
                   need_users, temp_base, check_args, JSDIR, MemWatch,
                   engine_pid, held_by, reap, js_pings)

t = TAP()
PROCS = []
NODE = ["node", "--import", "./polyfill.mjs", "node.mjs"]
RAWNOISE = os.path.join(JSDIR, "rawnoise.mjs")
NAMES = {"parent", "engine", "keyd", "stored", "relayd"}

# what the suite's file has beside Suite's own lines
KEYS = ("controlSocketReadonlyMaxPerUser: 2\n"
        "controlSocketReadonlyMaxClients: 3\n"
        "controlSocketReadonlyIdleTimeout: 1000\n")


def show_log(s, since=0, lines=25):
    t.diag("peerd log (tail):")
    for line in s.log()[since:].strip().splitlines()[-lines:]:
        t.diag("  " + line)


def ctl(s, *args, timeout=30, sock=None):
    """peerctl; exit status None when it did not finish in timeout s."""
    try:
        return s.ctl(*args, timeout=timeout, sock=sock)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            args, None, "", "peerctl did not finish in %d s" % timeout)


def status(s, timeout=30):
    """show status as JSON, or None."""
    r = ctl(s, "-j", "show", "status", timeout=timeout)
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def procs(st):
    return {} if st is None else {p["name"]: p for p in st["processes"]}


def count(s, *path):
    """A count of show status -j, by its path of members, or None."""
    v = status(s)
    for k in path:
        v = v.get(k) if isinstance(v, dict) else None
    return v


# --- s: a stopped stored ------------------------------------------------

def check_stopped(s):
    st = status(s)
    pid = procs(st).get("stored", {}).get("pid")
    if not t.ok(pid, "stored's pid from show status: %s" % pid):
        return
    os.kill(pid, signal.SIGSTOP)
    try:
        # the engine answers in 2 s; 15 s is a generous bound
        r = ctl(s, "-j", "show", "status", timeout=15)
        try:
            st = json.loads(r.stdout)
        except ValueError:
            st = None
        p = procs(st)
        t.ok(r.returncode == 0 and st is not None,
             "show status returns, whole, with stored stopped: exit %s %s"
             % (r.returncode, r.stderr.strip()))
        t.ok(p.get("stored", {}).get("state") == "not answering",
             "stored is named as not answering: %s"
             % json.dumps(p.get("stored")))
        t.ok(set(p) == NAMES and all(p[n]["state"] == "running"
                                     for n in NAMES - {"stored"}),
             "every other process answers: %s"
             % {n: q["state"] for n, q in p.items()})
        t.ok(p.get("stored", {}).get("pid") == pid,
             "the row of stored is what it said last (pid %s): %s"
             % (pid, p.get("stored", {}).get("pid")))
        r = ctl(s, "show", "status", timeout=15)
        t.ok(r.returncode == 0 and re.search(
            r"^stored +%d .*not answering" % pid, r.stdout, re.M),
             "the text says so too: exit %s %s" % (r.returncode,
                                                   r.stdout[-400:]))
        r = ctl(s, "show", "peers", timeout=25)
        t.ok(r.returncode == 1 and
             "stored did not answer" in r.stderr,
             "show peers ends with an error naming stored: exit %s %s"
             % (r.returncode, (r.stdout + r.stderr).strip()))
        r = ctl(s, "block", "198.51.100.7", "1m", "stopped", timeout=25)
        t.ok(r.returncode == 1 and "stored did not answer" in r.stderr and
             "holds" in r.stderr,
             "block ends with an error naming stored, the ban in force: "
             "exit %s %s" % (r.returncode, (r.stdout + r.stderr).strip()))
        r = ctl(s, "-j", "show", "bans", timeout=15)
        t.ok(r.returncode == 0 and "198.51.100.7" in r.stdout,
             "the ban is in force meanwhile: %s" % r.stdout.strip())
    finally:
        os.kill(pid, signal.SIGCONT)
    # the late answers reach nobody: each process has one row
    ok, st = wait_value(lambda: status(s), lambda v: v is not None and
                        sorted(x["name"] for x in v["processes"]) ==
                        sorted(NAMES) and all(x["state"] == "running"
                                              for x in v["processes"]))
    t.ok(ok, "after SIGCONT status is whole again, one row a process: %s"
         % (None if st is None else
            [(x["name"], x["state"]) for x in st["processes"]]))
    r = ctl(s, "-j", "show", "peers")
    t.ok(r.returncode == 0 and r.stdout.startswith("{"),
         "and show peers answers: exit %s %s"
         % (r.returncode, r.stderr.strip()))
    ok, _ = wait_value(lambda: ctl(s, "-j", "show", "store").stdout,
                       lambda v: '"bans":1' in v.replace(" ", ""))
    t.ok(ok, "stored wrote the ban once it read it")
    r = ctl(s, "unblock", "198.51.100.7")
    t.ok(r.returncode == 0, "unblock: exit %s %s"
         % (r.returncode, r.stderr.strip()))
    n = count(s, "control", "late") or 0
    t.ok(n >= 4, "show status counts the late answers: %d" % n)
    t.ok(re.search(r"control: stored did not answer IMSG_CTL_SHOW_STATUS "
                   r"within 2 s", s.log()),
         "and logs them, naming stored")


# --- k: the control socket keys ------------------------------------------

def check_keys(s):
    nobody = pwd.getpwnam("nobody").pw_uid
    mark = len(s.log())
    kept, pid = held_by(nobody, s.rosock, 10, settle=0.5)
    t.ok(kept == 2, "controlSocketReadonlyMaxPerUser 2: 10 clients of "
         "nobody on the read-only socket, %s kept" % kept)
    reap(pid)
    kept, pid = held_by(0, s.rosock, 10, settle=0.5)
    t.ok(kept == 3, "controlSocketReadonlyMaxClients 3: 10 of root, who "
         "has no per-user cap, %s kept" % kept)
    r = ctl(s, "show", "status")
    t.ok(r.returncode == 0, "root's own socket has its own pool: exit %s %s"
         % (r.returncode, r.stderr.strip()))
    reap(pid)
    t.ok(wait_for(lambda: "its user has the most it may" in
                  s.log()[mark:], timeout=10),
         "the refusal of nobody's third client is logged")
    n = count(s, "control", "refused") or 0
    t.ok(n >= 15, "and counted in show status: %d refused (8 of nobody and "
         "7 of root at least)" % n)
    # idle: the configured 1000 ms, said in the debug line
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(s.rosock)
    c.settimeout(30)
    try:
        closed = c.recv(1) == b""
    except OSError:
        closed = False
    c.close()
    t.ok(closed and wait_for(lambda: "was idle for 1000 ms, closed" in
                             s.log()[mark:], timeout=10),
         "controlSocketReadonlyIdleTimeout 1000: an idle read-only client "
         "is closed, and the log says after 1000 ms (closed %s)" % closed)
    # on reload
    with open(s.conf) as f:
        conf = f.read()
    with open(s.conf, "w") as f:
        f.write(conf.replace("MaxPerUser: 2", "MaxPerUser: 3"))
    r = ctl(s, "reload")
    t.ok(r.returncode == 0, "reload with controlSocketReadonlyMaxPerUser "
         "3: exit %s %s" % (r.returncode, r.stderr.strip()))
    kept, pid = held_by(nobody, s.rosock, 10, settle=0.5)
    t.ok(kept == 3, "after the reload nobody keeps 3 of 10: %s" % kept)
    reap(pid)


# --- a: reload changing announce ----------------------------------------

def spawn_js(args):
    p = subprocess.Popen(NODE + args, cwd=JSDIR, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    PROCS.append(p)
    return EventReader(p)


def still_served(s, peer_id):
    """After the checks a js-libp2p peer dials peerd and pings it."""
    if js_ready(t, "a js-libp2p peer served after the checks"):
        js_pings(t, "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (s.port, peer_id), 2,
                 "after the checks")


def check_announce(s, peer_id):
    if not js_ready(t, "reload changing announce, seen by js-libp2p"):
        return
    old = "/ip4/127.0.0.1/tcp/%d" % s.port
    new = "/ip4/127.0.0.2/tcp/%d" % s.port
    js = spawn_js(["watch", "%s/p2p/%s" % (old, peer_id)])
    try:
        first = js.wait(lambda e: e.get("event") == "addrs" and
                        old in e.get("certified", []), timeout=30)
        if not t.ok(first, "js-libp2p connects and has %s from peerd's "
                    "signed record" % old):
            show_js(js)
            return
        with open(s.conf) as f:
            conf = f.read()
        with open(s.conf, "w") as f:
            f.write(conf.replace('announce: ["%s"]' % old,
                                 'announce: ["%s"]' % new))
        r = ctl(s, "reload")
        t.ok(r.returncode == 0, "reload with announce %s: exit %s %s"
             % (new, r.returncode, r.stderr.strip()))
        ev = js.wait(lambda e: e.get("event") == "addrs" and
                     new in e.get("certified", []), timeout=30)
        if not t.ok(ev, "js-libp2p's peer store has %s, from the new "
                    "signed record, by identify-push" % new):
            show_js(js)
            show_log(s)
            return
        t.ok(ev["conn"] == first["conn"] and ev["status"] == "open" and
             not js.all("closed"),
             "on the same connection (%s, then %s, %s), never closed"
             % (first["conn"], ev["conn"], ev["status"]))
    finally:
        js.p.stdin.close()
        kill(js.p)


def show_js(js):
    t.diag("node.mjs exit status: %s" % js.p.poll())
    for e in js.events:
        t.diag("js: " + json.dumps({k: v for k, v in e.items()
                                    if k != "_t"}))
    if js.p.poll() is not None:
        for line in js.p.stderr.read().strip().splitlines()[-10:]:
            t.diag("js stderr: " + line)


# --- u: unknown protocols -----------------------------------------------

# a name a hostile peer might choose: quotes, a backslash, an escape
# sequence, a newline, bytes that are not UTF-8, and 300 bytes in all
EVIL = (b'/evil/"x"\\y\x1b[31m\nforged line' + bytes([0xff, 0xc3]) +
        b"A" * 300)[:300]


def propose(s, peer_id, name):
    p = subprocess.Popen(["node", RAWNOISE, "early", "127.0.0.1",
                          str(s.port), peer_id, "--propose=" + name.hex()],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    PROCS.append(p)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        kill(p)
        out, err = p.communicate()
    return p.returncode, parse_events(out), err


def check_unknown(s, peer_id):
    if not js_ready(t, "unknown protocols from a raw client", modules=False):
        return
    before = count(s, "protocolsUnknown")
    mark = len(s.log())
    rc, ev, err = propose(s, peer_id, EVIL)
    prop = [e for e in ev if e.get("event") == "proposed"]
    if not t.ok(rc == 0 and prop and prop[0].get("answer") == "na",
                "a raw client proposes a 300-byte hostile name: na, then "
                "ping works (exit %s)" % rc):
        for e in ev:
            t.diag("rawnoise: " + json.dumps(e))
        t.diag(err[-500:])
    n = count(s, "protocolsUnknown")
    t.ok(isinstance(before, int) and n == before + 1,
         "counted in show status: %s, was %s" % (n, before))
    _, lines = wait_value(lambda: [ln for ln in s.log()[mark:].splitlines()
                                   if "protocol_unknown" in ln],
                          lambda v: v, timeout=10)
    line = lines[0] if lines else ""
    t.ok(len(lines) == 1, "one protocol_unknown line at debug level: %d"
         % len(lines))
    t.ok('protocol="/evil/\\"x\\"\\\\y\\033[31m\\nforged line\\377\\303'
         in line and "length=300" in line,
         "the name escaped (quote, backslash, ESC, newline, bytes) with "
         "its length: %r" % line)
    since = s.log()[mark:]
    t.ok(not any(ln.startswith("forged line") for ln in
                 since.splitlines()) and "\x1b" not in since,
         "no raw newline or escape sequence reaches the log")
    t.ok(len(line) < 400 and "AAAA" * 16 not in line,
         "the name is cut (%d bytes of line)" % len(line))
    # brief: still counted, not logged
    r = ctl(s, "log", "brief")
    mark = len(s.log())
    rc, ev, err = propose(s, peer_id, b"/unknown/brief/1.0.0")
    n2 = count(s, "protocolsUnknown")
    t.ok(rc == 0 and isinstance(n, int) and n2 == n + 1 and
         "protocol_unknown" not in s.log()[mark:],
         "with log brief a proposal is counted (%s) and not logged" % n2)
    ctl(s, "log", "verbose")


def main():
    checks_doc = __doc__
    build, which = check_args(checks_doc, "skau")
    exit_on_signals()
    need_root(t, "control tests")
    need_users(t)
    base = temp_base("peerd-control-")
    s = None
    try:
        s = Suite(build, os.path.join(base, "peerd"))
        s.prepare()
        s.write_conf(KEYS + 'announce: ["/ip4/127.0.0.1/tcp/%d"]\n'
                     % s.port)
        if not t.ok(s.start(), "peerd starts"):
            show_log(s)
            return
        peer_id = status(s)["peerId"]
        t.diag("peerd is /ip4/127.0.0.1/tcp/%d/p2p/%s" % (s.port, peer_id))
        watch = MemWatch(engine_pid(s))
        for c, fn in (("s", lambda: check_stopped(s)),
                      ("k", lambda: check_keys(s)),
                      ("a", lambda: check_announce(s, peer_id)),
                      ("u", lambda: check_unknown(s, peer_id))):
            if c not in which:
                continue
            try:
                fn()
            except Exception:
                t.ok(False, "check %s ran to the end without an exception"
                     % c)
                t.diag(traceback.format_exc())
                show_log(s)
        t.ok(s.proc.poll() is None and status(s) is not None,
             "peerd still runs and answers")
        watch.check(t, "the control checks")
        still_served(s, peer_id)
    finally:
        for p in PROCS:
            kill(p)
        if s is not None:
            s.stop()
        Suite.cleanup_all()
        left = [p.pid for p in PROCS if p.poll() is None]
        t.ok(not left and not Suite.leftovers(),
             "nothing left running: %s %s" % (left, Suite.leftovers()))
        shutil.rmtree(base, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
