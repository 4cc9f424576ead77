// js-libp2p side of the gossipsub tests (regress/gossip.py).
//
//   node --import ./polyfill.mjs gossip.mjs ADDR TOPIC [KIND]
//
// KIND is gossip (default: @libp2p/gossipsub, StrictSign), nosign
// (gossipsub with globalSignaturePolicy StrictNoSign) or flood
// (@libp2p/floodsub only).  The node dials ADDR (ending in /p2p/<peer
// ID>), listens nowhere, and its connectionGater denies every dial but
// to that peer: it is linked to the others only through ADDR.  It
// subscribes to TOPIC and prints one JSON object a line:
//   ready     {peerId}
//   state     {subscribers, mesh}: peer IDs, each time they change
//   message   {from, data, seqno, topic, signed}: each message the
//             application gets (data as UTF-8)
//   record    {from, signer, peerId, addrs, seq}: a message that is a
//             signed peer record (libp2p-peer-record), its signature
//             checked
//   published {data, recipients}
//   error     {error}
// Lines on stdin: "publish TEXT" publishes TEXT; "big N TEXT" publishes
// TEXT padded with '.' to N bytes; "forge TEXT" sends ADDR, on the
// router's own stream, a message from this node with a random signature;
// "replay TEXT" sends ADDR again the message with data TEXT this node
// received, as it was signed; "prepare TEXT" signs a message of its own
// with data TEXT, by hand (StrictSign), and prints "prepared" with its
// message ID (hex, js's default: key protobuf and seqno), which "sendprep
// TEXT" then sends ADDR raw; "dontwant HEX" sends ADDR an IDONTWANT for
// that message ID; "subscribe N PREFIX" subscribes to N more topics,
// PREFIX0 to PREFIX(N-1), and prints "subscribed".  It ends when stdin closes, or after
// INTEROP_LISTEN_TIMEOUT seconds (default 600).
import './polyfill.mjs'
import process from 'node:process'
import readline from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { floodsub } from '@libp2p/floodsub'
import { gossipsub } from '@libp2p/gossipsub'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const [addr, topic, kind = 'gossip'] = process.argv.slice(2)
const LIFE = 1000 * Number(process.env.INTEROP_LISTEN_TIMEOUT ?? 600)

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

if (addr == null || topic == null || !['gossip', 'nosign', 'flood'].includes(kind)) {
  process.stderr.write('usage: gossip.mjs ADDR TOPIC [gossip|nosign|flood]\n')
  process.exit(2)
}

const target = multiaddr(addr)
const peerd = target.getComponents().findLast(c => c.name === 'p2p')?.value

function pubsubService () {
  if (kind === 'flood') return floodsub()
  return gossipsub({
    globalSignaturePolicy: kind === 'nosign' ? 'StrictNoSign' : 'StrictSign',
    allowPublishToZeroTopicPeers: true,
    emitSelf: false
  })
}

const privateKey = await generateKeyPair('Ed25519')
const node = await createLibp2p({
  privateKey,
  addresses: { listen: [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionGater: {
    denyDialPeer: (peerId) => peerId.toString() !== peerd,
    denyDialMultiaddr: (ma) => !ma.toString().startsWith('/ip4/127.0.0.1/')
  },
  services: { identify: identify(), pubsub: pubsubService() }
})
const ps = node.services.pubsub

ps.addEventListener('message', (evt) => {
  const m = evt.detail
  emit({
    event: 'message',
    topic: m.topic,
    from: m.from?.toString() ?? null,
    seqno: m.sequenceNumber?.toString() ?? null,
    signed: m.type === 'signed' && m.signature != null,
    data: new TextDecoder().decode(m.data)
  })
  record(m)
})

// A signed peer record (a relay's advertisement): opened, its
// signature checked against its key, and its contents printed.
async function record (m) {
  try {
    const env = await RecordEnvelope.openAndCertify(m.data, PeerRecord.DOMAIN)
    const rec = PeerRecord.createFromProtobuf(env.payload)
    emit({
      event: 'record',
      from: m.from?.toString() ?? null,
      signer: env.publicKey.toString(),
      peerId: rec.peerId.toString(),
      addrs: rec.multiaddrs.map(String),
      seq: rec.seqNumber.toString()
    })
  } catch {}
}

let last = ''
function state () {
  const subscribers = ps.getSubscribers(topic).map(String).sort()
  const mesh = kind === 'flood' ? [] : ps.getMeshPeers(topic).map(String).sort()
  const s = JSON.stringify({ subscribers, mesh })
  if (s !== last) {
    last = s
    emit({ event: 'state', subscribers, mesh })
  }
}

async function publish (text) {
  try {
    const r = await ps.publish(topic, new TextEncoder().encode(text))
    emit({ event: 'published', data: text, recipients: (r?.recipients ?? []).map(String) })
  } catch (err) {
    emit({ event: 'error', error: `publish: ${err.message}` })
  }
}

try {
  ps.subscribe(topic)
  await node.dial(target, { signal: AbortSignal.timeout(20000) })
  emit({ event: 'ready', peerId: node.peerId.toString() })
} catch (err) {
  emit({ event: 'error', error: `${err.name}: ${err.message}` })
  await node.stop()
  process.exit(1)
}

const received = new Map()
ps.addEventListener('message', (evt) => {
  received.set(new TextDecoder().decode(evt.detail.data), evt.detail)
})

function seqnoBytes (n) {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n))
  return b
}

// Straight to ADDR through gossipsub's sender, as if routed.
function sendRaw (text, m) {
  if (ps.sendRpc == null || !ps.sendRpc(peerd, { subscriptions: [], messages: [m] })) {
    emit({ event: 'error', error: `cannot send ${text} raw` })
    return
  }
  emit({ event: 'sent', data: text })
}

function forge (text) {
  const sig = new Uint8Array(64)
  crypto.getRandomValues(sig)
  sendRaw(text, {
    from: node.peerId.toMultihash().bytes,
    data: new TextEncoder().encode(text),
    seqno: seqnoBytes(Date.now()),
    topic,
    signature: sig
  })
}

function replay (text) {
  const m = received.get(text)
  if (m == null || m.type !== 'signed') {
    emit({ event: 'error', error: `no signed message ${text} to replay` })
    return
  }
  sendRaw(text, {
    from: m.from.toMultihash().bytes,
    data: m.data,
    seqno: seqnoBytes(m.sequenceNumber),
    topic: m.topic,
    signature: m.signature
  })
}

function pbField (field, bytes) {
  const out = [(field << 3) | 2]
  let n = bytes.length
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7 }
  out.push(n)
  return [...out, ...bytes]
}

const prepared = new Map()
async function prepare (text) {
  const seqno = new Uint8Array(8)
  crypto.getRandomValues(seqno)
  const m = {
    from: node.peerId.toMultihash().bytes,
    data: new TextEncoder().encode(text),
    seqno,
    topic
  }
  const unsigned = Uint8Array.from([...pbField(1, m.from), ...pbField(2, m.data),
    ...pbField(3, m.seqno), ...pbField(4, new TextEncoder().encode(topic))])
  const prefix = new TextEncoder().encode('libp2p-pubsub:')
  m.signature = await privateKey.sign(Uint8Array.from([...prefix, ...unsigned]))
  prepared.set(text, m)
  const id = Uint8Array.from([...publicKeyToProtobuf(privateKey.publicKey), ...seqno])
  emit({ event: 'prepared', data: text, msgId: Buffer.from(id).toString('hex') })
}

function dontwant (hex) {
  const rpc = {
    subscriptions: [],
    messages: [],
    control: { ihave: [], iwant: [], graft: [], prune: [], idontwant: [{ messageIDs: [Uint8Array.from(Buffer.from(hex, 'hex'))] }] }
  }
  if (ps.sendRpc == null || !ps.sendRpc(peerd, rpc)) {
    emit({ event: 'error', error: 'cannot send IDONTWANT' })
    return
  }
  emit({ event: 'sent', data: hex })
}

const timer = setInterval(state, 200)
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const [cmd, ...rest] = line.split(' ')
  if (cmd === 'publish') publish(rest.join(' '))
  else if (cmd === 'forge') forge(rest.join(' '))
  else if (cmd === 'replay') replay(rest.join(' '))
  else if (cmd === 'prepare') prepare(rest.join(' '))
  else if (cmd === 'sendprep') sendRaw(rest.join(' '), prepared.get(rest.join(' ')))
  else if (cmd === 'dontwant') dontwant(rest[0])
  else if (cmd === 'subscribe') {
    for (let i = 0; i < Number(rest[0]); i++) ps.subscribe(`${rest[1]}${i}`)
    emit({ event: 'subscribed', count: Number(rest[0]) })
  }
  else if (cmd === 'big') {
    const n = Number(rest[0])
    const text = rest.slice(1).join(' ')
    publish(text + '.'.repeat(Math.max(0, n - text.length)))
  }
})
async function end () {
  clearInterval(timer)
  await node.stop()
  process.exit(0)
}
rl.on('close', end)
setTimeout(end, LIFE)
