import { getTableColumns, getTableName, sql } from 'drizzle-orm'
import { index, integer, type SQLiteColumn, type SQLiteTable, text } from 'drizzle-orm/sqlite-core'
import type { DeadLetter, EventOf, GridEventType, SourceName } from '@/canonical'
import { toUtcIsoMs } from '@/lib'
import type { ProjectionDb } from '../db'
import type { RegionStats } from '../stats'
import { replacedVersionSaver } from './replaced-versions'
import type { SeriesSpec } from './series'

// Times are stored as epoch milliseconds (UTC) so range filters and ordering use integer indexes;
// the queries turn them back into ISO-8601 UTC strings of the canonical model.
export const envelopeColumns = () => ({
  eventId: text('event_id').primaryKey(),
  correlationId: text('correlation_id').notNull(),
  source: text('source').notNull(),
  sourceFile: text('source_file'),
  sourceSha256: text('source_sha256'),
  schemaVersion: integer('schema_version').notNull(),
  ingestedAt: integer('ingested_at').notNull(),
  /** When the projection applied the event (epoch ms): ingest → queryable latency. */
  projectedAt: integer('projected_at').notNull(),
  // Lineage, three integers per row rather than a per-event lineage table (the projection rebuild
  // budget): the event's line in its file, and where the projector read it (the topic follows from
  // the event type). A replaced version's values move to `replaced_versions` (see lineage.ts).
  sourceRow: integer('source_row'),
  logPartition: integer('log_partition'),
  logOffset: integer('log_offset'),
})

/**
 * The index `/api/v1/trace/{correlation_id}` finds API-written events by. Partial (`source =
 * 'api'`): a full index on a 36-character id would add ~45 bytes and an index write to every row of
 * every stream (≈ 450 MB at 10 M rows) for lookups that are rare; API writes are few. An upstream
 * file's events are found through its `source_files` record instead (see lineage.ts).
 */
export const byApiCorrelation = (name: string, t: { correlationId: SQLiteColumn }) =>
  index(`${name}_by_api_correlation`).on(t.correlationId).where(sql`"source" = 'api'`)

/** The envelope columns of a stored row. */
interface EnvelopeRow {
  readonly eventId: string
  readonly correlationId: string
  readonly source: string
  readonly sourceFile: string | null
  readonly sourceSha256: string | null
  readonly schemaVersion: number
  readonly ingestedAt: number
  readonly sourceRow: number | null
}

/** The envelope columns as statement parameters, built once per event by the applier. */
export interface EnvelopeParams extends EnvelopeRow {
  readonly projectedAt: number
  readonly logPartition: number
  readonly logOffset: number
}

/** A stored envelope back to the canonical one. */
export const envelopeOf = (row: EnvelopeRow) => ({
  event_id: row.eventId,
  schema_version: row.schemaVersion as 1,
  correlation_id: row.correlationId,
  source: row.source as SourceName,
  source_file: row.sourceFile,
  source_sha256: row.sourceSha256,
  source_row: row.sourceRow,
  ingested_at: toUtcIsoMs(row.ingestedAt),
})

/** A prepared write of one row, with the row's columns (by property name) as parameters. */
export interface RowWriter {
  run(params: Record<string, unknown>): void
}

/**
 * `INSERT … ON CONFLICT (key) DO NOTHING | DO UPDATE` for every column of a drizzle table, as raw
 * bun:sqlite statements with named parameters (the columns' property names). Written from the
 * schema, run without drizzle's per-call parameter mapping: this is the projector's hot path.
 * `updateWhen` (SQL over the stored row, by table name, and `excluded`) keeps the stored row when
 * it is false.
 *
 * With 'update', a new row is one plain insert; only a conflict (rare: a redelivery, a revised or
 * re-ingested file) runs the update, and a stored version from another file (another sha256) that
 * the update replaces is kept in `replaced_versions` for lineage.
 */
export function upsertStatement(
  db: ProjectionDb,
  table: SQLiteTable,
  conflict: 'update' | 'ignore',
  updateWhen?: string
): RowWriter {
  const columns = Object.entries(getTableColumns(table))
  const name = getTableName(table)
  const names = columns.map(([, c]) => `"${c.name}"`).join(', ')
  const params = columns.map(([key]) => `$${key}`).join(', ')
  const key = columns.find(([, c]) => c.primary)![1].name
  const insert = `INSERT INTO "${name}" (${names}) VALUES (${params}) ON CONFLICT ("${key}")`
  const ignore = db.sqlite.prepare(`${insert} DO NOTHING`)
  if (conflict === 'ignore') return { run: (row) => void ignore.run(row as never) }
  const update = db.sqlite.prepare(
    `${insert} DO UPDATE SET ${columns
      .filter(([, c]) => !c.primary)
      .map(([, c]) => `"${c.name}" = excluded."${c.name}"`)
      .join(', ')}${updateWhen ? ` WHERE ${updateWhen}` : ''}`
  )
  const storedSha = db.sqlite.prepare(
    `SELECT source_sha256 AS sha FROM "${name}" WHERE event_id = ?`
  )
  const save = replacedVersionSaver(db, name)
  const unsave = db.sqlite.prepare('DELETE FROM replaced_versions WHERE id = ?')
  return {
    run(row) {
      if (ignore.run(row as never).changes > 0) return
      const stored = storedSha.get(row.eventId as string) as { sha: string | null } | null
      if (!stored || stored.sha === row.sourceSha256) {
        update.run(row as never)
        return
      }
      const saved = save.run({ eventId: row.eventId, projectedAt: row.projectedAt } as never)
      // `updateWhen` kept the stored row (a FIRM price stays): nothing was replaced.
      if (update.run(row as never).changes === 0) unsave.run(saved.lastInsertRowid)
    },
  }
}

/**
 * The `updateWhen` of a price stream (energy and FCAS): a stored price is replaced by a later event
 * with the same id (same region, service and interval: a re-published or backfilled file), in log
 * order, except that a FIRM price is never replaced by one that is not FIRM. AEMO marks a price FIRM
 * once its review is over, so re-ingesting an older file cannot un-firm it.
 */
export const firmStays = (table: string) =>
  `NOT ("${table}"."price_status" IS 'FIRM' AND excluded."price_status" IS NOT 'FIRM')`

/** Writes one event's row(s); prepared once, run per event inside the projector's transaction. */
export type Writer<T extends GridEventType> = (event: EventOf<T>, envelope: EnvelopeParams) => void

/** What a writer may need besides its own tables: the dead-letter sink for refused events. */
export interface WriterContext {
  readonly deadLetter: (record: DeadLetter) => void
}

type RegionCount = Extract<keyof RegionStats, `${string}_count`>
type RegionMetric = {
  [K in keyof RegionStats]: K extends `${infer P}_min` ? P : never
}[keyof RegionStats]

/** Per-region min/avg/max of one column, as `<count>`, `<prefix>_min|_avg|_max` in the stats. */
export interface RegionStatsSpec {
  readonly region: SQLiteColumn
  readonly value: SQLiteColumn
  readonly count: RegionCount
  readonly prefix: RegionMetric
  /** What `count` counts: the stream's rows, or only those where `value` is not null. */
  readonly counts: 'rows' | 'values'
  /** The API's descriptions of the count and of the minimum (the mean and maximum share it). */
  readonly describe?: { readonly count?: string; readonly min?: string }
}

/**
 * One stream's read model: its table, how an event becomes a row (the writer) and how rows are read
 * back (its queries, returning canonical events). Registered in `read-models/index.ts`.
 */
export interface ReadModel<T extends GridEventType, Q, P extends string = string> {
  readonly eventType: T
  /** The stream's name on the read port (`ReadPort[port]` is what `queries` returns). */
  readonly port: P
  /** The stream's table; its name is the stream's key in the `/api/v1/stats` totals. */
  readonly table: SQLiteTable
  /** Column holding the event time (epoch ms): newest interval per source. */
  readonly time: SQLiteColumn
  /**
   * True when rows are market intervals (5-minute dispatch, 30-minute rooftop PV): their interval
   * ends count for their source's gap report.
   */
  readonly dispatchIntervals: boolean
  /**
   * A record about the data rather than data (the upstream files, for lineage): counted in the
   * stats totals, left out of the per-source events and newest intervals.
   */
  readonly lineage?: true
  /** Per-region figures of `/api/v1/stats` (none, one, or several columns). */
  readonly regionStats: readonly RegionStatsSpec[]
  /**
   * A time series the API serves as a list, a CSV export and `interval=` aggregates; its queries
   * come from `createSeriesQueries(db, series)`. Absent for streams that are not time series.
   */
  readonly series?: SeriesSpec<never, unknown>
  /**
   * Other shapes of the same rows served by routes of their own (e.g. curtailment and storage of
   * the price rows), each a time series too, by its name on the read port's queries.
   */
  readonly views?: Readonly<Record<string, SeriesSpec<never, unknown>>>
  readonly writer: (db: ProjectionDb, context: WriterContext) => Writer<T>
  readonly queries: (db: ProjectionDb) => Q
}
