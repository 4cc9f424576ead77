// The DaemonFactory @libp2p/interop drives: spawn(SpawnOptions) returns
// { client, stop }, client an @libp2p/daemon-client on the daemon's
// control socket.  The suite names its two implementations 'js' and 'go';
// 'js' is @libp2p/daemon-server on js-libp2p in this process, its control
// socket a UNIX socket in a temporary directory removed by stop(); 'go' is
// spawnSecond() below: a p2pd-compatible daemon in a child process named
// by INTEROP_GO, or else the same js daemon.
//
// Every address a daemon listens on, announces or dials is on 127.0.0.0/8
// or ::1 (or a UNIX socket): the listen address is 127.0.0.1, the announce
// filter drops any other address, and the connection gater refuses to dial
// one (a peer may announce what it likes; nothing here dials it).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
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

const HERE = path.dirname(fileURLToPath(import.meta.url))

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

// A js-libp2p node under @libp2p/daemon-server on the control socket sock
// (a multiaddr), listening on listen (loopback multiaddrs); started.
export async function startJs (o, sock, listen) {
  checkJs(o)
  for (const a of listen) {
    if (!isLoopback(a)) throw new Error(`js daemon: will not listen on ${a} (not loopback)`)
  }
  const services = { identify: identify() }
  if (o.pubsub === true) services.pubsub = pubsubService(o)
  if (o.relay === true) {
    services.relay = circuitRelayServer({ reservations: { maxReservations: 16 } })
  }
  const init = {
    addresses: {
      listen,
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
  const server = createServer(sock, node)
  await server.start()
  const bad = node.getMultiaddrs().filter((a) => !isLoopback(a))
  if (bad.length > 0) {
    await server.stop()
    throw new Error(`js daemon announces non-loopback ${bad.join(' ')}`)
  }
  return { node, server }
}

// The control socket: a UNIX socket in a directory of its own.
function controlDir () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peerd-daemon-interop-'))
  const file = path.join(dir, 'p2pd.sock')
  return { dir, file, ma: multiaddr('/unix/' + encodeURIComponent(file)) }
}

async function spawnJs (o) {
  const ctl = controlDir()
  let server
  try {
    ({ server } = await startJs(o, ctl.ma, o.noListen === true ? [] : ['/ip4/127.0.0.1/tcp/0']))
  } catch (err) {
    fs.rmSync(ctl.dir, { recursive: true, force: true })
    throw err
  }
  const stop = async () => {
    try { await server.stop() } finally { fs.rmSync(ctl.dir, { recursive: true, force: true }) }
  }
  const client = createClient(ctl.ma)
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

// The command line of a p2pd-compatible daemon, as p2pd's flags say what
// to offer: the argv js-libp2p's own interop tests give go-libp2p's p2pd,
// but with the control socket a UNIX socket (-listen=/unix/PATH, p2pd's
// spelling) and every address on 127.0.0.1.
export function p2pdArgs (o, ctlPath) {
  const args = [`-listen=/unix${ctlPath}`]
  if (o.noListen === true) args.push('-noListenAddrs')
  else if (o.transport == null || o.transport === 'tcp') args.push('-hostAddrs=/ip4/127.0.0.1/tcp/0')
  else if (o.transport === 'webtransport') args.push('-hostAddrs=/ip4/127.0.0.1/udp/0/quic-v1/webtransport')
  else if (o.transport === 'webrtc-direct') args.push('-hostAddrs=/ip4/127.0.0.1/udp/0/webrtc-direct')
  else throw unsupported(`transport ${o.transport}`)
  if (o.encryption != null) args.push(`-${o.encryption}=true`)
  if (o.dht === true) args.push('-dhtServer')
  if (o.relay === true) args.push('-relay')
  if (o.pubsub === true) args.push('-pubsub')
  if (o.pubsubRouter != null) args.push(`-pubsubRouter=${o.pubsubRouter}`)
  if (o.key != null) args.push(`-id=${o.key}`)
  args.push(`-muxer=${o.muxer ?? 'yamux'}`)
  return args
}

const READY_MS = 20000
const children = new Set()
process.on('exit', () => { for (const c of children) c.kill('SIGKILL') })

// Start cmd (split on blanks) with p2pdArgs; ready when it prints
// "Control socket:".  Exiting before that with "unsupported" in its
// stderr is the suite's skip, with that line as the reason.
async function spawnP2pd (cmd, o) {
  const ctl = controlDir()
  const [bin, ...pre] = cmd.split(/\s+/).filter(Boolean)
  let child
  try {
    const args = [...pre, ...p2pdArgs(o, ctl.file)]
    child = spawn(bin, args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    fs.rmSync(ctl.dir, { recursive: true, force: true })
    throw err
  }
  children.add(child)
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => { children.delete(child); resolve(sig ?? code) }))
  let out = ''
  let err = ''
  child.stderr.on('data', (b) => { err += b; process.stderr.write(b) })
  const stop = async () => {
    child.kill('SIGTERM')
    const t = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(t)
    fs.rmSync(ctl.dir, { recursive: true, force: true })
  }
  const ready = await new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), READY_MS)
    child.stdout.on('data', (b) => {
      out += b
      if (out.includes('Control socket:')) { clearTimeout(t); resolve('ready') }
    })
    exited.then(() => { clearTimeout(t); resolve('exited') })
  })
  if (ready !== 'ready') {
    const how = ready === 'timeout' ? `printed no "Control socket:" in ${READY_MS} ms` : `exited (${await exited})`
    await stop()
    const line = err.split('\n').find((l) => /unsupported/i.test(l))
    if (ready === 'exited' && line != null) throw unsupported(line.trim())
    throw new Error(`${cmd} ${how}: ${err.trim()}`)
  }
  const client = createClient(ctl.ma)
  if (process.env.INTEROP_TRACE === '1') trace(client, o)
  return { client, stop }
}

// The suite's second implementation ('go'): INTEROP_GO, the command line
// of a p2pd-compatible daemon (peerd's entry point once it exists; run from
// regress/daemon), or else the js daemon in this process.
const goCmd = process.env.INTEROP_GO || null

async function spawnSecond (o) {
  if (goCmd != null) return spawnP2pd(goCmd, o)
  return spawnJs(o)
}

export const secondName = goCmd ?? 'js'

export const factory = {
  async spawn (options) {
    lastUnsupported = null
    if (options.type === 'go') return spawnSecond(options)
    return spawnJs(options)
  }
}
