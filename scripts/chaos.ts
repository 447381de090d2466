#!/usr/bin/env bun
/**
 * `bun run chaos [--events N] [--node-kills N] [--broker-restarts N]`: the self-healing proof on a
 * real Kafka broker of its own (scripts/kafka-broker.sh) and real GridPulse processes.
 *
 * While N distinct dispatch events are POSTed (a client that retries what got no answer, as any
 * client of an at-least-once API would), the node is SIGKILLed and restarted, the broker is killed
 * (alternately a clean stop and a crash) and restarted, and a second node is started while the
 * broker is down. Nobody touches anything else. At the end every node must be ready again with a
 * drained outbox and no lag, and the figures are printed: events acknowledged, lost (acknowledged
 * but not projected), double-counted (projected rows beyond distinct events), and the duplicates
 * a direct reader of `market.dispatch` sees (delivery to Kafka is at-least-once; `event_id` is
 * the dedupe key), split into client retries and relay re-sends.
 *
 * tests/integration/chaos.test.ts runs a small version in CI and asserts the outcome.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  dispatchEventId,
  ingest,
  Node,
  plainKafka,
  startDedicatedBroker,
  waitUntilDrained,
} from '../tests/integration/support'
import { filterTimeoutNegativeWarnings } from '../src/bus/kafka/warnings'
import { freePort } from '../tests/support/process'

export interface ChaosOptions {
  readonly events: number
  readonly nodeKills: number
  readonly brokerRestarts: number
  /** Progress lines (stderr in the command, silent in tests). */
  readonly progress?: (line: string) => void
}

export interface ChaosReport {
  readonly events: number
  readonly acked: number
  /** POSTs answered with a final refusal (4xx other than 429): must be 0 for valid bodies. */
  readonly refused: number
  readonly lost: number
  readonly doubleCounted: number
  readonly nodeKills: number
  readonly brokerRestarts: number
  /** Messages on market.dispatch beyond one per event id. */
  readonly kafkaDuplicates: number
  /** POSTs sent again because the first got no answer (the node died or Kafka-independent 503). */
  readonly clientRetries: number
  /** Loops (consumer, relay, leadership) their supervisor restarted, summed over every node run. */
  readonly loopRestarts: number
  readonly nodesReady: number
  readonly nodes: number
  readonly seconds: number
  readonly drainSeconds: number
  readonly projected: Record<string, number>
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const say = options.progress ?? (() => {})
  const started = performance.now()
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-chaos-'))
  const broker = await startDedicatedBroker(`it-chaos-${process.pid}`)
  const nodes: Node[] = []
  try {
    const nodeOptions = (nodeId: string) => ({
      brokers: broker.brokers,
      nodeId,
      dataDir: join(dir, nodeId),
      port: freePort(),
    })
    const aOptions = nodeOptions('chaos-a')
    let a = new Node(aOptions)
    nodes.push(a)
    await a.start()
    say(`node chaos-a up on ${a.base}; broker ${broker.brokers}`)

    const all = Array.from({ length: options.events }, (_, k) => k)
    const acked = new Set<number>()
    const refused = new Map<number, number>()
    const refusedBefore = (r: { rejected: Map<number, number> }) =>
      [...r.rejected.values()].filter((s) => s !== 503 && s !== 429).length
    let clientRetries = 0
    let brokerDown = false

    // The faults happen while events are being posted: the schedule releases the events in one
    // chunk per step (plus a last one) and strikes in the middle of each chunk.
    const steps = Math.max(options.nodeKills, options.brokerRestarts)
    const chunk = Math.ceil(options.events / (steps + 1))
    let allowance = chunk
    // Paced so a chunk takes ~10 s: long enough for a fault to land in the middle of it.
    const ratePerSecond = Math.max(50, chunk / 10)

    // The client: POST every event until each got a 202; what got no answer (the node died) or a
    // 503 (the outbox was full) is sent again, as any client of an at-least-once API would.
    const client = (async () => {
      let pending = all
      let round = 0
      while (pending.length > 0) {
        round++
        if (round > 1) clientRetries += pending.length
        for (let i = 0; i < pending.length; i += 200) {
          while (pending[i]! >= allowance) await Bun.sleep(100)
          const slice = pending.slice(i, i + 200).filter((k) => k < allowance)
          const result = await ingest(a.base, slice, { concurrency: 16, ratePerSecond })
          for (const k of result.acked) acked.add(k)
          // Only 503 (the outbox is full) and 429 are worth sending again; any other refusal is
          // final, and the run reports it.
          for (const [k, status] of result.rejected)
            if (status !== 503 && status !== 429) refused.set(k, status)
          // The node died mid-slice: wait for its restart before going on.
          if (result.unanswered.size > 0 || result.notSent.length > 0) await waitHealthy(() => a)
          else if (result.rejected.size > refusedBefore(result)) await Bun.sleep(500)
          if (slice.length < Math.min(200, pending.length - i)) i -= 200 - slice.length
        }
        pending = all.filter((k) => !acked.has(k) && !refused.has(k))
      }
      say(`client: all ${options.events} events acknowledged after ${round} rounds`)
    })()

    const chaos = (async () => {
      let nodeKills = 0
      let brokerRestarts = 0
      let secondNode = false
      for (let step = 0; step < steps; step++) {
        const base = step * chunk
        await waitAcks(acked, base + chunk * 0.3)
        const restartBroker = brokerRestarts < options.brokerRestarts
        if (restartBroker) {
          const hard = brokerRestarts % 2 === 1
          await broker.kill(hard)
          brokerDown = true
          say(`broker killed (${hard ? 'SIGKILL' : 'SIGTERM'}), restart ${brokerRestarts + 1}`)
          if (!secondNode) {
            // A node started during an outage must serve at once and catch up later.
            const b = new Node(nodeOptions('chaos-b'))
            nodes.push(b)
            await b.start(30_000)
            say('node chaos-b started while the broker is down')
            secondNode = true
          }
        }
        if (nodeKills < options.nodeKills) {
          await waitAcks(acked, base + chunk * 0.6)
          a.kill('SIGKILL')
          await a.exited()
          say(`node chaos-a SIGKILLed (${nodeKills + 1}) mid-chunk; restarting it`)
          a = new Node(aOptions, aOptions.port)
          nodes.push(a)
          await a.start(60_000)
          nodeKills++
        }
        if (restartBroker) {
          await broker.resume()
          brokerDown = false
          brokerRestarts++
        }
        allowance = Math.min(options.events, (step + 2) * chunk)
      }
      allowance = options.events
      return { nodeKills, brokerRestarts }
    })()

    const [counts] = await Promise.all([chaos, client])
    if (brokerDown) await broker.resume()

    // Nobody touches anything now: every live node must come back to ready on its own.
    const drainStarted = performance.now()
    const live = nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null)
    await Promise.all(live.map((n) => waitUntilDrained(n, 300_000)))
    const drainSeconds = (performance.now() - drainStarted) / 1000
    let nodesReady = 0
    const projected: Record<string, number> = {}
    let lost = 0
    let doubleCounted = 0
    for (const node of live) {
      const { status } = await node.ready()
      if (status === 200) nodesReady++
      const ids = await node.dispatchIds()
      const distinct = new Set(ids)
      const stats = await node.json('/api/v1/stats')
      projected[node.options.nodeId] = distinct.size
      doubleCounted +=
        ids.length - distinct.size + Math.max(0, stats.totals.dispatch - distinct.size)
      lost += [...acked].filter((k) => !distinct.has(dispatchEventId(k))).length
    }

    const kafkaDuplicates = await countDuplicates(broker.brokers, 'market.dispatch')
    const loopRestarts = nodes.reduce(
      (n, node) =>
        n + node.output.split('\n').filter((l) => l.includes('stopped; restarting it')).length,
      0
    )
    for (const node of live) {
      node.kill('SIGTERM')
      await node.exited()
    }
    return {
      events: options.events,
      acked: acked.size,
      refused: refused.size,
      lost,
      doubleCounted,
      nodeKills: counts.nodeKills,
      brokerRestarts: counts.brokerRestarts,
      kafkaDuplicates,
      clientRetries,
      loopRestarts,
      nodesReady,
      nodes: live.length,
      seconds: (performance.now() - started) / 1000,
      drainSeconds,
      projected,
    }
  } finally {
    for (const node of nodes) node.kill('SIGKILL')
    await broker.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function waitAcks(acked: Set<number>, target: number) {
  while (acked.size < target) await Bun.sleep(100)
}

async function waitHealthy(node: () => Node, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${node().base}/health`, { signal: AbortSignal.timeout(2_000) })
      if (response.ok) return
    } catch {}
    await Bun.sleep(200)
  }
  throw new Error('the node did not come back within 2 minutes')
}

/** Messages on a topic beyond one per event id: what a direct reader de-duplicates by `event_id`. */
async function countDuplicates(brokers: string, topic: string): Promise<number> {
  const release = filterTimeoutNegativeWarnings()
  try {
    return await readDuplicates(brokers, topic)
  } finally {
    release()
  }
}

async function readDuplicates(brokers: string, topic: string): Promise<number> {
  const kafka = plainKafka(brokers.split(','))
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  const ids = new Set<string>()
  let seen = 0
  const consumer = kafka.consumer({ groupId: `chaos-reader-${crypto.randomUUID()}` })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen}/${total} of ${topic}`)), 120_000)
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            seen++
            const id = (JSON.parse(m.value?.toString() ?? '{}') as { event_id?: string }).event_id
            if (id) ids.add(id)
          }
          if (seen >= total) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
      .catch(reject)
    if (total === 0) resolve()
  })
  await consumer.disconnect()
  return seen - ids.size
}

export function formatReport(r: ChaosReport): string {
  return [
    `chaos: ${r.events} events posted, ${r.acked} acknowledged, ${r.refused} refused, in ${r.seconds.toFixed(0)} s`,
    `  faults: node SIGKILLed ${r.nodeKills}×, broker killed and restarted ${r.brokerRestarts}×, one node started during an outage`,
    `  lost ${r.lost}, double-counted ${r.doubleCounted}; projected per node: ${Object.entries(
      r.projected
    )
      .map(([n, c]) => `${n} ${c}`)
      .join(', ')}`,
    `  nodes ready again without intervention: ${r.nodesReady}/${r.nodes} (drained ${r.drainSeconds.toFixed(1)} s after the last fault); loops restarted by their supervisor: ${r.loopRestarts}`,
    `  duplicates a direct reader of market.dispatch sees: ${r.kafkaDuplicates} (client re-sent ${r.clientRetries} unanswered POSTs; dedupe by event_id)`,
  ].join('\n')
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`)
    return i >= 0 ? Number(process.argv[i + 1]) : fallback
  }
  if (Bun.which('java') === null) {
    console.error('chaos needs Java 17+ for a Kafka broker of its own')
    process.exit(3)
  }
  const report = await runChaos({
    events: arg('events', 100_000),
    nodeKills: arg('node-kills', 3),
    brokerRestarts: arg('broker-restarts', 10),
    progress: (line) => console.error(`[chaos] ${line}`),
  })
  console.log(formatReport(report))
  const healthy =
    report.refused === 0 &&
    report.lost === 0 &&
    report.doubleCounted === 0 &&
    report.nodesReady === report.nodes
  process.exit(healthy ? 0 : 1)
}
