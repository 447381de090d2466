import type { z } from 'zod'
import type { EventTopic } from './streams'

/**
 * What the system knows about one event type, apart from its shape: where it goes on the log, how
 * it is partitioned, what makes two events "the same" (the UUIDv5 id) and when it happened.
 * `E` is the event, `I` the identity fields its id is made of (a subset, so an id can be computed
 * before the event is built, and by tests).
 */
export interface EventSpecOf<E, I> {
  readonly schema: z.ZodType<E>
  readonly topic: EventTopic
  /** The Kafka message key: the entity whose events must stay in order on one partition. */
  readonly key: (event: E) => string
  /** Identity parts, after the event type and source, joined with `|` into the UUIDv5 name. */
  readonly identity: (id: I) => readonly string[]
  /** When the event happened (ISO-8601 UTC), not when GridPulse saw it: the latency clock. */
  readonly time: (event: E) => string
}

/** An event type's zod object: its `event_type` literal names the type. */
export type EventObjectSchema = z.ZodObject<{ event_type: z.ZodLiteral<string> } & z.ZodRawShape>

/**
 * An event type's spec with its concrete schema kept, so the registry can build the discriminated
 * union from its one list of specs.
 */
export type DefinedEvent<S extends EventObjectSchema, I> = Omit<
  EventSpecOf<z.output<S>, I>,
  'schema'
> & {
  readonly schema: S
  readonly type: S['shape']['event_type']['value']
}

/** Declares an event type (one per `events/<event>.ts`); registered by one line in `registry.ts`. */
export function defineEvent<S extends EventObjectSchema, I>(
  schema: S,
  spec: Omit<EventSpecOf<z.infer<S>, I>, 'schema'>
): DefinedEvent<S, I> {
  return { ...spec, schema, type: schema.shape.event_type.value }
}
