// Many js-libp2p peers in one Node process, each holding a reservation on
// one relay: the load of bench/mem.py.
//
//   node [--max-old-space-size=MB] bench/many_reserve.mjs RELAYADDR N [BATCH]
//
// RELAYADDR is the relay's multiaddr ending in /p2p/<peer ID>.  Creates N
// libp2p nodes, each with its own Ed25519 identity and as little as a
// reservation needs: TCP, or WebSockets when RELAYADDR has /ws
// (@libp2p/websockets; no listen address either way) + Noise + yamux, identify
// (the relay transport depends on it) and the circuit relay transport; no
// ping, no connection monitor.  Each listens on RELAYADDR/p2p-circuit,
// which dials the relay and makes a reservation, BATCH (default 20) at a
// time so that the relay sees at most BATCH handshakes at once.  Peers
// whose reservation failed are tried once more, with a new node, after
// the first pass (RESERVE_RETRIES, default 1).
//
// Prints one JSON object a line on stdout:
//   {"event":"progress","done":D,"of":P,"ok":O,"failed":F,"held":H,
//    "seconds":S,"rss":B}     (after each batch; done/of/ok/failed of this
//                               pass, held: reservations in all)
//   {"event":"error","index":I,"error":"..."}   (the first 20 failures)
//   {"event":"retry","count":F}                  (before the second pass)
//   {"event":"reserved","count":N,"failed":F,"seconds":S,"rss":B,
//    "errors":{"message":count,...}}
// then stays idle, holding every connection and reservation, until stdin
// closes (or SIGTERM, or RESERVE_IDLE_TIMEOUT seconds, default 3600).
// While idle it answers a line "count" on stdin with
//   {"event":"count","held":H,"connections":C,"removed":R}
// (reservations js still holds, connections to the relay, and how many
// "relay:removed" events the nodes have seen).
//
// Environment: RESERVE_TIMEOUT (seconds for one reservation, default 30),
// PEERD_INTEROP_DIR (where the js-libp2p node_modules are, default
// ../regress/interop).
import process from 'node:process'
import { createInterface } from 'node:readline'
import { emit, errstr, libp2pModules, within } from './jsdeps.mjs'

function usage () {
  process.stderr.write('usage: many_reserve.mjs RELAYADDR N [BATCH]\n')
  process.exit(2)
}

const [relayArg, nArg, batchArg] = process.argv.slice(2)
if (relayArg == null || nArg == null) usage()
const N = Number(nArg)
const BATCH = Number(batchArg ?? 20)
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(BATCH) || BATCH < 1) usage()
const RESERVE_MS = 1000 * Number(process.env.RESERVE_TIMEOUT ?? 30)
const RETRIES = Number(process.env.RESERVE_RETRIES ?? 1)
const IDLE_MS = 1000 * Number(process.env.RESERVE_IDLE_TIMEOUT ?? 3600)

const m = await libp2pModules()
const relayAddr = m.multiaddr(relayArg)
const relayId = relayAddr.getComponents().findLast(c => c.name === 'p2p')?.value
if (relayId == null) {
  process.stderr.write('many_reserve.mjs: RELAYADDR needs /p2p/<relay peer ID>\n')
  process.exit(2)
}
const circuitAddr = relayAddr.encapsulate('/p2p-circuit')
const overWs = relayAddr.getComponents().some(c => c.name === 'ws')
const relayPeer = m.peerIdFromString(relayId)

const nodes = new Array(N).fill(null)
const errors = new Map()
let removed = 0
let shownErrors = 0
const t0 = Date.now()

function seconds () {
  return Number(((Date.now() - t0) / 1000).toFixed(2))
}

function relayTransportOf (node) {
  return node.components.transportManager.getTransports()
    .find(t => t[Symbol.toStringTag] === '@libp2p/circuit-relay-v2-transport')
}

async function makeNode () {
  return m.createLibp2p({
    addresses: { listen: [] },
    transports: [overWs ? m.webSockets() : m.tcp(), m.circuitRelayTransport({ reservationCompletionTimeout: RESERVE_MS })],
    connectionEncrypters: [m.noise()],
    streamMuxers: [m.yamux()],
    connectionMonitor: { enabled: false },
    services: { identify: m.identify() }
  })
}

// A new node that holds a reservation on the relay, or throws.
async function reserveOne () {
  const node = await makeNode()
  try {
    const store = relayTransportOf(node)?.reservationStore
    if (store == null) throw new Error('no circuit relay transport')
    store.addEventListener('relay:removed', () => { removed++ })
    await within(node.components.transportManager.listen([circuitAddr]), RESERVE_MS + 5000, 'reservation')
    return node
  } catch (err) {
    await within(node.stop(), 5000, 'stop').catch(() => {})
    throw err
  }
}

function fail (i, err) {
  // some js errors carry a stack trace in their message
  const msg = errstr(err).split('\n')[0].slice(0, 300)
  errors.set(msg, (errors.get(msg) ?? 0) + 1)
  if (shownErrors++ < 20) emit({ event: 'error', index: i, error: msg })
}

async function pass (indexes) {
  let done = 0
  let failed = 0
  for (let off = 0; off < indexes.length; off += BATCH) {
    const batch = indexes.slice(off, off + BATCH)
    const results = await Promise.allSettled(batch.map(() => reserveOne()))
    results.forEach((r, k) => {
      if (r.status === 'fulfilled') {
        nodes[batch[k]] = r.value
      } else {
        failed++
        fail(batch[k], r.reason)
      }
    })
    done += batch.length
    emit({ event: 'progress', done, of: indexes.length, ok: done - failed, failed, held: nodes.filter(n => n != null).length, seconds: seconds(), rss: process.memoryUsage().rss })
  }
}

function held () {
  let h = 0
  let c = 0
  for (const node of nodes) {
    if (node == null) continue
    if (relayTransportOf(node)?.reservationStore?.getReservation(relayPeer) != null) h++
    c += node.getConnections().filter(x => x.remotePeer.toString() === relayId).length
  }
  return { held: h, connections: c }
}

let exiting = false
async function finish (code) {
  if (exiting) return
  exiting = true
  await within(Promise.allSettled(nodes.filter(n => n != null).map(n => n.stop())), 10000, 'stop').catch(() => {})
  process.exit(code)
}

process.stdout.on('error', () => process.exit(4))
process.on('unhandledRejection', (err) => process.stderr.write(`many_reserve: unhandled rejection: ${errstr(err)}\n`))
process.on('uncaughtException', (err) => process.stderr.write(`many_reserve: uncaught exception: ${errstr(err)}\n`))
process.on('SIGTERM', () => finish(0))
process.on('SIGINT', () => finish(0))
setTimeout(() => { emit({ event: 'error', error: 'idle timeout' }); finish(3) }, IDLE_MS).unref()

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (line.trim() === 'count') emit({ event: 'count', ...held(), removed })
})
rl.on('close', () => finish(0))

await pass(Array.from({ length: N }, (_, i) => i))
for (let r = 0; r < RETRIES; r++) {
  const missing = []
  nodes.forEach((n, i) => { if (n == null) missing.push(i) })
  if (missing.length === 0) break
  emit({ event: 'retry', count: missing.length })
  await pass(missing)
}
const count = nodes.filter(n => n != null).length
emit({ event: 'reserved', count, failed: N - count, seconds: seconds(), rss: process.memoryUsage().rss, errors: Object.fromEntries(errors) })
