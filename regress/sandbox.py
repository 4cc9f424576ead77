#!/usr/bin/env python3
"""
The seccomp sandboxes of peerd(8), proved on the running suite.  Speaks
TAP.

  s  every process runs under a seccomp filter: /proc/PID/status says
     "Seccomp: 2" with at least one filter, for the parent and the four
     children, and peerctl show status (text and JSON) says so for each
  v  each process, made to perform one forbidden system call, dies by
     SIGSYS: its own log line names the call, the parent names the child
     and that it was its sandbox, and the suite stops with a non-zero
     exit, nothing left running.  The call is made inside the live
     process by gdb(1) (the test attaches as root and calls syscall(2)
     there), so it is the real binary in its real sandbox.  A call the
     filter answers with an error (a UNIX socket, which syslog(3) asks
     for after a syslogd restart) leaves the process running.

Usage: sandbox.py BUILDDIR [s|v ...]   starts peerd as root (Suite)
"""
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import (Suite, TAP, wait_for, proc_status, exit_on_signals,  # noqa: E402
                   need_root, need_users, temp_base, check_args, run_check,
                   end)

PROCS = ("parent", "engine", "keyd", "stored", "relayd")
SIGSYS = signal.SIGSYS

# process, system call made with syscall(2) (number and arguments, x86-64),
# the name its log line must give, what the call shows
VIOLATIONS = [
    ("engine", "41, 2, 2, 0", "socket", "a UDP socket"),
    ("engine", "9, 0, 4096, 7, 0x22, -1, 0", "mmap",
     "executable memory (mmap PROT_EXEC)"),
    ("keyd", "41, 2, 1, 0", "socket", "a TCP socket"),
    ("keyd", "257, -100, 0, 2", "openat", "a file opened read-write"),
    ("stored", "59, 0, 0, 0", "execve", "execve"),
    ("relayd", "101, 0, 0, 0", "ptrace", "ptrace"),
    ("parent", "101, 0, 0, 0", "ptrace", "ptrace"),
]


def gdb_call(pid, args):
    """syscall(args) inside pid, with SIGSYS passed to it; gdb's output."""
    r = subprocess.run(
        ["gdb", "-p", str(pid), "-batch", "-nx",
         "-ex", "handle SIGSYS nostop noprint pass",
         "-ex", "call (long)syscall(%s)" % args],
        capture_output=True, text=True, timeout=120)
    return r.stdout + r.stderr


def pid_of(s, name):
    for p in s.status_json()["processes"]:
        if p["name"] == name:
            return p["pid"]
    return None


def check_status(t, base, build):
    s = Suite(build, os.path.join(base, "s"))
    if not t.ok(s.start(), "suite starts"):
        return
    st = s.status_json()["processes"]
    text = s.ctl("show", "status").stdout
    for name in PROCS:
        p = next((p for p in st if p["name"] == name), None)
        if not t.ok(p is not None, "%s answers status" % name):
            continue
        ps = proc_status(p["pid"])
        t.ok(ps.get("Seccomp") == "2" and
             int(ps.get("Seccomp_filters", "1")) >= 1,
             "%s (pid %d) runs under a seccomp filter: /proc status "
             "Seccomp %r, filters %r" % (name, p["pid"], ps.get("Seccomp"),
                                        ps.get("Seccomp_filters")))
        t.ok(p.get("sandbox") == "seccomp filter",
             "show status -j: %s sandbox %r" % (name, p.get("sandbox")))
        row = re.search(r"^%s\s+%d\s+\S+\s+\S+\s+seccomp filter\s" %
                        (name, p["pid"]), text, re.M)
        t.ok(row is not None, "show status: %s's row says seccomp filter"
             % name)
    s.stop(alone=True)


def violation(t, base, build, i, name, args, call, what):
    s = Suite(build, os.path.join(base, "v%d" % i))
    if not t.ok(s.start(), "suite %d starts" % i):
        return
    pid = pid_of(s, name)
    out = gdb_call(pid, args)
    if not t.ok(wait_for(lambda: s.proc.poll() is not None, timeout=30),
                "%s making %s: the suite stops" % (name, what)):
        t.diag(out[-1500:])
        s.stop(alone=True)
        return
    log = s.log()
    line = re.search(r"^%s\[%d\]: sandbox_violation syscall=(\S+) nr=\d+$"
                     % (name, pid), log, re.M)
    t.ok(line is not None and line.group(1) == call,
         "%s's log names the call: %r, want %s"
         % (name, line.group(0) if line else None, call))
    if name == "parent":
        t.ok(s.proc.returncode == -SIGSYS,
             "the parent died by SIGSYS: exit status %d"
             % s.proc.returncode)
    else:
        t.ok(re.search(r"child_exited child=%s child_pid=%d signal=%d "
                       r"during=run" % (name, pid, SIGSYS), log) and
             "%s was killed by its sandbox" % name in log,
             "the parent says %s died by SIGSYS, killed by its sandbox"
             % name)
        t.ok(s.proc.returncode not in (0, None),
             "the suite exits with a failure: %d" % s.proc.returncode)
    s.stop(alone=True)


def check_violations(t, base, build):
    for i, (name, args, call, what) in enumerate(VIOLATIONS):
        violation(t, base, build, i, name, args, call, what)


def main():
    build, which = check_args(__doc__, "sv")
    t = TAP()
    need_root(t, "sandbox.py")
    need_users(t)
    if shutil.which("gdb") is None:
        t.ok(False, "gdb is installed (etc/bootstrap test installs it)")
        return t.done()
    exit_on_signals()
    base = temp_base("peerd-sandbox-")
    try:
        if "s" in which:
            run_check(t, "s", lambda: check_status(t, base, build))
        if "v" in which:
            run_check(t, "v", lambda: check_violations(t, base, build))
    finally:
        rc = end(t, [], base)
    return rc


if __name__ == "__main__":
    sys.exit(main())
