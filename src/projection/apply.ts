import type { DeadLetter, EventOf, GridEvent, GridEventType } from '@/canonical'
import type { ProjectionDb } from './db'
import { createDeadLetterWriter } from './read-models/dead-letters'
import { READ_MODELS } from './read-models/index'
import type { EnvelopeParams, Writer } from './read-models/read-model'

type Writers = { readonly [T in GridEventType]: Writer<T> }

/**
 * Prepared, idempotent upserts keyed on `event_id`, one writer per read model. Applying an event
 * twice leaves the same row. Synchronous: bun:sqlite is, so a whole batch fits in one transaction.
 */
export function createApplier(db: ProjectionDb) {
  const applyDeadLetter = createDeadLetterWriter(db)
  const context = { deadLetter: applyDeadLetter }
  // Each entry is READ_MODELS[T].writer for the same T; Object.entries loses that pairing.
  const writers = Object.fromEntries(
    Object.entries(READ_MODELS).map(([type, model]) => [type, model.writer(db, context)])
  ) as unknown as Writers
  const write = <T extends GridEventType>(event: EventOf<T>, envelope: EnvelopeParams): void =>
    writers[event.event_type as T](event, envelope)

  return {
    /** `partition`/`offset`: where the projector read the event (stored for lineage). */
    applyEvent(event: GridEvent, projectedAt: number, partition: number, offset: bigint): void {
      write(event, {
        eventId: event.event_id,
        correlationId: event.correlation_id,
        source: event.source,
        sourceFile: event.source_file,
        sourceSha256: event.source_sha256,
        schemaVersion: event.schema_version,
        ingestedAt: Date.parse(event.ingested_at),
        // Absent on events built before the field existed and not parsed since (tests, POSTs).
        sourceRow: event.source_row ?? null,
        projectedAt,
        logPartition: partition,
        logOffset: Number(offset),
      })
    },
    applyDeadLetter: applyDeadLetter as (record: DeadLetter) => void,
  }
}
