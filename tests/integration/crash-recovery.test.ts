import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { waitFor } from '../support/events'
import {
  dispatchEventId,
  expectCleanOutput,
  ingest,
  Node,
  waitUntilDrained,
  skipWithoutOwnBroker,
  useDedicatedBroker,
} from './support'

const skip = skipWithoutOwnBroker(
  'Kafka crash-recovery test (tests/integration/crash-recovery.test.ts)'
)
const TOTAL = 12_000
const KILL_AFTER_ACKS = 6_000

describe.skipIf(skip)('GridPulse SIGKILLed in the middle of ingesting', () => {
  const { dir, nodes, broker } = useDedicatedBroker('crash')

  test(`loses and duplicates nothing of ${TOTAL} events after a restart`, async () => {
    const options = {
      brokers: broker().brokers,
      nodeId: 'crash-1',
      dataDir: join(dir.path, 'node'),
    }
    const first = new Node(options)
    nodes.push(first)
    await first.start()

    const all = Array.from({ length: TOTAL }, (_, k) => k)
    let atKill: unknown
    let sample: Promise<unknown> = Promise.resolve()
    const phase1 = await ingest(first.base, all, {
      concurrency: 32,
      onAck: (n) => {
        // Where the events are just before the crash (outbox depth, projection lag), for the report.
        if (n === KILL_AFTER_ACKS - 200)
          sample = first.ready().then(
            (r) => (atKill = r.body.checks.event_log.outbox_depth),
            () => {}
          )
        if (n === KILL_AFTER_ACKS) sample.finally(() => first.kill('SIGKILL'))
      },
    })
    expect(await first.exited()).not.toBe(0)
    expect(phase1.rejected.size).toBe(0)

    // Same data directory, same node id: the outbox and the projection's positions survive.
    const second = new Node({ ...options, port: first.port })
    nodes.push(second)
    await second.start()
    const drainedMs = await waitUntilDrained(second, 90_000)
    // Every event acknowledged before the crash is there before anything is re-sent.
    const afterRestart = new Set(await second.dispatchIds())
    const lostAcked = [...phase1.acked].filter((k) => !afterRestart.has(dispatchEventId(k)))

    // A client retries what it never got an answer for (same body → same event id).
    const retry = all.filter((k) => !phase1.acked.has(k))
    const phase2 = await ingest(second.base, retry, { concurrency: 32 })
    expect(phase2.acked.size).toBe(retry.length)
    await waitUntilDrained(second, 90_000)
    await waitFor(
      async () => (await second.json('/api/v1/stats')).totals.dispatch >= TOTAL,
      `${TOTAL} rows projected`,
      60_000
    )

    const ids = await second.dispatchIds()
    const projected = new Set(ids)
    const expected = new Set(all.map(dispatchEventId))
    const missing = [...expected].filter((id) => !projected.has(id))
    const extra = [...projected].filter((id) => !expected.has(id))
    const stats = await second.json('/api/v1/stats')
    console.log(
      `[crash-recovery] sent ${TOTAL - phase1.notSent.length} before the kill: acked ${phase1.acked.size}, unanswered ${phase1.unanswered.size}; ` +
        `outbox depth ~200 acks before the kill: ${atKill}; restart drained in ${Math.round(drainedMs)} ms; ` +
        `acked-before-kill missing after restart: ${lostAcked.length}; re-sent ${retry.length}; ` +
        `projected ${ids.length} rows (${projected.size} distinct), stats total ${stats.totals.dispatch}; missing ${missing.length}, extra ${extra.length}`
    )
    expect(lostAcked).toEqual([])
    expect(missing).toEqual([])
    expect(extra).toEqual([])
    expect(ids.length).toBe(TOTAL)
    expect(stats.totals.dispatch).toBe(TOTAL)

    second.kill('SIGTERM')
    expect(await second.exited()).toBe(0)
    expectCleanOutput([first, second])
  }, 300_000)
})
