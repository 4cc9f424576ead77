#!/usr/bin/env python3
"""
README test: every command of the README's section "An operator's first
ten minutes" is run, in the README's order, against suites this test
starts, so that the section cannot drift from the programs.

The section is read by the rules it is written to: a command is a line
of exactly five spaces and then neither a space nor '#'; a line ending
in a backslash goes on on the next; " # " starts a comment.  Each
command must match exactly one check in HANDLERS below, and each check
must match a command: either way a mismatch is a failed check.

The commands run as written, with what a test must change: the programs
are the ones "ninja -C build install" put under a DESTDIR in a temporary
directory; peerd gets -f CONF and peerctl -s SOCK (a configuration with
temporary directories, a random port on 127.0.0.1 and control sockets
in the temporary directory); /etc/peerd.conf is CONF, /var/backups/ a
temporary directory, 12D3KooW... the peer ID of a second suite B, the
example ping address B's address on 127.0.0.1, <parent pid> the parent
of show status.  Nothing is sent outside 127.0.0.0/8.  systemctl is never
run (the installed unit is checked instead); the rc script is, with
PEERD_DEFAULTS naming a file that points it at the DESTDIR and CONF, and
the processes it daemonizes are recorded and killed at the end if still
there.  Speaks TAP.  Usage: readme.py BUILDDIR
"""
import filecmp
import ipaddress
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite import (TAP, Suite, Node, wait_value, temp_base,  # noqa: E402
                   need_root, exit_on_signals, nothing_left, proc_status,
                   check_args)

BUILD, _ = check_args(__doc__, "")
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(SRC, "README")
SECTION = "An operator's first ten minutes"
PREFIX = "/usr/local"
PROGRAMS = ("peerd", "keyd", "stored", "relayd", "peerctl", "peerd-p2pd",
            "peerd-setup")
USERS = {"parent": "root", "engine": "_peerd", "keyd": "_peerkey",
         "stored": "_peerd", "relayd": "_peerd"}
PEERID_RX = r"12D3KooW[1-9A-HJ-NP-Za-km-z]{44}"

t = TAP()


# --- the README ----------------------------------------------------------

def section_lines():
    """The lines of the section, from its heading to the next heading or
    the "Man pages:" line; and the names of the man pages that line
    gives."""
    with open(README) as f:
        lines = f.read().splitlines()
    try:
        start = lines.index(SECTION)
    except ValueError:
        return [], []
    body, end = [], len(lines)
    for i in range(start + 2, len(lines)):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if lines[i].startswith("Man pages:") or \
                re.fullmatch(r"[-=]{3,}", nxt):
            end = i
            break
        body.append(lines[i])
    pages = []
    if end < len(lines) and lines[end].startswith("Man pages:"):
        para = []
        for line in lines[end:]:
            if not line.strip():
                break
            para.append(line)
        pages = re.findall(r"([\w.-]+)\((\d)\)", " ".join(para))
    return body, pages


def commands(body):
    """The commands of the section, continuation lines joined, comments
    and runs of blanks taken out."""
    cmds, i = [], 0
    while i < len(body):
        line = body[i]
        i += 1
        if not re.match(r" {5}[^ #]", line):
            continue
        while line.endswith("\\") and i < len(body):
            line = line[:-1] + " " + body[i].strip()
            i += 1
        cut = line.find(" # ")
        if cut != -1:
            line = line[:cut]
        cmds.append(" ".join(line.split()))
    return cmds


# --- shared state ---------------------------------------------------------

class State:
    pass


S = State()


def out(r):
    """What a command said, on one line, for a check's name."""
    text = " | ".join(x for x in (r.stdout + r.stderr).strip().splitlines())
    if len(text) > 600:
        text = text[:600] + " ..."
    return "exit %s: %s" % (r.returncode, text)


def out_tail(r, n=6):
    """The exit status and the last n lines, for a long output."""
    lines = (r.stdout + r.stderr).strip().splitlines()[-n:]
    return "exit %s: %s" % (r.returncode, " | ".join(lines))


def run(argv, timeout=60, env=None, cwd=None):
    """argv with its output in files (a daemon may keep a pipe open), in
    its own session; exit status None when it timed out (then its
    process group is killed)."""
    with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=o,
                             stderr=e, env=env, cwd=cwd,
                             start_new_session=True)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            rc = None
        o.seek(0)
        e.seek(0)
        return subprocess.CompletedProcess(
            argv, rc, o.read().decode(errors="replace"),
            e.read().decode(errors="replace"))


def dest(path):
    """Where an absolute path under the prefix is in the DESTDIR."""
    return S.dest + path


def date_expand(cmd):
    """$(date ...) as the shell expands it: date's output, its last
    newlines taken off."""
    def sub(m):
        r = run(["date", m.group(1)])
        if r.returncode != 0:
            raise RuntimeError("date %s: %s" % (m.group(1), out(r)))
        return r.stdout.rstrip("\n")
    return re.sub(r"\$\(date (\S+)\)", sub, cmd)


def loopback_only(argv):
    """Refuse (an exception, so nothing is run) any address in argv that
    is not in 127.0.0.0/8."""
    for a in argv:
        for proto, host in re.findall(r"/(ip4|ip6|dns4|dns6|dns)/([^/]+)",
                                      a):
            if proto != "ip4" or \
                    ipaddress.ip_address(host) not in \
                    ipaddress.ip_network("127.0.0.0/8"):
                raise RuntimeError("refusing to run %s: /%s/%s is not "
                                   "on 127.0.0.0/8" % (argv, proto, host))


def expand(cmd):
    """The argv a README command runs as here."""
    s = date_expand(cmd)
    s = s.replace("/var/backups/", S.backups + "/")
    s = s.replace("/etc/peerd.conf", S.A.s.conf)
    if "12D3KooW..." in s:
        s = s.replace("12D3KooW...", need_b().peer_id)
    argv = shlex.split(s)
    if argv[0] == "peerd":
        argv = [os.path.join(S.sbin, "peerd"), "-f", S.A.s.conf] + argv[1:]
    elif argv[0] == "peerctl":
        argv = [os.path.join(S.sbin, "peerctl"), "-s", S.A.s.sock] + \
            argv[1:]
    elif argv[0] in PROGRAMS:
        argv[0] = os.path.join(S.sbin, argv[0])
    argv = [dest(a) if a.startswith(PREFIX + "/") else a for a in argv]
    loopback_only(argv)
    return argv


def run_cmd(cmd, timeout=60, **kw):
    argv = expand(cmd)
    t.diag("running: %s" % " ".join(argv))
    return run(argv, timeout=timeout, **kw)


# --- processes --------------------------------------------------------------

def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def ours(pids):
    """Those of pids that still run a program of the DESTDIR (so not a
    pid used again by something else)."""
    alive = []
    for pid in pids:
        st = proc_status(pid).get("State", "")
        if st and not st.startswith("Z") and \
                exe(pid).startswith(S.dest + "/"):
            alive.append(pid)
    return alive


def dest_procs():
    """Every process running a program of the DESTDIR."""
    return ours(int(d) for d in os.listdir("/proc") if d.isdigit())


def status():
    """peerctl -j show status on A's socket, or None."""
    r = S.A.ctl("-j", "show", "status")
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def full(st):
    return st is not None and st.get("peerId") and \
        len(st.get("processes", [])) == 5


def rc(what, timeout=60):
    """The installed rc script with what, pointed at the DESTDIR."""
    argv = [dest(PREFIX + "/etc/init.d/peerd"), what]
    env = dict(os.environ, PEERD_DEFAULTS=S.defaults)
    t.diag("running: PEERD_DEFAULTS=%s %s" % (S.defaults, " ".join(argv)))
    return run(argv, timeout=timeout, env=env)


def suite_conf():
    """Before the first suite starts: CONF becomes a configuration like a
    Suite's (temporary directories, a random port, control sockets here),
    and peerd -n accepts it."""
    if S.conf_written:
        return
    S.conf_written = True
    S.A.s.prepare()
    S.A.s.write_conf()
    r = run([os.path.join(S.sbin, "peerd"), "-n", "-f", S.A.s.conf])
    t.ok(r.returncode == 0 and r.stderr == "configuration OK\n",
         "the test's configuration (port %d, directories in %s) passes "
         "peerd -n -f CONF: %s" % (S.A.s.port, S.A.s.base, out(r)))


def rc_start(why):
    """Start A with the rc script; check it says the parent's pid, that
    show status answers with five processes and the same parent."""
    suite_conf()
    r = rc("start")
    m = re.search(r"Starting peerd: peerd \(pid (\d+)\)", r.stdout)
    t.ok(r.returncode == 0 and m is not None,
         "%s: init.d/peerd start exits 0 and prints the parent's pid: %s"
         % (why, out(r)))
    ok, st = wait_value(status, full, timeout=30)
    if st:
        S.rc_pids |= {p["pid"] for p in st["processes"]}
        S.pids = [p["pid"] for p in st["processes"]]
    for pid in dest_procs():
        S.rc_pids.add(pid)
    t.ok(ok, "%s: the rc-started suite answers show status with five "
         "processes: %s" % (why, st and [(p["name"], p["pid"])
                                         for p in st["processes"]]))
    parent = [p["pid"] for p in (st or {}).get("processes", [])
              if p["name"] == "parent"]
    printed = int(m.group(1)) if m else None
    t.ok(parent and printed == parent[0],
         "%s: the pid the rc script printed (%s) is the parent's in show "
         "status (%s)" % (why, printed, parent))
    # detached by daemon(3): the parent reads its own /proc/self too
    boxes = {p["name"]: p.get("sandbox")
             for p in (st or {}).get("processes", [])}
    t.ok(len(boxes) == 5 and
         set(boxes.values()) == {"seccomp filter"},
         "%s: every process of the rc-started suite is in its seccomp "
         "filter: %s" % (why, boxes))
    S.running = "rc"
    return ok


def rc_stop(why):
    """Stop the rc-started A with the rc script: exit 0, and no process
    of it left."""
    pids = sorted(set(S.pids) | set(S.rc_pids))
    r = rc("stop")
    t.ok(r.returncode == 0 and re.search(r"Stopping peerd: done", r.stdout),
         "%s: init.d/peerd stop exits 0 and says done (not killed): %s"
         % (why, out(r)))
    ok, left = wait_value(lambda: sorted(set(ours(pids)) |
                                         set(dest_procs())),
                          lambda v: not v, timeout=20)
    t.ok(ok, "%s: no process of the rc-started suite is left (of %s): %s"
         % (why, pids, left))
    S.running = None


def fg_start(argv, why):
    """Start A as peerd -d -v does, from argv; wait until it answers
    with five processes."""
    suite_conf()
    s = S.A.s
    log = open(s.logfile, "ab")
    s.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT,
                              start_new_session=True)
    log.close()
    Suite.sessions.add(s.proc.pid)
    S.A.mark = len(s.log())
    S.running = "fg"
    ok = s.wait_ready(timeout=30)
    st = status() if ok else None
    S.pids = [p["pid"] for p in st["processes"]] if st else []
    if not t.ok(ok, "%s: %s runs and answers show status with five "
                "processes: %s" % (why, " ".join(argv[:1] + argv[3:]),
                                   st and [(p["name"], p["pid"])
                                           for p in st["processes"]])):
        S.A.show()
    return ok


def fg_stop(why):
    """SIGTERM to the parent of A started in the foreground: it exits 0
    and nothing of it is left."""
    p = S.A.s.proc
    pids = S.pids
    if p is None or p.poll() is not None:
        t.ok(False, "%s: the suite started with peerd -d -v still runs "
             "(exit %s)" % (why, p and p.returncode))
    else:
        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        t.ok(code == 0, "%s: the suite started with peerd -d -v stops on "
             "SIGTERM, exit %s" % (why, code))
    ok, left = wait_value(lambda: ours(pids), lambda v: not v, timeout=20)
    t.ok(ok, "%s: nothing of it is left (of %s): %s" % (why, pids, left))
    S.A.s.stop(alone=True)
    S.running = None


def stop_running(why):
    if S.running == "rc":
        rc_stop(why)
    elif S.running == "fg":
        fg_stop(why)


def need_b():
    """Suite B, the peer the README's examples stand for, started the
    first time it is needed (from the build directory, so that the rc
    script, which looks for the DESTDIR's peerd, never sees it)."""
    if S.B is None:
        S.B = Node(t, "B", BUILD, os.path.join(S.base, "b"))
        ok = S.B.s.start()
        if not S.B.up("a second suite B starts on 127.0.0.1 port %d, for "
                      "the README's example peer" % S.B.s.port, ok):
            raise RuntimeError("suite B did not start")
    return S.B


def need_a(why):
    """A running A, to ask."""
    st = status()
    if not full(st):
        raise RuntimeError("%s: suite A does not answer show status" % why)
    return st


def parent_pid_text():
    """The pid of "parent" in (text) show status."""
    r = S.A.ctl("show", "status")
    m = re.search(r"^parent\s+(\d+)\s", r.stdout, re.M)
    if not m:
        raise RuntimeError("no parent in show status: %s" % out(r))
    return int(m.group(1))


# --- the handlers, one for each README command ----------------------------

def h_bootstrap(cmd):
    with open(os.path.join(SRC, "etc", "bootstrap")) as f:
        m = re.search(r'^BUILD_PKGS="([^"]*)"', f.read(), re.M)
    pkgs = m.group(1).split() if m else []
    missing = []
    for p in pkgs:
        r = run(["dpkg-query", "-W", "-f=${Status}", p])
        if "install ok installed" not in r.stdout:
            missing.append(p)
    if not t.ok(pkgs and not missing,
                "the packages etc/bootstrap installs are there already "
                "(so it sends nothing off this machine): %s, missing %s"
                % (pkgs, missing)):
        return
    r = run_cmd(cmd, timeout=600, cwd=SRC)
    t.ok(r.returncode == 0, "`%s` in %s: %s" % (cmd, SRC, out_tail(r)))


def h_install(cmd):
    argv = expand(cmd)
    argv[argv.index("build")] = BUILD
    env = dict(os.environ, DESTDIR=S.dest)
    t.diag("running: DESTDIR=%s %s" % (S.dest, " ".join(argv)))
    r = run(argv, timeout=600, env=env)
    t.ok(r.returncode == 0, "`%s` with DESTDIR=%s: %s"
         % (cmd, S.dest, out_tail(r)))
    named = sorted(set(p.rstrip(".,") for p in
                       re.findall(re.escape(PREFIX) + r"/[\w./-]+",
                                  "\n".join(S.body))))
    missing = [p for p in named if not os.path.exists(dest(p))]
    t.ok(named and not missing, "every path under %s the README section "
         "names is installed: %s, missing %s" % (PREFIX, named, missing))
    progs = [os.path.join(PREFIX, "sbin", p) for p in PROGRAMS]
    bad = [p for p in progs if not (os.path.isfile(dest(p)) and
                                    os.access(dest(p), os.X_OK))]
    t.ok(not bad, "the programs are installed executable in %s/sbin: "
         "not %s" % (PREFIX, bad))
    pages = sorted(set(S.pages) | {("peerd", "8"), ("keyd", "8"),
                                   ("stored", "8"), ("relayd", "8"),
                                   ("peerctl", "8"), ("peerd-p2pd", "8"),
                                   ("peerd.conf", "5")})
    pages = [os.path.join(PREFIX, "share", "man", "man" + sec,
                          "%s.%s" % (name, sec)) for name, sec in pages]
    missing = [p for p in pages if not os.path.isfile(dest(p))]
    t.ok(len(S.pages) == 7 and not missing,
         "the man pages the README names (%s) are installed: missing %s"
         % (["%s(%s)" % p for p in S.pages], missing))
    unit = PREFIX + "/lib/systemd/system/peerd.service"
    t.ok(os.path.isfile(dest(unit)), "the unit is installed as %s" % unit)
    init = PREFIX + "/etc/init.d/peerd"
    t.ok(os.path.isfile(dest(init)) and os.access(dest(init), os.X_OK),
         "the rc script is installed executable as %s" % init)
    example = PREFIX + "/share/doc/peerd/examples/peerd.conf.example"
    t.ok(filecmp.cmp(dest(example), os.path.join(SRC, "etc",
                                                 "peerd.conf.example"),
                     shallow=False),
         "the example configuration is installed as %s" % example)
    try:
        with open(dest(init)) as f:
            text = f.read()
    except OSError:
        text = ""
    got = {k: re.findall(r"^%s=(.*)$" % k, text, re.M)
           for k in ("DAEMON", "PEERCTL")}
    t.ok(got == {"DAEMON": [PREFIX + "/sbin/peerd"],
                 "PEERCTL": [PREFIX + "/sbin/peerctl"]} and "@" not in
         "".join(got["DAEMON"] + got["PEERCTL"]) and "@SBINDIR@" not in text,
         "the installed rc script names the installed programs: %s" % got)


def h_setup(cmd):
    r = run_cmd(cmd)
    users = {}
    for u in ("_peerd", "_peerkey"):
        try:
            users[u] = pwd.getpwnam(u).pw_uid
        except KeyError:
            users[u] = None
    t.ok(r.returncode == 0 and None not in users.values(),
         "`%s` (installed copy): users %s: %s" % (cmd, users, out(r)))


def h_cp(cmd):
    os.makedirs(S.A.s.base, exist_ok=True)
    os.chmod(S.A.s.base, 0o755)
    argv = expand(cmd)
    src, dst = argv[-2], argv[-1]
    t.ok(src.startswith(S.dest + PREFIX + "/") and dst == S.A.s.conf,
         "`%s` copies from the DESTDIR to CONF: %s" % (cmd, argv))
    r = run(argv)
    same = os.path.isfile(dst) and filecmp.cmp(src, dst, shallow=False)
    t.ok(r.returncode == 0 and same, "`%s`: a copy of the example: %s, "
         "same %s" % (cmd, out(r), same))


def h_check(cmd):
    r = run_cmd(cmd)
    t.ok(r.returncode == 0 and r.stderr == "configuration OK\n" and
         r.stdout == "", "`%s` on %s says \"configuration OK\" as peerd(8) "
         "says: %s" % (cmd, "the example" if not S.conf_written else
                       "CONF", out(r)))
    h_check_error(cmd)


def h_check_error(cmd):
    """What the README's comment on peerd -n says of a bad file."""
    bad = os.path.join(S.base, "bad.conf")
    with open(bad, "w") as f:
        f.write("mode: relay\nrelay:\n  enabled: maybe\n")
    argv = expand(cmd)
    argv[argv.index("-f") + 1] = bad
    r = run(argv)
    t.ok(r.returncode == 1 and
         re.fullmatch(re.escape(bad) + r":3:12: \S.*\n", r.stderr),
         "`%s` on a bad file says file:line:col: message: %s"
         % (cmd, out(r)))


def h_check_verbose(cmd):
    r = run_cmd(cmd)
    mode = re.findall(r"^mode: .*$", r.stdout, re.M)
    listen = re.findall(r"^listen:.*$", r.stdout, re.M)
    t.ok(r.returncode == 0 and mode == ["mode: relay"] and listen and
         "127.0.0.1/tcp/4001" in r.stdout and "controlSocket:" in r.stdout,
         "`%s` prints the effective configuration (the example's): exit "
         "%s, %s, %s, %d lines" % (cmd, r.returncode, mode, listen,
                                   len(r.stdout.splitlines())))


def unit_text():
    try:
        with open(dest(PREFIX + "/lib/systemd/system/peerd.service")) as f:
            return f.read()
    except OSError:
        return ""


def h_systemctl_enable(cmd):
    t.skip("`%s`" % cmd, "the test never starts a system service; the unit "
           "file is checked")
    text = unit_text()
    got = {k: re.findall(r"^%s=(.*)$" % k, text, re.M)
           for k in ("ExecStartPre", "ExecStart")}
    t.ok(got == {"ExecStartPre": [PREFIX + "/sbin/peerd -n"],
                 "ExecStart": [PREFIX + "/sbin/peerd"]} and
         "@SBINDIR@" not in text,
         "the installed unit starts the installed peerd: %s" % got)
    progs = [v.split()[0] for vs in got.values() for v in vs]
    t.ok(progs and all(os.access(dest(p), os.X_OK) for p in progs),
         "the programs the unit runs are installed: %s" % progs)
    install = text.partition("\n[Install]\n")[2].partition("\n[")[0]
    wanted = re.findall(r"^WantedBy=(.*)$", install, re.M)
    t.ok(wanted == ["multi-user.target"], "the unit has what enable needs, "
         "[Install] WantedBy=: %s" % wanted)


def h_rc_start(cmd):
    stop_running("before %s" % cmd)
    with open(S.defaults, "w") as f:
        f.write('DAEMON=%s\nPEERCTL=%s\nPEERD_OPTS="-f %s"\n'
                'PEERCTL_OPTS="-s %s"\n'
                % (os.path.join(S.sbin, "peerd"),
                   os.path.join(S.sbin, "peerctl"), S.A.s.conf, S.A.s.sock))
    if not rc_start("`%s`" % cmd):
        return
    r = rc("status")
    parent = [p["pid"] for p in status()["processes"]
              if p["name"] == "parent"]
    t.ok(r.returncode == 0 and r.stdout == "peerd is running (pid %s)\n"
         % parent[0], "init.d/peerd status says it runs, with the "
         "parent's pid %s: %s" % (parent[0], out(r)))


def h_foreground(cmd):
    stop_running("before `%s`" % cmd)
    fg_start(expand(cmd), "`%s`" % cmd)


def h_show_status(cmd):
    st = need_a(cmd)
    r = run_cmd(cmd)
    S.peer_id = st["peerId"]
    t.ok(r.returncode == 0 and "peer ID: 12D3KooW" in r.stdout,
         "`%s`: exit %s, %s" % (cmd, r.returncode,
                                re.findall(r"^peer ID: .*$", r.stdout,
                                           re.M)))
    head = re.findall(r"^peerd \S+, relay mode, up \d\d:\d\d:\d\d$",
                      r.stdout, re.M)
    t.ok(len(head) == 1, "`%s` gives version, mode and uptime: %s"
         % (cmd, r.stdout.splitlines()[:1]))
    addr = re.findall(r"^address: .*$", r.stdout, re.M)
    t.ok("address: /ip4/127.0.0.1/tcp/%d" % S.A.s.port in addr,
         "`%s` gives the addresses: %s" % (cmd, addr))
    rows = {m[0]: m[1:] for m in re.findall(
        r"^(parent|engine|keyd|stored|relayd)\s+(\d+)\s+(\S+)\s+\S+\s+"
        r"(seccomp filter|\S+)\s+(\S+)$", r.stdout, re.M)}
    roots = {"parent": "/", "engine": S.A.s.empty, "keyd": S.A.s.keys,
             "stored": S.A.s.state, "relayd": S.A.s.empty}
    pids = {p["name"]: p["pid"] for p in st["processes"]}
    for name, user in USERS.items():
        want = (str(pids.get(name)), user, "seccomp filter", roots[name])
        t.ok(rows.get(name) == want, "`%s`: %s with its pid, user, "
             "sandbox and root %s: %s" % (cmd, name, want, rows.get(name)))


def h_show_status_json(cmd):
    need_a(cmd)
    r = run_cmd(cmd)
    try:
        js = json.loads(r.stdout)
        got = (js["peerId"], sorted(p["name"] for p in js["processes"]))
    except (ValueError, KeyError, TypeError):
        got = None
    t.ok(r.returncode == 0 and got is not None and
         re.fullmatch(PEERID_RX, got[0]) and
         got[1] == sorted(USERS) and
         (S.peer_id is None or got[0] == S.peer_id),
         "`%s`: JSON with the peer ID and five processes: %s (%s)"
         % (cmd, got, out(r)[:200] if got is None else "exit %s"
            % r.returncode))


def h_empty_list(word):
    def h(cmd):
        need_a(cmd)
        r = run_cmd(cmd)
        t.ok(r.returncode == 0 and r.stdout == "no %s\n" % word,
             "`%s` before any peer is connected prints exactly \"no %s\": "
             "%s" % (cmd, word, out(r)))
    return h


def h_ping(cmd):
    need_a(cmd)
    b = need_b()
    text = re.sub(r"/ip4/\S+/p2p/12D3KooW\.\.\.", b.addr, cmd)
    argv = expand(text)
    t.ok(b.addr in argv and "192.0.2.7" not in " ".join(argv) and
         text != cmd, "the README's ping address is replaced by suite B's "
         "on 127.0.0.1: %s" % argv)
    r = run(argv)
    lines = r.stdout.splitlines()
    pongs = [ln for ln in lines
             if re.fullmatch(r"pong from %s: seq=\d+ time=[\d.]+ ms"
                             % b.peer_id, ln)]
    t.ok(r.returncode == 0 and len(pongs) == 3 and lines == pongs,
         "`%s` to B: three pongs and nothing else: %s" % (cmd, out(r)))


def h_backup(cmd):
    need_a(cmd)
    before = run(["date", "+%F"]).stdout.strip()
    argv = expand(cmd)
    path = argv[-1]
    days = {before, run(["date", "+%F"]).stdout.strip()}
    t.ok(path in [os.path.join(S.backups, "peerd-%s.mdb" % d)
                  for d in days],
         "$(date +%%F) expanded and /var/backups/ replaced: %s" % path)
    r = run(argv, timeout=120)
    size = os.path.getsize(path) if os.path.isfile(path) else None
    m = re.search(r"backup written: (\d+) bytes", r.stdout)
    t.ok(r.returncode == 0 and size and m and int(m.group(1)) == size,
         "`%s`: the file has the size it says: %s bytes, %s"
         % (cmd, size, out(r)))
    S.backup = path


def h_verify(cmd):
    need_a(cmd)
    r = run_cmd(cmd, timeout=120)
    t.ok(r.returncode == 0 and re.search(r"; 0 problems$", r.stdout, re.M),
         "`%s`: every record decodes: %s" % (cmd, out(r)))


def bans_rows(text):
    """{target: the rest of its row} of show bans."""
    rows = {}
    for line in text.splitlines()[1:]:
        if line.strip():
            target, _, rest = line.partition(" ")
            rows[target] = " ".join(rest.split())
    return rows


def h_block(cmd):
    need_a(cmd)
    r = run_cmd(cmd)
    t.ok(r.returncode == 0, "`%s`: %s" % (cmd, out(r)))


def h_show_bans(cmd):
    need_a(cmd)
    b = need_b()
    r = run_cmd(cmd)
    rows = bans_rows(r.stdout)
    net = rows.get("203.0.113.0/24", "")
    peer = rows.get(b.peer_id, "")
    t.ok(r.returncode == 0 and net.endswith(" scanning") and
         "forever" not in net and peer == "forever abuse",
         "`%s`: the network for 7 days with its reason, B's peer ID "
         "forever with its: %s" % (cmd, out(r)))


def h_unblock(cmd):
    need_a(cmd)
    b = need_b()
    r = run_cmd(cmd)
    t.ok(r.returncode == 0, "`%s`: %s" % (cmd, out(r)))
    ok, rows = wait_value(lambda: bans_rows(S.A.ctl("show", "bans").stdout),
                          lambda v: "203.0.113.0/24" not in v and
                          b.peer_id in v, timeout=10)
    t.ok(ok, "after `%s` show bans lists B's peer ID and not the network: "
         "%s" % (cmd, rows))


def h_show_peers(cmd):
    need_a(cmd)
    b = need_b()
    argv = expand(cmd)
    ok, r = wait_value(lambda: run(argv),
                       lambda v: v.returncode == 0 and b.peer_id in v.stdout,
                       timeout=20, interval=0.5)
    t.ok(ok, "`%s`: the store remembers B, %s: %s" % (cmd, b.peer_id,
                                                      out(r)))


def h_show_store(cmd):
    need_a(cmd)
    r = run_cmd(cmd)
    keys = [ln.split(":")[0] for ln in r.stdout.splitlines()]
    t.ok(r.returncode == 0 and keys == ["map", "records", "caps", "pruned",
                                        "writes", "state"],
         "`%s`: size, records, caps, pruned, write state: %s"
         % (cmd, out(r)))


def h_restore(cmd):
    argv = expand(cmd)
    readme_file = argv[-1]
    t.ok(os.path.dirname(readme_file) == S.backups,
         "/var/backups/ replaced in `%s`: %s" % (cmd, readme_file))
    if getattr(S, "backup", None) is None:
        raise RuntimeError("no backup was made before `%s`" % cmd)
    argv[-1] = S.backup
    if S.running:
        r = run(argv)
        t.ok(r.returncode == 1 and "stop peerd first" in r.stderr,
             "`%s` while the suite runs is refused (the README says stop "
             "it first): %s" % (cmd, out(r)))
    stop_running("before `%s`" % cmd)
    t.diag("running: %s" % " ".join(argv))
    r = run(argv, timeout=120)
    t.ok(r.returncode == 0 and
         "restored %s into %s/data.mdb" % (S.backup, S.A.s.state)
         in r.stdout, "`%s` with the backup made above: %s" % (cmd, out(r)))
    if not fg_start(expand("peerd -d -v"), "after `%s`" % cmd):
        return
    found = S.A.wait_log(r"the store was restored from a backup", 10)
    t.ok(len(found) == 1, "stored says it runs on the restored store: %s"
         % found)
    ok, r = wait_value(lambda: S.A.ctl("show", "bans"),
                       lambda v: v.stdout == "no bans\n", timeout=10)
    t.ok(ok, "the restored store is the backup's: the bans made after it "
         "are gone: %s" % out(r))


RELOAD_RX = r"config_reloaded file=\""


def relayd_max():
    m = re.search(r"\d+/(\d+) reservations", S.A.s.detail("relayd"))
    return int(m.group(1)) if m else None


def h_reload(cmd):
    need_a(cmd)
    S.A.s.write_conf(extra="relay:\n  reservations:\n    max: 77\n")
    r = run_cmd(cmd)
    t.ok(r.returncode == 0 and r.stdout == "configuration reloaded\n",
         "`%s` after an edit of CONF: %s" % (cmd, out(r)))
    found = S.A.wait_log(RELOAD_RX + re.escape(S.A.s.conf))
    t.ok(len(found) == 1, "the parent logs the reload: %s" % found)
    ok, v = wait_value(relayd_max, lambda v: v == 77, timeout=10)
    t.ok(ok, "relayd runs the edited reservations.max 77: %s" % v)


def h_hup(cmd):
    need_a(cmd)
    pid = parent_pid_text()
    S.A.s.write_conf(extra="relay:\n  reservations:\n    max: 55\n")
    text = cmd.replace("<parent pid>", str(pid))
    t.ok(text != cmd and S.A.s.proc is not None and pid == S.A.s.proc.pid,
         "<parent pid> is the pid of \"parent\" in show status, %d, the "
         "peerd -d -v the test started" % pid)
    r = run(["sh", "-c", text])
    t.ok(r.returncode == 0, "`%s`: %s" % (text, out(r)))
    found = S.A.wait_log(RELOAD_RX + re.escape(S.A.s.conf), count=2)
    t.ok(len(found) == 2, "the parent logs the reload once more: %s"
         % found)
    ok, v = wait_value(relayd_max, lambda v: v == 55, timeout=10)
    t.ok(ok, "relayd runs the edited reservations.max 55: %s" % v)


def h_log(level):
    def h(cmd):
        need_a(cmd)
        r = run_cmd(cmd)
        t.ok(r.returncode == 0 and level in r.stdout,
             "`%s`: %s" % (cmd, out(r)))
        found = S.A.wait_log(r"log level %s$" % level)
        t.ok(len(found) == 1, "the parent logs the new level: %s" % found)
    return h


def h_systemctl_stop(cmd):
    t.skip("`%s`" % cmd, "the test never starts a system service; the unit "
           "file is checked")


def h_rc_stop(cmd):
    if S.running != "rc":
        stop_running("before `%s`" % cmd)
        if not rc_start("before `%s`" % cmd):
            return
    rc_stop("`%s`" % cmd)


def h_term(cmd):
    if S.running != "fg":
        stop_running("before `%s`" % cmd)
        if not fg_start(expand("peerd -d -v"), "before `%s`" % cmd):
            return
    pid = parent_pid_text()
    pids = S.pids
    text = cmd.replace("<parent pid>", str(pid))
    t.ok(text != cmd and pid == S.A.s.proc.pid,
         "<parent pid> is the pid of \"parent\" in show status, %d, the "
         "peerd -d -v the test started" % pid)
    r = run(["sh", "-c", text])
    t.ok(r.returncode == 0, "`%s`: %s" % (text, out(r)))
    try:
        code = S.A.s.proc.wait(20)
    except subprocess.TimeoutExpired:
        code = None
    t.ok(code == 0, "`%s`: the parent exits 0 within 20 s: exit %s"
         % (text, code))
    ok, left = wait_value(lambda: ours(pids), lambda v: not v, timeout=20)
    t.ok(ok, "`%s`: nothing of the suite is left (of %s): %s"
         % (text, pids, left))
    S.running = None


HANDLERS = [
    (r"sh etc/bootstrap", h_bootstrap),
    (r"ninja -C build install", h_install),
    (r"peerd-setup", h_setup),
    (r"cp /usr/local/share/doc/peerd/examples/peerd\.conf\.example "
     r"/etc/peerd\.conf", h_cp),
    (r"peerd -n", h_check),
    (r"peerd -nv", h_check_verbose),
    (r"systemctl enable --now peerd", h_systemctl_enable),
    (r"/usr/local/etc/init\.d/peerd start", h_rc_start),
    (r"peerd -d -v", h_foreground),
    (r"peerctl show status", h_show_status),
    (r"peerctl -j show status", h_show_status_json),
    (r"peerctl show connections", h_empty_list("connections")),
    (r"peerctl show reservations", h_empty_list("reservations")),
    (r"peerctl show circuits", h_empty_list("circuits")),
    (r"peerctl ping /ip4/[\d.]+/tcp/\d+/p2p/12D3KooW\.\.\. -c 3", h_ping),
    (r"peerctl backup /var/backups/peerd-\$\(date \+%F\)\.mdb", h_backup),
    (r"peerctl verify", h_verify),
    (r"peerctl block 203\.0\.113\.0/24 7d scanning", h_block),
    (r"peerctl block 12D3KooW\.\.\. abuse", h_block),
    (r"peerctl show bans", h_show_bans),
    (r"peerctl unblock 203\.0\.113\.0/24", h_unblock),
    (r"peerctl show peers", h_show_peers),
    (r"peerctl show store", h_show_store),
    (r"peerd -r /var/backups/peerd-[\d-]+\.mdb", h_restore),
    (r"peerctl reload", h_reload),
    (r"kill -HUP <parent pid>", h_hup),
    (r"peerctl log verbose", h_log("verbose")),
    (r"peerctl log brief", h_log("brief")),
    (r"systemctl stop peerd", h_systemctl_stop),
    (r"/usr/local/etc/init\.d/peerd stop", h_rc_stop),
    (r"kill -TERM <parent pid>", h_term),
]


# --- main -------------------------------------------------------------------

def cleanup():
    """Stop every suite, and kill what the rc script daemonized (by the
    pids recorded, and anything else running a program of the
    DESTDIR)."""
    Suite.cleanup_all()
    if getattr(S, "dest", None):
        for pid in sorted(set(ours(S.rc_pids)) | set(dest_procs())):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        ok, left = wait_value(dest_procs, lambda v: not v, timeout=10)
        t.ok(ok, "no process of the DESTDIR is left: %s" % left)


def main():
    exit_on_signals()
    need_root(t, "the README test")
    S.base = os.path.realpath(temp_base("peerd-readme-"))
    S.dest = os.path.join(S.base, "dest")
    S.sbin = S.dest + PREFIX + "/sbin"
    S.backups = os.path.join(S.base, "backups")
    S.defaults = os.path.join(S.base, "default-peerd")
    S.rc_pids = set()
    S.pids = []
    S.running = None
    S.conf_written = False
    S.peer_id = None
    S.backup = None
    S.B = None
    os.makedirs(S.backups)
    S.A = Node(t, "A", S.sbin, os.path.join(S.base, "a"))
    try:
        S.body, S.pages = section_lines()
        cmds = commands(S.body)
        t.ok(len(cmds) > 0, "the README has the section \"%s\" with "
             "commands: %d" % (SECTION, len(cmds)))
        plan, used = [], [0] * len(HANDLERS)
        for cmd in cmds:
            hits = [i for i, (rx, _) in enumerate(HANDLERS)
                    if re.fullmatch(rx, cmd)]
            if t.ok(len(hits) == 1, "README command `%s` has a check in "
                    "readme.py (%d match)" % (cmd, len(hits))):
                used[hits[0]] += 1
                plan.append((cmd, HANDLERS[hits[0]][1]))
        for (rx, _), n in zip(HANDLERS, used):
            t.ok(n > 0, "readme.py's check /%s/ has its README command "
                 "(%d)" % (rx, n))
        for cmd, fn in plan:
            t.diag("README: %s" % cmd)
            try:
                fn(cmd)
            except Exception:
                t.ok(False, "the check of `%s` ran to the end without an "
                     "exception" % cmd)
                t.diag(traceback.format_exc())
                if S.A.s.proc is not None:
                    S.A.show()
    finally:
        try:
            cleanup()
            nothing_left(t)
        finally:
            shutil.rmtree(S.base, ignore_errors=True)
    sys.exit(t.done())


if __name__ == "__main__":
    main()
