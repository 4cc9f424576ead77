#!/usr/bin/env python3
"""
Fault tests: peerd under the attacks of issue 11, each followed by a
check that a js-libp2p peer is still served.  Speaks TAP.

  m  the memory attack: 16 connections from one address, each with 256
     ping streams of 250,000 bytes, never reading an echo.  The engine's
     resident memory stays under MEM_BOUND (the bound peerd(8) documents
     for the default budgets), the budgets bite (streams reset,
     connections closed), the log stays short, and once the attacker
     is gone the engine is back near its idle size.
  c  the CONNECT flood: one connection sends hop CONNECTs to fresh peer
     IDs without reservations, 16 at a time, for 10 s: thousands are
     refused, relayd logs at most log.rateLimit (5) of them a window
     plus a summary, and its status keeps the whole count.
  r  10,000 fresh peer IDs reserving, 8 at a time, each on a connection
     of its own, on a relay of its own with its per-address limits
     (rates, reservations, handshakes) raised, store.maxAccounting 500
     and store.maxPeers 1000: show store never has more, what was
     pruned is counted, stored's log says so in at most log.rateLimit
     lines a window (and a summary) for each kind, and then a
     js-libp2p node reserves and another pings it through the relay.
     FAULT_RESERVE_COUNT sets how many peers (10000) and
     FAULT_RESERVE_SECONDS how long they may take (75); the test says
     how many it made.

Usage: fault.py BUILDDIR [m|c|r ...]   starts peerd as root (Suite)

The attackers are regress/interop/attack.mjs (node:crypto, no npm
package); the js-libp2p peer is regress/interop/node.mjs.  Every address
is on 127.0.0.1.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import (Suite, TAP, wait_value, parse_events, kill,  # noqa: E402
                   js_ready, exit_on_signals, need_root, temp_base,
                   check_args, run_check, nothing_left, JSDIR,
                   MemWatch, rss, engine_pid, EventReader, js_pings)

BUDGET = 32 * 1024 * 1024	# connectionManager.maxBuffer, the default
CONN_BUDGET = 4 * 1024 * 1024	# connectionManager.maxConnectionBuffer
STALLED = 10			# connectionManager.stalledTimeout here, s
BURST = 5			# log.rateLimit, the default
WINDOW = 10			# seconds of a rate-limit window
ACCT_CAP = 500			# store.maxAccounting for check r
PEER_CAP = 1000			# store.maxPeers for check r
RELAY_CONF = """relay:
  rateLimit:
    connectionsPerMinute: 0
    reservationsPerHour: 0
  reservations:
    max: 1000000
    maxPerIP: 1000000
connectionManager:
  maxOutgoing: 0
  maxPendingPerIP: 64
store:
  maxPeers: %d
  maxAccounting: %d
""" % (PEER_CAP, ACCT_CAP)

t = TAP()
PROCS = []


def spawn(args, node=("node",)):
    p = subprocess.Popen(list(node) + list(args), cwd=JSDIR,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    PROCS.append(p)
    return p


def finish(p, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        out, err = p.communicate()
        err += "\nfault.py: killed after %d s" % timeout
    ev = [e for e in parse_events(out) if e.get("event") == "done"]
    return (ev[-1] if ev else {}), err


def served(s, peer_id, what):
    js_pings(t, "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (s.port, peer_id), 2, what)


def log_since(s, mark):
    return s.log()[mark:].splitlines()


def check_memory(s, peer_id):
    pid = engine_pid(s)
    idle = wait_value(lambda: rss(pid), lambda v: v is not None)[1] or 0
    t.diag("engine pid %d, idle resident memory %d KiB" % (pid, idle >> 10))
    mark = len(s.log())
    watch = MemWatch(pid)
    p = spawn(["attack.mjs", "pingflood", "127.0.0.1", str(s.port),
               peer_id, "16", "256", "250000", str(STALLED + 10)])
    done, err = finish(p, 60)
    t.diag("attacker: %s" % done)
    if not t.ok(done.get("connected") == 16,
                "the attacker had its 16 connections: %s" % done):
        t.diag(err.strip()[-800:])
    t.ok(done.get("sent", 0) >= 64 * 1024 * 1024,
         "peerd took %d MiB from it (so without budgets it would have "
         "held that much)" % (done.get("sent", 0) >> 20))
    t.ok(rss(pid) is not None and s.proc.poll() is None,
         "the engine (pid %d) is still running" % pid)
    watch.check(t, "the memory attack")
    mem = s.status_json().get("memory", {})
    t.ok(mem.get("budget") == BUDGET and
         0 < mem.get("peak", 0) <= BUDGET + CONN_BUDGET,
         "what it buffered peaked within maxBuffer plus one connection's "
         "budget: %s" % mem)
    # whether a connection also congests and is closed depends on how the
    # echoes and the resets interleave: the resets always come
    t.ok(mem.get("streamsReset", 0) > 0,
         "the budgets bit: %d streams reset, %d connections closed stalled, "
         "%d over the budget" % (mem.get("streamsReset", 0),
                                 mem.get("closedStalled", 0),
                                 mem.get("closedOverBudget", 0)))
    t.diag("peerd closed %s of the 16 connections while the attacker held "
           "them" % done.get("closedByPeer"))
    what = "after the attack the engine is back near its idle size"
    if watch.asan:
        t.skip(what, "AddressSanitizer keeps freed memory")
    else:
        ok, back = wait_value(lambda: rss(pid),
                              lambda v: v is not None and
                              v <= idle + 8 * 1048576, timeout=30)
        t.ok(ok, "%s: %s KiB (idle %d KiB)"
             % (what, None if back is None else back >> 10, idle >> 10))
    ok, held = wait_value(lambda: s.status_json()["memory"]["buffered"],
                          lambda v: v == 0)
    t.ok(ok, "and holds nothing buffered: %s bytes" % held)
    lines = log_since(s, mark)
    t.ok(len(lines) <= 200,
         "the log took %d lines for the whole attack" % len(lines))
    t.ok(any("similar lines suppressed" in ln for ln in lines),
         "and says how many it held back")
    served(s, peer_id, "after the memory attack")


def check_connect_flood(s, peer_id):
    mark = len(s.log())
    watch = MemWatch(engine_pid(s))
    start = time.monotonic()
    p = spawn(["attack.mjs", "connectflood", "127.0.0.1", str(s.port),
               peer_id, "16", "10"])
    done, err = finish(p, 60)
    elapsed = time.monotonic() - start
    t.diag("attacker: %s" % done)
    refused = done.get("refused", 0)
    if not t.ok(refused >= 1000,
                "%d CONNECTs to peers without a reservation were refused "
                "in %.0f s" % (refused, elapsed)):
        t.diag(err.strip()[-800:])
    windows = int(elapsed // WINDOW) + 2
    lines = [ln for ln in log_since(s, mark) if "circuit_refused" in ln]
    t.ok(0 < len(lines) <= BURST * windows,
         "relayd logged %d of them, at most %d in each %d s" %
         (len(lines), BURST, WINDOW))
    _, summary = wait_value(
        lambda: [ln for ln in log_since(s, mark)
                 if re.search(r"\d+ similar lines suppressed in \d+ "
                              r"seconds: circuit_refused", ln)],
        lambda v: len(v) > 0, timeout=WINDOW + 5)
    t.ok(summary, "and how many it held back: %s" % summary[:1])
    m = re.search(r"refused \d+ reservations, (\d+) circuits",
                  s.detail("relayd"))
    t.ok(m is not None and int(m.group(1)) >= refused,
         "relayd's status counts them all: %s (the attacker saw %d)"
         % (m.group(0) if m else s.detail("relayd"), refused))
    watch.check(t, "the CONNECT flood")
    served(s, peer_id, "after the CONNECT flood")


def store_json(s):
    r = s.ctl("-j", "show", "store")
    try:
        return json.loads(r.stdout)["store"]
    except (ValueError, KeyError):
        return {}


def reserve_storm(s, peer_id, count, seconds):
    """count fresh peers reserve on s, 8 at a time, while show store is
    watched; what the attacker says, and the most show store had."""
    p = spawn(["attack.mjs", "reserveflood", "127.0.0.1", str(s.port),
               peer_id, "8", str(count), str(seconds)])
    most = {"peers": 0, "accounting": 0, "looks": 0}
    while p.poll() is None:
        cur = store_json(s)
        most["looks"] += 1
        for k in ("peers", "accounting"):
            most[k] = max(most[k], cur.get(k, 0))
        time.sleep(0.5)
    done, err = finish(p, 30)
    if not done.get("ok"):
        t.diag(err.strip()[-800:])
    return done, most


def reserves_and_pinged(s, peer_id):
    """A js-libp2p node reserves on s; another pings it through s."""
    addr = "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (s.port, peer_id)
    env = dict(os.environ, PEER_KEY_SEED="%064x" % 0x5eed0101)
    a = subprocess.Popen(["node", "--import", "./polyfill.mjs", "node.mjs",
                          "reserve", addr], cwd=JSDIR, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    PROCS.append(a)
    ev = EventReader(a).event("reserved", timeout=30)
    circ = [x for x in (ev or {}).get("addrs") or []
            if x.startswith(addr + "/p2p-circuit")]
    if not t.ok(circ, "a js-libp2p node reserves on the relay: %s"
                % (circ or ev)):
        return
    p = spawn(["node.mjs", "ping", circ[0], "3"],
              node=("node", "--import", "./polyfill.mjs"))
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        kill(p)
        out, _ = p.communicate()
    rtts = [e.get("rtt") for e in parse_events(out)
            if e.get("event") == "ping" and "rtt" in e]
    t.ok(p.returncode == 0 and len(rtts) == 3, "and another pings it 3 "
         "times through the relay: rtt %s ms" % rtts)


def check_reserve_flood(build, base):
    count = int(os.environ.get("FAULT_RESERVE_COUNT", 10000))
    seconds = int(os.environ.get("FAULT_RESERVE_SECONDS", 75))
    s = Suite(build, os.path.join(base, "relay"))
    s.prepare()
    s.write_conf(RELAY_CONF)
    if not t.ok(s.start(), "a relay with store.maxAccounting %d and "
                "store.maxPeers %d starts" % (ACCT_CAP, PEER_CAP)):
        return
    peer_id = s.status_json()["peerId"]
    watch = MemWatch(engine_pid(s))
    start = time.monotonic()
    done, most = reserve_storm(s, peer_id, count, seconds)
    watch.check(t, "%d fresh peers reserving" % done.get("ok", 0))
    made = done.get("ok", 0)
    t.diag("%d fresh peers reserved in %s s, %d asked for; %d looks at "
           "show store meanwhile" % (made, done.get("seconds"), count,
                                     most["looks"]))
    if done.get("asked", 0) < count:
        t.diag("the storm stopped after %d s: %d of %d asked"
               % (seconds, done.get("asked", 0), count))
    t.ok(made > ACCT_CAP and made == done.get("asked") and
         not done.get("errors"), "every fresh peer gets its reservation: "
         "%s %s" % (done.get("statuses"), done.get("errors") or ""))
    t.ok(most["accounting"] <= ACCT_CAP and most["peers"] <= PEER_CAP,
         "meanwhile show store never had more than %d accounting records "
         "or %d peers: at most %d and %d" % (ACCT_CAP, PEER_CAP,
                                              most["accounting"],
                                              most["peers"]))
    ok, cur = wait_value(lambda: store_json(s),
                         lambda c: c.get("accounting", 0) +
                         c.get("prunedAccounting", 0) >= made)
    t.ok(cur.get("accounting") == ACCT_CAP and
         cur.get("prunedAccounting") == made - ACCT_CAP,
         "then %d accounting records, and the %d others counted as "
         "pruned: %s kept, %s pruned" % (ACCT_CAP, made - ACCT_CAP,
                                         cur.get("accounting"),
                                         cur.get("prunedAccounting")))
    t.ok(cur.get("peers", PEER_CAP + 1) <= PEER_CAP and
         cur.get("prunedPeers", 0) >= made - PEER_CAP,
         "at most %d peers, at least %d counted as pruned: %s, %s"
         % (PEER_CAP, made - PEER_CAP, cur.get("peers"),
            cur.get("prunedPeers")))
    rx = re.compile(r"stored\[\d+\]: (records_pruned |\d+ similar lines "
                    r"suppressed .*: (peers|accounting) pruned)")
    lines = [ln for ln in s.log().splitlines() if rx.search(ln)]
    windows = math.ceil((time.monotonic() - start) / WINDOW) + 1
    t.ok(0 < len(lines) <= 2 * windows * (BURST + 1),
         "stored's log has %d lines about it, at most %d (%d windows of "
         "%d s, %d lines and a summary for each of 2 kinds)"
         % (len(lines), 2 * windows * (BURST + 1), windows, WINDOW, BURST))
    ev = [ln for ln in s.log().splitlines()
          if re.search(r"relayd\[\d+\]: (reservation_|\d+ similar lines "
                       r"suppressed .*: reservation_)", ln)]
    t.ok(0 < len(ev) <= 3 * windows * (BURST + 1),
         "relayd's log has %d lines of reservations, at most %d (created, "
         "removed, expired)" % (len(ev), 3 * windows * (BURST + 1)))
    for kind, why in (("accounting", "max_records"), ("peers",
                                                      "max_peers")):
        got = [ln for ln in lines if "kind=%s " % kind in ln]
        t.ok(got and ("reason=%s max=" % why) in got[0],
             "records_pruned kind=%s reason=%s among them: %s"
             % (kind, why, got[:1]))
    reserves_and_pinged(s, peer_id)
    r = s.ctl("verify")
    t.ok(r.returncode == 0 and "0 problems" in r.stdout,
         "peerctl verify: %s" % (r.stdout + r.stderr).strip())
    s.stop(alone=True)


def main():
    build, which = check_args(__doc__, "mcr")
    exit_on_signals()
    need_root(t, "fault tests against peerd")
    base = temp_base("peerd-fault-")
    s = None
    try:
        if not js_ready(t, "fault tests with js-libp2p"):
            return
        s = Suite(build, os.path.join(base, "peerd"))
        s.prepare()
        s.write_conf("connectionManager:\n  stalledTimeout: %d\n"
                     % (STALLED * 1000))
        if not t.ok(s.start(), "peerd starts"):
            return
        peer_id = s.status_json()["peerId"]
        if "m" in which:
            run_check(t, "m", lambda: check_memory(s, peer_id))
        if "c" in which:
            run_check(t, "c", lambda: check_connect_flood(s, peer_id))
        t.ok(s.proc.poll() is None, "peerd is still running")
        if "r" in which:
            run_check(t, "r", lambda: check_reserve_flood(build, base))
    finally:
        for p in PROCS:
            kill(p)
        if s is not None:
            if t.failed:
                for line in s.log().strip().splitlines()[-30:]:
                    t.diag("peerd: " + line)
            s.stop()
        Suite.cleanup_all()
        nothing_left(t, PROCS)
        shutil.rmtree(base, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
