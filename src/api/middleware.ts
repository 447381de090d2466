import type { MiddlewareHandler } from 'hono'
import { readAtMost } from '@/lib'
import type { Logger } from '@/observability'
import { problem } from './problem'
import type { AppEnv } from './router'

export const CORRELATION_HEADER = 'X-Correlation-ID'
// Kong's correlation-id plugin emits uuid, uuid#counter or a tracker string; anything else is replaced.
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:#+=-]{0,127}$/

/** Accepts a well-formed `X-Correlation-ID`, else makes one; echoes it on every response. */
export const correlationId =
  (generate: () => string = () => crypto.randomUUID()): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const given = c.req.header(CORRELATION_HEADER)
    const id = given && WELL_FORMED.test(given) ? given : generate()
    c.set('correlationId', id)
    c.header(CORRELATION_HEADER, id)
    await next()
    c.res.headers.set(CORRELATION_HEADER, id)
  }

/** One JSON log line per request: route pattern (not the raw path), status, latency, correlation id. */
export const requestLog =
  (
    log: Logger,
    observe?: (route: string, method: string, status: number, seconds: number) => void
  ): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const started = performance.now()
    await next()
    const seconds = (performance.now() - started) / 1000
    const route = c.req.routePath ?? c.req.path
    const status = c.res.status
    observe?.(route, c.req.method, status, seconds)
    const line = {
      'http.method': c.req.method,
      'http.route': route,
      'http.status': status,
      'http.duration_ms': Math.round(seconds * 100_000) / 100,
      correlation_id: c.get('correlationId'),
      consumer: c.get('consumer'),
    }
    if (status >= 500) log.error(line, 'request failed')
    else log.info(line, 'request')
  }

/**
 * Bodies must be JSON and at most `maxBytes`: checked before the validator parses anything, so an
 * oversized or mistyped body costs nothing and gets 413/415 instead of a vague 400.
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
    const declared = Number(c.req.header('content-length') ?? Number.NaN)
    if (Number.isFinite(declared) && declared > maxBytes) {
      return problem(
        c,
        413,
        'payload_too_large',
        `body is ${declared} bytes; the limit is ${maxBytes}`
      )
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
