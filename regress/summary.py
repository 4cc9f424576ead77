#!/usr/bin/env python3
"""
Count results over meson test logs: every TAP line of every test (a
"# SKIP" line is skipped, not passed), and a test that failed without a
failing TAP line counts once more as failed.
Prints "N passed, N failed" as its last line (skips on a line before
it); exits 1 when anything failed or nothing ran.
"""
import json
import re
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        f = open("%s/meson-logs/testlog.json" % build)
    except OSError as e:
        print("summary: %s" % e, file=sys.stderr)
        failed += 1
        continue
    for line in f:
        t = json.loads(line)
        out = t.get("stdout") or ""
        skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M | re.I))
        oks = len(re.findall(r"^ok \d+", out, re.M)) - skips
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        passed += oks
        failed += bad
        skipped += skips
        if t.get("result") not in ("OK", "EXPECTEDFAIL") and bad == 0:
            failed += 1
            print("summary: %s/%s: %s" % (build, t.get("name"),
                                          t.get("result")), file=sys.stderr)
        elif oks + bad + skips == 0 and t.get("result") == "OK":
            passed += 1
# the last line is the plain count CI reads; skips are said before it
if skipped:
    print("%d skipped (not counted as passed)" % skipped)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or passed == 0 else 0)
