// Peers that name addresses of the test's choosing: each of COUNT
// js-libp2p nodes (TCP, Noise, yamux, identify), with a fresh key, tells
// only ADDR... as its listen addresses (addresses.announce; it listens
// nowhere), dials the peerd at PEERD, and stays connected until stdin
// closes or SIGTERM; then every node stops and the script exits.  Used
// by regress/addrfilter.py.
//
//   node --import ./polyfill.mjs announce.mjs PEERD COUNT ADDR...
//
// Prints one JSON object a line: "connected" (peerId) for each node once
// it has identified peerd, "ready" (peers) when all have, "stopped" at
// the end, or "error".  Gives up after INTEROP_TIMEOUT seconds (60) of
// dialling, and runs at most INTEROP_LISTEN_TIMEOUT seconds (300).
import './polyfill.mjs'
import process from 'node:process'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const TIMEOUT = 1000 * Number(process.env.INTEROP_TIMEOUT ?? 60)
const LIFETIME = 1000 * Number(process.env.INTEROP_LISTEN_TIMEOUT ?? 300)

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function fail (step, e) {
  emit({ event: 'error', step, message: e?.message ?? String(e) })
  process.exit(1)
}

// One node: up, connected to peerd, and done identifying it.
async function peer (target, targetId, announce) {
  const node = await createLibp2p({
    addresses: { listen: [], announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const identified = new Promise(resolve => {
    node.addEventListener('peer:identify', ev => {
      if (ev.detail.peerId.toString() === targetId) resolve()
    })
  })
  await node.dial(target, { signal: AbortSignal.timeout(TIMEOUT) })
  await Promise.race([identified, new Promise((resolve, reject) =>
    setTimeout(() => reject(new Error('peerd was not identified')),
      TIMEOUT))])
  emit({ event: 'connected', peerId: node.peerId.toString() })
  return node
}

async function main () {
  const [addr, count, ...announce] = process.argv.slice(2)
  if (addr == null || !/^\d+$/.test(count ?? '') || announce.length === 0) {
    process.stderr.write('usage: announce.mjs PEERD COUNT ADDR...\n')
    process.exit(2)
  }
  const target = multiaddr(addr)
  const targetId = addr.split('/p2p/').pop()
  const nodes = []
  const stop = async () => {
    await Promise.allSettled(nodes.map(n => n.stop()))
    emit({ event: 'stopped', peers: nodes.length })
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  setTimeout(() => fail('lifetime', new Error('still running after ' +
    LIFETIME / 1000 + ' s')), LIFETIME).unref()
  for (let i = 0; i < Number(count); i++) {
    try {
      nodes.push(await peer(target, targetId, announce))
    } catch (e) {
      await Promise.allSettled(nodes.map(n => n.stop()))
      fail('peer ' + i, e)
    }
  }
  emit({ event: 'ready', peers: nodes.map(n => n.peerId.toString()) })
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.resume()
}

main().catch(e => fail('main', e))
