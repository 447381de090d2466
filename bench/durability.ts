/**
 * What `synchronous = FULL` costs on the write path (the outbox in Kafka mode, the log embedded),
 * FULL against NORMAL, on the machine's own disk (the OS temp dir). Three shapes: one event per
 * commit from one client (each write waits for its own fsync), one event per write from 16
 * concurrent clients (API POSTs: group commit shares one fsync), and 500 events per commit (a
 * NEMWeb file).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedBus } from '@/bus'
import { createOutbox } from '@/bus/kafka/outbox'
import { encodeEvent } from '@/bus/serde'
import type { GridEvent } from '@/canonical'
import { silentLogger } from '@/observability'
import { dispatchEvent } from '../tests/support/events'

const SHAPES = [
  { name: '1 event/commit, 1 client', batch: 1, clients: 1, writes: 1_000 },
  { name: '1 event/write, 16 clients (POSTs)', batch: 1, clients: 16, writes: 8_000 },
  { name: '500 events/commit (a file)', batch: 500, clients: 1, writes: 40 },
] as const

export async function benchDurability(report: (name: string, value: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-bench-durability-'))
  const events = Array.from({ length: 20_000 }, (_, i) =>
    dispatchEvent('NSW1', 'wind', new Date(Date.UTC(2025, 0, 1) + i * 300_000).toISOString(), i)
  )
  const slice = (w: number, batch: number) => {
    const from = (w * batch) % (events.length - batch)
    return events.slice(from, from + batch)
  }
  /** Events per second when `clients` writers each wait for their own write before the next. */
  const measure = async (
    write: (events: readonly GridEvent[]) => Promise<void>,
    shape: (typeof SHAPES)[number]
  ) => {
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: shape.clients }, async () => {
        while (next < shape.writes) await write(slice(next++, shape.batch))
      })
    )
    return (shape.writes * shape.batch) / ((performance.now() - started) / 1000)
  }
  try {
    for (const shape of SHAPES) {
      const rate: Record<string, number> = {}
      for (const mode of ['NORMAL', 'FULL'] as const) {
        const outbox = createOutbox({
          path: join(dir, `outbox-${mode}-${shape.clients}-${shape.batch}.sqlite`),
          nodeId: 'bench',
          synchronous: mode,
        })
        rate[`outbox ${mode}`] = await measure((e) => outbox.append(e.map(encodeEvent)), shape)
        outbox.close()
        const bus = createEmbeddedBus({
          path: join(dir, `log-${mode}-${shape.clients}-${shape.batch}.sqlite`),
          log: silentLogger(),
          synchronous: mode,
        })
        rate[`log ${mode}`] = await measure((e) => bus.publish(e), shape)
        await bus.close()
      }
      const compare = (kind: string) => {
        const full = rate[`${kind} FULL`]!
        const normal = rate[`${kind} NORMAL`]!
        const n = (v: number) => Math.round(v).toLocaleString('en')
        return `${n(full)} events/s FULL vs ${n(normal)}/s NORMAL (${((100 * full) / normal).toFixed(0)} %)`
      }
      report(`outbox, ${shape.name}`, compare('outbox'))
      report(`embedded log, ${shape.name}`, compare('log'))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
