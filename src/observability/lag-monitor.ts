/**
 * The projection's lag behind the event log, computed in one place for `/ready`, `/metrics` and
 * liveness. Log-end offsets are refreshed in the background (`refresh`, on a timer in main.ts) and
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
