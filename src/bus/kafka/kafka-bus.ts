import type { Admin, Kafka } from 'kafkajs'
import type { DeadLetter, GridEvent } from '@/canonical'
import { DomainError, type LoopRegistry, supervise } from '@/lib'
import type { Logger } from '@/observability'
import type {
  BusHealth,
  Consumer,
  EventBus,
  PublishOptions,
  SharedTopics,
  Subscription,
} from '../port'
import { partitionKey } from '../port'
import { encodeDeadLetter, encodeEvent, type OutgoingMessage } from '../serde'
import { type CheckpointView, createCheckpointView, newerCheckpoint } from './checkpoints'
import { createKafkaClient, type KafkaSecurity } from './client'
import { createSubscriber, type TopicNames } from './consumer'
import { fitDeadLetter } from './dead-letter-size'
import { followTopic } from './follow'
import { createLeadership, type Leadership } from './leadership'
import { createOutbox, type Outbox } from './outbox'
import { createProducerLane, type ProducerLane } from './producer'
import { createRelay, type Relay } from './relay'
import { createRelayThread } from './relay-thread'
import { type Startup, startInBackground } from './startup'
import {
  CHECKPOINT_TOPIC,
  LEADER_GROUP,
  LEADERSHIP_TOPIC,
  type TopicSpec,
  topicLayout,
} from './topics'
import { filterTimeoutNegativeWarnings } from './warnings'

export interface KafkaBusOptions {
  readonly brokers: readonly string[]
  /** SASL/SCRAM credentials and TLS (KAFKA_SASL_*, KAFKA_TLS*); none = PLAINTEXT. */
  readonly security?: KafkaSecurity
  /** This node's identity (NODE_ID): client id, checkpoint records, the checkpoint reader's group. */
  readonly nodeId: string
  /** Absolute path of the outbox's SQLite file (the node's `log.sqlite`). */
  readonly outboxPath: string
  /** SQLite page cache per outbox connection (this thread's and the relay's), KiB. */
  readonly outboxCacheKb?: number
  readonly log: Logger
  /**
   * Prepended to every topic and consumer group name ('' in production). Tests use a unique
   * prefix per bus so they can share one broker without seeing each other's messages.
   */
  readonly topicPrefix?: string
  readonly clientId?: string
  /** DESIGN.md: 3 partitions per event topic, 7-day retention. */
  readonly partitions?: number
  readonly retentionMs?: number
  /** Leader election; `false` makes this node always the leader (a single node, a benchmark). */
  readonly leadership?:
    | false
    | { readonly sessionTimeoutMs?: number; readonly heartbeatIntervalMs?: number }
  /** Outbox rows relayed per page (3000); each request stays under Kafka's batch size limit. */
  readonly relayBatchSize?: number
  /**
   * Run the outbox relay on a thread of its own (./relay-thread.ts; default), beside the consumer
   * and the projection on another core; `false` runs it on the main thread.
   */
  readonly relayInWorker?: boolean
  /**
   * The most events the outbox holds before publish refuses more (503, retryable): a broker that
   * stays down for weeks must not fill the node's disk. Unset: no cap.
   */
  readonly outboxMaxEvents?: number
  /** Supervised loops (consumers, relay, leadership) register here for liveness and metrics. */
  readonly loops?: LoopRegistry
  /**
   * Called once when the bus cannot run at all: the topics on the broker do not match GridPulse's
   * layout ({@link TopicMismatchError}) or Kafka refuses the credentials. Everything else (Kafka
   * down, crashes) heals on its own.
   */
  readonly onFatal?: (error: Error) => void
  /** Called whenever this node gains or loses the leadership. */
  readonly onLeaderChange?: (leader: boolean) => void
  readonly now?: () => number
}

/** The Kafka bus, plus start-up's outcome for callers that must wait for the topics (tools, tests). */
export interface KafkaBus extends EventBus {
  /** Resolves once the topics exist and match; rejects with {@link TopicMismatchError}. */
  readonly started: Promise<void>
}

/** Kafka is considered unreachable when no fetch, heartbeat or send succeeded for this long. */
const CONTACT_STALE_MS = 20_000

/**
 * The EventBus port on Apache Kafka (kafkajs), with the semantics of the embedded log:
 *
 * - publish/deadLetter write to a durable SQLite outbox in ONE transaction with the source
 *   checkpoint; a relay sends the rows in order to Kafka (idempotent producer, acks=all) and
 *   deletes them. Kafka being down never loses an accepted event: the outbox grows on disk.
 * - Source checkpoints are shared: the relay publishes them, after their events, to the compacted
 *   `gridpulse.source-checkpoints` topic; a new leader resumes from the newest one.
 * - subscribe: see ./consumer.ts. isLeader: see ./leadership.ts.
 * - Start-up does not wait for Kafka: the outbox opens at once (publish works, a node with the
 *   broker down still accepts writes), and the topics are created (broker auto-creation is off)
 *   and verified in the background, retrying forever while Kafka is unreachable. Consumers,
 *   relay and leadership start once the topics are verified, each under a supervisor that
 *   restarts it whenever it dies. Only topics laid out differently (partition count, retention,
 *   cleanup policy) stop the node, through `onFatal`.
 */
export async function createKafkaBus(options: KafkaBusOptions): Promise<KafkaBus> {
  const base = openBase(options)
  const shutdown = new AbortController()
  const startup = startInBackground({
    admin: base.admin,
    layout: base.layout,
    names: base.names,
    log: base.log,
    signal: shutdown.signal,
    onVerified: base.contact.touch,
    onFatal: options.onFatal,
  })
  const lane = createProducerLane(
    base.kafka,
    base.log.child({ component: 'bus.kafka.producer' }),
    (topic) => base.partitionCount.get(base.names.logical(topic)) ?? 1
  )
  const relay = superviseRelay(base, lane, startup.topicsReady)
  const checkpoints = readSharedCheckpoints(base)
  const leadership = electLeader(base, startup.topicsReady, checkpoints)
  const subscribe = createSubscriber({
    kafka: base.kafka,
    lane,
    names: base.names,
    log: base.log,
    now: base.now,
    topicsReady: startup.topicsReady,
    loops: options.loops,
    onContact: base.contact.touch,
    onLost: base.contact.lose,
  })
  return kafkaBusPort({
    ...base,
    shutdown,
    startup,
    lane,
    relay,
    checkpoints,
    leadership,
    subscribe,
  })
}

/** What every part of a Kafka bus is built on: its names, its Kafka clients, its outbox. */
interface BusBase {
  readonly options: KafkaBusOptions
  readonly now: () => number
  readonly log: Logger
  readonly names: TopicNames
  readonly layout: readonly TopicSpec[]
  /** Partition count per logical topic. */
  readonly partitionCount: ReadonlyMap<string, number>
  readonly releaseWarnings: () => void
  readonly clientId: string
  readonly kafka: Kafka
  readonly admin: Admin
  readonly outbox: Outbox
  readonly contact: ContactClock
}

function openBase(options: KafkaBusOptions): BusBase {
  const now = options.now ?? Date.now
  const log = options.log.child({ component: 'bus.kafka' })
  const layout = topicLayout({ partitions: options.partitions, retentionMs: options.retentionMs })
  const releaseWarnings = filterTimeoutNegativeWarnings()
  const clientId = options.clientId ?? `gridpulse-${options.nodeId}`
  const kafka = createKafkaClient({
    brokers: options.brokers,
    clientId,
    log: options.log,
    security: options.security,
  })
  // Short retries: readiness must answer quickly while Kafka is down; start-up loops on its own.
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 } })
  const outbox = createOutbox({
    path: options.outboxPath,
    nodeId: options.nodeId,
    now,
    cacheKb: options.outboxCacheKb,
  })
  if (outbox.depth() > 0)
    log.info({ outbox_depth: outbox.depth() }, 'relaying the outbox left by the previous run')
  return {
    options,
    now,
    log,
    names: prefixedNames(options.topicPrefix ?? ''),
    layout,
    partitionCount: new Map(layout.map((t) => [t.logical, t.partitions])),
    releaseWarnings,
    clientId,
    kafka,
    admin,
    outbox,
    contact: createContactClock(now),
  }
}

/** Topic and group names on the broker: `prefix` before every one ('' in production). */
const prefixedNames = (prefix: string): TopicNames => ({
  physical: (topic) => `${prefix}${topic}`,
  logical: (topic) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic),
  group: (groupId) => `${prefix}${groupId}`,
})

/** When Kafka last answered (a fetch, a heartbeat, a send, an admin request). */
interface ContactClock {
  touch(): void
  /** A consumer lost Kafka (it crashed): unreachable until the next contact. */
  lose(): void
  /** Milliseconds since the last contact; +Infinity before the first or after a loss. */
  silentMs(): number
}

function createContactClock(now: () => number): ContactClock {
  let lastContact = Number.NEGATIVE_INFINITY
  return {
    touch() {
      lastContact = now()
    },
    lose() {
      lastContact = Number.NEGATIVE_INFINITY
    },
    silentMs: () => now() - lastContact,
  }
}

/** The supervised outbox relay, as far as the bus needs to see it. */
interface RelaySupervision {
  /** The running relay, once the topics are verified. */
  current(): Relay | undefined
  /** Rows the relay thread parked through its own connection to the outbox. */
  parkedByThread(): number
  stop(): Promise<void>
}

/** Starts the relay once the topics are verified and again whenever it ends, until the bus closes. */
function superviseRelay(
  base: BusBase,
  lane: ProducerLane,
  topicsReady: Promise<void>
): RelaySupervision {
  let parkedByThread = 0
  let relay: Relay | undefined
  const loop = supervise({
    name: 'outbox relay',
    log: base.log,
    registry: base.options.loops,
    critical: true,
    async run(signal, up) {
      await Promise.race([topicsReady, aborted(signal)])
      if (signal.aborted) return
      const current =
        base.options.relayInWorker === false
          ? inProcessRelay(base, lane)
          : await relayThread(base, () => {
              parkedByThread++
            })
      relay = current
      up()
      current.wake()
      await Promise.race([current.ended, aborted(signal)])
      if (signal.aborted) {
        // Graceful shutdown: give the relay a moment to flush; what is left stays for the next start.
        await current.drain(2_000)
      }
      await current.stop()
    },
  })
  return { current: () => relay, parkedByThread: () => parkedByThread, stop: () => loop.stop() }
}

const inProcessRelay = (base: BusBase, lane: ProducerLane): Relay =>
  createRelay({
    outbox: base.outbox,
    lane,
    physical: base.names.physical,
    log: base.log.child({ component: 'bus.kafka.relay' }),
    pageSize: base.options.relayBatchSize,
    onSent: base.contact.touch,
  })

const relayThread = (base: BusBase, onParked: () => void): Promise<Relay> =>
  createRelayThread({
    outboxPath: base.options.outboxPath,
    outboxCacheKb: base.options.outboxCacheKb,
    nodeId: base.options.nodeId,
    brokers: base.options.brokers,
    security: base.options.security,
    clientId: base.clientId,
    topicPrefix: base.options.topicPrefix ?? '',
    partitions: base.layout.map((t) => [base.names.physical(t.logical), t.partitions] as const),
    pageSize: base.options.relayBatchSize,
    log: base.options.log,
    depth: () => base.outbox.depth(),
    onSent: base.contact.touch,
    onParked,
  })

/** This node's reader of the shared source checkpoints, in a group of its own. */
const readSharedCheckpoints = (base: BusBase): CheckpointView =>
  createCheckpointView({
    kafka: base.kafka,
    topic: base.names.physical(CHECKPOINT_TOPIC),
    groupId: base.names.group(
      `gridpulse.checkpoint-reader.${base.options.nodeId}.${crypto.randomUUID().slice(0, 8)}`
    ),
    endOffset: async () => {
      const [p0] = await base.admin.fetchTopicOffsets(base.names.physical(CHECKPOINT_TOPIC))
      return BigInt(p0?.high ?? '0')
    },
    log: base.log,
  })

/** Joins the leader election, unless it is off (`leadership: false`: this node always leads). */
function electLeader(
  base: BusBase,
  topicsReady: Promise<void>,
  checkpoints: CheckpointView
): Leadership | undefined {
  const { options } = base
  if (options.leadership === false) return undefined
  return createLeadership({
    kafka: base.kafka,
    groupId: base.names.group(LEADER_GROUP),
    topic: base.names.physical(LEADERSHIP_TOPIC),
    log: base.log,
    sessionTimeoutMs: options.leadership?.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: options.leadership?.heartbeatIntervalMs ?? 1_000,
    now: base.now,
    ready: topicsReady,
    loops: options.loops,
    onContact: base.contact.touch,
    onChange: (leader) => {
      // A new term: resume from whatever the previous leader published, not from our memory.
      if (leader) checkpoints.invalidate()
      options.onLeaderChange?.(leader)
    },
  })
}

/** Everything the bus's methods use. */
interface BusParts extends BusBase {
  /** Aborted on close: stops start-up's retries. */
  readonly shutdown: AbortController
  readonly startup: Startup
  readonly lane: ProducerLane
  readonly relay: RelaySupervision
  readonly checkpoints: CheckpointView
  readonly leadership: Leadership | undefined
  readonly subscribe: (sub: Subscription) => Consumer
}

/** The {@link EventBus} methods over the parts. */
function kafkaBusPort(parts: BusParts): KafkaBus {
  const { options, outbox, startup, leadership } = parts
  const consumers = new Set<Consumer>()
  let closed = false
  // Without elections this node leads as soon as the topics are there.
  if (!leadership) startup.topicsReady.then(() => !closed && options.onLeaderChange?.(true))
  const ensureOpen = () => {
    if (closed) throw new Error('the Kafka bus is closed')
  }
  const admit = (adding: number) => {
    ensureOpen()
    ensureRoom(outbox, options.outboxMaxEvents, adding)
  }
  const enqueue = async (messages: OutgoingMessage[], opts?: PublishOptions) => {
    await outbox.append(messages, opts?.checkpoint)
    parts.relay.current()?.wake()
  }

  return {
    kind: 'kafka',
    shared: sharedTopics(parts, consumers, admit, (m) => enqueue(m)),
    started: startup.started,
    async publish(events: readonly GridEvent[], opts?: PublishOptions) {
      admit(events.length)
      await enqueue(events.map(encodeEvent), opts)
    },
    async deadLetter(records: readonly DeadLetter[], opts?: PublishOptions) {
      admit(records.length)
      await enqueue(
        records.map((r) => encodeDeadLetter(fitDeadLetter(r))),
        opts
      )
    },
    async readSourceCheckpoint(source) {
      ensureOpen()
      return newerCheckpoint(outbox.readCheckpoint(source), await parts.checkpoints.read(source))
        ?.cursor
    },
    isLeader: () => !closed && startup.verified() && (leadership ? leadership.isLeader() : true),
    async subscribe(sub: Subscription) {
      ensureOpen()
      for (const topic of sub.topics)
        if (!parts.partitionCount.has(topic)) throw new Error(`unknown topic ${topic}`)
      const consumer = parts.subscribe(sub)
      const tracked: Consumer = {
        async stop() {
          consumers.delete(tracked)
          await consumer.stop()
        },
      }
      consumers.add(tracked)
      return tracked
    },
    async endOffsets(topics) {
      ensureOpen()
      // Readiness probes call this: answer at once while Kafka is known to be unreachable.
      const { connected, detail } = describeHealth(parts, closed)
      if (!connected) throw new Error(`end offsets unavailable: ${detail}`)
      const result = await fetchEndOffsets(parts, topics)
      parts.contact.touch()
      return result
    },
    health: () => describeHealth(parts, closed),
    async close() {
      if (closed) return
      closed = true
      await closeParts(parts, consumers)
    },
  }
}

/**
 * The control topics through this bus: appends share the outbox (and its cap) with the events, so
 * they are durable at once and reach Kafka in the order they were made; followers stop with the
 * consumers, before the relay's last flush.
 */
function sharedTopics(
  parts: BusParts,
  consumers: Set<Consumer>,
  admit: (adding: number) => void,
  enqueue: (messages: OutgoingMessage[]) => Promise<void>
): SharedTopics {
  const known = (topic: string) => {
    if (!parts.partitionCount.has(topic)) throw new Error(`unknown topic ${topic}`)
  }
  return {
    async append(topic, records) {
      known(topic)
      admit(records.length)
      await enqueue(
        records.map((r) => ({
          topic,
          key: r.key,
          value: r.value,
          headers: { 'content-type': 'application/json' },
        }))
      )
    },
    follow(topic, onRecords) {
      known(topic)
      const follower = followTopic({
        kafka: parts.kafka,
        topic: parts.names.physical(topic),
        groupPrefix: parts.names.group(`gridpulse.follow.${topic}.${parts.options.nodeId}`),
        topicsReady: parts.startup.topicsReady,
        log: parts.log,
        loops: parts.options.loops,
        onContact: parts.contact.touch,
        onRecords,
      })
      const tracked: Consumer = {
        async stop() {
          consumers.delete(tracked)
          await follower.stop()
        },
      }
      consumers.add(tracked)
      return tracked
    },
  }
}

/** Publish refuses (503, retryable) what would take the outbox beyond OUTBOX_MAX_EVENTS. */
function ensureRoom(outbox: Outbox, max: number | undefined, adding: number) {
  if (max === undefined) return
  const depth = outbox.depth()
  if (depth + adding > max)
    throw new DomainError(
      'outbox_full',
      `the outbox holds ${depth} events waiting for Kafka (limit ${max}); retry later`,
      503,
      true
    )
}

/** The log-end offset of every partition of `topics`, keyed topic/partition; 3 s at most. */
async function fetchEndOffsets(parts: BusParts, topics: readonly string[]) {
  const result = new Map<string, bigint>()
  const offsets = await withTimeout(
    Promise.all(
      topics.map(
        async (topic) =>
          [topic, await parts.admin.fetchTopicOffsets(parts.names.physical(topic))] as const
      )
    ),
    3_000,
    'Kafka did not return the end offsets within 3 s'
  )
  for (const [topic, partitions] of offsets) {
    for (const p of partitions) result.set(partitionKey(topic, p.partition), BigInt(p.high))
  }
  return result
}

function describeHealth(parts: BusParts, closed: boolean): BusHealth {
  const { options, outbox } = parts
  const depth = outbox.depth()
  let detail = closed ? 'closed' : connectionTrouble(parts, depth)
  const connected = detail === undefined
  // Informational: Kafka is fine, but an operator should look at rows it refused for good.
  const parked = outbox.parked() + parts.relay.parkedByThread()
  if (connected && parked > 0)
    detail = `${parked} outbox rows refused by Kafka are parked in kafka_outbox_parked`
  return {
    kind: 'kafka',
    connected,
    outboxDepth: depth,
    ...(options.outboxMaxEvents !== undefined ? { outboxMaxEvents: options.outboxMaxEvents } : {}),
    ...(detail ? { detail } : {}),
  }
}

/** Why this open bus does not count as connected to Kafka; undefined when it does. */
function connectionTrouble(parts: BusParts, depth: number): string | undefined {
  const { startup } = parts
  const relay = parts.relay.current()
  const silentMs = parts.contact.silentMs()
  const fatal = startup.fatal()
  if (fatal) return fatal
  if (!startup.verified()) {
    const error = startup.lastError()
    return `connecting to Kafka${error ? ` (${error})` : ''}; ${depth} events wait in the outbox`
  }
  if (relay && !relay.healthy())
    return `relaying to Kafka fails (${relay.lastError()}); ${depth} events wait in the outbox`
  if (silentMs === Number.POSITIVE_INFINITY) return 'lost the connection to Kafka; reconnecting'
  if (silentMs > CONTACT_STALE_MS)
    return `no answer from Kafka for ${Math.round(silentMs / 1000)} s`
  return undefined
}

/**
 * Consumers first (they may still write dead letters), then hand leadership over, then let the
 * relay flush briefly: whatever is left stays in the outbox for the next start.
 */
async function closeParts(parts: BusParts, consumers: ReadonlySet<Consumer>) {
  parts.shutdown.abort()
  await Promise.allSettled([...consumers].map((c) => c.stop()))
  await Promise.allSettled([parts.leadership?.stop(), parts.checkpoints.stop(), parts.relay.stop()])
  await parts.lane
    .close()
    .catch((error) => parts.log.warn({ err: error }, 'closing the producer failed'))
  await parts.admin.disconnect().catch(() => {})
  parts.outbox.close()
  parts.releaseWarnings()
}

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms)
    }),
  ])
}
