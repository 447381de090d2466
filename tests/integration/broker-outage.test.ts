import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { waitFor } from '../support/events'
import {
  dispatchEventId,
  expectCleanOutput,
  ingest,
  Node,
  waitUntilDrained,
  skipWithoutOwnBroker,
  useDedicatedBroker,
} from './support'

const skip = skipWithoutOwnBroker(
  'Kafka broker-outage test (tests/integration/broker-outage.test.ts)'
)
const OUTAGE_MS = 32_000
const BEFORE = 2_000
const DURING = 3_000 // paced over the outage
const AFTER = 2_000

describe.skipIf(skip)('Kafka down for more than 30 s while ingesting', () => {
  const { dir, nodes, broker } = useDedicatedBroker('outage')

  test('the outbox keeps accepting, readiness stays up with the broker reported down, and the backlog drains when Kafka returns: 0 lost', async () => {
    const node = new Node({
      brokers: broker().brokers,
      nodeId: 'outage-1',
      dataDir: join(dir.path, 'node'),
    })
    nodes.push(node)
    await node.start()
    const n = node
    const ks = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

    const before = await ingest(n.base, ks(0, BEFORE), { concurrency: 16 })
    await waitUntilDrained(n, 30_000)

    await broker().kill()
    const down = performance.now()
    // Ingest at a steady pace for the whole outage, sampling readiness as it goes.
    const samples: { status: number; connected: boolean; depth: number; metrics: number }[] = []
    const sampling = (async () => {
      while (performance.now() - down < OUTAGE_MS) {
        const { status, body } = await n.ready()
        // Operators watch the outbox grow on the dashboard: /metrics must keep answering.
        const metrics = (await fetch(`${n.base}/metrics`)).status
        samples.push({
          status,
          connected: body.checks.event_log.connected,
          depth: body.checks.event_log.outbox_depth,
          metrics,
        })
        await Bun.sleep(1_000)
      }
    })()
    const during = await ingest(n.base, ks(BEFORE, DURING), {
      concurrency: 8,
      ratePerSecond: DURING / ((OUTAGE_MS - 4_000) / 1000),
    })
    await sampling
    await Bun.sleep(Math.max(0, OUTAGE_MS - (performance.now() - down)))
    const outageMs = performance.now() - down
    const peak = Math.max(...samples.map((s) => s.depth))

    await broker().resume()
    const back = performance.now()
    const after = await ingest(n.base, ks(BEFORE + DURING, AFTER), { concurrency: 16 })
    const drainedMs = await waitUntilDrained(n, 120_000)
    await waitFor(
      async () => (await n.json('/api/v1/stats')).totals.dispatch >= BEFORE + DURING + AFTER,
      'all rows projected',
      30_000
    )

    const acked = [...before.acked, ...during.acked, ...after.acked]
    const projected = new Set(await n.dispatchIds())
    const missing = acked.filter((k) => !projected.has(dispatchEventId(k)))
    const stats = await n.json('/api/v1/stats')
    console.log(
      `[broker-outage] broker down ${Math.round(outageMs / 1000)} s; acked ${before.acked.size} before, ${during.acked.size} during, ${after.acked.size} after; ` +
        `readiness during the outage: ${samples.filter((s) => s.status === 200).length}/${samples.length} samples 200; outbox peak ${peak}; ` +
        `drained ${Math.round((performance.now() - back) / 1000)} s after the broker came back (last wait ${Math.round(drainedMs)} ms); ` +
        `projected ${projected.size} (stats ${stats.totals.dispatch}); missing ${missing.length}`
    )
    expect(outageMs).toBeGreaterThanOrEqual(30_000)
    // The API never refused an event: they went to the outbox.
    expect(during.acked.size).toBe(DURING)
    expect(before.acked.size + after.acked.size).toBe(BEFORE + AFTER)
    // Readiness told the truth: the broker is down, yet the node can serve reads and take writes
    // (a load balancer keeps routing to it while the outbox absorbs the outage).
    expect(samples.some((s) => !s.connected)).toBe(true)
    expect(samples.filter((s) => s.status !== 200)).toEqual([])
    expect(peak).toBeGreaterThan(DURING / 2)
    expect(samples.every((s) => s.metrics === 200)).toBe(true)
    expect(missing).toEqual([])
    expect(stats.totals.dispatch).toBe(BEFORE + DURING + AFTER)

    n.kill('SIGTERM')
    expect(await n.exited()).toBe(0)
    expectCleanOutput([n])
  }, 300_000)
})
