#!/usr/bin/env python3
"""
The metrics: `peerctl show metrics` parsed by a real Prometheus parser
(prometheus_client.parser, Debian's python3-prometheus-client) and
checked against the truth.  Speaks TAP.

Usage: metrics.py BUILDDIR [CHECK ...]

CHECK is one or more of the letters a to d (default: all):
  a  a fresh relay: every metric of the table has HELP and TYPE, every
     counter ends in _total, every process reports its memory and CPU
     seconds, the read-only socket gives the same names, -j gives
     the same samples as JSON, GET /metrics on admin.listen the same
     metrics, and http_requests_total counts it
  b  N js-libp2p peers reserve on the relay: reservations == N, new
     reservations >= N, inbound tcp connections >= N
  c  K circuits carry a known byte count each way (node.mjs bulk through
     the /p2p-circuit address): circuits opened == K and closed == K,
     bytes relayed each way at least K * SIZE and at most K * SIZE plus
     what framing may add (64 KiB a circuit), and equal to the sums of
     the circuit_closed log lines
  d  with `metrics: namespace: bsv_p2p` (given by a reload) the three
     names of the guide's Grafana queries exist: bsv_p2p_reservations,
     bsv_p2p_connections and bsv_p2p_errors_total, and no peerd_ name
     is left; a namespace that is not a name is refused by the reload;
     with a namespace of 63 characters, the most, the text takes more
     than one message and still parses whole

Runs as root, with js-libp2p from regress/interop (relay.py's helpers).
"""
import json
import os
import re
import shutil
import sys
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package, when the python3 on the PATH is another one
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families
import relay  # noqa: E402
from relay import Peerd, relay_conf, start_reserve, JsProc  # noqa: E402
from suite import (Suite, wait_for, kill, js_ready,  # noqa: E402
                   exit_on_signals, check_args, need_root, temp_base,
                   run_check, nothing_left)

t = relay.t
N = 3                   # js peers that reserve
K = 2                   # circuits with a bulk transfer
SIZE = 1024 * 1024      # bytes each way on each circuit
SLACK = 64 * 1024       # framing a circuit may add, each way
PROCS = ("parent", "engine", "keyd", "stored", "relayd")


def families(node, ns="peerd", sock=None):
    """The parsed families of show metrics, by name; None on failure."""
    r = node.ctl("show", "metrics", sock=sock)
    if r.returncode != 0:
        t.diag("show metrics: exit %s %s" % (r.returncode,
                                             (r.stdout + r.stderr)[-300:]))
        return None
    try:
        fams = list(text_string_to_metric_families(r.stdout))
    except Exception as e:
        t.diag("the parser refused show metrics: %s" % e)
        t.diag(r.stdout[:2000])
        return None
    return {f.name: f for f in fams}, r.stdout


def value(fams, name, **labels):
    """The sample of a family (name as the parser gives it) whose labels
    include labels; sum of them all when several, None when none."""
    f = fams.get(name)
    if f is None:
        return None
    got = [s.value for s in f.samples
           if all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(got) if got else None


def metric(node, name, ns="peerd", **labels):
    m = families(node, ns)
    return None if m is None else value(m[0], name, **labels)


def check_a(R):
    """a. the format and the help of every metric."""
    m = families(R)
    if not t.ok(m is not None, "show metrics parses as the Prometheus "
                "text format"):
        return
    fams, text = m
    helps = re.findall(r"^# HELP (\S+) (.*)$", text, re.M)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    names = [h[0] for h in helps]
    t.ok(len(names) >= 30 and all(h[1].strip() for h in helps),
         "%d metrics, each with a help text" % len(names))
    t.ok(sorted(types) == sorted(names),
         "each metric has a TYPE line: %s" %
         sorted(set(names) ^ set(types)))
    bad = [n for n, ty in types.items()
           if (ty == "counter") != n.endswith("_total")]
    t.ok(not bad and set(types.values()) <= {"counter", "gauge"},
         "counters, and only they, end in _total: %s" % bad)
    t.ok(all(n.startswith("peerd_") for n in names),
         "every name is under the default namespace peerd_")
    samples = [ln for ln in text.splitlines()
               if ln and not ln.startswith("#")]
    t.ok(all(ln.split("{")[0].split(" ")[0] in types for ln in samples),
         "every sample belongs to a metric with HELP and TYPE")
    # the parent reads /proc: wait for the first poll of every process
    rss, cpu = {}, {}

    def polled():
        m = families(R)
        if m is None:
            return False
        for p in PROCS:
            rss[p] = value(m[0], "peerd_process_resident_memory_bytes",
                           process=p)
            cpu[p] = value(m[0], "peerd_process_cpu_seconds", process=p)
        return all(rss.values()) and all(v is not None for v in cpu.values())
    wait_for(polled, timeout=10)
    t.ok(all((rss.get(p) or 0) > 1024 * 1024 for p in PROCS),
         "each process reports its resident memory, over 1 MiB: %s" % rss)
    t.ok(all(cpu.get(p) is not None and cpu[p] >= 0 for p in PROCS) and
         cpu.get("engine", 0) < 3600,
         "each process reports its CPU seconds: %s" % cpu)
    for p in PROCS:
        if value(fams, "peerd_log_suppressed", process=p) is None:
            fams = families(R)[0]
    t.ok(all(value(fams, "peerd_log_suppressed", process=p) is not None
             for p in PROCS), "each process reports its suppressed lines")
    st = R.status() or {}
    budget = value(fams, "peerd_memory_budget_bytes")
    t.ok(budget is not None and budget == (st.get("memory") or {}).get(
        "budget"), "memory_budget_bytes is show status's memory.budget: "
         "%s, %s" % (budget, st.get("memory")))
    ro = families(R, sock=R.s.rosock)
    t.ok(ro is not None and sorted(f for f in ro[0]) == sorted(fams),
         "the read-only socket gives the same metrics")
    # after the first poll of every process, the same samples twice
    text = families(R)[1]
    unique(text, "after every process was polled")
    r = R.ctl("-j", "show", "metrics")
    want = sorted(_key(ln) for ln in text.splitlines()
                  if ln and not ln.startswith("#"))
    try:
        js = sorted((s["name"], tuple(sorted(s["labels"].items())))
                    for s in json.loads(r.stdout)["metrics"]
                    if isinstance(s["value"], (int, float)))
    except (ValueError, KeyError, TypeError):
        js = None
    t.ok(js is not None and js == want, "show metrics -j: the same %d "
         "samples as JSON objects (name, labels, value): %s"
         % (len(want), (r.stdout or r.stderr)[:200]))
    check_http(R)


def check_http(R):
    """GET /metrics on admin.listen: the same metrics as peerctl's."""
    url = "http://127.0.0.1:%d/metrics" % R.s.admin_port
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            ctype = r.headers.get("Content-Type", "")
            body = r.read().decode()
    except Exception as e:
        t.ok(False, "GET %s: %s" % (url, e))
        return
    web = {f.name for f in text_string_to_metric_families(body)}
    m = families(R)
    t.ok(m is not None and web == set(m[0]) and
         ctype.startswith("text/plain"),
         "GET /metrics (%s) gives the metrics of show metrics: %s"
         % (ctype, sorted(web ^ set(m[0] if m else ()))))
    got = value(m[0], "peerd_http_requests", path="/metrics", code="200")
    t.ok(got is not None and got >= 1,
         "http_requests_total counts that GET /metrics: %s" % got)


def unique(text, when):
    """No two samples of the same name and labels."""
    keys = [_key(ln) for ln in text.splitlines()
            if ln and not ln.startswith("#")]
    dup = sorted(set(k for k in keys if keys.count(k) > 1))
    t.ok(not dup, "no two samples with the same name and labels, %s: %s"
         % (when, dup))


def _key(line):
    """(name, sorted labels) of a sample line, by the parser."""
    f = list(text_string_to_metric_families(line + "\n"))[0]
    s = f.samples[0]
    return (s.name, tuple(sorted(s.labels.items())))


def check_b(R, js):
    """b. N js peers reserve."""
    for i in range(N):
        p, circ = start_reserve(R, 40 + i, what="js peer %d" % i)
        js.append((p, circ))
        if circ is None:
            return
    got = []

    def reserved():
        got[:] = [metric(R, "peerd_reservations")]
        return got[0] == N
    wait_for(reserved, timeout=10)
    t.ok(got[0] == N, "peerd_reservations is %d after %d js peers "
         "reserved: %s (show reservations lists %d)" %
         (N, N, got[0], len(R.reservations() or [])))
    fams = families(R)[0]
    new = value(fams, "peerd_reservations_created", kind="new")
    t.ok(new is not None and new >= N,
         "reservations_created_total{kind=new} >= %d: %s" % (N, new))
    conns = value(fams, "peerd_connections", direction="inbound",
                  transport="tcp")
    t.ok(conns is not None and conns >= N,
         "peerd_connections{direction=inbound,transport=tcp} >= %d: %s"
         % (N, conns))


def check_c(R, js):
    """c. K circuits carry SIZE bytes each way."""
    if len(js) < 1 or js[0][1] is None:
        t.skip("bytes relayed", "no reservation to relay through")
        return
    before = families(R)[0]
    b_src = value(before, "peerd_relayed_bytes", direction="src_dst") or 0
    b_dst = value(before, "peerd_relayed_bytes", direction="dst_src") or 0
    b_open = value(before, "peerd_circuits_opened") or 0
    R.mark = len(R.s.log())
    for i in range(K):
        circ = js[i % len(js)][1]
        bulk = JsProc(["bulk", circ, str(SIZE)],
                      {"PEER_KEY_SEED": relay.seed(60 + i)})
        try:
            bulk.p.wait(90)
        except Exception:
            kill(bulk.p)
        ev = bulk.find(lambda e: e.get("event") == "bulk") or {}
        if not t.ok(bulk.p.returncode == 0 and ev.get("bytes") == SIZE,
                    "circuit %d: %d bytes to a js peer through the relay "
                    "and back" % (i, SIZE)):
            bulk.show()
        bulk.stop()
    lines = R.wait_log(r"circuit_closed ", count=K, timeout=30)
    src = sum(int(relay.field(ln, "bytes_src_dst") or 0) for ln in lines)
    dst = sum(int(relay.field(ln, "bytes_dst_src") or 0) for ln in lines)
    got = {}

    def counted():
        f = families(R)
        if f is None:
            return False
        f = f[0]
        got["src_dst"] = value(f, "peerd_relayed_bytes",
                           direction="src_dst") - b_src
        got["dst_src"] = value(f, "peerd_relayed_bytes",
                           direction="dst_src") - b_dst
        got["opened"] = value(f, "peerd_circuits_opened") - b_open
        got["closed"] = value(f, "peerd_circuits_closed")
        got["active"] = value(f, "peerd_circuits")
        return got["src_dst"] >= src and got["dst_src"] >= dst and \
            got["active"] == 0
    wait_for(counted, timeout=10)
    t.ok(len(lines) == K, "%d circuit_closed lines: %d" % (K, len(lines)))
    t.ok(got.get("opened") == K and got.get("closed") == K,
         "circuits_opened_total and circuits_closed_total count the %d "
         "circuits: %s" % (K, got))
    t.ok(got.get("active") == 0, "peerd_circuits is 0 once they closed")
    f = families(R)
    unique(f[1], "after the circuits")
    cpu = value(f[0], "peerd_process_cpu_seconds", process="engine")
    t.ok(cpu is not None and cpu > (value(before, "peerd_process_cpu_"
         "seconds", process="engine") or 0), "the engine's CPU seconds "
         "grew while it relayed: %s" % cpu)
    for d, logged in (("src_dst", src), ("dst_src", dst)):
        v = got.get(d)
        t.ok(v is not None and K * SIZE <= v <= K * (SIZE + SLACK) and
             v == logged, "relayed_bytes_total{direction=%s}: %s, "
             "between %d and %d and equal to the log's %d"
             % (d, v, K * SIZE, K * (SIZE + SLACK), logged))


def check_d(R):
    """d. metrics.namespace: the guide's names."""
    R.s.write_conf(R.conf + "metrics:\n  namespace: bsv_p2p\n")
    r = R.ctl("reload")
    t.ok(r.returncode == 0, "reload with metrics.namespace bsv_p2p: %s"
         % (r.stdout + r.stderr).strip())
    m = families(R, "bsv_p2p")
    names = set(m[0]) if m else set()
    for n in ("bsv_p2p_reservations", "bsv_p2p_connections",
              "bsv_p2p_errors"):
        t.ok(n in names, "%s exists (the guide's query)" % n)
    t.ok(m is not None and "# TYPE bsv_p2p_errors_total counter" in m[1],
         "bsv_p2p_errors_total is a counter")
    t.ok(m is not None and "peerd_" not in m[1],
         "no peerd_ name is left")
    v = value(m[0], "bsv_p2p_reservations") if m else None
    t.ok(v == N, "bsv_p2p_reservations is %d: %s" % (N, v))
    R.s.write_conf(R.conf + "metrics:\n  namespace: 9bad-name\n")
    r = R.ctl("reload")
    t.ok(r.returncode != 0 and "metrics.namespace" in r.stdout + r.stderr,
         "a namespace that is not a name is refused: %s"
         % (r.stdout + r.stderr).strip())
    m = families(R, "bsv_p2p")
    t.ok(m is not None and "bsv_p2p_reservations" in m[0],
         "the namespace in force stays bsv_p2p")
    # the longest namespace: the text no longer fits one message
    ns = "n" * 63
    R.s.write_conf(R.conf + "metrics:\n  namespace: %s\n" % ns)
    r = R.ctl("reload")
    m = families(R, ns)
    size = len(m[1]) if m else 0
    t.ok(r.returncode == 0 and m is not None and size > 16384 and
         value(m[0], ns + "_reservations") == N and
         sorted(k[len(ns):] for k in m[0]) ==
         sorted(k[len("bsv_p2p"):] for k in names),
         "a 63-character namespace: %d bytes, in several messages, "
         "parse whole" % size)
    R.s.write_conf(R.conf + "metrics:\n  namespace: %s\n" % (ns + "n"))
    r = R.ctl("reload")
    t.ok(r.returncode != 0, "a 64-character namespace is refused: %s"
         % (r.stdout + r.stderr).strip())
    R.s.write_conf(R.conf)


def main():
    BUILD, which = check_args(__doc__, "abcd")
    relay.BUILD = BUILD
    exit_on_signals()
    need_root(t, "metrics tests")
    relay.BASE = relay.LOGDIR = temp_base("peerd-metrics-")
    R = None
    js = []
    try:
        if not js_ready(t, "metrics tests with js-libp2p"):
            return
        R = Peerd("relay", relay_conf(limit={"duration": 0, "data": 0}))
        if not R.start():
            return
        checks = {"a": lambda: check_a(R), "b": lambda: check_b(R, js),
                  "c": lambda: check_c(R, js), "d": lambda: check_d(R)}
        for c in which:
            run_check(t, c, checks[c])
        if not t.ok(R.running(), "peerd is still running"):
            R.show()
    except Exception:
        t.ok(False, "metrics.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        for p in relay.JSPROCS:
            kill(p)
        if R is not None:
            R.stop()
        Suite.cleanup_all()
        nothing_left(t, relay.JSPROCS)
        shutil.rmtree(relay.BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
