/**
 * The HTTP contract beyond single routes (issue 11): what every operation documents, strict query
 * integers, the cursor and interval_end patterns, 405 with Allow, gzip request bodies, headers,
 * and requests whose Host Bun cannot turn into a URL.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { dispatchEvent, waitFor } from '../../tests/support/events'
import { createHarness } from '../../tests/support/harness'
import { openApiDocument } from './app'
import { CURSOR_PATTERN, INTERVAL_END_PATTERN } from './common'
import { ProblemSchema } from './problem'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

type Operation = { responses: Record<string, unknown> }
// biome-ignore lint: the document is walked generically
type Doc = { servers: { url: string }[]; paths: Record<string, Record<string, any>> }

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = ProblemSchema.parse(await response.json())
  expect(body.type).toEndWith(`/${code}`)
  return body
}

const post = (body: string | Uint8Array, headers: Record<string, string>) =>
  harness.api.request('/api/v1/dispatch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
const reading = JSON.stringify({ region_id: 'NSW1', fuel_type: 'wind', value_mw: 123.4 })

describe('the OpenAPI document', () => {
  test('every /api/v1 operation documents 401 and 429, writes also 403, as problem+json', async () => {
    harness = await createHarness()
    const doc = openApiDocument(harness.api) as unknown as Doc
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => ({ path, method, op: op as Operation }))
      )
    expect(operations.length).toBeGreaterThanOrEqual(11)
    for (const { method, op } of operations) {
      const expected = method === 'get' ? ['401', '429'] : ['401', '403', '413', '415', '429']
      for (const status of expected) {
        expect(op.responses[status]).toMatchObject({
          content: { 'application/problem+json': expect.anything() },
        })
      }
    }
    // Probes and the spec itself are keyless: no 401 there.
    expect(doc.paths['/health']!.get.responses['401']).toBeUndefined()
  })

  test('every list documents CSV and `format`; every time series `interval` and a page of rows or of buckets', async () => {
    harness = await createHarness()
    const doc = openApiDocument(harness.api) as unknown as Doc
    // biome-ignore lint: the document is walked generically
    const param = (op: Operation & { parameters: any[] }, name: string) =>
      op.parameters.find((p) => p.name === name)
    const series = [
      '/api/v1/dispatch',
      '/api/v1/prices',
      '/api/v1/prices/fcas',
      '/api/v1/curtailment',
      '/api/v1/storage',
      '/api/v1/weather',
      '/api/v1/interconnectors',
      '/api/v1/generation/rooftop',
      '/api/v1/generation/reconciliation',
    ]
    for (const path of [...series, '/api/v1/generation/renewables', '/api/v1/dlq']) {
      const op = doc.paths[path]!.get
      expect(param(op, 'format')?.schema.enum, path).toEqual(['json', 'csv'])
      expect(op.responses['200'].content['text/csv'].schema.type, path).toBe('string')
      expect(param(op, 'interval')?.schema, path).toEqual(
        series.includes(path)
          ? expect.objectContaining({ enum: ['5m', '30m', '1h', '1d', '1M'], default: '5m' })
          : undefined
      )
      if (!series.includes(path)) continue
      const pages = op.responses['200'].content['application/json'].schema.anyOf
      expect(
        pages.map((p: { $ref: string }) => p.$ref.split('/').at(-1)),
        path
      ).toEqual([expect.stringMatching(/Page$/), expect.stringMatching(/BucketPage$/)])
    }
  })

  test('names a relative server, so clients call whatever host served it', async () => {
    harness = await createHarness()
    const served = (await (await harness.api.request('/openapi.json')).json()) as Doc
    expect(served.servers.map((s) => s.url)).toEqual(['/'])
    expect(served.paths['/api/v1/dispatch']!.get.parameters).toContainEqual(
      expect.objectContaining({
        name: 'cursor',
        schema: expect.objectContaining({ pattern: CURSOR_PATTERN }),
      })
    )
  })
})

describe('query integers are plain decimal digits', () => {
  test.each(['0x10', '1e2', '1.0', '+5', ' 5', '0b11', '-1', ''])('limit=%p is 400', async (v) => {
    harness = await createHarness()
    const body = await expectProblem(
      await harness.api.request(`/api/v1/prices?limit=${encodeURIComponent(v)}`),
      400,
      'validation_failed'
    )
    expect(body.errors?.map((e) => e.parameter)).toContain('limit')
  })

  test('limit=16 is a page of at most 16', async () => {
    harness = await createHarness()
    const response = await harness.api.request('/api/v1/prices?limit=16')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { meta: { limit: number } }).meta.limit).toBe(16)
  })
})

describe('cursor', () => {
  test('any value of the documented shape is a position; the returned one pages on', async () => {
    harness = await createHarness()
    const events = [5, 10, 15].map((m) =>
      dispatchEvent('NSW1', 'wind', `2026-04-01T00:${String(m).padStart(2, '0')}:00Z`, m)
    )
    await harness.bus.publish(events)
    await waitFor(
      () => harness.queries.dispatch.list({ limit: 10 }).data.length === 3,
      'three rows projected'
    )
    const first = (await (await harness.api.request('/api/v1/dispatch?limit=2')).json()) as {
      meta: { next_cursor: string }
    }
    expect(first.meta.next_cursor).toMatch(new RegExp(CURSOR_PATTERN))
    const next = await harness.api.request(
      `/api/v1/dispatch?limit=2&cursor=${first.meta.next_cursor}`
    )
    expect(((await next.json()) as { data: unknown[] }).data).toHaveLength(1)
    // Made up but well formed: everything older than 2026-04-01T00:10Z (no id sorts below '0').
    const made = await harness.api.request(
      `/api/v1/dispatch?cursor=${Date.parse('2026-04-01T00:10:00Z')}.0`
    )
    expect(((await made.json()) as { data: unknown[] }).data).toHaveLength(1)
    await expectProblem(
      await harness.api.request('/api/v1/dispatch?cursor=bm90LWEtY3Vyc29y'),
      400,
      'validation_failed'
    )
  })

  test('a range whose `to` is not after `from` is an empty page, not an error', async () => {
    harness = await createHarness()
    const response = await harness.api.request(
      '/api/v1/prices?from=2026-04-02T00:00:00Z&to=2026-04-01T00:00:00Z'
    )
    expect(response.status).toBe(200)
    expect(((await response.json()) as { data: unknown[] }).data).toEqual([])
  })
})

describe('interval_end pattern', () => {
  const re = new RegExp(INTERVAL_END_PATTERN)
  test.each([
    '2026-04-01T10:05:00+10:00',
    '2026-04-01T00:00:00Z',
    '2024-02-29T23:55:00.000Z',
    '2026-04-01T10:00:00+05:45',
  ])('accepts %s', (v) => expect(re.test(v)).toBe(true))
  test.each([
    '2026-04-01T10:03:00Z',
    '2026-04-01T10:05:30Z',
    '2026-04-01T10:05:00.5Z',
    '2025-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-04-01T10:05:00+05:43',
    '2026-04-01T10:05:00',
    '2026-04-01 10:05:00Z',
  ])('rejects %s', (v) => expect(re.test(v)).toBe(false))

  test('the server applies it: an unaligned body is 400 naming the field', async () => {
    harness = await createHarness()
    const body = await expectProblem(
      await post(
        JSON.stringify({ ...JSON.parse(reading), interval_end: '2026-04-01T10:03:00Z' }),
        {}
      ),
      400,
      'validation_failed'
    )
    expect(body.errors?.map((e) => e.pointer)).toContain('/interval_end')
  })
})

describe('methods', () => {
  test('every documented path answers other methods with 405 and Allow listing its own', async () => {
    harness = await createHarness()
    const doc = openApiDocument(harness.api) as unknown as Doc
    for (const [template, item] of Object.entries(doc.paths)) {
      const path = template.replace(/\{[^}]+\}/g, '3f0f8f8e-6a43-4ac3-9d5e-0e8e1f7f6a21')
      const documented = Object.keys(item).map((m) => m.toUpperCase())
      for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE', 'POST', 'GET']) {
        if (documented.includes(method)) continue
        const response = await harness.api.request(path, { method })
        const body = await expectProblem(response, 405, 'method_not_allowed')
        expect(body.detail).toContain(method)
        const allow = response.headers.get('allow')!.split(', ')
        for (const m of documented) expect(allow).toContain(m)
        expect(allow).not.toContain(method)
      }
    }
  })

  test('405 comes before authentication: a keyless PUT is told the method is wrong', async () => {
    harness = await createHarness({ auth: { mode: 'keys', verify: () => undefined } })
    const response = await harness.api.request('/api/v1/prices', { method: 'PUT' })
    await expectProblem(response, 405, 'method_not_allowed')
    expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
  })

  test('OPTIONS is 204 with Allow; HEAD is the GET without a body', async () => {
    harness = await createHarness()
    const options = await harness.api.request('/api/v1/dispatch', { method: 'OPTIONS' })
    expect(options.status).toBe(204)
    expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST')
    const head = await harness.api.request('/health', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })

  test('an unknown path is still 404', async () => {
    harness = await createHarness()
    await expectProblem(await harness.api.request('/nope', { method: 'PUT' }), 404, 'not_found')
  })
})

describe('Content-Encoding on request bodies', () => {
  test('a gzip JSON body is inflated and accepted', async () => {
    harness = await createHarness()
    const response = await post(Bun.gzipSync(Buffer.from(reading)), { 'content-encoding': 'gzip' })
    expect(response.status).toBe(202)
  })

  test('plain JSON labelled gzip is 400 saying the encoding is wrong', async () => {
    harness = await createHarness()
    const body = await expectProblem(
      await post(reading, { 'content-encoding': 'gzip' }),
      400,
      'malformed_encoding'
    )
    expect(body.detail).toContain('gzip')
  })

  test('a corrupt gzip stream is 400, not a 500', async () => {
    harness = await createHarness()
    const gz = Bun.gzipSync(Buffer.from(reading))
    gz[gz.length - 6]! ^= 0xff // the CRC32 trailer
    await expectProblem(await post(gz, { 'content-encoding': 'gzip' }), 400, 'malformed_encoding')
  })

  test('a gzip bomb is 413: the cap applies to the inflated size', async () => {
    harness = await createHarness({ maxBodyBytes: 64 * 1024 })
    // 50 MB of spaces inflates from ~50 kB: under the cap on the wire, 800× over it inflated.
    const bomb = Bun.gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20), { level: 9 })
    expect(bomb.byteLength).toBeLessThan(64 * 1024)
    const body = await expectProblem(
      await post(bomb, { 'content-encoding': 'gzip' }),
      413,
      'payload_too_large'
    )
    expect(body.detail).toContain('inflated')
  })

  test.each(['br', 'deflate', 'gzip, gzip', 'compress'])(
    'Content-Encoding: %s is 415',
    async (e) => {
      harness = await createHarness()
      const response = await post(reading, { 'content-encoding': e })
      await expectProblem(response, 415, 'unsupported_media_type')
      expect(response.headers.get('accept-encoding')).toBe('gzip')
    }
  )
})

describe('headers', () => {
  test('nosniff on every response; data is private, validated and revalidated; errors are not stored', async () => {
    harness = await createHarness()
    const responses = await Promise.all(
      [
        '/health',
        '/api/v1/prices',
        '/api/v1/prices?limit=0',
        '/nope',
        '/openapi.json',
        '/docs',
      ].map((p) => harness.api.request(p))
    )
    for (const r of responses) expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    const [health, data, invalid, missing] = responses
    // No price projected: nothing says when the next one is due, so the client revalidates (a
    // price answer gets a max-age once the last interval is in: http-cache.test.ts).
    expect(data!.headers.get('cache-control')).toBe('private, no-cache')
    expect(data!.headers.get('etag')).toMatch(/^W\/"/)
    expect(data!.headers.get('vary')).toBe('Accept, Accept-Encoding')
    for (const r of [health!, invalid!, missing!]) {
      expect(r.headers.get('cache-control')).toBe('no-store')
      expect(r.headers.get('etag')).toBeNull()
    }
    expect(data!.headers.get('x-frame-options')).toBe('DENY')
  })

  test('/docs: a CSP allowing only this origin and its inline bootstrap, never framed', async () => {
    harness = await createHarness()
    const response = await harness.api.request('/docs')
    const csp = response.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self' 'sha256-")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-eval')
    expect(response.headers.get('x-frame-options')).toBe('DENY')
    const html = await response.text()
    // Scalar's hosted services are switched off in its configuration.
    expect(html).toContain('"agent": {\n          "disabled": true')
  })

  test('GET / redirects to /docs', async () => {
    harness = await createHarness()
    const response = await harness.api.request('/')
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/docs')
  })
})

describe('requests Bun cannot give a URL', () => {
  test('HTTP/1.0 without Host, and a Host that is not an authority, reach /health', async () => {
    harness = await createHarness()
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: harness.api.fetch })
    try {
      for (const head of ['GET /health HTTP/1.0\r\n', 'GET /health HTTP/1.1\r\nHost: a b\r\n']) {
        const { promise, resolve } = Promise.withResolvers<string>()
        let received = ''
        const socket = await Bun.connect({
          hostname: '127.0.0.1',
          port: server.port!,
          socket: {
            data: (_, chunk) => {
              received += new TextDecoder().decode(chunk)
            },
            close: () => resolve(received),
            open: (s) => {
              s.write(`${head}Connection: close\r\n\r\n`)
            },
          },
        })
        const answer = await Promise.race([
          promise,
          Bun.sleep(10_000).then(() => `timed out; got ${received}`),
        ])
        socket.end()
        expect(answer).toStartWith('HTTP/1.1 200')
        expect(answer).toContain('"status":"healthy"')
      }
    } finally {
      server.stop(true)
    }
  })
})
