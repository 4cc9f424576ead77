#!/usr/bin/env python3
"""
Addresses from peers (connectionManager.dialPrivateAddresses and the
per-address dial backoff): 30 js-libp2p peers (regress/interop/
announce.mjs) connect to peerd A from 127.0.0.1 and name in identify
only a TCP listener L of this test on 127.0.0.1, which counts the
connections it accepts; then they leave, and A's dial rounds (one at
each peerctl reload) find them in its store.  Speaks TAP.

Usage: addrfilter.py BUILDDIR [CHECK ...]

CHECK is one or more of (default: all):
  f  dialPrivateAddresses false: A keeps no address of the 30 peers
     (each is in its store, identified, with 0 addresses), counts at
     least 30 filtered, and L accepts no connection through 3 rounds
  t  true: A keeps L's address for each, and L accepts exactly one
     connection however many rounds try it (dialBackoffMin and Max are
     60 s: one dial in that time, the others counted as in backoff,
     at least 30 of them); one more peer names 12 addresses on
     127.0.0.2 to 127.0.0.13 and A keeps 8 of them and counts 4 over
     the cap
  a  auto (the default): the peers come from 127.0.0.1, loopback, so
     their loopback address is kept, and L accepts exactly one
     connection as with true
After each, a js-libp2p peer still pings A, and A still answers.

Every address here is on 127.0.0.0/8: the peers announce nothing else,
and peerd dials nothing else.  Runs as root (peerd -d).  Needs node 20
or later and regress/interop/node_modules (npm ci), or is skipped.
"""
import os
import socket
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (end, Suite, TAP, wait_for, wait_value, yaml,  # noqa: E402
                   exit_on_signals, check_args, need_root, temp_base,
                   run_check, js_ready, MemWatch,
                   engine_pid, js_pings)

t = TAP()
BUILD = None
BASE = None
NODES = []
JSPROCS = []
WAIT = 20
PEERS = 30
BACKOFF = 60000         # ms: dialBackoffMin and dialBackoffMax
ROUNDS = 3
SRC_IDENTIFY = 0x02     # storerec.h
KEPT = 8                # addresses kept from a peer's identify
NODE = ["node", "--import", "./polyfill.mjs"]


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it
    accepts, and closes each at once."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []      # monotonic times
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted.append(time.monotonic())
            c.close()

    def count(self):
        with self.lock:
            return len(self.accepted)

    def first(self):
        with self.lock:
            return self.accepted[0] if self.accepted else None

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Js(suite.JsProc):
    """A js script of regress/interop, its JSON events as they come;
    stop() closes its stdin: the nodes stop and the script exits."""

    def __init__(self, script, args):
        suite.JsProc.__init__(self, t, JSPROCS, [script] + list(args), None,
                              BASE, argv=NODE + [script] + list(args),
                              wait=20)


class Node(suite.Node):
    wait = WAIT
    tail = 40

    def __init__(self, name, conf):
        suite.Node.__init__(self, t, name, BUILD,
                            os.path.join(BASE, "%s-%d" % (name, len(NODES))))
        self.conf = conf
        NODES.append(self)

    def start(self):
        if not suite.Node.start(self):
            return False
        self.watch = MemWatch(engine_pid(self.s))
        return True

    def status(self):
        return self.json("show", "status") or {}

    def counts(self):
        return self.status().get("peerAddrs") or {}

    def peers(self):
        return {p["peerId"]: p for p in
                self.json("show", "peers", key="peers") or []}


def conf(policy):
    cm = {"dialBackoffMin": BACKOFF, "dialBackoffMax": BACKOFF,
          "maxConnectionsPerIP": 4 * PEERS}
    if policy is not None:
        cm["dialPrivateAddresses"] = policy
    d = {"connectionManager": cm,
         "relay": {"rateLimit": {"connectionsPerMinute": 0}}}
    return "\n".join(yaml(d)) + "\n"


def announce(a, count, addrs):
    """count js peers connected to A, each naming addrs; their peer
    IDs, or None."""
    js = Js("announce.mjs", [a.addr, str(count)] + addrs)
    ready = js.event("ready", timeout=30 + 2 * count)
    if not t.ok(ready and len(ready.get("peers", [])) == count,
                "%d js peers naming %s connect to A and identify it"
                % (count, " ".join(addrs[:2]) +
                   (" ..." if len(addrs) > 2 else ""))):
        js.show()
        js.stop()
        return None, None
    return js, ready["peers"]


def identified(a, ids):
    """Wait until A's store has every peer of ids identified; the rows."""
    ok, rows = wait_value(a.peers, lambda r: all(
        i in r and r[i]["sources"] & SRC_IDENTIFY for i in ids),
        timeout=WAIT)
    t.ok(ok, "A's store has the %d peers, identified: %d of them"
         % (len(ids), sum(1 for i in ids if i in (rows or {}) and
                          rows[i]["sources"] & SRC_IDENTIFY)))
    return rows or {}


def leave(a, js):
    """The js peers go; A has no connection left."""
    js.stop()
    ok, st = wait_value(a.status, lambda s: s.get("connections") == 0,
                        timeout=WAIT)
    t.ok(ok, "the js peers are gone from A: %s connections"
         % (st or {}).get("connections"))


def rounds(a, until=None):
    """ROUNDS dial rounds of A, one at each reload; with until, each
    reload waits for until(counts) first (a round's effect)."""
    for i in range(ROUNDS):
        before = a.counts()
        r = a.ctl("reload")
        if r.returncode != 0:
            t.ok(False, "peerctl reload: exit %s %s"
                 % (r.returncode, (r.stdout + r.stderr).strip()))
            return
        if until is not None:
            wait_for(lambda: until(before, a.counts()), timeout=WAIT)
        else:
            time.sleep(1)


def js_still_served(a):
    a.watch.check(t, "peers naming addresses")
    js_pings(t, a.addr, 1, "A still served")
    r = a.ctl("show", "status")
    t.ok(a.running() and r.returncode == 0,
         "A still runs and answers show status (exit %s)" % r.returncode)


def check_false():
    """dialPrivateAddresses false: nothing named is kept or dialled"""
    ls = Listener()
    a = Node("A", conf("false"))
    try:
        if not a.start():
            return
        target = "/ip4/127.0.0.1/tcp/%d" % ls.port
        js, ids = announce(a, PEERS, [target])
        if js is None:
            return
        rows = identified(a, ids)
        kept = [i for i in ids if rows.get(i, {}).get("addresses")]
        t.ok(not kept, "A keeps no address of the %d peers: %d have some"
             % (PEERS, len(kept)))
        n = a.counts()
        t.ok(n.get("filtered", 0) >= PEERS and n.get("dropped") == 0,
             "A counts at least %d addresses filtered, none over the "
             "cap: %s" % (PEERS, n))
        leave(a, js)
        rounds(a)
        time.sleep(2)
        t.ok(ls.count() == 0,
             "no connection reaches L through %d dial rounds: %d"
             % (ROUNDS, ls.count()))
        t.ok(a.counts().get("dialsBackedOff") == 0,
             "no dial of A waits on a backoff: %s" % a.counts())
        js_still_served(a)
    finally:
        a.stop()
        ls.close()


def dialled_once(a, ls, what):
    """A dials L in its rounds, exactly once in BACKOFF."""
    ok, n = wait_value(a.counts, lambda c: ls.count() >= 1 and
                       c.get("dialsBackedOff", 0) >= PEERS, timeout=WAIT)
    t.ok(ls.count() >= 1, "%s: A dials L: %d connections" % (what,
                                                               ls.count()))
    t.ok(ok, "%s: more than one round found peers naming L, at least %d "
         "dials of it counted in backoff: %s" % (what, PEERS, n))
    first = ls.first() or time.monotonic()
    allowed = 1 + int((time.monotonic() - first) * 1000 // BACKOFF)
    t.ok(ls.count() <= allowed,
         "%s: L accepts at most one connection per backoff (%d ms): %d, "
         "%d allowed since the first" % (what, BACKOFF, ls.count(),
                                         allowed))
    if not ok or ls.count() > allowed:
        a.show()


def check_true():
    """dialPrivateAddresses true: kept, and dialled once per backoff"""
    ls = Listener()
    a = Node("A", conf("true"))
    try:
        if not a.start():
            return
        target = "/ip4/127.0.0.1/tcp/%d" % ls.port
        js, ids = announce(a, PEERS, [target])
        if js is None:
            return
        many = ["/ip4/127.0.0.%d/tcp/%d" % (k, ls.port)
                for k in range(2, 2 + KEPT + 4)]
        js2, ids2 = announce(a, 1, many)
        rows = identified(a, ids + (ids2 or []))
        kept = [i for i in ids if rows.get(i, {}).get("addresses") == 1 and
                rows[i].get("address") == target]
        t.ok(len(kept) == PEERS, "A keeps %s for each of the %d peers: %d"
             % (target, PEERS, len(kept)))
        if ids2:
            row = rows.get(ids2[0], {})
            t.ok(row.get("addresses") == KEPT,
                 "of the peer naming %d addresses A keeps %d: %s"
                 % (len(many), KEPT, row.get("addresses")))
            n = a.counts()
            t.ok(n.get("dropped") == len(many) - KEPT and
                 n.get("filtered") == 0,
                 "A counts %d addresses over the cap, none filtered: %s"
                 % (len(many) - KEPT, n))
            js2.stop()
        leave(a, js)
        rounds(a, lambda b, c: c.get("dialsBackedOff", 0) >
               b.get("dialsBackedOff", 0) or ls.count() > 0)
        dialled_once(a, ls, "true")
        t.ok(a.log_lines(r"dial_backoff address=127\.0\.0\.1:%d"
                         % ls.port),
             "A logs dial_backoff for L")
        js_still_served(a)
    finally:
        a.stop()
        ls.close()


def check_auto():
    """dialPrivateAddresses auto: peers on loopback may name loopback"""
    ls = Listener()
    a = Node("A", conf(None))
    try:
        if not a.start():
            return
        target = "/ip4/127.0.0.1/tcp/%d" % ls.port
        js, ids = announce(a, PEERS, [target])
        if js is None:
            return
        rows = identified(a, ids)
        kept = [i for i in ids if rows.get(i, {}).get("addresses") == 1]
        t.ok(len(kept) == PEERS, "peers on loopback: A keeps their "
             "loopback address, for %d of %d" % (len(kept), PEERS))
        leave(a, js)
        rounds(a, lambda b, c: c.get("dialsBackedOff", 0) >
               b.get("dialsBackedOff", 0) or ls.count() > 0)
        dialled_once(a, ls, "auto")
        js_still_served(a)
    finally:
        a.stop()
        ls.close()


CHECKS = {"f": check_false, "t": check_true, "a": check_auto}


def main():
    global BUILD, BASE
    BUILD, which = check_args(__doc__, "fta")
    exit_on_signals()
    need_root(t, "address filter tests")
    BASE = temp_base("peerd-addrfilter-")
    try:
        if js_ready(t, "addresses from js-libp2p peers"):
            for c in which:
                t.diag("--- check %s: %s" % (c, CHECKS[c].__doc__))
                run_check(t, c, CHECKS[c])
    except BaseException:
        t.ok(False, "addrfilter.py ran to the end")
        t.diag(traceback.format_exc())
    finally:
        for n in NODES:
            n.stop()
        sys.exit(end(t, JSPROCS, BASE))


if __name__ == "__main__":
    main()
