/**
 * Every code a DomainError can carry: the HTTP status it maps to, whether retrying can help, and
 * the problem title the API shows (the code is the last segment of the problem `type` URI).
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, retryable: false, title: 'Request validation failed' },
  upstream_unavailable: { status: 503, retryable: true, title: 'Temporarily unavailable' },
  upstream_too_large: { status: 503, retryable: false, title: 'Upstream response too large' },
  outbox_full: { status: 503, retryable: true, title: 'The outbox is full; retry later' },
  webhook_not_allowed: { status: 422, retryable: false, title: 'Webhook URL not allowed' },
  alert_rule_limit: { status: 422, retryable: false, title: 'Too many alert rules' },
} as const satisfies Record<string, { status: number; retryable: boolean; title: string }>
export type ErrorCode = keyof typeof ERROR_CODES
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]['status']

/** A typed error: its code's status and retryability come from ERROR_CODES unless overridden. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: ErrorStatus = ERROR_CODES[code].status,
    readonly retryable: boolean = ERROR_CODES[code].retryable,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'DomainError'
  }
}

/**
 * Why a source poll failed, as a small closed set: the `reason` label of
 * `gridpulse_source_failures_total` and the `reason` field of the "source down" log line.
 * - `unreachable`: no connection (refused, DNS, reset before a response)
 * - `timeout`: a request took longer than its per-attempt timeout
 * - `http_status`: the upstream answered with a status the source cannot use (5xx, 429, …)
 * - `invalid_response`: an answer came but could not be used (too large, not parseable)
 * - `internal`: anything else, e.g. the event log refusing the events
 */
export const SOURCE_FAILURE_REASONS = [
  'unreachable',
  'timeout',
  'http_status',
  'invalid_response',
  'internal',
] as const
export type SourceFailureReason = (typeof SOURCE_FAILURE_REASONS)[number]

/** An upstream request that failed, with its failure class (see SOURCE_FAILURE_REASONS). */
export class UpstreamError extends DomainError {
  constructor(
    readonly reason: Exclude<SourceFailureReason, 'internal'>,
    message: string,
    options?: { cause?: unknown; code?: ErrorCode; retryable?: boolean }
  ) {
    super(
      options?.code ?? 'upstream_unavailable',
      message,
      503,
      options?.retryable ?? true,
      options
    )
    this.name = 'UpstreamError'
  }
}

/**
 * Classifies any error a poll cycle threw. Errors thrown by the HTTP client carry their class;
 * a bare TimeoutError (AbortSignal.timeout) is a timeout; a parse failure (SyntaxError, a source's
 * whole-file error) is an invalid response; everything else is internal.
 */
export function classifySourceFailure(error: unknown): SourceFailureReason {
  if (error instanceof UpstreamError) return error.reason
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timeout'
    if (error.name === 'SyntaxError' || error.name === 'AemoSourceError') return 'invalid_response'
  }
  return 'internal'
}
