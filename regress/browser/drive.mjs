// Drive a headless chromium for regress/browser.py with playwright-core
// (no browser is downloaded: CHROMIUM names the one to run, by default
// /usr/bin/chromium).
//
//   node drive.mjs URL PROFILEDIR
//
// Opens URL (the page of page.mjs) in a browser whose profile is in
// PROFILEDIR, so that the test can find every process of it, and prints
// one JSON object a line on stdout:
//   {"event":"launched","version":...}
//   {"event":"page", ...window.peerd} once the page reserved or failed
//   {"event":"console","text":...} for what the page logs
//   {"event":"pinged","pings":[...]} answering a line "ping ADDR COUNT"
//     on stdin (window.peerdPing in the page)
//   {"event":"error","error":...} if something else went wrong
// It closes the browser and exits when stdin closes, on SIGTERM, or after
// BROWSER_TIMEOUT seconds (default 120).
import process from 'node:process'
import readline from 'node:readline'
import { chromium } from 'playwright-core'

const TIMEOUT = 1000 * Number(process.env.BROWSER_TIMEOUT ?? 120)

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function errstr (err) {
  return `${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`
}

let context = null
let closing = false

async function finish (code) {
  if (closing) return
  closing = true
  if (context != null) {
    await Promise.race([context.close(), new Promise(resolve => setTimeout(resolve, 5000))]).catch(() => {})
  }
  process.exit(code)
}

process.stdout.on('error', () => finish(4))
process.on('SIGTERM', () => finish(0))
process.on('SIGINT', () => finish(0))

async function main () {
  const [url, profile] = process.argv.slice(2)
  if (url == null || profile == null) {
    process.stderr.write('usage: node drive.mjs URL PROFILEDIR\n')
    process.exit(2)
  }
  setTimeout(() => { emit({ event: 'error', error: 'browser timeout' }); finish(3) }, TIMEOUT).unref()
  const args = ['--no-first-run', '--disable-background-networking', '--disable-component-update']
  if (process.getuid?.() === 0) args.push('--no-sandbox')
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args
  })
  emit({ event: 'launched', version: context.browser()?.version() ?? null })
  const page = context.pages()[0] ?? await context.newPage()
  page.on('console', (msg) => emit({ event: 'console', type: msg.type(), text: msg.text() }))
  page.on('pageerror', (err) => emit({ event: 'pageerror', error: errstr(err) }))
  await page.goto(url)
  await page.waitForFunction(() => window.peerd != null && window.peerd.state !== 'starting', null, { timeout: 60000, polling: 100 })
  emit({ event: 'page', ...await page.evaluate(() => window.peerd) })
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const [cmd, addr, count] = line.trim().split(/\s+/)
    if (cmd === 'ping') {
      const pings = await page.evaluate(([a, n]) => window.peerdPing(a, n), [addr, Number(count)])
      emit({ event: 'pinged', addr, pings })
    } else if (cmd === 'state') {
      emit({ event: 'page', ...await page.evaluate(() => window.peerd) })
    } else if (cmd !== '') {
      emit({ event: 'error', error: `unknown command ${cmd}` })
    }
  }
  await finish(0)
}

main().catch(async (err) => {
  emit({ event: 'error', error: errstr(err) })
  await finish(1)
})
