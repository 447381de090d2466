import { type Admin, ConfigResourceTypes } from 'kafkajs'
import type { DeadLetter, GridEvent } from '@/canonical'
import { backoffMs, DomainError, type LoopRegistry, sleep, supervise } from '@/lib'
import type { Logger } from '@/observability'
import type { BusHealth, Consumer, EventBus, PublishOptions, Subscription } from '../port'
import { partitionKey } from '../port'
import { encodeDeadLetter, encodeEvent } from '../serde'
import { createCheckpointView, newerCheckpoint } from './checkpoints'
import { createKafkaClient, isAuthenticationError, type KafkaSecurity } from './client'
import { createSubscriber, type TopicNames } from './consumer'
import { fitDeadLetter } from './dead-letter-size'
import { createLeadership, type Leadership } from './leadership'
import { createOutbox } from './outbox'
import { createProducerLane } from './producer'
import { createRelay, type Relay } from './relay'
import { createRelayThread } from './relay-thread'
import {
  type ActualTopic,
  CHECKPOINT_TOPIC,
  diffTopic,
  LEADER_GROUP,
  LEADERSHIP_TOPIC,
  type TopicSpec,
  TopicMismatchError,
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
  const now = options.now ?? Date.now
  const log = options.log.child({ component: 'bus.kafka' })
  const prefix = options.topicPrefix ?? ''
  const names: TopicNames = {
    physical: (topic) => `${prefix}${topic}`,
    logical: (topic) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic),
    group: (groupId) => `${prefix}${groupId}`,
  }
  const layout = topicLayout({ partitions: options.partitions, retentionMs: options.retentionMs })
  const partitionCount = new Map(layout.map((t) => [t.logical, t.partitions]))

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

  const shutdown = new AbortController()
  let lastContact = Number.NEGATIVE_INFINITY
  const contact = () => {
    lastContact = now()
  }
  let fatal: string | undefined
  let topicsVerified = false
  let startupError: string | undefined
  const started = connectAndEnsureTopics(admin, layout, names, log, shutdown.signal, (error) => {
    startupError = error
  }).then(() => {
    topicsVerified = true
    startupError = undefined
    contact()
  })
  started.catch((error) => {
    if (shutdown.signal.aborted) return
    fatal = error instanceof Error ? error.message : String(error)
    log.fatal(
      { err: error },
      'Kafka refused this node (topic layout or credentials); it cannot run'
    )
    options.onFatal?.(error instanceof Error ? error : new Error(fatal))
  })
  // Background starts wait on this; a mismatch leaves them waiting until close.
  const topicsReady = started.catch(() => new Promise<void>(() => {}))

  const lane = createProducerLane(
    kafka,
    log.child({ component: 'bus.kafka.producer' }),
    (topic) => partitionCount.get(names.logical(topic)) ?? 1
  )
  // Rows the relay thread parked through its own connection to the outbox.
  let parkedByThread = 0
  let relay: Relay | undefined
  const relayLoop = supervise({
    name: 'outbox relay',
    log,
    registry: options.loops,
    critical: true,
    async run(signal, up) {
      await Promise.race([topicsReady, aborted(signal)])
      if (signal.aborted) return
      const current =
        options.relayInWorker === false
          ? createRelay({
              outbox,
              lane,
              physical: names.physical,
              log: log.child({ component: 'bus.kafka.relay' }),
              pageSize: options.relayBatchSize,
              onSent: contact,
            })
          : await createRelayThread({
              outboxPath: options.outboxPath,
              outboxCacheKb: options.outboxCacheKb,
              nodeId: options.nodeId,
              brokers: options.brokers,
              security: options.security,
              clientId,
              topicPrefix: prefix,
              partitions: layout.map((t) => [names.physical(t.logical), t.partitions] as const),
              pageSize: options.relayBatchSize,
              log: options.log,
              depth: () => outbox.depth(),
              onSent: contact,
              onParked: () => {
                parkedByThread++
              },
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

  const checkpoints = createCheckpointView({
    kafka,
    topic: names.physical(CHECKPOINT_TOPIC),
    groupId: names.group(
      `gridpulse.checkpoint-reader.${options.nodeId}.${crypto.randomUUID().slice(0, 8)}`
    ),
    endOffset: async () => {
      const [p0] = await admin.fetchTopicOffsets(names.physical(CHECKPOINT_TOPIC))
      return BigInt(p0?.high ?? '0')
    },
    log,
  })

  const leadership: Leadership | undefined =
    options.leadership === false
      ? undefined
      : createLeadership({
          kafka,
          groupId: names.group(LEADER_GROUP),
          topic: names.physical(LEADERSHIP_TOPIC),
          log,
          sessionTimeoutMs: options.leadership?.sessionTimeoutMs ?? 10_000,
          heartbeatIntervalMs: options.leadership?.heartbeatIntervalMs ?? 1_000,
          now,
          ready: topicsReady,
          loops: options.loops,
          onContact: contact,
          onChange: (leader) => {
            // A new term: resume from whatever the previous leader published, not from our memory.
            if (leader) checkpoints.invalidate()
            options.onLeaderChange?.(leader)
          },
        })
  // Without elections this node leads as soon as the topics are there.
  if (!leadership) topicsReady.then(() => !closed && options.onLeaderChange?.(true))

  const subscribe = createSubscriber({
    kafka,
    lane,
    names,
    log,
    now,
    topicsReady,
    loops: options.loops,
    onContact: contact,
    onLost: () => {
      lastContact = Number.NEGATIVE_INFINITY
    },
  })
  const consumers = new Set<Consumer>()
  let closed = false
  const ensureOpen = () => {
    if (closed) throw new Error('the Kafka bus is closed')
  }
  const ensureRoom = (adding: number) => {
    const max = options.outboxMaxEvents
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

  const bus: KafkaBus = {
    kind: 'kafka',
    started,
    async publish(events: readonly GridEvent[], opts?: PublishOptions) {
      ensureOpen()
      ensureRoom(events.length)
      await outbox.append(events.map(encodeEvent), opts?.checkpoint)
      relay?.wake()
    },
    async deadLetter(records: readonly DeadLetter[], opts?: PublishOptions) {
      ensureOpen()
      ensureRoom(records.length)
      await outbox.append(
        records.map((r) => encodeDeadLetter(fitDeadLetter(r))),
        opts?.checkpoint
      )
      relay?.wake()
    },
    async readSourceCheckpoint(source) {
      ensureOpen()
      return newerCheckpoint(outbox.readCheckpoint(source), await checkpoints.read(source))?.cursor
    },
    isLeader: () => !closed && topicsVerified && (leadership ? leadership.isLeader() : true),
    async subscribe(sub: Subscription) {
      ensureOpen()
      for (const topic of sub.topics)
        if (!partitionCount.has(topic)) throw new Error(`unknown topic ${topic}`)
      const consumer = subscribe(sub)
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
      const { connected, detail } = bus.health()
      if (!connected) throw new Error(`end offsets unavailable: ${detail}`)
      const result = new Map<string, bigint>()
      const offsets = await withTimeout(
        Promise.all(
          topics.map(
            async (topic) => [topic, await admin.fetchTopicOffsets(names.physical(topic))] as const
          )
        ),
        3_000,
        'Kafka did not return the end offsets within 3 s'
      )
      for (const [topic, partitions] of offsets) {
        for (const p of partitions) result.set(partitionKey(topic, p.partition), BigInt(p.high))
      }
      contact()
      return result
    },
    health(): BusHealth {
      const depth = outbox.depth()
      const silentMs = now() - lastContact
      let detail: string | undefined
      if (closed) detail = 'closed'
      else if (fatal) detail = fatal
      else if (!topicsVerified)
        detail = `connecting to Kafka${startupError ? ` (${startupError})` : ''}; ${depth} events wait in the outbox`
      else if (relay && !relay.healthy())
        detail = `relaying to Kafka fails (${relay.lastError()}); ${depth} events wait in the outbox`
      else if (silentMs === Number.POSITIVE_INFINITY)
        detail = 'lost the connection to Kafka; reconnecting'
      else if (silentMs > CONTACT_STALE_MS)
        detail = `no answer from Kafka for ${Math.round(silentMs / 1000)} s`
      const connected = detail === undefined
      // Informational: Kafka is fine, but an operator should look at rows it refused for good.
      const parked = outbox.parked() + parkedByThread
      if (connected && parked > 0)
        detail = `${parked} outbox rows refused by Kafka are parked in kafka_outbox_parked`
      return {
        kind: 'kafka',
        connected,
        outboxDepth: depth,
        ...(options.outboxMaxEvents !== undefined
          ? { outboxMaxEvents: options.outboxMaxEvents }
          : {}),
        ...(detail ? { detail } : {}),
      }
    },
    async close() {
      if (closed) return
      closed = true
      shutdown.abort()
      // Consumers first (they may still write dead letters), then hand leadership over, then let
      // the relay flush briefly: whatever is left stays in the outbox for the next start.
      await Promise.allSettled([...consumers].map((c) => c.stop()))
      await Promise.allSettled([leadership?.stop(), checkpoints.stop(), relayLoop.stop()])
      await lane.close().catch((error) => log.warn({ err: error }, 'closing the producer failed'))
      await admin.disconnect().catch(() => {})
      outbox.close()
      releaseWarnings()
    },
  }
  return bus
}

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })

/**
 * Connects the admin client and creates/verifies the topics, retrying with a capped backoff for as
 * long as Kafka is unreachable (an edge node may start hours before its broker). One warning when
 * Kafka does not answer, then debug lines; only a topic mismatch ends it (rejects).
 */
async function connectAndEnsureTopics(
  admin: Admin,
  layout: readonly TopicSpec[],
  names: TopicNames,
  log: Logger,
  signal: AbortSignal,
  onError: (message: string) => void
) {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await admin.connect()
      await ensureTopics(admin, layout, names, log)
      if (attempt > 1) log.info({ attempts: attempt }, 'Kafka answered; topics verified')
      return
    } catch (error) {
      // Wrong credentials or topics laid out differently cannot heal by waiting: stop the node.
      if (error instanceof TopicMismatchError || isAuthenticationError(error)) throw error
      const retryInMs = 200 + backoffMs(attempt, 500, 30_000)
      onError(error instanceof Error ? error.message : String(error))
      const fields = { err: error, attempt, retry_in_ms: retryInMs }
      if (attempt === 1)
        log.warn(fields, 'Kafka is not reachable; serving from the outbox and retrying')
      else log.debug(fields, 'Kafka is still not reachable')
      await sleep(retryInMs, signal)
    }
  }
  throw new Error('closed before Kafka was reached')
}

/**
 * The explicit admin step of start-up: creates missing topics with GridPulse's layout, then checks
 * every topic (also ones created by someone else) against it.
 */
export async function ensureTopics(
  admin: Admin,
  layout: readonly TopicSpec[],
  names: TopicNames,
  log: Logger
): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const missing = layout.filter((t) => !existing.has(names.physical(t.logical)))
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: names.physical(t.logical),
        numPartitions: t.partitions,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    })
    log.info({ topics: missing.map((t) => names.physical(t.logical)) }, 'created Kafka topics')
  }
  const physical = layout.map((t) => names.physical(t.logical))
  const metadata = await admin.fetchTopicMetadata({ topics: physical })
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: physical.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ['cleanup.policy', 'retention.ms'],
    })),
  })
  const mismatches: { topic: string; problems: string[] }[] = []
  for (const spec of layout) {
    const name = names.physical(spec.logical)
    const meta = metadata.topics.find((t) => t.name === name)
    const resource = described.resources.find((r) => r.resourceName === name)
    const actual: ActualTopic = {
      partitions: meta?.partitions.length ?? 0,
      configs: Object.fromEntries(
        (resource?.configEntries ?? []).map((c) => [c.configName, c.configValue])
      ),
    }
    const problems = diffTopic(spec, actual)
    if (problems.length > 0) mismatches.push({ topic: name, problems })
  }
  if (mismatches.length > 0) throw new TopicMismatchError(mismatches)
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms)
    }),
  ])
}
