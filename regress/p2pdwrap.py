#!/usr/bin/env python3
"""p2pd-wrapper: peerd-p2pd(8), p2pd's command line in front of peerd.

  a  every flag peerd cannot honour exits 1 with one stderr line that
     holds "unsupported" and the flag, prints nothing, starts nothing and
     leaves no directory; bad values and unknown flags are clear errors
     (exit 1, or 2 with the usage as Go's flag package); -h is the usage
  k  -id: the RSA, secp256k1 and ECDSA keys of the peer-ids spec and of
     @libp2p/interop are "unsupported"; malformed keys are errors
  s  with a stub peerd beside a copy of the wrapper (privsep finds
     siblings by the program's own directory): the configuration it is
     given, the key file installed, p2pd's ready lines formatted from the
     stub's IDENTIFY answer, -q; SIGTERM stops the stub and leaves no
     process, no directory and no socket; a peerd that exits first gives
     its status; one that never answers is given up after 20 s
  l  peerd listening on /tcp/0 (what p2pd's harnesses pass) announces
     the port it was given, one that accepts connections
  r  with peerd itself, seen through peerctl: keyd loads the -id key,
     mode peer, the relay service on with -relay and off without, the
     printed addresses are peerd's; SIGTERM leaves nothing
  p  with peerd itself (skipped if peerd has no daemon API):
     the spec's Ed25519 key gives the spec's peer ID, -noListenAddrs no
     address, -hostAddrs the loopback port peerd listens on; SIGTERM
     leaves no process and no directory

Speaks TAP.  Usage: p2pdwrap.py BUILDDIR [akslrp]"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite import (TAP, Suite, b58encode, check_args,  # noqa: E402
                   exit_on_signals, free_port, wait_for, wait_value)

# libp2p/specs peer-ids/peer-ids.md, "Test vectors"
SPEC_ED25519 = bytes.fromhex(
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da6"
    "0fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fc"
    "e27e")
SPEC_ED25519_PUB = bytes.fromhex(
    "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474"
    "fce27e")
SPEC_SECP256K1 = bytes.fromhex(
    "0802122053DADF1D5A164D6B4ACDB15E24AA4C5B1D3461BDBD42ABEDB0A4404D56"
    "CED8FB")
SPEC_ECDSA = bytes.fromhex(
    "08031279307702010104203E5B1FE9712E6C314942A750BD67485DE3C1EFE85B1B"
    "FB520AE8F9AE3DFA4A4CA00A06082A8648CE3D030107A14403420004DE3D300FA3"
    "6AE0E8F5D530899D83ABAB44ABF3161F162A4BC901D8E6ECDA020E8B6D5F8DA305"
    "25E71D6851510C098E5C47C646A597FB4DCEC034E9F77C409E62")
# identity multihash of the public key: the peer ID, as the spec derives it
SPEC_PEERID = b58encode(bytes([0, len(SPEC_ED25519_PUB)]) + SPEC_ED25519_PUB)
INTEROP_KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "daemon", "node_modules", "@libp2p", "interop",
                            "dist", "src", "resources", "keys")

REFUSED = [
    ("-tls=true", "-tls"), ("-tls", "-tls"), ("-plaintext=true", "-plaintext"),
    ("-noise=false", "-noise"), ("-muxer=mplex", "-muxer"),
    ("-dht", "-dht"), ("-dhtClient", "-dhtClient"),
    ("-dhtServer", "-dhtServer"), ("-b", "-b"), ("-autoRelay", "-autoRelay"),
    ("-natPortMap", "-natPortMap"), ("-autonat", "-autonat"),
    ("-forceReachabilityPublic", "-forceReachabilityPublic"),
    ("-forceReachabilityPrivate", "-forceReachabilityPrivate"),
    ("-echo", "-echo"), ("-pubsubSign=false", "-pubsubSign"),
    ("-pubsubSignStrict=false", "-pubsubSignStrict"),
    ("-gossipsubHeartbeatInitialDelay=1s", "-gossipsubHeartbeatInitialDelay"),
    ("-metricsAddr=127.0.0.1:9090", "-metricsAddr"),
    ("-f=/etc/p2pd.json", "-f"), ("-i", "-i"), ("-pprof", "-pprof"),
    ("-hostAddrs=/ip4/127.0.0.1/udp/0/quic-v1", "-hostAddrs"),
    ("-hostAddrs=/ip4/127.0.0.1/udp/0/quic-v1/webtransport", "-hostAddrs"),
    ("-hostAddrs=/ip4/127.0.0.1/udp/0/webrtc-direct", "-hostAddrs"),
    ("-hostAddrs=/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0/wss",
     "-hostAddrs"),
    ("-listen=/ip4/192.0.2.1/tcp/5000", "-listen"),
    ("-connManager -connLo=10", "-connLo"),
    ("-connManager -connGrace=10s", "-connGrace"),
]
# (arguments, exit status, what the line must name)
BAD = [
    ("-connHi=many", 2, "-connHi"), ("-relay=maybe", 2, "-relay"),
    ("-connGrace=10", 2, "-connGrace"), ("-listen", 2, "-listen"),
    ("-nosuchflag", 2, "-nosuchflag"), ("---tls", 2, "---tls"),
    ("stray", 2, "stray"), ("-muxer=quic", 1, "-muxer"),
    ("-pubsubRouter=randomsub", 1, "-pubsubRouter"),
    ("-hostAddrs=/dns4/localhost/tcp/1", 1, "-hostAddrs"),
    ("-hostAddrs=127.0.0.1:4001", 1, "-hostAddrs"),
    ("-listen=/ip4/127.0.0.1/udp/5", 1, "-listen"),
    ("-connManager -connHi=0", 1, "-connHi"),
    ("-gossipsubHeartbeatInterval=10ms", 1, "-gossipsubHeartbeatInterval"),
    ("-announceAddrs=nonsense", 1, "-announceAddrs"),
]

STUB = r'''#!/usr/bin/env python3
# a stand-in for peerd: serves IDENTIFY on daemonApi.listen, keeps what
# it was given in MARK.*
import os, re, shutil, signal, socket, sys
MARK = %(mark)r
conf = sys.argv[sys.argv.index("-f") + 1]
d = os.path.dirname(conf)
shutil.copy(conf, MARK + ".conf")
if os.path.exists(d + "/keys/identity.key"):
    st = os.stat(d + "/keys")
    kst = os.stat(d + "/keys/identity.key")
    with open(d + "/keys/identity.key", "rb") as f, \
            open(MARK + ".key", "w") as o:
        o.write("%%s %%o %%d %%o %%d\n" %% (f.read().hex(),
                kst.st_mode & 0o7777, kst.st_uid, st.st_mode & 0o7777,
                st.st_uid))
with open(MARK + ".argv", "w") as f:
    f.write(" ".join(sys.argv[1:]) + "\n%%d\n" %% os.getpid())
mode = %(mode)r
if mode.startswith("exit"):
    sys.exit(int(mode[4:]))
api = re.search(r'daemonApi:\n  listen: "([^"]*)"', open(conf).read())
api = api.group(1)
def term(*a):
    with open(MARK + ".term", "w") as f:
        f.write("1\n")
    if api.startswith("/unix/"):
        os.unlink(api[5:])
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
if api.startswith("/unix/"):
    s = socket.socket(socket.AF_UNIX)
    s.bind(api[5:])
else:
    s = socket.socket()
    s.bind(("127.0.0.1", int(api.split("/")[4])))
s.listen(8)
pid = bytes.fromhex(%(peerid)r)
addr = bytes.fromhex("047f000001060fa1")  # /ip4/127.0.0.1/tcp/4001
ident = (b"\x0a" + bytes([len(pid)]) + pid + b"\x12" + bytes([len(addr)]) +
         addr)
resp = b"\x08\x00\x22" + bytes([len(ident)]) + ident
while True:
    c, _ = s.accept()
    if c.recv(3) == b"\x02\x08\x00" and mode != "mute":
        c.sendall(bytes([len(resp)]) + resp)
    if mode != "mute":
        c.close()
'''


class Env:
    def __init__(self, build):
        self.build = build
        self.wrapper = os.path.join(build, "peerd-p2pd")
        self.base = tempfile.mkdtemp(prefix="p2pdwrap.")
        os.chmod(self.base, 0o755)
        # TMPDIR of the wrapper: its directories are the only ones in it
        self.tmp = os.path.join(self.base, "tmp")
        os.mkdir(self.tmp)
        os.chmod(self.tmp, 0o755)
        self.procs = []

    def run(self, args, tmp=None, wrapper=None, timeout=30):
        env = dict(os.environ, TMPDIR=tmp or self.tmp)
        return subprocess.run([wrapper or self.wrapper] + args,
                              capture_output=True, text=True, env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def popen(self, args, tmp=None, wrapper=None):
        env = dict(os.environ, TMPDIR=tmp or self.tmp)
        p = subprocess.Popen([wrapper or self.wrapper] + args,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, start_new_session=True,
                             stdin=subprocess.DEVNULL)
        self.procs.append(p)
        p.lines = []

        def reader():
            for ln in p.stdout:
                p.lines.append(ln.rstrip("\n"))
        threading.Thread(target=reader, daemon=True).start()
        return p

    def stub(self, name, mode="serve"):
        """A directory with a copy of the wrapper and a stub peerd."""
        d = os.path.join(self.base, name)
        os.mkdir(d)
        os.chmod(d, 0o755)
        shutil.copy(self.wrapper, d)
        mark = os.path.join(d, "mark")
        with open(os.path.join(d, "peerd"), "w") as f:
            f.write(STUB % {"mark": mark, "mode": mode, "peerid": (
                bytes([0, len(SPEC_ED25519_PUB)]) + SPEC_ED25519_PUB).hex()})
        os.chmod(os.path.join(d, "peerd"), 0o755)
        tmp = os.path.join(d, "tmp")
        os.mkdir(tmp)
        os.chmod(tmp, 0o755)
        return os.path.join(d, "peerd-p2pd"), mark, tmp

    def key(self, name, data):
        path = os.path.join(self.base, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


def pgrep(text):
    """Live processes whose command line holds text, other than us."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % d) as f:
                state = f.read().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if text in cmd and state != "Z":
            found.append((int(d), cmd))
    return found


def zombies():
    """Ended wrappers (or their reapers) nobody reaped."""
    found = set()
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        name, _, rest = st.partition(") ")
        if name.endswith("(peerd-p2pd") and rest.startswith("Z"):
            found.add(int(d))
    return found


def left_of(p, text):
    """What still runs of a wrapper: in its session (peerd and its
    children stay in it) or with text in its command line."""
    return [pid for pid, _ in pgrep(text)] + Suite.leftovers({p.pid})


def one_line(r):
    return [ln for ln in r.stderr.splitlines() if ln.strip()]


def check_refusals(t, e):
    for args, flag in REFUSED:
        r = e.run(args.split())
        lines = one_line(r)
        t.ok(r.returncode == 1 and len(lines) == 1 and
             "unsupported" in lines[0] and flag in lines[0] and
             r.stdout == "" and os.listdir(e.tmp) == [],
             "%s: exit 1, one line with 'unsupported' and %s, nothing "
             "started or left (exit %d, stderr %r, stdout %r, left %s)"
             % (args, flag, r.returncode, r.stderr, r.stdout,
                os.listdir(e.tmp)))
    for args, status, flag in BAD:
        r = e.run(args.split())
        first = (one_line(r) or [""])[0]
        t.ok(r.returncode == status and flag in first and
             "unsupported" not in first and r.stdout == "" and
             os.listdir(e.tmp) == [],
             "%s: exit %d, an error naming %s (exit %d, first line %r, "
             "stdout %r)" % (args, status, flag, r.returncode, first,
                             r.stdout))
    r = e.run(["-h"])
    t.ok(r.returncode == 0 and "-hostAddrs" in r.stdout,
         "-h: the usage on stdout, exit 0 (exit %d, %r)"
         % (r.returncode, r.stdout[:200]))


def check_keys(t, e):
    keys = [("spec secp256k1", SPEC_SECP256K1, "Secp256k1"),
            ("spec ECDSA", SPEC_ECDSA, "ECDSA"),
            ("RSA type", bytes.fromhex("0800120401020304"), "RSA")]
    for kt in ("rsa", "secp256k1"):
        for side in ("go", "js"):
            path = os.path.join(INTEROP_KEYS, "%s.%s.key" % (side, kt))
            if os.path.exists(path):
                with open(path, "rb") as f:
                    keys.append(("interop " + os.path.basename(path),
                                 f.read(), {"rsa": "RSA",
                                            "secp256k1": "Secp256k1"}[kt]))
            else:
                t.skip("interop key %s.%s.key" % (side, kt),
                       "regress/daemon/node_modules is not there")
    for name, data, what in keys:
        path = e.key("k.%d" % len(data), data)
        r = e.run(["-id=" + path])
        lines = one_line(r)
        t.ok(r.returncode == 1 and len(lines) == 1 and
             "unsupported" in lines[0] and what in lines[0] and
             os.listdir(e.tmp) == [],
             "-id with the %s key: exit 1, 'unsupported' and %s (exit %d, "
             "%r)" % (name, what, r.returncode, r.stderr))
    bad_pub = bytearray(SPEC_ED25519)
    bad_pub[-1] ^= 1
    bad = [("empty", b""), ("not protobuf", b"\xff\xff\xff"),
           ("Ed25519, short data", SPEC_ED25519[:40]),
           ("Ed25519, data length 63", bytes([8, 1, 0x12, 63]) +
            SPEC_ED25519[4:67]),
           ("Ed25519, public half not the seed's", bytes(bad_pub)),
           ("type 9", bytes.fromhex("0809120401020304")),
           ("base64 text", b"CAESQH4IMGF8Sn3oOSXfsmlFVrEpNsR3oOH+suFI\n")]
    for name, data in bad:
        path = e.key("bad.%d" % len(data), data)
        r = e.run(["-id=" + path])
        t.ok(r.returncode == 1 and "-id" in r.stderr and
             "unsupported" not in r.stderr and os.listdir(e.tmp) == [],
             "-id with a malformed key (%s): exit 1, an error naming -id "
             "(exit %d, %r)" % (name, r.returncode, r.stderr))
    r = e.run(["-id=" + os.path.join(e.base, "no-such-key")])
    t.ok(r.returncode == 1 and "no-such-key" in r.stderr,
         "-id with a missing file: exit 1 naming it (%r)" % r.stderr)


def read_ready(p, timeout=30):
    """p2pd's lines: up to "Peer Addrs:" and the addresses the wrapper
    prints with it, or all there is when it exits."""
    def done():
        return p.poll() is not None or "Peer Addrs:" in p.lines
    if wait_for(done, timeout=timeout) and p.poll() is None:
        time.sleep(0.3)
    return list(p.lines)


def stop(p, timeout=20):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def check_stub(t, e):
    before = zombies()
    wrapper, mark, tmp = e.stub("stub")
    sock = os.path.join(e.base, "api.sock")
    key = e.key("spec.key", SPEC_ED25519)
    p = e.popen(["-listen=/unix" + sock, "-hostAddrs=/ip4/127.0.0.1/tcp/0,"
                 "/ip6/::1/tcp/4002/ws", "-announceAddrs=/ip4/127.0.0.1/"
                 "tcp/4001", "-pubsub", "-pubsubRouter=floodsub", "-relay",
                 "-noise=true", "-tls=false", "-muxer", "yamux", "-id", key,
                 "-connManager", "-connHi=50",
                 "--gossipsubHeartbeatInterval=700ms"],
                tmp=tmp, wrapper=wrapper)
    lines = read_ready(p)
    want = ["Control socket: /unix" + sock, "Peer ID: " + SPEC_PEERID,
            "Peer Addrs:", "/ip4/127.0.0.1/tcp/4001"]
    t.ok(lines == want, "p2pd's ready lines from the stub's IDENTIFY: %r "
         "(want %r)" % (lines, want))
    conf = read_file(mark + ".conf") or ""
    for text in ('mode: peer',
                 'listen: ["/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/4002/ws"]',
                 'announce: ["/ip4/127.0.0.1/tcp/4001"]',
                 'admin:\n  listen: ""',
                 'relay:\n  hop:\n    enabled: true',
                 'gossipSub:\n  enabled: true\n  heartbeatInterval: 700',
                 'connectionManager:\n  maxConnections: 50',
                 'daemonApi:\n  listen: "/unix%s"' % sock):
        if not t.ok(text in conf, "the configuration says %r" % text):
            t.diag(conf)
    keyline = (read_file(mark + ".key") or "").split()
    keyuser = None
    if os.geteuid() == 0:
        try:
            keyuser = pwd.getpwnam("_peerkey").pw_uid
        except KeyError:
            pass
    t.ok(len(keyline) == 5 and keyline[0] == SPEC_ED25519.hex() and
         keyline[1] == "600" and keyline[3] == "700" and
         (keyuser is None or (int(keyline[2]) == keyuser and
                              int(keyline[4]) == keyuser)),
         "-id: keys/identity.key is the spec's key, mode 0600 in a 0700 "
         "keyDir, the key user's (%r)" % keyline)
    argv = (read_file(mark + ".argv") or "").split("\n")
    tmpdirs = os.listdir(tmp)
    t.ok(argv[0].startswith("-d -f " + tmp) and len(tmpdirs) == 1,
         "the stub ran as peerd -d -f in the one temporary directory "
         "(%r, %s)" % (argv[0], tmpdirs))
    stubpid = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else -1
    rc = stop(p)
    err = p.stderr.read()[-500:]
    t.ok(rc == 0 and read_file(mark + ".term") == "1\n",
         "SIGTERM: the wrapper exits 0 after SIGTERM to peerd (exit %r, "
         "%r)" % (rc, err))
    ok, left = wait_value(lambda: left_of(p, tmp), lambda v: not v,
                          timeout=10)
    t.ok(ok and not os.path.exists("/proc/%d" % stubpid) and
         os.listdir(tmp) == [] and not os.path.exists(sock),
         "nothing left: no process (%s), no directory (%s), no socket"
         % (left, os.listdir(tmp)))
    time.sleep(0.5)
    t.ok(not zombies() - before, "no process of the wrapper's left "
         "unreaped (%s)" % (zombies() - before))

    # -q prints nothing; -noListenAddrs wins over -hostAddrs, as in p2pd
    wrapper, mark, tmp = e.stub("quiet")
    sock = os.path.join(e.base, "q.sock")
    p = e.popen(["-q", "-listen=/unix" + sock, "-noListenAddrs",
                 "-hostAddrs=/ip4/127.0.0.1/tcp/0"], tmp=tmp,
                wrapper=wrapper)
    ok = wait_for(lambda: os.path.exists(sock) and
                  read_file(mark + ".conf") is not None, timeout=20)
    time.sleep(0.5)
    conf = read_file(mark + ".conf") or ""
    rc = stop(p)
    out = "".join(p.lines)
    t.ok(ok and out == "" and rc == 0, "-q: nothing on stdout (%r, exit "
         "%r)" % (out, rc))
    t.ok("listen: []" in conf and "enabled: false" in conf and
         "gossipSub:\n  enabled: false" in conf,
         "-noListenAddrs: listen: [] (and without -relay and -pubsub both "
         "off): %r" % conf)

    # the harness's own Ed25519 keys: the older 96-byte form, installed
    # as keyd's 64-byte one
    for side in ("go", "js"):
        path = os.path.join(INTEROP_KEYS, "%s.ed25519.key" % side)
        if not os.path.exists(path):
            t.skip("interop %s.ed25519.key" % side,
                   "regress/daemon/node_modules is not there")
            continue
        with open(path, "rb") as f:
            data = f.read()
        wrapper, mark, tmp = e.stub("key" + side)
        sock = os.path.join(e.base, "k%s.sock" % side)
        p = e.popen(["-listen=/unix" + sock, "-id=" + path], tmp=tmp,
                    wrapper=wrapper)
        lines = read_ready(p)
        rc = stop(p)
        got = (read_file(mark + ".key") or "").split()
        want = (bytes([8, 1, 0x12, 64]) + data[4:68]).hex()
        t.ok(lines[:1] == ["Control socket: /unix" + sock] and rc == 0 and
             got[:1] == [want],
             "-id with @libp2p/interop's %s.ed25519.key (%d bytes): "
             "installed as the 68-byte key file (%r, exit %r)"
             % (side, len(data), got[:1], rc))

    # a loopback TCP daemon API
    wrapper, mark, tmp = e.stub("tcp")
    api = "/ip4/127.0.0.1/tcp/%d" % free_port()
    p = e.popen(["-listen=" + api], tmp=tmp, wrapper=wrapper)
    lines = read_ready(p)
    rc = stop(p)
    t.ok(lines[:2] == ["Control socket: " + api, "Peer ID: " + SPEC_PEERID]
         and rc == 0 and os.listdir(tmp) == [],
         "-listen=%s: ready on IDENTIFY over TCP, stopped (%r, exit %r)"
         % (api, lines, rc))

    # SIGKILL: the directory stays, peerd is stopped by its parent's death
    wrapper, mark, tmp = e.stub("kill")
    sock = os.path.join(e.base, "kill.sock")
    p = e.popen(["-listen=/unix" + sock], tmp=tmp, wrapper=wrapper)
    lines = read_ready(p)
    p.kill()
    p.wait()
    ok = wait_for(lambda: read_file(mark + ".term") == "1\n", timeout=10)
    t.ok(lines[:1] == ["Control socket: /unix" + sock] and ok,
         "SIGKILL of the wrapper: peerd gets SIGTERM (%r)" % lines)
    ok, left = wait_value(lambda: os.listdir(tmp), lambda v: not v,
                          timeout=20)
    t.ok(ok, "SIGKILL of the wrapper: its reaper removes the directory once "
         "peerd is gone (left %s)" % left)

    # SIGINT and SIGHUP stop it as SIGTERM does
    for sig in (signal.SIGINT, signal.SIGHUP):
        wrapper, mark, tmp = e.stub("sig%d" % sig)
        sock = os.path.join(e.base, "s%d.sock" % sig)
        p = e.popen(["-listen=/unix" + sock], tmp=tmp, wrapper=wrapper)
        lines = read_ready(p)
        p.send_signal(sig)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        t.ok(lines[:1] == ["Control socket: /unix" + sock] and rc == 0 and
             read_file(mark + ".term") == "1\n" and os.listdir(tmp) == [],
             "signal %d: ready, then peerd stopped and everything removed "
             "(exit %r, left %s)" % (sig, rc, os.listdir(tmp)))

    # a peerd that exits first: its status, nothing left
    wrapper, mark, tmp = e.stub("exit", mode="exit3")
    r = e.run(["-listen=/unix" + os.path.join(e.base, "x.sock")], tmp=tmp,
              wrapper=wrapper)
    t.ok(r.returncode == 3 and r.stdout == "" and os.listdir(tmp) == [] and
         "peerd exited" in r.stderr,
         "peerd exits 3 before it is ready: exit 3, nothing printed, "
         "nothing left (exit %d, %r, left %s)"
         % (r.returncode, r.stderr, os.listdir(tmp)))

    # a socket another daemon answers on is not taken
    wrapper, mark, tmp = e.stub("busy")
    sock = os.path.join(e.base, "busy.sock")
    p = e.popen(["-listen=/unix" + sock], tmp=tmp, wrapper=wrapper)
    lines = read_ready(p)
    r = e.run(["-listen=/unix" + sock], tmp=tmp, wrapper=wrapper)
    t.ok(lines[:1] == ["Control socket: /unix" + sock] and
         r.returncode == 1 and "in use" in r.stderr and
         len(os.listdir(tmp)) == 1,
         "a second wrapper on a socket in use: exit 1, 'in use', the first "
         "untouched (exit %d, %r)" % (r.returncode, r.stderr))
    stop(p)

    # one that accepts and never answers is given up after 20 s
    wrapper, mark, tmp = e.stub("mute", mode="mute")
    sock = os.path.join(e.base, "mute.sock")
    r = e.run(["-listen=/unix" + sock], tmp=tmp, wrapper=wrapper,
              timeout=90)
    t.ok(r.returncode == 1 and "did not answer" in r.stderr and
         r.stdout == "" and os.listdir(tmp) == [] and
         read_file(mark + ".term") == "1\n" and not os.path.exists(sock),
         "a daemon API that never answers: exit 1 after the deadline, "
         "peerd stopped, nothing left (exit %d, %r)"
         % (r.returncode, r.stderr))


def check_port0(t, e):
    s = Suite(e.build, os.path.join(e.base, "port0"))
    s.prepare()
    s.write_conf(listen=["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"])
    started = s.start()
    addrs = s.status_json().get("listenAddrs", []) if started else []
    ports = []
    for a in addrs:
        parts = a.split("/")
        if len(parts) >= 5 and parts[1:4] == ["ip4", "127.0.0.1", "tcp"]:
            ports.append(int(parts[4]))
    accepted = []
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            accepted.append(port)
        except OSError:
            pass
    t.ok(started and len(ports) == 2 and 0 not in ports and
         addrs[1].endswith("/ws") and accepted == ports,
         "listen on /tcp/0: peerd shows the ports it listens on, each "
         "accepting (%r, accepted %r)" % (addrs, accepted))
    s.stop(alone=True)


def check_real(t, e):
    if not have_server(e.build):
        t.skip("peerd on the wrapper's configuration", "peerd has no "
               "daemon API (daemonApi.listen is not a key)")
        return
    key = e.key("rspec.key", SPEC_ED25519)
    for relay, hop in (("-relay", "hop on"), ("-relay=false", "hop off")):
        sock = os.path.join(e.base, "r%s.sock" % hop[-1])
        p = e.popen(["-listen=/unix" + sock, "-id=" + key, relay,
                     "-hostAddrs=/ip4/127.0.0.1/tcp/0"])
        lines = read_ready(p, timeout=40)
        dirs = os.listdir(e.tmp)
        st = {}
        if len(dirs) == 1:
            r = subprocess.run([os.path.join(e.build, "peerctl"), "-s",
                                os.path.join(e.tmp, dirs[0], "ctl.sock"),
                                "-j", "show", "status"], capture_output=True,
                               text=True, timeout=10)
            st = json.loads(r.stdout) if r.returncode == 0 else {}
        procs = {q["name"]: q["detail"] for q in st.get("processes", [])}
        t.ok(lines[1:2] == ["Peer ID: " + SPEC_PEERID] and
             st.get("peerId") == SPEC_PEERID and st.get("mode") == "peer" and
             hop in procs.get("relayd", "") and
             st.get("listenAddrs") == lines[3:],
             "%s: peerd runs the wrapper's configuration: keyd's key, mode "
             "peer, relayd %s, the printed addresses (%r, %r)"
             % (relay, hop, lines, st))
        rc = stop(p)
        ok, left = wait_value(lambda: left_of(p, e.tmp), lambda v: not v,
                              timeout=20)
        t.ok(rc == 0 and ok and os.listdir(e.tmp) == [],
             "%s, SIGTERM: peerd's processes gone (%s), the directory "
             "removed (%s), exit %r" % (relay, left, os.listdir(e.tmp), rc))


def have_server(build):
    """peerd takes daemonApi.listen: its daemon API is there."""
    d = tempfile.mkdtemp(prefix="p2pdwrap-n.")
    try:
        with open(os.path.join(d, "c.conf"), "w") as f:
            f.write('daemonApi:\n  listen: "/unix%s/a.sock"\n' % d)
        r = subprocess.run([os.path.join(build, "peerd"), "-n", "-f",
                            os.path.join(d, "c.conf")],
                           capture_output=True, text=True, timeout=30)
        return r.returncode == 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_peerd(t, e):
    if not have_server(e.build):
        for name in ("the spec key's peer ID", "-noListenAddrs",
                     "-hostAddrs", "SIGTERM leaves nothing"):
            t.skip("peerd: " + name, "peerd has no daemon API yet "
                   "(daemonApi.listen is not a key)")
        return
    sock = os.path.join(e.base, "p.sock")
    key = e.key("pspec.key", SPEC_ED25519)
    p = e.popen(["-listen=/unix" + sock, "-noListenAddrs", "-id=" + key])
    lines = read_ready(p, timeout=40)
    t.ok(lines[:3] == ["Control socket: /unix" + sock,
                       "Peer ID: " + SPEC_PEERID, "Peer Addrs:"],
         "peerd with the spec's Ed25519 key: Peer ID %s (%r)"
         % (SPEC_PEERID, lines))
    t.ok(len(lines) == 3, "-noListenAddrs: no address (%r)" % lines[3:])
    rc = stop(p)
    ok, left = wait_value(lambda: left_of(p, e.tmp), lambda v: not v,
                          timeout=20)
    t.ok(rc == 0 and ok and os.listdir(e.tmp) == [] and
         not os.path.exists(sock),
         "SIGTERM: exit 0, no process (%s), no directory (%s), no socket "
         "(exit %r)" % (left, os.listdir(e.tmp), rc))
    sock = os.path.join(e.base, "p2.sock")
    p = e.popen(["-listen=/unix" + sock, "-hostAddrs=/ip4/127.0.0.1/tcp/0"])
    lines = read_ready(p, timeout=40)
    addrs = lines[3:]
    t.ok(lines[2:3] == ["Peer Addrs:"] and addrs and all(
        a.startswith("/ip4/127.0.0.1/tcp/") and not a.endswith("/tcp/0")
        for a in addrs),
        "-hostAddrs=/ip4/127.0.0.1/tcp/0: the port peerd listens on (%r)"
        % lines)
    stop(p)


def main():
    build, which = check_args(__doc__, "akslrp")
    exit_on_signals()
    t = TAP()
    e = Env(build)
    try:
        for c, fn in (("a", check_refusals), ("k", check_keys),
                      ("s", check_stub), ("l", check_port0),
                      ("r", check_real),
                      ("p", check_peerd)):
            if c in which:
                try:
                    fn(t, e)
                except Exception:
                    import traceback
                    t.ok(False, "check %s ran to the end without an "
                         "exception" % c)
                    t.diag(traceback.format_exc())
    finally:
        for p in e.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        left = pgrep(e.base)
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        Suite.cleanup_all()
        left += [(pid, "suite") for pid in Suite.leftovers()]
        t.ok(not left, "nothing left running: %s" % left)
        shutil.rmtree(e.base, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
