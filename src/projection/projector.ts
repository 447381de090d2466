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
  now: () => number = Date.now,
  options: ProjectorOptions = {}
): Projector {
  const applier = createApplier(db)
  const journal = createJournalWriter(db)
  const catchUp = createCatchUp(db, options.catchUpCacheKb ?? CATCH_UP_CACHE_KB)
  const journalRetentionMs = options.journalRetentionMs ?? Number.POSITIVE_INFINITY
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
    // Logged before the journal's window: no resuming client can ask for it (see stream-journal.ts).
    const journalFrom = projectedAt - journalRetentionMs
    const spans = new Map<GridEventType, { from: number; to: number }>()
    let last: bigint | undefined
    let unjournaled: bigint | undefined
    for (const record of batch.records) {
      if (record.offset < stored) continue // already applied: redelivery after a crash or rebalance
      if (record.kind === 'event') {
        applier.applyEvent(record.event, projectedAt, batch.partition, record.offset)
        if ((record.loggedAt ?? projectedAt) < journalFrom) unjournaled = record.offset
        else journal.write(batch.topic, batch.partition, record.offset, record.event, projectedAt)
        widen(spans, record.event.event_type, Date.parse(eventTimeOf(record.event)))
      } else if (record.kind === 'dead_letter') applier.applyDeadLetter(record.deadLetter)
      last = record.offset
    }
    if (unjournaled !== undefined)
      journal.raiseFloor(batch.topic, batch.partition, unjournaled + 1n)
    flushStats()
    if (last !== undefined)
      write.run({ topic: batch.topic, partition: batch.partition, nextOffset: Number(last + 1n) })
    return spans
  })

  return {
    async project(batch) {
      catchUp(batch.records.length)
      const spans = applyBatch(batch)
      db.version.current++
      // After the commit: a cache refilled from now on sees the batch.
      for (const [type, span] of spans) db.changes.record(type, span.from, span.to)
    },
    startOffset,
  }
}

/** Records in a batch from which the projector takes itself to be catching up (a rebuild, a backlog). */
const CATCH_UP_RECORDS = 1000
/** The page cache while catching up, KiB: a rebuild's index pages stay in memory between batches. */
const CATCH_UP_CACHE_KB = 65_536

export interface ProjectorOptions {
  /** SQLite page cache while catching up, KiB (PROJECTION_CATCHUP_CACHE_KB); the connection's own (SQLITE_CACHE_KB) otherwise. */
  readonly catchUpCacheKb?: number
  /**
   * The stream journal's window (STREAM_RETENTION_HOURS): an event logged before it gets no journal
   * row (a rebuild from a long log), the partition's floor is raised past it instead. Unset: all.
   */
  readonly journalRetentionMs?: number
}

/**
 * While batches come full (a rebuild, a backlog after downtime) the projection's inserts land all
 * over indexes far larger than the configured page cache, and every commit rewrites the pages it
 * read back: a larger cache pays for itself then. It ends at the first small batch, or when no
 * batch came for a second (a rebuild's last batch may be the last one for a while): the cache goes
 * back to SQLITE_CACHE_KB (SQLite frees the excess pages) and one full GC returns the heap the big
 * batches left (a 100k rebuild: ~330 → ~80 MB RSS; JSC would otherwise keep it under read load).
 */
function createCatchUp(db: ProjectionDb, catchUpKb: number) {
  const pageSize = (db.sqlite.query('PRAGMA page_size').get() as { page_size: number }).page_size
  let configured: number | undefined
  let idle: Timer | undefined
  const end = () => {
    clearTimeout(idle)
    if (configured === undefined) return
    try {
      db.sqlite.run(`PRAGMA cache_size = ${configured}`)
    } catch {
      // Closed meanwhile (shutdown): nothing left to shrink.
    }
    configured = undefined
    Bun.gc(true)
  }
  return (records: number) => {
    if (records < CATCH_UP_RECORDS) return end()
    if (configured === undefined) {
      configured = (db.sqlite.query('PRAGMA cache_size').get() as { cache_size: number }).cache_size
      // Negative: KiB; positive: pages (SQLite's default is -2000).
      const configuredKb = configured < 0 ? -configured : (configured * pageSize) / 1024
      if (configuredKb < catchUpKb) db.sqlite.run(`PRAGMA cache_size = -${catchUpKb}`)
    }
    clearTimeout(idle)
    idle = setTimeout(end, 1000)
    idle.unref()
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
