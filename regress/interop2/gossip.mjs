// A gossipsub node for the mixed-release tests: js-libp2p 2.x with
// @chainsafe/libp2p-gossipsub 14 from this directory's node_modules, or,
// with GOSSIP_MODULES=../interop, js-libp2p 3.x with @libp2p/gossipsub 17
// from that directory's: the same script on both releases.
//
//   node --import ./polyfill.mjs gossip.mjs TOPIC COUNT [ADDR ...]
//
// Listens on /ip4/127.0.0.1/tcp/0 and prints "listening" (peer ID,
// addresses, the libp2p and gossipsub releases); dials each ADDR (a
// multiaddr ending in /p2p/<peer ID>) and prints "connected"; subscribes
// to TOPIC; once GOSSIP_PEERS peers (default 1) are in its mesh for TOPIC
// prints "mesh" and publishes COUNT messages (0: none), one every
// GOSSIP_INTERVAL_MS (default 100), whose data is "<peer ID> <n>", n from
// 1, each printed as "published" with its recipients; then "done".
// Every message delivered to the application is printed as "message":
// from, the peer it came through (via), topic, seqno (hex), data (text),
// signed (signature and key present as js checked them), id; a peer's
// subscription or unsubscription as "subscription".  A line "publish
// TEXT" on stdin publishes TEXT on TOPIC at once ("published", n 0).
// Every result is one JSON object per line on stdout; diagnostics go to
// stderr.  Runs until stdin closes or SIGTERM, at most GOSSIP_TIMEOUT
// seconds (default 120): not "done" by then is an "error" and exit 1.
// GOSSIP_KEY_SEED (64 hex digits) makes the node's Ed25519 key from that
// seed.  StrictSign, js's defaults otherwise, except that publishing
// with no peer to send to is not an error.
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { dirname, join, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath, pathToFileURL } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const MODDIR = resolve(HERE, process.env.GOSSIP_MODULES ?? '.')
const PEERS = Number(process.env.GOSSIP_PEERS ?? 1)
const INTERVAL = Number(process.env.GOSSIP_INTERVAL_MS ?? 100)
const TIMEOUT = Number(process.env.GOSSIP_TIMEOUT ?? 120) * 1000

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
  process.stderr.write('usage: gossip.mjs TOPIC COUNT [ADDR ...]\n')
  process.exit(2)
}

// A package of MODDIR/node_modules, by its exports, as Node would import
// it from there: its own imports then resolve where it lives.
function pkgOf (spec) {
  const parts = spec.split('/')
  const n = spec.startsWith('@') ? 2 : 1
  return { name: parts.slice(0, n).join('/'), sub: ['.', ...parts.slice(n)].join('/') }
}

function pkgJson (name) {
  return JSON.parse(readFileSync(join(MODDIR, 'node_modules', name, 'package.json'), 'utf8'))
}

async function load (spec) {
  const { name, sub } = pkgOf(spec)
  const pj = pkgJson(name)
  let entry = typeof pj.exports === 'object' && !Array.isArray(pj.exports) && Object.keys(pj.exports)[0]?.startsWith('.')
    ? pj.exports[sub]
    : (sub === '.' ? pj.exports ?? pj.main : undefined)
  if (entry != null && typeof entry === 'object') entry = entry.import ?? entry.default
  if (typeof entry !== 'string') throw new Error(`${spec}: no import entry in ${MODDIR}`)
  return import(pathToFileURL(join(MODDIR, 'node_modules', name, entry)).href)
}

const GOSSIPSUB = existsSync(join(MODDIR, 'node_modules', '@libp2p/gossipsub', 'package.json'))
  ? '@libp2p/gossipsub'
  : '@chainsafe/libp2p-gossipsub'

const args = process.argv.slice(2)
if (args.length < 2) usage()
const [topic, countArg, ...addrs] = args
const count = Number(countArg)
if (topic === '' || !Number.isInteger(count) || count < 0 ||
    !Number.isInteger(PEERS) || PEERS < 0 || !(INTERVAL >= 0) || !(TIMEOUT > 0)) usage()

let node = null
let exiting = false
let done = false

async function finish (code) {
  if (exiting) return
  exiting = true
  if (node != null) {
    try {
      await Promise.race([node.stop(), new Promise(resolve => setTimeout(resolve, 5000))])
    } catch (err) {
      process.stderr.write(`gossip.mjs: stop: ${errstr(err)}\n`)
    }
  }
  process.exit(code)
}

process.stdout.on('error', () => process.exit(4))
process.on('unhandledRejection', (err) => {
  process.stderr.write(`gossip.mjs: unhandled rejection: ${errstr(err)}\n`)
})
process.on('SIGTERM', () => { finish(0) })
process.stdin.on('end', () => { finish(0) })
process.stdin.on('error', () => { finish(0) })
const commands = []
let onCommand = null
createInterface({ input: process.stdin }).on('line', (line) => {
  if (onCommand != null) onCommand(line)
  else commands.push(line)
})
const deadline = setTimeout(() => {
  if (done) finish(0)
  else {
    emit({ event: 'error', error: `timed out after ${TIMEOUT / 1000} s` })
    finish(1)
  }
}, TIMEOUT)

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

try {
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { identify }, { gossipsub }, { multiaddr }, { generateKeyPairFromSeed }] =
    await Promise.all(['libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux',
      '@libp2p/identify', GOSSIPSUB, '@multiformats/multiaddr', '@libp2p/crypto/keys'].map(load))
  const opts = {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true })
    }
  }
  const seed = process.env.GOSSIP_KEY_SEED
  if (seed != null) {
    if (!/^[0-9a-fA-F]{64}$/.test(seed)) throw new Error('GOSSIP_KEY_SEED is 64 hex digits')
    opts.privateKey = await generateKeyPairFromSeed('Ed25519', Uint8Array.from(Buffer.from(seed, 'hex')))
  }
  node = await createLibp2p(opts)
  const ps = node.services.pubsub
  ps.addEventListener('gossipsub:message', (evt) => {
    const { msg, msgId, propagationSource } = evt.detail
    emit({
      event: 'message',
      from: msg.type === 'signed' ? msg.from.toString() : null,
      via: propagationSource.toString(),
      topic: msg.topic,
      seqno: msg.type === 'signed' ? msg.sequenceNumber.toString(16).padStart(16, '0') : null,
      data: Buffer.from(msg.data).toString(),
      signed: msg.type === 'signed' && msg.signature != null,
      id: msgId
    })
  })
  ps.addEventListener('subscription-change', (evt) => {
    for (const sub of evt.detail.subscriptions) {
      emit({ event: 'subscription', peerId: evt.detail.peerId.toString(), topic: sub.topic, subscribe: sub.subscribe })
    }
  })
  node.addEventListener('peer:connect', (evt) => emit({ event: 'connected', peerId: evt.detail.toString() }))
  node.addEventListener('peer:disconnect', (evt) => emit({ event: 'disconnected', peerId: evt.detail.toString() }))
  await node.start()
  emit({
    event: 'listening',
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(String),
    libp2p: pkgJson('libp2p').version,
    gossipsub: `${GOSSIPSUB}@${pkgJson(GOSSIPSUB).version}`
  })
  ps.subscribe(topic)
  for (const a of addrs) {
    await node.dial(multiaddr(a), { signal: AbortSignal.timeout(20000) })
  }
  while (PEERS > 0 && ps.getMeshPeers(topic).length < PEERS) await sleep(50)
  emit({ event: 'mesh', topic, peers: ps.getMeshPeers(topic).map(String) })
  for (let i = 1; i <= count; i++) {
    const data = `${node.peerId.toString()} ${i}`
    const res = await ps.publish(topic, new TextEncoder().encode(data))
    emit({ event: 'published', n: i, data, recipients: res.recipients.map(String) })
    if (i < count) await sleep(INTERVAL)
  }
  done = true
  emit({ event: 'done', published: count })
  onCommand = async (line) => {
    const m = /^publish (.*)$/.exec(line)
    if (m == null) {
      process.stderr.write(`gossip.mjs: not a command: ${line}\n`)
      return
    }
    try {
      const res = await ps.publish(topic, new TextEncoder().encode(m[1]))
      emit({ event: 'published', n: 0, data: m[1], recipients: res.recipients.map(String) })
    } catch (err) {
      emit({ event: 'error', error: errstr(err) })
    }
  }
  for (const line of commands.splice(0)) onCommand(line)
} catch (err) {
  clearTimeout(deadline)
  emit({ event: 'error', error: errstr(err) })
  await finish(1)
}
