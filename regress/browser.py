#!/usr/bin/env python3
"""
A real browser through peerd: js-libp2p in a headless chromium (Debian's
/usr/bin/chromium, driven by playwright-core: regress/browser/) dials
peerd, in mode relay, over /ws, reserves a slot on it (circuit relay v2)
and is pinged through it by a js-libp2p node on TCP; the page pings too.
Speaks TAP.

Usage: browser.py BUILDDIR   through peerd, started as root by Suite
       browser.py --js       self-test: through a js-libp2p relay
                             (node.mjs relay, INTEROP_WS=both: needs the
                             node.mjs that speaks WebSocket) instead

What it does:
- starts peerd (mode relay) listening on TCP and on /ws on 127.0.0.1;
- bundles regress/browser/page.mjs with esbuild into a temporary
  directory and serves it, with index.html, on 127.0.0.1 (http.server);
- opens the page in chromium (drive.mjs) with peerd's /ws address in its
  query; the page listens on that address /p2p-circuit, which reserves;
- checks that the page reports its circuit addresses, that peerd's
  show reservations lists the page's peer ID and that show connections
  has its connection, identified (agent js-libp2p/... browser/...);
- a js node on TCP (regress/interop/node.mjs ping) pings the page through
  peerd's TCP address /p2p-circuit: every ping comes back with a round
  trip over 0 ms, on a limited (relayed) connection the page saw arrive;
- the page pings peerd over /ws, and a js node on TCP that reserved on
  peerd (node.mjs reserve) through peerd: every ping comes back with a
  round trip over 0 ms.

Needs root (peerd -d), node 20 or later with regress/interop/node_modules
and regress/browser/node_modules (npm ci; sh etc/bootstrap test does
both), and chromium (CHROMIUM, default /usr/bin/chromium).  Without them
the test is one skipped check with the reason; under CI (CI set and not
"false" or "0") it is a failed one instead.  Every process it started,
chromium's included, is stopped at the end.
"""
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (TAP, Suite, wait_for, wait_value, parse_events,  # noqa
                   kill, free_port, js_skip_reason, JSDIR, NODE,
                   exit_on_signals, need_root, need_users, temp_base,
                   nothing_left)

BDIR = os.path.join(HERE, "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# pings in each direction
COUNT = 3
# how long the page, a js node or peerd gets for something it should do
WAIT = 30

t = TAP()
JSENV = dict(os.environ, INTEROP_TIMEOUT="60", INTEROP_DIAL_TIMEOUT="20")
PROCS = []
BASE = None
PROFILE = None


def in_ci():
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def skip_reason():
    """Why the browser test cannot run here, or None."""
    why = js_skip_reason(modules=True)
    if why:
        return why
    if os.environ.get("PEERD_BROWSER_SKIP"):
        return os.environ["PEERD_BROWSER_SKIP"]
    if not os.path.isdir(os.path.join(BDIR, "node_modules")):
        return "regress/browser/node_modules is missing: run npm ci there " \
            "(sh etc/bootstrap test does)"
    if not os.access(CHROMIUM, os.X_OK):
        return "no chromium at %s (apt-get install chromium; sh " \
            "etc/bootstrap test does)" % CHROMIUM
    return None


# --- processes ---------------------------------------------------------

class Proc(suite.JsProc):
    """A long-running process printing JSON events, its stderr in a
    file, stopped by closing its stdin."""

    def __init__(self, name, argv, cwd, env=None):
        suite.JsProc.__init__(self, t, PROCS, argv, env or JSENV, BASE,
                              name=name, argv=argv, cwd=cwd, wait=10)


def chromium_pids():
    """Every live process whose command line names our profile: chromium
    runs in a session of its own, out of reach of kill()."""
    found = []
    if PROFILE is None:
        return found
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        st = suite.proc_status(int(d)).get("State", "")
        if PROFILE.encode() in cmd and not st.startswith("Z"):
            found.append(int(d))
    return found


def kill_chromium():
    for _ in range(3):
        pids = chromium_pids()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        wait_for(lambda: not chromium_pids(), timeout=5)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def serve(root):
    """An HTTP server of root on 127.0.0.1, in a thread."""
    def handler(*a, **kw):
        return Quiet(*a, directory=root, **kw)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    return srv


def bundle(out):
    """esbuild page.mjs into out/page.js, and index.html beside it."""
    os.makedirs(out, exist_ok=True)
    r = subprocess.run([os.path.join(BDIR, "node_modules", ".bin", "esbuild"),
                        "page.mjs", "--bundle", "--format=esm",
                        "--platform=browser", "--log-level=warning",
                        "--outfile=" + os.path.join(out, "page.js")],
                       cwd=BDIR, capture_output=True, text=True, timeout=120)
    shutil.copy(os.path.join(BDIR, "index.html"), out)
    ok = t.ok(r.returncode == 0 and
              os.path.getsize(os.path.join(out, "page.js")) > 0,
              "esbuild bundles regress/browser/page.mjs: exit %s"
              % r.returncode)
    if not ok:
        for line in (r.stdout + r.stderr).strip().splitlines()[-20:]:
            t.diag("esbuild: " + line)
    return ok


def run_js(args, env=None, timeout=90):
    """node.mjs to completion: (exit status, events, stderr)."""
    rc, out, err = suite.js_run(PROCS, NODE + args,
                                dict(JSENV, **(env or {})), timeout)
    return rc, parse_events(out), err


def good_pings(pings, key="rtt"):
    """The pings that came back with a round trip that is a number over
    0 ms."""
    return [p for p in pings if isinstance(p.get(key), (int, float)) and
            not isinstance(p.get(key), bool) and p[key] > 0 and
            "error" not in p]


# --- the relay ---------------------------------------------------------

class Relay(suite.Node):
    """peerd in mode relay on TCP and /ws."""
    what = "peerd"

    def __init__(self):
        suite.Node.__init__(self, t, "relay", sys.argv[1],
                            os.path.join(BASE, "relay"))
        self.ws_port = free_port()

    def start(self):
        self.s.prepare()
        self.s.write_conf(
            "mode: relay\n"
            "log:\n  rateLimit: 0\n"
            "relay:\n  enabled: true\n  hop:\n    enabled: true\n",
            listen=["/ip4/127.0.0.1/tcp/%d" % self.s.port,
                    "/ip4/127.0.0.1/tcp/%d/ws" % self.ws_port])
        self.launch()
        return self.up("peerd relay starts, on TCP and /ws")

    @property
    def ws_addr(self):
        return "/ip4/127.0.0.1/tcp/%d/ws/p2p/%s" % (self.ws_port,
                                                    self.peer_id)

    def reservations(self):
        return [r.get("peerId") for r in
                self.json("show", "reservations", key="reservations") or []]

    def page_conns(self, peer):
        return [c for c in self.json("show", "connections",
                                     key="connections") or []
                if c.get("peerId") == peer]


class JsRelay:
    """A js-libp2p relay (node.mjs relay) on TCP and /ws, with js's
    default limits, so that relayed connections are limited as peerd's
    are: the self-test of the browser side."""
    what = name = "the js relay"

    def __init__(self):
        self.proc = None
        self.peer_id = self.addr = self.ws_addr = None

    def start(self):
        self.proc = Proc("relay", NODE + ["relay"], JSDIR, dict(
            JSENV, INTEROP_WS="both", RELAY_APPLY_DEFAULT_LIMIT="1"))
        ev = self.proc.event("listening", timeout=WAIT) or {}
        addrs = ev.get("addrs") or []
        self.peer_id = ev.get("peerId")
        self.addr = next((a for a in addrs if "/ws" not in a), None)
        self.ws_addr = next((a for a in addrs if "/ws/" in a), None)
        if not t.ok(self.addr and self.ws_addr,
                    "the js relay listens on TCP and /ws: %s" % addrs):
            self.show()
            return False
        return True

    def show(self):
        if self.proc is not None:
            self.proc.show()

    def running(self):
        return self.proc.p.poll() is None

    def reservations(self):
        return None

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


# --- the test ----------------------------------------------------------

def page_state(drv):
    """What window.peerd says now."""
    n = len(drv.all("page"))
    drv.send("state")
    ok = wait_for(lambda: len(drv.all("page")) > n or drv.p.poll() is not
                  None, timeout=WAIT)
    pages = drv.all("page")
    return pages[-1] if ok and len(pages) > n else {}


def browser_pings(drv, addr, what):
    """The page pings addr COUNT times: a check that each came back."""
    n = len(drv.all("pinged"))
    drv.send("ping %s %d" % (addr, COUNT))
    wait_for(lambda: len(drv.all("pinged")) > n or drv.p.poll() is not None,
             timeout=WAIT + COUNT * 20)
    got = drv.all("pinged")
    pings = got[-1].get("pings", []) if len(got) > n else []
    good = good_pings(pings)
    ok = t.ok(len(pings) == COUNT and len(good) == COUNT,
              "the page pings %s: %d of %d came back with a round trip "
              "over 0 ms: %s" % (what, len(good), COUNT,
                                 [p.get("rtt", p.get("error"))
                                  for p in pings]))
    return ok


def run(R, box):
    if not R.start():
        return
    www = os.path.join(BASE, "www")
    if not bundle(www):
        return
    srv = serve(www)
    box.append(srv)
    url = "http://127.0.0.1:%d/index.html?%s" % (
        srv.server_address[1], urllib.parse.urlencode({"relay": R.ws_addr}))
    t.diag("page: %s" % url)
    drv = Proc("drive", ["node", "drive.mjs", url, PROFILE], BDIR,
               dict(JSENV, CHROMIUM=CHROMIUM, BROWSER_TIMEOUT="240",
                    TMPDIR=BASE))
    box.append(drv)

    # the page reserves on peerd over /ws
    ev = drv.event("page", timeout=90)
    ev = ev or {}
    me = ev.get("peerId")
    mine = "/p2p/%s/p2p-circuit/p2p/%s" % (R.peer_id, me)
    circ = [a for a in ev.get("addrs") or [] if a.endswith(mine)]
    if not t.ok(ev.get("state") == "reserved" and circ,
                "the page in chromium %s dials %s over /ws and listens "
                "through it: %s %s" % (
                    (drv.all("launched") or [{}])[0].get("version"), R.what,
                    ev.get("state"), circ or ev.get("error") or
                    ev.get("addrs"))):
        drv.show()
        R.show()
        return
    t.ok(any(a.startswith(R.ws_addr + "/p2p-circuit") for a in circ),
         "the page has a circuit address through %s's /ws address "
         "%s: %s" % (R.what, R.ws_addr, circ))
    if R.reservations() is None:
        t.skip("the relay lists the page's reservation",
               "the js relay does not tell")
    else:
        ok, seen = wait_value(R.reservations, lambda v: me in v,
                              timeout=WAIT)
        if not t.ok(ok, "peerd's show reservations lists the page %s: %s"
                    % (me, seen)):
            R.show()
        ok, seen = wait_value(lambda: R.page_conns(me), lambda v: any(
            c.get("direction") == "inbound" and
            (c.get("agent") or "").startswith("js-libp2p/") and
            "browser/" in c.get("agent") for c in v), timeout=WAIT)
        if not t.ok(ok, "peerd's show connections has the page's inbound "
                    "connection, identified as js-libp2p in a browser: %s"
                    % seen):
            R.show()

    # a js node on TCP pings the page through peerd
    target = "%s/p2p-circuit/p2p/%s" % (R.addr, me)
    rc, evs, err = run_js(["ping", target, str(COUNT)])
    conn = next((e for e in evs if e.get("event") == "connected"), {})
    pings = [e for e in evs if e.get("event") == "ping"]
    good = good_pings(pings)
    if not t.ok(rc == 0 and len(pings) == COUNT and len(good) == COUNT,
                "a js node on TCP pings the page through %s (%s): exit "
                "%s, %d of %d came back with a round trip over 0 ms: %s"
                % (R.what, target, rc, len(good), COUNT,
                   [p.get("rtt", p.get("error")) for p in pings])):
        for e in evs:
            t.diag("js: " + json.dumps(e)[:600])
        for line in err.strip().splitlines()[-10:]:
            t.diag("js stderr: " + line)
        R.show()
        drv.show()
    t.ok(conn.get("limits") is not None,
         "the js node's connection to the page is limited (relayed): %s"
         % conn.get("limits"))
    pinger = conn.get("localPeerId")
    st = page_state(drv)
    direct = [e for e in st.get("events") or []
              if e.get("event") == "open" and e.get("peerId") == R.peer_id]
    t.ok(any(e.get("direction") == "outbound" and not e.get("limited") and
             e.get("remoteAddr", "").startswith(R.ws_addr.split("/p2p/")[0])
             for e in direct),
         "the page's connection to %s is its own, over /ws: %s"
         % (R.what, direct))
    seen = [e for e in st.get("events") or []
            if e.get("event") == "open" and e.get("peerId") == pinger]
    t.ok(pinger and any(e.get("limited") and "/p2p-circuit" in
                        e.get("remoteAddr", "") and
                        e.get("direction") == "inbound" for e in seen),
         "the page saw the js node %s come in on a relayed connection: %s"
         % (pinger, seen))

    # the page pings peerd over /ws, and a js node on TCP through peerd
    browser_pings(drv, R.ws_addr, "%s over /ws" % R.what)
    rsv = Proc("reserve", NODE + ["reserve", R.addr], JSDIR)
    box.append(rsv)
    ev = rsv.event("reserved", timeout=WAIT + 20)
    if not t.ok(ev is not None, "a js node on TCP reserves on %s: %s"
                % (R.what, (ev or {}).get("addrs"))):
        rsv.show()
        R.show()
        return
    browser_pings(drv, "%s/p2p-circuit/p2p/%s" % (R.ws_addr, ev["peerId"]),
                  "the js node on TCP through %s" % R.what)
    if not t.ok(R.running(), "%s is still running" % R.what):
        R.show()


def main():
    global BASE, PROFILE
    js = sys.argv[1:] == ["--js"]
    if len(sys.argv) != 2 or (sys.argv[1].startswith("-") and not js):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    exit_on_signals()
    if not js:
        sys.argv[1] = os.path.abspath(sys.argv[1])
        need_root(t, "the browser test")
    why = skip_reason()
    if why:
        if in_ci():
            t.ok(False, "the browser test can run under CI: %s" % why)
        else:
            t.skip("js-libp2p in chromium through peerd", why)
        sys.exit(t.done())
    if not js:
        need_users(t)
    BASE = temp_base("peerd-browser-")
    PROFILE = os.path.join(BASE, "chromium-profile")
    box = []
    try:
        R = JsRelay() if js else Relay()
        box.append(R)
        run(R, box)
    except Exception:
        t.ok(False, "browser.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        for x in reversed(box):
            if isinstance(x, http.server.HTTPServer):
                x.shutdown()
                x.server_close()
            else:
                x.stop()
        for p in PROCS:
            kill(p)
        kill_chromium()
        Suite.cleanup_all()
        left = chromium_pids()
        t.ok(not left, "no chromium left running: %s" % left)
        nothing_left(t, PROCS)
        shutil.rmtree(BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
