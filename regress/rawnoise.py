#!/usr/bin/env python3
"""
The Noise handshake and the choice of muxer against a dialer that is not
js-libp2p: regress/interop/rawnoise.mjs, a libp2p initiator on node:crypto
alone.  js-libp2p always sends the stream-muxer extension, so only this
dialer takes peerd's other path: a handshake payload without extensions,
then yamux by multistream-select inside the encrypted channel.  Also a
payload whose signature over the static key is wrong.  Speaks TAP.

Usage: rawnoise.py BUILDDIR   starts peerd as root (Suite)

Needs node 20 or later, and no npm package.  Every node process is killed
when the test ends.
"""
import os
import re
import shutil
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (Suite, TAP, wait_for, kill,  # noqa: E402
                   js_ready, exit_on_signals, need_root, temp_base)

SCRIPT = os.path.join(HERE, "interop", "rawnoise.mjs")
VECTORS = os.path.join(HERE, "vectors", "noise_xx_25519_chachapoly_sha256.txt")
BADSIG_LOG = "noise: bad signature over the static key"

t = TAP()
PROCS = []


def rawnoise(args, timeout=90):
    """Run rawnoise.mjs to completion (or timeout seconds)."""
    return suite.JsResult(t, "rawnoise.mjs", suite.js_run(
        PROCS, ["node", SCRIPT] + list(args), None, timeout, cwd=HERE))


def show_log(s, since=0, lines=25):
    t.diag("peerd log (tail):")
    for line in s.log()[since:].strip().splitlines()[-lines:]:
        t.diag("  " + line)


def check_dial(s, peer_id, mode, how, extra=(), refused=()):
    """A dial in mode early or fallback: secured, muxer chosen how (after
    the remote refused the proposals in refused), a ping on a yamux
    stream."""
    mark = len(s.log())
    r = rawnoise([mode, "127.0.0.1", str(s.port), peer_id] + list(extra))
    name = " ".join([mode] + list(extra))
    sec, mux, ping = r.last("secured"), r.last("muxer"), r.last("ping")
    good = t.ok(r.rc == 0 and not r.last("error"),
                "%s: the dial succeeds (exit %s%s)"
                % (name, r.rc, ", %s: %s" % (r.last("error").get("step"),
                                              r.last("error").get("message"))
                              if r.last("error") else ""))
    good &= t.ok(sec.get("remotePeer") == peer_id,
                 "%s: secured with peerd's peer ID: %s"
                 % (name, sec.get("remotePeer")))
    good &= t.ok(mux.get("how") == how,
                 "%s: the muxer is chosen by %s: %s"
                 % (name, how, mux.get("how")))
    if refused:
        good &= t.ok(mux.get("refused") == list(refused),
                     "%s: peerd answers na to %s, then takes /yamux/1.0.0: "
                     "refused %s" % (name, ", ".join(refused),
                                     mux.get("refused")))
    good &= t.ok(ping.get("ok") is True,
                 "%s: 32 bytes on /ipfs/ping/1.0.0 over yamux come back: "
                 "rtt %s ms" % (name, ping.get("rtt")))
    local = sec.get("localPeer") or "?"
    good &= t.ok(wait_for(lambda: opened(s, mark, local), timeout=10),
                 "%s: peerd logs the connection from %s" % (name, local))
    if not good:
        r.show()
        show_log(s, mark)
    return good


def opened(s, mark, peer):
    """peerd logged connection_opened from peer after mark."""
    return re.search(r"connection_opened .* peer=%s$" % re.escape(peer),
                     s.log()[mark:], re.M) is not None


def check_badsig(s, peer_id):
    mark = len(s.log())
    r = rawnoise(["badsig", "127.0.0.1", str(s.port), peer_id])
    ref = r.last("refused")
    good = t.ok(r.rc == 0 and ref,
                "badsig: peerd closes the connection (%s after %s ms)"
                % (ref.get("how"), ref.get("ms")))
    good &= t.ok(ref.get("bytesAfter") == 0,
                 "badsig: peerd sends nothing after message 2: %s bytes"
                 % ref.get("bytesAfter"))
    good &= t.ok(wait_for(lambda: BADSIG_LOG in s.log()[mark:], timeout=10),
                 "badsig: peerd's log says %r" % BADSIG_LOG)
    local = r.last("sent").get("localPeer")
    good &= t.ok(local and not opened(s, mark, local),
                 "badsig: no connection from %s is logged as up" % local)
    if not good:
        r.show()
        show_log(s, mark)
    return good


def check_serving(s, peer_id):
    alive = s.proc is not None and s.proc.poll() is None
    try:
        r = s.ctl("show", "status", timeout=20)
        rc, out = r.returncode, r.stdout + r.stderr
    except (subprocess.TimeoutExpired, OSError) as e:
        rc, out = None, str(e)
    if not t.ok(alive and rc == 0,
                "peerd still runs and answers peerctl show status "
                "(exit %s)" % rc):
        for line in out.strip().splitlines()[-10:]:
            t.diag("peerctl: " + line)
        show_log(s)


def main():
    args = sys.argv[1:]
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    exit_on_signals()
    need_root(t, "rawnoise tests against peerd")
    base = temp_base("peerd-rawnoise-")
    s = None
    try:
        if not js_ready(t, "Noise checks with node:crypto", modules=False):
            return
        r = rawnoise(["vectors", VECTORS])
        v = r.last("vectors")
        if not t.ok(r.rc == 0 and v.get("ok") is True and
                    v.get("count", 0) >= 1,
                    "rawnoise.mjs replays the %s Noise XX vectors of %s"
                    % (v.get("count"), os.path.basename(VECTORS))):
            r.show()
            return
        s = Suite(os.path.abspath(args[0]), os.path.join(base, "peerd"))
        s.prepare()
        # every connection is checked in the log: none of its lines held
        s.write_conf("log:\n  rateLimit: 0\n")
        if not t.ok(s.start(), "peerd starts"):
            show_log(s)
            return
        peer_id = s.status_json()["peerId"]
        t.diag("peerd is /ip4/127.0.0.1/tcp/%d/p2p/%s" % (s.port, peer_id))
        check_dial(s, peer_id, "early", "early")
        check_dial(s, peer_id, "fallback", "multistream")
        check_dial(s, peer_id, "fallback", "multistream", ["--separate"])
        check_dial(s, peer_id, "fallback", "multistream", ["--trickle"])
        check_dial(s, peer_id, "fallback", "multistream", ["--na-first"],
                   refused=["/mplex/6.7.0"])
        check_badsig(s, peer_id)
        check_serving(s, peer_id)
        check_dial(s, peer_id, "early", "early", ["--separate"])
        if not t.ok(s.proc.poll() is None, "peerd is still running"):
            show_log(s)
    except Exception:
        t.ok(False, "rawnoise.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        for p in PROCS:
            kill(p)
        if s is not None:
            s.stop()
        Suite.cleanup_all()
        left = [p.pid for p in PROCS if p.poll() is None]
        t.ok(not left and not Suite.leftovers(),
             "nothing left running: %s %s" % (left, Suite.leftovers()))
        shutil.rmtree(base, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
