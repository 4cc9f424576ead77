"""
A client of the libp2p daemon control protocol (go-libp2p-daemon's
specs/CONTROL.md, pb/p2pd.proto; js's @libp2p/daemon-protocol adds
PEERSTORE), written from those specs for the tests: a minimal protobuf
writer and reader, binary multiaddrs of the kinds the tests use, and one
new connection per request, as the clients do.  Nothing here comes from
peerd's own codec.

Every request and response is a uvarint length then a protobuf message.
After STREAM_OPEN the connection is the stream; after PUBSUB SUBSCRIBE it
carries length-prefixed PSMessages.
"""
import socket
import struct

from suite import b58decode, b58encode

# Request.Type
IDENTIFY, CONNECT, STREAM_OPEN, STREAM_HANDLER, DHT, LIST_PEERS, \
    CONNMANAGER, DISCONNECT, PUBSUB, PEERSTORE = range(10)
# Response.Type
OK, ERROR = 0, 1
# PSRequest.Type
PS_GET_TOPICS, PS_LIST_PEERS, PS_PUBLISH, PS_SUBSCRIBE = range(4)
# ConnManagerRequest.Type
CM_TAG_PEER, CM_UNTAG_PEER, CM_TRIM = range(3)
# PeerstoreRequest.Type (js)
PSTORE_GET_PROTOCOLS, PSTORE_GET_PEER_INFO = 1, 2
# DHTRequest.Type
DHT_FIND_PEER, DHT_FIND_PEERS_CONNECTED_TO_PEER, DHT_FIND_PROVIDERS, \
    DHT_GET_CLOSEST_PEERS, DHT_GET_PUBLIC_KEY, DHT_GET_VALUE, \
    DHT_SEARCH_VALUE, DHT_PUT_VALUE, DHT_PROVIDE = range(9)

MAXFRAME = 1024 * 1024 + 4096


class ProtoError(Exception):
    pass


# --- protobuf ----------------------------------------------------------

def uvarint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_uvarint(buf, off):
    """(value, next offset); ProtoError when it does not end or is too
    long."""
    n = shift = 0
    while True:
        if off >= len(buf):
            raise ProtoError("varint runs past the end")
        b = buf[off]
        off += 1
        n |= (b & 0x7f) << shift
        if not b & 0x80:
            return n, off
        shift += 7
        if shift >= 70:
            raise ProtoError("varint too long")


def field(num, value):
    """One field: an int as a varint (wire type 0), bytes, str or an
    encoded submessage (a list of fields) length-delimited (2)."""
    if isinstance(value, bool) or isinstance(value, int):
        return uvarint(num << 3) + uvarint(int(value))
    if isinstance(value, str):
        value = value.encode()
    elif isinstance(value, list):
        value = msg(value)
    return uvarint(num << 3 | 2) + uvarint(len(value)) + bytes(value)


def msg(fields):
    """fields: (num, value) pairs, value None left out, a tuple or set
    of values repeated."""
    out = b""
    for num, value in fields:
        if value is None:
            continue
        if isinstance(value, tuple):
            for v in value:
                out += field(num, v)
        else:
            out += field(num, value)
    return out


def parse(buf):
    """{field number: [values]}: ints for varints, bytes for
    length-delimited; ProtoError on a bad wire type or a length past the
    end."""
    out = {}
    off = 0
    buf = bytes(buf)
    while off < len(buf):
        key, off = read_uvarint(buf, off)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ProtoError("field number 0")
        if wt == 0:
            v, off = read_uvarint(buf, off)
        elif wt == 2:
            n, off = read_uvarint(buf, off)
            if n > len(buf) - off:
                raise ProtoError("field %d: length %d past the end" % (num, n))
            v = buf[off:off + n]
            off += n
        elif wt == 1:
            if off + 8 > len(buf):
                raise ProtoError("fixed64 past the end")
            v = struct.unpack("<Q", buf[off:off + 8])[0]
            off += 8
        elif wt == 5:
            if off + 4 > len(buf):
                raise ProtoError("fixed32 past the end")
            v = struct.unpack("<I", buf[off:off + 4])[0]
            off += 4
        else:
            raise ProtoError("field %d: wire type %d" % (num, wt))
        out.setdefault(num, []).append(v)
    return out


def one(d, num, default=None):
    v = d.get(num)
    return v[-1] if v else default


def peerinfo(buf):
    d = parse(buf)
    return {"id": one(d, 1), "addrs": d.get(2, [])}


def decode_response(buf):
    """A Response as a dict: type, error (the msg), and streamInfo,
    identify, peers, pubsub, peerStore when present."""
    d = parse(buf)
    r = {"type": one(d, 1)}
    if 2 in d:
        r["error"] = one(parse(one(d, 2)), 1, b"").decode(errors="replace")
    if 3 in d:
        r["streamInfo"] = decode_streaminfo(one(d, 3))
    if 4 in d:
        r["identify"] = peerinfo(one(d, 4))
    if 5 in d:
        r["dht"] = parse(one(d, 5))
    if 6 in d:
        r["peers"] = [peerinfo(p) for p in d.get(6, [])]
    if 7 in d:
        p = parse(one(d, 7))
        r["pubsub"] = {"topics": [t.decode(errors="replace")
                                  for t in p.get(1, [])],
                       "peerIDs": p.get(2, [])}
    if 8 in d:
        p = parse(one(d, 8))
        r["peerStore"] = {
            "peer": peerinfo(one(p, 1)) if 1 in p else None,
            "protos": [x.decode(errors="replace") for x in p.get(2, [])]}
    return r


def decode_streaminfo(buf):
    d = parse(buf)
    return {"peer": one(d, 1), "addr": one(d, 2),
            "proto": (one(d, 3) or b"").decode(errors="replace")}


def decode_psmessage(buf):
    d = parse(buf)
    return {"from": one(d, 1), "data": one(d, 2), "seqno": one(d, 3),
            "topicIDs": [t.decode(errors="replace") for t in d.get(4, [])],
            "signature": one(d, 5), "key": one(d, 6)}


# --- requests ----------------------------------------------------------

def req(type_, **sub):
    """A Request: type and at most one sub-request, by its name."""
    nums = {"connect": 2, "streamOpen": 3, "streamHandler": 4, "dht": 5,
            "connManager": 6, "disconnect": 7, "pubsub": 8, "peerStore": 9}
    return msg([(1, type_)] + [(nums[k], v) for k, v in sub.items()])


def req_identify():
    return req(IDENTIFY)


def req_connect(peer, addrs, timeout=None):
    return req(CONNECT, connect=[(1, peer), (2, tuple(addrs)),
                                 (3, timeout)])


def req_stream_open(peer, protos, timeout=None):
    return req(STREAM_OPEN, streamOpen=[(1, peer), (2, tuple(protos)),
                                        (3, timeout)])


def req_stream_handler(addr, protos):
    return req(STREAM_HANDLER, streamHandler=[(1, addr),
                                              (2, tuple(protos))])


def req_list_peers():
    return req(LIST_PEERS)


def req_disconnect(peer):
    return req(DISCONNECT, disconnect=[(1, peer)])


def req_pubsub(type_, topic=None, data=None):
    return req(PUBSUB, pubsub=[(1, type_), (2, topic), (3, data)])


def req_cm(type_, peer=None, tag=None, weight=None):
    return req(CONNMANAGER, connManager=[(1, type_), (2, peer), (3, tag),
                                         (4, weight)])


def req_pstore(type_, peer=None, protos=None):
    return req(PEERSTORE, peerStore=[(1, type_), (2, peer),
                                     (3, tuple(protos or ()))])


def req_dht(type_, peer=None, key=None, value=None):
    return req(DHT, dht=[(1, type_), (2, peer), (4, key), (5, value)])


# --- multiaddrs and peer IDs -------------------------------------------

P_IP4, P_TCP, P_UDP, P_IP6, P_UNIX, P_P2P, P_CIRCUIT = \
    4, 6, 273, 41, 400, 421, 290
P_QUIC1, P_WS, P_WSS, P_WT, P_WEBRTC_DIRECT, P_DNS4 = \
    461, 477, 478, 465, 280, 54


def ma_bytes(text):
    """The binary form of a text multiaddr of the kinds the tests use."""
    parts = text.split("/")[1:]
    out = b""
    i = 0
    while i < len(parts):
        p = parts[i]
        if p == "ip4":
            out += uvarint(P_IP4) + socket.inet_pton(socket.AF_INET,
                                                     parts[i + 1])
            i += 2
        elif p == "ip6":
            out += uvarint(P_IP6) + socket.inet_pton(socket.AF_INET6,
                                                     parts[i + 1])
            i += 2
        elif p in ("tcp", "udp"):
            out += uvarint(P_TCP if p == "tcp" else P_UDP) + \
                struct.pack(">H", int(parts[i + 1]))
            i += 2
        elif p == "p2p":
            mh = b58decode(parts[i + 1])
            out += uvarint(P_P2P) + uvarint(len(mh)) + mh
            i += 2
        elif p == "unix":
            path = "/" + "/".join(parts[i + 1:])
            out += uvarint(P_UNIX) + uvarint(len(path)) + path.encode()
            i = len(parts)
        elif p == "p2p-circuit":
            out += uvarint(P_CIRCUIT)
            i += 1
        else:
            raise ValueError("multiaddr %s: %s" % (text, p))
    return out


def ma_text(buf):
    """The text form of a binary multiaddr; ValueError when it does not
    parse."""
    out = ""
    off = 0
    buf = bytes(buf)
    try:
        while off < len(buf):
            code, off = read_uvarint(buf, off)
            if code == P_IP4:
                out += "/ip4/" + socket.inet_ntop(socket.AF_INET,
                                                  buf[off:off + 4])
                off += 4
            elif code == P_IP6:
                out += "/ip6/" + socket.inet_ntop(socket.AF_INET6,
                                                  buf[off:off + 16])
                off += 16
            elif code in (P_TCP, P_UDP):
                if off + 2 > len(buf):
                    raise ValueError("port past the end")
                out += "/%s/%d" % ("tcp" if code == P_TCP else "udp",
                                   struct.unpack(">H", buf[off:off + 2])[0])
                off += 2
            elif code in (P_P2P, P_UNIX, P_DNS4):
                n, off = read_uvarint(buf, off)
                v = buf[off:off + n]
                if len(v) != n:
                    raise ValueError("value past the end")
                off += n
                if code == P_P2P:
                    out += "/p2p/" + b58encode(v)
                elif code == P_UNIX:
                    out += "/unix" + v.decode()
                else:
                    out += "/dns4/" + v.decode()
            elif code in (P_CIRCUIT, P_QUIC1, P_WS, P_WSS, P_WT,
                          P_WEBRTC_DIRECT):
                out += "/" + {P_CIRCUIT: "p2p-circuit", P_QUIC1: "quic-v1",
                              P_WS: "ws", P_WSS: "wss", P_WT: "webtransport",
                              P_WEBRTC_DIRECT: "webrtc-direct"}[code]
            else:
                raise ValueError("protocol code %d" % code)
    except (ProtoError, OSError, UnicodeDecodeError) as e:
        raise ValueError(str(e))
    return out


def peer_bytes(text):
    return b58decode(text)


def peer_text(buf):
    return b58encode(bytes(buf)) if buf else ""


# --- the socket --------------------------------------------------------

def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        b = sock.recv(n - len(buf))
        if not b:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += b
    return bytes(buf)


def read_frame(sock, limit=MAXFRAME):
    """One uvarint-prefixed frame; EOFError at a clean end before it."""
    n = shift = 0
    first = True
    while True:
        b = sock.recv(1)
        if not b:
            if first:
                raise EOFError("closed")
            raise EOFError("closed in a frame length")
        first = False
        n |= (b[0] & 0x7f) << shift
        if not b[0] & 0x80:
            break
        shift += 7
        if shift > 63:
            raise ProtoError("frame length varint too long")
    if n > limit:
        raise ProtoError("frame of %d bytes" % n)
    return read_exact(sock, n)


def frame(buf):
    return uvarint(len(buf)) + bytes(buf)


class Control:
    """The daemon's control socket: ("unix", PATH) or ("tcp", HOST,
    PORT); also parsed from /unix/PATH and /ip4/127.0.0.1/tcp/PORT."""

    def __init__(self, addr, timeout=20):
        if isinstance(addr, str):
            if addr.startswith("/unix/"):
                addr = ("unix", addr[len("/unix"):])
            else:
                p = addr.split("/")
                addr = ("tcp", p[2], int(p[4]))
        self.addr = addr
        self.timeout = timeout

    def __str__(self):
        if self.addr[0] == "unix":
            return "/unix" + self.addr[1]
        return "/%s/%s/tcp/%d" % ("ip6" if ":" in self.addr[1] else "ip4",
                                  self.addr[1], self.addr[2])

    def open(self, timeout=None):
        if self.addr[0] == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = self.addr[1]
        else:
            fam = socket.AF_INET6 if ":" in self.addr[1] else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            target = self.addr[1:]
        s.settimeout(timeout or self.timeout)
        try:
            s.connect(target)
        except OSError:
            s.close()
            raise
        return s

    def raw(self, data, timeout=None):
        """Send data as it is (framing included) on a new connection and
        read one response frame: (response dict, the raw frame)."""
        s = self.open(timeout)
        try:
            s.sendall(data)
            buf = read_frame(s)
            return decode_response(buf), buf
        finally:
            s.close()

    def call(self, request, timeout=None):
        """One request, one response, closed."""
        return self.raw(frame(request), timeout)[0]

    def keep(self, request, timeout=None):
        """One request; (response, the socket left open) for STREAM_OPEN
        and SUBSCRIBE.  The socket is closed when the answer is an
        error."""
        s = self.open(timeout)
        try:
            s.sendall(frame(request))
            r = decode_response(read_frame(s))
        except BaseException:
            s.close()
            raise
        return r, s

    # shorthands
    def identify(self):
        return self.call(req_identify())

    def list_peers(self):
        return self.call(req_list_peers())

    def peer_ids(self):
        """The peer IDs LIST_PEERS gives, as text; None on an error."""
        r = self.list_peers()
        if r.get("type") != OK:
            return None
        return [peer_text(p["id"]) for p in r.get("peers", [])]

    def connect(self, peer, addrs, timeout=None):
        return self.call(req_connect(peer, addrs, timeout))

    def disconnect(self, peer):
        return self.call(req_disconnect(peer))

    def stream_handler(self, addr, protos):
        return self.call(req_stream_handler(addr, protos))

    def stream_open(self, peer, protos, timeout=None):
        return self.keep(req_stream_open(peer, protos), timeout)

    def subscribe(self, topic):
        return self.keep(req_pubsub(PS_SUBSCRIBE, topic))


def is_error(r):
    return r.get("type") == ERROR


def describe(r):
    """A response, short, for a check's message."""
    if r is None:
        return "nothing"
    if isinstance(r, Exception):
        return "%s: %s" % (type(r).__name__, r)
    out = {"type": {OK: "OK", ERROR: "ERROR"}.get(r.get("type"),
                                                   r.get("type"))}
    for k, v in r.items():
        if k == "type":
            continue
        if k == "identify" or k == "peers":
            vs = v if k == "peers" else [v]
            v = [{"id": peer_text(p["id"]),
                  "addrs": [safe_ma(a) for a in p["addrs"]]} for p in vs]
        elif k == "streamInfo":
            v = dict(v, peer=peer_text(v["peer"]), addr=safe_ma(v["addr"]))
        elif k == "pubsub":
            v = dict(v, peerIDs=[peer_text(p) for p in v["peerIDs"]])
        out[k] = v
    return str(out)


def safe_ma(b):
    try:
        return ma_text(b)
    except ValueError:
        return "0x" + bytes(b or b"").hex()
