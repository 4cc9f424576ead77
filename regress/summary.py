#!/usr/bin/env python3
"""
Count results over meson test logs: every TAP line of every test (a
"# SKIP" line is skipped, not passed), and a test that failed without a
failing TAP line counts once more as failed.
Prints each failure with its reason first: the "not ok" lines and the
diagnostics after them, or the end of the output of a test that failed
without one; then where the full logs are.
Prints "N passed, N failed" as its last line (skips on a line before
it, with their reasons); exits 1 when anything failed or nothing ran.
"""
import json
import re
import sys

# at most this many diagnostic lines after each "not ok", and in all
DIAG_LINES = 25
ALL_LINES = 400


def not_ok_blocks(out):
    """Each "not ok" line with the diagnostics that follow it."""
    blocks = []
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if not re.match(r"^not ok \d+", line):
            continue
        block = [line]
        for d in lines[i + 1:]:
            if not d.startswith("#") or len(block) > DIAG_LINES:
                break
            block.append(d)
        blocks.append(block)
    return blocks


class Summary:
    def __init__(self):
        self.passed = self.failed = 0
        self.skips = []
        self.report = []
        self.logs = []

    def test(self, build, t):
        out = t.get("stdout") or ""
        name = "%s/%s" % (build, t.get("name"))
        skips = re.findall(r"^ok \d+ - (.*# SKIP.*)$", out, re.M | re.I)
        oks = len(re.findall(r"^ok \d+", out, re.M)) - len(skips)
        blocks = not_ok_blocks(out)
        self.passed += oks
        self.failed += len(blocks)
        self.skips += ["%s: %s" % (name, s) for s in skips]
        for b in blocks:
            self.report.append("%s: %s" % (name, b[0]))
            self.report += ["    " + d for d in b[1:]]
        bad = t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP")
        if bad and not blocks:
            self.failed += 1
            self.report.append("%s: %s (exit %s), no failing check; its "
                               "output ends:" % (name, t.get("result"),
                                                 t.get("returncode")))
            self.report += ["    " + ln for ln in out.splitlines()[-20:]]
        elif oks + len(blocks) + len(skips) == 0:
            if t.get("result") == "SKIP":
                self.skips.append("%s: skipped as a whole" % name)
            else:
                self.passed += 1

    def read(self, build):
        path = "%s/meson-logs/testlog.json" % build
        try:
            f = open(path)
        except OSError as e:
            self.report.append("summary: %s" % e)
            self.failed += 1
            return
        self.logs.append("%s/meson-logs/testlog.txt" % build)
        with f:
            for line in f:
                self.test(build, json.loads(line))

    def print(self):
        if self.report:
            print("\nFailures, with their reasons:")
            for line in self.report[:ALL_LINES]:
                print("  " + line)
            if len(self.report) > ALL_LINES:
                print("  ... %d more lines" % (len(self.report) - ALL_LINES))
        if self.logs:
            print("Full logs: %s" % " ".join(self.logs))
        for s in self.skips:
            print("skipped: %s" % s)
        # the last line is the plain count CI reads; skips are said before
        if self.skips:
            print("%d skipped (not counted as passed)" % len(self.skips))
        print("%d passed, %d failed" % (self.passed, self.failed))


def main():
    s = Summary()
    for build in sys.argv[1:]:
        s.read(build)
    s.print()
    return 1 if s.failed or s.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
