import { afterEach, describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import zlib from 'node:zlib'
import { dispatchEvent, waitFor } from '../../tests/support/events'
import { createHarness } from '../../tests/support/harness'
import { type KeyStore, openKeyStore } from '@/access'
import { createLogger } from '@/observability'
import { createReadPort, openProjectionDb } from '@/projection'
import { createApi } from './app'
import type { AuthConfig } from './auth'

let harness: Awaited<ReturnType<typeof createHarness>> | undefined
afterEach(() => harness?.close())

const T0 = Date.parse('2026-04-01T00:00:10Z')
const PAGE = '/api/v1/dispatch?limit=10'
// Differ per request by design: the correlation id, when it was served, the budget left.
const PER_REQUEST = new Set(['x-correlation-id', 'ratelimit-remaining', 'date'])

/** Status, headers but the per-request ones (sorted), and the body with per-request fields blanked. */
async function comparable(res: Response) {
  const headers = [...res.headers].filter(([name]) => !PER_REQUEST.has(name)).sort()
  const bytes = new Uint8Array(await res.arrayBuffer())
  const coding = res.headers.get('content-encoding')
  const text = new TextDecoder().decode(
    coding === 'gzip'
      ? zlib.gunzipSync(bytes)
      : coding === 'br'
        ? zlib.brotliDecompressSync(bytes)
        : bytes
  )
  const body = text
    .replace(/"correlation_id":"[^"]*"/g, '"correlation_id":"…"')
    .replace(/"timestamp":"[^"]*"/g, '"timestamp":"…"')
  return { status: res.status, headers, body }
}

async function withDispatch(auth?: AuthConfig) {
  harness = await createHarness({ keys: auth === undefined, auth, now: () => T0 })
  await harness.bus.publish(
    [1, 2, 3].map((i) => dispatchEvent('NSW1', 'wind', `2026-04-01T00:0${i * 2}:00Z`, 100 + i))
  )
  await waitFor(() => harness?.queries.totals().dispatch === 3, 'dispatch projected')
  return harness
}

describe('cached answers without the router', () => {
  test('a hit is the uncached answer again, in every coding, as 304 and as HEAD', async () => {
    const h = await withDispatch()
    const apikey = h.createKey('analytics', 'read')
    const variants: Record<string, string>[] = [
      {},
      { 'Accept-Encoding': 'gzip' },
      { 'Accept-Encoding': 'br;q=1, gzip;q=0.5' },
      { 'If-None-Match': '*' },
    ]
    let n = 0
    for (const [i, extra] of variants.entries()) {
      const headers = { apikey, 'X-Correlation-ID': `corr-${i}`, ...extra }
      for (const method of ['GET', 'HEAD']) {
        // A query of its own each time: the first request builds and stores, the second hits.
        const path = `${PAGE}${'&region_id=NSW1'.repeat(++n)}`
        const built = await h.api.request(path, { method, headers })
        const hit = await h.api.request(path, { method, headers })
        expect(hit.headers.get('x-correlation-id')).toBe(`corr-${i}`)
        expect(hit.headers.get('ratelimit-remaining')).toBeTruthy()
        expect(await comparable(hit)).toEqual(await comparable(built))
      }
    }
  })

  test('a hit still checks the key: a revoked one gets the 401 the router gives', async () => {
    const keys = openKeyStore(':memory:')
    const api = createApi({ ...baseDeps(), auth: { mode: 'keys', verify: keys.verify } })
    const { key: apikey, info } = keys.create('analytics', 'read')
    expect((await api.request(PAGE, { headers: { apikey } })).status).toBe(200)
    expect((await api.request(PAGE, { headers: { apikey } })).status).toBe(200)
    keys.revoke(info.id)
    const onHit = await api.request(PAGE, { headers: { apikey, 'X-Correlation-ID': 'x-1' } })
    // Accept: text/csv is never cached: the router answers it.
    const byRouter = await api.request(PAGE, { headers: { apikey, Accept: 'text/csv' } })
    expect(onHit.status).toBe(401)
    expect(onHit.headers.get('www-authenticate')).toBe('ApiKey header="apikey"')
    expect(JSON.parse(await onHit.clone().text()).correlation_id).toBe('x-1')
    expect(await comparable(onHit)).toEqual(await comparable(byRouter))
  })

  test('gateway mode: a request that bypasses Kong gets the same 401 on a cached page', async () => {
    const h = await withDispatch({ mode: 'gateway', secret: 'kong-secret' })
    const kong = { 'X-Gateway-Secret': 'kong-secret', 'X-Consumer-Username': 'risk' }
    const bypass = { 'X-Consumer-Username': 'risk' }
    const before = await h.api.request(PAGE, { headers: bypass })
    expect(before.status).toBe(401)
    expect(before.headers.get('www-authenticate')).toBeNull()
    const built = await h.api.request(PAGE, { headers: kong })
    const hit = await h.api.request(PAGE, { headers: kong })
    expect(hit.status).toBe(200)
    expect(await comparable(hit)).toEqual(await comparable(built))
    expect(await comparable(await h.api.request(PAGE, { headers: bypass }))).toEqual(
      await comparable(before)
    )
  })

  test('the budget is one whichever path answers: the 429 on a hit is the router 429', async () => {
    const auth = (verify: KeyStore['verify']): AuthConfig => ({
      mode: 'keys',
      verify,
      perMinute: { weather: 60, other: 2 },
    })
    const keys = openKeyStore(':memory:')
    const api = createApi({ ...baseDeps(), auth: auth(keys.verify) })
    const cached = { apikey: keys.create('analytics', 'read').key }
    const uncached = { apikey: keys.create('risk', 'read').key, Accept: 'text/csv' }
    for (const headers of [cached, uncached]) {
      for (let i = 0; i < 2; i++) expect((await api.request(PAGE, { headers })).status).toBe(200)
    }
    const onHit = await api.request(PAGE, { headers: cached })
    const byRouter = await api.request(PAGE, { headers: uncached })
    expect(onHit.status).toBe(429)
    expect(onHit.headers.get('retry-after')).toBeTruthy()
    expect(await comparable(onHit)).toEqual(await comparable(byRouter))
  })

  test('a hit writes its request log line and metrics observation like any request', async () => {
    const lines: Record<string, unknown>[] = []
    const observed: unknown[][] = []
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)))
          done()
        },
      }),
    })
    const keys = openKeyStore(':memory:')
    const api = createApi({
      ...baseDeps(),
      log,
      auth: { mode: 'keys', verify: keys.verify },
      observeRequest: (...args) => observed.push(args),
    })
    const { key: apikey, info } = keys.create('analytics', 'read')
    for (const id of ['built', 'hit'])
      await api.request(PAGE, { headers: { apikey, 'X-Correlation-ID': id } })
    // A refusal on the fast path is logged as the router logs its own.
    keys.revoke(info.id)
    for (const id of ['refused-hit', 'refused-router'])
      await api.request(PAGE, {
        headers: {
          apikey,
          'X-Correlation-ID': id,
          Accept: id.endsWith('router') ? 'text/csv' : '*/*',
        },
      })
    const requests = lines
      .filter((l) => l.msg === 'request')
      .map(({ time, 'http.duration_ms': ms, ...rest }) => {
        expect(typeof ms).toBe('number')
        return rest
      })
    expect(requests).toHaveLength(4)
    const [built, hit, refusedHit, refusedByRouter] = requests
    expect(hit).toEqual({ ...built, correlation_id: 'hit' })
    expect(hit).toMatchObject({
      'http.route': '/api/v1/dispatch',
      'http.status': 200,
      consumer: 'analytics',
    })
    expect(refusedHit).toEqual({ ...refusedByRouter, correlation_id: 'refused-hit' })
    expect(refusedHit).toMatchObject({ 'http.status': 401 })
    expect(observed.map((o) => o.slice(0, 3))).toEqual([
      ['/api/v1/dispatch', 'GET', 200],
      ['/api/v1/dispatch', 'GET', 200],
      [refusedHit!['http.route'], 'GET', 401],
      [refusedHit!['http.route'], 'GET', 401],
    ])
  })

  test('over a real Bun.serve: the hit answers as the built answer did', async () => {
    const h = await withDispatch()
    const apikey = h.createKey('analytics', 'read')
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: h.api.fetch })
    try {
      const url = `http://127.0.0.1:${server.port}${PAGE}`
      const get = () => fetch(url, { headers: { apikey, 'Accept-Encoding': 'identity' } })
      const built = await get()
      const hit = await get()
      expect(hit.status).toBe(200)
      expect(await comparable(hit)).toEqual(await comparable(built))
      // Anonymous callers are limited by their socket address on the fast path too.
      expect((await fetch(url)).status).toBe(401)
    } finally {
      server.stop(true)
    }
  })
})

function baseDeps() {
  return {
    queries: createReadPort(openProjectionDb(':memory:')),
    publish: async () => {},
    readiness: async () => ({ ready: true, checks: {} }),
    log: createLogger({ level: 'silent' }),
    version: 'test',
    now: () => T0,
  }
}
