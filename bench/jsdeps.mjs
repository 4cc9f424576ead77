// The js-libp2p packages of regress/interop, for the scripts in bench/.
//
// The benchmarks use the node_modules that regress/interop already has
// (js-libp2p pinned by its package.json and package-lock.json) instead of
// an install of their own.  A bare import from bench/ would not find them,
// so this resolves a package's ESM entry point from its package.json
// "exports" and imports it by path; its own imports then resolve inside
// that node_modules as usual.  PEERD_INTEROP_DIR overrides the directory.
//
// Importing this module also installs the polyfill Node 20 needs
// (Promise.withResolvers, and a global WebSocket from the ws package for
// @libp2p/websockets' dialer).
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const INTEROP_DIR = process.env.PEERD_INTEROP_DIR ??
  resolve(dirname(fileURLToPath(import.meta.url)), '..', 'regress', 'interop')

await import(pathToFileURL(join(INTEROP_DIR, 'polyfill.mjs')).href)

function entryOf (exp) {
  if (typeof exp === 'string') return exp
  if (exp == null || typeof exp !== 'object') return null
  for (const cond of ['import', 'node', 'default']) {
    const e = entryOf(exp[cond])
    if (e != null) return e
  }
  return null
}

// import(name) of package pkg, subpath sub ('.' or './keys'), from
// INTEROP_DIR/node_modules.
export async function load (pkg, sub = '.') {
  const dir = join(INTEROP_DIR, 'node_modules', pkg)
  let json
  try {
    json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  } catch (err) {
    throw new Error(`${pkg} is not installed in ${INTEROP_DIR} (run npm ci there): ${err.message}`)
  }
  let entry = null
  if (json.exports != null) {
    const ex = json.exports
    let exp = null
    if (typeof ex === 'string') exp = sub === '.' ? ex : null
    else if (Object.keys(ex).some(k => k.startsWith('.'))) exp = ex[sub]
    else if (sub === '.') exp = ex
    entry = entryOf(exp)
  } else if (sub === '.') {
    entry = json.module ?? json.main ?? 'index.js'
  }
  if (entry == null) throw new Error(`${pkg}: no ESM entry for ${sub}`)
  return import(pathToFileURL(join(dir, entry)).href)
}

// Everything a relay or a reserving client needs.
export async function libp2pModules () {
  const [libp2p, tcp, ws, noise, yamux, identify, relay, ping, multiaddr, peerId] = await Promise.all([
    load('libp2p'), load('@libp2p/tcp'), load('@libp2p/websockets'), load('@chainsafe/libp2p-noise'),
    load('@chainsafe/libp2p-yamux'), load('@libp2p/identify'),
    load('@libp2p/circuit-relay-v2'), load('@libp2p/ping'),
    load('@multiformats/multiaddr'), load('@libp2p/peer-id')
  ])
  return {
    createLibp2p: libp2p.createLibp2p,
    tcp: tcp.tcp,
    webSockets: ws.webSockets,
    noise: noise.noise,
    yamux: yamux.yamux,
    identify: identify.identify,
    circuitRelayServer: relay.circuitRelayServer,
    circuitRelayTransport: relay.circuitRelayTransport,
    ping: ping.ping,
    multiaddr: multiaddr.multiaddr,
    peerIdFromString: peerId.peerIdFromString
  }
}

export function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

export function errstr (err) {
  if (err == null) return 'unknown error'
  return `${err.name ?? 'Error'}: ${err.message ?? String(err)}`
}

// Resolve with p, or reject after ms.
export function within (p, ms, what) {
  let timer
  const t = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { name: 'TimeoutError' })), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}
