import { expect, test } from 'bun:test'
import { createSourceRegistry } from './health'
import { createMetrics } from './metrics'

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
