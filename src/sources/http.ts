import { backoffMs, DomainError, readAtMost, sleep, UpstreamError } from '@/lib'
import type { Logger } from '@/observability'

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>

export interface HttpOptions {
  readonly fetch?: Fetch
  readonly timeoutMs?: number
  /** Attempts in total, including the first. */
  readonly attempts?: number
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  readonly signal?: AbortSignal
  readonly headers?: Record<string, string>
  readonly random?: () => number
  /** Largest body accepted, bytes (default 64 MiB): a broken or hostile upstream cannot exhaust memory. */
  readonly maxBytes?: number
  /** Per-attempt failures are logged here at debug: the poller reports outages, once. */
  readonly log?: Logger
}

export interface HttpResult {
  readonly status: number
  readonly headers: Headers
  readonly body: Uint8Array
}

/** Largest Retry-After we honour, so a hostile or broken upstream cannot park a poller for hours. */
const MAX_RETRY_AFTER_MS = 10 * 60 * 1000

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
  const at = Date.parse(header)
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS) : undefined
}

const retryable = (status: number) =>
  status === 408 || status === 425 || status === 429 || status >= 500

/**
 * `host/path` of a URL, without the query: Open-Meteo's query string alone is ~300 characters,
 * too long to repeat in every log line and error message.
 */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.host}${u.pathname}`
  } catch {
    return url.slice(0, 120)
  }
}

/** An upstream answer with a status the caller cannot use: `http_status` for the failure metric. */
export const statusError = (what: string, status: number): UpstreamError =>
  new UpstreamError('http_status', `${what}: HTTP ${status}`)

/**
 * GET with a per-attempt timeout, retries with full-jitter backoff on network errors, 408/429/5xx,
 * and Retry-After honoured. Returns the last response (any status) or throws a retryable DomainError
 * when no response could be had at all.
 */
export async function httpGet(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const attempts = options.attempts ?? 4
  const doFetch = options.fetch ?? fetch
  let lastError: unknown
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (options.signal?.aborted) break
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    let delay = backoffMs(
      attempt + 1,
      options.baseDelayMs ?? 500,
      options.maxDelayMs ?? 30_000,
      options.random
    )
    try {
      const response = await doFetch(url, { signal, headers: options.headers })
      const body = await readCapped(response, options.maxBytes ?? 64 * 1024 * 1024, url)
      if (!retryable(response.status) || attempt === attempts - 1) {
        return { status: response.status, headers: response.headers, body }
      }
      delay = retryAfterMs(response.headers.get('retry-after'), Date.now()) ?? delay
      lastError = statusError('GET', response.status)
    } catch (error) {
      if (error instanceof DomainError && !error.retryable) throw error
      lastError = error
    }
    if (attempt < attempts - 1) {
      options.log?.debug(
        {
          url: shortUrl(url),
          attempt: attempt + 1,
          error: describe(lastError),
          retry_in_ms: delay,
        },
        'request failed, retrying'
      )
      await sleep(delay, options.signal)
    }
  }
  throw new UpstreamError(
    failureReason(lastError),
    `GET ${shortUrl(url)} failed: ${describe(lastError)}`,
    { cause: lastError }
  )
}

/** A timeout (ours or the caller's), an unusable status, or no connection at all. */
function failureReason(error: unknown): 'timeout' | 'http_status' | 'unreachable' {
  if (error instanceof UpstreamError && error.reason === 'http_status') return 'http_status'
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout'
  return 'unreachable'
}

async function readCapped(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const tooLarge = () =>
    new UpstreamError('invalid_response', `GET ${shortUrl(url)}: body exceeds ${maxBytes} bytes`, {
      code: 'upstream_too_large',
      retryable: false,
    })
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw tooLarge()
  }
  if (!response.body) return new Uint8Array(0)
  const body = await readAtMost(response.body, maxBytes)
  if (!body) throw tooLarge()
  return body
}

function describe(error: unknown): string {
  if (error instanceof UpstreamError && error.reason === 'http_status')
    return error.message.replace(/^GET: /, '')
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timed out' : error.message
  return String(error)
}
