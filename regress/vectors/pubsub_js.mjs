// Writes regress/vectors/pubsub_js.txt: pubsub RPCs encoded by js-libp2p
// gossipsub's own protobuf codec, a message signed by its own
// buildRawMessage and the IDs of its msgIdFns.  Run it outside the
// repository, where these are installed:
//   npm install @libp2p/gossipsub@17.1.1 libp2p@3.3.11 \
//     @libp2p/crypto@5.1.23 @libp2p/peer-id@6.0.15
//   node pubsub_js.mjs > pubsub_js.txt
// buildRawMessage and msgIdFn are not exported; they are imported by path.
import { createRequire } from 'node:module'
import path from 'node:path'
import { RPC } from '@libp2p/gossipsub/message'
import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const require = createRequire(import.meta.url)
const src = path.join(path.dirname(require.resolve('@libp2p/gossipsub/message')), '..')
const { buildRawMessage, validateToRawMessage } = await import(path.join(src, 'utils/buildRawMessage.js'))
const { msgIdFnStrictSign, msgIdFnStrictNoSign } = await import(path.join(src, 'utils/msgIdFn.js'))
const { getPublishConfigFromPeerId } = await import(path.join(src, 'utils/publishConfig.js'))

const hex = (b) => Buffer.from(b).toString('hex')
const out = (k, v) => console.log(`${k} ${v}`)
const seed = new Uint8Array(32).map((_, i) => i + 1)
const key = await generateKeyPairFromSeed('Ed25519', seed)
const peer = peerIdFromPrivateKey(key)
const seed2 = new Uint8Array(32).fill(7)
const peer2 = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed2))
const topic = '/openclaw/v1/announce'

console.log('# pubsub vectors from js-libp2p: @libp2p/gossipsub 17.1.1, libp2p 3.3.11,')
console.log('# @libp2p/crypto 5.1.23, node ' + process.version + '; made by pubsub_js.mjs.')
console.log('# "name hex" lines; seeds: 01..20 (signer), 07*32 (pruned peer).')
out('peer', hex(peer.toMultihash().bytes))
out('peer2', hex(peer2.toMultihash().bytes))
out('pubkeypb', hex(publicKeyToProtobuf(key.publicKey)))

out('rpc_subs', hex(RPC.encode({
  subscriptions: [{ subscribe: true, topic }, { subscribe: false, topic: 'other' }],
  messages: []
})))

const cfg = getPublishConfigFromPeerId('StrictSign', peer, key)
const data = new TextEncoder().encode('hello from js')
const { raw } = await buildRawMessage(cfg, topic, data, data)
const rpcpub = RPC.encode({ subscriptions: [], messages: [raw] })
out('rpc_publish', hex(rpcpub))
const dec = RPC.decode(rpcpub).messages[0]
const v = await validateToRawMessage('StrictSign', dec)
if (!v.valid) throw new Error('js refuses its own message')
out('msg_seqno', hex(raw.seqno))
out('msg_signature', hex(raw.signature))
out('msg_key', hex(raw.key))
out('msg_id', hex(await msgIdFnStrictSign(v.message)))
out('msg_id_hash', hex(await msgIdFnStrictNoSign(v.message)))

// the same message without key: js takes the key from `from`
const nokey = { ...dec, key: undefined }
if (!(await validateToRawMessage('StrictSign', nokey)).valid) throw new Error('no key refused')
out('rpc_publish_nokey', hex(RPC.encode({ subscriptions: [], messages: [nokey] })))
// a forged one: data changed after signing
const forged = { ...dec, data: new TextEncoder().encode('hello from jS') }
if ((await validateToRawMessage('StrictSign', forged)).valid) throw new Error('forgery passes')
out('rpc_forged', hex(RPC.encode({ subscriptions: [], messages: [forged] })))

const id1 = new Uint8Array(44).fill(0xa1)
const id2 = new Uint8Array(32).fill(0xb2)
const id3 = new Uint8Array(44).fill(0xc3)
const record = new Uint8Array(10).map((_, i) => 0xe0 + i)
const control = {
  ihave: [{ topicID: topic, messageIDs: [id1, id2] }],
  iwant: [{ messageIDs: [id3] }],
  graft: [{ topicID: 'g' }],
  prune: [{ topicID: topic, peers: [{ peerID: peer2.toMultihash().bytes, signedPeerRecord: record }, { peerID: peer.toMultihash().bytes }], backoff: 60 }],
  idontwant: [{ messageIDs: [id1] }]
}
out('id1', hex(id1))
out('id2', hex(id2))
out('id3', hex(id3))
out('record', hex(record))
out('rpc_control', hex(RPC.encode({ subscriptions: [], messages: [], control })))
out('rpc_all', hex(RPC.encode({
  subscriptions: [{ subscribe: true, topic }],
  messages: [raw],
  control
})))

// An RPC with every part that peerd's encoder wrote and signed
// (test_pubsub's c_rpc(): Ed25519 seed 42*32, seqno 0000010203040506):
// js must decode it, encode it again to the same bytes, take its
// signature under StrictSign and give it the same message ID.
const cRpc = '0a19080112152f6f70656e636c61772f76312f616e6e6f756e636512c3010a260024080112202152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12121068656c6c6f2066726f6d2070656572641a08000001020304050622152f6f70656e636c61772f76312f616e6e6f756e63652a40341bf91bd5f96a9ae2b570186c19eec89fb65e1b7916de16a8b3494115f718d73c144c9b4ec98f0e068291be07be1f91c1c0bcce07cd934db5e4c4bacc1be8033224080112202152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db121a600a110a0174120569646f6e651205696474776f12070a0569646f6e651a030a016722340a0174122d0a260024080112202152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db121203726563183c2a070a0569646f6e65'
const cId = '080112202152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db120000010203040506'
const crpc = RPC.decode(Buffer.from(cRpc, 'hex'))
if (hex(RPC.encode(crpc)) !== cRpc) throw new Error('js encodes the C RPC otherwise')
const cv = await validateToRawMessage('StrictSign', crpc.messages[0])
if (!cv.valid) throw new Error('js refuses the C signature: ' + cv.error)
if (hex(await msgIdFnStrictSign(cv.message)) !== cId) throw new Error('js gives another ID')
out('c_rpc', cRpc)
out('c_msg_id', cId)
