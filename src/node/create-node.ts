import { type KeyStore, openKeyStore } from '@/access'
import { type AlertService, createAlertService } from '@/alerts'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type ApiDeps,
  createApi,
  createStreamHub,
  type GridPulseApi,
  type StreamHub,
  type StreamVisibility,
} from '@/api'
import {
  ALERT_DELIVERIES_TOPIC,
  ALERT_RULES_TOPIC,
  type ConsumedBatch,
  createEmbeddedBus,
  createKafkaBus,
  type EventBus,
  type SharedTopics,
} from '@/bus'
import {
  AlertSchema,
  DLQ_TOPICS,
  EVENT_TOPICS,
  EVENT_TYPES,
  eventTimeOf,
  SourceNameSchema,
} from '@/canonical'
import { createLoopRegistry, type LoopRegistry, type Supervisor } from '@/lib'
import {
  createLogger,
  createMetrics,
  createMetricsPage,
  createSourceRegistry,
  instrumentedSink,
  type Logger,
  type Metrics,
  observeFetched,
  observeProjected,
  observeStreamed,
  type ReadinessReport,
  type SourceRegistry,
  type SourceStatus,
} from '@/observability'
import {
  createLagMonitor,
  createProjector,
  createReadPort,
  isTraced,
  type LagMonitor,
  openProjectionDb,
  type ProjectionDb,
  type ReadPort,
} from '@/projection'
import type { Poller } from '@/sources'
import type { Config } from '../config'
import { createLiveness, createNodeReadiness, type Liveness, startWatchdog } from './health'
import { type Closer, closeAll } from './lifecycle'
import { createPollers, supervisePollers } from './pollers'
import { EX_CONFIG, PROJECTION_CONSUMER, VERSION } from './version'

/** What a caller may swap in; everything else comes from the config. Tests and benchmarks use these. */
export interface NodeOverrides {
  /** Default: JSON lines on stdout at LOG_LEVEL. */
  readonly log?: Logger
  /** An event log to use instead of the one the config names (an in-memory log); the node closes it. */
  readonly bus?: EventBus
  /** Default: `DATA_DIR/projection.sqlite`; `:memory:` for a node that keeps nothing. */
  readonly projectionPath?: string
  /** Default: `DATA_DIR/access.sqlite` (API keys); `:memory:` for a node that keeps nothing. */
  readonly accessPath?: string
  /** Default: `DATA_DIR/alerts.sqlite` (alert rules and deliveries); `:memory:` keeps nothing. */
  readonly alertsPath?: string
  /** The API's and the alerts' clock. */
  readonly now?: () => number
  /** What `/api/v1/sources` reports instead of this node's own pollers. */
  readonly sourceStatuses?: () => readonly SourceStatus[]
  /** Authentication instead of the one AUTH_MODE describes. */
  readonly auth?: ApiDeps['auth']
  /** Called after each batch the projection committed (benchmarks time the pipeline with it). */
  readonly onProjected?: (batch: ConsumedBatch) => void
  /** Who may see which streamed event, beyond the client's filters (events owned by one key). */
  readonly streamVisibility?: StreamVisibility
}

/** A running GridPulse node without its HTTP listener: `fetch` is what a server would call. */
export interface GridPulseNode {
  readonly api: GridPulseApi
  readonly fetch: GridPulseApi['fetch']
  readonly db: ProjectionDb
  readonly bus: EventBus
  readonly queries: ReadPort
  readonly keys: KeyStore
  readonly metrics: Metrics
  readonly readiness: () => Promise<ReadinessReport>
  readonly liveness: () => Liveness
  readonly sources: SourceRegistry
  /** The live stream's fan-out: `gridpulse serve` ends its streams before stopping the server. */
  readonly stream: StreamHub
  /** Alert rules, evaluation and webhooks; `subscribe` gives every alert fired with its owner. */
  readonly alerts: AlertService
  /**
   * Resolves with an exit code once the node cannot go on: 78 (Kafka topics laid out differently,
   * credentials rejected), 70 (liveness gave up). Never rejects.
   */
  readonly failed: Promise<number>
  /** The code `failed` resolved with, if it did. */
  readonly exitCode: () => number | undefined
  /** Closes `close` with the node, before everything the node made (the HTTP server). */
  closeWith(name: string, close: () => unknown): void
  /** Stops the pollers, then closes in reverse order of creation: consumer, event log, databases. */
  close(): Promise<void>
}

/** Set when the node cannot run at all; the first code wins. */
function createFailure() {
  let code: number | undefined
  let resolve!: (code: number) => void
  const failed = new Promise<number>((r) => {
    resolve = r
  })
  return {
    failed,
    code: () => code,
    fail(next: number) {
      if (code !== undefined) return
      code = next
      resolve(next)
    },
  }
}

/**
 * Kafka mode: log.sqlite holds the durable outbox; the topics are created and verified in the
 * background, so the node serves reads and accepts writes while Kafka is still down.
 */
async function openEventLog(
  config: Config,
  deps: {
    readonly log: Logger
    readonly loops: LoopRegistry
    readonly fail: (code: number) => void
    readonly pollers: readonly { readonly poller: Poller }[]
  }
): Promise<EventBus> {
  if (config.bus.kind !== 'kafka')
    return createEmbeddedBus({
      path: config.data.logPath,
      log: deps.log,
      cacheKb: config.memory.sqliteCacheKb,
    })
  return createKafkaBus({
    brokers: config.bus.brokers,
    security: config.bus.security,
    nodeId: config.nodeId,
    outboxPath: config.data.logPath,
    outboxCacheKb: config.memory.sqliteCacheKb,
    log: deps.log,
    loops: deps.loops,
    outboxMaxEvents: config.outbox.maxEvents,
    onFatal: () => deps.fail(EX_CONFIG),
    // A new leader polls at once instead of one poll period later (15 min for weather).
    onLeaderChange: (leader) => {
      if (leader) for (const p of deps.pollers) p.poller.wake()
    },
  })
}

/** Every node keeps its own full projection of every topic, with its metrics per batch. */
async function startProjection(
  db: ProjectionDb,
  bus: EventBus,
  config: Config,
  observe: (batch: ConsumedBatch) => void
) {
  const projector = createProjector(db, PROJECTION_CONSUMER, Date.now, {
    catchUpCacheKb: config.memory.catchUpCacheKb,
    journalRetentionMs: config.stream.retentionMs,
  })
  const topics = [...EVENT_TOPICS, ...DLQ_TOPICS]
  const consumer = await bus.subscribe({
    // Each node keeps its own full projection, so each node is its own consumer group on Kafka.
    groupId: bus.kind === 'kafka' ? `${PROJECTION_CONSUMER}.${config.nodeId}` : PROJECTION_CONSUMER,
    topics,
    startOffset: projector.startOffset,
    onBatch: async (batch) => {
      await projector.project(batch)
      observe(batch)
    },
  })
  return { consumer, topics }
}

/**
 * The alerts of this node (alerts.sqlite). Every node evaluates the rules in its own alerts.sqlite
 * after each batch its projection commits; in Kafka mode the rules and the leader's webhook
 * attempts are shared through two control topics (see createAlertService), so every node holds
 * every rule and only the leader sends. A firing's delivery id is stable, so evaluating again (a
 * redelivered batch, a restart, another node) neither stores nor sends it twice. Stale-source
 * rules read the projection's newest data per source (as /api/v1/sources), which every node has.
 */
function openAlerts(
  config: Config,
  overrides: NodeOverrides,
  deps: { log: Logger; metrics: Metrics; queries: ReadPort; bus: EventBus }
): AlertService {
  const { shared } = deps.bus
  const { metrics } = deps
  const pending = () => metrics.alertDeliveriesPending.set(alerts.pendingDeliveries())
  // A node whose projection keeps nothing (tests, benchmarks) keeps no alerts either.
  const path =
    overrides.alertsPath ??
    (overrides.projectionPath === ':memory:' ? ':memory:' : config.data.alertsPath)
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const alerts: AlertService = createAlertService({
    ...config.alerts,
    path,
    log: deps.log.child({ component: 'alerts' }),
    now: overrides.now,
    newestData: () =>
      new Map(
        deps.queries
          .stats()
          .sources.flatMap((s) => (s.newest_interval ? [[s.source, s.newest_interval]] : []))
      ),
    onFired: (kind) => metrics.alertsFired.inc({ kind }),
    onPending: pending,
    onAttempt: (outcome, seconds) => {
      metrics.alertDeliveries.inc({ outcome })
      if (outcome !== 'refused') metrics.alertDeliveryDuration.observe(seconds)
      pending()
    },
    onDisabled: () => metrics.alertRulesDisabled.inc(),
    isLeader: () => deps.bus.isLeader(),
    sharing: shared && {
      rules: channel(shared, ALERT_RULES_TOPIC),
      deliveries: channel(shared, ALERT_DELIVERIES_TOPIC),
    },
  })
  for (const outcome of ['delivered', 'failed', 'refused'])
    metrics.alertDeliveries.inc({ outcome }, 0)
  for (const kind of AlertSchema.shape.kind.options) metrics.alertsFired.inc({ kind }, 0)
  metrics.alertRulesDisabled.inc(0)
  pending()
  return alerts
}

const channel = (shared: SharedTopics, topic: string) => ({
  append: (records: readonly { key: string; value: string }[]) => shared.append(topic, records),
  follow: (onRecords: (records: readonly { key: string; value: string }[]) => void) =>
    shared.follow(topic, onRecords),
})

/**
 * What this node sends out as the projection commits: the live stream's hub and the alerts, whose
 * firings go to their owner's streams as `event: alert` (the stream shows a consumer only the
 * alerts of its own rules).
 */
function startFanOut(
  config: Config,
  overrides: NodeOverrides,
  deps: { queries: ReadPort; metrics: Metrics; log: Logger; bus: EventBus },
  closers: Closer[]
) {
  const stream = startStreamHub(config, overrides, deps)
  closers.push({ name: 'live streams', close: stream.close })
  const alerts = openAlerts(config, overrides, deps)
  closers.push({ name: 'alerts', close: () => alerts.close() })
  alerts.subscribe(({ consumer, alert }) =>
    stream.hub.notify(consumer, 'alert', JSON.stringify(alert))
  )
  return { stream, alerts }
}

/** After a commit: alerts never hold up or fail the projection. */
function evaluateAlerts(alerts: AlertService, batch: ConsumedBatch, log: Logger) {
  try {
    alerts.evaluate(batch.records.flatMap((r) => (r.kind === 'event' ? [r.event] : [])))
  } catch (error) {
    log.error({ err: error }, 'alert evaluation failed')
  }
}

/** Authentication as AUTH_MODE says, keys checked against the key store (access.sqlite). */
function authFor(config: Config['auth'], keys: KeyStore): NonNullable<ApiDeps['auth']> {
  if (config.mode === 'keys')
    return {
      mode: 'keys',
      verify: keys.verify,
      perMinute: config.perMinute,
      anonymousPerMinute: config.anonymousPerMinute,
    }
  if (config.mode === 'gateway')
    return {
      mode: 'gateway',
      secret: config.secret,
      previousSecret: config.previousSecret,
      perMinute: config.perMinute,
      anonymousPerMinute: config.anonymousPerMinute,
    }
  return { mode: 'none' }
}

/** Starts the lag monitor and returns it with its timer's closer (a fresh look every 5 s). */
async function startLagMonitor(bus: EventBus, queries: ReadPort, topics: readonly string[]) {
  const lag = createLagMonitor({
    endOffsets: () => bus.endOffsets(topics),
    positions: () => queries.positions(PROJECTION_CONSUMER),
  })
  await lag.refresh()
  const timer = setInterval(() => void lag.refresh(), 5_000)
  return { lag, closer: { name: 'lag monitor', close: () => clearInterval(timer) } }
}

/** The key store (access.sqlite) and the projection (projection.sqlite), in that order. */
function openStores(config: Config, overrides: NodeOverrides, log: Logger, closers: Closer[]) {
  // A node given both of its stores (an in-memory one in tests) touches no data directory.
  if (!overrides.bus || !overrides.projectionPath || !overrides.accessPath)
    mkdirSync(config.data.dir, { recursive: true })
  // Before the projection: its migrations drop the table old keys are carried over from.
  const keys = openKeyStore(overrides.accessPath ?? config.data.accessPath, {
    carryOverFrom: overrides.projectionPath ?? config.data.projectionPath,
  })
  closers.push({ name: 'key store', close: () => keys.close() })
  if (keys.carriedOver > 0)
    log.info({ keys: keys.carriedOver }, 'API keys carried over from projection.sqlite')
  const db = openProjectionDb(overrides.projectionPath ?? config.data.projectionPath, {
    cacheKb: config.memory.sqliteCacheKb,
    readCachePages: config.memory.readCachePages,
    aggregateCacheBuckets: config.memory.aggregateCacheBuckets,
  })
  closers.push({ name: 'projection db', close: () => db.sqlite.close() })
  return { keys, db }
}

/** Shuts the node down (exit 70) when liveness fails: plain Docker never restarts an unhealthy container. */
function watchdogFor(
  liveness: () => Liveness,
  log: Logger,
  failure: ReturnType<typeof createFailure>
): Closer {
  const watchdog = startWatchdog({
    liveness,
    log,
    stopping: () => failure.code() !== undefined,
    fail: failure.fail,
  })
  return { name: 'watchdog', close: () => clearInterval(watchdog) }
}

/**
 * The composition root of a node: databases, event log, projection consumer, pollers, lag,
 * liveness, readiness, metrics and the API, in dependency order. `gridpulse serve` puts an HTTP
 * server in front of `fetch`; tests and benchmarks call it in process.
 */
export async function createNode(
  config: Config,
  overrides: NodeOverrides = {}
): Promise<GridPulseNode> {
  const log = overrides.log ?? createLogger({ level: config.log.level })
  const closers: Closer[] = []
  const failure = createFailure()
  const loops = createLoopRegistry()
  const pollers: { source: string; poller: Poller }[] = []

  const { keys, db } = openStores(config, overrides, log, closers)
  const bus =
    overrides.bus ?? (await openEventLog(config, { log, loops, fail: failure.fail, pollers }))
  closers.push({ name: 'event log', close: () => bus.close() })

  const metrics = createMetrics({ version: VERSION })
  const queries = createReadPort(db, { traceRequestsMax: config.trace.maxRequests })
  const { stream, alerts } = startFanOut(config, overrides, { queries, metrics, log, bus }, closers)
  const { consumer, topics } = await startProjection(db, bus, config, (batch) => {
    // First, in the tick of the commit: the stream's latency counts from here.
    stream.hub.publish(batch, Date.now())
    observeProjected(metrics, batch, eventTimeOf)
    evaluateAlerts(alerts, batch, log)
    overrides.onProjected?.(batch)
  })
  closers.push({ name: 'projection consumer', close: () => consumer.stop() })
  zeroKnownSeries(metrics, topics)
  if (config.bus.kind === 'kafka' && config.bus.security.tls?.ca)
    metrics.observeCertificates('kafka_tls_ca', config.bus.security.tls.ca)
  const sink = instrumentedSink(bus, metrics)

  const { sources, running } = startPollers(config, pollers, { bus, sink, log, loops, metrics })

  const { lag, closer } = await startLagMonitor(bus, queries, topics)
  closers.push(closer)
  const liveness = createLiveness({ bus, loops, lag, stallMs: config.liveness.stallMs })
  closers.push(watchdogFor(liveness, log, failure))
  const maxLag = config.readiness.maxLag
  const readiness = createNodeReadiness({ db, queries, bus, lag, loops, sources, maxLag })

  const api = createNodeApi(config, overrides, {
    queries,
    keys,
    sink,
    readiness,
    liveness,
    log,
    metrics,
    lag,
    loops,
    sources,
    bus,
    stream: stream.hub,
    alerts,
  })

  return {
    api,
    fetch: api.fetch,
    db,
    bus,
    queries,
    keys,
    metrics,
    readiness,
    liveness,
    sources,
    stream: stream.hub,
    alerts,
    failed: failure.failed,
    exitCode: failure.code,
    closeWith: (name, close) => {
      closers.push({ name, close })
    },
    async close() {
      await Promise.allSettled(running.map((p) => p.stop()))
      await closeAll(closers.splice(0), log)
    },
  }
}

/** The source pollers of this node (each under its supervisor) and the registry of their status. */
function startPollers(
  config: Config,
  pollers: { source: string; poller: Poller }[],
  deps: {
    readonly bus: EventBus
    readonly sink: EventBus
    readonly log: Logger
    readonly loops: ReturnType<typeof createLoopRegistry>
    readonly metrics: Metrics
  }
): { sources: SourceRegistry; running: Supervisor[] } {
  const { bus, sink, log, loops, metrics } = deps
  const sources = createSourceRegistry()
  const onFetched = observeFetched.bind(null, metrics)
  pollers.push(...createPollers(config.sources, { bus, sink, log, registry: sources, onFetched }))
  return { sources, running: supervisePollers(pollers, { log, loops }) }
}

/**
 * Known label sets have their series from the first scrape: dashboards show 0, not "No data", and
 * rate() counts the first event too (a series born at 1 has no earlier sample to rise from).
 */
function zeroKnownSeries(metrics: Metrics, topics: readonly string[]): void {
  for (const topic of topics) metrics.projectionApplied.inc({ topic }, 0)
  for (const event_type of EVENT_TYPES) {
    metrics.endToEndLatency.zero({ event_type })
    metrics.historicalEvents.inc({ event_type }, 0)
    metrics.streamDelivery.zero({ event_type })
  }
  for (const limit of ['total', 'per_key']) metrics.streamRefused.inc({ limit }, 0)
  // listed → fetched exists only for NEMWeb files; the other stages for every source.
  for (const source of SourceNameSchema.options)
    for (const stage of ['fetched', 'logged', 'projected', 'streamed'])
      if (stage !== 'fetched' || source.startsWith('aemo.'))
        metrics.stageLatency.zero({ stage, source })
}

/** Event topics have 3 partitions in both bus modes (DESIGN.md; Kafka's layout is verified). */
const STREAM_PARTITIONS = 3

/**
 * The live stream's hub, fed by this node's projection (so streamed = queryable here), with its
 * metrics, and the journal's retention sweep (hourly, and once at start).
 */
function startStreamHub(
  config: Config,
  overrides: NodeOverrides,
  deps: { readonly queries: ReadPort; readonly metrics: Metrics; readonly log: Logger }
) {
  const { queries, metrics, log } = deps
  const hub = createStreamHub({
    journal: queries.journal,
    topics: EVENT_TOPICS,
    partitions: STREAM_PARTITIONS,
    positions: () => queries.positions(PROJECTION_CONSUMER),
    maxConnections: config.stream.maxConnections,
    maxPerKey: config.stream.maxPerKey,
    bufferEvents: config.stream.bufferEvents,
    heartbeatMs: config.stream.heartbeatMs,
    visible: overrides.streamVisibility,
    onStreamed: (event, seconds) => {
      metrics.streamDelivery.observe({ event_type: event.event_type }, seconds)
      observeStreamed(metrics, event.source, seconds)
    },
    onConnections: (open) => metrics.streamConnections.set(open),
    onOverflow: () => metrics.streamOverflows.inc(),
    onRefused: (limit) => metrics.streamRefused.inc({ limit }),
  })
  const prune = () => {
    try {
      queries.journal.prune(Date.now() - config.stream.retentionMs)
    } catch (error) {
      // Retried next hour; meanwhile the journal only keeps a little more than it must.
      log.error({ err: error }, 'stream journal retention sweep failed')
    }
  }
  prune()
  const timer = setInterval(prune, 3600_000)
  timer.unref?.()
  return {
    hub,
    close() {
      clearInterval(timer)
      hub.close()
    },
  }
  for (const outcome of ['delivered', 'failed', 'refused'])
    metrics.alertDeliveries.inc({ outcome }, 0)
  for (const kind of AlertSchema.shape.kind.options) metrics.alertsFired.inc({ kind }, 0)
  metrics.alertRulesDisabled.inc(0)
}

/** The HTTP API of a node, with `/metrics` when METRICS_ENABLED. */
function createNodeApi(
  config: Config,
  overrides: NodeOverrides,
  deps: {
    readonly queries: ReadPort
    readonly keys: KeyStore
    readonly sink: EventBus
    readonly readiness: () => Promise<ReadinessReport>
    readonly liveness: () => Liveness
    readonly log: Logger
    readonly metrics: Metrics
    readonly lag: LagMonitor
    readonly loops: LoopRegistry
    readonly sources: SourceRegistry
    readonly bus: EventBus
    readonly stream: StreamHub
    readonly alerts: AlertService
  }
): GridPulseApi {
  const { queries, keys, sink, metrics, log } = deps
  const api = createApi({
    queries,
    publish: (events) => sink.publish(events),
    readiness: deps.readiness,
    liveness: deps.liveness,
    log,
    version: VERSION,
    now: overrides.now,
    maxBodyBytes: config.http.maxBodyBytes,
    stream: deps.stream,
    responseCacheBytes: config.memory.responseCacheBytes,
    sources: overrides.sourceStatuses ?? (() => deps.sources.list()),
    auth: overrides.auth ?? authFor(config.auth, keys),
    traceRequests: { traced: isTraced, record: queries.requests.record },
    alerts: deps.alerts,
    observeRequest: (route, method, status, seconds) =>
      metrics.httpDuration.observe({ route, method, status: String(status) }, seconds),
    metrics: config.metrics.enabled
      ? createMetricsPage({
          metrics,
          logHealth: () => deps.bus.health(),
          lag: deps.lag,
          loops: () => deps.loops.list(),
          sources: () => deps.sources.list(),
          readiness: deps.readiness,
        })
      : undefined,
  })
  if (config.auth.mode === 'keys' && keys.count() === 0) {
    log.warn(
      'AUTH_MODE=keys and no API keys exist: create one with `gridpulse keys create --consumer NAME --scope read|write`'
    )
  }
  return api
}
