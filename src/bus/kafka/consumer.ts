import type { Batch, EachBatchPayload, IHeaders, Kafka, Consumer as KafkaConsumer } from 'kafkajs'
import { type DeadLetter, dlqTopicFor } from '@/canonical'
import { type LoopRegistry, supervise } from '@/lib'
import type { Logger } from '@/observability'
import type { ConsumedRecord, Consumer, RawMessage, Subscription } from '../port'
import { decodeMessage, encodeDeadLetter } from '../serde'
import { fitDeadLetter } from './dead-letter-size'
import { type ProducerLane, toKafkaMessage } from './producer'

export interface TopicNames {
  /** Logical (DESIGN.md) name → name on the broker. */
  physical(topic: string): string
  /** Name on the broker → logical name. */
  logical(topic: string): string
  group(groupId: string): string
}

export interface SubscriberDeps {
  readonly kafka: Kafka
  readonly lane: ProducerLane
  readonly names: TopicNames
  readonly log: Logger
  readonly now: () => number
  /** Resolves once the topics exist and match the layout; consumers start after it. */
  readonly topicsReady: Promise<void>
  readonly loops?: LoopRegistry
  /** A fetch or heartbeat succeeded: Kafka is reachable. */
  readonly onContact: () => void
  /** The consumer lost Kafka (it crashed): unreachable until the next contact. */
  readonly onLost: () => void
  /** How often the Kafka offset hint is committed, per consumer. */
  readonly commitEveryMs?: number
}

/**
 * `EventBus.subscribe` on Kafka, following kafkajs's docs/Consuming.md: `autoCommit` off,
 * `eachBatch`; each message is parsed into the canonical model; poison is written to
 * `dlq.<topic>` (and acknowledged by Kafka) BEFORE the batch is handed to `onBatch`, which commits
 * the projection and its offsets in one SQLite transaction; only then is the offset committed to
 * Kafka, as a hint. On every group join each assigned partition is sought to the subscriber's
 * stored position, so SQLite, not Kafka, decides where consumption resumes: a rebalance or a
 * restart neither loses nor re-applies a batch.
 *
 * The kafkajs consumer runs under a supervisor: when it crashes in a way kafkajs will not recover
 * from ("Failed to find group coordinator" after a broker restart, retries exhausted during a long
 * outage), it is disconnected and a new one is started after a capped backoff, forever. Because
 * positions live in SQLite, a fresh consumer resumes exactly where the projection stands.
 */
export function createSubscriber(deps: SubscriberDeps) {
  return function subscribe(sub: Subscription): Consumer {
    const groupId = deps.names.group(sub.groupId)
    const member: Member = { sub, groupId, log: deps.log.child({ 'consumer.group': groupId }) }
    const supervisor = supervise({
      name: `consumer ${sub.groupId}`,
      log: member.log,
      registry: deps.loops,
      critical: true,
      run: (signal, up) => runConsumer(deps, member, signal, up),
    })
    return { stop: () => supervisor.stop() }
  }
}

/** One subscription's group membership, the same across its kafkajs consumers' lives. */
interface Member {
  readonly sub: Subscription
  /** Physical group id. */
  readonly groupId: string
  readonly log: Logger
}

/** One kafkajs consumer's life: settles when it died (or when `signal` asks it to stop). */
async function runConsumer(
  deps: SubscriberDeps,
  member: Member,
  signal: AbortSignal,
  up: () => void
): Promise<void> {
  const stopped = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true })
  )
  await Promise.race([deps.topicsReady, stopped])
  if (signal.aborted) return
  const consumer = deps.kafka.consumer({
    groupId: member.groupId,
    // A SIGKILLed member blocks the next join of its group until its session expires: keep it short.
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 30_000,
    // The broker answers a fetch as soon as there is data; this only bounds idle polls and shutdown.
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    allowAutoTopicCreation: false,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
  })
  const death = watchConsumer(consumer, deps, member, up)
  const hints = createOffsetHints(consumer, deps, member.log)
  try {
    await consumer.connect()
    await consumer.subscribe({
      topics: member.sub.topics.map(deps.names.physical),
      fromBeginning: true,
    })
    // run() resolves after the first join, which after a crash waits for the dead member's
    // session to expire: the supervisor watches `death`, not run().
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => handleBatch(deps, member, hints, payload),
      })
      .catch(death.died)
    await Promise.race([death.settled, stopped])
  } finally {
    // Stops fetching, waits for the batch in hand (its transaction) and leaves the group.
    await consumer
      .disconnect()
      .catch((error) => member.log.debug({ err: error }, 'disconnect failed'))
  }
}

/**
 * Follows the consumer's events: contact with Kafka, the seek on every group join, and its death.
 * `settled` rejects when the consumer crashed in a way kafkajs will not recover from (or `died`).
 */
function watchConsumer(
  consumer: KafkaConsumer,
  deps: SubscriberDeps,
  member: Member,
  up: () => void
) {
  let died!: (error: unknown) => void
  const settled = new Promise<void>((_, reject) => {
    died = reject
  })
  settled.catch(() => {}) // observed by runConsumer's race; this only keeps an early crash "handled"
  const { GROUP_JOIN, CRASH, FETCH, HEARTBEAT } = consumer.events
  consumer.on(GROUP_JOIN, ({ payload }) => {
    deps.onContact()
    up()
    seekToStoredPositions(consumer, deps.names, member, payload.memberAssignment)
  })
  consumer.on(FETCH, () => deps.onContact())
  consumer.on(HEARTBEAT, () => deps.onContact())
  consumer.on(CRASH, ({ payload }) => {
    deps.onLost()
    // kafkajs restarts the consumer itself after a retriable crash; the supervisor does the rest.
    if (payload.restart)
      member.log.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it')
    else died(payload.error)
  })
  return { settled, died }
}

/** Points every assigned partition at the subscriber's stored position: SQLite decides, not Kafka. */
function seekToStoredPositions(
  consumer: KafkaConsumer,
  names: TopicNames,
  member: Member,
  assignment: Record<string, number[]>
) {
  const seeks: Record<string, string> = {}
  for (const [physical, partitions] of Object.entries(assignment)) {
    const topic = names.logical(physical)
    for (const partition of partitions) {
      // Nothing stored means the projection holds nothing from this partition (a new node, or a
      // rebuilt projection): start at the log's beginning, whatever the group committed before.
      // An offset below the log start (retention) resets to the earliest (fromBeginning).
      const at = member.sub.startOffset(topic, partition) ?? 0n
      consumer.seek({ topic: physical, partition, offset: at.toString() })
      seeks[`${topic}/${partition}`] = at.toString()
    }
  }
  member.log.info({ assignment, seeks }, 'partitions assigned; resuming from the stored positions')
}

/** Decodes a batch, sends its poison to the DLQ, hands it to `onBatch`, then notes the offset hint. */
async function handleBatch(
  deps: SubscriberDeps,
  member: Member,
  hints: OffsetHints,
  { batch, heartbeat, isRunning, isStale }: EachBatchPayload
) {
  if (batch.isEmpty() || !isRunning() || isStale()) return
  const topic = deps.names.logical(batch.topic)
  const { partition } = batch
  const { records, poison } = decodeBatch(batch, topic, deps.now(), member.log)
  // Poison first: once the checkpoint moves past it, the DLQ must already hold it. Its id
  // is derived from its coordinates, so a redelivery writes the same dead letter again.
  if (poison.length > 0) {
    await deps.lane.send([
      {
        topic: deps.names.physical(dlqTopicFor(topic)),
        messages: poison.map((d) => toKafkaMessage(encodeDeadLetter(fitDeadLetter(d)))),
      },
    ])
    member.log.warn(
      { 'kafka.topic': topic, 'kafka.partition': partition, count: poison.length },
      'poison messages sent to the DLQ'
    )
  }
  await member.sub.onBatch({ topic, partition, records })
  hints.note(batch.topic, partition, (BigInt(batch.lastOffset()) + 1n).toString())
  await heartbeat()
  await hints.commitIfDue()
}

/** Parses every message of a batch into the canonical model; the poison among them as dead letters. */
function decodeBatch(batch: Batch, topic: string, at: number, log: Logger) {
  const { partition } = batch
  const records: ConsumedRecord[] = []
  const poison: DeadLetter[] = []
  for (const m of batch.messages) {
    const message: RawMessage = {
      offset: BigInt(m.offset),
      key: m.key ? m.key.toString() : null,
      value: m.value ? m.value.toString() : '',
      // Only a poison message needs its headers (its correlation id): convert on demand.
      get headers() {
        return headerStrings(m.headers)
      },
      timestamp: Number(m.timestamp),
    }
    const decoded = decodeMessage(topic, partition, message, at)
    records.push(decoded.record)
    if (decoded.poison) poison.push(decoded.poison)
    else if (decoded.record.kind === 'skipped') {
      log.error(
        { 'kafka.topic': topic, 'kafka.partition': partition, 'kafka.offset': m.offset },
        'unreadable dead letter skipped'
      )
    }
  }
  return { records, poison }
}

/** The next offset of each partition handed to `onBatch`, committed to Kafka at most every `commitEveryMs`. */
interface OffsetHints {
  note(topic: string, partition: number, offset: string): void
  commitIfDue(): Promise<void>
}

function createOffsetHints(
  consumer: KafkaConsumer,
  deps: SubscriberDeps,
  log: Logger
): OffsetHints {
  const commitEveryMs = deps.commitEveryMs ?? 1_000
  const pending = new Map<string, { topic: string; partition: number; offset: string }>()
  let lastCommit = 0
  return {
    note(topic, partition, offset) {
      pending.set(`${topic}/${partition}`, { topic, partition, offset })
    },
    async commitIfDue() {
      if (deps.now() - lastCommit < commitEveryMs) return
      lastCommit = deps.now()
      const hints = [...pending.values()]
      pending.clear()
      // A hint only: after a rebalance it may be refused, and the stored position wins anyway.
      await consumer
        .commitOffsets(hints)
        .catch((error) => log.debug({ err: error }, 'offset hint not committed'))
    },
  }
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!headers) return out
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value
    if (last !== undefined) out[name] = last.toString()
  }
  return out
}
