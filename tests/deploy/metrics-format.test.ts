import { expect, test } from 'bun:test'
import { createMetrics, createSourceRegistry } from '@/observability'
import { RENEWED_CA } from '../support/certificates'

// `promtool check metrics` (Debian's prometheus package) lints the exposition format and naming
// conventions; .ci/run installs it.
const promtool = Bun.which('promtool')
if (!promtool)
  console.warn(
    '\n*** SKIPPING promtool check: promtool not on PATH (apt-get install prometheus) ***\n'
  )

test.skipIf(!promtool)('/metrics passes promtool check metrics', async () => {
  const metrics = createMetrics({ version: '0.1.0+test' })
  // Every metric family with at least one sample, as after a few minutes of real traffic.
  metrics.eventsIngested.inc({ source: 'aemo.dispatchis', event_type: 'RegionPriceEvent' }, 10)
  metrics.eventsRejected.inc({ source: 'aemo.dispatchis', code: 'non_numeric_value' })
  metrics.dlqRecords.inc({ topic: 'market.prices', code: 'non_numeric_value' })
  metrics.projectionApplied.inc({ topic: 'market.prices' }, 10)
  metrics.endToEndLatency.observe({ event_type: 'RegionPriceEvent' }, 42)
  metrics.historicalEvents.inc({ event_type: 'RegionPriceEvent' })
  metrics.nodeReady.set(1)
  metrics.observeCertificates('kafka_tls_ca', RENEWED_CA)
  metrics.httpDuration.observe({ method: 'GET', route: '/api/v1/prices', status: '200' }, 0.002)
  metrics.outboxDepth.set(0)
  metrics.consumerLag.set({ topic: 'market.prices', partition: '0' }, 0)
  // One source that succeeded, one that never did and keeps failing.
  const sources = createSourceRegistry()
  sources.register('aemo.dispatchis', 5_000).lastSuccessAt = Date.now()
  const down = sources.register('openmeteo.forecast', 900_000)
  down.lastAttemptAt = Date.now()
  down.failures.unreachable = 3
  metrics.observeSources(sources.list())
  metrics.scadaUnmapped.set(1_165_470_000)
  const text = await metrics.registry.metrics()

  const proc = Bun.spawn([promtool!, 'check', 'metrics'], {
    stdin: new Blob([text]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  expect(`${out}${err}`.trim()).toBe('')
  expect(code).toBe(0)
})
