import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import type { EventBus } from '@/bus'
import { createLogger } from '@/observability'
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

announceSkip('Kafka outbox relay thread tests (tests/integration/relay-thread.test.ts)')

// The relay runs in a Worker by default (src/bus/kafka/relay-thread.ts); `relayInWorker: false`
// keeps it on the main thread. Both must deliver, park what Kafka refuses for good, and log the
// same JSON lines through the node's logger.
describe.skipIf(!KAFKA_BROKERS)('outbox relay, in a Worker and in-process', () => {
  const dir = tempDir('relay-thread')
  const buses: EventBus[] = []
  const logged: unknown[] = []

  afterAll(async () => {
    for (const bus of buses) await bus.close()
    dir.remove()
  }, 30_000)

  for (const relayInWorker of [true, false]) {
    test(`relayInWorker: ${relayInWorker}: a row Kafka refuses is parked and logged, the rows around it delivered`, async () => {
      const prefix = uniquePrefix()
      const nodeId = `relay-${relayInWorker}`
      const lines: string[] = []
      const log = createLogger({ level: 'info', destination: { write: (s) => lines.push(s) } })
      const bus = await openTestBus({ prefix, dir: dir.path, nodeId, log, relayInWorker })
      buses.push(bus)

      await bus.publish([dispatchEvent('NSW1', 'wind', '2026-04-01T00:05:00Z', 1)])
      await waitFor(() => bus.health().outboxDepth === 0, 'the first event to be relayed', 15_000)
      // Behind the bus's back, as a row larger than the topic's max.message.bytes would be.
      const outbox = new Database(join(dir.path, `${nodeId}-log.sqlite`))
      outbox.run('PRAGMA busy_timeout = 5000')
      outbox
        .query(
          'INSERT INTO kafka_outbox (topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?)'
        )
        .run('market.dispatch', 'huge', 'x'.repeat(1_500_000), '{}', Date.now())
      outbox.close()
      await bus.publish([dispatchEvent('VIC1', 'wind', '2026-04-01T00:05:00Z', 2)])

      const messages = await readTopic(plainKafka(), `${prefix}market.dispatch`, 2)
      expect(messages.map((m) => JSON.parse(m.value).value_mw)).toEqual(
        expect.arrayContaining([1, 2])
      )
      await waitFor(() => bus.health().outboxDepth === 0, 'the outbox to drain', 15_000)
      const health = bus.health()
      expect(health.connected).toBe(true)
      expect(health.detail).toContain('1 outbox rows refused by Kafka are parked')

      const parked = lines
        .map((line) => JSON.parse(line))
        .find((r) => r.msg?.startsWith('Kafka refuses this outbox row for good'))
      expect(parked).toMatchObject({
        level: 'error',
        service: 'gridpulse',
        component: 'bus.kafka.relay',
        'kafka.topic': 'market.dispatch',
        bytes: 1_500_000,
      })
      expect(parked.err.message).toBeString()
      expect(parked.err.type).toBeString()
      // The same line in both modes (but for its time).
      const { time: _time, ...record } = parked
      logged.push(record)
      if (logged.length === 2) expect(logged[0]).toEqual(logged[1])
    }, 60_000)
  }
})
