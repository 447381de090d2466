import type { Consumer, Kafka } from 'kafkajs'
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
  const { log } = options
  const timeoutMs = options.timeoutMs ?? 30_000
  const remote = new Map<string, StoredCheckpoint>()
  let position = 0n
  let consumer: Consumer | undefined
  let starting: Promise<void> | undefined
  let syncing: Promise<void> | undefined
  let synced = false
  let stopped = false
  const waiters = new Set<() => void>()

  function start(): Promise<void> {
    starting ??= (async () => {
      const c = options.kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
        retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
      })
      consumer = c
      // A crash kafkajs will not recover from: forget this consumer, the next read starts another.
      c.on(c.events.CRASH, ({ payload }) => {
        if (payload.restart || consumer !== c) return
        log.warn({ err: payload.error }, 'the checkpoint reader crashed; the next read restarts it')
        starting = undefined
        consumer = undefined
        synced = false
        c.disconnect().catch(() => {})
      })
      await c.connect()
      await c.subscribe({ topics: [options.topic], fromBeginning: true })
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            const key = message.key?.toString()
            if (key !== undefined) {
              if (message.value === null)
                remote.delete(key) // tombstone
              else {
                const record = parseRecord(message.value.toString())
                const known = remote.get(key)
                if (record && (!known || record.updated_at >= known.updatedAt)) {
                  remote.set(key, { cursor: record.cursor, updatedAt: record.updated_at })
                } else if (!record)
                  log.warn(
                    { 'kafka.offset': message.offset },
                    'unreadable source checkpoint record skipped'
                  )
              }
            }
            position = BigInt(message.offset) + 1n
          }
          for (const notify of waiters) notify()
        },
      })
    })().catch((error) => {
      starting = undefined
      consumer = undefined
      throw error
    })
    return starting
  }

  async function syncToEnd() {
    const end = await options.endOffset()
    if (end === 0n) return
    await start()
    const deadline = Date.now() + timeoutMs
    while (position < end) {
      if (stopped) throw new Error('checkpoint view stopped')
      if (Date.now() > deadline) {
        throw new Error(
          `could not read the shared source checkpoints (${position}/${end}) within ${timeoutMs} ms`
        )
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          waiters.delete(done)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(done, 250)
        waiters.add(done)
      })
    }
  }

  return {
    async read(source) {
      if (!synced) {
        syncing ??= syncToEnd().finally(() => {
          syncing = undefined
        })
        await syncing
        synced = true
      }
      return remote.get(source)
    },
    invalidate() {
      synced = false
    },
    async stop() {
      stopped = true
      await starting?.catch(() => {})
      await consumer?.disconnect()
    },
  }
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
