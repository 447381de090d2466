import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApi } from '@/api'
import type { ConsumedBatch, Consumer, EventBus } from '@/bus'
import { DLQ_TOPICS, EVENT_TOPICS, type GridEvent, REGION_IDS } from '@/canonical'
import { partitionFor } from '@/lib'
import { createReadiness, silentLogger } from '@/observability'
import { createProjector, createReadPort, openProjectionDb } from '@/projection'
import { dispatchEvent, priceEvent, waitFor, weatherEvent } from '../support/events'
import {
  announceSkip,
  KAFKA_BROKERS,
  openTestBus,
  plainKafka,
  readTopic,
  tempDir,
  uniquePrefix,
} from './support'

announceSkip('Kafka bus integration tests (tests/integration/kafka-bus.test.ts)')

const TOPICS = [...EVENT_TOPICS, ...DLQ_TOPICS]
const GROUP = 'gridpulse.projection.v1.it'

describe.skipIf(!KAFKA_BROKERS)('Kafka bus on a real broker', () => {
  const dir = tempDir('kafka-bus')
  const prefix = uniquePrefix()
  const closers: (() => unknown)[] = []
  let bus: EventBus
  let db: ReturnType<typeof openProjectionDb>
  let consumer: Consumer
  let api: ReturnType<typeof createApi>
  const delivered: ConsumedBatch[] = []

  beforeAll(async () => {
    bus = await openTestBus({ prefix, dir: dir.path })
    closers.push(() => bus.close())
    db = openProjectionDb(':memory:')
    closers.push(() => db.sqlite.close())
    const projector = createProjector(db, 'gridpulse.projection.v1')
    consumer = await bus.subscribe({
      groupId: GROUP,
      topics: TOPICS,
      startOffset: projector.startOffset,
      onBatch: async (batch) => {
        delivered.push(batch)
        await projector.project(batch)
      },
    })
    const queries = createReadPort(db)
    api = createApi({
      queries,
      publish: (events) => bus.publish(events),
      readiness: createReadiness({
        database: { required: true, run: () => ({ ok: queries.ping() }) },
      }),
      log: silentLogger(),
      version: 'it',
    })
  }, 60_000)

  afterAll(async () => {
    await consumer?.stop()
    for (const close of closers.reverse()) await close()
    dir.remove()
  }, 30_000)

  // biome-ignore lint: response bodies are checked field by field
  const get = async (path: string): Promise<any> => (await api.request(path)).json()

  test('published events round-trip through Kafka into the projection and out of the API', async () => {
    const events: GridEvent[] = [
      ...REGION_IDS.map((r, i) =>
        dispatchEvent(r, 'wind', '2026-04-01T00:05:00Z', 100 + i, `corr-${r}`)
      ),
      ...REGION_IDS.map((r, i) => priceEvent(r, '2026-04-01T00:05:00Z', 50 + i)),
      weatherEvent('NSW1', 'Sydney', '2026-04-01T00:00:00Z', 21.5),
    ]
    await bus.publish(events)
    const dispatch = await waitFor(
      async () => {
        const body = await get('/api/v1/dispatch?limit=100')
        return body.data.length === 5 && body
      },
      'five dispatch rows through Kafka',
      30_000
    )
    expect(dispatch.data.map((d: { event_id: string }) => d.event_id).sort()).toEqual(
      events
        .slice(0, 5)
        .map((e) => e.event_id)
        .sort()
    )
    await waitFor(
      async () => (await get('/api/v1/prices')).data.length === 5,
      'five prices',
      15_000
    )
    const weather = await waitFor(
      async () => {
        const body = await get('/api/v1/weather')
        return body.data.length === 1 && body
      },
      'one weather observation',
      15_000
    )
    expect(weather.data[0]).toMatchObject({ region_id: 'NSW1', temperature_c: 21.5 })
    const post = await api.request('/api/v1/dispatch', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        region_id: 'SA1',
        fuel_type: 'gas',
        value_mw: 321.5,
        interval_end: '2026-04-01T00:10:00Z',
      }),
    })
    expect(post.status).toBe(202)
    const { event_id } = (await post.json()) as { event_id: string }
    await waitFor(
      async () =>
        (await get('/api/v1/dispatch?region_id=SA1')).data.some(
          (d: { event_id: string }) => d.event_id === event_id
        ),
      'the POSTed reading',
      15_000
    )
    const stats = await get('/api/v1/stats')
    expect(stats.totals).toMatchObject({ dispatch: 6, prices: 5, weather: 1, dead_letters: 0 })
  }, 60_000)

  test('keys land in the murmur2 partition, with the headers and plain JSON values', async () => {
    const kafka = plainKafka()
    const messages = await readTopic(kafka, `${prefix}market.dispatch`, 6)
    for (const m of messages) {
      const value = JSON.parse(m.value)
      expect(m.key).toBe(value.region_id)
      expect(m.partition).toBe(partitionFor(value.region_id, 3))
      expect(m.headers).toMatchObject({
        'content-type': 'application/json',
        'correlation-id': value.correlation_id,
        'event-type': 'MarketDispatchEvent',
        'schema-version': '1',
      })
      expect(value.event_type).toBe('MarketDispatchEvent')
    }
    // The five regions do not all share one partition: the key really partitions.
    expect(new Set(messages.map((m) => m.partition)).size).toBeGreaterThan(1)
  }, 30_000)

  test('end offsets are the high watermarks, keyed topic/partition', async () => {
    const ends = await bus.endOffsets(TOPICS)
    expect([...ends.keys()].sort()).toEqual(
      TOPICS.flatMap((t) =>
        t.startsWith('dlq.') ? [`${t}/0`] : [0, 1, 2].map((p) => `${t}/${p}`)
      ).sort()
    )
    const sum = (topic: string) =>
      [...ends].filter(([k]) => k.startsWith(`${topic}/`)).reduce((a, [, v]) => a + v, 0n)
    expect(sum('market.dispatch')).toBe(6n)
    expect(sum('market.prices')).toBe(5n)
    expect(sum('weather.observations')).toBe(1n)
    for (const v of ends.values()) expect(typeof v).toBe('bigint')
    const health = bus.health()
    expect(health).toMatchObject({ kind: 'kafka', connected: true, outboxDepth: 0 })
  }, 30_000)

  test('a restarted consumer resumes from the stored positions: nothing lost, nothing re-applied', async () => {
    await consumer.stop()
    const stored = new Map<string, bigint>()
    const projector = createProjector(db, 'gridpulse.projection.v1')
    for (const t of ['market.dispatch', 'market.prices'])
      for (const p of [0, 1, 2]) stored.set(`${t}/${p}`, projector.startOffset(t, p) ?? 0n)
    const more = REGION_IDS.map((r, i) =>
      dispatchEvent(r, 'hydro', '2026-04-01T00:15:00Z', 200 + i)
    )
    await bus.publish(more)
    delivered.length = 0
    consumer = await bus.subscribe({
      groupId: GROUP,
      topics: TOPICS,
      startOffset: projector.startOffset,
      onBatch: async (batch) => {
        delivered.push(batch)
        await projector.project(batch)
      },
    })
    await waitFor(
      async () => (await get('/api/v1/stats')).totals.dispatch === 11,
      '11 dispatch rows',
      30_000
    )
    // Every record handed over after the restart is at or past the stored position (the seek worked).
    for (const batch of delivered) {
      const from = stored.get(`${batch.topic}/${batch.partition}`) ?? 0n
      for (const r of batch.records) expect(r.offset).toBeGreaterThanOrEqual(from)
    }
    expect(delivered.flatMap((b) => b.records).filter((r) => r.kind === 'event')).toHaveLength(5)
  }, 60_000)

  test('source checkpoints are shared: another node reads the newest cursor', async () => {
    expect(await bus.readSourceCheckpoint('aemo.dispatchis')).toBeUndefined()
    await bus.publish([dispatchEvent('VIC1', 'gas', '2026-04-01T00:20:00Z', 1)], {
      checkpoint: { source: 'aemo.dispatchis', cursor: 'PUBLIC_DISPATCHIS_202604011020.zip' },
    })
    await bus.publish([], {
      checkpoint: { source: 'aemo.dispatchis', cursor: 'PUBLIC_DISPATCHIS_202604011025.zip' },
    })
    expect(await bus.readSourceCheckpoint('aemo.dispatchis')).toBe(
      'PUBLIC_DISPATCHIS_202604011025.zip'
    )
    await waitFor(() => bus.health().outboxDepth === 0, 'the outbox to drain', 15_000)
    const other = await openTestBus({
      prefix,
      dir: dir.path,
      nodeId: 'it-other',
      leadership: false,
    })
    try {
      expect(await other.readSourceCheckpoint('aemo.dispatchis')).toBe(
        'PUBLIC_DISPATCHIS_202604011025.zip'
      )
      expect(await other.readSourceCheckpoint('openmeteo.forecast')).toBeUndefined()
    } finally {
      await other.close()
    }
  }, 60_000)

  test('exactly one of two nodes leads; when it leaves, the other takes over', async () => {
    const p = uniquePrefix()
    const a = await openTestBus({ prefix: p, dir: dir.path, nodeId: 'lead-a' })
    const b = await openTestBus({ prefix: p, dir: dir.path, nodeId: 'lead-b' })
    try {
      await waitFor(() => a.isLeader() !== b.isLeader(), 'exactly one leader', 30_000)
      const [leader, follower] = a.isLeader() ? [a, b] : [b, a]
      await leader.close()
      await waitFor(() => follower.isLeader(), 'the follower to take over', 30_000)
    } finally {
      await a.close()
      await b.close()
    }
  }, 90_000)
})
