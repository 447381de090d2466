import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { SOURCE_FAILURE_REASONS, type SourceFailureReason } from '@/lib'
import type { SourceStatus } from './health'

/**
 * GridPulse's Prometheus metrics. Names follow Prometheus conventions (base units, `_total` for
 * counters); the Grafana dashboard in deploy/ queries exactly these names (a test checks it).
 */
export function createMetrics(options: { version: string }) {
  const registry = new Registry()
  // prom-client samples the event-loop delay with a 10 ms timer by default: 100 wake-ups a second,
  // about half a percent of a core on an idle node (`bun run bench edge`). Every 100 ms still
  // catches each stall long enough to matter (nodejs_eventloop_lag_* record the late ticks).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 })
  // prom-client names these gauges `_total`, a suffix Prometheus reserves for counters (promtool
  // flags them). They add little to the process_* metrics, so they are dropped.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name)
  }

  const buildInfo = new Gauge({
    name: 'gridpulse_build_info',
    help: 'Build information; always 1',
    labelNames: ['version'],
    registers: [registry],
  })
  buildInfo.set({ version: options.version }, 1)

  const sourceFailures = new Counter({
    name: 'gridpulse_source_failures_total',
    help: 'Failed polls of each source, by reason (unreachable, timeout, http_status, invalid_response, internal)',
    labelNames: ['source', 'reason'],
    registers: [registry],
  })
  const sourceLastAttempt = new Gauge({
    name: 'gridpulse_source_last_attempt_timestamp_seconds',
    help: 'Unix time of the last poll attempt of each source, successful or not; 0 before the first',
    labelNames: ['source'],
    registers: [registry],
  })
  const sourceLastSuccess = new Gauge({
    name: 'gridpulse_source_last_success_timestamp_seconds',
    help: 'Unix time of the last successful poll of each source; 0 until the first success',
    labelNames: ['source'],
    registers: [registry],
  })
  // Failures already added to the counter, per source and reason: the statuses hold running totals.
  const counted = new Map<string, number>()

  return {
    registry,
    sourceFailures,
    sourceLastAttempt,
    sourceLastSuccess,
    /**
     * Copies the source statuses into the source metrics (call before each render). Every
     * registered source has every series from the first scrape on, at 0 until it happens, so a
     * source that never succeeded is visible to dashboards and alerts (`time() - 0` is huge), and
     * `rate()` over the failure counter starts from a sample.
     */
    observeSources(statuses: readonly SourceStatus[]) {
      for (const s of statuses) {
        sourceLastAttempt.set({ source: s.source }, (s.lastAttemptAt ?? 0) / 1000)
        sourceLastSuccess.set({ source: s.source }, (s.lastSuccessAt ?? 0) / 1000)
        for (const reason of SOURCE_FAILURE_REASONS as readonly SourceFailureReason[]) {
          const key = `${s.source}\u0000${reason}`
          const delta = s.failures[reason] - (counted.get(key) ?? 0)
          sourceFailures.inc({ source: s.source, reason }, Math.max(0, delta))
          counted.set(key, Math.max(counted.get(key) ?? 0, s.failures[reason]))
        }
      }
    },
    eventsIngested: new Counter({
      name: 'gridpulse_events_ingested_total',
      help: 'Canonical events accepted from a source and published to the event log',
      labelNames: ['source', 'event_type'],
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'gridpulse_events_rejected_total',
      help: 'Source inputs rejected to a dead-letter topic, by reason code',
      labelNames: ['source', 'code'],
      registers: [registry],
    }),
    dlqRecords: new Counter({
      name: 'gridpulse_dlq_records_total',
      help: 'Dead-letter records projected, by original topic and reason code',
      labelNames: ['topic', 'code'],
      registers: [registry],
    }),
    projectionApplied: new Counter({
      name: 'gridpulse_projection_events_applied_total',
      help: 'Records applied to the projection, by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    endToEndLatency: new Histogram({
      name: 'gridpulse_end_to_end_latency_seconds',
      help: 'From the end of the upstream interval (or observation time) to the event being queryable',
      labelNames: ['event_type'],
      // AEMO publishes ~30-60 s after the interval ends; weather is 15-minutely.
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 21_600, 86_400],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'gridpulse_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: 'gridpulse_outbox_depth',
      help: 'Events committed locally, not yet on the event log',
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'gridpulse_consumer_lag',
      help: 'Messages between the projection checkpoint and the log end, per partition',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    loopUp: new Gauge({
      name: 'gridpulse_loop_up',
      help: 'Whether each supervised loop (consumer, relay, leadership, pollers) is running (1) or being restarted (0)',
      labelNames: ['loop'],
      registers: [registry],
    }),
    loopRestarts: new Counter({
      name: 'gridpulse_loop_restarts_total',
      help: 'Restarts of each supervised loop by its supervisor',
      labelNames: ['loop'],
      registers: [registry],
    }),
    brokerConnected: new Gauge({
      name: 'gridpulse_event_log_connected',
      help: 'Whether the event log (Kafka) answers; 1 for the embedded log',
      registers: [registry],
    }),
    outboxMax: new Gauge({
      name: 'gridpulse_outbox_max_events',
      help: 'Outbox cap (OUTBOX_MAX_EVENTS): writes get 503 beyond it',
      registers: [registry],
    }),
    scadaUnmapped: new Gauge({
      name: 'gridpulse_scada_unmapped_watts',
      help: 'SCADA output in the newest interval from units not in the DUID mapping (watts)',
      registers: [registry],
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
