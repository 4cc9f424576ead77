#!/usr/bin/env python3
"""
log.format json against js-libp2p peers (peerd(8), LOG EVENTS).  Speaks
TAP.

Usage: logjson.py BUILDDIR

A peerd relay runs with log.format json and log.rateLimit 0; js A
reserves on it, js B pings A 3 times through /p2p-circuit, A leaves, the
relay reloads and stops.  Then every line of its log is one JSON object
(strict UTF-8) with timestamp (RFC 3339, UTC), level, process and event
or message, and the events reservation_created, circuit_opened,
circuit_closed, connection_opened, connection_closed,
reservation_removed, config_reloaded and child_exited are there with
their fields, as the guide names them (peerId, ttl), numbers as numbers.
"""
import json
import os
import re
import shutil
import signal
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import relay  # noqa: E402
from relay import (Peerd, start_reserve, run_js, js_peer_id,  # noqa: E402
                   seed)
from suite import (Suite, wait_for, yaml, exit_on_signals,  # noqa: E402
                   check_args, need_root, temp_base, nothing_left,
                   js_ready)

t = relay.t
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LEVELS = ("crit", "error", "warn", "info", "debug")
PROCS = ("parent", "engine", "keyd", "stored", "relayd")


def conf():
    return "mode: relay\nlog:\n  format: json\n  rateLimit: 0\n" + \
        "\n".join(yaml({"relay": {
            "enabled": "true", "hop": {"enabled": "true"},
            "limit": {"duration": 0, "data": 0},
            "rateLimit": {"connectionsPerMinute": 0}}})) + "\n"


def parse(R):
    """The log as objects; the lines that are not one JSON object with
    the common members."""
    with open(R.s.logfile, "rb") as f:
        raw = f.read()
    objs, bad = [], []
    for ln in raw.split(b"\n")[:-1]:
        try:
            o = json.loads(ln.decode("utf-8"))
        except ValueError as e:
            bad.append("%r: %s" % (ln[:300], e))
            continue
        if not isinstance(o, dict) or not TS.match(str(o.get("timestamp"))) \
                or o.get("level") not in LEVELS or \
                o.get("process") not in PROCS or \
                (type(o.get("event")) is not str) == \
                (type(o.get("message")) is not str):
            bad.append("%r: members" % ln[:300])
            continue
        objs.append(o)
    return objs, bad


def events(R, name, **want):
    """The events name whose members include want."""
    return [o for o in parse(R)[0] if o.get("event") == name and
            all(o.get(k) == v for k, v in want.items())]


def wait_event(R, name, **want):
    got = []

    def check():
        got[:] = events(R, name, **want)
        return got
    wait_for(check, timeout=relay.WAIT)
    return got[-1] if got else None


def is_int(v):
    return type(v) is int


def check_conn(ev, what, peer, direction):
    t.ok(ev is not None and ev.get("process") == "engine" and
         is_int(ev.get("conn")) and ev.get("dir") == direction and
         str(ev.get("addr", "")).startswith("127.0.0.1:") and
         ev.get("peerId") == peer and ev.get("level") == "info",
         "%s: engine, conn a number, dir %s, addr 127.0.0.1:port, peerId "
         "%s: %s" % (what, direction, peer, ev))


def run(R):
    a_id, b_id = js_peer_id(1), js_peer_id(2)
    A, circ = start_reserve(R, 1)
    try:
        if circ is None:
            return
        ev = wait_event(R, "reservation_created", peerId=a_id)
        t.ok(ev is not None and ev.get("process") == "relayd" and
             is_int(ev.get("ttl")) and 3500 <= ev["ttl"] <= 3600 and
             ev.get("ip") == "127.0.0.1" and is_int(ev.get("expire")),
             "reservation_created: relayd, peerId, ttl a number near the "
             "default 3600 s, ip, expire: %s" % ev)
        check_conn(wait_event(R, "connection_opened", peerId=a_id),
                   "connection_opened of A", a_id, "inbound")
        res = run_js(["ping", circ, "3"], env={"PEER_KEY_SEED": seed(2)})
        pings = [e for e in res.all("ping") if "rtt" in e]
        if not t.ok(res.rc == 0 and len(pings) == 3,
                    "js B pings A 3 times through the relay"):
            res.show()
        check_conn(wait_event(R, "connection_opened", peerId=b_id),
                   "connection_opened of B", b_id, "inbound")
        op = wait_event(R, "circuit_opened", src=b_id, dst=a_id)
        t.ok(op is not None and is_int(op.get("id")) and
             op.get("process") == "relayd",
             "circuit_opened: relayd, id a number, src B, dst A: %s" % op)
        cl = wait_event(R, "circuit_closed", src=b_id, dst=a_id)
        t.ok(cl is not None and op is not None and
             cl.get("id") == op.get("id") and
             is_int(cl.get("bytesSrcDst")) and cl["bytesSrcDst"] > 0 and
             is_int(cl.get("bytesDstSrc")) and cl["bytesDstSrc"] > 0 and
             is_int(cl.get("seconds")) and
             type(cl.get("reason")) is str and cl["reason"],
             "circuit_closed: the same id, bytesSrcDst and bytesDstSrc "
             "numbers above 0 (3 pings), seconds, reason: %s" % cl)
        cb = wait_event(R, "connection_closed", peerId=b_id)
        t.ok(cb is not None and type(cb.get("reason")) is str and
             cb["reason"] and is_int(cb.get("conn")),
             "connection_closed of B once it is done: reason, conn: %s"
             % cb)
    finally:
        A.stop()
    ca = wait_event(R, "connection_closed", peerId=a_id)
    oa = events(R, "connection_opened", peerId=a_id)
    check_conn(ca, "connection_closed of A", a_id, "inbound")
    t.ok(ca is not None and oa and ca.get("conn") == oa[0].get("conn") and
         type(ca.get("reason")) is str,
         "connection_closed of A: the conn that opened, a reason: %s" % ca)
    rm = wait_event(R, "reservation_removed", peerId=a_id)
    t.ok(rm is not None and rm.get("reason") == "disconnected",
         "reservation_removed: peerId A, reason disconnected: %s" % rm)
    os.kill(R.s.proc.pid, signal.SIGHUP)
    ev = wait_event(R, "config_reloaded")
    t.ok(ev is not None and ev.get("file") == R.s.conf and
         ev.get("process") == "parent",
         "SIGHUP: config_reloaded from parent with the file: %s" % ev)


def main():
    relay.BUILD, _ = check_args(__doc__, "a")
    exit_on_signals()
    need_root(t, "log.format json test")
    relay.BASE = relay.LOGDIR = temp_base("peerd-logjson-")
    R = None
    try:
        if not js_ready(t, "log.format json with js-libp2p"):
            return
        R = Peerd("relay", conf())
        if R.start():
            run(R)
        R.stop()
        objs, bad = parse(R)
        t.ok(objs and not bad, "every line of the log, %d, is one JSON "
             "object in UTF-8 with timestamp, level, process and event or "
             "message: %d are not: %s" % (len(objs) + len(bad), len(bad),
                                          bad[:3]))
        ex = [o for o in objs if o.get("event") == "child_exited"]
        t.ok(sorted(o.get("child") for o in ex) ==
             ["engine", "keyd", "relayd", "stored"] and
             all(o.get("during") == "stop" and o.get("exit") == 0 and
                 is_int(o.get("childPid")) and o.get("level") == "debug"
                 for o in ex),
             "on stop, child_exited for each child, exit 0 during stop: "
             "%s" % ex)
    except Exception:
        t.ok(False, "logjson.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        for p in relay.JSPROCS:
            relay.kill(p)
        if R is not None:
            R.stop()
        Suite.cleanup_all()
        nothing_left(t, relay.JSPROCS)
        shutil.rmtree(relay.BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
