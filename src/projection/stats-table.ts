import { getTableName } from 'drizzle-orm'
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { REGION_IDS, SourceNameSchema } from '@/canonical'
import type { ProjectionDb } from './db'
import { deadLetters } from './read-models/dead-letters'
import { READ_MODEL_LIST } from './read-models/index'
import type { RegionStatsSpec } from './read-models/read-model'

/**
 * Per stream and source: rows, the oldest and newest event time (epoch ms) and the newest ingest.
 * Kept in the projection's own transaction (`createStatsFlush`, the triggers below), so
 * `/api/v1/stats` and `/health` read a few dozen rows instead of counting millions. The dead letters
 * are the stream `dead_letters` (event time: when they failed).
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

/**
 * Per stream: the highest rowid its figures count. New rows (rowids above it: SQLite gives a new
 * row the highest rowid + 1) are added per projection batch, grouped, in one statement per figure;
 * a row above it that a revision replaces is simply counted with its new values then.
 */
export const statsWatermarks = sqliteTable('stats_watermarks', {
  stream: text('stream').primaryKey(),
  counted: integer('counted').notNull(),
})

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

/** Adds `rows` (VALUES or a SELECT: stream, source, count, first, last, newest ingest). */
const addSources = (rows: string) =>
  `INSERT INTO stats_streams (stream, source, row_count, first_time, last_time, last_ingested)
    ${rows}
    ON CONFLICT (stream, source) DO UPDATE SET row_count = row_count + excluded.row_count,
      first_time = ${widen('first_time', 'excluded.first_time', '<')},
      last_time = ${widen('last_time', 'excluded.last_time', '>')},
      last_ingested = ${widen('last_ingested', 'excluded.last_ingested', '>')};`

/** Adds `rows` (metric, region, rows, values, sum, min, max). */
const addRegions = (rows: string) =>
  `INSERT INTO stats_regions (metric, region, row_count, value_count, value_sum, value_min, value_max)
    ${rows}
    ON CONFLICT (metric, region) DO UPDATE SET row_count = row_count + excluded.row_count,
      value_count = value_count + excluded.value_count, value_sum = value_sum + excluded.value_sum,
      value_min = ${widen('value_min', 'excluded.value_min', '<')},
      value_max = ${widen('value_max', 'excluded.value_max', '>')};`

/**
 * One figure of a stream's new rows: grouped by `key`, the aggregates `columns` (in the order of
 * `add`'s VALUES after the two names). The usual groups (`known`) are summed in one pass over the
 * new rows without sorting (`FILTER`); any other key (a dead letter's free-text source) falls back
 * to a `GROUP BY`.
 */
interface Figure {
  readonly name: string
  readonly key: string
  readonly known: readonly string[]
  readonly columns: readonly string[]
  readonly add: (rows: string) => string
}

function figuresOf(t: Tracked): Figure[] {
  const time = `"${t.time}"`
  return [
    {
      name: t.name,
      key: 'source',
      known: SourceNameSchema.options,
      columns: ['COUNT(*)', `MIN(${time})`, `MAX(${time})`, `MAX("${t.ingested}")`],
      add: addSources,
    },
    ...t.regions.map((spec) => {
      const v = `"${spec.value.name}"`
      return {
        name: spec.prefix,
        key: `"${spec.region.name}"`,
        known: REGION_IDS,
        columns: ['COUNT(*)', `COUNT(${v})`, `TOTAL(${v})`, `MIN(${v})`, `MAX(${v})`],
        add: addRegions,
      }
    }),
  ]
}

const quoted = (keys: readonly string[]) => keys.map((k) => `'${k}'`).join(', ')

/** Adds the rows of `t` above the watermark (`$counted`) to its figures: one pass, then upserts. */
function createAddNewRows(db: ProjectionDb, t: Tracked) {
  const figures = figuresOf(t)
  const cells = figures.flatMap((f) => [
    ...f.known.flatMap((k) => f.columns.map((c) => `${c} FILTER (WHERE ${f.key} = '${k}')`)),
    `COUNT(*) FILTER (WHERE ${f.key} NOT IN (${quoted(f.known)}))`,
  ])
  const scan = db.sqlite.prepare(
    `SELECT ${cells.join(', ')} FROM "${t.name}" WHERE rowid > $counted`
  )
  const adds = figures.map((f) => ({
    figure: f,
    one: db.sqlite.prepare(
      f.add(`VALUES ('${f.name}', $key, ${f.columns.map((_, i) => `$c${i}`).join(', ')})`)
    ),
    others: db.sqlite.prepare(
      f.add(`SELECT '${f.name}', ${f.key}, ${f.columns.join(', ')} FROM "${t.name}"
        WHERE rowid > $counted AND ${f.key} NOT IN (${quoted(f.known)}) GROUP BY ${f.key}`)
    ),
  }))
  return (counted: number) => {
    const row = scan.values({ counted })[0]!
    let at = 0
    for (const { figure, one, others } of adds) {
      for (const key of figure.known) {
        const values = row.slice(at, at + figure.columns.length)
        at += figure.columns.length
        if (values[0] === 0) continue
        one.run({ key, ...Object.fromEntries(values.map((v, i) => [`c${i}`, v])) })
      }
      if (row[at++] !== 0) others.run({ counted })
    }
  }
}

const addRow = (t: Tracked): string[] => [
  addSources(
    `VALUES ('${t.name}', NEW.source, 1, NEW."${t.time}", NEW."${t.time}", NEW."${t.ingested}")`
  ),
  ...t.regions.map((spec) => {
    const v = `NEW."${spec.value.name}"`
    return addRegions(
      `VALUES ('${spec.prefix}', NEW."${spec.region.name}", 1, ${v} IS NOT NULL, COALESCE(${v}, 0), ${v}, ${v})`
    )
  }),
]

/** Takes a counted row away (`when`: SQL that holds when it was counted). */
const removeRow = (t: Tracked, when: string): string[] => [
  `UPDATE stats_streams SET row_count = row_count - 1
    WHERE stream = '${t.name}' AND source = OLD.source AND ${when};`,
  ...t.regions.map((spec) => {
    const [region, v] = [`OLD."${spec.region.name}"`, `OLD."${spec.value.name}"`]
    return `UPDATE stats_regions SET row_count = row_count - 1,
      value_count = value_count - (${v} IS NOT NULL), value_sum = value_sum - COALESCE(${v}, 0)
      WHERE metric = '${spec.prefix}' AND region = ${region} AND ${when};`
  }),
]

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

const trigger = (t: Tracked, on: 'UPDATE' | 'DELETE', when: string, body: readonly string[]) =>
  [
    `stats_${t.name}_${on.toLowerCase()}`,
    `CREATE TRIGGER "stats_${t.name}_${on.toLowerCase()}" AFTER ${on} ON "${t.name}"${when} BEGIN\n  ${body.join('\n  ')}\nEND`,
  ] as const

/**
 * The triggers that keep the figures of counted rows (at or below the watermark) true when a
 * revision replaces one, or an operator deletes one, by name, from the read-model list.
 */
export function statsTriggers(): Map<string, string> {
  return new Map(
    TRACKED.flatMap((t) => {
      const counted = `(SELECT counted FROM stats_watermarks WHERE stream = '${t.name}')`
      return [
        trigger(t, 'UPDATE', ` WHEN OLD.rowid <= ${counted}`, [
          ...removeRow(t, 'TRUE'),
          ...addRow(t),
          recompute(t, 'NEW'),
        ]),
        // The projection never deletes; an operator's manual DELETE keeps the figures true. Rows
        // above the new highest rowid are gone, so the watermark follows it down (a new row may
        // get a rowid freed by the deletion).
        trigger(t, 'DELETE', '', [
          ...removeRow(t, `OLD.rowid <= ${counted}`),
          recompute(t, null),
          `UPDATE stats_watermarks SET counted = MIN(counted, COALESCE((SELECT MAX(rowid) FROM "${t.name}"), 0))
            WHERE stream = '${t.name}';`,
        ]),
      ]
    })
  )
}

/**
 * Adds the rows each stream gained since the last call to its figures: run by the projector in
 * each batch's transaction, before its checkpoint. A few grouped statements per batch (over the
 * batch's own rows, by rowid) instead of work per event.
 */
export function createStatsFlush(db: ProjectionDb): () => void {
  const watermark = db.sqlite.prepare('SELECT counted FROM stats_watermarks WHERE stream = $stream')
  const advance = db.sqlite.prepare(
    `INSERT INTO stats_watermarks (stream, counted) VALUES ($stream, $counted)
     ON CONFLICT (stream) DO UPDATE SET counted = excluded.counted`
  )
  const streams = TRACKED.map((t) => ({
    stream: t.name,
    highest: db.sqlite.prepare(`SELECT MAX(rowid) AS m FROM "${t.name}"`),
    add: createAddNewRows(db, t),
  }))
  return () => {
    for (const s of streams) {
      const counted =
        (watermark.get({ stream: s.stream }) as { counted: number } | null)?.counted ?? 0
      const highest = (s.highest.get() as { m: number | null }).m ?? 0
      if (highest <= counted) continue
      s.add(counted)
      advance.run({ stream: s.stream, counted: highest })
    }
  }
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
    for (const table of ['stats_streams', 'stats_regions', 'stats_watermarks'])
      db.sqlite.run(`DELETE FROM ${table}`)
    createStatsFlush(db)()
    for (const sql of wanted.values()) db.sqlite.run(sql)
  })()
  return true
}
