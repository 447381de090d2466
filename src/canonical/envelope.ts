import { z } from 'zod'

export const SCHEMA_VERSION = 1 as const

/** ISO-8601 instant in UTC (`Z` suffix). */
export const UtcInstantSchema = z.iso.datetime().describe('ISO-8601 instant, UTC')

export const SourceNameSchema = z
  .enum(['aemo.dispatchis', 'aemo.dispatch_scada', 'aemo.rooftop_pv', 'openmeteo.forecast', 'api'])
  .describe('Where the event came from')
export type SourceName = z.infer<typeof SourceNameSchema>

/** Fields every canonical event carries, whatever its type. */
export const envelopeShape = {
  event_id: z.uuid().describe('Deterministic id (UUIDv5) from the source identity of the event'),
  schema_version: z.literal(SCHEMA_VERSION),
  correlation_id: z
    .string()
    .min(1)
    .max(128)
    .describe('One per poll cycle / source file / API request'),
  source: SourceNameSchema,
  source_file: z
    .string()
    .max(512)
    .nullable()
    .describe('Upstream file or URL the event was derived from'),
  source_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .describe('sha256 of the upstream file or response body'),
  // Lineage: one small integer per event rather than a copy of the row. Absent from events written
  // before it existed (they parse as null), so an additive change: schema_version stays 1.
  source_row: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(null)
    .describe(
      'Line of the upstream file the event was read from (1-based, as AEMO files number them); null when the event aggregates several rows or has no file'
    ),
  ingested_at: UtcInstantSchema.describe('When GridPulse normalised the event'),
}

/** The envelope a producer supplies; the id, type and schema version are added by `createEvent`. */
export interface EventEnvelope {
  readonly correlation_id: string
  readonly source: SourceName
  readonly source_file: string | null
  readonly source_sha256: string | null
  /** The event's line in the upstream file, when one row makes the event. */
  readonly source_row?: number | null
  readonly ingested_at: string
}
