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
}

const RETAINED = 1024

export function createChangeLog(): ChangeLog {
  const log: { seq: number; type: GridEventType; from: number; to: number }[] = []
  let seq = 0
  return {
    get seq() {
      return seq
    },
    record(type, from, to) {
      log.push({ seq: ++seq, type, from, to })
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
  }
}
