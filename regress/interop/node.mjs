// js-libp2p side of the peerd interoperability tests.
//
//   node --import ./polyfill.mjs node.mjs listen
//   node --import ./polyfill.mjs node.mjs ping    ADDR COUNT
//   node --import ./polyfill.mjs node.mjs streams ADDR N SIZE
//   node --import ./polyfill.mjs node.mjs bulk    ADDR SIZE
//   node --import ./polyfill.mjs node.mjs hold    ADDR
//   node --import ./polyfill.mjs node.mjs watch   ADDR
//   node --import ./polyfill.mjs node.mjs relay
//   node --import ./polyfill.mjs node.mjs reserve RELAYADDR
//   node --import ./polyfill.mjs node.mjs hop     ADDR reserve [stay]
//   node --import ./polyfill.mjs node.mjs hop     ADDR connect PEERID [stay]
//   node --import ./polyfill.mjs node.mjs peerid  SEED
//
// ADDR is a multiaddr ending in /p2p/<peer ID>.  Every result is one JSON
// object per line on stdout; diagnostics go to stderr.  Exit status 0 means
// the mode succeeded.  Every mode but listen, relay, reserve and "hop ...
// stay" gives up after INTEROP_TIMEOUT seconds (default 60), and a dial
// after INTEROP_DIAL_TIMEOUT seconds (default 20); those four run until
// stdin closes or SIGTERM (and at most INTEROP_LISTEN_TIMEOUT seconds,
// default 1800).
//
// Circuit relay v2 (@libp2p/circuit-relay-v2):
//   relay    a relay server on /ip4/127.0.0.1/tcp/0 without default limits
//            (applyDefaultLimit false), 64 reservations of RELAY_TTL_MS
//            (default 2 hours, the js default); prints "listening".
//   reserve  listens on RELAYADDR/p2p-circuit, which makes a reservation,
//            serves ping (echo) and prints "reserved" with its circuit
//            addresses; "reservation" on every reservation or refresh js
//            makes, "reservation-removed" when js drops it.  With
//            RESERVE_REFRESH_MS set it also asks js to refresh that often
//            (js itself refreshes 5 minutes before expiry, and never
//            sooner than 30 s after the reservation).
//   hop      opens a raw /libp2p/circuit/relay/0.2.0/hop stream, sends a
//            hand-encoded RESERVE, or CONNECT to PEERID, and prints the
//            decoded answer as "hop"; with stay it keeps the connection
//            to the relay (and so the reservation) until stdin closes.
//   peerid   prints the peer ID of the Ed25519 key of SEED.
// A dial to an ADDR with /p2p-circuit goes through the relay transport,
// and streams run on limited (relayed) connections too.  PEER_KEY_SEED
// (64 hex digits) makes the node's Ed25519 key from that seed.
// watch    keeps one connection to ADDR, with identify-push served, and
//          prints "addrs" with the remote's addresses in the peer store
//          (and whether each came from its signed record) when
//          connected and at each identify or identify-push, with the id
//          of the connection; "closed" if that connection closes.  Runs
//          until stdin closes, as listen does.
// INTEROP_LISTEN_TCP=1 makes a mode that does not listen (ping, ...) listen
// on /ip4/127.0.0.1/tcp/0 too, so that identify tells that address; its
// "connected" event then gives the node's own addresses as localAddrs.
//
// WebSocket (@libp2p/websockets, on the ws package's client and server;
// the client offers permessage-deflate, as browsers do):
// INTEROP_WS=1 adds the transport and makes every listen on
// /ip4/127.0.0.1/tcp/0 (listen, relay, INTEROP_LISTEN_TCP) one on
// /ip4/127.0.0.1/tcp/0/ws instead; INTEROP_WS=both listens on both.  A
// mode whose ADDR or RELAYADDR has /ws gets the transport without it.  A
// /tcp/N/ws address is dialled only by the WebSocket transport (the TCP
// one takes bare /tcp/N only), as plain ws:// to the host and port, path
// "/", no subprotocol; this version has no filter option: it dials /ws
// and /tls/ws addresses whatever the host, 127.0.0.1 included.  Its
// listener answers an upgrade on any path; its remoteAddr is the
// client's /ip4/A/tcp/P/ws.
//
// TCP + Noise XX + yamux, identify and ping, as the js-libp2p defaults have
// them, except: ping accepts and opens up to 1024 streams per connection
// (the default is 2 inbound, 1 outbound) and lets an inbound ping stream
// live for INTEROP_TIMEOUT seconds (the default is 10 s), so that streams,
// bulk and hold can be tried js-to-js.
import './polyfill.mjs'
import { createHash, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPairFromSeed, publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify, identifyPush } from '@libp2p/identify'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { WebSocket as WsClient } from 'ws'

// @libp2p/websockets dials with the global WebSocket, which Node 20 lacks
// and Node 22 takes from its undici: the pinned ws client on every Node
globalThis.WebSocket = WsClient

const PING = '/ipfs/ping/1.0.0'
const HOP = '/libp2p/circuit/relay/0.2.0/hop'
const RSVP_DOMAIN = 'libp2p-relay-rsvp'
const STATUS_NAMES = { 100: 'OK', 200: 'RESERVATION_REFUSED', 201: 'RESOURCE_LIMIT_EXCEEDED', 202: 'PERMISSION_DENIED', 203: 'CONNECTION_FAILED', 204: 'NO_RESERVATION', 400: 'MALFORMED_MESSAGE', 401: 'UNEXPECTED_MESSAGE' }
const CHUNK = 64 * 1024
const TIMEOUT = 1000 * Number(process.env.INTEROP_TIMEOUT ?? 60)
const LISTEN_TIMEOUT = 1000 * Number(process.env.INTEROP_LISTEN_TIMEOUT ?? 1800)
const DIAL_TIMEOUT = Math.min(TIMEOUT, 1000 * Number(process.env.INTEROP_DIAL_TIMEOUT ?? 20))
const LISTEN_TCP = process.env.INTEROP_LISTEN_TCP === '1'
const WS = process.env.INTEROP_WS ?? ''
if (!['', '0', '1', 'both'].includes(WS)) {
  process.stderr.write('node.mjs: INTEROP_WS is 1, both, or unset\n')
  process.exit(2)
}

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function hex (buf) {
  return buf == null ? null : Buffer.from(buf).toString('hex')
}

function errstr (err) {
  if (err == null) return 'unknown error'
  return `${err.name ?? 'Error'}: ${err.message ?? String(err)}`
}

function usage () {
  process.stderr.write('usage: node.mjs listen | ping ADDR COUNT | streams ADDR N SIZE | bulk ADDR SIZE | hold ADDR | watch ADDR |\n' +
    '       relay | reserve RELAYADDR | hop ADDR reserve [stay] | hop ADDR connect PEERID [stay] | peerid SEED\n')
  process.exit(2)
}

function posint (s) {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) usage()
  return n
}

// Resolve with p, or reject after ms with a TimeoutError named what.
function within (p, ms, what) {
  let timer
  const t = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { name: 'TimeoutError' })), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

let node = null
let exiting = false

async function finish (code) {
  if (exiting) return
  exiting = true
  if (node != null) {
    try {
      await within(node.stop(), 5000, 'stop')
    } catch (err) {
      process.stderr.write(`node.mjs: stop: ${errstr(err)}\n`)
    }
  }
  process.exit(code)
}

// a reader that went away (EPIPE) ends us
process.stdout.on('error', () => process.exit(4))
process.on('unhandledRejection', (err) => {
  process.stderr.write(`node.mjs: unhandled rejection: ${errstr(err)}\n`)
})
process.on('uncaughtException', (err) => {
  process.stderr.write(`node.mjs: uncaught exception: ${errstr(err)}\n${err?.stack ?? ''}\n`)
})

// The Ed25519 key of a 32-byte seed given as 64 hex digits.
async function keyFromSeed (seed) {
  if (!/^[0-9a-fA-F]{64}$/.test(seed ?? '')) throw new Error('a seed is 64 hex digits')
  return generateKeyPairFromSeed('Ed25519', Uint8Array.from(Buffer.from(seed, 'hex')))
}

function hasWs (addr) {
  try {
    return multiaddr(addr).getComponents().some(c => c.name === 'ws')
  } catch {
    return false
  }
}

// Where a node that listens listens: TCP, /ws or both (INTEROP_WS).
function listenAddrs () {
  const tcpAddr = '/ip4/127.0.0.1/tcp/0'
  if (WS === '1') return [tcpAddr + '/ws']
  if (WS === 'both') return [tcpAddr, tcpAddr + '/ws']
  return [tcpAddr]
}

// opts.relayTransport adds the circuit relay transport (to dial or listen
// on /p2p-circuit addresses), opts.relayServer a relay server, opts.ws
// the WebSocket transport.
async function makeNode (listen, opts = {}) {
  const transports = [tcp()]
  if (WS === '1' || WS === 'both' || opts.ws) transports.push(webSockets())
  const services = {
    identify: identify(),
    ping: ping({ maxInboundStreams: 1024, maxOutboundStreams: 1024, timeout: TIMEOUT, runOnLimitedConnection: true })
  }
  if (opts.identifyPush) services.identifyPush = identifyPush()
  if (opts.relayTransport) transports.push(circuitRelayTransport({ reservationCompletionTimeout: DIAL_TIMEOUT }))
  if (opts.relayServer) {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: 64,
        // RELAY_APPLY_DEFAULT_LIMIT=1: js's defaults (2 min, 128 KiB)
        applyDefaultLimit: process.env.RELAY_APPLY_DEFAULT_LIMIT === '1',
        reservationTtl: process.env.RELAY_TTL_MS != null ? Number(process.env.RELAY_TTL_MS) : undefined
      }
    })
  }
  const init = {
    addresses: { listen: listen || LISTEN_TCP ? listenAddrs() : [] },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services
  }
  if (process.env.PEER_KEY_SEED != null && process.env.PEER_KEY_SEED !== '') init.privateKey = await keyFromSeed(process.env.PEER_KEY_SEED)
  return createLibp2p(init)
}

// Dial ADDR; resolve with the connection and a promise of the remote's
// identify result (the identify service runs it on every new connection).
async function dial (addr) {
  const ma = multiaddr(addr)
  const want = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  let resolveId
  const identified = new Promise(resolve => { resolveId = resolve })
  node.addEventListener('peer:identify', (evt) => {
    if (want == null || evt.detail.peerId.toString() === want) resolveId(evt.detail)
  })
  const conn = await node.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT) })
  const ev = { event: 'connected', peerId: conn.remotePeer.toString(), localPeerId: node.peerId.toString(), remoteAddr: conn.remoteAddr.toString(), multiplexer: conn.multiplexer ?? null, encryption: conn.encryption ?? null }
  if (conn.limits != null) ev.limits = limitsOf(conn)
  if (LISTEN_TCP) ev.localAddrs = node.getMultiaddrs().map(String)
  emit(ev)
  return { conn, identified }
}

// Wait until a stream that refused more data (send() returned false) wants
// more.  Not stream.onDrain(): in @libp2p/utils 7.4.1 its promise is never
// reset, so after the first drain it resolves at once and a writer loop
// spins without ever yielding to I/O.
function drained (stream) {
  if (!stream.writableNeedsDrain) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onDrain = () => { cleanup(); resolve() }
    const onClose = (evt) => { cleanup(); reject(evt.error ?? new Error('stream closed while waiting for drain')) }
    const cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}

// Open a ping stream, send size bytes from next() while reading the echo
// concurrently; onData sees every received chunk.  Resolves when size bytes
// have come back (and the remote closed its end, if it does so within 5 s).
async function echo (conn, size, next, onData, onFlowing) {
  const stream = await conn.newStream(PING, { signal: AbortSignal.timeout(DIAL_TIMEOUT), runOnLimitedConnection: true })
  let got = 0
  let remoteClosed = false
  let resolveAll, rejectAll, resolveEnd
  const all = new Promise((resolve, reject) => { resolveAll = resolve; rejectAll = reject })
  const ended = new Promise(resolve => { resolveEnd = resolve })
  stream.addEventListener('message', (evt) => {
    const buf = evt.data.subarray()
    if (got === 0 && onFlowing != null) onFlowing()
    got += buf.byteLength
    onData(buf)
    if (size !== Infinity && got > size) rejectAll(new Error(`echo sent ${got} bytes, more than the ${size} written`))
    else if (got === size) resolveAll()
  })
  stream.addEventListener('remoteCloseWrite', () => {
    remoteClosed = true
    resolveEnd()
    if (got < size) rejectAll(new Error(`remote closed after ${got} of ${size} bytes`))
  })
  stream.addEventListener('close', (evt) => {
    resolveEnd()
    if (evt.error != null) rejectAll(evt.error)
    else if (got < size) rejectAll(new Error(`stream closed after ${got} of ${size} bytes`))
  })
  const writer = (async () => {
    let sent = 0
    while (sent < size && stream.writeStatus === 'writable') {
      const chunk = next(Math.min(CHUNK, size - sent))
      sent += chunk.byteLength
      if (!stream.send(chunk)) await drained(stream)
    }
    if (stream.writeStatus === 'writable') await stream.close()
  })()
  writer.catch(rejectAll)
  await Promise.all([writer, all])
  await within(ended, 5000, 'remote close').catch(() => {})
  if (stream.status === 'open') stream.abort(new Error('done'))
  return { bytes: got, remoteClosed }
}

async function modeListen () {
  node.addEventListener('connection:open', (evt) => {
    const c = evt.detail
    emit({ event: 'open', peerId: c.remotePeer.toString(), direction: c.direction, remoteAddr: c.remoteAddr.toString() })
  })
  node.addEventListener('peer:identify', (evt) => {
    const r = evt.detail
    emit({ event: 'connection', peerId: r.peerId.toString(), agent: r.agentVersion ?? null, protocolVersion: r.protocolVersion ?? null, protocols: r.protocols, direction: r.connection?.direction ?? null })
  })
  node.addEventListener('peer:disconnect', (evt) => {
    emit({ event: 'disconnect', peerId: evt.detail.toString() })
  })
  emit({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
  const stop = () => finish(0)
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  setTimeout(() => { emit({ event: 'error', error: 'listen timeout' }); finish(3) }, LISTEN_TIMEOUT).unref()
  await new Promise(() => {})
}

async function modePing (addr, count) {
  const { conn, identified } = await dial(addr)
  let failed = 0
  for (let seq = 1; seq <= count; seq++) {
    const t0 = performance.now()
    try {
      // js never reuses a limited connection for a dial by peer ID, so a
      // ping by peer ID would open a new circuit each time: ping on conn
      const rtt = conn.limits == null
        ? await node.services.ping.ping(conn.remotePeer, { signal: AbortSignal.timeout(10000) })
        : await pingOn(conn, 10000)
      emit({ event: 'ping', seq, rtt, elapsed: Number((performance.now() - t0).toFixed(3)) })
    } catch (err) {
      failed++
      emit({ event: 'ping', seq, error: errstr(err) })
    }
  }
  let r
  try {
    r = await within(identified, 10000, 'identify')
  } catch (err) {
    // the automatic run did not finish: ask once more ourselves
    try {
      r = await node.services.identify.identify(conn, { signal: AbortSignal.timeout(10000) })
    } catch (err2) {
      emit({ event: 'identify', error: `${errstr(err)}; explicit identify: ${errstr(err2)}` })
    }
  }
  if (r != null) {
    let publicKey = r.publicKey
    if (publicKey == null) {
      const peer = await node.peerStore.get(r.peerId).catch(() => null)
      if (peer?.publicKey != null) publicKey = publicKeyToProtobuf(peer.publicKey)
    }
    emit({
      event: 'identify',
      agentVersion: r.agentVersion ?? null,
      protocolVersion: r.protocolVersion ?? null,
      protocols: r.protocols ?? [],
      publicKey: hex(publicKey),
      peerId: r.peerId.toString(),
      listenAddrs: (r.listenAddrs ?? []).map(String),
      observedAddr: r.observedAddr == null ? null : r.observedAddr.toString(),
      signedPeerRecord: r.signedPeerRecord == null ? null : { seq: r.signedPeerRecord.seq.toString(), addresses: r.signedPeerRecord.addresses.map(String) }
    })
  }
  return failed === 0 ? 0 : 1
}

async function modeStreams (addr, n, size) {
  const { conn } = await dial(addr)
  const t0 = performance.now()
  const results = await Promise.allSettled(Array.from({ length: n }, async (_, i) => {
    const sent = randomBytes(size)
    const recv = Buffer.alloc(size)
    let off = 0
    let woff = 0
    const r = await echo(conn, size, (len) => { const c = sent.subarray(woff, woff + len); woff += len; return c }, (buf) => {
      if (off + buf.byteLength <= size) recv.set(buf, off)
      off += buf.byteLength
    })
    if (!sent.equals(recv)) throw new Error(`stream ${i}: echo differs from what was sent`)
    return r
  }))
  let ok = 0
  let bytes = 0
  let remoteClosed = 0
  const errors = []
  for (const r of results) {
    if (r.status === 'fulfilled') {
      ok++
      bytes += r.value.bytes
      if (r.value.remoteClosed) remoteClosed++
    } else {
      errors.push(errstr(r.reason))
    }
  }
  emit({ event: 'streams', ok, failed: n - ok, bytes, remoteClosed, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)), errors: [...new Set(errors)].slice(0, 5) })
  return ok === n ? 0 : 1
}

async function modeBulk (addr, size) {
  const { conn } = await dial(addr)
  const hs = createHash('sha256')
  const hr = createHash('sha256')
  const t0 = performance.now()
  const r = await echo(conn, size, (len) => { const c = randomBytes(len); hs.update(c); return c }, (buf) => hr.update(buf))
  const seconds = (performance.now() - t0) / 1000
  const sent = hs.digest('hex')
  const received = hr.digest('hex')
  emit({ event: 'bulk', sent, received, bytes: r.bytes, remoteClosed: r.remoteClosed, seconds: Number(seconds.toFixed(3)), mibps: Number((r.bytes / 1048576 / seconds).toFixed(1)) })
  return sent === received && r.bytes === size ? 0 : 1
}

async function modeHold (addr) {
  const { conn } = await dial(addr)
  const block = randomBytes(CHUNK)
  let total = 0
  await echo(conn, Infinity, () => block, (buf) => { total += buf.byteLength }, () => emit({ event: 'started' }))
  emit({ event: 'error', error: `hold stream ended after ${total} bytes` })
  return 1
}

async function modeWatch (addr) {
  const { conn } = await dial(addr)
  const peerId = conn.remotePeer
  const report = async (why) => {
    const peer = await node.peerStore.get(peerId).catch(() => null)
    if (peer == null) return
    emit({ event: 'addrs', why, conn: conn.id, status: conn.status, addrs: peer.addresses.map(a => a.multiaddr.toString()), certified: peer.addresses.filter(a => a.isCertified).map(a => a.multiaddr.toString()) })
  }
  node.addEventListener('peer:identify', (evt) => {
    if (evt.detail.peerId.equals(peerId)) report('identify').catch(() => {})
  })
  node.addEventListener('connection:close', (evt) => {
    if (evt.detail.id === conn.id) emit({ event: 'closed', conn: conn.id })
  })
  await report('connected')
  const stop = () => finish(0)
  process.on('SIGTERM', stop)
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  setTimeout(() => { emit({ event: 'error', error: 'watch timeout' }); finish(3) }, LISTEN_TIMEOUT).unref()
  await new Promise(() => {})
}

// One ping (32 bytes echoed) on a connection we already have; the rtt in ms.
async function pingOn (conn, ms) {
  const signal = AbortSignal.timeout(ms)
  const stream = await conn.newStream(PING, { signal, runOnLimitedConnection: true })
  const data = randomBytes(32)
  const t0 = performance.now()
  try {
    const got = await readBytes(stream, 32, signal, () => stream.send(data))
    if (!data.equals(got)) throw new Error('wrong ping answer')
    return Number((performance.now() - t0).toFixed(3))
  } finally {
    if (stream.status === 'open') stream.abort(new Error('done'))
  }
}

// Collect a stream's bytes until want(buf) says how many make a message
// (or 0 for not yet); start() runs once the listeners are in place.
function readUntil (stream, want, signal, start) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    let done = false
    const finish = (err, val) => {
      if (done) return
      done = true
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('remoteCloseWrite', onEnd)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (err != null) reject(err)
      else resolve(val)
    }
    const check = () => {
      let n
      try {
        n = want(buf)
      } catch (err) {
        finish(err)
        return
      }
      if (n > 0) finish(null, buf.subarray(0, n))
    }
    const onMessage = (evt) => {
      buf = Buffer.concat([buf, Buffer.from(evt.data.subarray())])
      check()
    }
    const onEnd = () => finish(new Error(`remote closed its end after ${buf.length} bytes`))
    const onClose = (evt) => finish(evt.error ?? new Error(`stream closed after ${buf.length} bytes`))
    const onAbort = () => finish(Object.assign(new Error(`no answer within the timeout, ${buf.length} bytes read`), { name: 'TimeoutError' }))
    stream.addEventListener('message', onMessage)
    stream.addEventListener('remoteCloseWrite', onEnd)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
    if (signal.aborted) onAbort()
    try {
      start?.()
    } catch (err) {
      finish(err)
    }
  })
}

function readBytes (stream, n, signal, start) {
  return readUntil(stream, (buf) => buf.length >= n ? n : 0, signal, start)
}

// --- a tiny protobuf codec for circuit relay v2 ------------------------

function varintEncode (n) {
  const out = []
  let v = BigInt(n)
  do {
    let b = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) b |= 0x80
    out.push(b)
  } while (v > 0n)
  return Buffer.from(out)
}

// [value, next offset] of the varint at off, or null when it is incomplete
function varintDecode (buf, off) {
  let v = 0n
  let shift = 0n
  for (let i = off; i < buf.length && i < off + 10; i++) {
    v |= BigInt(buf[i] & 0x7f) << shift
    shift += 7n
    if ((buf[i] & 0x80) === 0) return [v, i + 1]
  }
  if (buf.length >= off + 10) throw new Error('varint too long')
  return null
}

// The length of a complete varint-length-prefixed frame at the start of
// buf, or 0.
function frameLength (buf) {
  const r = varintDecode(buf, 0)
  if (r == null) return 0
  const len = Number(r[0])
  if (len > 64 * 1024) throw new Error(`frame of ${len} bytes`)
  return buf.length >= r[1] + len ? r[1] + len : 0
}

function unframe (buf) {
  const [len, off] = varintDecode(buf, 0)
  return buf.subarray(off, off + Number(len))
}

function frame (msg) {
  return Buffer.concat([varintEncode(msg.length), msg])
}

// The fields of a protobuf message: field number -> list of values
// (BigInt for varints, Buffer for length-delimited fields).
function pbFields (buf) {
  const fields = new Map()
  let off = 0
  while (off < buf.length) {
    const k = varintDecode(buf, off)
    if (k == null) throw new Error('truncated key')
    off = k[1]
    const field = Number(k[0] >> 3n)
    const wire = Number(k[0] & 7n)
    let val
    if (wire === 0) {
      const r = varintDecode(buf, off)
      if (r == null) throw new Error('truncated varint')
      val = r[0]
      off = r[1]
    } else if (wire === 2) {
      const r = varintDecode(buf, off)
      if (r == null) throw new Error('truncated length')
      const len = Number(r[0])
      if (r[1] + len > buf.length) throw new Error('truncated field')
      val = buf.subarray(r[1], r[1] + len)
      off = r[1] + len
    } else if (wire === 1) {
      val = buf.subarray(off, off + 8)
      off += 8
    } else if (wire === 5) {
      val = buf.subarray(off, off + 4)
      off += 4
    } else {
      throw new Error(`wire type ${wire}`)
    }
    if (off > buf.length) throw new Error('truncated field')
    if (!fields.has(field)) fields.set(field, [])
    fields.get(field).push(val)
  }
  return fields
}

function pbOne (fields, n) {
  const v = fields.get(n)
  return v == null ? undefined : v[v.length - 1]
}

function maString (bytes) {
  try {
    return multiaddr(bytes).toString()
  } catch {
    return `bad multiaddr ${hex(bytes)}`
  }
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function base58 (bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  let s = ''
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s
    n /= 58n
  }
  for (const b of bytes) {
    if (b !== 0) break
    s = '1' + s
  }
  return s
}

// Open a signed envelope holding a reservation voucher: its fields and
// whether the signature checks out over the relay-rsvp domain.
async function openVoucher (env) {
  const out = { voucherSigned: false }
  try {
    const f = pbFields(env)
    const pk = pbOne(f, 1)
    const type = pbOne(f, 2) ?? Buffer.alloc(0)
    const payload = pbOne(f, 3) ?? Buffer.alloc(0)
    const sig = pbOne(f, 5) ?? Buffer.alloc(0)
    out.voucherPayloadType = hex(type)
    const domain = Buffer.from(RSVP_DOMAIN)
    const signed = Buffer.concat([varintEncode(domain.length), domain, varintEncode(type.length), type, varintEncode(payload.length), payload])
    if (pk != null) {
      const key = publicKeyFromProtobuf(pk)
      out.voucherSigner = peerIdFromString(base58(key.toMultihash().bytes)).toString()
      out.voucherSigned = (await key.verify(signed, sig)) === true
    }
    const v = pbFields(payload)
    if (pbOne(v, 1) != null) out.voucherRelay = base58(pbOne(v, 1))
    if (pbOne(v, 2) != null) out.voucherPeer = base58(pbOne(v, 2))
    if (pbOne(v, 3) != null) out.voucherExpiration = Number(pbOne(v, 3))
  } catch (err) {
    out.voucherError = errstr(err)
  }
  return out
}

// A HopMessage answer as the tests see it.
async function decodeHop (msg) {
  const f = pbFields(msg)
  const out = { event: 'hop' }
  const type = pbOne(f, 1)
  out.type = type == null ? null : Number(type)
  const status = pbOne(f, 5)
  out.status = status == null ? null : Number(status)
  out.statusName = STATUS_NAMES[out.status] ?? null
  const rsvp = pbOne(f, 3)
  out.hasReservation = rsvp != null
  out.expire = null
  out.addrs = []
  out.hasVoucher = false
  if (rsvp != null) {
    const r = pbFields(rsvp)
    out.expire = pbOne(r, 1) == null ? null : Number(pbOne(r, 1))
    out.addrs = (r.get(2) ?? []).map(maString)
    const voucher = pbOne(r, 3)
    out.hasVoucher = voucher != null && voucher.length > 0
    if (out.hasVoucher) Object.assign(out, await openVoucher(voucher))
  }
  const limit = pbOne(f, 4)
  out.hasLimit = limit != null
  out.limitDuration = null
  out.limitData = null
  if (limit != null) {
    const l = pbFields(limit)
    if (pbOne(l, 1) != null) out.limitDuration = Number(pbOne(l, 1))
    if (pbOne(l, 2) != null) out.limitData = Number(pbOne(l, 2))
  }
  out.raw = hex(msg)
  return out
}

// --- relay modes -------------------------------------------------------

// Run until stdin closes or SIGTERM, at most INTEROP_LISTEN_TIMEOUT.
async function stayUp (what) {
  const stop = () => finish(0)
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  setTimeout(() => { emit({ event: 'error', error: `${what} timeout` }); finish(3) }, LISTEN_TIMEOUT).unref()
  await new Promise(() => {})
}

function limitsOf (c) {
  if (c.limits == null) return null
  return { bytes: c.limits.bytes != null ? Number(c.limits.bytes) : null, seconds: c.limits.seconds ?? null }
}

function connectionEvents () {
  node.addEventListener('connection:open', (evt) => {
    const c = evt.detail
    emit({ event: 'open', peerId: c.remotePeer.toString(), direction: c.direction, remoteAddr: c.remoteAddr.toString(), limited: c.limits != null, limits: limitsOf(c) })
  })
  node.addEventListener('connection:close', (evt) => {
    const c = evt.detail
    emit({ event: 'close', peerId: c.remotePeer.toString(), direction: c.direction, remoteAddr: c.remoteAddr.toString(), limited: c.limits != null })
  })
}

async function modeRelay () {
  connectionEvents()
  emit({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
  await stayUp('relay')
}

function relayTransportOf () {
  return node.components.transportManager.getTransports()
    .find(t => t[Symbol.toStringTag] === '@libp2p/circuit-relay-v2-transport')
}

async function modeReserve (relayAddr) {
  const ma = multiaddr(relayAddr)
  const relayId = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (relayId == null) throw new Error('the relay address needs /p2p/<relay peer ID>')
  const relayPeer = peerIdFromString(relayId)
  const transport = relayTransportOf()
  if (transport == null) throw new Error('no circuit relay transport')
  const store = transport.reservationStore
  const circuitAddrs = () => node.getMultiaddrs().map(String).filter(a => a.includes('/p2p-circuit'))
  const expireOf = () => {
    const r = store.getReservation(relayPeer)
    return r?.expire == null ? null : Number(r.expire)
  }
  connectionEvents()
  let n = 0
  store.addEventListener('relay:created-reservation', (evt) => {
    const r = evt.detail.details.reservation
    emit({ event: 'reservation', n: ++n, relay: evt.detail.relay.toString(), expire: r?.expire == null ? null : Number(r.expire), at: Math.floor(Date.now() / 1000) })
  })
  store.addEventListener('relay:removed', (evt) => {
    emit({ event: 'reservation-removed', relay: evt.detail.relay.toString(), at: Math.floor(Date.now() / 1000) })
  })
  try {
    await within(node.components.transportManager.listen([ma.encapsulate('/p2p-circuit')]), DIAL_TIMEOUT + 5000, 'reservation')
  } catch (err) {
    emit({ event: 'error', mode: 'reserve', error: errstr(err) })
    return 1
  }
  // the address manager learns the circuit addresses in a microtask
  const t0 = Date.now()
  while (circuitAddrs().length === 0 && Date.now() - t0 < 5000) await new Promise(resolve => setTimeout(resolve, 50))
  const addrs = circuitAddrs()
  if (addrs.length === 0) {
    emit({ event: 'error', mode: 'reserve', error: 'no /p2p-circuit address after the reservation', addrs: node.getMultiaddrs().map(String) })
    return 1
  }
  emit({ event: 'reserved', peerId: node.peerId.toString(), relay: relayId, expire: expireOf(), addrs })
  const every = Number(process.env.RESERVE_REFRESH_MS ?? 0)
  if (every > 0) {
    setInterval(() => {
      // js refreshes in place when the reservation expires within 10
      // minutes and the connection to the relay is still open
      store.addRelay(relayPeer, 'configured').then(
        () => emit({ event: 'refreshed', expire: expireOf(), at: Math.floor(Date.now() / 1000) }),
        (err) => emit({ event: 'refresh-error', error: errstr(err), at: Math.floor(Date.now() / 1000) }))
    }, every).unref()
  }
  await stayUp('reserve')
}

async function modeHop (addr, op, target, stay) {
  let msg
  if (op === 'reserve') {
    msg = Buffer.from([0x08, 0x00])
  } else {
    const id = Buffer.from(peerIdFromString(target).toMultihash().bytes)
    const peer = Buffer.concat([Buffer.from([0x0a]), varintEncode(id.length), id])
    msg = Buffer.concat([Buffer.from([0x08, 0x01, 0x12]), varintEncode(peer.length), peer])
  }
  const conn = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(DIAL_TIMEOUT) })
  emit({ event: 'connected', peerId: conn.remotePeer.toString(), localPeerId: node.peerId.toString(), remoteAddr: conn.remoteAddr.toString() })
  const signal = AbortSignal.timeout(DIAL_TIMEOUT)
  const stream = await conn.newStream(HOP, { signal, runOnLimitedConnection: true })
  const answer = await readUntil(stream, frameLength, signal, () => stream.send(frame(msg)))
  const ev = await decodeHop(unframe(answer))
  ev.op = op
  ev.sent = hex(msg)
  ev.localPeerId = node.peerId.toString()
  emit(ev)
  if (stream.status === 'open') {
    // a CONNECT answered OK would carry the relayed connection: drop it
    if (op === 'connect') stream.abort(new Error('done'))
    else await within(stream.close(), 2000, 'close').catch(() => stream.abort(new Error('done')))
  }
  if (!stay) return ev.status === 100 ? 0 : 1
  connectionEvents()
  await stayUp('hop')
}

async function modePeerId (seed) {
  const key = await keyFromSeed(seed)
  emit({ event: 'peerid', peerId: peerIdFromPrivateKey(key).toString() })
  return 0
}

async function main () {
  const [mode, ...args] = process.argv.slice(2)
  const listen = mode === 'listen' || mode === 'relay'
  let run
  let stays = listen || mode === 'reserve'
  const opts = {}
  switch (mode) {
    case 'listen': if (args.length !== 0) usage(); run = () => modeListen(); break
    case 'ping': if (args.length !== 2) usage(); run = () => modePing(args[0], posint(args[1])); break
    case 'streams': if (args.length !== 3) usage(); run = () => modeStreams(args[0], posint(args[1]), posint(args[2])); break
    case 'bulk': if (args.length !== 2) usage(); run = () => modeBulk(args[0], posint(args[1])); break
    case 'hold': if (args.length !== 1) usage(); run = () => modeHold(args[0]); break
    case 'watch': if (args.length !== 1) usage(); stays = true; opts.identifyPush = true; run = () => modeWatch(args[0]); break
    case 'relay': if (args.length !== 0) usage(); opts.relayServer = true; run = () => modeRelay(); break
    case 'reserve': if (args.length !== 1) usage(); opts.relayTransport = true; run = () => modeReserve(args[0]); break
    case 'hop': {
      const op = args[1]
      const n = op === 'reserve' ? 2 : op === 'connect' ? 3 : 0
      if (n === 0 || (args.length !== n && !(args.length === n + 1 && args[n] === 'stay'))) usage()
      const stay = args.length === n + 1
      stays = stay
      run = () => modeHop(args[0], op, args[2], stay)
      break
    }
    case 'peerid': if (args.length !== 1) usage(); return modePeerId(args[0]).then((code) => process.exit(code), (err) => { emit({ event: 'error', mode, error: errstr(err) }); process.exit(1) })
    default: usage()
  }
  // a dial through a relay needs the relay transport
  if (['ping', 'streams', 'bulk', 'hold', 'hop'].includes(mode) && args[0].includes('/p2p-circuit')) opts.relayTransport = true
  // and a dial of a /ws address the WebSocket transport
  if (['ping', 'streams', 'bulk', 'hold', 'hop', 'watch', 'reserve'].includes(mode) && hasWs(args[0])) opts.ws = true
  if (!stays) {
    setTimeout(() => {
      emit({ event: 'error', mode, error: `timeout after ${TIMEOUT / 1000} s` })
      finish(3)
    }, TIMEOUT).unref()
  }
  try {
    node = await makeNode(listen, opts)
    const code = await run()
    await finish(code)
  } catch (err) {
    emit({ event: 'error', mode, error: errstr(err) })
    await finish(1)
  }
}

main()
