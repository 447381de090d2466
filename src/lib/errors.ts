/**
 * A typed error with a stable `code` (the last segment of the problem `type` URI on the wire),
 * the HTTP status it maps to, and whether retrying can help.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: 400 | 404 | 409 | 413 | 415 | 422 | 429 | 503 = 400,
    readonly retryable = false,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'DomainError'
  }
}
