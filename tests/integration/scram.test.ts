/**
 * Kafka mode over SASL/SCRAM against a real broker of its own (scripts/kafka-broker.sh
 * --sasl-scram: a SASL_PLAINTEXT client listener, the user created at format time with a password
 * generated at run time). With the credentials the bus's round trip works through the relay
 * thread; a wrong password or no credentials never get in, and start-up says why.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { type ConsumedBatch, createKafkaBus, type KafkaSecurity } from '@/bus'
import { EVENT_TOPICS } from '@/canonical'
import { silentLogger } from '@/observability'
import { dispatchEvent, waitFor } from '../support/events'
import {
  type DedicatedBroker,
  skipWithoutOwnBroker,
  startDedicatedBroker,
  tempDir,
  uniquePrefix,
} from './support'

const skip = skipWithoutOwnBroker('Kafka over SASL/SCRAM (tests/integration/scram.test.ts)')

describe.skipIf(skip)('Kafka bus over SASL/SCRAM on a real broker', () => {
  const dir = tempDir('scram')
  let broker: DedicatedBroker | undefined
  beforeAll(async () => {
    broker = await startDedicatedBroker(`it-scram-${process.pid}`, { saslScram: true })
  }, 180_000)
  afterAll(async () => {
    await broker?.stop()
    dir.remove()
  }, 60_000)

  const open = (nodeId: string, security: KafkaSecurity, connectTimeoutMs = 30_000) =>
    createKafkaBus({
      brokers: [broker!.brokers],
      security,
      nodeId,
      outboxPath: join(dir.path, `${nodeId}-log.sqlite`),
      log: silentLogger(),
      topicPrefix: uniquePrefix(),
      connectTimeoutMs,
    })

  test('the broker printed SCRAM credentials for its client listener', () => {
    expect(broker!.scram).toMatchObject({ mechanism: 'scram-sha-256', username: 'gridpulse' })
    expect(broker!.scram!.password.length).toBeGreaterThanOrEqual(24)
  })

  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    test(`with ${mechanism} credentials: publish → relay thread → Kafka → consumer`, async () => {
      const bus = await open(`scram-${mechanism.slice(-3)}`, {
        sasl: { ...broker!.scram!, mechanism },
      })
      const received: string[] = []
      const consumer = await bus.subscribe({
        groupId: 'gridpulse.projection.v1.scram',
        topics: EVENT_TOPICS,
        startOffset: () => undefined,
        onBatch: async (batch: ConsumedBatch) => {
          for (const r of batch.records) if (r.kind === 'event') received.push(r.event.event_id)
        },
      })
      try {
        const events = ['NSW1', 'VIC1', 'QLD1'].map((region, i) =>
          dispatchEvent(region as 'NSW1', 'wind', '2026-04-01T00:05:00Z', 100 + i, `scram-${i}`)
        )
        await bus.publish(events)
        await waitFor(() => received.length >= events.length, 'the events back from Kafka', 60_000)
        expect(received.sort()).toEqual(events.map((e) => e.event_id).sort())
        expect(bus.health()).toMatchObject({ kind: 'kafka', outboxDepth: 0 })
      } finally {
        await consumer.stop()
        await bus.close()
      }
    }, 120_000)
  }

  test('a wrong password fails start-up at once with the authentication error', async () => {
    // A connect timeout far beyond the test's: only an immediate failure can pass.
    const error = await open(
      'scram-wrong',
      { sasl: { ...broker!.scram!, password: `${broker!.scram!.password}x` } },
      600_000
    ).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(Error)
    expect(error!.name).toBe('KafkaJSSASLAuthenticationError')
    expect(error!.message).toContain('SASL SCRAM SHA256 authentication failed')
  }, 60_000)

  test('an unknown user is refused the same way', async () => {
    const error = await open(
      'scram-nobody',
      { sasl: { ...broker!.scram!, username: 'nobody' } },
      600_000
    ).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error?.name).toBe('KafkaJSSASLAuthenticationError')
  }, 60_000)

  test('a client without credentials cannot use the SCRAM listener', async () => {
    // Kafka drops a connection that skips the SASL handshake; kafkajs sees a closed socket,
    // which is retried like an outage until the connect timeout.
    const error = await open('scram-anonymous', {}, 5_000).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(Error)
  }, 60_000)
})
