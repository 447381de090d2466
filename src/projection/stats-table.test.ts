import { describe, expect, test } from 'bun:test'
import { getTableName } from 'drizzle-orm'
import type { ConsumedBatch } from '@/bus'
import { createEvent, type GridEvent, type RegionId } from '@/canonical'
import { fcasPriceEvent, priceEvent, weatherEvent } from '../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb, type ProjectionDb } from '.'
import { READ_MODEL_LIST } from './read-models/index'
import { installStatsTriggers } from './stats-table'

/** mulberry32: a seeded sequence, so a failure replays. */
function rng(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const REGIONS: RegionId[] = ['NSW1', 'QLD1', 'SA1']

/**
 * A random event over a few keys (region × a handful of intervals), so that most events replace a
 * stored row (a revision: same id, new value, later ingest), and small integer values, so that the
 * replaced value is often a group's minimum or maximum.
 */
function randomEvent(next: () => number, i: number): GridEvent {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!
  const region = pick(REGIONS)
  const at = `2026-04-01T00:${String(5 * Math.floor(next() * 6) + 5).padStart(2, '0')}:00Z`
  const value = Math.floor(next() * 21) - 10
  const ingested = { ingested_at: new Date(Date.UTC(2026, 3, 1, 1) + next() * 9e6).toISOString() }
  switch (Math.floor(next() * 4)) {
    case 0: {
      const curtailment = next() < 0.4 ? null : value + 20
      return {
        ...priceEvent(region, at, value),
        ...ingested,
        ss_solar_uigf_mw: curtailment,
        ss_solar_cleared_mw: curtailment === null ? null : 0,
        // Not FIRM now and then: a FIRM price then stays (the upsert's WHERE leaves the row).
        price_status: next() < 0.8 ? 'FIRM' : 'NOT FIRM',
      }
    }
    case 1:
      return { ...weatherEvent(region, 'Sydney', at, value / 2), ...ingested }
    case 2:
      return {
        ...fcasPriceEvent(region, pick(['raise_6sec', 'lower_6sec'] as const), at, value),
        ...ingested,
      }
    default:
      return createEvent(
        'MarketDispatchEvent',
        {
          correlation_id: `c${i}`,
          source: 'aemo.dispatch_scada',
          source_file: null,
          source_sha256: null,
          ...ingested,
        },
        {
          region_id: region,
          fuel_type: pick(['wind', 'gas'] as const),
          interval_end: at,
          value_mw: value,
          unit_count: 1,
        }
      )
  }
}

/** What the stats said before the stats table: every figure recounted by scanning the tables. */
function scanned(db: ProjectionDb) {
  const all = (sql: string) => db.sqlite.query(sql).all() as Record<string, number | string>[]
  const totals: Record<string, number> = {}
  const sources = new Map<string, { events: number; newest: number; ingested: number }>()
  const regions = new Map<string, Record<string, number | null>>()
  for (const m of READ_MODEL_LIST) {
    const table = getTableName(m.table)
    totals[table] = Number(all(`SELECT COUNT(*) AS n FROM "${table}"`)[0]!.n)
    for (const r of all(
      `SELECT source, COUNT(*) AS n, MAX("${m.time.name}") AS t, MAX(ingested_at) AS i FROM "${table}" GROUP BY source`
    )) {
      const s = sources.get(String(r.source)) ?? { events: 0, newest: 0, ingested: 0 }
      sources.set(String(r.source), {
        events: s.events + Number(r.n),
        newest: Math.max(s.newest, Number(r.t)),
        ingested: Math.max(s.ingested, Number(r.i)),
      })
    }
    for (const spec of m.regionStats) {
      const v = `"${spec.value.name}"`
      for (const r of all(
        `SELECT "${spec.region.name}" AS region, COUNT(${spec.counts === 'rows' ? '*' : v}) AS n,
         MIN(${v}) AS lo, AVG(${v}) AS mean, MAX(${v}) AS hi FROM "${table}" GROUP BY 1`
      )) {
        const row = regions.get(String(r.region)) ?? {}
        Object.assign(row, {
          [spec.count]: r.n,
          [`${spec.prefix}_min`]: r.lo,
          [`${spec.prefix}_avg`]: r.mean,
          [`${spec.prefix}_max`]: r.hi,
        })
        regions.set(String(r.region), row)
      }
    }
  }
  totals.dead_letters = Number(all('SELECT COUNT(*) AS n FROM dead_letters')[0]!.n)
  return { totals, sources, regions }
}

/** The read port's stats equal the scan's (means to float precision: sums are kept, not recounted). */
function expectScanned(db: ProjectionDb) {
  const stats = createReadPort(db).stats()
  const scan = scanned(db)
  expect(stats.totals).toEqual(scan.totals)
  expect(
    stats.sources.map((s) => [s.source, s.events, s.newest_interval, s.newest_ingested_at])
  ).toEqual(
    [...scan.sources.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([source, s]) => [
        source,
        s.events,
        new Date(s.newest).toISOString().replace('.000Z', 'Z'),
        new Date(s.ingested).toISOString(),
      ])
  )
  expect(stats.regions.map((r) => r.region_id)).toEqual([...scan.regions.keys()].sort())
  for (const region of stats.regions) {
    const expected = scan.regions.get(region.region_id)!
    for (const [key, value] of Object.entries(expected)) {
      const actual = region[key as keyof typeof region] as number | null
      if (key.endsWith('_avg') && value !== null) expect(actual).toBeCloseTo(value, 9)
      else expect(actual).toBe(value)
    }
  }
}

async function projectRandom(db: ProjectionDb, seed: number, events: number) {
  const next = rng(seed)
  const projector = createProjector(db, 'stats-test')
  let offset = 0n
  for (let i = 0; i < events; ) {
    const size = 1 + Math.floor(next() * 20)
    const records: ConsumedBatch['records'][number][] = []
    for (let j = 0; j < size && i < events; j++, i++) {
      if (next() < 0.05)
        records.push({
          offset: offset++,
          kind: 'dead_letter',
          deadLetter: {
            dead_letter_id: `dl-${Math.floor(next() * 30)}`,
            topic: 'market.prices',
            code: 'validation_failed',
            reason: 'test',
            correlation_id: null,
            source: pick2(next, ['aemo.dispatchis', 'api', 'a-source-of-no-name']),
            source_file: null,
            row: null,
            raw: '{}',
            failed_at: new Date(Date.UTC(2026, 3, 1) + next() * 1e6).toISOString(),
          },
        })
      else records.push({ offset: offset++, kind: 'event', event: randomEvent(next, i) })
    }
    await projector.project({ topic: 'mixed', partition: 0, records })
  }
}

const pick2 = <T>(next: () => number, xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!

describe('stats table', () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    test(`equals the scan after random inserts and revisions (seed ${seed})`, async () => {
      const db = openProjectionDb(':memory:')
      await projectRandom(db, seed, 300)
      expectScanned(db)
      await projectRandom(db, seed + 1000, 300)
      expectScanned(db)
    })
  }

  test('an upgraded database (stats triggers missing) is recounted when it is opened', async () => {
    const db = openProjectionDb(':memory:')
    await projectRandom(db, 7, 200)
    // As a database from before the stats tables: the migration made them empty, no triggers.
    for (const { name } of db.sqlite
      .query(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
      .all() as { name: string }[])
      db.sqlite.run(`DROP TRIGGER "${name}"`)
    for (const table of ['stats_streams', 'stats_regions', 'stats_watermarks'])
      db.sqlite.run(`DELETE FROM ${table}`)

    expect(installStatsTriggers(db)).toBe(true)
    expectScanned(db)
    expect(installStatsTriggers(db)).toBe(false)
    await projectRandom(db, 8, 200)
    expectScanned(db)
  })

  test("an operator's DELETE keeps the figures true", async () => {
    const db = openProjectionDb(':memory:')
    await projectRandom(db, 9, 300)
    db.sqlite.run(`DELETE FROM prices WHERE region_id = 'NSW1'`)
    db.sqlite.run('DELETE FROM weather WHERE rowid % 2 = 0')
    db.sqlite.run('DELETE FROM dead_letters')
    db.version.current++
    expectScanned(db)
  })
})
