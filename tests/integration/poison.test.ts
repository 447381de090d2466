import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Partitioners } from 'kafkajs'
import type { Consumer, EventBus } from '@/bus'
import { DLQ_TOPICS, EVENT_TOPICS } from '@/canonical'
import { partitionFor } from '@/lib'
import { createProjector, createReadPort, openProjectionDb } from '@/projection'
import { dispatchEvent, waitFor } from '../support/events'
import {
  announceSkip,
  KAFKA_BROKERS,
  openTestBus,
  plainKafka,
  readTopic,
  tempDir,
  uniquePrefix,
} from './support'

announceSkip('Kafka poison-message tests (tests/integration/poison.test.ts)')

describe.skipIf(!KAFKA_BROKERS)('poison messages on a real broker', () => {
  const dir = tempDir('kafka-poison')
  const prefix = uniquePrefix()
  let bus: EventBus
  let consumer: Consumer
  let db: ReturnType<typeof openProjectionDb>

  beforeAll(async () => {
    bus = await openTestBus({ prefix, dir: dir.path, leadership: false })
    db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'gridpulse.projection.v1')
    consumer = await bus.subscribe({
      groupId: 'gridpulse.projection.v1.it',
      topics: [...EVENT_TOPICS, ...DLQ_TOPICS],
      startOffset: projector.startOffset,
      onBatch: projector.project,
    })
  }, 60_000)

  afterAll(async () => {
    await consumer?.stop()
    await bus?.close()
    db?.sqlite.close()
    dir.remove()
  }, 30_000)

  test('a raw invalid message goes to dlq.<topic> with the reason, and the partition keeps flowing', async () => {
    const queries = createReadPort(db)
    const kafka = plainKafka()
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    const good = dispatchEvent('QLD1', 'utility_solar', '2026-04-01T02:00:00Z', 1500.5)
    const topic = `${prefix}market.dispatch`
    try {
      // All three on QLD1's partition, in this order: garbage, a wrong shape, then a valid event.
      await producer.send({
        topic,
        acks: -1,
        messages: [
          { key: 'QLD1', value: '{"not json', headers: { 'correlation-id': 'poison-1' } },
          {
            key: 'QLD1',
            value: JSON.stringify({ event_type: 'MarketDispatchEvent', region_id: 'QLD1' }),
          },
          { key: 'QLD1', value: JSON.stringify(good) },
        ],
      })
    } finally {
      await producer.disconnect()
    }
    const partition = partitionFor('QLD1', 3)
    await waitFor(
      () => queries.dispatch.byEventId(good.event_id),
      'the valid event after the poison',
      30_000
    )
    const deadLetters = await waitFor(
      () => {
        const page = queries.deadLetters.list({ limit: 10 })
        return page.data.length === 2 && page.data
      },
      'two dead letters projected',
      30_000
    )
    const byCode = Object.fromEntries(deadLetters.map((d) => [d.code, d]))
    expect(byCode.invalid_json).toMatchObject({
      topic: 'market.dispatch',
      correlation_id: 'poison-1',
      raw: '{"not json',
      source: 'bus',
      source_file: `market.dispatch/${partition}@0`,
    })
    expect(byCode.invalid_json!.reason).toStartWith('invalid JSON')
    expect(byCode.schema_mismatch!.reason).toStartWith('schema mismatch')
    expect(byCode.schema_mismatch!.source_file).toBe(`market.dispatch/${partition}@1`)

    // On Kafka: the dead letters are on dlq.market.dispatch as plain JSON.
    const dlq = await readTopic(plainKafka(), `${prefix}dlq.market.dispatch`, 2)
    const values = dlq.map((m) => JSON.parse(m.value))
    expect(values.map((v) => v.code).sort()).toEqual(['invalid_json', 'schema_mismatch'])
    expect(dlq.every((m) => m.headers['event-type'] === 'DeadLetter')).toBe(true)
    const positions = queries.positions('gridpulse.projection.v1')
    expect(positions.get(`market.dispatch/${partition}`)).toBe(3n)
  }, 60_000)
})
