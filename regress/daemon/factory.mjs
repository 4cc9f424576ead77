// The DaemonFactory @libp2p/interop drives: spawn(SpawnOptions) returns
// { client, stop }, client an @libp2p/daemon-client on the daemon's
// control socket.  The suite names its two implementations 'js' and 'go';
// 'js' is @libp2p/daemon-server on js-libp2p in this process, its control
// socket a UNIX socket in a temporary directory removed by stop(); 'go' is
// spawnSecond() below, for now the same js daemon.
//
// Every address a daemon listens on, announces or dials is on 127.0.0.0/8
// or ::1 (or a UNIX socket): the listen address is 127.0.0.1, the announce
// filter drops any other address, and the connection gater refuses to dial
// one (a peer may announce what it likes; nothing here dials it).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { createClient } from '@libp2p/daemon-client'
import { createServer } from '@libp2p/daemon-server'
import { floodsub } from '@libp2p/floodsub'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { UnsupportedError } from '@libp2p/interop'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

// The reason of the last UnsupportedError spawn() threw, for the report:
// the suite's connect tests skip with this.skip() and no reason.
export let lastUnsupported = null

export function clearUnsupported () {
  lastUnsupported = null
}

function unsupported (why) {
  lastUnsupported = why
  return new UnsupportedError(why)
}

export function isLoopback (ma) {
  const c = multiaddr(ma).getComponents()[0]
  if (c == null) return false
  if (c.name === 'ip4') return c.value.startsWith('127.')
  if (c.name === 'ip6') return c.value === '::1'
  return c.name === 'unix'
}

// What js-libp2p 3.3.11 here offers; anything else is the suite's skip.
function checkJs (o) {
  if (o.encryption != null && o.encryption !== 'noise') throw unsupported(`js daemon: ${o.encryption} encryption not installed (noise only)`)
  if (o.muxer != null && o.muxer !== 'yamux') throw unsupported(`js daemon: ${o.muxer} muxer not installed (yamux only)`)
  if (o.transport != null && o.transport !== 'tcp') throw unsupported(`js daemon: ${o.transport} transport not installed (tcp only)`)
  if (o.dht === true) throw unsupported('js daemon: no DHT (kad-dht is not configured here)')
  if (o.pubsubRouter != null && o.pubsubRouter !== 'gossipsub' && o.pubsubRouter !== 'floodsub') throw unsupported(`js daemon: pubsub router ${o.pubsubRouter}`)
}

function pubsubService (o) {
  if (o.pubsubRouter === 'floodsub') return floodsub()
  return gossipsub({ emitSelf: false, allowPublishToZeroTopicPeers: false })
}

async function spawnJs (o) {
  checkJs(o)
  const services = { identify: identify() }
  if (o.pubsub === true) services.pubsub = pubsubService(o)
  if (o.relay === true) {
    services.relay = circuitRelayServer({ reservations: { maxReservations: 16 } })
  }
  const init = {
    addresses: {
      listen: o.noListen === true ? [] : ['/ip4/127.0.0.1/tcp/0'],
      announceFilter: (addrs) => addrs.filter(isLoopback)
    },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyDialMultiaddr: (ma) => {
        if (isLoopback(ma)) return false
        process.stderr.write(`factory: refused to dial ${ma} (not loopback)\n`)
        return true
      }
    },
    services
  }
  if (o.key != null) init.privateKey = privateKeyFromProtobuf(fs.readFileSync(o.key))
  const node = await createLibp2p({ ...init, start: false })
  // the control socket: a UNIX socket in a directory of its own
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peerd-daemon-interop-'))
  const sock = multiaddr('/unix/' + encodeURIComponent(path.join(dir, 'p2pd.sock')))
  const server = createServer(sock, node)
  const stop = async () => {
    try { await server.stop() } finally { fs.rmSync(dir, { recursive: true, force: true }) }
  }
  try {
    await server.start()
  } catch (err) {
    await stop().catch(() => {})
    throw err
  }
  const bad = node.getMultiaddrs().filter((a) => !isLoopback(a))
  if (bad.length > 0) {
    await stop()
    throw new Error(`js daemon announces non-loopback ${bad.join(' ')}`)
  }
  const client = createClient(sock)
  if (process.env.INTEROP_TRACE === '1') trace(client, o)
  return { client, stop }
}

// INTEROP_TRACE=1: each request the suite sends a daemon, on stderr.
let spawned = 0
function trace (client, o) {
  const name = `${o.type}#${++spawned}`
  const send = client.send.bind(client)
  const show = (v) => {
    if (v instanceof Uint8Array) return `<${v.length} bytes>`
    if (Array.isArray(v)) return v.map(show)
    if (v != null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, show(x)]))
    return v
  }
  process.stderr.write(`trace ${name} spawned ${JSON.stringify(o)}\n`)
  client.send = async (req) => {
    process.stderr.write(`trace ${name} ${JSON.stringify(show(req))}\n`)
    return send(req)
  }
}

// The suite's second implementation ('go').  A later task replaces this
// with peerd's p2pd-compatible entry point; until then it is js.
async function spawnSecond (o) {
  return spawnJs(o)
}

export const secondName = 'js'

export const factory = {
  async spawn (options) {
    lastUnsupported = null
    if (options.type === 'go') return spawnSecond(options)
    return spawnJs(options)
  }
}
