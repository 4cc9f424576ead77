#!/usr/bin/env python3
"""
The gossipsub router: js-libp2p 3.3.11 nodes (@libp2p/gossipsub 17.1.1,
@libp2p/floodsub 11.0.28; regress/interop/gossip.mjs) each connected only
to peerd, on 127.0.0.1, with a connectionGater that denies every other
dial: they reach each other only through peerd.  Speaks TAP.

Usage: gossip.py BUILDDIR [CHECK ...]

CHECK is one or more of the letters a to n (default: all):
  a  four gossipsub nodes and a floodsub-only node on one topic: each
     gossipsub node has peerd in its mesh; every message each gossipsub
     node publishes reaches each of the other four exactly once at the
     application, with its contents and its author; one the floodsub
     node publishes reaches the four; show gossip peers lists them, with
     their protocols, the topic and the mesh, scores >= 0
  b  a node with globalSignaturePolicy StrictNoSign publishes: no node
     gets it, and peerd counts it dropped as unsigned
  c  a message over idontwantMinDataSize: peerd sends IDONTWANT to the
     other /meshsub/1.2.0 peers of its mesh (counted), and the message
     still reaches them once; a node that said IDONTWANT for a message
     (signed by hand by another, its ID known before it is sent) does
     not get it from peerd, the others do, and peerd counts one saved
  d  reload without the topic: the js nodes see peerd unsubscribe and
     leave their mesh; with it again, once the backoff of its PRUNE
     (gossipSub.pruneBackoff, 2 s here) is over, peerd is back in their
     mesh
  e  a StrictNoSign node floods 30 unsigned messages: scored down
     (invalid messages), pruned from peerd's mesh and graylisted (its
     RPCs ignored, counted), show gossip peers gives its score under 0;
     the gossipsub nodes still get each other's messages
  f  a node sends peerd a message from itself with a bad signature: no
     node gets it, peerd counts it invalid; a node sends peerd again a
     message it received (a replayed seqno): counted as a duplicate,
     and no node gets it twice
  g  a node subscribes to 300 more topics: peerd keeps 128 of them
     (gossipSub.maxTopicsPerPeer), counts the others dropped at a
     bound, and still relays on the test topic
  h  a js-libp2p 2.x node (@chainsafe/libp2p-gossipsub 14,
     regress/interop2/gossip.mjs) joins through peerd: it has peerd in
     its mesh, its message reaches the 3.x nodes and theirs reaches it,
     once each (skipped without regress/interop2/node_modules)
  i  peerctl publish, twice: each js node gets each message once, signed
     by peerd (js StrictSign drops what does not verify) and from its
     ID; the second's seqno is above the first's; peerctl names the
     message ID (it ends in the seqno js saw) and the peers it went to
  j  peerctl subscribe -j on the read-only socket prints what a js node
     publishes (data, from); subscribing to a topic not configured
     joins it, and it is left when the client goes; a fifth watcher of
     one topic is refused (gossipSub.maxTopicSubscribers, 4); one that
     does not read loses messages (counted) while the js nodes still
     get them all
  k  a publish over what keyd signs is refused with a clear error, by
     peerctl (standard input) and by the engine (the topic and header
     added); publish is refused on the read-only socket; on a peerd of
     its own, a watcher ends, saying why, when a reload turns gossip
     off and at lockdown, and then publish and subscribe say why not
  l  relay.advertise with a 1 s ttl (reload): the js nodes get peerd's
     signed peer record on the topic, js opens the envelope, and its
     peer ID is peerd's and its addresses are on 127.0.0.1
  m  reload with the mesh delivery deficit on (P3: weight -1, threshold
     2, active after 1 s) while one node publishes steadily: show
     gossip peers shows the quiet mesh nodes scored down (P3 or P3b),
     peerd counts deficit prunes, the publishing node is credited with
     mesh deliveries; reloaded without it, peerd is back in every mesh
  n  gossipSub.msgIdContentHash (reload): peerctl publish names the
     message ID sha256 of its data, and each js node still gets it once

Runs as root (peerd -d), needs node (20 or later) and regress/interop/
node_modules.  Every process is stopped when the test ends.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import (Node, Suite, TAP, JsProc, wait_for, wait_value,  # noqa
                   kill, js_ready, exit_on_signals, need_root, temp_base,
                   run_check, nothing_left, check_args, js2_skip_reason,
                   GOSSIP, JS2DIR)

DOC = __doc__
TOPIC = "/peerd-test/gossip"
NGOSSIP = 4
PER_NODE = 3
# mesh forms after heartbeats; deliveries take a few more
WAIT = 30

t = TAP()
JSPROCS = []
BASE = None


def conf(topics=(TOPIC,), advertise=False, extra=""):
    # a short backoff, for check d's join after a leave; relay.advertise
    # only in check l, so that the counts of the others are exact; extra:
    # more gossipSub keys
    return ("gossipSub:\n  enabled: true\n  pruneBackoff: 2000\n"
            "  topics: [%s]\n" % ", ".join('"%s"' % x for x in topics) +
            extra +
            "relay:\n  advertise:\n    enabled: %s\n    ttl: 1000\n"
            % ("true" if advertise else "false"))


def metrics(node):
    """The gossip_* samples of show metrics: {(name, label value): v}."""
    r = node.ctl("show", "metrics")
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r'^\w+?_(gossip_\w+)(?:\{\w+="([^"]*)"\})? (\S+)$',
                     line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def metric(node, name, label=None):
    return metrics(node).get((name, label), 0.0)


def js_node(node, kind="gossip", name=None):
    return JsProc(t, JSPROCS, [], None, BASE, name=name or "js " + kind,
                  argv=["node", "--import", "./polyfill.mjs", "gossip.mjs",
                        node.addr, TOPIC, kind])


def ready(js):
    ev = js.event("ready", timeout=WAIT)
    if not t.ok(ev is not None, "%s dials peerd and subscribes" % js.name):
        js.show()
        return False
    js.peer_id = ev["peerId"]
    return True


def in_mesh(js, peer):
    """js has peer in its mesh (gossipsub) or as a subscriber (flood)."""
    key = "subscribers" if js.name.startswith("js flood") else "mesh"
    st = js.all("state")
    return bool(st) and peer in st[-1][key]


def flood_publish(M):
    """A message of the floodsub node through peerd to the gossipsub
    nodes: its name, and how many tries before had a seqno short of 8
    bytes (js floodsub drops its leading zero bytes, 1 time in 256),
    which peerd drops as js gossipsub does.  No name when a try neither
    arrived nor was dropped for its seqno."""
    for k in range(4):
        name = "a-flood-%d" % k
        seen = len(M.peerd.log_lines("seqno not 8 bytes"))
        M.flood.send("publish " + name)
        wait_for(lambda: all(msgs(j, name) for j in M.gossip) or
                 len(M.peerd.log_lines("seqno not 8 bytes")) > seen,
                 timeout=WAIT)
        if len(M.peerd.log_lines("seqno not 8 bytes")) == seen:
            # duplicates would come after the first copies
            wait_for(lambda: False, timeout=2)
            return (name if all(msgs(j, name) for j in M.gossip)
                    else None), k
    return None, 4


def msgs(js, prefix):
    return [e for e in js.all("message") if e["data"].startswith(prefix)]


class Mesh:
    """peerd with four gossipsub nodes and a floodsub node in its mesh."""

    def __init__(self):
        self.peerd = Node(t, "router", BUILD, os.path.join(BASE, "router"))
        self.peerd.conf = conf()
        self.gossip = []
        self.flood = None

    def start(self):
        if not self.peerd.start():
            return False
        self.gossip = [js_node(self.peerd, name="js gossip%d" % i)
                       for i in range(NGOSSIP)]
        self.flood = js_node(self.peerd, "flood", "js flood")
        if not all([ready(j) for j in self.gossip + [self.flood]]):
            return False
        pid = self.peerd.peer_id
        ok = wait_for(lambda: all(in_mesh(j, pid) for j in
                                  self.gossip + [self.flood]), timeout=WAIT)
        if not t.ok(ok, "every js node has peerd in its mesh (floodsub: "
                    "as a subscriber)"):
            for j in self.gossip + [self.flood]:
                j.show()
            return False
        ok, n = wait_value(lambda: metric(self.peerd, "gossip_peers"),
                           lambda v: v == NGOSSIP + 1, timeout=WAIT)
        return t.ok(ok, "peerd has %d pubsub peers (want %d)"
                    % (n, NGOSSIP + 1))

    def stop(self):
        for j in self.gossip + ([self.flood] if self.flood else []):
            j.stop()
        self.peerd.stop()


def check_a(M):
    for i, j in enumerate(M.gossip):
        for k in range(PER_NODE):
            j.send("publish a-%d-%d" % (i, k))
    want = PER_NODE * (NGOSSIP - 1)
    ok = wait_for(lambda: all(len(msgs(j, "a-")) >= want
                              for j in M.gossip) and
                  len(msgs(M.flood, "a-")) >= PER_NODE * NGOSSIP,
                  timeout=WAIT)
    # duplicates would come after the first copies: a few heartbeats more
    wait_for(lambda: False, timeout=3)
    for i, j in enumerate(M.gossip):
        got = sorted(e["data"] for e in msgs(j, "a-"))
        exp = sorted("a-%d-%d" % (o, k) for o in range(NGOSSIP)
                     for k in range(PER_NODE) if o != i)
        froms = {e["data"]: e["from"] for e in msgs(j, "a-")}
        authors = all(froms[d] == M.gossip[int(d.split("-")[1])].peer_id
                      for d in froms)
        if not t.ok(ok and got == exp and authors,
                    "%s gets each of the others' %d messages once, from "
                    "its author: %d of %d" % (j.name, want, len(got),
                                               len(exp))):
            t.diag("got %s" % got)
    got = sorted(e["data"] for e in msgs(M.flood, "a-"))
    exp = sorted("a-%d-%d" % (o, k) for o in range(NGOSSIP)
                 for k in range(PER_NODE))
    if not t.ok(got == exp, "the floodsub node gets all %d once: %d"
                % (len(exp), len(got))):
        t.diag("got %s" % got)
    name, short = flood_publish(M)
    got = [len([e for e in msgs(j, name) if e["data"] == name])
           for j in M.gossip]
    if not t.ok(name is not None and got == [1] * NGOSSIP,
                "the floodsub node's message reaches the four gossipsub "
                "nodes once each: %s (%d of its messages before it had a "
                "short seqno, dropped)" % (got, short)):
        t.diag("peerd: %s" % M.peerd.log_lines("gossip_message_dropped"))
        M.flood.show()
    n = metric(M.peerd, "gossip_messages_total", "in")
    t.ok(n == PER_NODE * NGOSSIP + 1, "peerd counts %d new messages in "
         "(want %d)" % (n, PER_NODE * NGOSSIP + 1))
    topics = M.peerd.json("show", "topics", key="topics") or []
    row = next((x for x in topics if x["topic"] == TOPIC), {})
    # each gossipsub message goes to the 3 other gossipsub nodes and the
    # floodsub node; the floodsub one to the 4 gossipsub nodes
    want_out = PER_NODE * NGOSSIP * NGOSSIP + NGOSSIP
    t.ok(row.get("joined") is True and row.get("peers") == NGOSSIP + 1
         and row.get("mesh") == NGOSSIP and
         row.get("messagesIn") == PER_NODE * NGOSSIP + 1 and
         row.get("messagesOut") == want_out,
         "show topics -j: joined, %d peers, %d in the mesh, %d in, %d "
         "out (want %d): %s" % (NGOSSIP + 1, NGOSSIP, PER_NODE * NGOSSIP
                                + 1, want_out, want_out, row))
    r = M.peerd.ctl("show", "topics")
    t.ok(r.returncode == 0 and TOPIC in r.stdout and
         "dups/dropped" in r.stdout, "show topics prints the table")
    check_gossip_peers(M)


def gossip_peer(M, js):
    peers = M.peerd.json("show", "gossip", "peers", key="peers") or []
    return next((p for p in peers if p.get("peerId") == js.peer_id), None)


def check_gossip_peers(M):
    peers = M.peerd.json("show", "gossip", "peers", key="peers") or []
    by_id = {p.get("peerId"): p for p in peers}
    bad = []
    for j in M.gossip:
        p = by_id.get(j.peer_id) or {}
        tp = [x for x in p.get("topics", []) if x.get("topic") == TOPIC]
        if (p.get("protocol") != "/meshsub/1.2.0" or
                p.get("score", -1) < 0 or p.get("graylisted") is not False
                or len(tp) != 1 or not tp[0].get("subscribed") or
                not tp[0].get("mesh")):
            bad.append((j.name, p))
    t.ok(len(peers) == NGOSSIP + 1 and not bad,
         "show gossip peers -j: %d peers (want %d), the gossipsub nodes "
         "on /meshsub/1.2.0, subscribed and in the mesh of %s, scores >= 0"
         "; wrong: %s" % (len(peers), NGOSSIP + 1, TOPIC, bad))
    p = by_id.get(M.flood.peer_id) or {}
    t.ok(p.get("protocol") == "/floodsub/1.0.0" and
         [x.get("topic") for x in p.get("topics", [])] == [TOPIC],
         "and the floodsub node on /floodsub/1.0.0, subscribed: %s" % p)
    r = M.peerd.ctl("show", "gossip", "peers")
    t.ok(r.returncode == 0 and "P2/P3/P3b/P4/P6/P7" in r.stdout and
         all(j.peer_id in r.stdout for j in M.gossip),
         "show gossip peers prints the table, with every node")


def check_b(M):
    before = metric(M.peerd, "gossip_dropped_total", "unsigned")
    js = js_node(M.peerd, "nosign", "js nosign")
    if not ready(js):
        return
    try:
        wait_for(lambda: in_mesh(js, M.peerd.peer_id), timeout=WAIT)
        js.send("publish b-unsigned")
        ok, n = wait_value(lambda: metric(M.peerd, "gossip_dropped_total",
                                          "unsigned"),
                           lambda v: v > before, timeout=WAIT)
        t.ok(ok, "peerd counts the unsigned message dropped: "
             "%d before, %d after" % (before, n))
        # a control message after it, on the same path: it has arrived
        M.gossip[0].send("publish b-after")
        wait_for(lambda: all(msgs(j, "b-after") for j in M.gossip[1:]),
                 timeout=WAIT)
        got = [len(msgs(j, "b-unsigned")) for j in M.gossip + [M.flood]]
        t.ok(got == [0] * len(got) and
             all(msgs(j, "b-after") for j in M.gossip[1:]),
             "no node gets the unsigned message (%s), a signed one after "
             "it goes through" % got)
    finally:
        js.stop()


def check_c(M):
    before = metric(M.peerd, "gossip_idontwant_total", "sent")
    M.gossip[0].send("big 2048 c-big")
    ok = wait_for(lambda: all(msgs(j, "c-big") for j in M.gossip[1:]),
                  timeout=WAIT)
    ok2, n = wait_value(lambda: metric(M.peerd, "gossip_idontwant_total",
                                       "sent"),
                        lambda v: v >= before + NGOSSIP - 1, timeout=WAIT)
    t.ok(ok and ok2, "a 2048-byte message: peerd "
         "sends IDONTWANT to the %d other 1.2 peers of its mesh: %d sent"
         % (NGOSSIP - 1, n - before))
    wait_for(lambda: False, timeout=2)
    got = [len(msgs(j, "c-big")) for j in M.gossip[1:]]
    t.ok(got == [1] * (NGOSSIP - 1) and
         all(len(e["data"]) == 2048 for j in M.gossip[1:]
             for e in msgs(j, "c-big")),
         "and it reaches each once, whole: %s" % got)
    # larger than a stream's window and its output budget together
    M.gossip[1].send("big 400000 c-huge")
    ok = wait_for(lambda: all(msgs(j, "c-huge") for j in M.gossip
                              if j is not M.gossip[1]), timeout=WAIT)
    if not t.ok(ok and all(len(e["data"]) == 400000 for j in M.gossip
                           for e in msgs(j, "c-huge")),
                "a 400,000-byte message reaches the others whole: %s"
                % [len(msgs(j, "c-huge")) for j in M.gossip]):
        t.diag("peerd: %s" % metrics(M.peerd))
        # held window updates or a full budget would stall the big RPC
        t.diag("peerd memory: %s" % [
            x for x in M.peerd.ctl("show", "metrics").stdout.splitlines()
            if "memory" in x or "buffer" in x])
        t.diag(M.peerd.ctl("show", "connections").stdout[-1500:])
        # which side ended a connection, and why
        for line in M.peerd.log_lines("connection_closed|yamux|gossip")[-12:]:
            t.diag("peerd log: %s" % line.strip()[:300])
        M.gossip[1].show()
    author, refuser = M.gossip[2], M.gossip[3]
    author.send("prepare c-skip")
    ev = author.event("prepared", data="c-skip", timeout=WAIT)
    if not t.ok(ev is not None, "a message signed by hand, its ID known"):
        author.show()
        return
    recv = metric(M.peerd, "gossip_idontwant_total", "received")
    saved = metric(M.peerd, "gossip_idontwant_total", "saved")
    refuser.send("dontwant " + ev["msgId"])
    ok, n = wait_value(lambda: metric(M.peerd, "gossip_idontwant_total",
                                      "received"),
                       lambda v: v > recv, timeout=WAIT)
    t.ok(ok, "peerd has the IDONTWANT (%d IDs received)" % (n - recv))
    author.send("sendprep c-skip")
    others = [j for j in M.gossip if j not in (author, refuser)]
    ok = wait_for(lambda: all(msgs(j, "c-skip") for j in others),
                  timeout=WAIT)
    # a message after it, on the same paths: it has arrived
    author.send("publish c-after")
    wait_for(lambda: msgs(refuser, "c-after"), timeout=WAIT)
    n = metric(M.peerd, "gossip_idontwant_total", "saved")
    t.ok(ok and not msgs(refuser, "c-skip") and n == saved + 1,
         "the message goes to the others, not to the node that said "
         "IDONTWANT: %d saved" % (n - saved))


def check_d(M):
    pid = M.peerd.peer_id
    M.peerd.s.write_conf(conf(["/peerd-test/other"]))
    r = M.peerd.ctl("reload")
    t.ok(r.returncode == 0, "reload without the topic: exit %s %s"
         % (r.returncode, r.stderr.strip()))
    gone = wait_for(lambda: all(not in_mesh(j, pid) and pid not in
                                j.all("state")[-1]["subscribers"]
                                for j in M.gossip), timeout=WAIT)
    t.ok(gone, "the js nodes see peerd leave the topic and their mesh")
    M.peerd.s.write_conf(conf())
    r = M.peerd.ctl("reload")
    back = wait_for(lambda: all(in_mesh(j, pid) for j in M.gossip),
                    timeout=WAIT)
    t.ok(r.returncode == 0 and back, "joined again on reload: peerd is "
         "back in every mesh")


def check_e(M):
    js = js_node(M.peerd, "nosign", "js flooder")
    if not ready(js):
        return
    try:
        pid = M.peerd.peer_id
        wait_for(lambda: in_mesh(js, pid), timeout=WAIT)
        seen = len(js.all("state"))
        before = metric(M.peerd, "gossip_dropped_total", "graylisted")
        for i in range(30):
            js.send("publish e-bad-%d" % i)
        ok, n = wait_value(lambda: metric(M.peerd, "gossip_dropped_total",
                                          "graylisted"),
                           lambda v: v > before, timeout=WAIT)
        t.ok(ok, "the flooder is graylisted: %d of its RPCs ignored"
             % (n - before))
        # js may graft again after the backoff (ignored: graylisted)
        pruned = wait_for(lambda: any(pid not in e["mesh"] for e in
                                      js.all("state")[seen:]), timeout=WAIT)
        t.ok(pruned, "and pruned: peerd left its mesh")
        p = gossip_peer(M, js) or {}
        # the counts decay: graylisted until they fall back over -80
        t.ok(p.get("score", 0) < 0 and p.get("P4", 0) < 0 and
             p.get("graylisted") is (p.get("score", 0) < -80),
             "show gossip peers -j: the flooder's score under 0 from "
             "invalid messages (P4), graylisted under -80: %s" % p)
        M.gossip[1].send("publish e-good")
        ok = wait_for(lambda: all(msgs(j, "e-good") for j in M.gossip
                                  if j is not M.gossip[1]), timeout=WAIT)
        t.ok(ok and not any(msgs(j, "e-bad") for j in M.gossip),
             "the others still get each other's messages, none of the "
             "flooder's")
    finally:
        js.stop()


def check_f(M):
    js = js_node(M.peerd, "gossip", "js forger")
    if not ready(js):
        return
    try:
        wait_for(lambda: in_mesh(js, M.peerd.peer_id), timeout=WAIT)
        before = metric(M.peerd, "gossip_dropped_total", "invalid")
        js.send("forge f-forged")
        ok, n = wait_value(lambda: metric(M.peerd, "gossip_dropped_total",
                                          "invalid"),
                           lambda v: v > before, timeout=WAIT)
        t.ok(ok and js.event("sent", data="f-forged", timeout=1),
             "a bad signature: counted invalid (%d before, %d after)"
             % (before, n))
        M.gossip[0].send("publish f-orig")
        got = wait_for(lambda: all(msgs(j, "f-orig") for j in M.gossip[1:]),
                       timeout=WAIT)
        dups = metric(M.peerd, "gossip_duplicates_total")
        M.gossip[1].send("replay f-orig")
        ok, n = wait_value(lambda: metric(M.peerd,
                                          "gossip_duplicates_total"),
                           lambda v: v > dups, timeout=WAIT)
        t.ok(got and ok and M.gossip[1].event("sent", data="f-orig",
                                              timeout=1),
             "the replayed message: counted a duplicate (%d before, %d "
             "after)" % (dups, n))
        # a message after both, on the same paths: they have arrived
        M.gossip[1].send("publish f-after")
        wait_for(lambda: all(msgs(j, "f-after") for j in M.gossip
                             if j is not M.gossip[1]) and
                 msgs(js, "f-after"), timeout=WAIT)
        counts = [len(msgs(j, "f-orig")) for j in M.gossip[1:]]
        t.ok(not any(msgs(j, "f-forged") for j in M.gossip + [M.flood])
             and counts == [1] * (NGOSSIP - 1) and
             len(msgs(M.gossip[0], "f-orig")) == 0,
             "no node gets the forged message, each the replayed one "
             "once: %s" % counts)
    finally:
        js.stop()


def check_g(M):
    known = metric(M.peerd, "gossip_topics", "known")
    limits = metric(M.peerd, "gossip_dropped_total", "limits")
    M.gossip[0].send("subscribe 300 /peerd-test/many/")
    ok, n = wait_value(lambda: metric(M.peerd, "gossip_dropped_total",
                                      "limits"),
                       lambda v: v >= limits + 300 - 127, timeout=WAIT)
    k = metric(M.peerd, "gossip_topics", "known")
    t.ok(ok and k - known == 127, "300 subscriptions: peerd keeps 127 new "
         "topics (128 a peer, the test topic one of them): %d new, %d "
         "dropped" % (k - known, n - limits))
    M.gossip[0].send("publish g-after")
    ok = wait_for(lambda: all(msgs(j, "g-after") for j in M.gossip[1:]),
                  timeout=WAIT)
    t.ok(ok, "and still relays on the test topic")


def check_h(M):
    why = js2_skip_reason()
    if why is not None:
        t.skip("a js-libp2p 2.x node in the mesh", why)
        return
    env = dict(os.environ, GOSSIP_TIMEOUT="300")
    js = JsProc(t, JSPROCS, [], env, BASE, name="js 2.x",
                argv=GOSSIP + [TOPIC, "0", M.peerd.addr], cwd=JS2DIR)
    try:
        ev = js.event("mesh", timeout=WAIT)
        rel = js.all("listening")
        rel = "%s, %s" % (rel[0]["libp2p"], rel[0]["gossipsub"]) \
            if rel else "?"
        if not t.ok(ev is not None and M.peerd.peer_id in ev["peers"],
                    "a js-libp2p 2.x node (%s) has peerd in its mesh"
                    % rel):
            js.show()
            return
        js.send("publish h-old")
        old = wait_for(lambda: all(msgs(j, "h-old") for j in M.gossip),
                       timeout=WAIT)
        M.gossip[0].send("publish h-new")
        new = wait_for(lambda: msgs(js, "h-new") and
                       all(msgs(j, "h-new") for j in M.gossip[1:]),
                       timeout=WAIT)
        # duplicates would come after the first copies
        wait_for(lambda: False, timeout=2)
        got = [len(msgs(j, "h-old")) for j in M.gossip]
        t.ok(old and got == [1] * NGOSSIP, "its message reaches the 3.x "
             "nodes once each: %s" % got)
        t.ok(new and len(msgs(js, "h-new")) == 1 and
             msgs(js, "h-new")[0].get("signed") is True,
             "a 3.x node's message reaches it once, signed")
    finally:
        js.stop()


def published(r):
    """(message ID hex, peers) from peerctl publish's answer, or None."""
    m = re.search(r"published message ([0-9a-f]+) to (\d+) peers",
                  r.stdout + r.stderr)
    return (m.group(1), int(m.group(2))) if m else None


def check_i(M):
    pid = M.peerd.peer_id
    nodes = M.gossip + [M.flood]
    answers = []
    for k in (1, 2):
        r = M.peerd.ctl("publish", TOPIC, "i-%d" % k)
        answers.append(published(r))
        if not t.ok(r.returncode == 0 and answers[-1] is not None,
                    "peerctl publish i-%d: %s" % (k, (r.stdout +
                                                      r.stderr).strip())):
            return
    ok = wait_for(lambda: all(msgs(j, "i-2") for j in nodes), timeout=WAIT)
    # duplicates would come after the first copies
    wait_for(lambda: False, timeout=2)
    for j in nodes:
        got = {d: msgs(j, d) for d in ("i-1", "i-2")}
        once = all(len(v) == 1 for v in got.values())
        good = once and all(v[0]["from"] == pid and
                            v[0].get("signed") is True
                            for v in got.values())
        if not t.ok(ok and good, "%s gets both once, signed, from peerd: "
                    "%s" % (j.name, {d: len(v) for d, v in got.items()})):
            t.diag("got %s" % got)
            continue
        s1, s2 = int(got["i-1"][0]["seqno"]), int(got["i-2"][0]["seqno"])
        t.ok(s2 > s1, "%s: the seqno increases: %d then %d"
             % (j.name, s1, s2))
    e = msgs(M.gossip[0], "i-1")
    if e and answers[0]:
        seq = "%016x" % int(e[0]["seqno"])
        t.ok(answers[0][0].endswith(seq) and answers[0][1] == len(nodes),
             "peerctl names the message ID (ends in the seqno %s) and %d "
             "peers: %s" % (seq, len(nodes), answers[0]))


def subscriber(node, topic, sock, form="subscribe %s -j", read=True):
    """peerctl subscribe, its output lines gathered in p.lines by a
    thread (each a dict: the JSON object, or {"text": line}) unless
    read is False."""
    p = subprocess.Popen([node.s.peerctl, "-s", sock] +
                         (form % topic).split(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    Suite.sessions.add(p.pid)
    p.lines = []

    def reader():
        for line in p.stdout:
            try:
                p.lines.append(json.loads(line))
            except ValueError:
                p.lines.append({"text": line.strip()})
    if read:
        threading.Thread(target=reader, daemon=True).start()
    return p


def data_of(e):
    """The data of a line of peerctl subscribe, JSON or text."""
    if "text" in e:
        return e["text"].rsplit(": ", 1)[-1]
    return e.get("data", "")


def topic_row(node, topic):
    topics = node.json("show", "topics", key="topics") or []
    return next((x for x in topics if x["topic"] == topic), None)


def check_j(M):
    p = subscriber(M.peerd, TOPIC, M.peerd.s.rosock)
    lead = subscriber(M.peerd, TOPIC, M.peerd.s.rosock, "-j subscribe %s")
    text = subscriber(M.peerd, TOPIC, M.peerd.s.rosock, "subscribe %s")
    subs = (p, lead, text)
    try:
        # each is in place once it prints a message js sends after it:
        # sent again until all three print the same one
        want = None
        for k in range(10):
            M.gossip[1].send("publish j-%d" % k)
            if wait_for(lambda: all(any(data_of(e) == "j-%d" % k
                                        for e in x.lines) for x in subs),
                        timeout=3):
                want = "j-%d" % k
                break
        hit = [e for e in p.lines if data_of(e) == want]
        t.ok(hit and hit[0]["from"] == M.gossip[1].peer_id and
             hit[0]["topic"] == TOPIC and len(hit[0]["id"]) > 16,
             "peerctl subscribe -j (read-only socket) prints what a js "
             "node publishes, with its author: %s" % (hit[:1] or
                                                      p.lines[:3]))
        if not hit:
            return
        got = [e for e in lead.lines if data_of(e) == want]
        t.ok(got == hit[:1], "peerctl -j subscribe: the same, JSON lines: "
             "%s" % got)
        line = "from %s id %s seqno %s: %s" % (
            hit[0]["from"], hit[0]["id"], hit[0]["seqno"], want)
        got = [e for e in text.lines if data_of(e) == want]
        t.ok(got == [{"text": line}], "peerctl subscribe: the same as "
             "text: %s" % got)
    finally:
        for x in subs:
            kill(x)
    other = "/peerd-test/watched"
    p = subscriber(M.peerd, other, M.peerd.s.rosock)
    try:
        ok, row = wait_value(lambda: topic_row(M.peerd, other),
                             lambda r: r is not None and r["joined"],
                             timeout=WAIT)
        t.ok(ok, "a topic watched is joined: %s" % row)
    finally:
        kill(p)
    ok, row = wait_value(lambda: topic_row(M.peerd, other),
                         lambda r: r is None or not r["joined"],
                         timeout=WAIT)
    t.ok(ok, "and left when its watcher goes: %s" % row)
    check_j_bounds(M)


def check_j_bounds(M):
    many = "/peerd-test/many"
    ps = [subscriber(M.peerd, many, M.peerd.s.sock) for _ in range(5)]
    try:
        # one of the five, whichever comes last, is refused
        wait_for(lambda: any(p.poll() is not None for p in ps),
                 timeout=WAIT)
        wait_for(lambda: False, timeout=1)
        ended = [p for p in ps if p.poll() is not None]
        out = ended[0].stderr.read().strip() if ended else ""
        t.ok(len(ended) == 1 and "maxTopicSubscribers" in out,
             "of five watchers of one topic, one is refused, four stay: "
             "%d ended: %s" % (len(ended), out))
    finally:
        for p in ps:
            kill(p)
    before = metric(M.peerd, "gossip_dropped_total", "subscriber_lost")
    # a watcher that never reads: its pipe, its socket and 256 KiB fill
    p = subscriber(M.peerd, TOPIC, M.peerd.s.sock, read=False)
    try:
        wait_for(lambda: False, timeout=1)
        for k in range(150):
            M.gossip[2].send("big 8000 jl-%d" % k)
        ok, n = wait_value(lambda: metric(M.peerd, "gossip_dropped_total",
                                          "subscriber_lost"),
                           lambda v: v > before, timeout=WAIT)
        t.ok(ok, "a watcher that does not read loses messages, counted: "
             "%d" % n)
        ok = wait_for(lambda: all(len(msgs(j, "jl-")) == 150
                                  for j in M.gossip if j != M.gossip[2]),
                      timeout=WAIT)
        t.ok(ok, "the js nodes still get all 150: %s"
             % [len(msgs(j, "jl-")) for j in M.gossip])
    finally:
        kill(p)


def check_k(M):
    big = "x" * 16001
    r = subprocess.run([M.peerd.s.peerctl, "-s", M.peerd.s.sock, "publish",
                        TOPIC, "-"], input=big, capture_output=True,
                       text=True, timeout=30)
    t.ok(r.returncode != 0 and "too large" in r.stderr,
         "16001 bytes on standard input: peerctl refuses: %s"
         % r.stderr.strip())
    r = subprocess.run([M.peerd.s.peerctl, "-s", M.peerd.s.sock, "publish",
                        TOPIC, "-"], input="y" * 15990, capture_output=True,
                       text=True, timeout=30)
    out = (r.stdout + r.stderr).strip()
    t.ok(r.returncode != 0 and "too large" in out,
         "15990 bytes with the topic and header: the engine refuses: %s"
         % out)
    r = M.peerd.ctl("publish", TOPIC, "k-ro", sock=M.peerd.s.rosock)
    out = (r.stdout + r.stderr).strip()
    t.ok(r.returncode != 0 and "not permitted" in out,
         "publish on the read-only socket is refused: %s" % out)
    r = M.peerd.ctl("publish", TOPIC, "k-fits")
    t.ok(r.returncode == 0 and published(r) is not None,
         "a small one after them goes: %s" % (r.stdout + r.stderr).strip())
    check_k_off()


def ended(p, timeout=WAIT):
    """p's exit status and stderr once it ends (None: it did not)."""
    if not wait_for(lambda: p.poll() is not None, timeout=timeout):
        return None, ""
    return p.returncode, p.stderr.read().strip()


def refused_after(k, w, ends, says, what, data):
    """Watcher w of k ends saying ends; then publish and subscribe are
    refused, saying says."""
    rc, err = ended(w)
    t.ok(rc == 1 and ends in err, "%s: the watcher ends, saying why: %s %s"
         % (what, rc, err))
    kill(w)
    for args in (("publish", TOPIC, data), ("subscribe", TOPIC)):
        r = k.ctl(*args)
        out = (r.stdout + r.stderr).strip()
        t.ok(r.returncode != 0 and says in out,
             "%s: %s says so: %s" % (what, args[0], out))


def check_k_off():
    """A peerd of its own: a watcher ended when gossip goes off, then
    publish and subscribe refused with gossip off and in lockdown."""
    k = Node(t, "gossip on and off", BUILD, os.path.join(BASE, "onoff"))
    k.conf = conf()
    try:
        if not k.start():
            return
        w = subscriber(k, TOPIC, k.s.sock)
        wait_value(lambda: topic_row(k, TOPIC),
                   lambda r: r is not None and r["joined"], timeout=WAIT)
        k.s.write_conf("")
        k.ctl("reload")
        refused_after(k, w, "turned off", "not enabled", "gossip off",
                      "k-off")
        k.s.write_conf(conf())
        k.ctl("reload")
        w = subscriber(k, TOPIC, k.s.sock)
        wait_value(lambda: topic_row(k, TOPIC),
                   lambda r: r is not None and r["joined"], timeout=WAIT)
        k.ctl("lockdown")
        refused_after(k, w, "lockdown", "lockdown", "lockdown",
                      "k-lockdown")
    finally:
        k.stop()


def check_l(M):
    with open(M.peerd.s.conf) as f:
        base = f.read()
    M.peerd.s.write_conf(conf(advertise=True))
    r = M.peerd.ctl("reload")
    if not t.ok(r.returncode == 0, "reload with relay.advertise on, a 1 s "
                "ttl: %s" % (r.stdout + r.stderr).strip()):
        return
    pid = M.peerd.peer_id
    ok = wait_for(lambda: all(len(j.all("record")) >= 2
                              for j in M.gossip), timeout=WAIT)
    for j in M.gossip:
        recs = j.all("record")
        good = [e for e in recs if e["from"] == pid and
                e["signer"] == pid and e["peerId"] == pid and e["addrs"] and
                all(a.startswith("/ip4/127.0.0.1/") for a in e["addrs"])]
        if not t.ok(ok and len(good) == len(recs) and len(recs) >= 2,
                    "%s gets peerd's signed record, again after the ttl, "
                    "opened by js: signed by peerd's key, its peer ID "
                    "peerd's, addresses on "
                    "127.0.0.1 (%d of %d)" % (j.name, len(good),
                                              len(recs))):
            t.diag("records %s" % recs[:2])
    with open(M.peerd.s.conf, "w") as f:
        f.write(base)
    M.peerd.ctl("reload")


def check_m(M):
    pid = M.peerd.peer_id
    src, quiet = M.gossip[0], M.gossip[1:]
    wait_for(lambda: all(in_mesh(j, pid) for j in M.gossip), timeout=WAIT)
    before = metric(M.peerd, "gossip_control_total", "deficit_prune")
    n = [0]
    got = {}

    def publish():
        n[0] += 1
        src.send("publish m-%d" % n[0])

    # credited before the reload makes the old mesh peers active at once
    for _ in range(6):
        publish()
    M.peerd.s.write_conf(conf(extra="  meshMessageDeliveriesWeight: -1\n"
                              "  meshMessageDeliveriesThreshold: 2\n"
                              "  meshMessageDeliveriesActivation: 1000\n"))
    r = M.peerd.ctl("reload")
    t.ok(r.returncode == 0, "reload with meshMessageDeliveriesWeight -1: "
         "exit %s %s" % (r.returncode, r.stderr.strip()))
    ids = [j.peer_id for j in quiet]

    def scored():
        publish()
        for p in M.peerd.json("show", "gossip", "peers", key="peers") or []:
            tp = [x for x in p["topics"] if x["topic"] == TOPIC]
            if p["peerId"] == src.peer_id and tp:
                got["src"] = max(got.get("src", 0), tp[0]["meshDeliveries"])
            elif p["peerId"] in ids and (p["P3"] < 0 or p["P3b"] < 0):
                got["quiet"] = p
        got["prunes"] = metric(M.peerd, "gossip_control_total",
                               "deficit_prune") - before
        return "quiet" in got and got.get("src", 0) > 0 and \
            got["prunes"] > 0

    ok = wait_for(scored, timeout=WAIT, interval=0.2)
    t.ok(ok, "the quiet mesh nodes are scored down for their deficit and "
         "pruned (%d deficit prunes), the publishing node is credited "
         "(meshDeliveries up to %.1f): %s"
         % (got.get("prunes", 0), got.get("src", 0), got.get("quiet")))
    M.peerd.s.write_conf(conf())
    r = M.peerd.ctl("reload")
    back = wait_for(lambda: all(in_mesh(j, pid) for j in M.gossip),
                    timeout=WAIT)
    t.ok(r.returncode == 0 and back, "reloaded without it: peerd is back "
         "in every mesh")


def check_n(M):
    """Message IDs by content: sha256 of the data."""
    nodes = M.gossip + [M.flood]
    M.peerd.s.write_conf(conf(extra="  msgIdContentHash: true\n"))
    r = M.peerd.ctl("reload")
    t.ok(r.returncode == 0, "reload with msgIdContentHash: exit %s %s"
         % (r.returncode, r.stderr.strip()))
    r = M.peerd.ctl("publish", TOPIC, "n-1")
    got = published(r)
    want = hashlib.sha256(b"n-1").hexdigest()
    t.ok(got is not None and got[0] == want, "the message ID is sha256 of "
         "the data: %s, want %s" % (got and got[0], want))
    ok = wait_for(lambda: all(msgs(j, "n-1") for j in nodes), timeout=WAIT)
    wait_for(lambda: False, timeout=2)
    counts = {j.name: len(msgs(j, "n-1")) for j in nodes}
    t.ok(ok and all(n == 1 for n in counts.values()),
         "each js node gets it once: %s" % counts)
    M.peerd.s.write_conf(conf())
    r = M.peerd.ctl("reload")
    t.ok(r.returncode == 0, "reloaded without it")


def main():
    global BUILD, BASE
    BUILD, which = check_args(DOC, "abcdefghijklmn")
    exit_on_signals()
    need_root(t, "gossipsub tests")
    BASE = temp_base("peerd-gossip-")
    M = None
    try:
        if not js_ready(t, "gossipsub tests with js-libp2p"):
            return
        M = Mesh()
        if not M.start():
            M.peerd.show()
            return
        checks = {"a": check_a, "b": check_b, "c": check_c, "d": check_d,
                  "e": check_e, "f": check_f, "g": check_g,
                  "h": check_h, "i": check_i, "j": check_j,
                  "k": check_k, "l": check_l, "m": check_m,
                  "n": check_n}
        for c in which:
            t.diag("--- check %s" % c)
            run_check(t, c, lambda: checks[c](M))
        if not t.ok(M.peerd.running(), "peerd is still running"):
            M.peerd.show()
    except Exception:
        t.ok(False, "gossip.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        if M is not None:
            M.stop()
        for p in JSPROCS:
            kill(p)
        Suite.cleanup_all()
        nothing_left(t, JSPROCS)
        shutil.rmtree(BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
