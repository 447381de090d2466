import { eq, sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { DeadLetter } from '@/canonical'
import { toUtcIsoMs } from '@/lib'
import type { ProjectionDb } from '../db'
import {
  createListExport,
  createPager,
  type ExportQuery,
  type Page,
  type RangeQuery,
  type RowStream,
} from './pager'
import { upsertStatement } from './read-model'

/** Rejected inputs of every stream (not an event type: the `dlq.<topic>` topics). */
export const deadLetters = sqliteTable(
  'dead_letters',
  {
    id: text('id').primaryKey(),
    topic: text('topic').notNull(),
    code: text('code').notNull(),
    reason: text('reason').notNull(),
    correlationId: text('correlation_id'),
    source: text('source').notNull(),
    sourceFile: text('source_file'),
    row: integer('row'),
    raw: text('raw').notNull(),
    failedAt: integer('failed_at').notNull(),
  },
  (t) => [
    index('dead_letters_by_time').on(t.failedAt, t.id),
    // `/api/v1/dlq?topic=`: a rare topic's page is a range, not a walk past every other topic's.
    index('dead_letters_by_topic_time').on(t.topic, t.failedAt, t.id),
    // `/api/v1/trace/{correlation_id}`: dead letters are few, so a full index is cheap.
    index('dead_letters_by_correlation').on(t.correlationId),
  ]
)
type DeadLetterRow = typeof deadLetters.$inferSelect

const toDeadLetter = (row: DeadLetterRow): DeadLetter => ({
  dead_letter_id: row.id,
  topic: row.topic,
  code: row.code,
  reason: row.reason,
  correlation_id: row.correlationId,
  source: row.source,
  source_file: row.sourceFile,
  row: row.row,
  raw: row.raw,
  failed_at: toUtcIsoMs(row.failedAt),
})

/** Idempotent: a dead letter's id is deterministic, so a redelivered one is recorded once. */
export function createDeadLetterWriter(db: ProjectionDb): (record: DeadLetter) => void {
  const insert = upsertStatement(db, deadLetters, 'ignore')
  return (record) => {
    insert.run({
      id: record.dead_letter_id,
      topic: record.topic,
      code: record.code,
      reason: record.reason,
      correlationId: record.correlation_id,
      source: record.source,
      sourceFile: record.source_file,
      row: record.row,
      raw: record.raw,
      failedAt: Date.parse(record.failed_at),
    })
  }
}

type DeadLetterQuery = RangeQuery & { topic?: string }

export interface DeadLetterQueries {
  list(q: DeadLetterQuery): Page<DeadLetter>
  /** Every dead letter of the list (or the first `limit`), streamed: the CSV export. */
  export(q: ExportQuery<DeadLetterQuery>): RowStream<DeadLetter>
  byId(id: string): DeadLetter | undefined
  /** Dead letters of one correlation id, oldest first (at most `limit`): the trace. */
  byCorrelation(correlationId: string, limit: number): DeadLetter[]
}

export function createDeadLetterQueries(db: ProjectionDb): DeadLetterQueries {
  const filters = { topic: deadLetters.topic }
  const { failedAt, id } = deadLetters
  const page = createPager<DeadLetterRow, DeadLetter, DeadLetterQuery>(
    db,
    deadLetters,
    failedAt,
    id,
    filters,
    toDeadLetter,
    (r) => ({ t: r.failedAt, id: r.id })
  )
  const byCorrelation = db.orm
    .select()
    .from(deadLetters)
    .where(eq(deadLetters.correlationId, sql.placeholder('correlationId')))
    .orderBy(failedAt, id)
    .limit(sql.placeholder('limit'))
    .prepare()
  return {
    list: (q) => page(q),
    byCorrelation: (correlationId, limit) =>
      byCorrelation.all({ correlationId, limit }).map(toDeadLetter),
    export: createListExport(db, deadLetters, failedAt, id, filters, toDeadLetter),
    byId(id) {
      const row = db.orm.select().from(deadLetters).where(eq(deadLetters.id, id)).get()
      return row ? toDeadLetter(row) : undefined
    },
  }
}
