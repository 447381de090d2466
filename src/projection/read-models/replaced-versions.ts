import type { Database } from 'bun:sqlite'
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * Earlier versions of an event that a newer one replaced in its read model: the same event id
 * from another file (a revised AEMO file, a FIRM price after a NOT FIRM one, a backfill of other
 * bytes). Written by `upsertStatement` only when a row is replaced, which is rare, so the
 * projector's insert path pays nothing for it. (An SQLite trigger per table was measured first:
 * its mere presence cost the rebuild about a third of its rate, inserts included.) Manual
 * readings keep every revision in `dispatch_revisions` already.
 */
export const replacedVersions = sqliteTable(
  'replaced_versions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: text('event_id').notNull(),
    /** When the newer version was projected (epoch ms). */
    replacedAt: integer('replaced_at').notNull(),
    correlationId: text('correlation_id').notNull(),
    source: text('source').notNull(),
    sourceFile: text('source_file'),
    sourceSha256: text('source_sha256'),
    sourceRow: integer('source_row'),
    ingestedAt: integer('ingested_at').notNull(),
    projectedAt: integer('projected_at').notNull(),
    logPartition: integer('log_partition'),
    logOffset: integer('log_offset'),
  },
  (t) => [index('replaced_versions_by_event').on(t.eventId, t.id)]
)

/** The stored row's envelope that lineage keeps when the row is replaced. */
const SAVED = `correlation_id, source, source_file, source_sha256, source_row, ingested_at,
  projected_at, log_partition, log_offset`

/**
 * Copies a stream row's current version into `replaced_versions` (run before the upsert that
 * replaces it, with the replacing version's projection time).
 */
export const replacedVersionSaver = (db: { readonly sqlite: Database }, table: string) =>
  db.sqlite.prepare(
    `INSERT INTO replaced_versions (event_id, replaced_at, ${SAVED})
     SELECT event_id, $projectedAt, ${SAVED} FROM "${table}" WHERE event_id = $eventId`
  )
