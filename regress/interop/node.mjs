// js-libp2p side of the peerd interoperability tests.
//
//   node --import ./polyfill.mjs node.mjs listen
//   node --import ./polyfill.mjs node.mjs ping    ADDR COUNT
//   node --import ./polyfill.mjs node.mjs streams ADDR N SIZE
//   node --import ./polyfill.mjs node.mjs bulk    ADDR SIZE
//   node --import ./polyfill.mjs node.mjs hold    ADDR
//
// ADDR is a multiaddr ending in /p2p/<peer ID>.  Every result is one JSON
// object per line on stdout; diagnostics go to stderr.  Exit status 0 means
// the mode succeeded.  Every mode but listen gives up after INTEROP_TIMEOUT
// seconds (default 60), and a dial after INTEROP_DIAL_TIMEOUT seconds
// (default 20); listen runs until stdin closes or SIGTERM (and at most
// INTEROP_LISTEN_TIMEOUT seconds, default 1800).
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
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const PING = '/ipfs/ping/1.0.0'
const CHUNK = 64 * 1024
const TIMEOUT = 1000 * Number(process.env.INTEROP_TIMEOUT ?? 60)
const LISTEN_TIMEOUT = 1000 * Number(process.env.INTEROP_LISTEN_TIMEOUT ?? 1800)
const DIAL_TIMEOUT = Math.min(TIMEOUT, 1000 * Number(process.env.INTEROP_DIAL_TIMEOUT ?? 20))

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
  process.stderr.write('usage: node.mjs listen | ping ADDR COUNT | streams ADDR N SIZE | bulk ADDR SIZE | hold ADDR\n')
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

async function makeNode (listen) {
  return createLibp2p({
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping({ maxInboundStreams: 1024, maxOutboundStreams: 1024, timeout: TIMEOUT })
    }
  })
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
  emit({ event: 'connected', peerId: conn.remotePeer.toString(), localPeerId: node.peerId.toString(), remoteAddr: conn.remoteAddr.toString(), multiplexer: conn.multiplexer ?? null, encryption: conn.encryption ?? null })
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
  const stream = await conn.newStream(PING, { signal: AbortSignal.timeout(DIAL_TIMEOUT) })
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
      const rtt = await node.services.ping.ping(conn.remotePeer, { signal: AbortSignal.timeout(10000) })
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

async function main () {
  const [mode, ...args] = process.argv.slice(2)
  const listen = mode === 'listen'
  let run
  switch (mode) {
    case 'listen': if (args.length !== 0) usage(); run = () => modeListen(); break
    case 'ping': if (args.length !== 2) usage(); run = () => modePing(args[0], posint(args[1])); break
    case 'streams': if (args.length !== 3) usage(); run = () => modeStreams(args[0], posint(args[1]), posint(args[2])); break
    case 'bulk': if (args.length !== 2) usage(); run = () => modeBulk(args[0], posint(args[1])); break
    case 'hold': if (args.length !== 1) usage(); run = () => modeHold(args[0]); break
    default: usage()
  }
  if (!listen) {
    setTimeout(() => {
      emit({ event: 'error', mode, error: `timeout after ${TIMEOUT / 1000} s` })
      finish(3)
    }, TIMEOUT).unref()
  }
  try {
    node = await makeNode(listen)
    const code = await run()
    await finish(code)
  } catch (err) {
    emit({ event: 'error', mode, error: errstr(err) })
    await finish(1)
  }
}

main()
