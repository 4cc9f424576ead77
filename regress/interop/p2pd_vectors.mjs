// Writes regress/vectors/p2pd_js.txt: daemon control messages encoded by
// @libp2p/daemon-protocol's own protobuf codec, built as
// @libp2p/daemon-client builds its requests.  Run it outside the
// repository, where these are installed:
//   npm install --prefix /tmp/x @libp2p/daemon-protocol@8.0.4 \
//     @libp2p/daemon-client@10.0.16 @multiformats/multiaddr@13.0.3 \
//     @libp2p/crypto @libp2p/peer-id multiformats
//   cp p2pd_vectors.mjs /tmp/x && node /tmp/x/p2pd_vectors.mjs > p2pd_js.txt
import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  Request, Response, StreamInfo, PSMessage, PSRequest, DHTRequest,
  ConnManagerRequest, PeerstoreRequest
} from '@libp2p/daemon-protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'

// package.json is not exported: read it next to the installed modules
const version = (p) => JSON.parse(readFileSync(path.join(
  path.dirname(new URL(import.meta.url).pathname), 'node_modules', p,
  'package.json'))).version
const hex = (b) => Buffer.from(b).toString('hex')
const out = (k, v) => console.log(`${k} ${hex(v)}`)
const idOf = async (fill) => peerIdFromPrivateKey(
  await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(fill)))
  .toMultihash().bytes
const peerIdFromMultihashBytes = (b) => peerIdFromMultihash(Digest.decode(b)).toString()
const peer = await idOf(1)
const peer2 = await idOf(2)
const a1 = multiaddr('/ip4/127.0.0.1/tcp/4001').bytes
const a2 = multiaddr('/ip6/::1/tcp/4002/ws').bytes
const hl = multiaddr('/ip4/127.0.0.1/tcp/5001').bytes
// as @libp2p/interop's relay suite dials: relay address, relay, circuit, target
const relayed = multiaddr('/ip4/127.0.0.1/tcp/4001/p2p/' +
  peerIdFromMultihashBytes(peer2) + '/p2p-circuit/p2p/' +
  peerIdFromMultihashBytes(peer)).bytes
const topic = '/openclaw/v1/announce'
const data = new TextEncoder().encode('hello daemon')
const echo = '/echo/1.0.0'

console.log('# p2pd control vectors from @libp2p/daemon-protocol ' +
  version('@libp2p/daemon-protocol') + ', @multiformats/multiaddr ' +
  version('@multiformats/multiaddr') + ',')
console.log('# node ' + process.version + '; made by regress/interop/p2pd_vectors.mjs.')
console.log('# "name hex" lines; peer and peer2: Ed25519 seeds 01*32, 02*32.')
out('peer', peer)
out('peer2', peer2)
out('a1', a1)
out('a2', a2)
out('hl', hl)
out('relayed', relayed)

const req = (k, r) => out(k, Request.encode(r))
req('req_identify', { type: Request.Type.IDENTIFY })
req('req_connect', { type: Request.Type.CONNECT, connect: { peer, addrs: [a1, a2] } })
req('req_connect_relay', { type: Request.Type.CONNECT, connect: { peer, addrs: [relayed] } })
req('req_connect_timeout', { type: Request.Type.CONNECT, connect: { peer, addrs: [a1], timeout: 30n } })
req('req_stream_open', { type: Request.Type.STREAM_OPEN, streamOpen: { peer, proto: [echo] } })
req('req_stream_open2', { type: Request.Type.STREAM_OPEN, streamOpen: { peer: peer2, proto: [echo, '/ping/1.0.0'], timeout: -1n } })
req('req_stream_handler', { type: Request.Type.STREAM_HANDLER, streamHandler: { addr: hl, proto: [echo] } })
req('req_list_peers', { type: Request.Type.LIST_PEERS })
req('req_disconnect', { type: Request.Type.DISCONNECT, disconnect: { peer } })
const ps = (k, p) => req(k, { type: Request.Type.PUBSUB, pubsub: p })
ps('req_ps_get_topics', { type: PSRequest.Type.GET_TOPICS })
ps('req_ps_list_peers', { type: PSRequest.Type.LIST_PEERS, topic })
ps('req_ps_publish', { type: PSRequest.Type.PUBLISH, topic, data })
ps('req_ps_subscribe', { type: PSRequest.Type.SUBSCRIBE, topic })
const cm = (k, c) => req(k, { type: Request.Type.CONNMANAGER, connManager: c })
cm('req_cm_tag', { type: ConnManagerRequest.Type.TAG_PEER, peer, tag: 'keep', weight: 10n })
cm('req_cm_untag', { type: ConnManagerRequest.Type.UNTAG_PEER, peer, tag: 'keep' })
cm('req_cm_trim', { type: ConnManagerRequest.Type.TRIM })
req('req_dht_find_peer', { type: Request.Type.DHT, dht: { type: DHTRequest.Type.FIND_PEER, peer } })
req('req_dht_put_value', { type: Request.Type.DHT, dht: { type: DHTRequest.Type.PUT_VALUE, key: data, value: data } })
const pst = (k, p) => req(k, { type: Request.Type.PEERSTORE, peerStore: p })
pst('req_pstore_protocols', { type: PeerstoreRequest.Type.GET_PROTOCOLS, id: peer })
pst('req_pstore_info', { type: PeerstoreRequest.Type.GET_PEER_INFO, id: peer2 })

const resp = (k, r) => out(k, Response.encode(r))
resp('resp_ok', { type: Response.Type.OK, peers: [] })
resp('resp_error', { type: Response.Type.ERROR, error: { msg: 'DHT not supported' }, peers: [] })
resp('resp_identify', { type: Response.Type.OK, identify: { id: peer, addrs: [a1, a2] }, peers: [] })
resp('resp_stream', { type: Response.Type.OK, streamInfo: { peer, addr: a1, proto: echo }, peers: [] })
resp('resp_peers', { type: Response.Type.OK, peers: [{ id: peer, addrs: [a1, a2] }, { id: peer2, addrs: [] }] })
resp('resp_ps_topics', { type: Response.Type.OK, pubsub: { topics: [topic, 'other'], peerIDs: [] }, peers: [] })
resp('resp_ps_peers', { type: Response.Type.OK, pubsub: { topics: [], peerIDs: [peer, peer2] }, peers: [] })
resp('resp_ps_empty', { type: Response.Type.OK, pubsub: { topics: [], peerIDs: [] }, peers: [] })
resp('resp_pstore_protos', { type: Response.Type.OK, peerStore: { protos: [echo, '/ipfs/id/1.0.0'] }, peers: [] })
resp('resp_pstore_info', { type: Response.Type.OK, peerStore: { peer: { id: peer2, addrs: [a2] }, protos: [] }, peers: [] })
out('streaminfo', StreamInfo.encode({ peer: peer2, addr: a2, proto: echo }))
const seqno = new Uint8Array(8).map((_, i) => i + 1)
const sig = new Uint8Array(64).fill(0x5a)
out('seqno', seqno)
out('sig', sig)
out('psmsg', PSMessage.encode({ from: peer, data, seqno, topicIDs: [topic], signature: sig, key: peer.subarray(2) }))
out('psmsg_nosig', PSMessage.encode({ from: peer, data, seqno, topicIDs: [topic] }))
