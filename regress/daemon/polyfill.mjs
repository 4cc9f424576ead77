// js-libp2p 3.x uses Promise.withResolvers (Node >= 22); Node 20 lacks it.
Promise.withResolvers ??= function () { let resolve, reject; const promise = new this((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } }
// @libp2p/websockets dials with the global WebSocket (Node >= 22).
const { WebSocket } = await import('ws')
globalThis.WebSocket ??= WebSocket
