/**
 * Whole-file failures. Row-level problems are never thrown: they become `SourceRejection`s and
 * the rest of the file is ingested. `retryable` says whether fetching the same file again may
 * help (a truncated download does; a zip bomb or an unsupported format does not).
 */
const RETRYABLE = {
  /** Live file without `C,"END OF REPORT",n`: most likely cut off mid-transfer. */
  csv_footer_missing: true,
  /** The footer's line count differs from the lines received: truncated or concatenated. */
  csv_line_count_mismatch: true,
  /** No end-of-central-directory record, or entry data runs past the end of the bytes. */
  zip_truncated: true,
  /** Bad signatures or an inflate error: possibly damaged in transit, so fetched again. */
  zip_corrupt: true,
  /**
   * A member inflates to more or less than it declares, or its local header disagrees with the
   * directory. A cut-off download has no end record (`zip_truncated`), so this is the file itself
   * lying (a zip bomb declares little and inflates to gigabytes): fetching it again cannot help.
   */
  zip_size_mismatch: false,
  /** The inflated bytes fail the declared CRC-32: the same file would fail the same way. */
  zip_crc_mismatch: false,
  /** ZIP64, encryption or a compression method other than stored/deflate. */
  zip_unsupported: false,
  /** More members, or more declared inflated bytes, than the report kind's limits allow. */
  zip_too_many_entries: false,
  zip_too_large: false,
  /** A zip handed to a normaliser must hold exactly one CSV member. */
  zip_member_ambiguous: false,
  /** The file holds none of the tables the normaliser reads (wrong file, or AEMO renamed the report). */
  table_missing: false,
  /** A date that is not `YYYY/MM/DD HH:mm:ss` NEM market time. */
  invalid_market_time: false,
  /** Caller error (context or file metadata), not an upstream problem. */
  invalid_input: false,
} as const

export type AemoSourceErrorCode = keyof typeof RETRYABLE

export class AemoSourceError extends Error {
  override readonly name = 'AemoSourceError'
  readonly code: AemoSourceErrorCode
  readonly retryable: boolean

  constructor(code: AemoSourceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.retryable = RETRYABLE[code]
  }
}
