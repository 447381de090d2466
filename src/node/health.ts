import type { EventBus } from '@/bus'
import { type LoopRegistry, type LoopStatus, stalledLoops } from '@/lib'
import {
  createReadiness,
  type Logger,
  type ReadinessReport,
  type SourceRegistry,
  sourcesCheck,
} from '@/observability'
import {
  isMigrated,
  type LagMonitor,
  type ProjectionDb,
  projectionLagCheck,
  type ReadPort,
} from '@/projection'
import { EX_SOFTWARE } from './version'

export type Liveness = { readonly alive: true } | { readonly alive: false; readonly detail: string }

/**
 * Liveness: what a restart of the process could fix. A critical loop its supervisor has not
 * brought back, or a projection behind and not moving while the log answers, for `stallMs`.
 */
export function createLiveness(deps: {
  readonly bus: EventBus
  readonly loops: LoopRegistry
  readonly lag: LagMonitor
  readonly stallMs: number
}): () => Liveness {
  const { bus, loops, lag, stallMs } = deps
  // A loop cannot come up while Kafka is down: its downtime counts from when Kafka answers again,
  // or a node whose broker returns after a long outage would be restarted just as it recovers.
  let reachableSince: number | null = null
  return () => {
    const now = Date.now()
    const connected = bus.health().connected
    reachableSince = connected ? (reachableSince ?? now) : null
    const problems = connected
      ? stalledLoops(loops.list(), stallMs, now, reachableSince ?? now).map(
          (l) =>
            `${l.name} has not been running for ${Math.round((now - (l.downSince ?? now)) / 1000)} s (${l.restarts} restarts)${l.lastError ? `: ${l.lastError}` : ''}`
        )
      : []
    if (lag.stalledForMs() > stallMs)
      problems.push(
        `the projection is ${lag.snapshot().lag} events behind and has not moved for ${Math.round(lag.stalledForMs() / 1000)} s`
      )
    return problems.length === 0
      ? { alive: true as const }
      : { alive: false as const, detail: problems.join('; ') }
  }
}

/**
 * Plain Docker and systemd restart a process that exits, not one that is merely unhealthy: a node
 * that liveness gives up on stops (70) after a graceful shutdown, and its restart policy (compose:
 * unless-stopped; systemd: Restart=always) brings it back. Returns the timer to clear.
 */
export function startWatchdog(deps: {
  readonly liveness: () => Liveness
  readonly log: Logger
  /** The node is already stopping with a code: nothing to add. */
  readonly stopping: () => boolean
  readonly fail: (code: number) => void
  /** How often liveness is looked at (10 s). */
  readonly everyMs?: number
}): ReturnType<typeof setInterval> {
  return setInterval(() => {
    const live = deps.liveness()
    if (live.alive || deps.stopping()) return
    deps.log.error(
      { detail: live.detail },
      'liveness failed; exiting so that the node is restarted'
    )
    deps.fail(EX_SOFTWARE)
  }, deps.everyMs ?? 10_000)
}

/**
 * Writes: accepted while the outbox has room, whether or not Kafka answers right now (the outbox
 * is there to absorb an outage). The broker's state is reported, not required.
 */
function eventLogCheck(bus: EventBus) {
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
}

function loopsCheck(list: readonly LoopStatus[]) {
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
}

/** `/ready`: the checks of a node, required (database, event log, projection) or reported. */
export function createNodeReadiness(deps: {
  readonly db: ProjectionDb
  readonly queries: ReadPort
  readonly bus: EventBus
  readonly lag: LagMonitor
  readonly loops: LoopRegistry
  readonly sources: SourceRegistry
  readonly maxLag: number
}): () => Promise<ReadinessReport> {
  const { db, queries, bus, lag, loops, sources } = deps
  return createReadiness({
    database: { required: true, run: () => ({ ok: isMigrated(db) && queries.ping() }) },
    event_log: { required: true, run: () => eventLogCheck(bus) },
    // Reads: the projection within READY_MAX_LAG of the log as last seen (kept through an outage).
    projection: {
      required: true,
      run: () =>
        projectionLagCheck(lag, {
          maxLag: deps.maxLag,
          logConnected: () => bus.health().connected,
        }),
    },
    loops: { required: false, run: () => loopsCheck(loops.list()) },
    // Informational: an edge node without internet keeps serving what it has.
    sources: { required: false, run: () => sourcesCheck(sources.list()) },
  })
}
