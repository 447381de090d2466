import type { LoopStatus } from '@/lib'
import type { SourceStatus } from './health'
import { HISTORICAL_AFTER_SECONDS, type Metrics } from './metrics'

// Observability knows no domain module (STYLE.md §9): the pipeline's shapes are described here by
// the few fields the metrics read, and the bus's and canonical types fit them structurally.
interface IngestedEvent {
  readonly source: string
  readonly event_type: string
}
interface RejectedRecord {
  readonly source: string
  readonly code: string
}
interface Sink<E extends IngestedEvent, R extends RejectedRecord, O> {
  publish(events: readonly E[], options?: O): Promise<void>
  deadLetter(records: readonly R[], options?: O): Promise<void>
}

/**
 * Counts what sources hand to the log: events by source and type, rejects by source and reason.
 * Everything else of `sink` (health, leadership…) is inherited unchanged.
 */
export function instrumentedSink<
  E extends IngestedEvent,
  R extends RejectedRecord,
  O,
  S extends Sink<E, R, O>,
>(sink: S, metrics: Metrics): S {
  return Object.assign(Object.create(sink) as S, {
    publish: async (events: readonly E[], options?: O) => {
      await sink.publish(events, options)
      for (const e of events)
        metrics.eventsIngested.inc({ source: e.source, event_type: e.event_type })
    },
    deadLetter: async (records: readonly R[], options?: O) => {
      await sink.deadLetter(records, options)
      for (const r of records) metrics.eventsRejected.inc({ source: r.source, code: r.code })
    },
  })
}

interface ProjectedEvent {
  readonly event_type: string
  readonly source: string
  /** When GridPulse normalised the event (ISO-8601). */
  readonly ingested_at: string
  /** Only a SCADA reconciliation carries it (MW). */
  readonly unmapped_mw?: number
}
type ProjectedRecord<E extends ProjectedEvent> =
  | { readonly kind: 'event'; readonly event: E; readonly loggedAt?: number }
  | { readonly kind: 'dead_letter'; readonly deadLetter: { topic: string; code: string } }
  | { readonly kind: 'skipped' }

/**
 * After a committed batch: applied counts, DLQ records, and interval end → queryable latency.
 * `eventTime` is the event's interval end or observation time (ISO-8601). Whether an event is
 * historical is judged by when it was ingested, not projected: an event held in the outbox through
 * a long Kafka outage was live when it arrived, and its latency is what operators must see.
 */
export function observeProjected<E extends ProjectedEvent>(
  metrics: Metrics,
  batch: { readonly topic: string; readonly records: readonly ProjectedRecord<E>[] },
  eventTime: (event: E) => string,
  now: number = Date.now()
): void {
  metrics.projectionApplied.inc({ topic: batch.topic }, batch.records.length)
  for (const record of batch.records) {
    if (record.kind === 'dead_letter')
      metrics.dlqRecords.inc({ topic: record.deadLetter.topic, code: record.deadLetter.code })
    else if (record.kind === 'event') {
      const e = record.event
      observeLogged(metrics, e, record.loggedAt, now)
      const at = Date.parse(eventTime(e))
      if ((Date.parse(e.ingested_at) - at) / 1000 > HISTORICAL_AFTER_SECONDS)
        metrics.historicalEvents.inc({ event_type: e.event_type })
      else
        metrics.endToEndLatency.observe(
          { event_type: e.event_type },
          Math.max(0, (now - at) / 1000)
        )
      if (e.event_type === 'ScadaReconciliationEvent' && e.unmapped_mw !== undefined)
        metrics.scadaUnmapped.set(e.unmapped_mw * 1e6)
    }
  }
}

/**
 * The stages around the log, observed as a batch is projected: normalised (`ingested_at`) → on the
 * log (the record's timestamp) → queryable (now). Every node projects, so every node reports both;
 * a record without a timestamp reports neither.
 */
function observeLogged(
  metrics: Metrics,
  e: { readonly source: string; readonly ingested_at: string },
  loggedAt: number | undefined,
  now: number
): void {
  if (loggedAt === undefined || !(loggedAt > 0)) return
  const seconds = (from: number, to: number) => Math.max(0, (to - from) / 1000)
  const ingested = Date.parse(e.ingested_at)
  metrics.stageLatency.observe({ stage: 'logged', source: e.source }, seconds(ingested, loggedAt))
  metrics.stageLatency.observe({ stage: 'projected', source: e.source }, seconds(loggedAt, now))
}

/**
 * listed → fetched: from the time AEMO's listing gives a file (epoch ms, minute precision) to the
 * end of its download. Called by the NEMWeb cycle.
 */
export function observeFetched(
  metrics: Metrics,
  source: string,
  listedAt: number,
  fetchedAt: number
): void {
  metrics.stageLatency.observe(
    { stage: 'fetched', source },
    Math.max(0, (fetchedAt - listedAt) / 1000)
  )
}

/**
 * projected → streamed: for the `/api/v1/stream` endpoint, once per event queued to its clients
 * (not per client), with the seconds since its projection transaction committed.
 */
export function observeStreamed(metrics: Metrics, source: string, seconds: number): void {
  metrics.stageLatency.observe({ stage: 'streamed', source }, Math.max(0, seconds))
}

/**
 * The `/metrics` page: copies the live state (readiness, log health, lag, loops, sources) into the
 * gauges, then renders the registry. Every loop has its restart counter from the first scrape, at 0
 * until it restarts, so `increase()` sees the first restart too.
 */
export function createMetricsPage(options: {
  readonly metrics: Metrics
  readonly logHealth: () => {
    readonly connected: boolean
    readonly outboxDepth: number
    readonly outboxMaxEvents?: number
  }
  readonly lag: {
    refresh(): Promise<void>
    snapshot(): { readonly byPartition: ReadonlyMap<string, number> }
  }
  readonly loops: () => readonly LoopStatus[]
  readonly sources: () => readonly SourceStatus[]
  readonly readiness: () => Promise<{ readonly ready: boolean }>
}): { readonly contentType: string; readonly render: () => Promise<string> } {
  const { metrics, lag } = options
  const restartsSeen = new Map<string, number>()
  return {
    contentType: metrics.registry.contentType,
    render: async () => {
      const health = options.logHealth()
      if (health.connected) await lag.refresh()
      metrics.nodeReady.set((await options.readiness()).ready ? 1 : 0)
      metrics.outboxDepth.set(health.outboxDepth)
      if (health.outboxMaxEvents !== undefined) metrics.outboxMax.set(health.outboxMaxEvents)
      metrics.brokerConnected.set(health.connected ? 1 : 0)
      // During a Kafka outage the gauges keep the lag as last seen; the rest of the page
      // (outbox depth above all) is what operators watch then.
      for (const [pk, behind] of lag.snapshot().byPartition) {
        const cut = pk.lastIndexOf('/')
        metrics.consumerLag.set({ topic: pk.slice(0, cut), partition: pk.slice(cut + 1) }, behind)
      }
      for (const l of options.loops()) {
        metrics.loopUp.set({ loop: l.name }, l.state === 'running' ? 1 : 0)
        const seen = restartsSeen.get(l.name) ?? 0
        metrics.loopRestarts.inc({ loop: l.name }, Math.max(0, l.restarts - seen))
        restartsSeen.set(l.name, Math.max(seen, l.restarts))
      }
      metrics.observeSources(options.sources())
      return metrics.registry.metrics()
    },
  }
}
