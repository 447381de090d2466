import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApi } from '@/api'
import type { EventBus } from '@/bus'
import { DLQ_TOPICS, EVENT_TOPICS } from '@/canonical'
import { createReadiness, silentLogger } from '@/observability'
import { createProjector, createReadPort, openProjectionDb } from '@/projection'
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
