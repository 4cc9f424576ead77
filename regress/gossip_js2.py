#!/usr/bin/env python3
"""
The js-libp2p 2.x gossipsub node (regress/interop2/gossip.mjs, on
@chainsafe/libp2p-gossipsub 14) meshes with a js-libp2p 3.x one (the same
script on @libp2p/gossipsub 17 from regress/interop) directly over
127.0.0.1: each gets every message the other publishes, once, signed by
its author.  Needs no peerd: it shows the 2.x node works before the peerd
router tests use it.  Speaks TAP.

Usage: gossip_js2.py
"""
import os
import shutil
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import (TAP, JsProc, wait_for, js2_skip_reason,  # noqa: E402
                   JS2DIR, GOSSIP, GOSSIP3_ENV, exit_on_signals, temp_base,
                   nothing_left)

TOPIC = "/peerd/gossip-js2"
COUNT = 20
t = TAP()
PROCS = []


def start(name, env_extra, args, base):
    env = dict(os.environ, GOSSIP_TIMEOUT="100", **env_extra)
    return JsProc(t, PROCS, args, env, base, name=name,
                  argv=GOSSIP + list(args), cwd=JS2DIR)


def received(node, author):
    """The data of the messages node got from author, as delivered."""
    return [e.get("data") for e in node.all("message")
            if e.get("from") == author]


def check_pair(old, new, ids):
    """Each got the other's COUNT messages exactly once, signed, and
    came through the other."""
    for a, b in ((old, new), (new, old)):
        want = ["%s %d" % (ids[b], i) for i in range(1, COUNT + 1)]
        wait_for(lambda: len(received(a, ids[b])) >= COUNT, timeout=30)
        got = received(a, ids[b])
        t.ok(sorted(got) == sorted(want) and len(got) == COUNT,
             "%s got each of the %d messages %s published, once: %d "
             "delivered, %d missing" % (a.name, COUNT, b.name, len(got),
                                        len(set(want) - set(got))))
        msgs = [e for e in a.all("message") if e.get("from") == ids[b]]
        bad = [e for e in msgs if not e.get("signed") or
               e.get("topic") != TOPIC or e.get("via") != ids[b] or
               len(e.get("seqno") or "") != 16]
        t.ok(msgs and not bad, "%s: every one signed by its author, on %s, "
             "with an 8-byte seqno, through %s (%d wrong)"
             % (a.name, TOPIC, b.name, len(bad)))
        own = [e for e in a.all("message") if e.get("from") == ids[a]]
        t.ok(not own, "%s is not given its own messages back (%d)"
             % (a.name, len(own)))


def main():
    exit_on_signals()
    why = js2_skip_reason()
    if why:
        t.skip("js-libp2p 2.x gossipsub meshes with 3.x", why)
        sys.exit(t.done())
    base = temp_base("peerd-gossip-js2-")
    nodes = []
    try:
        old = start("js2", {}, [TOPIC, str(COUNT)], base)
        nodes.append(old)
        lo = old.event("listening", timeout=60)
        if not t.ok(lo and lo.get("libp2p", "").startswith("2.") and
                    lo.get("gossipsub", "").startswith(
                        "@chainsafe/libp2p-gossipsub@14."),
                    "the old node runs js-libp2p 2.x with "
                    "@chainsafe/libp2p-gossipsub 14: %s" % lo):
            old.show()
            return
        new = start("js3", GOSSIP3_ENV, [TOPIC, str(COUNT),
                                         lo["addrs"][0]], base)
        nodes.append(new)
        ln = new.event("listening", timeout=60)
        if not t.ok(ln and ln.get("libp2p", "").startswith("3.") and
                    ln.get("gossipsub") == "@libp2p/gossipsub@17.1.1",
                    "the new node runs js-libp2p 3.x with @libp2p/gossipsub "
                    "17.1.1: %s" % ln):
            new.show()
            return
        ids = {old: lo["peerId"], new: ln["peerId"]}
        for a, b in ((old, new), (new, old)):
            ev = a.event("mesh", timeout=60)
            t.ok(ev and ids[b] in ev.get("peers", []),
                 "%s has %s in its mesh for %s: %s"
                 % (a.name, b.name, TOPIC, ev))
        for a in (old, new):
            ev = a.event("done", timeout=60)
            if not t.ok(ev and ev.get("published") == COUNT,
                        "%s published its %d messages: %s"
                        % (a.name, COUNT, ev or a.all("error"))):
                a.show()
        check_pair(old, new, ids)
        for a, b in ((old, new), (new, old)):
            sub = a.find(lambda e: e.get("event") == "subscription" and
                         e.get("peerId") == ids[b])
            t.ok(sub and sub.get("topic") == TOPIC and sub.get("subscribe"),
                 "%s saw %s subscribe to %s: %s" % (a.name, b.name, TOPIC,
                                                    sub))
        text = "late from js2"
        old.send("publish " + text)
        ev = new.wait(lambda e: e.get("event") == "message" and
                      e.get("data") == text, timeout=30)
        t.ok(ev and ev.get("from") == ids[old],
             "a message js2 is told to publish on stdin reaches js3: %s"
             % ev)
        if t.failed:
            for a in nodes:
                a.show()
    except Exception:
        t.ok(False, "gossip_js2.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        for a in nodes:
            a.stop()
        nothing_left(t, PROCS)
        shutil.rmtree(base, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
