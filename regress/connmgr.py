#!/usr/bin/env python3
"""
Connection manager tests: several peerd suites on 127.0.0.1 dial, lose
and find each other again.  Speaks TAP.

Usage: connmgr.py BUILDDIR [CHECK ...]

CHECK is one or more of the numbers 1 to 10 (default: all), apart or run
together ("110" is 1 and 10):
  1  partition and recovery: A keeps 3 outbound connections to its
     bootstrap peers B, C, D; they stop (partition_detected, status
     "partitioned") and come back on the same ports (partition_recovered
     within a bound derived from dialBackoffMax, status "ok", 3 outbound)
  2  known peers without bootstrap: A connects to B with peerctl, C
     connects to A; after a restart A dials B and C by itself, from its
     store (C's address is one identify gave)
  3  bootstrap failover: the first bootstrap peers refuse or never answer
     the handshake; A still connects to the last one, B
  4  trim: 6 peers connect to A (2 hold reservations on it, 1 is
     protected); A reloads with maxConnections 3 and trims the 3 others
  5  bans at dial: A blocks its bootstrap peer B and never dials it again
     while its dial rounds go on; unblocked, B is dialled again
  6  the connection manager starts when keyd answers after stored (keyd
     is held with SIGSTOP until the engine has loaded the bans)
  7  a bootstrap peer given without /p2p/ID: A, below its targets, dials
     it once and does not open one more connection to it each round
  8  trim order: A's bootstrap peer is kept, inbound connections are
     trimmed before outbound ones
  9  a connection that carries a relayed circuit is never trimmed: D
     connects to C (a relay client of A) through A; A reloads with
     maxConnections 1 and trims the 4 other peers, never D's connection
     (1 open stream, inbound, where the others have none: without the
     rule it would be the next one to go), and the circuit still works;
     once the circuit closes, A trims D's connection
 10  at maxConnections no TCP connection is accepted, however the limit
     was reached: by A's own dials (peerctl connect to Q1, Q2 with
     maxConnections 2), or by a reload that lowered it to 2 under 3
     inbound connections (and trimmed one); then Q3 (Q4) cannot connect:
     A logs "connection_refused addr=... reason=max_connections",
     counts it refused (not accepted), never sees a
     handshake from it, and keeps the same 2 connections

Runs as root (peerd -d).  Every suite runs in its own directory under
one temporary directory with random ports and is stopped on its own
(the others keep running); everything started is stopped at the end.

The peers other than A run with connectionManager.maxOutgoing 0 and
minConnections 0 (and no bootstrap peers): their own connection manager
never dials, so every connection A has is one A dialled, or one a check
made with peerctl connect, and the counts below are A's doing.
"""
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (Suite, TAP, wait_for, wait_value, free_port,  # noqa: E402
                   session_of, b58encode, yaml, exit_on_signals,
                   check_args, need_root, temp_base, run_check,
                   nothing_left)

t = TAP()
BUILD = None
BASE = None
NODES = []
LISTENERS = []
# how long peerd gets for something it should do at once by itself
WAIT = 20
# dial rounds of A in checks 1, 2, 3, 5, 6, 7 (ms)
BACKOFF_MIN = 200
BACKOFF_MAX = 2000
# a peer that comes back is dialled again within this many seconds: one
# round waits at most dialBackoffMax, and a known peer whose dials failed
# waits at most dialBackoffMax too; three rounds and slack for the
# handshakes and the suites' start
RECOVER = 3 * BACKOFF_MAX / 1000.0 + 10

# the helpers' connection manager never dials
QUIET = {"maxOutgoing": 0, "minConnections": 0}
# every suite here comes from 127.0.0.1: the per-address connection rate
# is not what these checks are about
NO_RATE = {"rateLimit": {"connectionsPerMinute": 0}}


# --- peer IDs ------------------------------------------------------------

def made_up_peer_id():
    """A valid Ed25519 peer ID (identity multihash of the protobuf
    public key) that no suite here has."""
    key = b"\x08\x01\x12\x20" + os.urandom(32)
    return b58encode(b"\x00" + bytes([len(key)]) + key)


def made_up_addr(port):
    """An address on 127.0.0.1 with a peer ID no suite has."""
    return "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (port, made_up_peer_id())


# --- peerd ---------------------------------------------------------------

def dialling(outgoing, least, **more):
    """The connectionManager of an A that wants outgoing connections,
    at least least of all, in dial rounds BACKOFF_MIN to BACKOFF_MAX ms
    apart."""
    cm = {"maxOutgoing": outgoing, "minConnections": least,
          "dialBackoffMin": BACKOFF_MIN, "dialBackoffMax": BACKOFF_MAX}
    cm.update(more)
    return cm


def conf(cm=None, bootstrap=None, relays=None, relay=None):
    d = {"connectionManager": cm or {}}
    if bootstrap:
        d["bootstrapPeers"] = bootstrap
    if relays:
        d["relays"] = relays
    r = dict(NO_RATE)
    r.update(relay or {})
    d["relay"] = r
    # the checks count trims and partitions in the log: none held back
    d["log"] = {"rateLimit": 0}
    return "\n".join(yaml(d)) + "\n"


class Node(suite.Node):
    """A Suite with its own config; stopped and started again on the
    same directory it keeps its identity and its port."""
    wait = WAIT
    tail = 40
    noise = ("control client closed its channel",)

    def __init__(self, name, confs):
        suite.Node.__init__(self, t, name, BUILD, os.path.join(
            BASE, "%s-%d" % (name, len(NODES))))
        self.conf = confs
        NODES.append(self)

    def start(self, what=None):
        """A first start: when another test on this machine took one of
        the ports meanwhile, start again on others (up to 3 times)."""
        self.s.prepare()
        for attempt in range(3):
            self.s.write_conf(self.conf)
            inuse = self.s.log().count("Address already in use")
            self.launch()
            ok = self.s.wait_ready()
            if ok or self.s.log().count("Address already in use") == inuse:
                break
            t.diag("peerd %s: a port was taken, once more on others"
                   % self.name)
            self.s.stop(alone=True)
            self.s.port = free_port()
            self.s.admin_port = free_port()
        return self.up(what or "peerd %s starts" % self.name, ok)

    def up(self, what, ok=None):
        """As Node.up, and a start again keeps the peer ID."""
        was = self.peer_id
        if not suite.Node.up(self, what, ok):
            return False
        if was is not None and self.peer_id != was:
            t.ok(False, "peerd %s keeps its peer ID: %s, was %s"
                 % (self.name, self.peer_id, was))
        return True

    def restart(self):
        """Start again on the same directory, config and port."""
        self.launch()
        return self.up("peerd %s starts again" % self.name)

    def reload(self, confs):
        """Write confs and peerctl reload; what peerctl gave."""
        self.conf = confs
        self.s.write_conf(confs)
        return self.ctl("reload")

    def status(self):
        return self.json("show", "status") or {}

    def network(self):
        return self.status().get("network") or {}

    def connections(self):
        return self.json("show", "connections", key="connections") or []

    def conns_to(self, node, direction=None):
        return [c for c in self.connections()
                if c.get("peerId") == node.peer_id and
                (direction is None or c.get("direction") == direction)]

    def wait_conn(self, node, direction=None, timeout=WAIT):
        """Wait for a connection with node (in that direction)."""
        return wait_for(lambda: self.conns_to(node, direction), timeout)

    def links(self):
        """Peer ID and direction of each connection, for a message."""
        return [(c.get("peerId"), c.get("direction"))
                for c in self.connections()]

    def peer_set(self):
        return sorted(c.get("peerId") for c in self.connections())

    def peers(self):
        return self.json("show", "peers", key="peers") or []

    def known(self, peer_id):
        for p in self.peers():
            if p.get("peerId") == peer_id:
                return p
        return None

    def reservations(self):
        return self.json("show", "reservations", key="reservations") or []

    def circuits(self):
        return self.json("show", "circuits", key="circuits") or []

    def accepted(self):
        """The engine's count of accepted TCP connections."""
        return self.engine_count("accepted")

    def inbound_from(self, node):
        """Log lines of connections from node that came up."""
        return self.log_lines(r"connection_opened conn=\d+ dir=inbound "
                              r"addr=\S+ peer=%s$"
                              % re.escape(node.peer_id))

    def show(self, n=None):
        suite.Node.show(self, n)
        start_order(self)


def start_order(node):
    """Say when the engine had its bans before keyd gave the identity:
    the connection manager then does not start (check 6)."""
    log = node.s.log()
    runs = log.split("starting peerd")
    for i, run in enumerate(runs[1:]):
        b = run.find("bans in force")
        k = run.find("keyd[")
        k = run.find(": identity ", k if k >= 0 else 0)
        if b >= 0 and k >= 0 and b < k:
            t.diag("peerd %s (start %d): the engine logged its bans before "
                   "keyd logged the identity: see check 6" % (node.name,
                                                              i + 1))


def stop_all(nodes):
    """Stop these nodes and Listeners (None for one not made)."""
    for n in nodes:
        if n is not None:
            n.stop()


def helper(name, **kw):
    """A peer whose own connection manager never dials."""
    cm = dict(QUIET)
    cm.update(kw.pop("cm", {}))
    return Node(name, conf(cm=cm, **kw))


def fail_show(cond, what, *nodes):
    if not t.ok(cond, what):
        for n in nodes:
            n.show()
    return cond


# --- TCP listeners that are not peers ------------------------------------

class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it
    accepts and either holds them without a word (hold=True: a
    handshake that never ends) or closes them at once."""

    def __init__(self, hold):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        # as a bootstrap peer
        self.addr = made_up_addr(self.port)
        self.hold = hold
        self.held = []
        self.count = 0
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        LISTENERS.append(self)

    def _run(self):
        while not self.done:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
            if self.hold:
                self.held.append(c)
            else:
                c.close()

    def accepted(self):
        with self.lock:
            return self.count

    def wait_dials(self, rounds):
        """Wait for rounds more connections than it has had, as long as
        that many dial rounds of A take at most (bound, in s)."""
        self.k0 = self.accepted()
        self.rounds = rounds
        self.bound = rounds * BACKOFF_MAX / 1000.0 + 10
        self.got = wait_for(lambda: self.accepted() >= self.k0 + rounds,
                            self.bound)

    def dials_seen(self, what, *nodes):
        """Check that the dials wait_dials waited for came."""
        return fail_show(self.got, "%s: the other bootstrap peer sees %d "
                         "more dials (%d)" % (what, self.rounds,
                                              self.accepted() - self.k0),
                         *nodes)

    def stop(self):
        self.close()

    def close(self):
        self.done = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.held:
            c.close()
        self.thread.join(5)


# --- checks --------------------------------------------------------------

def check_1():
    """Partition and recovery."""
    peers = [helper(n) for n in ("B", "C", "D")]
    A = None
    try:
        for p in peers:
            if not p.start():
                return
        A = Node("A1", conf(cm=dialling(3, 3),
                            bootstrap=[p.addr for p in peers]))
        if not A.start():
            return
        want = sorted(p.peer_id for p in peers)

        def three_out():
            out = [c.get("peerId") for c in A.connections()
                   if c.get("direction") == "outbound"]
            return sorted(out) == want and A.network().get("outbound") == 3
        if not fail_show(wait_for(three_out, WAIT),
                         "A reaches 3 outbound connections, to B, C and D: "
                         "%s" % A.links(), A):
            return
        net = A.network()
        t.ok(net.get("state") == "ok" and net.get("outboundTarget") == 3 and
             net.get("minConnections") == 3,
             "A's show status network: state ok, outbound 3 of 3, minimum "
             "3: %s" % net)

        t_stop = time.monotonic()
        for p in peers:
            p.stop()
        det = A.wait_log(r"partition_detected ")
        t_det = time.monotonic()
        if not fail_show(det, "A logs partition_detected once B, C and D "
                         "stop: %s" % det[-1:], A):
            return
        m = re.search(r"connections=(\d+) min=(\d+)", det[0])
        t.ok(m and int(m.group(1)) < 3 and int(m.group(2)) == 3,
             "partition_detected says connections < 3, min=3: %s" % det[0])
        ok, net = wait_value(A.network,
                             lambda n: n.get("state") == "partitioned", WAIT)
        fail_show(ok, "A's show status network state: partitioned: %s"
                  % net, A)
        t_part = time.monotonic()
        ok, net = wait_value(A.network, lambda n: n.get("outbound") == 0,
                             WAIT)
        t.ok(ok, "A has no outbound connection while B, C and D are down: "
             "%s" % net)
        # let A go through a few dial rounds that fail
        time.sleep(2 * BACKOFF_MAX / 1000.0)
        t.ok(not A.log_lines(r"partition_recovered"),
             "no partition_recovered while B, C and D are down")
        net = A.network()
        least = int(time.monotonic() - t_part) - 1
        t.ok(net.get("state") == "partitioned" and
             net.get("since", -1) >= least,
             "A's show status: partitioned for at least %d s: %s"
             % (least, net))

        t_restart = time.monotonic()
        for p in peers:
            if not p.restart():
                return
        t_up = time.monotonic()
        rec = A.wait_log(r"partition_recovered ", timeout=RECOVER)
        t_rec = time.monotonic()
        if not fail_show(rec, "A logs partition_recovered within %.0f s "
                         "(3 x dialBackoffMax + 10 s) of B, C and D being "
                         "back (%.1f s): %s" % (RECOVER, t_rec - t_up,
                                                rec[-1:]), A, *peers):
            return
        m = re.search(r"duration=(\d+) connections=(\d+)", rec[0])
        if t.ok(m, "partition_recovered has duration=N connections=N: %s"
                % rec[0]):
            dur = int(m.group(1))
            # the partition began after t_stop and ended before t_rec; it
            # lasted at least from t_part (seen) to t_restart; the log
            # counts whole seconds
            lo = int(t_restart - t_part) - 1
            hi = int(t_rec - t_stop) + 1
            t.ok(lo <= dur <= hi, "partition_recovered duration=%d is "
                 "within what the partition lasted: %d..%d s"
                 % (dur, lo, hi))
            t.ok(int(m.group(2)) >= 3, "partition_recovered connections=%s "
                 ">= 3" % m.group(2))
        ok = wait_for(three_out, WAIT)
        net = A.network()
        fail_show(ok and net.get("state") == "ok",
                  "A is back to 3 outbound connections to B, C, D, network "
                  "state ok: %s %s" % (net, A.links()), A)
        lines = A.log_lines(r"partition_(detected|recovered) ")
        kinds = [re.search(r"partition_(\w+)", ln).group(1) for ln in lines]
        t.ok(kinds == ["detected", "recovered"],
             "A's log: partition_detected, then partition_recovered, once "
             "each: %s" % kinds)
        t.ok(A.running(), "peerd A1 is still running")
    finally:
        stop_all([A] + peers)


def check_2():
    """Known peers without bootstrap peers."""
    B = helper("B2")
    C = helper("C2")
    A = Node("A2", conf(cm=dialling(2, 1)))
    try:
        if not B.start() or not C.start() or not A.start():
            return
        t.ok(not A.connections(), "A without bootstrap peers has no "
             "connection of its own: %s" % A.connections())
        # B: A dials it; C: it dials A, A knows it from identify only
        nodes = {"A": A, "B": B, "C": C}
        for a, b, way in (("A", "B", "outbound"), ("C", "A", "inbound")):
            n = a if b == "A" else b
            r = nodes[a].ctl("connect", nodes[b].addr)
            if not fail_show(r.returncode == 0 and
                             A.wait_conn(nodes[n], way),
                             "%s: peerctl connect %s: exit %s, %s in A's "
                             "show connections, %s: %s %s"
                             % (a, b, r.returncode, n, way, r.stdout.strip(),
                                r.stderr.strip()), A, nodes[n]):
                return
        for n in (B, C):
            rec = []
            wait_for(lambda: rec.append(A.known(n.peer_id)) or
                     (rec[-1] or {}).get("lastSuccess", 0) > 0 and
                     rec[-1].get("addresses", 0) >= 1, WAIT)
            fail_show(rec and rec[-1] and
                      rec[-1].get("lastSuccess", 0) > 0 and
                      rec[-1].get("addresses", 0) >= 1,
                      "A's show peers: %s with a last success and an "
                      "address: %s" % (n.name, rec[-1:]), A)
        before = {n.name: len(n.inbound_from(A)) for n in (B, C)}
        t.ok(before == {"B2": 1, "C2": 0}, "B's log: one connection from "
             "A; C's: none: %s" % before)

        A.stop()
        wait_for(lambda: not B.conns_to(A) and not C.conns_to(A), WAIT)
        t.ok(not B.conns_to(A) and not C.conns_to(A),
             "B and C: A's connections close when A stops")
        if not A.restart():
            return
        for n in (B, C):
            got = wait_for(lambda: len(n.inbound_from(A)) >
                           before[n.name] and A.conns_to(n, "outbound"),
                           RECOVER)
            fail_show(got, "A, restarted, dials %s by itself from its store "
                      "within %.0f s: %s logs a new connection from A "
                      "(%d -> %d), A lists it outbound: %s"
                      % (n.name, RECOVER, n.name, before[n.name],
                         len(n.inbound_from(A)), A.links()), A, n)
        t.ok(A.network().get("outbound") == 2,
             "A's show status: 2 outbound of 2: %s" % A.network())
        t.ok(A.running() and B.running() and C.running(),
             "peerd A2, B2 and C2 still run")
    finally:
        stop_all([A, B, C])


def check_3():
    """Bootstrap failover."""
    B = helper("B3")
    refused_port = free_port()
    black = Listener(hold=True)
    refused = made_up_addr(refused_port)
    A = None
    try:
        if not B.start():
            return
        # a handshake that never ends must not keep A from B: the
        # upgrade timeout is longer than the bound below
        cm = dialling(2, 1, inboundUpgradeTimeout=60000)
        A = Node("A3", conf(cm=cm, bootstrap=[refused, black.addr, B.addr]))
        if not A.start():
            return
        fail_show(A.wait_conn(B, "outbound"), "A connects to B, its third "
                  "bootstrap peer, within %d s while the first refuses and "
                  "the second never answers: %s" % (WAIT, A.links()), A)
        t.ok(black.accepted() >= 1, "A dialled the silent bootstrap peer "
             "too: %d connections" % black.accepted())
        t.ok(wait_for(lambda: A.network().get("state") == "ok", WAIT),
             "A's network state is ok (minConnections 1): %s" % A.network())
        dead = refused.rsplit("/", 1)[1]
        rec = []
        wait_for(lambda: rec.append(A.known(dead)) or
                 (rec[-1] or {}).get("failures", 0) >= 1, WAIT)
        t.ok(rec and rec[-1] and rec[-1].get("failures", 0) >= 1 and
             not rec[-1].get("connected"),
             "A's show peers: the refusing bootstrap peer, not connected, "
             "with failures: %s" % rec[-1:])
    finally:
        stop_all([A, B, black])


def check_4():
    """Trim after a reload lowers maxConnections."""
    plain = [helper("P%d" % i) for i in range(3, 7)]
    A = None
    clients = []
    try:
        for p in plain:
            if not p.start():
                return
        prot = plain[0]
        acm = {"maxConnections": 20, "minConnections": 1,
               "protected": [prot.peer_id]}
        arelay = {"enabled": "true", "hop": {"enabled": "true"}}
        A = Node("A4", conf(cm=acm, relay=arelay))
        if not A.start():
            return
        clients = [helper("R%d" % i, relays=[A.addr]) for i in (1, 2)]
        for c in clients:
            if not c.start():
                return
        everyone = clients + plain
        for p in everyone:
            r = p.ctl("connect", A.addr)
            if not t.ok(r.returncode == 0, "%s: peerctl connect A: exit %s "
                        "%s" % (p.name, r.returncode, r.stderr.strip())):
                p.show()
                return
        want_all = sorted(p.peer_id for p in everyone)
        ok = wait_for(lambda: A.peer_set() == want_all, WAIT)
        if not fail_show(ok, "A has one connection with each of the 6 "
                         "peers: %s" % A.peer_set(), A):
            return
        rids = sorted(c.peer_id for c in clients)
        ok = wait_for(lambda: sorted(r.get("peerId") for r in
                                     A.reservations()) == rids, WAIT)
        if not fail_show(ok, "A's show reservations lists R1 and R2: %s"
                         % [r.get("peerId") for r in A.reservations()],
                         A, *clients):
            return

        acm["maxConnections"] = 3
        r = A.reload(conf(cm=acm, relay=arelay))
        if not fail_show(r.returncode == 0, "A: peerctl reload with "
                         "maxConnections 3: exit %s %s %s"
                         % (r.returncode, r.stdout.strip(),
                            r.stderr.strip()), A):
            return
        keep = sorted(rids + [prot.peer_id])
        others = sorted(p.peer_id for p in plain[1:])
        lines = A.wait_log(r"connection_trimmed ", count=3)
        ok = wait_for(lambda: A.peer_set() == keep, WAIT)
        fail_show(ok, "A ends with R1, R2 (reservations) and P3 "
                  "(protected): %s" % A.peer_set(), A)
        trimmed = sorted(re.search(r"peer=(\S+)", ln).group(1)
                         for ln in lines)
        t.ok(trimmed == others, "A logs connection_trimmed for P4, P5, P6 "
             "and no one else: %s" % trimmed)
        st = A.status()
        t.ok(st.get("connections") == 3, "A's show status: 3 connections: "
             "%s" % st.get("connections"))
        # the trimmed peers do not dial back (maxOutgoing 0), A's own
        # rounds find no room: after a few rounds of A it still holds
        time.sleep(3)
        t.ok(A.peer_set() == keep and
             len(A.log_lines(r"connection_trimmed ")) == 3,
             "and it holds: %s, %d connection_trimmed"
             % (A.peer_set(), len(A.log_lines(r"connection_trimmed "))))
        for p in plain[1:]:
            t.ok(not p.conns_to(A), "%s has no connection with A" % p.name)
        t.ok(sorted(r.get("peerId") for r in A.reservations()) == rids,
             "R1 and R2 still hold their reservations on A")
        t.ok(A.running(), "peerd A4 is still running")
    finally:
        stop_all([A] + clients + plain)


def check_5():
    """Bans at dial."""
    B = helper("B5")
    # a bootstrap peer that closes every connection at once: each dial
    # round of A shows there as one more connection
    counter = Listener(hold=False)
    A = None
    try:
        if not B.start():
            return
        A = Node("A5", conf(cm=dialling(2, 2),
                            bootstrap=[B.addr, counter.addr]))
        if not A.start():
            return
        if not fail_show(A.wait_conn(B, "outbound"),
                         "A connects to its bootstrap peer B", A, B):
            return
        net = A.network()
        t.ok(net.get("state") == "connecting",
             "A, one connection short of minConnections 2, is still "
             "connecting: %s" % net)
        r = A.ctl("block", B.peer_id, "forever", "connmgr", "test")
        if not fail_show(r.returncode == 0, "A: peerctl block B: exit %s "
                         "%s %s" % (r.returncode, r.stdout.strip(),
                                    r.stderr.strip()), A):
            return
        t.ok(A.wait_log(r"peer_banned target=%s" % re.escape(B.peer_id)),
             "A logs peer_banned target=B")
        t.ok(wait_for(lambda: not A.conns_to(B) and not B.conns_to(A),
                      WAIT),
             "the connection between A and B closes")
        ins = len(B.inbound_from(A))
        acc = B.accepted()
        counter.wait_dials(4)
        counter.dials_seen("A goes on with its dial rounds", A)
        t.ok(len(B.inbound_from(A)) == ins and not A.conns_to(B),
             "B's log shows no new connection from A over these rounds: "
             "%d, was %d" % (len(B.inbound_from(A)), ins))
        t.ok(acc is not None and B.accepted() == acc,
             "B accepts no TCP connection at all meanwhile: %s, was %s"
             % (B.accepted(), acc))
        t.ok([b for b in A.json("show", "bans", key="bans") or []
              if b.get("target") == B.peer_id],
             "A's show bans lists B")
        # the control: without the ban A dials B again
        r = A.ctl("unblock", B.peer_id)
        t.ok(r.returncode == 0, "A: peerctl unblock B: exit %s %s"
             % (r.returncode, r.stderr.strip()))
        fail_show(wait_for(lambda: A.conns_to(B, "outbound") and
                           len(B.inbound_from(A)) > ins, RECOVER),
                  "unblocked, A dials B again within %.0f s" % RECOVER, A, B)
    finally:
        stop_all([A, B, counter])


def check_7():
    """A bootstrap peer given without /p2p/ID is dialled once, not
    again each round."""
    B = helper("B7")
    counter = Listener(hold=False)
    A = None
    try:
        if not B.start():
            return
        # below its targets A runs dial rounds all along; the counting
        # listener shows them
        noid = "/ip4/127.0.0.1/tcp/%d" % B.s.port
        A = Node("A7", conf(cm=dialling(3, 3),
                            bootstrap=[noid, counter.addr]))
        if not A.start():
            return
        if not fail_show(A.wait_conn(B, "outbound"),
                         "A connects to B, a bootstrap peer given as %s"
                         % noid, A, B):
            return
        counter.wait_dials(4)
        conns = A.conns_to(B)
        t.ok(len(conns) == 1, "after %d more dial rounds of A (or %.0f s) A "
             "has one connection with B, not one more each round: %d %s"
             % (counter.rounds, counter.bound, len(conns),
                [(c.get("id"), c.get("direction")) for c in conns]))
        t.ok(B.accepted() == 1, "B accepted one connection: %s"
             % B.accepted())
        net = A.network()
        t.ok(net.get("state") == "connecting" and net.get("outbound") == 1,
             "A, with one peer where minConnections is 3, is still "
             "connecting, 1 outbound: %s" % net)
        counter.dials_seen("A, below its targets, goes on with its dial "
                           "rounds", A)
    finally:
        stop_all([A, B, counter])


def check_8():
    """Trim order: bootstrap peers are kept, inbound connections go
    before outbound ones."""
    X = helper("X8")
    Y = helper("Y8")
    ins = [helper("I%d" % i) for i in (1, 2, 3)]
    A = None
    try:
        for n in [X, Y] + ins:
            if not n.start():
                return
        cm = {"maxConnections": 20, "minConnections": 1, "maxOutgoing": 0}
        A = Node("A8", conf(cm=cm, bootstrap=[X.addr]))
        if not A.start():
            return
        r = A.ctl("connect", Y.addr)
        t.ok(r.returncode == 0, "A: peerctl connect Y: exit %s %s"
             % (r.returncode, r.stderr.strip()))
        for n in ins:
            r = n.ctl("connect", A.addr)
            t.ok(r.returncode == 0, "%s: peerctl connect A: exit %s %s"
                 % (n.name, r.returncode, r.stderr.strip()))
        want = sorted(n.peer_id for n in [X, Y] + ins)
        if not fail_show(wait_for(lambda: A.peer_set() == want, WAIT),
                         "A has X (bootstrap, outbound), Y (outbound) and "
                         "I1, I2, I3 (inbound): %s" % A.links(), A):
            return

        def trim(most, trimmed):
            """Reload with maxConnections most; wait until A logged
            trimmed connection_trimmed in all."""
            cm["maxConnections"] = most
            r = A.reload(conf(cm=cm, bootstrap=[X.addr]))
            t.ok(r.returncode == 0, "A: reload with maxConnections %d: "
                 "exit %s" % (most, r.returncode))
            A.wait_log(r"connection_trimmed ", count=trimmed)

        # two rounds of trimming: 5 -> 4 takes one inbound; 4 -> 2 takes
        # the other two inbound and keeps Y, outbound, and X, bootstrap
        trim(4, 1)
        wait_for(lambda: len(A.connections()) == 4, WAIT)
        left = A.peer_set()
        gone = [n.name for n in ins if n.peer_id not in left]
        t.ok(len(left) == 4 and X.peer_id in left and Y.peer_id in left and
             len(gone) == 1, "maxConnections 4: one inbound connection is "
             "trimmed (%s), X and Y stay: %d left" % (gone, len(left)))
        trim(2, 3)
        ok = wait_for(lambda: A.peer_set() == sorted([X.peer_id,
                                                      Y.peer_id]), WAIT)
        fail_show(ok, "maxConnections 2: the inbound connections are "
                  "trimmed, X (bootstrap) and Y (outbound) stay: %s"
                  % A.links(), A)
        trimmed = sorted(re.search(r"peer=(\S+)", ln).group(1)
                         for ln in A.log_lines(r"connection_trimmed "))
        t.ok(trimmed == sorted(n.peer_id for n in ins),
             "A logs connection_trimmed for I1, I2, I3 only, once each: %s"
             % trimmed)
    finally:
        stop_all([A, X, Y] + ins)


def session_procs(pid, name):
    """The processes called name among pid's children (read quickly,
    from /proc/PID/task/PID/children), or else in its session."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            cands = f.read().split()
    except OSError:
        cands = [d for d in os.listdir("/proc")
                 if d.isdigit() and session_of(int(d)) == pid]
    found = []
    for d in cands:
        try:
            with open("/proc/%s/comm" % d) as f:
                if f.read().strip() == name:
                    found.append(int(d))
        except OSError:
            pass
    return found


def check_6():
    """The connection manager starts whatever answers first: keyd with
    the identity or stored with the bans."""
    B = helper("B6")
    A = None
    held = []
    try:
        if not B.start():
            return
        A = Node("A6", conf(cm=dialling(1, 1), bootstrap=[B.addr]))
        A.s.prepare()
        A.s.write_conf(A.conf)
        A.launch()
        p = A.s.proc
        end = time.monotonic() + 10
        while not held and time.monotonic() < end and p.poll() is None:
            for pid in session_procs(p.pid, "keyd"):
                try:
                    os.kill(pid, signal.SIGSTOP)
                    held.append(pid)
                except OSError:
                    pass
        if not t.ok(held, "keyd of A found and held"):
            return
        bans = wait_for(lambda: "bans in force" in A.s.log(), WAIT)
        for pid in held:
            os.kill(pid, signal.SIGCONT)
        log = A.s.log()
        if not bans or ": identity " in log[:log.find("bans in force")]:
            t.skip("A, whose engine had the bans before the identity, "
                   "dials its bootstrap peer B", "keyd answered before the "
                   "engine had loaded the bans")
            return
        if not A.up("A starts once keyd goes on"):
            return
        ok = A.wait_conn(B, "outbound")
        fail_show(ok, "A, whose engine had the bans before the identity, "
                  "dials its bootstrap peer B within %d s: %s; A's show "
                  "peers: %s" % (WAIT, A.connections(),
                                 [x.get("peerId") for x in A.peers()]), A)
        if not ok:
            r = A.ctl("reload")
            t.diag("after peerctl reload (exit %s), A dials B: %s"
                   % (r.returncode, A.wait_conn(B)))
    finally:
        for pid in held:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        stop_all([A, B])


def check_9():
    """A connection that carries a relayed circuit is never trimmed."""
    plain = [helper("Q%d" % i) for i in range(1, 5)]
    A = C = D = None
    try:
        for p in plain:
            if not p.start():
                return
        # A does not dial: its connections are the ones the check makes
        acm = {"maxConnections": 20, "minConnections": 1, "maxOutgoing": 0}
        # no limits: the circuit lasts as long as the check
        arelay = {"enabled": "true", "hop": {"enabled": "true"},
                  "limit": {"duration": 0, "data": 0}}
        A = Node("A9", conf(cm=acm, relay=arelay))
        if not A.start():
            return
        C = helper("C9", relays=[A.addr])
        D = helper("D9")
        if not C.start() or not D.start():
            return
        ok = wait_for(lambda: [r for r in A.reservations()
                               if r.get("peerId") == C.peer_id], WAIT)
        if not fail_show(ok, "A's show reservations lists C, its relay "
                         "client: %s" % [r.get("peerId") for r in
                                         A.reservations()], A, C):
            return
        circ = "%s/p2p-circuit/p2p/%s" % (A.addr, C.peer_id)
        r = D.ctl("connect", circ)
        if not fail_show(r.returncode == 0 and
                         C.peer_id in r.stdout,
                         "D: peerctl connect %s: exit %s %s %s"
                         % (circ, r.returncode, r.stdout.strip(),
                            r.stderr.strip()), D, A):
            return

        def the_circuit():
            return [c for c in A.circuits()
                    if c.get("source") == D.peer_id and
                    c.get("target") == C.peer_id]
        if not fail_show(wait_for(the_circuit, WAIT),
                         "A's show circuits lists the circuit D -> C: %s"
                         % A.circuits(), A):
            return
        cid = the_circuit()[0].get("id")
        via = "relayed via " + A.peer_id
        relayed = [c.get("id") for c in D.conns_to(C)
                   if c.get("address") == via]
        t.ok(relayed, "D's show connections: C %r: %s"
             % (via, [(c.get("peerId"), c.get("address"))
                      for c in D.connections()]))
        for p in plain:
            r = p.ctl("connect", A.addr)
            if not t.ok(r.returncode == 0, "%s: peerctl connect A: exit %s "
                        "%s" % (p.name, r.returncode, r.stderr.strip())):
                p.show()
                return
        want_all = sorted(n.peer_id for n in [C, D] + plain)
        if not fail_show(wait_for(lambda: A.peer_set() == want_all, WAIT),
                         "A has one connection with each of C, D, Q1..Q4: "
                         "%s" % A.links(), A):
            return
        dconn = A.conns_to(D)
        t.diag("A's connection with D: %s" % dconn)
        t.diag("A's connections (peer, direction, streams): %s"
               % [(c.get("peerId"), c.get("direction"), c.get("streams"))
                  for c in A.connections()])

        # 6 connections, room for 1: C's holds a reservation, D's the
        # circuit; everything else goes and A stays above the maximum
        acm["maxConnections"] = 1
        r = A.reload(conf(cm=acm, relay=arelay))
        if not fail_show(r.returncode == 0, "A: peerctl reload with "
                         "maxConnections 1: exit %s %s %s"
                         % (r.returncode, r.stdout.strip(),
                            r.stderr.strip()), A):
            return
        keep = sorted([C.peer_id, D.peer_id])
        others = sorted(p.peer_id for p in plain)
        A.wait_log(r"connection_trimmed ", count=len(plain))
        ok = wait_for(lambda: A.peer_set() == keep, WAIT)
        fail_show(ok, "A ends with C (reservation) and D (circuit): %s"
                  % A.links(), A)
        # A stays above maxConnections: more checks come and go, and
        # must not take D either
        time.sleep(3)
        trimmed = sorted(re.search(r"peer=(\S+)", ln).group(1)
                         for ln in A.log_lines(r"connection_trimmed "))
        t.ok(trimmed == others, "A logs connection_trimmed for Q1..Q4, "
             "never for D or C: %s" % trimmed)
        t.ok(A.peer_set() == keep and
             [c.get("id") for c in A.conns_to(D)] ==
             [c.get("id") for c in dconn],
             "A still has its one connection with D, the same one: %s"
             % [(c.get("id"), c.get("peerId")) for c in A.connections()])
        c = the_circuit()
        t.ok(c and c[0].get("id") == cid,
             "A's show circuits still lists circuit %s D -> C: %s"
             % (cid, A.circuits()))
        r = D.ctl("ping", C.peer_id, "-c", "2", timeout=40)
        replies = [ln for ln in r.stdout.splitlines() if "time=" in ln]
        if not t.ok(r.returncode == 0 and len(replies) == 2,
                    "D: peerctl ping C -c 2: exit %s, %d replies"
                    % (r.returncode, len(replies))):
            t.diag("stdout: " + r.stdout.strip())
            t.diag("stderr: " + r.stderr.strip())
            A.show()
        # by peer ID ping takes the open connection: the relayed one, or
        # had it gone, a new one to an address identify gave
        now = [(c.get("id"), c.get("address")) for c in D.conns_to(C)]
        t.ok(relayed and now == [(relayed[0], via)],
             "D's one connection with C is still the relayed one, %s: %s"
             % (relayed[:1], now))
        for p in plain:
            t.ok(not p.conns_to(A), "%s has no connection with A" % p.name)
        t.ok(A.running(), "peerd A9 is still running")

        # the control: it was the circuit that kept D.  D closes its
        # relayed connection with C, the circuit ends, and A, still
        # above maxConnections, has one connection it may trim
        r = D.ctl("disconnect", C.peer_id)
        t.ok(r.returncode == 0, "D: peerctl disconnect C: exit %s %s"
             % (r.returncode, (r.stdout + r.stderr).strip()))
        if not fail_show(wait_for(lambda: not the_circuit(), WAIT),
                         "the circuit D -> C goes from A's show circuits: "
                         "%s" % A.circuits(), A):
            return
        t_end = time.monotonic()
        got = A.wait_log(r"connection_trimmed peer=%s "
                         % re.escape(D.peer_id))
        fail_show(got and wait_for(lambda: not A.conns_to(D), WAIT),
                  "once the circuit is closed, A, above maxConnections 1 "
                  "with C and D, trims D's connection within %d s: %s; "
                  "A's connections %s"
                  % (WAIT, got[-1:], A.links()), A)
        if not got:
            t.diag("no trim %.0f s after the circuit closed: A should look "
                   "again every second while over its maximum "
                   "(connmgr_sweep)" % (time.monotonic() - t_end))
        t.ok(C.peer_id in A.peer_set(), "C, holding its reservation, stays")
    finally:
        stop_all([A, C, D] + plain)


REFUSED_LIMIT = r"connection_refused addr=\S+ reason=max_connections$"


def refused_at_limit(A, other, what):
    """A, at maxConnections with the connections it has now, refuses
    other's connection before any handshake, and keeps those it has."""
    before = A.connections()
    ids = sorted(c.get("id") for c in before)
    acc = A.accepted()
    ref = A.engine_count("refused")
    t.diag("%s: A's connections before: %s" % (what, A.links()))
    r = other.ctl("connect", A.addr)
    fail_show(r.returncode != 0, "%s: %s's peerctl connect A fails: exit "
              "%s %s %s" % (what, other.name, r.returncode, r.stdout.strip(),
                            r.stderr.strip()), A, other)
    got = A.wait_log(REFUSED_LIMIT)
    fail_show(len(got) == 1, "%s: A logs one \"connection_refused "
              "addr=... reason=max_connections\": %s"
              % (what, got), A)
    t.ok(ref is not None and
         wait_for(lambda: A.engine_count("refused") == ref + 1, WAIT),
         "%s: the engine's refused count goes up by one: %s -> %s"
         % (what, ref, A.engine_count("refused")))
    t.ok(acc is not None and A.accepted() == acc,
         "%s: the engine's accepted count stays: %s -> %s"
         % (what, acc, A.accepted()))
    # the refusal comes before the handshake: A never learns who it was
    t.ok(not A.inbound_from(other), "%s: A's log has no connection from "
         "%s coming up: %s" % (what, other.name, A.inbound_from(other)))
    # were the connection accepted, A would trim one (perhaps an older
    # one) soon after: give it that time
    time.sleep(2)
    now = A.connections()
    t.ok(sorted(c.get("id") for c in now) == ids and
         sorted(c.get("peerId") for c in now) ==
         sorted(c.get("peerId") for c in before),
         "%s: A still has exactly its %d connections, the same ones: %s"
         % (what, len(ids), [(c.get("id"), c.get("peerId"))
                             for c in now]))
    t.ok(not other.conns_to(A), "%s: %s has no connection with A"
         % (what, other.name))


def check_10():
    """At maxConnections no connection is accepted, however the limit
    was reached."""
    Q = [helper("Q%d" % i) for i in range(1, 5)]
    A = A2 = None
    try:
        for q in Q:
            if not q.start():
                return
        # the limit reached by A's own dials (peerctl connect): its
        # connection manager never dials by itself
        A = Node("A10", conf(cm={"maxConnections": 2, "minConnections": 0,
                                 "maxOutgoing": 0}))
        if not A.start():
            return
        for q in Q[:2]:
            r = A.ctl("connect", q.addr)
            t.ok(r.returncode == 0, "A: peerctl connect %s: exit %s %s"
                 % (q.name, r.returncode, r.stderr.strip()))
        want = sorted(q.peer_id for q in Q[:2])
        if fail_show(wait_for(lambda: A.peer_set() == want and
                              len(A.conns_to(Q[0], "outbound")) == 1 and
                              len(A.conns_to(Q[1], "outbound")) == 1,
                              WAIT),
                     "A has 2 outbound connections, to Q1 and Q2, "
                     "maxConnections 2: %s" % A.links(), A):
            refused_at_limit(A, Q[2], "maxConnections 2 reached by dials")
        A.stop()

        # the limit reached by a reload that lowered it: 3 inbound, the
        # reload to 2 trims one
        acm = {"maxConnections": 20, "minConnections": 0, "maxOutgoing": 0}
        A2 = Node("A10r", conf(cm=acm))
        if not A2.start():
            return
        for q in Q[:3]:
            r = q.ctl("connect", A2.addr)
            t.ok(r.returncode == 0, "%s: peerctl connect A: exit %s %s"
                 % (q.name, r.returncode, r.stderr.strip()))
        want = sorted(q.peer_id for q in Q[:3])
        if not fail_show(wait_for(lambda: A2.peer_set() == want, WAIT),
                         "A has 3 inbound connections, from Q1, Q2, Q3: %s"
                         % A2.links(), A2):
            return
        acm["maxConnections"] = 2
        r = A2.reload(conf(cm=acm))
        t.ok(r.returncode == 0, "A: reload with maxConnections 2: exit %s"
             % r.returncode)
        got = A2.wait_log(r"connection_trimmed ")
        if not fail_show(got and wait_for(lambda: len(A2.connections()) == 2,
                                          WAIT),
                         "A trims one connection to maxConnections 2: %s, "
                         "left %s" % (got, A2.links()), A2):
            return
        refused_at_limit(A2, Q[3], "maxConnections 2 reached by a reload")
        t.ok(len(A2.log_lines(r"connection_trimmed ")) == 1,
             "A trimmed one connection, at the reload, and no other: %s"
             % A2.log_lines(r"connection_trimmed "))
        t.ok(A2.running(), "peerd A10r is still running")
    finally:
        stop_all([A, A2] + Q)


# --- main ----------------------------------------------------------------

CHECKS = {"1": check_1, "2": check_2, "3": check_3, "4": check_4,
          "5": check_5, "6": check_6, "7": check_7, "8": check_8,
          "9": check_9, "10": check_10}


def main():
    global BUILD, BASE
    BUILD, which = check_args(__doc__, sorted(CHECKS, key=int))
    exit_on_signals()
    need_root(t, "connection manager tests")
    BASE = temp_base("peerd-connmgr-")
    try:
        for c in which:
            t.diag("--- check %s: %s" % (c, CHECKS[c].__doc__))
            run_check(t, c, CHECKS[c])
    except BaseException:
        t.ok(False, "connmgr.py ran to the end")
        t.diag(traceback.format_exc())
    finally:
        for n in NODES:
            n.stop()
        Suite.cleanup_all()
        for ls in LISTENERS:
            ls.close()
        nothing_left(t)
        shutil.rmtree(BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
