import { expect, test } from 'bun:test'
import { OLDER_CA, RENEWED_CA } from '../../tests/support/certificates'
import { createSourceRegistry } from './health'
import { createMetrics } from './metrics'
import { observeFetched, observeProjected, observeStreamed } from './pipeline-metrics'

/** The samples of one metric family in a Prometheus text page, by their label set. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/)
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]))
  }
  return out
}

test('every registered source has its source series from the first scrape, at 0', async () => {
  const metrics = createMetrics({ version: 'test' })
  const sources = createSourceRegistry()
  sources.register('aemo.dispatchis', 5_000)
  metrics.observeSources(sources.list())
  const text = await metrics.registry.metrics()

  expect(samples(text, 'gridpulse_source_last_success_timestamp_seconds')).toEqual(
    new Map([['{source="aemo.dispatchis"}', 0]])
  )
  expect(samples(text, 'gridpulse_source_last_attempt_timestamp_seconds')).toEqual(
    new Map([['{source="aemo.dispatchis"}', 0]])
  )
  expect(samples(text, 'gridpulse_source_last_data_timestamp_seconds')).toEqual(
    new Map([['{source="aemo.dispatchis"}', 0]])
  )
  // Alerts judge staleness against the configured poll period.
  expect(samples(text, 'gridpulse_source_poll_interval_seconds')).toEqual(
    new Map([['{source="aemo.dispatchis"}', 5]])
  )
  const failures = samples(text, 'gridpulse_source_failures_total')
  expect([...failures.keys()].sort()).toEqual(
    ['http_status', 'internal', 'invalid_response', 'timeout', 'unreachable'].map(
      (r) => `{source="aemo.dispatchis",reason="${r}"}`
    )
  )
  expect([...failures.values()].every((v) => v === 0)).toBe(true)
})

test('the failure counter follows the running totals across scrapes, once each', async () => {
  const metrics = createMetrics({ version: 'test' })
  const status = createSourceRegistry().register('openmeteo.forecast', 900_000)
  const key = '{source="openmeteo.forecast",reason="timeout"}'
  const scrape = async () => {
    metrics.observeSources([status])
    return samples(await metrics.registry.metrics(), 'gridpulse_source_failures_total').get(key)
  }
  status.failures.timeout = 2
  expect(await scrape()).toBe(2)
  expect(await scrape()).toBe(2)
  status.failures.timeout = 5
  status.lastAttemptAt = 1_790_000_000_000
  expect(await scrape()).toBe(5)
  expect(
    samples(await metrics.registry.metrics(), 'gridpulse_source_last_attempt_timestamp_seconds')
  ).toEqual(new Map([['{source="openmeteo.forecast"}', 1_790_000_000]]))
})

test('a CA bundle exports the latest notAfter per subject; a block that does not parse is skipped', async () => {
  const metrics = createMetrics({ version: 'test' })
  const garbage = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'
  metrics.observeCertificates('kafka_tls_ca', `${RENEWED_CA}\n${garbage}\n${OLDER_CA}\n`)
  expect(
    samples(await metrics.registry.metrics(), 'gridpulse_certificate_expiry_timestamp_seconds')
  ).toEqual(
    new Map([
      [
        '{purpose="kafka_tls_ca",subject="O=GridPulse test, CN=gridpulse-test-ca"}',
        Date.parse('2028-01-06T13:01:24Z') / 1000,
      ],
    ])
  )
})

test('events ingested more than two days after their own time are counted apart from live latency', async () => {
  const metrics = createMetrics({ version: 'test' })
  const now = Date.parse('2026-12-02T12:00:30Z')
  const event = (time: string, ingested_at: string) => ({
    kind: 'event' as const,
    event: { event_type: 'RegionPriceEvent', source: 'aemo.dispatchis', ingested_at, time },
  })
  observeProjected(
    metrics,
    {
      topic: 'market.prices',
      records: [
        // Live: published a minute after the interval ended.
        event('2026-12-02T11:55:00Z', '2026-12-02T11:56:00.000Z'),
        // A node catching up NEMWeb's Current after a day down: late, but live data.
        event('2026-12-01T12:00:00Z', '2026-12-02T12:00:00.000Z'),
        // Backfilled from the Archive: a month old when ingested.
        event('2026-11-01T00:05:00Z', '2026-12-02T12:00:00.000Z'),
      ],
    },
    (e) => e.time,
    now
  )
  const text = await metrics.registry.metrics()
  expect(samples(text, 'gridpulse_end_to_end_latency_seconds_count')).toEqual(
    new Map([['{event_type="RegionPriceEvent"}', 2]])
  )
  // 330 s and one day + 30 s: both below the 2-day bucket, so the top bucket is no catch-all.
  expect(
    samples(text, 'gridpulse_end_to_end_latency_seconds_bucket').get(
      '{le="86400",event_type="RegionPriceEvent"}'
    )
  ).toBe(1)
  expect(
    samples(text, 'gridpulse_end_to_end_latency_seconds_bucket').get(
      '{le="172800",event_type="RegionPriceEvent"}'
    )
  ).toBe(2)
  expect(samples(text, 'gridpulse_historical_events_projected_total')).toEqual(
    new Map([['{event_type="RegionPriceEvent"}', 1]])
  )
})

test('stage latencies: on the log and projected from the record timestamp, streamed when sent', async () => {
  const metrics = createMetrics({ version: 'test' })
  const now = Date.parse('2026-12-02T12:00:02Z')
  const event = {
    event_type: 'RegionPriceEvent',
    source: 'aemo.dispatchis',
    ingested_at: '2026-12-02T12:00:00.000Z',
    time: '2026-12-02T11:55:00Z',
  }
  const loggedAt = Date.parse('2026-12-02T12:00:00.200Z')
  observeProjected(
    metrics,
    { topic: 'market.prices', records: [{ kind: 'event', event, loggedAt }] },
    (e) => e.time,
    now
  )
  observeFetched(
    metrics,
    'aemo.dispatchis',
    Date.parse('2026-12-02T11:59:00Z'),
    Date.parse('2026-12-02T11:59:40Z')
  )
  observeStreamed(metrics, 'aemo.dispatchis', 0.03)
  const sums = samples(await metrics.registry.metrics(), 'gridpulse_stage_latency_seconds_sum')
  expect(sums.get('{stage="fetched",source="aemo.dispatchis"}')).toBeCloseTo(40)
  expect(sums.get('{stage="logged",source="aemo.dispatchis"}')).toBeCloseTo(0.2)
  expect(sums.get('{stage="projected",source="aemo.dispatchis"}')).toBeCloseTo(1.8)
  expect(sums.get('{stage="streamed",source="aemo.dispatchis"}')).toBeCloseTo(0.03)
})
