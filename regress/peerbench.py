#!/usr/bin/env python3
"""
bench/peerbench against both relays, as a test of correctness, not of
speed: its proof of correctness is that it works against js-libp2p's
relay as against peerd's.  Speaks TAP.

Usage: peerbench.py BUILDDIR

For a peerd relay and a js-libp2p relay (node.mjs relay: js-libp2p
3.3.11, @libp2p/circuit-relay-v2 4.2.13, no circuit limits) in turn,
peerbench connects 8 peers, 4 a second (Noise XX, yamux, identify, ping), each
reserves, then 4 circuits between them (CONNECT, and the relay's stop
stream answered): 100 relayed pings, echoed byte for byte, then data
at full speed on one circuit and on all four for a second each, every
byte within the relay's yamux windows.  Checked: peerbench's exit code
and its JSON (every peer reserved and held, every circuit up, every
ping answered, bytes arrived in both transfers, no failure), the
relay's own count of reservations and circuits, and, for peerd, that
its log has no window overrun and that it still runs.  No figure of
speed is checked.
"""
import json
import os
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (end, Suite, TAP, js_ready, yaml,  # noqa: E402
                   exit_on_signals, check_args, need_root, temp_base,
                   run_check, wait_for, LOG_ALL)

t = TAP()
JSPROCS = []
BUILD = None
BASE = None
PEERS = 8
CIRCUITS = 4
PINGS = 100
# node.mjs relay takes 5 connections a second from one host
RATE = 4


def eq(got, want, name):
    """A check that got is want, with got in the diagnostics if not."""
    if not t.ok(got == want, name):
        t.diag("got %r, want %r" % (got, want))


class Peerd(suite.Node):
    conf = "mode: relay\n" + LOG_ALL + "\n".join(yaml({"relay": {
        "enabled": "true", "hop": {"enabled": "true"},
        "reservations": {"maxPerIP": 64},
        "limit": {"duration": 0, "data": 0},
        "rateLimit": {"connectionsPerMinute": 0,
                      "reservationsPerHour": 0}}})) + \
        "\nconnectionManager:\n  maxPendingPerIP: 64\n"

    def __init__(self):
        suite.Node.__init__(self, t, "relay", BUILD,
                            os.path.join(BASE, "relay"))


def peerbench(addr, pids):
    """Run peerbench; (exit code, its JSON or None, stderr)."""
    exe = os.path.join(BUILD, "bench", "peerbench")
    p = subprocess.run(
        [exe, "-a", addr, "-n", str(PEERS), "-r", str(RATE), "-C",
         str(CIRCUITS), "-P",
         str(PINGS), "-d", "1", "-T", "60", "-p",
         ",".join(str(x) for x in pids)],
        capture_output=True, text=True, timeout=180)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = None
    return p.returncode, out, p.stderr


def check_run(name, addr, pids):
    """peerbench against one relay: its JSON says it all worked."""
    rc, out, err = peerbench(addr, pids)
    if not t.ok(out is not None, "%s: peerbench prints its JSON" % name):
        t.diag(err[-2000:])
        return None
    rl = out.get("relayed") or {}
    eq(rc, 0, "%s: peerbench exits 0" % name)
    eq(out["reserved"], PEERS, "%s: every peer reserved" % name)
    eq(out["held_at_end"], PEERS, "%s: every peer still held" % name)
    eq(rl.get("circuits_up"), CIRCUITS, "%s: every circuit up" % name)
    eq((rl.get("ping") or {}).get("n"), PINGS,
       "%s: every relayed ping echoed" % name)
    for k in ("throughput_1", "throughput_n"):
        x = rl.get(k) or {}
        t.ok(x.get("bytes", 0) > 0,
             "%s: bytes crossed the relay in %s: %s" % (name, k,
                                                        x.get("bytes")))
        t.ok(x.get("relay_cpu_seconds", -1) >= 0,
             "%s: the relay's CPU was read in %s: %s" % (
                 name, k, x.get("relay_cpu_seconds")))
    eq(out["failures"], {}, "%s: no failure" % name)
    if rc != 0:
        t.diag(err[-2000:])
    return out


def check_peerd():
    R = Peerd()
    try:
        if not R.start():
            return
        st = R.s.status_json()
        pids = [p["pid"] for p in st["processes"]]
        out = check_run("peerd", R.addr, pids)
        if out is None:
            return
        log = R.s.log()
        t.ok("beyond the receive window" not in log,
             "peerd: no peerbench stream overran its window")
        opened = log.count("circuit_opened ")
        eq(opened, CIRCUITS, "peerd: relayd opened every circuit")
        t.ok(wait_for(lambda: R.s.log().count("reservation_removed ") >=
                      PEERS, timeout=20),
             "peerd: every reservation ends with its peer")
        t.ok(R.running(), "peerd is still running")
    finally:
        R.stop()


def check_js():
    relay = suite.JsProc(t, JSPROCS, ["relay"], None, BASE)
    try:
        ev = relay.event("listening", timeout=30)
        if not t.ok(ev is not None, "the js relay starts"):
            relay.show()
            return
        addr = [a for a in ev["addrs"] if "/tcp/" in a and "/ws" not in a]
        out = check_run("js", addr[0], [relay.p.pid])
        if out is None:
            relay.show()
    finally:
        relay.stop()


def main():
    global BUILD, BASE
    BUILD, _ = check_args(__doc__, "")
    exit_on_signals()
    need_root(t, "peerbench tests")
    BASE = temp_base("peerd-peerbench-")
    try:
        if not os.path.exists(os.path.join(BUILD, "bench", "peerbench")):
            t.ok(False, "bench/peerbench is built")
            return
        run_check(t, "peerd", check_peerd)
        if js_ready(t, "peerbench against the js relay"):
            run_check(t, "js", check_js)
    except Exception:
        t.ok(False, "peerbench.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        sys.exit(end(t, JSPROCS, BASE))


if __name__ == "__main__":
    main()
