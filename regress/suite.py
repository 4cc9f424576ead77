"""
Helpers for tests that run the suite: a TAP writer, and a Suite that
starts peerd -d as root (or as nobody) in a temporary directory on
127.0.0.1 with random ports, and always cleans up after itself.
"""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time


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

    def ctl(self, *args, timeout=30):
        return subprocess.run([self.peerctl, "-s", self.sock] + list(args),
                              capture_output=True, text=True,
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


# --- helpers for the tests that run js-libp2p (regress/interop) -------

JSDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop")


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


def ensure_node_modules(t):
    """node and npm are there, and js-libp2p is installed (npm ci)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            t.ok(False, "%s is installed" % tool)
            return False
    if os.path.isdir(os.path.join(JSDIR, "node_modules")):
        return True
    try:
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                           cwd=JSDIR, capture_output=True, text=True,
                           timeout=600)
        rc, out = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = None, "npm ci timed out after 600 s\n%s" % (e.output or "")
    if not t.ok(rc == 0, "npm ci in regress/interop"):
        for line in out.strip().splitlines()[-40:]:
            t.diag("npm: " + line)
        return False
    t.diag("npm ci installed regress/interop/node_modules")
    return True
