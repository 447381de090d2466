import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApi } from '@/api'
import type { EventBus } from '@/bus'
import { DLQ_TOPICS, EVENT_TOPICS } from '@/canonical'
import { createReadiness, silentLogger } from '@/observability'
import { createProjector, createReadPort, isTraced, openProjectionDb } from '@/projection'
import { waitFor } from '../support/events'
import { announceSkip, KAFKA_BROKERS, openTestBus, tempDir, uniquePrefix } from './support'

announceSkip('manual writes across nodes (tests/integration/manual-writes.test.ts)')

/** One GridPulse node: its own outbox, consumer group and projection, the shared topics. */
async function openNode(prefix: string, dir: string, nodeId: string) {
  const bus: EventBus = await openTestBus({ prefix, dir, nodeId })
  const db = openProjectionDb(':memory:')
  const projector = createProjector(db, `gridpulse.projection.v1.${nodeId}`)
  const consumer = await bus.subscribe({
    groupId: `gridpulse.projection.v1.${nodeId}`,
    topics: [...EVENT_TOPICS, ...DLQ_TOPICS],
    startOffset: projector.startOffset,
    onBatch: projector.project,
  })
  const queries = createReadPort(db)
  const api = createApi({
    queries,
    publish: (events) => bus.publish(events),
    readiness: createReadiness({
      database: { required: true, run: () => ({ ok: queries.ping() }) },
    }),
    log: silentLogger(),
    version: 'it',
    traceRequests: { traced: isTraced, record: queries.requests.record },
  })
  return {
    api,
    queries,
    async close() {
      await consumer.stop()
      await bus.close()
      db.sqlite.close()
    },
  }
}

describe.skipIf(!KAFKA_BROKERS)('manual writes racing on two nodes over a real broker', () => {
  const dir = tempDir('manual-writes')
  const prefix = uniquePrefix()
  let nodes: Awaited<ReturnType<typeof openNode>>[] = []

  beforeAll(async () => {
    nodes = await Promise.all(['node-a', 'node-b'].map((id) => openNode(prefix, dir.path, id)))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()))
    dir.remove()
  })

  test('both nodes keep the same first value and record the other as a conflict', async () => {
    const body = (value_mw: number) =>
      JSON.stringify({
        region_id: 'QLD1',
        fuel_type: 'utility_solar',
        value_mw,
        interval_end: '2026-04-01T02:00:00Z',
      })
    // Sent at once: each node checks only what it has projected and written itself.
    const responses = await Promise.all(
      nodes.map((node, i) =>
        node.api.request('/api/v1/dispatch', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(1500.5 + i),
        })
      )
    )
    const accepted = responses.filter((r) => r.status === 202).length
    expect(accepted).toBeGreaterThanOrEqual(1)
    expect(responses.every((r) => r.status === 202 || r.status === 409)).toBe(true)

    const views = await Promise.all(
      nodes.map((node) =>
        waitFor(
          () => {
            const rows = node.queries.dispatch.list({ limit: 10 }).data
            const conflicts = node.queries.deadLetters.list({ limit: 10 }).data
            return rows.length === 1 && conflicts.length === accepted - 1 && { rows, conflicts }
          },
          'the projection of both writes',
          30_000
        )
      )
    )
    const [a, b] = views
    expect(a!.rows).toEqual(b!.rows)
    expect(a!.rows[0]!.revision).toBe(1)
    expect([1500.5, 1501.5]).toContain(a!.rows[0]!.value_mw)
    expect(a!.conflicts).toEqual(b!.conflicts)
    for (const conflict of a!.conflicts) {
      expect(conflict.code).toBe('conflict')
      expect(JSON.parse(conflict.raw).value_mw).not.toBe(a!.rows[0]!.value_mw)
    }
  }, 60_000)
})

describe.skipIf(!KAFKA_BROKERS)('lineage and trace over a real broker', () => {
  const dir = tempDir('lineage')
  const prefix = uniquePrefix()
  let nodes: Awaited<ReturnType<typeof openNode>>[] = []

  beforeAll(async () => {
    nodes = await Promise.all(['node-a', 'node-b'].map((id) => openNode(prefix, dir.path, id)))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()))
    dir.remove()
  })

  test('a POST on one node: both nodes name the same Kafka position; its trace has the request', async () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const response = await a.api.request('/api/v1/dispatch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'kafka-trace-1' },
      body: JSON.stringify({
        region_id: 'VIC1',
        fuel_type: 'wind',
        value_mw: 321.5,
        interval_end: '2026-04-01T02:00:00Z',
      }),
    })
    expect(response.status).toBe(202)
    const { event_id } = (await response.json()) as { event_id: string }
    const lineage = async (node: (typeof nodes)[0]) => {
      const r = await node.api.request(`/api/v1/lineage/${event_id}`)
      return r.status === 200 && ((await r.json()) as { log: unknown; correlation_id: string })
    }
    const onA = await waitFor(() => lineage(a), 'the event on node A', 30_000)
    const onB = await waitFor(() => lineage(b), 'the event on node B', 30_000)
    expect(onA.log).toEqual(onB.log)
    expect(onA.log).toEqual({
      topic: 'market.dispatch',
      partition: expect.any(Number),
      offset: expect.any(Number),
    })
    expect(onB.correlation_id).toBe('kafka-trace-1')

    const trace = (await (await a.api.request('/api/v1/trace/kafka-trace-1')).json()) as {
      items: { kind: string; log?: unknown }[]
    }
    expect(trace.items.map((i) => i.kind)).toEqual(['request', 'event'])
    expect(trace.items[1]!.log).toEqual(onA.log)
    // Node B served no request with the id: its trace has the event only.
    const traceB = (await (await b.api.request('/api/v1/trace/kafka-trace-1')).json()) as {
      items: { kind: string }[]
    }
    expect(traceB.items.map((i) => i.kind)).toEqual(['event'])
  }, 60_000)
})
