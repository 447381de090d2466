import { describe, expect, test } from 'bun:test'
import type { TopicMessages } from 'kafkajs'
import { silentLogger } from '@/observability'
import { dispatchEvent, waitFor } from '../../../tests/support/events'
import { encodeEvent } from '../serde'
import { createOutbox } from './outbox'
import type { ProducerLane } from './producer'
import { createRelay } from './relay'

const event = (i: number) =>
  dispatchEvent(
    i % 2 ? 'VIC1' : 'NSW1',
    'gas',
    new Date(Date.UTC(2026, 3, 1) + i * 300_000).toISOString().replace('.000Z', 'Z'),
    i
  )

function fakeLane(failFirst = 0) {
  const sent: TopicMessages[][] = []
  let failures = failFirst
  const lane: ProducerLane = {
    async send(topicMessages) {
      if (failures > 0) {
        failures--
        throw new Error('broker down')
      }
      sent.push(topicMessages)
    },
    async close() {},
  }
  return { lane, sent }
}

describe('outbox relay', () => {
  test('sends pages in order with the prefix, the checkpoint in a request after its events, then empties the outbox', async () => {
    const outbox = createOutbox({ path: ':memory:', nodeId: 'n1' })
    const { lane, sent } = fakeLane()
    await outbox.append(
      [0, 1, 2].map((i) => encodeEvent(event(i))),
      { source: 'aemo.dispatchis', cursor: 'F1' }
    )
    await outbox.append([], { source: 'aemo.dispatchis', cursor: 'F2' })
    const relay = createRelay({
      outbox,
      lane,
      physical: (t) => `p.${t}`,
      log: silentLogger(),
      pageSize: 100,
    })
    await waitFor(() => outbox.depth() === 0, 'the outbox to drain', 2_000)
    await relay.stop()
    expect(sent).toHaveLength(2)
    expect(sent[0]!.map((t) => t.topic)).toEqual(['p.market.dispatch'])
    expect(sent[0]![0]!.messages.map((m) => JSON.parse(String(m.value)).value_mw)).toEqual([
      0, 1, 2,
    ])
    // Two checkpoint rows for one source collapse to the newest, sent after the events.
    expect(sent[1]!.map((t) => t.topic)).toEqual(['p.gridpulse.source-checkpoints'])
    expect(sent[1]![0]!.messages.map((m) => JSON.parse(String(m.value)).cursor)).toEqual(['F2'])
  })

  test('pages are bounded', async () => {
    const outbox = createOutbox({ path: ':memory:', nodeId: 'n1' })
    const { lane, sent } = fakeLane()
    await outbox.append(Array.from({ length: 25 }, (_, i) => encodeEvent(event(i))))
    const relay = createRelay({
      outbox,
      lane,
      physical: (t) => t,
      log: silentLogger(),
      pageSize: 10,
    })
    await waitFor(() => outbox.depth() === 0, 'the outbox to drain', 2_000)
    await relay.stop()
    expect(sent.map((s) => s[0]!.messages.length)).toEqual([10, 10, 5])
  })

  test('a failing Kafka keeps the rows, reports unhealthy, and the backlog drains once it answers again', async () => {
    const outbox = createOutbox({ path: ':memory:', nodeId: 'n1' })
    const { lane, sent } = fakeLane(3)
    const relay = createRelay({
      outbox,
      lane,
      physical: (t) => t,
      log: silentLogger(),
      random: () => 0,
    })
    await outbox.append([encodeEvent(event(1))])
    relay.wake()
    await waitFor(() => !relay.healthy(), 'the relay to notice', 2_000)
    expect(relay.lastError()).toBe('broker down')
    expect(outbox.depth()).toBe(1)
    await outbox.append([encodeEvent(event(2))])
    await waitFor(() => outbox.depth() === 0, 'the backlog to drain', 5_000)
    expect(relay.healthy()).toBe(true)
    await relay.stop()
    expect(
      sent.flatMap((s) => s[0]!.messages).map((m) => JSON.parse(String(m.value)).value_mw)
    ).toEqual([1, 2])
  })

  test('a row Kafka refuses for good is parked; the rows around it are delivered', async () => {
    const outbox = createOutbox({ path: ':memory:', nodeId: 'n1' })
    const sent: number[] = []
    const tooLarge = Object.assign(
      new Error('The request included a message larger than the max message size'),
      { type: 'MESSAGE_TOO_LARGE' }
    )
    const lane: ProducerLane = {
      async send(topicMessages) {
        const values = topicMessages.flatMap((t) =>
          t.messages.map((m) => JSON.parse(String(m.value)).value_mw as number)
        )
        if (values.includes(2)) throw tooLarge
        sent.push(...values)
      },
      async close() {},
    }
    await outbox.append([1, 2, 3].map((i) => encodeEvent(event(i))))
    const relay = createRelay({ outbox, lane, physical: (t) => t, log: silentLogger() })
    await waitFor(() => outbox.depth() === 0, 'the outbox to drain', 2_000)
    expect(relay.healthy()).toBe(true)
    await relay.stop()
    expect(sent).toEqual([1, 3])
    expect(outbox.parked()).toBe(1)
  })
})
