#!/usr/bin/env bun
/**
 * The composition root and the toolbox: the only module that reads configuration, opens resources
 * and connects modules. Subcommands: serve (default) | migrate | openapi | healthcheck.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { openKeyStore } from '@/access'
import { createApi, openApiDocument } from '@/api'
import { createLoopRegistry, type Supervisor, sleep, stalledLoops, supervise } from '@/lib'
import {
  type ConsumedBatch,
  createEmbeddedBus,
  createKafkaBus,
  type EventBus,
  type PublishOptions,
} from '@/bus'
import { type DeadLetter, DLQ_TOPICS, EVENT_TOPICS, eventTimeOf, type GridEvent } from '@/canonical'
import {
  createLagMonitor,
  createLogger,
  createMetrics,
  createReadiness,
  createSourceRegistry,
  type Logger,
  type Metrics,
  silentLogger,
  logProcessWarnings,
} from '@/observability'
import { createProjector, createQueries, isMigrated, migrate, openProjectionDb } from '@/projection'
import {
  createForecastCycle,
  createNemwebCycle,
  type CycleContext,
  createPoller,
  type CycleResult,
  type Poller,
  NEMWEB,
  type NemwebKind,
  runBackfill,
} from '@/sources'
import { type Config, ConfigError, loadConfig } from './config'

declare const BUILD_VERSION: string | undefined
const VERSION = typeof BUILD_VERSION === 'string' ? BUILD_VERSION : 'dev'
const PROJECTION_CONSUMER = 'gridpulse.projection.v1'

const HELP = `gridpulse ${VERSION} — AEMO NEM market data and weather, one canonical model, one API

Usage: gridpulse [command]

Commands:
  serve        run pollers, event log, projection and the HTTP API (default)
  migrate      apply database migrations and exit
  openapi      print the OpenAPI 3.1 document of this build
  healthcheck  GET /health on 127.0.0.1:$PORT; exit 0 when alive (for distroless images)
  backfill --source dispatchis|scada|dispatch --from YYYY-MM-DD --to YYYY-MM-DD
               ingest NEMWeb Archive daily zips (market dates, inclusive) into the event log;
               resumable: a rerun skips finished days and continues an interrupted one
  keys create --consumer NAME --scope read|write
               create an API key for a team (printed once; only its hash is stored)
  keys list    list keys (id, consumer, scope, created, revoked)
  keys revoke ID
               revoke a key; it stops working at once
  help         this text

Configuration comes from the environment only; see the README's configuration table.
`

const EX_CONFIG = 78
const EX_SOFTWARE = 70

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP)
    return 0
  }
  if (command === 'version' || command === '--version') {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      return EX_CONFIG
    }
    throw error
  }
  if (rest.length > 0 && command !== 'keys' && command !== 'backfill') {
    console.error(`unexpected arguments: ${rest.join(' ')}\n\n${HELP}`)
    return 64
  }
  switch (command) {
    case 'serve':
      return serve(config)
    case 'migrate': {
      mkdirSync(config.data.dir, { recursive: true })
      // Before the projection's migrations, which drop the table the keys are carried over from.
      openKeyStore(config.data.accessPath, { carryOverFrom: config.data.projectionPath }).close()
      const db = openProjectionDb(config.data.projectionPath, { migrate: false })
      const { applied } = migrate(db)
      db.sqlite.close()
      process.stdout.write(
        applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n'
      )
      return 0
    }
    case 'openapi': {
      const db = openProjectionDb(':memory:')
      const api = createApi({
        queries: createQueries(db),
        publish: async () => {},
        readiness: async () => ({ ready: true, checks: {} }),
        log: silentLogger(),
        version: VERSION,
      })
      process.stdout.write(`${JSON.stringify(openApiDocument(api), null, 2)}\n`)
      return 0
    }
    case 'keys':
      return keys(config, rest)
    case 'backfill':
      return backfill(config, rest)
    case 'healthcheck': {
      try {
        const response = await fetch(`http://127.0.0.1:${config.http.port}/health`, {
          signal: AbortSignal.timeout(3000),
        })
        return response.ok ? 0 : 1
      } catch {
        return 1
      }
    }
    default:
      console.error(`unknown command: ${command}\n\n${HELP}`)
      return 64
  }
}

async function backfill(config: Config, args: string[]): Promise<number> {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const source = flag('source')
  const from = flag('from')
  const to = flag('to') ?? from
  const date = /^\d{4}-\d{2}-\d{2}$/
  const kinds: readonly NemwebKind[] =
    source === 'dispatch'
      ? ['dispatchis', 'scada']
      : source === 'dispatchis' || source === 'scada'
        ? [source]
        : []
  if (
    kinds.length === 0 ||
    !from ||
    !to ||
    !date.test(from) ||
    !date.test(to) ||
    from > to ||
    Number.isNaN(Date.parse(from)) ||
    Number.isNaN(Date.parse(to))
  ) {
    console.error(
      'usage: gridpulse backfill --source dispatchis|scada|dispatch --from YYYY-MM-DD [--to YYYY-MM-DD]'
    )
    return 64
  }
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level })
  mkdirSync(config.data.dir, { recursive: true })
  // Embedded: the backfill appends to the log the running node consumes (the SQLite log is safe
  // for a second writer process). Kafka: it has an outbox of its own, so the node's relay and this
  // one never send the same rows, and it waits for that outbox to drain before exiting.
  const bus: EventBus =
    config.bus.kind === 'kafka'
      ? await createKafkaBus({
          brokers: config.bus.brokers,
          security: config.bus.security,
          nodeId: `${config.nodeId}-backfill`,
          outboxPath: join(config.data.dir, 'backfill-outbox.sqlite'),
          log,
          leadership: false,
        })
      : createEmbeddedBus({ path: config.data.logPath, log })
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  process.once('SIGTERM', () => abort.abort())
  let failed = false
  try {
    for (const kind of kinds) {
      const result = await runBackfill({
        baseUrl: config.sources.aemo.baseUrl,
        kind,
        from,
        to,
        sink: bus,
        signal: abort.signal,
        // One updating line on a terminal; one line per step in a log file.
        progress: (line) =>
          process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`),
      })
      process.stderr.write(
        `\n${kind}: ${result.days} days, ${result.files} files, ${result.events} events, ${result.rejected} rejected${result.missing.length ? `; not in the archive: ${result.missing.join(', ')}` : ''}\n`
      )
      if (abort.signal.aborted) {
        process.stderr.write('interrupted; run the same command again to resume\n')
        failed = true
        break
      }
    }
    while (!abort.signal.aborted && bus.health().outboxDepth > 0) {
      process.stderr.write(`waiting for ${bus.health().outboxDepth} events to reach Kafka\n`)
      await sleep(2_000, abort.signal)
    }
  } catch (error) {
    process.stderr.write(
      `\nbackfill failed: ${error instanceof Error ? error.message : String(error)} (rerun to resume)\n`
    )
    failed = true
  } finally {
    await bus.close()
  }
  return failed ? 1 : 0
}

function keys(config: Config, args: string[]): number {
  const [action, ...options] = args
  const flag = (name: string) => {
    const i = options.indexOf(`--${name}`)
    return i >= 0 ? options[i + 1] : undefined
  }
  mkdirSync(config.data.dir, { recursive: true })
  const store = openKeyStore(config.data.accessPath, { carryOverFrom: config.data.projectionPath })
  try {
    if (action === 'create') {
      const consumer = flag('consumer')
      const scope = flag('scope') ?? 'read'
      if (
        !consumer ||
        !/^[a-z0-9][a-z0-9-]{0,62}$/.test(consumer) ||
        (scope !== 'read' && scope !== 'write')
      ) {
        console.error(
          'usage: gridpulse keys create --consumer NAME --scope read|write  (NAME: lowercase letters, digits, -)'
        )
        return 64
      }
      const { key, info } = store.create(consumer, scope)
      process.stderr.write(
        `created key ${info.id} for ${consumer} (${scope}); it is shown once, store it now:\n`
      )
      process.stdout.write(`${key}\n`)
      return 0
    }
    if (action === 'list') {
      for (const k of store.list()) {
        process.stdout.write(
          `${k.id}\t${k.consumer}\t${k.scope}\t${k.createdAt}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}\n`
        )
      }
      return 0
    }
    if (action === 'revoke' && options[0]) {
      if (store.revoke(options[0])) return 0
      console.error(`no key with id ${options[0]}`)
      return 1
    }
    console.error(
      'usage: gridpulse keys create --consumer NAME --scope read|write | keys list | keys revoke ID'
    )
    return 64
  } finally {
    store.close()
  }
}

async function serve(config: Config): Promise<number> {
  const log = createLogger({ level: config.log.level })
  // The log is JSON lines: a process warning must not arrive as Bun's plain-text printout.
  logProcessWarnings(log.child({ component: 'process' }))
  const started = performance.now()
  const closers: { name: string; close: () => unknown }[] = []
  const shutdown = new AbortController()

  mkdirSync(config.data.dir, { recursive: true })
  // Before the projection: its migrations drop the table old keys are carried over from.
  const keyStore = openKeyStore(config.data.accessPath, {
    carryOverFrom: config.data.projectionPath,
  })
  closers.push({ name: 'key store', close: () => keyStore.close() })
  if (keyStore.carriedOver > 0)
    log.info({ keys: keyStore.carriedOver }, 'API keys carried over from projection.sqlite')
  const db = openProjectionDb(config.data.projectionPath)
  closers.push({ name: 'projection db', close: () => db.sqlite.close() })

  // Set when the node cannot run at all (Kafka topics laid out differently): stop with its code.
  let fatalStop: ((code: number) => void) | undefined
  let fatalCode: number | undefined
  const loops = createLoopRegistry()
  const pollers: Poller[] = []

  // Kafka mode: log.sqlite holds the durable outbox; the topics are created and verified in the
  // background, so the node serves reads and accepts writes while Kafka is still down.
  const bus: EventBus =
    config.bus.kind === 'kafka'
      ? await createKafkaBus({
          brokers: config.bus.brokers,
          security: config.bus.security,
          nodeId: config.nodeId,
          outboxPath: config.data.logPath,
          log,
          loops,
          outboxMaxEvents: config.outbox.maxEvents,
          onFatal: () => {
            fatalCode = EX_CONFIG
            fatalStop?.(EX_CONFIG)
          },
          // A new leader polls at once instead of one poll period later (15 min for weather).
          onLeaderChange: (leader) => {
            if (leader) for (const p of pollers) p.wake()
          },
        })
      : createEmbeddedBus({ path: config.data.logPath, log })
  closers.push({ name: 'event log', close: () => bus.close() })

  const metrics = createMetrics({ version: VERSION })
  const projector = createProjector(db, PROJECTION_CONSUMER)
  const queries = createQueries(db)
  const topics = [...EVENT_TOPICS, ...DLQ_TOPICS]
  const consumer = await bus.subscribe({
    // Each node keeps its own full projection, so each node is its own consumer group on Kafka.
    groupId:
      config.bus.kind === 'kafka' ? `${PROJECTION_CONSUMER}.${config.nodeId}` : PROJECTION_CONSUMER,
    topics,
    startOffset: projector.startOffset,
    onBatch: async (batch) => {
      await projector.project(batch)
      observeProjected(metrics, batch)
    },
  })
  closers.push({ name: 'projection consumer', close: () => consumer.stop() })
  const sink = instrumentedSink(bus, metrics)

  const registry = createSourceRegistry()
  const runningPollers: Supervisor[] = []
  if (config.sources.enabled.has('openmeteo')) {
    const status = registry.register('openmeteo.forecast', config.sources.openMeteo.everyMs)
    const poller = createPoller({
      status,
      everyMs: config.sources.openMeteo.everyMs,
      outage: config.sources.outage,
      log: log.child({ component: 'sources.openmeteo' }),
      cycle: leaderOnly(
        bus,
        createForecastCycle({
          baseUrl: config.sources.openMeteo.baseUrl,
          locations: config.sources.openMeteo.locations,
          sink,
        })
      ),
    })
    pollers.push(poller)
  }

  if (config.sources.enabled.has('aemo')) {
    for (const kind of ['dispatchis', 'scada'] as const) {
      const status = registry.register(NEMWEB[kind].source, config.sources.aemo.everyMs)
      const plog = log.child({ component: `sources.aemo.${kind}` })
      const poller = createPoller({
        status,
        everyMs: config.sources.aemo.everyMs,
        outage: config.sources.outage,
        log: plog,
        cycle: leaderOnly(
          bus,
          createNemwebCycle({
            baseUrl: config.sources.aemo.baseUrl,
            kind,
            sink,
            log: plog,
            initialLookbackMs: config.sources.aemo.initialLookbackMs,
          })
        ),
      })
      pollers.push(poller)
    }
  }
  // A poller handles its own failures; the supervisor is there for what escapes it.
  for (const [i, poller] of pollers.entries())
    runningPollers.push(
      supervise({
        name: `poller ${registry.list()[i]?.source ?? i}`,
        log,
        registry: loops,
        run: (signal, up) => {
          up()
          return poller.run(signal)
        },
      })
    )

  const lag = createLagMonitor({
    endOffsets: () => bus.endOffsets(topics),
    positions: () => queries.positions(PROJECTION_CONSUMER),
  })
  await lag.refresh()
  const lagTimer = setInterval(() => void lag.refresh(), 5_000)
  closers.push({ name: 'lag monitor', close: () => clearInterval(lagTimer) })

  // Liveness: what a restart of the process could fix. A critical loop its supervisor has not
  // brought back, or a projection behind and not moving while the log answers, for stallMs.
  const liveness = () => {
    const now = Date.now()
    const connected = bus.health().connected
    const problems = connected
      ? stalledLoops(loops.list(), config.liveness.stallMs, now).map(
          (l) =>
            `${l.name} has been ${l.state} for ${Math.round((now - l.since) / 1000)} s${l.lastError ? ` (${l.lastError})` : ''}`
        )
      : []
    if (lag.stalledForMs() > config.liveness.stallMs)
      problems.push(
        `the projection is ${lag.snapshot().lag} events behind and has not moved for ${Math.round(lag.stalledForMs() / 1000)} s`
      )
    return problems.length === 0
      ? { alive: true as const }
      : { alive: false as const, detail: problems.join('; ') }
  }

  // Plain Docker and systemd restart a process that exits, not one that is merely unhealthy: a
  // node that liveness gives up on exits (70) after a graceful shutdown, and its restart policy
  // (compose: unless-stopped; systemd: Restart=always) brings it back.
  const watchdog = setInterval(() => {
    const live = liveness()
    if (live.alive || fatalCode !== undefined) return
    log.error({ detail: live.detail }, 'liveness failed; exiting so that the node is restarted')
    fatalCode = EX_SOFTWARE
    fatalStop?.(EX_SOFTWARE)
  }, 10_000)
  closers.push({ name: 'watchdog', close: () => clearInterval(watchdog) })

  const readiness = createReadiness({
    database: { required: true, run: () => ({ ok: isMigrated(db) && queries.ping() }) },
    // Writes: accepted while the outbox has room, whether or not Kafka answers right now (the
    // outbox is there to absorb an outage). The broker's state is reported, not required.
    event_log: {
      required: true,
      run: () => {
        const h = bus.health()
        const full = h.outboxMaxEvents !== undefined && h.outboxDepth >= h.outboxMaxEvents
        return {
          ok: !full,
          kind: h.kind,
          connected: h.connected,
          broker: h.kind === 'embedded' ? 'embedded' : h.connected ? 'up' : 'down',
          leader: bus.isLeader(),
          outbox_depth: h.outboxDepth,
          ...(h.outboxMaxEvents !== undefined ? { outbox_max_events: h.outboxMaxEvents } : {}),
          ...(full
            ? { detail: `the outbox is full (${h.outboxDepth} events); writes get 503` }
            : h.detail
              ? { detail: h.detail }
              : {}),
        }
      },
    },
    // Reads: the projection within READY_MAX_LAG of the log as last seen (kept through an outage).
    projection: {
      required: true,
      run: async () => {
        // A fresh look whenever the log answers; the last known ends only through an outage.
        if (bus.health().connected) await lag.refresh()
        const snapshot = lag.snapshot()
        // Never seen the log end (Kafka down since start): serve what the projection holds.
        const ok = snapshot.endsReadAt === null || snapshot.lag <= config.readiness.maxLag
        return {
          ok,
          lag: snapshot.endsReadAt === null ? null : snapshot.lag,
          lag_as_of:
            snapshot.endsReadAt === null ? null : new Date(snapshot.endsReadAt).toISOString(),
          ...(snapshot.endsReadAt === null
            ? { detail: 'lag unknown: the log has not answered since start' }
            : ok
              ? {}
              : { detail: `projection is ${snapshot.lag} events behind the log` }),
        }
      },
    },
    loops: {
      required: false,
      run: () => {
        const list = loops.list()
        return {
          ok: list.every((l) => l.state === 'running'),
          loops: list.map((l) => ({
            name: l.name,
            state: l.state,
            since: new Date(l.since).toISOString(),
            restarts: l.restarts,
            ...(l.lastError ? { last_error: l.lastError } : {}),
          })),
        }
      },
    },
    // Informational: an edge node without internet keeps serving what it has.
    sources: {
      required: false,
      run: () => {
        const now = Date.now()
        const sources = registry.list().map((s) => ({
          source: s.source,
          fresh: s.lastSuccessAt !== null && now - s.lastSuccessAt <= 3 * s.expectedEveryMs,
          last_success_at:
            s.lastSuccessAt === null ? null : new Date(s.lastSuccessAt).toISOString(),
          consecutive_failures: s.consecutiveFailures,
          last_error: s.lastError,
        }))
        return { ok: sources.every((s) => s.fresh), sources }
      },
    },
  })

  const restartsSeen = new Map<string, number>()
  const api = createApi({
    queries,
    publish: (events) => sink.publish(events),
    readiness,
    liveness,
    log,
    version: VERSION,
    maxBodyBytes: config.http.maxBodyBytes,
    sources: () => registry.list(),
    auth:
      config.auth.mode === 'keys'
        ? {
            mode: 'keys',
            verify: keyStore.verify,
            perMinute: config.auth.perMinute,
            anonymousPerMinute: config.auth.anonymousPerMinute,
          }
        : config.auth.mode === 'gateway'
          ? {
              mode: 'gateway',
              secret: config.auth.secret,
              perMinute: config.auth.perMinute,
              anonymousPerMinute: config.auth.anonymousPerMinute,
            }
          : { mode: 'none' },
    observeRequest: (route, method, status, seconds) =>
      metrics.httpDuration.observe({ route, method, status: String(status) }, seconds),
    metrics: config.metrics.enabled
      ? {
          contentType: metrics.registry.contentType,
          render: async () => {
            const health = bus.health()
            if (health.connected) await lag.refresh()
            metrics.outboxDepth.set(health.outboxDepth)
            if (health.outboxMaxEvents !== undefined) metrics.outboxMax.set(health.outboxMaxEvents)
            metrics.brokerConnected.set(health.connected ? 1 : 0)
            // During a Kafka outage the gauges keep the lag as last seen; the rest of the page
            // (outbox depth above all) is what operators watch then.
            for (const [pk, behind] of lag.snapshot().byPartition) {
              const cut = pk.lastIndexOf('/')
              metrics.consumerLag.set(
                { topic: pk.slice(0, cut), partition: pk.slice(cut + 1) },
                behind
              )
            }
            for (const l of loops.list()) {
              metrics.loopUp.set({ loop: l.name }, l.state === 'running' ? 1 : 0)
              const seen = restartsSeen.get(l.name) ?? 0
              if (l.restarts > seen) metrics.loopRestarts.inc({ loop: l.name }, l.restarts - seen)
              restartsSeen.set(l.name, l.restarts)
            }
            metrics.observeSources(registry.list())
            return metrics.registry.metrics()
          },
        }
      : undefined,
  })
  if (config.auth.mode === 'keys' && keyStore.count() === 0) {
    log.warn(
      'AUTH_MODE=keys and no API keys exist: create one with `gridpulse keys create --consumer NAME --scope read|write`'
    )
  }
  const server = Bun.serve({
    port: config.http.port,
    hostname: config.http.host,
    fetch: api.fetch,
    maxRequestBodySize: 16 * 1024 * 1024,
  })
  closers.push({ name: 'http server', close: () => server.stop() })
  // A wildcard bind is reachable on every interface; localhost is the one name that always works.
  const host = ['0.0.0.0', '::', '[::]'].includes(config.http.host)
    ? 'localhost'
    : config.http.host.includes(':')
      ? `[${config.http.host}]`
      : config.http.host
  const docsUrl = `http://${host}:${server.port}/docs`
  log.info(
    {
      port: server.port,
      docs_url: docsUrl,
      data_dir: config.data.dir,
      bus: bus.kind,
      version: VERSION,
      startup_ms: Math.round(performance.now() - started),
    },
    `gridpulse is serving; docs at ${docsUrl}`
  )

  const signalled = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
    fatalStop = () => resolve('fatal')
    if (fatalCode !== undefined) resolve('fatal')
  })
  log.info({ signal: signalled }, 'shutting down')
  shutdown.abort()
  const timer = setTimeout(() => {
    log.error({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown timed out')
    process.exit(1)
  }, config.shutdownTimeoutMs)
  await Promise.allSettled(runningPollers.map((p) => p.stop()))
  await closeAll(closers, log)
  clearTimeout(timer)
  log.info('stopped')
  log.flush()
  return fatalCode ?? 0
}

/** Counts what sources hand to the log: events by source and type, rejects by source and reason. */
function instrumentedSink(bus: EventBus, metrics: Metrics): EventBus {
  return Object.assign(Object.create(bus) as EventBus, {
    publish: async (events: readonly GridEvent[], options?: PublishOptions) => {
      await bus.publish(events, options)
      for (const e of events)
        metrics.eventsIngested.inc({ source: e.source, event_type: e.event_type })
    },
    deadLetter: async (records: readonly DeadLetter[], options?: PublishOptions) => {
      await bus.deadLetter(records, options)
      for (const r of records) metrics.eventsRejected.inc({ source: r.source, code: r.code })
    },
  })
}

/** After a committed batch: applied counts, DLQ records, and interval end → queryable latency. */
function observeProjected(metrics: Metrics, batch: ConsumedBatch, now = Date.now()) {
  metrics.projectionApplied.inc({ topic: batch.topic }, batch.records.length)
  for (const record of batch.records) {
    if (record.kind === 'dead_letter')
      metrics.dlqRecords.inc({ topic: record.deadLetter.topic, code: record.deadLetter.code })
    else if (record.kind === 'event') {
      const e = record.event
      const at = Date.parse(eventTimeOf(e))
      metrics.endToEndLatency.observe({ event_type: e.event_type }, Math.max(0, (now - at) / 1000))
      if (e.event_type === 'ScadaReconciliationEvent')
        metrics.scadaUnmapped.set(e.unmapped_mw * 1e6)
    }
  }
}

/** Scale-out: every node projects, but only the leader polls the sources. */
const leaderOnly =
  (bus: EventBus, cycle: (signal: AbortSignal, context: CycleContext) => Promise<CycleResult>) =>
  (signal: AbortSignal, context: CycleContext): Promise<CycleResult> =>
    bus.isLeader()
      ? cycle(signal, context)
      : Promise.resolve({ events: 0, rejected: 0, skipped: true })

/** Closes in reverse order of creation; one failing closer does not keep the others open. */
async function closeAll(closers: { name: string; close: () => unknown }[], log: Logger) {
  for (const { name, close } of closers.reverse()) {
    try {
      await close()
    } catch (error) {
      log.error({ err: error, resource: name }, 'close failed')
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error('fatal:', error)
    process.exit(EX_SOFTWARE)
  }
)
