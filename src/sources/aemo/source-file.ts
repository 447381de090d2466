import type { z } from 'zod'
import { type EventEnvelope, type SourceName, UtcInstantSchema } from '@/canonical'
import { parseMmsCsv, type MmsCsv } from './csv'
import { AemoSourceError } from './errors'
import { DEFAULT_ZIP_LIMITS, looksLikeZip, singleCsvEntry, type ZipLimits } from './zip'

/** An upstream file as fetched: `bytes` may be the NEMWeb zip itself or its CSV member. */
export interface SourceFile {
  /** Upstream file name (becomes `source_file`), e.g. `PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip`. */
  readonly name: string
  readonly bytes: Uint8Array | string
  /** sha256 (lowercase hex) of the upstream file as fetched (becomes `source_sha256`). */
  readonly sha256: string
  /**
   * The CSV member of `bytes` when the caller has already inflated it (the pollers do, off the
   * event loop: see `singleCsvEntryAsync`). `bytes` stays the zip for the dead letters.
   */
  readonly inflatedCsv?: Uint8Array
}

export interface NormalizeContext {
  /** One per poll cycle / source file; copied onto every event. */
  readonly correlationId: string
  /** When GridPulse normalised the data, ISO-8601 UTC. */
  readonly ingestedAt: string
}

export interface ReadOptions {
  /** Default true (live 5-minute files); false for MMSDM archive extracts (see `parseMmsCsv`). */
  readonly strictFooter?: boolean
  readonly zipLimits?: ZipLimits
}

/** A source file read into MMS tables, ready for one of the normalisers. */
export interface ParsedSourceFile {
  readonly name: string
  readonly sha256: string
  readonly csv: MmsCsv
}

const SHA256 = /^[0-9a-f]{64}$/

/**
 * Unzips (when given a zip) and parses a source file, keeping only `tables` (`REPORT.SUB`).
 * @throws AemoSourceError for caller errors (`invalid_input`), zip and footer failures.
 */
export function readSourceFile(
  file: SourceFile,
  tables: readonly string[],
  options: ReadOptions = {}
): ParsedSourceFile {
  if (file.name.length === 0 || file.name.length > 512)
    throw new AemoSourceError('invalid_input', 'file name must be 1..512 characters')
  if (!SHA256.test(file.sha256))
    throw new AemoSourceError(
      'invalid_input',
      `sha256 must be 64 lowercase hex digits: ${JSON.stringify(file.sha256)}`
    )
  const body =
    file.inflatedCsv ??
    (typeof file.bytes !== 'string' && looksLikeZip(file.bytes)
      ? singleCsvEntry(file.bytes, options.zipLimits ?? DEFAULT_ZIP_LIMITS).bytes
      : file.bytes)
  return {
    name: file.name,
    sha256: file.sha256,
    csv: parseMmsCsv(body, { strictFooter: options.strictFooter ?? true, tables }),
  }
}

/** Fails fast on a bad context instead of letting every event fail its schema. */
export function checkContext(ctx: NormalizeContext): void {
  if (ctx.correlationId.length === 0 || ctx.correlationId.length > 128) {
    throw new AemoSourceError('invalid_input', 'correlationId must be 1..128 characters')
  }
  if (!UtcInstantSchema.safeParse(ctx.ingestedAt).success) {
    throw new AemoSourceError(
      'invalid_input',
      `ingestedAt must be an ISO-8601 UTC instant: ${JSON.stringify(ctx.ingestedAt)}`
    )
  }
}

/** The envelope every event derived from `file` carries (`createEvent` adds id, type and version). */
export const envelopeFor = (
  source: SourceName,
  file: { name: string; sha256: string },
  ctx: NormalizeContext
): EventEnvelope => ({
  correlation_id: ctx.correlationId,
  source,
  source_file: file.name,
  source_sha256: file.sha256,
  ingested_at: ctx.ingestedAt,
})

/**
 * The inclusive bounds of a canonical number schema, read from the schema rather than copied, so a
 * row-level range check (which can name the offending column) agrees with the final validation.
 */
export function boundsOf(schema: z.ZodNumber): { readonly min: number; readonly max: number } {
  return { min: schema.minValue ?? -Infinity, max: schema.maxValue ?? Infinity }
}

/** Code-unit order, for deterministic sorting of ids and ISO timestamps (not locale-aware on purpose). */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
