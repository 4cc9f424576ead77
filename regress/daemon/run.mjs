// Run the @libp2p/interop suites of suites.mjs with mocha and print TAP on
// stdout: a passed test is "ok", a skipped one "ok ... # SKIP reason", a
// failed one "not ok".  A test the suite never ran because a hook threw the
// suite's UnsupportedError (its streams and relay suites spawn in hooks and
// do not catch it) is a skip with that error's reason; one never run
// because a hook failed otherwise is a failure, and so is a failed "after"
// hook (a daemon that would not stop), as a case of its own.  Progress
// goes to stderr.
//   node --import ./polyfill.mjs run.mjs [SUITE,...]
import './polyfill.mjs'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import Mocha from 'mocha'
import * as fx from './factory.mjs'

if (process.argv[2] != null) process.env.INTEROP_SUITES = process.argv[2]

const results = new Map() // test -> { status, reason }
const hookFailed = new Map() // suite -> { unsupported, reason }
const afterFailed = [] // a daemon that would not stop, say
const started = Date.now()

// INTEROP_NAME: what the suite's 'go' side is called in the titles
const goName = process.env.INTEROP_NAME || null

function clean (s) {
  return String(s).replace(/[\r\n#]+/g, ' ').trim()
}

function named (title) {
  return goName == null ? title : title.replace(/\bgo\b/g, goName)
}

function Reporter (runner) {
  runner.on('pass', (t) => {
    results.set(t, { status: 'pass' })
    process.stderr.write(`pass ${t.fullTitle()} (${t.duration} ms)\n`)
  })
  runner.on('suite end', () => { fx.clearUnsupported() })
  runner.on('pending', (t) => {
    const reason = t.parent.isPending()
      ? 'disabled in @libp2p/interop itself (describe.skip)'
      : fx.lastUnsupported ?? 'skipped by the suite'
    results.set(t, { status: 'skip', reason })
    process.stderr.write(`skip ${t.fullTitle()}: ${reason}\n`)
  })
  runner.on('fail', (t, err) => {
    if (t.type === 'hook' && t.title.startsWith('"after')) {
      afterFailed.push({ title: t.fullTitle(), reason: err?.message ?? String(err) })
      process.stderr.write(`FAIL ${t.fullTitle()}: ${err?.stack ?? err}\n`)
      return
    }
    if (t.type === 'hook') {
      const unsupported = err?.name === 'UnsupportedError'
      hookFailed.set(t.parent, { unsupported, reason: unsupported ? err.message : `${t.title}: ${err?.message ?? err}` })
      if (!unsupported) process.stderr.write(`FAIL ${t.fullTitle()}: ${err?.stack ?? err}\n`)
      else process.stderr.write(`skip ${t.parent.fullTitle()}: ${err.message}\n`)
      return
    }
    results.set(t, { status: 'fail', reason: err?.message ?? String(err) })
    process.stderr.write(`FAIL ${t.fullTitle()}: ${err?.stack ?? err}\n`)
  })
}

function allTests (suite, out = []) {
  out.push(...suite.tests)
  for (const s of suite.suites) allTests(s, out)
  return out
}

function hookOf (suite) {
  for (let s = suite; s != null; s = s.parent) {
    if (hookFailed.has(s)) return hookFailed.get(s)
  }
  return null
}

const mocha = new Mocha({ timeout: 60000, reporter: Reporter })
mocha.addFile(fileURLToPath(new URL('./suites.mjs', import.meta.url)))
await mocha.loadFilesAsync()
mocha.run(() => {
  let n = 0
  const count = { pass: 0, skip: 0, fail: 0 }
  for (const t of allTests(mocha.suite)) {
    let r = results.get(t)
    if (r == null) {
      const h = hookOf(t.parent)
      if (h?.unsupported) r = { status: 'skip', reason: h.reason }
      else r = { status: 'fail', reason: h != null ? `not run: ${h.reason}` : 'not run' }
    }
    count[r.status]++
    n++
    const title = named(clean(t.fullTitle()))
    if (r.status === 'pass') console.log(`ok ${n} - ${title}`)
    else if (r.status === 'skip') console.log(`ok ${n} - ${title} # SKIP ${clean(r.reason)}`)
    else console.log(`not ok ${n} - ${title}\n# ${clean(r.reason)}`)
  }
  for (const h of afterFailed) {
    count.fail++
    console.log(`not ok ${++n} - ${clean(h.title)}\n# ${clean(h.reason)}`)
  }
  console.log(`1..${n}`)
  const secs = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`# js vs ${goName ?? fx.secondName} (the suite's 'go'): ${count.pass} passed, ${count.skip} skipped, ${count.fail} failed in ${secs} s`)
  process.exit(count.fail > 0 ? 1 : 0)
})
