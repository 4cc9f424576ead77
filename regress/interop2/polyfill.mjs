// js-libp2p 3.x, which gossip.mjs loads with GOSSIP_MODULES=../interop,
// uses Promise.withResolvers (Node >= 22); Node 20 lacks it.
Promise.withResolvers ??= function () { let resolve, reject; const promise = new this((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } }
