#!/usr/bin/env python3
"""
Resident memory of an idle peer holding a reservation: peerd against a
js-libp2p relay in the same run.

Usage: python3 bench/mem.py BUILDDIR [N] [options]   (as root)

  N               peers that reserve (default 500)
  --rounds R      run everything R times (default 2)
  --batch B       reservations made at once (default 20)
  --idle S        seconds the peers sit idle before the measurement
                  (default 10)
  --only WHICH    peerd or js: measure one relay only
  --transport T   tcp, ws or both (default both): how the peers reach
                  the relay.  ws: peerd listens on a /ws address beside
                  its TCP one, the js relay on /ws beside TCP
                  (@libp2p/websockets), and the peers dial the /ws one
  --out FILE      where the JSON goes (default bench/results/mem-DATE.json)

For each relay in turn (peerd from BUILDDIR, started like regress/suite.py
does, with every limit that would refuse 127.0.0.1 raised; then
bench/js_relay.mjs, js-libp2p's circuit relay server), it measures the
resident memory of the relay's processes (the sum over peerd's five, from
"peerctl show status"; js's one node process) when idle, then starts
bench/many_reserve.mjs, which makes N js-libp2p peers reserve on the
relay, waits --idle seconds and measures again.  The cost of a peer is
(after - before) / R, R the reservations the relay holds (peerctl -j show
reservations, or relayd's count in show status above LISTING_MAX;
js_relay's count), in KiB.  With --transport both, each round measures
both relays over TCP, then both over WebSocket.  For js it also measures after a
forced garbage collection, and the growth of V8's live heap (heapUsed
after a forced GC, before and after): lower bounds on what js needs, as V8
grows its heap well ahead of need.  For both it measures once more after
the peers went away again (what stays: the allocator's high-water mark).

Measured per process: VmRSS and RssAnon (/proc/PID/status), Pss, Pss_Anon
and Private_Dirty (/proc/PID/smaps_rollup).  What grows with peers is
anonymous memory (heap), so RssAnon is the cleanest per-peer figure;
VmRSS adds file pages (code, libraries) touched for the first time, a
one-off cost that shrinks per peer as N grows.  Pss splits shared pages
among every process on the machine mapping them (libc with the load
generator, peerctl, ...), so a Pss total moves by itself by a few hundred
KiB; at small N that swamps peerd's growth.  Kernel memory (socket
buffers, about the same for both relays) is in none of them.

Prints a table and writes every sample as JSON.  Every process it starts
runs in its own session and is killed when it ends, however it ends.
"""
import argparse
import datetime
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TOP, "regress"))
from suite import Suite, free_port, kill, stop_proc, wait_for  # noqa: E402

INTEROP = os.path.join(TOP, "regress", "interop")
MANY = os.path.join(HERE, "many_reserve.mjs")
JSRELAY = os.path.join(HERE, "js_relay.mjs")

PEERD_CONF = """mode: relay
relay:
  enabled: true
  hop:
    enabled: true
  reservations:
    max: 100000
    maxPerIP: 100000
  limit:
    duration: 0
    data: 0
  rateLimit:
    connectionsPerMinute: 0
    reservationsPerHour: 0
connectionManager:
  maxConnections: 100000
  maxConnectionsPerIP: 100000
  maxPendingPerIP: 1024
"""

TRANSPORTS = ("tcp", "ws")

# peerctl show reservations only up to this many (see
# PeerdRelay.reservations)
LISTING_MAX = 4000

CHILDREN = []           # Popen objects, each leading its own session
SUITES = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- memory ------------------------------------------------------------

def read_kv(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                v = v.split()
                if v and v[0].isdigit():
                    out[k.strip()] = int(v[0])
    except OSError:
        pass
    return out


def proc_mem(pid):
    """Memory of one process in KiB, or None when it is gone."""
    st = read_kv("/proc/%d/status" % pid)
    if "VmRSS" not in st:
        return None
    sm = read_kv("/proc/%d/smaps_rollup" % pid)
    return {
        "rss": st.get("VmRSS", 0),
        "rss_anon": st.get("RssAnon", 0),
        "rss_file": st.get("RssFile", 0),
        "pss": sm.get("Pss"),
        "pss_anon": sm.get("Pss_Anon"),
        "private_dirty": sm.get("Private_Dirty"),
    }


KEYS = ("rss", "rss_anon", "rss_file", "pss", "pss_anon", "private_dirty")


def sample(procs):
    """procs: {name: pid}.  One sample: per process and total, in KiB."""
    per = {}
    for name, pid in procs.items():
        m = proc_mem(pid)
        if m is not None:
            per[name] = m
    total = {}
    for k in KEYS:
        vals = [m[k] for m in per.values() if m.get(k) is not None]
        total[k] = sum(vals) if len(vals) == len(per) and per else None
    return {"t": time.time(), "processes": per, "total": total}


def measure(procs, n=3, gap=1.0):
    """n samples gap seconds apart; the one with the median total RSS."""
    got = []
    for i in range(n):
        if i:
            time.sleep(gap)
        got.append(sample(procs))
    got.sort(key=lambda s: s["total"]["rss"] or 0)
    return got[len(got) // 2]


# --- processes ---------------------------------------------------------

def cleanup():
    for p in CHILDREN:
        if p.stdin is not None:
            try:
                p.stdin.close()
            except OSError:
                pass
    for p in CHILDREN:
        kill(p)
    for s in SUITES:
        try:
            s.stop(alone=True)
        except Exception as e:
            log("stopping peerd: %s" % e)


class Js:
    """A node process speaking JSON lines, in its own session."""

    def __init__(self, args, heap_mb=None, gc=False):
        cmd = ["node"]
        if heap_mb:
            cmd.append("--max-old-space-size=%d" % heap_mb)
        if gc:
            cmd.append("--expose-gc")
        self.errf = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(cmd + list(args), cwd=HERE,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.errf,
                                  text=True, start_new_session=True,
                                  env=dict(os.environ,
                                           PEERD_INTEROP_DIR=INTEROP))
        CHILDREN.append(self.p)
        self.q = queue.Queue()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict):
                self.q.put(ev)
        self.q.put(None)

    def event(self, name, timeout, each=None):
        """The next event called name, or None after timeout seconds or
        when the process ends.  each(ev) sees every event on the way."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                ev = self.q.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if ev is None:
                return None
            self.events.append(ev)
            if each:
                each(ev)
            if ev.get("event") == name:
                return ev

    def send(self, line):
        try:
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def stderr(self, n=10):
        self.errf.seek(0)
        return self.errf.read().strip().splitlines()[-n:]

    def stop(self):
        stop_proc(self.p, 15)


class PeerdRelay:
    name = "peerd"

    def __init__(self, build, transport="tcp"):
        self.build = build
        self.transport = transport
        self.s = None
        self.dir = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="peerd-bench-")
        self.s = Suite(self.build, os.path.join(self.dir, "run"))
        SUITES.append(self.s)
        self.s.prepare()
        listen = None
        port, ws = self.s.port, ""
        if self.transport == "ws":
            port, ws = free_port(), "/ws"
            listen = ["/ip4/127.0.0.1/tcp/%d" % self.s.port,
                      "/ip4/127.0.0.1/tcp/%d/ws" % port]
        self.s.write_conf(PEERD_CONF, listen=listen)
        self.s.launch()
        if not wait_for(self.s._ready, timeout=30):
            raise RuntimeError("peerd did not start:\n" + self.s.log()[-2000:])
        st = self.s.status_json()
        self.addr = "/ip4/127.0.0.1/tcp/%d%s/p2p/%s" % (port, ws,
                                                        st["peerId"])
        self.procs = {p["name"]: p["pid"] for p in st["processes"]}
        return self.addr

    def status_reservations(self):
        """relayd's count from "show status": "relay on, hop on,
        1000/100000 reservations, ..."."""
        for p in self.s.status_json()["processes"]:
            if p["name"] == "relayd":
                for part in p["detail"].split(","):
                    part = part.strip()
                    if part.endswith(" reservations") and "/" in part:
                        return int(part.split("/")[0])
        return None

    def reservations(self):
        """The reservations "peerctl -j show reservations" lists.  Above
        LISTING_MAX, relayd's count from show status instead: a listing
        holds at most 2000."""
        n = self.status_reservations()
        if n is not None and n > LISTING_MAX:
            return n
        try:
            r = self.s.ctl("-j", "show", "reservations", timeout=60)
            return len(json.loads(r.stdout)["reservations"])
        except (ValueError, KeyError, subprocess.TimeoutExpired):
            return n

    def connections(self):
        return self.s.status_json().get("connections")

    def by_transport(self):
        """Open inbound connections by transport, from show metrics:
        {"tcp": n, "ws": n, ...}."""
        out = {}
        try:
            r = self.s.ctl("-j", "show", "metrics")
            for m in json.loads(r.stdout)["metrics"]:
                lb = m.get("labels") or {}
                if m["name"].endswith("_connections") and \
                        lb.get("direction") == "inbound" and \
                        "transport" in lb:
                    out[lb["transport"]] = m["value"]
        except (ValueError, KeyError, TypeError,
                subprocess.TimeoutExpired):
            pass
        return out

    def extra(self):
        return {"status": self.s.status_json(),
                "status_reservations": self.status_reservations(),
                "inbound_by_transport": self.by_transport()}

    def stop(self):
        if self.s is not None:
            self.s.stop(alone=True)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class JsRelay:
    name = "js"

    def __init__(self, maxpeers, transport="tcp"):
        self.maxpeers = maxpeers
        self.transport = transport
        self.js = None

    def start(self):
        args = [JSRELAY, str(self.maxpeers * 2 + 100)]
        if self.transport == "ws":
            args.append("ws")
        self.js = Js(args, heap_mb=8192, gc=True)
        ev = self.js.event("listening", timeout=60)
        if ev is None:
            raise RuntimeError("js relay did not start: %s" %
                               "\n".join(self.js.stderr()))
        ws = [a for a in ev["addrs"] if "/ws/" in a]
        tcp = [a for a in ev["addrs"] if "/ws/" not in a]
        self.addr = (ws if self.transport == "ws" else tcp)[0]
        self.procs = {"node": self.js.p.pid}
        return self.addr

    def stats(self, cmd="stats", timeout=30):
        if not self.js.send(cmd):
            return None
        return self.js.event("stats", timeout=timeout)

    def reservations(self):
        st = self.stats()
        return None if st is None else st["reservations"]

    def connections(self):
        st = self.stats()
        return None if st is None else st["connections"]

    def extra(self):
        return {"stats": self.stats()}

    def stop(self):
        if self.js is not None:
            self.js.stop()


# --- one measurement -----------------------------------------------------

def run_one(relay, n, batch, idle):
    res = {"relay": relay.name, "transport": relay.transport, "n": n}
    t0 = time.monotonic()
    addr = relay.start()
    res["addr"] = addr
    time.sleep(3)                       # let start-up settle
    res["before"] = measure(relay.procs)
    if relay.name == "js":
        # the live heap at idle, for the live heap per peer at the end;
        # after the idle measurement, so that it does not change it
        res["before_gc_stats"] = relay.stats("gc")
    log("  %s over %s: idle relay: RSS %d KiB, Pss %s KiB" % (
        relay.name, relay.transport, res["before"]["total"]["rss"],
        res["before"]["total"]["pss"]))

    client = Js([MANY, addr, str(n), str(batch)], heap_mb=16384)
    last = [0.0]

    def progress(ev):
        if ev.get("event") == "progress" and \
                time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            log("  %s: %d/%d reservations, %d failed, %.0f s, client RSS "
                "%d MiB" % (relay.name, ev["held"], n, ev["failed"],
                            ev["seconds"], ev["rss"] // 2**20))
    # the client makes roughly 10 to 50 a second on 2 cores
    ev = client.event("reserved", timeout=120 + n * 1.0, each=progress)
    if ev is None:
        res["error"] = "the client did not finish: %s" % \
            "\n".join(client.stderr())
        log("  " + res["error"])
        client.stop()
        relay.stop()
        return res
    res["client"] = {k: ev.get(k) for k in ("count", "failed", "seconds",
                                             "rss", "errors")}
    res["client"]["errors_seen"] = [e for e in client.events
                                    if e.get("event") == "error"][:5]
    log("  %s: %d reserved, %d failed in %.1f s" % (
        relay.name, ev["count"], ev["failed"], ev["seconds"]))
    time.sleep(idle)
    res["after"] = measure(relay.procs)
    res["reservations"] = relay.reservations()
    if relay.name == "peerd":
        # what listing N reservations to peerctl leaves behind
        res["after_listing"] = measure(relay.procs, n=1)
    res["connections"] = relay.connections()
    client.send("count")
    cnt = client.event("count", timeout=30)
    res["client_held"] = cnt
    res["client_rss"] = (proc_mem(client.p.pid) or {}).get("rss")
    res["extra"] = relay.extra()
    if relay.name == "js":
        st = relay.stats("gc")
        time.sleep(1)
        res["after_gc"] = measure(relay.procs)
        res["after_gc_stats"] = st
    held = res["reservations"] or 0
    res["per_peer"] = per_peer(res["before"], res["after"], held)
    if "after_gc" in res:
        res["per_peer_gc"] = per_peer(res["before"], res["after_gc"], held)
        try:
            h0 = res["before_gc_stats"]["memory"]["heapUsed"]
            h1 = res["after_gc_stats"]["memory"]["heapUsed"]
            res["per_peer_live_heap"] = round((h1 - h0) / 1024 / held, 2)
        except (KeyError, TypeError, ZeroDivisionError):
            res["per_peer_live_heap"] = None
    log("  %s: %s reservations held; RSS %d KiB (+%d), %.1f KiB a peer" % (
        relay.name, held, res["after"]["total"]["rss"],
        res["after"]["total"]["rss"] - res["before"]["total"]["rss"],
        res["per_peer"]["total"]["rss"] or 0))

    # the peers leave: what stays behind
    client.stop()
    # peerd drops a reservation when its connection goes; js keeps it
    # until it expires
    wait_for(lambda: (relay.connections() or 0) == 0, timeout=30,
             interval=1)
    time.sleep(3)
    res["released"] = measure(relay.procs)
    res["released_reservations"] = relay.reservations()
    res["seconds"] = round(time.monotonic() - t0, 1)
    relay.stop()
    return res


def per_peer(before, after, held):
    """(after - before) / held in KiB, total and per process."""
    out = {"total": {}, "processes": {}}
    for k in KEYS:
        a, b = after["total"].get(k), before["total"].get(k)
        out["total"][k] = None if a is None or b is None or held == 0 \
            else round((a - b) / held, 2)
    for name, m in after["processes"].items():
        bm = before["processes"].get(name, {})
        out["processes"][name] = {
            k: None if m.get(k) is None or bm.get(k) is None or held == 0
            else round((m[k] - bm[k]) / held, 2) for k in KEYS}
    return out


# --- report ------------------------------------------------------------

def machine():
    mem = read_kv("/proc/meminfo").get("MemTotal", 0)
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def out(cmd, cwd=None):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  cwd=cwd, timeout=10).stdout.strip()
        except Exception:
            return ""
    rev = out(["git", "rev-parse", "--short", "HEAD"], TOP)
    if out(["git", "status", "--porcelain", "--untracked-files=no"], TOP):
        rev += "+dirty"
    return {
        "nproc": os.cpu_count(),
        "mem_kib": mem,
        "cpu": model,
        "kernel": platform.release(),
        "node": out(["node", "--version"]),
        "git": rev,             # of the tree holding bench/, not the build
        "loadavg": os.getloadavg(),
    }


def build_source(build):
    """The source directory BUILDDIR was configured from (meson)."""
    try:
        with open(os.path.join(build, "meson-info",
                               "meson-info.json")) as f:
            return json.load(f)["directories"]["source"]
    except (OSError, ValueError, KeyError):
        return None


def fmt(v, w=8, d=1):
    if v is None:
        return "-".rjust(w)
    return ("%*.*f" % (w, d, v))


def report(results, n):
    print()
    print("Idle peers holding a reservation, N=%d; KiB" % n)
    print("RSS0/RSS1: VmRSS summed over the relay's processes before and "
          "after; a peer: (after - before) / reservations held, for VmRSS, "
          "RssAnon and Pss; gc: js after a forced garbage collection")
    print("%-5s %-5s %-4s %6s %9s %9s | %8s %8s %8s %8s" % (
        "round", "relay", "over", "rsvps", "RSS0", "RSS1",
        "RSS/peer", "Anon/pr", "Pss/pr", "gcRSS/pr"))
    for r in results:
        if "per_peer" not in r:
            print("%-5s %-5s %-4s  %s" % (r["round"], r["relay"],
                                          r["transport"],
                                          r.get("error", "failed")))
            continue
        b, a = r["before"]["total"], r["after"]["total"]
        pp = r["per_peer"]["total"]
        gc = r.get("per_peer_gc", {}).get("total", {}).get("rss")
        print("%-5s %-5s %-4s %6s %9d %9d | %8s %8s %8s %8s" % (
            r["round"], r["relay"], r["transport"], r["reservations"],
            b["rss"], a["rss"],
            fmt(pp["rss"]), fmt(pp["rss_anon"]), fmt(pp["pss"]), fmt(gc)))
    # per process of peerd
    pe = [r for r in results if r["relay"] == "peerd" and "per_peer" in r]
    if pe:
        print()
        print("peerd per process, RssAnon in KiB: idle, N peers held, after "
              "\"peerctl show reservations\", after the peers left; "
              "growth a peer in bytes (VmRSS, RssAnon)")
        for r in pe:
            for name in sorted(r["after"]["processes"]):
                row = []
                for k in ("before", "after", "after_listing", "released"):
                    m = (r.get(k) or {}).get("processes", {}).get(name)
                    row.append("%7d" % m["rss_anon"] if m else "      -")
                p = r["per_peer"]["processes"][name]
                print("  %s %-3s %-7s %s | %6.0f B %6.0f B" % (
                    r["round"], r["transport"], name, " ".join(row),
                    (p["rss"] or 0) * 1024, (p["rss_anon"] or 0) * 1024))
    ratios = []
    runs = sorted({(r["round"], r["transport"]) for r in results},
                  key=lambda k: (k[0], TRANSPORTS.index(k[1])))
    for rnd, tp in runs:
        p = [r for r in results if r["round"] == rnd and
             r["transport"] == tp and r["relay"] == "peerd" and
             "per_peer" in r]
        j = [r for r in results if r["round"] == rnd and
             r["transport"] == tp and r["relay"] == "js" and
             "per_peer" in r]
        if p and j:
            pr, jr = p[0]["per_peer"]["total"], j[0]["per_peer"]["total"]
            jg = j[0].get("per_peer_gc", {}).get("total", {})
            ratio = {"round": rnd, "transport": tp}
            for k in ("rss", "rss_anon", "pss"):
                ratio[k] = round(jr[k] / pr[k], 1) \
                    if jr.get(k) is not None and pr.get(k) and pr[k] > 0 \
                    else None
            ratio["rss_gc"] = round(jg["rss"] / pr["rss"], 1) \
                if jg.get("rss") is not None and pr.get("rss") and \
                pr["rss"] > 0 else None
            ratios.append(ratio)
            ratio["js_live_heap"] = j[0].get("per_peer_live_heap")
            print()
            print("round %d over %s: js/peerd per reserved peer: VmRSS %sx, "
                  "RssAnon %sx, Pss %sx (js after a forced GC: %sx)" % (
                      rnd, tp, ratio["rss"], ratio["rss_anon"],
                      ratio["pss"], ratio["rss_gc"]))
            print("  js's live heap after a forced GC grew %s KiB a peer" %
                  ratio["js_live_heap"])
    # the same relay over ws and over tcp in the same round
    for rnd in sorted({r["round"] for r in results}):
        for relay in ("peerd", "js"):
            by = {r["transport"]: r["per_peer"]["total"] for r in results
                  if r["round"] == rnd and r["relay"] == relay and
                  "per_peer" in r}
            if "tcp" in by and "ws" in by:
                d = {k: None if by["ws"][k] is None or by["tcp"][k] is None
                     else round(by["ws"][k] - by["tcp"][k], 2)
                     for k in ("rss", "rss_anon", "pss")}
                ratios.append({"round": rnd, "relay": relay,
                               "ws_minus_tcp": d})
                print("round %d: %s over ws costs %s KiB VmRSS, %s KiB "
                      "RssAnon a peer more than over tcp" % (
                          rnd, relay, d["rss"], d["rss_anon"]))
    print()
    print("Budget (README, \"Budgets\"): at most 16 KiB a peer over all "
          "of peerd's processes, over either transport.")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("n", nargs="?", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--idle", type=float, default=10)
    ap.add_argument("--only", choices=("peerd", "js"))
    ap.add_argument("--transport", choices=("tcp", "ws", "both"),
                    default="both")
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("mem.py: run as root (peerd -d drops privileges itself)")
    build = os.path.realpath(a.build)
    for f in ("peerd", "peerctl", "keyd", "stored", "relayd"):
        if not os.access(os.path.join(build, f), os.X_OK):
            sys.exit("mem.py: no %s in %s" % (f, build))
    if not os.path.isdir(os.path.join(INTEROP, "node_modules")):
        sys.exit("mem.py: run npm ci in %s first" % INTEROP)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    started = datetime.datetime.now()
    info = machine()
    transports = TRANSPORTS if a.transport == "both" else (a.transport,)
    log("mem.py: N=%d, %d rounds, over %s, %d CPUs, %d MiB, git %s" % (
        a.n, a.rounds, " and ".join(transports), info["nproc"],
        info["mem_kib"] // 1024, info["git"]))
    results = []
    try:
        for rnd in range(1, a.rounds + 1):
            # alternate the order of transports and of relays, so that
            # none always runs first
            for tp in transports if rnd % 2 else transports[::-1]:
                relays = []
                if a.only in (None, "peerd"):
                    relays.append(PeerdRelay(build, tp))
                if a.only in (None, "js"):
                    relays.append(JsRelay(a.n, tp))
                if rnd % 2 == 0:
                    relays.reverse()
                for relay in relays:
                    log("round %d over %s: %s" % (rnd, tp, relay.name))
                    try:
                        r = run_one(relay, a.n, a.batch, a.idle)
                    except Exception as e:
                        r = {"relay": relay.name, "transport": tp,
                             "n": a.n,
                             "error": "%s: %s" % (type(e).__name__, e)}
                        log("  " + r["error"])
                        relay.stop()
                    r["round"] = rnd
                    results.append(r)
    except KeyboardInterrupt:
        log("mem.py: interrupted")
    finally:
        cleanup()

    ratios = report(results, a.n)
    doc = {
        "benchmark": "mem",
        "date": started.isoformat(timespec="seconds"),
        "machine": info,
        "build": build,
        "source": build_source(build),
        "n": a.n, "batch": a.batch, "idle": a.idle, "rounds": a.rounds,
        "transports": list(transports),
        "units": "KiB",
        "ratios": ratios,
        "results": results,
    }
    out = a.out
    if out is None:
        d = os.path.join(HERE, "results")
        os.makedirs(d, exist_ok=True)
        out = os.path.join(d, "mem-%s.json" %
                           started.strftime("%Y-%m-%d-%H%M%S"))
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("results: %s" % out)
    ok = all("per_peer" in r for r in results) and results
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
