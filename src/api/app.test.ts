import { afterEach, describe, expect, test } from 'bun:test'
import { expectProblem, json } from '../../tests/support/api'
import { createHarness } from '../../tests/support/harness'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

describe('correlation id', () => {
  test('is accepted when well formed, replaced when not, generated when absent', async () => {
    harness = await createHarness()
    const given = await harness.api.request('/health', {
      headers: { 'X-Correlation-ID': 'a1b2c3d4-e5f6#7' },
    })
    const bad = await harness.api.request('/health', {
      headers: { 'X-Correlation-ID': 'bad id\twith spaces' },
    })
    const none = await harness.api.request('/health')

    expect(given.headers.get('x-correlation-id')).toBe('a1b2c3d4-e5f6#7')
    expect(bad.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(none.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('the app', () => {
  test('unknown routes are 404 problems', async () => {
    harness = await createHarness()
    await expectProblem(await harness.api.request('/api/v1/nope'), 404, 'not_found')
  })

  test('/openapi.json is OpenAPI 3.1 and /docs loads Scalar from this server', async () => {
    harness = await createHarness()
    const spec = await json(harness.api.request('/openapi.json'))
    const docs = await harness.api.request('/docs')
    const html = await docs.text()
    const script = await harness.api.request('/docs/scalar.js')

    expect(spec.openapi).toBe('3.1.0')
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/dispatch',
        '/api/v1/prices',
        '/api/v1/weather',
        '/api/v1/stats',
      ])
    )
    expect(html).toContain('src="/docs/scalar.js"')
    expect(html).not.toMatch(/https?:\/\/cdn/)
    expect(script.status).toBe(200)
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
  })

  test('the committed OpenAPI document matches the code', async () => {
    harness = await createHarness()
    const live = await json(harness.api.request('/openapi.json'))
    const committed = await Bun.file(
      new URL('../../openapi/gridpulse.openapi.json', import.meta.url)
    ).json()
    // If this fails: `bun run openapi:export` and commit the result (Kong's config derives from it).
    expect(committed).toEqual(live)
  })
})
