#!/usr/bin/env python3
"""
Key files: keys made by js-libp2p imported by keyd -i (protobuf and
base64) to the peer ID js computes; keys exported by keyd -e -P loaded by
js to the same peer ID; a plain key encrypted in place at start when a
passphrase source is configured, with no 8-byte run of the seed left in
the file; a wrong passphrase, a missing passphrase file, a truncated or
tampered file, loose modes: each stops the start with one clear line and
exit 1; the systemd credential; keyd -p; keyd not dumpable, no core;
after a start neither the passphrase nor the seed in the readable memory
of any process.  Speaks TAP.  Usage: keys.py BUILDDIR
"""
import json
import os
import pty
import pwd
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite import (Suite, TAP, need_root, need_users,  # noqa: E402
                   temp_base, js_ready, JSDIR, mem_find)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
t = TAP()
KEYU = None


def js(*args):
    r = subprocess.run(["node", "keys.mjs"] + list(args), cwd=JSDIR,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        t.diag("node keys.mjs %s: %s" % (" ".join(args), r.stderr))
        return None
    return json.loads(r.stdout)


def keyd(s, *args, stdin=None):
    """keyd's offline command on the suite's configuration."""
    return subprocess.run([s.keyd] + list(args) + ["-f", s.conf],
                          input=stdin, capture_output=True, text=True,
                          timeout=60)


def keyfile(s):
    return os.path.join(s.keys, "identity.key")


def write(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def passfile(s, text, mode=0o600):
    path = os.path.join(s.base, "key.pass")
    write(path, text.encode(), mode)
    return path


def conf_with_pass(s, path):
    s.write_conf(extra='keys:\n  passphraseFile: "%s"\n' % path)


def start_fails(s, phrase, what):
    """The suite, launched, exits 1, with phrase in one line of its log."""
    s.launch()
    try:
        rc = s.proc.wait(60)
    except subprocess.TimeoutExpired:
        rc = None
    lines = [ln for ln in s.log().splitlines() if phrase in ln]
    ok = t.ok(rc == 1 and len(lines) == 1,
              "%s: exit %s, one line with '%s': %s"
              % (what, rc, phrase, lines))
    if not ok:
        t.diag(s.log()[-1500:])
    s.stop()
    os.truncate(s.logfile, 0)


def started_id(s):
    if not s.start():
        t.diag(s.log()[-1500:])
        return None
    pid = s.status_json()["peerId"]
    s.stop()
    return pid


def check_import(base, key):
    """a js key imported, as protobuf and as base64; js loads exports."""
    s = Suite(BUILD, os.path.join(base, "import"))
    s.prepare()
    src = os.path.join(s.base, "js.key")
    write(src, bytes.fromhex(key["pb"]))
    r = keyd(s, "-i", src)
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"],
         "keyd -i of js's privateKeyToProtobuf prints js's peer ID %s: %s"
         % (key["peerId"], (r.stdout + r.stderr).strip()))
    st = os.stat(keyfile(s))
    t.ok(st.st_uid == KEYU.pw_uid and st.st_mode & 0o777 == 0o600,
         "the imported key is the key user's, mode 0600 (%o)"
         % (st.st_mode & 0o777))
    t.ok("not encrypted at rest" in r.stderr,
         "without a passphrase source keyd -i says the key is plain")
    got = started_id(s)
    t.ok(got == key["peerId"], "peerd starts with the imported key as %s"
         % got)
    lines = [ln for ln in s.log().splitlines()
             if "is not encrypted at rest" in ln]
    t.ok(len(lines) == 1 and "keys.passphraseFile" in lines[0],
         "the start says once that the key is plain, and how to change "
         "it: %s" % lines)
    r = keyd(s, "-i", src)
    t.ok(r.returncode == 1 and "exists" in r.stderr and
         read(keyfile(s)) == bytes.fromhex(key["pb"]),
         "keyd -i does not overwrite a key: %s" % r.stderr.strip())
    b64 = os.path.join(s.base, "js.b64")
    write(b64, (key["b64"] + "\n").encode())
    r = keyd(s, "-I", b64)
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"],
         "keyd -I of the base64 form prints js's peer ID: %s"
         % (r.stdout + r.stderr).strip())
    other = os.path.join(s.base, "other.key")
    r = keyd(s, "-i", b64, "-k", other)
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"] and
         read(other) == bytes.fromhex(key["pb"]),
         "keyd -i of the base64 form writes the same protobuf key")
    out = os.path.join(s.base, "export.pb")
    r = keyd(s, "-e", out, "-P")
    j = js("load", out)
    t.ok(r.returncode == 0 and "unencrypted" in r.stderr and j and
         j["peerId"] == key["peerId"],
         "keyd -e -P warns, and js loads the export as %s: %s"
         % (j, r.stderr.strip()))
    out = os.path.join(s.base, "export.b64")
    r = keyd(s, "-e", out, "-P", "-b")
    j = js("load", out)
    t.ok(r.returncode == 0 and j and j["peerId"] == key["peerId"],
         "keyd -e -P -b: js loads the base64 export as %s" % j)
    r = keyd(s, "-e", out, "-P")
    t.ok(r.returncode == 1 and "exists" in r.stderr,
         "keyd -e does not overwrite: %s" % r.stderr.strip())
    return s


def on_tty(argv, answers, timeout=60):
    """Run argv on a new pseudo-terminal, answering each prompt that
    ends in ": " with the next of answers: (exit status, what it
    wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    mark = 0
    answers = list(answers)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if out[mark:].rstrip().endswith(b":") and answers:
            os.write(fd, answers.pop(0).encode() + b"\n")
            mark = len(out)
    os.close(fd)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = -1
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def check_tty(s, key):
    """The passphrase of an export asked twice on the terminal."""
    out = os.path.join(s.base, "tty.enc")
    rc, text = on_tty([s.keyd, "-e", out, "-f", s.conf],
                      ["tty passphrase", "tty passphrase"])
    r = keyd(s, "-I", out, stdin="tty passphrase\n")
    t.ok(rc == 0 and "Again" in text and read(out)[:8] == b"PEERDKEY" and
         r.stdout.strip() == key["peerId"],
         "keyd -e asks a new passphrase twice on the terminal, and the "
         "export opens with it: %s %r %s" % (rc, text, r.stderr.strip()))
    out = os.path.join(s.base, "tty2.enc")
    rc, text = on_tty([s.keyd, "-e", out, "-f", s.conf], ["one", "two"])
    t.ok(rc == 1 and "differ" in text and not os.path.exists(out),
         "two different answers: nothing written: %s %r" % (rc, text))


def check_encrypt_in_place(s, key):
    seed = bytes.fromhex(key["seed"])
    ino = os.stat(keyfile(s)).st_ino
    pf = passfile(s, "first passphrase\n")
    conf_with_pass(s, pf)
    os.truncate(s.logfile, 0)
    got = started_id(s)
    t.ok(got == key["peerId"], "with keys.passphraseFile the plain key "
         "still gives %s (%s)" % (key["peerId"], got))
    t.ok("encrypted the identity key" in s.log() and
         "is not encrypted at rest" not in s.log(),
         "the start says it encrypted the key in place")
    data = read(keyfile(s))
    t.ok(data[:8] == b"PEERDKEY" and os.stat(keyfile(s)).st_ino != ino,
         "the key file is now encrypted, a new file renamed over the "
         "plain one (%r...)" % data[:8])
    runs = [i for i in range(len(seed) - 7) if seed[i:i + 8] in data]
    t.ok(not runs, "the encrypted file holds no 8-byte run of the seed "
         "(offsets %s)" % runs)
    st = os.stat(keyfile(s))
    t.ok(st.st_uid == KEYU.pw_uid and st.st_mode & 0o777 == 0o600,
         "the encrypted key is the key user's, mode 0600")
    t.ok(not os.path.exists(keyfile(s) + ".new"), "no temporary file left")
    os.truncate(s.logfile, 0)
    got = None
    if s.start():
        got = s.status_json()["peerId"]
        r = s.ctl("-j", "key", "show")
        try:
            shown = json.loads(r.stdout)
        except ValueError:
            shown = {}
        t.ok(shown.get("encrypted") is True and
             shown.get("peerId") == key["peerId"],
             "peerctl key show says the key is encrypted: %s"
             % r.stdout.strip())
        s.stop()
    t.ok(got == key["peerId"] and "decrypted with the passphrase from %s"
         % pf in s.log(), "the next start decrypts it: %s" % got)
    r = keyd(s, "-I", keyfile(s))
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"],
         "keyd -I opens the encrypted file with the configured source")
    out = os.path.join(s.base, "export.enc")
    r = keyd(s, "-e", out)
    t.ok(r.returncode == 0 and read(out)[:8] == b"PEERDKEY",
         "keyd -e exports encrypted by default: %s" % r.stderr.strip())
    r = keyd(s, "-I", out, stdin="")
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"],
         "and it opens with the configured passphrase")
    out = os.path.join(s.base, "export.enc.b64")
    r = keyd(s, "-e", out, "-b")
    r2 = keyd(s, "-I", out)
    t.ok(r.returncode == 0 and r2.returncode == 0 and
         r2.stdout.strip() == key["peerId"],
         "an encrypted export in base64 is read back: %s"
         % (r2.stdout + r2.stderr).strip())
    moved = os.path.join(s.base, "moved.key")
    r = keyd(s, "-i", out, "-k", moved)
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"] and
         read(moved)[:8] == b"PEERDKEY",
         "and imported, encrypted with the configured source")
    other = os.path.join(s.base, "other-pass.key")
    r = keyd(s, "-i", os.path.join(s.base, "tty.enc"), "-k", other,
             stdin="tty passphrase\n")
    t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"],
         "an export the configured passphrase does not open is opened "
         "with one asked for: %s" % (r.stdout + r.stderr).strip())
    r = keyd(s, "-I", os.path.join(s.base, "tty.enc"), stdin="nope\n")
    t.ok(r.returncode == 1 and "wrong passphrase" in r.stderr,
         "and a wrong one asked for says so: %s" % r.stderr.strip())


def check_refusals(s, key):
    """Each stops the start with one clear line and exit 1."""
    good = read(keyfile(s))
    pf = os.path.join(s.base, "key.pass")
    passfile(s, "not the passphrase\n")
    start_fails(s, "wrong passphrase", "a wrong passphrase")
    passfile(s, "first passphrase\n")
    conf_with_pass(s, os.path.join(s.base, "no-such.pass"))
    start_fails(s, "No such file", "a missing passphrase file")
    conf_with_pass(s, pf)
    os.chmod(pf, 0o644)
    start_fails(s, "mode 0644", "a passphrase file others can read")
    os.chmod(pf, 0o600)
    write(keyfile(s), good[:100])
    os.chown(keyfile(s), KEYU.pw_uid, KEYU.pw_gid)
    start_fails(s, "truncated", "a truncated key file")
    bad = bytearray(good)
    bad[120] ^= 1
    write(keyfile(s), bytes(bad))
    os.chown(keyfile(s), KEYU.pw_uid, KEYU.pw_gid)
    start_fails(s, "damaged ciphertext", "a tampered ciphertext")
    bad = bytearray(good)
    bad[30] ^= 1
    write(keyfile(s), bytes(bad))
    os.chown(keyfile(s), KEYU.pw_uid, KEYU.pw_gid)
    start_fails(s, "damaged header", "a tampered header")
    write(keyfile(s), good, 0o644)
    os.chown(keyfile(s), KEYU.pw_uid, KEYU.pw_gid)
    start_fails(s, "mode 0644", "a key file others can read")
    os.chmod(keyfile(s), 0o600)
    os.chown(keyfile(s), 0, 0)
    start_fails(s, "not by the key user", "a key file of another owner")
    os.chown(keyfile(s), KEYU.pw_uid, KEYU.pw_gid)
    os.chmod(s.keys, 0o750)
    start_fails(s, "chmod 700", "a key directory open to its group")
    os.chmod(s.keys, 0o700)
    s.write_conf()
    start_fails(s, "no passphrase source", "an encrypted key, no source")
    t.ok(read(keyfile(s)) == good, "none of these changed the key file")
    conf_with_pass(s, pf)


def check_credential(s, key):
    """The systemd credential, and keyd -p."""
    s.write_conf()
    cred = os.path.join(s.base, "creds")
    os.makedirs(cred, mode=0o700, exist_ok=True)
    write(os.path.join(cred, "peerd-key-passphrase"), b"first passphrase")
    os.environ["CREDENTIALS_DIRECTORY"] = cred
    try:
        os.truncate(s.logfile, 0)
        got = started_id(s)
        t.ok(got == key["peerId"] and "peerd-key-passphrase" in s.log(),
             "the systemd credential opens the key: %s" % got)
        r = keyd(s, "-p", stdin="second passphrase\n")
        t.ok(r.returncode == 0 and r.stdout.strip() == key["peerId"],
             "keyd -p takes a new passphrase on stdin: %s"
             % (r.stdout + r.stderr).strip())
        start_fails(s, "wrong passphrase", "after keyd -p the old one")
        write(os.path.join(cred, "peerd-key-passphrase"),
              b"second passphrase\n")
        got = started_id(s)
        t.ok(got == key["peerId"], "the new passphrase opens it: %s" % got)
    finally:
        del os.environ["CREDENTIALS_DIRECTORY"]


def check_memory(base):
    """keyd is not dumpable and has no core files."""
    s = Suite(BUILD, os.path.join(base, "mem"))
    if not t.ok(s.start(), "a suite starts"):
        return
    pid = [p["pid"] for p in s.status_json()["processes"]
           if p["name"] == "keyd"][0]
    with open("/proc/%d/limits" % pid) as f:
        core = [ln for ln in f if ln.startswith("Max core file size")]
    t.ok(core and core[0].split()[4:6] == ["0", "0"],
         "keyd's core file size limit is 0: %s" % core)
    st = os.stat("/proc/%d/mem" % pid)
    t.ok(st.st_uid == 0 and proc_uid(pid) == KEYU.pw_uid,
         "keyd runs as the key user but is not dumpable (its /proc files "
         "are root's: uid %d)" % st.st_uid)
    r = subprocess.run([s.keyd], capture_output=True, text=True)
    t.ok(r.returncode == 1 and "keyd -g" in r.stderr,
         "keyd with no command prints its usage")
    s.stop()


def found_in(pid, needles):
    """The needles found in the readable memory of pid (its maps with
    r; suite.mem_find reads the others too)."""
    hits = mem_find(pid, needles) or {}
    return {n for n, where in hits.items()
            if any("r" in perm for _, perm, _ in where)}


def check_no_copies(s, key, passphrase):
    """After a start that decrypted the key: the passphrase is in no
    process of the suite, the seed in none but keyd's guarded pages."""
    if not t.ok(s.start(), "the suite starts with the encrypted key"):
        return
    seed = bytes.fromhex(key["seed"])
    pub = bytes.fromhex(key["pb"])[36:]
    keyd_pid = [p["pid"] for p in s.status_json()["processes"]
                if p["name"] == "keyd"][0]
    t.ok(found_in(keyd_pid, [pub]) == {pub},
         "the scan finds keyd's public key in its memory (the scan works)")
    for p in s.status_json()["processes"]:
        got = found_in(p["pid"], [seed, passphrase])
        t.ok(not got, "%s (pid %d): neither the passphrase nor the seed "
             "in its readable memory (found %d)"
             % (p["name"], p["pid"], len(got)))
    s.stop()
    os.truncate(s.logfile, 0)


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("Uid:"):
                return int(ln.split()[1])
    return None


def main():
    global KEYU
    need_root(t, "key tests")
    need_users(t)
    KEYU = pwd.getpwnam("_peerkey")
    base = temp_base("peerd-keys-")
    try:
        check_memory(base)
        if js_ready(t, "keys made by js-libp2p"):
            key = js("gen")
            if t.ok(key is not None, "js generates an Ed25519 key"):
                s = check_import(base, key)
                check_tty(s, key)
                check_encrypt_in_place(s, key)
                check_no_copies(s, key, b"first passphrase")
                check_refusals(s, key)
                check_credential(s, key)
    finally:
        Suite.cleanup_all()
        t.ok(not Suite.leftovers(), "nothing left running")
        subprocess.run(["rm", "-rf", base])
    sys.exit(t.done())


if __name__ == "__main__":
    main()
