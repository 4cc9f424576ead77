#!/usr/bin/env python3
"""
js-libp2p's daemon API suite (@libp2p/interop: connect, streams, relay,
pubsub) through regress/daemon/run.mjs, between the two daemons of
regress/daemon/factory.mjs.  Each case of the suite is a check here: a pass
ok, a skip "# SKIP" with the suite's reason, a failure not ok with its
error; then one check that run.mjs ran to its end.  The suite's 'go'
daemon is the command line in INTEROP_GO, by default regress/daemon/
jsp2pd.mjs (js-libp2p's daemon behind p2pd's flags).  Speaks TAP.

Usage: daemon_interop.py [SUITE,...]
"""
import os
import re
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import TAP, js_skip_reason, exit_on_signals  # noqa: E402

DIR = os.path.join(HERE, "daemon")
RUN = ["node", "--import", "./polyfill.mjs", "run.mjs"]
# the suite's 'go' side: a p2pd-compatible daemon in a child process, so
# the path peerd's entry point will take is tested; INTEROP_GO overrides
JSP2PD = "node --import ./polyfill.mjs jsp2pd.mjs"
DEADLINE = 170
LINE = re.compile(r"^(ok|not ok) \d+ - (.*?)(?: # SKIP (.*))?$")


def skip_reason():
    why = js_skip_reason(modules=False) or os.environ.get("PEERD_DAEMON_SKIP")
    if why:
        return why
    if not os.path.isdir(os.path.join(DIR, "node_modules")):
        return "regress/daemon/node_modules is missing: run npm ci there " \
            "(sh etc/bootstrap test does)"
    return None


def relay(t, out):
    """Each case run.mjs reports, as a check; whether it printed its
    plan (it does once mocha has finished)."""
    planned = False
    pending = None
    for line in out:
        line = line.rstrip("\n")
        m = LINE.match(line)
        if pending is not None and not line.startswith("# "):
            t.ok(False, pending)
            pending = None
        if m and m.group(1) == "ok" and m.group(3) is not None:
            t.skip(m.group(2), m.group(3))
        elif m and m.group(1) == "ok":
            t.ok(True, m.group(2))
        elif m:
            pending = m.group(2)
        elif line.startswith("# ") and pending is not None:
            t.ok(False, pending)
            t.diag(line[2:])
            pending = None
        elif re.match(r"^1\.\.\d+$", line):
            planned = True
        elif line.startswith("# "):
            t.diag(line[2:])
    if pending is not None:
        t.ok(False, pending)
    return planned


def main():
    exit_on_signals()
    t = TAP()
    why = skip_reason()
    if why:
        t.skip("@libp2p/interop connect, streams, relay, pubsub", why)
        return t.done()
    argv = RUN + sys.argv[1:2]
    env = dict(os.environ)
    env.setdefault("INTEROP_GO", JSP2PD)
    p = subprocess.Popen(argv, cwd=DIR, stdout=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)
    timer = threading.Timer(DEADLINE, os.killpg, (p.pid, signal.SIGKILL))
    timer.start()
    try:
        planned = relay(t, p.stdout)
        rc = p.wait()
    finally:
        timer.cancel()
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    t.ok(planned and rc in (0, 1),
         "run.mjs ran to its end within %d s (exit %s, plan %s)"
         % (DEADLINE, rc, "printed" if planned else "missing"))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
