"""
Helpers for tests that run the suite: a TAP writer, and a Suite that
starts peerd -d as root (or as nobody) in a temporary directory on
127.0.0.1 with random ports, and always cleans up after itself; a Node,
one of several named suites a test asks through peerctl; what the main()
of a test does.
"""
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import shutil
import sys
import tempfile
import threading
import time
import traceback


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name):
        self.n += 1
        cond = bool(cond)
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n,
                              name.replace("\n", " ")), flush=True)
        if not cond:
            self.failed += 1
        return cond

    def skip(self, name, reason):
        """A check that could not run: counted, never as a pass."""
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name.replace("\n", " "),
                                       reason.replace("\n", " ")),
              flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def wait_for(fn, timeout=20.0, interval=0.1):
    """Poll fn until it returns true or timeout seconds pass."""
    end = time.monotonic() + timeout
    while True:
        try:
            if fn():
                return True
        except Exception:
            pass
        if time.monotonic() >= end:
            return False
        time.sleep(interval)


def wait_value(fn, pred, timeout=20.0, interval=0.1):
    """Poll fn until pred accepts what it returns or timeout seconds
    pass: (accepted, the last value fn returned).  A check reports that
    value, the one it judged, never a second read."""
    seen = [None]

    def check():
        seen[0] = fn()
        return pred(seen[0])
    ok = wait_for(check, timeout, interval)
    return ok, seen[0]


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def pids_alive(pids):
    alive = []
    for pid in pids:
        st = proc_status(pid).get("State", "")
        alive.append(st != "" and not st.startswith("Z"))
    return alive


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# a configuration part: every log line, none held back by the rate limit
LOG_ALL = "log:\n  rateLimit: 0\n"


def http_request(addr, method, path, headers=(), timeout=10):
    """One HTTP/1.1 request written by hand to addr (host, port), so that
    what is sent is what the check says: (code, headers dict, body), or
    (None, {}, why)."""
    req = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" \
        % (method, path)
    for h in headers:
        req += h + "\r\n"
    req += "\r\n"
    try:
        with socket.create_connection(addr, timeout=timeout) as c:
            c.sendall(req.encode())
            data = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                data += b
    except OSError as e:
        return None, {}, str(e)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        code = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, {}, repr(data[:200])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return code, hdrs, body.decode("utf-8", "replace")


def b58encode(b):
    """Base58btc, as peer IDs are written."""
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s


def b58decode(s):
    n = 0
    for ch in s:
        n = n * 58 + B58.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + body


def yaml(d, indent=0):
    """The lines of a config from nested dicts; None values are left
    out, lists are written inline."""
    out = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out.append("%s%s:" % (" " * indent, k))
            out += yaml(v, indent + 2)
        elif isinstance(v, (list, tuple)):
            out.append("%s%s: [%s]" % (" " * indent, k,
                                       ", ".join('"%s"' % x for x in v)))
        else:
            out.append("%s%s: %s" % (" " * indent, k, v))
    return out


def session_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[3])


class Suite:
    instances = []
    sessions = set()

    def __init__(self, build, base, unprivileged=False):
        self.build = build
        self.base = os.path.realpath(base) if os.path.exists(base) else base
        self.peerd = os.path.join(build, "peerd")
        self.peerctl = os.path.join(build, "peerctl")
        self.keyd = os.path.join(build, "keyd")
        self.unprivileged = unprivileged
        self.state = os.path.join(base, "state")
        self.keys = os.path.join(base, "keys")
        self.empty = os.path.join(base, "empty")
        self.sock = os.path.join(base, "ctl.sock")
        self.rosock = os.path.join(base, "ro.sock")
        self.conf = os.path.join(base, "peerd.conf")
        self.logfile = os.path.join(base, "peerd.log")
        self.port = free_port()
        self.admin_port = free_port()
        self.proc = None
        self.started = False
        Suite.instances.append(self)

    def prepare(self):
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o755)
        self.base = os.path.realpath(self.base)
        if self.unprivileged:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.base, nobody.pw_uid, nobody.pw_gid)
        if not os.path.exists(self.conf):
            self.write_conf()

    def write_conf(self, extra="", state=None, user=None, listen=None):
        listen = listen or ["/ip4/127.0.0.1/tcp/%d" % self.port]
        lines = [
            'listen: [%s]' % ", ".join('"%s"' % a for a in listen),
            'stateDir: "%s"' % (state or self.state),
            'keyDir: "%s"' % self.keys,
            'emptyDir: "%s"' % self.empty,
            'controlSocket: "%s"' % self.sock,
            'controlSocketReadonly: "%s"' % self.rosock,
            'admin:',
            '  listen: "127.0.0.1:%d"' % self.admin_port,
        ]
        if user:
            lines.append('user: "%s"' % user)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)
        os.chmod(self.conf, 0o644)

    def launch(self, args=()):
        log = open(self.logfile, "ab")
        pre = None
        if self.unprivileged:
            nobody = pwd.getpwnam("nobody")

            def pre():
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
        self.proc = subprocess.Popen(
            [self.peerd, "-d", "-v", "-f", self.conf] + list(args),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=pre)
        Suite.sessions.add(self.proc.pid)
        log.close()
        return self.proc

    def start(self, args=()):
        self.prepare()
        self.launch(args)
        self.started = wait_for(self._ready, timeout=30)
        return self.started

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("peerd exited")
        st = self.status_json()
        return st["peerId"] != "" and len(st["processes"]) == 5

    def wait_ready(self, timeout=30):
        """Wait until peerd, launched, answers status; False as soon as
        it exits."""
        p = self.proc
        return wait_for(lambda: p.poll() is not None or self._ready(),
                        timeout=timeout) and p.poll() is None

    def ctl(self, *args, timeout=30, sock=None):
        return subprocess.run([self.peerctl, "-s", sock or self.sock] +
                              list(args), capture_output=True, text=True,
                              timeout=timeout)

    def status_json(self):
        r = self.ctl("-j", "show", "status")
        return json.loads(r.stdout)

    def detail(self, name):
        for p in self.status_json()["processes"]:
            if p["name"] == name:
                return p["detail"]
        return ""

    def pids(self):
        return sorted(p["pid"] for p in self.status_json()["processes"])

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, alone=False):
        """Stop peerd and kill what is left in the sessions of every
        Suite, or with alone=True only in this one's, so that other
        suites keep running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        if alone and self.proc is None:
            return
        for pid in Suite.leftovers({self.proc.pid} if alone else None):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    @staticmethod
    def leftovers(sessions=None):
        """Live processes in any session a Suite started, or in the
        given ones."""
        found = []
        if sessions is None:
            sessions = Suite.sessions
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            st = proc_status(int(d)).get("State", "")
            if session_of(int(d)) in sessions and \
                    not st.startswith("Z"):
                found.append(int(d))
        return found

    @classmethod
    def cleanup_all(cls):
        for s in cls.instances:
            s.stop()


class Node:
    """A Suite with a name, started and stopped alone (the other suites
    keep running), and asked through peerctl.  A test sets how long
    wait_log waits, how many lines of log show gives and which it leaves
    out, and peerctl's timeout."""
    wait = 20
    tail = 30
    noise = ()
    ctl_timeout = 20
    conf = ""
    made = 0

    @staticmethod
    def numbered(base, name):
        """A directory under base for the next node called name: name-N,
        N counting the nodes this test made."""
        Node.made += 1
        return os.path.join(base, "%s-%d" % (name, Node.made))

    def __init__(self, t, name, build, base):
        self.t = t
        self.name = name
        self.s = Suite(build, base)
        self.peer_id = None
        self.mark = 0

    @property
    def addr(self):
        if self.peer_id is None:
            return None
        return "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (self.s.port, self.peer_id)

    def launch(self):
        self.s.launch()

    def start(self, listen=None):
        """Write self.conf (listen: the Suite's TCP port if None),
        launch, and check that it comes up."""
        self.s.prepare()
        self.s.write_conf(self.conf, listen=listen)
        self.launch()
        what = "peerd %s starts" % self.name
        if listen is not None:
            what += ", listening on %s" % listen
        return self.up(what)

    def up(self, what, ok=None):
        """Check what: peerd, launched, answers status (or ok says so);
        then its peer ID is known."""
        if ok is None:
            ok = self.s.wait_ready()
        if not self.t.ok(ok, what):
            self.show()
            return False
        self.peer_id = self.s.status_json()["peerId"]
        self.t.diag("peerd %s is %s" % (self.name, self.addr))
        return True

    def running(self):
        return self.s.proc is not None and self.s.proc.poll() is None

    def stop(self):
        self.s.stop(alone=True)

    def ctl(self, *args, sock=None, timeout=None):
        """peerctl on the control socket, or on sock; exit status None
        when it times out."""
        timeout = timeout or self.ctl_timeout
        try:
            return self.s.ctl(*args, timeout=timeout, sock=sock)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(
                args, None, "", "peerctl did not finish in %d s" % timeout)

    def json(self, *args, key=None, sock=None):
        """What peerctl -j ARGS says (its member key), or None."""
        r = self.ctl("-j", *args, sock=sock)
        if r.returncode != 0:
            self.t.diag("peerd %s: peerctl -j %s: exit %s %s"
                        % (self.name, " ".join(args), r.returncode,
                           (r.stdout + r.stderr).strip()))
            return None
        try:
            d = json.loads(r.stdout)
            return d if key is None else d[key]
        except (ValueError, KeyError, TypeError):
            return None

    def engine_count(self, what):
        """A count in the engine's line of show status ("accepted",
        "refused"), or None."""
        for p in (self.json("show", "status") or {}).get("processes", []):
            m = re.search(r"(\d+) %s" % what, p["detail"])
            if p["name"] == "engine" and m:
                return int(m.group(1))
        return None

    def since(self):
        """The log from mark on: all of it unless the test moves mark."""
        return self.s.log()[self.mark:]

    def log_lines(self, pattern):
        rx = re.compile(pattern)
        return [ln for ln in self.since().splitlines() if rx.search(ln)]

    def wait_log(self, pattern, timeout=None, count=1):
        """The log lines that match, once there are count of them or
        timeout seconds passed."""
        found = []

        def check():
            found[:] = self.log_lines(pattern)
            return len(found) >= count
        wait_for(check, timeout=self.wait if timeout is None else timeout)
        return found

    def show(self, n=None):
        self.t.diag("peerd %s log (tail):" % self.name)
        lines = [ln for ln in self.s.log().strip().splitlines()
                 if not any(x in ln for x in self.noise)]
        for line in lines[-(n or self.tail):]:
            self.t.diag("  " + line)


# --- what the main() of a test does ------------------------------------

def exit_on_signals():
    """SIGTERM and SIGHUP end the test through its finally clauses."""
    def on_signal(signum, frame):
        raise SystemExit("%s: signal %d"
                         % (os.path.basename(sys.argv[0]), signum))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)


def check_args(doc, checks):
    """BUILDDIR (made absolute) and the checks named after it (all by
    default); the usage and exit 2 when the arguments are wrong.  checks
    is a string, each character the name of a check, and the checks come
    back as a string; or a list of names, some longer than a character
    ("10"), and they come back as a list: an argument may run names
    together, the longest name that fits is taken first ("110" is 1 and
    10)."""
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(doc.strip(), file=sys.stderr)
        sys.exit(2)
    if isinstance(checks, str):
        which = "".join(args[1:]) or checks
        if set(which) - set(checks):
            print(doc.strip(), file=sys.stderr)
            sys.exit(2)
        return os.path.abspath(args[0]), which
    names = sorted(checks, key=len, reverse=True)
    which = []
    for arg in args[1:]:
        while arg:
            name = next((n for n in names if arg.startswith(n)), None)
            if name is None:
                print(doc.strip(), file=sys.stderr)
                sys.exit(2)
            which.append(name)
            arg = arg[len(name):]
    return os.path.abspath(args[0]), which or list(checks)


def need_root(t, what):
    """Root, or a failed check and the end of the test."""
    if os.geteuid() != 0:
        t.ok(False, "%s must run as root" % what)
        sys.exit(t.done())


def need_users(t):
    """The users of etc/peerd-setup, or a failed check and the end of
    the test."""
    for u in ("_peerd", "_peerkey"):
        try:
            pwd.getpwnam(u)
        except KeyError:
            t.ok(False, "user %s exists (run etc/peerd-setup)" % u)
            sys.exit(t.done())


def temp_base(prefix):
    """A new temporary directory for the suites of a test, that their
    users can enter."""
    base = tempfile.mkdtemp(prefix=prefix)
    os.chmod(base, 0o755)
    return base


def run_check(t, name, fn):
    """fn(); an exception in it is a failed check, with its traceback."""
    try:
        fn()
    except Exception:
        t.ok(False, "check %s ran to the end without an exception" % name)
        t.diag(traceback.format_exc())


def end(t, procs, base):
    """The end of a test: procs killed, every Suite stopped, the check
    that nothing is left running, base removed; the TAP exit status."""
    for p in procs:
        kill(p)
    Suite.cleanup_all()
    nothing_left(t, procs)
    shutil.rmtree(base, ignore_errors=True)
    return t.done()


def nothing_left(t, procs=()):
    """The last check: none of procs, nor anything a Suite started,
    still runs."""
    left = [p.pid for p in procs if p.poll() is None] + Suite.leftovers()
    return t.ok(not left, "nothing left running: %s" % left)


def held_by(uid, path, n, hold=20, settle=1.0):
    """A process of uid that connects n clients to the UNIX socket path
    and holds them hold seconds; how many the engine left open after
    settle seconds (shorter than any idle timeout under test), read
    through a pipe, and the process (end it with reap)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            socks = []
            for _ in range(n):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(path)
                socks.append(c)
            time.sleep(settle)
            left = 0
            for c in socks:
                c.setblocking(False)
                try:
                    left += c.recv(1) != b""
                except BlockingIOError:
                    left += 1
                except OSError:
                    pass
            os.write(w, b"%d\n" % left)
            time.sleep(hold)
        except Exception:
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        line = f.readline().strip()
    return (int(line) if line.isdigit() else None), pid


def reap(pid):
    """Kill a process of held_by and wait for it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


# --- resident memory ----------------------------------------------------

# peerd(8): what the engine stays under at the default budgets, under the
# attacks of regress/fault.py and the storms of the other fault tests
MEM_BOUND = 64 * 1024 * 1024


def rss(pid):
    """Resident memory of pid in bytes, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def sanitized(pid):
    """Whether pid runs with AddressSanitizer, whose quarantine keeps
    freed memory resident: its size then says nothing of peerd's."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


class MemWatch:
    """The most resident memory a process had while watched, sampled
    every 50 ms from start to stop()."""

    def __init__(self, pid):
        self.pid = pid
        self.most = 0
        self.asan = sanitized(pid)
        self.done = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.done.is_set():
            v = rss(self.pid)
            if v is None:
                return
            self.most = max(self.most, v)
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.th.join(5)
        return self.most

    def check(self, t, what):
        """A check that the most stayed within MEM_BOUND; a skip under
        AddressSanitizer."""
        most = self.stop()
        name = "%s: the engine's resident memory stayed within %d MiB" % (
            what, MEM_BOUND >> 20)
        if self.asan:
            t.skip(name, "AddressSanitizer keeps freed memory (%.1f MiB)"
                   % (most / 1048576.0))
            return True
        return t.ok(0 < most <= MEM_BOUND, "%s: at most %.1f MiB"
                    % (name, most / 1048576.0))


MEM_CHUNK = 1 << 20
MEM_REGION_MAX = 1 << 32	# larger: a sanitizer's shadow, never data


def mem_find(pid, needles):
    """Where each needle is in the memory of pid, every mapping read in
    pieces through /proc/PID/mem as root (the guarded pages too): a dict
    of needle to a list of (address, permissions, name); None when the
    process cannot be read."""
    hits = {n: [] for n in needles}
    over = max(len(n) for n in needles) - 1
    try:
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read().splitlines()
        fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
    except OSError:
        return None
    try:
        for ln in maps:
            parts = ln.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            if name in ("[vvar]", "[vvar_vclock]", "[vsyscall]") or \
                    hi - lo > MEM_REGION_MAX:
                continue
            for at in range(lo, hi, MEM_CHUNK):
                try:
                    data = os.pread(fd, min(MEM_CHUNK + over, hi - at), at)
                except OSError:
                    continue
                for n in needles:
                    i = data.find(n)
                    while i != -1 and i < MEM_CHUNK:
                        hits[n].append((hex(at + i), parts[1], name))
                        i = data.find(n, i + 1)
    finally:
        os.close(fd)
    return hits


def engine_pid(s):
    """The engine's process ID, from show status."""
    for p in s.status_json()["processes"]:
        if p["name"] == "engine":
            return p["pid"]
    return None


# --- helpers for the tests that run js-libp2p (regress/interop) -------

JSDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop")
# node.mjs of JSDIR: what most js processes of the tests run
NODE = ["node", "--import", "./polyfill.mjs", "node.mjs"]


def parse_events(text):
    """The JSON objects of a js script's output, one a line."""
    events = []
    for line in text.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict):
            events.append(ev)
    return events


def kill(p):
    """Kill a process started in its own session, and reap it."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        pass


class EventReader:
    """The JSON events a process prints on stdout, collected as they
    come, each stamped with the monotonic time it arrived ("_t")."""

    def __init__(self, p):
        self.p = p
        self.events = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            for ev in parse_events(line):
                ev["_t"] = time.monotonic()
                with self.lock:
                    self.events.append(ev)

    def all(self, name):
        with self.lock:
            return [e for e in self.events if e.get("event") == name]

    def find(self, pred):
        with self.lock:
            for ev in self.events:
                if pred(ev):
                    return ev
        return None

    def wait(self, pred, timeout=20):
        """The first event pred accepts, waiting up to timeout seconds
        but not past the process's end; None if none came."""
        found = []

        def check():
            ev = self.find(pred)
            if ev is not None:
                found.append(ev)
                return True
            return self.p.poll() is not None
        wait_for(check, timeout=timeout)
        if not found:
            # one last look: the process may have printed it and exited
            ev = self.find(pred)
            if ev is not None:
                found.append(ev)
        return found[0] if found else None

    def event(self, name, timeout=20, **match):
        return self.wait(lambda e: e.get("event") == name and
                         all(e.get(k) == v for k, v in match.items()),
                         timeout)


def stop_proc(p, wait=5):
    """Close p's stdin (a js script's sign to stop), give it wait
    seconds to end, then kill it."""
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        p.wait(wait)
    except subprocess.TimeoutExpired:
        pass
    kill(p)


def show_js(t, name, status, events, stderr):
    """A js process's exit status, events and last stderr lines, as TAP
    diagnostics each headed by name."""
    t.diag("%s: exit status %s" % (name, status))
    for e in events:
        e = {k: v for k, v in e.items() if k != "_t"}
        t.diag("%s: %s" % (name, json.dumps(e)[:800]))
    for line in stderr.strip().splitlines()[-15:]:
        t.diag("%s stderr: %s" % (name, line))


def js_spawn(procs, argv, env=None, cwd=JSDIR, **kw):
    """argv started in cwd in a session of its own, added to procs."""
    p = subprocess.Popen(list(argv), cwd=cwd, env=env, text=True,
                         start_new_session=True, **kw)
    procs.append(p)
    return p


def js_run(procs, argv, env=None, timeout=90, cwd=JSDIR):
    """argv run to its end, or killed after timeout seconds: (exit
    status, None when killed; stdout; stderr)."""
    p = js_spawn(procs, argv, env, cwd, stdin=subprocess.DEVNULL,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        kill(p)
        out, err = p.communicate()
        return None, out, err + "\n%s: killed after %d s" % (
            os.path.basename(sys.argv[0]), timeout)


class JsResult:
    """What a js script that ran to its end (js_run) printed."""

    def __init__(self, t, name, run):
        self.t = t
        self.name = name
        self.rc, out, self.stderr = run
        self.events = parse_events(out)

    def all(self, name):
        return [e for e in self.events if e.get("event") == name]

    def last(self, name):
        ev = self.all(name)
        return ev[-1] if ev else {}

    def error(self):
        """What went wrong, as js said it."""
        return self.last("error").get("error") or \
            (self.stderr.strip().splitlines() or [""])[-1]

    def show(self):
        show_js(self.t, self.name, self.rc, self.events, self.stderr)


class JsProc(EventReader):
    """A long-running js script, node.mjs args unless argv says another
    command line, whose events are collected as they come: its stdin a
    pipe (closing it stops the script, stop() waits wait seconds for
    that), its stderr in a file of errdir, shown as name."""

    def __init__(self, t, procs, args, env, errdir, name=None, argv=None,
                 cwd=JSDIR, wait=5):
        self.t = t
        self.args = args
        self.name = name or "js " + args[0]
        self.stop_wait = wait
        self.errpath = os.path.join(errdir, "%s-%d.err" % (
            self.name.replace(" ", "-"), len(procs)))
        self.err = open(self.errpath, "w")
        EventReader.__init__(self, js_spawn(
            procs, argv or NODE + list(args), env, cwd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err))

    def send(self, line):
        """A line to its stdin; a process that is gone gets nothing
        (the wait for its answer ends with it)."""
        try:
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
        except OSError:
            pass

    def show(self):
        try:
            with open(self.errpath, errors="replace") as f:
                err = f.read()
        except OSError:
            err = ""
        with self.lock:
            events = self.events[-30:]
        show_js(self.t, self.name, self.p.poll(), events, err)

    def stop(self):
        stop_proc(self.p, self.stop_wait)
        self.err.close()


def js_pings(t, addr, count, what):
    """A check that a js-libp2p node (node.mjs) dials addr and gets
    count pings back; its output in diagnostics when not."""
    rc, out, err = js_run([], NODE + ["ping", addr, str(count)],
                          timeout=120)
    pings = [e for e in parse_events(out)
             if e.get("event") == "ping" and "rtt" in e]
    good = t.ok(rc == 0 and len(pings) == count,
                "%s: a js-libp2p peer dials and pings peerd: exit %s, %d of "
                "%d pings" % (what, rc, len(pings), count))
    if not good:
        for line in (out + err).strip().splitlines()[-10:]:
            t.diag("js: " + line)
    return good


def node_major():
    """The major version of the node on the PATH, or None."""
    try:
        r = subprocess.run(["node", "--version"], capture_output=True,
                           text=True, timeout=30)
        return int(r.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def js_skip_reason(modules=True):
    """Why the js-libp2p tests cannot run here, or None: etc/bootstrap
    says why in PEERD_JS_SKIP; otherwise a node of 20 or later and, with
    modules, regress/interop/node_modules (npm ci) are needed.  The tests
    never run npm themselves: the set-up does it once per test run."""
    why = os.environ.get("PEERD_JS_SKIP")
    if why:
        return why
    major = node_major()
    if major is None:
        return "no node on the PATH (sh etc/bootstrap test installs one)"
    if major < 20:
        return "node %d on the PATH; js-libp2p 3 needs 20 or later " \
            "(sh etc/bootstrap test installs one)" % major
    if modules and not os.path.isdir(os.path.join(JSDIR, "node_modules")):
        return "regress/interop/node_modules is missing: run npm ci there " \
            "(sh etc/bootstrap test does)"
    return None


# regress/interop2: js-libp2p 2.x with @chainsafe/libp2p-gossipsub 14;
# its gossip.mjs runs on 3.x too, from regress/interop, with GOSSIP3_ENV
JS2DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop2")
GOSSIP = ["node", "--import", "./polyfill.mjs", "gossip.mjs"]
GOSSIP3_ENV = {"GOSSIP_MODULES": "../interop"}


def js2_skip_reason():
    """Why gossip.mjs cannot run on both releases here, or None."""
    why = js_skip_reason() or os.environ.get("PEERD_JS2_SKIP")
    if why:
        return why
    if not os.path.isdir(os.path.join(JS2DIR, "node_modules")):
        return "regress/interop2/node_modules is missing: run npm ci " \
            "there (sh etc/bootstrap test does)"
    return None


def js_ready(t, what, modules=True):
    """True when the js tests can run; otherwise one skipped check
    named what, with the reason."""
    why = js_skip_reason(modules)
    if why is None:
        return True
    t.skip(what, why)
    return False
