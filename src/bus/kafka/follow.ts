import type { Kafka } from 'kafkajs'
import { type LoopRegistry, supervise } from '@/lib'
import type { Logger } from '@/observability'
import type { ControlRecord } from '../port'

export interface FollowOptions {
  readonly kafka: Kafka
  /** Physical topic name. */
  readonly topic: string
  /** Physical group name; a random suffix is added per run. */
  readonly groupPrefix: string
  readonly topicsReady: Promise<void>
  readonly log: Logger
  readonly loops?: LoopRegistry
  readonly onContact?: () => void
  readonly onRecords: (records: readonly ControlRecord[]) => void
}

/**
 * Reads a control topic from its beginning and then tails it, handing every record to `onRecords`
 * in offset order. Each run joins a group of its own and never commits: what the reader applies
 * lives in the caller's own SQLite file and applying a record twice changes nothing, so reading
 * from the start again after a crash or a restart is the whole recovery (the topics are small:
 * one record per rule, one per webhook attempt for 7 days).
 */
export function followTopic(options: FollowOptions): { stop(): Promise<void> } {
  const { log } = options
  const loop = supervise({
    name: `follow ${options.topic}`,
    log,
    registry: options.loops,
    async run(signal, up) {
      const stopping = new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true })
      )
      await Promise.race([options.topicsReady, stopping])
      if (signal.aborted) return
      const c = options.kafka.consumer({
        groupId: `${options.groupPrefix}.${crypto.randomUUID().slice(0, 8)}`,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: 250,
        allowAutoTopicCreation: false,
        retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
      })
      const died = new Promise<void>((_, reject) =>
        c.on(c.events.CRASH, ({ payload }) => {
          if (!payload.restart) reject(payload.error)
        })
      )
      // A crash after the stop (or while connecting) must not be an unhandled rejection.
      died.catch(() => {})
      try {
        await c.connect()
        await c.subscribe({ topics: [options.topic], fromBeginning: true })
        await c.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            options.onContact?.()
            const records = batch.messages.flatMap((m) =>
              m.key && m.value ? [{ key: m.key.toString(), value: m.value.toString() }] : []
            )
            // A record the caller cannot apply is its problem to log; the topic keeps flowing.
            if (records.length > 0) options.onRecords(records)
          },
        })
        up()
        await Promise.race([died, stopping])
      } finally {
        await c.disconnect().catch(() => {})
      }
    },
  })
  return { stop: () => loop.stop() }
}
