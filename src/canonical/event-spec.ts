import type { z } from 'zod'
import type { EventTopic } from './streams'

/**
 * What the system knows about one event type, apart from its shape: where it goes on the log, how
 * it is partitioned, what makes two events "the same" (the UUIDv5 id) and when it happened.
 * `E` is the event, `I` the identity fields its id is made of (a subset, so an id can be computed
 * before the event is built, and by tests).
 */
export interface EventSpecOf<E extends { readonly event_type: string }, I> {
  readonly schema: z.ZodType<E>
  readonly topic: EventTopic
  /** The Kafka message key: the entity whose events must stay in order on one partition. */
  readonly key: (event: E) => string
  /** Identity parts, after the event type and source, joined with `|` into the UUIDv5 name. */
  readonly identity: (id: I) => readonly string[]
  /** When the event happened (ISO-8601 UTC), not when GridPulse saw it: the latency clock. */
  readonly time: (event: E) => string
}
