#!/usr/bin/env python3
"""
Run one libFuzzer target for a bounded time and say what came of it in
TAP, one check:

  run.py [-t SECONDS] BINARY CORPUS FINDINGS

The target grows a scratch copy of its seed corpus CORPUS in a temporary
directory (the tree's corpus is never written); an input that crashes,
leaks, hangs or runs out of memory is saved under FINDINGS, and the
"not ok" line is followed by its path, the input itself in hex (the
machine that found it may be gone when the log is read) and the first
lines of the sanitizer's report.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HEX_MAX = 4096		# bytes of a finding printed in hex
REPORT_LINES = 16	# lines of the sanitizer's report printed

KINDS = (("leak-", "leak"), ("timeout-", "timeout"), ("oom-", "oom"),
         ("crash-", "crash"), ("slow-unit-", "timeout"))


def files_in(d):
    return sorted(f for f in os.listdir(d)
                  if os.path.isfile(os.path.join(d, f)))


def diag(text):
    for line in text.splitlines():
        print("# " + line)


def hexdump(path):
    with open(path, "rb") as f:
        data = f.read(HEX_MAX + 1)
    out = []
    for i in range(0, min(len(data), HEX_MAX), 32):
        out.append("%06x %s" % (i, data[i:i + 32].hex()))
    if len(data) > HEX_MAX:
        out.append("... (first %d bytes of %d)" %
                   (HEX_MAX, os.path.getsize(path)))
    return "\n".join(out) if out else "(empty input)"


def report_lines(log):
    """The sanitizer's or libFuzzer's report, from its first ERROR."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"ERROR: |runtime error: |==\d+==\s*WARNING", line):
            return lines[i:i + REPORT_LINES]
    return lines[-REPORT_LINES:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", "--seconds", type=int, default=30)
    ap.add_argument("binary")
    ap.add_argument("corpus")
    ap.add_argument("findings")
    a = ap.parse_args()
    name = os.path.basename(a.binary).replace("libfuzzer_", "")
    print("1..1")
    os.makedirs(a.findings, exist_ok=True)
    before = set(files_in(a.findings))
    env = dict(os.environ)
    # UB is a finding too; leaks are looked for after every input
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    with tempfile.TemporaryDirectory(prefix="fuzz-" + name + "-") as tmp:
        scratch = os.path.join(tmp, "corpus")
        shutil.copytree(a.corpus, scratch)
        seeds = len(files_in(scratch))
        cmd = [a.binary, "-max_total_time=%d" % a.seconds, "-timeout=10",
               "-rss_limit_mb=2048", "-print_final_stats=1",
               "-artifact_prefix=" + a.findings.rstrip("/") + "/", scratch]
        start = time.monotonic()
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, errors="replace")
        took = time.monotonic() - start
        grown = len(files_in(scratch))
    log = p.stdout
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", log) or \
        re.search(r"Done (\d+) runs", log)
    runs = m.group(1) if m else "?"
    new = [f for f in files_in(a.findings) if f not in before]
    written = re.findall(r"Test unit written to (\S+)", log)
    if p.returncode == 0 and not new and not written:
        print("ok 1 - fuzz %s: %s runs in %d s, no finding "
              "(corpus %d -> %d)" % (name, runs, round(took), seeds, grown))
        return 0
    paths = written or [os.path.join(a.findings, f) for f in new]
    kind = "crash"
    for prefix, k in KINDS:
        if any(os.path.basename(x).startswith(prefix) for x in paths):
            kind = k
            break
    if not paths and "out-of-memory" in log:
        kind = "oom"
    print("not ok 1 - fuzz %s: %s after %s runs in %d s (exit %d)" %
          (name, kind, runs, round(took), p.returncode))
    # path and report first: summary.py shows the first lines only
    for path in paths:
        diag("input saved in %s" % os.path.abspath(path))
    if not paths:
        diag("no input was saved")
    diag("report:")
    diag("\n".join(report_lines(log)))
    for path in paths:
        if os.path.isfile(path):
            diag("%s in hex (%d bytes):" % (os.path.basename(path),
                                             os.path.getsize(path)))
            diag(hexdump(path))
    return 1


if __name__ == "__main__":
    sys.exit(main())
