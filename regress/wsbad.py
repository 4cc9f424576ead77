#!/usr/bin/env python3
"""
The WebSocket listener against what no browser sends: malformed
upgrades and frames, each refused with its HTTP status or its close
code, and the trust given to X-Forwarded-For.  The client here is raw
sockets and RFC 6455 written out by hand.  Speaks TAP.

Usage: wsbad.py BUILDDIR [CHECK ...]

CHECK is one or more of (default: all):
  u  upgrades: a good one (101, the Sec-WebSocket-Accept of RFC 6455
     section 4.2.2 computed here, no subprotocol echoed, then the
     multistream header in a binary frame once we speak); no
     Sec-WebSocket-Key (400); version 8 (426, saying 13); POST (405);
     65 header lines and a request line of 64 KiB (431); headers that
     stop coming (closed by connectionManager.inboundUpgradeTimeout).
  f  frames, after a good upgrade: an unmasked client frame, reserved
     bits, opcode 3, a ping of 126 bytes, a fragmented ping (1002); a
     64-bit length past websocket.maxMessageSize, a message of two
     fragments over it (1009); a text frame (1003); a ping answered by
     a pong with its payload; a close answered by the same code.
     Multistream over fragmented frames with pings between them works.
  x  X-Forwarded-For: honoured only from websocket.trustedProxies
     (here 127.0.0.2): a forwarded banned address is refused, another
     is served, and a refusal names it; from an untrusted
     address the header changes nothing; maxConnectionsPerIP counts
     the forwarded address.
After each check the suite still serves a js-libp2p peer over TCP, and
the engine's resident memory stayed under MEM_BOUND.

Runs as root (peerd -d).  Every address is on 127.0.0.0/8.
"""
import base64
import hashlib
import os
import shutil
import socket
import struct
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from suite import (Suite, Node, TAP, wait_for, yaml,  # noqa: E402
                   exit_on_signals, check_args, need_root, need_users,
                   temp_base, run_check, nothing_left, js_pings, js_ready,
                   MemWatch, engine_pid, free_port)

t = TAP()
BUILD = None
BASE = None
NODES = []
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MS = b"\x13/multistream/1.0.0\n"
MAXMSG = 65536


class Closed(Exception):
    pass


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())


def request(key=None, version="13", method="GET", extra=()):
    lines = ["%s /p2p HTTP/1.1" % method, "Host: 127.0.0.1",
             "Upgrade: websocket", "Connection: Upgrade"]
    if key is not None:
        lines.append("Sec-WebSocket-Key: " + key)
    if version is not None:
        lines.append("Sec-WebSocket-Version: " + version)
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def connect(port, src="127.0.0.1", timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_head(s):
    """The HTTP head the server answers, or what came before it closed."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def status_of(head):
    parts = head.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def frame(payload, op=2, fin=True, mask=True, rsv=0, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    if n < 126:
        h = struct.pack("!BB", b0, n | (0x80 if mask else 0))
    elif n < 65536:
        h = struct.pack("!BBH", b0, 126 | (0x80 if mask else 0), n)
    else:
        h = struct.pack("!BBQ", b0, 127 | (0x80 if mask else 0), n)
    if not mask:
        return h + payload
    m = os.urandom(4)
    return h + m + bytes(c ^ m[i % 4] for i, c in enumerate(payload))


class Reader:
    """Frames from the server: unmasked, as a client gets them."""

    def __init__(self, s, rest=b""):
        self.s = s
        self.buf = rest

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk

    def frame(self):
        self.need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, h = b1 & 0x7f, 2
        if n == 126:
            self.need(4)
            n, h = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self.need(10)
            n, h = struct.unpack("!Q", self.buf[2:10])[0], 10
        masked = b1 & 0x80
        self.need(h + n)
        payload = self.buf[h:h + n]
        self.buf = self.buf[h + n:]
        return b0 & 0x0f, payload, masked, b0 & 0x80

    def data(self, want):
        """Binary payload until want bytes came: (bytes, masked seen)."""
        got, masked = b"", False
        while len(got) < want:
            op, p, m, _ = self.frame()
            masked = masked or bool(m)
            if op == 2:
                got += p
        return got, masked


def upgrade(port, src="127.0.0.1", extra=()):
    """A good upgrade: (socket, reader, head)."""
    s = connect(port, src)
    key = new_key()
    s.sendall(request(key, extra=extra))
    head, rest = read_head(s)
    return s, Reader(s, rest), head, key


def speaks(port, src="127.0.0.1", extra=()):
    """After an upgrade from src: "in" when peerd answers our
    multistream header with its own, "refused" when it closes."""
    try:
        s, r, head, _ = upgrade(port, src, extra)
    except OSError:
        return "refused"
    try:
        if status_of(head) != 101:
            return "refused"
        s.sendall(frame(MS))
        got, _ = r.data(len(MS))
        return "in" if got == MS else "garbled"
    except (Closed, ConnectionResetError, BrokenPipeError):
        return "refused"
    except socket.timeout:
        return "lost"
    finally:
        s.close()


def close_code(r):
    """The code of the close frame the server sends next, then whether
    it closed the TCP connection; data frames before it are skipped."""
    try:
        while True:
            op, p, _, _ = r.frame()
            if op == 8:
                break
    except (Closed, ConnectionResetError):
        return None, True
    except socket.timeout:
        return None, False
    code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
    try:
        eof = r.s.recv(16) == b""
    except ConnectionResetError:
        eof = True
    except socket.timeout:
        eof = False
    return code, eof


def new_node(name, conf):
    n = Node(t, name, BUILD, os.path.join(BASE, name))
    n.ws_port = free_port()
    n.s.prepare()
    n.s.write_conf("\n".join(yaml(conf)) + "\n", listen=[
        "/ip4/127.0.0.1/tcp/%d" % n.s.port,
        "/ip4/127.0.0.1/tcp/%d/ws" % n.ws_port])
    NODES.append(n)
    n.launch()
    if not n.up("peerd %s starts, listening on TCP and /ws" % name):
        return None
    n.watch = MemWatch(engine_pid(n.s))
    return n


def still_serving(n, what):
    t.ok(speaks(n.ws_port) == "in",
         "%s: a good WebSocket client is still served" % what)
    if js_ready(t, what + ": a js-libp2p peer is still served"):
        js_pings(t, n.addr, 2, what)
    n.watch.check(t, what)


def refusal(port, data, what, want):
    s = connect(port)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    head, _ = read_head(s)
    s.close()
    got = status_of(head)
    if not t.ok(got == want, "%s: HTTP %s (want %d)" % (what, got, want)):
        t.diag("answer: %r" % head[:200])
    return head


def check_upgrades():
    """malformed upgrades get their HTTP status"""
    n = new_node("upgrades", {"connectionManager": {
        "inboundUpgradeTimeout": 2000}, "log": {"rateLimit": 0}})
    if n is None:
        return
    port = n.ws_port
    s, r, head, key = upgrade(port, extra=(
        "Sec-WebSocket-Protocol: chat, superchat",
        "Sec-WebSocket-Extensions: permessage-deflate"))
    lines = head.split("\r\n")
    acc = [ln.split(":", 1)[1].strip() for ln in lines
           if ln.lower().startswith("sec-websocket-accept:")]
    t.ok(status_of(head) == 101 and acc == [accept_of(key).decode()],
         "a good upgrade: 101 with the Accept RFC 6455 derives from the "
         "key: %r" % head.split("\r\n")[0])
    t.ok(not any(ln.lower().startswith(("sec-websocket-protocol",
                                        "sec-websocket-extensions"))
                 for ln in lines),
         "no subprotocol and no extension is echoed")
    s.settimeout(1.0)
    try:
        early = s.recv(64)
    except socket.timeout:
        early = b""
    s.settimeout(10.0)
    t.ok(early == b"", "nothing comes after the 101 before the client "
         "speaks: %r" % early[:32])
    s.sendall(frame(MS[:5]) + frame(MS[5:]))
    got, masked = r.data(len(MS))
    t.ok(got == MS and not masked, "our multistream header in two frames "
         "is answered with peerd's, in unmasked binary frames: %r" % got)
    s.close()

    refusal(port, request(None), "no Sec-WebSocket-Key", 400)
    refusal(port, request(new_key(), extra=("Sec-WebSocket-Key: x",)),
            "a second, bad Sec-WebSocket-Key", 400)
    head = refusal(port, request(new_key(), version="8"), "version 8", 426)
    t.ok("Sec-WebSocket-Version: 13" in head,
         "the 426 says which version: %r" % head[:200])
    refusal(port, request(new_key(), method="POST"), "POST", 405)
    refusal(port, request(new_key(), extra=["X-H%d: v" % i
                                            for i in range(65)]),
            "65 header lines", 431)
    refusal(port, b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\n\r\n",
            "a request line of 64 KiB", 431)
    refusal(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" +
            os.urandom(64) + b"\r\n\r\n", "a TLS hello", 400)

    slow = connect(port)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    slow.settimeout(1.0)
    closed = []

    def gone():
        try:
            closed.append(slow.recv(64))
            return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            closed.append(b"")
            return True
    ok = wait_for(gone, timeout=30)
    t.ok(ok and closed == [b""], "headers that stop coming: closed by the "
         "upgrade timeout (2 s) with nothing sent: %r" % closed)
    slow.close()
    still_serving(n, "after malformed upgrades")


def after_upgrade(port):
    s, r, head, _ = upgrade(port)
    if status_of(head) != 101:
        raise Closed()
    s.sendall(frame(MS))
    r.data(len(MS))
    return s, r


def refused_frame(port, data, want, what, noise=False):
    try:
        s, r = after_upgrade(port)
        if noise:
            s.sendall(frame(b"\x07/noise\n"))
            r.data(len(b"\x07/noise\n"))
    except (Closed, OSError):
        t.ok(False, "%s: the upgrade before it" % what)
        return
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    code, eof = close_code(r)
    t.ok(code == want and eof, "%s: close %s (want %d), then the TCP "
         "close: %s" % (what, code, want, eof))
    s.close()


def check_frames():
    """bad frames get their close code"""
    n = new_node("frames", {"websocket": {"maxMessageSize": MAXMSG},
                            "log": {"rateLimit": 0}})
    if n is None:
        return
    port = n.ws_port
    refused_frame(port, frame(b"\x13", mask=False), 1002,
                  "an unmasked client frame")
    refused_frame(port, frame(b"abc", rsv=0x40), 1002, "RSV1 set")
    refused_frame(port, frame(b"abc", op=3), 1002, "opcode 3")
    refused_frame(port, frame(b"p" * 126, op=9), 1002,
                  "a ping of 126 bytes")
    refused_frame(port, frame(b"p", op=9, fin=False), 1002,
                  "a fragmented ping")
    refused_frame(port, frame(b"", length=1 << 40)[:14], 1009,
                  "a 64-bit length of 1 TiB")
    # the payload must not upset the layer above before the second
    # header comes, however the reads fall: /noise is agreed, and the
    # first fragment starts a Noise frame of 65535 bytes, which waits
    refused_frame(port, frame(b"\xff\xff" + b"a" * 39998, fin=False) +
                  frame(b"b" * 40000, op=0), 1009,
                  "a message of two fragments over %d bytes" % MAXMSG,
                  noise=True)
    refused_frame(port, frame(b"a", op=0), 1002,
                  "a continuation outside a message")
    refused_frame(port, frame(b"hello", op=1), 1003, "a text frame")
    refused_frame(port, frame(struct.pack("!H", 1005), op=8), 1002,
                  "a close with 1005, a code never sent")
    refused_frame(port, frame(b"\x03", op=8), 1002,
                  "a close of one byte")

    s, r = after_upgrade(port)
    s.sendall(frame(b"are you there", op=9))
    try:
        op, p, masked, _ = r.frame()
    except (Closed, socket.timeout):
        op = p = masked = None
    t.ok(op == 10 and p == b"are you there" and not masked,
         "a ping is answered by a pong with its payload, unmasked: "
         "%s %r" % (op, p))
    s.sendall(frame(struct.pack("!H", 4000) + b"bye", op=8))
    code, eof = close_code(r)
    t.ok(code == 4000 and eof, "a close with 4000 is answered with 4000, "
         "then the TCP close: %s %s" % (code, eof))
    s.close()

    s, r, head, _ = upgrade(port)
    s.sendall(frame(MS[:3], fin=False) + frame(b"1", op=9) +
              frame(MS[3:10], op=0, fin=False) + frame(MS[10:], op=0))
    try:
        got = []
        while len(b"".join(got)) < len(MS):
            op, p, _, _ = r.frame()
            got.append(p if op == 2 else b"")
            if op == 10:
                pong = p
    except (Closed, socket.timeout):
        pong = None
    t.ok(b"".join(got) == MS and pong == b"1",
         "a message in three fragments with a ping between them: "
         "multistream answered, the ping ponged: %r" % b"".join(got))
    s.close()
    still_serving(n, "after malformed frames")


def check_forwarded():
    """X-Forwarded-For only from a trusted proxy"""
    n = new_node("xff", {
        "websocket": {"trustedProxies": ["127.0.0.2"]},
        "connectionManager": {"maxConnectionsPerIP": 2},
        "log": {"rateLimit": 0}})
    if n is None:
        return
    port = n.ws_port
    r = n.ctl("block", "127.0.0.9")
    t.ok(r.returncode == 0, "127.0.0.9 is blocked: %s"
         % (r.stdout + r.stderr).strip())
    xff = "X-Forwarded-For: 127.0.0.9, 127.0.0.2"
    t.ok(speaks(port, "127.0.0.2", (xff,)) == "refused",
         "from the trusted proxy, a client forwarded as the banned "
         "127.0.0.9 is refused")
    t.ok(speaks(port, "127.0.0.3", (xff,)) == "in",
         "from 127.0.0.3, not trusted, the same header changes nothing")
    t.ok(speaks(port, "127.0.0.2",
                ("X-Forwarded-For: not-an-address",)) == "refused",
         "from the trusted proxy, a forwarded value that is no address "
         "is refused")
    held = []
    for _ in range(2):
        s, rd, head, _ = upgrade(port, "127.0.0.2",
                                 ("X-Forwarded-For: 127.0.0.11",))
        s.sendall(frame(MS))
        rd.data(len(MS))
        held.append(s)
    t.ok(speaks(port, "127.0.0.2", ("X-Forwarded-For: 127.0.0.11",)) ==
         "refused", "a third from 127.0.0.11 is over maxConnectionsPerIP "
         "2, though the proxy is one address")
    lines = n.wait_log(r"connection_refused addr=127\.0\.0\.11:0 "
                       r"reason=max_per_ip")
    t.ok(len(lines) == 1, "the refusal names the forwarded address: %s"
         % lines)
    t.ok(speaks(port, "127.0.0.2", ("X-Forwarded-For: 127.0.0.12",)) ==
         "in", "one from 127.0.0.12 through the same proxy is served")
    for s in held:
        s.close()
    still_serving(n, "after forwarded clients")


CHECKS = {"u": check_upgrades, "f": check_frames, "x": check_forwarded}


def main():
    global BUILD, BASE
    BUILD, which = check_args(__doc__, "ufx")
    exit_on_signals()
    need_root(t, "WebSocket tests")
    need_users(t)
    BASE = temp_base("peerd-wsbad-")
    try:
        for c in which:
            t.diag("--- check %s: %s" % (c, CHECKS[c].__doc__))
            run_check(t, c, CHECKS[c])
    except BaseException:
        t.ok(False, "wsbad.py ran to the end")
        t.diag(traceback.format_exc())
    finally:
        for n in NODES:
            n.stop()
        Suite.cleanup_all()
        nothing_left(t, [])
        shutil.rmtree(BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
