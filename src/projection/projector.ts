import { and, eq, sql } from 'drizzle-orm'
import type { ConsumedBatch } from '@/bus'
import { eventTimeOf, type GridEventType } from '@/canonical'
import { createApplier } from './apply'
import type { ProjectionDb } from './db'
import { checkpoints } from './schema'
import { createJournalWriter } from './stream-journal'
import { createStatsFlush } from './stats-table'

export interface Projector {
  /** Applies a batch and its checkpoint in ONE transaction; records below the checkpoint are skipped. */
  project(batch: ConsumedBatch): Promise<void>
  /** The stored next offset for a partition: where consumption resumes after a restart or rebalance. */
  startOffset(topic: string, partition: number): bigint | undefined
}

/**
 * The projector: the read model and the consumer's positions commit together, so a batch that is
 * delivered again after a crash or a rebalance changes nothing (effectively-once).
 */
export function createProjector(
  db: ProjectionDb,
  consumer: string,
  now: () => number = Date.now
): Projector {
  const applier = createApplier(db)
  const journal = createJournalWriter(db)
  const flushStats = createStatsFlush(db)
  const read = db.orm
    .select({ nextOffset: checkpoints.nextOffset })
    .from(checkpoints)
    .where(
      and(
        eq(checkpoints.consumer, consumer),
        eq(checkpoints.topic, sql.placeholder('topic')),
        eq(checkpoints.partition, sql.placeholder('partition'))
      )
    )
    .prepare()
  const write = db.orm
    .insert(checkpoints)
    .values({
      consumer,
      topic: sql.placeholder('topic'),
      partition: sql.placeholder('partition'),
      nextOffset: sql.placeholder('nextOffset'),
    })
    .onConflictDoUpdate({
      target: [checkpoints.consumer, checkpoints.topic, checkpoints.partition],
      set: { nextOffset: sql.raw('excluded.next_offset') },
    })
    .prepare()

  const startOffset = (topic: string, partition: number): bigint | undefined => {
    const row = read.get({ topic, partition })
    return row?.nextOffset === undefined ? undefined : BigInt(row.nextOffset)
  }

  const applyBatch = db.sqlite.transaction((batch: ConsumedBatch) => {
    const stored = startOffset(batch.topic, batch.partition) ?? 0n
    const projectedAt = now()
    const spans = new Map<GridEventType, { from: number; to: number }>()
    let last: bigint | undefined
    for (const record of batch.records) {
      if (record.offset < stored) continue // already applied: redelivery after a crash or rebalance
      if (record.kind === 'event') {
        applier.applyEvent(record.event, projectedAt, batch.partition, record.offset)
        journal(batch.topic, batch.partition, record.offset, record.event, projectedAt)
        widen(spans, record.event.event_type, Date.parse(eventTimeOf(record.event)))
      } else if (record.kind === 'dead_letter') applier.applyDeadLetter(record.deadLetter)
      last = record.offset
    }
    flushStats()
    if (last !== undefined)
      write.run({ topic: batch.topic, partition: batch.partition, nextOffset: Number(last + 1n) })
    return spans
  })

  return {
    async project(batch) {
      const spans = applyBatch(batch)
      db.version.current++
      // After the commit: a cache refilled from now on sees the batch.
      for (const [type, span] of spans) db.changes.record(type, span.from, span.to)
    },
    startOffset,
  }
}

function widen(
  spans: Map<GridEventType, { from: number; to: number }>,
  type: GridEventType,
  t: number
) {
  const span = spans.get(type)
  if (!span) spans.set(type, { from: t, to: t })
  else {
    span.from = Math.min(span.from, t)
    span.to = Math.max(span.to, t)
  }
}
