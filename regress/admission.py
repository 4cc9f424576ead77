#!/usr/bin/env python3
"""
Admission under attack: the rate per source that does not forget, and a
handshake storm from 2,000 addresses during which honest peers still get
in.  Every source address is on 127.0.0.0/8 (on Linux all of it is
local: a client binds its socket to 127.x.y.z before it connects).
Speaks TAP.

Usage: admission.py BUILDDIR [CHECK ...]

CHECK is one or more of (default: all):
  r  rate: with relay.rateLimit.connectionsPerMinute 5, 100 sources try
     20 times each (at most 5 get in), then 1,100 other sources once
     each (more than the 1,024 addresses the old limiter kept), then the
     first 100 again: every one is still refused.  After a reload with
     connectionManager.ipv4PrefixLength 24, 50 addresses of one /24 are
     one source: at most 5 of them get in.
  s  storm: 2,000 source addresses keep connections open that start the
     handshake (multistream, /noise, Noise message 1) and never finish
     it, reconnecting as soon as peerd drops them; once they hold every
     handshake slot, honest peers (regress/interop/rawnoise.mjs, each
     from an address of its own) keep dialling: at least one full
     handshake (and a ping) completes during the storm, and the ratio
     is reported; a js-libp2p peer connected before the storm (holding
     a reservation) keeps its connection and answers a ping; after the
     storm a new js-libp2p peer connects and pings.

Runs as root (peerd -d).  Raises its RLIMIT_NOFILE, which peerd
inherits.  Needs node 20 or later for the honest peers and the js-libp2p
peer (the storm's other checks run without it).
"""
import errno
import multiprocessing
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (Suite, Node, TAP, wait_for, wait_value, yaml,  # noqa: E402
                   exit_on_signals, check_args, need_root, need_users,
                   temp_base, run_check, nothing_left, js_ready, kill,
                   parse_events, JSDIR, MemWatch, engine_pid, js_pings)

t = TAP()
BUILD = None
BASE = None
NODES = []
PROCS = []
RAWNOISE = os.path.join(JSDIR, "rawnoise.mjs")
JSENV = dict(os.environ, INTEROP_TIMEOUT="60", INTEROP_DIAL_TIMEOUT="20")

RATE = 5			# connectionsPerMinute in check r
STORM_SOURCES = 2000
STORM_SECONDS = 30		# honest dials run this long in the storm
HONEST_WORKERS = 2


def new_node(name, conf):
    n = Node(t, name, BUILD, os.path.join(BASE, name))
    n.s.prepare()
    n.s.write_conf("\n".join(yaml(conf)) + "\n")
    NODES.append(n)
    n.launch()
    if not n.up("peerd %s starts" % name):
        return None
    return n


def attempt(src, port, timeout=5.0):
    """One connection from src: "in" when peerd starts multistream on
    it, "refused" when it closes it at once, "lost" when neither comes
    in time."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        data = s.recv(64)
        return "in" if data else "refused"
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return "refused"
    except OSError:
        return "lost"
    finally:
        s.close()


def refused_count(n):
    return n.engine_count("refused")


def check_rate():
    """the rate per source forgets no source"""
    n = new_node("rate", {
        "relay": {"rateLimit": {"connectionsPerMinute": RATE}},
        "connectionManager": {"maxIncomingPendingConnections": 100000,
                              "maxPendingPerIP": 1024,
                              "maxConnectionsPerIP": 1000000,
                              "maxConnections": 100000}})
    if n is None:
        return
    n.ctl("log", "brief")
    watch = MemWatch(engine_pid(n.s))
    port = n.s.port
    first = ["127.10.0.%d" % (i + 1) for i in range(100)]
    rotating = ["127.11.%d.%d" % (i // 250, i % 250 + 1)
                for i in range(1100)]
    before = refused_count(n)
    got = {}
    for src in first:
        got[src] = [attempt(src, port) for _ in range(4 * RATE)]
    ins = [r.count("in") for r in got.values()]
    lost = sum(r.count("lost") for r in got.values())
    t.diag("100 sources, %d attempts each: admitted per source min %d "
           "max %d, %d lost" % (4 * RATE, min(ins), max(ins), lost))
    t.ok(max(ins) <= RATE and lost == 0,
         "no source of the first 100 gets more than %d of %d in: at most "
         "%d, %d attempts without an answer" % (RATE, 4 * RATE, max(ins),
                                                 lost))
    t.ok(min(ins) >= 1, "every one of them gets in at first: the fewest "
         "admitted is %d" % min(ins))
    rot = [attempt(src, port) for src in rotating]
    t.ok(rot.count("in") == len(rotating),
         "1,100 other sources, once each: %d of %d get in (%d refused, "
         "%d lost)" % (rot.count("in"), len(rotating),
                       rot.count("refused"), rot.count("lost")))
    again = [attempt(src, port) for src in first]
    if not t.ok(again.count("refused") == len(first),
                "the first 100 again, after 1,100 others: %d of %d still "
                "refused (%d in, %d lost)"
                % (again.count("refused"), len(first), again.count("in"),
                   again.count("lost"))):
        n.show()
    seen = sum(r.count("refused") for r in got.values()) + \
        rot.count("refused") + again.count("refused")
    ok, counted = wait_value(lambda: refused_count(n) - before,
                             lambda v: v == seen, timeout=10)
    t.ok(ok, "peerd counts as refused what the clients saw refused: "
         "%s counted, %d seen" % (counted, seen))
    t.ok(n.log_lines(r"connection_refused addr=127\.10\.0\.\d+:\d+ "
                     r"reason=rate_limit$"),
         "the refusals are logged with the reason")
    # one /24 is one source
    n.s.write_conf("\n".join(yaml({
        "relay": {"rateLimit": {"connectionsPerMinute": RATE}},
        "connectionManager": {"maxIncomingPendingConnections": 100000,
                              "maxPendingPerIP": 1024,
                              "maxConnectionsPerIP": 1000000,
                              "maxConnections": 100000,
                              "ipv4PrefixLength": 24}})) + "\n")
    r = n.ctl("reload")
    t.ok(r.returncode == 0, "reload with ipv4PrefixLength 24: exit %s %s"
         % (r.returncode, (r.stdout + r.stderr).strip()))
    # the answer comes through the engine after the new configuration
    net = [attempt("127.12.0.%d" % (i + 1), port) for i in range(50)]
    t.ok(1 <= net.count("in") <= RATE,
         "50 addresses of 127.12.0.0/24, once each, are one source: %d "
         "get in (1 to %d)" % (net.count("in"), RATE))
    watch.check(t, "1,100 rotating sources")
    if js_ready(t, "a js-libp2p peer served after the rotating sources"):
        js_pings(t, n.addr, 2, "after the rotating sources")
    n.stop()


# --- the storm ---------------------------------------------------------

def ms(*lines):
    out = b""
    for line in lines:
        b = line.encode() + b"\n"
        out += bytes([len(b)]) + b
    return out


def storm(port, sources, stop, q):
    """Hold a connection from each source that starts the handshake and
    never finishes it; open another as soon as peerd drops one.  Runs in
    a process of its own; puts its counts on q when stop is set."""
    sel = selectors.DefaultSelector()
    hello = ms("/multistream/1.0.0", "/noise") + b"\x00\x20" + \
        os.urandom(32)
    st = {"opened": 0, "answered": 0, "dropped": 0, "failed": 0}

    def open_one(src):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((src, 0))
            err = s.connect_ex(("127.0.0.1", port))
        except OSError:
            s.close()
            st["failed"] += 1
            return False
        if err not in (0, errno.EINPROGRESS):
            s.close()
            st["failed"] += 1
            return False
        st["opened"] += 1
        sel.register(s, selectors.EVENT_WRITE, [src, False])
        return True

    def drop(s, src):
        sel.unregister(s)
        s.close()
        st["dropped"] += 1
        again.append(src)

    again = list(sources)
    while not stop.is_set():
        todo, again = again, []
        for src in todo:
            if not open_one(src):
                again.append(src)
        for key, ev in sel.select(timeout=0.05):
            s, (src, up) = key.fileobj, key.data
            if not up:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    drop(s, src)
                    continue
                try:
                    s.send(hello)
                except OSError:
                    drop(s, src)
                    continue
                sel.modify(s, selectors.EVENT_READ, [src, True])
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                st["answered"] += 1
            else:
                drop(s, src)
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    q.put(st)


def honest(port, peer_id, n, stop, results, lock):
    """Worker n: full dials (Noise, yamux, a ping) one after another,
    each from an address of its own, until stop is set."""
    i = 0
    while not stop.is_set():
        i += 1
        src = "127.%d.%d.%d" % (40 + n, i // 250 % 250, i % 250 + 1)
        env = dict(os.environ, RAWNOISE_TIMEOUT="15", RAWNOISE_BIND=src)
        t0 = time.monotonic()
        p = subprocess.Popen(["node", RAWNOISE, "early", "127.0.0.1",
                              str(port), peer_id], cwd=HERE, env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True,
                             start_new_session=True)
        with lock:
            PROCS.append(p)
        try:
            out, _ = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            kill(p)
            out = ""
        evs = parse_events(out)
        ping = [e for e in evs if e.get("event") == "ping"]
        err = [e for e in evs if e.get("event") == "error"]
        with lock:
            results.append({
                "ok": p.returncode == 0 and bool(ping) and
                ping[-1].get("ok") is True,
                "s": time.monotonic() - t0,
                "error": "%s: %s" % (err[-1].get("step"),
                                     err[-1].get("message")) if err
                else None})


class JsProc(suite.JsProc):
    """A long-running node.mjs, its events collected as they come."""

    def __init__(self, args):
        suite.JsProc.__init__(self, t, PROCS, args, JSENV, BASE)


def engine_detail(n):
    for p in (n.json("show", "status") or {}).get("processes", []):
        if p["name"] == "engine":
            return p["detail"]
    return ""


def slots_full(n, want):
    """The engine holds want handshakes, or has dropped one."""
    d = engine_detail(n)
    return ("%d upgrading" % want) in d or "handshakes dropped" in d


def check_storm():
    """a 2,000-address handshake storm leaves honest peers a share"""
    n = new_node("storm", {})
    if n is None:
        return
    n.ctl("log", "brief")
    watch = MemWatch(engine_pid(n.s))
    port, peer_id = n.s.port, n.peer_id
    js_ok = js_ready(t, "honest handshakes and a js-libp2p peer during "
                     "the storm")
    held = None
    if js_ok:
        held = JsProc(["reserve", n.addr])
        ev = held.event("reserved", timeout=40)
        if not t.ok(ev is not None, "a js-libp2p peer connects and holds a "
                    "reservation before the storm"):
            held.show()
            n.show()
            held = None
    ctx = multiprocessing.get_context("fork")
    stop, q = ctx.Event(), ctx.Queue()
    sources = ["127.30.%d.%d" % (i // 250, i % 250 + 1)
               for i in range(STORM_SOURCES)]
    n.mark = len(n.s.log())
    sp = ctx.Process(target=storm, args=(port, sources, stop, q))
    sp.start()
    results, lock, hstop, workers = [], threading.Lock(), threading.Event(), []
    try:
        ok, d = wait_value(lambda: engine_detail(n),
                           lambda d: ("256 upgrading" in d or
                                      "handshakes dropped" in d),
                           timeout=30, interval=0.5)
        t.ok(ok, "the storm fills the 256 handshake slots: %s" % d)
        if js_ok:
            for w in range(HONEST_WORKERS):
                th = threading.Thread(target=honest, args=(
                    port, peer_id, w, hstop, results, lock), daemon=True)
                th.start()
                workers.append(th)
        upg = []
        end = time.monotonic() + STORM_SECONDS
        while time.monotonic() < end:
            m = re.search(r"(\d+) upgrading", engine_detail(n))
            if m:
                upg.append(int(m.group(1)))
            time.sleep(1)
        hstop.set()
        for th in workers:
            th.join(60)
        during = engine_detail(n)
    finally:
        hstop.set()
        stop.set()
    try:
        st = q.get(timeout=30)
    except Exception:
        st = {}
    sp.join(10)
    if sp.is_alive():
        sp.kill()
        sp.join()
    t.diag("storm: %s" % st)
    t.diag("engine during the storm: %s" % during)
    t.diag("handshakes in progress, sampled each second: %s" % upg)
    t.ok(st.get("opened", 0) >= STORM_SOURCES,
         "the storm opened connections from all %d sources: %s opened"
         % (STORM_SOURCES, st.get("opened")))
    t.ok("handshakes dropped" in during, "peerd dropped the oldest "
         "handshakes for newcomers: %s" % during)
    watch.check(t, "the storm")
    lines = n.since().splitlines()
    if not t.ok(len(lines) < 1000, "the log stays quiet: %d lines during "
                "the storm" % len(lines)):
        for line in lines[:20]:
            t.diag("  " + line)
    if js_ok:
        done = [r for r in results if r["ok"]]
        ratio = len(done) / len(results) if results else 0
        errs = {}
        for r in results:
            if not r["ok"]:
                errs[r["error"]] = errs.get(r["error"], 0) + 1
        t.diag("honest dials during the storm: %d of %d completed (%.0f%%)"
               % (len(done), len(results), 100 * ratio))
        if done:
            secs = sorted(r["s"] for r in done)
            t.diag("seconds per completed dial (node start included): "
                   "median %.2f, max %.2f" % (secs[len(secs) // 2],
                                              secs[-1]))
        for e, c in sorted(errs.items(), key=lambda x: -x[1])[:5]:
            t.diag("  %d failed: %s" % (c, e))
        t.ok(len(done) >= 1, "honest peers complete handshakes during the "
             "storm: %d of %d" % (len(done), len(results)))
    if held is not None:
        closed = held.find(lambda e: e.get("event") in
                           ("close", "reservation-removed", "error"))
        t.ok(closed is None and held.p.poll() is None,
             "the js-libp2p peer connected before the storm kept its "
             "connection and reservation: %s" % closed)
        conns = n.json("show", "connections", key="connections") or []
        ids = [c.get("peerId") for c in conns]
        js_id = (held.find(lambda e: e.get("event") == "reserved") or
                 {}).get("peerId")
        r = n.ctl("ping", js_id or "?", "-c", "1")
        t.ok(r.returncode == 0 and js_id in ids,
             "peerd still has it and pings it: exit %s %s"
             % (r.returncode, (r.stdout + r.stderr).strip()))
    if js_ok:
        js_pings(t, n.addr, 3, "after the storm, a new peer")
    if held is not None:
        held.p.stdin.close()
        kill(held.p)
    t.ok(n.running(), "peerd is still running")
    n.stop()


CHECKS = {"r": check_rate, "s": check_storm}


def raise_nofile(want=65536):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = want if hard == resource.RLIM_INFINITY else min(hard, want)
    if soft < new:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main():
    global BUILD, BASE
    BUILD, which = check_args(__doc__, "rs")
    exit_on_signals()
    need_root(t, "admission tests")
    need_users(t)
    nofile = raise_nofile()
    if not t.ok(nofile >= 2 * STORM_SOURCES + 1024,
                "RLIMIT_NOFILE raised to %d (peerd inherits it)" % nofile):
        sys.exit(t.done())
    BASE = temp_base("peerd-admission-")
    try:
        for c in which:
            t.diag("--- check %s: %s" % (c, CHECKS[c].__doc__))
            run_check(t, c, CHECKS[c])
    except BaseException:
        t.ok(False, "admission.py ran to the end")
        t.diag(traceback.format_exc())
    finally:
        for p in PROCS:
            kill(p)
        for n in NODES:
            n.stop()
        Suite.cleanup_all()
        nothing_left(t, PROCS)
        shutil.rmtree(BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
