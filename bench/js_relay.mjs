// A js-libp2p circuit relay v2 server for the benchmarks: the relay of
// regress/interop/node.mjs ("node.mjs relay": TCP + Noise + yamux,
// identify, ping, circuitRelayServer without default circuit limits)
// with every limit that would refuse a benchmark's peers raised, since
// node.mjs allows 64 reservations and js-libp2p's connection manager 300
// connections, 10 pending handshakes and 5 connections a second from one
// host (all benchmark peers come from 127.0.0.1).
//
//   node [--expose-gc] bench/js_relay.mjs [MAXPEERS] [ws]
//
// Listens on /ip4/127.0.0.1/tcp/0, with "ws" also on
// /ip4/127.0.0.1/tcp/0/ws (@libp2p/websockets), and prints one JSON
// object a line:
//   {"event":"listening","peerId":...,"addrs":[...],"pid":...}
// then reads commands on stdin, one a line:
//   stats   {"event":"stats","reservations":R,"connections":C,"memory":{...}}
//   gc      runs the garbage collector (with --expose-gc) and prints stats
// and exits when stdin closes, on SIGTERM, or after JS_RELAY_TIMEOUT
// seconds (default 3600).
import process from 'node:process'
import { createInterface } from 'node:readline'
import { emit, errstr, libp2pModules, within } from './jsdeps.mjs'

const MAX = Number(process.argv[2] ?? 100000)
const WS = process.argv[3] === 'ws'
const TIMEOUT = 1000 * Number(process.env.JS_RELAY_TIMEOUT ?? 3600)

const m = await libp2pModules()

const node = await m.createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0', ...(WS ? ['/ip4/127.0.0.1/tcp/0/ws'] : [])] },
  transports: [m.tcp(), ...(WS ? [m.webSockets()] : [])],
  connectionEncrypters: [m.noise()],
  streamMuxers: [m.yamux()],
  connectionManager: {
    maxConnections: MAX + 100,
    maxIncomingPendingConnections: MAX + 100,
    inboundConnectionThreshold: MAX + 100
  },
  services: {
    identify: m.identify(),
    ping: m.ping(),
    relay: m.circuitRelayServer({
      reservations: {
        maxReservations: MAX,
        applyDefaultLimit: false
      }
    })
  }
})

let exiting = false
async function finish (code) {
  if (exiting) return
  exiting = true
  try {
    await within(node.stop(), 5000, 'stop')
  } catch (err) {
    process.stderr.write(`js_relay: stop: ${errstr(err)}\n`)
  }
  process.exit(code)
}

function stats () {
  const mu = process.memoryUsage()
  emit({
    event: 'stats',
    reservations: node.services.relay.reservationStore.reservations.size,
    connections: node.getConnections().length,
    memory: { rss: mu.rss, heapTotal: mu.heapTotal, heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers }
  })
}

process.stdout.on('error', () => process.exit(4))
process.on('unhandledRejection', (err) => process.stderr.write(`js_relay: unhandled rejection: ${errstr(err)}\n`))
process.on('uncaughtException', (err) => process.stderr.write(`js_relay: uncaught exception: ${errstr(err)}\n`))
process.on('SIGTERM', () => finish(0))
process.on('SIGINT', () => finish(0))
setTimeout(() => { emit({ event: 'error', error: 'timeout' }); finish(3) }, TIMEOUT).unref()

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const cmd = line.trim()
  if (cmd === 'stats') {
    stats()
  } else if (cmd === 'gc') {
    if (typeof globalThis.gc === 'function') {
      globalThis.gc()
      // a second pass catches what finalizers of the first released
      setTimeout(() => { globalThis.gc(); stats() }, 200)
    } else {
      emit({ event: 'error', error: 'gc not exposed (run with --expose-gc)' })
    }
  } else if (cmd !== '') {
    emit({ event: 'error', error: `unknown command ${cmd}` })
  }
})
rl.on('close', () => finish(0))

emit({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String), pid: process.pid })
