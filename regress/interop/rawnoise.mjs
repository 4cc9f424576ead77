#!/usr/bin/env node
// A libp2p dialer written from scratch on node:crypto, with no npm
// dependency, for the paths js-libp2p never takes: the Noise handshake
// without the stream-muxer extension (yamux chosen by multistream-select
// inside the encrypted channel), and a handshake payload whose signature
// is wrong.  Used by regress/rawnoise.py.
//
// Usage:
//   node rawnoise.mjs early    HOST PORT PEERID [--separate]
//                                               [--propose=HEX] [--hold]
//   node rawnoise.mjs fallback HOST PORT PEERID [--separate] [--na-first]
//                                               [--trickle] [--propose=HEX]
//                                               [--hold]
//   node rawnoise.mjs badsig   HOST PORT PEERID
//   node rawnoise.mjs vectors  PATH
//
// early     our handshake payload lists /yamux/1.0.0 in its NoiseExtensions
// fallback  our payload has no extensions: yamux by multistream-select
// badsig    our payload's signature over the static key is wrong: the
//           remote must close the connection (exit 0 when it does)
// vectors   replay the initiator side of every Noise_XX_25519_ChaChaPoly_
//           SHA256 vector in PATH (regress/vectors/...) and check the
//           ciphertexts
// --separate  write handshake message 3 and what follows it in separate
//           writes, 100 ms apart, rather than in one
// --na-first  (fallback) propose /mplex/6.7.0 first, expect "na", then
//           propose /yamux/1.0.0
// --trickle (fallback) each byte of the muxer negotiation in a Noise
//           transport message of its own
// --propose=HEX  on the ping stream, first propose the protocol whose
//           name is these bytes, and expect "na"
// --hold    after the ping, keep the session (the remote's pings
//           answered) until the remote sends a yamux GoAway: prints
//           holding, then goaway with its code, and exits 0; a close
//           without it is an error
//
// In early and fallback modes: dial, multistream /noise in clear, Noise
// XX, check the remote's payload (signature, peer ID), pick yamux, open
// stream 1, multistream /ipfs/ping/1.0.0 on it, send 32 random bytes and
// check they come back.  Prints one JSON object a line: secured, muxer,
// ping, or error; exits 0 on success.  Every wait gives up after
// RAWNOISE_TIMEOUT seconds (20).  RAWNOISE_BIND, an address of this host,
// is the source address of the dial.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import url from 'node:url';

const TIMEOUT = 1000 * (Number(process.env.RAWNOISE_TIMEOUT) || 20);
const BIND = process.env.RAWNOISE_BIND || undefined;
const PROTOCOL_NAME = 'Noise_XX_25519_ChaChaPoly_SHA256';
const SIG_PREFIX = 'noise-libp2p-static-key:';
const MSS = '/multistream/1.0.0';
const NOISE = '/noise';
const YAMUX = '/yamux/1.0.0';
const PING = '/ipfs/ping/1.0.0';
const MPLEX = '/mplex/6.7.0';
const MAXPT = 65535 - 16;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

class Fail extends Error {
  constructor(step, message, extra = {}) {
    super(message);
    this.step = step;
    this.extra = extra;
  }
}

// --- primitives -------------------------------------------------------

const X_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const ED_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

function x25519FromRaw(raw) {
  if (raw.length !== 32) throw new Error('X25519 private key is not 32 bytes');
  return crypto.createPrivateKey({ key: Buffer.concat([X_PKCS8, raw]),
    format: 'der', type: 'pkcs8' });
}

function rawPublic(key) {
  const pub = key.type === 'public' ? key : crypto.createPublicKey(key);
  const der = pub.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

function dh(priv, pubRaw) {
  const pub = crypto.createPublicKey({ key: Buffer.concat([X_SPKI, pubRaw]),
    format: 'der', type: 'spki' });
  return crypto.diffieHellman({ privateKey: priv, publicKey: pub });
}

function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmac(key, ...parts) {
  const h = crypto.createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

// Noise HKDF with two outputs.
function hkdf2(ck, ikm) {
  const temp = hmac(ck, ikm);
  const o1 = hmac(temp, Buffer.from([1]));
  const o2 = hmac(temp, o1, Buffer.from([2]));
  return [o1, o2];
}

function nonce12(n) {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(BigInt(n), 4);
  return b;
}

function aeadSeal(k, n, ad, pt) {
  const c = crypto.createCipheriv('chacha20-poly1305', k, nonce12(n),
    { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: pt.length });
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

function aeadOpen(k, n, ad, ct) {
  if (ct.length < 16) throw new Error('ciphertext shorter than its tag');
  const d = crypto.createDecipheriv('chacha20-poly1305', k, nonce12(n),
    { authTagLength: 16 });
  d.setAuthTag(ct.subarray(ct.length - 16));
  d.setAAD(ad, { plaintextLength: ct.length - 16 });
  const body = d.update(ct.subarray(0, ct.length - 16));
  return Buffer.concat([body, d.final()]);   // final throws on a bad tag
}

class CipherState {
  constructor(k = null) {
    this.k = k;
    this.n = 0;
  }

  encrypt(ad, pt) {
    if (this.k === null) return Buffer.from(pt);
    return aeadSeal(this.k, this.n++, ad, pt);
  }

  decrypt(ad, ct) {
    if (this.k === null) return Buffer.from(ct);
    const pt = aeadOpen(this.k, this.n, ad, ct);
    this.n++;
    return pt;
  }
}

// --- Noise XX, initiator side -------------------------------------------

class NoiseXXInitiator {
  constructor({ staticKey, ephemeralKey = null, prologue = Buffer.alloc(0) }) {
    const name = Buffer.from(PROTOCOL_NAME);
    this.h = name.length <= 32 ?
      Buffer.concat([name, Buffer.alloc(32 - name.length)]) : sha256(name);
    this.ck = Buffer.from(this.h);
    this.cs = new CipherState();
    this.s = staticKey;
    this.sPub = rawPublic(staticKey);
    this.e = ephemeralKey || crypto.generateKeyPairSync('x25519').privateKey;
    this.ePub = rawPublic(this.e);
    this.re = null;
    this.rs = null;
    this.mixHash(prologue);
  }

  mixHash(data) {
    this.h = sha256(this.h, data);
  }

  mixKey(ikm) {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck = ck;
    this.cs = new CipherState(k);
  }

  encryptAndHash(pt) {
    const ct = this.cs.encrypt(this.h, pt);
    this.mixHash(ct);
    return ct;
  }

  decryptAndHash(ct) {
    const pt = this.cs.decrypt(this.h, ct);
    this.mixHash(ct);
    return pt;
  }

  // -> e
  writeMessage1(payload) {
    this.mixHash(this.ePub);
    return Buffer.concat([this.ePub, this.encryptAndHash(payload)]);
  }

  // <- e, ee, s, es
  readMessage2(msg) {
    if (msg.length < 32 + 48 + 16)
      throw new Error('message 2 is ' + msg.length + ' bytes, too short');
    this.re = Buffer.from(msg.subarray(0, 32));
    this.mixHash(this.re);
    this.mixKey(dh(this.e, this.re));
    this.rs = this.decryptAndHash(msg.subarray(32, 80));
    this.mixKey(dh(this.e, this.rs));
    return this.decryptAndHash(msg.subarray(80));
  }

  // -> s, se
  writeMessage3(payload) {
    const s = this.encryptAndHash(this.sPub);
    this.mixKey(dh(this.s, this.re));
    return Buffer.concat([s, this.encryptAndHash(payload)]);
  }

  // Initiator sends with the first key, receives with the second.
  split() {
    const [k1, k2] = hkdf2(this.ck, Buffer.alloc(0));
    return { tx: new CipherState(k1), rx: new CipherState(k2) };
  }
}

// --- protobuf, varints, base58 ----------------------------------------

function uvarint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function pbBytes(field, data) {
  return Buffer.concat([uvarint(field << 3 | 2), uvarint(data.length), data]);
}

function pbVarint(field, v) {
  return Buffer.concat([uvarint(field << 3), uvarint(v)]);
}

// Fields of a protobuf message: [{field, wire, value}], value a Buffer for
// wire type 2 and a number for wire type 0.
function pbParse(buf) {
  const fields = [];
  let i = 0;
  const varint = () => {
    let v = 0, mul = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return v;
    }
    throw new Error('varint too long');
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) {
      fields.push({ field, wire, value: varint() });
    } else if (wire === 2) {
      const n = varint();
      if (i + n > buf.length) throw new Error('truncated field ' + field);
      fields.push({ field, wire, value: buf.subarray(i, i + n) });
      i += n;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (i + n > buf.length) throw new Error('truncated field ' + field);
      fields.push({ field, wire, value: buf.subarray(i, i + n) });
      i += n;
    } else {
      throw new Error('unsupported wire type ' + wire);
    }
  }
  return fields;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(buf) {
  let n = BigInt('0x' + (buf.toString('hex') || '0'));
  let s = '';
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s;
    n /= 58n;
  }
  for (let i = 0; i < buf.length && buf[i] === 0; i++) s = '1' + s;
  return s;
}

// Peer ID of a PublicKey protobuf: identity multihash up to 42 bytes.
function peerIdOf(pubkeyPb) {
  if (pubkeyPb.length > 42)
    return base58(Buffer.concat([Buffer.from([0x12, 0x20]),
      sha256(pubkeyPb)]));
  return base58(Buffer.concat([Buffer.from([0x00, pubkeyPb.length]),
    pubkeyPb]));
}

// --- the libp2p handshake payload ---------------------------------------

function makeIdentity() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const raw = rawPublic(publicKey);
  const pb = Buffer.concat([pbVarint(1, 1), pbBytes(2, raw)]);
  return { privateKey, pb, peerId: peerIdOf(pb) };
}

function makePayload(id, noiseStaticPub, { muxers = null, badSig = false }) {
  const sig = crypto.sign(null, Buffer.concat([Buffer.from(SIG_PREFIX),
    noiseStaticPub]), id.privateKey);
  if (badSig) sig[0] ^= 0x01;
  const parts = [pbBytes(1, id.pb), pbBytes(2, sig)];
  if (muxers !== null)
    parts.push(pbBytes(4, Buffer.concat(muxers.map(m =>
      pbBytes(2, Buffer.from(m))))));
  return Buffer.concat(parts);
}

// The remote's payload: checks its signature over rs, returns its peer ID
// and stream muxers (null when it has no extensions).
function checkPayload(pl, rs) {
  let key = null, sig = null, ext = null;
  for (const f of pbParse(pl)) {
    if (f.field === 1 && f.wire === 2) key = f.value;
    else if (f.field === 2 && f.wire === 2) sig = f.value;
    else if (f.field === 4 && f.wire === 2) ext = f.value;
  }
  if (key === null) throw new Error('payload has no identity key');
  if (sig === null) throw new Error('payload has no identity signature');
  let type = null, data = null;
  for (const f of pbParse(key)) {
    if (f.field === 1 && f.wire === 0) type = f.value;
    else if (f.field === 2 && f.wire === 2) data = f.value;
  }
  if (type !== 1 || data === null || data.length !== 32)
    throw new Error('identity key is not Ed25519 (type ' + type + ')');
  const pub = crypto.createPublicKey({ key: Buffer.concat([ED_SPKI, data]),
    format: 'der', type: 'spki' });
  const msg = Buffer.concat([Buffer.from(SIG_PREFIX), rs]);
  if (sig.length !== 64 || !crypto.verify(null, msg, pub, sig))
    throw new Error('bad signature over the static key');
  let muxers = null;
  if (ext !== null) {
    muxers = [];
    for (const f of pbParse(ext))
      if (f.field === 2 && f.wire === 2) muxers.push(f.value.toString());
  }
  return { peerId: peerIdOf(Buffer.from(key)), muxers };
}

// --- byte streams -------------------------------------------------------

// Bytes from the socket, read n at a time, each wait bounded.
class SocketReader {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.closed = null;
    this.waiter = null;
    sock.on('data', d => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake();
    });
    sock.on('end', () => this.close('eof'));
    sock.on('error', e => this.close('error ' + (e.code || e.message)));
    sock.on('close', () => this.close('closed'));
  }

  close(why) {
    if (this.closed === null) this.closed = why;
    this.wake();
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  // Resolves when something happens or ms pass; false on the timeout.
  wait(ms) {
    return new Promise(resolve => {
      const t = setTimeout(() => { this.waiter = null; resolve(false); }, ms);
      this.waiter = () => { clearTimeout(t); resolve(true); };
    });
  }

  async read(n, step) {
    const end = Date.now() + TIMEOUT;
    while (this.buf.length < n) {
      if (this.closed !== null)
        throw new Fail(step, `connection closed (${this.closed}) with ` +
          `${this.buf.length} of ${n} bytes`, { got: this.buf.toString('hex') });
      const left = end - Date.now();
      if (left <= 0 || !(await this.wait(left)))
        throw new Fail(step, `timed out after ${TIMEOUT / 1000} s with ` +
          `${this.buf.length} of ${n} bytes`, { got: this.buf.toString('hex') });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

// Plaintext of the Noise transport messages.
class SecureChannel {
  constructor(sock, reader, { tx, rx }) {
    this.sock = sock;
    this.reader = reader;
    this.tx = tx;
    this.rx = rx;
    this.buf = Buffer.alloc(0);
  }

  seal(data) {
    const frames = [];
    for (let off = 0; off < data.length || off === 0; off += MAXPT) {
      const ct = this.tx.encrypt(Buffer.alloc(0),
        data.subarray(off, off + MAXPT));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(ct.length);
      frames.push(len, ct);
      if (data.length === 0) break;
    }
    return Buffer.concat(frames);
  }

  write(data) {
    this.sock.write(this.seal(data));
  }

  async read(n, step) {
    while (this.buf.length < n) {
      const len = (await this.reader.read(2, step)).readUInt16BE(0);
      const ct = await this.reader.read(len, step);
      let pt;
      try {
        pt = this.rx.decrypt(Buffer.alloc(0), ct);
      } catch (e) {
        throw new Fail(step, 'a transport message does not decrypt: ' +
          e.message);
      }
      this.buf = Buffer.concat([this.buf, pt]);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

// --- multistream-select 1.0 ---------------------------------------------

function msEncode(...lines) {
  return Buffer.concat(lines.map(l => {
    const b = Buffer.isBuffer(l) ? Buffer.concat([l, Buffer.from('\n')]) :
      Buffer.from(l + '\n');
    return Buffer.concat([uvarint(b.length), b]);
  }));
}

async function msRead(src, step) {
  let n = 0, mul = 1;
  for (let k = 0; ; k++) {
    if (k === 9) throw new Fail(step, 'multistream length varint too long');
    const b = (await src.read(1, step))[0];
    n += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) break;
  }
  if (n < 1 || n > 1024)
    throw new Fail(step, 'multistream message of ' + n + ' bytes');
  const msg = await src.read(n, step);
  if (msg[n - 1] !== 0x0a)
    throw new Fail(step, 'multistream message without a newline: ' +
      JSON.stringify(msg.toString()));
  return msg.subarray(0, n - 1).toString();
}

async function msExpect(src, want, step) {
  const got = await msRead(src, step);
  if (got !== want)
    throw new Fail(step, `expected ${JSON.stringify(want)}, got ` +
      JSON.stringify(got));
}

// --- yamux --------------------------------------------------------------

const Y_DATA = 0, Y_WINDOW = 1, Y_PING = 2, Y_GOAWAY = 3;
const F_SYN = 1, F_ACK = 2, F_FIN = 4, F_RST = 8;

function yHeader(type, flags, id, len) {
  const h = Buffer.alloc(12);
  h[0] = 0;
  h[1] = type;
  h.writeUInt16BE(flags, 2);
  h.writeUInt32BE(id, 4);
  h.writeUInt32BE(len, 8);
  return h;
}

// Our one stream over the remote's yamux; answers its pings and refuses
// the streams it opens (identify) with a reset.
class Yamux {
  constructor(chan) {
    this.chan = chan;
    this.stream = null;
    this.buf = Buffer.alloc(0);
    this.pings = 0;
    this.refused = [];
  }

  send(data, flags = 0) {
    this.chan.write(Buffer.concat([yHeader(Y_DATA, flags, this.stream,
      data.length), data]));
  }

  async frame(step) {
    const h = await this.chan.read(12, step);
    const type = h[1], flags = h.readUInt16BE(2);
    const id = h.readUInt32BE(4), len = h.readUInt32BE(8);
    if (h[0] !== 0)
      throw new Fail(step, 'not a yamux frame (version ' + h[0] + '): ' +
        h.toString('hex'));
    if (type === Y_PING) {
      if (flags & F_SYN) {
        this.chan.write(yHeader(Y_PING, F_ACK, 0, len));
        this.pings++;
        emit({ event: 'yamux-ping', answered: true, opaque: len });
      }
      return;
    }
    if (type === Y_GOAWAY)
      throw new Fail(step, 'remote sent yamux GoAway, code ' + len);
    if (type !== Y_DATA && type !== Y_WINDOW)
      throw new Fail(step, 'unknown yamux frame type ' + type);
    const body = type === Y_DATA && len > 0 ?
      await this.chan.read(len, step) : Buffer.alloc(0);
    if (id !== this.stream) {
      if ((flags & F_SYN) && id % 2 === 0) {
        this.chan.write(yHeader(Y_WINDOW, F_RST, id, 0));
        this.refused.push(id);
      }
      return;
    }
    if (flags & F_RST)
      throw new Fail(step, 'remote reset stream ' + id);
    this.buf = Buffer.concat([this.buf, body]);
    if ((flags & F_FIN) && this.buf.length === 0)
      throw new Fail(step, 'remote closed stream ' + id);
  }

  async read(n, step) {
    while (this.buf.length < n)
      await this.frame(step);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

// --- the dial -----------------------------------------------------------

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress: BIND });
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Fail('connect', `timed out after ${TIMEOUT / 1000} s`));
    }, TIMEOUT);
    sock.once('connect', () => {
      clearTimeout(t);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', e => {
      clearTimeout(t);
      reject(new Fail('connect', e.message));
    });
  });
}

function frame(msg) {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

async function readFrame(reader, step) {
  const len = (await reader.read(2, step)).readUInt16BE(0);
  return reader.read(len, step);
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function dial(mode, host, port, expectPeer, opts) {
  const id = makeIdentity();
  const sock = await connect(host, port);
  const reader = new SocketReader(sock);
  const t0 = Date.now();
  try {
    // multistream-select for /noise, in clear
    sock.write(msEncode(MSS, NOISE));
    await msExpect(reader, MSS, 'multistream header');
    await msExpect(reader, NOISE, 'multistream /noise');

    // Noise XX
    const hs = new NoiseXXInitiator({
      staticKey: crypto.generateKeyPairSync('x25519').privateKey });
    sock.write(frame(hs.writeMessage1(Buffer.alloc(0))));
    const m2 = await readFrame(reader, 'noise message 2');
    let remote;
    try {
      remote = checkPayload(hs.readMessage2(m2), hs.rs);
    } catch (e) {
      throw new Fail('noise message 2', e.message);
    }
    if (remote.peerId !== expectPeer)
      throw new Fail('noise message 2', `dialled ${expectPeer} but ` +
        `reached ${remote.peerId}`);
    const m3 = frame(hs.writeMessage3(makePayload(id, hs.sPub, {
      muxers: mode === 'early' ? [YAMUX] : null,
      badSig: mode === 'badsig' })));
    const chan = new SecureChannel(sock, reader, hs.split());

    if (mode === 'badsig') {
      sock.write(m3);
      emit({ event: 'sent', what: 'message 3 with a bad signature',
        localPeer: id.peerId, remotePeer: remote.peerId });
      return await awaitClose(reader, chan, t0);
    }
    emit({ event: 'secured', remotePeer: remote.peerId,
      localPeer: id.peerId, remoteMuxers: remote.muxers });

    // the muxer: early when both list yamux, else multistream-select
    let how;
    if (mode === 'early' && remote.muxers !== null &&
        remote.muxers.length > 0) {
      if (!remote.muxers.includes(YAMUX))
        throw new Fail('muxer', 'remote offers no ' + YAMUX + ': ' +
          JSON.stringify(remote.muxers));
      how = 'early';
    } else {
      how = 'multistream';
    }
    const yamux = new Yamux(chan);
    // message 3, then what follows it: in one write unless --separate
    const pending = [m3];
    const flush = () => {
      if (pending.length === 0) return;
      sock.write(Buffer.concat(pending));
      pending.length = 0;
    };
    const later = async data => {
      if (opts.separate) {
        flush();
        await sleep(100);
        sock.write(data);
      } else {
        pending.push(data);
      }
    };
    const refused = [];
    if (how === 'multistream') {
      // one Noise frame for all, or one for each byte with --trickle
      const seal = data => opts.trickle ?
        Buffer.concat([...data].map(b => chan.seal(Buffer.from([b])))) :
        chan.seal(data);
      const proposals = opts.naFirst ? [MPLEX, YAMUX] : [YAMUX];
      await later(seal(msEncode(MSS, proposals[0])));
      flush();
      await msExpect(chan, MSS, 'muxer multistream header');
      for (let i = 0; ; i++) {
        const got = await msRead(chan, 'muxer multistream ' + proposals[i]);
        if (got === proposals[i] && got === YAMUX) break;
        if (got !== 'na' || i + 1 === proposals.length)
          throw new Fail('muxer multistream ' + proposals[i],
            `expected ${JSON.stringify(proposals[i])}` +
            `${i + 1 < proposals.length ? ' or "na"' : ''}, got ` +
            JSON.stringify(got));
        refused.push(proposals[i]);
        sock.write(seal(msEncode(proposals[i + 1])));
      }
    }
    emit({ event: 'muxer', how, refused });

    // stream 1: multistream-select /ipfs/ping/1.0.0, then a ping
    yamux.stream = 1;
    await later(chan.seal(yHeader(Y_WINDOW, F_SYN, 1, 0)));
    flush();
    const first = opts.propose ? [opts.propose] : [];
    yamux.send(msEncode(MSS, ...first, PING));
    await msExpect(yamux, MSS, 'stream multistream header');
    if (opts.propose) {
      await msExpect(yamux, 'na', 'stream multistream proposal');
      emit({ event: 'proposed', bytes: opts.propose.length, answer: 'na' });
    }
    await msExpect(yamux, PING, 'stream multistream ' + PING);
    const payload = crypto.randomBytes(32);
    const sent = process.hrtime.bigint();
    yamux.send(payload);
    const back = await yamux.read(32, 'ping echo');
    const rtt = Number(process.hrtime.bigint() - sent) / 1e6;
    if (!back.equals(payload))
      throw new Fail('ping echo', 'the echo differs', {
        sent: payload.toString('hex'), got: back.toString('hex') });
    emit({ event: 'ping', ok: true, rtt: Math.round(rtt * 1000) / 1000,
      refusedStreams: yamux.refused, pingsAnswered: yamux.pings });

    if (opts.hold) {
      chan.write(yHeader(Y_WINDOW, F_FIN, 1, 0));
      return await hold(yamux);
    }
    // close the stream, then the session
    chan.write(Buffer.concat([yHeader(Y_WINDOW, F_FIN, 1, 0),
      yHeader(Y_GOAWAY, 0, 0, 0)]));
    await new Promise(r => sock.end(r));
    return 0;
  } finally {
    sock.destroy();
  }
}

// --hold: after the ping, keep the session, answering the remote's
// pings, until the remote sends GoAway (exit 0) or closes (a failure).
async function hold(yamux) {
  yamux.stream = -1;
  emit({ event: 'holding' });
  try {
    for (;;)
      await yamux.frame('holding the session');
  } catch (e) {
    const m = /^remote sent yamux GoAway, code (\d+)$/.exec(e.message ?? '');
    if (!(e instanceof Fail) || m === null) throw e;
    emit({ event: 'goaway', code: Number(m[1]) });
    return 0;
  }
}

// badsig: the remote must close the connection; anything it sends that
// decrypts means it took the handshake.
async function awaitClose(reader, chan, t0) {
  const end = Date.now() + TIMEOUT;
  while (reader.closed === null) {
    if (reader.buf.length > 0) {
      const got = reader.buf;
      let accepted = false;
      try {
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
          chan.rx.decrypt(Buffer.alloc(0),
            got.subarray(2, 2 + got.readUInt16BE(0)));
          accepted = true;
        }
      } catch (e) {
        // not a transport message of this session
      }
      if (accepted)
        throw new Fail('badsig', 'the remote accepted the bad signature ' +
          'and sent encrypted data', { got: got.toString('hex') });
      if (got.length > 65537)
        throw new Fail('badsig', 'the remote sent data instead of closing',
          { got: got.subarray(0, 64).toString('hex') });
    }
    const left = end - Date.now();
    if (left <= 0 || !(await reader.wait(left)))
      throw new Fail('badsig', `the connection is still open after ` +
        `${TIMEOUT / 1000} s`, { got: reader.buf.toString('hex') });
  }
  emit({ event: 'refused', how: reader.closed, ms: Date.now() - t0,
    bytesAfter: reader.buf.length });
  return 0;
}

// --- vectors ------------------------------------------------------------

function parseVectors(text) {
  const vectors = [];
  let v = null;
  const hex = s => Buffer.from(s === '-' ? '' : s, 'hex');
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const w = line.split(/\s+/);
    if (w[0] === 'vector') {
      v = { name: w[1], msgs: [] };
    } else if (w[0] === 'end') {
      vectors.push(v);
      v = null;
    } else if (v === null) {
      throw new Error('outside a vector: ' + line);
    } else if (w[0] === 'msg') {
      v.msgs.push({ payload: hex(w[1]), ct: hex(w[2]) });
    } else {
      v[w[0]] = hex(w[1]);
    }
  }
  if (v !== null) throw new Error('vector ' + v.name + ' has no end');
  return vectors;
}

function replay(v) {
  const hs = new NoiseXXInitiator({
    staticKey: x25519FromRaw(v.init_static),
    ephemeralKey: x25519FromRaw(v.init_ephemeral),
    prologue: v.prologue || Buffer.alloc(0) });
  const m = v.msgs;
  if (m.length < 3) throw new Error('fewer than three messages');
  const check = (k, got, want, what) => {
    if (!got.equals(want))
      throw new Error(`message ${k}: ${what} ${got.toString('hex')}, ` +
        `expected ${want.toString('hex')}`);
  };
  check(0, hs.writeMessage1(m[0].payload), m[0].ct, 'ciphertext');
  check(1, hs.readMessage2(m[1].ct), m[1].payload, 'payload');
  check(1, hs.rs, rawPublic(x25519FromRaw(v.resp_static)),
    'responder static key');
  check(2, hs.writeMessage3(m[2].payload), m[2].ct, 'ciphertext');
  if (v.handshake_hash)
    check(2, hs.h, v.handshake_hash, 'handshake hash');
  const { tx, rx } = hs.split();
  for (let k = 3; k < m.length; k++) {
    if (k % 2 === 0)
      check(k, tx.encrypt(Buffer.alloc(0), m[k].payload), m[k].ct,
        'ciphertext');
    else
      check(k, rx.decrypt(Buffer.alloc(0), m[k].ct), m[k].payload,
        'payload');
  }
  return m.length;
}

function vectors(path) {
  const list = parseVectors(fs.readFileSync(path, 'utf8'));
  let bad = 0;
  for (const v of list) {
    try {
      const n = replay(v);
      emit({ event: 'vector', name: v.name, ok: true, messages: n,
        handshakeHash: Boolean(v.handshake_hash) });
    } catch (e) {
      bad++;
      emit({ event: 'vector', name: v.name, ok: false, error: e.message });
    }
  }
  const ok = bad === 0 && list.length > 0;
  emit({ event: 'vectors', ok, count: list.length, failed: bad });
  return ok ? 0 : 1;
}

// --- main ---------------------------------------------------------------

function usage() {
  process.stderr.write('usage: rawnoise.mjs early HOST PORT PEERID ' +
    '[--separate] [--propose=HEX] [--hold]\n' +
    '       rawnoise.mjs fallback HOST PORT PEERID [--separate] ' +
    '[--na-first]\n' +
    '                [--trickle] [--propose=HEX] [--hold]\n' +
    '       rawnoise.mjs badsig HOST PORT PEERID\n' +
    '       rawnoise.mjs vectors PATH\n');
  process.exit(2);
}

async function main() {
  const args = process.argv.slice(2);
  const mode = args[0];
  if (mode === 'vectors') {
    if (args.length !== 2) usage();
    return vectors(args[1]);
  }
  if (!['early', 'fallback', 'badsig'].includes(mode)) usage();
  const flags = { '--separate': 'separate', '--na-first': 'naFirst',
    '--trickle': 'trickle', '--hold': 'hold' };
  const opts = {};
  const rest = [];
  for (const a of args.slice(1)) {
    if (a in flags) opts[flags[a]] = true;
    else if (/^--propose=([0-9a-fA-F]{2})+$/.test(a))
      opts.propose = Buffer.from(a.slice(10), 'hex');
    else if (a.startsWith('--')) usage();
    else rest.push(a);
  }
  if (rest.length !== 3 || !/^\d+$/.test(rest[1])) usage();
  if ((opts.naFirst || opts.trickle) && mode !== 'fallback') usage();
  if (mode === 'badsig' && Object.keys(opts).length > 0) usage();
  return dial(mode, rest[0], Number(rest[1]), rest[2], opts);
}

// The pieces regress/interop/attack.mjs builds its clients from.
export {
  Fail, NoiseXXInitiator, SecureChannel, SocketReader, Yamux, checkPayload,
  connect, emit, frame, makeIdentity, makePayload, msEncode, msExpect,
  msRead, pbBytes, pbParse, pbVarint, readFrame, uvarint, yHeader, base58,
  MSS, NOISE, YAMUX, PING, Y_DATA, Y_WINDOW, Y_PING, Y_GOAWAY, F_SYN, F_ACK,
  F_FIN, F_RST,
};

if (import.meta.url === url.pathToFileURL(process.argv[1]).href) {
  // a last resort, should some wait not be bounded
  const guard = setTimeout(() => {
    emit({ event: 'error', step: 'guard', message: 'still running after ' +
      `${4 * TIMEOUT / 1000} s` });
    process.exit(1);
  }, 4 * TIMEOUT);
  guard.unref();

  main().then(rc => {
    process.exit(rc);
  }, e => {
    const out = { event: 'error', step: e.step || 'internal',
      message: e.message };
    Object.assign(out, e.extra || {});
    if (!(e instanceof Fail)) out.stack = String(e.stack);
    emit(out);
    process.exit(1);
  });
}
