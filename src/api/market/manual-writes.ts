import type { FuelType, RegionId } from '@/canonical'
import type { ReadPort } from '@/projection/read-port'

/** One filled revision slot of a manual reading, as the write path sees it. */
export interface Slot {
  readonly event_id: string
  readonly value_mw: number
  readonly written_by: string | null
  readonly written_at: string
}

export interface ManualKey {
  readonly region_id: RegionId
  readonly fuel_type: FuelType
  readonly interval_end: string
}

// Bounded: an entry normally lives only until the projector applies it (milliseconds). Entries
// whose event lost a race on another node never show up with their value; the projection is
// authoritative for those, so dropping the oldest on overflow only weakens the local fast check.
const MAX_PENDING_KEYS = 10_000

/**
 * What the write path checks a POST against: the projection's revisions of the key, plus this
 * node's own writes that are durable in the log but not projected yet (so a second POST right after
 * the first, before the projector caught up, still sees the first). Checks and publishes for one
 * key run one at a time on this node. Across nodes, the projection's first-writer-wins per slot
 * (src/projection/apply.ts) keeps history intact; see the comment there.
 */
export function createManualWrites(queries: Pick<ReadPort, 'dispatch'>) {
  const pending = new Map<string, Map<number, Slot>>()
  const tails = new Map<string, Promise<unknown>>()
  const id = (k: ManualKey) => `${k.region_id}|${k.fuel_type}|${k.interval_end}`

  return {
    /** Filled slots by revision: projected ones win over this node's pending ones. */
    slots(key: ManualKey): Map<number, Slot> {
      const projected = new Map<number, Slot>(
        queries.dispatch
          .revisions(key.region_id, key.fuel_type, key.interval_end)
          .map((r) => [r.revision, r])
      )
      const mine = pending.get(id(key))
      if (mine) {
        for (const [revision, slot] of mine) {
          if (projected.has(revision)) mine.delete(revision)
          else projected.set(revision, slot)
        }
        if (mine.size === 0) pending.delete(id(key))
      }
      return projected
    },
    /** Records a write that is durable in the log, until the projection shows its slot. */
    published(key: ManualKey, revision: number, slot: Slot): void {
      let mine = pending.get(id(key))
      if (!mine) {
        if (pending.size >= MAX_PENDING_KEYS) pending.delete(pending.keys().next().value!)
        mine = new Map()
        pending.set(id(key), mine)
      }
      mine.set(revision, slot)
    },
    /** Runs `fn` after every earlier call for the same key has settled (check-then-publish atomically). */
    exclusive<T>(key: ManualKey, fn: () => Promise<T>): Promise<T> {
      const k = id(key)
      const run = (tails.get(k) ?? Promise.resolve()).then(fn)
      const tail = run.catch(() => undefined)
      tails.set(k, tail)
      void tail.then(() => {
        if (tails.get(k) === tail) tails.delete(k)
      })
      return run
    },
  }
}
