#!/usr/bin/env python3
"""
js-libp2p's daemon API suite (@libp2p/interop: connect, streams, relay,
pubsub) through regress/daemon/run.mjs, between js-libp2p's daemon and
peerd behind peerd-p2pd (the suite's second implementation, which it
calls 'go'; named peerd here).  Each case of the suite is a check here: a
pass ok; a skip "# SKIP" with the suite's reason, when the reason is one
of what peerd does not offer (SKIPPABLE), else a failure; a failure not
ok with its error; then one check that run.mjs ran to its end.
INTEROP_GO overrides the second daemon's command line (regress/daemon/
jsp2pd.mjs is js-libp2p's daemon behind p2pd's flags).  Speaks TAP.

Usage: daemon_interop.py BUILDDIR [SUITE,...]
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
DEADLINE = 400
# what a case may be skipped for: what peerd (or js here) does not offer,
# and the cases @libp2p/interop disables itself
SKIPPABLE = re.compile(r"unsupported|not installed|describe\.skip")
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
            if SKIPPABLE.search(m.group(3)):
                t.skip(m.group(2), m.group(3))
            else:
                t.ok(False, "%s: skipped, but not for what peerd lacks: %s"
                     % (m.group(2), m.group(3)))
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
    argv = RUN + sys.argv[2:3]
    env = dict(os.environ)
    wrapper = os.path.join(os.path.abspath(sys.argv[1]), "peerd-p2pd")
    if "INTEROP_GO" not in env:
        env["INTEROP_GO"] = wrapper
        env["INTEROP_NAME"] = "peerd"
    if not os.access(env["INTEROP_GO"].split()[0], os.X_OK) and \
            "INTEROP_GO" not in os.environ:
        t.ok(False, "%s is built" % wrapper)
        return t.done()
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
