import { type Kafka, type Message, Partitioners, type Producer, type TopicMessages } from 'kafkajs'
import { partitionFor } from '@/lib'
import type { Logger } from '@/observability'
import type { OutgoingMessage } from '../serde'

/**
 * Kafka refuses a record batch (one partition's share of a produce request) larger than the
 * topic's `max.message.bytes`, 1 MB by default, with MESSAGE_TOO_LARGE, and that is not retriable.
 * Requests are therefore cut so that no partition receives more than this many (estimated) bytes.
 */
export const MAX_PARTITION_BATCH_BYTES = 900_000
/** Record overhead on top of key, value and header bytes (varints, attributes, deltas), rounded up. */
const RECORD_OVERHEAD_BYTES = 40

/** Kafka errors that retrying the same message can never fix. */
const UNDELIVERABLE = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
])

/** The Kafka error type (`MESSAGE_TOO_LARGE`, …) of a kafkajs error or of one it wraps, if any. */
export function kafkaErrorType(error: unknown): string | undefined {
  for (
    let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.type === 'string') return e.type
  }
  return undefined
}

export const isUndeliverable = (error: unknown): boolean =>
  UNDELIVERABLE.has(kafkaErrorType(error) ?? '')

/** Errors after which the producer's id, epoch or sequence numbers can no longer be trusted. */
const BROKEN_PRODUCER = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
])

const brokenProducerState = (error: unknown): boolean => {
  if (BROKEN_PRODUCER.has(kafkaErrorType(error) ?? '')) return true
  // kafkajs gives up on its own retries with KafkaJSNumberOfRetriesExceeded wrapping the last
  // error: the producer itself is fine then. A non-retriable kafkajs error we do not know is not.
  const name = (error as { name?: string } | undefined)?.name
  return name === 'KafkaJSNonRetriableError' && kafkaErrorType(error) === undefined
}

/**
 * One idempotent producer (acks=all), used by one sender at a time. The relay and the consumer's
 * dead-letter writes share it; serialising their sends keeps kafkajs's per-partition sequence
 * numbers consistent (two concurrent sends to one partition could be rejected as out of order).
 *
 * kafkajs's own retries are limited so that an outage surfaces as a failed send: the caller owns
 * the retry loop (backoff with jitter) and re-sends the same rows with the same producer, so the
 * broker's idempotence drops what it already has. Only when the producer's state is broken does the
 * next send get a fresh producer id; a batch that reached the broker before that failure may then
 * be written twice, which the projection absorbs (upserts by event id). At-least-once, never lost.
 */
export interface ProducerLane {
  /** Sends in order, in as many requests as {@link MAX_PARTITION_BATCH_BYTES} requires. */
  send(topicMessages: TopicMessages[]): Promise<void>
  close(): Promise<void>
}

export function createProducerLane(
  kafka: Kafka,
  log: Logger,
  /** Partition count of a topic on the broker (the partitioner's modulus), for sizing requests. */
  partitionsOf: (topic: string) => number
): ProducerLane {
  let producer: Producer | undefined
  let tail: Promise<unknown> = Promise.resolve()
  let closed = false

  const discard = (p: Producer) => {
    if (producer === p) producer = undefined
    p.disconnect().catch((error) => log.debug({ err: error }, 'disconnecting a failed producer'))
  }

  async function current(): Promise<Producer> {
    if (producer) return producer
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // murmur2 on the key, as `partitionFor` in @/lib and the embedded log (and it silences kafkajs's
      // partitioner-change warning without reading KAFKAJS_NO_PARTITIONER_WARNING from the env).
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    })
    try {
      await p.connect()
    } catch (error) {
      discard(p)
      throw error
    }
    producer = p
    return p
  }

  return {
    send(topicMessages) {
      const run = tail.then(async () => {
        for (const request of splitRequests(topicMessages, partitionsOf)) {
          if (closed) throw new Error('producer closed')
          const p = await current()
          try {
            await p.sendBatch({ topicMessages: request, acks: -1 })
          } catch (error) {
            // Keep the producer (its id and sequence numbers) through a timeout or a broker
            // restart: the caller re-sends the same rows, and the broker drops the ones it already
            // wrote as duplicates of a known sequence. Only a broken producer state takes a new id.
            if (brokenProducerState(error)) discard(p)
            throw error
          }
        }
      })
      tail = run.catch(() => {})
      return run
    },
    async close() {
      closed = true
      const p = producer
      producer = undefined
      await p?.disconnect()
    },
  }
}

const messageBytes = (m: Message): number => {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(m.key) + byteLength(m.value)
  if (m.headers)
    for (const [name, value] of Object.entries(m.headers))
      bytes += name.length + byteLength(value as string | Buffer | undefined)
  return bytes
}

const byteLength = (v: string | Buffer | null | undefined): number =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length

/**
 * Cuts a send into consecutive requests in which no partition gets more than the byte budget.
 * Message order is kept (per partition it is what matters). A message alone over the budget still
 * gets a request of its own: the broker may accept it (a topic with a larger limit) or refuse it.
 */
export function splitRequests(
  topicMessages: readonly TopicMessages[],
  partitionsOf: (topic: string) => number,
  budget = MAX_PARTITION_BATCH_BYTES
): TopicMessages[][] {
  const requests: TopicMessages[][] = []
  let current = new Map<string, Message[]>()
  let used = new Map<string, number>()
  const flush = () => {
    if (current.size === 0) return
    requests.push([...current].map(([topic, messages]) => ({ topic, messages })))
    current = new Map()
    used = new Map()
  }
  for (const { topic, messages } of topicMessages) {
    const partitions = partitionsOf(topic)
    for (const m of messages) {
      const key = `${topic}/${m.key == null ? 'none' : partitionFor(m.key.toString(), partitions)}`
      const size = messageBytes(m)
      if ((used.get(key) ?? 0) + size > budget) flush()
      used.set(key, (used.get(key) ?? 0) + size)
      let list = current.get(topic)
      if (!list) {
        list = []
        current.set(topic, list)
      }
      list.push(m)
    }
  }
  flush()
  return requests
}

/** kafkajs's message shape for an encoded GridPulse message (key, canonical JSON value, string headers). */
export const toKafkaMessage = (m: Pick<OutgoingMessage, 'key' | 'value' | 'headers'>): Message => ({
  key: m.key,
  value: m.value,
  headers: m.headers,
})
