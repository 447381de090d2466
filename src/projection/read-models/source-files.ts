import { desc, eq, sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { SourceFileEvent } from '@/canonical'
import { toUtcIsoMs } from '@/lib'
import { envelopeColumns, envelopeOf, type ReadModel, upsertStatement } from './read-model'

/** The upstream files the stored events came from (lineage): one row per file URL. */
export const sourceFiles = sqliteTable(
  'source_files',
  {
    ...envelopeColumns(),
    url: text('url').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    listedAt: integer('listed_at'),
    fetchedAt: integer('fetched_at').notNull(),
  },
  // Lineage finds an event's file by the sha256 the event carries, the trace by its correlation id
  // (one row per file: both indexes are small).
  (t) => [
    index('source_files_by_sha256').on(t.sourceSha256),
    index('source_files_by_correlation').on(t.correlationId),
  ]
)
type SourceFileRow = typeof sourceFiles.$inferSelect

const toSourceFile = (row: SourceFileRow): SourceFileEvent => ({
  ...envelopeOf(row),
  event_type: 'SourceFileEvent',
  url: row.url,
  size_bytes: row.sizeBytes,
  listed_at: row.listedAt === null ? null : toUtcIsoMs(row.listedAt),
  fetched_at: toUtcIsoMs(row.fetchedAt),
})

export interface SourceFileQueries {
  /** The file with this sha256 (the newest fetch of it), if one was recorded. */
  bySha256(sha256: string): SourceFileEvent | undefined
  /** The files fetched under one correlation id (a poll cycle's file), with their log position. */
  byCorrelation(correlationId: string, limit: number): (SourceFileEvent & SourceFileLog)[]
}

/** Where a file record sits on the log and when it was projected (epoch ms). */
export interface SourceFileLog {
  readonly log_partition: number | null
  readonly log_offset: number | null
  readonly projected_at: number
}

export const sourceFilesReadModel: ReadModel<'SourceFileEvent', SourceFileQueries, 'sourceFiles'> =
  {
    eventType: 'SourceFileEvent',
    port: 'sourceFiles',
    table: sourceFiles,
    time: sourceFiles.fetchedAt,
    dispatchIntervals: false,
    regionStats: [],
    lineage: true,
    writer(db) {
      const upsert = upsertStatement(db, sourceFiles, 'update')
      return (event, envelope) =>
        upsert.run({
          ...envelope,
          url: event.url,
          sizeBytes: event.size_bytes,
          listedAt: event.listed_at === null ? null : Date.parse(event.listed_at),
          fetchedAt: Date.parse(event.fetched_at),
        })
    },
    queries(db) {
      const bySha = db.orm
        .select()
        .from(sourceFiles)
        .where(eq(sourceFiles.sourceSha256, sql.placeholder('sha256')))
        .orderBy(desc(sourceFiles.fetchedAt))
        .limit(1)
        .prepare()
      const byCorrelation = db.orm
        .select()
        .from(sourceFiles)
        .where(eq(sourceFiles.correlationId, sql.placeholder('correlationId')))
        .orderBy(sourceFiles.fetchedAt)
        .limit(sql.placeholder('limit'))
        .prepare()
      return {
        bySha256(sha256) {
          const row = bySha.get({ sha256 })
          return row ? toSourceFile(row) : undefined
        },
        byCorrelation: (correlationId, limit) =>
          byCorrelation.all({ correlationId, limit }).map((row) => ({
            ...toSourceFile(row),
            log_partition: row.logPartition,
            log_offset: row.logOffset,
            projected_at: row.projectedAt,
          })),
      }
    },
  }
