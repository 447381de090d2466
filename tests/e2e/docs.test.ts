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
    expect(dom).toContain('Regional prices (RRP)')
  }, 60_000)
})
