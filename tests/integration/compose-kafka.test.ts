/**
 * compose.yaml's broker, without Docker: deploy/kafka/start.sh (the kafka container's entry point)
 * runs here on the real Kafka jars scripts/kafka-broker.sh caches, with the passwords setup-env.sh
 * generates. GridPulse's Kafka bus logs in as `gridpulse` and round-trips events, the Kafka UI's
 * user logs in too, a wrong password is refused, and the healthcheck's plaintext listener binds
 * only the loopback. KAFKA_HOME/bin holds two launchers of the real Kafka classes, standing in for
 * the image's /opt/kafka/bin scripts (which do the same through kafka-run-class.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { Kafka, logLevel } from 'kafkajs'
import { type ConsumedBatch, createKafkaBus } from '@/bus'
import { EVENT_TOPICS } from '@/canonical'
import { silentLogger } from '@/observability'
import { dispatchEvent, waitFor } from '../support/events'
import { REPO_ROOT } from '../support/paths'
import { freePort } from '../support/process'
import { skipWithoutOwnBroker, startedWithin, tempDir, uniquePrefix } from './support'

const skip = skipWithoutOwnBroker(
  "compose's Kafka entry point (tests/integration/compose-kafka.test.ts)"
)
const token = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

describe.skipIf(skip)('deploy/kafka/start.sh: the compose broker, SCRAM only for clients', () => {
  const dir = tempDir('compose-kafka')
  const ports = { client: freePort(), internal: freePort(), controller: freePort() }
  const passwords = { gridpulse: token(), kafkaUi: token() }
  const brokers = [`127.0.0.1:${ports.client}`]
  let broker: Subprocess<'ignore', 'pipe', 'pipe'> | undefined
  let output = ''

  beforeAll(async () => {
    // The jars of the pinned Kafka (cached by the test run's own broker; resolved if missing).
    const prefetch = Bun.spawnSync(['bash', join(REPO_ROOT, 'scripts/kafka-broker.sh'), 'prefetch'])
    if (prefetch.exitCode !== 0) throw new Error(`prefetch: ${prefetch.stderr.toString()}`)
    const cache =
      process.env.GRIDPULSE_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache/gridpulse')
    const lib = join(cache, 'kafka-4.1.2/lib')
    const home = join(dir.path, 'kafka-home')
    mkdirSync(join(home, 'bin'), { recursive: true })
    const launcher = (main: string, heap: string) =>
      `#!/bin/sh\nexec java ${heap} -XX:+UseSerialGC -Dlog4j2.configurationFile=${join(home, 'log4j2.properties')} -cp '${lib}/*' ${main} "$@"\n`
    writeFileSync(
      join(home, 'log4j2.properties'),
      'status = error\nappender.out.type = Console\nappender.out.name = OUT\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = %p %m%n\nrootLogger.level = WARN\nrootLogger.appenderRef.out.ref = OUT\n'
    )
    writeFileSync(
      join(home, 'bin/kafka-storage.sh'),
      launcher('kafka.tools.StorageTool', '-Xmx256m')
    )
    writeFileSync(join(home, 'bin/kafka-server-start.sh'), launcher('kafka.Kafka', '-Xmx512m'))
    for (const f of ['kafka-storage.sh', 'kafka-server-start.sh'])
      chmodSync(join(home, 'bin', f), 0o755)

    broker = Bun.spawn(['sh', join(REPO_ROOT, 'deploy/kafka/start.sh')], {
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_HOME: home,
        CLUSTER_ID: 'JbRG5sGQwBGEygrFEL4MUQ', // compose.yaml's
        KAFKA_LOG_DIRS: join(dir.path, 'data'),
        KAFKA_SCRAM_GRIDPULSE_PASSWORD: passwords.gridpulse,
        KAFKA_SCRAM_KAFKA_UI_PASSWORD: passwords.kafkaUi,
        GRIDPULSE_KAFKA_ADVERTISED_HOST: '127.0.0.1',
        GRIDPULSE_KAFKA_CLIENT_PORT: String(ports.client),
        GRIDPULSE_KAFKA_INTERNAL_PORT: String(ports.internal),
        GRIDPULSE_KAFKA_CONTROLLER_PORT: String(ports.controller),
        GRIDPULSE_KAFKA_CONF_DIR: join(dir.path, 'conf'),
      },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    if (process.env.GRIDPULSE_TEST_PIDS)
      appendFileSync(process.env.GRIDPULSE_TEST_PIDS, `${broker.pid}\n`)
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) output += new TextDecoder().decode(chunk)
    }
    void collect(broker.stdout)
    void collect(broker.stderr)
  }, 120_000)

  afterAll(async () => {
    if (broker && broker.exitCode === null) {
      broker.kill('SIGTERM')
      const stopped = await Promise.race([broker.exited, Bun.sleep(30_000).then(() => false)])
      if (stopped === false) broker.kill('SIGKILL')
      await broker.exited
    }
    dir.remove()
  }, 60_000)

  const open = (nodeId: string, password: string, connectTimeoutMs: number) =>
    createKafkaBus({
      brokers,
      security: { sasl: { mechanism: 'scram-sha-256', username: 'gridpulse', password } },
      nodeId,
      outboxPath: join(dir.path, `${nodeId}-log.sqlite`),
      log: silentLogger(),
      topicPrefix: uniquePrefix(),
    }).then((bus) => startedWithin(bus, connectTimeoutMs))

  test('GridPulse logs in as gridpulse and its events round-trip', async () => {
    // Start-up retries while the broker formats and starts.
    const bus = await open('compose-kafka', passwords.gridpulse, 90_000).catch((error) => {
      throw new Error(`${error}\n--- start.sh output ---\n${output.slice(-4000)}`)
    })
    const received: string[] = []
    const consumer = await bus.subscribe({
      groupId: 'gridpulse.projection.v1.compose-kafka',
      topics: EVENT_TOPICS,
      startOffset: () => undefined,
      onBatch: async (batch: ConsumedBatch) => {
        for (const r of batch.records) if (r.kind === 'event') received.push(r.event.event_id)
      },
    })
    try {
      const events = [
        dispatchEvent('SA1', 'utility_solar', '2026-04-01T00:05:00Z', 42, 'compose-kafka'),
      ]
      await bus.publish(events)
      await waitFor(() => received.length >= 1, 'the event back from Kafka', 60_000)
      expect(received).toEqual([events[0]!.event_id])
    } finally {
      await consumer.stop()
      await bus.close()
    }
  }, 150_000)

  test("the Kafka UI's user logs in with its own password; a wrong password is refused", async () => {
    const admin = new Kafka({
      clientId: 'gridpulse-it-kafka-ui',
      brokers,
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'scram-sha-256', username: 'kafka-ui', password: passwords.kafkaUi },
    }).admin()
    await admin.connect()
    try {
      expect(Array.isArray(await admin.listTopics())).toBe(true)
    } finally {
      await admin.disconnect()
    }
    // gridpulse's name with the Kafka UI's password: each user has its own.
    const error = await open('compose-kafka-wrong', passwords.kafkaUi, 600_000).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error?.name).toBe('KafkaJSSASLAuthenticationError')
  }, 60_000)

  test('plaintext listens only on the loopback; the SCRAM listener on every interface', () => {
    const conf = readFileSync(join(dir.path, 'conf/server.properties'), 'utf8')
    const listeners = conf.match(/^listeners=(.*)$/m)![1]!.split(',')
    expect(listeners).toEqual([
      `SASL_PLAINTEXT://:${ports.client}`,
      `INTERNAL://127.0.0.1:${ports.internal}`,
      `CONTROLLER://127.0.0.1:${ports.controller}`,
    ])
    expect(conf).toMatch(/^listener\.security\.protocol\.map=.*SASL_PLAINTEXT:SASL_PLAINTEXT/m)
    // The passwords reached the format step only: not the broker's config file.
    expect(conf).not.toContain(passwords.gridpulse)
    expect(conf).not.toContain(passwords.kafkaUi)
  })
})
