// js-libp2p 3.x uses Promise.withResolvers (Node >= 22); Node 20 lacks it.
Promise.withResolvers ??= function () { let resolve, reject; const promise = new this((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } }
