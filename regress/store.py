#!/usr/bin/env python3
"""
Store tests: stored's LMDB store seen from outside, through peerctl,
peerd -r and the files in stateDir.  Speaks TAP.

Usage: store.py BUILDDIR [CHECK ...]

CHECK is one or more of 1 to 11 (default: all; "110" is 1 and 10):
  1  a restart keeps known peers, bans (IP, CIDR, peer ID, with duration
     and reason) and relay accounting; the bans are enforced after it
  2  kill -9 of stored during a stream of blocks: every acknowledged ban
     is there after the restart, and the store verifies
  3  peerctl backup under write load; peerd -r restores it (and refuses
     garbage, and a running suite)
  4  a tiny tmpfs filled up: blocks fail with a clear message, then work
     again once there is space (skipped when mount is not permitted)
  5  a damaged store stops the suite at start with advice to run peerd -r
  6  a schema 1 store (meta only, made with mdb_load) is migrated to 2;
     a newer schema is refused and left alone
  7  peerctl verify names a record of the peers database that does not
     decode
  8  the read-only control socket refuses block, unblock, backup and
     verify, and answers show bans, peers and accounting
  9  a store that nearly fills its map at start: the map grows and
     every record stays; a mistyped ban duration is an error
  10 the caps at insert: fresh peers reserving (a raw client,
     regress/interop/attack.mjs) never take the store over store.maxPeers
     or store.maxAccounting, a peer with a ban is kept, peerctl show
     store (text and JSON) gives the records, caps and what was pruned,
     records_pruned is logged; a reload that raises and then lowers
     store.maxAccounting holds at once
  11 the caps at start, on a store made with mdb_load: 10,049 peers
     against store.maxPeers 10000 (the 49 seen longest ago go), and
     30 days of accounting against store.maxAccountingSize 1 MiB (the
     oldest days go, the newest stays whole)

Runs as root (peerd -d) with the users of etc/peerd-setup; needs
mdb_load and mdb_dump (lmdb-utils), and for check 10 node 20 or later
(no npm package).  Every suite runs in its own
directory under one temporary directory on 127.0.0.1 with random ports;
every process and the tmpfs of check 4 are gone when the test ends, even
after a failure.
"""
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (Suite, TAP, wait_for, b58decode,  # noqa: E402
                   js_ready, parse_events, kill, JSDIR,
                   exit_on_signals, check_args, need_root, need_users,
                   temp_base, run_check, nothing_left)

t = TAP()
BUILD = None
BASE = None
MOUNTS = []
BLOCKERS = []
HEADER = b"\x13/multistream/1.0.0\n"
# stored retries a failed batch this often (STORE_RETRY in stored/store.h)
STORE_RETRY = 5
# a real Ed25519 peer ID, for a record made by hand
SOME_PEER = "12D3KooWNeu9FagGdSvqecQw4BRwEg3jB7gDas7QVrmpmWyFUusd"


def out(r):
    return ((r.stdout or "") + (r.stderr or "")).strip()


def ran(r, what):
    """Check what: the command that gave r exited 0 (its output follows
    what in the name)."""
    return t.ok(r.returncode == 0, "%s: %s" % (what, out(r)))


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def olds(state):
    try:
        return sorted(f for f in os.listdir(state)
                      if f.startswith("data.mdb.old."))
    except OSError:
        return []


# --- one suite ---------------------------------------------------------

class Node(suite.Node):
    """A Suite in BASE/name with its config written once, started and
    stopped alone (the other suites keep running); its log since the
    last start is since()."""
    wait = 15
    tail = 25
    ctl_timeout = 60

    def __init__(self, name, extra="", state=None):
        suite.Node.__init__(self, t, name, BUILD, os.path.join(BASE, name))
        self.s.prepare()
        self.s.write_conf(extra, state=state)
        if state is not None:
            self.s.state = state

    @property
    def data(self):
        return os.path.join(self.s.state, "data.mdb")

    def launch(self):
        self.mark = len(self.s.log())
        self.s.launch()

    def start(self, what="starts"):
        self.launch()
        return self.up("%s: peerd %s" % (self.name, what))

    def refused(self, word):
        """Launch a peerd that should not start: its exit status, and
        the lines of the log of this start that have word."""
        self.launch()
        rc = self.wait_exit(30)
        return rc, self.log_lines(re.escape(word))

    def wait_exit(self, timeout=30):
        try:
            return self.s.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def term(self):
        """SIGTERM, and what is left killed; the parent's exit status."""
        p = self.s.proc
        rc = None
        if p is not None:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            rc = self.wait_exit(30)
        self.s.stop(alone=True)
        return rc

    def start_loaded(self, r, made, what, pattern, says):
        """Check that the mdb_load that gave r made the store by hand
        (made), that peerd starts on it (what) and that the log of the
        start comes to have a line that matches pattern (says); whether
        peerd runs."""
        if not ran(r, made) or not self.start(what):
            return False
        got = self.wait_log(pattern, 5)
        t.ok(got, "%s: %s" % (says, got[:1]))
        return True

    def verify(self, what):
        """Check what: peerctl verify finds no problem; its answer."""
        r = self.ctl("verify")
        t.ok(r.returncode == 0 and "0 problems" in r.stdout,
             "%s: %s" % (what, out(r)))
        return r

    def bans(self, sock=None):
        """target -> (until, created, reason), or None."""
        rows = self.json("show", "bans", key="bans", sock=sock)
        if rows is None:
            return None
        return {b["target"]: (b["until"], b["created"], b["reason"])
                for b in rows}

    def peers(self, sock=None):
        rows = self.json("show", "peers", key="peers", sock=sock)
        return None if rows is None else {p["peerId"]: p for p in rows}

    def acct(self, peer, sock=None):
        rows = self.json("show", "accounting", key="accounting", sock=sock)
        return [a for a in rows or [] if a["peerId"] == peer]

    def pid_of(self, name):
        for p in self.s.status_json()["processes"]:
            if p["name"] == name:
                return p["pid"]
        return None

    def restore(self, path):
        return subprocess.run([self.s.peerd, "-f", self.s.conf, "-r", path],
                              capture_output=True, text=True, timeout=120)


# --- a stream of blocks ------------------------------------------------

class Blocker:
    """Threads each running peerctl block 10.NET.Y.Z, a new address each
    time, in a loop; which were acknowledged (exit 0) and in what phase
    they were issued (set by the test)."""

    def __init__(self, node, net, threads=4):
        self.node = node
        self.net = net
        self.lock = threading.Lock()
        self.next = 0
        self.phase = 0
        self.acked = []         # (target, phase when issued)
        self.failed = []        # (target, exit status, message)
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(threads)]
        BLOCKERS.append(self)

    def target(self):
        with self.lock:
            n = self.next
            self.next += 1
        return "10.%d.%d.%d" % (self.net, (n >> 8) & 255, n & 255)

    def run(self):
        while not self.halt.is_set() and self.next < 65536:
            tgt, phase = self.target(), self.phase
            r = self.node.ctl("block", tgt)
            rc, msg = r.returncode, out(r)
            with self.lock:
                if rc == 0:
                    self.acked.append((tgt, phase))
                else:
                    self.failed.append((tgt, rc, msg))
            if rc != 0:
                self.halt.wait(0.05)

    def start(self):
        for th in self.threads:
            th.start()

    def stop(self):
        self.halt.set()
        for th in self.threads:
            if th.is_alive():
                th.join(90)

    def nacked(self, phase=None):
        with self.lock:
            return len([a for a in self.acked
                        if phase is None or a[1] == phase])

    def targets(self, phase=None):
        with self.lock:
            return [a[0] for a in self.acked
                    if phase is None or a[1] == phase]


def accept_from(src, port):
    """What a TCP client bound to src gets from 127.0.0.1:port within
    5 s: the multistream header, b"" when closed at once, None."""
    c = socket.socket()
    c.settimeout(5)
    try:
        c.bind((src, 0))
        c.connect(("127.0.0.1", port))
        return c.recv(64)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""
    finally:
        c.close()


def mdb_dump(path, db):
    """The records of one database of a store (a directory, or a file
    such as a backup), without the header; None if mdb_dump fails."""
    if os.path.isdir(path):
        path = os.path.join(path, "data.mdb")
    # as a single file, with a lock file of its own (path-lock) removed
    # after: lock.mdb is stored's, and root's would lock it out
    r = subprocess.run(["mdb_dump", "-n", "-s", db, path],
                       capture_output=True, text=True)
    try:
        os.unlink(path + "-lock")
    except OSError:
        pass
    if r.returncode != 0:
        return None
    return r.stdout.split("HEADER=END\n", 1)[-1]


def mdb_dump_meta(state):
    """The meta database of the store in state: key -> value bytes."""
    text = mdb_dump(state, "meta")
    if text is None:
        return None
    data = [bytes.fromhex(ln.strip()) for ln in text.splitlines()
            if ln.startswith(" ")]
    return dict(zip(data[0::2], data[1::2]))


def make_store(state, meta):
    """A store in state that has only a meta database, made with
    mdb_load, owned by _peerd as stored would leave it."""
    os.makedirs(state, 0o700, exist_ok=True)
    dump = "VERSION=3\nformat=bytevalue\ndatabase=meta\ntype=btree\n" \
        "HEADER=END\n"
    for k, v in sorted(meta.items()):
        dump += " %s\n %s\n" % (k.hex(), v.hex())
    dump += "DATA=END\n"
    r = subprocess.run(["mdb_load", state], input=dump,
                       capture_output=True, text=True)
    u = pwd.getpwnam("_peerd")
    for f in [state] + [os.path.join(state, n) for n in os.listdir(state)]:
        os.chown(f, u.pw_uid, u.pw_gid)
        os.chmod(f, 0o700 if f == state else 0o600)
    return r


def mdb_text(records):
    """mdb_load -T input: each key and value escaped byte by byte."""
    return "".join("%s\n%s\n" % ("".join("\\%02x" % b for b in k),
                                 "".join("\\%02x" % b for b in v))
                   for k, v in records)


# --- 1. restart keeps peers, bans and accounting ------------------------

def check_1():
    A = Node("1-A", "relay:\n  rateLimit:\n    connectionsPerMinute: 0\n")
    B = Node("1-B")
    if not A.start() or not B.start():
        return
    C = Node("1-C", 'mode: peer\nrelays: ["%s"]\n' % A.addr)
    ran(A.ctl("connect", B.addr), "A: peerctl connect to B")
    baddr = "/ip4/127.0.0.1/tcp/%d" % B.s.port
    got = {}
    wait_for(lambda: got.update(A.peers() or {}) or
             got.get(B.peer_id, {}).get("address") == baddr, timeout=15)
    t.ok(got.get(B.peer_id, {}).get("address") == baddr,
         "A's show peers lists B at %s: %s" % (baddr, got.get(B.peer_id)))

    if C.start():
        ok = wait_for(lambda: any(a["reservations"] >= 1
                                  for a in A.acct(C.peer_id)), timeout=30)
        if not t.ok(ok, "A's show accounting lists C (reserving on A as "
                    "its relay) with reservations >= 1: %s"
                    % A.acct(C.peer_id)):
            C.show(10)
            A.show(10)
    acct_before = A.acct(C.peer_id) if C.peer_id else []

    # target -> (peerctl arguments after it, duration s, reason)
    want = {
        "127.0.0.2": (["forever", "abusive", "address"], 0,
                      "abusive address"),
        "127.0.4.0/24": (["7d", "noisy", "network"], 7 * 86400,
                         "noisy network"),
        "2001:db8::/32": (["30m", "documentation", "only"], 1800,
                          "documentation only"),
        B.peer_id: (["1h", "misbehaving", "peer"], 3600,
                    "misbehaving peer"),
    }
    for target, (args, _, _) in want.items():
        r = A.ctl("block", target, *args)
        t.ok(r.returncode == 0 and ("blocked %s" % target) in r.stdout,
             "A: peerctl block %s %s: %s" % (target, " ".join(args),
                                             out(r)))
    before = A.bans() or {}
    good = set(before) == set(want) and all(
        before[k][2] == want[k][2] and
        (before[k][0] == 0 if want[k][1] == 0 else
         before[k][0] - before[k][1] == want[k][1]) for k in want)
    t.ok(good, "A's show bans lists the four with their durations and "
         "reasons: %s" % before)
    logged = [k for k in want
              if A.wait_log(r"peer_banned target=%s " % re.escape(k), 5)]
    t.ok(len(logged) == len(want), "A logs peer_banned for each: %s"
         % logged)

    rc = A.term()
    t.ok(rc == 0, "A stops on SIGTERM with status 0 (%s)" % rc)
    if not A.start("starts again on the same directories"):
        return
    log = A.since()
    t.ok(re.search(r"last clean shutdown at \d{4}-", log) and
         "not closed cleanly" not in log,
         "A's log says the last shutdown was clean")
    got = A.peers() or {}
    t.ok(got.get(B.peer_id, {}).get("address") == baddr,
         "after the restart A's show peers still lists B at %s: %s"
         % (baddr, got.get(B.peer_id)))
    after = A.bans()
    if not t.ok(after == before, "after the restart A's show bans lists "
                "the same bans, untils and reasons"):
        t.diag("before: %s" % before)
        t.diag("after:  %s" % after)
    if acct_before:
        rows = A.acct(C.peer_id)
        t.ok(rows and max(a["reservations"] for a in rows) >=
             max(a["reservations"] for a in acct_before),
             "after the restart A's accounting for C is still there: %s"
             % rows)

    # the peer ID ban, both ways
    r = B.ctl("connect", A.addr)
    t.ok(r.returncode not in (0, None),
         "B (a blocked peer ID) dialling A with peerctl connect fails: %s"
         % out(r))
    got = A.wait_log(r"blocked peer")
    t.ok(got, "A's log shows the refusal: %s" % got[-1:])
    r = B.ctl("ping", A.addr, "-c", "1")
    t.ok(r.returncode not in (0, None),
         "B cannot ping A either: %s" % out(r))
    conns = []

    def no_conn():
        conns[:] = [B.json("show", "connections", key="connections")]
        return conns[0] is not None and \
            not [c for c in conns[0] if c["peerId"] == A.peer_id]
    t.ok(wait_for(no_conn, timeout=10), "B is left with no connection to "
         "A: %s" % conns)
    r = A.ctl("connect", B.addr)
    t.ok(r.returncode not in (0, None) and "blocked" in r.stderr,
         "A does not dial B, which it blocked: %s" % out(r))

    # the address and network bans, at accept
    ctrl = accept_from("127.0.0.3", A.s.port)
    t.ok(ctrl == HEADER, "an address that is not blocked (127.0.0.3) gets "
         "the multistream header: %r" % ctrl)
    refused = A.engine_count("refused")
    got = accept_from("127.0.0.2", A.s.port)
    t.ok(got == b"", "the blocked address 127.0.0.2 is closed at accept: "
         "%r" % got)
    got = A.wait_log(r"connection_refused addr=127\.0\.0\.2:\d+ "
                     r"reason=banned")
    t.ok(got, "A's log shows it: %s" % got[-1:])
    got = accept_from("127.0.4.9", A.s.port)
    t.ok(got == b"", "127.0.4.9 in the blocked network 127.0.4.0/24 is "
         "closed at accept: %r" % got)
    now = A.engine_count("refused")
    t.ok(None not in (refused, now) and now >= refused + 2,
         "A's engine counts both refusals: %s -> %s" % (refused, now))
    for n in (C, B, A):
        n.term()


# --- 2. kill -9 of stored during writes ---------------------------------

def check_2():
    S = Node("2-kill")
    if not S.start():
        return
    bl = Blocker(S, 2)
    bl.start()
    ok = wait_for(lambda: bl.nacked() >= 40, timeout=60)
    if not t.ok(ok, "blocks are acknowledged under load (%d, failed %s)"
                % (bl.nacked(), bl.failed[:3])):
        bl.stop()
        S.term()
        return
    victim = S.pid_of("stored")
    os.kill(victim, signal.SIGKILL)
    rc = S.wait_exit(30)
    bl.stop()
    t.ok(rc not in (None, 0), "kill -9 of stored (pid %d) while writing: "
         "the suite stops, status %s" % (victim, rc))
    acked = bl.targets()
    t.diag("%d blocks acknowledged, %d not" % (len(acked), len(bl.failed)))
    S.term()
    if not S.start("starts again after the kill"):
        return
    t.ok("was not closed cleanly" in S.since(),
         "the log says the store was not closed cleanly")
    r = S.verify("peerctl verify after the kill")
    bans = S.bans() or {}
    missing = [a for a in acked if a not in bans]
    t.ok(acked and not missing, "every acknowledged ban (%d) is in show "
         "bans after the restart; missing: %s" % (len(acked), missing[:10]))
    m = re.search(r"(\d+) bans", r.stdout)
    t.ok(m and int(m.group(1)) >= len(acked),
         "verify counts at least as many bans as were acknowledged: %s"
         % (m.group(0) if m else r.stdout.strip()))
    S.term()


# --- 3. backup under load, peerd -r -------------------------------------

def check_3():
    S = Node("3-backup")
    if not S.start():
        return
    bfile = os.path.join(BASE, "3-backup.mdb")
    bl = Blocker(S, 3)
    bl.start()
    try:
        if not t.ok(wait_for(lambda: bl.nacked() >= 30, timeout=60),
                    "blocks are acknowledged under load (%d, failed %s)"
                    % (bl.nacked(), bl.failed[:3])):
            return
        before = bl.targets()           # all acknowledged before backup
        r = S.ctl("backup", bfile, timeout=120)
        bl.phase = 1                    # issued after the backup ended
        m = re.search(r"backup written: (\d+) bytes", r.stdout)
        st = os.stat(bfile) if os.path.exists(bfile) else None
        t.ok(r.returncode == 0 and m and st is not None,
             "peerctl backup under write load: %s" % out(r))
        t.ok(st is not None and stat.S_IMODE(st.st_mode) == 0o600,
             "the backup file has mode 0600: %s"
             % (oct(st.st_mode) if st else "no file"))
        t.ok(st is not None and m and st.st_size == int(m.group(1)),
             "its size is what peerctl reported: %s"
             % (st.st_size if st else None))
        t.ok(wait_for(lambda: bl.nacked(1) >= 20, timeout=60),
             "writes go on after the backup (%d acknowledged)"
             % bl.nacked(1))
        if st is None:
            return
        saved, mtime = read(bfile), st.st_mtime_ns
        r = S.ctl("backup", bfile)
        t.ok(r.returncode not in (0, None) and "exists" in r.stderr,
             "peerctl backup to an existing file fails: %s" % out(r))
        t.ok(read(bfile) == saved and
             os.stat(bfile).st_mtime_ns == mtime,
             "and leaves that file untouched")

        ino = os.stat(S.data).st_ino
        r = S.restore(bfile)
        t.ok(r.returncode not in (0, None) and "in use" in r.stderr,
             "peerd -r while the suite runs is refused: %s" % out(r))
        t.ok(os.stat(S.data).st_ino == ino and not olds(S.s.state) and
             S.running(), "the running store is left in place")
    finally:
        bl.stop()
    after_backup = bl.targets(1)
    t.diag("%d blocks acknowledged before the backup, %d issued after it"
           % (len(before), len(after_backup)))
    rc = S.term()
    t.ok(rc == 0, "the suite stops on SIGTERM (%s)" % rc)

    current = read(S.data)
    junk = os.path.join(BASE, "3-garbage.mdb")
    with open(junk, "wb") as f:
        f.write(bytes(random.Random(3).getrandbits(8)
                      for _ in range(65536)))
    r = S.restore(junk)
    t.ok(r.returncode not in (0, None) and "not a store backup" in r.stderr,
         "peerd -r on a garbage file fails: %s" % out(r))
    t.ok(read(S.data) == current and not olds(S.s.state),
         "and leaves data.mdb as it was")
    bad = os.path.join(BASE, "3-badrecord.mdb")
    shutil.copyfile(bfile, bad)
    lr = subprocess.run(["mdb_load", "-n", "-T", "-s", "peers", bad],
                        input=mdb_text([(b58decode(SOME_PEER), b"\x07bad")]),
                        capture_output=True, text=True)
    r = S.restore(bad)
    t.ok(lr.returncode == 0 and r.returncode not in (0, None) and
         "bad record" in r.stderr and "nothing was restored" in r.stderr,
         "peerd -r on a backup with a record that does not decode fails: "
         "%s" % out(r))
    t.ok(read(S.data) == current and not olds(S.s.state),
         "and leaves data.mdb as it was")
    cut = os.path.join(BASE, "3-cut.mdb")
    with open(cut, "wb") as f:
        f.write(read(bfile)[:8192])     # the two meta pages
    r = S.restore(cut)
    t.ok(r.returncode == 1 and cut in r.stderr,
         "peerd -r on a backup cut short fails with a message naming it: "
         "status %s, %s" % (r.returncode, out(r)))
    t.ok(read(S.data) == current and not olds(S.s.state),
         "and leaves data.mdb as it was")

    r = S.restore(bfile)
    m = re.search(r"(\d+) bans", r.stdout)
    t.ok(r.returncode == 0 and ("restored %s into %s" % (bfile, S.data))
         in r.stdout and m, "peerd -f conf -r FILE with the suite "
         "stopped restores it: %s" % out(r))
    kept = olds(S.s.state)
    t.ok(len(kept) == 1 and read(os.path.join(S.s.state, kept[0])) ==
         current and ("kept as %s" % os.path.join(S.s.state, kept[0]))
         in r.stdout, "the old store is kept as data.mdb.old.*: %s" % kept)
    st = os.stat(S.data)
    same = [db for db in ("peers", "bans", "acct")
            if mdb_dump(S.s.state, db) is not None and
            mdb_dump(S.s.state, db) == mdb_dump(bfile, db)]
    t.ok(len(same) == 3, "data.mdb now holds what the backup holds "
         "(mdb_dump of peers, bans, acct): the same in %s" % same)
    t.ok(st.st_uid == pwd.getpwnam("_peerd").pw_uid and
         stat.S_IMODE(st.st_mode) == 0o600,
         "data.mdb is owned by _peerd, mode 0600: uid %d, mode %o"
         % (st.st_uid, stat.S_IMODE(st.st_mode)))
    if not S.start("starts on the restored store"):
        return
    got = S.wait_log(r"restored from a backup", 5)
    t.ok(got and "not closed cleanly" not in S.since(),
         "the log says the store was restored: %s" % got[:1])
    S.verify("peerctl verify on the restored store")
    bans = S.bans() or {}
    missing = [a for a in before if a not in bans]
    t.ok(before and not missing, "every ban acknowledged before the backup "
         "(%d) is there; missing: %s" % (len(before), missing[:10]))
    later = [a for a in after_backup if a in bans]
    t.ok(after_backup and not later, "no ban issued after the backup "
         "ended is (the store is the backup): %s" % later[:10])
    t.ok(m and len(bans) == int(m.group(1)),
         "show bans has as many bans as peerd -r said it restored: %d"
         % len(bans))
    S.term()


# --- 4. a full filesystem -----------------------------------------------

def check_4():
    names = ["a block on the full filesystem fails with a message about "
             "the space", "the log says the store cannot write",
             "peerctl verify passes while full",
             "blocks succeed again once there is space",
             "the log says writing again",
             "after a restart every acknowledged ban is there"]
    mnt = os.path.join(BASE, "4-tmpfs")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755",
                        "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        why = "mount -t tmpfs not permitted: %s" % out(r)
        for n in names:
            t.skip(n, why)
        return
    MOUNTS.append(mnt)
    # at its outgoing target (here 0) the engine asks stored for no dial
    # candidates: no read flushes stored's queue, only stored itself
    S = Node("4-full", "connectionManager:\n  maxOutgoing: 0\n",
             state=os.path.join(mnt, "state"))
    try:
        if S.start("starts with stateDir on a 4 MiB tmpfs"):
            full_disk(S, mnt)
    finally:
        S.term()
        r = subprocess.run(["umount", mnt], capture_output=True, text=True)
        if ran(r, "the tmpfs is unmounted"):
            MOUNTS.remove(mnt)


def full_disk(S, mnt):
    acked, refused = [], []
    for i in range(5):
        r = S.ctl("block", "10.4.0.%d" % i)
        if r.returncode == 0:
            acked.append("10.4.0.%d" % i)
    t.ok(len(acked) == 5, "five blocks before the filesystem fills up")
    filler = os.path.join(mnt, "filler")
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass
    vfs = os.statvfs(mnt)
    t.ok(vfs.f_bavail == 0, "a filler file takes the rest of the tmpfs "
         "(%d blocks free)" % vfs.f_bavail)
    # a small store may still have free pages: new addresses until a
    # commit needs the file to grow
    fail = None
    for i in range(1000):
        target = "10.4.%d.%d" % (1 + i // 256, i % 256)
        r = S.ctl("block", target)
        if r.returncode == 0:
            acked.append(target)
        else:
            refused.append(target)
            fail = r
            break
    t.diag("%d blocks acknowledged before the first failure" %
           (len(acked) - 5))
    t.ok(fail is not None and fail.returncode == 1 and
         re.search(r"space|disk is full", fail.stderr, re.I),
         "a block on the full filesystem fails with a message about the "
         "space: %s" % (out(fail) if fail else "none failed"))
    got = S.wait_log(r"store.*(cannot write|disk is full)", 10)
    t.ok(got, "the log says the store cannot write: %s" % got[-1:])
    r = S.ctl("block", "10.4.9.1")
    if r.returncode == 0:
        acked.append("10.4.9.1")
    else:
        refused.append("10.4.9.1")
    t.ok(r.returncode == 1 and "not stored" in r.stderr,
         "another block while still full fails too, when stored tries "
         "again: %s" % out(r))
    got = S.wait_log(r"store.*(cannot write|disk is full)", 1)
    t.ok(len(got) == 1, "the failure is logged once: %d lines" % len(got))
    st = S.json("show", "store", key="store") or {}
    t.ok("space" in st.get("failure", ""), "peerctl show store says the "
         "store cannot write for want of space: %s" % st.get("failure"))
    S.verify("peerctl verify passes while full")
    # stored tries again every STORE_RETRY s; an operator frees the space
    # later than that, when the retry found nothing queued
    threading.Event().wait(STORE_RETRY + 2)
    os.unlink(filler)
    r = S.ctl("block", "10.4.10.1")
    if r.returncode == 0:
        acked.append("10.4.10.1")
    if t.ok(r.returncode == 0, "blocks succeed again once there is "
            "space: %s" % out(r)):
        # logged before the answer left stored
        got = S.wait_log(r"store: writing again", 5)
        t.ok(got, "the log says writing again: %s" % got[-1:])
        st = S.json("show", "store", key="store") or {}
        t.ok(st.get("failure") == "" and st.get("queued") == 0,
             "peerctl show store: writing, nothing queued: %s" % st)
    else:
        t.ok(False, "the log says writing again: no block went through")

    rc = S.term()
    t.ok(rc == 0, "the suite stops on SIGTERM (%s)" % rc)
    if not S.start("starts again on the tmpfs"):
        return
    S.verify("peerctl verify after the restart")
    bans = S.bans() or {}
    missing = [a for a in acked if a not in bans]
    t.ok(not missing, "after a restart every acknowledged ban (%d) is "
         "there; missing: %s" % (len(acked), missing))
    there = [a for a in refused if a in bans]
    t.ok(not there, "the blocks answered 'not stored' are not in the "
         "store: %s" % there)


# --- 5. a damaged store -------------------------------------------------

def check_5():
    S = Node("5-damaged")
    if not S.start():
        return
    for i in range(40):
        S.ctl("block", "10.5.0.%d" % i, "some", "reason")
    t.ok(S.term() == 0, "the suite stops on SIGTERM")
    original = read(S.data)
    rnd = random.Random(5)
    variants = [
        ("data.mdb overwritten with garbage",
         bytes(rnd.getrandbits(8) for _ in range(len(original)))),
        # a copy cut short: the meta pages point past the end
        ("data.mdb cut short to its two meta pages", original[:8192]),
    ]
    for what, content in variants:
        with open(S.data, "r+b") as f:
            f.write(content)
            f.truncate()
        damaged = read(S.data)
        rc, lines = S.refused("peerd -r")
        t.ok(rc not in (None, 0), "%s: peerd exits with status %s"
             % (what, rc))
        if not t.ok(lines and "store" in lines[0],
                    "%s: the log names peerd -r: %s" % (what, lines[:1])):
            S.show(15)
        t.ok(read(S.data) == damaged, "%s: the damaged file is left as "
             "it was" % what)
        S.stop()


# --- 6. schema migration ------------------------------------------------

def check_6():
    created = 1700000000
    S = Node("6-schema1")
    r = make_store(S.s.state, {b"schema": struct.pack("<I", 1),
                               b"created": struct.pack("<q", created)})
    if not S.start_loaded(r, "mdb_load makes a schema 1 store (meta only)",
                          "starts on a schema 1 store",
                          r"migrated from schema 1 to 2",
                          "the log says it migrated from schema 1 to 2"):
        return
    r = S.ctl("verify")
    t.ok(r.returncode == 0 and r.stdout.startswith("schema 2;") and
         "0 problems" in r.stdout, "peerctl verify: %s" % out(r))
    r = S.ctl("block", "10.6.0.1", "after", "migration")
    bans = S.bans() or {}
    t.ok(r.returncode == 0 and bans.get("10.6.0.1", (0, 0, ""))[2] ==
         "after migration", "a block is stored in the migrated store: %s"
         % out(r))
    S.term()
    meta = mdb_dump_meta(S.s.state) or {}
    t.ok(meta.get(b"schema") == struct.pack("<I", 2) and
         meta.get(b"created") == struct.pack("<q", created),
         "meta now says schema 2 and keeps its creation time: %s" % meta)

    N = Node("6-schema3")
    r = make_store(N.s.state, {b"schema": struct.pack("<I", 3),
                               b"created": struct.pack("<q", created)})
    if not ran(r, "mdb_load makes a schema 3 store"):
        return
    saved = read(N.data)
    rc, lines = N.refused("schema 3")
    t.ok(rc not in (None, 0) and lines and "newer" in lines[0],
         "a store with schema 3 (newer) is refused: status %s, %s"
         % (rc, lines[:1]))
    t.ok(read(N.data) == saved, "and left as it was")
    N.stop()


# --- 7. verify names a bad record ---------------------------------------

def check_7():
    S = Node("7-badrecord")
    if not S.start():
        return
    S.ctl("block", "10.7.0.1")
    t.ok(S.term() == 0, "the suite stops on SIGTERM")
    r = subprocess.run(["mdb_load", "-T", "-s", "peers", S.s.state],
                       input=mdb_text([(b58decode(SOME_PEER), b"\x07junk"),
                                       (b"\x01\x02\x03", b"\x01")]),
                       capture_output=True, text=True)
    if not S.start_loaded(r, "mdb_load adds two bad records to the peers "
                          "database", "starts with bad records in the store",
                          r"2 records do not decode",
                          "the log at start counts the bad records"):
        return
    r = S.ctl("verify")
    text = out(r)
    t.diag("peerctl verify: " + text.replace("\n", " | "))
    t.ok(r.returncode == 1, "peerctl verify exits 1 (%s)" % r.returncode)
    t.ok(re.search(r"peers: %s: record version 7 is unknown" % SOME_PEER,
                   text), "it names the peers database, the peer and the "
         "problem (an unknown record version)")
    t.ok(re.search(r"peers: 010203: key is not a peer ID", text),
         "it names the record whose key is not a peer ID")
    t.ok("2 problems" in text, "it counts 2 problems")
    r = S.ctl("-j", "verify")
    try:
        j = json.loads(r.stdout)
        good = j["ok"] is False and len(j.get("notes", [])) == 2
    except (ValueError, KeyError):
        good = False
    t.ok(r.returncode == 1 and good, "peerctl -j verify: ok false, the "
         "two problems as notes: %s" % r.stdout.strip())
    ran(S.ctl("show", "peers"), "show peers still works")
    S.term()


# --- 8. the read-only socket --------------------------------------------

def check_8():
    S = Node("8-readonly")
    if not S.start():
        return
    ro = S.s.rosock
    ran(S.ctl("block", "10.8.0.1", "kept"), "block on the control socket")
    for args in (("block", "10.8.0.2"), ("unblock", "10.8.0.1"),
                 ("verify",)):
        r = S.ctl(*args, sock=ro)
        t.ok(r.returncode == 1 and "not permitted" in r.stderr,
             "the read-only socket refuses %s: %s" % (" ".join(args),
                                                      out(r)))
    bfile = os.path.join(BASE, "8-backup.mdb")
    r = S.ctl("backup", bfile, sock=ro)
    t.ok(r.returncode == 1 and "not permitted" in r.stderr and
         not os.path.exists(bfile),
         "the read-only socket refuses backup and leaves no file: %s"
         % out(r))
    bans = S.bans(sock=ro)
    t.ok(bans is not None and set(bans) == {"10.8.0.1"} and
         bans["10.8.0.1"][2] == "kept" and bans == S.bans(),
         "show bans on the read-only socket: the ban made, not the one "
         "refused, none removed: %s" % bans)
    peers = S.peers(sock=ro)
    t.ok(peers is not None and peers == S.peers(),
         "show peers on the read-only socket: %s" % peers)
    r = S.ctl("show", "accounting", sock=ro)
    t.ok(r.returncode == 0, "show accounting on the read-only socket")
    t.ok(S.running(), "the suite is still running")
    S.term()


# --- 9. a store nearly full at start; a mistyped duration -------------

def load_dbs(state, dbs, mapsize=1048576):
    """Named databases (name -> [(key, value)]) loaded into the store in
    state with mdb_load, owned by _peerd; the mdb_load results."""
    os.makedirs(state, 0o700, exist_ok=True)
    rs = []
    for name, records in dbs.items():
        dump = "VERSION=3\nformat=bytevalue\ndatabase=%s\ntype=btree\n" \
            "mapsize=%d\nHEADER=END\n" % (name, mapsize)
        for k, v in sorted(records):
            dump += " %s\n %s\n" % (k.hex(), v.hex())
        dump += "DATA=END\n"
        rs.append(subprocess.run(["mdb_load", "-s", name, state],
                                 input=dump, capture_output=True,
                                 text=True))
    u = pwd.getpwnam("_peerd")
    for f in [state] + [os.path.join(state, n) for n in os.listdir(state)]:
        os.chown(f, u.pw_uid, u.pw_gid)
        os.chmod(f, 0o700 if f == state else 0o600)
    return rs


def check_9():
    n = 15000
    today = int(time.time()) // 86400
    S = Node("9-grow", "store:\n  mapSize: 1048576\n"
             "connectionManager:\n  maxOutgoing: 0\n")
    # accounting of today for n made-up peers (identity multihashes)
    acct = [(struct.pack(">I", today) + bytes([0, 0x24, 8, 1, 0x12, 0x20]) +
             os.urandom(32), b"\x01\x08\x01") for _ in range(n)]
    rs = load_dbs(S.s.state, {
        "meta": [(b"schema", struct.pack("<I", 2)),
                 (b"created", struct.pack("<q", 1700000000))],
        "peers": [], "bans": [], "acct": acct})
    if not t.ok(all(r.returncode == 0 for r in rs),
                "mdb_load makes a store of %d records in a 1 MiB map" % n):
        return
    out_ = subprocess.run(["mdb_stat", "-e", S.s.state],
                          capture_output=True, text=True).stdout
    used = re.search(r"Number of pages used: (\d+)", out_)
    t.ok(used and int(used.group(1)) * 4096 > 3 * 1048576 // 4,
         "the map is more than three quarters full: %s pages"
         % (used.group(1) if used else "?"))
    if not S.start("starts on a store that nearly fills its map"):
        return
    t.ok(S.wait_log(r"map grown to 2 MiB", 5), "the log says the map grew")
    r = S.verify("peerctl verify passes after the growth")
    t.ok("%d accounting records" % n in r.stdout,
         "every accounting record is there: %s" % out(r))
    t.ok("lmdb map 2 MiB" in S.s.detail("stored"),
         "stored's status shows the 2 MiB map: %s" % S.s.detail("stored"))
    st = S.json("show", "store", key="store") or {}
    t.ok(st.get("mapSize") == 2 << 20 and st.get("acct") is None and
         st.get("accounting") == n and st.get("peers") == 0 and
         0 < st.get("used", 0) <= st.get("mapSize", 0) and
         st.get("schema") == 2 and st.get("failure") == "",
         "peerctl show store: the 2 MiB map, %d accounting records: %s"
         % (n, st))
    ran(S.ctl("block", "10.9.0.1", "1h", "after", "growth"),
        "a block is stored after the growth")

    r = S.ctl("block", "10.9.0.2", "3651d", "typo")
    t.ok(r.returncode == 2 and "not a duration" in r.stderr,
         "a duration over ten years is a usage error: %s"
         % r.stderr.splitlines()[:1])
    r = S.ctl("block", "10.9.0.3", "7x", "typo")
    t.ok(r.returncode == 2 and "not a duration" in r.stderr,
         "a mistyped duration is a usage error, not a reason: %s"
         % r.stderr.splitlines()[:1])
    bans = S.bans() or {}
    t.ok(set(bans) == {"10.9.0.1"} and bans["10.9.0.1"][2] ==
         "after growth" and bans["10.9.0.1"][0] > 0,
         "only the good block made a ban, with its end and reason: %s"
         % bans)
    t.ok(S.term() == 0, "the suite stops on SIGTERM")


# --- 10. the caps at insert ---------------------------------------------

def caps_conf(max_acct):
    return ("relay:\n  rateLimit:\n    connectionsPerMinute: 0\n"
            "    reservationsPerHour: 0\n  reservations:\n"
            "    maxPerIP: 1000\n"
            "connectionManager:\n  maxOutgoing: 0\n"
            "store:\n  maxPeers: 16\n  maxAccounting: %d\n"
            "  maxAccountingSize: 1048576\n" % max_acct)


def storm(S, n, what):
    """n fresh peers reserve on S, 2 at a time (regress/interop/
    attack.mjs); check that each got OK.  The peer ID of the first, and
    the most show store had meanwhile."""
    most = {"peers": 0, "accounting": 0}
    p = subprocess.Popen(["node", "attack.mjs", "reserveflood", "127.0.0.1",
                          str(S.s.port), S.peer_id, "2", str(n), "60"],
                         cwd=JSDIR, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        while p.poll() is None:
            cur = S.json("show", "store", key="store") or {}
            for k in most:
                most[k] = max(most[k], cur.get(k, 0))
            time.sleep(0.2)
        out, err = p.communicate(timeout=30)
    finally:
        kill(p)
    done = ([e for e in parse_events(out) if e.get("event") == "done"] or
            [{}])[-1]
    if not t.ok(done.get("ok") == n, "%s: %d fresh peers reserve: %s %s"
                % (what, n, done.get("statuses"), done.get("errors") or "")):
        t.diag(err.strip()[-800:])
    return done.get("first"), most


def settled(S, total):
    """show store once every accounting record of total reservations
    has reached stored (kept or pruned), or the last one after 15 s."""
    got = [{}]

    def done():
        got[0] = S.json("show", "store", key="store") or {}
        return got[0].get("accounting", 0) + \
            got[0].get("prunedAccounting", 0) >= total
    wait_for(done, timeout=15)
    return got[0]


def check_10():
    if not js_ready(t, "the caps at insert (a raw client in node)",
                    modules=False):
        return
    S = Node("10-caps", caps_conf(16))
    if not S.start():
        return
    banned, _ = storm(S, 1, "a peer P")
    ok = wait_for(lambda: banned in (S.peers() or {}), timeout=10)
    t.ok(ok, "show peers lists P %s" % banned)
    ran(S.ctl("block", banned, "kept", "however", "old"), "block P")

    _, most = storm(S, 60, "at the caps")
    cur = settled(S, 61)
    t.ok(most["peers"] <= 16 and most["accounting"] <= 16,
         "while they reserved show store never had more than 16 peers or "
         "16 accounting records: at most %s" % most)
    t.ok(cur.get("peers", 99) <= 16 and cur.get("accounting") == 16,
         "after it: at most 16 peers, 16 accounting records: %s peers, %s "
         "accounting" % (cur.get("peers"), cur.get("accounting")))
    t.ok(banned in (S.peers() or {}), "P, blocked, is still in show peers "
         "though seen longest ago")
    want = {"maxPeers": 16, "maxAccounting": 16,
            "maxAccountingSize": 1048576, "prunedAccountingSize": 0,
            "prunedAccounting": 61 - 16,
            "prunedPeers": 61 - cur.get("peers", 0)}
    bad = {k: (cur.get(k), v) for k, v in want.items() if cur.get(k) != v}
    t.ok(not bad, "show store -j gives the caps and what each pruned "
         "(61 peers, 61 records in all); wrong (got, want): %s" % bad)
    t.ok(0 < cur.get("accountingSize", 0) <= 1048576,
         "and the bytes of the accounting's pages: %s"
         % cur.get("accountingSize"))
    r = S.ctl("show", "store")
    text = dict(ln.split(": ", 1) for ln in r.stdout.splitlines()
                if ": " in ln)
    caps = "16 peers, 16 accounting, 1024 KiB of accounting (%d KiB " \
        "used)" % (cur.get("accountingSize", 0) >> 10)
    pruned = "%d peers, %d accounting by count, 0 by size" \
        % (want["prunedPeers"], want["prunedAccounting"])
    t.ok(text.get("caps") == caps and text.get("pruned") == pruned,
         "show store says the same: caps: %s; pruned: %s"
         % (text.get("caps"), text.get("pruned")))
    for kind, why in (("peers", "max_peers"), ("accounting",
                                               "max_records")):
        got = S.wait_log(r"stored\[\d+\]: records_pruned kind=%s "
                         r"count=\d+ reason=%s max=16" % (kind, why), 5)
        t.ok(got, "stored logs records_pruned for the %s: %s"
             % (kind, got[:1]))

    # a reload raises the cap: 10 more are kept; lowering it prunes them
    S.s.write_conf(caps_conf(32))
    ran(S.ctl("reload"), "reload with store.maxAccounting 32")
    storm(S, 10, "after raising the cap")
    cur = settled(S, 71)
    t.ok(cur.get("maxAccounting") == 32 and cur.get("accounting") == 26 and
         cur.get("prunedAccounting") == 45, "26 accounting records kept "
         "under the new cap of 32, no more pruned: %s, %s pruned"
         % (cur.get("accounting"), cur.get("prunedAccounting")))
    S.s.write_conf(caps_conf(16))
    ran(S.ctl("reload"), "reload with store.maxAccounting 16 again")
    cur = S.json("show", "store", key="store") or {}
    t.ok(cur.get("maxAccounting") == 16 and cur.get("accounting") == 16 and
         cur.get("prunedAccounting") == 55, "the lower cap holds at once: "
         "%s accounting records, %s pruned" % (cur.get("accounting"),
                                                cur.get("prunedAccounting")))
    S.verify("peerctl verify after the caps")
    t.ok(S.term() == 0, "the suite stops on SIGTERM")


# --- 11. the caps at start ----------------------------------------------

def check_11():
    today = int(time.time()) // 86400
    prefix = bytes([0, 0x24, 8, 1, 0x12, 0x20])
    # peer i last seen at 1000 + i (peer record fields 5 and 6, varints)
    peers = [(prefix + struct.pack(">I", i) + os.urandom(28),
              b"\x01\x28\x01\x30" + bytes(uvarint(1000 + i)))
             for i in range(10049)]
    acct = [(struct.pack(">I", today - 29 + d) + prefix +
             struct.pack(">I", i) + os.urandom(28), b"\x01\x08\x01")
            for d in range(30) for i in range(1000)]
    S = Node("11-start", "store:\n  maxAccountingSize: 1048576\n"
             "connectionManager:\n  maxOutgoing: 0\n")
    rs = load_dbs(S.s.state, {
        "meta": [(b"schema", struct.pack("<I", 2)),
                 (b"created", struct.pack("<q", 1700000000))],
        "peers": peers, "bans": [], "acct": acct}, 16 << 20)
    if not t.ok(all(r.returncode == 0 for r in rs), "mdb_load makes a "
                "store of 10,049 peers and 30,000 accounting records: %s"
                % [out(r) for r in rs if r.returncode != 0]):
        return
    if not S.start("starts on a store over store.maxPeers and "
                   "store.maxAccountingSize"):
        return
    st = S.json("show", "store", key="store") or {}
    t.ok(st.get("peers") == 10000 and st.get("prunedPeers") == 49,
         "10,000 peers left, 49 pruned: %s, %s" % (st.get("peers"),
                                                    st.get("prunedPeers")))
    size, n = st.get("accountingSize", 0), st.get("accounting", 0)
    t.ok(0 < size <= 1048576 and n + st.get("prunedAccountingSize", 0) ==
         30000 and n >= 1000, "the accounting's pages within 1 MiB, each "
         "record kept or counted as pruned by size: %s bytes, %s kept, %s "
         "pruned" % (size, n, st.get("prunedAccountingSize")))
    got = S.wait_log(r"records_pruned kind=accounting count=\d+ "
                     r"reason=max_size max=1048576", 5)
    t.ok(got, "stored logs records_pruned for the size: %s" % got[:1])
    t.ok(S.term() == 0, "the suite stops on SIGTERM")
    keys = [bytes.fromhex(ln.strip()) for ln in
            (mdb_dump(S.s.state, "peers") or "").splitlines()[0::2]
            if ln.startswith(" ")]
    left = {struct.unpack(">I", k[6:10])[0] for k in keys}
    t.ok(len(left) == 10000 and min(left) == 49,
         "the 49 peers seen longest ago are the ones gone: %d left, the "
         "oldest left is %s" % (len(left), min(left) if left else None))
    days = {}
    for ln in (mdb_dump(S.s.state, "acct") or "").splitlines()[0::2]:
        if ln.startswith(" "):
            d = struct.unpack(">I", bytes.fromhex(ln.strip())[:4])[0]
            days[d] = days.get(d, 0) + 1
    old = [d for d in days if days[d] < 1000 and d != min(days)]
    t.ok(days.get(today) == 1000 and not old and min(days) > today - 29,
         "the oldest days went first and the newest is whole: %d days "
         "from %+d, today %s" % (len(days), min(days) - today if days
                                 else 0, days.get(today)))


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return out


# --- main --------------------------------------------------------------

def main():
    global BUILD, BASE
    BUILD, which = check_args(__doc__, [str(i) for i in range(1, 12)])
    exit_on_signals()
    need_root(t, "store tests")
    need_users(t)
    for tool in ("mdb_load", "mdb_dump"):
        if shutil.which(tool) is None:
            t.ok(False, "%s is installed (lmdb-utils)" % tool)
            sys.exit(t.done())
    BASE = temp_base("peerd-store-")
    checks = {"1": check_1, "2": check_2, "3": check_3, "4": check_4,
              "5": check_5, "6": check_6, "7": check_7, "8": check_8,
              "9": check_9, "10": check_10, "11": check_11}
    try:
        for c in which:
            t.diag("--- check %s: %s" % (c, checks[c].__name__))
            try:
                run_check(t, c, checks[c])
            finally:
                for bl in BLOCKERS:
                    bl.stop()
                # what a check left running does not run into the next
                Suite.cleanup_all()
    finally:
        for bl in BLOCKERS:
            bl.stop()
        Suite.cleanup_all()
        nothing_left(t)
        for mnt in list(MOUNTS):
            r = subprocess.run(["umount", mnt], capture_output=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", mnt], capture_output=True)
        with open("/proc/mounts") as f:
            left = [ln.split()[1] for ln in f if BASE in ln]
        t.ok(not left, "no mount left: %s" % left)
        shutil.rmtree(BASE, ignore_errors=True)
    sys.exit(t.done())


if __name__ == "__main__":
    main()
