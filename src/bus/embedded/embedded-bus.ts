import { Database } from 'bun:sqlite'
import { type DeadLetter, DLQ_TOPICS, EVENT_TOPICS, type GridEvent } from '@/canonical'
import { backoffMs, createGroupCommit, partitionFor, sleep } from '@/lib'
import type { Logger } from '@/observability'
import type {
  BusHealth,
  ConsumedRecord,
  Consumer,
  EventBus,
  PublishOptions,
  RawMessage,
  Subscription,
} from '../port'
import { partitionKey } from '../port'
import { decodeMessage, encodeDeadLetter, encodeEvent, type OutgoingMessage } from '../serde'
import { createWakeup, type Wakeup } from '../wakeup'

export interface EmbeddedBusOptions {
  /** Absolute path of the log's SQLite file, or ':memory:'. */
  readonly path: string
  readonly log: Logger
  readonly now?: () => number
  /** Kafka's defaults in DESIGN.md: 3 partitions for event topics, 1 for dead letters, 7 days. */
  readonly partitions?: number
  readonly retentionMs?: number
  /**
   * Records per delivered batch (one projection transaction). 20,000: a rebuild from the log commits
   * (and rewrites the index pages it touched) a quarter as often as with 5,000: a 300k rebuild ~25 %
   * faster (README, Performance), for ~90 MB more heap while it lasts; a live node's batches are small.
   */
  readonly maxBatch?: number
  /** Fallback poll when no in-process publish wakes the consumer. */
  readonly idlePollMs?: number
  /** SQLite durability of a commit; FULL (the default) outlives a power cut. NORMAL: benchmarks only. */
  readonly synchronous?: 'FULL' | 'NORMAL'
  /** SQLite page cache of the connection, KiB (SQLITE_CACHE_KB); unset: SQLite's 2000. */
  readonly cacheKb?: number
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_partitions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_messages (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  key TEXT, value TEXT NOT NULL, headers TEXT NOT NULL, ts INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_messages_ts ON log_messages (ts);
CREATE TABLE IF NOT EXISTS log_group_offsets (
  group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS source_checkpoints (
  source TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_at INTEGER NOT NULL);
`

/**
 * An event log in SQLite with Kafka's semantics: named topics with fixed partition counts, a key
 * decides the partition (murmur2, as kafkajs), offsets are dense per partition, consumers get
 * at-least-once delivery from the position they ask for, and messages expire after the retention.
 */
export function createEmbeddedBus(options: EmbeddedBusOptions): EventBus {
  const now = options.now ?? Date.now
  const log = options.log.child({ component: 'bus.embedded' })
  const db = openLogDb(options)
  const partitionCount = seedPartitions(db, options.partitions ?? 3)
  const wakeup = createWakeup()
  const write = createLogWriter(db, partitionCount, now, wakeup)
  const retentionTimer = startRetention(db, options.retentionMs ?? 7 * 24 * 3600 * 1000, now, log)
  const readAllNext = db
    .prepare('SELECT topic, partition, next_offset FROM log_partitions')
    .safeIntegers(true)
  const selectCheckpoint = db.prepare('SELECT cursor FROM source_checkpoints WHERE source = ?')
  const consuming: ConsumerDeps = {
    reader: createLogReader(db, options.maxBatch ?? 20_000, now),
    write,
    wakeup,
    now,
    log,
    idlePollMs: options.idlePollMs ?? 1000,
  }

  let closed = false
  const consumers = new Set<Consumer>()
  return {
    kind: 'embedded',
    async publish(events: readonly GridEvent[], opts?: PublishOptions) {
      await write(events.map(encodeEvent), opts?.checkpoint)
    },
    async deadLetter(records: readonly DeadLetter[], opts?: PublishOptions) {
      await write(records.map(encodeDeadLetter), opts?.checkpoint)
    },
    async readSourceCheckpoint(source) {
      return (selectCheckpoint.get(source) as { cursor: string } | null)?.cursor
    },
    isLeader: () => !closed,
    async endOffsets(topics) {
      const wanted = new Set(topics)
      const result = new Map<string, bigint>()
      for (const row of readAllNext.all() as {
        topic: string
        partition: bigint
        next_offset: bigint
      }[]) {
        if (wanted.has(row.topic))
          result.set(partitionKey(row.topic, Number(row.partition)), row.next_offset)
      }
      return result
    },
    health(): BusHealth {
      return { kind: 'embedded', connected: !closed, outboxDepth: 0 }
    },
    async subscribe(sub: Subscription): Promise<Consumer> {
      const positions = startPositions(sub, partitionCount)
      const consumer = startConsumer(consuming, sub, positions, () => consumers.delete(consumer))
      consumers.add(consumer)
      return consumer
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(retentionTimer)
      await Promise.all([...consumers].map((c) => c.stop()))
      db.close()
    },
  }
}

function openLogDb(options: EmbeddedBusOptions): Database {
  const db = new Database(options.path, { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  // The embedded log is the system of record (the projection is rebuilt from it): a commit, and so
  // a 202, must survive a power cut, not only a process crash. FULL fsyncs the WAL per commit.
  db.run(`PRAGMA synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`)
  db.run('PRAGMA busy_timeout = 5000')
  if (options.cacheKb !== undefined) db.run(`PRAGMA cache_size = -${options.cacheKb}`) // KiB
  db.run(SCHEMA)
  return db
}

/** The topics and their partition counts, each partition given a row (next offset 0) if it has none. */
function seedPartitions(db: Database, eventPartitions: number): ReadonlyMap<string, number> {
  const partitionCount = new Map<string, number>()
  for (const topic of EVENT_TOPICS) partitionCount.set(topic, eventPartitions)
  for (const topic of DLQ_TOPICS) partitionCount.set(topic, 1)
  const seed = db.prepare(
    'INSERT OR IGNORE INTO log_partitions (topic, partition, next_offset) VALUES (?, ?, 0)'
  )
  db.transaction(() => {
    for (const [topic, count] of partitionCount) for (let p = 0; p < count; p++) seed.run(topic, p)
  })()
  return partitionCount
}

type Write = (
  messages: readonly OutgoingMessage[],
  checkpoint?: PublishOptions['checkpoint']
) => Promise<void>

/**
 * Appends messages (and the source checkpoint) in one transaction, each at the next offset of the
 * partition its key picks, then wakes this process's consumers.
 */
function createLogWriter(
  db: Database,
  partitionCount: ReadonlyMap<string, number>,
  now: () => number,
  wakeup: Wakeup
): Write {
  // Offsets are read inside each write transaction, never cached: another process (a backfill, a
  // `gridpulse` CLI command) may append to the same log file.
  const readNext = db
    .prepare('SELECT next_offset FROM log_partitions WHERE topic = ? AND partition = ?')
    .safeIntegers(true)
  const insertMessage = db.prepare(
    'INSERT INTO log_messages (topic, partition, offset, key, value, headers, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'
  )
  const advance = db.prepare(
    'UPDATE log_partitions SET next_offset = ? WHERE topic = ? AND partition = ?'
  )
  const upsertCheckpoint = db.prepare(
    `INSERT INTO source_checkpoints (source, cursor, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
  )
  const append = db.transaction(
    (messages: readonly OutgoingMessage[], checkpoint?: PublishOptions['checkpoint']) => {
      const ts = now()
      const next = new Map<string, bigint>()
      for (const m of messages) {
        const count = partitionCount.get(m.topic)
        if (count === undefined) throw new Error(`unknown topic ${m.topic}`)
        const partition = partitionFor(m.key, count)
        const pk = partitionKey(m.topic, partition)
        const offset =
          next.get(pk) ?? (readNext.get(m.topic, partition) as { next_offset: bigint }).next_offset
        insertMessage.run(m.topic, partition, offset, m.key, m.value, JSON.stringify(m.headers), ts)
        next.set(pk, offset + 1n)
      }
      for (const [pk, offset] of next) {
        const [topic, partition] = splitKey(pk)
        advance.run(offset, topic, partition)
      }
      if (checkpoint) upsertCheckpoint.run(checkpoint.source, checkpoint.cursor, ts)
    }
  )

  type Item = { messages: readonly OutgoingMessage[]; checkpoint?: PublishOptions['checkpoint'] }
  const appendAll = db.transaction((writes: readonly Item[]) => {
    for (const w of writes) append(w.messages, w.checkpoint)
  })
  // Concurrent publishes (API requests) share one transaction and so one fsync. IMMEDIATE takes the
  // write lock up front, so two processes cannot hand out the same offset.
  const commit = createGroupCommit<Item>({
    commitAll: (writes) => appendAll.immediate(writes),
    commitOne: (w) => append.immediate(w.messages, w.checkpoint),
  })
  return async (messages, checkpoint) => {
    if (messages.length === 0 && !checkpoint) return
    await commit({ messages, checkpoint })
    if (messages.length > 0) wakeup.wake()
  }
}

/** Deletes messages older than the retention, hourly. */
function startRetention(db: Database, retentionMs: number, now: () => number, log: Logger) {
  const expire = db.prepare('DELETE FROM log_messages WHERE ts < ?')
  const timer = setInterval(() => {
    try {
      const removed = expire.run(now() - retentionMs).changes
      if (removed > 0) log.info({ removed }, 'expired messages past retention')
    } catch (error) {
      log.error({ err: error }, 'retention sweep failed')
    }
  }, 3600_000)
  timer.unref?.()
  return timer
}

interface LogRow {
  readonly offset: bigint
  readonly key: string | null
  readonly value: string
  readonly headers: string
  readonly ts: bigint
}

/** What consumers read through: a partition's messages from a position, and their group's offsets. */
interface LogReader {
  /** At most one batch from `from`; a position that retention deleted restarts at the log start. */
  read(topic: string, partition: number, from: bigint): LogRow[]
  /**
   * Records a group's position (bookkeeping: a consumer resumes from its own store). While a
   * consumer catches up (`full`: the batch had `maxBatch` rows) at most once a second: each write
   * is an fsync of the log, which would otherwise cap a projection rebuild at the disk's fsync rate.
   */
  commitGroupOffset(
    groupId: string,
    topic: string,
    partition: number,
    next: bigint,
    full: boolean
  ): void
  readonly maxBatch: number
}

function createLogReader(db: Database, maxBatch: number, now: () => number): LogReader {
  const committedAt = new Map<string, number>()
  const readMessages = db
    .prepare(
      `SELECT offset, key, value, headers, ts FROM log_messages
       WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?`
    )
    .safeIntegers(true)
  const firstOffset = db
    .prepare('SELECT MIN(offset) AS first FROM log_messages WHERE topic = ? AND partition = ?')
    .safeIntegers(true)
  const commitGroupOffset = db.prepare(
    `INSERT INTO log_group_offsets (group_id, topic, partition, next_offset) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = excluded.next_offset`
  )
  return {
    read(topic, partition, from) {
      const earliest = (firstOffset.get(topic, partition) as { first: bigint | null }).first
      // Like auto.offset.reset=earliest: a position that retention deleted restarts at the log start.
      const start = earliest !== null && from < earliest ? earliest : from
      return readMessages.all(topic, partition, start, maxBatch) as LogRow[]
    },
    commitGroupOffset(groupId, topic, partition, next, full) {
      const key = `${groupId}/${topic}/${partition}`
      if (full && now() - (committedAt.get(key) ?? 0) < 1000) return
      commitGroupOffset.run(groupId, topic, partition, next)
      committedAt.set(key, now())
    },
    maxBatch,
  }
}

/**
 * Where a subscription starts, per partition of its topics. The consumer's own store decides;
 * nothing stored (a new or rebuilt projection) means the log's start, whatever the group committed
 * before (as the Kafka adapter does).
 */
function startPositions(
  sub: Subscription,
  partitionCount: ReadonlyMap<string, number>
): Map<string, bigint> {
  const positions = new Map<string, bigint>()
  for (const topic of sub.topics) {
    const count = partitionCount.get(topic)
    if (count === undefined) throw new Error(`unknown topic ${topic}`)
    for (let p = 0; p < count; p++)
      positions.set(partitionKey(topic, p), sub.startOffset(topic, p) ?? 0n)
  }
  return positions
}

/** What every consumer of one embedded log shares. */
interface ConsumerDeps {
  readonly reader: LogReader
  readonly write: Write
  readonly wakeup: Wakeup
  readonly now: () => number
  readonly log: Logger
  /** Fallback poll when no in-process publish wakes the consumer. */
  readonly idlePollMs: number
}

/** Polls the subscription's partitions until stopped; a failed batch is retried after a backoff. */
function startConsumer(
  deps: ConsumerDeps,
  sub: Subscription,
  positions: Map<string, bigint>,
  onStopped: () => void
): Consumer {
  const controller = new AbortController()
  const { signal } = controller
  const clog = deps.log.child({ 'consumer.group': sub.groupId })
  const loop = (async () => {
    let failures = 0
    while (!signal.aborted) {
      try {
        const waitFor = deps.wakeup.next()
        const delivered = await pollOnce(deps, sub, positions, clog, signal)
        failures = 0
        if (!delivered) await Promise.race([waitFor, sleep(deps.idlePollMs, signal)])
      } catch (error) {
        failures++
        clog.error(
          { err: error, failures },
          'consumer batch failed; retrying from the last checkpoint'
        )
        await sleep(backoffMs(failures, 200, 30_000), signal)
      }
    }
  })()
  return {
    async stop() {
      controller.abort()
      deps.wakeup.wake()
      await loop
      onStopped()
    },
  }
}

/** One pass over the partitions: a batch from each that has messages. True if any was delivered. */
async function pollOnce(
  deps: ConsumerDeps,
  sub: Subscription,
  positions: Map<string, bigint>,
  clog: Logger,
  signal: AbortSignal
): Promise<boolean> {
  let delivered = false
  for (const [pk, position] of positions) {
    if (signal.aborted) break
    const [topic, partition] = splitKey(pk)
    const rows = deps.reader.read(topic, partition, position)
    if (rows.length === 0) continue
    const { records, poison } = decodeRows(rows, topic, partition, deps.now, clog)
    // Poison first: once the batch's checkpoint moves past it, the DLQ must already hold it.
    if (poison.length > 0) {
      await deps.write(poison.map(encodeDeadLetter))
      clog.warn({ 'kafka.topic': topic, count: poison.length }, 'poison messages sent to the DLQ')
    }
    await sub.onBatch({ topic, partition, records })
    const last = rows[rows.length - 1]!.offset + 1n
    positions.set(pk, last)
    deps.reader.commitGroupOffset(
      sub.groupId,
      topic,
      partition,
      last,
      rows.length === deps.reader.maxBatch
    )
    delivered = true
  }
  return delivered
}

/** Parses log rows into the canonical model; the poison among them as dead letters. */
function decodeRows(
  rows: readonly LogRow[],
  topic: string,
  partition: number,
  now: () => number,
  clog: Logger
) {
  const records: ConsumedRecord[] = []
  const poison: DeadLetter[] = []
  for (const row of rows) {
    const message: RawMessage = {
      offset: row.offset,
      key: row.key,
      value: row.value,
      headers: JSON.parse(row.headers),
      timestamp: Number(row.ts),
    }
    const decoded = decodeMessage(topic, partition, message, now())
    records.push(decoded.record)
    if (decoded.poison) poison.push(decoded.poison)
    else if (decoded.record.kind === 'skipped')
      clog.error(
        { 'kafka.topic': topic, 'kafka.offset': String(row.offset) },
        'unreadable dead letter skipped'
      )
  }
  return { records, poison }
}

function splitKey(pk: string): [string, number] {
  const slash = pk.lastIndexOf('/')
  return [pk.slice(0, slash), Number(pk.slice(slash + 1))]
}
