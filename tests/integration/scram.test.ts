/**
 * Kafka mode over SASL/SCRAM against a real broker of its own (scripts/kafka-broker.sh
 * --sasl-scram: a SASL_PLAINTEXT client listener, the user created at format time with a password
 * generated at run time). With the credentials the bus's round trip works through the relay
 * thread; a wrong password or no credentials never get in, and start-up says why. Then the same
 * over SASL_SSL (--tls-pem) with a throwaway CA, configured through loadConfig as main does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ConsumedBatch, createKafkaBus, type KafkaSecurity } from '@/bus'
import { EVENT_TOPICS } from '@/canonical'
import { loadConfig } from '@/config'
import { silentLogger } from '@/observability'
import { dispatchEvent, waitFor } from '../support/events'
import {
  type DedicatedBroker,
  dispatchEventId,
  ingest,
  Node,
  skipWithoutOwnBroker,
  startDedicatedBroker,
  tempDir,
  uniquePrefix,
  waitUntilDrained,
  startedWithin,
} from './support'

const skip = skipWithoutOwnBroker('Kafka over SASL/SCRAM (tests/integration/scram.test.ts)')

/** A Kafka bus on `brokers` with `security`, waited for (see startedWithin). */
const openBus = (
  brokers: string,
  dir: string,
  nodeId: string,
  security: KafkaSecurity,
  connectTimeoutMs = 30_000,
  failOn?: (detail: string) => boolean
) =>
  createKafkaBus({
    brokers: [brokers],
    security,
    nodeId,
    outboxPath: join(dir, `${nodeId}-log.sqlite`),
    log: silentLogger(),
    topicPrefix: uniquePrefix(),
  }).then((bus) => startedWithin(bus, connectTimeoutMs, failOn))

/** Subscribes to every event topic from the start; the ids received land in the returned list. */
async function collectEventIds(bus: Awaited<ReturnType<typeof openBus>>, groupId: string) {
  const received: string[] = []
  const consumer = await bus.subscribe({
    groupId,
    topics: EVENT_TOPICS,
    startOffset: () => undefined,
    onBatch: async (batch: ConsumedBatch) => {
      for (const r of batch.records) if (r.kind === 'event') received.push(r.event.event_id)
    },
  })
  return { received, consumer }
}

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

  const open = (nodeId: string, security: KafkaSecurity, connectTimeoutMs?: number) =>
    openBus(broker!.brokers, dir.path, nodeId, security, connectTimeoutMs)

  test('the broker printed SCRAM credentials for its client listener', () => {
    expect(broker!.scram).toMatchObject({ mechanism: 'scram-sha-256', username: 'gridpulse' })
    expect(broker!.scram!.password.length).toBeGreaterThanOrEqual(24)
  })

  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    test(`with ${mechanism} credentials: publish → relay thread → Kafka → consumer`, async () => {
      const bus = await open(`scram-${mechanism.slice(-3)}`, {
        sasl: { ...broker!.scram!, mechanism },
      })
      const { received, consumer } = await collectEventIds(bus, 'gridpulse.projection.v1.scram')
      try {
        const events = ['NSW1', 'VIC1', 'QLD1'].map((region, i) =>
          dispatchEvent(region as 'NSW1', 'wind', '2026-04-01T00:05:00Z', 100 + i, `scram-${i}`)
        )
        await bus.publish(events)
        await waitFor(() => received.length >= events.length, 'the events back from Kafka', 60_000)
        expect(received.sort()).toEqual(events.map((e) => e.event_id).sort())
        // The consumer can read a record before the relay has handled the broker's ack for it.
        await waitFor(() => bus.health().outboxDepth === 0, 'the outbox drained', 30_000)
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

  test('`gridpulse serve` with KAFKA_SASL_* ingests through the SCRAM listener; a wrong password exits', async () => {
    const env = {
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SASL_USERNAME: broker!.scram!.username,
      KAFKA_SASL_PASSWORD: broker!.scram!.password,
    }
    const node = new Node({
      brokers: broker!.brokers,
      nodeId: 'scram-node',
      dataDir: join(dir.path, 'scram-node'),
      env,
    })
    try {
      // Generous: start-up on a loaded 2-core machine (transpile, topics, groups) can be slow.
      await node.start(120_000).catch((e) => {
        throw new Error(`${e}\n--- node output ---\n${node.output.slice(-3000)}`)
      })
      const result = await ingest(node.base, [0, 1, 2])
      expect([...result.acked].sort()).toEqual([0, 1, 2])
      await waitUntilDrained(node, 60_000)
      expect((await node.dispatchIds()).sort()).toEqual([0, 1, 2].map(dispatchEventId).sort())
    } finally {
      node.kill('SIGTERM')
      await node.exited()
    }
    const wrong = new Node({
      brokers: broker!.brokers,
      nodeId: 'scram-wrong',
      dataDir: join(dir.path, 'scram-wrong'),
      env: { ...env, KAFKA_SASL_PASSWORD: `${broker!.scram!.password}x` },
    })
    // The node serves at once (Kafka or not), then stops itself when Kafka refuses the login:
    // waiting cannot fix credentials (exit 78, a configuration error).
    await wrong.start(120_000).catch(() => {})
    expect(await wrong.exited()).toBe(78)
    expect(wrong.output).toContain('SASL SCRAM SHA256 authentication failed')
  }, 300_000)

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

const hasOpenssl = Bun.which('openssl') !== null

/**
 * SASL_SSL: a throwaway CA and a broker certificate for 127.0.0.1 made here with openssl; the
 * client's settings come from loadConfig (KAFKA_TLS, KAFKA_TLS_CA_FILE, KAFKA_SASL_*), as in main.
 */
describe.skipIf(skip || !hasOpenssl)('Kafka bus over SASL_SSL (SCRAM inside TLS)', () => {
  const dir = tempDir('scram-tls')
  const pki = join(dir.path, 'pki')
  const openssl = (...args: string[]) => {
    const r = Bun.spawnSync(['openssl', ...args], { cwd: pki, stderr: 'pipe', stdout: 'pipe' })
    if (r.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.toString()}`)
  }
  /** A CA (its certificate in `<name>.crt`) that signs nothing else. */
  const makeCa = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`
    )
  let broker: DedicatedBroker | undefined
  beforeAll(async () => {
    mkdirSync(pki)
    makeCa('ca')
    makeCa('other-ca')
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'broker.key',
      '-out',
      'broker.csr'
    )
    writeFileSync(join(pki, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
    openssl(
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'broker.crt'
    )
    // Kafka's PEM keystore: the PKCS#8 key, then the chain (leaf first).
    writeFileSync(
      join(pki, 'broker.pem'),
      [
        readFileSync(join(pki, 'broker.key'), 'utf8'),
        readFileSync(join(pki, 'broker.crt'), 'utf8'),
        readFileSync(join(pki, 'ca.crt'), 'utf8'),
      ].join('')
    )
    broker = await startDedicatedBroker(`it-scramtls-${process.pid}`, {
      saslScram: true,
      tlsPem: join(pki, 'broker.pem'),
    })
  }, 180_000)
  afterAll(async () => {
    await broker?.stop()
    dir.remove()
  }, 60_000)

  const securityFor = (caFile: string) => {
    const config = loadConfig({
      KAFKA_BROKERS: broker!.brokers,
      KAFKA_SASL_MECHANISM: broker!.scram!.mechanism,
      KAFKA_SASL_USERNAME: broker!.scram!.username,
      KAFKA_SASL_PASSWORD: broker!.scram!.password,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: join(pki, caFile),
    })
    if (config.bus.kind !== 'kafka') throw new Error('expected Kafka mode')
    return config.bus.security
  }
  const open = (
    nodeId: string,
    security: KafkaSecurity,
    connectTimeoutMs: number,
    failOn?: (detail: string) => boolean
  ) => openBus(broker!.brokers, dir.path, nodeId, security, connectTimeoutMs, failOn)

  test('trusting the CA: publish → relay thread → Kafka → consumer, over TLS', async () => {
    const bus = await open('tls-ok', securityFor('ca.crt'), 30_000)
    const { received, consumer } = await collectEventIds(bus, 'gridpulse.projection.v1.tls')
    try {
      const event = dispatchEvent('TAS1', 'hydro', '2026-04-01T00:05:00Z', 7, 'tls')
      await bus.publish([event])
      await waitFor(() => received.length >= 1, 'the event back over TLS', 60_000)
      expect(received).toEqual([event.event_id])
    } finally {
      await consumer.stop()
      await bus.close()
    }
  }, 120_000)

  test('a broker certificate from another CA is not trusted: start-up fails on verification', async () => {
    // Start-up keeps retrying (a broker's certificate can be fixed while the node serves); the
    // reason it gives is the verification failure.
    const error = await open('tls-untrusted', securityFor('other-ca.crt'), 30_000, (detail) =>
      detail.includes('certificate')
    ).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    // The TLS verification failure itself, not a timeout or a refused login.
    expect(error?.message).toContain('certificate')
  }, 60_000)

  test('without TLS the SASL_SSL listener refuses the SCRAM client', async () => {
    const error = await open('tls-plain', { sasl: broker!.scram! }, 5_000).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(Error)
  }, 60_000)
})
