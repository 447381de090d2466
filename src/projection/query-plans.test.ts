import { describe, expect, test } from 'bun:test'
import { getTableName } from 'drizzle-orm'
import { REGION_IDS } from '@/canonical'
import { oneEventOfEachType } from '../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb } from '.'
import { INTERVALS } from './read-models/aggregate'
import { encodeCursor } from './read-models/pager'
import { deadLetters } from './read-models/dead-letters'
import { READ_MODEL_LIST } from './read-models/index'
import { SOURCE_CADENCE_MS } from './stats'

/**
 * Tables whose full scan is accepted, and why: each holds a handful of rows whatever the data
 * (the stats figures, the consumer positions, the migrations), so scanning them is O(1).
 */
const SMALL_TABLES = [
  'stats_streams',
  'stats_regions',
  'stats_watermarks',
  'checkpoints',
  '__gridpulse_migrations',
]

/**
 * Filters with a bounded share of the rows, so that a newest-first walk of the time index reads
 * about twice `limit` rows whatever the data: rooftop PV has two estimate types per region and half
 * hour, one of them the preferred. An index for them would cost every insert for nothing.
 */
const HALF_THE_ROWS = ['"estimate_type" = $estimateType', '"preferred" = $preferred']

/** Every subset of `names`. */
const subsets = (names: readonly string[]) =>
  names.reduce<string[][]>((sets, f) => [...sets, ...sets.map((c) => [...c, f])], [[]])

/** Every SQL text the read port prepares on the database, recorded as it is prepared. */
function recording() {
  const db = openProjectionDb(':memory:')
  const texts = new Set<string>()
  for (const method of ['prepare', 'query'] as const) {
    const original = db.sqlite[method].bind(db.sqlite)
    db.sqlite[method] = ((sql: string) => {
      texts.add(sql)
      return original(sql)
    }) as never
  }
  return { db, texts }
}

/**
 * Runs every read the API can ask of the read port: for each list (every stream, view and the dead
 * letters), every combination of its filters with and without `from`, `to` and a cursor, as a page
 * and as an export; every aggregate width; the stats, the totals, the gap reports, the generation
 * mix and renewables, the manual revisions. The lists and their filters come from the read-model
 * list, so a new stream is covered by itself.
 */
async function runEveryRead() {
  const { db, texts } = recording()
  const events = Object.values(oneEventOfEachType())
  await createProjector(db, 'plans').project({
    topic: 'all',
    partition: 0,
    records: events.map((event, i) => ({ offset: BigInt(i), kind: 'event' as const, event })),
  })
  const reads = createReadPort(db)
  const port = reads as unknown as Record<string, Record<string, Function>>
  const lists = [
    ...READ_MODEL_LIST.flatMap((m) => [
      ...(m.series ? [{ q: port[m.port]!, filters: Object.keys(m.series.filters) }] : []),
      ...Object.entries(m.views ?? {}).map(([view, spec]) => ({
        q: port[m.port]![view] as unknown as Record<string, Function>,
        filters: Object.keys(spec.filters),
      })),
    ]),
    { q: port.deadLetters!, filters: ['topic'] },
  ]
  const cursor = encodeCursor({ t: 1, id: 'x' })
  for (const { q, filters } of lists)
    for (const present of subsets([...filters, 'from', 'to', 'cursor'])) {
      const query = Object.fromEntries(
        present.map((f) => [
          f,
          f === 'from' || f === 'to' ? '2026-04-01T00:00:00Z' : f === 'cursor' ? cursor : 'x',
        ])
      )
      q.list!({ ...query, limit: 10 })
      q.export!({ ...query }).close()
      if (q.aggregate && !present.includes('cursor'))
        for (const interval of INTERVALS.filter((i) => i !== '5m'))
          q.aggregate({ ...query, interval, limit: 10 })
    }
  reads.stats()
  reads.totals()
  for (const source of Object.keys(SOURCE_CADENCE_MS) as (keyof typeof SOURCE_CADENCE_MS)[])
    reads.gaps(source, 0, Date.now())
  for (const region of REGION_IDS) {
    reads.generation.mix(region)
    reads.generation.mix(region, '2026-04-01T00:05:00Z')
    reads.generation.renewables({ regionId: region, limit: 10 })
    reads.dispatch.revisions(region, 'wind', '2026-04-01T00:05:00Z')
  }
  reads.deadLetters.byId('x')
  return { db, texts }
}

describe('query plans', () => {
  test('every list, export, aggregate and stats query is an index search, never a table scan', async () => {
    const { db, texts } = await runEveryRead()
    const tables = [
      ...READ_MODEL_LIST.map((m) => getTableName(m.table)),
      getTableName(deadLetters),
      'dispatch_revisions',
    ]
    const read = [...texts].filter(
      (sql) => /^\s*(WITH|SELECT)/i.test(sql) && !/sqlite_master/.test(sql)
    )
    expect(read.length).toBeGreaterThan(100)
    const scans: string[] = []
    for (const sql of read) {
      const plan = (db.sqlite.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map(
        (r) => r.detail
      )
      for (const line of plan) {
        const scanned = line.match(/^SCAN (\S+)/)?.[1]
        if (!scanned || SMALL_TABLES.includes(scanned) || !tables.includes(scanned)) continue
        // A walk of an index in its order is accepted for a newest-first list without equality
        // filters (ORDER BY the index's key, LIMIT): it reads the first `limit` rows from the
        // index's end and stops, a range open at one end. (An export without bounds reads every
        // row, which it is asked for.) With a filter, the walk would skip the other series' rows:
        // a filtered list must SEARCH an index led by the filter's column.
        const where = HALF_THE_ROWS.reduce(
          (w, f) => w.replace(f, ''),
          sql.replace(/ORDER BY[\s\S]*$/i, '')
        )
        const filtered = /= (\$(?!cursorT\b)\w+|\?)/.test(where)
        const ordered =
          !filtered &&
          / USING (COVERING )?INDEX /.test(line) &&
          /ORDER BY .* LIMIT (\$limit|\?)$/is.test(sql)
        if (!ordered) scans.push(`${line}\n  in ${sql}`)
      }
    }
    expect(scans).toEqual([])
  })
})
