import type { MiddlewareHandler } from 'hono'
import { readAtMost } from '@/lib'
import type { Logger } from '@/observability'
import { problem } from './problem'
import type { AppEnv } from './router'

export const CORRELATION_HEADER = 'X-Correlation-ID'
// Kong's correlation-id plugin emits uuid, uuid#counter or a tracker string; anything else is replaced.
export const WELL_FORMED_CORRELATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:#+=-]{0,127}$/

export const newCorrelationId = () => crypto.randomUUID()

/** The request's correlation id: the one it was sent with when well-formed, else a new one. */
export const acceptCorrelationId = (
  given: string | null | undefined,
  generate: () => string
): string => (given && WELL_FORMED_CORRELATION_ID.test(given) ? given : generate())

/** Accepts a well-formed `X-Correlation-ID`, else makes one; echoes it on every response. */
export const correlationId =
  (generate: () => string = newCorrelationId): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const id = acceptCorrelationId(c.req.header(CORRELATION_HEADER), generate)
    c.set('correlationId', id)
    c.header(CORRELATION_HEADER, id)
    await next()
    c.res.headers.set(CORRELATION_HEADER, id)
  }

/** A request as the trace store keeps it (see `isTraced` for which requests are kept). */
export interface RequestTraceSink {
  readonly traced: (method: string, status: number) => boolean
  readonly record: (request: {
    correlationId: string
    at: number
    method: string
    path: string
    route: string
    status: number
    durationMs: number
    consumer: string | null
  }) => void
}

/** What the request log says about one answered request. */
export interface AnsweredRequest {
  /** When it arrived (ms since the epoch, the API's clock) and `performance.now()` then. */
  readonly at: number
  readonly started: number
  readonly method: string
  readonly path: string
  readonly route: string
  readonly status: number
  readonly correlationId: string
  readonly consumer: string | undefined
}
export type RequestRecorder = (request: AnsweredRequest) => void

/**
 * One JSON log line per request: route pattern (not the raw path), status, latency, correlation id;
 * the HTTP metrics observation; writes and failures also go to the trace store (`/api/v1/trace`),
 * when one is given. Called by `requestLog` and by the cached-answer fast path alike.
 */
export function requestRecorder(
  log: Logger,
  observe?: (route: string, method: string, status: number, seconds: number) => void,
  trace?: RequestTraceSink
): RequestRecorder {
  return ({ at, started, method, path, route, status, correlationId, consumer }) => {
    const seconds = (performance.now() - started) / 1000
    observe?.(route, method, status, seconds)
    const durationMs = Math.round(seconds * 100_000) / 100
    const line = {
      'http.method': method,
      'http.route': route,
      'http.status': status,
      'http.duration_ms': durationMs,
      correlation_id: correlationId,
      consumer,
    }
    if (status >= 500) log.error(line, 'request failed')
    else log.info(line, 'request')
    if (trace?.traced(method, status)) {
      const request = { at, method, path, route, status, durationMs }
      trace.record({ ...request, correlationId, consumer: consumer ?? null })
    }
  }
}

/** `requestRecorder` for every request that goes through the router. */
export const requestLog =
  (record: RequestRecorder, now: () => number = Date.now): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const at = now()
    const started = performance.now()
    await next()
    record({
      at,
      started,
      method: c.req.method,
      path: c.req.path,
      route: c.get('route') ?? c.req.routePath ?? c.req.path,
      status: c.res.status,
      correlationId: c.get('correlationId'),
      consumer: c.get('consumer'),
    })
  }

/** What gzip adds around a body it cannot shrink (header, trailer, stored blocks), bytes. */
const GZIP_OVERHEAD = 1024

/**
 * Bodies must be JSON and at most `maxBytes`: checked before the validator parses anything, so an
 * oversized or mistyped body costs nothing and gets 413/415 instead of a vague 400. A body sent
 * with `Content-Encoding: gzip` is inflated here, and the cap applies to the inflated size, so a
 * small gzip bomb is a 413 after at most `maxBytes` of output, not a heap full of JSON.
 */
export const jsonBodyGuard =
  (maxBytes: number): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next()
    // A command without a body (POST /dlq/{id}/replay) needs no content type.
    if (c.req.raw.body === null || c.req.header('content-length') === '0') return next()
    const type = c.req.header('content-type') ?? ''
    if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
      return problem(c, 415, 'unsupported_media_type', 'send the body as application/json')
    }
    const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase()
    const gzip = encoding === 'gzip' || encoding === 'x-gzip'
    if (!gzip && encoding !== 'identity') {
      return problem(
        c,
        415,
        'unsupported_media_type',
        `Content-Encoding ${encoding} is not supported; send gzip or no encoding`,
        undefined,
        { 'Accept-Encoding': 'gzip' }
      )
    }
    const wireMax = gzip ? maxBytes + GZIP_OVERHEAD : maxBytes
    const declared = Number(c.req.header('content-length') ?? Number.NaN)
    if (Number.isFinite(declared) && declared > wireMax) {
      return problem(
        c,
        413,
        'payload_too_large',
        `body is ${declared} bytes; the limit is ${maxBytes}`
      )
    }
    if (gzip) {
      const inflated = await inflateAtMost(c.req.raw.body, wireMax, maxBytes)
      if (inflated === 'too_large') {
        return problem(
          c,
          413,
          'payload_too_large',
          `body exceeds the limit of ${maxBytes} bytes once inflated`
        )
      }
      if (inflated === 'malformed') {
        return problem(
          c,
          400,
          'malformed_encoding',
          'the body is labelled Content-Encoding: gzip but is not valid gzip data'
        )
      }
      const headers = new Headers(c.req.raw.headers)
      headers.delete('content-encoding')
      headers.set('content-length', String(inflated.byteLength))
      c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: inflated })
      return next()
    }
    // Chunked bodies carry no length: read at most maxBytes + 1 and replace the request body.
    if (!Number.isFinite(declared) && c.req.raw.body) {
      const body = await readAtMost(c.req.raw.body, maxBytes)
      if (!body) {
        return problem(c, 413, 'payload_too_large', `body exceeds the limit of ${maxBytes} bytes`)
      }
      c.req.raw = new Request(c.req.raw, { body })
    }
    return next()
  }

/** Inflates a gzip body, reading at most `wireMax` bytes in and producing at most `maxBytes` out. */
async function inflateAtMost(
  body: ReadableStream<Uint8Array>,
  wireMax: number,
  maxBytes: number
): Promise<Uint8Array | 'too_large' | 'malformed'> {
  const compressed = await readAtMost(body, wireMax)
  if (!compressed) return 'too_large'
  // Not gzip at all (e.g. plain JSON sent with the header): say so rather than "malformed JSON".
  if (compressed.byteLength < 18 || compressed[0] !== 0x1f || compressed[1] !== 0x8b)
    return 'malformed'
  try {
    const inflated = await readAtMost(
      new Blob([compressed]).stream().pipeThrough(new DecompressionStream('gzip')),
      maxBytes
    )
    return inflated ?? 'too_large'
  } catch {
    return 'malformed' // a corrupt deflate stream, a bad CRC, or a truncated member
  }
}

/**
 * A method a path does not have gets 405 with `Allow` (RFC 9110 §15.5.6) instead of the 404 that
 * routing alone would give; OPTIONS answers 204 with the same `Allow`. The table is read from the
 * app's own routes (everything `createRoute` and `app.get` registered), once, on first use.
 */
export const methodGuard = (
  routes: () => readonly { path: string; method: string }[]
): MiddlewareHandler<AppEnv> => {
  let table: { pattern: RegExp; methods: Set<string> }[] | undefined
  const build = () => {
    const byPath = new Map<string, Set<string>>()
    for (const r of routes()) {
      if (r.method === 'ALL' || r.path.includes('*')) continue // middleware, not endpoints
      const methods = byPath.get(r.path) ?? new Set<string>()
      methods.add(r.method.toUpperCase())
      if (r.method.toUpperCase() === 'GET') methods.add('HEAD')
      methods.add('OPTIONS')
      byPath.set(r.path, methods)
    }
    return [...byPath].map(([path, methods]) => ({
      pattern: new RegExp(
        `^${path
          .split('/')
          .map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('/')}$`
      ),
      methods,
    }))
  }
  // The methods of each path asked for, so a repeated path costs a lookup, not every route's
  // pattern; bounded, since clients choose the paths.
  const byPath = new Map<string, Set<string>>()
  const allowedOn = (path: string) => {
    let allowed = byPath.get(path)
    if (allowed) return allowed
    table ??= build()
    allowed = new Set<string>()
    for (const entry of table) {
      if (entry.pattern.test(path)) for (const m of entry.methods) allowed.add(m)
    }
    if (byPath.size >= 1024) byPath.clear()
    byPath.set(path, allowed)
    return allowed
  }
  return async (c, next) => {
    const path = c.req.path
    const allowed = allowedOn(path)
    if (allowed.size === 0 || (allowed.has(c.req.method) && c.req.method !== 'OPTIONS'))
      return next()
    const allow = [...allowed].sort().join(', ')
    if (c.req.method === 'OPTIONS') return c.body(null, 204, { Allow: allow })
    return problem(
      c,
      405,
      'method_not_allowed',
      `${c.req.method} is not allowed on ${path}; use ${allow}`,
      undefined,
      { Allow: allow }
    )
  }
}

/**
 * Headers every response carries: `nosniff` (a JSON body is never run as script or style), no
 * framing and no active content unless a route says otherwise (/docs sets its own CSP), and a
 * Cache-Control that never lets a shared cache keep keyed data.
 */
export const securityHeaders = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  await next()
  secureHeaders(c.res.headers, c.req.path, c.res.status)
}

/** The headers `securityHeaders` adds to an answer of `status` on `path`. */
export function secureHeaders(h: Headers, path: string, status: number): void {
  h.set('X-Content-Type-Options', 'nosniff')
  if (!h.has('Content-Security-Policy'))
    h.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'")
  if (!h.has('X-Frame-Options')) h.set('X-Frame-Options', 'DENY')
  if (!h.has('Cache-Control')) {
    // Data answers are per key (private) and change every 5 minutes at most, but AEMO publishes
    // an interval some seconds after it ends, so a client revalidates rather than trusting a
    // max-age that could hide the newest interval. Errors and writes are not stored at all.
    const data = path.startsWith('/api/') && status === 200
    h.set('Cache-Control', data ? 'private, no-cache' : 'no-store')
  }
}
