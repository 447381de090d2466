import { getTableName } from 'drizzle-orm'
import { EVENT_REGISTRY, type GridEventType, TOPICS } from '@/canonical'
import { toUtcIsoMs } from '@/lib'
import type { ProjectionDb } from './db'
import { READ_MODEL_LIST } from './read-models/index'
export { replacedVersions } from './read-models/replaced-versions'

/** Where an event was read from the log and when it became queryable. */
export interface LogPosition {
  readonly topic: string
  readonly partition: number | null
  readonly offset: number | null
}

/** One stored version of an event: its envelope and its place in the log. */
export interface EventVersion {
  readonly event_id: string
  readonly correlation_id: string
  readonly source: string
  readonly source_file: string | null
  readonly source_sha256: string | null
  readonly source_row: number | null
  readonly ingested_at: string
  /** Null only for a replaced manual revision recorded before lineage existed. */
  readonly projected_at: string | null
  readonly log: LogPosition
}

export interface StoredEvent extends EventVersion {
  readonly event_type: GridEventType
  /** The intervention flag of streams that have one (prices, FCAS, flows); null elsewhere. */
  readonly intervention: boolean | null
  /** Manual readings: the revision number (1 = first write); null for upstream data. */
  readonly revision: number | null
  /** A manual revision no longer current: the event id of the revision that replaced it. */
  readonly superseded_by: string | null
}

export interface ReplacedVersion extends EventVersion {
  readonly replaced_at: string
}

type Row = Record<string, unknown>
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

function versionOf(row: Row, topic: string): EventVersion {
  return {
    event_id: String(row.event_id),
    correlation_id: String(row.correlation_id),
    source: String(row.source),
    source_file: (row.source_file as string | null) ?? null,
    source_sha256: (row.source_sha256 as string | null) ?? null,
    source_row: num(row.source_row),
    ingested_at: toUtcIsoMs(Number(row.ingested_at)),
    projected_at: row.projected_at == null ? null : toUtcIsoMs(Number(row.projected_at)),
    log: { topic, partition: num(row.log_partition), offset: num(row.log_offset) },
  }
}

/** Every stream table with what lineage needs to read one row by id or by correlation id. */
function streamStatements(db: ProjectionDb) {
  return READ_MODEL_LIST.map((model) => {
    const table = `"${getTableName(model.table)}"`
    const columns = new Set(
      (db.sqlite.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map(
        (c) => c.name
      )
    )
    const extra = [
      columns.has('intervention') ? 'intervention' : 'NULL AS intervention',
      columns.has('revision') ? 'revision' : 'NULL AS revision',
    ].join(', ')
    const select = `SELECT *, ${extra}, ${model.time.name} AS event_time FROM ${table}`
    return {
      type: model.eventType,
      topic: EVENT_REGISTRY[model.eventType].topic as string,
      byId: db.sqlite.prepare(`${select} WHERE event_id = ?`),
      // `source = 'api'` lets SQLite use the partial index (byApiCorrelation).
      byApiCorrelation: db.sqlite.prepare(
        `${select} WHERE correlation_id = ? AND source = 'api' ORDER BY ingested_at LIMIT ?`
      ),
    }
  })
}

const storedEvent = (row: Row, type: GridEventType, topic: string): StoredEvent => ({
  ...versionOf(row, topic),
  event_type: type,
  intervention: row.intervention === null ? null : Boolean(row.intervention),
  revision: num(row.revision),
  superseded_by: (row.superseded_by as string | undefined) ?? null,
})

/** An earlier revision of a manual reading (`dispatch_revisions`), which a newer one replaced. */
export interface ManualRevision {
  readonly event_id: string
  readonly revision: number
  readonly value_mw: number
  readonly written_by: string | null
  readonly written_at: string
  readonly correlation_id: string
}

export interface LineageQueries {
  /** The stored event with this id, from whichever stream holds it; undefined when none does. */
  event(eventId: string): StoredEvent | undefined
  /** Versions the stored event replaced, oldest first. */
  replaced(eventId: string): ReplacedVersion[]
  /** A manual reading's earlier revisions of the same region, fuel and interval, oldest first. */
  earlierRevisions(eventId: string): ManualRevision[]
  /** Events written through the API with this correlation id (at most `limit`). */
  apiEvents(correlationId: string, limit: number): StoredEvent[]
}

/**
 * Manual readings keep every revision in `dispatch_revisions`; the dispatch row holds the current
 * one only. So earlier revisions, and a replaced revision's own lineage, are read from there.
 */
function manualRevisionStatements(db: ProjectionDb) {
  return {
    revisions: db.sqlite.prepare(
      `SELECT r.* FROM dispatch_revisions r JOIN dispatch_revisions me ON me.event_id = ?
         AND r.region_id = me.region_id AND r.fuel_type = me.fuel_type
         AND r.interval_end = me.interval_end AND r.revision < me.revision
       ORDER BY r.revision`
    ),
    superseded: db.sqlite.prepare(
      `SELECT r.*, 'api' AS source, r.written_at AS ingested_at, NULL AS intervention,
         (SELECT d.event_id FROM dispatch d WHERE d.source = 'api' AND d.region_id = r.region_id
            AND d.fuel_type = r.fuel_type AND d.interval_end = r.interval_end) AS superseded_by
       FROM dispatch_revisions r WHERE r.event_id = ?`
    ),
  }
}

export function createLineageQueries(db: ProjectionDb): LineageQueries {
  const streams = streamStatements(db)
  const replaced = db.sqlite.prepare(
    'SELECT * FROM replaced_versions WHERE event_id = ? ORDER BY id'
  )
  const { revisions, superseded } = manualRevisionStatements(db)
  return {
    earlierRevisions: (eventId) =>
      (revisions.all(eventId) as Row[]).map((r) => ({
        event_id: String(r.event_id),
        revision: Number(r.revision),
        value_mw: Number(r.value_mw),
        written_by: (r.written_by as string | null) ?? null,
        written_at: toUtcIsoMs(Number(r.written_at)),
        correlation_id: String(r.correlation_id),
      })),
    event(eventId) {
      for (const s of streams) {
        const row = s.byId.get(eventId) as Row | null
        if (row) return storedEvent(row, s.type, s.topic)
      }
      const revision = superseded.get(eventId) as Row | null
      return revision ? storedEvent(revision, 'MarketDispatchEvent', TOPICS.dispatch) : undefined
    },
    replaced(eventId) {
      const current = this.event(eventId)
      const topic = current?.log.topic ?? ''
      return (replaced.all(eventId) as Row[]).map((row) => ({
        ...versionOf(row, topic),
        replaced_at: toUtcIsoMs(Number(row.replaced_at)),
      }))
    },
    apiEvents(correlationId, limit) {
      return streams.flatMap((s) =>
        (s.byApiCorrelation.all(correlationId, limit) as Row[]).map((row) =>
          storedEvent(row, s.type, s.topic)
        )
      )
    },
  }
}
