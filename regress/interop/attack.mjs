#!/usr/bin/env node
// Hostile libp2p clients for the fault tests (regress/fault.py), built on
// the dialer of rawnoise.mjs: node:crypto only, no npm package.
//
// Usage:
//   node attack.mjs pingflood HOST PORT PEERID CONNS STREAMS BYTES SECONDS
//   node attack.mjs connectflood HOST PORT PEERID LANES SECONDS
//   node attack.mjs reserveflood HOST PORT PEERID LANES COUNT SECONDS
//
// pingflood     CONNS connections, dialled 4 at a time (peerd takes at
//               most 8 handshakes from one source), then on each at once
//               STREAMS ping streams with BYTES sent on each (within the
//               256 KiB yamux window), and never a byte read: no echo, no
//               window update, no yamux ping answered.  Writes wait for the socket, so the
//               attacker holds what the kernel will not take.  After
//               SECONDS every connection is dropped.
// connectflood  one connection; LANES hop streams at a time, each a
//               CONNECT to a fresh random peer ID that holds no
//               reservation, for SECONDS.
// reserveflood  COUNT reservations, LANES at a time, each by a fresh
//               identity on a connection of its own: dial, RESERVE on
//               one hop stream, wait for the status, close; for at most
//               SECONDS.  The last line gives the statuses and the peer
//               ID of the first reservation.
//
// Prints one JSON object a line; the last is {"event":"done",...}.

import crypto from 'node:crypto';

import {
  Fail, NoiseXXInitiator, SecureChannel, SocketReader, checkPayload,
  connect, emit, frame, makeIdentity, makePayload, msEncode, pbBytes,
  pbParse, pbVarint, readFrame, uvarint, yHeader, MSS, NOISE, YAMUX,
  PING, Y_DATA, Y_WINDOW, Y_PING, F_SYN, F_ACK, F_FIN, F_RST,
} from './rawnoise.mjs';

const HOP = '/libp2p/circuit/relay/0.2.0/hop';
const CHUNK = 16384;

const sleep = ms => new Promise(r => setTimeout(r, ms));

// Dial, /noise, Noise XX with yamux in the extensions: a secure channel.
async function secure(host, port, expectPeer) {
  const id = makeIdentity();
  const sock = await connect(host, port);
  const reader = new SocketReader(sock);
  sock.write(msEncode(MSS, NOISE));
  for (const want of [MSS, NOISE]) {
    const len = (await reader.read(1, 'multistream'))[0];
    const got = (await reader.read(len, 'multistream')).toString();
    if (got !== want + '\n')
      throw new Fail('multistream', 'expected ' + want + ', got ' + got);
  }
  const hs = new NoiseXXInitiator({
    staticKey: crypto.generateKeyPairSync('x25519').privateKey });
  sock.write(frame(hs.writeMessage1(Buffer.alloc(0))));
  const remote = checkPayload(hs.readMessage2(
    await readFrame(reader, 'noise message 2')), hs.rs);
  if (remote.peerId !== expectPeer)
    throw new Fail('noise', 'reached ' + remote.peerId);
  if (remote.muxers === null || !remote.muxers.includes(YAMUX))
    throw new Fail('noise', 'no early yamux');
  sock.write(frame(hs.writeMessage3(makePayload(id, hs.sPub,
    { muxers: [YAMUX] }))));
  return { sock, reader, chan: new SecureChannel(sock, reader, hs.split()),
    id };
}

// A write that waits until the socket takes it, or gives up at the end.
function put(sock, data, end) {
  if (sock.destroyed) return Promise.resolve(false);
  if (sock.write(data)) return Promise.resolve(true);
  return new Promise(resolve => {
    const t = setTimeout(() => done(false), Math.max(0, end - Date.now()));
    const done = v => {
      clearTimeout(t);
      sock.off('drain', ok);
      sock.off('close', no);
      resolve(v);
    };
    const ok = () => done(true);
    const no = () => done(false);
    sock.once('drain', ok);
    sock.once('close', no);
  });
}

async function floodOne(c, streams, bytes, end, stats) {
  const { sock, chan } = c;
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  sock.pause();			// read nothing, ever
  stats.connected++;
  const body = crypto.randomBytes(CHUNK);
  const ms = msEncode(MSS, PING);
  const budget = Math.min(bytes, 256 * 1024 - ms.length);
  outer:
  for (let s = 0; s < streams; s++) {
    const id = 2 * s + 1;
    if (!await put(sock, chan.seal(Buffer.concat([
      yHeader(Y_WINDOW, F_SYN, id, 0), yHeader(Y_DATA, 0, id, ms.length),
      ms])), end))
      break;
    stats.streams++;
    for (let left = budget; left > 0; left -= CHUNK) {
      const n = Math.min(left, CHUNK);
      if (Date.now() >= end || !await put(sock, chan.seal(Buffer.concat([
        yHeader(Y_DATA, 0, id, n), body.subarray(0, n)])), end))
        break outer;
      stats.sent += n;
    }
  }
  while (!closed && Date.now() < end)
    await sleep(100);
  if (closed)
    stats.closedByPeer++;
  sock.destroy();
}

async function pingflood(host, port, peer, conns, streams, bytes, seconds) {
  const end = Date.now() + seconds * 1000;
  const stats = { connected: 0, failed: 0, streams: 0, sent: 0,
    closedByPeer: 0 };
  // connected a few at a time, as peerd takes at most 8 handshakes from
  // one source at once; then all flood together
  const ready = [];
  for (let i = 0; i < conns; i += 4) {
    const batch = [];
    for (let k = i; k < Math.min(conns, i + 4); k++)
      batch.push(secure(host, port, peer).catch(() => null));
    for (const c of await Promise.all(batch)) {
      if (c === null)
        stats.failed++;
      else
        ready.push(c);
    }
  }
  await Promise.all(ready.map(c => floodOne(c, streams, bytes, end,
    stats)));
  emit({ event: 'done', mode: 'pingflood', ...stats });
  return stats.connected > 0 ? 0 : 1;
}

// The frames of one connection, demultiplexed; pings answered, the
// remote's streams refused.
class Mux {
  constructor(chan) {
    this.chan = chan;
    this.streams = new Map();
    this.closed = null;
    this.loop();
  }

  async loop() {
    try {
      for (;;) {
        const h = await this.chan.read(12, 'frame');
        const type = h[1], flags = h.readUInt16BE(2);
        const id = h.readUInt32BE(4), len = h.readUInt32BE(8);
        if (type === Y_PING) {
          if (flags & F_SYN)
            this.chan.write(yHeader(Y_PING, F_ACK, 0, len));
          continue;
        }
        if (type !== Y_DATA && type !== Y_WINDOW)
          throw new Error('yamux frame type ' + type);
        const body = type === Y_DATA && len > 0 ?
          await this.chan.read(len, 'frame') : Buffer.alloc(0);
        const st = this.streams.get(id);
        if (st === undefined) {
          if ((flags & F_SYN) && id % 2 === 0)
            this.chan.write(yHeader(Y_WINDOW, F_RST, id, 0));
          continue;
        }
        st.buf = Buffer.concat([st.buf, body]);
        if (flags & (F_FIN | F_RST))
          st.done = true;
        st.wake();
      }
    } catch (e) {
      this.closed = e.message;
      for (const st of this.streams.values()) st.wake();
    }
  }

  open(id) {
    const st = { buf: Buffer.alloc(0), done: false, wake: () => {} };
    this.streams.set(id, st);
    return st;
  }

  // The stream's data once it is done or holds n bytes.
  async until(st, pred, end) {
    while (!pred(st.buf) && !st.done && this.closed === null &&
        Date.now() < end)
      await new Promise(r => {
        const t = setTimeout(r, 200);
        st.wake = () => { clearTimeout(t); r(); };
      });
    return st.buf;
  }
}

// A hop message after the two multistream lines, if all of it is there.
function hopStatus(buf) {
  let i = 0;
  for (let k = 0; k < 2; k++) {
    if (i >= buf.length) return null;
    i += 1 + buf[i];
  }
  if (i >= buf.length) return null;
  let n = 0, mul = 1, b;
  do {
    if (i >= buf.length) return null;
    b = buf[i++];
    n += (b & 0x7f) * mul;
    mul *= 128;
  } while (b & 0x80);
  if (i + n > buf.length) return null;
  const msg = { type: -1, status: -1 };
  for (const f of pbParse(buf.subarray(i, i + n))) {
    if (f.field === 1 && f.wire === 0) msg.type = f.value;
    if (f.field === 5 && f.wire === 0) msg.status = f.value;
  }
  return msg;
}

async function connectflood(host, port, peer, lanes, seconds) {
  const end = Date.now() + seconds * 1000;
  const { chan } = await secure(host, port, peer);
  const mux = new Mux(chan);
  const stats = { sent: 0, refused: 0, other: 0, unanswered: 0 };
  let next = 1;
  const lane = async () => {
    while (Date.now() < end && mux.closed === null) {
      const id = next;
      next += 2;
      const st = mux.open(id);
      const dst = Buffer.concat([Buffer.from([0x00, 0x24, 0x08, 0x01, 0x12,
        0x20]), crypto.randomBytes(32)]);
      const connect = Buffer.concat([pbVarint(1, 1),
        pbBytes(2, pbBytes(1, dst))]);
      const ms = msEncode(MSS, HOP);
      const body = Buffer.concat([ms, uvarint(connect.length), connect]);
      chan.write(Buffer.concat([yHeader(Y_WINDOW, F_SYN, id, 0),
        yHeader(Y_DATA, 0, id, body.length), body]));
      stats.sent++;
      const got = hopStatus(await mux.until(st, b => hopStatus(b) !== null,
        end + 5000));
      if (got === null)
        stats.unanswered++;
      else if (got.type === 2 && got.status !== 100)
        stats.refused++;
      else
        stats.other++;
      chan.write(yHeader(Y_WINDOW, F_RST, id, 0));
      mux.streams.delete(id);
    }
  };
  const all = [];
  for (let i = 0; i < lanes; i++) all.push(lane());
  await Promise.all(all);
  emit({ event: 'done', mode: 'connectflood', closed: mux.closed,
    ...stats });
  return stats.refused > 0 ? 0 : 1;
}

// One fresh peer reserves; the status (100 OK), or a string saying why
// none came.
async function reserveOne(host, port, peer, end, stats) {
  let c;
  try {
    c = await secure(host, port, peer);
  } catch (e) {
    return 'handshake: ' + e.message;
  }
  const mux = new Mux(c.chan);
  const st = mux.open(1);
  const req = pbVarint(1, 0);
  const body = Buffer.concat([msEncode(MSS, HOP), uvarint(req.length), req]);
  c.chan.write(Buffer.concat([yHeader(Y_WINDOW, F_SYN, 1, 0),
    yHeader(Y_DATA, 0, 1, body.length), body]));
  const got = hopStatus(await mux.until(st, b => hopStatus(b) !== null,
    end + 5000));
  c.sock.destroy();
  if (got === null)
    return mux.closed === null ? 'no answer' : 'closed: ' + mux.closed;
  if (stats.first === null && got.status === 100)
    stats.first = c.id.peerId;
  return got.status;
}

async function reserveflood(host, port, peer, lanes, count, seconds) {
  const end = Date.now() + seconds * 1000;
  const stats = { asked: 0, ok: 0, statuses: {}, errors: {}, first: null };
  const t0 = Date.now();
  const lane = async () => {
    while (stats.asked < count && Date.now() < end) {
      stats.asked++;
      const r = await reserveOne(host, port, peer, end, stats);
      const into = typeof r === 'number' ? stats.statuses : stats.errors;
      into[r] = (into[r] || 0) + 1;
      if (r === 100) stats.ok++;
    }
  };
  const all = [];
  for (let i = 0; i < lanes; i++) all.push(lane());
  await Promise.all(all);
  emit({ event: 'done', mode: 'reserveflood',
    seconds: (Date.now() - t0) / 1000, ...stats });
  return stats.ok > 0 ? 0 : 1;
}

function usage() {
  process.stderr.write('usage: attack.mjs pingflood HOST PORT PEERID ' +
    'CONNS STREAMS BYTES SECONDS\n' +
    '       attack.mjs connectflood HOST PORT PEERID LANES SECONDS\n' +
    '       attack.mjs reserveflood HOST PORT PEERID LANES COUNT ' +
    'SECONDS\n');
  process.exit(2);
}

async function main() {
  const [mode, host, port, peer, ...rest] = process.argv.slice(2);
  const nums = rest.map(Number);
  if (port === undefined || !/^\d+$/.test(port) || peer === undefined ||
      nums.some(n => !Number.isInteger(n) || n < 0))
    usage();
  if (mode === 'pingflood' && nums.length === 4)
    return pingflood(host, Number(port), peer, ...nums);
  if (mode === 'connectflood' && nums.length === 2)
    return connectflood(host, Number(port), peer, ...nums);
  if (mode === 'reserveflood' && nums.length === 3)
    return reserveflood(host, Number(port), peer, ...nums);
  usage();
}

main().then(rc => process.exit(rc), e => {
  emit({ event: 'error', step: e.step || 'internal', message: e.message,
    stack: String(e.stack) });
  process.exit(1);
});
