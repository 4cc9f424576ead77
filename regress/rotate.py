#!/usr/bin/env python3
"""
Key rotation (peerctl key rotate, keyd(8) "Rotation").  Speaks TAP.

Usage: rotate.py BUILDDIR [CHECKS]   as root; CHECKS are letters:
  p  a plain key: peerd P in mode peer with a reservation on peerd relay
     R, and a js-libp2p peer connected to P (node.mjs watch).  The
     read-only socket refuses rotate; rotate prints the old and the new
     peer ID; show status says the new one; the js connection is closed;
     a raw client (interop/rawnoise.mjs --hold) gets a yamux GoAway;
     a new js node dials P's address as the new ID and pings it, and
     one has P's address from its signed record (re-issued); as the old
     ID it is refused; R lists a reservation of the new ID; the old
     key is kept in the key directory, the key user's, mode 0600, and
     keyd -I prints the old peer ID from it; a second rotation keeps a
     second archive; the log gives the four steps in keyd(8)'s order.
     Then R rotates: a js reservation on it gets a voucher signed by
     R's new key and naming the new ID.
  e  an encrypted key (keys.passphraseFile): rotations that fail (the
     passphrase file gone, keyd's temporary file not writable) change
     nothing and leave no archive; then the new key is encrypted,
     with no 8-byte run of its seed in the file, and the archive opens
     under the passphrase to the old peer ID; then the old seed and the
     passphrase are nowhere in the memory of any process of the suite,
     keyd's guarded pages included (read as root through /proc/PID/mem),
     and the new seed only in keyd's guarded pages; in
     lockdown key rotate is refused and changes no file.
Every address is on 127.0.0.1.
"""
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import suite  # noqa: E402
from suite import (Suite, TAP, wait_value, kill, EventReader,  # noqa: E402
                   js_ready, exit_on_signals, need_root, need_users,
                   temp_base, check_args, run_check, nothing_left, JSDIR,
                   js_pings, parse_events, b58decode, mem_find, LOG_ALL)

t = TAP()
JSPROCS = []
NODE = ["node", "--import", "./polyfill.mjs", "node.mjs"]
BUILD = BASE = None
KEYU = None
RELAY_CONF = ("mode: relay\n" + LOG_ALL + "relay:\n  enabled: true\n"
              "  hop:\n    enabled: true\n  rateLimit:\n"
              "    connectionsPerMinute: 0\n")


class Peerd(suite.Node):
    wait = 30

    def __init__(self, name, conf):
        suite.Node.__init__(self, t, name, BUILD,
                            suite.Node.numbered(BASE, name))
        self.conf = conf

    def status_id(self):
        return (self.json("show", "status") or {}).get("peerId")

    def reserved(self):
        return [r.get("peerId") for r in
                self.json("show", "reservations", key="reservations") or []]

    def archives(self):
        return sorted(f for f in os.listdir(self.s.keys)
                      if f.startswith("identity.key.old-"))

    def keyd(self, *args):
        return subprocess.run([self.s.keyd] + list(args) +
                              ["-f", self.s.conf], capture_output=True,
                              text=True, timeout=60)

    def rotate(self):
        """peerctl key rotate: (old, new, result)."""
        r = self.ctl("key", "rotate", timeout=60)
        old = re.search(r"old peer ID (\S+)", r.stdout or "")
        new = re.search(r"new peer ID (\S+)", r.stdout or "")
        return (old.group(1) if old else None,
                new.group(1) if new else None, r)


def spawn_js(args):
    p = subprocess.Popen(NODE + args, cwd=JSDIR, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    JSPROCS.append(p)
    return EventReader(p)


def spawn_raw(P):
    """rawnoise.mjs holding a session with P until its GoAway."""
    p = subprocess.Popen(["node", "rawnoise.mjs", "early", "127.0.0.1",
                          str(P.s.port), P.peer_id, "--hold"], cwd=JSDIR,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True,
                         env=dict(os.environ, RAWNOISE_TIMEOUT="120"))
    JSPROCS.append(p)
    return EventReader(p)


def show_js(js):
    t.diag("node.mjs exit status: %s" % js.p.poll())
    for e in js.events:
        t.diag("js: " + json.dumps({k: v for k, v in e.items()
                                    if k != "_t"}))


def js_refused(addr):
    """A js node dialling addr fails: (exit status, its last event)."""
    p = subprocess.Popen(NODE + ["ping", addr, "1"], cwd=JSDIR,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True,
                         env=dict(os.environ, INTEROP_DIAL_TIMEOUT="15"))
    JSPROCS.append(p)
    try:
        out, _ = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        kill(p)
        out, _ = p.communicate()
    ev = parse_events(out)
    return p.returncode, ev[-1] if ev else None


def check_archive(P, name, want, what):
    path = os.path.join(P.s.keys, name)
    st = os.stat(path)
    t.ok(st.st_mode & 0o777 == 0o600 and st.st_uid == KEYU.pw_uid,
         "%s: %s is the key user's (uid %d), mode %04o"
         % (what, name, st.st_uid, st.st_mode & 0o777))
    r = P.keyd("-I", path)
    t.ok(r.returncode == 0 and r.stdout.strip() == want,
         "%s: keyd -I %s prints the old peer ID %s: %s"
         % (what, name, want, (r.stdout + r.stderr).strip()))


def b58_pub(peer_id):
    """The Ed25519 public key in an identity-multihash peer ID, hex."""
    raw = b58decode(peer_id)
    return raw[-32:].hex()


def check_plain():
    R = Peerd("relay", RELAY_CONF)
    if not R.start():
        return
    P = Peerd("peer", "mode: peer\n" + LOG_ALL + 'relays: ["%s"]\n'
              % R.addr)
    if not P.start():
        return
    old = P.peer_id
    ok, got = wait_value(R.reserved, lambda v: v and old in v,
                         timeout=30)
    if not t.ok(ok, "R lists P's reservation as %s: %s"
                % (old, got)):
        P.show()
        R.show()
        return
    js = spawn_js(["watch", P.addr])
    first = js.event("addrs", timeout=30)
    if not t.ok(first, "a js-libp2p peer connects to P as %s" % old):
        show_js(js)
        return
    raw = spawn_raw(P)
    holding = raw.event("holding", timeout=30)
    if not t.ok(holding, "a raw libp2p client holds a yamux session with "
                "P"):
        show_js(raw)
    r = P.ctl("key", "rotate", sock=P.s.rosock)
    t.ok(r.returncode not in (0, None) and P.status_id() == old and
         not P.archives(),
         "the read-only socket refuses key rotate: exit %s %r, still %s"
         % (r.returncode, (r.stdout + r.stderr).strip(), P.status_id()))
    P.mark = len(P.s.log())
    o, n, r = P.rotate()
    if not t.ok(r.returncode == 0 and o == old and n and n != old,
                "peerctl key rotate prints the old peer ID %s and a new "
                "one: exit %s %r" % (old, r.returncode,
                                     (r.stdout + r.stderr).strip())):
        P.show()
        return
    t.ok(P.status_id() == n, "show status says the new peer ID %s: %s"
         % (n, P.status_id()))
    k = P.json("key", "show") or {}
    t.ok(k.get("peerId") == n and k.get("encrypted") is False,
         "key show says the new peer ID, not encrypted: %s" % k)
    closed = js.event("closed", timeout=30)
    if not t.ok(closed and closed.get("conn") == first.get("conn"),
                "the js connection made before the rotation is closed: %s"
                % closed):
        show_js(js)
    goaway = raw.event("goaway", timeout=30)
    if not t.ok(goaway and goaway.get("code") == 0,
                "the raw client's session ends with a yamux GoAway, code "
                "0 (normal): %s" % goaway):
        show_js(raw)
    new_addr = "/ip4/127.0.0.1/tcp/%d/p2p/%s" % (P.s.port, n)
    js_pings(t, new_addr, 2, "P as its new peer ID")
    mine = "/ip4/127.0.0.1/tcp/%d" % P.s.port
    js2 = spawn_js(["watch", new_addr])
    ev = js2.wait(lambda e: e.get("event") == "addrs" and
                  mine in e.get("certified", []), timeout=30)
    if not t.ok(ev, "a js peer connected to the new ID has %s from P's "
                "signed peer record, re-issued under the new key" % mine):
        show_js(js2)
    js2.p.stdin.close()
    kill(js2.p)
    rc, ev = js_refused(P.addr)
    t.ok(rc not in (0, None),
         "a js node dialling P as the old peer ID is refused: exit %s %s"
         % (rc, ev))
    ok, got = wait_value(R.reserved, lambda v: v and n in v, timeout=30)
    t.ok(ok, "R lists a reservation of P's new peer ID %s: "
         "%s" % (n, got))
    got = P.wait_log(r"relayd\[\d+\]: relay identity now %s" % n)
    t.ok(got, "P's relayd takes the new peer ID for its vouchers: %s" % got)
    steps = P.wait_log(r"key rotation [1-4]/4", count=4)
    t.ok([re.search(r"[1-4]/4", s).group(0) for s in steps] ==
         ["1/4", "2/4", "3/4", "4/4"],
         "P logs the four steps in keyd(8)'s order: %s" % steps)
    arch = P.archives()
    if t.ok(len(arch) == 1, "one archive in the key directory: %s" % arch):
        check_archive(P, arch[0], old, "after one rotation")
    r = P.keyd("-I", os.path.join(P.s.keys, "identity.key"))
    t.ok(r.stdout.strip() == n, "keyd -I identity.key prints the new peer "
         "ID: %s" % (r.stdout + r.stderr).strip())
    o2, n2, r = P.rotate()
    t.ok(r.returncode == 0 and o2 == n and n2 not in (None, n, old),
         "a second rotation: from %s to %s" % (o2, n2))
    arch2 = P.archives()
    if t.ok(len(arch2) == 2 and arch[0] in arch2,
            "two archives in the key directory: %s" % arch2):
        check_archive(P, arch[0], old, "after two rotations")
        check_archive(P, [a for a in arch2 if a != arch[0]][0], n,
                      "after two rotations")
    ok, got = wait_value(R.reserved, lambda v: v and n2 in v, timeout=30)
    t.ok(ok, "R lists a reservation of P's third peer ID "
         "%s: %s" % (n2, got))
    js.p.stdin.close()
    kill(js.p)
    check_relay_rotated(R)


def js_hop_reserve(addr):
    """node.mjs hop ADDR reserve: the decoded answer, or {}."""
    p = subprocess.Popen(NODE + ["hop", addr, "reserve"], cwd=JSDIR,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    JSPROCS.append(p)
    try:
        out, err = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        kill(p)
        out, err = p.communicate()
    hops = [e for e in parse_events(out) if e.get("event") == "hop"]
    if not hops:
        t.diag("js hop: " + (out + err).strip()[-500:])
    return hops[-1] if hops else {}


def check_relay_rotated(R):
    """The relay rotates: its vouchers are signed by its new key."""
    o, n, r = R.rotate()
    if not t.ok(r.returncode == 0 and o == R.peer_id and n,
                "relay R rotates: exit %s %r"
                % (r.returncode, (r.stdout + r.stderr).strip())):
        return
    ans = js_hop_reserve("/ip4/127.0.0.1/tcp/%d/p2p/%s" % (R.s.port, n))
    t.ok(ans.get("statusName") == "OK" and ans.get("voucherSigned") is
         True and ans.get("voucherSigner") == n and
         ans.get("voucherRelay") == n,
         "a js reservation on R after its rotation has a voucher signed "
         "by and naming the new peer ID %s: %s"
         % (n, {k: ans.get(k) for k in ("statusName", "voucherSigned",
                                        "voucherSigner", "voucherRelay")}))


def check_failures(P, pf):
    """Rotations that fail: an error, and nothing changed."""
    key = os.path.join(P.s.keys, "identity.key")
    with open(key, "rb") as f:
        before = f.read()

    def unchanged(what, r, phrase):
        with open(key, "rb") as f:
            same = f.read() == before
        t.ok(r.returncode == 1 and phrase in r.stderr and same and
             not P.archives() and P.status_id() == P.peer_id,
             "%s: key rotate fails saying %r, and the key file, the "
             "archives and the peer ID are as they were: exit %s %r"
             % (what, phrase, r.returncode, (r.stdout + r.stderr).strip()))
    os.rename(pf, pf + ".away")
    unchanged("the passphrase file gone", P.rotate()[2], pf)
    os.rename(pf + ".away", pf)
    # keyd cannot write its temporary file: the archive's link goes too
    tmp = key + ".new"
    os.mkdir(tmp, 0o700)
    unchanged("identity.key.new a directory", P.rotate()[2],
              "identity.key.new")
    os.rmdir(tmp)


def check_encrypted():
    P = Peerd("enc", "")
    P.s.prepare()
    pf = os.path.join(P.s.base, "key.pass")
    with open(pf, "w") as f:
        f.write("rotation passphrase\n")
    os.chmod(pf, 0o600)
    P.conf = 'keys:\n  passphraseFile: "%s"\n' % pf
    if not P.start():
        return
    old = P.peer_id
    check_failures(P, pf)
    o, n, r = P.rotate()
    if not t.ok(r.returncode == 0 and o == old and n not in (None, old),
                "an encrypted key rotates: exit %s %r"
                % (r.returncode, (r.stdout + r.stderr).strip())):
        P.show()
        return
    key = os.path.join(P.s.keys, "identity.key")
    with open(key, "rb") as f:
        data = f.read()
    exp = os.path.join(P.s.base, "new.pb")
    r = P.keyd("-e", exp, "-P")
    if not t.ok(r.returncode == 0, "keyd -e -P exports the new key: %s"
                % r.stderr.strip()):
        return
    with open(exp, "rb") as f:
        seed = f.read()[4:36]
    r = P.keyd("-I", exp)
    t.ok(r.stdout.strip() == n, "the export is the new key %s: %s"
         % (n, r.stdout.strip()))
    runs = [i for i in range(len(seed) - 7) if seed[i:i + 8] in data]
    t.ok(data[:8] == b"PEERDKEY" and not runs,
         "the new key file is encrypted (%r...) with no 8-byte run of its "
         "seed (offsets %s)" % (data[:8], runs))
    arch = P.archives()
    if not t.ok(len(arch) == 1, "one archive: %s" % arch):
        return
    with open(os.path.join(P.s.keys, arch[0]), "rb") as f:
        t.ok(f.read(8) == b"PEERDKEY", "the archive is encrypted too")
    check_archive(P, arch[0], old, "encrypted")
    t.ok(P.status_id() == n, "show status says %s: %s"
         % (n, P.status_id()))
    k = P.json("key", "show") or {}
    t.ok(k.get("peerId") == n and k.get("encrypted") is True,
         "key show says the new peer ID, encrypted: %s" % k)
    exp_old = os.path.join(P.s.base, "old.pb")
    r = P.keyd("-e", exp_old, "-P", "-k", os.path.join(P.s.keys, arch[0]))
    if not t.ok(r.returncode == 0, "keyd -e -P -k exports the archive: %s"
                % r.stderr.strip()):
        return
    with open(exp_old, "rb") as f:
        old_seed = f.read()[4:36]
    r = P.keyd("-I", exp_old)
    t.ok(r.stdout.strip() == old, "that export is the old key %s: %s"
         % (old, r.stdout.strip()))
    procs = P.json("show", "status")["processes"]
    kpid = [p["pid"] for p in procs if p["name"] == "keyd"][0]
    pub = bytes.fromhex(b58_pub(n))
    t.ok((mem_find(kpid, [pub]) or {}).get(pub),
         "the scan finds keyd's new public key in its memory (it works)")
    pw = b"rotation passphrase"
    for p in procs:
        hits = mem_find(p["pid"], [old_seed, seed, pw])
        if not t.ok(hits is not None, "%s (pid %d) can be read"
                    % (p["name"], p["pid"])):
            continue
        readable = [w for w in hits[seed] if "r" in w[1]]
        t.ok(not hits[old_seed] and not hits[pw] and not readable and
             (p["name"] == "keyd" or not hits[seed]),
             "%s (pid %d): the old seed and the passphrase nowhere in its "
             "memory, guarded pages included; the new seed %s (old seed "
             "at %s, passphrase at %s, new seed at %s)"
             % (p["name"], p["pid"], "only in guarded pages" if
                p["name"] == "keyd" else "nowhere", hits[old_seed][:2],
                hits[pw][:2], hits[seed][:2]))
    r = P.ctl("lockdown")
    if not t.ok(r.returncode == 0, "peerctl lockdown: exit %s %s"
                % (r.returncode, (r.stdout + r.stderr).strip())):
        return
    o, n2, r = P.rotate()
    with open(key, "rb") as f:
        same = f.read() == data
    t.ok(r.returncode == 1 and "lockdown" in r.stderr and n2 is None and
         same and P.archives() == arch,
         "in lockdown key rotate is refused and changes no file: exit %s "
         "%r" % (r.returncode, (r.stdout + r.stderr).strip()))


def main():
    global BUILD, BASE, KEYU
    BUILD, which = check_args(__doc__, "pe")
    exit_on_signals()
    need_root(t, "key rotation tests")
    need_users(t)
    KEYU = pwd.getpwnam("_peerkey")
    BASE = temp_base("peerd-rotate-")
    try:
        if "p" in which and js_ready(t, "rotation seen by js-libp2p"):
            run_check(t, "p", check_plain)
        if "e" in which:
            run_check(t, "e", check_encrypted)
    except Exception:
        t.ok(False, "rotate.py ran to the end without an exception")
        t.diag(traceback.format_exc())
    finally:
        for p in JSPROCS:
            if p.stdin is not None:
                try:
                    p.stdin.close()
                except OSError:
                    pass
            kill(p)
        Suite.cleanup_all()
        nothing_left(t, JSPROCS)
        shutil.rmtree(BASE, ignore_errors=True)
        sys.exit(t.done())


if __name__ == "__main__":
    main()
