import { getTableName } from 'drizzle-orm'
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { ProjectionDb } from './db'
import { deadLetters } from './read-models/dead-letters'
import { READ_MODEL_LIST } from './read-models/index'
import type { RegionStatsSpec } from './read-models/read-model'

/**
 * Per stream and source: rows, the oldest and newest event time (epoch ms) and the newest ingest.
 * Kept by triggers (below) in the projection's own transaction, so `/api/v1/stats` and `/health`
 * read a few dozen rows instead of counting millions. The dead letters are the stream
 * `dead_letters` (event time: when they failed).
 */
export const statsStreams = sqliteTable(
  'stats_streams',
  {
    stream: text('stream').notNull(),
    source: text('source').notNull(),
    rowCount: integer('row_count').notNull(),
    firstTime: integer('first_time'),
    lastTime: integer('last_time'),
    lastIngested: integer('last_ingested'),
  },
  (t) => [primaryKey({ columns: [t.stream, t.source] })]
)

/**
 * Per region figure (a read model's `regionStats` prefix, e.g. `rrp`) and region: rows, non-null
 * values, their sum (the mean is sum / values), minimum and maximum.
 */
export const statsRegions = sqliteTable(
  'stats_regions',
  {
    metric: text('metric').notNull(),
    region: text('region').notNull(),
    rowCount: integer('row_count').notNull(),
    valueCount: integer('value_count').notNull(),
    valueSum: real('value_sum').notNull(),
    valueMin: real('value_min'),
    valueMax: real('value_max'),
  },
  (t) => [primaryKey({ columns: [t.metric, t.region] })]
)

/** `a` widened by `x` (either may be NULL: SQLite's scalar MIN/MAX return NULL then). */
const widen = (a: string, x: string, op: '<' | '>') =>
  `CASE WHEN ${x} IS NULL THEN ${a} WHEN ${a} IS NULL OR ${x} ${op} ${a} THEN ${x} ELSE ${a} END`

interface Tracked {
  readonly name: string
  readonly time: string
  /** The column of the newest ingest (dead letters have none: their failure time). */
  readonly ingested: string
  readonly regions: readonly RegionStatsSpec[]
}

const TRACKED: readonly Tracked[] = [
  ...READ_MODEL_LIST.map((m) => ({
    name: getTableName(m.table),
    time: m.time.name,
    ingested: 'ingested_at',
    regions: m.regionStats,
  })),
  { name: getTableName(deadLetters), time: 'failed_at', ingested: 'failed_at', regions: [] },
]

/** Adds row `r` (`NEW` or `OLD`) to its stream/source figures (`sign` -1: takes it away). */
function addSource(t: Tracked, r: 'NEW' | 'OLD', sign: 1 | -1) {
  const [time, ingested] = [`${r}."${t.time}"`, `${r}."${t.ingested}"`]
  if (sign === -1)
    return `UPDATE stats_streams SET row_count = row_count - 1 WHERE stream = '${t.name}' AND source = OLD.source;`
  return `INSERT INTO stats_streams (stream, source, row_count, first_time, last_time, last_ingested)
    VALUES ('${t.name}', ${r}.source, 1, ${time}, ${time}, ${ingested})
    ON CONFLICT (stream, source) DO UPDATE SET row_count = row_count + 1,
      first_time = ${widen('first_time', 'excluded.first_time', '<')},
      last_time = ${widen('last_time', 'excluded.last_time', '>')},
      last_ingested = ${widen('last_ingested', 'excluded.last_ingested', '>')};`
}

function addRegion(spec: RegionStatsSpec, r: 'NEW' | 'OLD', sign: 1 | -1) {
  const [region, v] = [`${r}."${spec.region.name}"`, `${r}."${spec.value.name}"`]
  if (sign === -1)
    return `UPDATE stats_regions SET row_count = row_count - 1,
      value_count = value_count - (${v} IS NOT NULL), value_sum = value_sum - COALESCE(${v}, 0)
      WHERE metric = '${spec.prefix}' AND region = ${region};`
  return `INSERT INTO stats_regions (metric, region, row_count, value_count, value_sum, value_min, value_max)
    VALUES ('${spec.prefix}', ${region}, 1, ${v} IS NOT NULL, COALESCE(${v}, 0), ${v}, ${v})
    ON CONFLICT (metric, region) DO UPDATE SET row_count = row_count + 1,
      value_count = value_count + excluded.value_count, value_sum = value_sum + excluded.value_sum,
      value_min = ${widen('value_min', 'excluded.value_min', '<')},
      value_max = ${widen('value_max', 'excluded.value_max', '>')};`
}

/**
 * After a replacement (`NEW`) or a deletion (`null`): when the old row held an extreme (of its
 * source's times, or of its region's values) the new row does not keep, that one group is recomputed
 * from the table. Rare (a revision seldom replaces the extreme), so the usual update costs two upserts.
 */
function recompute(t: Tracked, next: 'NEW' | null) {
  const table = `"${t.name}"`
  const differs = (column: string) => (next ? `OLD.${column} IS NOT NEW.${column}` : 'TRUE')
  const older = next ? `OLD."${t.ingested}" > NEW."${t.ingested}"` : 'TRUE'
  const source = `UPDATE stats_streams SET
      first_time = (SELECT MIN("${t.time}") FROM ${table} WHERE source = OLD.source),
      last_time = (SELECT MAX("${t.time}") FROM ${table} WHERE source = OLD.source),
      last_ingested = (SELECT MAX("${t.ingested}") FROM ${table} WHERE source = OLD.source)
    WHERE stream = '${t.name}' AND source = OLD.source
      AND (${differs('source')} OR ${differs(`"${t.time}"`)} OR ${older})
      AND (OLD."${t.time}" IN (first_time, last_time) OR OLD."${t.ingested}" = last_ingested);`
  const regions = t.regions.map((spec) => {
    const [region, v] = [`"${spec.region.name}"`, `"${spec.value.name}"`]
    const group = `FROM ${table} WHERE ${region} = OLD.${region}`
    return `UPDATE stats_regions SET value_min = (SELECT MIN(${v}) ${group}),
        value_max = (SELECT MAX(${v}) ${group})
      WHERE metric = '${spec.prefix}' AND region = OLD.${region}
        AND (${differs(v)} OR ${differs(region)}) AND OLD.${v} IN (value_min, value_max);`
  })
  return [source, ...regions].join('\n  ')
}

const trigger = (t: Tracked, on: 'INSERT' | 'UPDATE' | 'DELETE', body: readonly string[]) =>
  [
    `stats_${t.name}_${on.toLowerCase()}`,
    `CREATE TRIGGER "stats_${t.name}_${on.toLowerCase()}" AFTER ${on} ON "${t.name}" BEGIN\n  ${body.join('\n  ')}\nEND`,
  ] as const

/** The triggers that keep the stats tables, by name, from the read-model list. */
export function statsTriggers(): Map<string, string> {
  return new Map(
    TRACKED.flatMap((t) => {
      const insert = [addSource(t, 'NEW', 1), ...t.regions.map((s) => addRegion(s, 'NEW', 1))]
      const remove = [addSource(t, 'OLD', -1), ...t.regions.map((s) => addRegion(s, 'OLD', -1))]
      return [
        trigger(t, 'INSERT', insert),
        trigger(t, 'UPDATE', [...remove, ...insert, recompute(t, 'NEW')]),
        // The projection never deletes; an operator's manual DELETE keeps the figures true.
        trigger(t, 'DELETE', [...remove, recompute(t, null)]),
      ]
    })
  )
}

/** The figures recounted from the tables (the backfill, and the tests' reference). */
function backfill(t: Tracked): string[] {
  const table = `"${t.name}"`
  return [
    `INSERT INTO stats_streams (stream, source, row_count, first_time, last_time, last_ingested)
      SELECT '${t.name}', source, COUNT(*), MIN("${t.time}"), MAX("${t.time}"), MAX("${t.ingested}")
      FROM ${table} GROUP BY source`,
    ...t.regions.map((spec) => {
      const [region, v] = [`"${spec.region.name}"`, `"${spec.value.name}"`]
      return `INSERT INTO stats_regions (metric, region, row_count, value_count, value_sum, value_min, value_max)
        SELECT '${spec.prefix}', ${region}, COUNT(*), COUNT(${v}), TOTAL(${v}), MIN(${v}), MAX(${v})
        FROM ${table} GROUP BY ${region}`
    }),
  ]
}

/**
 * Creates the stats triggers when they are missing or differ from the read-model list's (a new
 * node, an upgrade, a changed read model) and recounts the stats tables from the read models, in
 * one transaction: an upgraded node serves true figures from its first request. Otherwise a no-op.
 * Returns whether it rebuilt.
 */
export function installStatsTriggers(db: ProjectionDb): boolean {
  const wanted = statsTriggers()
  const existing = db.sqlite
    .query(
      `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'stats\\_%' ESCAPE '\\'`
    )
    .all() as { name: string; sql: string }[]
  if (existing.length === wanted.size && existing.every((e) => wanted.get(e.name) === e.sql))
    return false
  db.sqlite.transaction(() => {
    for (const e of existing) db.sqlite.run(`DROP TRIGGER "${e.name}"`)
    db.sqlite.run('DELETE FROM stats_streams')
    db.sqlite.run('DELETE FROM stats_regions')
    for (const statement of TRACKED.flatMap(backfill)) db.sqlite.run(statement)
    for (const sql of wanted.values()) db.sqlite.run(sql)
  })()
  return true
}
