/**
 * Aggregates of real data against an independent computation: the April 2026 MMSDM archive month
 * (DISPATCH.PRICE + REGIONSUM for NSW1, UNIT_SCADA of Hallett GT and Hornsdale Wind Farm 2 in SA1)
 * is ingested through the AEMO normalisers and the projection; the expected buckets are computed
 * here from the raw CSV rows (read by tests/support/raw-archive.ts, nothing of GridPulse's) with
 * arithmetic of this file only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { DISPATCH_IS_TABLES, normalizeDispatchIsFiles } from '@/sources/aemo/dispatch-is'
import { normalizeDispatchScada } from '@/sources/aemo/dispatch-scada'
import { readSourceFile } from '@/sources/aemo/source-file'
import { json } from '../../../tests/support/api'
import { waitFor, weatherEvent } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { AEMO_FIXTURES, fixtureFile } from '../../../tests/support/nemweb-fixtures'
import { type RawRow, rawArchiveRows, rawNemTimeToUtc } from '../../../tests/support/raw-archive'

// The interval that goes missing: 2026-04-01 12:15 NEM, as if its files had never arrived.
const MISSING = '2026-04-01T02:15:00Z'
const ctx = { correlationId: 'aggregates-test', ingestedAt: '2026-05-08T01:24:36.000Z' }

const nemTime = (text: string) => Date.parse(rawNemTimeToUtc(text))
const rawRows = rawArchiveRows

interface Point {
  readonly t: number
  readonly value: number
  readonly weight?: number
}

const keep = (p: Point) => p.t !== Date.parse(MISSING)
const points = (rows: readonly RawRow[], value: (r: RawRow) => number): Point[] =>
  rows.map((r) => ({ t: nemTime(r.SETTLEMENTDATE!), value: value(r) })).filter(keep)

/**
 * NSW1's real prices with their demand, SA1's real SCADA MW by fuel, NSW1's real raise 6 s FCAS
 * price, curtailment and battery energy, minus MISSING.
 */
function rawSeries() {
  const regionsum = rawRows(AEMO_FIXTURES.regionsum202604).filter(
    (r) => r.REGIONID === 'NSW1' && r.INTERVENTION === '0'
  )
  const demand = new Map(regionsum.map((r) => [nemTime(r.SETTLEMENTDATE!), Number(r.TOTALDEMAND)]))
  const prices: Point[] = rawRows(AEMO_FIXTURES.price202604)
    .filter((r) => r.REGIONID === 'NSW1' && r.INTERVENTION === '0')
    .map((r) => {
      const t = nemTime(r.SETTLEMENTDATE!)
      return { t, value: Number(r.RRP), weight: demand.get(t)! }
    })
    .filter(keep)
  // AGLHAL is Hallett Power Station (gas), HDWF2 Hornsdale Wind Farm 2: both SA1 in AEMO's
  // Registration and Exemption List (shared/fixtures/aemo/duid).
  const scada = rawRows(AEMO_FIXTURES.scada202604)
  const fuel = (duid: string): Point[] =>
    scada
      .filter((r) => r.DUID === duid)
      .map((r) => ({ t: nemTime(r.SETTLEMENTDATE!), value: Number(r.SCADAVALUE) }))
      .filter(keep)
  const cut = (available: string, cleared: string) =>
    Math.max(0, Number(available) - Number(cleared))
  return {
    prices,
    gas: fuel('AGLHAL'),
    wind: fuel('HDWF2'),
    raise6sec: points(
      rawRows(AEMO_FIXTURES.price202604).filter(
        (r) => r.REGIONID === 'NSW1' && r.INTERVENTION === '0'
      ),
      (r) => Number(r.RAISE6SECRRP)
    ),
    curtailment: points(
      regionsum,
      (r) =>
        cut(r.SS_SOLAR_UIGF!, r.SS_SOLAR_CLEAREDMW!) + cut(r.SS_WIND_UIGF!, r.SS_WIND_CLEAREDMW!)
    ),
    stored: points(regionsum, (r) => Number(r.BDU_ENERGY_STORAGE)),
  }
}

/** The expected bucket, by the rules the API documents, over the points in (start, end]. */
function expected(points: readonly Point[], start: number, end: number) {
  const inside = points.filter((p) => p.t > start && p.t <= end)
  const values = inside.map((p) => p.value)
  const sum = values.reduce((a, b) => a + b, 0)
  const weights = inside.reduce((a, p) => a + p.weight!, 0)
  return {
    interval_count: inside.length,
    expected_intervals: (end - start) / 300_000,
    completeness: inside.length / ((end - start) / 300_000),
    mean: sum / inside.length,
    min: Math.min(...values),
    max: Math.max(...values),
    energyMwh: (sum * 5) / 60,
    weightMean:
      weights === 0 ? null : inside.reduce((a, p) => a + p.value * p.weight!, 0) / weights,
    weightSum: weights,
  }
}

let harness: Awaited<ReturnType<typeof createHarness>>
const raw = rawSeries()

beforeAll(async () => {
  harness = await createHarness()
  const archive = (f: string) =>
    readSourceFile(fixtureFile(f), DISPATCH_IS_TABLES, { strictFooter: false })
  const { events: prices, fcas } = normalizeDispatchIsFiles(
    [archive(AEMO_FIXTURES.price202604), archive(AEMO_FIXTURES.regionsum202604)],
    ctx
  )
  const dispatch = normalizeDispatchScada(fixtureFile(AEMO_FIXTURES.scada202604), ctx, {
    strictFooter: false,
  }).events
  const events = [...prices, ...fcas, ...dispatch].filter((e) => e.interval_end !== MISSING)
  for (let i = 0; i < events.length; i += 1000) await harness.bus.publish(events.slice(i, i + 1000))
  await waitFor(() => {
    const totals = harness.queries.stats().totals
    return (
      totals.prices === prices.length - 2 &&
      totals.dispatch === dispatch.length - 2 &&
      totals.fcas_prices === fcas.filter((e) => e.interval_end !== MISSING).length
    )
  }, 'the archive month projected')
}, 60_000)
afterAll(() => harness?.close())

const get = (path: string) => json(harness.api.request(path))
type Bucket = Record<string, number | string | null>
const span = (b: Bucket) => [
  Date.parse(b.bucket_start as string),
  Date.parse(b.bucket_end as string),
]

function expectPrice(bucket: Bucket) {
  const [start, end] = span(bucket)
  const e = expected(raw.prices, start!, end!)
  const demand = expected(
    raw.prices.map((p) => ({ t: p.t, value: p.weight! })),
    start!,
    end!
  )
  expect(bucket).toMatchObject({
    region_id: 'NSW1',
    interval_count: e.interval_count,
    expected_intervals: e.expected_intervals,
  })
  expect(bucket.completeness as number).toBeCloseTo(e.completeness, 6)
  expect(bucket.rrp_aud_mwh as number).toBeCloseTo(e.mean, 5)
  expect(bucket.rrp_aud_mwh_min).toBe(e.min)
  expect(bucket.rrp_aud_mwh_max).toBe(e.max)
  expect(bucket.rrp_aud_mwh_demand_weighted as number).toBeCloseTo(e.weightMean!, 5)
  expect(bucket.total_demand_mw as number).toBeCloseTo(demand.mean, 5)
  expect(bucket.total_demand_mwh as number).toBeCloseTo(demand.energyMwh, 5)
}

describe('prices and demand, NSW1', () => {
  test('30 minutes: the bucket missing 12:15 NEM has 5 of 6 intervals, and its energy is of those 5', async () => {
    const page = await get(
      '/api/v1/prices?region_id=NSW1&interval=30m&from=2026-04-01T11:30:00%2B10:00&to=2026-04-01T13:00:00%2B10:00'
    )
    expect(page.meta).toMatchObject({ interval: '30m', count: 3, next_cursor: null })
    expect(page.data.map((b: Bucket) => [b.bucket_end, b.interval_count])).toEqual([
      ['2026-04-01T03:00:00Z', 6],
      ['2026-04-01T02:30:00Z', 5],
      ['2026-04-01T02:00:00Z', 6],
    ])
    for (const bucket of page.data) expectPrice(bucket)
    const gap = page.data[1]
    expect(gap.completeness).toBe(0.833333)
    // Σ MW × 5/60 h over the 5 intervals present: not the mean × 0.5 h of a full bucket.
    expect(gap.total_demand_mwh).toBeLessThan(gap.total_demand_mw * 0.5 - 1)
  })

  test('1 day: every NEM day of the month, complete or not, equals the raw rows', async () => {
    const page = await get('/api/v1/prices?region_id=NSW1&interval=1d')
    expect(page.data.map((b: Bucket) => [b.bucket_end, b.interval_count])).toEqual([
      ['2026-04-30T14:00:00Z', 288],
      ['2026-04-29T14:00:00Z', 288],
      ['2026-04-28T14:00:00Z', 1],
      ['2026-04-03T14:00:00Z', 287],
      ['2026-04-02T14:00:00Z', 288],
      ['2026-04-01T14:00:00Z', 287],
    ])
    for (const bucket of page.data) expectPrice(bucket)
  })

  test('pages of buckets follow the cursor without gaps or repeats; a bad cursor is a 400', async () => {
    const all = (await get('/api/v1/prices?region_id=NSW1&interval=1h&limit=1000')).data
    const seen: Bucket[] = []
    let cursor = ''
    do {
      const page = await get(`/api/v1/prices?region_id=NSW1&interval=1h&limit=7${cursor}`)
      seen.push(...page.data)
      cursor = page.meta.next_cursor ? `&cursor=${page.meta.next_cursor}` : ''
    } while (cursor)
    expect(seen).toEqual(all)
    expect(all).toHaveLength(24 * 5 + 1)
    const bad = await harness.api.request('/api/v1/prices?interval=1d&cursor=not-a-cursor')
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
  })
})

describe('generation mix, SA1 (SCADA by fuel)', () => {
  test('30 minutes and 1 day: mean MW and energy of gas and wind equal the raw SCADA rows', async () => {
    for (const [interval, range] of [
      ['30m', 'from=2026-04-01T12:00:00%2B10:00&to=2026-04-01T12:30:00%2B10:00'],
      ['1d', 'from=2026-04-01T00:00:00%2B10:00&to=2026-04-02T00:00:00%2B10:00'],
    ] as const) {
      const page = await get(`/api/v1/dispatch?region_id=SA1&interval=${interval}&${range}`)
      expect(page.data.map((b: Bucket) => [b.fuel_type, b.source])).toEqual([
        ['gas', 'aemo.dispatch_scada'],
        ['wind', 'aemo.dispatch_scada'],
      ])
      for (const bucket of page.data) {
        const [start, end] = span(bucket)
        const e = expected(bucket.fuel_type === 'gas' ? raw.gas : raw.wind, start!, end!)
        expect(bucket.interval_count).toBe(e.interval_count)
        expect(bucket.completeness as number).toBeCloseTo(e.completeness, 6)
        expect(bucket.value_mw as number).toBeCloseTo(e.mean, 5)
        expect(bucket.energy_mwh as number).toBeCloseTo(e.energyMwh, 5)
      }
      // Both buckets lack the missing interval only: 5 of 6, 287 of 288.
      expect(page.data[0].completeness).toBe(interval === '30m' ? 0.833333 : 0.996528)
    }
  })
})

describe('FCAS, curtailment and storage, NSW1', () => {
  test('30-minute raise 6 s FCAS price buckets equal the raw RAISE6SECRRP', async () => {
    const page = await get(
      '/api/v1/prices/fcas?region_id=NSW1&service=raise_6sec&interval=30m&from=2026-04-01T11:30:00%2B10:00&to=2026-04-01T13:00:00%2B10:00'
    )
    expect(page.data.map((b: Bucket) => [b.service, b.interval_count])).toEqual([
      ['raise_6sec', 6],
      ['raise_6sec', 5],
      ['raise_6sec', 6],
    ])
    for (const bucket of page.data) {
      const [start, end] = span(bucket)
      const e = expected(raw.raise6sec, start!, end!)
      expect(bucket.price_aud_mw_h as number).toBeCloseTo(e.mean, 5)
      expect(bucket.price_aud_mw_h_min).toBe(e.min)
      expect(bucket.price_aud_mw_h_max).toBe(e.max)
    }
  })

  test('daily curtailed energy and stored battery energy equal the raw REGIONSUM rows', async () => {
    const curtailment = (await get('/api/v1/curtailment?region_id=NSW1&interval=1d')).data
    const storage = (await get('/api/v1/storage?region_id=NSW1&interval=1d')).data
    expect(curtailment.map((b: Bucket) => b.bucket_end)).toEqual(
      storage.map((b: Bucket) => b.bucket_end)
    )
    expect(curtailment).toHaveLength(6)
    for (const [c, s] of curtailment.map((c: Bucket, i: number) => [c, storage[i]])) {
      const [start, end] = span(c)
      const cut = expected(raw.curtailment, start!, end!)
      expect(c.interval_count).toBe(cut.interval_count)
      expect(c.curtailment_mwh as number).toBeCloseTo(cut.energyMwh, 3)
      expect(c.curtailment_mw as number).toBeCloseTo(cut.mean, 4)
      const stored = expected(raw.stored, start!, end!)
      expect(s.stored_energy_mwh as number).toBeCloseTo(stored.mean, 5)
      expect(s.stored_energy_mwh_min).toBe(stored.min)
      expect(s.stored_energy_mwh_max).toBe(stored.max)
    }
  })
})

describe('weather, at its 15-minute cadence', () => {
  test('an hour expects 4 observations; temperature mean/min/max; wind direction is the mean vector', async () => {
    // 2026-10-03 20:15 … 21:00 NEM: the hour (20:00, 21:00] NEM, one observation missing (20:30).
    const observations = [
      ['2026-10-03T10:15:00Z', 17.5, 350],
      ['2026-10-03T10:45:00Z', 16.5, 10],
      ['2026-10-03T11:00:00Z', 15.9, 20],
    ] as const
    await harness.bus.publish(
      observations.map(([t, temperature, direction]) => ({
        ...weatherEvent('TAS1', 'Hobart', t, temperature),
        wind_direction_deg: direction,
      }))
    )
    await waitFor(() => harness.queries.stats().totals.weather === 3, 'weather projected')
    const [bucket] = (await get('/api/v1/weather?region_id=TAS1&interval=1h')).data
    expect(bucket).toMatchObject({
      region_id: 'TAS1',
      location: 'Hobart',
      bucket_start: '2026-10-03T10:00:00Z',
      bucket_end: '2026-10-03T11:00:00Z',
      interval_count: 3,
      expected_intervals: 4,
      completeness: 0.75,
      temperature_c_min: 15.9,
      temperature_c_max: 17.5,
    })
    expect(bucket.temperature_c).toBeCloseTo((17.5 + 16.5 + 15.9) / 3, 5)
    const rad = observations.map(([, , d]) => (d * Math.PI) / 180)
    const mean = Math.atan2(
      rad.reduce((a, r) => a + Math.sin(r), 0),
      rad.reduce((a, r) => a + Math.cos(r), 0)
    )
    expect(bucket.wind_direction_deg).toBeCloseTo(((((mean * 180) / Math.PI) % 360) + 360) % 360, 5)
    expect(bucket.wind_direction_deg).toBeLessThan(10)
  })
})

describe('the default stays the list', () => {
  test('interval=5m answers exactly what no interval answers', async () => {
    const strip = (page: { meta: Record<string, unknown> }) => ({
      ...page,
      meta: { ...page.meta, timestamp: null, correlation_id: null },
    })
    const plain = await get('/api/v1/prices?region_id=NSW1&limit=3')
    expect(plain.data[0].event_type).toBe('RegionPriceEvent')
    expect(strip(await get('/api/v1/prices?region_id=NSW1&limit=3&interval=5m'))).toEqual(
      strip(plain)
    )
    expect(plain.meta.interval).toBeUndefined()
  })

  test('an unknown interval or format is a 400 problem', async () => {
    for (const query of ['interval=15m', 'interval=1y', 'format=xlsx', 'interval=']) {
      const response = await harness.api.request(`/api/v1/prices?${query}`)
      expect(response.status).toBe(400)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
    }
  })
})
