import { z } from 'zod'
import { uuidV5 } from '@/lib'
import type { EventEnvelope } from './envelope'
import { SCHEMA_VERSION } from './envelope'
import type { EventSpecOf } from './event-spec'
import { interconnectorFlow } from './events/interconnector-flow'
import { marketDispatch } from './events/market-dispatch'
import { regionFcasPrice } from './events/region-fcas-price'
import { regionPrice } from './events/region-price'
import { rooftopPv } from './events/rooftop-pv'
import { scadaReconciliation } from './events/scada-reconciliation'
import { sourceFile } from './events/source-file'
import { weatherObservation } from './events/weather-observation'
import type { EventTopic } from './streams'

// Adding an event type: its file in events/ (`defineEvent`) and one line here. The union, the
// registry and every helper below derive from this list with no default branch, so an event type
// cannot exist without its spec.
const EVENTS = [
  interconnectorFlow,
  marketDispatch,
  regionPrice,
  weatherObservation,
  scadaReconciliation,
  rooftopPv,
  regionFcasPrice,
  sourceFile,
] as const

type Defined = (typeof EVENTS)[number]
type SchemasOf<L extends readonly Defined[]> = { -readonly [K in keyof L]: L[K]['schema'] }

export const GridEventSchema = z.discriminatedUnion(
  'event_type',
  // `map` over a tuple is typed as an array; the mapped tuple type restores the members.
  EVENTS.map((e) => e.schema) as unknown as SchemasOf<typeof EVENTS>
)
export type GridEvent = z.infer<typeof GridEventSchema>
export type GridEventType = GridEvent['event_type']
export type EventOf<T extends GridEventType> = Extract<GridEvent, { event_type: T }>

type DefinedOf<T extends GridEventType> = Extract<Defined, { readonly type: T }>

/** The fields an event type's id is made of (see each `events/<event>.ts`). */
export type IdentityOf<T extends GridEventType> = Parameters<DefinedOf<T>['identity']>[0]
export type EventSpec<T extends GridEventType> = EventSpecOf<EventOf<T>, IdentityOf<T>>

/** Every event type's spec. Indexing with a generic `T` keeps the type: no casts downstream. */
export const EVENT_REGISTRY = Object.fromEntries(EVENTS.map((e) => [e.type, e])) as unknown as {
  readonly [T in GridEventType]: EventSpec<T>
}
// What the cast above takes on trust, checked: each listed spec is its type's spec.
type Checked = { [T in GridEventType]: DefinedOf<T> extends EventSpec<T> ? true : never }
true satisfies Checked[GridEventType]

/** Every event type, in registry order. */
export const EVENT_TYPES = Object.keys(EVENT_REGISTRY) as GridEventType[]

/** Namespace for GridPulse's UUIDv5 event ids. Changing it changes every id: never do. */
const EVENT_ID_NAMESPACE = '3f1c9a52-7c1e-4a8e-9a55-6d1b0f2e8c41'

/** What an event's id is computed from: its type, its source and its identity fields. */
export type EventIdentity<T extends GridEventType> = {
  readonly event_type: T
  readonly source: string
} & IdentityOf<T>

/**
 * Deterministic event id from the event's source identity: re-ingesting the same upstream data
 * (after a crash, a replay or a backfill) yields the same id, so projections stay idempotent.
 *
 * @example eventIdFor({ event_type: 'RegionPriceEvent', source: 'aemo.dispatchis', region_id: 'NSW1', interval_end: '2026-04-01T00:05:00Z' })
 */
export function eventIdFor<T extends GridEventType>(identity: EventIdentity<T>): string {
  const parts = EVENT_REGISTRY[identity.event_type].identity(identity)
  return uuidV5([identity.event_type, identity.source, ...parts].join('|'), EVENT_ID_NAMESPACE)
}

export const topicFor = (event: GridEvent): EventTopic => EVENT_REGISTRY[event.event_type].topic

/** The partitioning identity of an event (region, interconnector, or the NEM as a whole). */
export const keyFor = <T extends GridEventType>(event: EventOf<T>): string =>
  EVENT_REGISTRY[event.event_type as T].key(event)

/** When the event happened (ISO-8601 UTC). */
export const eventTimeOf = <T extends GridEventType>(event: EventOf<T>): string =>
  EVENT_REGISTRY[event.event_type as T].time(event)

/** An event's own fields: everything but the envelope, the id and the type. */
export type EventBody<T extends GridEventType> = Omit<
  EventOf<T>,
  keyof EventEnvelope | 'event_id' | 'event_type' | 'schema_version'
>

/**
 * The one envelope builder: id (from the registry's identity), type and schema version around an
 * event's own fields. Callers that build from untrusted input still validate the result with the
 * type's schema (sources turn a failure into a dead letter).
 */
export function createEvent<T extends GridEventType>(
  type: T,
  envelope: EventEnvelope,
  body: EventBody<T> & IdentityOf<T>
): EventOf<T> {
  return {
    event_id: eventIdFor<T>({ event_type: type, source: envelope.source, ...body }),
    event_type: type,
    schema_version: SCHEMA_VERSION,
    correlation_id: envelope.correlation_id,
    source: envelope.source,
    source_file: envelope.source_file,
    source_sha256: envelope.source_sha256,
    source_row: envelope.source_row ?? null,
    ingested_at: envelope.ingested_at,
    ...body,
    // Envelope + type + body is the event by construction; TypeScript cannot see that through
    // the generic Omit.
  } as unknown as EventOf<T>
}
