import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { waitFor } from '../support/events'
import { batchedForecast, startOpenMeteoServer } from '../support/openmeteo-server'
import {
  dispatchBody,
  dispatchEventId,
  expectCleanOutput,
  ingest,
  Node,
  skipWithoutOwnBroker,
  useDedicatedBroker,
  waitUntilDrained,
} from './support'

const skip = skipWithoutOwnBroker(
  'Kafka self-healing test (tests/integration/self-healing.test.ts)'
)
const CAP = 120

describe.skipIf(skip)('a node without its broker', () => {
  const { dir, nodes, broker } = useDedicatedBroker('heal')

  test('starts while Kafka is down, serves reads and writes at once, refuses writes only past the outbox cap, and delivers when Kafka returns', async () => {
    // Topics exist from an earlier run of the cluster; then the broker goes down.
    const first = new Node({
      brokers: broker().brokers,
      nodeId: 'heal-seed',
      dataDir: join(dir.path, 'seed'),
    })
    nodes.push(first)
    await first.start()
    await waitUntilDrained(first, 60_000)
    first.kill('SIGTERM')
    await first.exited()
    await broker().kill()

    const node = new Node({
      brokers: broker().brokers,
      nodeId: 'heal-1',
      dataDir: join(dir.path, 'node'),
      env: { OUTBOX_MAX_EVENTS: String(CAP) },
    })
    nodes.push(node)
    const spawned = performance.now()
    await node.start(10_000)
    const healthMs = performance.now() - spawned
    console.log(
      `[self-healing] /health answered ${Math.round(healthMs)} ms after spawn, Kafka down`
    )

    // Reads from its own projection, and readiness reports the broker instead of failing on it.
    const page = await fetch(`${node.base}/api/v1/dispatch`)
    expect(page.status).toBe(200)
    const ready = await node.ready()
    expect(ready.status).toBe(200)
    expect(ready.body.checks.event_log).toMatchObject({ broker: 'down', connected: false })

    // Writes go to the outbox until it is full; then 503 with Retry-After, never a silent drop.
    const accepted = await ingest(
      node.base,
      Array.from({ length: CAP }, (_, k) => k),
      { concurrency: 4 }
    )
    expect(accepted.acked.size).toBe(CAP)
    const refused = await fetch(`${node.base}/api/v1/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dispatchBody(CAP)),
    })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await refused.json()) as { type: string }).type).toEndWith('/outbox_full')
    const full = await node.ready()
    expect(full.status).toBe(503)
    expect(full.body.checks.event_log.outbox_depth).toBeGreaterThanOrEqual(CAP)

    // Kafka returns: the outbox drains, every accepted write is projected, writes flow again.
    await broker().resume()
    await waitUntilDrained(node, 120_000)
    const ids = new Set(await node.dispatchIds())
    const missing = [...accepted.acked].filter((k) => !ids.has(dispatchEventId(k)))
    expect(missing).toEqual([])
    const again = await ingest(node.base, [CAP], {})
    expect(again.acked.size).toBe(1)

    node.kill('SIGTERM')
    expect(await node.exited()).toBe(0)
    expectCleanOutput([node])
    // Kafka's retried errors are warnings: an error line would mean a person must act.
    const errors = node.output.split('\n').filter((l) => l.includes('"level":50'))
    expect(errors).toEqual([])
  }, 300_000)

  test('a new leader polls weather within seconds, not one poll period (15 min) later', async () => {
    const body = await batchedForecast(5)
    const openMeteo = startOpenMeteoServer(
      () => new Response(body, { headers: { 'content-type': 'application/json' } })
    )
    try {
      const node = new Node({
        brokers: broker().brokers,
        nodeId: 'heal-weather',
        dataDir: join(dir.path, 'weather'),
        env: {
          SOURCES: 'openmeteo',
          OPENMETEO_BASE_URL: openMeteo.url,
          OPENMETEO_POLL_SECONDS: '900',
        },
      })
      nodes.push(node)
      const started = performance.now()
      await node.start()
      // The first cycle ran before the election (skipped); the election itself must trigger a poll.
      await waitFor(
        async () => (await node.json('/api/v1/weather')).data.length > 0,
        'weather observations projected',
        60_000
      ).catch((error) => {
        console.error(node.output.slice(-4_000))
        throw error
      })
      console.log(
        `[self-healing] weather queryable ${Math.round((performance.now() - started) / 1000)} s after start (poll period 900 s)`
      )
      expect(openMeteo.requests.length).toBeGreaterThanOrEqual(1)
      node.kill('SIGTERM')
      expect(await node.exited()).toBe(0)
    } finally {
      openMeteo.stop()
    }
  }, 180_000)
})
