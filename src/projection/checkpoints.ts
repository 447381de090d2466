import { asc, eq } from 'drizzle-orm'
import type { ProjectionDb } from './db'
import { checkpoints } from './schema'

/** Stored next offsets of a consumer, keyed `topic/partition`: with the log's end offsets, the lag. */
export function readPositions(db: ProjectionDb, consumer: string): Map<string, bigint> {
  const rows = db.orm
    .select()
    .from(checkpoints)
    .where(eq(checkpoints.consumer, consumer))
    .orderBy(asc(checkpoints.topic))
    .all()
  return new Map(rows.map((r) => [`${r.topic}/${r.partition}`, BigInt(r.nextOffset)]))
}

/**
 * The projection's lag behind the event log, computed in one place for `/ready`, `/metrics` and
 * liveness. Log-end offsets are refreshed in the background (`refresh`, on a timer in the node) and
 * kept: while Kafka is unreachable the last known ends still say how far behind the projection was
 * when the log was last seen, so readiness keeps meaning "can serve reads" through an outage.
 */
export interface LagSnapshot {
  /** Σ over partitions of (log end − stored position), never negative per partition. */
  readonly lag: number
  readonly byPartition: ReadonlyMap<string, number>
  /** When the log ends were last read, epoch ms; null before the first successful read. */
  readonly endsReadAt: number | null
  /** The log was reachable at the last refresh. */
  readonly fresh: boolean
}

export interface LagMonitor {
  refresh(): Promise<void>
  snapshot(): LagSnapshot
  /**
   * How long the projection has been behind without moving, ms (0 when it is caught up or moving).
   * Only counted while the log is reachable: a projection cannot progress while Kafka is down.
   */
  stalledForMs(): number
}

export function createLagMonitor(options: {
  /** Log-end offset per `topic/partition`. Throws while the log is unreachable. */
  readonly endOffsets: () => Promise<Map<string, bigint>>
  /** The projection's stored next offset per `topic/partition`. */
  readonly positions: () => Map<string, bigint>
  readonly now?: () => number
}): LagMonitor {
  const now = options.now ?? Date.now
  let ends = new Map<string, bigint>()
  let endsReadAt: number | null = null
  let fresh = false
  let lastPositions = ''
  let stalledSince: number | null = null

  const compute = () => {
    // Positions are read after the end offsets: a partition may already be past them.
    const positions = options.positions()
    const byPartition = new Map<string, number>()
    let lag = 0n
    for (const [pk, end] of ends) {
      const behind = end - (positions.get(pk) ?? 0n)
      const clamped = behind > 0n ? behind : 0n
      byPartition.set(pk, Number(clamped))
      lag += clamped
    }
    return { lag: Number(lag), byPartition, positions }
  }

  return {
    async refresh() {
      try {
        ends = await options.endOffsets()
        endsReadAt = now()
        fresh = true
      } catch {
        fresh = false
      }
      const { lag, positions } = compute()
      const key = [...positions].map(([pk, p]) => `${pk}=${p}`).join(',')
      if (!fresh || lag === 0 || key !== lastPositions) stalledSince = null
      else stalledSince ??= now()
      lastPositions = key
    },
    snapshot() {
      const { lag, byPartition } = compute()
      return { lag, byPartition, endsReadAt, fresh }
    },
    stalledForMs: () => (stalledSince === null ? 0 : now() - stalledSince),
  }
}

/**
 * `/ready`'s projection check: the projection within `maxLag` events of the log as last seen (kept
 * through a Kafka outage). A log never seen since start (Kafka down from the start) does not fail
 * it: the node serves what the projection holds.
 */
export async function projectionLagCheck(
  lag: LagMonitor,
  options: { readonly maxLag: number; readonly logConnected: () => boolean }
) {
  // A fresh look whenever the log answers; the last known ends only through an outage.
  if (options.logConnected()) await lag.refresh()
  const snapshot = lag.snapshot()
  const ok = snapshot.endsReadAt === null || snapshot.lag <= options.maxLag
  return {
    ok,
    lag: snapshot.endsReadAt === null ? null : snapshot.lag,
    lag_as_of: snapshot.endsReadAt === null ? null : new Date(snapshot.endsReadAt).toISOString(),
    ...(snapshot.endsReadAt === null
      ? { detail: 'lag unknown: the log has not answered since start' }
      : ok
        ? {}
        : { detail: `projection is ${snapshot.lag} events behind the log` }),
  }
}
