import { afterEach, describe, expect, test } from 'bun:test'
import { Partitioners } from 'kafkajs'
import { partitionFor } from '@/lib'
import { silentLogger } from '@/observability'
import { dispatchEvent, waitFor } from '../../../tests/support/events'
import type { ConsumedBatch, EventBus } from '../port'
import { createEmbeddedBus } from './embedded-bus'

let bus: EventBus | undefined
afterEach(async () => {
  await bus?.close()
  bus = undefined
})

const collect = async (
  b: EventBus,
  topics: string[],
  start?: (t: string, p: number) => bigint | undefined
) => {
  const batches: ConsumedBatch[] = []
  const consumer = await b.subscribe({
    groupId: 'g',
    topics,
    startOffset: start ?? (() => undefined),
    onBatch: async (batch) => {
      batches.push(batch)
    },
  })
  return { batches, consumer }
}

describe('embedded log', () => {
  test('puts a key in the same partition as kafkajs would', () => {
    const kafkajs = Partitioners.DefaultPartitioner()
    for (const key of ['NSW1', 'QLD1', 'SA1', 'TAS1', 'VIC1', '-33.87,151.21', 'ü-unicode']) {
      const expected = kafkajs({
        topic: 't',
        partitionMetadata: [0, 1, 2].map((p) => ({ partitionId: p, leader: 0 })) as never,
        message: { key, value: null },
      })
      expect(partitionFor(key, 3)).toBe(expected)
    }
  })

  test('offsets are dense per partition and a region keeps its order', async () => {
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger(), idlePollMs: 10 })
    const events = [5, 10, 15].map((m) =>
      dispatchEvent('NSW1', 'wind', `2026-04-01T00:${String(m).padStart(2, '0')}:00Z`, m)
    )
    await bus.publish(events)
    const { batches, consumer } = await collect(bus, ['market.dispatch'])
    await waitFor(() => batches.length > 0, 'delivery')
    await consumer.stop()

    const partition = partitionFor('NSW1', 3)
    expect(batches).toHaveLength(1)
    expect(batches[0]!.partition).toBe(partition)
    expect(
      batches[0]!.records.map((r) => [
        r.offset,
        r.kind === 'event' && r.event.event_type === 'MarketDispatchEvent' && r.event.value_mw,
      ])
    ).toEqual([
      [0n, 5],
      [1n, 10],
      [2n, 15],
    ])
  })

  test('a consumer resumes from the position it asks for (at-least-once from a checkpoint)', async () => {
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger(), idlePollMs: 10 })
    await bus.publish(
      [0, 1, 2, 3].map((i) => dispatchEvent('VIC1', 'gas', `2026-04-01T0${i}:00:00Z`, i))
    )
    const { batches, consumer } = await collect(bus, ['market.dispatch'], () => 2n)
    await waitFor(() => batches.length > 0, 'delivery')
    await consumer.stop()
    expect(batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual([2n, 3n])
  })

  test('with nothing stored (a rebuilt projection) a consumer replays from the start, not the group hint', async () => {
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger(), idlePollMs: 10 })
    await bus.publish([0, 1].map((i) => dispatchEvent('VIC1', 'gas', `2026-04-01T0${i}:00:00Z`, i)))
    const first = await collect(bus, ['market.dispatch'])
    await waitFor(() => first.batches.length > 0, 'first delivery')
    await first.consumer.stop() // the group has now committed offset 2

    const again = await collect(bus, ['market.dispatch'])
    await waitFor(() => again.batches.length > 0, 'replay')
    await again.consumer.stop()
    expect(again.batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual([0n, 1n])
  })

  test('a poison message goes to the DLQ and the partition keeps flowing', async () => {
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger(), idlePollMs: 10 })
    // Publish a bad event by bypassing the schema: the consumer must not trust the producer.
    const bad = {
      ...dispatchEvent('SA1', 'wind', '2026-04-01T00:05:00Z', 1),
      value_mw: 1e9,
    } as never
    await bus.publish([bad, dispatchEvent('SA1', 'wind', '2026-04-01T00:10:00Z', 2)])
    const { batches, consumer } = await collect(bus, ['market.dispatch', 'dlq.market.dispatch'])
    await waitFor(() => batches.some((b) => b.topic === 'dlq.market.dispatch'), 'dead letter')
    await consumer.stop()

    const main = batches.find((b) => b.topic === 'market.dispatch')!
    expect(main.records.map((r) => r.kind)).toEqual(['skipped', 'event'])
    const dead = batches.find((b) => b.topic === 'dlq.market.dispatch')!.records[0]!
    expect(dead.kind === 'dead_letter' && dead.deadLetter).toMatchObject({
      topic: 'market.dispatch',
      code: 'schema_mismatch',
      reason: expect.stringContaining('value_mw'),
      correlation_id: 'test-correlation',
    })
  })

  test('source checkpoints commit with the events and survive a reopen', async () => {
    const path = `${Bun.env.TMPDIR ?? '/tmp'}/gp-bus-${crypto.randomUUID()}.sqlite`
    bus = createEmbeddedBus({ path, log: silentLogger() })
    await bus.publish([dispatchEvent('QLD1', 'hydro', '2026-04-01T00:05:00Z', 3)], {
      checkpoint: { source: 'aemo.x', cursor: 'FILE_1' },
    })
    await bus.close()
    bus = createEmbeddedBus({ path, log: silentLogger() })
    expect(await bus.readSourceCheckpoint('aemo.x')).toBe('FILE_1')
    expect([...(await bus.endOffsets(['market.dispatch'])).values()].reduce((a, b) => a + b)).toBe(
      1n
    )
  })

  test('a failed publish leaves neither messages nor checkpoint', async () => {
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger() })
    const orphan = {
      ...dispatchEvent('QLD1', 'hydro', '2026-04-01T00:05:00Z', 3),
      event_type: 'Unknown',
    } as never
    await expect(
      bus.publish([dispatchEvent('QLD1', 'hydro', '2026-04-01T00:10:00Z', 1), orphan], {
        checkpoint: { source: 's', cursor: 'c' },
      })
    ).rejects.toThrow()
    expect(await bus.readSourceCheckpoint('s')).toBeUndefined()
    await bus.publish([dispatchEvent('QLD1', 'hydro', '2026-04-01T00:15:00Z', 1)])
    const ends = await bus.endOffsets(['market.dispatch'])
    expect(ends.get(`market.dispatch/${partitionFor('QLD1', 3)}`)).toBe(1n)
  })
})
