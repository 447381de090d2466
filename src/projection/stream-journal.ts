import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { GridEvent } from '@/canonical'
import type { ProjectionDb } from './db'

/**
 * What this node projected, event by event, at its log position: the replay source of the live
 * stream (GET /api/v1/stream). Written in the projection's own transaction, with the checkpoint,
 * so after a crash (SIGKILL included) it holds exactly the events below the stored positions: a
 * client resuming with Last-Event-ID is replayed from here, then joins the live fan-out, with no
 * gap and no duplicate. One store serves both bus modes: Kafka offers no cheap "read partition p
 * from offset o" to kafkajs without a consumer group per resuming client, and a node streams only
 * what it projected anyway (a client never sees an event the API cannot yet answer).
 */
export const streamJournal = sqliteTable(
  'stream_journal',
  {
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    offset: integer('offset').notNull(),
    eventType: text('event_type').notNull(),
    /** Null for NEM-wide events and interconnector flows. */
    regionId: text('region_id'),
    /** The canonical JSON of the event, serialised once: every client is sent these bytes. */
    data: text('data').notNull(),
    /** Epoch ms of the projection transaction: the journal's retention counts from it. */
    projectedAt: integer('projected_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.topic, t.partition, t.offset] }),
    index('stream_journal_by_time').on(t.projectedAt),
  ]
)

/** Per partition, the first offset retention has not removed: a resume below it lost events. */
export const streamJournalFloor = sqliteTable(
  'stream_journal_floor',
  {
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    floor: integer('floor').notNull(),
  },
  (t) => [primaryKey({ columns: [t.topic, t.partition] })]
)

/** One journaled event, as the stream sends it. */
export interface JournalEntry {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly eventType: string
  readonly regionId: string | null
  readonly data: string
}

/** Writes inside the projector's transaction (the caller holds it). */
export function createJournalWriter(db: ProjectionDb) {
  const insert = db.sqlite.prepare(
    `INSERT OR IGNORE INTO stream_journal (topic, partition, offset, event_type, region_id, data, projected_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`
  )
  const raise = db.sqlite.prepare(
    `INSERT INTO stream_journal_floor (topic, partition, floor) VALUES (?, ?, ?)
     ON CONFLICT (topic, partition) DO UPDATE SET floor = MAX(floor, excluded.floor)`
  )
  return {
    write(topic: string, partition: number, offset: bigint, event: GridEvent, at: number) {
      const region = 'region_id' in event ? event.region_id : null
      insert.run(
        topic,
        partition,
        Number(offset),
        event.event_type,
        region,
        JSON.stringify(event),
        at
      )
    },
    /** Events below `floor` were projected without a journal row: a resume below it lost them. */
    raiseFloor(topic: string, partition: number, floor: bigint) {
      raise.run(topic, partition, Number(floor))
    },
  }
}

/** What the stream reads: a partition's events in an offset range, the floors, and retention. */
export interface StreamJournal {
  /** Events of one partition with `from <= offset < until`, in offset order, at most `limit`. */
  read(topic: string, partition: number, from: number, until: number, limit: number): JournalEntry[]
  /** The first retained offset of a partition (0 when retention never removed anything). */
  floor(topic: string, partition: number): number
  /** Removes what was projected before `before` (epoch ms), raising the floors first. */
  prune(before: number): number
}

export function createStreamJournal(db: ProjectionDb): StreamJournal {
  const read = db.sqlite.prepare(
    `SELECT topic, partition, offset, event_type AS eventType, region_id AS regionId, data
     FROM stream_journal WHERE topic = ? AND partition = ? AND offset >= ? AND offset < ?
     ORDER BY offset LIMIT ?`
  )
  const floor = db.sqlite.prepare(
    'SELECT floor FROM stream_journal_floor WHERE topic = ? AND partition = ?'
  )
  // Offsets grow with projection time within a partition, so the newest removed offset + 1 is
  // where the retained journal starts.
  const raise = db.sqlite.prepare(
    `INSERT INTO stream_journal_floor (topic, partition, floor)
     SELECT topic, partition, MAX(offset) + 1 FROM stream_journal WHERE projected_at < ?1
     GROUP BY topic, partition
     ON CONFLICT (topic, partition) DO UPDATE SET floor = MAX(floor, excluded.floor)`
  )
  const remove = db.sqlite.prepare('DELETE FROM stream_journal WHERE projected_at < ?')
  const prune = db.sqlite.transaction((before: number) => {
    raise.run(before)
    return remove.run(before).changes
  })
  return {
    read: (topic, partition, from, until, limit) =>
      read.all(topic, partition, from, until, limit) as JournalEntry[],
    floor: (topic, partition) =>
      (floor.get(topic, partition) as { floor: number } | null)?.floor ?? 0,
    prune: (before) => prune(before),
  }
}
