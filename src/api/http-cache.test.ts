import { afterEach, describe, expect, test } from 'bun:test'
import zlib from 'node:zlib'
import { json } from '../../tests/support/api'
import { dispatchEvent, priceEvent, waitFor, weatherEvent } from '../../tests/support/events'
import { createHarness } from '../../tests/support/harness'
import { openProjectionDb } from '@/projection'
import { createReadPort, type Reads } from '@/projection/read-port'
import { encodeBody } from './encoded-body'
import { chooseEncoding, createResponseCache, noneMatch } from './response-cache'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const get = (path: string, headers: Record<string, string> = {}) =>
  harness.api.request(path, { headers })

/** `count` more dispatch rows of NSW1, five minutes apart after those already there. */
async function seedDispatch(count: number, mw = 100) {
  const before = harness.queries.totals().dispatch ?? 0
  const events = Array.from({ length: count }, (_, i) =>
    dispatchEvent(
      'NSW1',
      'wind',
      new Date(Date.UTC(2026, 3, 1, 0, 5 * (before + i + 1))).toISOString(),
      mw + i
    )
  )
  await harness.bus.publish(events)
  await waitFor(() => harness.queries.totals().dispatch === before + count, 'dispatch projected')
}

describe('HTTP caching of data answers', () => {
  test('every data answer has a validator; If-None-Match answers 304 with the same headers', async () => {
    harness = await createHarness()
    await seedDispatch(3)
    const first = await get('/api/v1/dispatch?limit=10', { 'X-Correlation-ID': 'first' })
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/)
    expect(first.headers.get('vary')).toBe('Accept, Accept-Encoding')
    expect(first.headers.get('cache-control')).toBe('private, no-cache')
    expect((await json(first)).meta.correlation_id).toBe('first')
    for (const inm of [etag, etag.slice(2), `"other", ${etag}`, '*']) {
      const again = await get('/api/v1/dispatch?limit=10', { 'If-None-Match': inm })
      expect(again.status).toBe(304)
      expect(again.headers.get('etag')).toBe(etag)
      expect(again.headers.get('x-correlation-id')).toBeTruthy()
      expect(await again.text()).toBe('')
    }
    const other = await get('/api/v1/dispatch?limit=10', { 'If-None-Match': '"nope"' })
    expect(other.status).toBe(200)
    // Served from the cache: the same validator, this request's own correlation id and time.
    const hit = await get('/api/v1/dispatch?limit=10', { 'X-Correlation-ID': 'second' })
    expect(hit.headers.get('etag')).toBe(etag)
    const body = await json(hit)
    expect(body.meta.correlation_id).toBe('second')
    expect(body.data).toHaveLength(3)
    // The same query in another order is the same answer.
    expect((await get('/api/v1/dispatch?region_id=NSW1&limit=10')).headers.get('etag')).toBe(
      (await get('/api/v1/dispatch?limit=10&region_id=NSW1')).headers.get('etag')
    )
    const sources = await get('/api/v1/sources')
    expect(sources.headers.get('etag')).toMatch(/^W\//)
  })

  test('a commit to a stream changes its answers, and not those of another stream', async () => {
    harness = await createHarness()
    await seedDispatch(2)
    await harness.bus.publish([weatherEvent('NSW1', 'Sydney', '2026-10-03T10:30:00Z', 17.7)])
    await waitFor(() => harness.queries.totals().weather === 1, 'weather projected')
    const dispatchTag = (await get('/api/v1/dispatch')).headers.get('etag')
    const weatherTag = (await get('/api/v1/weather')).headers.get('etag')
    await harness.bus.publish([priceEvent('NSW1', '2026-04-01T00:05:00Z', 80)])
    await waitFor(() => harness.queries.totals().prices === 1, 'price projected')
    const unchanged = await get('/api/v1/weather', { 'If-None-Match': weatherTag! })
    expect(unchanged.status).toBe(304)
    await seedDispatch(1, 500)
    const changed = await get('/api/v1/dispatch', { 'If-None-Match': dispatchTag! })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(dispatchTag)
    expect((await json(changed)).data).toHaveLength(3)
    // Stats read everything: the price commit moved them.
    const stats = await json(get('/api/v1/stats'))
    expect(stats.totals.prices).toBe(1)
  })

  test('gzip and br bodies decode to the identity body', async () => {
    harness = await createHarness()
    await seedDispatch(50)
    const plain = await get('/api/v1/dispatch?limit=50', { 'X-Correlation-ID': 'same' })
    const text = await plain.text()
    const meta = (body: string) => {
      const { timestamp: _, ...rest } = JSON.parse(body).meta
      return { ...JSON.parse(body), meta: rest }
    }
    for (const [accept, coding, decode] of [
      ['gzip', 'gzip', zlib.gunzipSync],
      ['br;q=1, gzip;q=0.5', 'br', zlib.brotliDecompressSync],
      ['gzip, br', 'br', zlib.brotliDecompressSync],
    ] as const) {
      // Twice: the compressed prefix is made on the first request and reused on the second.
      for (const id of ['same', 'other-id']) {
        const res = await get('/api/v1/dispatch?limit=50', {
          'Accept-Encoding': accept,
          'X-Correlation-ID': id,
        })
        expect(res.headers.get('content-encoding')).toBe(coding)
        const body = decode(Buffer.from(await res.arrayBuffer())).toString()
        expect(meta(body)).toEqual({
          ...meta(text),
          meta: { ...meta(text).meta, correlation_id: id },
        })
      }
    }
    // Tiny answers are not compressed.
    const small = await get('/api/v1/dispatch?limit=1', { 'Accept-Encoding': 'gzip' })
    expect(small.headers.get('content-encoding')).toBeNull()
    expect((await json(small)).data).toHaveLength(1)
  })

  test('the cache keeps to its byte bound: old answers are evicted and rebuilt correctly', async () => {
    // 64 KiB: a few 100-row pages at most.
    harness = await createHarness({ responseCacheMb: 0.0625 })
    await seedDispatch(120)
    const pages = Array.from({ length: 12 }, (_, i) => `/api/v1/dispatch?limit=${90 + i}`)
    for (const path of pages) expect((await get(path)).status).toBe(200)
    // Every answer still correct (evicted ones rebuilt), whatever is left in memory.
    for (const [i, path] of pages.entries())
      expect((await json(get(path))).data).toHaveLength(90 + i)
    const first = await get(pages[0]!)
    expect(first.status).toBe(200)
  })

  test('errors and CSV exports are never stored; CSV exports still revalidate', async () => {
    harness = await createHarness()
    await seedDispatch(2)
    const bad = await get('/api/v1/dispatch?limit=0')
    expect(bad.status).toBe(400)
    expect(bad.headers.get('etag')).toBeNull()
    expect(bad.headers.get('cache-control')).toBe('no-store')
    const csv = await get('/api/v1/dispatch?format=csv')
    expect(csv.headers.get('content-type')).toStartWith('text/csv')
    const etag = csv.headers.get('etag')!
    expect((await csv.text()).split('\r\n').filter(Boolean)).toHaveLength(3)
    expect((await get('/api/v1/dispatch?format=csv', { 'If-None-Match': etag })).status).toBe(304)
    await seedDispatch(1, 900)
    expect((await get('/api/v1/dispatch?format=csv', { 'If-None-Match': etag })).status).toBe(200)
    // JSON asked for by Accept after a CSV one: never the CSV answer.
    expect(
      (await get('/api/v1/dispatch', { Accept: 'text/csv' })).headers.get('content-type')
    ).toStartWith('text/csv')
    expect((await get('/api/v1/dispatch')).headers.get('content-type')).toStartWith(
      'application/json'
    )
  })

  test('price answers may be reused until the next interval once the last one is in', async () => {
    const now = Date.parse('2026-04-01T00:07:30Z')
    harness = await createHarness({ now: () => now })
    await harness.bus.publish([priceEvent('NSW1', '2026-04-01T00:00:00Z', 80)])
    await waitFor(() => harness.queries.totals().prices === 1, 'price projected')
    // The interval ending 00:05 is not in yet: revalidate.
    expect((await get('/api/v1/prices')).headers.get('cache-control')).toBe('private, no-cache')
    await harness.bus.publish([priceEvent('NSW1', '2026-04-01T00:05:00Z', 81)])
    await waitFor(() => harness.queries.totals().prices === 2, 'price projected')
    // 00:07:30 → the next interval ends 00:10:00: 150 s.
    expect((await get('/api/v1/prices')).headers.get('cache-control')).toBe('private, max-age=150')
  })
})

describe('header parsing', () => {
  test('Accept-Encoding by q value', () => {
    expect(chooseEncoding(undefined)).toBe('identity')
    expect(chooseEncoding('gzip, deflate, br')).toBe('br')
    expect(chooseEncoding('gzip;q=1, br;q=0.5')).toBe('gzip')
    expect(chooseEncoding('br;q=0, gzip;q=0')).toBe('identity')
    expect(chooseEncoding('*')).toBe('br')
    expect(chooseEncoding('*;q=0, identity')).toBe('identity')
    expect(chooseEncoding('identity;q=1, gzip;q=0.5')).toBe('identity')
  })

  test('If-None-Match by weak comparison', () => {
    expect(noneMatch('W/"a"', '"a"')).toBe(true)
    expect(noneMatch('"a"', 'W/"a"')).toBe(true)
    expect(noneMatch('"b", W/"a"', 'W/"a"')).toBe(true)
    expect(noneMatch('"b"', 'W/"a"')).toBe(false)
    expect(noneMatch(undefined, 'W/"a"')).toBe(false)
  })
})

describe('the response cache', () => {
  const body = (bytes: number) =>
    encodeBody(`{"data":"${'x'.repeat(bytes)}"}`, 'application/json', 'i', 't')
  const entry = (bytes: number, reads: Reads) => ({
    route: '/r',
    contentType: 'application/json',
    reads,
    stamp: 0,
    body: body(bytes),
  })

  test('evicts the least recently used answers past its byte bound', () => {
    const db = openProjectionDb(':memory:')
    const cache = createResponseCache(100_000, createReadPort(db).freshness)
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, entry(10_000, ['WeatherObservation']))
    cache.get('a') // a is now the most recently used
    cache.set('e', entry(10_000, ['WeatherObservation']))
    expect(cache.stats().bytes).toBeLessThanOrEqual(100_000)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBeDefined()
    expect(cache.get('e')).toBeDefined()
    // One answer larger than a quarter of the bound is not kept at all.
    cache.set('huge', entry(30_000, ['WeatherObservation']))
    expect(cache.get('huge')).toBeUndefined()
    db.sqlite.close()
  })

  test('drops an answer once a stream it read commits, and keeps it through other streams', () => {
    const db = openProjectionDb(':memory:')
    const cache = createResponseCache(1_000_000, createReadPort(db).freshness)
    cache.set('weather', entry(10, ['WeatherObservation']))
    cache.set('all', entry(10, 'all'))
    db.version.current++
    db.changes.record('RegionPriceEvent', 0, 1)
    expect(cache.get('weather')).toBeDefined()
    expect(cache.get('all')).toBeUndefined()
    db.changes.record('WeatherObservation', 0, 1)
    expect(cache.get('weather')).toBeUndefined()
    db.sqlite.close()
  })
})
