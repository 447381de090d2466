import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHarness } from '../support/harness'

// /docs must render with no internet: Chromium resolves every host except 127.0.0.1 to nothing,
// so a CDN script or web font would fail and the reference would not render.
const chromium =
  Bun.which('chromium') ?? Bun.which('chromium-browser') ?? Bun.which('google-chrome')
if (!chromium)
  console.warn(
    '\n*** SKIPPING /docs browser test: no chromium on PATH (apt-get install chromium) ***\n'
  )

describe.skipIf(!chromium)('/docs in headless Chromium, offline', () => {
  let harness: Awaited<ReturnType<typeof createHarness>>
  let server: ReturnType<typeof Bun.serve>
  const profile = mkdtempSync(join(tmpdir(), 'gridpulse-chromium-'))
  const requests: string[] = []

  beforeAll(async () => {
    harness = await createHarness()
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) => {
        requests.push(new URL(request.url).pathname)
        return harness.api.fetch(request)
      },
    })
  })
  afterAll(async () => {
    server?.stop(true)
    await harness?.close()
    rmSync(profile, { recursive: true, force: true })
  })

  test('renders the API reference from local assets only', async () => {
    const proc = Bun.spawn(
      [
        chromium!,
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--virtual-time-budget=15000',
        '--dump-dom',
        `http://127.0.0.1:${server.port}/docs`,
      ],
      { stdout: 'pipe', stderr: 'ignore' }
    )
    const dom = await new Response(proc.stdout).text()
    await proc.exited

    expect(requests).toEqual(expect.arrayContaining(['/docs', '/docs/scalar.js', '/openapi.json']))
    // Rendered by Scalar's script from the spec, not present in the server's HTML.
    expect(dom).toContain('GridPulse API')
    expect(dom).toContain('/api/v1/dispatch')
    expect(dom).toContain('Regional prices (RRP')
  }, 60_000)
})

/** A minimal Chrome DevTools Protocol session on one page (no puppeteer: one WebSocket). */
async function openPage(chromium: string, profile: string) {
  const proc = Bun.spawn(
    [
      chromium,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdout: 'ignore', stderr: 'pipe' }
  )
  let stderr = ''
  let endpoint: string | undefined
  const decoder = new TextDecoder()
  for await (const chunk of proc.stderr) {
    stderr += decoder.decode(chunk, { stream: true })
    endpoint = stderr.match(/DevTools listening on (ws:\/\/\S+)/)?.[1]
    if (endpoint) break
  }
  if (!endpoint) throw new Error(`chromium did not start: ${stderr}`)
  const port = new URL(endpoint).port
  // biome-ignore lint: CDP messages are loosely typed
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as any[]
  const ws = new WebSocket(targets.find((t) => t.type === 'page').webSocketDebuggerUrl)
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve)
    ws.addEventListener('error', reject)
  })
  let nextId = 0
  // biome-ignore lint: CDP messages are loosely typed
  const pending = new Map<number, (message: any) => void>()
  const console: string[] = []
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data))
    if (message.id) pending.get(message.id)?.(message)
    else if (message.method === 'Log.entryAdded') console.push(message.params.entry.text)
    else if (message.method === 'Runtime.exceptionThrown')
      console.push(message.params.exceptionDetails.text)
  })
  // biome-ignore lint: CDP messages are loosely typed
  const send = (method: string, params: object = {}): Promise<any> =>
    new Promise((resolve) => {
      const id = ++nextId
      pending.set(id, resolve)
      ws.send(JSON.stringify({ id, method, params }))
    })
  const evaluate = async <T>(expression: string): Promise<T> =>
    (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })).result
      ?.result?.value as T
  /** Polls `expression` in the page until it is truthy; bounded. */
  const until = async (expression: string, what: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    while (!(await evaluate<boolean>(expression))) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; page log: ${console.join(' / ')}`)
      await Bun.sleep(100)
    }
  }
  await send('Runtime.enable')
  await send('Log.enable')
  await send('Page.enable')
  // Every CSP violation, including ones the page's own code catches (they would not reach the log).
  await send('Page.addScriptToEvaluateOnNewDocument', {
    source:
      "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))",
  })
  return {
    send,
    evaluate,
    until,
    console,
    close() {
      ws.close()
      proc.kill()
    },
  }
}

describe.skipIf(!chromium)('/docs Try it, in headless Chromium', () => {
  let harness: Awaited<ReturnType<typeof createHarness>>
  let server: ReturnType<typeof Bun.serve>
  const profile = mkdtempSync(join(tmpdir(), 'gridpulse-chromium-'))
  const seen: { method: string; path: string; origin: string | null; host: string | null }[] = []

  beforeAll(async () => {
    harness = await createHarness()
    // Any port but 8080 (the old fixed server URL): port 0 picks a free one.
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) => {
        seen.push({
          method: request.method,
          path: new URL(request.url).pathname,
          origin: request.headers.get('origin'),
          host: request.headers.get('host'),
        })
        return harness.api.fetch(request)
      },
    })
    expect(server.port).not.toBe(8080)
  })
  afterAll(async () => {
    server?.stop(true)
    await harness?.close()
    rmSync(profile, { recursive: true, force: true })
  })

  test('sends a real request to the host and port that served /docs, under its CSP', async () => {
    const page = await openPage(chromium!, profile)
    try {
      await page.send('Page.navigate', { url: `http://127.0.0.1:${server.port}/docs` })
      await page.until(
        "document.body.textContent.includes('Regional prices (RRP')",
        'the reference to render'
      )
      // Scalar's hosted services are configured away, on localhost too.
      const text = await page.evaluate<string>('document.body.textContent')
      for (const gone of ['Ask AI', 'Generate MCP', 'Deploy', 'Share'])
        expect(text).not.toContain(gone)

      // "Test Request" on the first operation opens the client; "Send" sends it.
      await page.until(
        "[...document.querySelectorAll('button')].some((b) => b.innerText.trim().startsWith('Test Request'))",
        'a Test Request button'
      )
      await page.evaluate(
        "[...document.querySelectorAll('button')].find((b) => b.innerText.trim().startsWith('Test Request')).click()"
      )
      await page.until(
        "[...document.querySelectorAll('button')].some((b) => /^Send/.test(b.innerText.trim()))",
        'the Send button'
      )
      const before = seen.length
      await page.evaluate(
        "[...document.querySelectorAll('button')].find((b) => /^Send/.test(b.innerText.trim())).click()"
      )
      const deadline = Date.now() + 30_000
      while (!seen.slice(before).some((r) => r.path.startsWith('/api/v1/'))) {
        if (Date.now() > deadline)
          throw new Error(`no API request arrived; saw ${JSON.stringify(seen)}`)
        await Bun.sleep(100)
      }
      const sent = seen.slice(before).find((r) => r.path.startsWith('/api/v1/'))!
      expect(sent.host).toBe(`127.0.0.1:${server.port}`)
      // The client shows the answer it got (the harness has no data: an empty page, 200).
      await page.until("document.body.innerText.includes('200')", 'the response status')

      expect(await page.evaluate<string[]>('window.__csp')).toEqual([])
      expect(
        page.console.filter((line) => /Content Security Policy|Refused to/.test(line))
      ).toEqual([])
    } finally {
      page.close()
    }
  }, 120_000)
})
