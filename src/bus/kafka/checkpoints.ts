import type { Consumer, Kafka, KafkaMessage } from 'kafkajs'
import type { Logger } from '@/observability'
import type { CheckpointRecord, StoredCheckpoint } from './outbox'

export interface CheckpointViewOptions {
  readonly kafka: Kafka
  /** Physical name of the compacted checkpoint topic (one partition). */
  readonly topic: string
  /** A group of its own (never committed): every start reads the topic from the beginning. */
  readonly groupId: string
  /** The topic's log-end offset now. */
  readonly endOffset: () => Promise<bigint>
  readonly log: Logger
  readonly timeoutMs?: number
}

export interface CheckpointView {
  /** The newest cursor any node published for `source`, after reading the topic to its end once per term. */
  read(source: string): Promise<StoredCheckpoint | undefined>
  /** Forces the next read to catch up with the topic's end again (this node just became the leader). */
  invalidate(): void
  stop(): Promise<void>
}

/** Newer of two checkpoints by their write time; the local one wins a tie. */
export const newerCheckpoint = (
  local: StoredCheckpoint | undefined,
  remote: StoredCheckpoint | undefined
) => (!remote || (local && local.updatedAt >= remote.updatedAt) ? local : remote)

/**
 * This node's view of the cluster-wide source checkpoints: a consumer tails the compacted
 * `gridpulse.source-checkpoints` topic (started on first use) and keeps the newest cursor per source
 * in memory (one entry per source). A read first waits until the consumer has reached the topic's
 * end as it was at that moment, so a new leader resumes from whatever the old leader published.
 */
export function createCheckpointView(options: CheckpointViewOptions): CheckpointView {
  const reader: Reader = {
    remote: new Map(),
    position: 0n,
    consumer: undefined,
    starting: undefined,
    synced: false,
    stopped: false,
    waiters: new Set(),
  }
  let syncing: Promise<void> | undefined
  return {
    async read(source) {
      if (!reader.synced) {
        syncing ??= syncToEnd(reader, options).finally(() => {
          syncing = undefined
        })
        await syncing
        reader.synced = true
      }
      return reader.remote.get(source)
    },
    invalidate() {
      reader.synced = false
    },
    async stop() {
      reader.stopped = true
      await reader.starting?.catch(() => {})
      await reader.consumer?.disconnect()
    },
  }
}

/** The checkpoint view's state: what the tailing consumer has read so far, and who waits for more. */
interface Reader {
  /** Newest cursor per source. */
  readonly remote: Map<string, StoredCheckpoint>
  /** Next offset the consumer will read. */
  position: bigint
  consumer: Consumer | undefined
  /** The consumer's start, shared by concurrent reads; undefined until the first or after a crash. */
  starting: Promise<void> | undefined
  /** The topic was read to its end since the last {@link CheckpointView.invalidate}. */
  synced: boolean
  stopped: boolean
  /** Notified after every batch the consumer handled. */
  readonly waiters: Set<() => void>
}

/** Waits until the consumer has read the topic up to its end offset as of now. */
async function syncToEnd(reader: Reader, options: CheckpointViewOptions) {
  const timeoutMs = options.timeoutMs ?? 30_000
  const end = await options.endOffset()
  if (end === 0n) return
  await startReader(reader, options)
  const deadline = Date.now() + timeoutMs
  while (reader.position < end) {
    if (reader.stopped) throw new Error('checkpoint view stopped')
    if (Date.now() > deadline) {
      throw new Error(
        `could not read the shared source checkpoints (${reader.position}/${end}) within ${timeoutMs} ms`
      )
    }
    await nextBatch(reader)
  }
}

/** Resolves after the consumer's next batch, or after 250 ms at most. */
const nextBatch = (reader: Reader) =>
  new Promise<void>((resolve) => {
    const done = () => {
      reader.waiters.delete(done)
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(done, 250)
    reader.waiters.add(done)
  })

/** Starts the tailing consumer once (again after a crash); concurrent callers share the start. */
function startReader(reader: Reader, options: CheckpointViewOptions): Promise<void> {
  const { log } = options
  reader.starting ??= (async () => {
    const c = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
    })
    reader.consumer = c
    // A crash kafkajs will not recover from: forget this consumer, the next read starts another.
    c.on(c.events.CRASH, ({ payload }) => {
      if (payload.restart || reader.consumer !== c) return
      log.warn({ err: payload.error }, 'the checkpoint reader crashed; the next read restarts it')
      reader.starting = undefined
      reader.consumer = undefined
      reader.synced = false
      c.disconnect().catch(() => {})
    })
    await c.connect()
    await c.subscribe({ topics: [options.topic], fromBeginning: true })
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) readRecord(reader, message, log)
        for (const notify of reader.waiters) notify()
      },
    })
  })().catch((error) => {
    reader.starting = undefined
    reader.consumer = undefined
    throw error
  })
  return reader.starting
}

/** Folds one record of the compacted topic into the view: newest cursor per source, tombstones delete. */
function readRecord(reader: Reader, message: KafkaMessage, log: Logger) {
  const key = message.key?.toString()
  if (key !== undefined) {
    if (message.value === null)
      reader.remote.delete(key) // tombstone
    else {
      const record = parseRecord(message.value.toString())
      const known = reader.remote.get(key)
      if (record && (!known || record.updated_at >= known.updatedAt)) {
        reader.remote.set(key, { cursor: record.cursor, updatedAt: record.updated_at })
      } else if (!record)
        log.warn({ 'kafka.offset': message.offset }, 'unreadable source checkpoint record skipped')
    }
  }
  reader.position = BigInt(message.offset) + 1n
}

function parseRecord(text: string): CheckpointRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<CheckpointRecord>
    if (
      typeof value.source === 'string' &&
      typeof value.cursor === 'string' &&
      typeof value.updated_at === 'number'
    ) {
      return value as CheckpointRecord
    }
  } catch {}
  return undefined
}
