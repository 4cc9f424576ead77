// js-libp2p's daemon behind p2pd's flags: what factory.mjs's child-process
// path (INTEROP_GO) starts until peerd's entry point exists, so that path
// and the flags are tested now.
//   node --import ./polyfill.mjs jsp2pd.mjs -listen=/unix/PATH
//        [-hostAddrs=A,B | -noListenAddrs] [-id=KEYFILE] [-pubsub]
//        [-pubsubRouter=R] [-relay] [-muxer=M] [-noise|-tls|-plaintext=true]
//        [-dhtServer]
// Ready: prints "Control socket: ...", "Peer ID: ...", "Peer Addrs:" and
// one address a line, as p2pd does.  An option js does not offer here:
// "jsp2pd: unsupported: ..." on stderr, exit 2.  SIGTERM stops it.
import './polyfill.mjs'
import process from 'node:process'
import { multiaddr } from '@multiformats/multiaddr'
import { startJs } from './factory.mjs'

const BOOL = new Set(['noListenAddrs', 'pubsub', 'relay', 'dhtServer', 'noise', 'tls', 'plaintext'])
const VALUE = new Set(['listen', 'hostAddrs', 'id', 'pubsubRouter', 'muxer'])

function usage (msg) {
  process.stderr.write(`jsp2pd: ${msg}\n`)
  process.exit(2)
}

function parse (argv) {
  const f = {}
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([A-Za-z]+)(?:=(.*))?$/.exec(argv[i])
    if (m == null) usage(`bad argument ${argv[i]}`)
    const [, name, val] = m
    if (BOOL.has(name)) {
      if (val != null && val !== 'true' && val !== 'false') usage(`-${name}=${val}: true or false`)
      f[name] = val !== 'false'
    } else if (VALUE.has(name)) {
      if (val != null) f[name] = val
      else if (i + 1 < argv.length) f[name] = argv[++i]
      else usage(`-${name} needs a value`)
    } else {
      usage(`unknown flag -${name}`)
    }
  }
  return f
}

// p2pd spells a UNIX socket /unix/abs/path; js's multiaddr wants the path
// as one escaped component.
function control (s) {
  if (s == null) usage('-listen is required')
  if (s.startsWith('/unix/')) return multiaddr('/unix/' + encodeURIComponent(s.slice('/unix'.length)))
  return multiaddr(s)
}

const f = parse(process.argv.slice(2))
const enc = ['noise', 'tls', 'plaintext'].filter((e) => f[e])
if (enc.length > 1) usage(`one of -noise, -tls, -plaintext, not ${enc.join(' and ')}`)
const o = {
  encryption: enc[0],
  muxer: f.muxer,
  dht: f.dhtServer,
  pubsub: f.pubsub,
  pubsubRouter: f.pubsubRouter,
  relay: f.relay,
  key: f.id
}
const listen = f.noListenAddrs ? [] : (f.hostAddrs ?? '/ip4/127.0.0.1/tcp/0').split(',').filter(Boolean)
let server, node
try {
  ({ server, node } = await startJs(o, control(f.listen), listen))
} catch (err) {
  if (err.name === 'UnsupportedError') usage(`unsupported: ${err.message}`)
  throw err
}
let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  server.stop().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdout.write(`Control socket: ${f.listen}\nPeer ID: ${node.peerId}\nPeer Addrs:\n` +
  node.getMultiaddrs().map((a) => `${a}\n`).join(''))
