import { z } from 'zod'
import { uuidV5 } from '@/lib'
import { UtcInstantSchema } from './envelope'

/**
 * A rejected input, as written to `dlq.<topic>`: the reason, the raw payload (as text, so invalid
 * JSON or CSV survives verbatim) and enough provenance to find and replay it.
 */
export const DeadLetterSchema = z
  .object({
    dead_letter_id: z.uuid().describe('Deterministic id of the rejected input'),
    topic: z.string().describe('The topic the input was meant for'),
    reason: z.string().min(1).max(2_000),
    code: z.string().min(1).max(64).describe('Stable machine-readable reason slug'),
    correlation_id: z.string().min(1).max(128).nullable(),
    source: z.string().max(64),
    source_file: z.string().max(512).nullable(),
    row: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe('Row (line) number in the source file, 1-based'),
    raw: z.string().max(1_000_000).describe('The rejected payload, verbatim (truncated at 1 MB)'),
    failed_at: UtcInstantSchema,
  })
  .strict()
export type DeadLetter = z.infer<typeof DeadLetterSchema>

/**
 * Where a dead letter was produced, each with the UUIDv5 namespace of its ids. The namespaces
 * predate this table and are kept as they were: a dead letter's id is what makes re-ingesting the
 * same rejected input (or a redelivery) harmless, so changing one would duplicate dead letters
 * recorded before the change. A new origin gets a new namespace here.
 */
const DEAD_LETTER_NAMESPACES = {
  /** A NEMWeb file or row (id: source | file sha256 | row or `file` | code). */
  nemweb: '5d2f8a1c-9e47-4b63-a0f5-7c18e3d94b22',
  /** An Open-Meteo response or one of its locations (id: `openmeteo` | body sha256 | index). */
  openmeteo: 'c6a1f0e2-55b4-4d0c-9d8e-2f7a3b1e9c60',
  /** A poison message on the log (id: topic | partition | offset). */
  bus: '9b0e7a40-3c55-4f7e-8f0b-1d6a2c9e5b17',
  /** A manual write the projection refused (id: the event's JSON). */
  projection: 'b7d4e0a2-5c61-4f3e-8d0b-2a9c6e1f4b73',
} as const
export type DeadLetterOrigin = keyof typeof DEAD_LETTER_NAMESPACES

/**
 * The one dead-letter builder: a deterministic id from `origin` and `identity`, and every text
 * field cut to the schema's bounds (a hostile input must not make its own dead letter invalid).
 */
export function createDeadLetter(input: {
  readonly origin: DeadLetterOrigin
  /** What makes this rejection the same one when the input comes again. */
  readonly identity: string
  readonly topic: string
  readonly code: string
  readonly reason: string
  readonly correlation_id: string | null
  readonly source: string
  readonly source_file: string | null
  readonly row: number | null
  readonly raw: string
  readonly failed_at: string
}): DeadLetter {
  return {
    dead_letter_id: uuidV5(input.identity, DEAD_LETTER_NAMESPACES[input.origin]),
    topic: input.topic,
    reason: input.reason.slice(0, 2_000),
    code: input.code.slice(0, 64),
    correlation_id: input.correlation_id?.slice(0, 128) || null,
    source: input.source.slice(0, 64),
    source_file: input.source_file === null ? null : input.source_file.slice(0, 512),
    row: input.row,
    raw: input.raw.slice(0, 1_000_000),
    failed_at: input.failed_at,
  }
}

/** zod issues as one line for a dead letter's `reason`: the first five, `(root)` for the whole. */
export const describeIssues = (
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[]
): string =>
  issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ')
