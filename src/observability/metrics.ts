import { X509Certificate } from 'node:crypto'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { SOURCE_FAILURE_REASONS, type SourceFailureReason } from '@/lib'
import type { SourceStatus } from './health'

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * An event ingested this long after its own time can only have come from NEMWeb's Archive (Current
 * keeps ~48 h) or be a manual write for an old interval: it says nothing about live latency, so it
 * is counted apart instead of filling the histogram's top bucket.
 */
export const HISTORICAL_AFTER_SECONDS = 2 * 86_400

/**
 * GridPulse's Prometheus metrics. Names follow Prometheus conventions (base units, `_total` for
 * counters); the Grafana dashboard in deploy/ queries exactly these names (a test checks it).
 */
export function createMetrics(options: { version: string }) {
  const registry = createRegistry()
  const buildInfo = new Gauge({
    name: 'gridpulse_build_info',
    help: 'Build information; always 1',
    labelNames: ['version'],
    registers: [registry],
  })
  buildInfo.set({ version: options.version }, 1)

  return {
    registry,
    ...sourceMetrics(registry),
    ...certificateMetrics(registry),
    ...pipelineMetrics(registry),
    ...nodeMetrics(registry),
    ...streamMetrics(registry),
    ...alertMetrics(registry),
  }
}

/** Alert rules: what fired, webhook attempts by outcome (and how long they took), disablings. */
function alertMetrics(registry: Registry) {
  return {
    alertsFired: new Counter({
      name: 'gridpulse_alerts_fired_total',
      help: 'Alerts fired (each stable delivery id once), by rule kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    alertDeliveries: new Counter({
      name: 'gridpulse_alert_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx), failed (other status, error, timeout), refused (target not allowed at send time)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    alertDeliveryDuration: new Histogram({
      name: 'gridpulse_alert_delivery_duration_seconds',
      help: 'Webhook attempt duration, request to response status (ALERT_WEBHOOK_TIMEOUT_MS bounds it)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    alertRulesDisabled: new Counter({
      name: 'gridpulse_alert_rules_disabled_total',
      help: 'Alert rules disabled after ALERT_DISABLE_AFTER_FAILURES failed webhook attempts in a row',
      registers: [registry],
    }),
    alertDeliveriesPending: new Gauge({
      name: 'gridpulse_alert_deliveries_pending',
      help: 'Fired alerts whose webhook has not been delivered yet (retrying, or their rule is disabled)',
      registers: [registry],
    }),
  }
}

/** The registry with the process metrics prom-client collects by default. */
function createRegistry(): Registry {
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

  return registry
}

/** Per source: failures by reason, last attempt, success and data, poll period. */
function sourceMetrics(registry: Registry) {
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
  const sourceLastData = new Gauge({
    name: 'gridpulse_source_last_data_timestamp_seconds',
    help: 'Unix time of the newest interval end / observation time ingested from each source; 0 until the first',
    labelNames: ['source'],
    registers: [registry],
  })
  const sourcePollInterval = new Gauge({
    name: 'gridpulse_source_poll_interval_seconds',
    help: 'How often each source is polled when it is up (AEMO_POLL_SECONDS, OPENMETEO_POLL_SECONDS)',
    labelNames: ['source'],
    registers: [registry],
  })
  // Failures already added to the counter, per source and reason: the statuses hold running totals.
  const counted = new Map<string, number>()

  return {
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
        sourceLastData.set({ source: s.source }, (s.lastDataAt ?? 0) / 1000)
        sourcePollInterval.set({ source: s.source }, s.expectedEveryMs / 1000)
        for (const reason of SOURCE_FAILURE_REASONS as readonly SourceFailureReason[]) {
          const key = `${s.source}\u0000${reason}`
          const delta = s.failures[reason] - (counted.get(key) ?? 0)
          sourceFailures.inc({ source: s.source, reason }, Math.max(0, delta))
          counted.set(key, Math.max(counted.get(key) ?? 0, s.failures[reason]))
        }
      }
    },
  }
}

/** The expiry of certificates GridPulse loads (the Kafka TLS CA). */
function certificateMetrics(registry: Registry) {
  const certificateExpiry = new Gauge({
    name: 'gridpulse_certificate_expiry_timestamp_seconds',
    help: 'Unix time at which each certificate GridPulse loaded stops being valid (notAfter), by purpose and subject',
    labelNames: ['purpose', 'subject'],
    registers: [registry],
  })
  return {
    /**
     * The notAfter of every certificate in a PEM bundle (the Kafka TLS CA), so expiry can be
     * alerted on weeks ahead. Of two certificates with the same subject (a renewed CA beside the
     * old one) the later expiry counts: the other is not what breaks first. A block that does not
     * parse is skipped (it cannot say when it expires; the TLS handshake reports it).
     */
    observeCertificates(purpose: string, pem: string) {
      const latest = new Map<string, number>()
      for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
        let cert: X509Certificate
        try {
          cert = new X509Certificate(block)
        } catch {
          continue
        }
        const subject = cert.subject.split('\n').join(', ')
        latest.set(subject, Math.max(latest.get(subject) ?? 0, cert.validToDate.getTime() / 1000))
      }
      for (const [subject, notAfter] of latest)
        certificateExpiry.set({ purpose, subject }, notAfter)
    },
  }
}

/** Events through the pipeline: ingested, rejected, dead-lettered, projected, and how late. */
function pipelineMetrics(registry: Registry) {
  return {
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
      help: 'From the end of the upstream interval (or observation time) to the event being queryable; live events only (see gridpulse_historical_events_projected_total)',
      labelNames: ['event_type'],
      // AEMO publishes ~30-60 s after the interval ends; weather is 15-minutely. Up to 2 days: a
      // node catching up what NEMWeb's Current still holds (~48 h) after an outage; 7 days: events
      // projected that long after they happened (an outbox that rode out a Kafka outage, or a
      // projection rebuilt from the log, which reaches back to Kafka's 7-day retention).
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 21_600, 86_400, 172_800, 604_800],
      registers: [registry],
    }),
    stageLatency: new Histogram({
      name: 'gridpulse_stage_latency_seconds',
      help: 'Time each pipeline stage took, by stage and source: fetched = AEMO listed the file → GridPulse had downloaded it; logged = normalised → on the event log (Kafka or the embedded log); projected = on the log → queryable on this node; streamed = queryable → sent to /api/v1/stream clients',
      labelNames: ['stage', 'source'],
      // Sub-second stages (log, projection) up to an hour (a file fetched late after an outage,
      // an outbox that waited out a broker outage); beyond that the end-to-end histogram tells.
      buckets: [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60, 120, 300, 900, 3600,
      ],
      registers: [registry],
    }),
    historicalEvents: new Counter({
      name: 'gridpulse_historical_events_projected_total',
      help: `Events projected that were ingested more than ${HISTORICAL_AFTER_SECONDS} s after their interval end / observation time (Archive backfill, manual writes for old intervals): counted here instead of in the end-to-end latency histogram`,
      labelNames: ['event_type'],
      registers: [registry],
    }),
  }
}

/** The node itself: HTTP, outbox, consumer lag, supervised loops, readiness, event log. */
function nodeMetrics(registry: Registry) {
  return {
    httpDuration: new Histogram({
      name: 'gridpulse_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
    nodeReady: new Gauge({
      name: 'gridpulse_node_ready',
      help: 'Whether /ready answers 200 (1) or 503 (0) at the time of the scrape',
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

/** GET /api/v1/stream: open connections, refusals, slow clients cut off, and delivery latency. */
function streamMetrics(registry: Registry) {
  return {
    streamConnections: new Gauge({
      name: 'gridpulse_stream_connections',
      help: 'Open live-stream (GET /api/v1/stream) connections on this node',
      registers: [registry],
    }),
    streamRefused: new Counter({
      name: 'gridpulse_stream_refused_total',
      help: 'Live-stream connections refused with 429, by the limit reached (total, per_key)',
      labelNames: ['limit'],
      registers: [registry],
    }),
    streamOverflows: new Counter({
      name: 'gridpulse_stream_overflows_total',
      help: 'Live-stream clients sent `event: overflow` and closed because they read too slowly',
      registers: [registry],
    }),
    // The "streamed" stage of the pipeline: projection commit → queued on every live client.
    streamDelivery: new Histogram({
      name: 'gridpulse_stream_delivery_seconds',
      help: "From an event's projection commit to its being queued on every live stream that wants it",
      labelNames: ['event_type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
