/**
 * Kafka end-to-end benchmark (numbers, not assertions), in one process like a GridPulse node:
 * publish → SQLite outbox → relay → Kafka (idempotent, acks=all) → consumer → projection commit.
 *
 * 1. Throughput: 100k distinct dispatch events published in 1000-event transactions (a poller
 *    publishing a file at a time), timed until the projection has committed the last one.
 * 2. Latency at a nominal load: 500 events/s, one event per publish (an API POST each), for 20 s;
 *    per event, the time from the publish call to the projection commit that contains it.
 *
 * Uses KAFKA_BROKERS when set, else starts a throwaway broker (scripts/kafka-broker.sh).
 * `bun bench/kafka.ts` runs it alone; `bun run bench kafka` runs it as a section of bench/run.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createKafkaBus } from '@/bus'
import { createNode } from '@/node'
import { silentLogger } from '@/observability'
import { loadConfig } from '../src/config'
import { syntheticDispatch } from './seed'

const ROOT = resolve(import.meta.dir, '..')
const THROUGHPUT_EVENTS = 100_000
const LATENCY_RATE = 500
const LATENCY_SECONDS = 20

type Report = (name: string, value: string) => void

async function brokerScript(args: string[]) {
  const proc = Bun.spawn(['bash', join(ROOT, 'scripts', 'kafka-broker.sh'), ...args], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  return { code, line: stdout.trim().split('\n').pop() ?? '' }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

export async function benchKafka(report: Report): Promise<void> {
  let brokers = process.env.KAFKA_BROKERS
  const brokerName = `bench-${process.pid}`
  let ownBroker = false
  if (!brokers) {
    const started = await brokerScript(['start', '--port', 'auto', '--name', brokerName])
    if (started.code === 3) {
      report('kafka end-to-end', 'SKIPPED: no Java 17+ for a broker (set KAFKA_BROKERS to use one)')
      return
    }
    if (started.code !== 0) throw new Error(`kafka-broker.sh start exited ${started.code}`)
    brokers = started.line.replace(/^KAFKA_BROKERS=/, '')
    ownBroker = true
  }
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-bench-kafka-'))
  const log = silentLogger()
  const bus = await createKafkaBus({
    brokers: brokers.split(','),
    nodeId: 'bench',
    outboxPath: join(dir, 'log.sqlite'),
    log,
    topicPrefix: `bench-${crypto.randomUUID().slice(0, 8)}.`,
  })
  await bus.started
  let applied = 0
  const published = new Map<string, number>()
  const latencies: number[] = []
  // A node as `gridpulse serve` builds it (consumer group gridpulse.projection.v1.bench), on a
  // Kafka bus of its own topics; no poller runs.
  const node = await createNode(
    loadConfig({ DATA_DIR: dir, SOURCES: 'none', NODE_ID: 'bench', KAFKA_BROKERS: brokers }),
    {
      log,
      bus,
      onProjected: (batch) => {
        const committed = performance.now()
        for (const r of batch.records) {
          if (r.kind !== 'event') continue
          applied++
          const at = published.get(r.event.event_id)
          if (at !== undefined) {
            latencies.push(committed - at)
            published.delete(r.event.event_id)
          }
        }
      },
    }
  )
  const until = async (predicate: () => boolean, what: string, timeoutMs = 300_000) => {
    const deadline = performance.now() + timeoutMs
    while (!predicate()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await Bun.sleep(2)
    }
  }
  try {
    // Warm-up: the group is joined and every stage has run once.
    const warm = Array.from({ length: 1000 }, (_, i) =>
      syntheticDispatch(10_000_000 + i, 'bench-warm-up')
    )
    await bus.publish(warm)
    await until(() => applied >= warm.length, 'the warm-up')

    // 1. Throughput.
    const events = Array.from({ length: THROUGHPUT_EVENTS }, (_, k) =>
      syntheticDispatch(k, 'bench-throughput')
    )
    const base = applied
    const t0 = performance.now()
    for (let i = 0; i < events.length; i += 1000) await bus.publish(events.slice(i, i + 1000))
    const accepted = performance.now() - t0
    let relayed = 0
    const watchRelay = (async () => {
      await until(() => bus.health().outboxDepth === 0, 'the outbox to drain')
      relayed = performance.now() - t0
    })()
    await until(() => applied - base >= events.length, 'the projection')
    const total = performance.now() - t0
    await watchRelay
    report(
      `kafka ingest ${THROUGHPUT_EVENTS / 1000}k events end to end`,
      `${Math.round(events.length / (total / 1000))} events/s (${(total / 1000).toFixed(2)} s; outbox accepted in ${(accepted / 1000).toFixed(2)} s, ` +
        `relayed by ${(relayed / 1000).toFixed(2)} s, projected by ${(total / 1000).toFixed(2)} s; target ≥ 20000 events/s)`
    )

    // 2. Latency at a nominal load, one event per publish.
    const count = LATENCY_RATE * LATENCY_SECONDS
    latencies.length = 0
    const start = performance.now()
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / LATENCY_RATE
      const wait = due - performance.now()
      if (wait > 1) await Bun.sleep(wait)
      const e = syntheticDispatch(THROUGHPUT_EVENTS + i, 'bench-latency')
      published.set(e.event_id, performance.now())
      await bus.publish([e])
    }
    const achieved = count / ((performance.now() - start) / 1000)
    await until(() => latencies.length >= count, 'the latency run', 60_000)
    latencies.sort((a, b) => a - b)
    report(
      `kafka produce → projection latency @ ${LATENCY_RATE}/s`,
      `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms ` +
        `(${count} events over ${LATENCY_SECONDS} s, achieved ${Math.round(achieved)}/s; target p99 ≤ 250 ms)`
    )
    report('kafka bench process RSS', `${(process.memoryUsage.rss() / 1024 / 1024).toFixed(1)} MB`)
  } finally {
    await node.close()
    rmSync(dir, { recursive: true, force: true })
    if (ownBroker) await brokerScript(['stop', '--name', brokerName])
  }
}

if (import.meta.main) {
  await benchKafka((name, value) => console.log(`${name.padEnd(44)} ${value}`))
  process.exit(0)
}
