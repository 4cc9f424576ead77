#!/usr/bin/env python3
"""
The gossipsub router: js-libp2p 3.3.11 nodes (@libp2p/gossipsub 17.1.1,
@libp2p/floodsub 11.0.28; regress/interop/gossip.mjs) each connected only
to peerd, on 127.0.0.1, with a connectionGater that denies every other
dial: they reach each other only through peerd.  Speaks TAP.

Usage: gossip.py BUILDDIR [CHECK ...]

CHECK is one or more of the letters a to i (default: all):
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
  i  reload with the mesh delivery deficit on (P3: weight -1, threshold
     2, active after 1 s) while one node publishes steadily: show
     gossip peers shows the quiet mesh nodes scored down (P3 or P3b),
     peerd counts deficit prunes, the publishing node is credited with
     mesh deliveries; reloaded without it, peerd is back in every mesh

Runs as root (peerd -d), needs node (20 or later) and regress/interop/
node_modules.  Every process is stopped when the test ends.
"""
import os
import re
import shutil
import sys
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


def conf(topics=(TOPIC,), extra=""):
    # a short backoff, for check d's join after a leave
    return ("gossipSub:\n  enabled: true\n  pruneBackoff: 2000\n"
            "  topics: [%s]\n" % ", ".join('"%s"' % x for x in topics) +
            extra)


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
    M.flood.send("publish a-flood")
    ok = wait_for(lambda: all(len(msgs(j, "a-flood")) >= 1
                              for j in M.gossip), timeout=WAIT)
    wait_for(lambda: False, timeout=2)
    t.ok(ok and all(len(msgs(j, "a-flood")) == 1 for j in M.gossip),
         "the floodsub node's message reaches the four gossipsub nodes "
         "once each: %s" % [len(msgs(j, "a-flood")) for j in M.gossip])
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


def check_i(M):
    pid = M.peerd.peer_id
    src, quiet = M.gossip[0], M.gossip[1:]
    wait_for(lambda: all(in_mesh(j, pid) for j in M.gossip), timeout=WAIT)
    before = metric(M.peerd, "gossip_control_total", "deficit_prune")
    n = [0]
    got = {}

    def publish():
        n[0] += 1
        src.send("publish i-%d" % n[0])

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


def main():
    global BUILD, BASE
    BUILD, which = check_args(DOC, "abcdefghi")
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
                  "h": check_h, "i": check_i}
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
