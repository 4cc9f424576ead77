#!/usr/bin/env python3
"""
Interoperability tests: js-libp2p (regress/interop/node.mjs) against a
running peerd, over TCP + multistream-select + Noise XX + yamux, with
identify and ping.  Speaks TAP.

Usage: interop.py BUILDDIR   against peerd, started as root by Suite
       interop.py --js       self-test: the checks that need no peerctl,
                             against a js-libp2p listener instead of peerd

Needs node (20 or later) and npm; runs `npm ci` in regress/interop when
node_modules is missing.  Every js process is killed when the test ends.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (Suite, TAP, wait_for, kill,  # noqa: E402
                   js_ready, b58encode, NODE,
                   exit_on_signals, need_root, temp_base, nothing_left)

PING_PROTO = "/ipfs/ping/1.0.0"
ID_PROTO = "/ipfs/id/1.0.0"
MSS = b"\x13/multistream/1.0.0\n"
BULK = 16 * 1024 * 1024
NSTREAMS = 64
STREAM_SIZE = 64 * 1024

t = TAP()
# environment of every js process; interop.py shortens the dial timeout
# when the target does not answer multistream-select, so that the checks
# fail fast
JSENV = dict(os.environ, INTEROP_TIMEOUT="60", INTEROP_DIAL_TIMEOUT="20")
JSPROCS = []
LOGDIR = None
# how long to wait for something the target should do by itself (a
# connection to go, a reply); shortened like the dial timeout
WAIT = 10


# --- peer IDs ----------------------------------------------------------

def peer_id_from_pubkey(pb):
    """Peer ID of a PublicKey protobuf: identity multihash up to 42
    bytes, sha2-256 beyond; base58btc."""
    if len(pb) <= 42:
        mh = bytes([0x00, len(pb)]) + pb
    else:
        mh = bytes([0x12, 0x20]) + hashlib.sha256(pb).digest()
    return b58encode(mh)


def strip_p2p(ma):
    i = ma.find("/p2p/")
    return ma if i < 0 else ma[:i]


# --- js processes ------------------------------------------------------

def kill_all_js():
    for p in JSPROCS:
        kill(p)


def run_js(args, timeout=90):
    """Run node.mjs to completion (or timeout seconds) and collect its
    JSON lines."""
    return suite.JsResult(t, "js " + args[0], suite.js_run(
        JSPROCS, NODE + list(args), JSENV, timeout))


class JsProc(suite.JsProc):
    """A long-running node.mjs (listen, hold) whose events are collected
    as they come."""

    def __init__(self, args):
        suite.JsProc.__init__(self, t, JSPROCS, args, JSENV, LOGDIR)


# --- targets -----------------------------------------------------------

class Result:
    """What a peerctl that could not be run or timed out gives."""

    def __init__(self, returncode, stdout="", stderr=""):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class PeerdTarget:
    name = "peerd"
    agent_prefix = "peerd/"
    has_ctl = True

    def __init__(self, build, base):
        self.s = Suite(build, base)
        self.port = self.s.port
        self.peer_id = None
        self.addr = None

    def start(self):
        if not self.s.start():
            return False
        self.peer_id = self.s.status_json()["peerId"]
        self.addr = "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (self.port, self.peer_id)
        return True

    def alive(self):
        return self.s.proc is not None and self.s.proc.poll() is None

    def ctl(self, *args, timeout=20):
        try:
            return self.s.ctl(*args, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Result(None, "", "peerctl timed out after %d s" % timeout)
        except OSError as e:
            return Result(None, "", str(e))

    def connections(self):
        """The list of show connections, or None when peerctl fails."""
        r = self.ctl("-j", "show", "connections")
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)["connections"]
        except (ValueError, KeyError, TypeError):
            return None

    def conn_of(self, peer_id):
        return [c for c in self.connections() or []
                if c.get("peerId") == peer_id]

    def show(self):
        t.diag("peerd log (tail):")
        for line in self.s.log().strip().splitlines()[-25:]:
            t.diag("  " + line)

    def stop(self):
        self.s.stop()


class JsTarget:
    name = "js-libp2p"
    agent_prefix = "js-libp2p/"
    has_ctl = False

    def __init__(self):
        self.proc = None
        self.port = None
        self.peer_id = None
        self.addr = None

    def start(self):
        self.proc = JsProc(["listen"])
        ev = self.proc.event("listening", timeout=30)
        if ev is None:
            self.proc.show()
            return False
        self.peer_id = ev["peerId"]
        self.addr = ev["addrs"][0]
        self.port = int(strip_p2p(self.addr).rsplit("/", 1)[1])
        return True

    def alive(self):
        return self.proc.p.poll() is None

    def show(self):
        self.proc.show()

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


# --- raw sockets -------------------------------------------------------

def raw_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(5)
    return s


def read_until(s, want, timeout=5):
    """Read until want bytes came, the peer closed, or timeout."""
    buf = b""
    end = time.monotonic() + timeout
    while len(buf) < want:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(want - len(buf))
        except (socket.timeout, OSError):
            break
        if not b:
            break
        buf += b
    return buf


def closed_by_peer(s, timeout):
    """True when the peer closes (EOF or reset) within timeout seconds;
    anything it sends meanwhile is read and dropped."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            if not s.recv(4096):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True


def mss_probe(port):
    """Does the target answer the multistream-select header?"""
    try:
        s = raw_connect(port)
    except OSError as e:
        return False, "connect: %s" % e
    try:
        s.sendall(MSS)
        got = read_until(s, len(MSS), 5)
        return got == MSS, repr(got)
    except OSError as e:
        return False, str(e)
    finally:
        s.close()


# --- checks ------------------------------------------------------------

def check_js_dials(tg):
    """a. js dials the target, pings 3 times and identifies it."""
    r = run_js(["ping", tg.addr, "3"])
    pings = [e for e in r.all("ping") if "rtt" in e]
    good = t.ok(r.rc == 0 and len(pings) == 3,
                "js dials %s and pings it 3 times: rtt %s ms"
                % (tg.name, [e.get("rtt") for e in pings]))
    idf = r.last("identify")
    if not idf or "error" in idf:
        good = False
    agent = idf.get("agentVersion") or ""
    good &= t.ok(agent.startswith(tg.agent_prefix),
                 "identify: agentVersion %r starts with %r"
                 % (agent, tg.agent_prefix))
    protos = idf.get("protocols") or []
    good &= t.ok(ID_PROTO in protos and PING_PROTO in protos,
                 "identify: protocols include %s and %s: %s"
                 % (ID_PROTO, PING_PROTO, protos))
    try:
        pk = bytes.fromhex(idf.get("publicKey") or "")
    except ValueError:
        pk = b""
    pid = peer_id_from_pubkey(pk) if pk else ""
    good &= t.ok(pk[:4] == b"\x08\x01\x12\x20" and len(pk) == 36,
                 "identify: publicKey is an Ed25519 PublicKey protobuf: %s"
                 % pk.hex())
    good &= t.ok(pid == tg.peer_id and idf.get("peerId") == tg.peer_id,
                 "identify: publicKey gives the peer ID %s reports: %s"
                 % (tg.name, pid))
    obs = idf.get("observedAddr") or ""
    good &= t.ok(obs.startswith("/ip4/127.0.0.1/tcp/"),
                 "identify: observedAddr on 127.0.0.1: %s" % obs)
    want = "/ip4/127.0.0.1/tcp/%d" % tg.port
    listen = [strip_p2p(a) for a in idf.get("listenAddrs") or []]
    good &= t.ok(want in listen,
                 "identify: listenAddrs include %s: %s" % (want, listen))
    if not good:
        r.show()
    return good


def check_peerd_dials(tg):
    """b. peerd dials js: ping, connections, disconnect, connect."""
    js = JsProc(["listen"])
    ev = js.event("listening", timeout=30)
    if not t.ok(ev is not None, "js listener starts"):
        js.show()
        js.stop()
        return
    jsid = ev["peerId"]
    jsaddr = ev["addrs"][0]
    good = True

    r = tg.ctl("ping", jsaddr, "-c", "3", timeout=60)
    lines = [ln for ln in r.stdout.splitlines() if "time=" in ln]
    good &= t.ok(r.returncode == 0 and len(lines) == 3,
                 "peerctl ping %s -c 3: exit %s, %d replies"
                 % (jsaddr, r.returncode, len(lines)))
    if r.returncode != 0 or len(lines) != 3:
        t.diag("stdout: " + r.stdout)
        t.diag("stderr: " + r.stderr)

    def outbound_js():
        return [c for c in tg.conn_of(jsid)
                if c.get("direction") == "outbound" and
                (c.get("agent") or "").startswith("js-libp2p")]
    good &= t.ok(wait_for(outbound_js, timeout=WAIT),
                 "show connections: js peer, outbound, agent js-libp2p: %s"
                 % tg.conn_of(jsid))

    r = tg.ctl("disconnect", jsid)
    good &= t.ok(r.returncode == 0, "peerctl disconnect %s: exit %s %s"
                 % (jsid, r.returncode, r.stderr.strip()))
    good &= t.ok(wait_for(lambda: tg.connections() is not None and
                          not tg.conn_of(jsid), timeout=WAIT),
                 "the connection to js is gone after disconnect")
    good &= t.ok(js.event("disconnect", timeout=WAIT, peerId=tg.peer_id)
                 is not None, "js saw peerd disconnect")

    r = tg.ctl("connect", jsaddr, timeout=30)
    good &= t.ok(r.returncode == 0, "peerctl connect %s: exit %s %s"
                 % (jsaddr, r.returncode, r.stderr.strip()))
    good &= t.ok(wait_for(lambda: tg.conn_of(jsid), timeout=WAIT),
                 "the connection to js is back after connect: %s"
                 % tg.conn_of(jsid))

    ev = js.event("connection", timeout=WAIT, peerId=tg.peer_id)
    agent = (ev or {}).get("agent") or ""
    good &= t.ok(ev is not None and agent.startswith("peerd/"),
                 "js identified peerd %s: agent %r" % (tg.peer_id, agent))
    if not good:
        js.show()
    js.stop()


def check_streams(tg):
    """c. 64 streams at once through the ping echo."""
    r = run_js(["streams", tg.addr, str(NSTREAMS), str(STREAM_SIZE)])
    ev = r.last("streams")
    if not t.ok(r.rc == 0 and ev.get("ok") == NSTREAMS and
                ev.get("failed") == 0 and
                ev.get("bytes") == NSTREAMS * STREAM_SIZE,
                "%d streams at once of %d KiB each through %s's ping echo: "
                "%s ok, %s failed, %s s" % (NSTREAMS, STREAM_SIZE // 1024,
                                            tg.name, ev.get("ok"),
                                            ev.get("failed"),
                                            ev.get("seconds"))):
        r.show()
    elif ev.get("remoteClosed") != NSTREAMS:
        t.diag("%s closed only %s of %d echo streams after the echo"
               % (tg.name, ev.get("remoteClosed"), NSTREAMS))


def check_bulk(tg):
    """d. 16 MiB through one stream."""
    r = run_js(["bulk", tg.addr, str(BULK)])
    ev = r.last("bulk")
    if not t.ok(r.rc == 0 and ev.get("bytes") == BULK and
                ev.get("sent") and ev.get("sent") == ev.get("received"),
                "16 MiB through one stream, sha256 equal: %s MiB/s"
                % ev.get("mibps")):
        r.show()


def check_killed_peer(tg):
    """e. a js node killed with SIGKILL in the middle of a transfer."""
    h = JsProc(["hold", tg.addr])
    started = h.event("started", timeout=30)
    conn = h.find(lambda e: e.get("event") == "connected") or {}
    held = conn.get("localPeerId")
    if not t.ok(started is not None and held,
                "hold: a transfer to %s is flowing" % tg.name):
        h.show()
        h.stop()
        return
    if tg.has_ctl:
        seen = wait_for(lambda: tg.conn_of(held), timeout=5)
        t.ok(seen, "show connections lists the holding node %s" % held)
    time.sleep(0.5)
    kill(h.p)
    h.stop()
    if tg.has_ctl:
        r = tg.ctl("show", "status")
        t.ok(r.returncode == 0 and "peer ID" in r.stdout,
             "peerd answers show status after the peer was killed")
    r = run_js(["ping", tg.addr, "1"])
    if not t.ok(r.rc == 0, "a new js ping succeeds after the kill"):
        r.show()
    if tg.has_ctl:
        t.ok(wait_for(lambda: tg.connections() is not None and
                      not tg.conn_of(held), timeout=WAIT),
             "the killed node's connection is gone within %d s: %s"
             % (WAIT, tg.conn_of(held)))
    else:
        t.ok(tg.proc.event("disconnect", timeout=WAIT, peerId=held)
             is not None, "the listener saw the killed node go")


def check_bad_input(tg):
    """f. junk on the TCP port."""
    ports = []
    socks = []
    try:
        s = raw_connect(tg.port)
        ports.append(s.getsockname()[1])
        s.sendall(os.urandom(256))
        t.diag("256 random bytes: %s closed the connection within 2 s: %s"
               % (tg.name, closed_by_peer(s, 2)))
        s.close()

        s = raw_connect(tg.port)
        ports.append(s.getsockname()[1])
        s.sendall(MSS)
        s.close()

        s = raw_connect(tg.port)
        ports.append(s.getsockname()[1])
        # header and protocol in one write, as js-libp2p sends them
        s.sendall(MSS + b"\x07/noise\n")
        want = MSS + b"\x07/noise\n"
        got = read_until(s, len(want), 5)
        t.ok(got == want, "%s negotiates /noise with multistream-select: %r"
             % (tg.name, got))
        # Noise message 1 announces 32 bytes, 10 come
        s.sendall(b"\x00\x20" + os.urandom(10))
        time.sleep(0.2)
        s.close()

        silent = raw_connect(tg.port)
        ports.append(silent.getsockname()[1])
        socks.append(silent)
        time.sleep(0.5)

        r = run_js(["ping", tg.addr, "1"])
        if not t.ok(r.rc == 0, "js ping succeeds after junk, with a silent "
                    "connection open"):
            r.show()
        if tg.has_ctl:
            r = tg.ctl("show", "status")
            t.ok(r.returncode == 0 and "peer ID" in r.stdout,
                 "peerd answers show status after junk")
    except OSError as e:
        t.ok(False, "junk connections to port %d: %s" % (tg.port, e))
    finally:
        for s in socks:
            s.close()
    if tg.has_ctl:
        def junk_listed():
            cs = tg.connections()
            if cs is None:
                return None
            return [c for c in cs
                    if any((c.get("address") or "").endswith("/tcp/%d" % p)
                           for p in ports) or
                    not (c.get("peerId") or "")]
        t.ok(wait_for(lambda: junk_listed() == [], timeout=WAIT),
             "junk connections are not listed once closed: %s"
             % junk_listed())


# --- main --------------------------------------------------------------

def main():
    global LOGDIR, WAIT
    args = sys.argv[1:]
    selftest = args == ["--js"]
    if not selftest and len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    exit_on_signals()
    if not selftest:
        need_root(t, "interop tests against peerd")
    base = temp_base("peerd-interop-")
    LOGDIR = base
    tg = None
    try:
        if not js_ready(t, "interop with js-libp2p"):
            return
        if selftest:
            tg = JsTarget()
        else:
            tg = PeerdTarget(os.path.abspath(args[0]),
                             os.path.join(base, "peerd"))
        if not t.ok(tg.start(), "%s starts" % tg.name):
            tg.show()
            return
        t.diag("%s is %s" % (tg.name, tg.addr))
        ok, why = mss_probe(tg.port)
        if not t.ok(ok, "%s answers multistream-select on 127.0.0.1:%d"
                    % (tg.name, tg.port)):
            t.diag("got %s; the checks that follow fail fast" % why)
            JSENV["INTEROP_DIAL_TIMEOUT"] = "5"
            JSENV["INTEROP_TIMEOUT"] = "20"
            WAIT = 2
        check_js_dials(tg)
        if tg.has_ctl:
            check_peerd_dials(tg)
        else:
            t.diag("peerd dials js: skipped, needs peerctl")
        check_streams(tg)
        check_bulk(tg)
        check_killed_peer(tg)
        check_bad_input(tg)
        if not t.ok(tg.alive(), "%s is still running" % tg.name):
            tg.show()
        elif t.failed:
            tg.show()
    except Exception:
        t.ok(False, "interop.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        kill_all_js()
        if tg is not None:
            tg.stop()
        Suite.cleanup_all()
        nothing_left(t, JSPROCS)
        shutil.rmtree(base, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
