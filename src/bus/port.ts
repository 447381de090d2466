import type { DeadLetter, GridEvent } from '@/canonical'

/** A message as read from a topic partition, before it is parsed into the canonical model. */
export interface RawMessage {
  readonly offset: bigint
  readonly key: string | null
  readonly value: string
  readonly headers: Readonly<Record<string, string>>
  readonly timestamp: number
}

/** What a consumer receives: one topic partition, its messages in offset order, already parsed. */
export interface ConsumedBatch {
  readonly topic: string
  readonly partition: number
  readonly records: readonly ConsumedRecord[]
}

export type ConsumedRecord =
  | {
      readonly offset: bigint
      readonly kind: 'event'
      readonly event: GridEvent
      /** When the record reached the log (epoch ms: the message timestamp), when known. */
      readonly loggedAt?: number
    }
  | { readonly offset: bigint; readonly kind: 'dead_letter'; readonly deadLetter: DeadLetter }
  /** Unparseable: already forwarded to the DLQ; the offset still has to be checkpointed. */
  | { readonly offset: bigint; readonly kind: 'skipped' }

/** A cursor into an upstream source (the last file ingested), committed atomically with its events. */
export interface SourceCheckpoint {
  readonly source: string
  readonly cursor: string
}

export interface PublishOptions {
  readonly checkpoint?: SourceCheckpoint
}

export interface Subscription {
  readonly groupId: string
  readonly topics: readonly string[]
  /** The consumer's own stored position (next offset) for a partition; Kafka's committed offsets are only a hint. */
  startOffset(topic: string, partition: number): bigint | undefined
  /** Must be atomic: once it resolves, the batch and its checkpoint are durable. */
  onBatch(batch: ConsumedBatch): Promise<void>
}

export interface Consumer {
  stop(): Promise<void>
}

export interface BusHealth {
  readonly kind: 'embedded' | 'kafka'
  readonly connected: boolean
  readonly detail?: string
  /** Events committed locally but not yet on the log (the Kafka outbox); 0 for the embedded log. */
  readonly outboxDepth: number
  /** The outbox's cap (OUTBOX_MAX_EVENTS): publish answers 503 beyond it. */
  readonly outboxMaxEvents?: number
}

/** A record of a control topic (alert rules, alert deliveries): its key and its JSON value. */
export interface ControlRecord {
  readonly key: string
  readonly value: string
}

/**
 * Kafka mode: topics that carry state every node must hold (not events for the projection).
 * `append` goes through the outbox like events (durable at once, relayed in order, Kafka may be
 * down); `follow` reads the topic from its beginning, then tails it. The embedded log has no such
 * thing: one node holds everything already.
 */
export interface SharedTopics {
  append(topic: string, records: readonly ControlRecord[]): Promise<void>
  follow(
    topic: string,
    onRecords: (records: readonly ControlRecord[]) => void
  ): { stop(): Promise<void> }
}

/**
 * The event log port. The embedded SQLite log and Kafka both implement it, with the same
 * semantics: topics, partitions by key (Kafka's murmur2), offsets, at-least-once delivery.
 */
export interface EventBus {
  readonly kind: 'embedded' | 'kafka'
  /** Durably accepts events (and the source checkpoint that produced them, in the same transaction). */
  publish(events: readonly GridEvent[], options?: PublishOptions): Promise<void>
  /** Records rejected input on `dlq.<topic>` (and the source checkpoint, in the same transaction). */
  deadLetter(records: readonly DeadLetter[], options?: PublishOptions): Promise<void>
  /** The last committed cursor of a source; in Kafka mode shared by all nodes (the new leader resumes from it). */
  readSourceCheckpoint(source: string): Promise<string | undefined>
  /** Whether this node should poll the sources now (always true for the embedded log). */
  isLeader(): boolean
  /** Kafka mode only (see {@link SharedTopics}). */
  readonly shared?: SharedTopics
  subscribe(subscription: Subscription): Promise<Consumer>
  /** Log-end offset (next offset to be written) of every partition of the given topics. */
  endOffsets(topics: readonly string[]): Promise<Map<string, bigint>>
  health(): BusHealth
  close(): Promise<void>
}

export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`
