import { Database } from 'bun:sqlite'
import { createGroupCommit } from '@/lib'
import type { SourceCheckpoint } from '../port'
import type { OutgoingMessage } from '../serde'
import { CHECKPOINT_TOPIC } from './topics'

/** A row waiting to be relayed to Kafka. `topic` is the logical name (no prefix). */
export interface OutboxRow {
  readonly id: number
  readonly topic: string
  readonly key: string | null
  readonly value: string
  /** JSON object of string headers. */
  readonly headers: string
}

export interface StoredCheckpoint {
  readonly cursor: string
  readonly updatedAt: number
}

/** The value of a record on the checkpoint control topic (key = source). */
export interface CheckpointRecord {
  readonly source: string
  readonly cursor: string
  readonly updated_at: number
  readonly node_id: string
}

/**
 * Outbox schema. `id` is the relay order (AUTOINCREMENT: never reused, so a row deleted after it
 * was sent can never be confused with a newer one). Sent rows are deleted, so the table holds
 * exactly the backlog. `source_checkpoints` is this node's own view of each source's cursor; the
 * cluster-wide view is the compacted checkpoint topic. `kafka_outbox_parked` keeps the rare row
 * Kafka refuses for good (larger than the topic's message size limit), so that it cannot block
 * the rows behind it; an operator can inspect and replay it from there.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS kafka_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  key TEXT,
  value TEXT NOT NULL,
  headers TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS source_checkpoints (
  source TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kafka_outbox_parked (
  id INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  key TEXT,
  value TEXT NOT NULL,
  headers TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  parked_at INTEGER NOT NULL,
  error TEXT NOT NULL);
`

export interface Outbox {
  /**
   * Durably accepts messages and (optionally) the source checkpoint that produced them, in ONE
   * transaction. The checkpoint is also queued for the control topic, after the messages.
   */
  append(messages: readonly OutgoingMessage[], checkpoint?: SourceCheckpoint): Promise<void>
  /** The oldest `limit` rows, in relay order. Memory stays bounded however large the backlog is. */
  page(limit: number): OutboxRow[]
  /** Deletes every row up to and including `lastId` (they are on Kafka). */
  remove(lastId: number): void
  /** Moves a row Kafka will never accept out of the way (kept, with the error). */
  park(row: OutboxRow, error: string): void
  /** Rows not yet relayed. */
  depth(): number
  /** Rows parked since this process started plus those found at start. */
  parked(): number
  readCheckpoint(source: string): StoredCheckpoint | undefined
  close(): void
}

export interface OutboxOptions {
  readonly path: string
  readonly nodeId: string
  readonly now?: () => number
  /** SQLite durability of a commit; FULL (the default) outlives a power cut. NORMAL: benchmarks only. */
  readonly synchronous?: 'FULL' | 'NORMAL'
  /** SQLite page cache of the connection, KiB (SQLITE_CACHE_KB); unset: SQLite's 2000. */
  readonly cacheKb?: number
}

export function createOutbox(options: OutboxOptions): Outbox {
  const now = options.now ?? Date.now
  const db = openOutboxDb(options)
  const append = createAppend(db, options.nodeId, now)
  const parking = createParking(db, now)
  const selectCheckpoint = db.prepare(
    'SELECT cursor, updated_at FROM source_checkpoints WHERE source = ?'
  )
  const selectPage = db.prepare(
    'SELECT id, topic, key, value, headers FROM kafka_outbox ORDER BY id LIMIT ?'
  )
  const deleteUpTo = db.prepare('DELETE FROM kafka_outbox WHERE id <= ?')
  // Ids are dense (AUTOINCREMENT; a rolled-back insert gives its id back) and rows leave from the
  // low end, so the span is the backlog: two index lookups instead of COUNT(*)'s full scan, and
  // right even while another process (`gridpulse backfill`) appends to the same outbox. A parked
  // row in the middle overstates it by one until the rows before it are relayed.
  const span = db.prepare('SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) AS n FROM kafka_outbox')

  return {
    append,
    page: (limit) => selectPage.all(limit) as OutboxRow[],
    remove(lastId) {
      deleteUpTo.run(lastId)
    },
    park: parking.park,
    depth: () => (span.get() as { n: number }).n,
    parked: parking.count,
    readCheckpoint(source) {
      const row = selectCheckpoint.get(source) as { cursor: string; updated_at: number } | null
      return row ? { cursor: row.cursor, updatedAt: row.updated_at } : undefined
    },
    close: () => db.close(),
  }
}

function openOutboxDb(options: OutboxOptions): Database {
  const db = new Database(options.path, { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  // A 202 promises the event is kept: FULL fsyncs the WAL on every commit, so an accepted event
  // survives an OS crash or a power cut too, not only a process crash (NORMAL's guarantee).
  db.run(`PRAGMA synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`)
  db.run('PRAGMA busy_timeout = 5000')
  if (options.cacheKb !== undefined) db.run(`PRAGMA cache_size = -${options.cacheKb}`) // KiB
  db.run(SCHEMA)
  return db
}

/** `Outbox.append`: messages, the source checkpoint and its control-topic record in one transaction. */
function createAppend(db: Database, nodeId: string, now: () => number): Outbox['append'] {
  const insert = db.prepare(
    'INSERT INTO kafka_outbox (topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?)'
  )
  const upsertCheckpoint = db.prepare(
    `INSERT INTO source_checkpoints (source, cursor, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
  )
  const append = db.transaction(
    (messages: readonly OutgoingMessage[], checkpoint?: SourceCheckpoint) => {
      const ts = now()
      for (const m of messages) insert.run(m.topic, m.key, m.value, JSON.stringify(m.headers), ts)
      if (checkpoint) {
        upsertCheckpoint.run(checkpoint.source, checkpoint.cursor, ts)
        const record: CheckpointRecord = {
          source: checkpoint.source,
          cursor: checkpoint.cursor,
          updated_at: ts,
          node_id: nodeId,
        }
        insert.run(
          CHECKPOINT_TOPIC,
          checkpoint.source,
          JSON.stringify(record),
          JSON.stringify({ 'content-type': 'application/json' }),
          ts
        )
      }
    }
  )

  type Write = { messages: readonly OutgoingMessage[]; checkpoint?: SourceCheckpoint }
  const appendAll = db.transaction((writes: readonly Write[]) => {
    for (const w of writes) append(w.messages, w.checkpoint)
  })
  // Concurrent appends (API requests) share one transaction and so one fsync.
  const commit = createGroupCommit<Write>({
    commitAll: (writes) => appendAll(writes),
    commitOne: (w) => append(w.messages, w.checkpoint),
  })
  return async (messages, checkpoint) => {
    if (messages.length === 0 && !checkpoint) return
    await commit({ messages, checkpoint })
  }
}

/** `Outbox.park` and `Outbox.parked`: rows moved to kafka_outbox_parked, counted from start-up. */
function createParking(db: Database, now: () => number) {
  const parkRow = db.transaction((row: OutboxRow, error: string) => {
    db.query(
      `INSERT OR REPLACE INTO kafka_outbox_parked (id, topic, key, value, headers, created_at, parked_at, error)
       SELECT id, topic, key, value, headers, created_at, ?, ? FROM kafka_outbox WHERE id = ?`
    ).run(now(), error.slice(0, 2_000), row.id)
    return db.query('DELETE FROM kafka_outbox WHERE id = ?').run(row.id).changes
  })
  let parked = (db.query('SELECT COUNT(*) AS n FROM kafka_outbox_parked').get() as { n: number }).n
  return {
    park(row: OutboxRow, error: string) {
      parked += parkRow(row, error)
    },
    count: () => parked,
  }
}
