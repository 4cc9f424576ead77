// The mocha spec run.mjs loads: the @libp2p/interop suites named in
// INTEROP_SUITES (comma separated; default connect,streams,relay,pubsub;
// dht too if named) on the factory of factory.mjs.
import { connectInteropTests, dhtInteropTests, pubsubInteropTests, relayInteropTests, streamInteropTests } from '@libp2p/interop'
import { factory } from './factory.mjs'

const suites = {
  connect: connectInteropTests,
  streams: streamInteropTests,
  relay: relayInteropTests,
  pubsub: pubsubInteropTests,
  dht: dhtInteropTests // not by default: neither daemon here offers a DHT
}
const want = (process.env.INTEROP_SUITES || 'connect,streams,relay,pubsub').split(',')
for (const name of want) {
  if (suites[name] == null) throw new Error(`unknown suite ${name}; have ${Object.keys(suites).join(', ')}`)
  describe(name, () => { suites[name](factory) })
}
