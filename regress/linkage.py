#!/usr/bin/env python3
"""
Linkage: each program links only the libraries its process needs, read
from the NEEDED entries of its ELF dynamic section (readelf -d).  Only
stored holds the store, so only stored links LMDB (peerd -r runs
stored -R).  Speaks TAP.  Usage: linkage.py BUILDDIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite import TAP, check_args  # noqa: E402

# program: library name prefixes it must not need
MUST_NOT = {
    "peerd": ("liblmdb",),
    "keyd": ("liblmdb",),
    "relayd": ("liblmdb",),
    "peerctl": ("liblmdb",),
}


def needed(path):
    """The NEEDED libraries of an ELF file, or None."""
    try:
        r = subprocess.run(["readelf", "-d", path], capture_output=True,
                           text=True, timeout=60)
    except OSError:
        return None
    if r.returncode != 0:
        return None
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                      r.stdout)


def main():
    build, _ = check_args(__doc__, "")
    t = TAP()
    libs = needed(os.path.join(build, "stored"))
    t.ok(libs is not None and any(x.startswith("liblmdb") for x in libs),
         "readelf reads stored's NEEDED entries and finds LMDB: %s" % libs)
    for prog, banned in sorted(MUST_NOT.items()):
        libs = needed(os.path.join(build, prog))
        bad = [x for x in libs or [] if x.startswith(banned)]
        t.ok(libs and not bad, "%s does not link %s: %s"
             % (prog, ", ".join(banned), libs))
    sys.exit(t.done())


if __name__ == "__main__":
    main()
