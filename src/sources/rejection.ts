import type { EventTopic } from '@/canonical'

/**
 * One input record a source adapter refused, with enough context to put it on `dlq.<topic>`
 * verbatim: the rest of the file is still ingested (one bad row must not stop a region).
 */
export interface SourceRejection {
  /** Stable snake_case slug, e.g. `non_numeric_value`, `unknown_region`, `missing_columns`. */
  readonly code: string
  /** Human-readable detail for this occurrence. */
  readonly reason: string
  /** 1-based line number in the source file, or null when the rejection is not about one line. */
  readonly row: number | null
  /** The rejected input verbatim (for CSV sources: the whole line, without its line ending). */
  readonly raw: string
  /** Upstream table the row belongs to, e.g. `DISPATCH.PRICE.5` (report.sub-report.version). */
  readonly table?: string
  /** Name of the upstream file the row came from, when the adapter read several files at once. */
  readonly file?: string
  /**
   * The stream whose dead letters it belongs to, when not the source's main topic (a DispatchIS
   * row's bad FCAS value goes to `dlq.market.fcas`, its bad RRP to `dlq.market.prices`).
   */
  readonly topic?: EventTopic
}
