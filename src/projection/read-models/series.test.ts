import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { getTableName } from 'drizzle-orm'
import { type GridEvent, topicFor } from '@/canonical'
import { priceEvent } from '../../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb } from '..'
import { createChangeLog } from '../changes'
import { type AggregateInterval, BUCKETINGS } from './aggregate'
import { READ_MODEL_LIST } from './index'

const INTERVALS = Object.keys(BUCKETINGS) as AggregateInterval[]
const at = (iso: string) => Date.parse(iso)

describe('buckets are aligned to NEM time (UTC+10) and hold (start, end]', () => {
  test('a NEM day holds the intervals ending 00:05 … 24:00 NEM', () => {
    const day = BUCKETINGS['1d']
    // 2026-04-01 00:05 NEM = 2026-03-31T14:05Z; 24:00 NEM = 2026-04-01T14:00Z.
    expect(day.ceil(at('2026-03-31T14:05:00Z'))).toBe(at('2026-04-01T14:00:00Z'))
    expect(day.ceil(at('2026-04-01T14:00:00Z'))).toBe(at('2026-04-01T14:00:00Z'))
    expect(day.ceil(at('2026-03-31T14:00:00Z'))).toBe(at('2026-03-31T14:00:00Z'))
    expect(day.floor(at('2026-04-01T13:59:59Z'))).toBe(at('2026-03-31T14:00:00Z'))
    expect(day.back(at('2026-04-01T14:00:00Z'), 2)).toBe(at('2026-03-30T14:00:00Z'))
  })

  test('30 minutes and hours are on the clock; months start 00:00 NEM on the 1st', () => {
    expect(BUCKETINGS['30m'].ceil(at('2026-04-01T00:05:00Z'))).toBe(at('2026-04-01T00:30:00Z'))
    expect(BUCKETINGS['30m'].ceil(at('2026-04-01T00:30:00Z'))).toBe(at('2026-04-01T00:30:00Z'))
    expect(BUCKETINGS['1h'].ceil(at('2026-04-01T00:35:00Z'))).toBe(at('2026-04-01T01:00:00Z'))
    const month = BUCKETINGS['1M']
    // 2024 is a leap year: February NEM runs 2024-01-31T14:00Z → 2024-02-29T14:00Z (29 days).
    expect(month.ceil(at('2024-02-15T00:00:00Z'))).toBe(at('2024-02-29T14:00:00Z'))
    expect(month.back(at('2024-02-29T14:00:00Z'), 1)).toBe(at('2024-01-31T14:00:00Z'))
    // The interval ending 00:00 NEM on 1 March closes February.
    expect(month.ceil(at('2024-02-29T14:00:00Z'))).toBe(at('2024-02-29T14:00:00Z'))
    expect(month.ceil(at('2024-02-29T14:05:00Z'))).toBe(at('2024-03-31T14:00:00Z'))
    expect(month.back(at('2025-01-31T14:00:00Z'), 13)).toBe(at('2023-12-31T14:00:00Z'))
  })

  test('the SQL bucket of every width equals the JS one, boundaries and leap days included', () => {
    const sqlite = new Database(':memory:')
    // Every 5-minute interval end of 2024-02-27 … 2024-03-02, plus month and year edges.
    const times: number[] = []
    for (let t = at('2024-02-27T00:00:00Z'); t <= at('2024-03-02T00:00:00Z'); t += 300_000)
      times.push(t)
    times.push(at('2023-12-31T14:00:00Z'), at('2023-12-31T14:05:00Z'), at('1998-12-13T14:05:00Z'))
    for (const interval of INTERVALS) {
      const b = BUCKETINGS[interval]
      const statement = sqlite.prepare(`SELECT ${b.sql('$t')} AS e`)
      for (const t of times) {
        const { e } = statement.get({ $t: t }) as { e: number }
        if (e !== b.ceil(t)) throw new Error(`${interval} ${new Date(t).toISOString()}: ${e}`)
      }
    }
  })
})

describe('every aggregate query is an index range scan', () => {
  test('for every series and view, every combination of its filters and every width (EXPLAIN QUERY PLAN)', () => {
    type Explain = { explain(q: object): string[] }
    const queries = createReadPort(openProjectionDb(':memory:')) as unknown as Record<
      string,
      Explain & Record<string, Explain>
    >
    const all = READ_MODEL_LIST.flatMap((m) => [
      ...(m.series ? [{ name: m.port as string, spec: m.series, q: queries[m.port]! }] : []),
      ...Object.entries(m.views ?? {}).map(([view, spec]) => ({
        name: `${m.port}.${view}`,
        spec,
        q: queries[m.port]![view]!,
      })),
    ])
    expect(all.map((s) => s.name).sort()).toEqual(
      [
        'dispatch',
        'fcas',
        'interconnectors',
        'prices',
        'prices.curtailment',
        'prices.storage',
        'reconciliation',
        'rooftop',
        'weather',
      ].sort()
    )
    for (const { name, spec, q } of all) {
      const table = getTableName(spec.table)
      const combinations = Object.keys(spec.filters).reduce<string[][]>(
        (sets, f) => [...sets, ...sets.map((c) => [...c, f])],
        [[]]
      )
      for (const combination of combinations)
        for (const interval of INTERVALS) {
          const plan = q.explain({
            interval,
            ...Object.fromEntries(combination.map((f) => [f, 'x'])),
          })
          const what = `${name} ${interval} [${combination}]: ${plan.join(' | ')}`
          expect(
            plan.filter((line) => line.startsWith(`SCAN ${table}`)),
            what
          ).toEqual([])
          const searches = plan.filter((line) => line.startsWith(`SEARCH ${table} USING`))
          expect(searches, what).toHaveLength(2)
          for (const line of searches) expect(line, what).toMatch(/INDEX .*>\? AND .*<\?\)$/)
        }
    }
  })
})

describe('memoized buckets', () => {
  async function node() {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'test')
    let offset = 0n
    const project = (events: GridEvent[]) =>
      projector.project({
        topic: topicFor(events[0]!),
        partition: 0,
        records: events.map((event) => ({ offset: offset++, kind: 'event' as const, event })),
      })
    return { queries: createReadPort(db), project }
  }
  const day = { interval: '1d' as const, limit: 10 }

  test('a commit inside a bucket recomputes that bucket; the others are served as they were', async () => {
    const { queries, project } = await node()
    // Two NEM days (2026-04-01 and 04-02), one interval each.
    await project([
      priceEvent('NSW1', '2026-03-31T14:05:00Z', 100),
      priceEvent('NSW1', '2026-04-01T14:05:00Z', 50),
    ])
    const first = queries.prices.aggregate(day).data
    expect(first.map((b) => [b.bucket_end, b.rrp_aud_mwh, b.interval_count])).toEqual([
      ['2026-04-02T14:00:00Z', 50, 1],
      ['2026-04-01T14:00:00Z', 100, 1],
    ])
    // A late interval of the older day, and a re-stated price of the newer one.
    await project([
      priceEvent('NSW1', '2026-03-31T14:10:00Z', 200),
      priceEvent('NSW1', '2026-04-01T14:05:00Z', 70),
    ])
    const second = queries.prices.aggregate(day).data
    expect(second.map((b) => [b.bucket_end, b.rrp_aud_mwh, b.interval_count])).toEqual([
      ['2026-04-02T14:00:00Z', 70, 1],
      ['2026-04-01T14:00:00Z', 150, 2],
    ])
    // A bucket that was empty when first asked for is recomputed when a row lands in it.
    await project([priceEvent('NSW1', '2026-04-03T14:05:00Z', 10)])
    expect(queries.prices.aggregate(day).data.map((b) => b.bucket_end)).toEqual([
      '2026-04-04T14:00:00Z',
      '2026-04-02T14:00:00Z',
      '2026-04-01T14:00:00Z',
    ])
  })

  test('the change log answers per event type and time span, and "unknown" once trimmed', () => {
    const log = createChangeLog()
    expect(log.changedSince('RegionPriceEvent', 0, 0, 10)).toBe(false)
    log.record('RegionPriceEvent', 100, 200)
    expect(log.changedSince('RegionPriceEvent', 0, 0, 99)).toBe(false)
    expect(log.changedSince('RegionPriceEvent', 0, 0, 100)).toBe(true)
    expect(log.changedSince('RegionPriceEvent', 0, 200, 300)).toBe(false)
    expect(log.changedSince('MarketDispatchEvent', 0, 0, 1000)).toBe(false)
    expect(log.changedSince('RegionPriceEvent', 1, 0, 1000)).toBe(false)
    for (let i = 0; i < 3000; i++) log.record('WeatherObservation', 0, 1)
    expect(log.changedSince('RegionPriceEvent', 1, 5000, 6000)).toBe(true)
  })
})
