import {
  createEvent,
  type FuelType,
  type GridEvent,
  manualSignViolation,
  type RegionId,
} from '@/canonical'
import { DomainError, FIVE_MINUTES_MS, intervalEndFor, toUtcIso, toUtcIsoMs } from '@/lib'
import type { ReadPort } from '@/projection/read-port'
import type { Problem } from '../problem'

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

type ManualWrites = ReturnType<typeof createManualWrites>

/** A manual reading as `POST /api/v1/dispatch` accepts it (already schema-valid). */
export interface ManualReading {
  readonly region_id: RegionId
  readonly fuel_type: FuelType
  readonly value_mw: number
  readonly interval_end?: string
  readonly revision?: number
}

/** What became of a POST: accepted (new or the same write again), or refused with a reason. */
export type SubmitOutcome =
  | {
      readonly kind: 'accepted'
      readonly event_id: string
      readonly correlation_id: string
      readonly interval_end: string
      readonly revision: number
    }
  | {
      readonly kind: 'invalid' | 'conflict'
      readonly detail: string
      readonly errors: NonNullable<Problem['errors']>
    }

// The NEM started on 1998-12-13; a reading may be at most one day ahead (clock skew, pre-dispatch).
const NEM_START_MS = Date.parse('1998-12-13T00:00:00Z')
const MAX_AHEAD_MS = 24 * 3600 * 1000

/**
 * Checks a manual reading against its revision chain and publishes it. Check-then-publish runs one
 * at a time per key on this node and sees this node's writes that are not projected yet, so one
 * node never accepts two values for a revision. Two nodes can still both accept (each checks only
 * its own projection): the projection then keeps the first in log order and records the other as a
 * `conflict` dead letter (projection/apply.ts).
 */
export async function submitManualReading(
  manual: ManualWrites,
  deps: {
    readonly publish: (events: readonly GridEvent[]) => Promise<void>
    readonly now: () => number
  },
  body: ManualReading,
  caller: { readonly correlation_id: string; readonly written_by: string | undefined }
): Promise<SubmitOutcome> {
  const now = deps.now()
  const end = body.interval_end ? Date.parse(body.interval_end) : intervalEndFor(now)
  if (end % FIVE_MINUTES_MS !== 0 || end < NEM_START_MS || end > now + MAX_AHEAD_MS) {
    return {
      kind: 'invalid',
      detail: 'interval_end must be a 5-minute boundary between 1998-12-13 and one day ahead',
      errors: [{ pointer: '/interval_end', detail: 'not a dispatch interval end' }],
    }
  }
  const sign = manualSignViolation(body.fuel_type, body.value_mw)
  if (sign)
    return { kind: 'invalid', detail: sign, errors: [{ pointer: '/value_mw', detail: sign }] }
  const key = { region_id: body.region_id, fuel_type: body.fuel_type, interval_end: toUtcIso(end) }
  const revision = body.revision ?? 1
  const accepted = (event_id: string): SubmitOutcome => ({
    kind: 'accepted',
    event_id,
    correlation_id: caller.correlation_id,
    interval_end: key.interval_end,
    revision,
  })
  return manual.exclusive(key, async () => {
    const slots = manual.slots(key)
    const refusal = revisionConflict(key, body, revision, slots)
    if (refusal) return refusal
    // The same body again is the same write (a retry): idempotent, same event id.
    const taken = slots.get(revision)
    if (taken) return accepted(taken.event_id)
    const previous = slots.get(revision - 1)
    const event = createEvent(
      'MarketDispatchEvent',
      {
        correlation_id: caller.correlation_id,
        source: 'api',
        source_file: null,
        source_sha256: null,
        ingested_at: toUtcIsoMs(now),
      },
      {
        ...key,
        value_mw: body.value_mw,
        unit_count: 1,
        revision,
        ...(caller.written_by ? { written_by: caller.written_by } : {}),
        ...(previous ? { previous_value_mw: previous.value_mw } : {}),
      }
    )
    await publishOrRefuse(deps.publish, event)
    manual.published(key, revision, {
      event_id: event.event_id,
      value_mw: event.value_mw,
      written_by: caller.written_by ?? null,
      written_at: event.ingested_at,
    })
    return accepted(event.event_id)
  })
}

/** Why a revision cannot be written: its slot holds another value, or the one before it is empty. */
function revisionConflict(
  key: ManualKey,
  body: ManualReading,
  revision: number,
  slots: Map<number, Slot>
): SubmitOutcome | undefined {
  const what = `${key.region_id} ${key.fuel_type} at ${key.interval_end}`
  const current = Math.max(0, ...slots.keys())
  const next = `to change it, POST the new value with "revision": ${current + 1}`
  const taken = slots.get(revision)
  if (taken) {
    if (taken.value_mw === body.value_mw) return undefined
    return {
      kind: 'conflict',
      detail:
        `revision ${revision} of ${what} is already ${taken.value_mw} MW (event ${taken.event_id}, ` +
        `written by ${taken.written_by ?? 'an unauthenticated client'} at ${taken.written_at}); ` +
        `the current revision is ${current}; ${next}`,
      errors: [{ pointer: body.revision === undefined ? '/value_mw' : '/revision', detail: next }],
    }
  }
  if (revision > 1 && !slots.get(revision - 1)) {
    const detail =
      current === 0
        ? 'there is no reading to revise yet: POST it without "revision"'
        : `the current revision is ${current}; ${next}`
    return {
      kind: 'conflict',
      detail: `revision ${revision} of ${what} would replace revision ${revision - 1}, which does not exist; ${detail}`,
      errors: [{ pointer: '/revision', detail }],
    }
  }
  return undefined
}

/** Publishes, keeping a refusal's own code (outbox_full and its Retry-After); anything else is a 503. */
async function publishOrRefuse(
  publish: (events: readonly GridEvent[]) => Promise<void>,
  event: GridEvent
): Promise<void> {
  try {
    await publish([event])
  } catch (error) {
    if (error instanceof DomainError) throw error
    throw new DomainError(
      'upstream_unavailable',
      'the event log did not accept the event; retry',
      503,
      true,
      { cause: error }
    )
  }
}
