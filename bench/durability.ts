/**
 * What `synchronous = FULL` costs on the write path (the outbox in Kafka mode, the log embedded):
 * commits per second with one event per commit (an API POST) and 500 per commit (a NEMWeb file),
 * FULL against NORMAL, on the machine's own disk (the OS temp dir).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedBus } from '@/bus'
import { encodeEvent } from '@/bus/serde'
import { createOutbox } from '@/bus/kafka/outbox'
import { silentLogger } from '@/observability'
import { dispatchEvent } from '../tests/support/events'

export async function benchDurability(report: (name: string, value: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-bench-durability-'))
  const events = Array.from({ length: 20_000 }, (_, i) =>
    dispatchEvent('NSW1', 'wind', new Date(Date.UTC(2025, 0, 1) + i * 300_000).toISOString(), i)
  )
  const encoded = events.map(encodeEvent)
  try {
    for (const batch of [1, 500]) {
      const commits = batch === 1 ? 2_000 : 40
      const perSecond: Record<string, number> = {}
      for (const mode of ['NORMAL', 'FULL'] as const) {
        const outbox = createOutbox({
          path: join(dir, `outbox-${mode}-${batch}.sqlite`),
          nodeId: 'bench',
          synchronous: mode,
        })
        let started = performance.now()
        for (let c = 0; c < commits; c++)
          outbox.append(encoded.slice((c * batch) % 19_500, ((c * batch) % 19_500) + batch))
        perSecond[`outbox ${mode}`] = (commits * batch) / ((performance.now() - started) / 1000)
        outbox.close()

        const bus = createEmbeddedBus({
          path: join(dir, `log-${mode}-${batch}.sqlite`),
          log: silentLogger(),
          synchronous: mode,
        })
        started = performance.now()
        for (let c = 0; c < commits; c++)
          await bus.publish(events.slice((c * batch) % 19_500, ((c * batch) % 19_500) + batch))
        perSecond[`log ${mode}`] = (commits * batch) / ((performance.now() - started) / 1000)
        await bus.close()
      }
      const ratio = (kind: string) =>
        `${Math.round(perSecond[`${kind} FULL`]!).toLocaleString('en')}/s FULL vs ${Math.round(
          perSecond[`${kind} NORMAL`]!
        ).toLocaleString('en')}/s NORMAL (${(
          (100 * perSecond[`${kind} FULL`]!) / perSecond[`${kind} NORMAL`]!
        ).toFixed(0)} %)`
      const shape = batch === 1 ? '1 event/commit (POST)' : '500 events/commit (file)'
      report(`outbox append, ${shape}`, ratio('outbox'))
      report(`embedded log publish, ${shape}`, ratio('log'))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
