import type { GridEventType } from '@/canonical'

/**
 * What each committed projection batch changed: its event types and, per type, the span of event
 * times. Caches of derived data (aggregate buckets) drop exactly the entries a commit touched, so
 * settled history is computed once while the newest interval keeps changing. Bounded: a cache
 * entry older than the retained log counts as changed.
 */
export interface ChangeLog {
  /** Sequence number of the newest change (0 before the first). */
  readonly seq: number
  record(type: GridEventType, from: number, to: number): void
  /** Whether events of `type` with a time in (from, to] (epoch ms) were committed after `seq`. */
  changedSince(type: GridEventType, seq: number, from: number, to: number): boolean
  /**
   * How many commits changed `type` since the process started: equal values mean nothing of that
   * stream changed in between (the HTTP response cache keys on it).
   */
  versionOf(type: GridEventType): number
  /** The newest event time of `type` committed since the process started (epoch ms), if any. */
  newestOf(type: GridEventType): number | undefined
}

const RETAINED = 1024

export function createChangeLog(): ChangeLog {
  const log: { seq: number; type: GridEventType; from: number; to: number }[] = []
  let seq = 0
  const versions = new Map<GridEventType, number>()
  const newest = new Map<GridEventType, number>()
  return {
    get seq() {
      return seq
    },
    record(type, from, to) {
      log.push({ seq: ++seq, type, from, to })
      versions.set(type, (versions.get(type) ?? 0) + 1)
      if (to > (newest.get(type) ?? Number.NEGATIVE_INFINITY)) newest.set(type, to)
      if (log.length > RETAINED * 2) log.splice(0, log.length - RETAINED)
    },
    changedSince(type, since, from, to) {
      if (since === seq) return false
      if (log.length === 0 || log[0]!.seq > since + 1) return true
      for (let i = log.length - 1; i >= 0 && log[i]!.seq > since; i--) {
        const c = log[i]!
        if (c.type === type && c.to > from && c.from <= to) return true
      }
      return false
    },
    versionOf: (type) => versions.get(type) ?? 0,
    newestOf: (type) => newest.get(type),
  }
}
