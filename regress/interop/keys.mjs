// keys.py's js side, with @libp2p/crypto (pinned in package.json):
//   node keys.mjs gen          a new Ed25519 key: JSON {pb (hex), b64, seed
//                              (hex), peerId}, pb as privateKeyToProtobuf
//   node keys.mjs load FILE    FILE holds a protobuf PrivateKey, or its
//                              base64: JSON {peerId}
import { readFileSync } from 'node:fs'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const [cmd, file] = process.argv.slice(2)
if (cmd === 'gen') {
  const key = await generateKeyPair('Ed25519')
  const pb = privateKeyToProtobuf(key)
  console.log(JSON.stringify({
    pb: Buffer.from(pb).toString('hex'),
    b64: Buffer.from(pb).toString('base64'),
    seed: Buffer.from(key.raw.subarray(0, 32)).toString('hex'),
    peerId: peerIdFromPrivateKey(key).toString()
  }))
} else if (cmd === 'load') {
  let buf = readFileSync(file)
  if (buf[0] !== 0x08) buf = Buffer.from(buf.toString('ascii').trim(), 'base64')
  const key = privateKeyFromProtobuf(buf)
  console.log(JSON.stringify({ type: key.type, peerId: peerIdFromPrivateKey(key).toString() }))
} else {
  console.error('usage: node keys.mjs gen | load FILE')
  process.exit(2)
}
