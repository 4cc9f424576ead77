// js-libp2p in the browser, for regress/browser.py: bundled by esbuild
// into the page index.html loads.  The page's query names the relay:
//   index.html?relay=/ip4/127.0.0.1/tcp/PORT/ws/p2p/RELAYID
// It dials the relay over WebSocket, listens on RELAY/p2p-circuit (which
// makes a reservation there), serves ping and identify (ping also on
// limited, relayed, connections) and keeps what happened in window.peerd,
// which the test reads:
//   state      "starting", "reserved" or "failed"
//   peerId     the page's peer ID
//   addrs      its /p2p-circuit addresses once reserved
//   error      why it failed
//   events     "open"/"close" of every connection, with remoteAddr and
//              whether it is limited (relayed)
// window.peerdPing(addr, count) dials addr (through the relay when it
// has /p2p-circuit), pings it count times on that connection and
// resolves with one {seq, rtt (ms), limited} or {seq, error} a ping.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const PING = '/ipfs/ping/1.0.0'
const TIMEOUT = 20000

const st = { state: 'starting', peerId: null, addrs: [], error: null, events: [] }
window.peerd = st

function errstr (err) {
  if (err == null) return 'unknown error'
  return `${err.name ?? 'Error'}: ${err.message ?? String(err)}`
}

function log (obj) {
  console.log('peerd-page ' + JSON.stringify(obj))
}

// Only 127.0.0.0/8 is dialled: the browser build of libp2p refuses plain
// ws and private addresses by default (its connection gater; this
// @libp2p/websockets has no filter of its own), and nothing else may be
// dialled on this machine.
function loopbackOnly (ma) {
  const ip = ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  if (ip == null) return true
  return ip.name === 'ip4' ? !ip.value.startsWith('127.') : ip.value !== '::1'
}

function circuitAddrs (node) {
  return node.getMultiaddrs().map(String).filter(a => a.includes('/p2p-circuit'))
}

function sleep (ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// One ping (32 random bytes echoed) on a connection; the rtt in ms.
async function pingOn (conn) {
  const signal = AbortSignal.timeout(TIMEOUT)
  const stream = await conn.newStream(PING, { signal, runOnLimitedConnection: true })
  const data = crypto.getRandomValues(new Uint8Array(32))
  const got = []
  let n = 0
  const t0 = performance.now()
  try {
    await new Promise((resolve, reject) => {
      stream.addEventListener('message', (evt) => {
        const buf = evt.data.subarray()
        got.push(buf)
        n += buf.byteLength
        if (n >= 32) resolve()
      })
      stream.addEventListener('close', (evt) => reject(evt.error ?? new Error(`stream closed after ${n} bytes`)))
      signal.addEventListener('abort', () => reject(new Error('ping timed out')))
      stream.send(data)
    })
    const rtt = performance.now() - t0
    const all = new Uint8Array(n)
    let off = 0
    for (const b of got) { all.set(b, off); off += b.byteLength }
    if (n !== 32 || !all.every((b, i) => b === data[i])) throw new Error('wrong ping answer')
    return rtt
  } finally {
    stream.abort(new Error('done'))
  }
}

async function pingAddr (node, addr, count) {
  const ma = multiaddr(addr)
  const out = []
  let conn
  try {
    conn = await node.dial(ma, { signal: AbortSignal.timeout(TIMEOUT) })
  } catch (err) {
    return [{ seq: 0, error: 'dial: ' + errstr(err) }]
  }
  for (let seq = 1; seq <= count; seq++) {
    try {
      // not the ping service's ping(), which counts whole milliseconds
      // (0 on a quick loopback) and never reuses a limited connection
      const rtt = await pingOn(conn)
      out.push({ seq, rtt: Number(rtt.toFixed(3)), limited: conn.limits != null })
    } catch (err) {
      out.push({ seq, error: errstr(err) })
    }
  }
  log({ event: 'pinged', addr, pings: out })
  return out
}

async function main () {
  const relay = new URLSearchParams(location.search).get('relay')
  if (relay == null || relay === '') throw new Error('no ?relay= in the page address')
  const node = await createLibp2p({
    start: false,
    addresses: { listen: [relay + '/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport({ reservationCompletionTimeout: TIMEOUT })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: loopbackOnly },
    services: {
      identify: identify(),
      ping: ping({ runOnLimitedConnection: true, maxInboundStreams: 64, maxOutboundStreams: 64 })
    }
  })
  st.peerId = node.peerId.toString()
  for (const what of ['open', 'close']) {
    node.addEventListener('connection:' + what, (evt) => {
      const c = evt.detail
      const ev = { event: what, peerId: c.remotePeer.toString(), remoteAddr: c.remoteAddr.toString(), direction: c.direction, limited: c.limits != null }
      st.events.push(ev)
      log(ev)
    })
  }
  window.peerdPing = (addr, count) => pingAddr(node, addr, count)
  // listening on the circuit address dials the relay and reserves
  await node.start()
  // the address manager learns the circuit addresses a little later
  const t0 = Date.now()
  while (circuitAddrs(node).length === 0 && Date.now() - t0 < TIMEOUT) await sleep(50)
  st.addrs = circuitAddrs(node)
  if (st.addrs.length === 0) throw new Error('no /p2p-circuit address; have ' + node.getMultiaddrs().map(String).join(' '))
  st.state = 'reserved'
  log({ event: 'reserved', peerId: st.peerId, addrs: st.addrs })
}

main().catch((err) => {
  st.state = 'failed'
  st.error = errstr(err)
  log({ event: 'failed', error: st.error })
})
