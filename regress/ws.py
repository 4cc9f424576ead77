#!/usr/bin/env python3
"""
WebSocket interoperability tests: js-libp2p 3.3.11 with @libp2p/websockets
(regress/interop/node.mjs, INTEROP_WS) and peerd listening on both
/ip4/127.0.0.1/tcp/P and /ip4/127.0.0.1/tcp/Q/ws.  Speaks TAP.

Usage: ws.py BUILDDIR [CHECK ...]
       ws.py --js [CHECK ...]   self-test: checks a and c against a js
                                relay on TCP and /ws instead of peerd,
                                without what needs peerctl

CHECK is one or more of the letters a to g (default: all):
  a  a js node dials peerd over /ws, pings it and identifies it: agent,
     protocols, the /ws listen address in listenAddrs and in the signed
     peer record, the observed address a /ws one; a js node that keeps
     its /ws connection is in peerd's show connections and show peers
  b  peerd dials a js node that listens on /ws only (peerctl connect
     ADDR/ws/p2p/ID): the js node sees an inbound /ws connection and
     identifies peerd; peerctl ping pings it
  c  a js node reserves on the relay over /ws and a TCP js node reaches
     it through the relay: pings and 8 MiB echoed, sha256 equal; and the
     reverse: a reservation over TCP, reached from a /ws js node
  d  peerd's show status -j lists both listen addresses
  e  per-IP limits and bans apply to /ws peers: with
     connectionManager.maxConnectionsPerIP 2 and two /ws js nodes
     connected, a third WebSocket handshake gets no answer, and a js dial
     over /ws (and over TCP) fails; one gone, a /ws dial gets in again;
     peerctl block 127.0.0.1 closes the /ws connection left and refuses
     new ones, unblock lets them in again
  f  peerd in mode peer reserves on a js relay given by its /ws address
     (relays:); a TCP js node pings peerd through that relay
  g  peerd to peerd over /ws: P reserves on the relay at its /ws address
     (relays:); Q pings the relay at its /ws address, then P through the
     relay's TCP address

Runs as root (peerd -d), needs node (20 or later) and regress/interop/
node_modules.  Every peerd and js process is stopped when the test ends;
each peerd runs with random ports on 127.0.0.1 in its own directory.

What js-libp2p does over /ws (@libp2p/websockets 10.1.21 on ws 8.18.3,
read in its sources): it dials /tcp/N/ws as ws://HOST:N/ with no
subprotocol and offers permessage-deflate (the ws client's default, as
browsers do); a listener answers an upgrade on any path and names an
inbound connection /ip4/A/tcp/P/ws; it sends each chunk of the stream
as one binary message.  This version has no address filter: plain ws to
127.0.0.1 is dialled as any other.  Its dialer listens for messages only
once its promise of the open event has resolved, after ws has already
delivered a message that came in the same read as the 101: that message
is lost, so a server must not speak first (peerd waits for the client's
multistream header).
"""
import base64
import hashlib
import json
import os
import re
import socket
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (end, Suite, TAP, wait_for, wait_value,  # noqa: E402
                   js_ready, yaml, exit_on_signals, need_root, temp_base,
                   run_check, free_port, NODE, LOG_ALL)

DOC = __doc__
BULK = 8 * 1024 * 1024
PING_PROTO = "/ipfs/ping/1.0.0"
ID_PROTO = "/ipfs/id/1.0.0"
HOP_PROTO = "/libp2p/circuit/relay/0.2.0/hop"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# how long peerd (or js) gets for something it should do by itself
WAIT = 10

t = TAP()
JSENV = dict(os.environ, INTEROP_TIMEOUT="60", INTEROP_DIAL_TIMEOUT="10")
for k in ("INTEROP_WS", "INTEROP_LISTEN_TCP", "PEER_KEY_SEED"):
    JSENV.pop(k, None)
JSPROCS = []
BUILD = None
BASE = None


def strip_p2p(ma):
    i = ma.find("/p2p/")
    return ma if i < 0 else ma[:i]


def is_ws(ma):
    """Whether ma's first hop is a WebSocket: /ip4/A/tcp/N/ws, with or
    without /p2p/ID or a /p2p-circuit after it."""
    return (ma or "").split("/p2p")[0].endswith("/ws")


# --- js processes ------------------------------------------------------

def js_env(env):
    return dict(JSENV, **(env or {}))


def run_js(args, env=None, timeout=90):
    """Run node.mjs to completion (or timeout seconds)."""
    return suite.JsResult(t, "js " + args[0], suite.js_run(
        JSPROCS, NODE + list(args), js_env(env), timeout))


class JsProc(suite.JsProc):
    """A long-running node.mjs whose events are collected as they come."""

    def __init__(self, args, env=None):
        suite.JsProc.__init__(self, t, JSPROCS, args, js_env(env), BASE)


def js_listener(args, env, what):
    """A js node of a listening mode; (JsProc, its addresses) or
    (JsProc, None) after a failed check."""
    js = JsProc(args, env)
    ev = js.event("listening", timeout=30)
    if not t.ok(ev is not None and ev.get("addrs"),
                "%s starts: %s" % (what, (ev or {}).get("addrs"))):
        js.show()
        return js, None
    return js, ev["addrs"]


def good_pings(res, n):
    return res.rc == 0 and len([e for e in res.all("ping")
                                if "rtt" in e]) == n


def rtts(res):
    return [e.get("rtt") for e in res.all("ping") if "rtt" in e]


# --- the targets: peerd, or a js relay (--js) -------------------------

class Peerd(suite.Node):
    """peerd listening on TCP and /ws, asked through peerctl."""
    wait = WAIT
    noise = ("control client closed its channel",)
    has_ctl = True
    agent_prefix = "peerd/"

    def __init__(self, name, conf, ws=True):
        suite.Node.__init__(self, t, name, BUILD,
                            suite.Node.numbered(BASE, name))
        self.conf = conf
        self.ws_port = free_port() if ws else None

    @property
    def tcp_addr(self):
        return self.addr

    @property
    def ws_addr(self):
        if self.peer_id is None or self.ws_port is None:
            return None
        return "/ip4/127.0.0.1/tcp/%d/ws/p2p/%s" % (self.ws_port,
                                                    self.peer_id)

    def start(self):
        listen = ["/ip4/127.0.0.1/tcp/%d" % self.s.port]
        if self.ws_port is not None:
            listen.append("/ip4/127.0.0.1/tcp/%d/ws" % self.ws_port)
        if not suite.Node.start(self, listen):
            return False
        if self.ws_addr:
            t.diag("peerd %s is also %s" % (self.name, self.ws_addr))
        return True

    def connections(self):
        return self.json("show", "connections", key="connections")

    def conns_of(self, peer):
        return [c for c in self.connections() or []
                if c.get("peerId") == peer]

    def peer(self, peer):
        for p in self.json("show", "peers", key="peers") or []:
            if p.get("peerId") == peer:
                return p
        return None

    def reservation(self, peer):
        for r in self.json("show", "reservations",
                           key="reservations") or []:
            if r.get("peerId") == peer:
                return r
        return None

    def status(self):
        return self.json("show", "status")

    def circuit_addrs(self):
        return [a for a in (self.status() or {}).get("listenAddrs") or []
                if "/p2p-circuit" in a]


class JsRelay:
    """node.mjs relay on TCP and /ws (INTEROP_WS=both): --js."""
    has_ctl = False
    agent_prefix = "js-libp2p/"
    name = "js relay"

    def __init__(self):
        self.js = None
        self.peer_id = self.tcp_addr = self.ws_addr = None

    def start(self):
        self.js, addrs = js_listener(["relay"], {"INTEROP_WS": "both"},
                                     "the js relay on TCP and /ws")
        if addrs is None:
            return False
        self.peer_id = addrs[0].rsplit("/p2p/", 1)[1]
        self.tcp_addr = next((a for a in addrs if not is_ws(a)), None)
        self.ws_addr = next((a for a in addrs if is_ws(a)), None)
        return t.ok(self.tcp_addr and self.ws_addr,
                    "the js relay has a TCP and a /ws address: %s" % addrs)

    def running(self):
        return self.js.p.poll() is None

    def show(self):
        self.js.show()

    def stop(self):
        if self.js is not None:
            self.js.stop()


# --- a raw WebSocket handshake ----------------------------------------

def ws_handshake(port, timeout=5):
    """Send an RFC 6455 upgrade request for / to 127.0.0.1:port; the
    status line of the answer ("" if the connection closed or reset
    before one came, with why), and whether Sec-WebSocket-Accept is the
    one the key asks for."""
    key = base64.b64encode(os.urandom(16)).decode()
    want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode())
                            .digest()).decode()
    req = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % (port, key)).encode()
    buf = b""
    why = ""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        return "", False, "connect: %s" % e
    try:
        s.sendall(req)
        end = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf:
            left = end - time.monotonic()
            if left <= 0:
                why = "no answer in %d s" % timeout
                break
            s.settimeout(left)
            b = s.recv(4096)
            if not b:
                why = "closed after %d bytes" % len(buf)
                break
            buf += b
    except OSError as e:
        why = "%s after %d bytes" % (e, len(buf))
    finally:
        s.close()
    head = buf.split(b"\r\n\r\n")[0].decode("latin-1")
    lines = head.split("\r\n") if head else []
    accept = any(ln.lower().startswith("sec-websocket-accept:") and
                 ln.split(":", 1)[1].strip() == want for ln in lines[1:])
    return (lines[0] if b"\r\n\r\n" in buf else ""), accept, why


# --- configs -----------------------------------------------------------



def relay_conf(cm=None):
    """mode relay without limits on circuits; every js node here comes
    from 127.0.0.1: no per-address connection rate."""
    relay = {"enabled": "true", "hop": {"enabled": "true"},
             "limit": {"duration": 0, "data": 0},
             "rateLimit": {"connectionsPerMinute": 0}}
    s = "mode: relay\n" + LOG_ALL + "\n".join(yaml({"relay": relay})) + "\n"
    if cm:
        s += "\n".join(yaml({"connectionManager": cm})) + "\n"
    return s


def peer_conf(relays=()):
    s = "mode: peer\n" + LOG_ALL
    if relays:
        s += "relays: [%s]\n" % ", ".join('"%s"' % r for r in relays)
    return s


# --- checks ------------------------------------------------------------

def check_a(T):
    """a. a js node dials the target over /ws, pings and identifies."""
    res = run_js(["ping", T.ws_addr, "3"])
    conn = res.last("connected")
    if not t.ok(good_pings(res, 3) and is_ws(conn.get("remoteAddr")),
                "a js node dials %s over /ws and pings it 3 times: rtt %s "
                "ms over %s" % (T.name, rtts(res), conn.get("remoteAddr"))):
        res.show()
        if T.has_ctl:
            T.show()
    idf = res.last("identify")
    agent = idf.get("agentVersion") or ""
    t.ok(agent.startswith(T.agent_prefix) and idf.get("peerId") == T.peer_id,
         "identify over /ws: %s, agent %r starts with %r"
         % (idf.get("peerId") or idf.get("error"), agent, T.agent_prefix))
    protos = idf.get("protocols") or []
    t.ok(ID_PROTO in protos and PING_PROTO in protos and HOP_PROTO in protos,
         "identify over /ws: protocols include %s, %s and %s: %s"
         % (ID_PROTO, PING_PROTO, HOP_PROTO, protos))
    listen = [strip_p2p(a) for a in idf.get("listenAddrs") or []]
    want = [strip_p2p(T.ws_addr), strip_p2p(T.tcp_addr)]
    t.ok(all(w in listen for w in want),
         "identify over /ws: listenAddrs include %s: %s" % (want, listen))
    spr = [strip_p2p(a) for a in
           (idf.get("signedPeerRecord") or {}).get("addresses") or []]
    if not t.ok(all(w in spr for w in want),
                "identify over /ws: the signed peer record has %s: %s"
                % (want, spr)) and T.has_ctl:
        T.show()
    obs = idf.get("observedAddr") or ""
    t.ok(re.match(r"/ip4/127\.0\.0\.1/tcp/\d+/ws(/p2p/|$)", obs),
         "identify over /ws: observedAddr is the js end's /ws address: %s"
         % obs)

    # a connection that stays, to look at in peerctl; the js node's
    # peer store has the target's addresses from the signed record
    w = JsProc(["watch", T.ws_addr])
    try:
        ev = w.event("addrs", timeout=30, why="identify") or \
            w.event("addrs", timeout=1)
        cert = [strip_p2p(a) for a in (ev or {}).get("certified") or []]
        if not t.ok(strip_p2p(T.ws_addr) in cert,
                    "a js node watching %s over /ws has its /ws address "
                    "certified (from the signed record): %s"
                    % (T.name, (ev or {}).get("certified"))):
            w.show()
        conn = w.event("connected", timeout=1) or {}
        jsid = conn.get("localPeerId")
        if not T.has_ctl:
            return
        ok, got = wait_value(lambda: T.conns_of(jsid), lambda v: any(
            c.get("direction") == "inbound" and
            (c.get("agent") or "").startswith("js-libp2p/") for c in v),
            timeout=WAIT)
        if not t.ok(jsid and ok,
                    "peerd's show connections lists the /ws js node %s "
                    "inbound, agent js-libp2p/: %s" % (jsid, got)):
            T.show()
        ok, rec = wait_value(lambda: T.peer(jsid), lambda p: p and
                             p.get("connected") and
                             (p.get("agent") or "").startswith("js-libp2p/"),
                             timeout=WAIT)
        t.ok(ok, "peerd's show peers lists the /ws js node connected, "
             "agent js-libp2p/: %s" % rec)
    finally:
        w.stop()


def check_b(T):
    """b. peerd dials a js node that listens on /ws only."""
    js, addrs = js_listener(["listen"], {"INTEROP_WS": "1"},
                            "a js node listening on /ws only")
    try:
        if addrs is None:
            return
        jsaddr = addrs[0]
        jsid = jsaddr.rsplit("/p2p/", 1)[1]
        if not t.ok(len(addrs) == 1 and is_ws(jsaddr),
                    "the js node's one address is a /ws one: %s" % addrs):
            return
        r = T.ctl("connect", jsaddr, timeout=30)
        t.ok(r.returncode == 0, "peerctl connect %s: exit %s %s"
             % (jsaddr, r.returncode, (r.stdout + r.stderr).strip()))
        ev = js.event("open", timeout=WAIT, peerId=T.peer_id)
        ra = (ev or {}).get("remoteAddr") or ""
        if not t.ok(ev and ev.get("direction") == "inbound" and is_ws(ra),
                    "the js node sees an inbound /ws connection from "
                    "peerd: %s" % ra):
            js.show()
            T.show()
        ev = js.event("connection", timeout=WAIT, peerId=T.peer_id)
        agent = (ev or {}).get("agent") or ""
        t.ok(agent.startswith("peerd/") and
             PING_PROTO in (ev or {}).get("protocols", []),
             "the js node identified peerd over /ws: agent %r, "
             "protocols %s" % (agent, (ev or {}).get("protocols")))
        ok, got = wait_value(lambda: T.conns_of(jsid), lambda v: any(
            c.get("direction") == "outbound" and
            (c.get("agent") or "").startswith("js-libp2p/") for c in v),
            timeout=WAIT)
        if not t.ok(ok, "peerd's show connections lists the js node "
                    "outbound, agent js-libp2p/: %s" % got):
            T.show()
        r = T.ctl("-j", "ping", jsaddr, "-c", "3", timeout=60)
        try:
            pings = json.loads(r.stdout).get("pings") or []
        except ValueError:
            pings = []
        good = [p for p in pings if p.get("peerId") == jsid and
                isinstance(p.get("rtt_ms"), (int, float))]
        if not t.ok(r.returncode == 0 and len(good) == 3,
                    "peerctl ping the js node over /ws -c 3: exit %s, rtt "
                    "%s ms" % (r.returncode, [p.get("rtt_ms")
                                              for p in good])):
            t.diag("peerctl: " + (r.stdout + r.stderr).strip())
            T.show()
    finally:
        js.stop()


def reserve(T, relay_addr, what):
    """A js node reserves on T at relay_addr; (JsProc, its peer ID) or
    (JsProc, None)."""
    js = JsProc(["reserve", relay_addr])
    ev = js.event("reserved", timeout=30)
    op = js.event("open", timeout=1, peerId=T.peer_id) or {}
    same = is_ws(relay_addr) == is_ws(op.get("remoteAddr"))
    if not t.ok(ev is not None and same,
                "%s reserves on %s over %s: %s, connected to %s"
                % (what, T.name, "/ws" if is_ws(relay_addr) else "TCP",
                   (ev or {}).get("peerId"), op.get("remoteAddr"))):
        js.show()
        if T.has_ctl:
            T.show()
        return js, None
    return js, ev["peerId"]


def through(T, via, target, what):
    """A js node dials target through T at via: 3 pings, then 8 MiB."""
    circ = "%s/p2p-circuit/p2p/%s" % (via, target)
    res = run_js(["ping", circ, "3"])
    conn = res.last("connected")
    if not t.ok(good_pings(res, 3) and
                (conn.get("remoteAddr") or "").startswith(via),
                "%s pings the reserved node through %s 3 times: rtt %s ms "
                "over %s" % (what, T.name, rtts(res),
                             conn.get("remoteAddr"))):
        res.show()
        if T.has_ctl:
            T.show()
    res = run_js(["bulk", circ, str(BULK)], timeout=120)
    ev = res.last("bulk")
    if not t.ok(res.rc == 0 and ev.get("bytes") == BULK and ev.get("sent")
                and ev.get("sent") == ev.get("received"),
                "%s echoes 8 MiB through %s, sha256 equal: %s bytes, %s "
                "MiB/s" % (what, T.name, ev.get("bytes"), ev.get("mibps"))):
        res.show()
        if T.has_ctl:
            T.show()
    return res.last("connected").get("localPeerId")


def circuit_closed(T, src, dst):
    """Check peerd's circuit_closed line for src -> dst: 8 MiB each way."""
    got = T.wait_log(r"circuit_closed .*src=%s dst=%s" % (src, dst))
    nums = [int(x) for x in re.findall(r"\bbytes_(?:src_dst|dst_src)=(\d+)",
                                       got[-1] if got else "")]
    if not t.ok(len(nums) == 2 and min(nums) >= BULK,
                "peerd logs circuit_closed with 8 MiB or more each way: "
                "%s" % got[-1:]):
        T.show()


def check_c(T):
    """c. circuits between /ws and TCP js nodes through the relay."""
    for res_addr, via, what in (
            (T.ws_addr, T.tcp_addr, "/ws -> TCP"),
            (T.tcp_addr, T.ws_addr, "TCP -> /ws")):
        t.diag("reservation over %s, reached over %s"
               % ("/ws" if is_ws(res_addr) else "TCP",
                  "/ws" if is_ws(via) else "TCP"))
        a, aid = reserve(T, res_addr, "js A (%s)" % what)
        try:
            if aid is None:
                continue
            if T.has_ctl:
                r = T.reservation(aid)
                t.ok(r is not None, "peerd's show reservations lists A: %s"
                     % r)
            src = through(T, via, aid,
                          "a %s js node" % ("/ws" if is_ws(via) else "TCP"))
            if T.has_ctl and src:
                circuit_closed(T, src, aid)
            # A's connection to the relay carried it all and stays
            t.ok(a.p.poll() is None and
                 not a.find(lambda e: e.get("event") == "close" and
                            e.get("peerId") == T.peer_id),
                 "A still holds its connection to %s" % T.name)
        finally:
            a.stop()


def check_d(T):
    """d. show status lists both listen addresses."""
    st = T.status() or {}
    la = [strip_p2p(a) for a in st.get("listenAddrs") or []]
    want = [strip_p2p(T.tcp_addr), strip_p2p(T.ws_addr)]
    if not t.ok(all(w in la for w in want),
                "peerctl show status -j: listenAddrs has %s: %s"
                % (want, st.get("listenAddrs"))):
        T.show()
    r = T.ctl("show", "status")
    t.ok(r.returncode == 0 and all(w in r.stdout for w in want),
         "peerctl show status names both: %s" % [
             ln for ln in r.stdout.splitlines() if "/ip4/" in ln])


def refused(T, why):
    """Checks that /ws peers are refused: a raw handshake gets no 101, a
    js dial over /ws fails."""
    line, _, how = ws_handshake(T.ws_port)
    t.ok(not line.startswith("HTTP/1.1 101") and
         not how.startswith("connect:"),
         "%s: a WebSocket handshake is accepted and closed, no 101: %r %s"
         % (why, line, how))
    res = run_js(["ping", T.ws_addr, "1"])
    if not t.ok(res.rc not in (0, None) and not res.all("connected"),
                "%s: a js dial over /ws fails: %s" % (why, res.error())):
        res.show()
    return res


def check_e(_):
    """e. per-IP limit and bans for /ws peers."""
    E = Peerd("limits", relay_conf({"maxConnectionsPerIP": 2}))
    ws = []
    try:
        if not E.start():
            return
        line, accept, how = ws_handshake(E.ws_port)
        t.ok(line.startswith("HTTP/1.1 101") and accept,
             "a WebSocket handshake gets 101 and the right "
             "Sec-WebSocket-Accept: %r %s" % (line, how))
        wait_for(lambda: (E.status() or {}).get("upgrading") == 0,
                 timeout=WAIT)
        ids = []
        for i in range(2):
            w = JsProc(["watch", E.ws_addr])
            ws.append(w)
            ev = w.event("connected", timeout=30)
            if not t.ok(ev is not None, "/ws js node %d connects" % (i + 1)):
                w.show()
                E.show()
                return
            ids.append(ev["localPeerId"])
        ok, got = wait_value(lambda: E.connections() or [],
                             lambda v: sorted(c.get("peerId") for c in v)
                             == sorted(ids), timeout=WAIT)
        t.ok(ok, "peerd's show connections has the two /ws js nodes: %s"
             % [(c.get("peerId"), c.get("address")) for c in got])
        n0 = len(E.log_lines(r"connection_refused .*reason=max_per_ip"))
        refused(E, "at maxConnectionsPerIP 2")
        res = run_js(["ping", E.tcp_addr, "1"])
        t.ok(res.rc not in (0, None) and not res.all("connected"),
             "at maxConnectionsPerIP 2 with two /ws peers, a js dial over "
             "TCP fails too: %s" % res.error())
        got = E.wait_log(r"connection_refused addr=127\.0\.0\.1:\d+ "
                         r"reason=max_per_ip", count=n0 + 3)
        t.ok(len(got) >= n0 + 3,
             "peerd logs connection_refused reason=max_per_ip for each of "
             "the three: %s" % got[-3:])
        t.ok(all(w.p.poll() is None and not w.all("closed") for w in ws),
             "the two /ws js nodes keep their connections")

        ws.pop().stop()
        ok, got = wait_value(lambda: E.connections(),
                             lambda v: v is not None and len(v) == 1,
                             timeout=WAIT)
        t.ok(ok, "one /ws js node gone, peerd has one connection: %s"
             % got)
        res = run_js(["ping", E.ws_addr, "2"])
        if not t.ok(good_pings(res, 2), "below the limit again, a js node "
                    "dials over /ws and pings: rtt %s ms" % rtts(res)):
            res.show()
            E.show()

        # a ban of the address closes the /ws connection and refuses more
        r = E.ctl("block", "127.0.0.1", "10m", "ws", "test", timeout=30)
        t.ok(r.returncode == 0, "peerctl block 127.0.0.1: exit %s %s"
             % (r.returncode, (r.stdout + r.stderr).strip()))
        t.ok(ws[0].event("closed", timeout=WAIT) is not None,
             "the /ws js node's connection is closed by the ban")
        ok, got = wait_value(lambda: E.connections(),
                             lambda v: v == [], timeout=WAIT)
        t.ok(ok, "peerd has no connection left: %s" % got)
        n0 = len(E.log_lines(r"connection_refused .*reason=banned"))
        refused(E, "127.0.0.1 banned")
        got = E.wait_log(r"connection_refused addr=127\.0\.0\.1:\d+ "
                         r"reason=banned", count=n0 + 2)
        t.ok(len(got) >= n0 + 2, "peerd logs connection_refused "
             "reason=banned for both: %s" % got[-2:])
        r = E.ctl("unblock", "127.0.0.1", timeout=30)
        t.ok(r.returncode == 0, "peerctl unblock 127.0.0.1: exit %s %s"
             % (r.returncode, (r.stdout + r.stderr).strip()))
        res = run_js(["ping", E.ws_addr, "2"])
        if not t.ok(good_pings(res, 2), "unblocked, a js node dials over "
                    "/ws and pings: rtt %s ms" % rtts(res)):
            res.show()
            E.show()
        t.ok(E.running(), "peerd %s is still running" % E.name)
    finally:
        for w in ws:
            w.stop()
        E.stop()


def check_f(_):
    """f. peerd reserves on a js relay at its /ws address."""
    relay = JsRelay()
    P = None
    try:
        if not relay.start():
            return
        P = Peerd("peer-on-js-ws-relay", peer_conf([relay.ws_addr]),
                  ws=False)
        if not P.start():
            return
        ok, got = wait_value(P.circuit_addrs, lambda v: bool(v), timeout=20)
        if not t.ok(ok, "peerd's show status gains /p2p-circuit addresses "
                    "on the js relay: %s" % got):
            P.show()
            relay.show()
            return
        ev = relay.js.event("open", timeout=1, peerId=P.peer_id) or {}
        t.ok(ev.get("direction") == "inbound" and is_ws(ev.get("remoteAddr")),
             "the js relay saw peerd come over /ws: %s"
             % ev.get("remoteAddr"))
        circ = "%s/p2p-circuit/p2p/%s" % (relay.tcp_addr, P.peer_id)
        res = run_js(["ping", circ, "3"])
        if not t.ok(good_pings(res, 3), "a TCP js node pings peerd through "
                    "the js relay 3 times: rtt %s ms" % rtts(res)):
            res.show()
            P.show()
    finally:
        relay.stop()
        if P is not None:
            P.stop()


def check_g(R):
    """g. peerd to peerd over /ws: P reserves on R, Q pings P and R."""
    P = Peerd("peer-P", peer_conf([R.ws_addr]), ws=False)
    Q = Peerd("peer-Q", peer_conf(), ws=False)
    try:
        if not P.start() or not Q.start():
            return
        want = strip_p2p(R.ws_addr) + "/p2p/" + R.peer_id + "/p2p-circuit"
        ok, got = wait_value(P.circuit_addrs, lambda v: want in v,
                             timeout=20)
        if not t.ok(ok, "peerd P's show status gains %s: %s"
                    % (want, got)):
            P.show()
            R.show()
            return
        t.ok(R.reservation(P.peer_id) is not None,
             "R's show reservations lists P")
        # Q has no connection to R before the first ping, and none
        # after the disconnect: each dials the address it is given
        for target, peer, what in (
                (R.ws_addr, R.peer_id, "R over /ws"),
                ("%s/p2p-circuit/p2p/%s" % (R.tcp_addr, P.peer_id),
                 P.peer_id, "P through R's TCP address")):
            Q.ctl("disconnect", R.peer_id)
            wait_for(lambda: not [c for c in Q.connections() or []
                                  if c.get("peerId") == R.peer_id],
                     timeout=WAIT)
            r = Q.ctl("-j", "ping", target, "-c", "2", timeout=40)
            try:
                pings = json.loads(r.stdout).get("pings") or []
            except ValueError:
                pings = []
            good = [p for p in pings if p.get("peerId") == peer and
                    isinstance(p.get("rtt_ms"), (int, float))]
            if not t.ok(r.returncode == 0 and len(good) == 2,
                        "peerd Q pings %s twice: exit %s, rtt %s ms"
                        % (what, r.returncode,
                           [p.get("rtt_ms") for p in good])):
                t.diag("peerctl: " + (r.stdout + r.stderr).strip())
                Q.show()
                R.show()
    finally:
        P.stop()
        Q.stop()


# --- main --------------------------------------------------------------

def args():
    """(BUILDDIR or None for --js, the checks)."""
    a = sys.argv[1:]
    if not a or (a[0].startswith("-") and a[0] != "--js"):
        print(DOC.strip(), file=sys.stderr)
        sys.exit(2)
    which = "".join(a[1:]) or ("ac" if a[0] == "--js" else "abcdefg")
    if set(which) - set("abcdefg") or \
            (a[0] == "--js" and set(which) - set("ac")):
        print(DOC.strip(), file=sys.stderr)
        sys.exit(2)
    return (None if a[0] == "--js" else os.path.abspath(a[0])), which


def main():
    global BUILD, BASE
    BUILD, which = args()
    exit_on_signals()
    if BUILD is not None:
        need_root(t, "WebSocket tests")
    BASE = temp_base("peerd-ws-")
    T = None
    try:
        if not js_ready(t, "WebSocket tests with js-libp2p"):
            return
        if set(which) & set("abcdg"):
            T = JsRelay() if BUILD is None else Peerd("relay", relay_conf())
            if not T.start():
                T = None
        checks = {"a": check_a, "b": check_b, "c": check_c, "d": check_d,
                  "e": check_e, "f": check_f, "g": check_g}
        for c in which:
            if c in "abcdg" and T is None:
                continue
            t.diag("--- check %s" % c)
            run_check(t, c, lambda: checks[c](T))
        if T is not None and not t.ok(T.running(), "%s is still running"
                                      % T.name):
            T.show()
    except Exception:
        t.ok(False, "ws.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        if T is not None:
            T.stop()
        sys.exit(end(t, JSPROCS, BASE))


if __name__ == "__main__":
    main()
